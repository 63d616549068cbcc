"""The commands past libvirt's Hyper-V driver, end to end against the simulator."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from aiohyperv.testing import HostSpec, run_simulator

# The simulator, the environment's credentials and the command runner of the CLI tests.
from .test_cli import _password, cli, sim

__all__ = ["_password", "sim"]  # fixtures, imported to be found here

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from aiohyperv.simulator import VM, SimulatorServer


async def vm_in(sim: SimulatorServer, state: str) -> VM:
    """A VM in ``state`` ("running" or "shut off"), brought there through the CLI if needed."""
    host = sim.hosts[0]
    wanted = {"running": 2, "shut off": 3}[state]
    for vm in host.vms.values():
        if vm.state == wanted:
            return vm
    vm = next(iter(host.vms.values()))
    if vm.state == 9:
        assert (await cli(sim, "resume", vm.name))[0] == 0
    if wanted == 3:
        assert (await cli(sim, "destroy", vm.name))[0] == 0
        if vm.state == 6:
            assert (await cli(sim, "managedsave-remove", vm.name))[0] == 0
    elif vm.state != 2:
        assert (await cli(sim, "start", vm.name))[0] == 0
    assert vm.state == wanted
    return vm


# -- domstats / dommemstat -------------------------------------------------------------------------


async def test_domstats_all_domains(sim: SimulatorServer) -> None:
    host = sim.hosts[0]
    code, out, err = await cli(sim, "domstats")
    assert code == 0, err
    blocks = [b for b in out.split("\n\n") if b.strip()]
    assert len(blocks) == len(host.vms)
    names = sorted((vm.name for vm in host.vms.values()), key=str.lower)
    assert [b.splitlines()[0] for b in blocks] == [f"Domain: '{n}'" for n in names]
    for block in blocks:
        vm = next(v for v in host.vms.values() if f"'{v.name}'" in block.splitlines()[0])
        lines = dict(line.strip().split("=", 1) for line in block.splitlines()[1:])
        assert lines["state.reason"] == "0"
        assert lines["vcpu.current"] == str(vm.cpus)
        assert lines["hyperv.health"] == "ok"
        if vm.state == 2:
            assert lines["state.state"] == "1"
            assert int(lines["hyperv.cpu.load"]) > 0
            assert int(lines["balloon.current"]) > 0


async def test_domstats_named_and_json(sim: SimulatorServer) -> None:
    vm = next(iter(sim.hosts[0].vms.values()))
    code, out, err = await cli(sim, "--json", "domstats", vm.name)
    assert code == 0, err
    doc = json.loads(out)
    assert [d["name"] for d in doc] == [vm.name]
    code, out, err = await cli(sim, "domstats", "no-such-vm")
    assert code != 0 and "no-such-vm" in err


async def test_dommemstat(sim: SimulatorServer) -> None:
    host = sim.hosts[0]
    vm = next(v for v in host.vms.values() if v.state == 2)
    code, out, err = await cli(sim, "dommemstat", vm.name)
    assert code == 0, err
    lines = dict(line.split(" ", 1) for line in out.splitlines())
    expected = vm.memory_mb * 6 // 10 if vm.dynamic_memory else vm.memory_mb
    assert int(lines["actual"]) == expected * 1024
    assert ("usable" in lines) == vm.dynamic_memory


# -- snapshots -------------------------------------------------------------------------------------


@pytest.fixture
async def sim2019() -> AsyncIterator[SimulatorServer]:
    spec = HostSpec(name="hv01", os="2019", vms=5, seed=11, job_duration=0.02)
    async with run_simulator(spec) as server:
        yield server


async def test_snapshot_commands(sim2019: SimulatorServer) -> None:
    vm = await vm_in(sim2019, "shut off")
    code, out, err = await cli(sim2019, "snapshot-create-as", vm.name, "s1")
    assert (code, out) == (0, "Domain snapshot s1 created\n"), err
    assert (await cli(sim2019, "snapshot-create-as", vm.name, "--name", "s2"))[0] == 0
    assert (await cli(sim2019, "snapshot-create-as", vm.name, "s3", "--type", "standard"))[0] == 0

    code, out, err = await cli(sim2019, "snapshot-list", vm.name)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["Name", "Creation", "Time", "State"]
    assert [line.split()[0] for line in lines[2:]] == ["s1", "s2", "s3"]
    assert all(line.split()[-1] == "shutoff" for line in lines[2:])

    code, out, err = await cli(sim2019, "snapshot-list", vm.name, "--tree")
    # virsh's tree, trailing indent of the last leaf included.
    assert out == "s1\n  |\n  +- s2\n      |\n      +- s3\n        \n", err

    code, out, err = await cli(sim2019, "snapshot-info", vm.name, "s2")
    assert code == 0, err
    info = {line[:15].strip(): line[16:] for line in out.splitlines()}
    assert info["Name:"] == "s2" and info["Domain:"] == vm.name
    assert info["Current:"] == "no" and info["Parent:"] == "s1"
    assert (info["Children:"], info["Descendants:"]) == ("1", "1")
    code, out, err = await cli(sim2019, "snapshot-info", vm.name, "--current")
    assert "Name:           s3" in out, err

    code, out, err = await cli(sim2019, "snapshot-revert", vm.name, "s1")
    assert (code, out) == (0, ""), err
    code, out, err = await cli(sim2019, "--json", "snapshot-list", vm.name)
    assert [s["name"] for s in json.loads(out) if s["current"]] == ["s1"]

    code, out, err = await cli(sim2019, "snapshot-delete", vm.name, "s2", "--children")
    assert (code, out) == (0, "Domain snapshot s2 deleted\n"), err
    code, out, err = await cli(sim2019, "snapshot-list", vm.name, "--tree")
    assert out == "s1\n\n"
    code, out, err = await cli(sim2019, "snapshot-delete", vm.name, "missing")
    assert code != 0 and "missing" in err


async def test_snapshot_revert_running_domain_fails(sim2019: SimulatorServer) -> None:
    vm = await vm_in(sim2019, "running")
    assert (await cli(sim2019, "snapshot-create-as", vm.name, "live"))[0] == 0
    code, _out, err = await cli(sim2019, "snapshot-revert", vm.name, "live")
    assert code != 0 and "invalid state" in err


# -- domblkinfo ------------------------------------------------------------------------------------


async def test_domblkinfo(sim2019: SimulatorServer) -> None:
    vm = next(iter(sim2019.hosts[0].vms.values()))
    code, out, err = await cli(sim2019, "domblklist", vm.name)
    target = out.splitlines()[2].split()[0]
    code, out, err = await cli(sim2019, "domblkinfo", vm.name, target)
    assert code == 0, err
    lines = out.splitlines()
    assert [line[:16] for line in lines] == ["Capacity:       ", "Allocation:     ",
                                              "Physical:       "]  # fmt: skip
    capacity, allocation, physical = (int(line[16:]) for line in lines)
    assert capacity >= 40 * 1024**3 and allocation == physical > 0
    code, out, err = await cli(sim2019, "--json", "domblkinfo", vm.name, target)
    assert json.loads(out)["capacity"] == capacity
    code, out, err = await cli(sim2019, "domblkinfo", vm.name, "sdz")
    assert code != 0 and "sdz" in err


# -- domifaddr -------------------------------------------------------------------------------------


async def test_domifaddr(sim2019: SimulatorServer) -> None:
    vm = await vm_in(sim2019, "running")
    vm.guest_os = "Ubuntu 22.04.4 LTS"
    code, out, err = await cli(sim2019, "domifaddr", vm.name)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == f" {'Name':<10} {'MAC address':<20} {'Protocol':<8}     Address"
    assert set(lines[1]) == {"-"}
    rows = lines[2:]
    assert len(rows) == 2 * vm.nics
    first, second = rows[0], rows[1]
    assert first.startswith(" Network Adapter 00:15:5D") and " ipv4 " in first
    assert first.rstrip().endswith("/24")
    assert second.startswith(f" {'-':<10} {'-':<17}    ipv6") and second.endswith("/64")
    code, out, err = await cli(sim2019, "--json", "domifaddr", vm.name)
    assert json.loads(out)[0]["addresses"][0]["prefix"] == 24

    off = await vm_in(sim2019, "shut off")
    code, out, err = await cli(sim2019, "domifaddr", off.name)
    assert code == 0, err
    assert all(line.split()[-2:] == ["N/A", "N/A"] for line in out.splitlines()[2:])


# -- migrate ---------------------------------------------------------------------------------------


@pytest.fixture
async def two_hosts() -> AsyncIterator[SimulatorServer]:
    specs = [
        HostSpec(name="hv01", os="2019", vms=3, seed=31, job_duration=0.02),
        HostSpec(name="hv02", os="2019", vms=1, seed=32, job_duration=0.02),
    ]
    async with run_simulator(*specs) as server:
        server.hosts[1].switches = list(server.hosts[0].switches)
        yield server


async def test_migrate_live_and_offline(two_hosts: SimulatorServer) -> None:
    src, dst = two_hosts.hosts
    running = await vm_in(two_hosts, "running")
    code, out, err = await cli(two_hosts, "migrate", running.name, two_hosts.uris[1], "--live")
    assert (code, out) == (0, ""), err
    assert running.guid in dst.vms and running.guid not in src.vms
    assert dst.vms[running.guid].state == 2
    code, out, err = await cli(two_hosts, "list", uri=1)
    assert running.name in out

    off = await vm_in(two_hosts, "shut off")
    code, out, err = await cli(
        two_hosts, "--json", "migrate", off.name, two_hosts.uris[1], "--offline"
    )
    assert code == 0, err
    assert json.loads(out)["destination"] == dst.dns_name
    assert off.guid in dst.vms


async def test_migrate_failures(two_hosts: SimulatorServer) -> None:
    src, dst = two_hosts.hosts
    running = await vm_in(two_hosts, "running")
    code, _out, err = await cli(two_hosts, "migrate", running.name, two_hosts.uris[1], "--offline")
    assert code != 0 and "offline migration" in err
    dst.switches = [("9F1B2A4C-0000-4000-8000-000000000001", "Other")]
    code, _out, err = await cli(two_hosts, "migrate", running.name, two_hosts.uris[1])
    assert code != 0 and "Could not find Ethernet switch" in err
    assert running.guid in src.vms
