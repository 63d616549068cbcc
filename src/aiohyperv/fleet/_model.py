"""The inventory of one Hyper-V host, as frozen values that serialise to plain JSON.

Memory sizes are bytes except where a name says MiB (Hyper-V's own unit for VM memory), and
times are seconds, so the JSON output needs no unit table.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TypeAlias

__all__ = [
    "DiskInfo",
    "HostInventory",
    "JSONValue",
    "NicInfo",
    "SwitchInfo",
    "VMInventory",
    "to_json_object",
    "to_jsonable",
]

JSONValue: TypeAlias = "str | int | float | bool | list[JSONValue] | dict[str, JSONValue] | None"


@dataclass(frozen=True, slots=True, kw_only=True)
class SwitchInfo:
    """A virtual switch on the host.

    Attributes:
        name: The switch's display name (``ElementName``).
        id: Its WMI ``Name`` (a GUID).
    """

    name: str
    id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DiskInfo:
    """A disk or DVD image attached to a VM.

    Attributes:
        path: The image file (``.vhdx``/``.vhd``/``.iso``) or pass-through disk path.
        kind: ``"disk"`` for hard disk images, ``"dvd"`` for optical media.
        size: Maximum size in bytes (MaxInternalSize) when the host reports it, else None.
        file_size: The image file's size on the host in bytes (FileSize).
        format: ``"vhd"``, ``"vhdx"`` or ``"vhdset"``.
        type: ``"fixed"``, ``"dynamic"`` or ``"differencing"``.

    The last three (and ``size``) come from Msvm_ImageManagementService, two requests per
    disk, so only an inventory run with ``disks=True`` fills them.
    """

    path: str
    kind: str = "disk"
    size: int | None = None
    file_size: int | None = None
    format: str | None = None
    type: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class NicInfo:
    """A network adapter of a VM.

    Attributes:
        name: The adapter's display name.
        mac: MAC address as ``00:15:5D:..`` (None before the first start of a dynamic MAC).
        switch: Name of the switch it is connected to, or None when disconnected.
        static_mac: True when the MAC was set by hand rather than assigned by the host.
        addresses: The IP addresses the guest reports on it (integration services, running
            guests only; Msvm_GuestNetworkAdapterConfiguration).
    """

    name: str
    mac: str | None = None
    switch: str | None = None
    static_mac: bool | None = None
    addresses: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class VMInventory:
    """One virtual machine.

    Attributes:
        name: Display name (``ElementName``).
        uuid: The VM's GUID (``Msvm_ComputerSystem.Name``), lower case as libvirt writes it.
        id: libvirt-style domain ID (the worker process ID) while running, else None.
        state: libvirt state label (``"running"``, ``"shut off"``, ``"paused"`` ...).
        enabled_state: The raw ``EnabledState``.
        vcpus: Virtual processors.
        memory_startup_mib: Startup memory (MiB).
        memory_dynamic: Whether dynamic memory is on (None on hosts that predate it).
        memory_min_mib / memory_max_mib: Dynamic memory bounds (MiB) when dynamic memory is on.
        memory_demand_mib: Memory the running guest needs (MiB): MemoryUsage less the share
            MemoryAvailable says it does not need (dynamic memory), else MemoryUsage.
        memory_assigned_mib: Memory assigned to the running VM (MemoryUsage, MiB).
        cpu_load: Processor load in percent (ProcessorLoad) while running.
        heartbeat: Heartbeat integration component status (``"ok"``, ``"no contact"`` ...).
        health: HealthState as text (``"ok"``, ``"major failure"``, ``"critical failure"``).
        replication: Hyper-V Replica state (``"disabled"``, ``"replicating"`` ...); None on
            2008 R2, which predates Replica.
        uptime: Seconds since the VM was started (0 when off).
        generation: 1 or 2 (2008 R2 has only generation 1).
        config_version: Configuration version such as ``"9.0"`` (None on 2008 R2).
        notes: The VM's notes.
        autostart: True when the VM always starts with the host (AutomaticStartupAction 4);
            None when not collected (2008 R2).
        disks: Attached disk and DVD images.
        nics: Network adapters.
        fqdn / guest_os / guest_os_version / integration_services: What a running guest's
            integration services report (KVP FullyQualifiedDomainName, OSName, OSVersion,
            IntegrationServicesVersion); None otherwise and on 2008 R2.
    """

    name: str
    uuid: str
    id: int | None
    state: str
    enabled_state: int | None
    vcpus: int | None = None
    memory_startup_mib: int | None = None
    memory_dynamic: bool | None = None
    memory_min_mib: int | None = None
    memory_max_mib: int | None = None
    memory_demand_mib: int | None = None
    memory_assigned_mib: int | None = None
    cpu_load: int | None = None
    heartbeat: str | None = None
    health: str | None = None
    replication: str | None = None
    uptime: float | None = None
    generation: int | None = None
    config_version: str | None = None
    notes: str = ""
    autostart: bool | None = None
    disks: tuple[DiskInfo, ...] = ()
    nics: tuple[NicInfo, ...] = ()
    fqdn: str | None = None
    guest_os: str | None = None
    guest_os_version: str | None = None
    integration_services: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class HostInventory:
    """Everything the standard inventory collects from one host.

    Attributes:
        host: ``host:port`` the host was reached at.
        hostname: The host's DNS name as it reports it.
        os_caption: ``Win32_OperatingSystem.Caption``.
        os_version: ``Win32_OperatingSystem.Version`` (e.g. ``"10.0.17763"``).
        version: ``os_version`` packed like libvirt's hypervisor version (``1000017763``).
        namespace: ``"v2"`` (2012 and newer) or ``"v1"`` (2008 R2).
        cpu_model: Name of the first processor.
        cpu_sockets / cpu_cores / cpu_threads: Processor packages, cores and logical processors.
        memory_total: Physical memory in bytes.
        memory_free: Free physical memory in bytes.
        switches: Virtual switches.
        vms: Virtual machines, sorted by name.
        requests: WS-Management requests the inventory took.
        missing: Optional data the host did not give, so left out of the VMs (``"summary"``:
            ``GetSummaryInformation``, which supplies ``memory_demand_mib``); everything else
            is complete.
    """

    host: str
    hostname: str
    os_caption: str
    os_version: str
    version: int | None
    namespace: str
    cpu_model: str | None
    cpu_sockets: int
    cpu_cores: int
    cpu_threads: int
    memory_total: int | None
    memory_free: int | None
    switches: tuple[SwitchInfo, ...] = ()
    vms: tuple[VMInventory, ...] = ()
    requests: int = 0
    missing: tuple[str, ...] = ()

    @property
    def running(self) -> int:
        """How many VMs are running."""
        return sum(1 for vm in self.vms if vm.state == "running")


def to_jsonable(value: object) -> JSONValue:
    """Turn an inventory value (dataclasses, tuples, scalars) into JSON-ready dicts and lists."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def to_json_object(value: object) -> dict[str, JSONValue]:
    """:func:`to_jsonable` for a dataclass instance: always a dict."""
    result = to_jsonable(value)
    if not isinstance(result, dict):
        raise TypeError(f"expected a dataclass instance, got {type(value).__name__}")
    return result
