"""The HTTP side: the JSON API, ``/metrics``, ``/healthz``, the live feed and the dashboard.

Reads of the latest state (hosts, VMs, summary, metrics) come from memory; history (runs,
changes, samples) from the database.  State-changing endpoints need the bearer token
(compared in constant time); the VM actions exist only with ``--enable-actions``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from aiohyperv._exceptions import CimMethodError, HyperVError, InvalidOperation, VMNotFound

from ._metrics import CONTENT_TYPE, render_metrics
from ._openapi import openapi_spec
from ._records import ChangeKind, iso
from ._service import Service

if TYPE_CHECKING:
    from ._records import VMRecord

__all__ = ["SERVICE_KEY", "make_app"]

log = logging.getLogger("aiohyperv.service")

SERVICE_KEY = web.AppKey("service", Service)
STATIC = Path(__file__).parent / "static"
_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'"
    ),
}
_ACTIONS = ("start", "shutdown", "stop", "suspend", "resume")
_SORTS: dict[str, Any] = {
    "name": lambda v: (v.name.lower(), v.host),
    "host": lambda v: (v.host, v.name.lower()),
    "state": lambda v: (v.state, v.host, v.name.lower()),
    "vcpus": lambda v: (v.vcpus or 0, v.host, v.name.lower()),
    "memory": lambda v: (v.memory_mib or 0, v.host, v.name.lower()),
    "demand": lambda v: (v.memory_demand_mib or 0, v.host, v.name.lower()),
}
MAX_EVENT_CLIENTS = 100
HEARTBEAT = 15.0
WAIT_LIMIT = 600.0


def _json(data: object, *, status: int = 200) -> web.Response:
    return web.json_response(
        data, status=status, dumps=lambda o: json.dumps(o, separators=(",", ":"))
    )


def _error(status: int, message: str, **headers: str) -> web.Response:
    response = _json({"error": message}, status=status)
    response.headers.update(headers)
    return response


def _service(request: web.Request) -> Service:
    return request.app[SERVICE_KEY]


def _int(request: web.Request, name: str, default: int, *, low: int, high: int) -> int:
    text = request.query.get(name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise web.HTTPBadRequest(
            text=json.dumps({"error": f"{name}: not an integer"}), content_type="application/json"
        ) from None
    if not low <= value <= high:
        raise web.HTTPBadRequest(
            text=json.dumps({"error": f"{name}: must be between {low} and {high}"}),
            content_type="application/json",
        )
    return value


def _bad(message: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=json.dumps({"error": message}), content_type="application/json")


def parse_time(text: str) -> float:
    """Unix seconds from ISO 8601 (``Z`` or an offset; naive means UTC) or a number."""
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.strip().replace(" ", "+"))
    except ValueError:
        raise _bad(f"not a time: {text!r} (ISO 8601 or unix seconds)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _authorized(request: web.Request) -> bool:
    token = _service(request).config.token
    if token is None:
        return True
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


_UNAUTHORIZED = {"WWW-Authenticate": 'Bearer realm="aiohyperv"'}


# --- handlers -------------------------------------------------------------------------------------
async def healthz(request: web.Request) -> web.Response:
    service = _service(request)
    stats = service.runner.stats if service.runner is not None else None
    last = stats.last_run if stats is not None else None
    if last is None:
        status = "starting"
    elif time.time() - last.finished > 3 * service.config.interval + service.config.timeout:
        status = "stale"
    else:
        status = "ok"
    return _json(
        {
            "status": status,
            "schema_version": service.schema_version,
            "hosts": len(service.uris),
            "running": service.scheduler is not None and service.scheduler.running,
            "last_run": last.to_json() if last is not None else None,
        }
    )


async def openapi(request: web.Request) -> web.Response:
    return _json(openapi_spec(actions=_service(request).config.enable_actions))


async def metrics(request: web.Request) -> web.Response:
    body = render_metrics(_service(request).collector)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


async def summary(request: web.Request) -> web.Response:
    service = _service(request)
    by_state: dict[str, int] = {}
    memory: list[dict[str, Any]] = []
    total_vms = 0
    for name in sorted(service.uris):
        host = service.hosts.get(name)
        if host is None:
            continue
        for state, count in host.vm_states().items():
            by_state[state] = by_state.get(state, 0) + count
        total_vms += len(host.vms)
        memory.append(
            {
                "host": name,
                "hostname": host.hostname,
                "up": host.ok,
                "total": host.memory_total,
                "free": host.memory_free,
                "assigned": host.memory_assigned,
                "demand": host.memory_demand,
            }
        )
    up = sum(1 for h in service.hosts.values() if h.ok)
    last = service.runner.stats.last_run if service.runner is not None else None
    body: dict[str, Any] = {
        "hosts": {"total": len(service.uris), "up": up, "down": len(service.uris) - up},
        "vms": {"total": total_vms, "by_state": dict(sorted(by_state.items()))},
        "memory": memory,
        "last_run": last.to_json() if last is not None else None,
        "running": service.scheduler is not None and service.scheduler.running,
        "interval": service.config.interval,
        "actions": service.config.enable_actions,
    }
    return _json(body)


def _host_json(service: Service, name: str) -> dict[str, Any]:
    host = service.hosts.get(name)
    if host is not None:
        return dict(host.to_json())
    # Configured but not inventoried yet.
    return {
        "host": name, "up": False, "error": "not inventoried yet", "error_type": None,
        "checked": None, "last_success": None, "elapsed": 0.0, "requests": 0, "hostname": None,
        "os_caption": None, "os_version": None, "cpu_model": None, "cpu_threads": None,
        "memory_total": None, "memory_free": None, "memory_assigned": 0, "memory_demand": 0,
        "vcpus": 0, "vm_count": 0, "vm_states": {},
    }  # fmt: skip


async def hosts(request: web.Request) -> web.Response:
    service = _service(request)
    items = [_host_json(service, name) for name in sorted(service.uris)]
    return _json({"total": len(items), "items": items})


async def host_detail(request: web.Request) -> web.Response:
    service = _service(request)
    name = request.match_info["host"]
    if name not in service.uris:
        return _error(404, f"no such host: {name}")
    body = _host_json(service, name)
    record = service.hosts.get(name)
    vms = sorted(record.vms.values(), key=lambda v: v.name.lower()) if record else []
    body["vms"] = [vm.to_json() for vm in vms]
    return _json(body)


def _all_vms(service: Service) -> list[VMRecord]:
    return [vm for name in service.uris if (h := service.hosts.get(name)) for vm in h.vms.values()]


async def vms(request: web.Request) -> web.Response:
    service = _service(request)
    query = request.query
    host = query.get("host") or None
    state = query.get("state") or None
    name = (query.get("name") or "").strip().lower()
    sort = query.get("sort") or "host"
    if sort not in _SORTS:
        raise _bad(f"sort: one of {', '.join(_SORTS)}")
    order = query.get("order") or "asc"
    if order not in ("asc", "desc"):
        raise _bad("order: asc or desc")
    limit = _int(request, "limit", 1000, low=1, high=1000)
    offset = _int(request, "offset", 0, low=0, high=10**9)
    found = [
        vm
        for vm in _all_vms(service)
        if (host is None or vm.host == host)
        and (state is None or vm.state == state)
        and (not name or name in vm.name.lower())
    ]
    found.sort(key=_SORTS[sort], reverse=order == "desc")
    page = found[offset : offset + limit]
    return _json({"total": len(found), "items": [vm.to_json() for vm in page]})


def _find_vm(service: Service, host: str, uuid: str) -> VMRecord | None:
    record = service.hosts.get(host)
    if record is None:
        return None
    return record.vms.get(uuid.strip("{}").upper())


async def vm_detail(request: web.Request) -> web.Response:
    service = _service(request)
    vm = _find_vm(service, request.match_info["host"], request.match_info["uuid"])
    if vm is None:
        return _error(404, "no such VM")
    return _json(vm.to_json())


async def vm_history(request: web.Request) -> web.Response:
    service = _service(request)
    assert service.store is not None
    host, uuid = request.match_info["host"], request.match_info["uuid"].strip("{}").upper()
    limit = _int(request, "limit", 200, low=1, high=1000)
    samples = await service.store.vm_samples(host, uuid, limit=limit)
    changes = await service.store.changes(host=host, uuid=uuid, limit=limit)
    vm = _find_vm(service, host, uuid)
    return _json(
        {
            "vm": vm.to_json() if vm is not None else None,
            "samples": [
                {
                    "run_id": int(s["run_id"]),
                    "at": iso(s["at"]),
                    "name": s["name"],
                    "state": s["state"],
                    "vcpus": s["vcpus"],
                    "memory_mib": s["memory_mib"],
                    "memory_demand_mib": s["memory_demand_mib"],
                    "disks": len(json.loads(s["disks"])),
                    "nics": len(json.loads(s["nics"])),
                }
                for s in samples
            ],
            "changes": [c.to_json() for c in changes],
        }
    )


async def changes(request: web.Request) -> web.Response:
    service = _service(request)
    assert service.store is not None
    since_text = request.query.get("since")
    since = parse_time(since_text) if since_text else None
    after_id = _int(request, "after_id", 0, low=0, high=2**62) or None
    kinds = [k for k in (request.query.get("kind") or "").split(",") if k]
    for kind in kinds:
        if kind not in ChangeKind.__members__.values():
            raise _bad(f"kind: unknown {kind!r}")
    limit = _int(request, "limit", 100, low=1, high=1000)
    found = await service.store.changes(
        since=since,
        after_id=after_id,
        host=request.query.get("host") or None,
        kinds=kinds,
        limit=limit,
    )
    return _json({"total": len(found), "items": [c.to_json() for c in found]})


async def runs(request: web.Request) -> web.Response:
    service = _service(request)
    assert service.store is not None
    limit = _int(request, "limit", 50, low=1, high=1000)
    before = _int(request, "before", 0, low=0, high=2**62) or None
    found = await service.store.runs(limit=limit, before_id=before)
    return _json({"total": len(found), "items": [r.to_json() for r in found]})


async def run_detail(request: web.Request) -> web.Response:
    service = _service(request)
    assert service.store is not None
    try:
        run_id = int(request.match_info["id"])
    except ValueError:
        return _error(404, "no such run")
    found = await service.store.run(run_id)
    if found is None:
        return _error(404, "no such run")
    run, results = found
    return _json(
        {
            "run": run.to_json(),
            "hosts": [
                {
                    "host": r["host"],
                    "ok": bool(r["ok"]),
                    "error": r["error"],
                    "error_type": r["error_type"],
                    "elapsed": round(float(r["elapsed"]), 4),
                    "requests": int(r["requests"]),
                    "vm_count": int(r["vm_count"]),
                }
                for r in results
            ],
        }
    )


async def trigger_run(request: web.Request) -> web.Response:
    service = _service(request)
    if not _authorized(request):
        return _error(401, "a valid bearer token is needed", **_UNAUTHORIZED)
    if service.scheduler is None:
        return _error(503, "not started")
    future = service.scheduler.request()
    wait = request.query.get("wait", "").lower() in ("1", "true", "yes")
    if not wait:
        future.add_done_callback(_consume)
        return _json({"queued": True}, status=202)
    try:
        async with asyncio.timeout(WAIT_LIMIT):
            run = await asyncio.shield(future)
    except TimeoutError:
        future.add_done_callback(_consume)
        return _json({"queued": True}, status=202)
    except asyncio.CancelledError:
        if future.cancelled():
            return _error(503, "shutting down")
        raise
    except Exception as exc:
        return _error(503, f"the run failed: {type(exc).__name__}")
    return _json({"run": run.to_json()})


def _consume(future: asyncio.Future[Any]) -> None:
    # Nobody waits for a queued run's outcome: read it so asyncio does not report it unread.
    if not future.cancelled():
        future.exception()


async def vm_action(request: web.Request) -> web.Response:
    service = _service(request)
    if not _authorized(request):
        return _error(401, "a valid bearer token is needed", **_UNAUTHORIZED)
    host, uuid = request.match_info["host"], request.match_info["uuid"].strip("{}").upper()
    action = request.match_info["action"]
    if action not in _ACTIONS:
        return _error(404, f"no such action: {action}")
    uri = service.uris.get(host)
    if uri is None:
        return _error(404, f"no such host: {host}")
    from aiohyperv.hyperv import connect

    try:
        async with asyncio.timeout(service.config.timeout):
            async with connect(uri, auth=service.auth_for(host)) as conn:
                domain = await conn.lookup_domain_by_uuid(uuid)
                operation = {
                    "start": domain.start,
                    "shutdown": domain.shutdown,
                    "stop": domain.destroy,
                    "suspend": domain.suspend,
                    "resume": domain.resume,
                }[action]
                await operation()
    except VMNotFound:
        return _error(404, "no such VM")
    except TimeoutError:
        return _error(502, f"{host} did not answer in time")
    except HyperVError as exc:
        # The host refused the change in the VM's current state (e.g. start while running).
        status = 409 if isinstance(exc, (CimMethodError, InvalidOperation)) else 502
        return _error(status, f"{action} failed: {exc}")
    log.info("action %s on %s %s", action, host, uuid)
    vm = _find_vm(service, host, uuid)
    return _json({"action": action, "vm": vm.to_json() if vm is not None else None})


async def events(request: web.Request) -> web.StreamResponse:
    service = _service(request)
    broker = service.broker
    if broker.clients >= MAX_EVENT_CLIENTS:
        return _error(503, "too many live-feed clients")
    last_text = request.headers.get("Last-Event-ID") or request.query.get("last_event_id")
    last_id = int(last_text) if last_text and last_text.isdigit() else None
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
        }
    )
    await response.prepare(request)
    subscription = broker.subscribe(last_event_id=last_id)
    try:
        await response.write(b"retry: 3000\n: connected\n\n")
        async for event in subscription.events(heartbeat=HEARTBEAT):
            await response.write(b": ping\n\n" if event is None else event.encode())
    except ConnectionResetError:  # the client went away
        return response
    finally:
        broker.unsubscribe(subscription)
    # The broker ended the stream (shutdown, or this client fell too far behind).
    with contextlib.suppress(ConnectionResetError):
        await response.write_eof()
    return response


async def index(request: web.Request) -> web.Response:
    return web.FileResponse(STATIC / "index.html")  # type: ignore[return-value]  # a Response subclass in practice


@web.middleware
async def _headers(request: web.Request, handler: Any) -> web.StreamResponse:
    response: web.StreamResponse = await handler(request)
    if not response.prepared:
        for key, value in _SECURITY_HEADERS.items():
            response.headers.setdefault(key, value)
    return response


def make_app(service: Service) -> web.Application:
    """The web application of ``service``."""
    app = web.Application(middlewares=[_headers], client_max_size=64 * 1024)
    app[SERVICE_KEY] = service
    r = app.router
    r.add_get("/", index)
    r.add_get("/healthz", healthz)
    r.add_get("/metrics", metrics)
    r.add_get("/api/openapi.json", openapi)
    r.add_get("/api/summary", summary)
    r.add_get("/api/hosts", hosts)
    r.add_get("/api/hosts/{host}", host_detail)
    r.add_get("/api/hosts/{host}/vms/{uuid}", vm_detail)
    r.add_get("/api/hosts/{host}/vms/{uuid}/history", vm_history)
    r.add_get("/api/vms", vms)
    r.add_get("/api/changes", changes)
    r.add_get("/api/runs", runs)
    r.add_post("/api/runs", trigger_run)
    r.add_get("/api/runs/{id}", run_detail)
    r.add_get("/api/events", events)
    if service.config.enable_actions:
        r.add_post("/api/hosts/{host}/vms/{uuid}/actions/{action}", vm_action)
    r.add_static("/static/", STATIC, append_version=False)
    return app
