"""A FIFO counting semaphore that reports how many callers hold it and how many queue.

``asyncio.Semaphore`` does not expose its waiters, and the pool's ``repr``/stats must show
queued operations; this is the same algorithm with those numbers public.  All bookkeeping is
synchronous; the only await is the wait itself, and a waiter cancelled after it was granted a
slot hands the slot on, so cancellation never leaks capacity.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["FifoSemaphore"]


class FifoSemaphore:
    """At most ``limit`` holders at once; later callers wait in arrival order.

    Args:
        limit: Number of slots.
        on_wait: Called (synchronously) each time a caller has to queue, so an owner can make
            room, for example by closing idle connections.
    """

    __slots__ = ("_limit", "_on_wait", "_used", "_waiters")

    def __init__(self, limit: int, *, on_wait: Callable[[], None] | None = None) -> None:
        self._limit = limit
        self._used = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._on_wait = on_wait

    def __repr__(self) -> str:
        return f"<FifoSemaphore {self._used}/{self._limit} queued={self.queued}>"

    @property
    def limit(self) -> int:
        return self._limit

    @property
    def in_use(self) -> int:
        """Slots currently held."""
        return self._used

    @property
    def queued(self) -> int:
        """Callers waiting for a slot."""
        return sum(1 for fut in self._waiters if not fut.done())

    def try_acquire(self) -> bool:
        """Take a slot if one is free and nobody queues before us."""
        if self._used < self._limit and not self._waiters:
            self._used += 1
            return True
        return False

    async def acquire(self) -> None:
        """Take a slot, waiting in FIFO order if none is free."""
        if self.try_acquire():
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        if self._on_wait is not None:
            self._on_wait()
        try:
            await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():
                # Granted a slot, then cancelled before running: pass the slot on.
                self.release()
            raise
        finally:
            try:
                self._waiters.remove(fut)
            except ValueError:
                pass

    def release(self) -> None:
        """Return a slot; the oldest live waiter gets it directly."""
        while self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.set_result(None)  # the slot moves to the waiter; _used is unchanged
                return
        self._used -= 1
