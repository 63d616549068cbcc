"""The live feed's broker: fan-out, bounded queues (a slow client is dropped, never buffered
without end), replay after Last-Event-ID, and shutdown."""

from __future__ import annotations

import asyncio

from aiohyperv.service import EventBroker


async def collect(broker: EventBroker, sub: object, count: int) -> list[int]:
    ids: list[int] = []
    async with asyncio.timeout(10):
        async for event in sub.events():  # type: ignore[attr-defined]
            assert event is not None
            ids.append(event.id)
            if len(ids) == count:
                break
    return ids


async def test_every_subscriber_gets_every_event_in_order() -> None:
    broker = EventBroker(queue_size=10, history=10)
    first, second = broker.subscribe(), broker.subscribe()
    assert broker.clients == 2
    for n in range(3):
        broker.publish("change", {"n": n})
    assert await collect(broker, first, 3) == [1, 2, 3]
    assert await collect(broker, second, 3) == [1, 2, 3]


async def test_a_client_that_falls_behind_is_dropped_and_memory_stays_bounded() -> None:
    broker = EventBroker(queue_size=4, history=8)
    slow = broker.subscribe()
    fast = broker.subscribe()
    for n in range(4):
        broker.publish("change", {"n": n})
    assert await collect(broker, fast, 4) == [1, 2, 3, 4]
    broker.publish("change", {"n": 4})  # the slow client's queue is full: it is dropped
    assert broker.clients == 1 and broker.dropped_clients == 1
    assert slow.dropped
    received = [e async for e in slow.events()]
    assert received == []  # its stream ends at once; the browser reconnects and replays
    for n in range(100):
        broker.publish("run", {"n": n})
    assert len(broker.recent()) == 8  # the replay ring is bounded too


async def test_replay_after_last_event_id() -> None:
    broker = EventBroker(queue_size=10, history=5)
    for n in range(7):
        broker.publish("change", {"n": n})
    late = broker.subscribe(last_event_id=4)
    assert await collect(broker, late, 3) == [5, 6, 7]
    older = broker.subscribe(last_event_id=0)  # beyond the ring: what is kept
    assert await collect(broker, older, 5) == [3, 4, 5, 6, 7]


async def test_heartbeats_and_close_end_the_streams() -> None:
    broker = EventBroker(queue_size=2)
    sub = broker.subscribe()
    stream = sub.events(heartbeat=0.001)
    assert await anext(stream) is None  # idle: a heartbeat
    broker.publish("run", {})
    broker.publish("run", {})
    broker.close()  # the queue is full: the oldest unread event makes way for the end
    assert broker.clients == 0
    rest = [e async for e in stream]
    assert [e.id for e in rest if e is not None] == [2]
    assert sub.closed and not sub.dropped
    assert broker.publish("run", {}).id == 3  # publishing with nobody listening is fine
