"""The commands past libvirt's Hyper-V driver, end to end against the simulator."""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING

import pytest

from aiohyperv.cli import run
from aiohyperv.testing import HostSpec, run_simulator

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from aiohyperv.simulator import SimulatorServer


@pytest.fixture(params=["2019", "2008R2"])
async def sim(request: pytest.FixtureRequest) -> AsyncIterator[SimulatorServer]:
    spec = HostSpec(name="hv01", os=request.param, vms=5, seed=11, job_duration=0.02)
    async with run_simulator(spec) as server:
        yield server


@pytest.fixture(autouse=True)
def _password(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AIOHYPERV_PASSWORD", "secret")
    monkeypatch.delenv("AIOHYPERV_USERNAME", raising=False)
    monkeypatch.delenv("AIOHYPERV_DEFAULT_URI", raising=False)
    monkeypatch.delenv("LIBVIRT_DEFAULT_URI", raising=False)
    monkeypatch.setenv("LIBVIRT_AUTH_FILE", str(tmp_path / "missing-auth.conf"))


async def cli(sim: SimulatorServer, *argv: str, uri: int = 0) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = await run(["-c", sim.uris[uri], *argv], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


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
