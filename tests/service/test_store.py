"""The history store on SQLite and on a real PostgreSQL server: migrations, recording runs and
reading them back, change queries, samples, retention."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from aiohyperv.service import (
    Change,
    ChangeKind,
    HostRecord,
    Store,
    VMRecord,
    diff_host,
    parse_database_url,
)
from aiohyperv.service._db import open_database
from aiohyperv.service._store import MIGRATIONS

if TYPE_CHECKING:
    from pathlib import Path


def vm(uuid: str, host: str = "hv1:5985", **fields: object) -> VMRecord:
    values: dict[str, object] = {
        "host": host, "uuid": uuid, "name": f"vm-{uuid}", "state": "running", "vcpus": 2,
        "memory_mib": 4096, "memory_dynamic": False, "memory_demand_mib": 1024, "uptime": 60.0,
        "notes": "note", "disks": "[]", "nics": "[]",
    }  # fmt: skip
    values.update(fields)
    return VMRecord(**values)  # type: ignore[arg-type]  # test data


def host(name: str, *vms: VMRecord, ok: bool = True, checked: float = 100.0) -> HostRecord:
    return HostRecord(
        host=name, ok=ok, checked=checked, last_success=checked if ok else None, elapsed=0.5,
        requests=12, hostname=name.split(":")[0], memory_total=2**35,
        error=None if ok else "connection refused", error_type=None if ok else "ConnectError",
        vms={v.uuid: v for v in vms},
    )  # fmt: skip


async def record(
    store: Store, records: list[HostRecord], before: dict[str, HostRecord], at: float
) -> list[Change]:
    changes: list[Change] = []
    for r in records:
        changes.extend(diff_host(before.get(r.host), r, at=at))
    _run, stored = await store.record_run(
        started=at - 1, finished=at, trigger="schedule", hosts=records, changes=changes
    )
    return stored


async def test_migrations_create_the_schema_once(store: Store) -> None:
    assert await store.schema_version() == len(MIGRATIONS)
    assert await store.migrate() == len(MIGRATIONS)  # idempotent
    rows = await store.db.fetch("SELECT version FROM schema_version")
    assert [r["version"] for r in rows] == list(range(1, len(MIGRATIONS) + 1))
    assert await store.counts() == {"runs": 0, "host_results": 0, "vm_samples": 0, "changes": 0}


async def test_migrating_a_fresh_file_and_reopening_it(tmp_path: Path) -> None:
    url = parse_database_url(f"sqlite:///{tmp_path / 'h.db'}")
    first = Store(await open_database(url))
    assert await first.schema_version() == 0
    await first.migrate()
    await first.aclose()
    again = Store(await open_database(url))
    try:
        assert await again.schema_version() == len(MIGRATIONS)
        await again.migrate()
        assert await again.schema_version() == len(MIGRATIONS)
    finally:
        await again.aclose()


async def test_a_run_round_trips_and_the_latest_state_reloads(store: Store) -> None:
    a, b = vm("A", memory_dynamic=True, memory_max_mib=8192), vm("B", state="shut off", vcpus=None)
    hosts = [host("hv1:5985", a, b), host("hv2:5985", ok=False)]
    stored = await record(store, hosts, {}, at=100.0)
    assert {c.kind for c in stored} == {ChangeKind.HOST_ADDED, ChangeKind.HOST_UNREACHABLE}
    assert all(c.id is not None and c.run_id is not None for c in stored)

    loaded = await store.load_current()
    assert set(loaded) == {"hv1:5985", "hv2:5985"}
    assert loaded["hv1:5985"] == hosts[0]  # every field, VMs included
    assert loaded["hv2:5985"].ok is False and loaded["hv2:5985"].error_type == "ConnectError"

    runs = await store.runs()
    assert len(runs) == 1
    run = runs[0]
    assert (run.hosts, run.succeeded, run.failed, run.requests, run.changes) == (2, 1, 1, 24, 2)
    found = await store.run(run.id)
    assert found is not None
    assert [(r["host"], bool(r["ok"]), r["vm_count"]) for r in found[1]] == [
        ("hv1:5985", True, 2),
        ("hv2:5985", False, 0),
    ]
    assert await store.run(run.id + 100) is None


async def test_changes_are_queried_by_time_host_vm_and_kind(store: Store) -> None:
    first = [host("hv1:5985", vm("A"), vm("B"))]
    await record(store, first, {}, at=100.0)
    second = [host("hv1:5985", vm("A", state="paused"), vm("C"), checked=200.0)]
    await record(store, second, {"hv1:5985": first[0]}, at=200.0)

    everything = await store.changes()
    assert [c.kind for c in everything][:3] == sorted(
        [ChangeKind.VM_STATE, ChangeKind.VM_CREATED, ChangeKind.VM_REMOVED],
        key=[c.kind for c in everything].index,
    )
    assert len(everything) == 4  # host_added + the three of the second run
    assert everything[0].id is not None and everything[-1].kind is ChangeKind.HOST_ADDED
    assert [c.kind for c in await store.changes(since=150.0)] != []
    assert all(c.at >= 150.0 for c in await store.changes(since=150.0))
    assert [c.kind for c in await store.changes(uuid="a")] == [ChangeKind.VM_STATE]
    assert [c.uuid for c in await store.changes(kinds=["vm_created"])] == ["C"]
    assert await store.changes(host="elsewhere:1") == []
    newest = everything[0].id
    assert newest is not None
    assert await store.changes(after_id=newest) == []
    assert len(await store.changes(limit=2)) == 2


async def test_vm_samples_on_change_or_when_due(store: Store) -> None:
    store.sample_interval = 1000.0
    states = ["running", "running", "paused", "paused"]
    before: dict[str, HostRecord] = {}
    for i, state in enumerate(states):
        record_ = host("hv1:5985", vm("A", state=state, memory_demand_mib=1000 + i))
        await record(store, [record_], before, at=100.0 + i)
        before = {"hv1:5985": record_}
    samples = await store.vm_samples("hv1:5985", "a")
    # The first sight and the change are stored; unchanged runs (demand aside) are not.
    assert [s["state"] for s in samples] == ["paused", "running"]
    store.sample_interval = 0.0
    await record(store, [host("hv1:5985", vm("A", state="paused"))], before, at=200.0)
    assert len(await store.vm_samples("hv1:5985", "A")) == 3


async def test_a_failed_host_keeps_its_vms_and_is_not_sampled(store: Store) -> None:
    up = host("hv1:5985", vm("A"))
    await record(store, [up], {}, at=100.0)
    down = dataclasses.replace(up, ok=False, error="timed out", checked=200.0)
    stored = await record(store, [down], {"hv1:5985": up}, at=200.0)
    assert [c.kind for c in stored] == [ChangeKind.HOST_UNREACHABLE]
    loaded = await store.load_current()
    assert loaded["hv1:5985"].ok is False
    assert set(loaded["hv1:5985"].vms) == {"A"}  # as last seen
    assert len(await store.vm_samples("hv1:5985", "A")) == 1


async def test_retention_removes_old_runs_samples_and_changes(store: Store) -> None:
    before: dict[str, HostRecord] = {}
    for i in range(5):
        r = host("hv1:5985", vm("A", state="running" if i % 2 else "paused"), checked=1000.0 * i)
        await record(store, [r], before, at=1000.0 * i + 1)
        before = {"hv1:5985": r}
    counts = await store.counts()
    assert counts["runs"] == 5 and counts["changes"] == 5
    removed = await store.prune(2500.0)
    assert removed == {"runs": 3, "changes": 3}
    after = await store.counts()
    assert after == {"runs": 2, "host_results": 2, "vm_samples": 2, "changes": 2}
    assert [r.started for r in await store.runs()] == [4000.0, 3000.0]
    assert await store.prune(2500.0) == {"runs": 0, "changes": 0}
    assert set(await store.load_current()) == {"hv1:5985"}  # the latest state is not history


async def test_database_size_is_reported(store: Store) -> None:
    size = await store.db.size_bytes()
    assert size is not None and size > 0
