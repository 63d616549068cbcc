"""``serve --demo``'s churn: the simulated fleet really changes, through the driver and the
simulator's knobs, and the service sees it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohyperv.service import ChangeKind
from aiohyperv.service._demo import DemoChurn

from .conftest import running_service

if TYPE_CHECKING:
    from pathlib import Path

    from aiohyperv.simulator._demo import DemoFleet


def snapshot(fleet: DemoFleet) -> dict[str, tuple[str, int, int]]:
    return {
        vm.guid: (vm.name, int(vm.state), vm.memory_mb)
        for host in fleet.hosts
        for vm in host.all_vms()
    }


async def test_steps_change_states_names_memory_and_host_health(small_fleet: DemoFleet) -> None:
    churn = DemoChurn(small_fleet, seed=3, changes_per_step=1)
    before = snapshot(small_fleet)
    done: list[str] = []
    outage_seen = False
    for _ in range(80):
        done.extend(await churn.step())
        outage_seen = outage_seen or any(h.faults.fault_rate == 1.0 for h in small_fleet.hosts)
    after = snapshot(small_fleet)
    changed = [guid for guid in before if before[guid] != after[guid]]
    assert changed
    verbs = {text.split()[0] for text in done}
    assert {"start"} <= verbs and verbs & {"shutdown", "stop", "suspend", "save"}
    assert any(text.startswith("renamed") for text in done)
    assert any(text.startswith("set ") for text in done)
    assert outage_seen and any(text.endswith("recovered") for text in done)
    assert any(text.startswith("created") for text in done)
    assert any(text.startswith("removed") for text in done)


async def test_the_service_records_what_the_churn_did(
    small_fleet: DemoFleet, tmp_path: Path
) -> None:
    churn = DemoChurn(small_fleet, seed=5, changes_per_step=1, outages=False)
    async with running_service(small_fleet, tmp_path) as service:
        assert service.scheduler is not None and service.store is not None
        await service.scheduler.request()
        done: list[str] = []
        for _ in range(40):
            done.extend(await churn.step())
            if any(t.startswith("created") for t in done):
                break
        await service.scheduler.request()
        kinds = {c.kind for c in await service.store.changes()}
    assert ChangeKind.VM_STATE in kinds
    assert ChangeKind.VM_CREATED in kinds
