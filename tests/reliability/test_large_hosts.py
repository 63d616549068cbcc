"""A host with many VMs is inventoried whole: optional data that outgrows one answer is asked
for in pieces, and if even that fails the host's result says what is missing.

``GetSummaryInformation`` (every VM's memory demand) answers for all VMs at once, so its answer
grows with the VM count and passes the response cap at about 400 VMs with the fleet's 500 KiB
MaxEnvelopeSize (150 with a default pool's 150 KiB).  It is optional: it must not fail a host.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from aiohyperv._config import parse_uri
from aiohyperv._transport import SessionPool
from aiohyperv.fleet import Fleet, inventory_op
from aiohyperv.simulator import HostSpec, SimulatedHost, make_app

from ..fleet.conftest import CREDENTIALS, start_hosts

if TYPE_CHECKING:
    from aiohttp.typedefs import Handler

    from ..fleet.conftest import StartHosts

__all__ = ["start_hosts"]  # the fixture, imported to be found here

VMS = 600


@pytest.mark.parametrize("pool", ["fleet", "default"])
async def test_summary_of_600_vms_is_fetched_in_pieces(start_hosts: StartHosts, pool: str) -> None:
    """The fleet's own pool (500 KiB answers, one connection) and a default ``SessionPool``
    (150 KiB, four connections: the inventory's queries then run side by side)."""
    (sim,) = await start_hosts([HostSpec(name="big", vms=VMS, seed=3)])
    factory = SessionPool if pool == "default" else None
    fleet = Fleet([sim.uri], auth=CREDENTIALS, timeout=120, pool_factory=factory)
    result = await fleet.run(inventory_op)
    inventory = result.results[0].unwrap()
    assert len(inventory.vms) == VMS
    assert inventory.missing == ()
    running = [vm for vm in inventory.vms if vm.state == "running"]
    assert running, "the spec should start some VMs"
    assert all(vm.memory_demand_mib is not None for vm in running)


async def test_summary_that_cannot_be_had_degrades() -> None:
    """Every summary answer is broken (whole or in pieces): the host still succeeds, marked."""
    host = SimulatedHost.generate(HostSpec(name="big", vms=VMS, seed=3))
    app = make_app(host)
    summary_calls: list[int] = []

    @web.middleware
    async def break_summaries(request: web.Request, handler: Handler) -> web.StreamResponse:
        if b"GetSummaryInformation" in await request.read():
            summary_calls.append(1)
            return web.Response(body=b"<not-soap", content_type="application/soap+xml")
        return await handler(request)

    app.middlewares.append(break_summaries)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        # Basic: the middleware must read the request (Negotiate would seal it).
        uri = parse_uri(f"hyperv://127.0.0.1:{server.port}/?transport=http&auth=basic")
        result = await Fleet([uri], auth=CREDENTIALS, timeout=120).run(inventory_op)
    finally:
        await server.close()
    inventory = result.results[0].unwrap()
    assert len(inventory.vms) == VMS
    assert inventory.missing == ("summary",)
    assert all(vm.memory_demand_mib is None for vm in inventory.vms)
    assert summary_calls  # it was asked for, and its failure did not fail the host
