"""How the inventory spends requests and connections, seen from the simulated host's side."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from aiohyperv._config import parse_uri
from aiohyperv._transport import Limits, SessionPool
from aiohyperv.cli._gc import tuned_gc
from aiohyperv.fleet import Fleet
from aiohyperv.fleet._fleet import FLEET_MAX_ENVELOPE_SIZE, FLEET_PER_HOST_CONNECTIONS
from aiohyperv.fleet._inventory import V2_QUERIES, collect_inventory, inventory_op
from aiohyperv.simulator import HostSpec, SimulatedHost, make_app

from .conftest import CREDENTIALS, SimHost, StartHosts
from .test_inventory import check_against_simulator

if TYPE_CHECKING:
    from aiohttp.typedefs import Handler


class Watch:
    """Counts the requests a simulated host handles at once (a middleware on its app)."""

    def __init__(self) -> None:
        self.current = 0
        self.most = 0
        self.requests = 0

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        self.current += 1
        self.requests += 1
        self.most = max(self.most, self.current)
        try:
            return await handler(request)
        finally:
            self.current -= 1


StartWatched = Callable[[list[HostSpec]], Awaitable[list[tuple[SimHost, Watch]]]]


@pytest.fixture
async def start_watched() -> AsyncIterator[StartWatched]:
    """Like ``start_hosts``, each host's app with a :class:`Watch` as outermost middleware."""
    servers: list[TestServer] = []

    async def start(specs: list[HostSpec]) -> list[tuple[SimHost, Watch]]:
        started = []
        for spec in specs:
            host = SimulatedHost.generate(spec)
            w = Watch()
            app = make_app(host)
            app.middlewares.insert(0, w.middleware)
            server = TestServer(app, host="127.0.0.1")
            await server.start_server()
            servers.append(server)
            uri = parse_uri(f"hyperv://127.0.0.1:{server.port}/?transport=http")
            started.append((SimHost(host=host, server=server, uri=uri), w))
        return started

    yield start
    for server in servers:
        await server.close()


async def test_fleet_sends_a_host_its_requests_two_at_a_time(
    start_watched: StartWatched,
) -> None:
    # The fleet's own pool gives each host two connections: its requests (each connection's
    # two NTLM handshake legs, the inventory's ten queries and their Pulls) go out two at a
    # time, and that is all of them.  Full batches make the count exact.
    assert FLEET_PER_HOST_CONNECTIONS == 2
    started = await start_watched(
        [HostSpec(name=f"hv{i}", os="2022", vms=8, seed=i, batching="full") for i in (1, 2)]
    )
    sims = [sim for sim, _w in started]
    watches = [w for _sim, w in started]
    for sim in sims:
        sim.host.faults.latency = 0.02  # long enough for two requests to overlap
    result = await Fleet([s.uri for s in sims], auth=CREDENTIALS).run(inventory_op)
    result.raise_for_errors()
    for sim, w, res in zip(sims, watches, result, strict=True):
        assert res.value is not None
        check_against_simulator(res.value, sim)
        assert res.requests == res.value.requests == 3 + len(V2_QUERIES) + 1 == 12
        assert w.requests == 2 * 2 + 12  # Negotiate: two legs per connection, then the inventory
        assert w.most == 2


async def test_2008r2_over_one_connection_is_asked_for_its_os_first(
    start_hosts: StartHosts,
) -> None:
    # With one request at a time there is nothing to gain by guessing: no v2 query is sent
    # to a host whose OS says it only has root/virtualization.
    (sim,) = await start_hosts([HostSpec(name="old", os="2008R2", vms=4, seed=3, batching="full")])
    limits = Limits(per_host_connections=1, max_envelope_size=FLEET_MAX_ENVELOPE_SIZE)
    async with SessionPool(limits=limits) as pool:
        session = pool.session(sim.uri, CREDENTIALS)
        inv = await collect_inventory(session, host=sim.label)
        assert session.stats.requests == 3 + 7 + 1
        assert session.stats.faults == 0
    check_against_simulator(inv, sim)


async def test_several_connections_run_the_queries_concurrently(
    start_watched: StartWatched,
) -> None:
    ((sim, w),) = await start_watched([HostSpec(name="wide", os="2019", vms=5, seed=4)])
    sim.host.faults.latency = 0.05  # long enough for the requests to overlap
    async with SessionPool(limits=Limits(per_host_connections=3)) as pool:
        session = pool.session(sim.uri, CREDENTIALS)
        inv = await collect_inventory(session, host=sim.label)
        # twelve requests, each query with at most one Pull (Windows answers an Enumerate with
        # one item)
        assert session.stats.requests - session.stats.pulls == 12
        assert session.stats.pulls <= 11
    check_against_simulator(inv, sim)
    assert 1 < w.most <= 3


def test_tuned_gc_is_undone_on_exit() -> None:
    before = gc.get_threshold()
    frozen = gc.get_freeze_count()
    with tuned_gc(threshold=12_345):
        assert gc.get_threshold() == (12_345, *before[1:])
        assert gc.get_freeze_count() > frozen
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == frozen
