"""HostTransport and SessionPool over real HTTP on 127.0.0.1: reuse, limits, caps, errors."""

from __future__ import annotations

import asyncio
import gc
import socket

import aiohttp
import pytest
from aiohttp import web

from aiohyperv._config import ConnectionURI, parse_uri
from aiohyperv._exceptions import (
    AuthenticationError,
    ConnectError,
    HTTPStatusError,
    InvalidOperation,
    ProtocolError,
    TransportTimeout,
)
from aiohyperv._transport import HostTransport, Limits, SessionPool, Timeouts, is_retryable

from .conftest import CANNED, EndpointFactory, Recorder, client_tasks, eventually

BODY = b"<s:Envelope/>"


def host(pool: SessionPool, uri: ConnectionURI) -> HostTransport:
    return pool.host(pool.key_for(uri, None))


async def test_sequential_requests_reuse_one_connection(endpoint: EndpointFactory) -> None:
    ep = await endpoint()
    async with SessionPool() as pool:
        for _ in range(10):
            status, data = await host(pool, ep.uri).post(BODY)
            assert (status, data) == (200, CANNED)
        stats = pool.stats
        assert stats.opened == 1
        assert stats.reused == 9
        assert stats.requests == 10
        assert stats.connections == 1
    assert ep.rec.requests == 10
    assert len(ep.rec.peers) == 1  # the server saw a single client connection
    assert ep.rec.bodies == [BODY] * 10
    assert pool.stats.connections == 0


async def test_request_headers(endpoint: EndpointFactory) -> None:
    seen: dict[str, str] = {}

    async def respond(request: web.Request, _body: bytes) -> web.StreamResponse:
        seen.update(request.headers)
        return web.Response(body=CANNED)

    ep = await endpoint(respond)
    async with SessionPool() as pool:
        await host(pool, ep.uri).post(BODY)
    assert seen["Content-Type"] == "application/soap+xml;charset=UTF-8"
    assert seen["Content-Length"] == str(len(BODY))


async def test_per_host_connection_limit_under_load(endpoint: EndpointFactory) -> None:
    rec = Recorder(hold=asyncio.Event(), release_at=3)
    ep = await endpoint(rec=rec)
    limits = Limits(per_host_connections=3, per_host_operations=8)
    async with SessionPool(limits=limits) as pool:
        h = host(pool, ep.uri)
        tasks = [asyncio.create_task(h.post(BODY)) for _ in range(20)]
        async with asyncio.timeout(10):
            await rec.reached.wait()
        for _ in range(5):
            await asyncio.sleep(0)
        # Three on the wire; five more admitted but waiting for a connection; twelve queued.
        assert rec.current == 3
        assert h.in_flight == 3
        assert h.queued == 17
        assert "in_flight=3 queued=17" in repr(pool)
        assert rec.hold is not None
        rec.hold.set()
        results = await asyncio.gather(*tasks)
        assert all(r == (200, CANNED) for r in results)
        assert pool.stats.opened == 3
    assert rec.max_current == 3
    assert rec.requests == 20
    assert len(rec.peers) == 3


async def test_per_host_operation_limit(endpoint: EndpointFactory) -> None:
    rec = Recorder(hold=asyncio.Event(), release_at=2)
    ep = await endpoint(rec=rec)
    limits = Limits(per_host_connections=10, per_host_operations=2)
    async with SessionPool(limits=limits) as pool:
        h = host(pool, ep.uri)
        tasks = [asyncio.create_task(h.post(BODY)) for _ in range(9)]
        async with asyncio.timeout(10):
            await rec.reached.wait()
        for _ in range(5):
            await asyncio.sleep(0)
        assert (h.in_flight, h.queued) == (2, 7)
        assert rec.hold is not None
        rec.hold.set()
        await asyncio.gather(*tasks)
    assert rec.max_current == 2
    assert rec.requests == 9


async def test_global_operation_limit_across_hosts(endpoint: EndpointFactory) -> None:
    rec = Recorder(hold=asyncio.Event(), release_at=5)  # shared by all endpoints
    eps = [await endpoint(rec=rec) for _ in range(6)]
    limits = Limits(per_host_connections=4, per_host_operations=4, total_operations=5)
    async with SessionPool(limits=limits) as pool:
        tasks = [asyncio.create_task(host(pool, ep.uri).post(BODY)) for ep in eps for _ in range(4)]
        async with asyncio.timeout(10):
            await rec.reached.wait()
        for _ in range(5):
            await asyncio.sleep(0)
        stats = pool.stats
        assert (stats.in_flight, stats.queued) == (5, 19)
        assert rec.hold is not None
        rec.hold.set()
        await asyncio.gather(*tasks)
        assert pool.stats.requests == 24
    assert rec.max_current == 5
    assert rec.requests == 24


async def test_global_connection_limit_evicts_idle_hosts(endpoint: EndpointFactory) -> None:
    rec = Recorder()
    eps = [await endpoint(rec=rec) for _ in range(4)]
    limits = Limits(per_host_connections=2, total_connections=2)
    async with SessionPool(limits=limits) as pool:
        for _round in range(2):
            for ep in eps:
                assert await host(pool, ep.uri).post(BODY) == (200, CANNED)
                assert pool.stats.connections <= 2
        # Each host was evicted to make room for the next one, so nothing was reused.
        assert pool.stats.opened == 8
    assert rec.requests == 8


async def test_global_connection_limit_under_load(endpoint: EndpointFactory) -> None:
    rec = Recorder(hold=asyncio.Event(), release_at=3)
    eps = [await endpoint(rec=rec) for _ in range(4)]
    limits = Limits(per_host_connections=2, total_connections=3, total_operations=100)
    async with SessionPool(limits=limits) as pool:
        tasks = [asyncio.create_task(host(pool, ep.uri).post(BODY)) for ep in eps for _ in range(3)]
        async with asyncio.timeout(10):
            await rec.reached.wait()
        for _ in range(5):
            await asyncio.sleep(0)
        stats = pool.stats
        assert stats.connections == 3
        assert stats.in_flight == 3
        assert stats.queued == 9
        assert rec.hold is not None
        rec.hold.set()
        results = await asyncio.gather(*tasks)
        assert len(results) == 12
        assert pool.stats.connections <= 3
    assert rec.max_current == 3
    assert rec.requests == 12


async def test_idle_host_is_closed_and_reopened(endpoint: EndpointFactory) -> None:
    ep = await endpoint()
    async with SessionPool(limits=Limits(idle_host_timeout=0.01)) as pool:
        await host(pool, ep.uri).post(BODY)
        assert await eventually(lambda: pool.stats.hosts == 0 and pool.stats.background == 0)
        assert pool.stats.connections == 0
        # The host comes back lazily on next use.
        assert await host(pool, ep.uri).post(BODY) == (200, CANNED)
        assert pool.stats.opened == 2
    assert len(ep.rec.peers) == 2


async def test_soap_fault_with_500_is_returned_not_raised(endpoint: EndpointFactory) -> None:
    async def respond(_request: web.Request, _body: bytes) -> web.StreamResponse:
        return web.Response(status=500, body=CANNED, content_type="application/soap+xml")

    ep = await endpoint(respond)
    async with SessionPool() as pool:
        assert await host(pool, ep.uri).post(BODY) == (500, CANNED)


@pytest.mark.parametrize("status", [400, 404, 500, 503])
async def test_non_soap_error_status_raises(endpoint: EndpointFactory, status: int) -> None:
    async def respond(_request: web.Request, _body: bytes) -> web.StreamResponse:
        return web.Response(status=status, text="nope")

    ep = await endpoint(respond)
    async with SessionPool() as pool:
        with pytest.raises(HTTPStatusError) as info:
            await host(pool, ep.uri).post(BODY)
        assert pool.stats.failed == 1
    assert info.value.status == status
    assert info.value.host == ep.label
    assert str(status) in str(info.value)
    assert is_retryable(info.value) is (status == 503)


async def test_401_names_host_and_method_not_password(endpoint: EndpointFactory) -> None:
    async def respond(_request: web.Request, _body: bytes) -> web.StreamResponse:
        return web.Response(status=401, headers={"WWW-Authenticate": "Negotiate"}, text="denied")

    ep = await endpoint(respond, user="alice")
    async with SessionPool() as pool:
        key = pool.key_for(ep.uri, "basic")
        with pytest.raises(AuthenticationError) as info:
            await pool.host(key).post(BODY, headers={"Authorization": "Basic YWxpY2U6aHVudGVyMg=="})
    err = info.value
    assert err.status == 401
    assert err.auth_method == "basic"
    assert err.host == ep.label
    assert ep.label in str(err)
    assert "basic" in str(err) and "alice" in str(err) and "Negotiate" in str(err)
    assert "hunter2" not in str(err) and "YWxpY2U6aHVudGVyMg" not in str(err)


async def test_oversize_content_length_refused_before_reading(endpoint: EndpointFactory) -> None:
    limits = Limits(max_envelope_size=8192, response_slack=1024)
    big = b"<" + b"x" * (8 * 1024 * 1024)
    answers = [big, CANNED]

    async def respond(_request: web.Request, _body: bytes) -> web.StreamResponse:
        return web.Response(body=answers.pop(0))

    ep = await endpoint(respond)
    async with SessionPool(limits=limits) as pool:
        with pytest.raises(ProtocolError, match=f"declares {len(big)} bytes") as info:
            await host(pool, ep.uri).post(BODY)
        assert info.value.host == ep.label
        assert pool.stats.failed == 1
        # The connection with an unread body was dropped, not handed to the next request.
        assert await host(pool, ep.uri).post(BODY) == (200, CANNED)
        assert (pool.stats.opened, pool.stats.reused) == (2, 0)


async def test_oversize_stream_abandoned_after_cap(endpoint: EndpointFactory) -> None:
    limits = Limits(max_envelope_size=65536, response_slack=0)
    chunk = b"x" * 65536
    sent = 0
    finished = False

    async def respond(request: web.Request, _body: bytes) -> web.StreamResponse:
        nonlocal sent, finished
        resp = web.StreamResponse()
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        try:
            for _ in range(2000):  # 128 MiB if the client read everything
                await resp.write(chunk)
                sent += 1
            finished = True
        except ConnectionError:
            pass
        return resp

    ep = await endpoint(respond)
    async with SessionPool(limits=limits) as pool:
        with pytest.raises(ProtocolError, match="passed 65536 bytes"):
            await host(pool, ep.uri).post(BODY)
        assert pool.stats.in_flight == 0
    assert not finished
    assert sent < 2000


async def test_connection_refused_is_connect_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: connections are refused
        uri = parse_uri(f"hyperv://127.0.0.1:{port}/?transport=http")
        async with SessionPool() as pool:
            with pytest.raises(ConnectError) as info:
                await host(pool, uri).post(BODY)
            stats = pool.stats
    assert info.value.host == f"127.0.0.1:{port}"
    assert f"cannot connect to 127.0.0.1:{port}" in str(info.value)
    assert not is_retryable(info.value)
    assert (stats.opened, stats.failed, stats.connections) == (0, 1, 0)


async def test_server_dropping_connection_is_retryable_connect_error(
    endpoint: EndpointFactory,
) -> None:
    async def respond(request: web.Request, _body: bytes) -> web.StreamResponse:
        assert request.transport is not None
        request.transport.close()
        await asyncio.sleep(0)
        return web.Response(body=CANNED)

    ep = await endpoint(respond)
    async with SessionPool() as pool:
        with pytest.raises(ConnectError) as info:
            await host(pool, ep.uri).post(BODY)
    assert info.value.host == ep.label
    assert is_retryable(info.value)


async def test_read_timeout(endpoint: EndpointFactory) -> None:
    rec = Recorder(hold=asyncio.Event())  # never set: the server never answers
    ep = await endpoint(rec=rec)
    timeouts = Timeouts(connect=5, read=0.2, operation=0.1, total=5)
    async with SessionPool(timeouts=timeouts) as pool:
        with pytest.raises(TransportTimeout, match=r"sent no response data within 0\.2s") as info:
            await host(pool, ep.uri).post(BODY)
        assert pool.stats.in_flight == 0
    assert info.value.host == ep.label
    assert isinstance(info.value, TimeoutError)


async def test_total_timeout_covers_queueing(endpoint: EndpointFactory) -> None:
    rec = Recorder(hold=asyncio.Event(), release_at=1)  # hold never set: no answer
    ep = await endpoint(rec=rec)
    timeouts = Timeouts(connect=5, read=1, operation=0.5, total=1)
    async with SessionPool(timeouts=timeouts, limits=Limits(per_host_operations=1)) as pool:
        h = host(pool, ep.uri)
        first = asyncio.create_task(h.post(BODY))
        await rec.reached.wait()
        second = asyncio.create_task(h.post(BODY))
        # One turn of the loop: the new task runs until it waits for the operation slot (no
        # I/O comes before that wait, so no amount of load changes what one turn does).
        await asyncio.sleep(0)
        assert h.queued == 1
        # The second request spends most of its total waiting for the slot; its deadline,
        # not a fresh read timeout after it got the slot, ends it.
        with pytest.raises(TransportTimeout, match="did not complete within 1s"):
            await second
        with pytest.raises(TransportTimeout):
            await first
        assert (h.active, h.queued, h.in_flight) == (0, 0, 0)


async def test_cancellation_leaves_pool_clean(endpoint: EndpointFactory) -> None:
    rec = Recorder(hold=asyncio.Event(), release_at=2)
    ep = await endpoint(rec=rec)
    limits = Limits(per_host_connections=2, per_host_operations=3, total_operations=3)
    async with SessionPool(limits=limits) as pool:
        h = host(pool, ep.uri)
        # Two on the wire, one waiting for a connection, two waiting for an operation slot.
        tasks = [asyncio.create_task(h.post(BODY)) for _ in range(5)]
        async with asyncio.timeout(10):
            await rec.reached.wait()
        for _ in range(5):
            await asyncio.sleep(0)
        assert (h.in_flight, h.queued) == (2, 3)
        for task in tasks:
            task.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert all(isinstance(r, asyncio.CancelledError) for r in results)
        stats = pool.stats
        assert (stats.in_flight, stats.queued) == (0, 0)
        assert h.active == 0
        # The half-used connections were closed, not returned to the keep-alive pool.
        assert await eventually(lambda: pool.stats.connections == 0)
        # Every slot came back: the full limit is usable again.
        assert rec.hold is not None
        rec.hold.set()
        rec.release_at = None
        results = await asyncio.gather(*(h.post(BODY) for _ in range(6)))
        assert all(r == (200, CANNED) for r in results)
    assert pool.stats.background == 0
    assert client_tasks() == set()


async def test_closed_pool_refuses_requests(endpoint: EndpointFactory) -> None:
    ep = await endpoint()
    pool = SessionPool()
    h = host(pool, ep.uri)
    await h.post(BODY)
    assert "hosts=1 connections=1" in repr(pool)
    await pool.aclose()
    await pool.aclose()  # idempotent
    assert pool.closed
    assert "closed" in repr(pool)
    with pytest.raises(InvalidOperation):
        await h.post(BODY)
    with pytest.raises(InvalidOperation):
        host(pool, ep.uri)


async def test_aclose_with_requests_in_flight(endpoint: EndpointFactory) -> None:
    rec = Recorder(hold=asyncio.Event(), release_at=2)
    ep = await endpoint(rec=rec)
    pool = SessionPool()
    h = host(pool, ep.uri)
    tasks = [asyncio.create_task(h.post(BODY)) for _ in range(2)]
    async with asyncio.timeout(10):
        await rec.reached.wait()
    await pool.aclose()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(r, ConnectError) for r in results), results
    assert all(r.host == ep.label for r in results if isinstance(r, ConnectError))
    stats = pool.stats
    assert (stats.hosts, stats.connections, stats.in_flight, stats.queued) == (0, 0, 0, 0)
    assert h.active == 0
    assert rec.hold is not None
    rec.hold.set()
    assert client_tasks() == set()


def open_client_sessions() -> set[int]:
    """ids of aiohttp ClientSessions alive and not closed (after a full collection)."""
    gc.collect()
    return {
        id(obj)
        for obj in gc.get_objects()
        if isinstance(obj, aiohttp.ClientSession) and not obj.closed
    }


async def test_request_queued_when_the_pool_closes_opens_no_session(
    endpoint: EndpointFactory,
) -> None:
    # One operation slot: the second request waits for it while the first is on the wire.
    # Closing the pool then closes the host's HTTP session under both; when the slot comes
    # free, the waiting request must fail instead of opening a new session that nobody
    # would close ("Unclosed client session" at exit).
    rec = Recorder(hold=asyncio.Event(), release_at=1)
    ep = await endpoint(rec=rec)
    before = open_client_sessions()
    pool = SessionPool(limits=Limits(per_host_operations=1))
    h = host(pool, ep.uri)
    first = asyncio.create_task(h.post(BODY))
    async with asyncio.timeout(10):
        await rec.reached.wait()
    second = asyncio.create_task(h.post(BODY))
    assert await eventually(lambda: h.queued == 1)
    await pool.aclose()
    assert rec.hold is not None
    rec.hold.set()
    results = await asyncio.gather(first, second, return_exceptions=True)
    assert isinstance(results[0], ConnectError), results
    assert isinstance(results[1], InvalidOperation), results
    assert results[1].host == ep.label
    assert not h.has_client
    assert rec.requests == 1  # the second request never reached the wire
    assert open_client_sessions() - before == set()
    assert client_tasks() == set()
