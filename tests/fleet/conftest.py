"""Simulated Hyper-V hosts on 127.0.0.1 for the fleet tests (real HTTP, real simulator)."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest
from aiohttp.test_utils import TestServer

from aiohyperv._config import ConnectionURI, parse_uri
from aiohyperv._credentials import Credentials
from aiohyperv.simulator import HostSpec, SimulatedHost, make_app

if TYPE_CHECKING:
    from .._arrivals import Arrivals

CREDENTIALS = Credentials(username="admin", password="secret")


@dataclass
class SimHost:
    host: SimulatedHost
    server: TestServer
    uri: ConnectionURI

    @property
    def label(self) -> str:
        return self.uri.host_label


StartHosts = Callable[..., Awaitable[list[SimHost]]]


@pytest.fixture
async def start_hosts() -> AsyncIterator[StartHosts]:
    """Start one simulator server per spec; all are closed at the end of the test.

    ``arrivals`` counts (and can hold) the requests of every host as they arrive.
    """
    servers: list[TestServer] = []

    async def start(specs: list[HostSpec], *, arrivals: Arrivals | None = None) -> list[SimHost]:
        started = []
        for spec in specs:
            host = SimulatedHost.generate(spec)
            app = make_app(host)
            if arrivals is not None:
                app.middlewares.append(arrivals.middleware)
            server = TestServer(app, host="127.0.0.1", handler_cancellation=True)
            await server.start_server()
            servers.append(server)
            uri = parse_uri(f"hyperv://127.0.0.1:{server.port}/?transport=http")
            started.append(SimHost(host=host, server=server, uri=uri))
        return started

    yield start
    for server in servers:
        await server.close()


def dead_uri() -> ConnectionURI:
    """A loopback port nobody listens on: connecting is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return parse_uri(f"hyperv://127.0.0.1:{port}/?transport=http")
