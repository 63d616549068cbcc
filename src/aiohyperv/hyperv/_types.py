"""Value objects the driver returns: node, domain, vCPU, scheduler and network information."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ._enums import DomainState, VcpuState

__all__ = [
    "DomainInfo",
    "NetworkInfo",
    "NodeInfo",
    "SchedulerParameters",
    "VcpuInfo",
]


class _AsDict(Protocol):
    def as_dict(self) -> dict[str, object]: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeInfo:
    """libvirt's ``virNodeInfo`` for a Hyper-V host (``virsh nodeinfo``).

    Attributes:
        model: CPU model, shortened as libvirt does ("Intel Xeon CPU E5-2690 v4").
        memory: total physical memory in KiB.
        cpus: logical CPUs counted the libvirt way (sockets * cores).
        mhz: maximum clock speed.
        nodes: NUMA nodes (libvirt reports 1 for Hyper-V).
        sockets: CPU sockets (Win32_Processor rows).
        cores: cores per socket.
        threads: threads per core.
    """

    model: str
    memory: int
    cpus: int
    mhz: int
    nodes: int
    sockets: int
    cores: int
    threads: int

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class DomainInfo:
    """libvirt's ``virDomainInfo`` (``virsh dominfo``).

    Attributes:
        state: the libvirt state.
        max_memory: the memory limit in KiB (Msvm_MemorySettingData.Limit).
        memory: the assigned memory in KiB (VirtualQuantity).
        nr_virt_cpu: virtual processors.
        cpu_time: CPU time used in nanoseconds (Hyper-V does not report it: 0, as libvirt).
    """

    state: DomainState
    max_memory: int
    memory: int
    nr_virt_cpu: int
    cpu_time: int = 0

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready dict (state as its virsh label)."""
        return {
            "state": self.state.label,
            "max_memory": self.max_memory,
            "memory": self.memory,
            "nr_virt_cpu": self.nr_virt_cpu,
            "cpu_time": self.cpu_time,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class VcpuInfo:
    """libvirt's ``virVcpuInfo`` (``virsh vcpuinfo``); Hyper-V does not pin vCPUs, cpu is -1.

    ``state`` is None when the host has no hypervisor counters to tell (the counter class is
    missing or refused): the state is unknown, which is not the same as offline.
    """

    number: int
    state: VcpuState | None
    cpu_time: int
    cpu: int = -1

    @property
    def state_label(self) -> str:
        """``"running"``, ``"offline"``, ``"blocked"``, or ``"unknown"``."""
        return self.state.name.lower() if self.state is not None else "unknown"

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return {
            "number": self.number,
            "state": self.state_label,
            "cpu_time": self.cpu_time,
            "cpu": self.cpu,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class SchedulerParameters:
    """The ``allocation`` scheduler's parameters (``virsh schedinfo``), from the processor settings.

    Attributes:
        limit: maximum share of the vCPUs' capacity, in thousandths of a percent (0-100000).
        reservation: guaranteed share, same unit.
        weight: relative weight (1-10000).
    """

    limit: int
    reservation: int
    weight: int
    scheduler: str = "allocation"

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class NetworkInfo:
    """A Hyper-V virtual switch as a libvirt network (``virsh net-list``): always active."""

    name: str
    uuid: str
    active: bool = True
    persistent: bool = True
    autostart: bool = True

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return asdict(self)
