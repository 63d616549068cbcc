"""Domain XML and capabilities XML: writer layout, reader, round trips and hostile input."""

from __future__ import annotations

import pytest
from lxml import etree

from aiohyperv._exceptions import ConfigError
from aiohyperv.hyperv._domxml import (
    CapabilitiesDef,
    ControllerDef,
    DiskDef,
    DomainDef,
    InterfaceDef,
    SerialDef,
    disk_index,
    disk_name,
    format_capabilities,
    format_domain,
    parse_device,
    parse_domain,
)


def _sample() -> DomainDef:
    return DomainDef(
        name="web 'prod' & <co>",
        uuid="6b4c6a4e-93a7-4d8e-9b71-1d1a2c3b4d5e",
        id=4242,
        description="notes",
        memory_kib=4194304,
        current_memory_kib=2097152,
        vcpus=4,
        generation=2,
        disks=[
            DiskDef(source="C:\\VMs\\web.vhdx", target_dev="sda", bus="scsi", unit=0),
            DiskDef(
                device="cdrom", source="D:\\iso\\x.iso", target_dev="hdc", bus="ide", bus_index=1
            ),
        ],
        controllers=[ControllerDef(type="ide"), ControllerDef(type="scsi", index=0)],
        interfaces=[InterfaceDef(mac="00:15:5d:01:02:03", bridge="External")],
        serials=[SerialDef(port=1, path="\\\\.\\pipe\\com1")],
    )


def test_format_domain_layout() -> None:
    xml = format_domain(_sample())
    lines = xml.splitlines()
    assert lines[0] == "<domain type='hyperv' id='4242'>"
    assert lines[1] == "  <name>web 'prod' &amp; &lt;co&gt;</name>"
    assert "  <memory unit='KiB'>4194304</memory>" in lines
    assert "  <currentMemory unit='KiB'>2097152</currentMemory>" in lines
    assert "  <vcpu placement='static'>4</vcpu>" in lines
    assert "  <os firmware='efi'>" in lines
    assert "    <type arch='x86_64'>hvm</type>" in lines
    assert "      <source file='C:\\VMs\\web.vhdx'/>" in lines
    assert "      <target dev='sda' bus='scsi'/>" in lines
    assert "      <address type='drive' controller='0' bus='1' target='0' unit='0'/>" in lines
    assert "      <mac address='00:15:5d:01:02:03'/>" in lines
    assert "      <source bridge='External'/>" in lines
    assert "    <serial type='pipe'>" in lines
    assert lines[-1] == "</domain>"
    # It is well-formed XML, and names survive escaping.
    root = etree.fromstring(xml.encode())
    assert root.findtext("name") == "web 'prod' & <co>"


def test_inactive_domain_has_no_id_and_gen1_no_firmware() -> None:
    xml = format_domain(DomainDef(name="x", memory_kib=1024, current_memory_kib=1024))
    assert xml.startswith("<domain type='hyperv'>\n")
    assert "  <os>\n" in xml


def test_round_trip() -> None:
    original = _sample()
    parsed = parse_domain(format_domain(original))
    assert parsed.name == original.name
    assert parsed.uuid == original.uuid
    assert parsed.memory_kib == original.memory_kib
    assert parsed.current_memory_kib == original.current_memory_kib
    assert parsed.vcpus == 4
    assert parsed.generation == 2
    assert parsed.disks == original.disks
    assert parsed.controllers == original.controllers
    assert parsed.interfaces == original.interfaces
    assert parsed.serials == original.serials


def test_parse_units_and_defaults() -> None:
    dom = parse_domain(
        "<domain type='hyperv'><name>a</name><memory unit='GiB'>2</memory>"
        "<vcpu>2</vcpu><devices><disk type='file' device='disk'>"
        "<source file='x.vhdx'/><target dev='sdb'/></disk></devices></domain>"
    )
    assert dom.memory_kib == 2 * 1024 * 1024
    assert dom.current_memory_kib == dom.memory_kib
    assert dom.disks[0].bus == "scsi" and dom.disks[0].unit == 1
    dom = parse_domain("<domain><name>b</name><memory unit='MB'>1000</memory></domain>")
    assert dom.memory_kib == 976563  # 10**9 bytes rounded up to KiB


@pytest.mark.parametrize(
    ("xml", "match"),
    [
        ("", "empty"),
        ("<domain>", "well-formed"),
        ("<domain type='kvm'><name>a</name></domain>", "kvm"),
        ("<domain><uuid>nope</uuid><name>a</name></domain>", "uuid"),
        ("<domain/>", "name"),
        ("<foo/>", "domain"),
        ("<domain><name>a</name><memory unit='parsec'>1</memory></domain>", "unit"),
        ("<domain><name>a</name><vcpu>0</vcpu></domain>", "vcpu"),
        ("<domain><name>a</name><vcpu>x</vcpu></domain>", "integer"),
        (
            '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e "x">]><domain><name>&e;</name></domain>',
            "DOCTYPE|entity|Entity",
        ),
        (
            "<domain><name>a</name><devices><interface type='network'/></devices></domain>",
            "bridge",
        ),
    ],
)
def test_parse_domain_rejects(xml: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        parse_domain(xml)


def test_parse_refuses_external_entities(tmp_path: object) -> None:
    xml = (
        '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        "<domain><name>&x;</name></domain>"
    )
    with pytest.raises(ConfigError):
        parse_domain(xml)


def test_parse_device_kinds() -> None:
    disk = parse_device(
        "<disk type='file' device='disk'><source file='C:\\a.vhdx'/>"
        "<target dev='hdb' bus='ide'/>"
        "<address type='drive' controller='0' bus='0' unit='1'/></disk>"
    )
    assert isinstance(disk, DiskDef) and disk.bus == "ide" and disk.unit == 1
    nic = parse_device(
        "<interface type='bridge'><mac address='00-15-5D-AA-BB-CC'/>"
        "<source bridge='sw'/></interface>"
    )
    assert nic == InterfaceDef(mac="00:15:5d:aa:bb:cc", bridge="sw")
    ctrl = parse_device("<controller type='scsi' index='1'/>")
    assert ctrl == ControllerDef(type="scsi", index=1)
    serial = parse_device(
        "<serial type='pipe'><source path='\\\\.\\pipe\\x'/><target port='2'/></serial>"
    )
    assert serial == SerialDef(port=2, path="\\\\.\\pipe\\x")
    with pytest.raises(ConfigError, match="graphics"):
        parse_device("<graphics type='vnc'/>")
    with pytest.raises(ConfigError, match="MAC"):
        parse_device("<interface type='bridge'><mac address='zz'/><source bridge='s'/></interface>")
    with pytest.raises(ConfigError, match="COM"):
        parse_device("<serial type='pipe'><target port='3'/></serial>")
    with pytest.raises(ConfigError, match="out of range"):
        parse_device(
            "<disk><source file='a'/><target dev='hda' bus='ide'/>"
            "<address type='drive' unit='5'/></disk>"
        )


@pytest.mark.parametrize(
    ("index", "name"), [(0, "sda"), (25, "sdz"), (26, "sdaa"), (701, "sdzz"), (702, "sdaaa")]
)
def test_disk_names(index: int, name: str) -> None:
    assert disk_name(index, "sd") == name
    assert disk_index(name) == index


def test_capabilities_layout() -> None:
    xml = format_capabilities(
        CapabilitiesDef(
            host_uuid="4c4c4544-0000-1000-8000-b7c04f4d4d31",
            cpu_model="Intel Xeon Gold 6230",
            sockets=2,
            cores=20,
            threads=2,
            memory_kib=1024,
        )
    )
    root = etree.fromstring(xml.encode())
    assert root.tag == "capabilities"
    assert root.findtext("host/uuid") == "4c4c4544-0000-1000-8000-b7c04f4d4d31"
    assert root.findtext("host/cpu/arch") == "x86_64"
    assert root.findtext("host/cpu/model") == "Intel Xeon Gold 6230"
    topo = root.find("host/cpu/topology")
    assert topo is not None and topo.get("sockets") == "2" and topo.get("threads") == "2"
    guests = root.findall("guest")
    assert [g.find("arch").get("name") for g in guests] == ["i686", "x86_64"]  # type: ignore[union-attr]
    assert all(g.findtext("os_type") == "hvm" for g in guests)
    assert all(g.find("arch/domain").get("type") == "hyperv" for g in guests)  # type: ignore[union-attr]
    assert "\n\n  <host>" in xml
