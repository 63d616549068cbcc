"""What the service keeps: per-host and per-VM records, runs and changes (frozen values)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aiohyperv.fleet import HostInventory, VMInventory
    from aiohyperv.fleet._model import JSONValue

__all__ = [
    "Change",
    "ChangeKind",
    "HostRecord",
    "RunRecord",
    "VMRecord",
    "iso",
]

MIB = 1024 * 1024


def iso(ts: float | None) -> str | None:
    """Unix seconds as ISO 8601 UTC with milliseconds (``2026-01-02T03:04:05.678Z``)."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class ChangeKind(StrEnum):
    """What changed between two runs."""

    HOST_ADDED = "host_added"
    HOST_UNREACHABLE = "host_unreachable"
    HOST_BACK = "host_back"
    VM_CREATED = "vm_created"
    VM_REMOVED = "vm_removed"
    VM_RENAMED = "vm_renamed"
    VM_STATE = "vm_state_changed"
    VM_MEMORY = "vm_memory_changed"
    VM_VCPUS = "vm_vcpus_changed"
    VM_DISKS = "vm_disks_changed"
    VM_NICS = "vm_nics_changed"


@dataclass(frozen=True, slots=True, kw_only=True)
class VMRecord:
    """The fields of one VM the service stores and compares.

    ``disks`` and ``nics`` are compact JSON texts (sorted keys), so comparing them compares
    every attached image and adapter.
    """

    host: str
    uuid: str
    name: str
    state: str
    vcpus: int | None = None
    memory_mib: int | None = None
    memory_dynamic: bool | None = None
    memory_max_mib: int | None = None
    memory_demand_mib: int | None = None
    uptime: float | None = None
    generation: int | None = None
    config_version: str | None = None
    notes: str = ""
    disks: str = "[]"
    nics: str = "[]"

    @classmethod
    def from_inventory(cls, host: str, vm: VMInventory) -> VMRecord:
        """The record of ``vm`` as ``host`` reported it."""
        disks = [{"path": d.path, "kind": d.kind, "size": d.size} for d in vm.disks]
        nics = [{"name": n.name, "mac": n.mac, "switch": n.switch} for n in vm.nics]
        return cls(
            host=host,
            uuid=vm.uuid.upper(),
            name=vm.name,
            state=vm.state,
            vcpus=vm.vcpus,
            memory_mib=vm.memory_startup_mib,
            memory_dynamic=vm.memory_dynamic,
            memory_max_mib=vm.memory_max_mib,
            memory_demand_mib=vm.memory_demand_mib,
            uptime=vm.uptime,
            generation=vm.generation,
            config_version=vm.config_version,
            notes=vm.notes,
            disks=json.dumps(disks, sort_keys=True, separators=(",", ":")),
            nics=json.dumps(nics, sort_keys=True, separators=(",", ":")),
        )

    @property
    def memory_bytes(self) -> int:
        """Startup memory in bytes (0 when unknown)."""
        return (self.memory_mib or 0) * MIB

    @property
    def demand_bytes(self) -> int:
        """Memory the guest uses now, in bytes (0 when unknown or off)."""
        return (self.memory_demand_mib or 0) * MIB

    def to_json(self) -> dict[str, JSONValue]:
        """The API's view of the VM."""
        disks: JSONValue = json.loads(self.disks)
        nics: JSONValue = json.loads(self.nics)
        return {
            "host": self.host,
            "uuid": self.uuid,
            "name": self.name,
            "state": self.state,
            "vcpus": self.vcpus,
            "memory_mib": self.memory_mib,
            "memory_dynamic": self.memory_dynamic,
            "memory_max_mib": self.memory_max_mib,
            "memory_demand_mib": self.memory_demand_mib,
            "uptime": self.uptime,
            "generation": self.generation,
            "config_version": self.config_version,
            "notes": self.notes,
            "disks": disks,
            "nics": nics,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class HostRecord:
    """One host's latest known state: its last result, and its VMs from its last success.

    Attributes:
        host: ``host:port``.
        ok: Whether the latest run reached it.
        error: The latest run's error message (None when ok).
        error_type: The exception's class name.
        checked: When the latest run finished with it (unix seconds).
        last_success: When it last answered (None: never).
        elapsed: Seconds its latest inventory took.
        requests: WS-Management requests of its latest inventory.
        vms: Its VMs by upper-case UUID, from its last success.
    """

    host: str
    ok: bool
    error: str | None = None
    error_type: str | None = None
    checked: float = 0.0
    last_success: float | None = None
    elapsed: float = 0.0
    requests: int = 0
    hostname: str | None = None
    os_caption: str | None = None
    os_version: str | None = None
    cpu_model: str | None = None
    cpu_threads: int | None = None
    memory_total: int | None = None
    memory_free: int | None = None
    vms: dict[str, VMRecord] = field(default_factory=dict)

    @classmethod
    def from_inventory(
        cls, inv: HostInventory, *, host: str, checked: float, elapsed: float, requests: int
    ) -> HostRecord:
        """A successful inventory of ``host``."""
        vms = {r.uuid: r for r in (VMRecord.from_inventory(host, vm) for vm in inv.vms)}
        return cls(
            host=host,
            ok=True,
            checked=checked,
            last_success=checked,
            elapsed=elapsed,
            requests=requests,
            hostname=inv.hostname,
            os_caption=inv.os_caption,
            os_version=inv.os_version,
            cpu_model=inv.cpu_model,
            cpu_threads=inv.cpu_threads,
            memory_total=inv.memory_total,
            memory_free=inv.memory_free,
            vms=vms,
        )

    def vm_states(self) -> dict[str, int]:
        """VM count by state."""
        counts: dict[str, int] = {}
        for vm in self.vms.values():
            counts[vm.state] = counts.get(vm.state, 0) + 1
        return counts

    @property
    def memory_assigned(self) -> int:
        """Startup memory of the VMs that are on (running or paused), in bytes."""
        return sum(vm.memory_bytes for vm in self.vms.values() if vm.state in _ON_STATES)

    @property
    def memory_demand(self) -> int:
        """Memory the running guests use, in bytes."""
        return sum(vm.demand_bytes for vm in self.vms.values())

    @property
    def vcpus(self) -> int:
        """Virtual processors of the VMs that are on."""
        return sum(vm.vcpus or 0 for vm in self.vms.values() if vm.state in _ON_STATES)

    def to_json(self) -> dict[str, JSONValue]:
        """The API's view of the host (without its VMs)."""
        states: dict[str, JSONValue] = dict(self.vm_states())
        return {
            "host": self.host,
            "up": self.ok,
            "error": self.error,
            "error_type": self.error_type,
            "checked": iso(self.checked),
            "last_success": iso(self.last_success),
            "elapsed": round(self.elapsed, 4),
            "requests": self.requests,
            "hostname": self.hostname,
            "os_caption": self.os_caption,
            "os_version": self.os_version,
            "cpu_model": self.cpu_model,
            "cpu_threads": self.cpu_threads,
            "memory_total": self.memory_total,
            "memory_free": self.memory_free,
            "memory_assigned": self.memory_assigned,
            "memory_demand": self.memory_demand,
            "vcpus": self.vcpus,
            "vm_count": len(self.vms),
            "vm_states": states,
        }


_ON_STATES = frozenset({"running", "paused"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Change:
    """One difference between two runs.

    ``uuid``/``vm_name`` are set for VM changes; ``old``/``new`` hold the values as text.
    ``id`` is assigned when stored.
    """

    kind: ChangeKind
    host: str
    at: float
    run_id: int | None = None
    uuid: str | None = None
    vm_name: str | None = None
    old: str | None = None
    new: str | None = None
    id: int | None = None

    def to_json(self) -> dict[str, JSONValue]:
        """The API's view of the change."""
        return {
            "id": self.id,
            "run_id": self.run_id,
            "at": iso(self.at),
            "kind": self.kind.value,
            "host": self.host,
            "uuid": self.uuid,
            "vm_name": self.vm_name,
            "old": self.old,
            "new": self.new,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class RunRecord:
    """One inventory run of the whole fleet."""

    id: int
    started: float
    finished: float
    hosts: int
    succeeded: int
    failed: int
    requests: int
    changes: int
    trigger: str

    @property
    def duration(self) -> float:
        """Seconds the run took."""
        return self.finished - self.started

    def to_json(self) -> dict[str, JSONValue]:
        """The API's view of the run."""
        return {
            "id": self.id,
            "started": iso(self.started),
            "finished": iso(self.finished),
            "duration": round(self.duration, 4),
            "hosts": self.hosts,
            "succeeded": self.succeeded,
            "failed": self.failed,
            "requests": self.requests,
            "changes": self.changes,
            "trigger": self.trigger,
        }
