"""Checkpoints: ``Msvm_VirtualSystemSnapshotService`` and the snapshot settings it creates.

Microsoft documents the service's methods ("CreateSnapshot / ApplySnapshot / DestroySnapshot /
DestroySnapshotTree method of the Msvm_VirtualSystemSnapshotService class",
``windows/win32/hyperv_v2``) with the CIM return codes of ``CIM_VirtualSystemSnapshotService``:
0 Completed with No Error, 1 Not Supported, 2 Failed, 3 Timeout, 4 Invalid Parameter,
5 Invalid State, 6 Invalid Type, 4096 Method Parameters Checked - Job Started.

A checkpoint is a ``Msvm_VirtualSystemSettingData`` with ``VirtualSystemType =
'Microsoft:Hyper-V:Snapshot:Realized'``; ``Msvm_SnapshotOfVirtualSystem`` ties it to its VM,
``Msvm_ParentChildSettingData`` (Antecedent = parent checkpoint, Dependent = child, the VM's
realized settings being the child of the current checkpoint) builds the tree, and
``Msvm_MostCurrentSnapshotInBranch`` names the current one.

Checkpoint types follow the VM's ``UserSnapshotType`` (Msvm_VirtualSystemSettingData: 2 Disable,
3 Production, 4 Production only, 5 Standard) unless ``SnapshotSettings`` (an embedded
``Msvm_VirtualSystemSnapshotSettingData``) asks for a ``ConsistencyLevel`` (1 Application
Consistent, 2 Crash Consistent).  A production checkpoint of a running VM needs the guest's
integration services (VSS inside the guest): without them it falls back to a standard one, or,
for "production only", the job fails.  A standard checkpoint of a running VM keeps its memory,
so applying it leaves the VM Saved; anything else leaves it Off.  Applying needs the VM Off or
Saved (Hyper-V Manager turns it off first), as Windows does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohyperv.simulator._host import Resource, Snapshot, VMState

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from aiohyperv.cim import EmbeddedInstance
    from aiohyperv.simulator._host import VM, SimulatedHost
    from aiohyperv.simulator._instance import Ref

__all__ = [
    "SNAPSHOT_TYPE",
    "apply_snapshot",
    "create_snapshot",
    "destroy_snapshot",
    "find_snapshot",
    "snapshot_refs",
    "snapshot_vssd_values",
]

#: VirtualSystemType of a checkpoint's settings.
SNAPSHOT_TYPE = "Microsoft:Hyper-V:Snapshot:Realized"

# CIM_VirtualSystemSnapshotService return codes (Microsoft's CreateSnapshot page).
OK, NOT_SUPPORTED, FAILED, INVALID_PARAMETER, INVALID_STATE = 0, 1, 2, 4, 5
#: CreateSnapshot's SnapshotType: 2 Full Snapshot; 3 Disk Snapshot is not offered by Hyper-V.
FULL_SNAPSHOT = 2
APP_CONSISTENT, CRASH_CONSISTENT = 1, 2
DISABLED, PRODUCTION, PRODUCTION_ONLY, STANDARD = 2, 3, 4, 5

_OFF_STATES = frozenset({VMState.OFF, VMState.SAVED})
_ON_STATES = frozenset({VMState.RUNNING, VMState.PAUSED})


def find_snapshot(host: SimulatedHost, instance_id: str) -> tuple[VM, Snapshot] | None:
    """The checkpoint whose VSSD ``InstanceID`` is ``instance_id`` (``Microsoft:<GUID>``)."""
    guid = instance_id.strip().upper().removeprefix("MICROSOFT:").strip("{}")
    for vm in host.vms.values():
        for snap in vm.snapshots:
            if snap.guid == guid:
                return vm, snap
    return None


def _consistency(vm: VM, settings: EmbeddedInstance | None) -> int | None:
    """The ConsistencyLevel the checkpoint gets, or None when it cannot be taken."""
    asked = settings.value("ConsistencyLevel") if settings is not None else None
    wanted = (
        int(str(asked))
        if asked is not None and str(asked).strip().isdigit() and int(str(asked)) in (1, 2)
        else APP_CONSISTENT
        if vm.snapshot_type in (PRODUCTION, PRODUCTION_ONLY)
        else CRASH_CONSISTENT
    )
    running = vm.state in _ON_STATES
    if wanted == APP_CONSISTENT and running and not vm.guest_os:
        # No integration services to quiesce the guest: Hyper-V falls back to a standard
        # checkpoint unless the VM is set to "production checkpoints only".
        return None if vm.snapshot_type == PRODUCTION_ONLY else CRASH_CONSISTENT
    return wanted


def create_snapshot(
    host: SimulatedHost, vm: VM, settings: EmbeddedInstance | None, snapshot_type: int
) -> tuple[int, Snapshot | None, bool]:
    """Check and take a checkpoint: ``(return code, checkpoint, job should fail)``.

    The checkpoint is returned before the job ends (CreateSnapshot's ResultingSnapshot);
    callers add it only when the job succeeds.
    """
    if snapshot_type != FULL_SNAPSHOT:
        return NOT_SUPPORTED, None, False
    host.settle(vm)
    if vm.pending is not None:
        return INVALID_STATE, None, False
    if vm.snapshot_type == DISABLED:
        return INVALID_STATE, None, False
    consistency = _consistency(vm, settings)
    now = host.wall()
    snap = Snapshot(
        guid=host.new_guid(),
        name=f"{vm.name} - ({now:%m/%d/%Y - %I:%M:%S %p})",
        parent=vm.current_snapshot,
        created=now,
        consistency=consistency or APP_CONSISTENT,
        # A running VM's standard checkpoint keeps its memory; a saved VM's checkpoint keeps
        # the saved state whatever the type (there is no guest to quiesce).
        saved=(consistency == CRASH_CONSISTENT and vm.state in _ON_STATES)
        or vm.state == VMState.SAVED,
        cpus=vm.cpus,
        memory_mb=vm.memory_mb,
        notes=vm.notes,
        resources=None
        if vm.stored_resources is None
        else [Resource(r.class_name, dict(r.values)) for r in vm.stored_resources],
    )
    return OK, snap, consistency is None


def apply_snapshot(host: SimulatedHost, vm: VM, snap: Snapshot) -> None:
    """Bring the VM back to ``snap`` (called when ApplySnapshot's job completes)."""
    vm.cpus, vm.memory_mb, vm.notes = snap.cpus, snap.memory_mb, snap.notes
    vm.stored_resources = (
        None
        if snap.resources is None
        else [Resource(r.class_name, dict(r.values)) for r in snap.resources]
    )
    vm.generated = None
    vm.current_snapshot = snap.guid
    vm.state = VMState.SAVED if snap.saved else VMState.OFF
    vm.on_since = None
    vm.process_id = None
    vm.changed = host.wall()


def destroy_snapshot(vm: VM, snap: Snapshot, *, tree: bool) -> None:
    """Remove ``snap`` (and, for a tree, everything below it); children move up a level."""
    doomed = {snap.guid}
    if tree:
        grew = True
        while grew:
            before = len(doomed)
            doomed |= {s.guid for s in vm.snapshots if s.parent in doomed}
            grew = len(doomed) != before
    for other in vm.snapshots:
        if other.parent == snap.guid and other.guid not in doomed:
            other.parent = snap.parent
    vm.snapshots = [s for s in vm.snapshots if s.guid not in doomed]
    if vm.current_snapshot in doomed:
        vm.current_snapshot = snap.parent


def snapshot_vssd_values(vm: VM, snap: Snapshot) -> dict[str, object]:
    """The properties a checkpoint's VSSD shows on top of the VM's own settings."""
    return {
        "InstanceID": f"Microsoft:{snap.guid}",
        "ElementName": snap.name,
        "Caption": "Virtual Machine Snapshot Settings",
        "Description": "Settings for the virtual machine snapshot.",
        "VirtualSystemType": SNAPSHOT_TYPE,
        "CreationTime": snap.created,
        "Notes": [snap.notes],
        "IsSaved": snap.saved,
        "IsAutomaticSnapshot": False,
    }


def snapshot_refs(
    host: SimulatedHost, vm: VM, vssd_ref: Ref, snapshot_ref: Callable[[Snapshot], Ref]
) -> Iterator[tuple[str, dict[str, Ref]]]:
    """The association rows of ``vm``'s checkpoints: ``(class, {role: reference})``."""
    from aiohyperv.simulator._providers import cs_ref

    system = cs_ref(host, vm.guid)
    by_guid = {s.guid: s for s in vm.snapshots}
    for snap in vm.snapshots:
        yield (
            "Msvm_SnapshotOfVirtualSystem",
            {"Antecedent": system, "Dependent": snapshot_ref(snap)},
        )
        parent = by_guid.get(snap.parent or "")
        if parent is not None:
            yield (
                "Msvm_ParentChildSettingData",
                {"Antecedent": snapshot_ref(parent), "Dependent": snapshot_ref(snap)},
            )
    current = by_guid.get(vm.current_snapshot or "")
    if current is not None:
        yield (
            "Msvm_ParentChildSettingData",
            {"Antecedent": snapshot_ref(current), "Dependent": vssd_ref},
        )
        yield (
            "Msvm_MostCurrentSnapshotInBranch",
            {"Antecedent": system, "Dependent": snapshot_ref(current)},
        )
