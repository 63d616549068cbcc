"""Runs on a schedule, never two at once, and what one run does.

:class:`Scheduler` owns the timing: a run starts every ``interval`` seconds (measured from
one start to the next; a run longer than the interval is followed at once by the next, never
overlapped and never queued twice), and :meth:`Scheduler.request` asks for one now -- requests
made while a run is in flight are served together by one run that starts after it.

:class:`InventoryRunner` is one run: inventory the fleet (a per-host deadline comes from
:class:`~aiohyperv.fleet.Fleet`, so a slow or dead host costs at most that deadline and never
delays the others' results), compare each host with its previous record, store it all in one
transaction, then update the in-memory view and publish the changes.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import dataclasses
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._diff import diff_host
from ._records import HostRecord

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Coroutine

    from aiohyperv.fleet import FleetResult, HostInventory, HostResult

    from ._events import EventBroker
    from ._records import Change, RunRecord
    from ._store import Store

__all__ = ["InventoryRunner", "RunStats", "Scheduler"]

log = logging.getLogger("aiohyperv.service")

#: Histogram buckets of run durations, seconds.
DURATION_BUCKETS = (0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)


class Scheduler:
    """Calls ``job(trigger)`` every ``interval`` seconds and on request; never concurrently.

    Args:
        job: ``async def job(trigger: str) -> RunRecord``; ``trigger`` is ``"schedule"`` or
            ``"request"``.  An exception it raises is logged and handed to the requests the
            run served; the schedule goes on.
        interval: Seconds from one run's start to the next.
        run_at_start: Start the first run at once (else after one interval).
        clock: Monotonic seconds (tests may step their own).
    """

    def __init__(
        self,
        job: Callable[[str], Coroutine[Any, Any, RunRecord]],
        *,
        interval: float,
        run_at_start: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._job = job
        self.interval = interval
        self._clock = clock
        self._run_at_start = run_at_start
        self._wake = asyncio.Event()
        self._waiters: list[asyncio.Future[RunRecord]] = []
        self._task: asyncio.Task[None] | None = None
        self._current: asyncio.Task[RunRecord] | None = None
        self._stopping = False
        self.runs_started = 0
        self.next_due: float | None = None

    def __repr__(self) -> str:
        return f"<Scheduler interval={self.interval:g}s running={self.running}>"

    @property
    def running(self) -> bool:
        """True while a run is in flight."""
        return self._current is not None and not self._current.done()

    def start(self) -> None:
        """Start the schedule in the running loop."""
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="aiohyperv-serve-scheduler")

    def request(self) -> asyncio.Future[RunRecord]:
        """Ask for a run now; the future resolves with the first run that starts after this
        call (the one in flight, if any, does not count: it may have read hosts already)."""
        future: asyncio.Future[RunRecord] = asyncio.get_running_loop().create_future()
        if self._stopping:
            future.cancel()
            return future
        self._waiters.append(future)
        self._wake.set()
        return future

    async def _loop(self) -> None:
        now = self._clock()
        due = now if self._run_at_start else now + self.interval
        while not self._stopping:
            self.next_due = due
            delay = due - self._clock()
            if delay > 0 and not self._waiters:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await self._wake.wait()
                continue  # re-check: stopping, a request, or the time has come
            waiters, self._waiters = self._waiters, []
            trigger = "request" if waiters else "schedule"
            started = self._clock()
            due = started + self.interval
            self.runs_started += 1
            self._current = asyncio.create_task(self._job(trigger))
            try:
                record = await asyncio.shield(self._current)
            except asyncio.CancelledError:
                self._current.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await self._current
                for waiter in waiters:
                    waiter.cancel()
                raise
            except Exception as exc:
                log.exception("run failed: %s", type(exc).__name__)
                for waiter in waiters:
                    if not waiter.done():
                        waiter.set_exception(exc)
            else:
                for waiter in waiters:
                    if not waiter.done():
                        waiter.set_result(record)

    async def stop(self, *, grace: float = 10.0) -> None:
        """Stop the schedule: let a run in flight finish for up to ``grace`` seconds, then
        cancel it.  Pending requests are cancelled."""
        self._stopping = True
        self._wake.set()
        for waiter in self._waiters:
            waiter.cancel()
        self._waiters.clear()
        task, self._task = self._task, None
        if task is None:
            return
        current = self._current
        if current is not None and not current.done():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(grace):
                    await asyncio.wait([current])
        if not task.done():
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@dataclass(slots=True)
class RunStats:
    """Counters since the service started (what ``/metrics`` exposes)."""

    runs: int = 0
    run_errors: int = 0
    host_failures: int = 0
    requests: int = 0
    changes: dict[str, int] = field(default_factory=dict)
    duration_buckets: list[int] = field(default_factory=lambda: [0] * len(DURATION_BUCKETS))
    duration_sum: float = 0.0
    last_run: RunRecord | None = None

    def observe(self, run: RunRecord, changes: list[Change]) -> None:
        """Count one finished run."""
        self.runs += 1
        self.host_failures += run.failed
        self.requests += run.requests
        for change in changes:
            self.changes[change.kind.value] = self.changes.get(change.kind.value, 0) + 1
        index = bisect.bisect_left(DURATION_BUCKETS, run.duration)
        for i in range(index, len(DURATION_BUCKETS)):
            self.duration_buckets[i] += 1
        self.duration_sum += run.duration
        self.last_run = run


class InventoryRunner:
    """One run of the service: collect, compare, store, then publish.

    Args:
        collect: Inventories the fleet (``lambda: fleet.run(inventory_op)``).
        store: Where runs go.
        broker: Where changes are published.
        hosts: The latest record of each host (updated in place after each stored run).
        retention: Seconds of history kept; older runs and changes are pruned after a run.
        wall: Wall-clock seconds.
    """

    def __init__(
        self,
        collect: Callable[[], Awaitable[FleetResult[HostInventory]]],
        *,
        store: Store,
        broker: EventBroker,
        hosts: dict[str, HostRecord],
        retention: float,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._collect = collect
        self.store = store
        self.broker = broker
        self.hosts = hosts
        self.retention = retention
        self._wall = wall
        self.stats = RunStats()
        self._pruned_at = 0.0

    async def __call__(self, trigger: str) -> RunRecord:
        try:
            return await self._run(trigger)
        except Exception:
            self.stats.run_errors += 1
            raise

    async def _run(self, trigger: str) -> RunRecord:
        started = self._wall()
        result = await self._collect()
        finished = self._wall()
        records = [self._record(r, checked=finished) for r in result.results]
        changes: list[Change] = []
        for record in records:
            changes.extend(diff_host(self.hosts.get(record.host), record, at=finished))
        run, stored = await self.store.record_run(
            started=started, finished=finished, trigger=trigger, hosts=records, changes=changes
        )
        for record in records:
            self.hosts[record.host] = record
        self.stats.observe(run, stored)
        for change in stored:
            self.broker.publish("change", change.to_json())
        self.broker.publish("run", run.to_json())
        log.info(
            "run %d: %d hosts, %d failed, %d changes, %.2f s",
            run.id, run.hosts, run.failed, run.changes, run.duration,
        )  # fmt: skip
        if finished - self._pruned_at >= min(3600.0, self.retention / 10):
            self._pruned_at = finished
            removed = await self.store.prune(finished - self.retention)
            if any(removed.values()):
                log.info(
                    "retention: removed %d runs, %d changes", removed["runs"], removed["changes"]
                )
        return run

    def _record(self, result: HostResult[HostInventory], *, checked: float) -> HostRecord:
        if result.error is None and result.value is not None:
            return HostRecord.from_inventory(
                result.value,
                host=result.host,
                checked=checked,
                elapsed=result.elapsed,
                requests=result.requests,
            )
        error = result.error
        message = str(error) if error is not None else "no result"
        kind = type(error).__name__ if error is not None else "HyperVError"
        previous = self.hosts.get(result.host)
        if previous is None:
            return HostRecord(
                host=result.host,
                ok=False,
                error=message,
                error_type=kind,
                checked=checked,
                elapsed=result.elapsed,
                requests=result.requests,
            )
        return dataclasses.replace(
            previous,
            ok=False,
            error=message,
            error_type=kind,
            checked=checked,
            elapsed=result.elapsed,
            requests=result.requests,
        )
