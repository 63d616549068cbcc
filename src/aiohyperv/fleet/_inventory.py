"""The standard inventory of one host in a handful of round trips.

Instead of walking associations VM by VM (as libvirt's driver does: several ``ASSOCIATORS OF``
requests per VM), the inventory enumerates each class it needs *once for the whole host* with a
WQL ``SELECT`` and joins the rows on the client.  The join key is the VM's GUID, which every
setting object carries at the front of its ``InstanceID``:

* ``Msvm_VirtualSystemSettingData``   ``Microsoft:<VM GUID>``
* ``Msvm_ProcessorSettingData`` etc.  ``Microsoft:<VM GUID>\\<device GUID>\\...``
* snapshots and host capability rows (``Microsoft:Definition\\...``) carry other GUIDs or names
  and so fall out of the join by themselves.

On a 2012+ host that is 11 enumerations (processor, disk image and switch port settings share
one query on their base class; guests' KVP items and addresses one query each) plus one
``GetSummaryInformation`` call for every VM's live statistics.  Enumerate is sent with
``OptimizeEnumeration``, but Windows' WMI plugin answers it with the first item only and sends
the rest by Pull (recorded traffic in ``tests/data/wsman-samples/real/``), so each query that
returns more than one row takes two requests: about 20 in all, and no more as the VMs grow,
since one Pull within the fleet's envelope size brings the rest of a whole-host class.  A
2008 R2 host (``root/virtualization``, WMI v1) uses the v1 class names and filters.

The requests go out as many at a time as the host has connections in the pool (see
:func:`collect_inventory`).  With ``namespace="auto"`` and one connection, the OS is asked first
and only the namespace it serves is queried; with several, the v2 queries go out together with
the ``root/cimv2`` ones and, if the host turns out to be 2008 R2 (OS version 6.0 or 6.1), the
virtualization queries are sent again in v1.  Naming the namespace in the URI
(``?namespace=v1``) skips the detection.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TypeAlias

from .._exceptions import EncodingLimit, InvalidVersion, ProtocolError, WSManFault
from .._log import logger
from .._version import pack_version
from ..cim import EPR, CimInstance, parse_cimxml
from ..hyperv import map_enabled_state
from ..hyperv._guest import GuestInfo, info_from_pairs, kvp_pairs
from ..hyperv._stats import demand_mib, health_label, heartbeat_label, replication_label
from ..hyperv._vhd import read_disk_image
from ..hyperv._wql import VIRTUAL_MACHINE
from ..wsman import NAMESPACE_CIMV2, NAMESPACE_V1, NAMESPACE_V2, Filter, resource_uri, wildcard_uri
from ._fleet import idempotent
from ._model import DiskInfo, HostInventory, NicInfo, SwitchInfo, VMInventory

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterable, Mapping

    from .._config import ConnectionURI
    from .._transport import SessionPool, WSManSession
    from ..hyperv import HyperVConnection
    from ..wsman import InvokeValue
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
    "inventory_op_with_disks",
]

NamespaceChoice = Literal["auto", "v1", "v2"]

#: Host-wide enumerations in root/cimv2 (same on every Windows version).
CIMV2_QUERIES: dict[str, str] = {
    "os": "SELECT Caption, Version, FreePhysicalMemory, CSName FROM Win32_OperatingSystem",
    "computer": "SELECT Name, DNSHostName, Domain, TotalPhysicalMemory FROM Win32_ComputerSystem",
    "cpu": "SELECT Name, NumberOfCores, NumberOfLogicalProcessors FROM Win32_Processor",
}

#: The VMs, never the host: the same locale-independent filter as the driver's (see
#: ``hyperv._wql.VIRTUAL_MACHINE``; Windows localizes ``Description``).
_VM_FILTER = VIRTUAL_MACHINE
_VM_PROPS = "Name, ElementName, EnabledState, ProcessID, OnTimeInMilliseconds"

# Each query names only the properties the inventory reads: less XML to write on the host and to
# parse here (a full Msvm_VirtualSystemSettingData is ~60 properties, the inventory needs 6).

#: ``ResourceType`` of the settings the ``settings`` query folds together (CIM_ResourceAllocation-
#: SettingData's ValueMap): processors, Ethernet connections (switch ports), and the virtual disk
#: images, which are told apart from the drives that hold them by ``ResourceSubType``.
_PROCESSOR, _ETHERNET_CONNECTION = "3", "33"
_DISK_IMAGE_SUBTYPES = (
    "Microsoft:Hyper-V:Virtual Hard Disk",
    "Microsoft:Hyper-V:Virtual CD/DVD Disk",
    "Microsoft:Hyper-V:Virtual Floppy Disk",
)

#: Host-wide enumerations in root/virtualization/v2 (Windows Server 2012 and newer).
#:
#: ``settings`` is one query for three kinds of virtual hardware: WMI answers a query on a base
#: class with the instances of all its subclasses (Msvm_ProcessorSettingData,
#: Msvm_StorageAllocationSettingData and Msvm_EthernetPortAllocationSettingData all derive from
#: CIM_ResourceAllocationSettingData), so one request replaces three.  Its projection names
#: only properties the base class defines (anything else is an invalid query) and the rows are
#: sorted by ``ResourceType``, never by class name, which projected items need not carry.  A
#: switch port is matched to its adapter by ``InstanceID`` (``<adapter InstanceID>\\C``), so
#: its long ``Parent`` path is not asked for: the answer of a 60-VM host still fits one
#: envelope.
#: Memory and NIC settings keep their own queries: the inventory reads properties only their
#: subclasses have (``DynamicMemoryEnabled``, ``StaticMacAddress``).
V2_QUERIES: dict[str, str] = {
    "vms": f"SELECT {_VM_PROPS} FROM Msvm_ComputerSystem WHERE {_VM_FILTER}",
    "vssd": "SELECT InstanceID, VirtualSystemIdentifier, Notes, AutomaticStartupAction,"
    " VirtualSystemSubType, Version FROM Msvm_VirtualSystemSettingData"
    " WHERE VirtualSystemType = 'Microsoft:Hyper-V:System:Realized'",
    "settings": "SELECT InstanceID, ResourceType, ResourceSubType, VirtualQuantity, HostResource"
    " FROM CIM_ResourceAllocationSettingData"
    f" WHERE ResourceType = {_PROCESSOR} OR ResourceType = {_ETHERNET_CONNECTION} OR "
    + " OR ".join(f"ResourceSubType = '{subtype}'" for subtype in _DISK_IMAGE_SUBTYPES),
    "memory": "SELECT InstanceID, VirtualQuantity, DynamicMemoryEnabled, Reservation, Limit"
    " FROM Msvm_MemorySettingData",
    "ports": "SELECT InstanceID, ElementName, Address, StaticMacAddress"
    " FROM Msvm_SyntheticEthernetPortSettingData",
    "switches": "SELECT Name, ElementName FROM Msvm_VirtualEthernetSwitch",
    # What running guests report through their integration services: KVP intrinsic items
    # (FQDN, OS, integration services version) and each NIC's addresses, one query each for
    # the whole host.
    "kvp": "SELECT SystemName, GuestIntrinsicExchangeItems FROM Msvm_KvpExchangeComponent",
    "guestnet": "SELECT InstanceID, IPAddresses FROM Msvm_GuestNetworkAdapterConfiguration",
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
#: GetSummaryInformation's RequestedInformation codes (Microsoft's GetSummaryInformation page):
#: 0 Name (the VM GUID), 101 ProcessorLoad, 103 MemoryUsage, 104 Heartbeat, 109 HealthState,
#: 112 MemoryAvailable, and on 2012+ 114 ReplicationState, 115 ReplicationHealth (2008 R2's
#: Msvm_SummaryInformation predates Hyper-V Replica).  More codes cost no extra request.
_SUMMARY_CODES_V1 = [0, 101, 103, 104, 109, 112]
_SUMMARY_CODES = [*_SUMMARY_CODES_V1, 114, 115]


class _Unanswered(list[CimInstance]):
    """The (empty) rows of a summary call whose answer could not be read (see _finish)."""


#: Bytes a piece of GetSummaryInformation is planned with per VM (the two fields asked for
#: plus the instance's frame; a simulated host writes about 1.7 KB, Windows less).
_SUMMARY_BYTES_PER_VM = 4096


async def _summaries(
    session: WSManSession, namespace: str, settings: list[EPR] | None = None
) -> list[CimInstance]:
    """Every VM's memory demand in one call (``GetSummaryInformation`` without SettingData).

    Optional data: if the host refuses the call, the inventory goes on without it.  Like
    libvirt, the service is addressed by ``CreationClassName`` alone, so this needs no lookup
    first and goes out with the enumerations.  The answer grows with the VM count; one too
    large (or otherwise unreadable) comes back as :class:`_Unanswered`, and :func:`_finish`
    asks again for the VMs in pieces (``settings``: their setting data).
    """
    codes = _SUMMARY_CODES_V1 if namespace == NAMESPACE_V1 else _SUMMARY_CODES
    params: dict[str, InvokeValue] = {"RequestedInformation": codes}
    if settings is not None:
        params["SettingData"] = settings
    try:
        result = await session.invoke(
            resource_uri(namespace, _VSMS),
            "GetSummaryInformation",
            selectors={"CreationClassName": _VSMS},
            params=params,
        )
    except EncodingLimit as exc:
        # Windows' answer when the output passes the MaxEnvelopeSize asked for (MS-WSMV
        # 3.1.4.1.7, w:EncodingLimit 2150858824): ask again in pieces.
        logger.debug("inventory: GetSummaryInformation too large on %s: %s", session.label, exc)
        return _Unanswered()
    except WSManFault as exc:
        logger.debug("inventory: GetSummaryInformation refused on %s: %s", session.label, exc)
        return []
    except ProtocolError as exc:
        logger.debug("inventory: GetSummaryInformation unreadable on %s: %s", session.label, exc)
        return _Unanswered()
    if result.return_value not in (0, None):
        return []
    value = result.outputs.get("SummaryInformation")
    items = value if isinstance(value, list) else [value]
    return [item for item in items if isinstance(item, CimInstance)]


async def _finish(
    session: WSManSession,
    host: str,
    namespace: Literal["v1", "v2"],
    rows: dict[str, list[CimInstance]],
) -> HostInventory:
    """Build the inventory, first asking in pieces for a summary too large for one answer.

    A piece names its VMs' setting data, sized so that its answer fits MaxEnvelopeSize with
    room to spare.  If a piece cannot be read either, the summary is left out and the
    inventory says so in ``missing``: it is optional, and must not fail the host.
    """
    missing: tuple[str, ...] = ()
    if isinstance(rows.get("summary"), _Unanswered):
        ns = _NAMESPACES[namespace]
        vssd_uri = resource_uri(ns, "Msvm_VirtualSystemSettingData")
        settings = [
            EPR.make(vssd_uri, {"InstanceID": instance_id})
            for vssd in rows.get("vssd", [])
            if (instance_id := _str(vssd, "InstanceID"))
        ]
        size = max(1, session.pool.limits.max_envelope_size // _SUMMARY_BYTES_PER_VM - 1)
        found: list[CimInstance] = []
        if rows.get("vms") and not settings:
            missing = ("summary",)  # nothing to name the VMs by
        for start in range(0, len(settings), size):
            piece = await _summaries(session, ns, settings[start : start + size])
            if isinstance(piece, _Unanswered):
                missing = ("summary",)
                break
            found += piece
        logger.debug(
            "inventory: %s's summary asked for in pieces of %d VMs (%s)",
            host,
            size,
            "failed" if missing else "complete",
        )
        rows["summary"] = [] if missing else found
    inventory = build_inventory(host, namespace, rows)
    return dataclasses.replace(inventory, missing=missing) if missing else inventory


#: One request's worth of inventory: an enumeration (or the summary call) of one host.
Job: TypeAlias = "Callable[[], Awaitable[list[CimInstance]]]"


async def _run_jobs(jobs: Mapping[str, Job], width: int) -> dict[str, list[CimInstance]]:
    """Run ``jobs`` with at most ``width`` in flight; raise the first error itself.

    ``width`` 1 runs them one after the other in the calling task: over a single connection
    the requests would queue anyway, and a fleet of thousands of hosts then holds one chain of
    coroutines per host instead of a dozen.  Wider, a few worker tasks share the jobs.  A host
    that cannot be reached fails every job the same way; the fleet result should say
    ``ConnectError``, not ``ExceptionGroup`` of eleven of them.
    """
    if width <= 1:
        return {key: await job() for key, job in jobs.items()}
    results: dict[str, list[CimInstance]] = {}
    queue = iter(list(jobs.items()))

    async def worker() -> None:
        for key, job in queue:  # next() never awaits: the workers need no lock
            results[key] = await job()

    try:
        async with asyncio.TaskGroup() as tg:
            for _ in range(min(width, len(jobs))):
                tg.create_task(worker())
    except BaseExceptionGroup as group:
        first = _first_leaf(group)
        if isinstance(first, Exception):
            raise first from None
        raise
    return {key: results[key] for key in jobs}


def _queries(
    session: WSManSession, namespace: str, queries: Mapping[str, str], prefix: str = ""
) -> dict[str, Job]:
    return {
        f"{prefix}{key}": functools.partial(_enumerate, session, namespace, query)
        for key, query in queries.items()
    }


def _virtualization(session: WSManSession, namespace: Literal["v1", "v2"]) -> dict[str, Job]:
    ns = _NAMESPACES[namespace]
    jobs = _queries(session, ns, V2_QUERIES if namespace == "v2" else V1_QUERIES)
    if "kvp" in jobs:
        jobs["kvp"] = functools.partial(_read_guests, jobs["kvp"])
    jobs["summary"] = functools.partial(_summaries, session, ns)
    return jobs


class _GuestRows(list[CimInstance]):
    """The ``kvp`` rows, already read: each VM's :class:`GuestInfo`, without the CIM-XML text.

    A host's KVP items are about 60 KB of embedded CIM-XML text, the largest single part of the
    rows a host holds while its other queries are answered.  Reading them as soon as their query
    answers frees that text then, not at the join: that much less per host in flight.
    :func:`build_inventory` still takes plain ``kvp`` rows too (from any other source).
    """

    def __init__(self, infos: dict[str, GuestInfo]) -> None:
        super().__init__()
        self.infos = infos


async def _read_guests(job: Job) -> list[CimInstance]:
    return _GuestRows(_guest_infos(await job()))


def _guest_infos(kvp: list[CimInstance]) -> dict[str, GuestInfo]:
    """VM GUID (upper case) -> what its guest reports in its KVP intrinsic items."""
    if isinstance(kvp, _GuestRows):
        return kvp.infos
    infos: dict[str, GuestInfo] = {}
    for row in kvp:
        guid = (_str(row, "SystemName") or "").upper()
        if guid:
            infos[guid] = info_from_pairs(kvp_pairs(_list(row, "GuestIntrinsicExchangeItems")))
    return infos


def _first_leaf(group: BaseExceptionGroup[BaseException]) -> BaseException:
    exc: BaseException = group
    while isinstance(exc, BaseExceptionGroup):
        exc = exc.exceptions[0]
    return exc


def _is_v1_version(version: str | None) -> bool:
    # 6.0 is Server 2008, 6.1 Server 2008 R2: both only have root/virtualization.
    return version is not None and version.startswith(("6.0.", "6.1."))


def _os_version(rows: Mapping[str, list[CimInstance]]) -> str | None:
    found = rows.get("cim.os")
    return found[0].get_str("Version") if found else None


async def collect_inventory(
    session: WSManSession,
    *,
    host: str,
    namespace: NamespaceChoice = "auto",
    disks: bool = False,
) -> HostInventory:
    """Collect the standard inventory of one host over ``session``.

    With ``disks``, each virtual hard disk's format, type, capacity and file size are asked
    for too (:func:`_disk_details`): two more requests per disk, so it is opt-in.

    As many requests are in flight at once as the session's pool gives each host connections
    (``Limits.per_host_connections``): more would only queue for a connection.  A fleet's pool
    gives each host one, so its requests go one after the other and the concurrency comes from
    the other hosts.  ``requests`` in the result is left 0 here: the caller knows the session's
    counter.

    Args:
        session: A WS-Management session to the host (``WSManSession``).
        host: ``host:port`` for the result and error messages.
        namespace: ``"v2"``, ``"v1"`` (2008 R2) or ``"auto"`` to detect it.

    Raises:
        HyperVError: Any query failed (transport error, fault, malformed answer).
    """
    width = session.pool.limits.per_host_connections
    if disks:
        found = await collect_inventory(session, host=host, namespace=namespace)
        return await _disk_details(session, found, width)
    cim = _queries(session, NAMESPACE_CIMV2, CIMV2_QUERIES, "cim.")
    if namespace != "auto":
        rows = await _run_jobs({**cim, **_virtualization(session, namespace)}, width)
        return await _finish(session, host, namespace, rows)
    if width <= 1:
        # One request at a time: ask for the OS first, then only the namespace it serves.
        rows = await _run_jobs(cim, width)
        detected: Literal["v1", "v2"] = "v1" if _is_v1_version(_os_version(rows)) else "v2"
        if detected == "v1":
            logger.debug("inventory: %s runs Windows 6.x, using root/virtualization", host)
        rows.update(await _run_jobs(_virtualization(session, detected), width))
        return await _finish(session, host, detected, rows)

    # Several at a time: send the v2 queries together with the cimv2 ones, and go back for
    # the v1 ones only if the host turns out to be 2008 R2 (whose v2 queries fault).
    faults: list[WSManFault] = []

    def speculative(job: Job) -> Job:
        async def run() -> list[CimInstance]:
            try:
                return await job()
            except WSManFault as exc:
                faults.append(exc)
                return []

        return run

    v2 = {key: speculative(job) for key, job in _virtualization(session, "v2").items()}
    rows = await _run_jobs({**cim, **v2}, width)
    version = _os_version(rows)
    if not _is_v1_version(version):
        if faults:
            raise faults[0]  # not a 2008 R2 host, so the v2 fault is the real error
        return await _finish(session, host, "v2", rows)
    logger.debug("inventory: %s runs Windows %s, using root/virtualization", host, version)
    cim_rows = {key: found for key, found in rows.items() if key.startswith("cim.")}
    v1 = await _run_jobs(_virtualization(session, "v1"), width)
    return await _finish(session, host, "v1", {**cim_rows, **v1})


@idempotent  # it only reads: a batch lost with its worker may run again elsewhere
async def inventory_op(host: FleetHost) -> HostInventory:
    """The per-host operation of a fleet inventory, for :meth:`Fleet.run`/:meth:`Fleet.stream`.

    Example::

        async for result in fleet.stream(inventory_op):
            print(result.host, len(result.value.vms) if result.ok else result.error)
    """
    session = await host.session()
    inventory = await collect_inventory(session, host=host.label, namespace=host.uri.namespace)
    return _with_requests(inventory, host.requests)


async def inventory_op_with_disks(host: FleetHost) -> HostInventory:
    """:func:`inventory_op` plus each disk image's details (two requests per disk)."""
    session = await host.session()
    inventory = await collect_inventory(
        session, host=host.label, namespace=host.uri.namespace, disks=True
    )
    return _with_requests(inventory, host.requests)


async def inventory_host(conn: HyperVConnection, *, disks: bool = False) -> HostInventory:
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
    inventory = await collect_inventory(
        session, host=conn.host, namespace=conn.namespace, disks=disks
    )
    return _with_requests(inventory, session.stats.requests - before)


async def inventory(
    hosts: Iterable[str | ConnectionURI],
    *,
    auth: FleetAuth = None,
    concurrency: int = 64,
    timeout: float | None = 60.0,  # noqa: ASYNC109  # per-host deadline handed to Fleet
    pool: SessionPool | None = None,
    on_event: Callable[[FleetEvent[HostInventory]], object] | None = None,
    processes: int = 1,
    disks: bool = False,
) -> FleetResult[HostInventory]:
    """Inventory many hosts at once; one failing host never stops the others.

    ``disks=True`` adds each virtual hard disk's format, type, capacity and file size, at
    two requests per disk (the standard inventory's request count does not grow with VMs).

    A shortcut for ``await Fleet(hosts, ...).run(inventory_op)``; see :class:`Fleet` for the
    arguments.  Check ``result.failed`` or call ``result.raise_for_errors()``.

    Example::

        result = await aiohyperv.inventory(["hyperv://hv01/", "hyperv://hv02/"], auth=cb)
        for r in result.succeeded:
            print(r.host, len(r.value.vms), "VMs")
    """
    from ._fleet import Fleet

    async with Fleet(
        hosts,
        auth=auth,
        concurrency=concurrency,
        timeout=timeout,
        pool=pool,
        processes=processes,
    ) as fleet:
        op = inventory_op_with_disks if disks else inventory_op
        return await fleet.run(op, on_event=on_event)


def _with_requests(inventory: HostInventory, requests: int) -> HostInventory:
    return dataclasses.replace(inventory, requests=requests)


_IMAGE_SERVICE = "Msvm_ImageManagementService"


async def _disk_image(session: WSManSession, path: str) -> list[CimInstance]:
    """GetVirtualHardDiskSettingData and GetVirtualHardDiskState of ``path`` (optional data:
    a fault or a non-zero ReturnValue leaves the disk's details unknown)."""
    out: list[CimInstance] = []
    for method in ("GetVirtualHardDiskSettingData", "GetVirtualHardDiskState"):
        try:
            result = await session.invoke(
                resource_uri(NAMESPACE_V2, _IMAGE_SERVICE),
                method,
                selectors={"CreationClassName": _IMAGE_SERVICE},
                params={"Path": path},
            )
        except WSManFault as exc:
            logger.debug("inventory: %s refused on %s: %s", method, session.label, exc)
            return []
        if result.return_value != 0:  # 4096 is not used for these reads; skip, do not wait
            return []
        out.append(result.as_instance())
    return out


async def _disk_details(session: WSManSession, inv: HostInventory, width: int) -> HostInventory:
    """Fill each v2 disk image's size, file size, format and type (2 requests per disk)."""
    if inv.namespace != "v2":
        return inv
    paths = sorted({d.path for vm in inv.vms for d in vm.disks if d.kind == "disk"})
    jobs: dict[str, Job] = {p: functools.partial(_disk_image, session, p) for p in paths}
    answers = await _run_jobs(jobs, width)
    details: dict[str, DiskInfo] = {}
    for path, (settings, state) in ((p, a) for p, a in answers.items() if len(a) == 2):
        try:
            info = read_disk_image(
                path,
                parse_cimxml(settings.get_str("SettingData") or ""),
                parse_cimxml(state.get_str("State") or ""),
            )
        except (ProtocolError, ValueError, TypeError):
            logger.debug("inventory: unreadable disk details for %s", path)
            continue
        details[path] = DiskInfo(
            path=path,
            kind="disk",
            size=info.capacity,
            file_size=info.file_size,
            format=info.format,
            type=info.type,
        )
    vms = tuple(
        dataclasses.replace(vm, disks=tuple(details.get(d.path, d) for d in vm.disks))
        for vm in inv.vms
    )
    return dataclasses.replace(inv, vms=vms)


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


def _nics(
    rows: list[CimInstance], network: _NetworkIndex, addresses: Mapping[str, list[str]]
) -> tuple[NicInfo, ...]:
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
                addresses=tuple(addresses.get(_split_id(instance_id or "")[-1].upper(), ())),
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
    guest: _Guest | None = None,
) -> VMInventory:
    uuid = (_str(cs, "Name") or "").lower()  # libvirt and `list --json` write it so
    enabled = _int(cs, "EnabledState")
    info = map_enabled_state(namespace, enabled)
    cpu = next(iter(settings.get("cpu", [])), None)
    memory = next(iter(settings.get("memory", [])), None)
    dynamic = _bool(memory, "DynamicMemoryEnabled")
    on_ms = _int(cs, "OnTimeInMilliseconds")
    assigned = _int(summary, "MemoryUsage")
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
        memory_demand_mib=demand_mib(assigned, _int(summary, "MemoryAvailable")),
        memory_assigned_mib=assigned,
        cpu_load=_int(summary, "ProcessorLoad"),
        heartbeat=heartbeat_label(_int(summary, "Heartbeat")),
        health=health_label(_int(summary, "HealthState")),
        replication=replication_label(_int(summary, "ReplicationState")),
        uptime=(on_ms / 1000.0) if on_ms is not None else None,
        generation=_generation(vssd, namespace),
        config_version=_str(vssd, "Version") if namespace == "v2" else None,
        notes=_notes(vssd),
        autostart=_autostart(vssd, namespace),
        disks=_disks(settings.get("storage", [])),
        nics=_nics(settings.get("ports", []), network, guest.addresses if guest else {}),
        fqdn=guest.info.fqdn if guest else None,
        guest_os=guest.info.os_name if guest else None,
        guest_os_version=guest.info.os_version if guest else None,
        integration_services=guest.info.integration_services if guest else None,
    )


@dataclass(frozen=True, slots=True)
class _Guest:
    info: GuestInfo
    addresses: dict[str, list[str]]  # adapter GUID (upper case) -> addresses


def _guests(kvp: list[CimInstance], guestnet: list[CimInstance]) -> dict[str, _Guest]:
    """VM GUID -> what its guest reports (the ``kvp`` and ``guestnet`` rows, joined)."""
    addresses: dict[str, dict[str, list[str]]] = {}
    for row in guestnet:
        parts = _split_id(_str(row, "InstanceID") or "")  # Microsoft:GuestNetwork\<VM>\<NIC>
        if len(parts) >= 3:
            addresses.setdefault(parts[1].upper(), {})[parts[2].upper()] = _list(row, "IPAddresses")
    infos = _guest_infos(kvp)
    return {
        guid: _Guest(infos.get(guid, GuestInfo()), addresses.get(guid, {}))
        for guid in infos.keys() | addresses.keys()
    }


def _split_settings(rows: list[CimInstance]) -> dict[str, list[CimInstance]]:
    """Sort the rows of the folded ``settings`` query by ``ResourceType`` (see V2_QUERIES)."""
    out: dict[str, list[CimInstance]] = {"cpu": [], "storage": [], "connections": []}
    for inst in rows:
        kind = _str(inst, "ResourceType")
        if kind == _PROCESSOR:
            out["cpu"].append(inst)
        elif kind == _ETHERNET_CONNECTION:
            out["connections"].append(inst)
        elif _str(inst, "ResourceSubType") in _DISK_IMAGE_SUBTYPES:
            out["storage"].append(inst)
    return out


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
            :data:`V2_QUERIES` or :data:`V1_QUERIES`) to the instances it returned.  The rows
            of a ``settings`` query are sorted into ``cpu``, ``storage`` and ``connections``.
        requests: Requests the collection took.
    """
    if "settings" in rows:
        rows = {**rows, **_split_settings(rows["settings"])}
    os_row = next(iter(rows.get("cim.os", [])), None)
    if os_row is None:
        raise ProtocolError("Win32_OperatingSystem returned no instance", host=host)
    computer = next(iter(rows.get("cim.computer", [])), None)
    cpus = rows.get("cim.cpu", [])
    os_version = _str(os_row, "Version") or ""
    free_kib = _int(os_row, "FreePhysicalMemory")
    hostname = (
        _str(computer, "DNSHostName") or _str(computer, "Name") or _str(os_row, "CSName") or host
    )
    return HostInventory(
        host=host,
        hostname=hostname,
        os_caption=(_str(os_row, "Caption") or "").strip(),
        os_version=os_version,
        version=_packed_version(os_version),
        namespace=namespace,
        cpu_model=(_str(cpus[0], "Name") or "").strip() or None if cpus else None,
        cpu_sockets=len(cpus),
        cpu_cores=sum(_int(c, "NumberOfCores") or 0 for c in cpus),
        cpu_threads=sum(_int(c, "NumberOfLogicalProcessors") or 0 for c in cpus),
        memory_total=_int(computer, "TotalPhysicalMemory"),
        memory_free=free_kib * 1024 if free_kib is not None else None,
        switches=_switches(rows.get("switches", [])),
        vms=_vms(namespace, rows),
        requests=requests,
    )


def _packed_version(os_version: str) -> int | None:
    """libvirt's packed ``major * 1000000 + minor * 1000 + micro``, None if unparsable."""
    try:
        return pack_version(os_version)
    except InvalidVersion:
        return None


def _vms(
    namespace: Literal["v1", "v2"], rows: Mapping[str, list[CimInstance]]
) -> tuple[VMInventory, ...]:
    """Every VM, with its settings, switch ports and summary joined on its GUID, by name."""
    settings = _settings_by_vm(rows)
    vssd_by_vm = _vssd_by_vm(rows.get("vssd", []))
    network = _network_index(rows.get("switches", []), rows.get("connections", []))
    summaries = _by_upper(rows.get("summary", []), "Name")
    guests = _guests(rows.get("kvp", []), rows.get("guestnet", []))
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
                guests.get(guid),
            )
        )
    vms.sort(key=lambda vm: (vm.name.lower(), vm.uuid))
    return tuple(vms)


def _settings_by_vm(
    rows: Mapping[str, list[CimInstance]],
) -> dict[str, dict[str, list[CimInstance]]]:
    """VM GUID -> settings kind (``cpu``, ``memory``, ``storage``, ``ports``) -> rows."""
    settings: dict[str, dict[str, list[CimInstance]]] = {}
    for key in ("cpu", "memory", "storage", "ports"):
        for guid, items in _group(rows.get(key, [])).items():
            settings.setdefault(guid, {})[key] = items
    return settings


def _vssd_by_vm(rows: list[CimInstance]) -> dict[str, CimInstance]:
    """VM GUID -> its system settings (whichever property of the three names the VM)."""
    by_vm: dict[str, CimInstance] = {}
    for vssd in rows:
        guid = (
            _str(vssd, "VirtualSystemIdentifier")
            or _str(vssd, "SystemName")
            or vm_key(_str(vssd, "InstanceID"))
        )
        if guid:
            by_vm[guid.upper()] = vssd
    return by_vm


def _by_upper(rows: list[CimInstance], key: str) -> dict[str, CimInstance]:
    """The rows by the upper-cased value of their property ``key`` (rows without it dropped)."""
    return {value.upper(): row for row in rows if (value := _str(row, key))}


def _switches(rows: list[CimInstance]) -> tuple[SwitchInfo, ...]:
    """The virtual switches, by name."""
    switches = (
        SwitchInfo(
            name=_str(sw, "ElementName") or _str(sw, "Name") or "", id=_str(sw, "Name") or ""
        )
        for sw in rows
    )
    return tuple(sorted(switches, key=lambda s: s.name.lower()))
