"""The live change feed: a broker that fans events out to server-sent-event clients.

Memory stays bounded however many clients connect and however slow they read: each client
gets a queue of at most ``queue_size`` events, and a client whose queue is full is dropped
(its stream ends; browsers' ``EventSource`` reconnects and replays what it missed through
``Last-Event-ID`` from the ring of the last ``history`` events).  Publishing never awaits.
"""

from __future__ import annotations

import asyncio
import collections
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from aiohyperv.fleet._model import JSONValue

__all__ = ["Event", "EventBroker", "Subscription"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """One feed event: ``kind`` is ``"change"`` or ``"run"``; ``data`` its JSON body."""

    id: int
    kind: str
    data: dict[str, JSONValue]

    def encode(self) -> bytes:
        """The event in the ``text/event-stream`` format."""
        body = json.dumps(self.data, separators=(",", ":"))
        return f"id: {self.id}\nevent: {self.kind}\ndata: {body}\n\n".encode()


class Subscription:
    """One client's bounded queue; iterate it to receive events until it is closed."""

    def __init__(self, size: int) -> None:
        self._queue: asyncio.Queue[Event | None] = asyncio.Queue(maxsize=size)
        self.dropped = False
        self.closed = False

    def offer(self, event: Event) -> bool:
        """Queue ``event``; False (and the subscription ends) when the queue is full."""
        if self.closed:
            return False
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self.close(dropped=True)
            return False
        return True

    def close(self, *, dropped: bool = False) -> None:
        """End the stream (the reader sees the end once it has read what is queued)."""
        if self.closed:
            return
        self.closed = True
        self.dropped = self.dropped or dropped
        if dropped:
            # A dropped client loses what it had not read; the end marker needs the room.
            while not self._queue.empty():
                self._queue.get_nowait()
        elif self._queue.full():
            self._queue.get_nowait()  # shutting down: the oldest unread event makes way
        self._queue.put_nowait(None)

    async def events(self, *, heartbeat: float | None = None) -> AsyncIterator[Event | None]:
        """The events until the subscription closes; ``None`` after ``heartbeat`` idle seconds
        (so a server can keep the connection warm)."""
        while True:
            if heartbeat is None:
                event = await self._queue.get()
            else:
                try:
                    async with asyncio.timeout(heartbeat):
                        event = await self._queue.get()
                except TimeoutError:
                    yield None
                    continue
            if event is None:
                return
            yield event


class EventBroker:
    """Fans events out to subscribers; keeps the last ``history`` events for replay."""

    def __init__(self, *, queue_size: int = 256, history: int = 500) -> None:
        self.queue_size = queue_size
        self._subscribers: set[Subscription] = set()
        self._recent: collections.deque[Event] = collections.deque(maxlen=history)
        self._next_id = 1
        self.published = 0
        self.dropped_clients = 0

    def __repr__(self) -> str:
        return f"<EventBroker clients={len(self._subscribers)} recent={len(self._recent)}>"

    @property
    def clients(self) -> int:
        """Subscribers connected now."""
        return len(self._subscribers)

    def publish(self, kind: str, data: dict[str, JSONValue]) -> Event:
        """Send an event to every subscriber (never waits; slow ones are dropped)."""
        event = Event(id=self._next_id, kind=kind, data=data)
        self._next_id += 1
        self.published += 1
        self._recent.append(event)
        for sub in list(self._subscribers):
            if not sub.offer(event):
                self._subscribers.discard(sub)
                self.dropped_clients += 1
        return event

    def recent(self, after_id: int = 0) -> list[Event]:
        """Kept events with an id above ``after_id``, oldest first."""
        return [e for e in self._recent if e.id > after_id]

    def subscribe(self, *, last_event_id: int | None = None) -> Subscription:
        """A new subscription, first fed the kept events after ``last_event_id`` (if given)."""
        sub = Subscription(self.queue_size)
        if last_event_id is not None:
            for event in self.recent(last_event_id)[-self.queue_size :]:
                sub.offer(event)
        self._subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        """Forget ``sub`` (its stream ended)."""
        self._subscribers.discard(sub)

    def close(self) -> None:
        """End every subscriber's stream (shutdown)."""
        for sub in list(self._subscribers):
            sub.close()
        self._subscribers.clear()
