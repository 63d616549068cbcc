"""From settings instances to a :class:`DomainDef`, and from device definitions to settings.

Pure functions over :class:`CimInstance` lists, so the XML a host produces can be tested without
a host.  Device kinds are recognised by ``ResourceSubType`` (``Microsoft:Hyper-V:Synthetic Disk
Drive`` in v2, ``Microsoft Synthetic Disk Drive`` in v1) because the two namespaces number
``ResourceType`` differently: v1 follows the old CIM 2.x list (21 storage extent, 22 disk,
17 serial port), v2 the DMTF 2.22+ one (31 logical disk, 17 disk drive, 21 serial port).

The storage walk follows libvirt's ``hypervDomainDefParseStorage``: controllers first (Hyper-V
shows the PIIX4's two IDE channels as two controllers with Address ``0``/``1``; they become one
libvirt IDE controller), then disk images whose ``Parent`` is a drive whose ``Parent`` is a
controller; target names come from libvirt's ``virIndexToDiskName`` (SCSI ``sd`` + 64 per
controller, IDE ``hd`` + 2 per channel).
"""

from __future__ import annotations

import uuid as uuid_mod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TypeAlias

from aiohyperv._exceptions import ProtocolError
from aiohyperv._log import logger

from ._domxml import ControllerDef, DiskDef, DomainDef, InterfaceDef, SerialDef, disk_name
from ._enums import map_enabled_state
from ._paths import parse_path

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from aiohyperv.cim import CimInstance

    from ._enums import NamespaceVersion

__all__ = [
    "RESOURCE_TYPES",
    "SUBTYPES",
    "Kind",
    "build_domain_def",
    "classify",
    "format_mac",
    "host_resource",
    "row_id",
]

Kind: TypeAlias = Literal[
    "ide_controller",
    "scsi_controller",
    "disk_drive",
    "physical_disk",
    "dvd_drive",
    "floppy_drive",
    "vhd",
    "iso",
    "vfd",
    "serial",
    "nic",
    "nic_connection",
    "other",
]

_V2 = "Microsoft:Hyper-V:"
_V1 = "Microsoft "

#: ResourceSubType of each device kind, per namespace.
SUBTYPES: dict[NamespaceVersion, dict[Kind, str]] = {
    "v2": {
        "ide_controller": _V2 + "Emulated IDE Controller",
        "scsi_controller": _V2 + "Synthetic SCSI Controller",
        "disk_drive": _V2 + "Synthetic Disk Drive",
        "physical_disk": _V2 + "Physical Disk Drive",
        "dvd_drive": _V2 + "Synthetic DVD Drive",
        "floppy_drive": _V2 + "Synthetic Diskette Drive",
        "vhd": _V2 + "Virtual Hard Disk",
        "iso": _V2 + "Virtual CD/DVD Disk",
        "vfd": _V2 + "Virtual Floppy Disk",
        "serial": _V2 + "Serial Port",
        "nic": _V2 + "Synthetic Ethernet Port",
        "nic_connection": _V2 + "Ethernet Connection",
    },
    "v1": {
        "ide_controller": _V1 + "Emulated IDE Controller",
        "scsi_controller": _V1 + "Synthetic SCSI Controller",
        "disk_drive": _V1 + "Synthetic Disk Drive",
        "physical_disk": _V1 + "Physical Disk Drive",
        "dvd_drive": _V1 + "Synthetic DVD Drive",
        "floppy_drive": _V1 + "Synthetic Diskette Drive",
        "vhd": _V1 + "Virtual Hard Disk",
        "iso": _V1 + "Virtual CD/DVD Disk",
        "vfd": _V1 + "Virtual Floppy Disk",
        "serial": _V1 + "Serial Port",
        "nic": _V1 + "Synthetic Ethernet Port",
        "nic_connection": _V1 + "Ethernet Connection",
    },
}

#: ResourceType of each kind, per namespace (v1: CIM 2.x numbering; v2: DMTF 2.22+).
RESOURCE_TYPES: dict[NamespaceVersion, dict[Kind, int]] = {
    "v2": {
        "ide_controller": 5,
        "scsi_controller": 6,
        "disk_drive": 17,
        "physical_disk": 17,
        "dvd_drive": 16,
        "floppy_drive": 14,
        "vhd": 31,
        "iso": 31,
        "vfd": 31,
        "serial": 21,
        "nic": 10,
        "nic_connection": 33,
    },
    "v1": {
        "ide_controller": 5,
        "scsi_controller": 6,
        "disk_drive": 22,
        "physical_disk": 22,
        "dvd_drive": 16,
        "floppy_drive": 14,
        "vhd": 21,
        "iso": 21,
        "vfd": 21,
        "serial": 17,
        "nic": 10,
        "nic_connection": 33,
    },
}

# Keyword -> kind, most specific first; matched against the subtype without its prefix.
_KEYWORDS: tuple[tuple[str, Kind], ...] = (
    ("ide controller", "ide_controller"),
    ("scsi controller", "scsi_controller"),
    ("physical disk drive", "physical_disk"),
    ("disk drive", "disk_drive"),
    ("dvd drive", "dvd_drive"),
    ("cd drive", "dvd_drive"),
    ("diskette drive", "floppy_drive"),
    ("floppy drive", "floppy_drive"),
    ("virtual hard disk", "vhd"),
    ("cd/dvd disk", "iso"),
    ("floppy disk", "vfd"),
    ("serial", "serial"),
    ("com port", "serial"),
    ("ethernet port", "nic"),
    ("ethernet connection", "nic_connection"),
)
# Fallback by ResourceType when a host leaves ResourceSubType empty.
_BY_TYPE: dict[NamespaceVersion, dict[int, Kind]] = {
    "v2": {5: "ide_controller", 6: "scsi_controller", 17: "disk_drive", 16: "dvd_drive",
           14: "floppy_drive", 31: "vhd", 21: "serial", 10: "nic", 33: "nic_connection"},
    "v1": {5: "ide_controller", 6: "scsi_controller", 22: "disk_drive", 16: "dvd_drive",
           14: "floppy_drive", 21: "vhd", 17: "serial", 10: "nic"},
}  # fmt: skip


def classify(namespace: NamespaceVersion, row: CimInstance) -> Kind:
    """The device kind of one settings row."""
    subtype = (row.get_str("ResourceSubType") or "").lower()
    if subtype:
        for keyword, kind in _KEYWORDS:
            if keyword in subtype:
                return kind
    try:
        rtype = row.get_int("ResourceType")
    except ProtocolError:
        rtype = None
    if rtype is not None:
        return _BY_TYPE[namespace].get(rtype, "other")
    return "other"


def row_id(row: CimInstance) -> str | None:
    """A settings row's InstanceID."""
    return row.get_str("InstanceID")


def host_resource(row: CimInstance) -> list[str]:
    """``HostResource`` (v2 SASD/EPASD) or ``Connection`` (v1 RASD, serial ports)."""
    values = row.get_list("HostResource")
    return values if values else row.get_list("Connection")


def _parent_id(row: CimInstance) -> str | None:
    parent = row.get_str("Parent")
    if not parent:
        return None
    path = parse_path(parent)
    if path is None:
        return None
    return path.keys.get("InstanceID")


def format_mac(address: str | None) -> str | None:
    """``00155D010203`` (how Hyper-V stores MACs) -> ``00:15:5d:01:02:03``."""
    if not address:
        return None
    hexdigits = "".join(ch for ch in address if ch not in ":-").lower()
    if len(hexdigits) != 12 or any(ch not in "0123456789abcdef" for ch in hexdigits):
        return None
    return ":".join(hexdigits[i : i + 2] for i in range(0, 12, 2))


def _int_or(text: str | None, default: int) -> int:
    if text is None:
        return default
    text = text.strip()
    return int(text) if text.isdigit() else default


@dataclass(slots=True)
class _Storage:
    ide_channels: dict[int, str]  # channel number -> InstanceID
    scsi: list[str]  # InstanceIDs in order


def _uuid_text(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return str(uuid_mod.UUID(name))
    except ValueError:
        return name.lower()


def build_domain_def(
    namespace: NamespaceVersion,
    *,
    cs: CimInstance,
    vssd: CimInstance | None,
    processor: CimInstance | None,
    memory: CimInstance | None,
    rows: Iterable[CimInstance],
    drive_numbers: Mapping[str, str] | None = None,
) -> DomainDef:
    """Assemble the libvirt view of one VM from its settings.

    Args:
        namespace: ``"v1"`` or ``"v2"``.
        cs: the Msvm_ComputerSystem.
        vssd: its current Msvm_VirtualSystemSettingData.
        processor: its Msvm_ProcessorSettingData.
        memory: its Msvm_MemorySettingData.
        rows: every other settings row (RASD, SASD, serial, NIC settings), any order;
            duplicates (the same InstanceID from two queries) are ignored.
        drive_numbers: pass-through disk HostResource path -> host drive number.
    """
    state = map_enabled_state(namespace, cs.get_int("EnabledState"))
    notes = vssd.get_list("Notes") if vssd is not None else []
    subtype = (vssd.get_str("VirtualSystemSubType") or "") if vssd is not None else ""
    startup_kib = (memory.get_int("VirtualQuantity") or 0) * 1024 if memory is not None else 0
    dom = DomainDef(
        name=cs.get_str("ElementName") or "",
        uuid=_uuid_text(cs.get_str("Name")),
        id=(cs.get_int("ProcessID") or -1) if state.active else -1,
        description="\n\n".join(n for n in notes if n) or None,
        # hyperv_driver.c hypervDomainGetXMLDesc: the memory total and cur_balloon are both
        # VirtualQuantity, max_memory is Limit (all MiB -> KiB).
        memory_kib=startup_kib,
        current_memory_kib=startup_kib,
        max_memory_kib=(memory.get_int("Limit") or 0) * 1024 if memory is not None else 0,
        vcpus=(processor.get_int("VirtualQuantity") or 1) if processor is not None else 1,
        generation=2 if subtype.endswith(":2") else 1,
    )
    by_id: dict[str, CimInstance] = {}
    ordered: list[CimInstance] = []
    for row in rows:
        iid = row_id(row)
        if iid is None or iid in by_id:
            continue
        by_id[iid] = row
        ordered.append(row)
    kinds = {row_id(r): classify(namespace, r) for r in ordered}
    storage = _storage_controllers(ordered, kinds, dom)
    _disks(namespace, ordered, kinds, by_id, storage, dom, drive_numbers or {})
    _nics(ordered, kinds, by_id, dom)
    _serials(ordered, kinds, dom)
    return dom


def _storage_controllers(
    rows: list[CimInstance], kinds: Mapping[str | None, Kind], dom: DomainDef
) -> _Storage:
    storage = _Storage({}, [])
    for row in rows:
        kind = kinds[row_id(row)]
        iid = row_id(row) or ""
        if kind == "ide_controller":
            channel = _int_or((row.get_str("Address") or "0")[:1], len(storage.ide_channels))
            storage.ide_channels[channel] = iid
            if not any(c.type == "ide" for c in dom.controllers):
                dom.controllers.append(ControllerDef(type="ide", index=0))
        elif kind == "scsi_controller":
            storage.scsi.append(iid)
            dom.controllers.append(ControllerDef(type="scsi", index=len(storage.scsi) - 1))
    return storage


def _place(
    disk: DiskDef,
    controller: CimInstance,
    unit: int,
    kinds: Mapping[str | None, Kind],
    storage: _Storage,
) -> bool:
    cid = row_id(controller)
    kind = kinds.get(cid)
    if kind == "scsi_controller":
        index = storage.scsi.index(cid) if cid in storage.scsi else 0
        disk.bus = "scsi"
        disk.controller, disk.bus_index, disk.unit = index, 0, unit
        disk.target_dev = disk_name(index * 64 + unit, "sd")
        return True
    if kind == "ide_controller":
        channel = next((ch for ch, i in storage.ide_channels.items() if i == cid), 0)
        disk.bus = "ide"
        disk.controller, disk.bus_index, disk.unit = 0, channel, unit
        disk.target_dev = disk_name(channel * 2 + unit, "hd")
        return True
    return False


def _disks(
    namespace: NamespaceVersion,
    rows: list[CimInstance],
    kinds: Mapping[str | None, Kind],
    by_id: Mapping[str, CimInstance],
    storage: _Storage,
    dom: DomainDef,
    drive_numbers: Mapping[str, str],
) -> None:
    # Pass-through disks: a disk drive whose HostResource names a host disk.
    for row in rows:
        kind = kinds[row_id(row)]
        if kind not in ("disk_drive", "physical_disk"):
            continue
        resources = host_resource(row)
        if not resources or not resources[0] or "NODRIVE" in resources[0]:
            continue
        parent = by_id.get(_parent_id(row) or "")
        if parent is None:
            continue
        unit = _int_or(row.get_str("AddressOnParent") or row.get_str("Address"), 0)
        disk = DiskDef(
            device="disk",
            source_type="block",
            source=drive_numbers.get(resources[0], resources[0]),
        )
        if _place(disk, parent, unit, kinds, storage):
            dom.disks.append(disk)
    # Disk images (VHD/VHDX, ISO, VFD): image -> drive -> controller.
    for row in rows:
        kind = kinds[row_id(row)]
        if kind not in ("vhd", "iso", "vfd"):
            continue
        resources = host_resource(row)
        if not resources:
            continue
        drive = by_id.get(_parent_id(row) or "")
        if drive is None:
            logger.debug("%s: image %s has no known drive", namespace, row_id(row))
            continue
        device = {"vhd": "disk", "iso": "cdrom", "vfd": "floppy"}[kind]
        disk = DiskDef(device=device, source=resources[0])  # type: ignore[arg-type]  # literal
        if kind == "vfd" or kinds.get(row_id(drive)) == "floppy_drive":
            disk.device, disk.bus, disk.target_dev = "floppy", "fdc", "fda"
            dom.disks.append(disk)
            continue
        controller = by_id.get(_parent_id(drive) or "")
        unit = _int_or(drive.get_str("AddressOnParent") or drive.get_str("Address"), 0)
        if controller is not None and _place(disk, controller, unit, kinds, storage):
            dom.disks.append(disk)


def _nics(
    rows: list[CimInstance],
    kinds: Mapping[str | None, Kind],
    by_id: Mapping[str, CimInstance],
    dom: DomainDef,
) -> None:
    # v2: the port (SEPSD) holds the MAC; an Ethernet connection (EPASD) whose Parent is the
    # port holds the switch in HostResource.  v1: the port's Connection is a Msvm_SwitchPort
    # path whose SystemName is the switch.  The bridge is the switch's Name (its GUID), as
    # hyperv_driver.c hypervDomainDefParseEthernetAdapter sets it; an adapter with no
    # connection, or a disabled one (EnabledState 3), has no bridge.
    connections: dict[str, CimInstance] = {}
    for row in rows:
        if kinds[row_id(row)] == "nic_connection":
            parent = _parent_id(row)
            if parent:
                connections[parent] = row
    for row in rows:
        if kinds[row_id(row)] != "nic":
            continue
        nic = InterfaceDef(mac=format_mac(row.get_str("Address")))
        conn = connections.get(row_id(row) or "")
        if conn is not None:
            try:
                enabled = conn.get_int("EnabledState")
            except ProtocolError:
                enabled = None
            target = host_resource(conn) if enabled != 3 else []
        else:
            target = host_resource(row)
        if target and target[0]:
            path = parse_path(target[0])
            if path is not None:
                key = "SystemName" if "Port" in path.class_name else "Name"
                guid = path.keys.get(key)
                if guid:
                    nic.bridge = guid
        dom.interfaces.append(nic)


def _serials(rows: list[CimInstance], kinds: Mapping[str | None, Kind], dom: DomainDef) -> None:
    for row in rows:
        if kinds[row_id(row)] != "serial":
            continue
        name = row.get_str("ElementName") or ""
        digits = "".join(ch for ch in name if ch.isdigit())
        if not digits or int(digits) < 1:
            continue
        connection = [c for c in row.get_list("Connection") if c]
        dom.serials.append(SerialDef(port=int(digits), path=connection[0] if connection else None))
    dom.serials.sort(key=lambda s: s.port)
