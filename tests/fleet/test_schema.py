"""One JSON schema for every output, validated against the schema file shipped in the package.

``--format json``, ``--format ndjson``, the ``fleet_ndjson`` example's records and
``list --json`` entries all follow ``aiohyperv/schemas/inventory-1.json``.
"""

from __future__ import annotations

import io
import json
import re
from typing import TYPE_CHECKING, Any

import jsonschema
import pytest

from aiohyperv.cli import run
from aiohyperv.fleet import inventory_schema
from aiohyperv.fleet._json import SCHEMA_VERSION
from aiohyperv.simulator import HostSpec

from .conftest import dead_uri

if TYPE_CHECKING:
    from .conftest import StartHosts

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIOHYPERV_USERNAME", "admin")
    monkeypatch.setenv("AIOHYPERV_PASSWORD", "secret")
    monkeypatch.setenv("LIBVIRT_AUTH_FILE", "/nonexistent/auth.conf")


def validate(instance: object, definition: str) -> None:
    schema = inventory_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    sub = {**schema, "$ref": f"#/$defs/{definition}"}
    sub.pop("oneOf")
    jsonschema.Draft202012Validator(sub).validate(instance)


async def cli(*argv: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    code = await run(list(argv), stdout=out, stderr=err)
    return code, out.getvalue()


async def test_json_and_ndjson_share_one_versioned_schema(start_hosts: StartHosts) -> None:
    sims = await start_hosts([HostSpec(name="hv-s1", vms=3), HostSpec(name="hv-s2", os="2008R2")])
    hosts = [str(s.uri) for s in sims] + [str(dead_uri())]
    code, out = await cli("inventory", *hosts, "--format", "json")
    assert code == 1
    document = json.loads(out)
    validate(document, "document")
    assert document["schema"] == SCHEMA_VERSION == 1
    code, out = await cli("inventory", *hosts, "--format", "ndjson")
    records = [json.loads(line) for line in out.splitlines()]
    for record in records:
        validate(record, "record")

    # The same hosts give the same records either way (timings aside).
    def strip(r: dict[str, Any]) -> tuple[object, ...]:
        vms = sorted((vm["name"], vm["uuid"], vm["vcpus"]) for vm in r.get("vms", ()))
        return (r["schema"], r["host"], r["ok"], r.get("hostname"), vms, sorted(r))

    by_host = {r["host"]: strip(r) for r in records}
    for entry in document["hosts"] + document["failed"]:
        assert strip(entry) == by_host[entry["host"]]
    vm_uuids = [vm["uuid"] for h in document["hosts"] for vm in h["vms"]]
    assert vm_uuids and all(UUID.fullmatch(u) for u in vm_uuids)  # lower case, like list --json


async def test_list_json_entries_follow_the_same_conventions(start_hosts: StartHosts) -> None:
    (sim,) = await start_hosts([HostSpec(name="hv-l", vms=3)])
    code, out = await cli("-c", str(sim.uri), "list", "--all", "--json")
    assert code == 0
    entries = json.loads(out)
    for entry in entries:
        validate(entry, "domain")
    code, inv = await cli("inventory", str(sim.uri), "--format", "json")
    vms = json.loads(inv)["hosts"][0]["vms"]
    assert {(e["name"], e["uuid"], e["state"]) for e in entries} == {
        (v["name"], v["uuid"], v["state"]) for v in vms
    }


def test_schema_ships_in_the_package() -> None:
    schema = inventory_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert "inventory-1" in str(schema["$id"])
