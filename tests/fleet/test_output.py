"""The inventory writers and the progress bar, fed hand-built results."""

from __future__ import annotations

import csv
import dataclasses
import io
import json

import pytest

from aiohyperv._config import parse_uri
from aiohyperv._exceptions import AuthenticationError, ConfigError, ConnectError
from aiohyperv.cli._filter import HOST_FIELDS, VM_FIELDS
from aiohyperv.cli._output import (
    CSV_COLUMNS,
    CSV_FIELDS,
    CsvWriter,
    make_writer,
    write_summary,
)
from aiohyperv.cli._progress import LiveProgress
from aiohyperv.fleet import EventKind, FleetEvent, FleetProgress, FleetResult, HostResult
from aiohyperv.fleet._model import DiskInfo, HostInventory, NicInfo, SwitchInfo, VMInventory


def _vm(name: str, state: str = "running") -> VMInventory:
    return VMInventory(
        name=name,
        uuid=f"UUID-{name}",
        id=4242 if state == "running" else None,
        state=state,
        enabled_state=2 if state == "running" else 3,
        vcpus=2,
        memory_startup_mib=2048,
        memory_dynamic=True,
        uptime=12.5 if state == "running" else 0.0,
        generation=2,
        config_version="9.0",
        notes='say "hi", ok',
        autostart=True,
        disks=(DiskInfo(path=rf"C:\VMs\{name}.vhdx"),),
        nics=(NicInfo(name="Network Adapter", mac="00:15:5D:00:00:01", switch="External"),),
    )


def _inventory(host: str, vms: tuple[VMInventory, ...]) -> HostInventory:
    return HostInventory(
        host=host,
        hostname=host.split(":")[0].upper(),
        os_caption="Microsoft Windows Server 2019 Datacenter",
        os_version="10.0.17763",
        version=1000017763,
        namespace="v2",
        cpu_model="Intel(R) Xeon(R)",
        cpu_sockets=2,
        cpu_cores=16,
        cpu_threads=32,
        memory_total=256 * 2**30,
        memory_free=100 * 2**30,
        switches=(SwitchInfo(name="External", id="SW-1"),),
        vms=vms,
        requests=11,
    )


def _result() -> FleetResult[HostInventory]:
    uris = [parse_uri(f"hyperv://hv{i}:5985/?transport=http") for i in range(4)]
    ok0 = HostResult(
        host=uris[0].host_label,
        uri=uris[0],
        index=0,
        value=_inventory(uris[0].host_label, (_vm("web"), _vm("db", "shut off"))),
        elapsed=0.2,
        requests=11,
    )
    ok1 = HostResult(
        host=uris[1].host_label,
        uri=uris[1],
        index=1,
        value=_inventory(uris[1].host_label, ()),
        elapsed=0.1,
        requests=11,
    )
    bad2: HostResult[HostInventory] = HostResult(
        host=uris[2].host_label,
        uri=uris[2],
        index=2,
        error=ConnectError("connection refused", host=uris[2].host_label),
        elapsed=0.01,
    )
    bad3: HostResult[HostInventory] = HostResult(
        host=uris[3].host_label,
        uri=uris[3],
        index=3,
        error=AuthenticationError("server refused the credentials", host=uris[3].host_label),
        elapsed=0.01,
    )
    return FleetResult(results=(ok0, ok1, bad2, bad3), elapsed=0.5)


def _write(fmt: str, result: FleetResult[HostInventory] | None = None) -> str:
    out = io.StringIO()
    writer = make_writer(fmt, out)
    result = result or _result()
    for r in result:
        writer.host(r)
    writer.finish(result)
    return out.getvalue()


def test_json_document() -> None:
    doc = json.loads(_write("json"))
    assert [h["host"] for h in doc["hosts"]] == ["hv0:5985", "hv1:5985"]
    first = doc["hosts"][0]
    assert first["version"] == 1000017763
    assert [vm["name"] for vm in first["vms"]] == ["web", "db"]
    assert first["vms"][0]["disks"][0]["path"] == r"C:\VMs\web.vhdx"
    assert first["vms"][0]["nics"][0]["switch"] == "External"
    assert doc["schema"] == 1 and first["schema"] == 1 and first["ok"] is True
    assert [(f["host"], f["ok"], f["error"]) for f in doc["failed"]] == [
        (
            "hv2:5985",
            False,
            {"type": "ConnectError", "message": "connection refused (host hv2:5985)"},
        ),
        (
            "hv3:5985",
            False,
            {
                "type": "AuthenticationError",
                "message": "server refused the credentials (host hv3:5985)",
            },
        ),
    ]
    assert doc["summary"] == {
        "hosts": 4,
        "succeeded": 2,
        "failed": 2,
        "vms": 2,
        "running": 1,
        "requests": 22,
        "elapsed": 0.5,
    }


def test_ndjson_one_line_per_host() -> None:
    lines = _write("ndjson").splitlines()
    assert len(lines) == 4
    records = [json.loads(line) for line in lines]
    assert [r["ok"] for r in records] == [True, True, False, False]
    assert records[0]["vms"][1]["state"] == "shut off"
    assert all(r["schema"] == 1 for r in records)
    assert records[2]["error"]["type"] == "ConnectError"


def test_csv_one_row_per_vm() -> None:
    rows = list(csv.DictReader(io.StringIO(_write("csv"))))
    assert tuple(rows[0].keys()) == CSV_COLUMNS
    assert [(r["host"], r["vm_name"]) for r in rows] == [
        ("hv0:5985", "web"),
        ("hv0:5985", "db"),
        ("hv1:5985", ""),  # a host without VMs still has a row
        ("hv2:5985", ""),
        ("hv3:5985", ""),
    ]
    assert rows[0]["notes"] == 'say "hi", ok'
    assert rows[2]["memory_total"] != "" and rows[2]["cpu_threads"] != ""  # host columns too
    assert rows[0]["memory_dynamic"] == "true"
    assert rows[0]["nics"] == "00:15:5D:00:00:01@External"
    assert rows[1]["vm_id"] == ""
    assert rows[3]["error"].startswith("ConnectError: connection refused")


def test_csv_fields_take_every_field_the_filter_knows() -> None:
    # --fields may name any host or VM field --filter knows (the VM's name, uuid and id under
    # their default column names), not only the default columns.
    for field in (*HOST_FIELDS, *VM_FIELDS):
        assert field in CSV_FIELDS or f"vm_{field}" in CSV_FIELDS, field
    result = _result()
    vm = dataclasses.replace(
        result.results[0].unwrap().vms[0],
        fqdn="web.corp.example",
        guest_os="Windows Server 2022 Standard",
        memory_assigned_mib=3072,
        heartbeat="ok",
    )
    host = dataclasses.replace(result.results[0].unwrap(), vms=(vm,))
    result = dataclasses.replace(
        result, results=(dataclasses.replace(result.results[0], value=host),)
    )
    columns = ("vm_name", "fqdn", "guest_os", "memory_assigned_mib", "heartbeat", "cpu_load",
               "cpu_cores", "namespace")  # fmt: skip
    out = io.StringIO()
    writer = CsvWriter(out, columns=columns)
    writer.host(result.results[0])
    (row,) = csv.DictReader(io.StringIO(out.getvalue()))
    assert row == {
        "vm_name": "web",
        "fqdn": "web.corp.example",
        "guest_os": "Windows Server 2022 Standard",
        "memory_assigned_mib": "3072",
        "heartbeat": "ok",
        "cpu_load": "",
        "cpu_cores": "16",
        "namespace": "v2",
    }
    with pytest.raises(ConfigError, match="unknown CSV column"):
        CsvWriter(io.StringIO(), columns=("vm_name", "name"))


def test_table_and_summary() -> None:
    text = _write("table")
    lines = text.splitlines()
    assert lines[0].split() == [
        "HOST", "NAME", "OS", "VERSION", "CPU", "MEM", "GiB", "FREE", "VMs", "RUN",
        "SWITCHES", "REQ", "TIME",
    ]  # fmt: skip
    assert "hv0:5985" in lines[2] and "Server 2019 Datacenter" in lines[2]
    assert "256.0" in lines[2] and "2s/16c/32t" in lines[2]
    assert "2 host(s) failed:" in text
    assert "hv2:5985  ConnectError" in text
    assert "AuthenticationError" in text
    assert "2/4 hosts inventoried, 2 failed; 2 VMs (1 running); 22 requests" in text


def test_hosts_that_left_optional_data_out_say_so() -> None:
    # A host whose GetSummaryInformation could not be read: its VMs' memory demand is empty,
    # and both the table and the CSV say why instead of leaving a blank to be read as zero.
    result = _result()
    partial = dataclasses.replace(
        result.results[0],
        value=dataclasses.replace(result.results[0].unwrap(), missing=("summary",)),
    )
    result = dataclasses.replace(result, results=(partial, *result.results[1:]))
    table = _write("table", result)
    assert "1 host(s) left optional data out:" in table
    assert "hv0:5985  summary" in table and "hv1:5985  summary" not in table
    rows = list(csv.DictReader(io.StringIO(_write("csv", result))))
    assert [r["missing"] for r in rows] == ["summary", "summary", "", "", ""]
    assert "left optional data out" not in _write("table")


def test_summary_alone() -> None:
    out = io.StringIO()
    write_summary(_result(), out)
    assert "2 host(s) failed" in out.getvalue()


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _event(
    kind: EventKind, done: int, failed: int, result: HostResult[HostInventory] | None, host: str
) -> FleetEvent[HostInventory]:
    progress = FleetProgress(total=4, started=4, succeeded=done - failed, failed=failed, elapsed=1)
    return FleetEvent(kind=kind, host=host, index=0, progress=progress, result=result)


def test_live_progress_draws_only_on_a_tty() -> None:
    result = _result()
    quiet = io.StringIO()
    display = LiveProgress(quiet)
    display.event(_event(EventKind.SUCCEEDED, 1, 0, result.results[0], "hv0:5985"))
    display.draw()
    display.clear()
    assert quiet.getvalue() == ""

    now = [100.0]
    tty = _Tty()
    display = LiveProgress(tty, clock=lambda: now[0])
    display.event(_event(EventKind.STARTED, 0, 0, None, "hv9:5985"))
    display.event(_event(EventKind.SUCCEEDED, 1, 0, result.results[0], "hv0:5985"))
    display.event(_event(EventKind.FAILED, 4, 1, result.results[2], "hv2:5985"))
    now[0] += 12.5
    display.draw()
    drawn = tty.getvalue()
    assert "4/4 hosts" in drawn and "1 failed" in drawn and "2 VMs" in drawn
    assert "waiting for: hv9:5985 12.5s" in drawn and "12.5s" in drawn.split("\n")[0]
    display.draw()  # the second frame moves up over the first instead of scrolling
    assert tty.getvalue()[len(drawn) :].startswith("\x1b[1A\r")
    display.clear()
    assert tty.getvalue().endswith("\r\x1b[K\x1b[1A\x1b[K")
