"""Fixtures: a simulated host per test (Windows Server 2019 = v2, 2008 R2 = v1) and a connection."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from aiohyperv._credentials import Credentials
from aiohyperv.hyperv import DomainState, connect
from aiohyperv.testing import HostSpec, run_simulator

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from aiohyperv.hyperv import Domain, HyperVConnection
    from aiohyperv.simulator import SimulatedHost, SimulatorServer

AUTH = Credentials(username="admin", password="secret")


@pytest.fixture(params=["2019", "2008R2"])
def os_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def sim(os_name: str) -> AsyncIterator[SimulatorServer]:
    spec = HostSpec(name="hv01", os=os_name, vms=6, seed=7, job_duration=0.02)
    async with run_simulator(spec) as server:
        yield server


@pytest.fixture
def host(sim: SimulatorServer) -> SimulatedHost:
    return sim.hosts[0]


@pytest.fixture
async def conn(sim: SimulatorServer) -> AsyncIterator[HyperVConnection]:
    async with connect(sim.uris[0], auth=AUTH) as connection:
        yield connection


async def domain_in(conn: HyperVConnection, state: DomainState) -> Domain:
    """A domain in ``state`` (RUNNING, SHUTOFF without saved state, or PAUSED), made if needed."""
    domains = await conn.list_domains()
    for dom in domains:
        if dom.cached_state is state and not (
            state is DomainState.SHUTOFF and await dom.has_managed_save()
        ):
            return dom
    dom = domains[0]
    current, _ = await dom.state()
    if current is DomainState.SHUTOFF:
        if await dom.has_managed_save():
            await dom.managed_save_remove()
        if state is DomainState.SHUTOFF:
            return dom
        await dom.start()
    elif current is DomainState.PAUSED:
        await dom.resume()
    if state is DomainState.SHUTOFF:
        await dom.destroy()
    elif state is DomainState.PAUSED:
        await dom.suspend()
    return dom
