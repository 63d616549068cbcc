"""Every numeric code the driver reads or writes, as an IntEnum, and the one state mapping table.

Hyper-V's two WMI namespaces number VM states differently: ``root/virtualization`` (v1, Windows
Server 2008 R2) uses vendor values 32768+ for paused and saved, while ``root/virtualization/v2``
(2012 and newer) uses the DMTF values 9 (Quiesce) and 6 (Enabled but Offline).  libvirt's driver
mixes the two families (it reports a v2 saved or paused VM as "no state"); aiohyperv keeps one
enum per namespace and one table, :data:`STATE_TABLE`, that maps both onto libvirt's
:class:`DomainState`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Literal, TypeAlias

__all__ = [
    "STATE_TABLE",
    "AutomaticStartupAction",
    "AutomaticStartupActionV1",
    "DomainState",
    "EnabledStateV1",
    "EnabledStateV2",
    "JobState",
    "NamespaceVersion",
    "RequestedState",
    "RequestedStateV1",
    "ResourceType",
    "ReturnCode",
    "StateInfo",
    "VcpuState",
    "active_states",
    "map_enabled_state",
    "return_code",
]

NamespaceVersion: TypeAlias = Literal["v1", "v2"]


class DomainState(IntEnum):
    """libvirt's ``virDomainState``: what ``virsh domstate`` prints, same numbers."""

    NOSTATE = 0
    RUNNING = 1
    BLOCKED = 2
    PAUSED = 3
    SHUTDOWN = 4
    SHUTOFF = 5
    CRASHED = 6
    PMSUSPENDED = 7

    @property
    def label(self) -> str:
        """The text virsh prints for this state (``"shut off"``, ``"running"`` ...)."""
        return _STATE_LABELS[self]


_STATE_LABELS: dict[DomainState, str] = {
    DomainState.NOSTATE: "no state",
    DomainState.RUNNING: "running",
    DomainState.BLOCKED: "idle",
    DomainState.PAUSED: "paused",
    DomainState.SHUTDOWN: "in shutdown",
    DomainState.SHUTOFF: "shut off",
    DomainState.CRASHED: "crashed",
    DomainState.PMSUSPENDED: "pmsuspended",
}


class VcpuState(IntEnum):
    """libvirt's ``virVcpuState``, as ``virsh vcpuinfo`` prints it."""

    OFFLINE = 0
    RUNNING = 1
    BLOCKED = 2


class EnabledStateV2(IntEnum):
    """``Msvm_ComputerSystem.EnabledState`` in ``root/virtualization/v2`` (2012 and newer)."""

    UNKNOWN = 0
    OTHER = 1
    ENABLED = 2  # running
    DISABLED = 3  # off
    SHUTTING_DOWN = 4
    NOT_APPLICABLE = 5
    ENABLED_BUT_OFFLINE = 6  # saved
    IN_TEST = 7
    DEFERRED = 8
    QUIESCE = 9  # paused
    STARTING = 10
    # Vendor values Hyper-V reports while a transition runs.
    STARTING_VENDOR = 32770
    SNAPSHOTTING = 32771
    SAVING = 32773
    STOPPING = 32774
    PAUSING = 32776
    RESUMING = 32777
    FAST_SAVED = 32779
    FAST_SAVING = 32780


class EnabledStateV1(IntEnum):
    """``Msvm_ComputerSystem.EnabledState`` in ``root/virtualization`` (2008 R2)."""

    UNKNOWN = 0
    ENABLED = 2
    DISABLED = 3
    PAUSED = 32768
    SUSPENDED = 32769  # saved
    STARTING = 32770
    SNAPSHOTTING = 32771
    SAVING = 32773
    STOPPING = 32774
    PAUSING = 32776
    RESUMING = 32777


class RequestedState(IntEnum):
    """``RequestStateChange(RequestedState)`` values in the v2 namespace."""

    ENABLED = 2  # start / resume
    DISABLED = 3  # turn off (hard)
    SHUT_DOWN = 4  # v1 only in practice; v2 uses Msvm_ShutdownComponent
    OFFLINE = 6  # save
    TEST = 7
    DEFER = 8
    QUIESCE = 9  # pause
    REBOOT = 10
    RESET = 11


class RequestedStateV1(IntEnum):
    """``RequestStateChange(RequestedState)`` values in the v1 namespace."""

    ENABLED = 2
    DISABLED = 3
    SHUT_DOWN = 4
    REBOOT = 10
    RESET = 11
    PAUSED = 32768
    SUSPENDED = 32769  # save


class ReturnCode(IntEnum):
    """WMI method return values: the CIM family (0-4099) and the Msvm family (32768+)."""

    COMPLETED_OK = 0
    NOT_SUPPORTED = 1
    UNKNOWN_ERROR = 2
    CANNOT_COMPLETE_WITHIN_TIMEOUT = 3
    FAILED = 4
    INVALID_PARAMETER = 5
    IN_USE = 6
    TRANSITION_STARTED = 4096  # "Method Parameters Checked - Job Started"
    INVALID_STATE_TRANSITION = 4097
    TIMEOUT_PARAMETER_NOT_SUPPORTED = 4098
    BUSY = 4099
    MSVM_FAILED = 32768
    MSVM_ACCESS_DENIED = 32769
    MSVM_NOT_SUPPORTED = 32770
    MSVM_STATUS_UNKNOWN = 32771
    MSVM_TIMEOUT = 32772
    MSVM_INVALID_PARAMETER = 32773
    MSVM_SYSTEM_IN_USE = 32774
    MSVM_INVALID_STATE = 32775
    MSVM_INCORRECT_DATA_TYPE = 32776
    MSVM_SYSTEM_NOT_AVAILABLE = 32777
    MSVM_OUT_OF_MEMORY = 32778


def return_code(value: int) -> ReturnCode | int:
    """``ReturnCode(value)`` when known, else the bare int (hosts may invent new codes)."""
    try:
        return ReturnCode(value)
    except ValueError:
        return value


class JobState(IntEnum):
    """``CIM_ConcreteJob.JobState``."""

    NEW = 2
    STARTING = 3
    RUNNING = 4
    SUSPENDED = 5
    SHUTTING_DOWN = 6
    COMPLETED = 7
    TERMINATED = 8
    KILLED = 9
    EXCEPTION = 10
    SERVICE = 11
    QUERY_PENDING = 12

    @property
    def failed(self) -> bool:
        """True for the end states that are not success (libvirt counts Service as failure)."""
        return self in _FAILED_JOB_STATES

    @property
    def finished(self) -> bool:
        """True once the job will not change any more."""
        return self is JobState.COMPLETED or self in _FAILED_JOB_STATES


_FAILED_JOB_STATES = frozenset(
    {JobState.TERMINATED, JobState.KILLED, JobState.EXCEPTION, JobState.SERVICE}
)


class ResourceType(IntEnum):
    """DMTF ``CIM_ResourceAllocationSettingData.ResourceType`` values Hyper-V uses."""

    OTHER = 1
    COMPUTER_SYSTEM = 2
    PROCESSOR = 3
    MEMORY = 4
    IDE_CONTROLLER = 5
    PARALLEL_SCSI_HBA = 6
    FC_HBA = 7
    ISCSI_HBA = 8
    IB_HCA = 9
    ETHERNET_ADAPTER = 10
    OTHER_NETWORK_ADAPTER = 11
    IO_SLOT = 12
    IO_DEVICE = 13
    FLOPPY_DRIVE = 14
    CD_DRIVE = 15
    DVD_DRIVE = 16
    DISK_DRIVE = 17
    TAPE_DRIVE = 18
    STORAGE_EXTENT = 19
    OTHER_STORAGE_DEVICE = 20
    SERIAL_PORT = 21
    PARALLEL_PORT = 22
    USB_CONTROLLER = 23
    GRAPHICS_CONTROLLER = 24
    IEEE_1394_CONTROLLER = 25
    PARTITIONABLE_UNIT = 26
    BASE_PARTITIONABLE_UNIT = 27
    POWER = 28
    COOLING_CAPACITY = 29
    ETHERNET_SWITCH_PORT = 30
    LOGICAL_DISK = 31
    STORAGE_VOLUME = 32
    ETHERNET_CONNECTION = 33


class AutomaticStartupAction(IntEnum):
    """v2 ``Msvm_VirtualSystemSettingData.AutomaticStartupAction``; libvirt autostart = 4."""

    NONE = 2
    RESTART_IF_PREVIOUSLY_ACTIVE = 3
    ALWAYS_STARTUP = 4


class AutomaticStartupActionV1(IntEnum):
    """v1 ``AutomaticStartupAction`` (0 none, 1 restart if previously running, 2 always)."""

    NONE = 0
    RESTART_IF_PREVIOUSLY_RUNNING = 1
    ALWAYS_STARTUP = 2


@dataclass(frozen=True, slots=True, kw_only=True)
class StateInfo:
    """What one EnabledState value means to libvirt.

    Attributes:
        state: the libvirt domain state.
        active: the VM has a running (or paused) instance: it has an ID, may be destroyed.
        transitional: Hyper-V is moving it between states; most requests must wait.
        managed_save: the VM is off but holds a saved-state image (``virsh managedsave``).
    """

    state: DomainState
    active: bool
    transitional: bool = False
    managed_save: bool = False


_S = StateInfo
_D = DomainState

#: The one mapping from ``Msvm_ComputerSystem.EnabledState`` to libvirt, for both namespaces.
#:
#: ========  ======  ==================  ===========  ======  ============  ============
#: ns        value   Hyper-V name        DomainState  active  transitional  managed save
#: ========  ======  ==================  ===========  ======  ============  ============
#: v2        2       Enabled             RUNNING      yes
#: v2        3       Disabled            SHUTOFF      no
#: v2        4       Shutting down       SHUTDOWN     yes     yes
#: v2        6       Enabled but Offline SHUTOFF      no                    yes (saved)
#: v2        9       Quiesce             PAUSED       yes
#: v2        10      Starting            RUNNING      yes     yes
#: v2        32770   Starting            RUNNING      yes     yes
#: v2        32771   Snapshotting        RUNNING      yes     yes
#: v2        32773   Saving              RUNNING      yes     yes
#: v2        32774   Stopping            SHUTDOWN     yes     yes
#: v2        32776   Pausing             PAUSED       yes     yes
#: v2        32777   Resuming            PAUSED       yes     yes
#: v2        32779   FastSaved           SHUTOFF      no                    yes
#: v2        32780   FastSaving          RUNNING      yes     yes
#: v1        2       Enabled             RUNNING      yes
#: v1        3       Disabled            SHUTOFF      no
#: v1        32768   Paused              PAUSED       yes
#: v1        32769   Suspended (saved)   SHUTOFF      no                    yes
#: v1        32770   Starting            RUNNING      yes     yes
#: v1        32771   Snapshotting        RUNNING      yes     yes
#: v1        32773   Saving              RUNNING      yes     yes
#: v1        32774   Stopping            SHUTDOWN     yes     yes
#: v1        32776   Pausing             PAUSED       yes     yes
#: v1        32777   Resuming            PAUSED       yes     yes
#: any       other   (unknown)           NOSTATE      no
#: ========  ======  ==================  ===========  ======  ============  ============
STATE_TABLE: dict[tuple[NamespaceVersion, int], StateInfo] = {
    ("v2", EnabledStateV2.ENABLED): _S(state=_D.RUNNING, active=True),
    ("v2", EnabledStateV2.DISABLED): _S(state=_D.SHUTOFF, active=False),
    ("v2", EnabledStateV2.SHUTTING_DOWN): _S(state=_D.SHUTDOWN, active=True, transitional=True),
    ("v2", EnabledStateV2.ENABLED_BUT_OFFLINE): _S(
        state=_D.SHUTOFF, active=False, managed_save=True
    ),
    ("v2", EnabledStateV2.QUIESCE): _S(state=_D.PAUSED, active=True),
    ("v2", EnabledStateV2.STARTING): _S(state=_D.RUNNING, active=True, transitional=True),
    ("v2", EnabledStateV2.STARTING_VENDOR): _S(state=_D.RUNNING, active=True, transitional=True),
    ("v2", EnabledStateV2.SNAPSHOTTING): _S(state=_D.RUNNING, active=True, transitional=True),
    ("v2", EnabledStateV2.SAVING): _S(state=_D.RUNNING, active=True, transitional=True),
    ("v2", EnabledStateV2.STOPPING): _S(state=_D.SHUTDOWN, active=True, transitional=True),
    ("v2", EnabledStateV2.PAUSING): _S(state=_D.PAUSED, active=True, transitional=True),
    ("v2", EnabledStateV2.RESUMING): _S(state=_D.PAUSED, active=True, transitional=True),
    ("v2", EnabledStateV2.FAST_SAVED): _S(state=_D.SHUTOFF, active=False, managed_save=True),
    ("v2", EnabledStateV2.FAST_SAVING): _S(state=_D.RUNNING, active=True, transitional=True),
    ("v1", EnabledStateV1.ENABLED): _S(state=_D.RUNNING, active=True),
    ("v1", EnabledStateV1.DISABLED): _S(state=_D.SHUTOFF, active=False),
    ("v1", EnabledStateV1.PAUSED): _S(state=_D.PAUSED, active=True),
    ("v1", EnabledStateV1.SUSPENDED): _S(state=_D.SHUTOFF, active=False, managed_save=True),
    ("v1", EnabledStateV1.STARTING): _S(state=_D.RUNNING, active=True, transitional=True),
    ("v1", EnabledStateV1.SNAPSHOTTING): _S(state=_D.RUNNING, active=True, transitional=True),
    ("v1", EnabledStateV1.SAVING): _S(state=_D.RUNNING, active=True, transitional=True),
    ("v1", EnabledStateV1.STOPPING): _S(state=_D.SHUTDOWN, active=True, transitional=True),
    ("v1", EnabledStateV1.PAUSING): _S(state=_D.PAUSED, active=True, transitional=True),
    ("v1", EnabledStateV1.RESUMING): _S(state=_D.PAUSED, active=True, transitional=True),
}

_UNKNOWN_STATE = StateInfo(state=DomainState.NOSTATE, active=False)


def map_enabled_state(namespace: NamespaceVersion, enabled_state: int | None) -> StateInfo:
    """Look ``enabled_state`` up in :data:`STATE_TABLE` (unknown values give NOSTATE)."""
    if enabled_state is None:
        return _UNKNOWN_STATE
    return STATE_TABLE.get((namespace, enabled_state), _UNKNOWN_STATE)


def active_states(namespace: NamespaceVersion) -> tuple[int, ...]:
    """The EnabledState values of VMs with a running instance, from :data:`STATE_TABLE`.

    The WQL list filters are built from this, so "active" means the same thing on the wire as
    in :func:`map_enabled_state`; every other value (including unknown ones) is inactive.
    """
    return tuple(
        sorted(
            value for (ns, value), info in STATE_TABLE.items() if ns == namespace and info.active
        )
    )
