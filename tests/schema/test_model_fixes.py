"""Simulator model details the shared schema made visible: BIOS GUIDs, disk images, saved VMs."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from aiohyperv.cim import EPR, CimType, EmbeddedInstance
from aiohyperv.simulator import HostSpec, SimulatedHost, VMState
from aiohyperv.simulator._methods import MethodResult, invoke
from aiohyperv.simulator._providers import instances_of, setting_path, vm_resources
from aiohyperv.wsman._ns import NAMESPACE_V2

from ..simulator._helpers import ManualClock

if TYPE_CHECKING:
    from aiohyperv.simulator._host import VM
    from aiohyperv.simulator._instance import Instance

INVALID_STATE = 32775


def make_host(os: str = "2019", vms: int = 40) -> SimulatedHost:
    spec = HostSpec(name="hv01", os=os, vms=vms, seed=7, job_duration=0.2)
    return SimulatedHost.generate(spec, clock=ManualClock())


def vm_in(host: SimulatedHost, *states: int) -> VM:
    for vm in host.all_vms():
        if vm.state in states and vm.pending is None:
            return vm
    raise AssertionError(f"no VM in states {states}")


def call(host: SimulatedHost, method: str, **args: object) -> MethodResult:
    (service,) = instances_of(host, host.namespace, "Msvm_VirtualSystemManagementService")
    return invoke(host, service, method, args)  # type: ignore[arg-type]


def one(host: SimulatedHost, class_name: str, vm: VM) -> Instance:
    (inst,) = instances_of(host, host.namespace, class_name, vm=vm)
    return inst


@pytest.mark.parametrize("os", ["2008R2", "2019"])
def test_bios_guid_is_not_the_vm_id(os: str) -> None:
    host = make_host(os, vms=6)
    for vm in host.vms.values():
        bios = str(one(host, "Msvm_VirtualSystemSettingData", vm).get("BIOSGUID"))
        assert bios.startswith("{") and bios.endswith("}")
        assert bios.strip("{}").upper() != vm.guid
    guids = {
        str(one(host, "Msvm_VirtualSystemSettingData", v).get("BIOSGUID"))
        for v in host.vms.values()
    }
    assert len(guids) == len(host.vms)


def test_a_vhd_embedded_as_rasd_is_stored_as_storage_allocation() -> None:
    host = make_host(vms=6)
    vm = vm_in(host, VMState.OFF)
    drive = next(
        r
        for r in vm_resources(host, vm)
        if r.values.get("ResourceSubType") == "Microsoft:Hyper-V:Synthetic Disk Drive"
    )
    image = EmbeddedInstance("Msvm_ResourceAllocationSettingData")
    image.set("ResourceType", CimType.UINT16, 31)
    image.set("ResourceSubType", CimType.STRING, "Microsoft:Hyper-V:Virtual Hard Disk")
    image.set(
        "Parent",
        CimType.STRING,
        setting_path(host, "Msvm_ResourceAllocationSettingData", drive.instance_id),
    )
    image.set("HostResource", CimType.STRING, ["C:\\disks\\extra.vhdx"])
    vssd = EPR.make(
        one(host, "Msvm_VirtualSystemSettingData", vm).cls.resource_uri,
        {"InstanceID": f"Microsoft:{vm.guid}"},
    )
    result = call(host, "AddResourceSettings", AffectedConfiguration=vssd, ResourceSettings=[image])
    assert result.return_value == 4096
    refs = result.outputs["ResultingResourceSettings"]
    assert isinstance(refs, list) and len(refs) == 1
    ref = refs[0]
    assert isinstance(ref, EPR) and ref.resource_uri.endswith("/Msvm_StorageAllocationSettingData")
    stored = [
        i
        for i in instances_of(host, NAMESPACE_V2, "Msvm_StorageAllocationSettingData", vm=vm)
        if i.get("HostResource") == ["C:\\disks\\extra.vhdx"]
    ]
    assert len(stored) == 1
    plain = instances_of(host, NAMESPACE_V2, "Msvm_ResourceAllocationSettingData", vm=vm)
    assert all(
        i.cls.name != "Msvm_ResourceAllocationSettingData" or i.get("ResourceType") != 31
        for i in plain
    )


@pytest.mark.parametrize(
    ("class_name", "state", "allowed"),
    [
        ("Msvm_ProcessorSettingData", VMState.OFF, True),
        ("Msvm_MemorySettingData", VMState.OFF, True),
        ("Msvm_ProcessorSettingData", VMState.SAVED, False),
        ("Msvm_MemorySettingData", VMState.SAVED, False),
        ("Msvm_ProcessorSettingData", VMState.RUNNING, False),
        ("Msvm_MemorySettingData", VMState.RUNNING, True),  # runtime resize (2016 and later)
    ],
)
def test_quantity_changes_by_state(class_name: str, state: int, allowed: bool) -> None:
    host = make_host()
    vm = vm_in(host, state)
    setting = one(host, class_name, vm)
    old = setting.get("VirtualQuantity")
    assert isinstance(old, int)
    change = EmbeddedInstance(class_name)
    change.set("InstanceID", CimType.STRING, setting.get("InstanceID"))
    change.set("VirtualQuantity", CimType.UINT64, old + 2)
    result = call(host, "ModifyResourceSettings", ResourceSettings=[change])
    assert result.return_value == (4096 if allowed else INVALID_STATE)
    assert one(host, class_name, vm).get("VirtualQuantity") == (old + 2 if allowed else old)
