"""Moving a VM between simulated hosts: ``Msvm_VirtualSystemMigrationService``.

``MigrateVirtualSystemToHost(ComputerSystem REF, DestinationHost string, MigrationSettingData
string (embedded Msvm_VirtualSystemMigrationSettingData), NewSystemSettingData string,
NewResourceSettingData string[]) -> Job`` (Microsoft: "MigrateVirtualSystemToHost method of the
Msvm_VirtualSystemMigrationService class", ``windows/win32/hyperv_v2``) returns 4096 and a job,
or one of Msvm_ReturnCode's 32768..32778 (32773 Invalid parameter, 32775 Invalid state...).
``MigrationType`` (Msvm_VirtualSystemMigrationSettingData) is 32768 Virtual System, 32769
Storage, 32770 Staged, 32771 Virtual System and Storage; the simulator moves virtual systems
(32768): a running VM moves live and keeps running, an off or saved one moves as it is.

Hosts served by the same :class:`SimulatorServer` find each other by name (computer name, DNS
name or FQDN) through ``SimulatedHost.peers``.  The checks Windows makes while the job runs end
the job in the Exception state (10) with the job's ErrorCode: no such destination (32768),
the destination lacks a virtual switch one of the VM's adapters is connected to (32768), it
lacks the memory a live VM needs (32778 Out of memory), or it already holds a VM with the same
identifier (32768; Hyper-V tells VMs apart by GUID, so equal names are allowed).  A failed
migration leaves the VM where it was.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohyperv.simulator._host import VMState
from aiohyperv.simulator._providers import materialize_resources, vm_resources

if TYPE_CHECKING:
    from aiohyperv.simulator._host import VM, Resource, SimulatedHost

__all__ = ["VIRTUAL_SYSTEM", "check_migration", "move_vm", "peer"]

#: Msvm_VirtualSystemMigrationSettingData.MigrationType values.
VIRTUAL_SYSTEM, STORAGE, STAGED, VIRTUAL_SYSTEM_AND_STORAGE = 32768, 32769, 32770, 32771
FAILED, OUT_OF_MEMORY = 32768, 32778
_MIB = 1024**2
#: What the parent partition keeps for itself (as Win32_OperatingSystem's free memory does).
_HOST_RESERVE = 4 * 1024 * _MIB


def peer(host: SimulatedHost, name: str) -> SimulatedHost | None:
    """The simulated host called ``name`` (any of its names, case-insensitive)."""
    return host.peers.get(name.strip().lower())


def _switch_names(host: SimulatedHost, vm: VM) -> set[str]:
    names = set()
    for res in vm_resources(host, vm):
        if res.class_name == "Msvm_EthernetPortAllocationSettingData":
            name = res.values.get("LastKnownSwitchName")
            if isinstance(name, str) and name:
                names.add(name)
    return names


def _free_bytes(host: SimulatedHost) -> int:
    used = sum(v.memory_mb * _MIB for v in host.all_vms() if v.is_on)
    return host.memory_bytes - used - _HOST_RESERVE


def check_migration(host: SimulatedHost, vm: VM, destination: str) -> tuple[int, str]:
    """What the migration job will end with: ``(ErrorCode, description)``, 0 for success."""
    target = peer(host, destination)
    if target is None or target is host:
        return FAILED, (
            f"Virtual machine migration operation for '{vm.name}' failed at migration source "
            f"'{host.computer_name}'. Failed to establish a connection with host "
            f"'{destination}': No such host is known."
        )
    if target.os.v1 or target.vms.get(vm.guid) is not None:
        return FAILED, (
            f"Virtual machine migration operation for '{vm.name}' failed at migration "
            f"destination '{target.computer_name}'. A virtual machine with the identifier "
            f"'{vm.guid}' already exists."
        )
    present = {name for _guid, name in target.switches}
    for switch in sorted(_switch_names(host, vm)):
        if switch not in present:
            return FAILED, (
                f"Virtual machine migration operation for '{vm.name}' failed at migration "
                f"destination '{target.computer_name}'. Could not find Ethernet switch "
                f"'{switch}'."
            )
    if vm.is_on and vm.memory_mb * _MIB > _free_bytes(target):
        return OUT_OF_MEMORY, (
            f"Virtual machine migration operation for '{vm.name}' failed at migration "
            f"destination '{target.computer_name}'. Not enough memory in the system to start "
            f"the virtual machine '{vm.name}'."
        )
    return 0, ""


def _rehome(
    value: object, source: SimulatedHost, target: SimulatedHost, switches: dict[str, str]
) -> object:
    if isinstance(value, list):
        return [_rehome(v, source, target, switches) for v in value]
    if isinstance(value, str):
        text = value.replace(f"\\\\{source.computer_name}\\", f"\\\\{target.computer_name}\\")
        for old, new in switches.items():
            text = text.replace(old, new)
        return text
    return value


def move_vm(source: SimulatedHost, vm: VM, destination: str) -> None:
    """Carry ``vm`` to ``destination`` (checked by :func:`check_migration` first)."""
    target = peer(source, destination)
    assert target is not None
    # The VM's settings travel with it: paths that name the host and switch references
    # follow to the destination's host name and its switch of the same name.
    by_name = {name: guid for guid, name in target.switches}
    switches = {guid: by_name[name] for guid, name in source.switches if name in by_name}
    stored: list[Resource] = materialize_resources(source, vm)
    for res in stored:
        res.values = {k: _rehome(v, source, target, switches) for k, v in res.values.items()}
    del source.vms[vm.guid]
    source.settle(vm)
    if vm.is_on:
        vm.process_id = target.new_pid()
        vm.on_since = target.now() - (source.now() - (vm.on_since or source.now()))
    vm.changed = target.wall()
    vm.generated = None
    target.vms[vm.guid] = vm
    if vm.state not in (VMState.RUNNING, VMState.PAUSED):
        vm.on_since = None
        vm.process_id = None
