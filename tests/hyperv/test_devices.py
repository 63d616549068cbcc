"""Settings rows -> DomainDef (both namespaces), WMI paths and method-result classification."""

from __future__ import annotations

import pytest

from aiohyperv._exceptions import CimMethodError, ProtocolError
from aiohyperv.cim import EPR, CimInstance
from aiohyperv.hyperv._devices import build_domain_def, classify, format_mac
from aiohyperv.hyperv._domxml import format_domain
from aiohyperv.hyperv._enums import ReturnCode
from aiohyperv.hyperv._jobs import check_result
from aiohyperv.hyperv._paths import format_path, parse_path
from aiohyperv.wsman import MethodResult

NS2 = "root/virtualization/v2"
G = "6B4C6A4E-93A7-4D8E-9B71-1D1A2C3B4D5E"


def row(cls: str, **values: object) -> CimInstance:
    return CimInstance.from_values(cls, None, values)


def rasd_path(iid: str, cls: str = "Msvm_ResourceAllocationSettingData") -> str:
    return format_path(cls, {"InstanceID": iid}, server="HV01", namespace=NS2)


def test_paths_round_trip_and_escapes() -> None:
    iid = f"Microsoft:{G}\\83F8638B\\0\\0\\D"
    path = rasd_path(iid)
    assert path.startswith("\\\\HV01\\root\\virtualization\\v2:Msvm_ResourceAllocationSettingData.")
    assert path.endswith('InstanceID="Microsoft:' + G + '\\\\83F8638B\\\\0\\\\0\\\\D"')
    parsed = parse_path(path)
    assert parsed is not None
    assert parsed.server == "HV01"
    assert parsed.namespace == NS2
    assert parsed.class_name == "Msvm_ResourceAllocationSettingData"
    assert parsed.keys == {"InstanceID": iid}
    multi = parse_path(
        "\\\\hv01.example.com\\root\\virtualization\\v2:Msvm_VirtualEthernetSwitch."
        'CreationClassName="Msvm_VirtualEthernetSwitch",Name="ABC"'
    )
    assert multi is not None and multi.keys["Name"] == "ABC"
    assert multi.server == "hv01.example.com"
    bare = parse_path('Msvm_X.Key="a\\"b"')
    assert bare is not None and bare.keys == {"Key": 'a"b'} and bare.namespace is None
    assert parse_path("NODRIVE") is not None  # a class name without keys
    assert parse_path("C:\\VMs\\disk.vhdx") is None
    assert parse_path('Msvm_X.Key="unterminated') is None


def test_format_mac() -> None:
    assert format_mac("00155D010203") == "00:15:5d:01:02:03"
    assert format_mac("00-15-5D-01-02-03") == "00:15:5d:01:02:03"
    assert format_mac("xyz") is None
    assert format_mac(None) is None


def test_classify_by_subtype_then_type() -> None:
    assert (
        classify("v2", row("R", ResourceSubType="Microsoft:Hyper-V:Synthetic Disk Drive"))
        == "disk_drive"
    )
    assert classify("v1", row("R", ResourceSubType="Microsoft Virtual Hard Disk")) == "vhd"
    assert (
        classify("v2", row("R", ResourceSubType="Microsoft:Hyper-V:Physical Disk Drive"))
        == "physical_disk"
    )
    assert classify("v2", row("R", ResourceType=21)) == "serial"
    assert classify("v1", row("R", ResourceType=17)) == "serial"
    assert classify("v1", row("R", ResourceType=21)) == "vhd"
    assert classify("v2", row("R", ResourceType=99)) == "other"


def _v2_rows() -> list[CimInstance]:
    scsi = f"Microsoft:{G}\\SCSI0"
    ide0 = f"Microsoft:{G}\\IDE\\0"
    ide1 = f"Microsoft:{G}\\IDE\\1"
    drive = f"Microsoft:{G}\\SCSI0\\0\\1\\D"
    dvd = f"Microsoft:{G}\\IDE\\1\\0\\D"
    nic = f"Microsoft:{G}\\NIC1"
    nic2 = f"Microsoft:{G}\\NIC2"
    switch = (
        "\\\\HV01\\root\\virtualization\\v2:Msvm_VirtualEthernetSwitch."
        'CreationClassName="Msvm_VirtualEthernetSwitch",Name="SW-GUID"'
    )
    return [
        row("Msvm_ResourceAllocationSettingData", InstanceID=ide0, ResourceType=5,
            ResourceSubType="Microsoft:Hyper-V:Emulated IDE Controller", Address="0"),
        row("Msvm_ResourceAllocationSettingData", InstanceID=ide1, ResourceType=5,
            ResourceSubType="Microsoft:Hyper-V:Emulated IDE Controller", Address="1"),
        row("Msvm_ResourceAllocationSettingData", InstanceID=scsi, ResourceType=6,
            ResourceSubType="Microsoft:Hyper-V:Synthetic SCSI Controller"),
        row("Msvm_ResourceAllocationSettingData", InstanceID=drive, ResourceType=17,
            ResourceSubType="Microsoft:Hyper-V:Synthetic Disk Drive", Parent=rasd_path(scsi),
            AddressOnParent="1"),
        row("Msvm_StorageAllocationSettingData", InstanceID=drive[:-1] + "L", ResourceType=31,
            ResourceSubType="Microsoft:Hyper-V:Virtual Hard Disk", Parent=rasd_path(drive),
            HostResource=["C:\\VMs\\web.vhdx"]),
        row("Msvm_ResourceAllocationSettingData", InstanceID=dvd, ResourceType=16,
            ResourceSubType="Microsoft:Hyper-V:Synthetic DVD Drive", Parent=rasd_path(ide1),
            AddressOnParent="0"),
        row("Msvm_StorageAllocationSettingData", InstanceID=dvd[:-1] + "L", ResourceType=16,
            ResourceSubType="Microsoft:Hyper-V:Virtual CD/DVD Disk", Parent=rasd_path(dvd),
            HostResource=["C:\\ISO\\x.iso"]),
        row("Msvm_SyntheticEthernetPortSettingData", InstanceID=nic, ResourceType=10,
            ResourceSubType="Microsoft:Hyper-V:Synthetic Ethernet Port", Address="00155D0A0B0C"),
        row("Msvm_EthernetPortAllocationSettingData", InstanceID=nic + "\\C", ResourceType=33,
            ResourceSubType="Microsoft:Hyper-V:Ethernet Connection",
            Parent=rasd_path(nic, "Msvm_SyntheticEthernetPortSettingData"),
            HostResource=[switch], EnabledState=2),
        row("Msvm_SyntheticEthernetPortSettingData", InstanceID=nic2, ResourceType=10,
            ResourceSubType="Microsoft:Hyper-V:Synthetic Ethernet Port", Address="00155D0A0B0D"),
        row("Msvm_SerialPortSettingData", InstanceID=f"Microsoft:{G}\\COM\\1", ResourceType=21,
            ResourceSubType="Microsoft:Hyper-V:Serial Port", ElementName="COM 2",
            Connection=["\\\\.\\pipe\\two"]),
        row("Msvm_SerialPortSettingData", InstanceID=f"Microsoft:{G}\\COM\\0", ResourceType=21,
            ResourceSubType="Microsoft:Hyper-V:Serial Port", ElementName="COM 1", Connection=[""]),
    ]  # fmt: skip


def test_build_domain_def_v2() -> None:
    cs = row("Msvm_ComputerSystem", Name=G, ElementName="web", EnabledState=2, ProcessID=4242)
    vssd = row(
        "Msvm_VirtualSystemSettingData",
        InstanceID=f"Microsoft:{G}",
        Notes=["first", "second"],
        VirtualSystemSubType="Microsoft:Hyper-V:SubType:1",
    )
    proc = row("Msvm_ProcessorSettingData", VirtualQuantity=4)
    mem = row("Msvm_MemorySettingData", VirtualQuantity=2048, Limit=4096)
    rows = _v2_rows()
    dom = build_domain_def(
        "v2", cs=cs, vssd=vssd, processor=proc, memory=mem,
        rows=rows + rows[:2],  # duplicates from overlapping queries are ignored
    )  # fmt: skip
    assert dom.name == "web" and dom.uuid == G.lower() and dom.id == 4242
    assert dom.description == "first\n\nsecond"
    # libvirt: <memory> and <currentMemory> are VirtualQuantity; Limit is the maximum.
    assert (dom.vcpus, dom.memory_kib, dom.current_memory_kib, dom.max_memory_kib) == (
        4, 2048 * 1024, 2048 * 1024, 4096 * 1024
    )  # fmt: skip
    assert [(c.type, c.index) for c in dom.controllers] == [("ide", 0), ("scsi", 0)]
    disks = {d.target_dev: d for d in dom.disks}
    assert set(disks) == {"sdb", "hdc"}
    assert disks["sdb"].source == "C:\\VMs\\web.vhdx" and disks["sdb"].unit == 1
    assert disks["hdc"].device == "cdrom" and disks["hdc"].bus_index == 1
    # The bridge is the switch's Name (GUID), as libvirt's driver reports it.
    assert [(n.mac, n.bridge) for n in dom.interfaces] == [
        ("00:15:5d:0a:0b:0c", "SW-GUID"),
        ("00:15:5d:0a:0b:0d", None),
    ]
    assert [(s.port, s.path) for s in dom.serials] == [(1, None), (2, "\\\\.\\pipe\\two")]
    xml = format_domain(dom)
    assert "<target dev='sdb' bus='scsi'/>" in xml
    # The unconnected adapter is left out, as hypervDomainDefParseEthernetAdapter does.
    assert xml.count("<interface ") == 1 and "<source bridge='SW-GUID'/>" in xml
    assert "<serial type='null'>" in xml and "<source path='\\\\.\\pipe\\two'/>" in xml


def test_build_domain_def_inactive() -> None:
    cs = row("Msvm_ComputerSystem", Name=G, ElementName="x", EnabledState=3, ProcessID=77)
    dom = build_domain_def("v2", cs=cs, vssd=None, processor=None, memory=None, rows=_v2_rows())
    assert dom.id == -1  # an inactive domain has no ID even if ProcessID is stale
    assert dom.interfaces[0].bridge == "SW-GUID"


def test_build_domain_def_v1() -> None:
    ide0 = f"Microsoft:{G}\\IDE\\0"
    drive = f"Microsoft:{G}\\IDE\\0\\0\\D"
    port_path = (
        '\\\\HV01\\root\\virtualization:Msvm_SwitchPort.CreationClassName="Msvm_SwitchPort",'
        'Name="PORT",SystemCreationClassName="Msvm_VirtualSwitch",SystemName="SW1"'
    )
    v1 = "root/virtualization"
    rows = [
        row("Msvm_ResourceAllocationSettingData", InstanceID=ide0, ResourceType=5,
            ResourceSubType="Microsoft Emulated IDE Controller", Address="0"),
        row("Msvm_ResourceAllocationSettingData", InstanceID=drive, ResourceType=22,
            ResourceSubType="Microsoft Synthetic Disk Drive",
            Parent=format_path("Msvm_ResourceAllocationSettingData", {"InstanceID": ide0},
                               server="HV01", namespace=v1), Address="0"),
        row("Msvm_ResourceAllocationSettingData", InstanceID=drive[:-1] + "L", ResourceType=21,
            ResourceSubType="Microsoft Virtual Hard Disk",
            Parent=format_path("Msvm_ResourceAllocationSettingData", {"InstanceID": drive},
                               server="HV01", namespace=v1),
            Connection=["D:\\old.vhd"]),
        row("Msvm_SyntheticEthernetPortSettingData", InstanceID=f"Microsoft:{G}\\N",
            ResourceType=10,
            ResourceSubType="Microsoft Synthetic Ethernet Port", Address="00155D000001",
            Connection=[port_path]),
        row("Msvm_ResourceAllocationSettingData", InstanceID=f"Microsoft:{G}\\COM0",
            ResourceType=17,
            ResourceSubType="Microsoft Serial Port", ElementName="COM 1",
            Connection=["\\\\.\\pipe\\one"]),
    ]  # fmt: skip
    cs = row("Msvm_ComputerSystem", Name=G, ElementName="old", EnabledState=32768, ProcessID=9)
    dom = build_domain_def(
        "v1", cs=cs, vssd=None, processor=None, memory=None, rows=rows,
    )  # fmt: skip
    assert dom.id == 9  # paused is active
    assert [(d.target_dev, d.source, d.bus) for d in dom.disks] == [("hda", "D:\\old.vhd", "ide")]
    assert [(n.mac, n.bridge) for n in dom.interfaces] == [("00:15:5d:00:00:01", "SW1")]
    assert [(s.port, s.path) for s in dom.serials] == [(1, "\\\\.\\pipe\\one")]


def _result(value: int | None, job: bool = False) -> MethodResult:
    outputs: dict[str, object] = {}
    if job:
        outputs["Job"] = EPR.make("http://x/Msvm_ConcreteJob", {"InstanceID": "J1"})
    return MethodResult("M", value, outputs)  # type: ignore[arg-type]


def test_check_result() -> None:
    assert check_result(_result(0), "M") is False
    with pytest.raises(ProtocolError, match="without a ReturnValue"):
        check_result(_result(None), "M")
    assert check_result(_result(4096, job=True), "M") is True
    with pytest.raises(CimMethodError) as info:
        check_result(_result(32775), "RequestStateChange")
    assert info.value.return_value is ReturnCode.MSVM_INVALID_STATE
    assert info.value.method == "RequestStateChange"
    assert "MSVM_INVALID_STATE" in str(info.value)
    with pytest.raises(CimMethodError, match="no Job"):
        check_result(_result(4096), "M")
    with pytest.raises(CimMethodError) as info2:
        check_result(_result(77777), "M")
    assert info2.value.return_value == 77777
