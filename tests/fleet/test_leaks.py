"""A fleet run leaves nothing behind, even when a host refuses the credentials mid-run."""

from __future__ import annotations

import asyncio
import gc
from typing import TYPE_CHECKING, Any

import aiohttp

from aiohyperv._exceptions import AuthenticationError
from aiohyperv._transport import Limits, SessionPool
from aiohyperv.fleet import Fleet, FleetResult
from aiohyperv.fleet._inventory import inventory_op
from aiohyperv.simulator import HostSpec

from .conftest import CREDENTIALS, SimHost, StartHosts

if TYPE_CHECKING:
    from aiohyperv.fleet._model import HostInventory


def open_client_sessions() -> set[int]:
    """ids of aiohttp ClientSessions alive and not closed (after a full collection)."""
    gc.collect()
    return {
        id(obj)
        for obj in gc.get_objects()
        if isinstance(obj, aiohttp.ClientSession) and not obj.closed
    }


def stray_tasks() -> set[asyncio.Task[Any]]:
    """Tasks other than this test and the simulators' connection handlers."""
    current = asyncio.current_task()
    return {
        task
        for task in asyncio.all_tasks()
        if task is not current
        and not getattr(task.get_coro(), "__qualname__", "").startswith("RequestHandler.")
    }


def check(result: FleetResult[HostInventory], sims: list[SimHost]) -> None:
    assert [r.host for r in result] == [s.label for s in sims]
    ok, refused = result.results[:2], result.results[2]
    assert all(r.ok and r.value is not None and len(r.value.vms) == 3 for r in ok)
    assert isinstance(refused.error, AuthenticationError)
    assert refused.error.host == sims[2].label


async def test_a_401_host_leaves_no_session_or_task_behind(start_hosts: StartHosts) -> None:
    # The default auth (Negotiate: NTLM with message encryption) authenticates the connection,
    # then the host answers 401 to the first real request; the other requests of that host
    # must not outlive its failure, nor open HTTP sessions after the pool closed
    # ("Unclosed client session" at interpreter exit).
    sims = await start_hosts([HostSpec(name=f"hv{i}", vms=3, seed=i) for i in range(3)])
    sims[2].host.faults.unauthorized = True
    uris = [s.uri for s in sims]
    before = open_client_sessions()

    # The fleet's own pool (what `aiohyperv inventory` uses): one connection per host.
    check(await Fleet(uris, auth=CREDENTIALS).run(inventory_op), sims)
    assert stray_tasks() == set()
    assert open_client_sessions() - before == set()

    # A shared pool with several connections per host: the inventory's requests then run
    # concurrently, and more are admitted than there are connections.
    limits = Limits(per_host_connections=4, per_host_operations=2)
    async with SessionPool(limits=limits) as pool:
        check(await Fleet(uris, auth=CREDENTIALS, pool=pool).run(inventory_op), sims)
        assert stray_tasks() == set()
    assert stray_tasks() == set()
    assert open_client_sessions() - before == set()
