"""libvirt domain XML and capabilities XML: the model, the writer and a hardened reader.

The writer emits what libvirt's Hyper-V driver prints for ``virsh dumpxml`` (hyperv_driver.c
``hypervDomainGetXMLDesc``, formatted by domain_conf.c ``virDomainDefFormatInternal``:
single-quoted attributes, two-space indentation), field by field:

* ``<memory>`` and ``<currentMemory>`` are both ``Msvm_MemorySettingData.VirtualQuantity`` (libvirt
  sets the memory total and ``cur_balloon`` from it); ``Limit`` is not printed (see
  :func:`format_domain`; ``dominfo`` shows it as "Max memory");
* ``<vcpu placement='static'>`` is the processor settings' VirtualQuantity;
* ``<on_poweroff>``, ``<on_reboot>`` and ``<on_crash>`` are all ``destroy``: the driver leaves
  the lifecycle actions at their zero value, VIR_DOMAIN_LIFECYCLE_ACTION_DESTROY;
* disks carry ``<source file=...>`` (``<source dev=...>`` with the host drive number for
  pass-through disks), a ``<target dev=...>`` computed like ``virIndexToDiskName`` and a drive
  ``<address>`` (``hypervDomainDefAppendDisk``; floppies get the all-zero address too);
* network adapters are ``<interface type='bridge'>`` with the MAC and the virtual switch's
  ``Name`` (its GUID) as the bridge; an adapter connected to no switch is left out
  (``hypervDomainDefParseEthernetAdapter``);
* COM ports are ``<serial type='pipe'>`` with the named pipe (``Connection[0]``) as
  ``<source path=...>`` (``hypervDomainDefParseSerial``).

Two additions libvirt's driver does not make, both valid domain XML: ``<os firmware='efi'>`` for
a generation 2 VM and ``arch='x86_64'`` on ``<os><type>``.  One deliberate difference: a COM port
with no pipe is ``<serial type='null'>`` where libvirt prints ``<source path='-1'/>``, a pipe
named ``-1`` that a later define would create.

The reader parses the same subset for ``define_xml`` and ``attach_device`` with a hardened lxml
parser (no entities, no DTD, no network), and raises :class:`ConfigError` on anything it cannot use.
"""

from __future__ import annotations

import re
import uuid as uuid_mod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, TypeAlias

from lxml import etree

from aiohyperv._exceptions import ConfigError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from ._types import NetworkInfo

__all__ = [
    "CapabilitiesDef",
    "ControllerDef",
    "DeviceDef",
    "DiskDef",
    "DomainDef",
    "InterfaceDef",
    "SerialDef",
    "disk_name",
    "format_capabilities",
    "format_domain",
    "format_network",
    "parse_device",
    "parse_domain",
]

DiskDevice: TypeAlias = Literal["disk", "cdrom", "floppy"]
DiskBus: TypeAlias = Literal["ide", "scsi", "fdc"]


@dataclass(slots=True, kw_only=True)
class DiskDef:
    """One ``<disk>``: a virtual hard disk, DVD image, floppy image or pass-through disk."""

    device: DiskDevice = "disk"
    source_type: Literal["file", "block"] = "file"
    source: str | None = None
    target_dev: str | None = None
    bus: DiskBus = "scsi"
    controller: int = 0
    bus_index: int = 0
    unit: int = 0


@dataclass(slots=True, kw_only=True)
class ControllerDef:
    """One ``<controller>``; Hyper-V shows its two IDE channels as one IDE controller."""

    type: Literal["ide", "scsi"]
    index: int = 0


@dataclass(slots=True, kw_only=True)
class InterfaceDef:
    """One ``<interface type='bridge'>``: a synthetic NIC, its MAC and its switch.

    ``bridge`` is the switch's ``Name`` (GUID) as read from Hyper-V, or the name or GUID a
    definition gives; None for an adapter connected to no switch.
    """

    mac: str | None = None
    bridge: str | None = None


@dataclass(slots=True, kw_only=True)
class SerialDef:
    """One ``<serial>``: COM port ``port``, connected to the named pipe ``path`` (or to nothing)."""

    port: int
    path: str | None = None


DeviceDef: TypeAlias = DiskDef | ControllerDef | InterfaceDef | SerialDef


@dataclass(slots=True, kw_only=True)
class DomainDef:
    """What a libvirt domain XML says about one Hyper-V VM.

    Attributes:
        name: the VM's ElementName.
        uuid: its GUID (Msvm_ComputerSystem.Name), lower-case; None in a new definition.
        id: ProcessID when running, else -1.
        memory_kib: ``<memory>``: the startup memory (VirtualQuantity) in KiB.
        current_memory_kib: ``<currentMemory>``: the same for a VM read from Hyper-V.
        max_memory_kib: ``<maxMemory>``: the dynamic memory limit (``Limit``) in KiB; 0 when
            not given.
        vcpus: number of virtual processors.
        generation: 1 (BIOS) or 2 (UEFI).
    """

    name: str
    uuid: str | None = None
    id: int = -1
    description: str | None = None
    memory_kib: int = 0
    current_memory_kib: int = 0
    max_memory_kib: int = 0
    vcpus: int = 1
    generation: int = 1
    arch: str = "x86_64"
    disks: list[DiskDef] = field(default_factory=list)
    controllers: list[ControllerDef] = field(default_factory=list)
    interfaces: list[InterfaceDef] = field(default_factory=list)
    serials: list[SerialDef] = field(default_factory=list)


def disk_name(index: int, prefix: str) -> str:
    """libvirt's ``virIndexToDiskName``: 0 -> ``sda``, 25 -> ``sdz``, 26 -> ``sdaa``."""
    if index < 0:
        raise ValueError(f"disk index {index} is negative")
    letters = ""
    i = index
    while True:
        letters = chr(ord("a") + i % 26) + letters
        i = i // 26 - 1
        if i < 0:
            break
    return prefix + letters


def disk_index(name: str) -> int:
    """Inverse of :func:`disk_name` for the letters after a two-letter prefix."""
    letters = name[2:]
    if not letters or not letters.isalpha() or not letters.islower():
        raise ConfigError(f"invalid disk target {name!r}")
    index = 0
    for ch in letters:
        index = index * 26 + (ord(ch) - ord("a") + 1)
    return index - 1


# -- writer --------------------------------------------------------------------------------------


def _attr(value: object) -> str:
    text = str(value)
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("'", "&apos;")
        .replace("\n", "&#10;")
    )


def _text(value: object) -> str:
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class _Writer:
    """A tiny writer in libvirt's virBuffer style: single quotes, two-space indentation."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.depth = 0

    @staticmethod
    def _open(tag: str, attrs: Sequence[tuple[str, object]]) -> str:
        parts = [tag] + [f"{k}='{_attr(v)}'" for k, v in attrs if v is not None]
        return " ".join(parts)

    def empty(self, tag: str, *attrs: tuple[str, object]) -> None:
        self.lines.append("  " * self.depth + f"<{self._open(tag, attrs)}/>")

    def leaf(self, tag: str, text: object, *attrs: tuple[str, object]) -> None:
        self.lines.append("  " * self.depth + f"<{self._open(tag, attrs)}>{_text(text)}</{tag}>")

    def start(self, tag: str, *attrs: tuple[str, object]) -> None:
        self.lines.append("  " * self.depth + f"<{self._open(tag, attrs)}>")
        self.depth += 1

    def end(self, tag: str) -> None:
        self.depth -= 1
        self.lines.append("  " * self.depth + f"</{tag}>")

    def blank(self) -> None:
        self.lines.append("")

    def result(self) -> str:
        return "\n".join(self.lines) + "\n"


def _write_disk(w: _Writer, disk: DiskDef) -> None:
    w.start("disk", ("type", disk.source_type), ("device", disk.device))
    if disk.source is not None:
        w.empty("source", ("file" if disk.source_type == "file" else "dev", disk.source))
    w.empty("target", ("dev", disk.target_dev), ("bus", disk.bus))
    # hyperv_driver.c hypervDomainDefParseVirtualExtent gives every disk a drive address,
    # floppies included (all zero).
    w.empty(
        "address",
        ("type", "drive"),
        ("controller", disk.controller),
        ("bus", disk.bus_index),
        ("target", 0),
        ("unit", disk.unit),
    )
    w.end("disk")


def format_domain(dom: DomainDef) -> str:
    """The domain XML ``virsh dumpxml`` prints for ``dom`` (see the module docstring).

    ``max_memory_kib`` (Hyper-V's ``Limit``) is not written.  libvirt's driver stores it in
    ``def->mem.max_memory``, and domain_conf.c ``virDomainDefFormatInternalSetRootName`` then
    prints ``<maxMemory unit='KiB'>`` with no ``slots`` attribute (it adds ``slots`` only when
    there are slots, and Hyper-V has none).  libvirt cannot read that element back: its schema
    (``domaincommon.rng``) requires ``slots``, and its parser refuses a maximum without a slot
    count ("both maximum memory size and memory slot count must be specified").  Leaving the
    element out keeps the XML valid; ``define`` then takes the limit from ``<memory>``.
    """
    w = _Writer()
    w.start("domain", ("type", "hyperv"), ("id", dom.id if dom.id >= 0 else None))
    w.leaf("name", dom.name)
    if dom.uuid:
        w.leaf("uuid", dom.uuid)
    if dom.description:
        w.leaf("description", dom.description)
    w.leaf("memory", dom.memory_kib, ("unit", "KiB"))
    w.leaf("currentMemory", dom.current_memory_kib or dom.memory_kib, ("unit", "KiB"))
    w.leaf("vcpu", dom.vcpus, ("placement", "static"))
    w.start("os", ("firmware", "efi" if dom.generation == 2 else None))
    w.leaf("type", "hvm", ("arch", dom.arch))
    w.end("os")
    w.empty("clock", ("offset", "utc"))
    # hypervDomainGetXMLDesc never sets the lifecycle actions: all keep the zero value, destroy.
    w.leaf("on_poweroff", "destroy")
    w.leaf("on_reboot", "destroy")
    w.leaf("on_crash", "destroy")
    w.start("devices")
    for disk in dom.disks:
        _write_disk(w, disk)
    for ctrl in dom.controllers:
        w.empty("controller", ("type", ctrl.type), ("index", ctrl.index))
    for nic in dom.interfaces:
        if nic.bridge is None:
            continue  # hypervDomainDefParseEthernetAdapter: not connected, not listed
        w.start("interface", ("type", "bridge"))
        if nic.mac:
            w.empty("mac", ("address", nic.mac))
        w.empty("source", ("bridge", nic.bridge))
        w.end("interface")
    for serial in dom.serials:
        w.start("serial", ("type", "pipe" if serial.path else "null"))
        if serial.path:
            w.empty("source", ("path", serial.path))
        w.empty("target", ("port", serial.port))
        w.end("serial")
    w.end("devices")
    w.end("domain")
    return w.result()


def format_network(net: NetworkInfo) -> str:
    """The network XML ``virsh net-dumpxml`` prints for a virtual switch.

    hyperv_network_driver.c ``hypervNetworkGetXMLDesc`` fills only the name, the UUID (the
    switch's Name) and forward type "none", which network_conf.c ``virNetworkDefFormatBuf``
    leaves out: the document is the name and the UUID.
    """
    w = _Writer()
    w.start("network")
    w.leaf("name", net.name)
    w.leaf("uuid", net.uuid)
    w.end("network")
    return w.result()


@dataclass(slots=True, kw_only=True)
class CapabilitiesDef:
    """Host facts for ``virsh capabilities``."""

    host_uuid: str | None
    arch: str = "x86_64"
    cpu_model: str | None = None
    cpu_vendor: str | None = None
    sockets: int = 1
    cores: int = 1
    threads: int = 1
    memory_kib: int | None = None


def format_capabilities(caps: CapabilitiesDef) -> str:
    """Capabilities XML in libvirt's layout: a host section, then i686 and x86_64 hvm guests."""
    w = _Writer()
    w.start("capabilities")
    w.blank()
    w.start("host")
    if caps.host_uuid:
        w.leaf("uuid", caps.host_uuid)
    w.start("cpu")
    w.leaf("arch", caps.arch)
    if caps.cpu_model:
        w.leaf("model", caps.cpu_model)
    if caps.cpu_vendor:
        w.leaf("vendor", caps.cpu_vendor)
    w.empty(
        "topology",
        ("sockets", caps.sockets),
        ("dies", 1),
        ("cores", caps.cores),
        ("threads", caps.threads),
    )
    w.end("cpu")
    w.empty("power_management")
    w.empty("iommu", ("support", "no"))
    if caps.memory_kib is not None:
        w.start("topology")
        w.start("cells", ("num", 1))
        w.start("cell", ("id", 0))
        w.leaf("memory", caps.memory_kib, ("unit", "KiB"))
        w.end("cell")
        w.end("cells")
        w.end("topology")
    w.end("host")
    for arch, wordsize in (("i686", 32), ("x86_64", 64)):
        w.blank()
        w.start("guest")
        w.leaf("os_type", "hvm")
        w.start("arch", ("name", arch))
        w.leaf("wordsize", wordsize)
        w.empty("domain", ("type", "hyperv"))
        w.end("arch")
        w.end("guest")
    w.blank()
    w.end("capabilities")
    return w.result()


# -- reader --------------------------------------------------------------------------------------

_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    huge_tree=False,
    load_dtd=False,
    dtd_validation=False,
    remove_comments=True,
)
_MAX_XML = 1024 * 1024
_UNITS = {
    "b": 1,
    "bytes": 1,
    "kb": 1000,
    "k": 1024,
    "kib": 1024,
    "mb": 1000**2,
    "m": 1024**2,
    "mib": 1024**2,
    "gb": 1000**3,
    "g": 1024**3,
    "gib": 1024**3,
    "tb": 1000**4,
    "t": 1024**4,
    "tib": 1024**4,
}
_MAC_RE = re.compile(r"[0-9a-fA-F]{2}([:-]?)[0-9a-fA-F]{2}(\1[0-9a-fA-F]{2}){4}")


def _parse(text: str | bytes, what: str) -> etree._Element:
    if isinstance(text, str):
        text = text.encode("utf-8")
    if not text.strip():
        raise ConfigError(f"{what} is empty")
    if len(text) > _MAX_XML:
        raise ConfigError(f"{what} is larger than {_MAX_XML} bytes")
    try:
        root = etree.fromstring(text, _PARSER)
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise ConfigError(f"{what} is not well-formed XML: {exc}") from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise ConfigError(f"{what} has a DOCTYPE declaration, which is not allowed")
    return root


def _int(text: str | None, what: str, *, minimum: int = 0) -> int:
    if text is None or not text.strip():
        raise ConfigError(f"{what} is missing")
    try:
        value = int(text.strip(), 10)
    except ValueError:
        raise ConfigError(f"{what} {text.strip()!r} is not an integer") from None
    if value < minimum:
        raise ConfigError(f"{what} {value} is less than {minimum}")
    return value


def _memory_kib(elem: etree._Element | None, what: str) -> int:
    if elem is None:
        return 0
    unit = (elem.get("unit") or "KiB").lower()
    factor = _UNITS.get(unit)
    if factor is None:
        raise ConfigError(f"{what}: unknown unit {elem.get('unit')!r}")
    value = _int(elem.text, what)
    return -(-value * factor // 1024)


def _parse_disk(elem: etree._Element) -> DiskDef:
    device = elem.get("device", "disk")
    if device not in ("disk", "cdrom", "floppy"):
        raise ConfigError(f"unsupported disk device {device!r}")
    source_type = elem.get("type", "file")
    if source_type not in ("file", "block"):
        raise ConfigError(f"unsupported disk type {source_type!r}; expected file or block")
    src = elem.find("source")
    source = None
    if src is not None:
        source = src.get("file") if source_type == "file" else src.get("dev")
    target = elem.find("target")
    target_dev = target.get("dev") if target is not None else None
    bus = target.get("bus") if target is not None else None
    if bus is None:
        if device == "floppy":
            bus = "fdc"
        elif target_dev and target_dev.startswith("hd"):
            bus = "ide"
        else:
            bus = "scsi"
    if bus not in ("ide", "scsi", "fdc"):
        raise ConfigError(f"unsupported disk bus {bus!r}; Hyper-V has ide, scsi and fdc")
    disk = DiskDef(
        device=device,  # type: ignore[arg-type]  # checked above
        source_type=source_type,  # type: ignore[arg-type]  # checked above
        source=source,
        target_dev=target_dev,
        bus=bus,  # type: ignore[arg-type]  # checked above
    )
    addr = elem.find("address")
    if addr is not None and addr.get("type", "drive") == "drive":
        disk.controller = _int(addr.get("controller", "0"), "disk address controller")
        disk.bus_index = _int(addr.get("bus", "0"), "disk address bus")
        disk.unit = _int(addr.get("unit", "0"), "disk address unit")
    elif target_dev and bus in ("ide", "scsi"):
        # No <address>: derive it from the target name the way libvirt assigns drive addresses.
        index = disk_index(target_dev)
        if bus == "ide":
            disk.bus_index, disk.unit = divmod(index, 2)
        else:
            disk.controller, disk.unit = divmod(index, 64)
    if bus == "ide" and (disk.bus_index > 1 or disk.unit > 1):
        raise ConfigError(f"IDE address bus={disk.bus_index} unit={disk.unit} out of range")
    if bus == "scsi" and (disk.controller > 3 or disk.unit > 63):
        raise ConfigError(
            f"SCSI address controller={disk.controller} unit={disk.unit} out of range"
        )
    if disk.source is None and device == "disk":
        raise ConfigError("a disk needs a <source file=...> or <source dev=...>")
    return disk


def _parse_controller(elem: etree._Element) -> ControllerDef:
    ctype = elem.get("type")
    if ctype not in ("ide", "scsi"):
        raise ConfigError(f"unsupported controller type {ctype!r}; Hyper-V has ide and scsi")
    model = elem.get("model")
    if ctype == "scsi" and model not in (None, "auto", "default", "hv-scsi"):
        raise ConfigError(f"unsupported SCSI controller model {model!r}")
    return ControllerDef(type=ctype, index=_int(elem.get("index", "0"), "controller index"))  # type: ignore[arg-type]  # checked above


def _parse_interface(elem: etree._Element) -> InterfaceDef:
    itype = elem.get("type", "bridge")
    if itype != "bridge":
        raise ConfigError(f"unsupported interface type {itype!r}; Hyper-V NICs are type='bridge'")
    mac_elem = elem.find("mac")
    mac = mac_elem.get("address") if mac_elem is not None else None
    if mac is not None and not _MAC_RE.fullmatch(mac):
        raise ConfigError(f"invalid MAC address {mac!r}")
    src = elem.find("source")
    bridge = src.get("bridge") if src is not None else None
    if not bridge:
        raise ConfigError("an interface needs <source bridge='switch name or GUID'/>")
    return InterfaceDef(mac=mac.lower().replace("-", ":") if mac else None, bridge=bridge)


def _parse_serial(elem: etree._Element) -> SerialDef:
    stype = elem.get("type", "pipe")
    if stype not in ("pipe", "null"):
        raise ConfigError(
            f"unsupported serial type {stype!r}; Hyper-V COM ports are pipes (or 'null')"
        )
    target = elem.find("target")
    port = _int(target.get("port") if target is not None else None, "serial target port", minimum=1)
    if port > 2:
        raise ConfigError(f"serial port {port}: Hyper-V has COM 1 and COM 2")
    src = elem.find("source")
    path = src.get("path") if src is not None and stype == "pipe" else None
    return SerialDef(port=port, path=path or None)


_DEVICE_PARSERS: dict[str, Callable[[etree._Element], DeviceDef]] = {
    "disk": _parse_disk,
    "controller": _parse_controller,
    "interface": _parse_interface,
    "serial": _parse_serial,
}


def parse_device(text: str | bytes) -> DeviceDef:
    """Parse one device element (``virsh attach-device``).

    Raises:
        ConfigError: not XML, or not a disk/controller/interface/serial Hyper-V can take.
    """
    root = _parse(text, "device XML")
    tag = str(root.tag)
    parser = _DEVICE_PARSERS.get(tag)
    if parser is None:
        raise ConfigError(f"attaching <{tag}> devices is not supported")
    return parser(root)


def parse_domain(text: str | bytes) -> DomainDef:
    """Parse a domain XML for ``define_xml``.

    Raises:
        ConfigError: not XML, not a ``<domain>``, wrong type, or values Hyper-V cannot take.
    """
    root = _parse(text, "domain XML")
    if root.tag != "domain":
        raise ConfigError(f"expected a <domain> element, got <{root.tag!s}>")
    dtype = root.get("type")
    if dtype not in (None, "hyperv"):
        raise ConfigError(f"domain type {dtype!r} is not supported; expected 'hyperv'")
    name = (root.findtext("name") or "").strip()
    if not name:
        raise ConfigError("the domain needs a <name>")
    uuid_text = root.findtext("uuid")
    uuid: str | None = None
    if uuid_text and uuid_text.strip():
        try:
            uuid = str(uuid_mod.UUID(uuid_text.strip()))
        except ValueError:
            raise ConfigError(f"invalid domain uuid {uuid_text.strip()!r}") from None
    memory = _memory_kib(root.find("memory"), "<memory>")
    current = _memory_kib(root.find("currentMemory"), "<currentMemory>")
    maximum = _memory_kib(root.find("maxMemory"), "<maxMemory>")
    vcpu_elem = root.find("vcpu")
    vcpus = _int(vcpu_elem.text, "<vcpu>", minimum=1) if vcpu_elem is not None else 1
    os_elem = root.find("os")
    generation = 1
    arch = "x86_64"
    if os_elem is not None:
        if os_elem.get("firmware") == "efi" or os_elem.find("loader[@type='pflash']") is not None:
            generation = 2
        type_elem = os_elem.find("type")
        if type_elem is not None:
            if (type_elem.text or "hvm").strip() != "hvm":
                raise ConfigError(f"os type {type_elem.text!r} is not supported; expected hvm")
            arch = type_elem.get("arch", "x86_64")
            if arch not in ("x86_64", "i686"):
                raise ConfigError(f"architecture {arch!r} is not supported")
    dom = DomainDef(
        name=name,
        uuid=uuid,
        description=root.findtext("description"),
        memory_kib=memory,
        current_memory_kib=current or memory,
        max_memory_kib=maximum,
        vcpus=vcpus,
        generation=generation,
        arch=arch,
    )
    devices = root.find("devices")
    if devices is not None:
        for elem in devices:
            if not isinstance(elem.tag, str):
                continue
            if elem.tag == "disk":
                dom.disks.append(_parse_disk(elem))
            elif elem.tag == "controller":
                dom.controllers.append(_parse_controller(elem))
            elif elem.tag == "interface":
                dom.interfaces.append(_parse_interface(elem))
            elif elem.tag == "serial":
                dom.serials.append(_parse_serial(elem))
            # Other devices (console, graphics, input...) have no Hyper-V setting to write.
    return dom
