"""``aiohyperv inventory --filter``: hosts and VMs kept as Where-Object users expect."""

from __future__ import annotations

import csv
import dataclasses
import fnmatch
import io
import json
from typing import TYPE_CHECKING, Any

import pytest

from aiohyperv.cli import run
from aiohyperv.cli._filter import HOST_FIELDS, VM_FIELDS, parse_filters
from aiohyperv.fleet._model import HostInventory, VMInventory
from aiohyperv.testing import HostSpec, run_simulator

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from aiohyperv.simulator import SimulatorServer


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.setenv("AIOHYPERV_USERNAME", "admin")
    monkeypatch.setenv("AIOHYPERV_PASSWORD", "secret")
    monkeypatch.setenv("LIBVIRT_AUTH_FILE", str(tmp_path / "missing-auth.conf"))


@pytest.fixture
async def sim() -> AsyncIterator[SimulatorServer]:
    async with run_simulator(
        HostSpec(name="hv01", vms=8, seed=3), HostSpec(name="other", vms=6, seed=4)
    ) as server:
        yield server


async def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = await run(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


async def inventory(sim: SimulatorServer, *options: str) -> list[dict[str, Any]]:
    code, out, err = await cli("inventory", *sim.uris, "--format", "json", *options)
    assert code == 0, err
    hosts: list[dict[str, Any]] = json.loads(out)["hosts"]
    return hosts


def vm_names(hosts: list[dict[str, Any]]) -> dict[str, list[str]]:
    return {h["hostname"]: [vm["name"] for vm in h["vms"]] for h in hosts}


def test_fields_are_the_model_s_scalar_fields() -> None:
    def scalars(cls: type) -> set[str]:
        return {f.name for f in dataclasses.fields(cls) if "tuple" not in str(f.type)}

    assert set(HOST_FIELDS) == scalars(HostInventory) - {"requests"}
    assert set(VM_FIELDS) == scalars(VMInventory)


async def test_vm_field_filters_the_vms_of_every_host(sim: SimulatorServer) -> None:
    everything = await inventory(sim)
    states = {vm["state"] for h in everything for vm in h["vms"]}
    assert "running" in states and len(states) > 1  # the filter has something to drop
    expected = {
        h["hostname"]: [vm["name"] for vm in h["vms"] if vm["state"] == "running"]
        for h in everything
    }
    assert vm_names(await inventory(sim, "--filter", "state=RUNNING")) == expected
    unexpected = {
        h["hostname"]: [vm["name"] for vm in h["vms"] if vm["state"] != "running"]
        for h in everything
    }
    assert vm_names(await inventory(sim, "--filter", "state!=running")) == unexpected


async def test_glob_numbers_and_all_filters_must_match(sim: SimulatorServer) -> None:
    everything = await inventory(sim)
    first = everything[0]["vms"][0]["name"]
    pattern = first[:3].upper() + "*"
    expected = {
        h["hostname"]: [
            vm["name"]
            for vm in h["vms"]
            if fnmatch.fnmatchcase(vm["name"].lower(), pattern.lower())
            and vm["vcpus"] is not None
            and vm["vcpus"] >= 2
        ]
        for h in everything
    }
    got = await inventory(sim, "--filter", f"name={pattern}", "--filter", "vcpus>=2")
    assert vm_names(got) == expected
    assert sum(map(len, expected.values())) < sum(len(h["vms"]) for h in everything)


async def test_host_field_drops_hosts_and_a_host_without_vms_stays(sim: SimulatorServer) -> None:
    got = await inventory(sim, "--filter", "hostname=HV0*")
    assert [h["hostname"] for h in got] == ["hv01"]
    assert len(got[0]["vms"]) == 8
    got = await inventory(sim, "--filter", "name=no-such-vm-*")
    assert vm_names(got) == {"hv01": [], "other": []}


async def test_filter_applies_to_csv_and_table(sim: SimulatorServer) -> None:
    code, out, err = await cli(
        "-q", "inventory", *sim.uris, "--format", "csv", "--filter", "hostname=other"
    )
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {r["hostname"] for r in rows} == {"other"} and len(rows) == 6
    code, out, err = await cli("inventory", *sim.uris, "--filter", "hostname=other")
    assert code == 0, err
    assert "1/1 hosts inventoried" in out and "hv01" not in out


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("colour=red", "unknown field 'colour'"),
        ("state~running", "expected FIELD<OP>VALUE"),
        ("vcpus>=four", "vcpus is a number"),
        ("autostart<true", "use = or !="),
    ],
)
async def test_bad_filter_is_a_usage_error_before_connecting(expr: str, message: str) -> None:
    # Port 9 on loopback: nothing listens, and nothing must be tried.
    code, out, err = await cli("inventory", "hyperv://127.0.0.1:9/", "--filter", expr)
    assert code == 2 and out == ""
    assert message in err
    assert "refused" not in err.lower()
    if "unknown" in message:
        assert "fields: host, hostname" in err and "guest_os" in err


def test_conditions_on_missing_values() -> None:
    selection = parse_filters(["guest_os=*Windows*"])
    assert selection is not None
    (condition,) = selection.conditions
    assert condition.matches("Microsoft Windows Server 2022 Datacenter")
    assert not condition.matches(None)
    assert not condition.matches("Ubuntu")
    (negated,) = parse_filters(["guest_os!=*Windows*"]).conditions  # type: ignore[union-attr]
    assert negated.matches(None) and negated.matches("Ubuntu")
