"""The HTTP side against a simulated fleet: every JSON response validated against the served
OpenAPI document, filters, history, the bearer token, VM actions, /metrics, the live feed."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest
from jsonschema import Draft202012Validator
from prometheus_client.parser import text_string_to_metric_families
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from aiohyperv.simulator import VMState

from .conftest import TOKEN, base_url, running_service

if TYPE_CHECKING:
    from pathlib import Path

    from aiohyperv.simulator._demo import DemoFleet

AUTH = {"Authorization": f"Bearer {TOKEN}"}


class Api:
    """Requests that check the status and validate the body against the OpenAPI document."""

    def __init__(self, http: aiohttp.ClientSession, spec: dict[str, Any]) -> None:
        self.http = http
        self.spec = spec
        self.registry = Registry().with_resource("urn:openapi", DRAFT202012.create_resource(spec))
        self.checked: set[tuple[str, str, int]] = set()

    def validate(self, template: str, method: str, status: int, body: object) -> None:
        operation = self.spec["paths"][template][method]
        assert str(status) in operation["responses"], f"{method} {template} {status} undocumented"
        content = operation["responses"][str(status)].get("content", {})
        assert "application/json" in content, f"{method} {template} {status}: no JSON schema"
        escaped = template.replace("~", "~0").replace("/", "~1")
        pointer = f"/paths/{escaped}/{method}/responses/{status}/content/application~1json/schema"
        validator = Draft202012Validator({"$ref": f"urn:openapi#{pointer}"}, registry=self.registry)
        errors = sorted(validator.iter_errors(body), key=str)
        assert not errors, f"{method} {template} {status}: {errors[0].message}"
        self.checked.add((method, template, status))

    async def call(
        self,
        method: str,
        path: str,
        template: str,
        status: int,
        *,
        headers: dict[str, str] | None = None,
    ) -> Any:
        async with self.http.request(method.upper(), path, headers=headers) as response:
            body = await response.json()
            assert response.status == status, (path, response.status, body)
            assert response.headers["Content-Type"].startswith("application/json")
        self.validate(template, method, status, body)
        return body

    async def get(self, path: str, template: str | None = None, status: int = 200) -> Any:
        return await self.call("get", path, template or path.split("?", 1)[0], status)


async def open_api(service: Any, http: aiohttp.ClientSession) -> Api:
    async with http.get("/api/openapi.json") as response:
        assert response.status == 200
        spec = await response.json()
    assert spec["openapi"].startswith("3.1")
    return Api(http, spec)


def off_vm(fleet: DemoFleet) -> tuple[int, str]:
    for index, host in enumerate(fleet.hosts):
        for vm in host.all_vms():
            if vm.state == VMState.OFF:
                return index, vm.guid
    raise AssertionError("the seeded fleet has a VM that is off")


def label(uri: str) -> str:
    return uri.split("@", 1)[1].split("/", 1)[0]


async def test_every_endpoint_answers_as_documented(small_fleet: DemoFleet, tmp_path: Path) -> None:
    async with (
        running_service(small_fleet, tmp_path, enable_actions=True, token=TOKEN) as service,
        aiohttp.ClientSession(base_url(service)) as http,
    ):
        api = await open_api(service, http)
        assert "/api/hosts/{host}/vms/{uuid}/actions/{action}" in api.spec["paths"]
        await api.call("post", "/api/runs?wait=1", "/api/runs", 401)
        await api.call(
            "post", "/api/runs?wait=1", "/api/runs", 401, headers={"Authorization": "Bearer nope"}
        )
        run = (await api.call("post", "/api/runs?wait=1", "/api/runs", 200, headers=AUTH))["run"]
        assert run["trigger"] == "request" and run["hosts"] == 3
        queued = await api.call("post", "/api/runs", "/api/runs", 202, headers=AUTH)
        assert queued == {"queued": True}

        health = await api.get("/healthz")
        assert health["status"] == "ok" and health["schema_version"] >= 1

        summary = await api.get("/api/summary")
        total_vms = sum(len(h.vms) for h in small_fleet.hosts)
        assert summary["hosts"] == {"total": 3, "up": 3, "down": 0}
        assert summary["vms"]["total"] == total_vms == sum(summary["vms"]["by_state"].values())
        assert summary["actions"] is True

        hosts = await api.get("/api/hosts")
        names = [h["host"] for h in hosts["items"]]
        assert names == sorted(label(u) for u in small_fleet.uris)
        detail = await api.get(f"/api/hosts/{names[0]}", "/api/hosts/{host}")
        assert len(detail["vms"]) == detail["vm_count"] == 4
        await api.get("/api/hosts/nope:1", "/api/hosts/{host}", 404)

        vms = await api.get("/api/vms")
        assert vms["total"] == total_vms
        vm = vms["items"][0]
        one = await api.get(
            f"/api/hosts/{vm['host']}/vms/{vm['uuid']}", "/api/hosts/{host}/vms/{uuid}"
        )
        assert one == vm
        await api.get(f"/api/hosts/{vm['host']}/vms/0000", "/api/hosts/{host}/vms/{uuid}", 404)
        history = await api.get(
            f"/api/hosts/{vm['host']}/vms/{vm['uuid']}/history",
            "/api/hosts/{host}/vms/{uuid}/history",
        )
        assert history["vm"] == vm and len(history["samples"]) >= 1

        changes = await api.get("/api/changes?limit=5", "/api/changes")
        assert {c["kind"] for c in changes["items"]} == {"host_added"}
        await api.get("/api/changes?since=yesterday", "/api/changes", 400)
        await api.get("/api/changes?kind=nonsense", "/api/changes", 400)

        runs = await api.get("/api/runs")
        assert runs["items"][0]["id"] >= run["id"]
        found = await api.get(f"/api/runs/{run['id']}", "/api/runs/{id}")
        assert len(found["hosts"]) == 3 and all(h["ok"] for h in found["hosts"])
        await api.get("/api/runs/999999", "/api/runs/{id}", 404)
        await api.get("/api/runs?limit=0", "/api/runs", 400)


async def test_vm_filters_and_sorting(small_fleet: DemoFleet, tmp_path: Path) -> None:
    async with (
        running_service(small_fleet, tmp_path) as service,
        aiohttp.ClientSession(base_url(service)) as http,
    ):
        api = await open_api(service, http)
        assert service.scheduler is not None
        await service.scheduler.request()
        everything = (await api.get("/api/vms"))["items"]
        host = everything[0]["host"]
        by_host = (await api.get(f"/api/vms?host={host}", "/api/vms"))["items"]
        assert by_host and {v["host"] for v in by_host} == {host}
        assert len(by_host) == sum(1 for v in everything if v["host"] == host)
        running = (await api.get("/api/vms?state=running", "/api/vms"))["items"]
        assert running and all(v["state"] == "running" for v in running)
        name = everything[1]["name"]
        fragment = name[1:4].upper()
        named = (await api.get(f"/api/vms?name={fragment}", "/api/vms"))["items"]
        assert name in {v["name"] for v in named}
        assert all(fragment.lower() in v["name"].lower() for v in named)
        biggest = (await api.get("/api/vms?sort=memory&order=desc", "/api/vms"))["items"]
        sizes = [v["memory_mib"] or 0 for v in biggest]
        assert sizes == sorted(sizes, reverse=True)
        page = await api.get("/api/vms?sort=name&limit=2&offset=1", "/api/vms")
        ordered = sorted(everything, key=lambda v: (v["name"].lower(), v["host"]))
        assert [v["uuid"] for v in page["items"]] == [v["uuid"] for v in ordered[1:3]]
        assert page["total"] == len(everything)
        await api.get("/api/vms?sort=colour", "/api/vms", 400)
        await api.get("/api/vms?limit=x", "/api/vms", 400)


async def test_actions_are_off_by_default_and_runs_need_no_token_then(
    small_fleet: DemoFleet, tmp_path: Path
) -> None:
    async with (
        running_service(small_fleet, tmp_path) as service,
        aiohttp.ClientSession(base_url(service)) as http,
    ):
        api = await open_api(service, http)
        assert not any("actions" in p for p in api.spec["paths"])
        async with http.post(f"/api/hosts/{label(small_fleet.uris[0])}/vms/X/actions/start") as r:
            assert r.status in (404, 405)
        await api.call("post", "/api/runs?wait=true", "/api/runs", 200)


async def test_a_vm_action_changes_the_vm_and_its_history_shows_it(
    small_fleet: DemoFleet, tmp_path: Path
) -> None:
    index, guid = off_vm(small_fleet)
    host = label(small_fleet.uris[index])
    template = "/api/hosts/{host}/vms/{uuid}/actions/{action}"
    path = f"/api/hosts/{host}/vms/{guid}/actions/start"
    async with (
        running_service(small_fleet, tmp_path, enable_actions=True, token=TOKEN) as service,
        aiohttp.ClientSession(base_url(service)) as http,
    ):
        api = await open_api(service, http)
        await api.call("post", "/api/runs?wait=1", "/api/runs", 200, headers=AUTH)
        await api.call("post", path, template, 401)
        await api.call("post", path, template, 401, headers={"Authorization": f"Basic {TOKEN}"})
        missing = f"/api/hosts/{host}/vms/00000000-0000-0000-0000-000000000000/actions/start"
        await api.call("post", missing, template, 404, headers=AUTH)
        done = await api.call("post", path, template, 200, headers=AUTH)
        assert done["action"] == "start"
        vm = small_fleet.hosts[index].vm(guid)
        assert vm is not None and vm.state == VMState.RUNNING
        await api.call("post", path, template, 409, headers=AUTH)  # already running

        await api.call("post", "/api/runs?wait=1", "/api/runs", 200, headers=AUTH)
        history = await api.get(
            f"/api/hosts/{host}/vms/{guid}/history", "/api/hosts/{host}/vms/{uuid}/history"
        )
        assert history["vm"]["state"] == "running"
        state_changes = [c for c in history["changes"] if c["kind"] == "vm_state_changed"]
        assert [(c["old"], c["new"]) for c in state_changes] == [("shut off", "running")]
        assert [s["state"] for s in history["samples"]][:2] == ["running", "shut off"]


async def test_metrics_parse_and_agree_with_the_fleet(
    small_fleet: DemoFleet, tmp_path: Path
) -> None:
    small_fleet.hosts[2].faults.unauthorized = True
    async with (
        running_service(small_fleet, tmp_path, metrics_vm_limit=5) as service,
        aiohttp.ClientSession(base_url(service)) as http,
    ):
        assert service.scheduler is not None
        await service.scheduler.request()
        await service.scheduler.request()
        async with http.get("/metrics") as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
            text = await response.text()
    families = {f.name: f for f in text_string_to_metric_families(text)}

    def samples(name: str) -> dict[tuple[tuple[str, str], ...], float]:
        return {tuple(sorted(s.labels.items())): s.value for s in families[name].samples}

    up = samples("aiohyperv_host_up")
    labels = [label(u) for u in small_fleet.uris]
    assert up == {
        (("host", labels[0]),): 1.0,
        (("host", labels[1]),): 1.0,
        (("host", labels[2]),): 0.0,
    }
    vms = samples("aiohyperv_host_vms")
    assert sum(vms.values()) == len(small_fleet.hosts[0].vms) + len(small_fleet.hosts[1].vms)
    assert {dict(k)["host"] for k in vms} == set(labels[:2])
    assert families["aiohyperv_host_memory_assigned_bytes"].type == "gauge"
    assert families["aiohyperv_runs"].type == "counter"
    assert samples("aiohyperv_runs")[()] >= 2
    assert samples("aiohyperv_run_host_failures")[()] >= 2
    assert samples("aiohyperv_wsman_requests")[()] > 0
    # The client's own pool counters, from the public SessionPool.stats.
    assert samples("aiohyperv_client_http_requests")[()] >= samples("aiohyperv_wsman_requests")[()]
    assert samples("aiohyperv_client_connections_opened")[()] >= 2
    assert samples("aiohyperv_client_requests_reused")[()] > 0
    # A fleet closes a host's connections when its operation on that host ends, so between runs
    # the pool holds no host (the file-descriptor bound of docs/RELIABILITY.md).
    assert samples("aiohyperv_client_hosts")[()] == 0
    histogram = {
        s.name: s.value
        for s in families["aiohyperv_run_duration_seconds"].samples
        if not s.labels or "le" not in s.labels
    }
    assert histogram["aiohyperv_run_duration_seconds_count"] >= 2
    assert samples("aiohyperv_hosts") == {(("status", "up"),): 2.0, (("status", "down"),): 1.0}
    assert len(samples("aiohyperv_vm_vcpus")) == 5  # bounded by the limit
    omitted = samples("aiohyperv_vm_series_omitted")[()]
    assert omitted == sum(len(h.vms) for h in small_fleet.hosts[:2]) - 5
    for family in families.values():
        assert family.name.startswith("aiohyperv_")


async def test_the_live_feed_streams_changes_and_replays_after_last_event_id(
    small_fleet: DemoFleet, tmp_path: Path
) -> None:
    index, guid = off_vm(small_fleet)
    async with (
        running_service(small_fleet, tmp_path) as service,
        aiohttp.ClientSession(base_url(service)) as http,
    ):
        assert service.scheduler is not None
        await service.scheduler.request()
        async with http.get("/api/events") as stream:
            assert stream.status == 200
            assert stream.headers["Content-Type"] == "text/event-stream"
            assert (await stream.content.readline()).startswith(b"retry:")
            vm = small_fleet.hosts[index].vm(guid)
            assert vm is not None
            vm.name = "renamed-by-the-test"
            run = service.scheduler.request()
            events = await read_events(stream, until="run")
            await run
        kinds = [(kind, data.get("kind")) for kind, _id, data in events]
        assert ("change", "vm_renamed") in kinds
        renamed = next(d for k, _i, d in events if d.get("kind") == "vm_renamed")
        assert renamed["new"] == "renamed-by-the-test" and renamed["uuid"] == guid
        first_id = events[0][1]
        async with http.get("/api/events", headers={"Last-Event-ID": str(first_id - 1)}) as again:
            await again.content.readline()
            replayed = await read_events(again, until="run")
        assert [e[1] for e in replayed][: len(events)] == [e[1] for e in events]


async def read_events(
    stream: aiohttp.ClientResponse, *, until: str
) -> list[tuple[str, int, dict[str, Any]]]:
    """Server-sent events up to and including the first of kind ``until`` (bounded)."""
    events: list[tuple[str, int, dict[str, Any]]] = []
    fields: dict[str, str] = {}
    async with asyncio.timeout(30):
        for _ in range(10_000):
            line = (await stream.content.readline()).decode().rstrip("\n")
            if line.startswith(":"):
                continue
            if line:
                key, _, value = line.partition(": ")
                fields[key] = value
                continue
            if "event" in fields:
                events.append((fields["event"], int(fields["id"]), json.loads(fields["data"])))
                if fields["event"] == until:
                    return events
            fields = {}
    pytest.fail("no such event")


async def test_the_dashboard_and_its_files_are_served_with_a_strict_policy(
    small_fleet: DemoFleet, tmp_path: Path
) -> None:
    async with (
        running_service(small_fleet, tmp_path) as service,
        aiohttp.ClientSession(base_url(service)) as http,
    ):
        async with http.get("/") as page:
            assert page.status == 200
            html = await page.text()
            assert "script-src 'self'" in page.headers["Content-Security-Policy"]
        assert '<script src="/static/app.js"' in html
        for name in ("app.js", "style.css"):
            async with http.get(f"/static/{name}") as asset:
                assert asset.status == 200
        async with http.get("/static/../_app.py") as escape:
            assert escape.status in (403, 404)


def test_the_schema_check_itself_rejects_undocumented_shapes() -> None:
    """The validation above can fail: an extra field, a missing one, a wrong type."""
    from aiohyperv.service._openapi import openapi_spec

    api = Api(None, openapi_spec(actions=False))  # type: ignore[arg-type]  # validate() only
    good = {"total": 0, "items": []}
    api.validate("/api/runs", "get", 200, good)
    for bad in ({"total": 0}, {"total": "0", "items": []}, {**good, "extra": 1}):
        with pytest.raises(AssertionError):
            api.validate("/api/runs", "get", 200, bad)
    run = {
        "id": 1, "started": "x", "finished": "x", "duration": 1.0, "hosts": 1, "succeeded": 1,
        "failed": 0, "requests": 1, "changes": 0, "trigger": "cron",
    }  # fmt: skip
    with pytest.raises(AssertionError):
        api.validate("/api/runs", "get", 200, {"total": 1, "items": [run]})
