"""The standard inventory against simulated hosts: content, round trips, and failing hosts."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import TYPE_CHECKING, Literal

import pytest

from aiohyperv._credentials import Credentials
from aiohyperv._exceptions import (
    AuthenticationError,
    ConnectError,
    InternalError,
    TransportTimeout,
    WSManFault,
)
from aiohyperv._transport import SessionPool
from aiohyperv.fleet import EventKind, Fleet, FleetResult
from aiohyperv.fleet._inventory import (
    CIMV2_QUERIES,
    V2_QUERIES,
    _queries,
    _virtualization,
    build_inventory,
    collect_inventory,
    inventory_op,
)
from aiohyperv.hyperv import map_enabled_state
from aiohyperv.simulator import HostSpec
from aiohyperv.wsman import NAMESPACE_CIMV2, NAMESPACE_V2

from .._arrivals import Arrivals
from .conftest import CREDENTIALS, SimHost, StartHosts, dead_uri

if TYPE_CHECKING:
    from aiohyperv.fleet._model import HostInventory

ALL_OS = ("2008R2", "2012", "2012R2", "2016", "2019", "2022", "2025")


def check_against_simulator(inv: HostInventory, sim: SimHost) -> None:
    """Every VM the simulator holds is in the inventory with the simulator's own values."""
    host = sim.host
    v1 = host.os.v1
    ns: Literal["v1", "v2"] = "v1" if v1 else "v2"
    assert inv.host == sim.label
    assert inv.namespace == ns
    assert inv.hostname == host.dns_name
    assert inv.os_version == host.os.version
    assert inv.os_caption == host.os.caption.strip()
    assert inv.version is not None and inv.version // 100_000_000 == int(
        host.os.version[0:2].rstrip(".")
    )
    assert inv.cpu_sockets == host.sockets
    assert inv.cpu_cores == host.sockets * host.cores_per_socket
    assert inv.cpu_model == host.cpu_name
    assert inv.memory_total == host.memory_bytes
    assert inv.memory_free is not None and 0 < inv.memory_free < host.memory_bytes
    assert sorted(s.name for s in inv.switches) == sorted(name for _, name in host.switches)

    by_uuid = {vm.uuid: vm for vm in inv.vms}
    assert len(by_uuid) == len(host.vms) == host.spec.vms
    for guid, rec in host.vms.items():
        vm = by_uuid[guid.lower()]
        assert vm.name == rec.name
        assert vm.vcpus == rec.cpus
        assert vm.memory_startup_mib == rec.memory_mb
        if not v1:  # the simulated 2008 R2 provider always reports static memory
            assert vm.memory_dynamic == rec.dynamic_memory
        assert vm.generation == rec.generation
        assert vm.enabled_state == rec.state
        assert vm.state == map_enabled_state(ns, rec.state).state.label
        assert (vm.id is not None) == (rec.process_id is not None and rec.state != 3)
        assert vm.notes == rec.notes
        assert len([d for d in vm.disks if d.kind == "disk"]) == rec.disks
        assert all(d.path.endswith((".vhdx", ".vhd", ".iso")) for d in vm.disks)
        assert len(vm.nics) == rec.nics
        for nic in vm.nics:
            assert nic.mac is not None and nic.mac.startswith("00:15:5D:")
            assert nic.switch in {name for _, name in host.switches}
        if v1:
            assert vm.config_version is None and vm.autostart is None
        else:
            assert vm.config_version == rec.version
            assert vm.autostart == (rec.autostart == 4)
        if rec.on_since is not None:
            assert vm.uptime is not None and vm.uptime > 0
        # Memory demand (GetSummaryInformation): nothing while off, something while on.
        assert vm.memory_demand_mib is not None
        assert (vm.memory_demand_mib > 0) == (rec.on_since is not None)
        # Live statistics from the same call (more RequestedInformation codes, no request).
        assert vm.memory_assigned_mib is not None
        assert (vm.memory_assigned_mib > 0) == (rec.on_since is not None)
        assert vm.memory_demand_mib <= vm.memory_assigned_mib
        assert (vm.cpu_load or 0) > 0 if rec.state == 2 else not vm.cpu_load
        if rec.state == 2:
            assert vm.heartbeat == ("ok" if rec.guest_os else "no contact")
        assert vm.health == "ok"
        assert vm.replication == (None if v1 else "disabled")
        # Guest reports (KVP and guest NIC configuration): running guests with integration
        # services only, and only on 2012+ (one host-wide query each).
        reporting = not v1 and rec.state == 2 and bool(rec.guest_os)
        assert vm.fqdn == (f"{rec.name}.{host.domain}" if reporting else None)
        assert vm.guest_os == (rec.guest_os if reporting else None)
        assert (vm.integration_services is not None) == reporting
        for nic in vm.nics:
            assert bool(nic.addresses) == reporting
            assert all(a.startswith(("10.", "fe80::")) for a in nic.addresses)


@pytest.mark.parametrize("os_name", ALL_OS)
async def test_inventory_matches_the_host(start_hosts: StartHosts, os_name: str) -> None:
    (sim,) = await start_hosts([HostSpec(name=f"hv-{os_name.lower()}", os=os_name, vms=12, seed=5)])
    async with SessionPool() as pool:
        session = pool.session(sim.uri, CREDENTIALS)
        inv = await collect_inventory(session, host=sim.label)
        requests, pulls = session.stats.requests, session.stats.pulls
    check_against_simulator(inv, sim)
    # A handful of whole-class enumerations, whatever the number of VMs: 3 cimv2 + 8
    # virtualization enumerations + 1 GetSummaryInformation (v1: 7 + 1).  Windows answers an
    # optimized Enumerate with its first item only, so a query of several rows takes one Pull
    # more, and never more than one: the rest fits one envelope.
    if os_name == "2008R2":
        assert requests - pulls <= 3 + 9 + 8  # cimv2 + (failed) v2 probe + v1
        assert 0 < pulls <= 3 + 7
    else:
        assert requests - pulls == 12
        assert 0 < pulls <= 3 + 8


async def test_guest_items_are_read_as_they_arrive(start_hosts: StartHosts) -> None:
    # The KVP items are most of what a host's rows weigh before the join: the kvp job hands
    # back each VM's guest info and keeps none of their CIM-XML text, and the inventory built
    # from that is the one built from the raw rows (as a peer such as pypsrp would pass them).
    (sim,) = await start_hosts([HostSpec(name="guests", vms=8, seed=3)])
    async with SessionPool() as pool:
        session = pool.session(sim.uri, CREDENTIALS)
        jobs = _virtualization(session, "v2")
        read = await jobs["kvp"]()
        raw = await _queries(session, NAMESPACE_V2, {"kvp": V2_QUERIES["kvp"]})["kvp"]()
        rows = {key: await job() for key, job in jobs.items() if key != "kvp"}
        cim = {
            key: await job()
            for key, job in _queries(session, NAMESPACE_CIMV2, CIMV2_QUERIES, "cim.").items()
        }
    assert read == [] and any("GuestIntrinsicExchangeItems" in r.properties for r in raw)
    joined = build_inventory(sim.label, "v2", {**cim, **rows, "kvp": read})
    assert joined == build_inventory(sim.label, "v2", {**cim, **rows, "kvp": raw})
    assert any(vm.fqdn for vm in joined.vms)
    check_against_simulator(joined, sim)


async def test_request_count_does_not_grow_with_vms(start_hosts: StartHosts) -> None:
    # Past a few VMs every class has several rows, so each query is an Enumerate (first item)
    # and one Pull (the rest), on a host of 5 VMs as on one of 60.
    small, big = await start_hosts(
        [HostSpec(name="small", vms=5, seed=1), HostSpec(name="big", vms=60, seed=1)]
    )
    result = await Fleet([small.uri, big.uri], auth=CREDENTIALS).run(inventory_op)
    result.raise_for_errors()
    counts = [r.requests for r in result]
    assert counts[0] == counts[1] <= 12 + 3 + 8
    assert [r.value.requests for r in result if r.value] == counts
    big_inv = result.results[1].value
    assert big_inv is not None and len(big_inv.vms) == 60


async def test_namespace_from_uri_skips_detection(start_hosts: StartHosts) -> None:
    # Full batches (one answer per query) make the count exact: no v2 probe is sent.
    (sim,) = await start_hosts([HostSpec(name="old", os="2008R2", vms=3, seed=2, batching="full")])
    uri = dataclasses.replace(sim.uri, namespace="v1")
    result = await Fleet([uri], auth=CREDENTIALS).run(inventory_op)
    inv = result.results[0].unwrap()
    assert inv.namespace == "v1"
    assert result.results[0].requests == 11  # 3 cimv2 + 7 v1 + summary, no v2 probe
    check_against_simulator(inv, sim)


async def test_fleet_with_dead_slow_unauthorized_and_faulting_hosts(
    start_hosts: StartHosts,
) -> None:
    specs = [
        HostSpec(name=f"hv{i:02d}", os=ALL_OS[i % len(ALL_OS)], vms=6, seed=i) for i in range(9)
    ]
    sims = await start_hosts(specs)
    healthy = sims[:5]
    slow, unauthorized, wrong_password, faulting = sims[5:]
    slow.host.faults.latency = 30.0  # far past the fleet's deadline
    unauthorized.host.faults.unauthorized = True
    faulting.host.faults.fault_rate = 1.0
    dead = dead_uri()

    auth = {
        **{s.label: CREDENTIALS for s in sims},
        dead.host_label: CREDENTIALS,
        wrong_password.label: Credentials(username="admin", password="not-the-password"),
    }
    uris = [s.uri for s in sims] + [dead]
    result: FleetResult[HostInventory] = await Fleet(
        uris, auth=auth, concurrency=4, timeout=1.5
    ).run(inventory_op)

    errors = result.errors
    assert set(errors) == {
        slow.label,
        unauthorized.label,
        wrong_password.label,
        faulting.label,
        dead.host_label,
    }
    assert isinstance(errors[slow.label], TransportTimeout)
    assert "deadline" in str(errors[slow.label])
    assert isinstance(errors[unauthorized.label], AuthenticationError)
    assert isinstance(errors[wrong_password.label], AuthenticationError)
    assert "not-the-password" not in str(errors[wrong_password.label])
    assert isinstance(errors[faulting.label], InternalError)
    assert isinstance(errors[faulting.label], WSManFault)
    assert isinstance(errors[dead.host_label], ConnectError)
    for label, error in errors.items():
        assert getattr(error, "host", None) == label

    # Full results for everyone else.
    assert [r.host for r in result.succeeded] == [s.label for s in healthy]
    for r, sim in zip(result.succeeded, healthy, strict=True):
        assert r.value is not None
        check_against_simulator(r.value, sim)

    with pytest.raises(ExceptionGroup) as info:
        result.raise_for_errors()
    assert len(info.value.exceptions) == 5
    auth_errors, _ = info.value.split(AuthenticationError)
    assert auth_errors is not None and len(auth_errors.exceptions) == 2


async def test_cancelling_a_fleet_inventory_mid_flight(start_hosts: StartHosts) -> None:
    arrivals = Arrivals()
    arrivals.gate.clear()  # every request is held at its server: in flight when we cancel
    specs = [HostSpec(name=f"slow{i}", vms=2, seed=i) for i in range(4)]
    sims = await start_hosts(specs, arrivals=arrivals)
    seen: list[str] = []

    before = asyncio.all_tasks()
    fleet = Fleet([s.uri for s in sims], auth=CREDENTIALS, timeout=None)
    task = asyncio.create_task(fleet.run(inventory_op, on_event=lambda e: seen.append(e.kind)))
    async with asyncio.timeout(30):
        await arrivals.reached(len(sims))  # a request of every host is at its server
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert seen == [EventKind.STARTED] * len(sims)  # nobody finished, nobody "failed"
    assert asyncio.all_tasks() == before  # workers, requests and the fleet's pool are gone
