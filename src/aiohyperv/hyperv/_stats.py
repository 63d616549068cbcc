"""Live statistics of every VM of a host in one ``GetSummaryInformation`` call.

``Msvm_VirtualSystemManagementService.GetSummaryInformation(SettingData[], RequestedInformation[])
-> SummaryInformation[]`` (Microsoft, "GetSummaryInformation method of the
Msvm_VirtualSystemManagementService class", ``windows/win32/hyperv_v2``): with ``SettingData``
left out it answers for every VM of the host, and it fills only the ``Msvm_SummaryInformation``
properties whose codes ``RequestedInformation`` lists.  It returns 0 and no job.  2008 R2
(``root/virtualization``) has the same method with the codes below 114 ("GetSummaryInformation
method", ``previous-versions/windows/desktop/virtual``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING

from aiohyperv._exceptions import CimMethodError
from aiohyperv.cim import CimInstance

from ._enums import DomainState, map_enabled_state

if TYPE_CHECKING:
    from collections.abc import Sequence

    from aiohyperv.cim import EPR
    from aiohyperv.wsman import InvokeValue

    from ._connection import HyperVConnection
    from ._enums import NamespaceVersion

__all__ = [
    "STATS_CODES",
    "DomainStats",
    "RequestedInformation",
    "demand_mib",
    "health_label",
    "heartbeat_label",
    "read_stats",
    "replication_label",
    "summary",
]


class RequestedInformation(IntEnum):
    """GetSummaryInformation's ``RequestedInformation`` codes (Microsoft's method page:
    0-99 apply to VMs and snapshots, 100-199 to VMs only)."""

    NAME = 0
    ELEMENT_NAME = 1
    CREATION_TIME = 2
    NOTES = 3
    NUMBER_OF_PROCESSORS = 4
    ENABLED_STATE = 100
    PROCESSOR_LOAD = 101
    PROCESSOR_LOAD_HISTORY = 102
    MEMORY_USAGE = 103
    HEARTBEAT = 104
    UPTIME = 105
    GUEST_OPERATING_SYSTEM = 106
    SNAPSHOTS = 107
    ASYNCHRONOUS_TASKS = 108
    HEALTH_STATE = 109
    OPERATIONAL_STATUS = 110
    STATUS_DESCRIPTIONS = 111
    MEMORY_AVAILABLE = 112
    AVAILABLE_MEMORY_BUFFER = 113
    REPLICATION_STATE = 114
    REPLICATION_HEALTH = 115
    REPLICATION_MODE = 116


R = RequestedInformation
#: What :func:`summary` asks for: everything :class:`DomainStats` holds, nothing heavier
#: (no thumbnails, no load history, no snapshot or job arrays).
STATS_CODES: tuple[int, ...] = (
    R.NAME,
    R.ELEMENT_NAME,
    R.NUMBER_OF_PROCESSORS,
    R.ENABLED_STATE,
    R.PROCESSOR_LOAD,
    R.MEMORY_USAGE,
    R.HEARTBEAT,
    R.UPTIME,
    R.GUEST_OPERATING_SYSTEM,
    R.HEALTH_STATE,
    R.MEMORY_AVAILABLE,
    R.AVAILABLE_MEMORY_BUFFER,
    R.REPLICATION_STATE,
    R.REPLICATION_HEALTH,
)

# Msvm_SummaryInformation.Heartbeat takes CIM OperationalStatus values (Microsoft's
# Msvm_SummaryInformation page): 2 OK, 6 Error, 12 No Contact, 13 Lost Communication.
_HEARTBEAT = {2: "ok", 6: "error", 12: "no contact", 13: "lost communication", 15: "paused"}
# HealthState (CIM_ManagedSystemElement): 5 OK, 20 Major Failure, 25 Critical Failure.
_HEALTH = {5: "ok", 20: "major failure", 25: "critical failure"}
# ReplicationState / ReplicationHealth (Msvm_ComputerSystem and Msvm_SummaryInformation pages).
_REPLICATION = {
    0: "disabled",
    1: "ready for replication",
    2: "waiting to complete initial replication",
    3: "replicating",
    4: "synced replication complete",
    5: "recovered",
    6: "committed",
    7: "suspended",
    8: "critical",
    9: "waiting to start resynchronization",
    10: "resynchronizing",
    11: "resynchronization suspended",
    12: "failover in progress",
    13: "failback in progress",
    14: "failback complete",
}
_REPLICATION_HEALTH = {0: "not applicable", 1: "ok", 2: "warning", 3: "critical"}


def health_label(value: int | None) -> str | None:
    """``HealthState`` as text (``"ok"``, ``"major failure"`` ...)."""
    return None if value is None else _HEALTH.get(value, str(value))


def replication_label(value: int | None) -> str | None:
    """``ReplicationState`` as text (``"disabled"``, ``"replicating"`` ...)."""
    return None if value is None else _REPLICATION.get(value, str(value))


def heartbeat_label(value: int | None) -> str | None:
    """``Heartbeat`` as text (``"ok"``, ``"no contact"`` ...), None when the host gave none."""
    return None if value is None else _HEARTBEAT.get(value, str(value))


@dataclass(frozen=True, slots=True, kw_only=True)
class DomainStats:
    """One VM's live statistics from ``Msvm_SummaryInformation``.

    Attributes:
        name: display name (ElementName).
        uuid: the VM GUID, lower-case (libvirt style).
        state: libvirt state mapped from EnabledState.
        enabled_state: the raw EnabledState.
        vcpus: virtual processors (NumberOfProcessors).
        cpu_load: processor load in percent (ProcessorLoad), None when off.
        memory_assigned_mib: memory currently assigned to the VM (MemoryUsage, MiB).
        memory_available_pct: share of the assigned memory the guest does not need
            (MemoryAvailable, percent; dynamic memory only).
        memory_demand_mib: what the guest needs: assigned minus the available share
            (equals ``memory_assigned_mib`` without dynamic memory).
        memory_buffer_pct: AvailableMemoryBuffer (percent; dynamic memory only).
        heartbeat: the heartbeat integration component's status code (2 OK, 12 No Contact...).
        uptime_ms: milliseconds since the VM was started (UpTime), 0 when off.
        guest_os: the guest OS name the integration services report.
        health_state: HealthState (5 OK, 20 Major Failure, 25 Critical Failure).
        replication_state: ReplicationState (0 Disabled, 3 Replicating...).
        replication_health: ReplicationHealth (0 Not applicable, 1 OK, 2 Warning, 3 Critical).
    """

    name: str
    uuid: str
    state: DomainState
    enabled_state: int | None
    vcpus: int | None = None
    cpu_load: int | None = None
    memory_assigned_mib: int | None = None
    memory_available_pct: int | None = None
    memory_demand_mib: int | None = None
    memory_buffer_pct: int | None = None
    heartbeat: int | None = None
    uptime_ms: int | None = None
    guest_os: str | None = None
    health_state: int | None = None
    replication_state: int | None = None
    replication_health: int | None = None

    @property
    def health(self) -> str | None:
        """HealthState as text."""
        return health_label(self.health_state)

    @property
    def replication(self) -> str | None:
        """ReplicationState as text."""
        return replication_label(self.replication_state)

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready dict (state as its virsh label, codes with their texts)."""
        return {
            "name": self.name,
            "uuid": self.uuid,
            "state": self.state.label,
            "enabled_state": self.enabled_state,
            "vcpus": self.vcpus,
            "cpu_load": self.cpu_load,
            "memory_assigned_mib": self.memory_assigned_mib,
            "memory_demand_mib": self.memory_demand_mib,
            "memory_available_pct": self.memory_available_pct,
            "memory_buffer_pct": self.memory_buffer_pct,
            "heartbeat": heartbeat_label(self.heartbeat),
            "uptime_ms": self.uptime_ms,
            "guest_os": self.guest_os,
            "health": self.health,
            "replication": self.replication,
            "replication_health": None
            if self.replication_health is None
            else _REPLICATION_HEALTH.get(self.replication_health, str(self.replication_health)),
        }


def _uuid(guid: str) -> str:
    return guid.strip("{}").lower()


def demand_mib(assigned: int | None, available_pct: int | None) -> int | None:
    """Memory demand from MemoryUsage and MemoryAvailable (the share not needed)."""
    if assigned is None:
        return None
    if available_pct is None or not 0 <= available_pct <= 100:
        return assigned
    return assigned * (100 - available_pct) // 100


def read_stats(inst: CimInstance, namespace: NamespaceVersion) -> DomainStats:
    """One ``Msvm_SummaryInformation`` as :class:`DomainStats` (missing values stay None)."""
    guid = inst.get_str("Name") or ""
    enabled = inst.get_int("EnabledState")
    assigned = inst.get_int("MemoryUsage")
    available = inst.get_int("MemoryAvailable")
    return DomainStats(
        name=inst.get_str("ElementName") or guid,
        uuid=_uuid(guid),
        state=map_enabled_state(namespace, enabled).state,
        enabled_state=enabled,
        vcpus=inst.get_int("NumberOfProcessors"),
        cpu_load=inst.get_int("ProcessorLoad"),
        memory_assigned_mib=assigned,
        memory_available_pct=available,
        memory_demand_mib=demand_mib(assigned, available),
        memory_buffer_pct=inst.get_int("AvailableMemoryBuffer"),
        heartbeat=inst.get_int("Heartbeat"),
        uptime_ms=inst.get_int("UpTime"),
        guest_os=inst.get_str("GuestOperatingSystem"),
        health_state=inst.get_int("HealthState"),
        replication_state=inst.get_int("ReplicationState"),
        replication_health=inst.get_int("ReplicationHealth"),
    )


async def summary(
    conn: HyperVConnection, settings: Sequence[EPR] = (), *, codes: Sequence[int] = STATS_CODES
) -> list[DomainStats]:
    """Call GetSummaryInformation once (all VMs, or the VMs whose VSSDs ``settings`` names).

    Raises:
        CimMethodError: a non-zero ReturnValue (32773 when a SettingData reference names no
            VM).
    """
    conn._check_open()
    keys = await conn.vsms_keys()
    cls = conn._cls("Msvm_VirtualSystemManagementService")
    if conn.namespace == "v1":  # 2008 R2's Msvm_SummaryInformation predates Replica
        codes = [c for c in codes if c < R.REPLICATION_STATE]
    params: dict[str, InvokeValue] = {"RequestedInformation": [int(c) for c in codes]}
    if settings:
        params["SettingData"] = list(settings)
    result = await conn.session.invoke(
        cls.resource_uri,
        "GetSummaryInformation",
        selectors=keys,
        params=params,
    )
    if result.return_value not in (0, None):
        raise CimMethodError(
            f"GetSummaryInformation returned {result.return_value}",
            method="GetSummaryInformation",
            return_value=result.return_value,
        ).with_host(conn.host)
    value = result.outputs.get("SummaryInformation")
    items = value if isinstance(value, list) else [value]
    return [
        read_stats(item, conn.namespace)
        for item in items
        if isinstance(item, CimInstance) and item.get_str("Name")
    ]
