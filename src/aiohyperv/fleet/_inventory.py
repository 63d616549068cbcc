"""The standard inventory of one host in a handful of round trips.

Instead of walking associations VM by VM (as libvirt's driver does: several ``ASSOCIATORS OF``
requests per VM), the inventory enumerates each class it needs *once for the whole host* with a
WQL ``SELECT``, sends all of those enumerations at the same time, and joins the rows on the
client.  The join key is the VM's
GUID, which every setting object carries at the front of its ``InstanceID``:

* ``Msvm_VirtualSystemSettingData``   ``Microsoft:<VM GUID>``
* ``Msvm_ProcessorSettingData`` etc.  ``Microsoft:<VM GUID>\\<device GUID>\\...``
* snapshots and host capability rows (``Microsoft:Definition\\...``) carry other GUIDs or names
  and so fall out of the join by themselves.

On a 2012+ host that is 11 enumerations (each usually one round trip, as Enumerate is sent with
``OptimizeEnumeration``) plus one ``GetSummaryInformation`` call for every VM's memory demand:
12 requests, whatever the number of VMs.  A 2008 R2 host (``root/virtualization``,
WMI v1) uses the v1 class names and filters.  With ``namespace="auto"`` the v2 queries go out
together with the ``root/cimv2`` ones; if the host turns out to be 2008 R2 (OS version 6.0 or
6.1) the virtualization queries are sent again in v1.  Naming the namespace in the URI
(``?namespace=v1``) skips the probe.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from .._exceptions import InvalidVersion, ProtocolError, WSManFault
from .._log import logger
from .._version import pack_version
from ..cim import CimInstance
from ..hyperv import map_enabled_state
from ..wsman import NAMESPACE_CIMV2, NAMESPACE_V1, NAMESPACE_V2, Filter, resource_uri, wildcard_uri
from ._model import DiskInfo, HostInventory, NicInfo, SwitchInfo, VMInventory

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from .._config import ConnectionURI
    from .._transport import SessionPool, WSManSession
    from ..hyperv import HyperVConnection
    from ._fleet import FleetAuth, FleetEvent, FleetHost, FleetResult

__all__ = [
    "CIMV2_QUERIES",
    "V1_QUERIES",
    "V2_QUERIES",
    "build_inventory",
    "collect_inventory",
    "inventory",
    "inventory_host",
    "inventory_op",
]

NamespaceChoice = Literal["auto", "v1", "v2"]

#: Host-wide enumerations in root/cimv2 (same on every Windows version).
CIMV2_QUERIES: dict[str, str] = {
    "os": "SELECT Caption, Version, FreePhysicalMemory, CSName FROM Win32_OperatingSystem",
    "computer": "SELECT Name, DNSHostName, Domain, TotalPhysicalMemory FROM Win32_ComputerSystem",
    "cpu": "SELECT Name, NumberOfCores, NumberOfLogicalProcessors FROM Win32_Processor",
}

_VM_FILTER = "Description = 'Microsoft Virtual Machine'"
_VM_PROPS = "Name, ElementName, EnabledState, ProcessID, OnTimeInMilliseconds"
_RASD_PROPS = "InstanceID, ResourceSubType, HostResource"

# Each query names only the properties the inventory reads: less XML to write on the host and to
# parse here (a full Msvm_VirtualSystemSettingData is ~60 properties, the inventory needs 6).

#: Host-wide enumerations in root/virtualization/v2 (Windows Server 2012 and newer).
V2_QUERIES: dict[str, str] = {
    "vms": f"SELECT {_VM_PROPS} FROM Msvm_ComputerSystem WHERE {_VM_FILTER}",
    "vssd": "SELECT InstanceID, VirtualSystemIdentifier, Notes, AutomaticStartupAction,"
    " VirtualSystemSubType, Version FROM Msvm_VirtualSystemSettingData"
    " WHERE VirtualSystemType = 'Microsoft:Hyper-V:System:Realized'",
    "cpu": "SELECT InstanceID, VirtualQuantity FROM Msvm_ProcessorSettingData",
    "memory": "SELECT InstanceID, VirtualQuantity, DynamicMemoryEnabled, Reservation, Limit"
    " FROM Msvm_MemorySettingData",
    "storage": f"SELECT {_RASD_PROPS} FROM Msvm_StorageAllocationSettingData",
    "ports": "SELECT InstanceID, ElementName, Address, StaticMacAddress"
    " FROM Msvm_SyntheticEthernetPortSettingData",
    "connections": "SELECT InstanceID, Parent, HostResource"
    " FROM Msvm_EthernetPortAllocationSettingData",
    "switches": "SELECT Name, ElementName FROM Msvm_VirtualEthernetSwitch",
}

#: The same in root/virtualization (Windows Server 2008 R2).  Disks and DVDs are plain RASDs
#: whose ``Connection`` holds the image path; a NIC's ``Connection`` holds the path of its
#: switch port, whose ``SystemName`` key is the switch, so no port query is needed.
V1_QUERIES: dict[str, str] = {
    "vms": f"SELECT {_VM_PROPS} FROM Msvm_ComputerSystem WHERE {_VM_FILTER}",
    # v1 keeps AutomaticStartupAction in Msvm_VirtualSystemGlobalSettingData, not in the VSSD.
    "vssd": "SELECT InstanceID, SystemName, Notes FROM Msvm_VirtualSystemSettingData"
    " WHERE SettingType = 3",
    "cpu": "SELECT InstanceID, VirtualQuantity FROM Msvm_ProcessorSettingData",
    "memory": "SELECT InstanceID, VirtualQuantity, DynamicMemoryEnabled, Reservation, Limit"
    " FROM Msvm_MemorySettingData",
    "storage": "SELECT InstanceID, ResourceSubType, Connection"
    " FROM Msvm_ResourceAllocationSettingData",
    "ports": "SELECT InstanceID, ElementName, Address, StaticMacAddress, Connection"
    " FROM Msvm_SyntheticEthernetPortSettingData",
    "switches": "SELECT Name, ElementName FROM Msvm_VirtualSwitch",
}

_NAMESPACES = {"v1": NAMESPACE_V1, "v2": NAMESPACE_V2}


#: Items asked for per Enumerate/Pull.  Large enough that a host's whole class usually comes back
#: in the optimized Enumerate response itself; MaxEnvelopeSize still bounds each answer.
MAX_ELEMENTS = 512


async def _enumerate(session: WSManSession, namespace: str, query: str) -> list[CimInstance]:
    rows: list[CimInstance] = []
    enumerator = session.enumerate(
        wildcard_uri(namespace), filter=Filter.wql(query), max_elements=MAX_ELEMENTS
    )
    async with enumerator as items:
        async for item in items:
            if isinstance(item, CimInstance):
                rows.append(item)
    return rows


_VSMS = "Msvm_VirtualSystemManagementService"
#: GetSummaryInformation's RequestedInformation codes: 0 Name (the VM GUID), 103 MemoryUsage.
_SUMMARY_CODES = [0, 103]


async def _summaries(session: WSManSession, namespace: str) -> list[CimInstance]:
    """Every VM's memory demand in one call (``GetSummaryInformation`` without SettingData).

    Optional data: if the host refuses the call, the inventory goes on without it.  Like
    libvirt, the service is addressed by ``CreationClassName`` alone, so this needs no lookup
    first and goes out with the enumerations.
    """
    try:
        result = await session.invoke(
            resource_uri(namespace, _VSMS),
            "GetSummaryInformation",
            selectors={"CreationClassName": _VSMS},
            params={"RequestedInformation": _SUMMARY_CODES},
        )
    except WSManFault as exc:
        logger.debug("inventory: GetSummaryInformation refused on %s: %s", session.label, exc)
        return []
    if result.return_value not in (0, None):
        return []
    value = result.outputs.get("SummaryInformation")
    items = value if isinstance(value, list) else [value]
    return [item for item in items if isinstance(item, CimInstance)]


async def _gather(
    session: WSManSession,
    namespace: str,
    queries: Mapping[str, str],
    *,
    summaries: bool = False,
) -> dict[str, list[CimInstance]]:
    """Run ``queries`` (and GetSummaryInformation) concurrently; raise the first error itself.

    A host that cannot be reached fails every query the same way; the fleet result should say
    ``ConnectError``, not ``ExceptionGroup`` of eleven of them.
    """
    try:
        async with asyncio.TaskGroup() as tg:
            tasks = {
                key: tg.create_task(_enumerate(session, namespace, query))
                for key, query in queries.items()
            }
            if summaries:
                tasks["summary"] = tg.create_task(_summaries(session, namespace))
    except BaseExceptionGroup as group:
        first = _first_leaf(group)
        if isinstance(first, Exception):
            raise first from None
        raise
    return {key: task.result() for key, task in tasks.items()}


def _first_leaf(group: BaseExceptionGroup[BaseException]) -> BaseException:
    exc: BaseException = group
    while isinstance(exc, BaseExceptionGroup):
        exc = exc.exceptions[0]
    return exc


def _is_v1_version(version: str | None) -> bool:
    # 6.0 is Server 2008, 6.1 Server 2008 R2: both only have root/virtualization.
    return version is not None and version.startswith(("6.0.", "6.1."))


async def collect_inventory(
    session: WSManSession,
    *,
    host: str,
    namespace: NamespaceChoice = "auto",
) -> HostInventory:
    """Collect the standard inventory of one host over ``session``.

    All enumerations are sent concurrently; the session (and its pool) bounds how many run at
    once.  ``requests`` in the result is left 0 here: the caller knows the session's counter.

    Args:
        session: A WS-Management session to the host (``WSManSession``).
        host: ``host:port`` for the result and error messages.
        namespace: ``"v2"``, ``"v1"`` (2008 R2) or ``"auto"`` to detect it.

    Raises:
        HyperVError: Any query failed (transport error, fault, malformed answer).
    """
    if namespace != "auto":
        cim, virt = await asyncio.gather(
            _gather(session, NAMESPACE_CIMV2, CIMV2_QUERIES),
            _gather(
                session,
                _NAMESPACES[namespace],
                V2_QUERIES if namespace == "v2" else V1_QUERIES,
                summaries=True,
            ),
        )
        return build_inventory(host, namespace, {**_prefix("cim", cim), **virt})

    async def speculative_v2() -> dict[str, list[CimInstance]] | WSManFault:
        try:
            return await _gather(session, NAMESPACE_V2, V2_QUERIES, summaries=True)
        except WSManFault as exc:
            return exc

    cim, v2 = await asyncio.gather(
        _gather(session, NAMESPACE_CIMV2, CIMV2_QUERIES), speculative_v2()
    )
    version = cim["os"][0].get_str("Version") if cim["os"] else None
    if isinstance(v2, dict) and not _is_v1_version(version):
        return build_inventory(host, "v2", {**_prefix("cim", cim), **v2})
    if not _is_v1_version(version) and isinstance(v2, WSManFault):
        raise v2  # not a 2008 R2 host, so the v2 fault is the real error
    logger.debug("inventory: %s runs Windows %s, using root/virtualization", host, version)
    v1 = await _gather(session, NAMESPACE_V1, V1_QUERIES, summaries=True)
    return build_inventory(host, "v1", {**_prefix("cim", cim), **v1})


def _prefix(prefix: str, rows: Mapping[str, list[CimInstance]]) -> dict[str, list[CimInstance]]:
    return {f"{prefix}.{k}": v for k, v in rows.items()}


async def inventory_op(host: FleetHost) -> HostInventory:
    """The per-host operation of a fleet inventory, for :meth:`Fleet.run`/:meth:`Fleet.stream`.

    Example::

        async for result in fleet.stream(inventory_op):
            print(result.host, len(result.value.vms) if result.ok else result.error)
    """
    session = await host.session()
    inventory = await collect_inventory(session, host=host.label, namespace=host.uri.namespace)
    return _with_requests(inventory, host.requests)


async def inventory_host(conn: HyperVConnection) -> HostInventory:
    """The standard inventory of the host behind an open connection.

    Uses the connection's session and the namespace it detected, so no detection request is
    repeated.  ``requests`` in the result counts only the inventory's own requests.

    Example::

        async with aiohyperv.connect("hyperv://admin@hv01/", auth=cb) as conn:
            inv = await aiohyperv.inventory_host(conn)
            print(inv.hostname, [vm.name for vm in inv.vms])
    """
    session = conn.session
    before = session.stats.requests
    inventory = await collect_inventory(session, host=conn.host, namespace=conn.namespace)
    return _with_requests(inventory, session.stats.requests - before)


async def inventory(
    hosts: Iterable[str | ConnectionURI],
    *,
    auth: FleetAuth = None,
    concurrency: int = 64,
    timeout: float | None = 60.0,  # noqa: ASYNC109  # per-host deadline handed to Fleet
    pool: SessionPool | None = None,
    on_event: Callable[[FleetEvent[HostInventory]], object] | None = None,
) -> FleetResult[HostInventory]:
    """Inventory many hosts at once; one failing host never stops the others.

    A shortcut for ``await Fleet(hosts, ...).run(inventory_op)``; see :class:`Fleet` for the
    arguments.  Check ``result.failed`` or call ``result.raise_for_errors()``.

    Example::

        result = await aiohyperv.inventory(["hyperv://hv01/", "hyperv://hv02/"], auth=cb)
        for r in result.succeeded:
            print(r.host, len(r.value.vms), "VMs")
    """
    from ._fleet import Fleet

    async with Fleet(
        hosts, auth=auth, concurrency=concurrency, timeout=timeout, pool=pool
    ) as fleet:
        return await fleet.run(inventory_op, on_event=on_event)


def _with_requests(inventory: HostInventory, requests: int) -> HostInventory:
    return dataclasses.replace(inventory, requests=requests)


# -- the join (pure) ---------------------------------------------------------------------------


# The readers below take the raw wire text straight from ``CimInstance.properties`` (the join
# runs for every setting of every VM of every host, so it stays cheap) and are lenient: a value
# of an unexpected shape reads as "unknown" instead of failing the whole host.


def _str(inst: CimInstance | None, name: str) -> str | None:
    if inst is None:
        return None
    value = inst.properties.get(name)
    return value if isinstance(value, str) else None


def _int(inst: CimInstance | None, name: str) -> int | None:
    if inst is None:
        return None
    value = inst.properties.get(name)
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            logger.debug("inventory: %s.%s is not an integer", inst.class_name, name)
    return None


def _bool(inst: CimInstance | None, name: str) -> bool | None:
    if inst is None:
        return None
    value = inst.properties.get(name)
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
    return None


def _list(inst: CimInstance | None, name: str) -> list[str]:
    if inst is None:
        return []
    value = inst.properties.get(name)
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _split_id(instance_id: str) -> list[str]:
    # Hyper-V separates InstanceID parts with backslashes; accept '/' too.
    return instance_id.replace("/", "\\").split("\\")


def vm_key(instance_id: str | None) -> str | None:
    """The VM GUID at the front of an ``InstanceID`` (``Microsoft:<GUID>\\...``), upper case."""
    if not instance_id:
        return None
    _, sep, rest = instance_id.partition(":")
    if not sep:
        return None
    return _split_id(rest)[0].upper() or None


def _device_id(instance_id: str | None) -> str | None:
    """``Microsoft:<VM>\\<device>`` of a setting's InstanceID, upper case (drops ``\\C`` etc.)."""
    if not instance_id:
        return None
    parts = _split_id(instance_id)
    return "\\".join(parts[:2]).upper() if len(parts) >= 2 else None


def _group(rows: list[CimInstance]) -> dict[str, list[CimInstance]]:
    grouped: dict[str, list[CimInstance]] = {}
    for inst in rows:
        key = vm_key(_str(inst, "InstanceID"))
        if key is not None:
            grouped.setdefault(key, []).append(inst)
    return grouped


_PARENT_ID_RE = re.compile(r'InstanceID="((?:[^"\\]|\\.)*)"')
_WMI_NAME_RE = re.compile(r"""\bName=(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')""")


def _path_name(path: str) -> str | None:
    """The ``Name="..."`` key of a WMI object path (switches are referenced this way)."""
    match = _WMI_NAME_RE.search(path)
    if match is None:
        return None
    return (match.group(1) or match.group(2) or "").replace("\\\\", "\\") or None


def _path_system_name(path: str) -> str | None:
    match = re.search(r"""\bSystemName=(?:"([^"]*)"|'([^']*)')""", path)
    return None if match is None else (match.group(1) or match.group(2))


def format_mac(address: str | None) -> str | None:
    """``00155D010203`` -> ``00:15:5D:01:02:03``; None for empty or all-zero addresses."""
    if not address:
        return None
    raw = address.upper()
    if len(raw) != 12 or not raw.isalnum():  # the usual form is bare hex; else strip separators
        raw = "".join(c for c in raw if c in "0123456789ABCDEF")
    if len(raw) != 12 or raw == "000000000000":
        return None
    return f"{raw[0:2]}:{raw[2:4]}:{raw[4:6]}:{raw[6:8]}:{raw[8:10]}:{raw[10:12]}"


def _generation(vssd: CimInstance | None, namespace: str) -> int | None:
    if namespace == "v1":
        return 1
    # "Microsoft:Hyper-V:SubType:2"
    number = (_str(vssd, "VirtualSystemSubType") or "").rpartition(":")[2]
    return int(number) if number.isdigit() else None


def _notes(vssd: CimInstance | None) -> str:
    if vssd is None:
        return ""
    value = vssd.get("Notes")
    if isinstance(value, list):
        return "\n".join(v for v in value if isinstance(v, str))
    return value if isinstance(value, str) else ""


def _autostart(vssd: CimInstance | None, namespace: str) -> bool | None:
    if namespace == "v1":
        return None  # not collected on 2008 R2 (see V1_QUERIES)
    action = _int(vssd, "AutomaticStartupAction")
    return None if action is None else action == 4


def _disk_kind(subtype: str) -> str | None:
    lowered = subtype.lower()
    if "cd/dvd" in lowered or "iso" in lowered or "dvd" in lowered:
        return "dvd"
    if "hard disk" in lowered or "vhd" in lowered:
        return "disk"
    return None


def _disks(rows: list[CimInstance]) -> tuple[DiskInfo, ...]:
    disks: list[DiskInfo] = []
    for inst in rows:
        kind = _disk_kind(_str(inst, "ResourceSubType") or "")
        if kind is None:
            continue
        # v2 SASD keeps the path in HostResource; v1 RASD in Connection.
        paths = _list(inst, "HostResource") or _list(inst, "Connection")
        path = next((p for p in paths if p and p.upper() != "NODRIVE"), None)
        if path is None:
            continue
        size = _int(inst, "MaxInternalSize") or _int(inst, "Limit") if kind == "disk" else None
        disks.append(DiskInfo(path=path, kind=kind, size=size or None))
    return tuple(disks)


@dataclass(frozen=True, slots=True)
class _NetworkIndex:
    switch_by_name: dict[str, str]  # switch GUID -> display name
    switch_by_port: dict[str, str]  # device key / port name -> switch display name


def _network_index(switches: list[CimInstance], connections: list[CimInstance]) -> _NetworkIndex:
    by_name: dict[str, str] = {}
    for sw in switches:
        name = _str(sw, "Name")
        if name:
            by_name[name.upper()] = _str(sw, "ElementName") or name
    by_port: dict[str, str] = {}
    names: dict[str, str | None] = {}  # switch path -> its Name key (every NIC repeats it)
    for conn in connections:
        # Msvm_EthernetPortAllocationSettingData (v2): HostResource = the switch's WMI path,
        # Parent = the adapter's WMI path; the InstanceID shares the adapter's prefix.
        switch_name = None
        for path in _list(conn, "HostResource"):
            if path not in names:
                names[path] = _path_name(path)
            switch_name = names[path]
            if switch_name:
                break
        if switch_name is None:
            continue
        display = by_name.get(switch_name.upper(), switch_name)
        device = _device_id(_str(conn, "InstanceID"))
        parent = _str(conn, "Parent")
        if device:
            by_port[device] = display
        elif parent:
            match = _PARENT_ID_RE.search(parent)
            if match:
                by_port[match.group(1).replace("\\\\", "\\").upper()] = display
    return _NetworkIndex(switch_by_name=by_name, switch_by_port=by_port)


def _nics(rows: list[CimInstance], network: _NetworkIndex) -> tuple[NicInfo, ...]:
    nics: list[NicInfo] = []
    for port in rows:
        instance_id = _str(port, "InstanceID")
        switch: str | None = None
        device = _device_id(instance_id)
        if instance_id and instance_id.upper() in network.switch_by_port:
            switch = network.switch_by_port[instance_id.upper()]
        elif device and device in network.switch_by_port:
            switch = network.switch_by_port[device]
        else:
            # v1: Connection[] holds the Msvm_SwitchPort path.
            for path in _list(port, "Connection"):
                name = _path_name(path)
                if name and name.upper() in network.switch_by_port:
                    switch = network.switch_by_port[name.upper()]
                    break
                system = _path_system_name(path)
                if system and system.upper() in network.switch_by_name:
                    switch = network.switch_by_name[system.upper()]
                    break
        nics.append(
            NicInfo(
                name=_str(port, "ElementName") or "Network Adapter",
                mac=format_mac(_str(port, "Address")),
                switch=switch,
                static_mac=_bool(port, "StaticMacAddress"),
            )
        )
    return tuple(nics)


def _vm(
    cs: CimInstance,
    namespace: Literal["v1", "v2"],
    vssd: CimInstance | None,
    settings: Mapping[str, list[CimInstance]],
    network: _NetworkIndex,
    summary: CimInstance | None,
) -> VMInventory:
    uuid = (_str(cs, "Name") or "").upper()
    enabled = _int(cs, "EnabledState")
    info = map_enabled_state(namespace, enabled)
    cpu = next(iter(settings.get("cpu", [])), None)
    memory = next(iter(settings.get("memory", [])), None)
    dynamic = _bool(memory, "DynamicMemoryEnabled")
    on_ms = _int(cs, "OnTimeInMilliseconds")
    pid = _int(cs, "ProcessID")
    return VMInventory(
        name=_str(cs, "ElementName") or uuid,
        uuid=uuid,
        id=pid if info.active and pid else None,
        state=info.state.label,
        enabled_state=enabled,
        vcpus=_int(cpu, "VirtualQuantity"),
        memory_startup_mib=_int(memory, "VirtualQuantity"),
        memory_dynamic=dynamic,
        memory_min_mib=_int(memory, "Reservation") if dynamic else None,
        memory_max_mib=_int(memory, "Limit") if dynamic else None,
        memory_demand_mib=_int(summary, "MemoryUsage"),
        uptime=(on_ms / 1000.0) if on_ms is not None else None,
        generation=_generation(vssd, namespace),
        config_version=_str(vssd, "Version") if namespace == "v2" else None,
        notes=_notes(vssd),
        autostart=_autostart(vssd, namespace),
        disks=_disks(settings.get("storage", [])),
        nics=_nics(settings.get("ports", []), network),
    )


def build_inventory(
    host: str,
    namespace: Literal["v1", "v2"],
    rows: Mapping[str, list[CimInstance]],
    *,
    requests: int = 0,
) -> HostInventory:
    """Join the enumerated rows into a :class:`HostInventory` (no I/O).

    Args:
        host: ``host:port``.
        namespace: Which namespace the virtualization rows came from.
        rows: Query key (``cim.os``, ``cim.computer``, ``cim.cpu`` and the keys of
            :data:`V2_QUERIES`) to the instances it returned.
        requests: Requests the collection took.
    """
    os_row = next(iter(rows.get("cim.os", [])), None)
    computer = next(iter(rows.get("cim.computer", [])), None)
    cpus = rows.get("cim.cpu", [])
    if os_row is None:
        raise ProtocolError("Win32_OperatingSystem returned no instance", host=host)
    os_version = _str(os_row, "Version") or ""
    try:
        packed: int | None = pack_version(os_version)
    except InvalidVersion:
        packed = None
    free_kib = _int(os_row, "FreePhysicalMemory")

    settings: dict[str, dict[str, list[CimInstance]]] = {}
    for key in ("cpu", "memory", "storage", "ports"):
        for guid, items in _group(rows.get(key, [])).items():
            settings.setdefault(guid, {})[key] = items
    vssd_by_vm: dict[str, CimInstance] = {}
    for vssd in rows.get("vssd", []):
        vssd_guid = (
            _str(vssd, "VirtualSystemIdentifier")
            or _str(vssd, "SystemName")
            or vm_key(_str(vssd, "InstanceID"))
        )
        if vssd_guid:
            vssd_by_vm[vssd_guid.upper()] = vssd
    network = _network_index(rows.get("switches", []), rows.get("connections", []))

    summaries: dict[str, CimInstance] = {}
    for summary in rows.get("summary", []):
        name = _str(summary, "Name")
        if name:
            summaries[name.upper()] = summary

    vms = []
    for cs in rows.get("vms", []):
        guid = (_str(cs, "Name") or "").upper()
        vms.append(
            _vm(
                cs,
                namespace,
                vssd_by_vm.get(guid),
                settings.get(guid, {}),
                network,
                summaries.get(guid),
            )
        )
    vms.sort(key=lambda vm: (vm.name.lower(), vm.uuid))

    switches = tuple(
        sorted(
            (
                SwitchInfo(
                    name=_str(sw, "ElementName") or _str(sw, "Name") or "",
                    id=_str(sw, "Name") or "",
                )
                for sw in rows.get("switches", [])
            ),
            key=lambda s: s.name.lower(),
        )
    )
    hostname = (
        _str(computer, "DNSHostName") or _str(computer, "Name") or _str(os_row, "CSName") or host
    )
    return HostInventory(
        host=host,
        hostname=hostname,
        os_caption=(_str(os_row, "Caption") or "").strip(),
        os_version=os_version,
        version=packed,
        namespace=namespace,
        cpu_model=(_str(cpus[0], "Name") or "").strip() or None if cpus else None,
        cpu_sockets=len(cpus),
        cpu_cores=sum(_int(c, "NumberOfCores") or 0 for c in cpus),
        cpu_threads=sum(_int(c, "NumberOfLogicalProcessors") or 0 for c in cpus),
        memory_total=_int(computer, "TotalPhysicalMemory"),
        memory_free=free_kib * 1024 if free_kib is not None else None,
        switches=switches,
        vms=tuple(vms),
        requests=requests,
    )
