"""Server middleware features the simulator relies on: per-host user tables, anonymous
Identify, streamed sealed responses; and the client's trace context pass-through."""

from __future__ import annotations

from typing import TYPE_CHECKING

import aiohttp
import pytest
from aiohttp import web

from aiohyperv import AuthenticationError, Credentials
from aiohyperv._auth import ClientAuth
from aiohyperv.simulator._auth import (
    AUTH_INFO,
    UserTable,
    auth_middleware,
    request_body,
    seal_body,
)
from tests._proxy import RecordingProxy

from .conftest import client_session

if TYPE_CHECKING:
    import types
    from collections.abc import AsyncIterator

HOST_A = UserTable({"admin": "password-of-a"})
HOST_B = UserTable({"admin": "password-of-b"})


async def streaming_handler(request: web.Request) -> web.StreamResponse:
    data = await request_body(request)
    info = request.get(AUTH_INFO)
    who = info.user.principal.encode() if info is not None else b"anonymous"
    content_type, payload = seal_body(request, b"<Streamed by='%s'>%s</Streamed>" % (who, data))
    response = web.StreamResponse(headers={"Content-Type": content_type})
    response.content_length = len(payload)
    await response.prepare(request)
    await response.write(payload)
    await response.write_eof()
    return response


@pytest.fixture
async def two_hosts() -> AsyncIterator[tuple[str, str]]:
    """One app on two ports, each port a different host with its own password."""
    tables: dict[int, UserTable] = {}

    def resolve(request: web.Request) -> UserTable | None:
        transport = request.transport
        assert transport is not None
        return tables.get(transport.get_extra_info("sockname")[1])

    app = web.Application(middlewares=[auth_middleware(resolve)])
    app.router.add_post("/wsman", streaming_handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    ports: list[int] = []
    for table in (HOST_A, HOST_B):
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[-1][1]
        tables[port] = table
        ports.append(port)
    try:
        yield f"http://127.0.0.1:{ports[0]}/wsman", f"http://127.0.0.1:{ports[1]}/wsman"
    finally:
        await runner.cleanup()


def admin(password: str) -> ClientAuth:
    creds = Credentials(username="admin", password=password)
    return ClientAuth("ntlm", hostname="127.0.0.1", https=False, credentials=creds)


async def test_per_host_user_tables_and_streamed_sealed_responses(
    two_hosts: tuple[str, str],
) -> None:
    url_a, url_b = two_hosts
    async with client_session() as session:
        reply = await admin("password-of-a").post(session, url_a, b"<a/>")
        assert reply.sealed and reply.body == b"<Streamed by='admin'><a/></Streamed>"
        reply = await admin("password-of-b").post(session, url_b, b"<b/>")
        assert reply.body == b"<Streamed by='admin'><b/></Streamed>"
        with pytest.raises(AuthenticationError):
            await admin("password-of-a").post(session, url_b, b"<c/>")


async def test_streamed_response_is_sealed_on_the_wire(two_hosts: tuple[str, str]) -> None:
    url_a, _ = two_hosts
    port = int(url_a.split(":")[2].split("/")[0])
    async with RecordingProxy(port) as proxy, client_session() as session:
        auth = admin("password-of-a")
        for i in range(3):
            reply = await auth.post(session, proxy.url, b"<q>SECRET-%d</q>" % i)
            assert reply.body == b"<Streamed by='admin'><q>SECRET-%d</q></Streamed>" % i
    assert b"SECRET" not in proxy.client_bytes() + proxy.server_bytes()
    assert b"Streamed" not in proxy.server_bytes()


async def test_anonymous_identify_passes_through(two_hosts: tuple[str, str]) -> None:
    url_a, _ = two_hosts
    async with aiohttp.ClientSession() as session:
        async with session.post(
            url_a,
            data=b"<identify/>",
            headers={"WSMANIDENTIFY": "unauthenticated", "Content-Type": "application/soap+xml"},
        ) as resp:
            assert resp.status == 200
            assert await resp.read() == b"<Streamed by='anonymous'><identify/></Streamed>"
        async with session.post(url_a, data=b"<get/>") as resp:
            assert resp.status == 401


async def test_trace_request_ctx_reaches_every_request(two_hosts: tuple[str, str]) -> None:
    url_a, _ = two_hosts
    seen: list[object] = []

    async def on_start(
        _session: aiohttp.ClientSession,
        ctx: types.SimpleNamespace,
        _params: aiohttp.TraceRequestStartParams,
    ) -> None:
        seen.append(ctx.trace_request_ctx)

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_start)
    marker = object()
    from aiohyperv._auth import AuthClientRequest

    async with aiohttp.ClientSession(
        request_class=AuthClientRequest, trace_configs=[trace]
    ) as session:
        await admin("password-of-a").post(session, url_a, b"<x/>", trace_request_ctx=marker)
    # Two handshake legs and the sealed request, all with the caller's context.
    assert seen == [marker, marker, marker]
