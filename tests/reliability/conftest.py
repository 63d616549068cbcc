"""Loopback servers that misbehave on purpose, and a guard that nothing is left open afterwards.

Two kinds of server answer a real client on 127.0.0.1:

* :class:`HostileApp` is an aiohttp application whose one handler answers every request with
  a :class:`~tests.reliability._corpus.Reply` (status, headers, a body that may be a lazy
  generator streamed chunk by chunk).  aiohttp does the HTTP framing, so the misbehaviour is in
  the content.
* :class:`RawServer` is a bare ``asyncio.start_server`` whose script writes whatever bytes it
  likes, for misbehaviour below HTTP: no status line, endless headers, silence, a trickle.

Both count what they sent, so a test can assert that the client stopped reading early.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from aiohyperv._config import ConnectionURI, parse_uri
from aiohyperv.simulator._auth import request_body
from aiohyperv.simulator._codec import Request, parse_request

from ._corpus import RawReply, Reply, Responder

if TYPE_CHECKING:
    from collections.abc import Iterator


@dataclass
class Served:
    """What a hostile server saw and sent."""

    requests: int = 0
    actions: list[str] = field(default_factory=list)
    bytes_sent: int = 0
    connections: int = 0


@dataclass
class Hostile:
    """A running hostile endpoint: its URI and its counters."""

    uri: ConnectionURI
    served: Served

    @property
    def label(self) -> str:
        return self.uri.host_label


def _uri(port: int, query: str = "") -> ConnectionURI:
    # Basic auth: the hostile servers do not speak NTLM; the client default is tested elsewhere.
    return parse_uri(f"hyperv://admin@127.0.0.1:{port}/?transport=http&auth=basic{query}")


def _parse(body: bytes) -> Request | None:
    try:
        return parse_request(body)
    except Exception:
        return None


def hostile_app(responder: Responder, served: Served) -> web.Application:
    """An aiohttp app answering every POST with ``responder(request)``'s Reply."""

    async def handle(request: web.Request) -> web.StreamResponse:
        body = await request_body(request)
        served.requests += 1
        parsed = _parse(body)
        if parsed is not None:
            served.actions.append(parsed.action.rpartition("/")[2])
        reply = responder(parsed)
        if isinstance(reply, RawReply):  # pragma: no cover - a table mistake
            raise TypeError("a RawReply needs a RawServer")
        return await _send(request, reply, served)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    return app


async def _send(request: web.Request, reply: Reply, served: Served) -> web.StreamResponse:
    if reply.delay:
        await asyncio.sleep(reply.delay)
    headers = dict(reply.headers)
    if reply.content_type is not None:
        headers["Content-Type"] = reply.content_type
    if isinstance(reply.body, bytes) and not reply.stream:
        # (No content_type: aiohttp still says application/octet-stream; raw servers can omit.)
        served.bytes_sent += len(reply.body)
        return web.Response(status=reply.status, body=reply.body, headers=headers)
    resp = web.StreamResponse(status=reply.status, headers=headers)
    if reply.content_length is not None:
        resp.content_length = reply.content_length
    else:
        resp.enable_chunked_encoding()
    await resp.prepare(request)
    chunks: Iterator[bytes] = iter([reply.body]) if isinstance(reply.body, bytes) else reply.body()
    try:
        for chunk in chunks:
            await resp.write(chunk)
            served.bytes_sent += len(chunk)
            if reply.chunk_delay:
                await asyncio.sleep(reply.chunk_delay)
    except (ConnectionError, asyncio.CancelledError):
        # The client hung up (as it should, early): stop producing.
        return resp
    await resp.write_eof()
    return resp


RawScript = Callable[[asyncio.StreamReader, asyncio.StreamWriter, Served], Awaitable[None]]


class RawServer:
    """``asyncio.start_server`` on 127.0.0.1 running ``script`` for every connection."""

    def __init__(self, script: RawScript) -> None:
        self.script = script
        self.served = Served()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        self.served.connections += 1
        try:
            await self.script(reader, writer, self.served)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._tasks.discard(task)
            self._writers.discard(writer)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def aclose(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(set(self._tasks))
        if self._server is not None:
            await self._server.wait_closed()


async def read_request(reader: asyncio.StreamReader) -> bytes:
    """Read one HTTP/1.1 request (headers and a Content-Length body) and return the body."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    return await reader.readexactly(length)


HostileFactory = Callable[..., Awaitable[Hostile]]


@pytest.fixture
async def hostile() -> AsyncIterator[HostileFactory]:
    """Start hostile endpoints: ``await hostile(responder)`` or ``await hostile(raw=script)``."""
    servers: list[TestServer] = []
    raws: list[RawServer] = []

    async def start(
        responder: Responder | None = None, *, raw: RawScript | None = None, query: str = ""
    ) -> Hostile:
        if raw is not None:
            server = RawServer(raw)
            port = await server.start()
            raws.append(server)
            return Hostile(uri=_uri(port, query), served=server.served)
        assert responder is not None
        served = Served()
        test_server = TestServer(hostile_app(responder, served), host="127.0.0.1")
        await test_server.start_server()
        servers.append(test_server)
        return Hostile(uri=_uri(test_server.port or 0, query), served=served)

    yield start
    for raw_server in raws:
        await raw_server.aclose()
    for test_server in servers:
        await test_server.close()


def open_fds() -> int:
    """File descriptors open in this process now."""
    return len(os.listdir("/proc/self/fd"))


def other_tasks() -> set[asyncio.Task[Any]]:
    """Tasks other than the current one (the test)."""
    current = asyncio.current_task()
    return {t for t in asyncio.all_tasks() if t is not current and not t.done()}


async def settle(predicate: Callable[[], bool], *, within: float = 5.0) -> bool:
    """Poll ``predicate`` until it holds or ``within`` seconds pass (a bound, not a timing)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not predicate():
        if loop.time() > deadline:
            return False
        gc.collect()
        await asyncio.sleep(0.01)
    return True
