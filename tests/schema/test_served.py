"""What the simulator sends for the schema's classes: Windows' shape, and Hyper-V's instances.

Windows writes every scalar property of an instance (``xsi:nil`` when NULL) and leaves a NULL
array out entirely (``HYPERV-WMI.md`` section 5).  libvirt's client deserializes every scalar
its generator input lists and reads element 0 of an array whenever the element is present, so
both halves matter.
"""

from __future__ import annotations

import pytest
from lxml import etree

from aiohyperv.simulator import HostSpec, SimulatedHost
from aiohyperv.simulator._instance import Instance, to_xml
from aiohyperv.simulator._providers import instances_of, vm_resources
from aiohyperv.simulator._schema import SCHEMAS
from aiohyperv.simulator._wql import execute, parse_wql
from aiohyperv.wsman._ns import NAMESPACE_CIMV2, NS

from ..simulator._helpers import ManualClock

XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"
# An instance is written inside an envelope that declares the addressing prefixes.
_WRAP = "<wrap " + " ".join(f'xmlns:{k}="{v}"' for k, v in NS.items() if k in "aw") + ">{}</wrap>"


def parse_instance(inst: Instance) -> etree._Element:
    return etree.fromstring(_WRAP.format(to_xml(inst)).encode())[0]


def make_host(os: str, *, vms: int = 6, seed: int = 5) -> SimulatedHost:
    spec = HostSpec(name=f"hv-{os.lower()}", os=os, vms=vms, seed=seed)
    return SimulatedHost.generate(spec, clock=ManualClock())


def served(host: SimulatedHost) -> list[Instance]:
    found: list[Instance] = []
    for namespace in (host.namespace, NAMESPACE_CIMV2):
        for cls in SCHEMAS[namespace].classes():
            found.extend(i for i in instances_of(host, namespace, cls.name) if i.cls is cls)
    return found


@pytest.mark.parametrize("os", ["2008R2", "2012R2", "2019"])
def test_every_scalar_is_sent_and_no_null_array(os: str) -> None:
    host = make_host(os)
    instances = served(host)
    assert len({i.cls.name for i in instances}) > 20
    for inst in instances:
        root = parse_instance(inst)
        seen: dict[str, list[etree._Element]] = {}
        for child in root:
            seen.setdefault(etree.QName(child).localname, []).append(child)
        for prop in inst.cls.properties:
            elements = seen.get(prop.name, [])
            where = f"{inst.cls.name}.{prop.name}"
            if not prop.array:
                assert len(elements) == 1, f"{where} is not sent exactly once"
                continue
            assert all(e.get(XSI_NIL) is None for e in elements), f"{where} sent as xsi:nil"
            if not inst.values.get(prop.name):
                assert not elements, f"{where} is NULL but sent"


def test_virt_who_reads_the_hyperv_version_from_vmms() -> None:
    host = make_host("2019")
    query = (
        "SELECT * FROM CIM_Datafile WHERE Path = '\\\\windows\\\\system32\\\\' "
        "AND FileName = 'vmms'"
    )
    found, _ = execute(host, NAMESPACE_CIMV2, parse_wql(query))
    assert len(found) == 1
    vmms = found[0]
    assert vmms.get("Path") == "\\windows\\system32\\"
    assert (vmms.get("Drive"), vmms.get("Extension")) == ("c:", "exe")
    assert vmms.get("Name") == "c:\\windows\\system32\\vmms.exe"
    version = str(vmms.get("Version"))
    assert version.startswith(f"{host.os.version}.") and version.count(".") == 3


def test_vcpu_counters_of_running_vms_only() -> None:
    clock = ManualClock()
    host = SimulatedHost.generate(HostSpec(name="hv", os="2019", vms=8, seed=5), clock=clock)
    clock.advance(60)
    on = [vm for vm in host.vms.values() if vm.is_on]
    off = [vm for vm in host.vms.values() if not vm.is_on]
    assert on and off
    table = "Win32_PerfRawData_HvStats_HyperVHypervisorVirtualProcessor"
    for vm in on:
        cpus = len(
            execute(
                host,
                NAMESPACE_CIMV2,
                parse_wql(f"SELECT * FROM {table} WHERE Name LIKE '{vm.name}:Hv VP %'"),
            )[0]
        )
        assert cpus == vm.cpus
        last = f"SELECT * FROM {table} WHERE Name = '{vm.name}:Hv VP {vm.cpus - 1}'"
        (row,) = execute(host, NAMESPACE_CIMV2, parse_wql(last))[0]
        assert isinstance(row.get("PercentTotalRunTime"), int) and row.get("PercentTotalRunTime")
    for vm in off:
        query = f"SELECT * FROM {table} WHERE Name LIKE '{vm.name}:Hv VP %'"
        assert execute(host, NAMESPACE_CIMV2, parse_wql(query))[0] == []


def _associated(host: SimulatedHost, vm_guid: str, result_class: str) -> list[Instance]:
    query = (
        "ASSOCIATORS OF {Msvm_ComputerSystem.CreationClassName='Msvm_ComputerSystem',"
        f"Name='{vm_guid}'}} WHERE ResultClass = {result_class}"
    )
    return execute(host, host.namespace, parse_wql(query))[0]


@pytest.mark.parametrize("os", ["2012R2", "2019"])
def test_display_devices_per_generation(os: str) -> None:
    host = make_host(os, vms=12)
    generations = set()
    for vm in host.vms.values():
        generations.add(vm.generation)
        displays = _associated(host, vm.guid, "CIM_DisplayController")
        expected = (
            "Msvm_S3DisplayController"
            if vm.generation == 1
            else ("Msvm_SyntheticDisplayController")
        )
        assert [d.cls.name for d in displays] == [expected]
        (head,) = _associated(host, vm.guid, "Msvm_VideoHead")
        assert head.get("SystemName") == vm.guid
        assert isinstance(head.get("CurrentHorizontalResolution"), int)
    assert generations == {1, 2}


@pytest.mark.parametrize("os", ["2008R2", "2019"])
def test_a_disk_drive_per_attached_virtual_hard_disk(os: str) -> None:
    host = make_host(os)
    for vm in host.vms.values():
        images = [
            r
            for r in vm_resources(host, vm)
            if str(r.values.get("ResourceSubType", "")).endswith("Virtual Hard Disk")
        ]
        drives = _associated(host, vm.guid, "Msvm_DiskDrive")
        assert len(drives) == len(images) == vm.disks
        drive_ids = {r.instance_id for r in vm_resources(host, vm)}
        assert all(d.get("DeviceID") in drive_ids for d in drives)


def test_switch_sends_max_iov_offloads() -> None:
    host = make_host("2019")
    (switch, *_) = instances_of(host, host.namespace, "Msvm_VirtualEthernetSwitch")
    root = parse_instance(switch)
    (iov,) = [c for c in root if etree.QName(c).localname == "MaxIOVOffloads"]
    assert iov.text == "0"
    assert not [c for c in root if etree.QName(c).localname == "MaxChimneyOffloads"]
    (service,) = instances_of(host, host.namespace, "Msvm_VirtualEthernetSwitchManagementService")
    assert service.get("SystemName") == host.computer_name


def test_disk_drive_setting_sends_no_host_resource() -> None:
    # libvirt reads HostResource[0] of a drive setting whenever the element is present.
    host = make_host("2019")
    drives = [
        i
        for i in instances_of(host, host.namespace, "Msvm_ResourceAllocationSettingData")
        if i.get("ResourceSubType") == "Microsoft:Hyper-V:Synthetic Disk Drive"
    ]
    assert drives
    for drive in drives:
        names = {etree.QName(c).localname for c in parse_instance(drive)}
        assert "HostResource" not in names and "ResourceType" in names
