"""Domain XML and capabilities XML: writer layout, reader, round trips and hostile input."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from typing import TYPE_CHECKING

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

if TYPE_CHECKING:
    from pathlib import Path

    from aiohyperv.hyperv import HyperVConnection


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


# -- what libvirt's driver prints, and reading it back ---------------------------------------------


def test_format_domain_matches_libvirt_field_by_field() -> None:
    """The whole document for a small VM, written out from hyperv_driver.c
    ``hypervDomainGetXMLDesc`` and domain_conf.c ``virDomainDefFormatInternalSetRootName``."""
    dom = DomainDef(
        name="db",
        uuid="6b4c6a4e-93a7-4d8e-9b71-1d1a2c3b4d5e",
        memory_kib=2097152,
        current_memory_kib=2097152,
        max_memory_kib=8388608,
        vcpus=2,
        disks=[
            DiskDef(source="C:\\VMs\\db.vhdx", target_dev="hda", bus="ide"),
            DiskDef(device="floppy", source="C:\\f.vfd", target_dev="fda", bus="fdc"),
        ],
        controllers=[ControllerDef(type="ide")],
        interfaces=[
            InterfaceDef(mac="00:15:5d:01:02:03", bridge="C08CB7B8-9B3C-408E-8E30-5E16A3AEB444"),
            InterfaceDef(mac="00:15:5d:01:02:04", bridge=None),
        ],
        serials=[SerialDef(port=1, path="\\\\.\\pipe\\db1"), SerialDef(port=2)],
    )
    assert format_domain(dom) == (
        "<domain type='hyperv'>\n"
        "  <name>db</name>\n"
        "  <uuid>6b4c6a4e-93a7-4d8e-9b71-1d1a2c3b4d5e</uuid>\n"
        "  <memory unit='KiB'>2097152</memory>\n"
        "  <currentMemory unit='KiB'>2097152</currentMemory>\n"
        "  <vcpu placement='static'>2</vcpu>\n"
        "  <os>\n"
        "    <type arch='x86_64'>hvm</type>\n"
        "  </os>\n"
        "  <clock offset='utc'/>\n"
        "  <on_poweroff>destroy</on_poweroff>\n"
        "  <on_reboot>destroy</on_reboot>\n"
        "  <on_crash>destroy</on_crash>\n"
        "  <devices>\n"
        "    <disk type='file' device='disk'>\n"
        "      <source file='C:\\VMs\\db.vhdx'/>\n"
        "      <target dev='hda' bus='ide'/>\n"
        "      <address type='drive' controller='0' bus='0' target='0' unit='0'/>\n"
        "    </disk>\n"
        "    <disk type='file' device='floppy'>\n"
        "      <source file='C:\\f.vfd'/>\n"
        "      <target dev='fda' bus='fdc'/>\n"
        "      <address type='drive' controller='0' bus='0' target='0' unit='0'/>\n"
        "    </disk>\n"
        "    <controller type='ide' index='0'/>\n"
        "    <interface type='bridge'>\n"
        "      <mac address='00:15:5d:01:02:03'/>\n"
        "      <source bridge='C08CB7B8-9B3C-408E-8E30-5E16A3AEB444'/>\n"
        "    </interface>\n"
        "    <serial type='pipe'>\n"
        "      <source path='\\\\.\\pipe\\db1'/>\n"
        "      <target port='1'/>\n"
        "    </serial>\n"
        "    <serial type='null'>\n"
        "      <target port='2'/>\n"
        "    </serial>\n"
        "  </devices>\n"
        "</domain>\n"
    )


def test_parse_reads_max_memory_and_null_serials() -> None:
    dom = parse_domain(
        "<domain type='hyperv'><name>m</name>"
        "<maxMemory slots='1' unit='GiB'>8</maxMemory><memory unit='GiB'>2</memory>"
        "<devices><serial type='null'><target port='2'/></serial>"
        "<serial type='pipe'><source path='\\\\.\\pipe\\a'/><target port='1'/></serial>"
        "</devices></domain>"
    )
    assert (dom.max_memory_kib, dom.memory_kib, dom.current_memory_kib) == (
        8 * 1024**2, 2 * 1024**2, 2 * 1024**2
    )  # fmt: skip
    assert [(s.port, s.path) for s in dom.serials] == [(2, None), (1, "\\\\.\\pipe\\a")]
    with pytest.raises(ConfigError, match="unsupported serial type 'tcp'"):
        parse_domain(
            "<domain><name>m</name><devices><serial type='tcp'><target port='1'/></serial>"
            "</devices></domain>"
        )


async def test_dumpxml_of_every_simulated_vm_reads_back(conn: HyperVConnection) -> None:
    """What dumpxml prints, our define parser takes, and writing it again gives the same XML."""
    domains = await conn.list_domains()
    assert domains
    for dom in domains:
        xml = await dom.xml_desc()
        again = format_domain(parse_domain(xml))
        # The reader drops only the live ID (a definition has none).
        expected = xml.replace(f" id='{dom.id}'", "", 1) if dom.id >= 0 else xml
        assert again == expected


_VALIDATE = shutil.which("virt-xml-validate")
_XMLLINT = shutil.which("xmllint")


@pytest.mark.skipif(
    _VALIDATE is None or _XMLLINT is None,
    reason="virt-xml-validate (Debian: libvirt-clients) and xmllint (libxml2-utils) not installed",
)
async def test_dumpxml_validates_against_libvirts_schema(
    conn: HyperVConnection, tmp_path: Path
) -> None:
    """libvirt's own RelaxNG schema (``virt-xml-validate FILE domain``) accepts every dumpxml."""
    assert _VALIDATE is not None
    for dom in await conn.list_domains():
        path = tmp_path / f"{dom.guid}.xml"
        path.write_text(await dom.xml_desc(), encoding="utf-8")
        proc = await asyncio.create_subprocess_exec(
            _VALIDATE,
            str(path),
            "domain",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await proc.communicate()
        assert proc.returncode == 0, out.decode(errors="replace")


@pytest.mark.skipif(
    _VALIDATE is None or _XMLLINT is None,
    reason="virt-xml-validate (Debian: libvirt-clients) and xmllint (libxml2-utils) not installed",
)
def test_virt_xml_validate_can_fail(tmp_path: Path) -> None:
    """The schema check above is a real check: a slot-less <maxMemory> (what libvirt's driver
    itself prints for Limit) is refused by the schema."""
    assert _VALIDATE is not None
    xml = format_domain(DomainDef(name="x", memory_kib=1024, current_memory_kib=1024))
    bad = xml.replace("  <memory", "  <maxMemory unit='KiB'>4096</maxMemory>\n  <memory")
    path = tmp_path / "bad.xml"
    path.write_text(bad, encoding="utf-8")
    result = subprocess.run(
        [_VALIDATE, str(path), "domain"], capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    path.write_text(xml, encoding="utf-8")
    result = subprocess.run(
        [_VALIDATE, str(path), "domain"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
