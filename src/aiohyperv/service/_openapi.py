"""The JSON API's OpenAPI 3.1 description, served at ``/api/openapi.json``.

The tests validate every response of the API against the schemas here, so the document and
the handlers cannot drift apart silently.
"""

from __future__ import annotations

from typing import Any

from aiohyperv import __version__

__all__ = ["openapi_spec"]

_NULL_STR = {"type": ["string", "null"]}
_NULL_INT = {"type": ["integer", "null"]}
_NULL_NUM = {"type": ["number", "null"]}
_NULL_BOOL = {"type": ["boolean", "null"]}
_TIME = {"type": ["string", "null"], "format": "date-time"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(props: dict[str, Any], *, extra: bool = False) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": props,
        "required": sorted(props),
        "additionalProperties": extra,
    }


def _page(item: str) -> dict[str, Any]:
    return _obj({"total": {"type": "integer"}, "items": {"type": "array", "items": _ref(item)}})


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _param(
    name: str, where: str, schema: dict[str, Any], doc: str, *, required: bool = False
) -> dict[str, Any]:
    return {"name": name, "in": where, "schema": schema, "description": doc, "required": required}


_ERROR = _json(_ref("Error"), "Error")
_HOST_PATH = _param("host", "path", {"type": "string"}, "host:port", required=True)
_UUID_PATH = _param("uuid", "path", {"type": "string"}, "the VM's GUID", required=True)
_LIMIT = _param("limit", "query", {"type": "integer", "minimum": 1, "maximum": 1000}, "at most")

SCHEMAS: dict[str, Any] = {
    "Error": _obj({"error": {"type": "string"}}),
    "Health": _obj(
        {
            "status": {"enum": ["ok", "starting", "stale"]},
            "schema_version": {"type": "integer"},
            "hosts": {"type": "integer"},
            "running": {"type": "boolean"},
            "last_run": {"oneOf": [_ref("Run"), {"type": "null"}]},
        }
    ),
    "Host": _obj(
        {
            "host": {"type": "string"},
            "up": {"type": "boolean"},
            "error": _NULL_STR,
            "error_type": _NULL_STR,
            "checked": _TIME,
            "last_success": _TIME,
            "elapsed": {"type": "number"},
            "requests": {"type": "integer"},
            "hostname": _NULL_STR,
            "os_caption": _NULL_STR,
            "os_version": _NULL_STR,
            "cpu_model": _NULL_STR,
            "cpu_threads": _NULL_INT,
            "memory_total": _NULL_INT,
            "memory_free": _NULL_INT,
            "memory_assigned": {"type": "integer"},
            "memory_demand": {"type": "integer"},
            "vcpus": {"type": "integer"},
            "vm_count": {"type": "integer"},
            "vm_states": {"type": "object", "additionalProperties": {"type": "integer"}},
        }
    ),
    "VM": _obj(
        {
            "host": {"type": "string"},
            "uuid": {"type": "string"},
            "name": {"type": "string"},
            "state": {"type": "string"},
            "vcpus": _NULL_INT,
            "memory_mib": _NULL_INT,
            "memory_dynamic": _NULL_BOOL,
            "memory_max_mib": _NULL_INT,
            "memory_demand_mib": _NULL_INT,
            "uptime": _NULL_NUM,
            "generation": _NULL_INT,
            "config_version": _NULL_STR,
            "notes": {"type": "string"},
            "disks": {
                "type": "array",
                "items": _obj(
                    {"path": {"type": "string"}, "kind": {"type": "string"}, "size": _NULL_INT}
                ),
            },
            "nics": {
                "type": "array",
                "items": _obj({"name": {"type": "string"}, "mac": _NULL_STR, "switch": _NULL_STR}),
            },
        }
    ),
    "Change": _obj(
        {
            "id": {"type": "integer"},
            "run_id": _NULL_INT,
            "at": {"type": "string", "format": "date-time"},
            "kind": {
                "enum": [
                    "host_added",
                    "host_unreachable",
                    "host_back",
                    "vm_created",
                    "vm_removed",
                    "vm_renamed",
                    "vm_state_changed",
                    "vm_memory_changed",
                    "vm_vcpus_changed",
                    "vm_disks_changed",
                    "vm_nics_changed",
                ]
            },
            "host": {"type": "string"},
            "uuid": _NULL_STR,
            "vm_name": _NULL_STR,
            "old": _NULL_STR,
            "new": _NULL_STR,
        }
    ),
    "Run": _obj(
        {
            "id": {"type": "integer"},
            "started": {"type": "string", "format": "date-time"},
            "finished": {"type": "string", "format": "date-time"},
            "duration": {"type": "number"},
            "hosts": {"type": "integer"},
            "succeeded": {"type": "integer"},
            "failed": {"type": "integer"},
            "requests": {"type": "integer"},
            "changes": {"type": "integer"},
            "trigger": {"enum": ["schedule", "request"]},
        }
    ),
    "HostResult": _obj(
        {
            "host": {"type": "string"},
            "ok": {"type": "boolean"},
            "error": _NULL_STR,
            "error_type": _NULL_STR,
            "elapsed": {"type": "number"},
            "requests": {"type": "integer"},
            "vm_count": {"type": "integer"},
        }
    ),
    "Sample": _obj(
        {
            "run_id": {"type": "integer"},
            "at": {"type": "string", "format": "date-time"},
            "name": {"type": "string"},
            "state": {"type": "string"},
            "vcpus": _NULL_INT,
            "memory_mib": _NULL_INT,
            "memory_demand_mib": _NULL_INT,
            "disks": {"type": "integer"},
            "nics": {"type": "integer"},
        }
    ),
    "Summary": _obj(
        {
            "hosts": _obj(
                {
                    "total": {"type": "integer"},
                    "up": {"type": "integer"},
                    "down": {"type": "integer"},
                }
            ),
            "vms": _obj(
                {
                    "total": {"type": "integer"},
                    "by_state": {"type": "object", "additionalProperties": {"type": "integer"}},
                }
            ),
            "memory": {
                "type": "array",
                "items": _obj(
                    {
                        "host": {"type": "string"},
                        "hostname": _NULL_STR,
                        "up": {"type": "boolean"},
                        "total": _NULL_INT,
                        "free": _NULL_INT,
                        "assigned": {"type": "integer"},
                        "demand": {"type": "integer"},
                    }
                ),
            },
            "last_run": {"oneOf": [_ref("Run"), {"type": "null"}]},
            "running": {"type": "boolean"},
            "interval": {"type": "number"},
            "actions": {"type": "boolean"},
        }
    ),
}
# A host with its VMs: the Host fields plus "vms".
SCHEMAS["HostDetail"] = {
    **SCHEMAS["Host"],
    "properties": {**SCHEMAS["Host"]["properties"], "vms": {"type": "array", "items": _ref("VM")}},
    "required": sorted([*SCHEMAS["Host"]["required"], "vms"]),
}


def openapi_spec(*, actions: bool) -> dict[str, Any]:
    """The OpenAPI document; the VM action path is listed only when actions are enabled."""
    paths: dict[str, Any] = {
        "/healthz": {
            "get": {
                "summary": "Liveness and the latest run",
                "responses": {"200": _json(_ref("Health"))},
            }
        },
        "/api/summary": {
            "get": {
                "summary": "The fleet at a glance",
                "responses": {"200": _json(_ref("Summary"))},
            }
        },
        "/api/hosts": {
            "get": {
                "summary": "Every configured host and its latest state",
                "responses": {"200": _json(_page("Host"))},
            }
        },
        "/api/hosts/{host}": {
            "get": {
                "summary": "One host with its VMs",
                "parameters": [_HOST_PATH],
                "responses": {"200": _json(_ref("HostDetail")), "404": _ERROR},
            }
        },
        "/api/vms": {
            "get": {
                "summary": "VMs as of each host's last success, filtered and sorted",
                "parameters": [
                    _param("host", "query", {"type": "string"}, "only this host"),
                    _param("state", "query", {"type": "string"}, "only this state (e.g. running)"),
                    _param("name", "query", {"type": "string"}, "name contains (case-insensitive)"),
                    _param(
                        "sort",
                        "query",
                        {"enum": ["name", "host", "state", "vcpus", "memory", "demand"]},
                        "sort key (default: host, then name)",
                    ),
                    _param("order", "query", {"enum": ["asc", "desc"]}, "sort order"),
                    _LIMIT,
                    _param("offset", "query", {"type": "integer", "minimum": 0}, "skip"),
                ],
                "responses": {"200": _json(_page("VM")), "400": _ERROR},
            }
        },
        "/api/hosts/{host}/vms/{uuid}": {
            "get": {
                "summary": "One VM",
                "parameters": [_HOST_PATH, _UUID_PATH],
                "responses": {"200": _json(_ref("VM")), "404": _ERROR},
            }
        },
        "/api/hosts/{host}/vms/{uuid}/history": {
            "get": {
                "summary": "One VM's stored samples and changes, newest first",
                "parameters": [_HOST_PATH, _UUID_PATH, _LIMIT],
                "responses": {
                    "200": _json(
                        _obj(
                            {
                                "vm": {"oneOf": [_ref("VM"), {"type": "null"}]},
                                "samples": {"type": "array", "items": _ref("Sample")},
                                "changes": {"type": "array", "items": _ref("Change")},
                            }
                        )
                    ),
                    "400": _ERROR,
                },
            }
        },
        "/api/changes": {
            "get": {
                "summary": "Changes, newest first",
                "parameters": [
                    _param("since", "query", {"type": "string"}, "ISO 8601 time or unix seconds"),
                    _param("after_id", "query", {"type": "integer"}, "only ids above this"),
                    _param("host", "query", {"type": "string"}, "only this host"),
                    _param("kind", "query", {"type": "string"}, "comma-separated kinds"),
                    _LIMIT,
                ],
                "responses": {"200": _json(_page("Change")), "400": _ERROR},
            }
        },
        "/api/runs": {
            "get": {
                "summary": "Runs, newest first",
                "parameters": [_LIMIT, _param("before", "query", {"type": "integer"}, "ids below")],
                "responses": {"200": _json(_page("Run")), "400": _ERROR},
            },
            "post": {
                "summary": "Start a run now (coalesced with other requests; never overlaps)",
                "description": "Needs the bearer token when the service has one.",
                "parameters": [
                    _param("wait", "query", {"type": "boolean"}, "answer when the run is stored")
                ],
                "responses": {
                    "200": _json(_obj({"run": _ref("Run")}), "The run (with wait=true)"),
                    "202": _json(_obj({"queued": {"type": "boolean"}}), "Queued"),
                    "401": _ERROR,
                    "503": _ERROR,
                },
            },
        },
        "/api/runs/{id}": {
            "get": {
                "summary": "One run with each host's result",
                "parameters": [_param("id", "path", {"type": "integer"}, "run id", required=True)],
                "responses": {
                    "200": _json(
                        _obj(
                            {
                                "run": _ref("Run"),
                                "hosts": {"type": "array", "items": _ref("HostResult")},
                            }
                        )
                    ),
                    "404": _ERROR,
                },
            }
        },
        "/api/events": {
            "get": {
                "summary": "Live feed (server-sent events): 'change' and 'run' events",
                "description": "Each event's data is a Change or a Run as JSON; Last-Event-ID "
                "replays the kept events after it.",
                "responses": {
                    "200": {
                        "description": "text/event-stream",
                        "content": {"text/event-stream": {}},
                    },
                    "503": _ERROR,
                },
            }
        },
        "/metrics": {
            "get": {
                "summary": "Prometheus metrics",
                "responses": {
                    "200": {"description": "text format 0.0.4", "content": {"text/plain": {}}}
                },
            }
        },
    }
    if actions:
        paths["/api/hosts/{host}/vms/{uuid}/actions/{action}"] = {
            "post": {
                "summary": "Change a VM's state through the driver (needs the bearer token)",
                "security": [{"bearer": []}],
                "parameters": [
                    _HOST_PATH,
                    _UUID_PATH,
                    _param(
                        "action",
                        "path",
                        {"enum": ["start", "shutdown", "stop", "suspend", "resume"]},
                        "what to do (stop = power off)",
                        required=True,
                    ),
                ],
                "responses": {
                    "200": _json(_obj({"action": {"type": "string"}, "vm": _ref("VM")})),
                    "401": _ERROR,
                    "404": _ERROR,
                    "409": _ERROR,
                    "502": _ERROR,
                },
            }
        }
    schemas = dict(SCHEMAS)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "aiohyperv serve",
            "version": __version__,
            "description": "Inventory of a Hyper-V fleet: latest state, history, changes, runs.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
