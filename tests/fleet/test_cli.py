"""``aiohyperv inventory`` end to end: hosts from arguments and files, formats, exit codes."""

from __future__ import annotations

import argparse
import csv
import io
import json
from typing import TYPE_CHECKING

import pytest

from aiohyperv.cli._inventory import add_inventory_parser, cli_inventory, run_inventory_cli
from aiohyperv.simulator import HostSpec

from .conftest import dead_uri

if TYPE_CHECKING:
    from pathlib import Path

    from .conftest import StartHosts


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="aiohyperv")
    add_inventory_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["inventory", *argv])


async def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = await run_inventory_cli(parse(*argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    # The CLI takes credentials from the environment (or auth.conf), like virsh.
    monkeypatch.setenv("AIOHYPERV_USERNAME", "admin")
    monkeypatch.setenv("AIOHYPERV_PASSWORD", "secret")
    monkeypatch.setenv("LIBVIRT_AUTH_FILE", "/nonexistent/auth.conf")


async def test_table_for_hosts_given_as_arguments(start_hosts: StartHosts) -> None:
    sims = await start_hosts([HostSpec(name="hv-a", vms=3), HostSpec(name="hv-b", os="2008R2")])
    code, out, err = await run(*(str(s.uri) for s in sims))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("HOST")
    assert sims[0].label in lines[2] and "hv-a" in lines[2]
    assert sims[1].label in lines[3] and "2008 R2" in lines[3]
    assert "2/2 hosts inventoried, 0 failed; 8 VMs" in out
    assert err == ""  # no progress bar without a terminal


async def test_failed_hosts_are_listed_and_exit_status_is_1(
    start_hosts: StartHosts, tmp_path: Path
) -> None:
    (good, bad) = await start_hosts([HostSpec(name="good", vms=2), HostSpec(name="bad", vms=2)])
    bad.host.faults.unauthorized = True
    dead = dead_uri()
    hosts_file = tmp_path / "hosts.txt"
    hosts_file.write_text(
        f"# the fleet\n{good.uri}\n\n{bad.uri}   # refuses us\n{dead}\n{good.uri}\n"
    )
    code, out, err = await run("--hosts-file", str(hosts_file), "--format", "ndjson")
    assert code == 1
    records = [json.loads(line) for line in out.splitlines()]
    assert len(records) == 3  # the duplicate is dropped
    by_host = {r["host"]: r for r in records}
    assert by_host[good.label]["ok"] is True
    assert len(by_host[good.label]["vms"]) == 2
    assert by_host[bad.label]["error"]["type"] == "AuthenticationError"
    assert by_host[dead.host_label]["error"]["type"] == "ConnectError"
    # The summary goes to stderr, so stdout stays NDJSON.
    assert "2 host(s) failed:" in err
    assert "AuthenticationError" in err and "ConnectError" in err
    assert "1/3 hosts inventoried, 2 failed" in err
    assert "secret" not in out + err


async def test_csv_to_an_output_file(start_hosts: StartHosts, tmp_path: Path) -> None:
    (sim,) = await start_hosts([HostSpec(name="hv-csv", vms=4, seed=9)])
    target = tmp_path / "inventory.csv"
    code, out, _ = await run(str(sim.uri), "--format", "csv", "--output", str(target))
    assert code == 0 and out == ""
    with target.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 4
    assert {r["hostname"] for r in rows} == {"hv-csv"}
    assert sorted(r["vm_name"] for r in rows) == sorted(vm.name for vm in sim.host.vms.values())


async def test_json_document(start_hosts: StartHosts) -> None:
    (sim,) = await start_hosts([HostSpec(name="hv-json", vms=2)])
    code, out, _ = await run(str(sim.uri), "--format", "json", "--concurrency", "1")
    assert code == 0
    doc = json.loads(out)
    # twelve requests and a Pull for each query that has more than one row (the JSON adds them)
    assert doc["summary"]["hosts"] == 1
    assert 12 < doc["summary"]["requests"] == doc["hosts"][0]["requests"] <= 12 + 11
    assert doc["hosts"][0]["hostname"] == "hv-json"


async def test_processes_give_the_same_report(start_hosts: StartHosts) -> None:
    sims = await start_hosts([HostSpec(name=f"hv-p{i}", vms=2) for i in range(4)])
    uris = [str(s.uri) for s in sims] + [str(dead_uri())]
    code, out, err = await run(*uris, "--format", "json", "--processes", "2")
    assert code == 1, err  # the dead host
    doc = json.loads(out)
    assert doc["summary"]["hosts"] == 5
    assert sorted(h["hostname"] for h in doc["hosts"]) == [f"hv-p{i}" for i in range(4)]
    assert sum(len(h["vms"]) for h in doc["hosts"]) == 8
    assert "ConnectError" in err


async def test_positional_hosts_file(start_hosts: StartHosts, tmp_path: Path) -> None:
    (sim,) = await start_hosts([HostSpec(name="hv-file", vms=1)])
    hosts_file = tmp_path / "fleet.txt"
    hosts_file.write_text(f"{sim.uri}\n")
    code, out, _ = await run(str(hosts_file), "--format", "ndjson")
    assert code == 0
    assert json.loads(out)["host"] == sim.label


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["ftp://nope/"], "not supported"),
        (["--hosts-file", "/nonexistent/hosts.txt"], "no such file"),
    ],
)
async def test_usage_errors_exit_2(argv: list[str], message: str) -> None:
    code, out, err = await run(*argv)
    assert code == 2
    assert out == ""
    assert err.startswith("aiohyperv inventory: error:") and message in err


async def test_bad_line_in_hosts_file_is_named(tmp_path: Path) -> None:
    hosts_file = tmp_path / "hosts.txt"
    hosts_file.write_text("hyperv://ok/\nhyperv://bad host/\n")
    code, _, err = await run("--hosts-file", str(hosts_file))
    assert code == 2
    assert f"{hosts_file}:2" in err


def test_argument_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_inventory(["--concurrency", "0"]) == 2
    assert "must be at least 1" in capsys.readouterr().err
    assert cli_inventory(["--format", "yaml"]) == 2
    assert cli_inventory(["--processes", "0"]) == 2
    assert parse("--processes", "3").processes == 3


async def test_embedded_simulated_fleet(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = await run("--demo", "--sim-hosts", "4", "--sim-vms", "3", "--sim-failing", "1")
    assert code == 1
    assert "simulated fleet of 4 Hyper-V hosts" in err
    assert "3/4 hosts inventoried, 1 failed; 9 VMs" in out
    assert "AuthenticationError" in out
    assert "hv001" in out and "hv004" not in out.split("host(s) failed")[0]
