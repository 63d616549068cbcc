"""Change detection between two records of a host (a pure function)."""

from __future__ import annotations

import dataclasses

from aiohyperv.service import ChangeKind, HostRecord, VMRecord, diff_host


def vm(uuid: str = "A", **fields: object) -> VMRecord:
    values: dict[str, object] = {
        "host": "hv:5985", "uuid": uuid, "name": f"vm-{uuid}", "state": "running", "vcpus": 2,
        "memory_mib": 4096, "disks": '[{"kind":"disk","path":"C:\\\\a.vhdx","size":null}]',
        "nics": '[{"mac":"00:15:5D:00:00:01","name":"nic","switch":"ext"}]',
    }  # fmt: skip
    values.update(fields)
    return VMRecord(**values)  # type: ignore[arg-type]  # test data


def host(*vms: VMRecord, ok: bool = True, error: str | None = None) -> HostRecord:
    return HostRecord(host="hv:5985", ok=ok, error=error, vms={v.uuid: v for v in vms})


def kinds(before: HostRecord | None, after: HostRecord) -> list[ChangeKind]:
    return [c.kind for c in diff_host(before, after, at=1.0)]


def test_first_sight_is_a_baseline_not_a_burst_of_creations() -> None:
    changes = diff_host(None, host(vm("A"), vm("B")), at=5.0)
    assert [c.kind for c in changes] == [ChangeKind.HOST_ADDED]
    assert changes[0].new == "2 VMs" and changes[0].at == 5.0


def test_unreachable_and_back() -> None:
    up = host(vm("A"))
    down = dataclasses.replace(up, ok=False, error="refused")
    assert kinds(None, down) == [ChangeKind.HOST_UNREACHABLE]
    assert kinds(up, down) == [ChangeKind.HOST_UNREACHABLE]
    assert kinds(down, down) == []  # still down: nothing new, and no VM "removed"
    assert kinds(down, up) == [ChangeKind.HOST_BACK]


def test_vm_created_and_removed() -> None:
    changes = diff_host(host(vm("A"), vm("B")), host(vm("B"), vm("C")), at=1.0)
    assert {(c.kind, c.uuid) for c in changes} == {
        (ChangeKind.VM_CREATED, "C"),
        (ChangeKind.VM_REMOVED, "A"),
    }


def test_each_field_change() -> None:
    before = host(vm("A"))
    cases: dict[ChangeKind, dict[str, object]] = {
        ChangeKind.VM_RENAMED: {"name": "renamed"},
        ChangeKind.VM_STATE: {"state": "shut off"},
        ChangeKind.VM_VCPUS: {"vcpus": 4},
        ChangeKind.VM_MEMORY: {"memory_mib": 8192},
        ChangeKind.VM_DISKS: {"disks": "[]"},
        ChangeKind.VM_NICS: {"nics": "[]"},
    }
    for kind, fields in cases.items():
        changes = diff_host(before, host(vm("A", **fields)), at=1.0)
        assert [c.kind for c in changes] == [kind], kind
    memory = diff_host(before, host(vm("A", memory_dynamic=True, memory_max_mib=16384)), at=1.0)
    assert [c.kind for c in memory] == [ChangeKind.VM_MEMORY]
    assert memory[0].old == "4096 MiB" and memory[0].new == "4096 MiB (dynamic, max 16384 MiB)"
    state = diff_host(before, host(vm("A", state="paused")), at=1.0)[0]
    assert (state.old, state.new, state.vm_name, state.uuid) == ("running", "paused", "vm-A", "A")
    disks = diff_host(before, host(vm("A", disks="[]")), at=1.0)[0]
    assert (disks.old, disks.new) == ("C:\\a.vhdx", "none")


def test_several_changes_of_one_vm_and_nothing_for_an_unchanged_one() -> None:
    before = host(vm("A"), vm("B"))
    after = host(vm("A", name="a2", state="shut off"), vm("B"))
    assert kinds(before, after) == [ChangeKind.VM_RENAMED, ChangeKind.VM_STATE]
    assert kinds(before, before) == []
