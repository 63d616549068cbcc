"""One run of the service with a stand-in fleet: records, changes, the in-memory view, the
feed, retention, and a failing store that leaves the view untouched."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from aiohyperv._config import parse_uri
from aiohyperv._exceptions import ConnectError
from aiohyperv.fleet import FleetResult, HostInventory, HostResult, VMInventory
from aiohyperv.service import (
    ChangeKind,
    EventBroker,
    HostRecord,
    InventoryRunner,
    parse_database_url,
)
from aiohyperv.service._db import open_database

if TYPE_CHECKING:
    from aiohyperv.service import Store

URI = parse_uri("hyperv://hv1:5985/?transport=http")


def inventory(*vms: tuple[str, str, str]) -> HostInventory:
    return HostInventory(
        host="hv1:5985", hostname="hv1", os_caption="Windows Server 2022", os_version="10.0.20348",
        version=None, namespace="v2", cpu_model="Xeon", cpu_sockets=2, cpu_cores=16,
        cpu_threads=32, memory_total=2**37, memory_free=2**36,
        vms=tuple(
            VMInventory(name=name, uuid=uuid, id=None, state=state, enabled_state=None, vcpus=2,
                        memory_startup_mib=2048)
            for uuid, name, state in vms
        ),
    )  # fmt: skip


class Fleet:
    """Stands in for ``fleet.run(inventory_op)``: returns whatever the test set."""

    def __init__(self) -> None:
        self.result: HostResult[HostInventory] = HostResult(host="hv1:5985", uri=URI, index=0)

    async def __call__(self) -> FleetResult[HostInventory]:
        return FleetResult(results=(self.result,), elapsed=0.1)

    def answer(self, *vms: tuple[str, str, str]) -> None:
        self.result = HostResult(
            host="hv1:5985", uri=URI, index=0, value=inventory(*vms), elapsed=0.05, requests=9
        )

    def fail(self) -> None:
        error = ConnectError("connection refused")
        self.result = HostResult(host="hv1:5985", uri=URI, index=0, error=error, elapsed=0.01)


async def test_runs_record_changes_update_the_view_and_publish(store: Store) -> None:
    fleet = Fleet()
    broker = EventBroker()
    hosts: dict[str, HostRecord] = {}
    now = [1000.0]
    runner = InventoryRunner(
        fleet, store=store, broker=broker, hosts=hosts, retention=500.0, wall=lambda: now[0]
    )
    fleet.answer(("A", "web", "running"), ("B", "db", "shut off"))
    first = await runner("schedule")
    assert (first.succeeded, first.changes, first.requests) == (1, 1, 9)
    assert set(hosts["hv1:5985"].vms) == {"A", "B"}

    now[0] = 1100.0
    fleet.answer(("A", "web", "shut off"), ("C", "new", "running"))
    second = await runner("request")
    kinds = {c.kind for c in await store.changes() if c.run_id == second.id}
    assert kinds == {ChangeKind.VM_STATE, ChangeKind.VM_CREATED, ChangeKind.VM_REMOVED}
    published = [(e.kind, e.data.get("kind")) for e in broker.recent()]
    assert published[-1] == ("run", None) and ("change", "vm_created") in published

    now[0] = 1200.0
    fleet.fail()
    third = await runner("schedule")
    assert third.failed == 1
    record = hosts["hv1:5985"]
    assert not record.ok and record.error_type == "ConnectError"
    assert record.last_success == 1100.0 and set(record.vms) == {"A", "C"}
    assert runner.stats.runs == 3 and runner.stats.host_failures == 1
    assert runner.stats.changes["host_unreachable"] == 1

    # Retention: runs older than 500 s are pruned after a run (at most every retention/10).
    now[0] = 1700.0
    fleet.answer(("A", "web", "shut off"), ("C", "new", "running"))
    await runner("schedule")
    assert [r.started for r in await store.runs()] == [1200.0, 1700.0][::-1]
    assert all(c.at >= 1200.0 for c in await store.changes())


async def test_a_failing_store_leaves_the_view_and_the_feed_untouched(store: Store) -> None:
    fleet = Fleet()
    broker = EventBroker()
    hosts: dict[str, HostRecord] = {}
    runner = InventoryRunner(fleet, store=store, broker=broker, hosts=hosts, retention=1e9)
    fleet.answer(("A", "web", "running"))
    await runner("schedule")
    before = dict(hosts)
    events = len(broker.recent())
    await store.aclose()  # the database goes away
    fleet.answer(("A", "web", "paused"))
    with pytest.raises(Exception):  # noqa: B017  # whichever error the backend raises
        await runner("schedule")
    assert hosts == before and len(broker.recent()) == events
    assert runner.stats.run_errors == 1 and runner.stats.runs == 1
    # The fixture closes the store at the end: give it an open database to close.
    store.db = await open_database(parse_database_url(":memory:"))
