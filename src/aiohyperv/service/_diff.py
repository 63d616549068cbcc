"""Change detection: compare a host's previous record with its new one (a pure function).

Rules:

- A host seen for the first time gives ``host_added`` (or ``host_unreachable`` when it fails),
  never one ``vm_created`` per VM: the first run is a baseline, not a burst of creations.
- A host that fails after answering gives ``host_unreachable``; one that answers after failing
  gives ``host_back``.  While a host fails, its VMs are kept as last seen and not compared, so an
  outage never reads as every VM removed.
- For a host that answered both times, VMs are matched by UUID: ``vm_created``, ``vm_removed``,
  ``vm_renamed``, ``vm_state_changed``, ``vm_memory_changed`` (startup, dynamic flag or maximum),
  ``vm_vcpus_changed``, ``vm_disks_changed``, ``vm_nics_changed``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from ._records import Change, ChangeKind

if TYPE_CHECKING:
    from ._records import HostRecord, VMRecord

__all__ = ["diff_host"]


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _memory(vm: VMRecord) -> str:
    text = f"{vm.memory_mib} MiB"
    if vm.memory_dynamic:
        text += f" (dynamic, max {vm.memory_max_mib} MiB)"
    return text


def _disks(text: str) -> str:
    disks = json.loads(text)
    return ", ".join(str(d.get("path")) for d in disks) or "none"


def _nics(text: str) -> str:
    nics = json.loads(text)
    return (
        ", ".join(
            f"{n.get('name')} ({n.get('mac') or 'no MAC'}, {n.get('switch') or 'not connected'})"
            for n in nics
        )
        or "none"
    )


def diff_host(before: HostRecord | None, after: HostRecord, *, at: float) -> list[Change]:
    """The changes from ``before`` (None: never seen) to ``after`` for one host."""
    host = after.host
    if before is None:
        if after.ok:
            return [
                Change(kind=ChangeKind.HOST_ADDED, host=host, at=at, new=f"{len(after.vms)} VMs")
            ]
        return [Change(kind=ChangeKind.HOST_UNREACHABLE, host=host, at=at, new=after.error)]
    if not after.ok:
        if before.ok:
            return [Change(kind=ChangeKind.HOST_UNREACHABLE, host=host, at=at, new=after.error)]
        return []
    changes: list[Change] = []
    if not before.ok:
        changes.append(
            Change(kind=ChangeKind.HOST_BACK, host=host, at=at, old=before.error, new="reachable")
        )
    old_vms, new_vms = before.vms, after.vms
    for uuid, vm in new_vms.items():
        prev = old_vms.get(uuid)
        if prev is None:
            changes.append(
                Change(
                    kind=ChangeKind.VM_CREATED, host=host, at=at, uuid=uuid, vm_name=vm.name,
                    new=vm.state,
                )
            )  # fmt: skip
            continue
        changes.extend(_diff_vm(prev, vm, at=at))
    for uuid, prev in old_vms.items():
        if uuid not in new_vms:
            changes.append(
                Change(
                    kind=ChangeKind.VM_REMOVED, host=host, at=at, uuid=uuid, vm_name=prev.name,
                    old=prev.state,
                )
            )  # fmt: skip
    return changes


def _diff_vm(prev: VMRecord, vm: VMRecord, *, at: float) -> list[Change]:
    found: list[Change] = []

    def add(kind: ChangeKind, old: str | None, new: str | None) -> None:
        found.append(
            Change(kind=kind, host=vm.host, at=at, uuid=vm.uuid, vm_name=vm.name, old=old, new=new)
        )

    if prev.name != vm.name:
        add(ChangeKind.VM_RENAMED, prev.name, vm.name)
    if prev.state != vm.state:
        add(ChangeKind.VM_STATE, prev.state, vm.state)
    if (prev.memory_mib, prev.memory_dynamic, prev.memory_max_mib) != (
        vm.memory_mib,
        vm.memory_dynamic,
        vm.memory_max_mib,
    ):
        add(ChangeKind.VM_MEMORY, _memory(prev), _memory(vm))
    if prev.vcpus != vm.vcpus:
        add(ChangeKind.VM_VCPUS, _text(prev.vcpus), _text(vm.vcpus))
    if prev.disks != vm.disks:
        add(ChangeKind.VM_DISKS, _disks(prev.disks), _disks(vm.disks))
    if prev.nics != vm.nics:
        add(ChangeKind.VM_NICS, _nics(prev.nics), _nics(vm.nics))
    return found
