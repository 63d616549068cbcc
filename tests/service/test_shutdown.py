"""Stopping the service (what SIGTERM does): the run in flight finishes within the grace period
and is stored, or is cancelled and nothing of it is stored; the database is closed either way."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from aiohyperv._config import parse_uri
from aiohyperv.fleet import FleetResult, HostInventory, HostResult
from aiohyperv.service import Service, ServiceConfig, Store, parse_database_url
from aiohyperv.service._db import open_database

if TYPE_CHECKING:
    from pathlib import Path

URI = parse_uri("hyperv://hv1:5985/?transport=http")


def config(tmp_path: Path) -> ServiceConfig:
    return ServiceConfig(
        interval=3600.0,
        database=parse_database_url(f"sqlite:///{tmp_path / 'stop.db'}"),
        listen=("127.0.0.1", 0),
    )


async def stored_runs(tmp_path: Path) -> int:
    store = Store(await open_database(parse_database_url(f"sqlite:///{tmp_path / 'stop.db'}")))
    try:
        return (await store.counts())["runs"]
    finally:
        await store.aclose()


async def test_a_run_that_outlasts_the_grace_period_is_cancelled_and_not_stored(
    tmp_path: Path,
) -> None:
    entered = asyncio.Event()
    cancelled = asyncio.Event()

    async def collect() -> FleetResult[HostInventory]:
        entered.set()
        try:
            await asyncio.Event().wait()  # a fleet that never finishes
        except asyncio.CancelledError:
            cancelled.set()
            raise
        raise AssertionError("unreachable")

    service = Service(config(tmp_path), targets=[URI], collect=collect)
    await service.start()
    async with asyncio.timeout(30):
        await entered.wait()
        await service.aclose(grace=0.01)
    assert cancelled.is_set()
    assert service.broker.clients == 0
    assert await stored_runs(tmp_path) == 0


async def test_a_run_that_ends_within_the_grace_period_is_stored(tmp_path: Path) -> None:
    entered = asyncio.Event()
    gate = asyncio.Event()

    async def collect() -> FleetResult[HostInventory]:
        entered.set()
        await gate.wait()
        failed: HostResult[HostInventory] = HostResult(
            host=URI.host_label, uri=URI, index=0, error=ConnectionRefusedError("refused")
        )
        return FleetResult(results=(failed,))

    service = Service(config(tmp_path), targets=[URI], collect=collect)
    await service.start()
    async with asyncio.timeout(30):
        await entered.wait()
        stopping = asyncio.create_task(service.aclose(grace=60.0))
        await asyncio.sleep(0)  # let aclose() start waiting on the run
        assert not stopping.done()
        gate.set()
        await stopping
    assert await stored_runs(tmp_path) == 1
