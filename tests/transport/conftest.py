"""Loopback WS-Man endpoints for the transport tests: real aiohttp servers on 127.0.0.1.

Each endpoint records what it saw (requests, distinct client connections, concurrency) so a
test can check the client's behaviour from the server's side of the wire.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from aiohyperv._config import ConnectionURI, parse_uri
from aiohyperv.simulator._auth import request_body

from .fakehost import FakeHost

if TYPE_CHECKING:
    from aiohttp.typedefs import Middleware

Responder = Callable[[web.Request, bytes], Awaitable[web.StreamResponse]]

CANNED = (
    b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope">'
    b"<s:Header/><s:Body/></s:Envelope>"
)


@dataclass
class Recorder:
    """What one or more endpoints saw. Shared between endpoints to count fleet-wide."""

    requests: int = 0
    current: int = 0
    max_current: int = 0
    peers: set[tuple[Any, ...]] = field(default_factory=set)
    bodies: list[bytes] = field(default_factory=list)
    # When set, each handler waits here after being counted (and before answering).
    hold: asyncio.Event | None = None
    # Set by a handler when `current` reaches `release_at` (so a test can wait for it).
    release_at: int | None = None
    reached: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class Endpoint:
    server: TestServer
    uri: ConnectionURI
    rec: Recorder

    @property
    def label(self) -> str:
        return self.uri.host_label


async def canned(_request: web.Request, _body: bytes) -> web.StreamResponse:
    return web.Response(body=CANNED, content_type="application/soap+xml", charset="utf-8")


def make_app(rec: Recorder, respond: Responder) -> web.Application:
    async def handle(request: web.Request) -> web.StreamResponse:
        body = await request_body(request)
        rec.requests += 1
        rec.bodies.append(body)
        if request.transport is not None:
            rec.peers.add((request.url.port, request.transport.get_extra_info("peername")))
        rec.current += 1
        rec.max_current = max(rec.max_current, rec.current)
        try:
            if rec.release_at is not None and rec.current >= rec.release_at:
                rec.reached.set()
            if rec.hold is not None:
                await rec.hold.wait()
            return await respond(request, body)
        finally:
            rec.current -= 1

    app = web.Application()
    app.router.add_post("/wsman", handle)
    return app


EndpointFactory = Callable[..., Awaitable[Endpoint]]


async def eventually(predicate: Callable[[], bool], *, within: float = 10.0) -> bool:
    """Poll ``predicate`` until it holds or ``within`` seconds pass (a bound, not a timing)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not predicate():
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.005)
    return True


def client_tasks() -> set[asyncio.Task[Any]]:
    """Tasks other than the test itself and the loopback servers' connection handlers."""
    current = asyncio.current_task()
    return {
        task
        for task in asyncio.all_tasks()
        if task is not current
        and not getattr(task.get_coro(), "__qualname__", "").startswith("RequestHandler.")
    }


@pytest.fixture
async def endpoint() -> AsyncIterator[EndpointFactory]:
    """Start loopback endpoints: ``await endpoint(respond=..., rec=..., ssl=...)``."""
    servers: list[TestServer] = []

    async def start(
        respond: Responder = canned,
        *,
        rec: Recorder | None = None,
        ssl: Any = None,
        user: str | None = None,
        auth: str | None = None,
    ) -> Endpoint:
        rec = rec if rec is not None else Recorder()
        server = TestServer(make_app(rec, respond), host="127.0.0.1")
        await server.start_server(ssl=ssl)
        servers.append(server)
        transport = "https" if ssl is not None else "http"
        who = f"{user}@" if user else ""
        auth_q = f"&auth={auth}" if auth else ""
        # These fakes speak Basic only; the client default (Negotiate) is tested in tests/auth.
        uri = parse_uri(f"hyperv://{who}127.0.0.1:{server.port}/?transport={transport}{auth_q}")
        return Endpoint(server=server, uri=uri, rec=rec)

    yield start
    for server in servers:
        await server.close()


@dataclass
class Fake:
    host: FakeHost
    server: TestServer
    uri: ConnectionURI

    @property
    def label(self) -> str:
        return self.uri.host_label


FakeFactory = Callable[..., Awaitable[Fake]]


@pytest.fixture
async def fakehost() -> AsyncIterator[FakeFactory]:
    """Start fake WS-Man hosts: ``await fakehost(items=100, user="admin", ssl=ctx)``."""
    servers: list[TestServer] = []

    async def start(
        *,
        items: int = 0,
        user: str | None = None,
        ssl: Any = None,
        host: FakeHost | None = None,
        middlewares: Sequence[Middleware] = (),
        auth: str | None = None,
    ) -> Fake:
        fake = host if host is not None else FakeHost(items=items)
        server = TestServer(fake.app(middlewares), host="127.0.0.1")
        await server.start_server(ssl=ssl)
        servers.append(server)
        transport = "https" if ssl is not None else "http"
        who = f"{user}@" if user else ""
        auth_q = f"&auth={auth}" if auth else ""
        # These fakes speak Basic only; the client default (Negotiate) is tested in tests/auth.
        uri = parse_uri(f"hyperv://{who}127.0.0.1:{server.port}/?transport={transport}{auth_q}")
        return Fake(host=fake, server=server, uri=uri)

    yield start
    for server in servers:
        await server.close()
