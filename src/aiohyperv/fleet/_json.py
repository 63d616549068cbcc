"""The JSON shapes of an inventory: one record per host, one document per run.

Every output speaks them: the CLI's ``--format json`` and ``--format ndjson``, the examples,
and any service built on :class:`~aiohyperv.fleet.Fleet`.  They are described by the JSON Schema
shipped in the package (``aiohyperv/schemas/inventory-1.json``, see :func:`inventory_schema`),
and every document and record carries ``"schema": 1``; a change that breaks readers gets a new
number and a new schema file.

Conventions: sizes in bytes unless a name says MiB, times in seconds, UUIDs in lower case
(as libvirt and ``aiohyperv list --json`` write them).
"""

from __future__ import annotations

import json
from importlib import resources
from typing import TYPE_CHECKING

from ._model import JSONValue, to_json_object

if TYPE_CHECKING:
    from ._fleet import FleetResult, HostResult
    from ._model import HostInventory

__all__ = ["SCHEMA_VERSION", "inventory_document", "inventory_record", "inventory_schema"]

#: Version of the JSON shapes; every document and record says ``"schema": SCHEMA_VERSION``.
SCHEMA_VERSION = 1


def _error(error: BaseException | None) -> dict[str, JSONValue]:
    message = str(error) if error is not None else ""
    return {"type": type(error).__name__, "message": message or repr(error)}


def inventory_record(result: HostResult[HostInventory]) -> dict[str, JSONValue]:
    """One host as JSON: an NDJSON line, or an entry of :func:`inventory_document`'s lists.

    ``{"schema", "host", "ok": true, "elapsed", ...every HostInventory field}`` for a host that
    answered; ``{"schema", "host", "ok": false, "elapsed", "error": {"type", "message"}}`` for
    one that failed (the message never holds a secret).
    """
    head: dict[str, JSONValue] = {
        "schema": SCHEMA_VERSION,
        "host": result.host,
        "ok": result.value is not None,
        "elapsed": round(result.elapsed, 4),
    }
    if result.value is not None:
        return head | to_json_object(result.value)
    return head | {"error": _error(result.error)}


def summary_record(result: FleetResult[HostInventory]) -> dict[str, JSONValue]:
    """The totals of a run: hosts, succeeded, failed, VMs, running VMs, requests, elapsed."""
    inventories = [r.value for r in result.succeeded if r.value is not None]
    return {
        "hosts": len(result),
        "succeeded": len(result.succeeded),
        "failed": len(result.failed),
        "vms": sum(len(inv.vms) for inv in inventories),
        "running": sum(inv.running for inv in inventories),
        "requests": result.requests,
        "elapsed": round(result.elapsed, 3),
    }


def inventory_document(result: FleetResult[HostInventory]) -> dict[str, JSONValue]:
    """A whole run as one JSON document: ``{"schema", "hosts", "failed", "summary"}``.

    ``hosts`` and ``failed`` hold :func:`inventory_record` records, in input order.
    """
    return {
        "schema": SCHEMA_VERSION,
        "hosts": [inventory_record(r) for r in result.succeeded],
        "failed": [inventory_record(r) for r in result.failed],
        "summary": summary_record(result),
    }


def inventory_schema() -> dict[str, JSONValue]:
    """The JSON Schema (draft 2020-12) of the documents and records, as shipped in the package.

    ``$defs/document`` describes :func:`inventory_document`, ``$defs/record`` an
    :func:`inventory_record` (an NDJSON line) and ``$defs/domain`` an entry of
    ``aiohyperv list --json``.
    """
    text = resources.files("aiohyperv").joinpath(f"schemas/inventory-{SCHEMA_VERSION}.json")
    schema: dict[str, JSONValue] = json.loads(text.read_text(encoding="utf-8"))
    return schema
