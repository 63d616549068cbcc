"""Know when requests have reached a server: an aiohttp middleware that counts them.

A test that cancels requests "while they are in flight" must know they are: sleeping a little
first is a guess that a loaded machine loses.  Put :meth:`Arrivals.middleware` in front of the
handler and ``await arrivals.reached(n)``; clear ``arrivals.gate`` to hold requests there.
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from aiohttp import web
from aiohttp.test_utils import TestServer

from aiohyperv._config import parse_uri
from aiohyperv.simulator import SimulatedHost, make_app

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from aiohttp.typedefs import Handler

    from aiohyperv._config import ConnectionURI
    from aiohyperv.simulator import HostSpec


class Arrivals:
    """Counts requests as they arrive; :meth:`reached` waits for a count.

    While :attr:`gate` is clear, arriving requests are held (after being counted) until it is
    set again: "in flight" for as long as the test needs, and no longer.
    """

    def __init__(self) -> None:
        self.count = 0
        self.gate = asyncio.Event()
        self.gate.set()
        self._waiting: list[tuple[int, asyncio.Event]] = []

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        self.count += 1
        for wanted, event in self._waiting:
            if self.count >= wanted:
                event.set()
        await self.gate.wait()
        return await handler(request)

    async def reached(self, wanted: int) -> None:
        """Return once ``wanted`` requests have arrived in all."""
        if self.count >= wanted:
            return
        event = asyncio.Event()
        self._waiting.append((wanted, event))
        await event.wait()


@asynccontextmanager
async def counted_simulator(
    spec: HostSpec | SimulatedHost, arrivals: Arrivals
) -> AsyncIterator[tuple[SimulatedHost, ConnectionURI]]:
    """One simulated host on 127.0.0.1 whose requests ``arrivals`` counts on arrival."""
    host = spec if isinstance(spec, SimulatedHost) else SimulatedHost.generate(spec)
    app = make_app(host)
    app.middlewares.append(arrivals.middleware)
    # handler_cancellation: a request the client gave up on stops being served (a simulated
    # latency it was held in does not outlive the test).
    server = TestServer(app, host="127.0.0.1", handler_cancellation=True)
    await server.start_server()
    try:
        yield host, parse_uri(f"hyperv://127.0.0.1:{server.port}/?transport=http")
    finally:
        await server.close()
