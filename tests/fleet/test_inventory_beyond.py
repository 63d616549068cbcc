"""The inventory's opt-in disk details and their request cost (printed for the record)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohyperv.fleet import Fleet
from aiohyperv.fleet._inventory import inventory_op, inventory_op_with_disks
from aiohyperv.simulator import HostSpec

from .conftest import CREDENTIALS

if TYPE_CHECKING:
    from .conftest import StartHosts


async def test_disk_details_are_opt_in(start_hosts: StartHosts) -> None:
    # Full batches (one answer per query) make the request count exact.
    (sim,) = await start_hosts([HostSpec(name="hv01", vms=10, seed=4, batching="full")])
    plain = (await Fleet([sim.uri], auth=CREDENTIALS).run(inventory_op)).results[0]
    detailed = (await Fleet([sim.uri], auth=CREDENTIALS).run(inventory_op_with_disks)).results[0]
    inv, full = plain.unwrap(), detailed.unwrap()
    disks = [d for vm in inv.vms for d in vm.disks if d.kind == "disk"]
    assert disks and all(d.size is None and d.format is None for d in disks)
    full_disks = [d for vm in full.vms for d in vm.disks if d.kind == "disk"]
    assert [d.path for d in full_disks] == [d.path for d in disks]
    for disk in full_disks:
        assert disk.format == "vhdx" and disk.type in ("fixed", "dynamic")
        assert disk.size is not None and disk.size >= 40 * 1024**3
        assert disk.file_size is not None and disk.file_size > 0
    dvds = [d for vm in full.vms for d in vm.disks if d.kind == "dvd"]
    assert all(d.size is None for d in dvds)  # ISO images are not asked about
    # The standard inventory costs the same whatever the VM count; the details cost two
    # requests per disk image.
    assert plain.requests == 12
    assert detailed.requests == plain.requests + 2 * len(disks)
    print(
        f"\ninventory requests/host ({len(inv.vms)} VMs, {len(disks)} disks): "
        f"standard {plain.requests}, with disks=True {detailed.requests}"
    )


async def test_disk_details_skip_2008r2(start_hosts: StartHosts) -> None:
    (sim,) = await start_hosts([HostSpec(name="old", os="2008R2", vms=3, seed=4)])
    plain = (await Fleet([sim.uri], auth=CREDENTIALS).run(inventory_op)).results[0]
    detailed = (await Fleet([sim.uri], auth=CREDENTIALS).run(inventory_op_with_disks)).results[0]
    assert detailed.requests == plain.requests
    assert [vm.disks for vm in detailed.unwrap().vms] == [vm.disks for vm in plain.unwrap().vms]
