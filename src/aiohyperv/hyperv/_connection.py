"""``HyperVConnection``: one Hyper-V host, the way libvirt's driver sees it.

Open one with :func:`connect`::

    async with aiohyperv.connect("hyperv://admin@hv01/") as conn:
        for dom in await conn.list_domains():
            print(dom.name, (await dom.info()).state)

The connection detects the WMI namespace per host (``root/virtualization/v2`` on 2012 and newer,
``root/virtualization`` on 2008 R2) from ``Win32_OperatingSystem.Version`` unless the URI says
``namespace=v1|v2``.  Queries that do not depend on each other run concurrently, enumerations
pull in batches, and a read-only connection refuses every change before sending anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid as uuid_mod
from typing import TYPE_CHECKING, Any

from aiohyperv._config import ConnectionURI, parse_uri
from aiohyperv._credentials import Credentials, resolve_session_credentials
from aiohyperv._exceptions import (
    CimMethodError,
    ConfigError,
    HyperVError,
    InvalidOperation,
    NotFound,
    ProtocolError,
    ReadOnlyError,
    VMNotFound,
    WSManFault,
)
from aiohyperv._log import logger
from aiohyperv._version import pack_version
from aiohyperv.cim import CimInstance
from aiohyperv.wsman import EnumerationMode, Filter, wildcard_uri

from .._lifecycle import AsyncClosing
from . import _wql
from ._classes import NAMESPACE_CIMV2, NAMESPACES, WmiClass, lookup
from ._domxml import CapabilitiesDef, format_capabilities, parse_domain
from ._jobs import JobPolicy, check_result, wait_for_job
from ._types import NetworkInfo, NodeInfo

if TYPE_CHECKING:
    from collections.abc import Awaitable, Generator, Mapping
    from types import TracebackType

    from aiohyperv._credentials import AuthCallback
    from aiohyperv._transport import Limits, SessionPool, Timeouts
    from aiohyperv._transport._session import WSManSession
    from aiohyperv.wsman import InvokeValue, MethodResult

    from ._domain import Domain
    from ._enums import NamespaceVersion
    from ._stats import DomainStats
    from ._vhd import DiskImageInfo

__all__ = ["HyperVConnection", "connect"]

_VSMS = "Msvm_VirtualSystemManagementService"
_SWITCH_TTL = 30.0


def _namespace_for_version(version: str | None) -> NamespaceVersion | None:
    """v2 for Windows 6.2 (Server 2012) and newer, v1 below; None if unreadable."""
    if not version:
        return None
    parts = version.split(".")
    try:
        major, minor = int(parts[0]), int(parts[1]) if len(parts) > 1 else 0
    except ValueError:
        return None
    return "v2" if (major, minor) >= (6, 2) else "v1"


def _shorten_cpu_model(name: str) -> str:
    """libvirt's nodeinfo model: drop (R)/(C)/(TM), squeeze spaces, cut at " @ "."""
    out = name.replace("(R)", "").replace("(C)", "").replace("(TM)", "").replace("(tm)", "")
    out = out.split(" @ ", 1)[0]
    return " ".join(out.split())


class HyperVConnection(AsyncClosing):
    """An open connection to one Hyper-V host.

    Create it with :func:`connect`.  All methods are coroutines except the properties; errors
    carry ``.host``.

    Attributes:
        uri: The parsed connection URI.
        namespace: ``"v2"`` or ``"v1"``: the WMI namespace in use on this host.
        read_only: Whether changes are refused.
        os_version: ``Win32_OperatingSystem.Version`` (``"10.0.17763"``).
    """

    def __init__(
        self,
        uri: ConnectionURI,
        session: WSManSession,
        *,
        namespace: NamespaceVersion,
        os_info: CimInstance,
        read_only: bool = False,
        owned_pool: SessionPool | None = None,
        job_policy: JobPolicy | None = None,
        max_elements: int = 100,
        call_timeout: float | None = None,
    ) -> None:
        self.uri = uri
        self.namespace: NamespaceVersion = namespace
        self.read_only = read_only
        self.os_version = os_info.get_str("Version") or ""
        self.job_policy = job_policy or JobPolicy()
        self.max_elements = max_elements
        #: Seconds one query or method call may take in all (None: only the pool's
        #: ``Timeouts``); see :func:`connect`.
        self.call_timeout = call_timeout
        self._session = session
        self._owned_pool = owned_pool
        self._wmi_namespace = NAMESPACES[namespace]
        self._wildcard = wildcard_uri(self._wmi_namespace)
        self._cimv2_wildcard = wildcard_uri(NAMESPACE_CIMV2)
        self._closed = False
        self._computer_system: CimInstance | None = None
        self._vsms_keys: dict[str, str] | None = None
        self._service_keys: dict[str, dict[str, str]] = {}
        self._switches: dict[str, str] = {}
        self._switches_at = -1.0
        #: Fetch a VM's settings with one CIM_ResourceAllocationSettingData association query
        #: (cleared automatically if the host refuses it; then one query per class).
        self.batch_settings = True
        self._switch_task: asyncio.Task[dict[str, str]] | None = None

    def __repr__(self) -> str:
        mode = " read-only" if self.read_only else ""
        state = " closed" if self._closed else ""
        return f"<HyperVConnection {self.uri.host_label} {self.namespace}{mode}{state}>"

    async def aclose(self) -> None:
        """Close the session (and the pool, when this connection created it)."""
        if self._closed:
            return
        self._closed = True
        task = self._switch_task
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, HyperVError):
                await task
        try:
            await self._session.aclose()
        finally:
            if self._owned_pool is not None:
                await self._owned_pool.aclose()

    @property
    def closed(self) -> bool:
        """Whether :meth:`aclose` ran."""
        return self._closed

    @property
    def session(self) -> WSManSession:
        """The underlying WS-Management session (for queries the driver does not wrap)."""
        return self._session

    @property
    def host(self) -> str:
        """``host:port`` of this connection (what errors carry in ``.host``)."""
        return self.uri.host_label

    # -- plumbing ------------------------------------------------------------------------------

    def _cls(self, name: str) -> WmiClass:
        return lookup(self._wmi_namespace, name)

    def _error(self, exc: HyperVError) -> HyperVError:
        return exc.with_host(self.uri.host_label)

    def require_writable(self, operation: str) -> None:
        """Raise :class:`ReadOnlyError` on a read-only connection (before any request)."""
        if self.read_only:
            raise ReadOnlyError(
                f"{operation} changes the host; this connection is read-only",
                host=self.uri.host_label,
            )
        if self._closed:
            raise InvalidOperation("the connection is closed", host=self.uri.host_label)

    def _check_open(self) -> None:
        if self._closed:
            raise InvalidOperation("the connection is closed", host=self.uri.host_label)

    async def query(
        self,
        wql: str,
        *,
        cimv2: bool = False,
        mode: EnumerationMode = EnumerationMode.OBJECTS,
    ) -> list[CimInstance]:
        """Run one WQL query in this host's virtualization namespace (or root/cimv2).

        Results are pulled in batches of ``max_elements``.
        """
        self._check_open()
        uri = self._cimv2_wildcard if cimv2 else self._wildcard
        rows: list[CimInstance] = []
        async with self._session.enumerate(
            uri,
            filter=Filter.wql(wql),
            mode=mode,
            max_elements=self.max_elements,
            timeout=self.call_timeout,
        ) as items:
            async for item in items:
                if isinstance(item, CimInstance):
                    rows.append(item)
        return rows

    async def query_one(self, wql: str, *, cimv2: bool = False, what: str) -> CimInstance:
        """The first row of a query; :class:`ProtocolError` if the host returned none."""
        rows = await self.query(wql, cimv2=cimv2)
        if not rows:
            raise self._error(ProtocolError(f"the host returned no {what}"))
        return rows[0]

    async def gather(self, *aws: Awaitable[Any]) -> list[Any]:
        """Await independent queries concurrently; the first failure cancels the rest."""
        try:
            async with asyncio.TaskGroup() as tg:
                tasks = [tg.create_task(_as_coro(aw)) for aw in aws]
        except BaseExceptionGroup as group:
            # Callers expect the error itself (VMNotFound, a fault...), not a group: raise the
            # first one; the others were caused by the same host or cancelled with it.
            raise group.exceptions[0] from None
        return [t.result() for t in tasks]

    async def invoke(
        self,
        class_name: str,
        method: str,
        *,
        selectors: Mapping[str, str],
        params: Mapping[str, InvokeValue],
        wait: bool = True,
    ) -> MethodResult:
        """Invoke a method; wait for its job when it starts one.

        Raises:
            ReadOnlyError: the connection is read-only.
            CimMethodError: non-zero, non-4096 ReturnValue.
            JobFailed: the job failed or timed out.
        """
        self.require_writable(method)
        cls = self._cls(class_name)
        logger.debug("invoke %s.%s on %s", class_name, method, self.uri.host_label)
        result = await self._session.invoke(
            cls.resource_uri, method, selectors=selectors, params=params, timeout=self.call_timeout
        )
        try:
            job_started = check_result(result, method)
        except CimMethodError as exc:
            raise self._error(exc) from None
        if job_started and wait:
            job = result.job
            assert job is not None  # check_result guarantees it
            try:
                await wait_for_job(
                    self._session,
                    job,
                    method=method,
                    namespace_uri=self._wildcard,
                    policy=self.job_policy,
                )
            except HyperVError as exc:
                raise self._error(exc) from None
        return result

    async def vsms_keys(self) -> dict[str, str]:
        """Selectors of the host's Msvm_VirtualSystemManagementService (looked up once)."""
        if self._vsms_keys is None:
            rows = await self.query(_wql.select(_VSMS))
            keys = {"CreationClassName": _VSMS}
            if rows:
                for name in ("CreationClassName", "Name", "SystemCreationClassName", "SystemName"):
                    value = rows[0].get_str(name)
                    if value:
                        keys[name] = value
            self._vsms_keys = keys
        return self._vsms_keys

    async def service_keys(self, class_name: str) -> dict[str, str]:
        """Selectors of one of the host's singleton services (looked up once per class).

        For the snapshot, image management and migration services, which, like the VSMS,
        are CIM_Service singletons keyed by CreationClassName, Name, SystemCreationClassName
        and SystemName.
        """
        keys = self._service_keys.get(class_name)
        if keys is None:
            rows = await self.query(_wql.select(class_name))
            keys = {"CreationClassName": class_name}
            if rows:
                for name in ("CreationClassName", "Name", "SystemCreationClassName", "SystemName"):
                    value = rows[0].get_str(name)
                    if value:
                        keys[name] = value
            self._service_keys[class_name] = keys
        return keys

    async def invoke_vsms(self, method: str, params: Mapping[str, InvokeValue]) -> MethodResult:
        """Invoke a Msvm_VirtualSystemManagementService method and wait for its job."""
        self.require_writable(method)
        return await self.invoke(_VSMS, method, selectors=await self.vsms_keys(), params=params)

    async def computer_system(self) -> CimInstance:
        """The host's Win32_ComputerSystem (cached: name and memory do not change)."""
        if self._computer_system is None:
            self._computer_system = await self.query_one(
                _wql.select("Win32_ComputerSystem"), cimv2=True, what="Win32_ComputerSystem"
            )
        return self._computer_system

    async def switch_names(self, *, refresh: bool = False) -> dict[str, str]:
        """Virtual switch GUID (lower-case) -> display name; cached for 30 s.

        Concurrent callers share one query (100 concurrent ``xml_desc`` calls send one).
        """
        now = time.monotonic()
        fresh = self._switches_at >= 0 and now - self._switches_at <= _SWITCH_TTL
        if fresh and not refresh:
            return self._switches
        task = self._switch_task
        if task is None or task.done():
            task = self._switch_task = asyncio.ensure_future(self._load_switches())
        return await asyncio.shield(task)

    async def _load_switches(self) -> dict[str, str]:
        rows = await self.query(_wql.switches(self.namespace))
        names: dict[str, str] = {}
        for row in rows:
            guid = row.get_str("Name") or ""
            names[guid.lower()] = row.get_str("ElementName") or guid
        self._switches = names
        self._switches_at = time.monotonic()
        return names

    def job_namespace_uri(self) -> str:
        """The wildcard URI of this host's virtualization namespace."""
        return self._wildcard

    def domain_from(self, cs: CimInstance) -> Domain:
        """Wrap a Msvm_ComputerSystem row."""
        from ._domain import Domain

        return Domain(self, cs)

    # -- connection operations -----------------------------------------------------------------

    async def get_type(self) -> str:
        """``"Hyper-V"`` (libvirt's connectGetType)."""
        return "Hyper-V"

    async def get_version(self) -> int:
        """The Windows version packed as libvirt does: 10.0.17763 -> 1000017763.

        Raises:
            InvalidVersion: the version cannot be packed.
        """
        try:
            return pack_version(self.os_version)
        except HyperVError as exc:
            raise self._error(exc) from None

    async def get_hostname(self) -> str:
        """The host's DNS host name (Win32_ComputerSystem.DNSHostName)."""
        rows = await self.query(_wql.select("Win32_ComputerSystem"), cimv2=True)
        if not rows:
            raise self._error(ProtocolError("the host returned no Win32_ComputerSystem"))
        self._computer_system = rows[0]
        return rows[0].get_str("DNSHostName") or rows[0].get_str("Name") or ""

    async def _processors(self) -> list[CimInstance]:
        cs = await self.computer_system()
        name = cs.get_str("Name") or ""
        return await self.query(_wql.host_processors(name), cimv2=True)

    async def node_info(self) -> NodeInfo:
        """CPU model, speed, topology and memory (libvirt's nodeGetInfo).

        As libvirt: sockets = Win32_Processor rows, cores = NumberOfCores of the first,
        threads = logical processors / cores, cpus = sockets * cores.
        """
        cs, processors = await self.gather(self.computer_system(), self._processors())
        if not processors:
            raise self._error(ProtocolError("the host returned no Win32_Processor"))
        first = processors[0]
        cores = first.get_int("NumberOfCores") or 1
        logical = first.get_int("NumberOfLogicalProcessors") or cores
        sockets = len(processors)
        return NodeInfo(
            model=_shorten_cpu_model(first.get_str("Name") or "unknown"),
            memory=(cs.get_int("TotalPhysicalMemory") or 0) // 1024,
            cpus=sockets * cores,
            mhz=first.get_int("MaxClockSpeed") or 0,
            nodes=1,
            sockets=sockets,
            cores=cores,
            threads=max(1, logical // cores),
        )

    async def get_capabilities(self) -> str:
        """libvirt-style capabilities XML: host UUID, CPU, topology, hvm guests (i686, x86_64)."""
        product, info, processors = await self.gather(
            self.query(_wql.select("Win32_ComputerSystemProduct"), cimv2=True),
            self.node_info(),
            self._processors(),
        )
        host_uuid = product[0].get_str("UUID") if product else None
        if host_uuid:
            try:
                host_uuid = str(uuid_mod.UUID(host_uuid))
            except ValueError:
                pass
        vendor = processors[0].get_str("Manufacturer") if processors else None
        caps = CapabilitiesDef(
            host_uuid=host_uuid,
            cpu_model=info.model,
            cpu_vendor=vendor,
            sockets=info.sockets,
            cores=info.cores,
            threads=info.threads,
            memory_kib=info.memory,
        )
        return format_capabilities(caps)

    async def get_free_memory(self) -> int:
        """Free physical memory in bytes (Win32_OperatingSystem.FreePhysicalMemory * 1024)."""
        os_info = await self.query_one(
            _wql.select("Win32_OperatingSystem"), cimv2=True, what="Win32_OperatingSystem"
        )
        return (os_info.get_int("FreePhysicalMemory") or 0) * 1024

    async def get_max_vcpus(self) -> int:
        """The most vCPUs one VM may have (the ``Microsoft:Definition...Maximum`` row)."""
        row = await self.query_one(
            _wql.max_processor_settings(), what="maximum Msvm_ProcessorSettingData"
        )
        return row.get_int("VirtualQuantity") or 0

    async def list_domains(self, *, active: bool = True, inactive: bool = True) -> list[Domain]:
        """Virtual machines on the host (libvirt's listAllDomains), active and/or inactive.

        "Active" follows the state table: running, paused and transitional VMs.
        """
        if not active and not inactive:
            return []
        flag = None if (active and inactive) else active
        rows = await self.query(_wql.vm_list(self.namespace, active=flag))
        return [self.domain_from(r) for r in rows]

    async def num_of_domains(self) -> int:
        """How many VMs are active."""
        return len(await self.list_domains(active=True, inactive=False))

    async def num_of_defined_domains(self) -> int:
        """How many VMs are inactive."""
        return len(await self.list_domains(active=False, inactive=True))

    async def lookup_domain_by_name(self, name: str) -> Domain:
        """The VM called ``name``.

        Raises:
            VMNotFound: no VM has that name.
            InvalidOperation: several VMs share it (Hyper-V allows that); use the UUID.
        """
        rows = await self.query(_wql.vm_by_name(name))
        # WQL compares strings case-insensitively, and Hyper-V lets "WEB-01" and "web-01"
        # coexist: an exact match wins, so a lookup names exactly one VM whenever it can.
        exact = [r for r in rows if r.get_str("ElementName") == name]
        if exact:
            rows = exact
        if not rows:
            raise self._error(VMNotFound(f"no domain with name {name!r}"))
        if len(rows) > 1:
            raise self._error(
                InvalidOperation(
                    f"multiple domains exist with the name {name!r}: "
                    "repeat the request using a UUID"
                )
            )
        return self.domain_from(rows[0])

    async def lookup_domain_by_uuid(self, uuid: str | uuid_mod.UUID) -> Domain:
        """The VM whose GUID is ``uuid`` (any case, with or without braces).

        Raises:
            VMNotFound: no such VM.
            ConfigError: ``uuid`` is not a UUID.
        """
        text = _normalize_uuid(uuid)
        rows = await self.query(_wql.vm_by_uuid(text))
        if not rows:
            raise self._error(VMNotFound(f"no domain with UUID {text.lower()}"))
        return self.domain_from(rows[0])

    async def lookup_domain_by_id(self, domain_id: int) -> Domain:
        """The running VM whose ID (worker ProcessID) is ``domain_id``.

        Raises:
            VMNotFound: no running VM has that ID.
        """
        if domain_id < 0:
            raise self._error(VMNotFound(f"no domain with ID {domain_id}"))
        rows = await self.query(_wql.vm_by_id(domain_id))
        if not rows:
            raise self._error(VMNotFound(f"no domain with ID {domain_id}"))
        return self.domain_from(rows[0])

    async def lookup_domain(self, ref: str) -> Domain:
        """virsh's ``<domain>`` argument: an ID, then a UUID, then a name."""
        text = ref.strip()
        if text.isdigit():
            try:
                return await self.lookup_domain_by_id(int(text))
            except VMNotFound:
                pass
        try:
            uuid = uuid_mod.UUID(text)
        except ValueError:
            pass
        else:
            try:
                return await self.lookup_domain_by_uuid(uuid)
            except VMNotFound:
                pass
        try:
            return await self.lookup_domain_by_name(text)
        except VMNotFound:
            if not text.isdigit():
                raise
        # A number is most likely meant as an ID: say so, not "no domain with name '99999'".
        raise self._error(VMNotFound(f"no domain with ID {text} or name {text!r}"))

    async def define_xml(self, xml: str) -> Domain:
        """Create a VM from libvirt domain XML (libvirt's domainDefineXML).

        Creates the VM, sets vCPUs and memory, adds SCSI controllers, disks, NICs and serial
        pipes; if any step fails the new VM is deleted again and the error re-raised.

        Raises:
            ReadOnlyError: read-only connection.
            ConfigError: the XML is invalid or asks for something Hyper-V cannot do.
            InvalidOperation: a VM with that UUID or name already exists.
        """
        self.require_writable("define")
        definition = parse_domain(xml)
        from ._domain import define_domain

        return await define_domain(self, definition)

    async def list_networks(self) -> list[NetworkInfo]:
        """Virtual switches as libvirt networks (always active, as libvirt's driver says)."""
        rows = await self.query(_wql.switches(self.namespace))
        nets = [
            NetworkInfo(
                name=r.get_str("ElementName") or r.get_str("Name") or "",
                uuid=_uuid_or_raw(r.get_str("Name")),
            )
            for r in rows
        ]
        return sorted(nets, key=lambda n: n.name)

    async def lookup_network(self, name_or_uuid: str) -> NetworkInfo:
        """One virtual switch by name, else by UUID (virsh's network lookup order).

        Raises:
            NotFound: no switch has that name or UUID.
        """
        nets = await self.list_networks()
        for net in nets:
            if net.name == name_or_uuid:
                return net
        wanted = name_or_uuid.strip("{}").lower()
        for net in nets:
            if net.uuid.lower() == wanted:
                return net
        raise self._error(
            NotFound(f"network not found: no network with matching name or uuid {name_or_uuid!r}")
        )

    async def is_alive(self) -> bool:
        """Probe the host with a cheap request; False if it does not answer properly."""
        if self._closed:
            return False
        try:
            await self.query(
                _wql.select("Win32_OperatingSystem", properties=("Version",)), cimv2=True
            )
        except HyperVError as exc:
            logger.debug("is_alive probe of %s failed: %s", self.uri.host_label, exc)
            return False
        return True

    async def summary(self) -> list[DomainStats]:
        """Live statistics of every VM of the host in one GetSummaryInformation call.

        CPU load, assigned memory and demand, heartbeat, uptime, health and replication
        state; see :class:`DomainStats`.
        """
        from ._stats import summary

        return await summary(self)

    async def disk_image_info(self, path: str) -> DiskImageInfo:
        """Format, type, capacity and file size of the virtual hard disk ``path``.

        Two Msvm_ImageManagementService calls (GetVirtualHardDiskSettingData and
        GetVirtualHardDiskState), sent together; see :class:`DiskImageInfo`.
        """
        from ._vhd import disk_image_info

        return await disk_image_info(self, path)

    def is_encrypted(self) -> bool:
        """True over HTTPS."""
        return self.uri.transport == "https"

    def is_secure(self) -> bool:
        """True over HTTPS (libvirt's connectIsSecure)."""
        return self.uri.transport == "https"


def _uuid_or_raw(name: str | None) -> str:
    if not name:
        return ""
    try:
        return str(uuid_mod.UUID(name))
    except ValueError:
        return name


def _normalize_uuid(uuid: str | uuid_mod.UUID) -> str:
    from aiohyperv._exceptions import ConfigError

    if isinstance(uuid, uuid_mod.UUID):
        return str(uuid).upper()
    try:
        return str(uuid_mod.UUID(uuid.strip())).upper()
    except ValueError:
        raise ConfigError(f"{uuid!r} is not a UUID") from None


async def _as_coro(aw: Awaitable[Any]) -> Any:
    return await aw


async def _open(
    uri: ConnectionURI,
    *,
    auth: Credentials | AuthCallback | None,
    pool: SessionPool | None,
    read_only: bool,
    timeouts: Timeouts | None,
    limits: Limits | None,
    job_policy: JobPolicy | None,
    max_elements: int,
    call_timeout: float | None,
) -> HyperVConnection:
    from aiohyperv._transport import SessionPool as _Pool

    # Certificate authentication proves who we are with the TLS client certificate: there is
    # no password to ask for (MS-WSMV 3.1.4.1.30.5; the server maps the certificate to a user).
    credentials: Credentials | None = (
        None if uri.auth == "certificate" else await resolve_session_credentials(uri, auth)
    )
    owned: SessionPool | None = None
    if pool is None:
        owned = pool = _Pool(limits=limits, timeouts=timeouts)
    session = pool.session(uri, credentials)
    try:
        os_rows: list[CimInstance] = []
        async with session.enumerate(
            wildcard_uri(NAMESPACE_CIMV2),
            filter=Filter.wql(_wql.select("Win32_OperatingSystem")),
            timeout=call_timeout,
        ) as items:
            async for item in items:
                if isinstance(item, CimInstance):
                    os_rows.append(item)
        if not os_rows:
            raise ProtocolError("the host returned no Win32_OperatingSystem", host=uri.host_label)
        os_info = os_rows[0]
        namespace: NamespaceVersion
        if uri.namespace != "auto":
            namespace = uri.namespace
        else:
            detected = _namespace_for_version(os_info.get_str("Version"))
            if detected is None:
                detected = await _probe_namespace(session)
            namespace = detected
        logger.debug(
            "connected to %s (Windows %s, namespace %s)",
            uri.host_label,
            os_info.get_str("Version"),
            namespace,
        )
        return HyperVConnection(
            uri,
            session,
            namespace=namespace,
            os_info=os_info,
            read_only=read_only,
            owned_pool=owned,
            job_policy=job_policy,
            max_elements=max_elements,
            call_timeout=call_timeout,
        )
    except BaseException:
        await session.aclose()
        if owned is not None:
            await owned.aclose()
        raise


async def _probe_namespace(session: WSManSession) -> NamespaceVersion:
    """Ask the v2 namespace for its management service; a fault means v1."""
    try:
        async with session.enumerate(
            wildcard_uri(NAMESPACES["v2"]), filter=Filter.wql(_wql.select(_VSMS))
        ) as items:
            async for _ in items:
                break
    except WSManFault:
        return "v1"
    return "v2"


class _Connector:
    """What :func:`connect` returns: ``await`` it, or use it with ``async with``."""

    def __init__(self, coro_factory: Any) -> None:
        self._factory = coro_factory
        self._conn: HyperVConnection | None = None

    def __await__(self) -> Generator[Any, None, HyperVConnection]:
        return self._factory().__await__()  # type: ignore[no-any-return]

    async def __aenter__(self) -> HyperVConnection:
        self._conn = await self._factory()
        return self._conn

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._conn is not None:
            await self._conn.aclose()


def connect(
    uri: str | ConnectionURI,
    *,
    auth: Credentials | AuthCallback | None = None,
    pool: SessionPool | None = None,
    read_only: bool = False,
    timeouts: Timeouts | None = None,
    limits: Limits | None = None,
    job_timeout: float = 300.0,
    max_elements: int = 100,
    call_timeout: float | None = None,
) -> _Connector:
    """Open a connection to one Hyper-V host.

    Use it as ``async with connect(uri) as conn:`` (closed on exit) or ``conn = await
    connect(uri)`` (then ``await conn.aclose()``).

    Args:
        uri: ``hyperv://[user@]host[:port]/[?transport=http&namespace=v1|v2&no_verify=1]``.
        auth: Credentials, or an auth callback; None uses the environment and libvirt's
            auth.conf (see :func:`~aiohyperv.default_auth`).
        pool: A :class:`~aiohyperv._transport.SessionPool` to share; None creates a private
            one that the connection closes.
        read_only: Refuse every operation that would change the host.
        timeouts: For a private pool.
        limits: For a private pool.
        job_timeout: How long to wait for a Msvm_ConcreteJob, in seconds.
        max_elements: Batch size of enumerations.
        call_timeout: Seconds one query or method call may take in all, retries and
            ``w:TimedOut`` re-sends included (a job wait has ``job_timeout``); past it
            :class:`~aiohyperv.TransportTimeout`.  None: only the pool's ``Timeouts`` bound
            each HTTP exchange, and a host answering every Pull with ``w:TimedOut`` can hold
            a query for ``RetryPolicy.pull_timeouts`` times its OperationTimeout.

    Raises:
        ConfigError: bad URI; CredentialsError: no credentials; TransportError or
            WSManFault: the host could not be reached or refused the first query.
    """
    parsed = parse_uri(uri) if isinstance(uri, str) else uri
    policy = JobPolicy(timeout=job_timeout)
    if call_timeout is not None and not call_timeout > 0:
        raise ConfigError(f"call_timeout must be positive, not {call_timeout!r}")

    def factory() -> Awaitable[HyperVConnection]:
        return _open(
            parsed,
            auth=auth,
            pool=pool,
            read_only=read_only,
            timeouts=timeouts,
            limits=limits,
            job_policy=policy,
            max_elements=max_elements,
            call_timeout=call_timeout,
        )

    return _Connector(factory)
