"""Checkpoints end to end: Msvm_VirtualSystemSnapshotService on a simulated 2019 host."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from aiohyperv._exceptions import CimMethodError, InvalidOperation, JobFailed, NotFound
from aiohyperv.cim import CimInstance
from aiohyperv.hyperv import DomainState, connect
from aiohyperv.testing import HostSpec, run_simulator

from .conftest import AUTH, domain_in

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from aiohyperv.hyperv import HyperVConnection
    from aiohyperv.simulator import SimulatedHost, SimulatorServer


@pytest.fixture
async def sim2019() -> AsyncIterator[SimulatorServer]:
    spec = HostSpec(name="hv01", os="2019", vms=6, seed=7, job_duration=0.02)
    async with run_simulator(spec) as server:
        yield server


@pytest.fixture
async def v2(sim2019: SimulatorServer) -> AsyncIterator[HyperVConnection]:
    async with connect(sim2019.uris[0], auth=AUTH) as connection:
        yield connection


async def test_create_list_revert_delete(v2: HyperVConnection, sim2019: SimulatorServer) -> None:
    host = sim2019.hosts[0]
    dom = await domain_in(v2, DomainState.SHUTOFF)
    vm = host.vms[dom.guid]
    assert await dom.snapshot_list() == []
    first = await dom.snapshot_create("before-upgrade")
    assert first.name == "before-upgrade" and first.current and first.parent_id is None
    assert not first.saved and first.state == "shutoff"
    cpus = vm.cpus
    await dom.set_vcpus(cpus + 1)
    second = await dom.snapshot_create("after-upgrade")
    assert second.parent_id == first.id
    listed = await dom.snapshot_list()
    assert [s.name for s in listed] == ["before-upgrade", "after-upgrade"]
    assert [s.current for s in listed] == [False, True]

    reverted = await dom.snapshot_revert("before-upgrade")
    assert reverted.id == first.id
    assert vm.cpus == cpus  # the configuration of the checkpoint is back
    assert (await dom.snapshot_lookup("before-upgrade")).current

    # A new checkpoint now branches from the first one.
    third = await dom.snapshot_create("branch")
    assert third.parent_id == first.id

    await dom.snapshot_delete("before-upgrade")  # children move up to the root
    names = {s.name: s for s in await dom.snapshot_list()}
    assert set(names) == {"after-upgrade", "branch"}
    assert names["branch"].parent_id is None
    with pytest.raises(NotFound):
        await dom.snapshot_lookup("before-upgrade")


async def test_delete_tree(v2: HyperVConnection) -> None:
    dom = await domain_in(v2, DomainState.SHUTOFF)
    await dom.snapshot_create("root")
    await dom.snapshot_create("child")
    await dom.snapshot_create("grandchild")
    await dom.snapshot_delete("root", children=True)
    assert await dom.snapshot_list() == []


async def test_standard_checkpoint_of_running_vm_keeps_memory(
    v2: HyperVConnection, sim2019: SimulatorServer
) -> None:
    host: SimulatedHost = sim2019.hosts[0]
    dom = await domain_in(v2, DomainState.RUNNING)
    snap = await dom.snapshot_create("live", consistency="standard")
    assert snap.saved and snap.state == "running"
    # Applying needs the VM off or saved: Windows answers 5 (Invalid State).
    with pytest.raises(CimMethodError) as info:
        await dom.snapshot_revert("live")
    assert info.value.return_value == 5
    await dom.destroy()
    await dom.snapshot_revert("live")
    assert (await dom.state())[0] is DomainState.SHUTOFF
    assert await dom.has_managed_save()  # the memory state came back as a saved state
    assert host.vms[dom.guid].state == 6


async def test_production_checkpoint_needs_integration_services(
    v2: HyperVConnection, sim2019: SimulatorServer
) -> None:
    host = sim2019.hosts[0]
    dom = await domain_in(v2, DomainState.RUNNING)
    vm = host.vms[dom.guid]
    vm.guest_os = ""  # the guest's integration services do not answer
    # Production with fallback: a standard (crash-consistent, with memory) checkpoint.
    fallback = await dom.snapshot_create("fallback", consistency="production")
    assert fallback.saved
    vm.snapshot_type = 4  # production checkpoints only: the job fails
    with pytest.raises(JobFailed) as info:
        await dom.snapshot_create("refused")
    assert info.value.error_code == 32768
    assert [s.name for s in await dom.snapshot_list()] == ["fallback"]
    vm.guest_os = "Windows Server 2022 Standard"
    good = await dom.snapshot_create("app-consistent")
    assert not good.saved


async def test_disabled_checkpoints_and_failing_jobs(
    v2: HyperVConnection, sim2019: SimulatorServer
) -> None:
    host = sim2019.hosts[0]
    dom = await domain_in(v2, DomainState.SHUTOFF)
    host.vms[dom.guid].snapshot_type = 2  # checkpoints disabled for this VM
    with pytest.raises(CimMethodError) as info:
        await dom.snapshot_create("nope")
    assert info.value.return_value == 5 and "invalid state" in str(info.value)
    host.vms[dom.guid].snapshot_type = 3
    await dom.snapshot_create("kept")
    host.faults.fail_jobs = True
    with pytest.raises(JobFailed):
        await dom.snapshot_delete("kept")
    host.faults.fail_jobs = False
    assert [s.name for s in await dom.snapshot_list()] == ["kept"]


async def test_v1_has_no_checkpoint_service() -> None:
    spec = HostSpec(name="hv01", os="2008R2", vms=2, seed=7, job_duration=0.02)
    async with run_simulator(spec) as server, connect(server.uris[0], auth=AUTH) as conn:
        dom = (await conn.list_domains())[0]
        with pytest.raises(InvalidOperation):
            await dom.snapshot_list()


async def test_summary_lists_checkpoints(v2: HyperVConnection) -> None:
    # GetSummaryInformation code 107 (Snapshots): the VM's checkpoints, embedded.
    dom = await domain_in(v2, DomainState.SHUTOFF)
    await dom.snapshot_create("one")
    await dom.snapshot_create("two")
    result = await v2.session.invoke(
        v2._cls("Msvm_VirtualSystemManagementService").resource_uri,
        "GetSummaryInformation",
        selectors=await v2.vsms_keys(),
        params={"RequestedInformation": [0, 107]},
    )
    rows = result.outputs["SummaryInformation"]
    assert isinstance(rows, list)
    mine = [r for r in rows if isinstance(r, CimInstance) and r.get_str("Name") == dom.guid]
    (row,) = mine
    snaps = row.get("Snapshots")
    assert isinstance(snaps, list)
    names = sorted(s.get_str("ElementName") or "" for s in snaps if isinstance(s, CimInstance))
    assert names == ["one", "two"]


async def test_checkpoint_of_a_saved_vm_keeps_the_saved_state(
    v2: HyperVConnection, sim2019: SimulatorServer
) -> None:
    dom = await domain_in(v2, DomainState.RUNNING)
    await dom.managed_save()
    snap = await dom.snapshot_create("saved", consistency="production")
    assert snap.saved
