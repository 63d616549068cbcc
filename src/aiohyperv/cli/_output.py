"""Writers for ``aiohyperv inventory``: table, json, ndjson and csv.

Every writer sees each host's result as it completes (:meth:`InventoryWriter.host`) and the whole
run at the end (:meth:`InventoryWriter.finish`).  Streaming formats (ndjson, csv) write as hosts
complete, so a pipe sees the first host long before the last; json and table write at the end.
Machine formats keep stdout clean: the summary and failures go to the separate ``summary``
stream (stderr in the CLI).
"""

from __future__ import annotations

import csv
import dataclasses
import json
from typing import TYPE_CHECKING, Protocol, TextIO

from aiohyperv.fleet._json import inventory_document, inventory_record, summary_record

from .._exceptions import ConfigError
from ._advice import describe
from ._filter import HOST_FIELDS, VM_FIELDS
from ._format import format_columns

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from aiohyperv.fleet._fleet import FleetResult, HostResult
    from aiohyperv.fleet._model import HostInventory, VMInventory

__all__ = [
    "FORMATS",
    "SORT_KEYS",
    "CsvWriter",
    "InventoryWriter",
    "JsonWriter",
    "NdjsonWriter",
    "TableWriter",
    "error_record",
    "make_writer",
    "sort_result",
    "write_summary",
]

FORMATS = ("table", "json", "ndjson", "csv")


class InventoryWriter(Protocol):
    """What the CLI feeds results into."""

    def host(self, result: HostResult[HostInventory]) -> None:
        """Called once per host, as soon as it completes."""

    def finish(self, result: FleetResult[HostInventory]) -> None:
        """Called once at the end with every result (in input order)."""


def error_record(result: HostResult[HostInventory]) -> dict[str, object]:
    """``{"host", "type", "message"}`` for a failed host (the message never holds secrets)."""
    error = result.error
    return {
        "host": result.host,
        "type": type(error).__name__,
        "message": _error_message(error),
    }


def _error_message(error: BaseException | None) -> str:
    if error is None:
        return ""
    text = str(error)
    return text or repr(error)


class JsonWriter:
    """One JSON document at the end: ``{"schema", "hosts": [...], "failed": [...], "summary"}``.

    The entries of ``hosts`` and ``failed`` are the records NDJSON streams (schema version 1).
    """

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def host(self, result: HostResult[HostInventory]) -> None:
        pass

    def finish(self, result: FleetResult[HostInventory]) -> None:
        json.dump(inventory_document(result), self.out, indent=2)
        self.out.write("\n")
        self.out.flush()


class NdjsonWriter:
    """One JSON line per host, written and flushed the moment the host completes."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def host(self, result: HostResult[HostInventory]) -> None:
        self.out.write(json.dumps(inventory_record(result), separators=(",", ":")))
        self.out.write("\n")
        self.out.flush()

    def finish(self, result: FleetResult[HostInventory]) -> None:
        self.out.flush()


CSV_COLUMNS = (
    "host",
    "hostname",
    "os_caption",
    "os_version",
    "cpu_model",
    "cpu_threads",
    "memory_total",
    "memory_free",
    "vm_name",
    "vm_uuid",
    "vm_id",
    "state",
    "vcpus",
    "memory_startup_mib",
    "memory_dynamic",
    "memory_demand_mib",
    "uptime",
    "generation",
    "config_version",
    "autostart",
    "disks",
    "nics",
    "notes",
    "missing",
    "error",
)


#: Columns ``--fields`` may name besides the default ones: every other host and VM field the
#: filter knows (the VM's ``name``, ``uuid`` and ``id`` are the defaults ``vm_name`` etc.).
CSV_HOST_EXTRA = tuple(f for f in HOST_FIELDS if f not in CSV_COLUMNS)
CSV_VM_EXTRA = tuple(f for f in VM_FIELDS if f not in CSV_COLUMNS and f"vm_{f}" not in CSV_COLUMNS)
CSV_FIELDS = (*CSV_COLUMNS, *CSV_HOST_EXTRA, *CSV_VM_EXTRA)


def _csv_cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


class CsvWriter:
    """One row per VM with the host's columns (name, OS, CPU, memory) repeated; a failed host is
    one row with ``error``.  ``columns`` may also name any other field of ``--filter``
    (:data:`CSV_FIELDS`).  ``missing`` names the optional data the host did not give (see
    :attr:`HostInventory.missing`), so that an empty column is not read as a zero.

    A host without VMs still gets one row (with empty VM columns), so every host appears.
    Disks are ``path`` values and NICs ``mac@switch`` values, each joined with ``;``.
    """

    def __init__(self, out: TextIO, *, columns: Sequence[str] = CSV_COLUMNS) -> None:
        unknown = [c for c in columns if c not in CSV_FIELDS]
        if unknown:
            raise ConfigError(
                f"unknown CSV column(s) {', '.join(unknown)}; known: {', '.join(CSV_FIELDS)}"
            )
        self.out = out
        self.columns = tuple(columns)
        self._writer = csv.writer(out, lineterminator="\n")
        self._writer.writerow(self.columns)

    def host(self, result: HostResult[HostInventory]) -> None:
        inv = result.value
        if inv is None:
            row: dict[str, object] = dict.fromkeys(CSV_FIELDS, "")
            row["host"] = result.host
            row["error"] = f"{type(result.error).__name__}: {_error_message(result.error)}"
            self._writer.writerow([row[c] for c in self.columns])
        else:
            base: dict[str, object] = {
                "host": inv.host,
                "hostname": inv.hostname,
                "os_caption": inv.os_caption,
                "os_version": inv.os_version,
                "cpu_model": inv.cpu_model,
                "cpu_threads": inv.cpu_threads,
                "memory_total": inv.memory_total,
                "memory_free": inv.memory_free,
                "missing": ";".join(inv.missing),
                **{f: getattr(inv, f) for f in CSV_HOST_EXTRA},
            }
            vms: Sequence[VMInventory | None] = inv.vms or (None,)
            for vm in vms:
                vm_row: dict[str, object] = {**dict.fromkeys(CSV_FIELDS, ""), **base}
                if vm is not None:
                    vm_row.update(
                        vm_name=vm.name,
                        vm_uuid=vm.uuid,
                        vm_id=vm.id,
                        state=vm.state,
                        vcpus=vm.vcpus,
                        memory_startup_mib=vm.memory_startup_mib,
                        memory_dynamic=vm.memory_dynamic,
                        memory_demand_mib=vm.memory_demand_mib,
                        uptime=None if vm.uptime is None else round(vm.uptime),
                        generation=vm.generation,
                        config_version=vm.config_version,
                        autostart=vm.autostart,
                        disks=";".join(d.path for d in vm.disks),
                        nics=";".join(f"{n.mac or ''}@{n.switch or ''}" for n in vm.nics),
                        notes=vm.notes,
                        **{f: getattr(vm, f) for f in CSV_VM_EXTRA},
                    )
                self._writer.writerow([_csv_cell(vm_row[c]) for c in self.columns])
        self.out.flush()

    def finish(self, result: FleetResult[HostInventory]) -> None:
        self.out.flush()


def _gib(value: int | None) -> str:
    if value is None:
        return "-"
    return f"{value / 2**30:.1f}"


def _duration(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    return f"{seconds:.2f} s"


class TableWriter:
    """A human summary at the end: one line per host, the failures, and the totals."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def host(self, result: HostResult[HostInventory]) -> None:
        pass

    def finish(self, result: FleetResult[HostInventory]) -> None:
        headers = ("HOST", "NAME", "OS", "VERSION", "CPU", "MEM GiB", "FREE", "VMs", "RUN",
                   "SWITCHES", "REQ", "TIME")  # fmt: skip
        rows: list[list[str]] = []
        for r in result.succeeded:
            inv = r.value
            if inv is None:
                continue
            rows.append(
                [
                    inv.host,
                    inv.hostname,
                    _short_os(inv.os_caption),
                    inv.os_version,
                    f"{inv.cpu_sockets}s/{inv.cpu_cores}c/{inv.cpu_threads}t",
                    _gib(inv.memory_total),
                    _gib(inv.memory_free),
                    str(len(inv.vms)),
                    str(inv.running),
                    str(len(inv.switches)),
                    str(r.requests or inv.requests),
                    _duration(r.elapsed),
                ]
            )
        if rows:
            self.out.write(format_columns(headers, rows, right={5, 6, 7, 8, 9, 10, 11}))
            self.out.write("\n")
        partial = [
            [r.host, ", ".join(r.value.missing)]
            for r in result.succeeded
            if r.value is not None and r.value.missing
        ]
        if partial:
            # The VMs' fields that data supplies are empty for these hosts, not zero.
            self.out.write(f"\n{len(partial)} host(s) left optional data out:\n")
            self.out.write(format_columns(("HOST", "MISSING"), partial))
            self.out.write("\n")
        write_summary(result, self.out)
        self.out.flush()


_OS_PREFIXES = ("Microsoft ", "Windows ")


def _short_os(caption: str) -> str:
    text = caption
    for prefix in _OS_PREFIXES:
        text = text.removeprefix(prefix)
    return text


def write_summary(result: FleetResult[HostInventory], out: TextIO) -> None:
    """Write the failed hosts (error class and message) and one totals line to ``out``."""
    failed = result.failed
    if failed:
        out.write(f"\n{len(failed)} host(s) failed:\n")
        rows = [
            [r.host, type(r.error).__name__, describe(r.error) if r.error else ""] for r in failed
        ]
        out.write(format_columns(("HOST", "ERROR", "MESSAGE"), rows))
        out.write("\n")
    summary = summary_record(result)
    requests = result.requests
    per_host = requests / len(result.succeeded) if result.succeeded else 0.0
    out.write(
        f"\n{summary['succeeded']}/{summary['hosts']} hosts inventoried, "
        f"{summary['failed']} failed; {summary['vms']} VMs ({summary['running']} running); "
        f"{requests} requests ({per_host:.1f} per host); {_duration(result.elapsed)}\n"
    )


def make_writer(fmt: str, out: TextIO, *, columns: Sequence[str] | None = None) -> InventoryWriter:
    """The writer for ``--format`` (``columns``: the CSV columns, for ``--fields``).

    Raises:
        ConfigError: ``columns`` names an unknown column, or is given for another format.
    """
    if columns is not None:
        if fmt != "csv":
            raise ConfigError("--fields selects CSV columns: use it with --format csv")
        return CsvWriter(out, columns=columns)
    writers: dict[str, type[TableWriter | JsonWriter | NdjsonWriter | CsvWriter]] = {
        "table": TableWriter,
        "json": JsonWriter,
        "ndjson": NdjsonWriter,
        "csv": CsvWriter,
    }
    return writers[fmt](out)


#: ``--sort`` keys: how each orders the hosts that answered (failed hosts follow, in input order).
SORT_KEYS: dict[str, Callable[[HostResult[HostInventory]], tuple[object, ...]]] = {
    "host": lambda r: (r.host,),
    "hostname": lambda r: (r.value.hostname.lower() if r.value else "",),
    "os": lambda r: (r.value.os_version if r.value else "", r.host),
    "vms": lambda r: (len(r.value.vms) if r.value else 0, r.host),
    "running": lambda r: (r.value.running if r.value else 0, r.host),
    "elapsed": lambda r: (r.elapsed,),
    "requests": lambda r: (r.requests, r.host),
}


def sort_result(result: FleetResult[HostInventory], key: str) -> FleetResult[HostInventory]:
    """``result`` with its answering hosts ordered by ``key`` (``-key``: descending)."""
    descending = key.startswith("-")
    by = SORT_KEYS[key.removeprefix("-")]
    ordered = sorted(result.succeeded, key=by, reverse=descending)
    return dataclasses.replace(result, results=(*ordered, *result.failed))
