"""``Domain``: one virtual machine on a :class:`HyperVConnection`.

Every operation re-reads the VM's Msvm_ComputerSystem (as libvirt does), so a ``Domain`` never
acts on a stale state.  State checks mirror libvirt's driver: starting an active VM, resuming a
running one or saving a VM in transition raise :class:`InvalidOperation` before anything is
changed on the host.
"""

from __future__ import annotations

import asyncio
import base64
import math
import uuid as uuid_mod
from typing import TYPE_CHECKING

from aiohyperv._exceptions import (
    ConfigError,
    HyperVError,
    InvalidOperation,
    NotFound,
    ProtocolError,
    VMNotFound,
    WSManFault,
)
from aiohyperv._log import logger
from aiohyperv.cim import EPR, CimInstance
from aiohyperv.wsman import EnumerationMode

from . import _wql
from ._devices import (
    RESOURCE_TYPES,
    SUBTYPES,
    build_domain_def,
    classify,
    host_resource,
    row_id,
)
from ._domxml import (
    ControllerDef,
    DiskDef,
    DomainDef,
    InterfaceDef,
    SerialDef,
    format_domain,
    parse_device,
)
from ._enums import (
    AutomaticStartupAction,
    AutomaticStartupActionV1,
    DomainState,
    RequestedState,
    RequestedStateV1,
    StateInfo,
    VcpuState,
    map_enabled_state,
)
from ._image import ImageFormat, convert
from ._jobs import check_result
from ._keycodes import to_win32
from ._paths import format_path
from ._types import DomainInfo, SchedulerParameters, VcpuInfo

if TYPE_CHECKING:
    from collections.abc import Sequence

    from aiohyperv.cim import EmbeddedInstance

    from ._connection import HyperVConnection
    from ._devices import Kind
    from ._guest import GuestInfo, GuestInterface
    from ._snapshots import Consistency, Snapshot
    from ._stats import DomainStats
    from ._vhd import DiskImageInfo

__all__ = ["Domain", "define_domain"]

MAX_SEND_KEYS = 16  # VIR_DOMAIN_SEND_KEY_MAX_KEYS
_SHUTDOWN_REASON = "Planned shutdown via aiohyperv"


def _mb_from_kib(kib: int) -> int:
    """KiB -> MiB rounded up to an even number (Hyper-V wants multiples of 2 MB)."""
    mib = -(-kib // 1024)
    return mib + (mib % 2)


class Domain:
    """One VM.  Get it from a connection's ``list_domains`` or ``lookup_domain_by_*``.

    Attributes:
        name: ElementName.
        uuid: the VM GUID, lower-case (libvirt style).
        id: the worker process ID while active, else -1 (virsh prints ``-``).
    """

    def __init__(self, conn: HyperVConnection, cs: CimInstance) -> None:
        self._conn = conn
        self._guid = cs.get_str("Name") or ""
        self.name = cs.get_str("ElementName") or ""
        try:
            self.uuid = str(uuid_mod.UUID(self._guid))
        except ValueError:
            self.uuid = self._guid.lower()
        self._cs = cs
        info = self._state_info(cs)
        self.id = (cs.get_int("ProcessID") or -1) if info.active else -1

    def __repr__(self) -> str:
        return f"<Domain {self.name!r} {self.uuid} on {self._conn.host}>"

    @property
    def connection(self) -> HyperVConnection:
        """The connection this domain belongs to."""
        return self._conn

    @property
    def guid(self) -> str:
        """The GUID exactly as Hyper-V spells it (upper-case), for WMI queries."""
        return self._guid

    @property
    def cached_state(self) -> DomainState:
        """The state as of the last request (no I/O)."""
        return self._state_info(self._cs).state

    # -- plumbing ------------------------------------------------------------------------------

    def _state_info(self, cs: CimInstance) -> StateInfo:
        return map_enabled_state(self._conn.namespace, cs.get_int("EnabledState"))

    def _error(self, exc: HyperVError) -> HyperVError:
        return exc.with_host(self._conn.host)

    async def _refresh(self) -> CimInstance:
        rows = await self._conn.query(_wql.vm_by_uuid(self._guid))
        if not rows:
            raise self._error(VMNotFound(f"domain {self.name!r} ({self.uuid}) no longer exists"))
        cs = rows[0]
        self._cs = cs
        self.name = cs.get_str("ElementName") or self.name
        info = self._state_info(cs)
        self.id = (cs.get_int("ProcessID") or -1) if info.active else -1
        return cs

    async def _vssd(self) -> CimInstance:
        rows = await self._conn.query(
            _wql.vm_settings(self._guid), mode=EnumerationMode.OBJECT_AND_EPR
        )
        if not rows:
            raise self._error(
                ProtocolError(f"no Msvm_VirtualSystemSettingData for domain {self.name!r}")
            )
        # Prefer the realized (current) configuration over snapshots.
        for row in rows:
            vtype = row.get_str("VirtualSystemType") or ""
            if vtype.endswith("System:Realized"):
                return row
            if row.get_str("SettingType") == "3":
                return row
        return rows[0]

    async def _component(self, vssd_id: str, class_name: str) -> list[CimInstance]:
        return await self._conn.query(_wql.settings_components(vssd_id, class_name))

    async def _component_one(self, vssd_id: str, class_name: str) -> CimInstance:
        rows = await self._component(vssd_id, class_name)
        if not rows:
            raise self._error(ProtocolError(f"no {class_name} for domain {self.name!r}"))
        return rows[0]

    def _cs_epr(self) -> EPR:
        cs = self._cs
        if cs.epr is not None:
            return cs.epr
        return self._conn._cls("Msvm_ComputerSystem").epr(
            CreationClassName="Msvm_ComputerSystem", Name=self._guid
        )

    def _vssd_epr(self, vssd: CimInstance) -> EPR:
        if vssd.epr is not None:
            return vssd.epr
        return self._conn._cls("Msvm_VirtualSystemSettingData").epr(
            InstanceID=vssd.get_str("InstanceID") or ""
        )

    async def _request_state(self, state: int) -> None:
        cls = self._conn._cls("Msvm_ComputerSystem")
        await self._conn.invoke(
            cls.name,
            "RequestStateChange",
            selectors={"CreationClassName": "Msvm_ComputerSystem", "Name": self._guid},
            params={"RequestedState": int(state)},
        )
        await self._refresh()

    def _invalid(self, text: str) -> InvalidOperation:
        return InvalidOperation(f"domain {self.name!r}: {text}", host=self._conn.host)

    @property
    def _v2(self) -> bool:
        return self._conn.namespace == "v2"

    # -- state ---------------------------------------------------------------------------------

    async def state(self) -> tuple[DomainState, int]:
        """``(state, reason)``; Hyper-V gives no reason, so it is 0 (libvirt does the same)."""
        cs = await self._refresh()
        return self._state_info(cs).state, 0

    async def is_active(self) -> bool:
        """True while the VM has a running (or paused) instance."""
        return self._state_info(await self._refresh()).active

    def is_persistent(self) -> bool:
        """Always True: Hyper-V has no transient VMs."""
        return True

    def is_updated(self) -> bool:
        """Always False (libvirt's driver says the same)."""
        return False

    def get_os_type(self) -> str:
        """``"hvm"``."""
        return "hvm"

    async def info(self) -> DomainInfo:
        """State, memory limit and assigned memory (KiB), vCPUs and CPU time.

        The computer system and its settings are fetched concurrently, then the processor and
        memory settings concurrently: two round trips.
        """
        cs, vssd = await self._conn.gather(self._refresh(), self._vssd())
        vssd_id = vssd.get_str("InstanceID") or ""
        proc, mem = await self._conn.gather(
            self._component_one(vssd_id, "Msvm_ProcessorSettingData"),
            self._component_one(vssd_id, "Msvm_MemorySettingData"),
        )
        return DomainInfo(
            state=self._state_info(cs).state,
            max_memory=(mem.get_int("Limit") or 0) * 1024,
            memory=(mem.get_int("VirtualQuantity") or 0) * 1024,
            nr_virt_cpu=proc.get_int("VirtualQuantity") or 0,
            cpu_time=0,
        )

    async def stats(self) -> DomainStats:
        """This VM's live statistics (GetSummaryInformation with its settings as SettingData).

        Two requests: the VM's settings reference, then the summary.
        """
        from ._stats import summary

        vssd = await self._vssd()
        rows = await summary(self._conn, [self._vssd_epr(vssd)])
        if not rows:
            raise self._error(ProtocolError(f"no summary information for domain {self.name!r}"))
        return rows[0]

    async def block_info(self, disk: str) -> DiskImageInfo:
        """Capacity, file size, format and type of one of the domain's disk images.

        Args:
            disk: the disk's target (``sda``, ``hda``...) as ``domblklist`` shows it, or its
                image path.

        Raises:
            NotFound: the domain has no such disk image.
        """
        definition = await self.definition()
        wanted = disk.casefold()
        for entry in definition.disks:
            if entry.device != "disk" or not entry.source:
                continue
            if wanted in ((entry.target_dev or "").casefold(), entry.source.casefold()):
                return await self._conn.disk_image_info(entry.source)
        raise self._error(NotFound(f"domain {self.name!r} has no disk {disk!r}"))

    async def guest_info(self) -> GuestInfo:
        """FQDN, OS name and version, integration services version (KVP intrinsic items)."""
        from ._guest import guest_info

        return await guest_info(self)

    async def interface_addresses(self) -> list[GuestInterface]:
        """Each synthetic NIC with the IP addresses the guest reports (virsh domifaddr)."""
        from ._guest import interface_addresses

        return await interface_addresses(self)

    async def migrate(self, destination: str, *, live: bool | None = None) -> None:
        """Move the domain to the Hyper-V host ``destination``; see :func:`_migration.migrate`."""
        from ._migration import migrate

        await migrate(self, destination, live=live)

    # -- checkpoints (Msvm_VirtualSystemSnapshotService; see _snapshots) ------------------------

    async def snapshot_create(
        self, name: str | None = None, *, consistency: Consistency | None = None
    ) -> Snapshot:
        """Take a checkpoint and wait for it; see :func:`create_snapshot`."""
        from ._snapshots import create_snapshot

        return await create_snapshot(self, name, consistency=consistency)

    async def snapshot_list(self) -> list[Snapshot]:
        """Every checkpoint, oldest first."""
        from ._snapshots import list_snapshots

        return await list_snapshots(self)

    async def snapshot_lookup(self, name: str) -> Snapshot:
        """The checkpoint called ``name``; :class:`NotFound` if none (or several) are."""
        from ._snapshots import lookup_snapshot

        return await lookup_snapshot(self, name)

    async def snapshot_revert(self, name: str) -> Snapshot:
        """Apply a checkpoint (the VM must be off or saved) and wait for it."""
        from ._snapshots import revert_snapshot

        return await revert_snapshot(self, name)

    async def snapshot_delete(self, name: str, *, children: bool = False) -> Snapshot:
        """Delete a checkpoint (``children``: with everything below it) and wait for it."""
        from ._snapshots import delete_snapshot

        return await delete_snapshot(self, name, children=children)

    async def get_max_memory(self) -> int:
        """The memory limit in KiB."""
        vssd = await self._vssd()
        mem = await self._component_one(vssd.get_str("InstanceID") or "", "Msvm_MemorySettingData")
        return (mem.get_int("Limit") or 0) * 1024

    # -- life cycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Start (or restore from a saved state) an inactive VM.

        Raises:
            InvalidOperation: the VM is already active or in transition.
        """
        self._conn.require_writable("start")
        cs = await self._refresh()
        if self._state_info(cs).active:
            raise self._invalid("domain is already active or is in state transition")
        await self._request_state(RequestedState.ENABLED)

    create = start

    async def destroy(self) -> None:
        """Turn the VM off at once (no guest shutdown).

        Raises:
            InvalidOperation: the VM is not active, or is in transition.
        """
        self._conn.require_writable("destroy")
        info = self._state_info(await self._refresh())
        if not info.active or info.transitional:
            raise self._invalid("domain is not active or is in state transition")
        await self._request_state(RequestedState.DISABLED)

    async def shutdown(self) -> None:
        """Ask the guest to shut down through its shutdown integration service.

        Returns once the guest accepted the request; the VM turns off later.

        Raises:
            InvalidOperation: the VM is not active or in transition.
            ProtocolError: the VM has no Msvm_ShutdownComponent (integration services off).
        """
        self._conn.require_writable("shutdown")
        info = self._state_info(await self._refresh())
        if not info.active or info.transitional:
            raise self._invalid("domain is not active or is in state transition")
        rows = await self._conn.query(_wql.shutdown_component(self._guid))
        if not rows:
            raise self._error(
                InvalidOperation(
                    f"could not get Msvm_ShutdownComponent for domain {self.name!r}: "
                    "are its integration services running?"
                )
            )
        comp = rows[0]
        await self._conn.invoke(
            "Msvm_ShutdownComponent",
            "InitiateShutdown",
            selectors={
                "CreationClassName": comp.get_str("CreationClassName") or "Msvm_ShutdownComponent",
                "DeviceID": comp.get_str("DeviceID") or "",
                "SystemCreationClassName": "Msvm_ComputerSystem",
                "SystemName": comp.get_str("SystemName") or self._guid,
            },
            params={"Force": False, "Reason": _SHUTDOWN_REASON},
        )

    async def _running_only(self, operation: str) -> None:
        self._conn.require_writable(operation)
        info = self._state_info(await self._refresh())
        if info.state is not DomainState.RUNNING or info.transitional:
            raise self._invalid("domain is not running")

    async def reboot(self) -> None:
        """Hard-reboot (RequestedState 10).  Raises InvalidOperation unless running."""
        await self._running_only("reboot")
        await self._request_state(RequestedState.REBOOT)

    async def reset(self) -> None:
        """Reset (RequestedState 11).  Raises InvalidOperation unless running."""
        await self._running_only("reset")
        await self._request_state(RequestedState.RESET)

    async def suspend(self) -> None:
        """Pause (v2 Quiesce 9, v1 Paused 32768).  Raises InvalidOperation unless running."""
        await self._running_only("suspend")
        await self._request_state(RequestedState.QUIESCE if self._v2 else RequestedStateV1.PAUSED)

    async def resume(self) -> None:
        """Resume a paused VM.  Raises InvalidOperation unless paused."""
        self._conn.require_writable("resume")
        info = self._state_info(await self._refresh())
        if info.state is not DomainState.PAUSED or info.transitional:
            raise self._invalid("domain is not paused")
        await self._request_state(RequestedState.ENABLED)

    async def managed_save(self) -> None:
        """Save the VM's state to disk and stop it (v2 Offline 6, v1 Suspended 32769).

        Raises:
            InvalidOperation: not active, or in transition.
        """
        self._conn.require_writable("managedsave")
        info = self._state_info(await self._refresh())
        if not info.active or info.transitional:
            raise self._invalid("domain is not active or is in state transition")
        await self._request_state(
            RequestedState.OFFLINE if self._v2 else RequestedStateV1.SUSPENDED
        )

    async def has_managed_save(self) -> bool:
        """True when the VM is saved (v2 EnabledState 6 or 32779, v1 32769)."""
        return self._state_info(await self._refresh()).managed_save

    async def managed_save_remove(self) -> None:
        """Discard the saved state (the VM becomes plain "off").

        Raises:
            InvalidOperation: the VM has no saved state.
        """
        self._conn.require_writable("managedsave-remove")
        if not self._state_info(await self._refresh()).managed_save:
            raise self._invalid("domain has no managed save image")
        await self._request_state(RequestedState.DISABLED)

    # -- autostart -----------------------------------------------------------------------------

    async def _global_settings(self) -> CimInstance | None:
        """v1: Msvm_VirtualSystemGlobalSettingData holds AutomaticStartupAction."""
        try:
            rows = await self._conn.query(
                _wql.select(
                    "Msvm_VirtualSystemGlobalSettingData", f"SystemName = {_wql.quote(self._guid)}"
                )
            )
        except WSManFault as exc:  # a provider without the class
            logger.debug("no Msvm_VirtualSystemGlobalSettingData on %s: %s", self._conn.host, exc)
            return None
        return rows[0] if rows else None

    async def get_autostart(self) -> bool:
        """Whether the VM starts with the host (AutomaticStartupAction "always")."""
        if self._v2:
            vssd = await self._vssd()
            return vssd.get_int("AutomaticStartupAction") == AutomaticStartupAction.ALWAYS_STARTUP
        gsd = await self._global_settings()
        if gsd is None:  # 2008 R2 documents AutomaticStartupAction on the global settings only
            return False
        return gsd.get_int("AutomaticStartupAction") == AutomaticStartupActionV1.ALWAYS_STARTUP

    async def set_autostart(self, autostart: bool) -> None:
        """Start the VM with the host always (True) or never (False)."""
        self._conn.require_writable("autostart")
        if self._v2:
            vssd = await self._vssd()
            action = (
                AutomaticStartupAction.ALWAYS_STARTUP if autostart else AutomaticStartupAction.NONE
            )
            emb = self._conn._cls("Msvm_VirtualSystemSettingData").embed(
                InstanceID=vssd.get_str("InstanceID") or "", AutomaticStartupAction=int(action)
            )
            await self._conn.invoke_vsms("ModifySystemSettings", {"SystemSettings": emb})
            return
        action_v1 = (
            AutomaticStartupActionV1.ALWAYS_STARTUP if autostart else AutomaticStartupActionV1.NONE
        )
        gsd = await self._global_settings()
        if gsd is None:
            # Microsoft's 2008 R2 Msvm_VirtualSystemSettingData has no AutomaticStartupAction:
            # without the global settings there is nothing to set it on.
            raise self._invalid("the host serves no Msvm_VirtualSystemGlobalSettingData")
        emb = self._conn._cls("Msvm_VirtualSystemGlobalSettingData").embed(
            InstanceID=gsd.get_str("InstanceID") or "", AutomaticStartupAction=int(action_v1)
        )
        await self._conn.invoke_vsms(
            "ModifyVirtualSystem", {"ComputerSystem": self._cs_epr(), "SystemSettingData": emb}
        )

    # -- resources -----------------------------------------------------------------------------

    async def _modify_resources(self, settings: Sequence[EmbeddedInstance]) -> None:
        if self._v2:
            await self._conn.invoke_vsms(
                "ModifyResourceSettings", {"ResourceSettings": list(settings)}
            )
        else:
            await self._conn.invoke_vsms(
                "ModifyVirtualSystemResources",
                {"ComputerSystem": self._cs_epr(), "ResourceSettingData": list(settings)},
            )

    async def _add_resources(
        self, vssd: CimInstance, settings: Sequence[EmbeddedInstance]
    ) -> list[EPR]:
        if self._v2:
            result = await self._conn.invoke_vsms(
                "AddResourceSettings",
                {"AffectedConfiguration": self._vssd_epr(vssd), "ResourceSettings": list(settings)},
            )
            return result.as_instance().get_epr_list("ResultingResourceSettings")
        result = await self._conn.invoke_vsms(
            "AddVirtualSystemResources",
            {"TargetSystem": self._cs_epr(), "ResourceSettingData": list(settings)},
        )
        return result.as_instance().get_epr_list("NewResources")

    async def _set_memory_property(self, prop: str, kib: int, operation: str) -> None:
        self._conn.require_writable(operation)
        if kib <= 0:
            raise ConfigError(f"memory must be positive, got {kib} KiB")
        vssd = await self._vssd()
        mem = await self._component_one(vssd.get_str("InstanceID") or "", "Msvm_MemorySettingData")
        emb = self._conn._cls("Msvm_MemorySettingData").embed(
            InstanceID=mem.get_str("InstanceID") or "", **{prop: _mb_from_kib(kib)}
        )
        await self._modify_resources([emb])

    async def set_memory(self, kib: int) -> None:
        """Set the assigned memory (KiB, rounded up to an even number of MiB)."""
        await self._set_memory_property("VirtualQuantity", kib, "setmem")

    async def set_max_memory(self, kib: int) -> None:
        """Set the memory limit (KiB, rounded up to an even number of MiB)."""
        await self._set_memory_property("Limit", kib, "setmaxmem")

    async def set_vcpus(self, count: int) -> None:
        """Set the number of virtual processors.

        Raises:
            ConfigError: ``count`` is below 1.
        """
        self._conn.require_writable("setvcpus")
        if count < 1:
            raise ConfigError(f"a domain needs at least one vCPU, got {count}")
        vssd = await self._vssd()
        proc = await self._component_one(
            vssd.get_str("InstanceID") or "", "Msvm_ProcessorSettingData"
        )
        emb = self._conn._cls("Msvm_ProcessorSettingData").embed(
            InstanceID=proc.get_str("InstanceID") or "", VirtualQuantity=count
        )
        await self._modify_resources([emb])

    async def get_vcpus_count(self) -> int:
        """The configured number of vCPUs."""
        vssd = await self._vssd()
        proc = await self._component_one(
            vssd.get_str("InstanceID") or "", "Msvm_ProcessorSettingData"
        )
        return proc.get_int("VirtualQuantity") or 0

    async def get_vcpus(self) -> list[VcpuInfo]:
        """Per-vCPU state and run time from the hypervisor's performance counters.

        One counter query for all vCPUs (``Name LIKE '<domain>:Hv VP %'``), run concurrently
        with the settings lookup; a vCPU without a counter row is reported offline, and every
        vCPU's state is None (unknown) when the host has no counters at all.
        """
        count, counters = await self._conn.gather(self.get_vcpus_count(), self._vcpu_counters())
        by_number: dict[int, CimInstance] = {}
        prefix = f"{self.name}:Hv VP "
        for row in counters or ():
            name = row.get_str("Name") or ""
            if name.startswith(prefix) and name[len(prefix) :].isdigit():
                by_number[int(name[len(prefix) :])] = row
        result = []
        # Without counters an inactive VM's vCPUs are still known to be offline; a running
        # VM's are unknown.
        unknown = counters is None and self._state_info(self._cs).active
        for n in range(count):
            row = by_number.get(n)
            if unknown:
                result.append(VcpuInfo(number=n, state=None, cpu_time=0))
            elif row is None:
                result.append(VcpuInfo(number=n, state=VcpuState.OFFLINE, cpu_time=0))
            else:
                runtime = row.get_int("PercentTotalRunTime") or 0
                result.append(VcpuInfo(number=n, state=VcpuState.RUNNING, cpu_time=runtime * 100))
        return result

    async def _vcpu_counters(self) -> list[CimInstance] | None:
        try:
            return await self._conn.query(_wql.vcpu_counters(self.name), cimv2=True)
        except WSManFault as exc:
            # No hypervisor counters (role not installed, or WMI refuses the class): the
            # vCPUs' state is unknown (None) rather than a failure, or a false "offline".
            logger.debug("no vCPU counters on %s: %s", self._conn.host, exc)
            return None

    async def get_max_vcpus(self) -> int:
        """The most vCPUs this VM may have (the host's maximum, as libvirt reports)."""
        return await self._conn.get_max_vcpus()

    async def scheduler_parameters(self) -> SchedulerParameters:
        """Limit, reservation and weight of the processor settings (``allocation`` scheduler)."""
        vssd = await self._vssd()
        proc = await self._component_one(
            vssd.get_str("InstanceID") or "", "Msvm_ProcessorSettingData"
        )
        return SchedulerParameters(
            limit=proc.get_int("Limit") or 0,
            reservation=proc.get_int("Reservation") or 0,
            weight=proc.get_int("Weight") or 0,
        )

    def scheduler_type(self) -> tuple[str, int]:
        """``("allocation", 3)``: the scheduler name and number of parameters."""
        return "allocation", 3

    # -- XML -----------------------------------------------------------------------------------

    #: The settings classes a VM's devices live in, per namespace (the per-class path).
    _SETTING_CLASSES_V2 = (
        "Msvm_ProcessorSettingData",
        "Msvm_MemorySettingData",
        "Msvm_ResourceAllocationSettingData",  # controllers, drives, serial ports (a subclass)
        "Msvm_StorageAllocationSettingData",  # disk images
        "Msvm_SyntheticEthernetPortSettingData",  # NICs and their MACs
        "Msvm_EthernetPortAllocationSettingData",  # NIC -> switch connections
    )
    _SETTING_CLASSES_V1 = (
        "Msvm_ProcessorSettingData",
        "Msvm_MemorySettingData",
        "Msvm_ResourceAllocationSettingData",  # controllers, drives, images, serial ports
        "Msvm_SyntheticEthernetPortSettingData",
        "Msvm_EmulatedEthernetPortSettingData",
    )

    async def _settings_rows(self, vssd_id: str) -> list[CimInstance]:
        """Every settings row of the VM: processor, memory and all devices.

        Every one of those classes derives from CIM_ResourceAllocationSettingData, and WQL's
        ``ResultClass`` matches subclasses, so one association query returns them all: one
        round trip instead of six.  A host that refuses the base class gets the per-class
        queries instead, sent concurrently (and the connection remembers to skip the attempt).
        """
        conn = self._conn
        if conn.batch_settings:
            try:
                return await self._component(vssd_id, "CIM_ResourceAllocationSettingData")
            except WSManFault as exc:
                logger.debug("%s refused the CIM_RASD association (%s)", conn.host, exc)
                conn.batch_settings = False
        classes = self._SETTING_CLASSES_V2 if self._v2 else self._SETTING_CLASSES_V1
        groups = await conn.gather(*(self._component(vssd_id, c) for c in classes))
        return [row for group in groups for row in group]

    async def definition(self) -> DomainDef:
        """The VM's libvirt definition as a :class:`DomainDef` (what :meth:`xml_desc` prints).

        Round 1 fetches the computer system and its settings concurrently; round 2 fetches
        every settings row (see :meth:`_settings_rows`).  Pass-through disks add one round for
        their drive numbers.  NICs name their switch by GUID, as libvirt does, so no switch
        query is needed.
        """
        cs, vssd = await self._conn.gather(self._refresh(), self._vssd())
        rows = await self._settings_rows(vssd.get_str("InstanceID") or "")
        proc = next((r for r in rows if r.class_name == "Msvm_ProcessorSettingData"), None)
        mem = next((r for r in rows if r.class_name == "Msvm_MemorySettingData"), None)
        if proc is None or mem is None:
            raise self._error(
                ProtocolError(f"no processor or memory settings for domain {self.name!r}")
            )
        devices = [r for r in rows if r is not proc and r is not mem]
        drive_numbers = await self._drive_numbers(devices)
        return build_domain_def(
            self._conn.namespace,
            cs=cs,
            vssd=vssd,
            processor=proc,
            memory=mem,
            rows=devices,
            drive_numbers=drive_numbers,
        )

    async def _drive_numbers(self, rows: list[CimInstance]) -> dict[str, str]:
        paths = []
        for row in rows:
            if classify(self._conn.namespace, row) not in ("physical_disk", "disk_drive"):
                continue
            res = host_resource(row)
            if res and res[0] and "NODRIVE" not in res[0] and "Msvm_DiskDrive" in res[0]:
                paths.append(res[0])
        if not paths:
            return {}
        found = await self._conn.gather(
            *(self._conn.query(_wql.by_path("Msvm_DiskDrive", p)) for p in paths)
        )
        numbers: dict[str, str] = {}
        for path, hits in zip(paths, found, strict=True):
            if hits and hits[0].get_str("DriveNumber") is not None:
                numbers[path] = hits[0].get_str("DriveNumber") or ""
        return numbers

    async def xml_desc(self) -> str:
        """libvirt domain XML: name, uuid, memory, vCPUs, os, disks, controllers, NICs, serials."""
        return format_domain(await self.definition())

    # -- define / undefine / devices -----------------------------------------------------------

    async def undefine(self) -> None:
        """Delete the VM (its configuration; Hyper-V keeps the disk files).

        Raises:
            InvalidOperation: the VM is active (Hyper-V cannot delete a running VM).
        """
        self._conn.require_writable("undefine")
        cs = await self._refresh()
        if self._state_info(cs).active:
            raise self._invalid("cannot undefine an active domain; destroy it first")
        if self._v2:
            await self._conn.invoke_vsms("DestroySystem", {"AffectedSystem": self._cs_epr()})
        else:
            await self._conn.invoke_vsms("DestroyVirtualSystem", {"ComputerSystem": self._cs_epr()})

    async def attach_device(self, xml: str) -> None:
        """Add a device described by libvirt XML: a disk, a SCSI controller, a NIC, or
        connect a serial port (COM 1/2) to a named pipe.

        Raises:
            ConfigError: the XML is invalid or names something Hyper-V lacks.
            InvalidOperation: no matching controller or switch.
        """
        self._conn.require_writable("attach-device")
        device = parse_device(xml)
        await self._refresh()
        await _Devices(self).attach(device)

    # -- console -------------------------------------------------------------------------------

    async def _resolution(self) -> tuple[int, int]:
        heads = await self._conn.query(_wql.vm_associated(self._guid, "Msvm_VideoHead"))
        for head in heads:
            width = head.get_int("CurrentHorizontalResolution") or 0
            height = head.get_int("CurrentVerticalResolution") or 0
            if width > 0 and height > 0:
                return width, height
        return 640, 480

    async def screenshot(
        self, fmt: ImageFormat = "png", *, width: int | None = None, height: int | None = None
    ) -> bytes:
        """The console as PNG (default) or PPM bytes, from the RGB565 thumbnail.

        The size defaults to the guest's current video resolution (Msvm_VideoHead), else
        640x480, as libvirt does, scaled down to what fits in one WS-Man response
        (MaxEnvelopeSize: 150 KiB by default, about 320x240).  Raise
        ``Limits.max_envelope_size`` (and the host's ``MaxEnvelopeSizekb``) for larger images.

        Raises:
            ConfigError: an explicit size that is not positive or does not fit.
            CimMethodError: the VM is not running (Hyper-V has no console to capture).
        """
        budget = _thumbnail_pixels(self._conn.session.options.max_envelope_size)
        if width is None or height is None:
            (w, h), vssd = await self._conn.gather(self._resolution(), self._vssd())
            width, height = width or w, height or h
            width, height = _fit(width, height, budget)
        else:
            if width <= 0 or height <= 0:
                raise ConfigError(f"screenshot size {width}x{height} must be positive")
            if width * height > budget:
                raise ConfigError(
                    f"a {width}x{height} thumbnail does not fit in MaxEnvelopeSize "
                    f"({self._conn.session.options.max_envelope_size} bytes); ask for at most "
                    f"{budget} pixels or raise Limits.max_envelope_size (and the host's "
                    "MaxEnvelopeSizekb)"
                )
            vssd = await self._vssd()
        # A read-only call: it changes nothing on the host.
        cls = self._conn._cls("Msvm_VirtualSystemManagementService")
        result = await self._conn._session.invoke(
            cls.resource_uri,
            "GetVirtualSystemThumbnailImage",
            selectors=await self._conn.vsms_keys(),
            params={
                "TargetSystem": self._vssd_epr(vssd),
                "WidthPixels": width,
                "HeightPixels": height,
            },
        )
        try:
            check_result(result, "GetVirtualSystemThumbnailImage")
        except HyperVError as exc:
            raise self._error(exc) from None
        data = _image_bytes(result.outputs.get("ImageData"))
        try:
            return convert(data, width, height, fmt)
        except ValueError as exc:
            raise self._error(ProtocolError(f"bad thumbnail from host: {exc}")) from None

    async def send_key(self, codeset: str, keycodes: Sequence[int], holdtime: int = 0) -> None:
        """Press the keys together, hold them ``holdtime`` ms, release them (virsh send-key).

        Raises:
            ConfigError: unknown codeset, untranslatable code, or more than 16 keys.
        """
        self._conn.require_writable("send-key")
        if not keycodes:
            raise ConfigError("send-key needs at least one keycode")
        if len(keycodes) > MAX_SEND_KEYS:
            raise ConfigError(f"at most {MAX_SEND_KEYS} keycodes can be sent at once")
        if holdtime < 0:
            raise ConfigError("holdtime must not be negative")
        vk_codes = to_win32(codeset, keycodes)
        rows = await self._conn.query(_wql.keyboard(self._guid))
        if not rows:
            raise self._error(InvalidOperation(f"domain {self.name!r} has no Msvm_Keyboard"))
        kb = rows[0]
        selectors = {
            "CreationClassName": kb.get_str("CreationClassName") or "Msvm_Keyboard",
            "DeviceID": kb.get_str("DeviceID") or "",
            "SystemCreationClassName": "Msvm_ComputerSystem",
            "SystemName": kb.get_str("SystemName") or self._guid,
        }
        for code in vk_codes:
            await self._conn.invoke(
                "Msvm_Keyboard", "PressKey", selectors=selectors, params={"keyCode": code}
            )
        if holdtime:
            await asyncio.sleep(holdtime / 1000)
        for code in vk_codes:
            await self._conn.invoke(
                "Msvm_Keyboard", "ReleaseKey", selectors=selectors, params={"keyCode": code}
            )


def _thumbnail_pixels(max_envelope_size: int) -> int:
    """How many RGB565 pixels fit in one response: base64 costs 8/3 bytes per pixel."""
    return max(1, (max_envelope_size - 4096) * 3 // 8)


def _fit(width: int, height: int, budget: int) -> tuple[int, int]:
    """Scale ``width`` x ``height`` down (keeping the aspect ratio) to at most ``budget`` pixels.

    WinRM refuses a response larger than MaxEnvelopeSize (150 KiB by default), and Hyper-V
    scales the console into whatever size is asked for, so the default screenshot is the
    console resolution shrunk just enough to fit.
    """
    if width * height <= budget:
        return width, height
    scale = math.sqrt(budget / (width * height))
    return max(1, int(width * scale)), max(1, int(height * scale))


def _image_bytes(value: object) -> bytes:
    """ImageData arrives as base64 text or as one decimal byte per element."""
    if value is None:
        raise ProtocolError("GetVirtualSystemThumbnailImage returned no ImageData")
    if isinstance(value, list):
        try:
            return bytes(int(str(v), 10) for v in value if v is not None)
        except ValueError:
            raise ProtocolError("ImageData holds values that are not bytes") from None
    if isinstance(value, str):
        text = value.strip()
        try:
            return base64.b64decode(text, validate=True)
        except ValueError:
            if text.isdigit():
                return bytes([int(text)])
            raise ProtocolError("ImageData is not base64") from None
    raise ProtocolError(f"ImageData is a {type(value).__name__}")


class _Devices:
    """Adds devices to a VM (shared by attach_device and define_xml)."""

    def __init__(self, dom: Domain) -> None:
        self.dom = dom
        self.conn = dom._conn
        self.ns = dom._conn.namespace
        self._vssd: CimInstance | None = None
        self._rows: list[CimInstance] | None = None
        self._host_name: str | None = None

    async def vssd(self) -> CimInstance:
        if self._vssd is None:
            self._vssd = await self.dom._vssd()
        return self._vssd

    async def rows(self, *, refresh: bool = False) -> list[CimInstance]:
        if self._rows is None or refresh:
            vssd_id = (await self.vssd()).get_str("InstanceID") or ""
            self._rows = await self.conn.query(
                _wql.settings_components(vssd_id, "Msvm_ResourceAllocationSettingData")
            )
        return self._rows

    async def host_name(self) -> str:
        if self._host_name is None:
            cs = await self.conn.computer_system()
            self._host_name = cs.get_str("Name") or ""
        return self._host_name

    @property
    def unit_prop(self) -> str:
        """Where a drive's LUN goes: v2 ``AddressOnParent``, v1 ``Address``."""
        return "AddressOnParent" if self.ns == "v2" else "Address"

    def subtype(self, kind: Kind) -> str:
        return SUBTYPES[self.ns][kind]

    def rtype(self, kind: Kind) -> int:
        return RESOURCE_TYPES[self.ns][kind]

    async def path_of(self, class_name: str, instance_id: str) -> str:
        return format_path(
            class_name,
            {"InstanceID": instance_id},
            server=await self.host_name(),
            namespace=self.conn._wmi_namespace,
        )

    async def add(self, class_name: str, **values: object) -> str:
        """AddResourceSettings with one embedded instance; the new InstanceID."""
        emb = self.conn._cls(class_name).embed(**values)
        eprs = await self.dom._add_resources(await self.vssd(), [emb])
        self._rows = None
        for epr in eprs:
            iid = epr.selector("InstanceID")
            if iid:
                return iid
        raise self.dom._error(ProtocolError(f"adding a {class_name} returned no InstanceID"))

    async def controllers(self, kind: Kind) -> list[CimInstance]:
        rows = await self.rows()
        return [r for r in rows if classify(self.ns, r) == kind]

    async def scsi_controller(self, index: int, *, create: bool) -> CimInstance:
        found = await self.controllers("scsi_controller")
        while create and len(found) <= index:
            await self.add_scsi_controller()
            await self.rows(refresh=True)
            found = await self.controllers("scsi_controller")
        if index >= len(found):
            raise self.dom._invalid(f"there is no SCSI controller {index}")
        return found[index]

    async def add_scsi_controller(self) -> None:
        await self.add(
            "Msvm_ResourceAllocationSettingData",
            ResourceType=self.rtype("scsi_controller"),
            ResourceSubType=self.subtype("scsi_controller"),
        )

    async def ide_channel(self, channel: int) -> CimInstance:
        for row in await self.controllers("ide_controller"):
            address = (row.get_str("Address") or "").strip()
            if address[:1] == str(channel):
                return row
        raise self.dom._invalid(f"there is no IDE channel {channel}")

    async def attach(self, device: DiskDef | ControllerDef | InterfaceDef | SerialDef) -> None:
        if isinstance(device, DiskDef):
            await self.attach_disk(device, create_controllers=False)
        elif isinstance(device, ControllerDef):
            if device.type != "scsi":
                raise ConfigError("Hyper-V's IDE controllers are fixed; only SCSI can be added")
            await self.add_scsi_controller()
        elif isinstance(device, InterfaceDef):
            await self.attach_nic(device)
        else:
            await self.attach_serial(device)

    async def attach_disk(self, disk: DiskDef, *, create_controllers: bool) -> None:
        if disk.source is None:
            raise ConfigError("a disk needs a source to attach")
        image_class = (
            "Msvm_StorageAllocationSettingData"
            if self.ns == "v2"
            else "Msvm_ResourceAllocationSettingData"
        )
        image_prop = "HostResource" if self.ns == "v2" else "Connection"
        if disk.bus == "fdc" or disk.device == "floppy":
            drives = await self.controllers("floppy_drive")
            if not drives:
                raise self.dom._invalid("there is no floppy drive (generation 2 VMs have none)")
            await self.add(
                image_class,
                ResourceType=self.rtype("vfd"),
                ResourceSubType=self.subtype("vfd"),
                Parent=await self.path_of(
                    "Msvm_ResourceAllocationSettingData", row_id(drives[0]) or ""
                ),
                **{image_prop: [disk.source]},
            )
            return
        if disk.bus == "scsi":
            controller = await self.scsi_controller(disk.controller, create=create_controllers)
        else:
            controller = await self.ide_channel(disk.bus_index)
        controller_path = await self.path_of(
            "Msvm_ResourceAllocationSettingData", row_id(controller) or ""
        )
        if disk.source_type == "block":
            await self.add(
                "Msvm_ResourceAllocationSettingData",
                ResourceType=self.rtype("physical_disk"),
                ResourceSubType=self.subtype("physical_disk"),
                Parent=controller_path,
                HostResource=[disk.source],
                **{self.unit_prop: str(disk.unit)},
            )
            return
        drive_kind: Kind = "dvd_drive" if disk.device == "cdrom" else "disk_drive"
        image_kind: Kind = "iso" if disk.device == "cdrom" else "vhd"
        drive_id = await self.add(
            "Msvm_ResourceAllocationSettingData",
            ResourceType=self.rtype(drive_kind),
            ResourceSubType=self.subtype(drive_kind),
            Parent=controller_path,
            **{self.unit_prop: str(disk.unit)},
        )
        await self.add(
            image_class,
            ResourceType=self.rtype(image_kind),
            ResourceSubType=self.subtype(image_kind),
            Parent=await self.path_of("Msvm_ResourceAllocationSettingData", drive_id),
            **{image_prop: [disk.source]},
        )

    async def _switch(self, name: str) -> CimInstance:
        rows = await self.conn.query(_wql.switches(self.ns))
        for row in rows:
            if name in (row.get_str("ElementName"), row.get_str("Name")):
                return row
        lowered = name.lower()
        for row in rows:
            if lowered in (
                (row.get_str("ElementName") or "").lower(),
                (row.get_str("Name") or "").lower(),
            ):
                return row
        raise self.dom._invalid(f"there is no virtual switch {name!r}")

    async def attach_nic(self, nic: InterfaceDef) -> None:
        switch = await self._switch(nic.bridge) if nic.bridge else None
        mac = nic.mac.replace(":", "").upper() if nic.mac else None
        port_values: dict[str, object] = {
            "ResourceType": self.rtype("nic"),
            "ResourceSubType": self.subtype("nic"),
            "ElementName": "Network Adapter",
            "StaticMacAddress": mac is not None,
        }
        if mac:
            port_values["Address"] = mac
        if self.ns == "v1":
            if switch is not None:
                port_values["Connection"] = [
                    format_path(
                        "Msvm_VirtualSwitch",
                        {
                            "CreationClassName": "Msvm_VirtualSwitch",
                            "Name": switch.get_str("Name") or "",
                        },
                        server=await self.host_name(),
                        namespace=self.conn._wmi_namespace,
                    )
                ]
            await self.add("Msvm_SyntheticEthernetPortSettingData", **port_values)
            return
        port_values["VirtualSystemIdentifiers"] = ["{" + self.dom.uuid + "}"]
        port_id = await self.add("Msvm_SyntheticEthernetPortSettingData", **port_values)
        if switch is None:
            return
        switch_path = format_path(
            "Msvm_VirtualEthernetSwitch",
            {
                "CreationClassName": switch.get_str("CreationClassName")
                or "Msvm_VirtualEthernetSwitch",
                "Name": switch.get_str("Name") or "",
            },
            server=await self.host_name(),
            namespace=self.conn._wmi_namespace,
        )
        await self.add(
            "Msvm_EthernetPortAllocationSettingData",
            ResourceType=self.rtype("nic_connection"),
            ResourceSubType=self.subtype("nic_connection"),
            Parent=await self.path_of("Msvm_SyntheticEthernetPortSettingData", port_id),
            HostResource=[switch_path],
        )

    async def attach_serial(self, serial: SerialDef) -> None:
        vssd_id = (await self.vssd()).get_str("InstanceID") or ""
        class_name = (
            "Msvm_SerialPortSettingData"
            if self.ns == "v2"
            else "Msvm_ResourceAllocationSettingData"
        )
        rows = await self.conn.query(_wql.settings_components(vssd_id, class_name))
        for row in rows:
            if classify(self.ns, row) != "serial":
                continue
            digits = "".join(ch for ch in (row.get_str("ElementName") or "") if ch.isdigit())
            if digits and int(digits) == serial.port:
                emb = self.conn._cls(class_name).embed(
                    InstanceID=row_id(row) or "", Connection=[serial.path or ""]
                )
                await self.dom._modify_resources([emb])
                return
        raise self.dom._invalid(f"there is no COM {serial.port} port")


async def define_domain(conn: HyperVConnection, definition: DomainDef) -> Domain:
    """Create a VM from a parsed definition; see :meth:`HyperVConnection.define_xml`."""
    if definition.uuid:
        try:
            await conn.lookup_domain_by_uuid(definition.uuid)
        except VMNotFound:
            pass
        else:
            raise InvalidOperation(
                f"domain already exists with UUID {definition.uuid}", host=conn.host
            )
    existing = await conn.query(_wql.vm_by_name(definition.name))
    if existing:
        raise InvalidOperation(f"domain {definition.name!r} already exists", host=conn.host)
    vssd_cls = conn._cls("Msvm_VirtualSystemSettingData")
    values: dict[str, object] = {"ElementName": definition.name}
    if definition.description:
        values["Notes"] = [definition.description]
    if conn.namespace == "v2":
        if definition.generation == 2:
            values["VirtualSystemSubType"] = "Microsoft:Hyper-V:SubType:2"
        result = await conn.invoke_vsms(
            "DefineSystem", {"SystemSettings": vssd_cls.embed(**values)}
        )
        created = result.outputs.get("ResultingSystem")
    else:
        result = await conn.invoke_vsms(
            "DefineVirtualSystem", {"SystemSettingData": vssd_cls.embed(**values)}
        )
        created = result.outputs.get("DefinedSystem")
    dom: Domain | None = None
    try:
        if isinstance(created, EPR) and created.selector("Name"):
            dom = await conn.lookup_domain_by_uuid(created.selector("Name") or "")
        else:
            dom = await conn.lookup_domain_by_name(definition.name)
        await _configure(dom, definition)
    except BaseException:
        logger.debug("defining %r failed; rolling back", definition.name)
        if dom is not None:
            try:
                await dom.undefine()
            except HyperVError as exc:  # keep the original error
                logger.warning("could not roll back domain %r: %s", definition.name, exc)
        raise
    return dom


async def _configure(dom: Domain, definition: DomainDef) -> None:
    devices = _Devices(dom)
    vssd = await devices.vssd()
    vssd_id = vssd.get_str("InstanceID") or ""
    proc, mem = await dom._conn.gather(
        dom._component_one(vssd_id, "Msvm_ProcessorSettingData"),
        dom._component_one(vssd_id, "Msvm_MemorySettingData"),
    )
    settings: list[EmbeddedInstance] = [
        dom._conn._cls("Msvm_ProcessorSettingData").embed(
            InstanceID=proc.get_str("InstanceID") or "", VirtualQuantity=definition.vcpus
        )
    ]
    # hyperv_driver.c hypervDomainDefineXML: Limit from <maxMemory>, VirtualQuantity from
    # <currentMemory>.  Without <maxMemory> the limit is <memory> (libvirt leaves it alone;
    # writing it keeps <memory> above <currentMemory> from being lost).
    limit_kib = definition.max_memory_kib or definition.memory_kib
    startup_kib = definition.current_memory_kib or definition.memory_kib
    if limit_kib or startup_kib:
        mem_values: dict[str, object] = {"InstanceID": mem.get_str("InstanceID") or ""}
        if limit_kib:
            mem_values["Limit"] = _mb_from_kib(limit_kib)
        if startup_kib:
            mem_values["VirtualQuantity"] = _mb_from_kib(startup_kib)
        settings.append(dom._conn._cls("Msvm_MemorySettingData").embed(**mem_values))
    await dom._modify_resources(settings)
    scsi_wanted = max(
        [c.index + 1 for c in definition.controllers if c.type == "scsi"]
        + [d.controller + 1 for d in definition.disks if d.bus == "scsi"]
        + [0]
    )
    if scsi_wanted:
        await devices.scsi_controller(scsi_wanted - 1, create=True)
    for disk in definition.disks:
        if disk.source is None:
            continue  # an empty drive: Hyper-V would need a drive without media; skip it
        await devices.attach_disk(disk, create_controllers=True)
    for nic in definition.interfaces:
        await devices.attach_nic(nic)
    for serial in definition.serials:
        if serial.path:
            await devices.attach_serial(serial)
