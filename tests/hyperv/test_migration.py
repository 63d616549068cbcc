"""Moving VMs between two simulated hosts served together (MigrateVirtualSystemToHost)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, TypeAlias

import pytest

from aiohyperv._exceptions import CimMethodError, InvalidOperation, JobFailed, VMNotFound
from aiohyperv.hyperv import DomainState, connect
from aiohyperv.testing import HostSpec, run_simulator

from .conftest import AUTH, domain_in

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from aiohyperv.hyperv import HyperVConnection
    from aiohyperv.simulator import SimulatedHost, SimulatorServer

Pair: TypeAlias = "tuple[SimulatorServer, HyperVConnection, HyperVConnection]"


@pytest.fixture
async def pair() -> AsyncIterator[Pair]:
    specs = [
        HostSpec(name="hv01", os="2019", vms=4, seed=21, job_duration=0.02),
        HostSpec(name="hv02", os="2022", vms=2, seed=22, job_duration=0.02),
    ]
    async with run_simulator(*specs) as server:
        src_host, dst_host = server.hosts
        # Same switches on both sides unless a test says otherwise.
        dst_host.switches = [(guid.replace("A", "B"), name) for guid, name in src_host.switches]
        async with (
            connect(server.uris[0], auth=AUTH) as src,
            connect(server.uris[1], auth=AUTH) as dst,
        ):
            yield server, src, dst


async def test_live_migration(pair: Pair) -> None:
    server, src, dst = pair
    src_host, dst_host = server.hosts
    dom = await domain_in(src, DomainState.RUNNING)
    guid = dom.guid
    await dom.migrate(await dst.get_hostname(), live=True)
    assert guid not in src_host.vms and guid in dst_host.vms
    with pytest.raises(VMNotFound):
        await src.lookup_domain_by_uuid(dom.uuid)
    moved = await dst.lookup_domain_by_uuid(dom.uuid)
    assert moved.name == dom.name
    assert (await moved.state())[0] is DomainState.RUNNING  # still running: a live move
    # Its adapters now hang off the destination's switch of the same name.
    assert {n.bridge for n in (await moved.definition()).interfaces} <= {
        guid.lower() for guid, _name in dst_host.switches
    } | {guid for guid, _name in dst_host.switches}


async def test_offline_migration_by_fqdn(pair: Pair) -> None:
    server, src, dst = pair
    dom = await domain_in(src, DomainState.SHUTOFF)
    await dom.migrate(f"{server.hosts[1].dns_name}.{server.hosts[1].domain}", live=False)
    moved = await dst.lookup_domain_by_uuid(dom.uuid)
    assert (await moved.state())[0] is DomainState.SHUTOFF


async def test_state_checks_before_sending(pair: Pair) -> None:
    _server, src, _dst = pair
    off = await domain_in(src, DomainState.SHUTOFF)
    with pytest.raises(InvalidOperation):
        await off.migrate("hv02", live=True)
    running = await domain_in(src, DomainState.RUNNING)
    with pytest.raises(InvalidOperation):
        await running.migrate("hv02", live=False)


async def test_destination_lacks_the_switch(pair: Pair) -> None:
    server, src, _dst = pair
    src_host, dst_host = server.hosts
    dst_host.switches = [("0000-NEW", "Somewhere Else")]
    dom = await domain_in(src, DomainState.RUNNING)
    with pytest.raises(JobFailed) as info:
        await dom.migrate("hv02")
    assert info.value.error_code == 32768
    assert "Could not find Ethernet switch" in (info.value.error_description or "")
    assert dom.guid in src_host.vms  # a failed migration leaves the VM where it was


async def test_destination_lacks_memory(pair: Pair) -> None:
    server, src, _dst = pair
    dom = await domain_in(src, DomainState.RUNNING)
    server.hosts[1].memory_bytes = 8 * 1024**3  # too small for the host reserve and the VM
    with pytest.raises(JobFailed) as info:
        await dom.migrate("hv02", live=True)
    assert info.value.error_code == 32778  # Out of memory


async def test_id_clash_unknown_host_and_failing_job(pair: Pair) -> None:
    server, src, _dst = pair
    src_host, dst_host = server.hosts
    dom = await domain_in(src, DomainState.SHUTOFF)
    dst_host.vms[dom.guid] = src_host.vms[dom.guid]  # the same VM ID already there
    with pytest.raises(JobFailed) as info:
        await dom.migrate("hv02")
    assert "already exists" in (info.value.error_description or "")
    del dst_host.vms[dom.guid]
    with pytest.raises(JobFailed) as info:
        await dom.migrate("nowhere")
    assert "No such host is known" in (info.value.error_description or "")
    src_host.faults.fail_jobs = True
    with pytest.raises(JobFailed):
        await dom.migrate("hv02")
    src_host.faults.fail_jobs = False
    assert dom.guid in src_host.vms


async def test_invalid_state_during_a_transition(pair: Pair) -> None:
    server, src, _dst = pair
    host: SimulatedHost = server.hosts[0]
    dom = await domain_in(src, DomainState.SHUTOFF)
    host.spec = dataclasses.replace(host.spec, job_duration=3600.0)
    await src.invoke(
        "Msvm_ComputerSystem",
        "RequestStateChange",
        selectors={"CreationClassName": "Msvm_ComputerSystem", "Name": dom.guid},
        params={"RequestedState": 2},
        wait=False,
    )
    with pytest.raises(CimMethodError) as info:
        await dom.migrate("hv02")
    assert info.value.return_value == 32775  # Invalid state for this operation
