"""Faults at scale: a 500-host fleet inventory where a fifth of the hosts misbehave.

One ``SimulatorServer`` serves 500 generated hosts (3 VMs each) on 500 loopback ports.  A
deterministic-random fifth of them refuse connections, reset them mid-response, stall, answer
401, answer every request with a 500 SOAP fault, or send truncated XML.  The fleet must return
every healthy host's complete, correct inventory (checked against the simulator's own state),
report each unhealthy host exactly once with an error of the type its fault implies, finish
within the run's deadline, and leave no socket, task or file descriptor behind.
"""

from __future__ import annotations

import asyncio
import collections
import errno
import logging
import random
import socket
from typing import TYPE_CHECKING, Literal

import pytest

from aiohyperv._credentials import Credentials
from aiohyperv._exceptions import (
    AuthenticationError,
    ConnectError,
    HyperVError,
    InternalError,
    ProtocolError,
    TransportTimeout,
)
from aiohyperv._transport import Limits, SessionPool, Timeouts
from aiohyperv.fleet import EventKind, Fleet, FleetEvent, HostInventory, inventory_op
from aiohyperv.hyperv import map_enabled_state
from aiohyperv.simulator import SimulatorServer, generate_fleet
from aiohyperv.simulator._codec import build_enumerate_response

from ._corpus import Reply
from .conftest import open_fds, other_tasks, settle

if TYPE_CHECKING:
    from aiohyperv.simulator import SimulatedHost
    from aiohyperv.simulator._codec import Request

    from .conftest import HostileFactory

N_HOSTS = 500
VMS = 3
PASSWORD = "Fleet-Secret-9"
CREDS = Credentials(username="admin", password=PASSWORD)
#: Fault kind -> the error type a host with that fault must be reported with.
EXPECTED: dict[str, type[HyperVError]] = {
    "refuse": ConnectError,
    "reset": ConnectError,
    "stall": TransportTimeout,
    "401": AuthenticationError,
    "500": InternalError,
    "bad-xml": ProtocolError,
}
#: The deadline of the whole run (a hang guard far above what it needs, not a timing).
RUN_DEADLINE = 240.0
#: Far above what a healthy or resetting host needs even on a loaded machine; stalls end by the
#: transport's read timeout (6 s), so the cause reported is the stall, not this deadline.
HOST_DEADLINE = 45.0


def inject(host: SimulatedHost, kind: str) -> None:
    faults = host.faults
    if kind == "refuse":
        faults.refuse_connections = True
    elif kind == "reset":
        faults.reset_rate = 1.0
    elif kind == "stall":
        faults.latency = 3600.0
    elif kind == "401":
        faults.unauthorized = True
    elif kind == "500":
        faults.fault_rate = 1.0
    elif kind == "bad-xml":
        faults.bad_xml_rate = 1.0


def check_inventory(inv: HostInventory, host: SimulatedHost, label: str) -> None:
    """The inventory holds exactly the simulator's VMs, with the simulator's values."""
    ns: Literal["v1", "v2"] = "v1" if host.os.v1 else "v2"
    assert inv.host == label
    assert inv.namespace == ns
    assert inv.hostname == host.dns_name
    assert inv.os_version == host.os.version
    assert inv.cpu_model == host.cpu_name
    assert inv.memory_total == host.memory_bytes
    assert sorted(s.name for s in inv.switches) == sorted(name for _, name in host.switches)
    # The inventory writes UUIDs in lower case (as libvirt); the simulator keys them as Windows.
    assert sorted(vm.uuid for vm in inv.vms) == sorted(g.lower() for g in host.vms)
    for vm in inv.vms:
        rec = host.vms[vm.uuid.upper()]
        assert (vm.name, vm.vcpus, vm.memory_startup_mib) == (rec.name, rec.cpus, rec.memory_mb)
        assert vm.enabled_state == rec.state
        assert vm.state == map_enabled_state(ns, rec.state).state.label
        assert vm.notes == rec.notes
        assert len([d for d in vm.disks if d.kind == "disk"]) == rec.disks
        assert len(vm.nics) == rec.nics


@pytest.mark.parametrize("auth", ["basic", "negotiate"])
async def test_fleet_of_500_with_a_fifth_faulty(
    auth: str, caplog: pytest.LogCaptureFixture
) -> None:
    hosts = generate_fleet(N_HOSTS, VMS, seed=9, password=PASSWORD, job_duration=0.01)
    rng = random.Random(20240917)
    faulty = rng.sample(range(N_HOSTS), N_HOSTS // 5)
    kinds = list(EXPECTED)
    plan = {index: kinds[i % len(kinds)] for i, index in enumerate(faulty)}
    for index, kind in plan.items():
        inject(hosts[index], kind)

    await asyncio.sleep(0)
    fds_before = open_fds()
    tasks_before = other_tasks()
    events: collections.Counter[EventKind] = collections.Counter()
    failed_events: collections.Counter[str] = collections.Counter()

    def on_event(event: FleetEvent[HostInventory]) -> None:
        events[event.kind] += 1
        if event.kind is EventKind.FAILED:
            failed_events[event.host] += 1

    timeouts = Timeouts(connect=5.0, read=6.0, total=30.0, operation=2.0)
    pool = SessionPool(limits=Limits(per_host_connections=2), timeouts=timeouts)
    with caplog.at_level(logging.DEBUG, logger="aiohyperv"):
        async with SimulatorServer(hosts) as server:
            # Basic, or the client's default (Negotiate: NTLM with message encryption).
            uris = [f"{uri}&auth={auth}" for uri in server.uris]
            labels = [f"{address}:{port}" for address, port in server.endpoints]
            async with asyncio.timeout(RUN_DEADLINE), pool:
                fleet = Fleet(uris, auth=CREDS, concurrency=100, timeout=HOST_DEADLINE, pool=pool)
                result = await fleet.run(inventory_op, on_event=on_event)
            stats = pool.stats

    # Every host is reported exactly once, in input order.
    assert [r.host for r in result] == labels
    for index, res in enumerate(result):
        if index in plan:
            kind = plan[index]
            assert isinstance(res.error, EXPECTED[kind]), (kind, res.host, repr(res.error))
            assert res.error.host == res.host
            assert res.value is None
        else:
            assert res.error is None, (res.host, repr(res.error))
            assert res.value is not None
            check_inventory(res.value, hosts[index], res.host)
    assert events == {EventKind.STARTED: N_HOSTS, EventKind.SUCCEEDED: 400, EventKind.FAILED: 100}
    assert all(count == 1 for count in failed_events.values())
    assert set(failed_events) == {labels[i] for i in plan}

    # Nothing is left: no connection, request, background task, socket, fd or task.
    assert (stats.connections, stats.in_flight, stats.queued, stats.hosts, stats.background) == (
        0,
        0,
        0,
        0,
        0,
    )
    assert await settle(lambda: open_fds() <= fds_before), (open_fds(), fds_before)
    assert await settle(lambda: not (other_tasks() - tasks_before)), other_tasks() - tasks_before
    assert PASSWORD not in caplog.text
    assert all(PASSWORD not in str(r.error) and PASSWORD not in repr(r.error) for r in result)


@pytest.mark.parametrize("connections", [1, 4])
async def test_failed_inventory_leaves_no_task_behind(
    hostile: HostileFactory, connections: int
) -> None:
    """A host whose root/cimv2 answers are garbage but whose v2 answers are merely slow.

    With several connections the inventory sends the v2 queries speculatively next to the
    cimv2 ones; when the cimv2 half fails, the v2 half must be cancelled with it, not left
    running (an early version of ``collect_inventory`` left it as an orphan task that kept
    sending requests after the host's result was returned and the pool was closed).
    """

    def respond(req: Request | None) -> Reply:
        if req is not None and "root/cimv2" in (req.resource_uri or ""):
            return Reply(b"<garbage/", delay=0.2)
        return Reply(
            build_enumerate_response(
                [],
                context=None,
                end_of_sequence=True,
                relates_to=req.message_id if req is not None else None,
            ),
            delay=1.0,
        )

    server = await hostile(respond)
    await asyncio.sleep(0)
    before = other_tasks()
    pool = SessionPool(limits=Limits(per_host_connections=connections))
    async with asyncio.timeout(30), pool:
        fleet = Fleet([server.uri], auth=CREDS, timeout=20, pool=pool)
        result = await fleet.run(inventory_op)
        leftover = {t for t in other_tasks() - before if "RequestHandler" not in repr(t)}
        assert pool.stats.in_flight == 0
    assert isinstance(result.results[0].error, ProtocolError)
    assert not leftover, leftover


async def test_refusing_host_keeps_its_port() -> None:
    """A refusing simulated host keeps its port bound: nobody else can take it meanwhile.

    (Found by the 500-host test on a shared machine: with the port released, another process's
    server got it, and the "refusing" host's clients were answered by that stranger.)
    """
    hosts = generate_fleet(2, 1, seed=1)
    hosts[0].faults.refuse_connections = True
    async with SimulatorServer(hosts) as server:
        address, port = server.endpoints[0]
        for reuse in (False, True):
            with socket.socket() as intruder:
                if reuse:
                    intruder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                with pytest.raises(OSError) as info:
                    intruder.bind((address, port))
                assert info.value.errno == errno.EADDRINUSE
        with pytest.raises(ConnectionRefusedError):
            await asyncio.open_connection(address, port)
        hosts[0].faults.refuse_connections = False
        await server.apply_faults()
        _reader, writer = await asyncio.open_connection(address, port)
        writer.close()
        await writer.wait_closed()
        hosts[0].faults.refuse_connections = True
        await server.apply_faults()
        with pytest.raises(ConnectionRefusedError):
            await asyncio.open_connection(address, port)
