"""The Fleet engine with plain coroutines: isolation, deadlines, streaming, cancellation."""

from __future__ import annotations

import asyncio
import contextlib
from typing import ClassVar

import pytest

from aiohyperv._config import parse_uri
from aiohyperv._credentials import CredentialRequest, Credentials
from aiohyperv._exceptions import (
    AuthenticationError,
    ConfigError,
    ConnectError,
    CredentialsError,
    HyperVError,
    InternalError,
    TransportTimeout,
)
from aiohyperv.fleet import EventKind, Fleet, FleetEvent, FleetHost, HostResult

HOSTS = [f"hyperv://hv{i:02d}:5985/?transport=http" for i in range(12)]


def label(i: int) -> str:
    return f"hv{i:02d}:5985"


async def test_all_succeed_in_input_order() -> None:
    async def op(host: FleetHost) -> str:
        await asyncio.sleep(0)
        return host.uri.hostname.upper()

    result = await Fleet(HOSTS, concurrency=4).run(op)

    assert [r.host for r in result] == [label(i) for i in range(12)]
    assert [r.value for r in result] == [f"HV{i:02d}" for i in range(12)]
    assert result.failed == []
    assert len(result.succeeded) == 12
    assert result.values[label(3)] == "HV03"
    assert all(r.ok and r.elapsed >= 0 and r.requests == 0 for r in result)
    result.raise_for_errors()  # nothing to raise


class _Loud:
    """A host's value that notes every repr of it."""

    reprs: ClassVar[list[int]] = []

    def __repr__(self) -> str:
        self.reprs.append(1)
        return "x" * 10_000


def test_a_fleet_result_repr_counts_hosts_instead_of_showing_them() -> None:
    async def op(host: FleetHost) -> _Loud:
        if host.index == 3:
            raise ConnectError("unreachable", host=host.label)
        return _Loud()

    _Loud.reprs.clear()
    # asyncio.run formats the main task, result included, when it returns (Python 3.11's
    # Runner compares signal handlers): that must not turn into a repr of every host's value.
    result = asyncio.run(Fleet(HOSTS, concurrency=4).run(op))
    assert _Loud.reprs == []
    text = repr(result)
    assert text.startswith("<FleetResult 12 hosts: 11 ok, 1 failed, ") and len(text) < 80
    assert _Loud.reprs == []


async def test_failures_are_isolated_per_host() -> None:
    never = asyncio.Event()

    async def op(host: FleetHost) -> int:
        n = host.index
        if n % 4 == 1:
            raise ConnectError("connection refused")
        if n % 4 == 2:
            await never.wait()  # a slow host: only the deadline ends it
        if n == 3:
            raise AuthenticationError("401 from server", auth_method="basic")
        if n == 7:
            raise InternalError("WMI provider failed", subcode="InternalError")
        if n == 11:
            raise KeyError("a bug in the operation")
        return n * 10

    result = await Fleet(HOSTS, concurrency=5, timeout=0.05).run(op)

    by_host = {r.host: r for r in result}
    expected: dict[int, type[Exception]] = {3: AuthenticationError, 7: InternalError, 11: KeyError}
    for i in range(12):
        r = by_host[label(i)]
        if i % 4 == 1:
            assert isinstance(r.error, ConnectError)
        elif i % 4 == 2:
            assert isinstance(r.error, TransportTimeout)
            assert isinstance(r.error, TimeoutError)
            assert "deadline" in str(r.error)
        elif i in expected:
            assert type(r.error) is expected[i]
        else:
            assert r.ok and r.value == i * 10, r
        if isinstance(r.error, HyperVError):
            assert r.error.host == label(i)
    assert sorted(r.index for r in result.succeeded) == [0, 4, 8]
    assert len(result.failed) == 9

    with pytest.raises(ExceptionGroup) as info:
        result.raise_for_errors()
    group = info.value
    assert "9 of 12 hosts failed" in str(group)
    conn, rest = group.split(ConnectError)
    assert conn is not None and len(conn.exceptions) == 3
    assert rest is not None and len(rest.exceptions) == 6


async def test_timeout_inside_operation_is_not_the_deadline() -> None:
    async def op(host: FleetHost) -> None:
        raise TransportTimeout("read timed out")

    result = await Fleet(HOSTS[:1], timeout=30).run(op)
    err = result.results[0].error
    assert isinstance(err, TransportTimeout)
    assert str(err).startswith("read timed out")


async def test_no_deadline() -> None:
    async def op(host: FleetHost) -> int:
        await asyncio.sleep(0)
        return 1

    result = await Fleet(HOSTS[:3], timeout=None).run(op)
    assert [r.value for r in result] == [1, 1, 1]


async def test_stream_yields_in_completion_order() -> None:
    gates = [asyncio.Event() for _ in range(6)]
    started = 0
    all_started = asyncio.Event()

    async def op(host: FleetHost) -> int:
        nonlocal started
        started += 1
        if started == 6:
            all_started.set()
        await gates[host.index].wait()
        return host.index

    order = [4, 1, 5, 0, 3, 2]
    seen: list[int] = []
    fleet = Fleet(HOSTS[:6], concurrency=6)

    async def release() -> None:
        await all_started.wait()
        gates[order[0]].set()

    releaser = asyncio.create_task(release())
    async with contextlib.aclosing(fleet.stream(op)) as stream:
        async for r in stream:
            seen.append(r.index)
            if len(seen) < len(order):
                gates[order[len(seen)]].set()
    await releaser
    assert seen == order


async def test_concurrency_is_bounded_and_reached() -> None:
    in_flight = 0
    peak = 0
    gate = asyncio.Event()
    tasks_seen = 0

    async def op(host: FleetHost) -> None:
        nonlocal in_flight, peak, tasks_seen
        in_flight += 1
        peak = max(peak, in_flight)
        tasks_seen = max(tasks_seen, len(asyncio.all_tasks()))
        if in_flight == 3:
            gate.set()
        await gate.wait()
        await asyncio.sleep(0)
        in_flight -= 1

    result = await Fleet(HOSTS, concurrency=3).run(op)
    assert len(result.succeeded) == 12
    assert peak == 3
    # test task + runner + 3 workers: no task per host
    assert tasks_seen <= 5


async def test_progress_callback_and_events() -> None:
    async def op(host: FleetHost) -> int:
        if host.index == 2:
            raise ConnectError("refused")
        return host.index

    seen: list[FleetEvent[int]] = []
    fleet = Fleet(HOSTS[:5], concurrency=2)
    await fleet.run(op, on_event=seen.append)
    kinds = [e.kind for e in seen]
    assert kinds.count(EventKind.STARTED) == 5
    assert kinds.count(EventKind.SUCCEEDED) == 4
    assert kinds.count(EventKind.FAILED) == 1
    last = seen[-1].progress
    assert (last.total, last.started, last.succeeded, last.failed) == (5, 5, 4, 1)
    assert last.done == 5 and last.in_flight == 0
    failed = [e for e in seen if e.kind is EventKind.FAILED]
    assert failed[0].host == label(2) and failed[0].result is not None
    # every host starts before it finishes
    for i in range(5):
        kinds_i = [e.kind for e in seen if e.index == i]
        assert kinds_i[0] is EventKind.STARTED and len(kinds_i) == 2

    events: list[FleetEvent[int]] = []
    async with contextlib.aclosing(fleet.events(op)) as it:
        async for event in it:
            events.append(event)
    assert len(events) == 10
    assert events[-1].progress.done == 5


async def test_cancelling_the_run_cancels_and_awaits_every_host() -> None:
    started = 0
    cancelled = 0
    finished = 0
    three_started = asyncio.Event()

    async def op(host: FleetHost) -> None:
        nonlocal started, cancelled, finished
        started += 1
        if started == 3:
            three_started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled += 1
            raise
        finally:
            finished += 1

    before = asyncio.all_tasks()
    task = asyncio.create_task(Fleet(HOSTS, concurrency=3).run(op))
    await three_started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert started == 3
    assert cancelled == 3 and finished == 3
    assert asyncio.all_tasks() == before


async def test_breaking_out_of_the_stream_cancels_the_rest() -> None:
    cancelled = 0
    started = 0

    async def op(host: FleetHost) -> int:
        nonlocal cancelled, started
        started += 1
        if host.index == 0:
            return 0
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled += 1
            raise
        return host.index

    before = asyncio.all_tasks()
    async with contextlib.aclosing(Fleet(HOSTS, concurrency=4).stream(op)) as stream:
        async for r in stream:
            assert r.index == 0
            break
    # every host that was started (bar the one that returned) was cancelled, none was left
    assert 4 <= started < len(HOSTS)
    assert cancelled == started - 1
    assert asyncio.all_tasks() == before


async def test_stray_cancelled_error_fails_only_that_host() -> None:
    async def op(host: FleetHost) -> int:
        if host.index == 1:
            raise asyncio.CancelledError
        return host.index

    result = await Fleet(HOSTS[:3]).run(op)
    assert [r.ok for r in result] == [True, False, True]
    assert isinstance(result.results[1].error, HyperVError)


async def test_credentials_per_host_mapping_and_callback() -> None:
    creds_a = Credentials(username="a", password="pa")
    creds_b = Credentials(username="b", password="pb")
    uris = ["hyperv://hv00:5985/?transport=http", "hyperv://hv01/", "hyperv://hv02/"]
    mapping = {uris[0]: creds_a, "hv01:5986": creds_b}

    async def op(host: FleetHost) -> str:
        return (await host.credentials()).username

    result = await Fleet(uris, auth=mapping).run(op)
    assert [r.value for r in result.results[:2]] == ["a", "b"]
    assert isinstance(result.results[2].error, CredentialsError)
    assert "pa" not in str(result.results[2].error)

    asked: list[str] = []

    async def callback(request: CredentialRequest) -> Credentials:
        asked.append(request.hostname)
        return Credentials(username=f"u-{request.hostname}", password="x")

    result = await Fleet(uris, auth=callback).run(op)
    assert [r.value for r in result] == ["u-hv00", "u-hv01", "u-hv02"]
    assert sorted(asked) == ["hv00", "hv01", "hv02"]


async def test_accepts_parsed_uris_and_rejects_bad_input() -> None:
    uri = parse_uri("hyperv://admin@[::1]:5985/?transport=http")

    async def op(host: FleetHost) -> str:
        return host.label

    result = await Fleet([uri]).run(op)
    assert result.results[0].value == "[::1]:5985"
    assert isinstance(result.results[0], HostResult)

    with pytest.raises(ConfigError):
        Fleet(["http://nope"])
    with pytest.raises(ConfigError):
        Fleet(HOSTS, concurrency=0)
    with pytest.raises(ConfigError):
        Fleet(HOSTS, timeout=0)


async def test_empty_fleet() -> None:
    async def op(host: FleetHost) -> int:
        return 1

    result = await Fleet([]).run(op)
    assert len(result) == 0
    result.raise_for_errors()


async def test_unwrap() -> None:
    async def op(host: FleetHost) -> int:
        if host.index:
            raise ConnectError("refused")
        return 5

    result = await Fleet(HOSTS[:2]).run(op)
    assert result.results[0].unwrap() == 5
    with pytest.raises(ConnectError):
        result.results[1].unwrap()
