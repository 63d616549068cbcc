"""The schedule (runs never overlap; requests coalesce; stop finishes or cancels) and the
isolation of hosts within a run (a slow or failing host costs only its own deadline)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest

from aiohyperv.service import ChangeKind, RunRecord, Scheduler

from .conftest import running_service

if TYPE_CHECKING:
    from pathlib import Path

    from aiohyperv.simulator._demo import DemoFleet


def fake_run(number: int, trigger: str) -> RunRecord:
    return RunRecord(
        id=number, started=0.0, finished=1.0, hosts=0, succeeded=0, failed=0, requests=0,
        changes=0, trigger=trigger,
    )  # fmt: skip


async def test_runs_never_overlap_and_requests_made_during_a_run_share_the_next_one() -> None:
    active = 0
    peak = 0
    calls: list[str] = []
    entered = asyncio.Event()
    gate = asyncio.Event()

    async def job(trigger: str) -> RunRecord:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        calls.append(trigger)
        entered.set()
        try:
            await gate.wait()
        finally:
            active -= 1
        return fake_run(len(calls), trigger)

    scheduler = Scheduler(job, interval=3600.0)
    scheduler.start()
    async with asyncio.timeout(30):
        await entered.wait()  # the first, scheduled run is in flight and blocked
        assert scheduler.running
        requests = [scheduler.request() for _ in range(3)]
        gate.set()
        runs = await asyncio.gather(*requests)
    await scheduler.stop()
    # One more run served all three requests, and it started after they were made.
    assert calls == ["schedule", "request"]
    assert peak == 1
    assert {r.id for r in runs} == {2}
    assert runs[0].trigger == "request"


async def test_the_schedule_repeats_at_its_interval() -> None:
    done = asyncio.Event()
    calls: list[str] = []

    async def job(trigger: str) -> RunRecord:
        calls.append(trigger)
        if len(calls) == 3:
            done.set()
        return fake_run(len(calls), trigger)

    scheduler = Scheduler(job, interval=0.01)
    scheduler.start()
    async with asyncio.timeout(30):
        await done.wait()
    await scheduler.stop()
    assert calls[:3] == ["schedule"] * 3
    assert scheduler.runs_started >= 3


async def test_a_failed_run_fails_its_requests_and_the_schedule_goes_on() -> None:
    calls = 0

    async def job(trigger: str) -> RunRecord:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("database is gone")
        return fake_run(calls, trigger)

    scheduler = Scheduler(job, interval=3600.0, run_at_start=False)
    scheduler.start()
    async with asyncio.timeout(30):
        with pytest.raises(RuntimeError, match="database is gone"):
            await scheduler.request()
        run = await scheduler.request()
    await scheduler.stop()
    assert run.id == 2


async def test_stop_cancels_a_run_that_outlasts_the_grace_period() -> None:
    entered = asyncio.Event()
    cancelled = asyncio.Event()

    async def job(trigger: str) -> RunRecord:
        entered.set()
        try:
            await asyncio.Event().wait()  # never finishes by itself
        except asyncio.CancelledError:
            cancelled.set()
            raise
        raise AssertionError("unreachable")

    scheduler = Scheduler(job, interval=3600.0)
    scheduler.start()
    async with asyncio.timeout(30):
        await entered.wait()
        waiting = scheduler.request()
        await scheduler.stop(grace=0.01)
    assert cancelled.is_set()
    assert waiting.cancelled()
    assert not scheduler.running
    assert scheduler.request().cancelled()  # no runs once stopped


async def test_stop_lets_a_run_finish_within_the_grace_period() -> None:
    entered = asyncio.Event()
    gate = asyncio.Event()
    finished: list[int] = []

    async def job(trigger: str) -> RunRecord:
        entered.set()
        await gate.wait()
        finished.append(1)
        return fake_run(1, trigger)

    scheduler = Scheduler(job, interval=3600.0)
    scheduler.start()
    async with asyncio.timeout(30):
        await entered.wait()
        stopping = asyncio.create_task(scheduler.stop(grace=60.0))
        await asyncio.sleep(0)  # let stop() begin waiting on the run
        assert not stopping.done()
        gate.set()
        await stopping
    assert finished == [1]


async def test_a_slow_host_and_a_failing_host_never_spoil_the_others(
    small_fleet: DemoFleet, tmp_path: Path
) -> None:
    healthy, slow, failing = small_fleet.hosts
    # The per-host deadline is generous (a loaded CI machine must not fail the healthy hosts)
    # and the slow host's first answer alone comes after it.
    slow.faults.latency = 12.0
    failing.faults.fault_rate = 1.0  # every request gets a WMI fault
    labels = [u.split("//", 1)[1].split("/", 1)[0].split("@")[-1] for u in small_fleet.uris]
    async with running_service(small_fleet, tmp_path, timeout=6.0) as service:
        assert service.scheduler is not None
        async with asyncio.timeout(60):
            run = await service.scheduler.request()
        assert (run.hosts, run.succeeded, run.failed) == (3, 1, 2)
        good, late, bad = (service.hosts[label] for label in labels)
        assert good.ok and len(good.vms) == len(healthy.vms)
        assert not late.ok and late.error_type == "TransportTimeout"
        assert not bad.ok and bad.error_type is not None
        assert service.store is not None
        kinds = {(c.host, c.kind) for c in await service.store.changes(limit=50)}
        assert (labels[0], ChangeKind.HOST_ADDED) in kinds
        assert (labels[1], ChangeKind.HOST_UNREACHABLE) in kinds
        assert (labels[2], ChangeKind.HOST_UNREACHABLE) in kinds

        slow.faults.latency = 0.0
        failing.faults.fault_rate = 0.0
        async with asyncio.timeout(60):
            again = await service.scheduler.request()
        assert again.failed == 0
        back = await service.store.changes(kinds=["host_back"])
        assert {c.host for c in back} == {labels[1], labels[2]}


async def test_the_service_end_to_end_on_postgresql(
    small_fleet: DemoFleet, tmp_path: Path, postgres_url: str
) -> None:
    from aiohyperv.service import parse_database_url

    database = parse_database_url(postgres_url)
    async with running_service(small_fleet, tmp_path, database=database) as service:
        assert service.scheduler is not None and service.store is not None
        async with asyncio.timeout(60):
            run = await service.scheduler.request()
        assert run.succeeded == 3
        assert {c.kind for c in await service.store.changes()} == {ChangeKind.HOST_ADDED}
        size = await service.store.db.size_bytes()
        assert size is not None and size > 0
    # A second service on the same database picks the latest state up: no new host_added.
    async with running_service(small_fleet, tmp_path, database=database) as again:
        assert again.scheduler is not None and again.store is not None
        assert set(again.hosts) == set(service.hosts)
        async with asyncio.timeout(60):
            await again.scheduler.request()
        added = await again.store.changes(kinds=["host_added"])
        assert len(added) == 3
