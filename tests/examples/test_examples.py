"""Each example runs as a user would run it (a subprocess, against its own simulator)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema

from aiohyperv.fleet import inventory_schema

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_list_vms() -> None:
    proc = run("list_vms.py")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "hv01: Windows 10.0.20348 (v2)"
    assert lines[1].split() == ["ID", "NAME", "STATE", "vCPU", "MEMORY"]
    rows = [line.split() for line in lines[2:]]
    assert len(rows) == 6  # the simulated host has six VMs
    names = [row[1] for row in rows]
    assert names == sorted(names)
    for row in rows:
        state = row[2] if row[3] != "off" else "shut off"
        assert state in {"running", "paused", "shut off"}
        assert (row[0] == "-") == (state == "shut off")
        assert row[-1] == "MiB"


def test_start_stop_vm() -> None:
    proc = run("start_stop_vm.py")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 3
    name = lines[0].split(":")[0]
    assert lines[0] == f"{name}: shut off"
    assert lines[1].startswith(f"{name}: started in ") and lines[1].endswith("-> running")
    assert lines[2].startswith(f"{name}: turned off in ") and lines[2].endswith("-> shut off")


def test_fleet_ndjson() -> None:
    proc = run("fleet_ndjson.py")
    # One simulated host refuses the password on purpose: exit status 1, and it is a line too.
    assert proc.returncode == 1, proc.stderr
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(records) == 20
    ok = [r for r in records if r["ok"]]
    failed = [r for r in records if not r["ok"]]
    assert len(ok) == 19
    assert [r["error"]["type"] for r in failed] == ["AuthenticationError"]
    assert "secret" not in failed[0]["error"]["message"]
    assert all(len(r["vms"]) == 10 for r in ok)
    assert len({r["host"] for r in records}) == 20
    assert "19/20 hosts inventoried" in proc.stderr
    assert "verification is off" not in proc.stderr  # no warning per simulated host
    schema = inventory_schema()
    record_schema = {k: v for k, v in schema.items() if k != "oneOf"} | {"$ref": "#/$defs/record"}
    for record in records:  # the records `aiohyperv inventory --format ndjson` writes
        jsonschema.Draft202012Validator(record_schema).validate(record)


def test_inventory_service_answers_once() -> None:
    proc = run("inventory_service.py", "--once")
    assert proc.returncode == 0, proc.stderr
    body = json.loads(proc.stdout)
    assert body["failed"] == []
    assert len(body["hosts"]) == 5
    assert sorted(h["hostname"] for h in body["hosts"]) == [f"hv00{i}" for i in range(1, 6)]
    assert all(len(h["vms"]) == 4 for h in body["hosts"])
    assert body["summary"]["requests"] >= 5 * 10
    assert "verification is off" not in proc.stderr  # no warning per simulated host
