"""A minimal WS-Man host for transport tests, built on the wsman server-side codec.

Not the simulator (that models Hyper-V); this answers Identify, Get, Put, Create, Delete,
Enumerate/Pull/Release and Invoke for one made-up class, records what it saw, and injects
failures on demand so retries, faults and cancellation can be observed from the server side.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiohttp import web

from aiohyperv.cim import EPR, CimInstance
from aiohyperv.simulator._auth import request_body
from aiohyperv.simulator._codec import (
    Request,
    build_enumerate_response,
    build_fault,
    build_identify_response,
    build_invoke_response,
    build_pull_response,
    build_response,
    parse_enumerate_request,
    parse_pull_request,
    parse_release_request,
    parse_request,
)
from aiohyperv.wsman import NAMESPACE_V2, Action, resource_uri, serialize_epr, serialize_instance

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from aiohttp.typedefs import Middleware

CLASS = "Msvm_ComputerSystem"
RURI = resource_uri(NAMESPACE_V2, CLASS)
JOB_URI = resource_uri(NAMESPACE_V2, "Msvm_ConcreteJob")

# Failure kinds a test can queue per operation (consumed one per request, in order).
TIMED_OUT = "timedout"  # w:TimedOut fault, HTTP 500 (sample 02)
INVALID_PARAMETER = "invalidparameter"  # w:InvalidParameter, HTTP 500 (sample 03)
INVALID_PARAMETER_400 = "invalidparameter400"  # the same fault with HTTP 400
RESET = "reset"  # drop the connection without answering
UNAVAILABLE = "503"  # HTTP 503, plain text
DENIED = "401"  # HTTP 401


def make_instance(i: int) -> CimInstance:
    return CimInstance(
        CLASS,
        RURI,
        {"Name": f"VM-{i:05d}", "ElementName": f"vm{i}", "EnabledState": "2"},
    )


@dataclass
class FakeHost:
    """State and recordings of one fake WS-Man host."""

    items: int = 0
    attempts: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))
    message_ids: defaultdict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    failures: defaultdict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    contexts: dict[str, int] = field(default_factory=dict)  # open context -> next index
    released: list[str] = field(default_factory=list)
    pull_sizes: list[int | None] = field(default_factory=list)
    authorization: list[str | None] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    on_pull: Callable[[], None] | None = None
    hold_pulls: asyncio.Event | None = None  # when set (not None), Pulls wait for it
    pull_arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    def _fail(self, op: str, request: web.Request) -> web.StreamResponse | None:
        if not self.failures[op]:
            return None
        kind = self.failures[op].pop(0)
        if kind == UNAVAILABLE:
            return web.Response(status=503, text="Service Unavailable")
        if kind == DENIED:
            return web.Response(status=401, headers={"WWW-Authenticate": "Basic"})
        if kind == RESET:
            assert request.transport is not None
            request.transport.close()
            return web.Response(status=500)  # never arrives
        if kind == TIMED_OUT:
            body = build_fault(
                code="Receiver",
                subcode="TimedOut",
                reason="The WS-Management service cannot complete the operation within the "
                "time specified in OperationTimeout.",
                wsman_code=2150858793,
                machine="fakehost",
            )
            return web.Response(status=500, body=body, content_type="application/soap+xml")
        if kind in (INVALID_PARAMETER, INVALID_PARAMETER_400):
            body = build_fault(
                code="Sender",
                subcode="InvalidParameter",
                reason="The parameter is incorrect.",
                wsman_code=87,
                machine="fakehost",
                fault_detail="http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/InvalidValue",
            )
            status = 400 if kind == INVALID_PARAMETER_400 else 500
            return web.Response(status=status, body=body, content_type="application/soap+xml")
        raise AssertionError(f"unknown failure kind {kind}")

    def _batch(self, context: str, max_elements: int | None) -> tuple[list[CimInstance], bool]:
        start = self.contexts[context]
        stop = min(self.items, start + (max_elements or 1))
        self.contexts[context] = stop
        end = stop >= self.items
        if end:
            del self.contexts[context]
        return [make_instance(i) for i in range(start, stop)], end

    async def handle(self, request: web.Request) -> web.StreamResponse:
        data = await request_body(request)
        req = parse_request(data)
        self.requests.append(req)
        op = req.action.rpartition("/")[2]
        self.attempts[op] += 1
        self.message_ids[op].append(req.message_id or "")
        self.authorization.append(request.headers.get("Authorization"))
        if op == "Pull":
            self.pull_arrived.set()
            if self.on_pull is not None:
                self.on_pull()
            if self.hold_pulls is not None:
                await self.hold_pulls.wait()
        failure = self._fail(op, request)
        if failure is not None:
            return failure
        body = self._answer(op, req)
        return web.Response(body=body, content_type="application/soap+xml", charset="UTF-8")

    def _answer(self, op: str, req: Request) -> bytes:
        relates = req.message_id
        if op == "Identify":
            return build_identify_response(product_version="OS: 10.0.17763 SP: 0.0 Stack: 3.0")
        if op == "Get":
            inst = make_instance(0)
            inst.properties["Name"] = req.selectors.get("Name", "")
            return build_response(
                Action.GET_RESPONSE, relates_to=relates, body=serialize_instance(inst)
            )
        if op == "Put":
            assert req.body is not None
            return build_response(Action.PUT_RESPONSE, relates_to=relates, body=req.body)
        if op == "Create":
            epr = EPR.make(RURI, {"Name": "NEW"})
            created = serialize_epr(epr)
            created.tag = "{http://schemas.xmlsoap.org/ws/2004/09/transfer}ResourceCreated"
            return build_response(Action.CREATE_RESPONSE, relates_to=relates, body=created)
        if op == "Delete":
            return build_response(Action.DELETE_RESPONSE, relates_to=relates, body=None)
        if op == "Enumerate":
            er = parse_enumerate_request(req)
            context = f"uuid:ctx-{next(self._ids)}"
            self.contexts[context] = 0
            if not er.optimize:
                return build_enumerate_response(
                    None, context=context, end_of_sequence=False, relates_to=relates
                )
            items, end = self._batch(context, er.max_elements)
            return build_enumerate_response(
                items, context=context, end_of_sequence=end, relates_to=relates
            )
        if op == "Pull":
            context, max_elements = parse_pull_request(req)
            self.pull_sizes.append(max_elements)
            items, end = self._batch(context, max_elements)
            return build_pull_response(
                items, context=context, end_of_sequence=end, relates_to=relates
            )
        if op == "Release":
            context = parse_release_request(req)
            self.contexts.pop(context, None)
            self.released.append(context)
            return build_response(Action.RELEASE_RESPONSE, relates_to=relates, body=None)
        # Anything else is an Invoke of method `op`.
        job = EPR.make(JOB_URI, {"InstanceID": "JOB-1"})
        return build_invoke_response(
            req.resource_uri or RURI, op, return_value=4096, outputs={"Job": job}
        )

    def app(self, middlewares: Sequence[Middleware] = ()) -> web.Application:
        app = web.Application(middlewares=middlewares)
        app.router.add_post("/wsman", self.handle)
        return app
