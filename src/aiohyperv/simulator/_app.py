"""The WinRM endpoint: an aiohttp application answering ``POST /wsman`` like a Hyper-V host.

HTTP behaviour follows Windows (HTTP.sys + WinRM):

* ``/wsman`` only (anything else 404), ``POST`` only (405);
* authentication is WinRM's (:mod:`aiohyperv._auth`'s middleware, set up per host by
  ``_security``): a request without credentials gets 401 with ``WWW-Authenticate: Negotiate``
  and, where the host allows Basic, ``Basic realm="WSMAN"`` (two headers, in that order);
  NTLM through ``Negotiate`` authenticates the TCP connection, and over HTTP its messages may
  come sealed with WinRM message encryption (``multipart/encrypted``), the answers then going
  back sealed; a host with ``allow_unencrypted=False`` refuses plaintext bodies over HTTP with
  401; client certificates mapped to the host's account work over HTTPS;
* the body must be ``application/soap+xml`` (else 415), unless it came sealed;
* SOAP faults come with HTTP 500 and ``Content-Type: application/soap+xml;charset=UTF-8``,
  shaped like ``tests/data/wsman-samples/real/pypsrp/fault_*.xml``, with the Action of the
  subcode's specification (WS-Addressing, WS-Enumeration or WS-Management) and WinRM's codes;
  every response says ``Server: Microsoft-HTTPAPI/2.0``.

WS-Management answers follow the recorded Windows traffic (``tests/simulator/
test_windows_shapes.py`` compares them): projections as ``w:XmlFragment``, NULL arrays left out,
references with key selectors only, and the WMI plugin's batching (``HostSpec.batching``).  A
host in another display language (``HostSpec.locale``) localizes its texts (``_locale``).

One application can serve many hosts: the :class:`HostRouter` in the app (``ROUTER_KEY``) picks
the host by the local address and port the request arrived on.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import TYPE_CHECKING

from aiohttp import web

from aiohyperv._exceptions import ProtocolError, WSManFaultCode
from aiohyperv.simulator._auth import AUTH_INFO, request_body, seal_body
from aiohyperv.simulator._codec import (
    InvalidHeader,
    Request,
    build_enumerate_response,
    build_fault,
    build_identify_response,
    build_invoke_response,
    build_pull_response,
    build_response,
    parse_enumerate_request,
    parse_invoke_request,
    parse_pull_request,
    parse_release_request,
    parse_request,
)
from aiohyperv.simulator._host import EnumerationContext, SimulatedHost
from aiohyperv.simulator._instance import Instance, Ref, to_cim, to_xml
from aiohyperv.simulator._locale import fault_text, localize
from aiohyperv.simulator._methods import MethodFault, invoke
from aiohyperv.simulator._providers import find_instances, served_namespaces
from aiohyperv.simulator._schema import SCHEMAS, ClassDef
from aiohyperv.simulator._security import HOST_KEY, HostAuth, challenge_headers
from aiohyperv.simulator._wql import Associators, WQLError, execute, parse_wql
from aiohyperv.wsman import (
    ASSOCIATION_DIALECT,
    SELECTOR_DIALECT,
    WQL_DIALECT,
    Action,
    EnumerationMode,
    split_resource_uri,
)
from aiohyperv.wsman._items import epr_xml, serialize_instance

if TYPE_CHECKING:
    from aiohyperv.wsman import Filter

__all__ = ["AUTH_KEY", "ROUTER_KEY", "HostRouter", "make_app"]

logger = logging.getLogger("aiohyperv.simulator")

_SERVER = "Microsoft-HTTPAPI/2.0"
_WMI_PROVIDER = "WMI Provider"
_WMI_PROVIDER_PATH = "%systemroot%\\system32\\WsmWmiPl.dll"
_FAULT_DETAIL = "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/"


class HostRouter:
    """Which simulated host answers a request: by the local (address, port) it arrived on."""

    def __init__(self, default: SimulatedHost | None = None) -> None:
        self.default = default
        self._by_endpoint: dict[tuple[str, int], SimulatedHost] = {}

    def add(self, address: str, port: int, host: SimulatedHost) -> None:
        """Serve ``host`` on ``address:port``."""
        self._by_endpoint[(address, port)] = host

    def host_for(self, request: web.Request) -> SimulatedHost | None:
        """The host for this request's local endpoint (or the default host)."""
        transport = request.transport
        if transport is not None and self._by_endpoint:
            sockname = transport.get_extra_info("sockname")
            if sockname:
                host = self._by_endpoint.get((sockname[0], sockname[1]))
                if host is not None:
                    return host
        return self.default


ROUTER_KEY = web.AppKey("aiohyperv_simulator_router", HostRouter)
AUTH_KEY = web.AppKey("aiohyperv_simulator_auth", HostAuth)


def make_app(
    host: SimulatedHost | None = None,
    *,
    router: HostRouter | None = None,
    server_certificate: bytes | None = None,
) -> web.Application:
    """An aiohttp application serving one simulated host (or a fleet, through ``router``).

    Args:
        host: the host to serve on every address the app listens on.
        router: a router mapping local endpoints to hosts (what :class:`SimulatorServer` uses).
        server_certificate: DER of the TLS certificate the app is served with, if HTTPS and
            known: NTLM over HTTPS then requires a channel binding token that matches it
            (Windows' Extended Protection).  None: bindings are not checked.

    Example:
        Under pytest-aiohttp, ``server = await aiohttp_server(make_app(host))`` and then
        ``http://127.0.0.1:{server.port}/wsman``.
    """
    if router is None:
        if host is None:
            raise ValueError("make_app needs a host or a router")
        router = HostRouter(host)
    # No middlewares: aiohttp wraps every middleware anew for each request, so the one route
    # does it all in order -- find the host (and apply listener faults), authenticate, handle.
    app = web.Application(client_max_size=4 * 1024 * 1024)
    app[ROUTER_KEY] = router
    auth = HostAuth(server_certificate=server_certificate)
    app[AUTH_KEY] = auth
    app.router.add_route("*", "/{tail:.*}", _listener)
    app.on_response_prepare.append(_server_header)
    app.on_cleanup.append(_close_auth)
    return app


# --- HTTP layer -----------------------------------------------------------------------------------
async def _server_header(_request: web.Request, response: web.StreamResponse) -> None:
    # Every answer, the auth middleware's 401s included, comes from HTTP.sys.
    response.headers["Server"] = _SERVER


async def _close_auth(app: web.Application) -> None:
    app[AUTH_KEY].close()


async def _listener(request: web.Request) -> web.StreamResponse:
    """Every request: routing to a host, listener faults, 404/405, then authentication and
    the WS-Management handler."""
    if request.path.rstrip("/").lower() != "/wsman":
        return web.Response(status=404)
    host = request.app[ROUTER_KEY].host_for(request)
    if host is None:
        return web.Response(status=404)
    faults = host.faults
    if faults.refuse_connections and request.transport is not None:
        # The listener cannot be closed from here: drop the connection instead.
        request.transport.abort()
        return web.Response(status=503)
    delay = faults.latency + (host.fault_rng.uniform(0, faults.jitter) if faults.jitter else 0)
    if delay > 0:
        await asyncio.sleep(delay)
    if request.method != "POST":
        return web.Response(status=405, headers={"Allow": "POST"})
    request[HOST_KEY] = host
    return await request.app[AUTH_KEY].handle(request, _handle)


def _unauthorized(host: SimulatedHost) -> web.Response:
    resp = web.Response(status=401)
    for name, value in challenge_headers(host):
        resp.headers.add(name, value)
    return resp


async def _handle(request: web.Request) -> web.StreamResponse:
    host = request[HOST_KEY]
    # The auth middleware lets a request through without AUTH_INFO only when it is an
    # anonymous Identify (``WSMANIDENTIFY: unauthenticated`` and no Authorization header).
    info = request.get(AUTH_INFO)
    if info is not None and host.faults.unauthorized:
        logger.debug("simulator %s: forced 401 for %s", host.spec.name, request.remote)
        return _unauthorized(host)
    if info is None or not info.sealed:
        # A sealed body travels as multipart/encrypted; the SOAP type is inside the seal.
        content_type = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if content_type != "application/soap+xml":
            return web.Response(status=415)
    limit = host.faults.max_concurrent_operations
    in_flight = _IN_FLIGHT.get(host, 0)
    over_quota = limit is not None and in_flight >= limit
    _IN_FLIGHT[host] = in_flight + 1
    try:
        data = await request_body(request)
        status, body = _dispatch(host, data, authenticated=info is not None, over_quota=over_quota)
        return await _send(request, host, status, body)
    finally:
        _IN_FLIGHT[host] -= 1


# Requests each host is answering right now (the operations quota counts them).
_IN_FLIGHT: weakref.WeakKeyDictionary[SimulatedHost, int] = weakref.WeakKeyDictionary()


async def _send(
    request: web.Request, host: SimulatedHost, status: int, body: bytes
) -> web.StreamResponse:
    faults = host.faults
    rng = host.fault_rng
    if status == 200 and faults.bad_xml_rate and rng.random() < faults.bad_xml_rate:
        body = body[: max(1, len(body) // 2)]
    reset = bool(faults.reset_rate) and rng.random() < faults.reset_rate
    # Sealed here (if the request came sealed) rather than by the auth middleware, which would
    # build the response a second time; once, just before writing (sealing advances the NTLM
    # sequence).
    content_type, body = seal_body(request, body)
    if not reset and faults.slow_body <= 0:
        return web.Response(status=status, body=body, headers={"Content-Type": content_type})
    resp = web.StreamResponse(status=status, headers={"Content-Type": content_type})
    resp.content_length = len(body)
    await resp.prepare(request)
    if reset:
        await resp.write(body[: len(body) // 2])
        transport = request.transport
        if transport is not None:
            transport.abort()
        raise asyncio.CancelledError  # aiohttp drops the half-written response quietly
    chunks = 10
    step = max(1, -(-len(body) // chunks))
    for start in range(0, len(body), step):
        await resp.write(body[start : start + step])
        await asyncio.sleep(faults.slow_body / chunks)
    await resp.write_eof()
    return resp


# --- faults ---------------------------------------------------------------------------------------
class _Fault(Exception):
    """A SOAP fault to answer with (HTTP 500)."""

    def __init__(
        self,
        code: str,
        subcode: str,
        reason: str,
        wsman_code: int,
        *,
        fault_detail: str | None = None,
        wmi_message: str | None = None,
        message: str | None = None,
    ) -> None:
        super().__init__(reason)
        self.code = code
        self.subcode = subcode
        self.reason = reason
        self.wsman_code = wsman_code
        self.fault_detail = fault_detail
        self.wmi_message = wmi_message
        self.message = message

    def render(self, host: SimulatedHost, relates_to: str | None) -> bytes:
        wmi = self.wmi_message is not None
        lang = host.spec.locale
        return build_fault(
            code=self.code,
            subcode=self.subcode,
            reason=fault_text(self.reason, lang),
            wsman_code=self.wsman_code,
            machine=f"{host.dns_name}.{host.domain}",
            fault_detail=self.fault_detail,
            relates_to=relates_to,
            provider=_WMI_PROVIDER if wmi else None,
            provider_path=_WMI_PROVIDER_PATH if wmi else None,
            message=None if self.message is None else fault_text(self.message, lang),
            inner_message=None if self.wmi_message is None else fault_text(self.wmi_message, lang),
            lang=lang,
        )


def _invalid_selectors(detail: str) -> _Fault:
    return _Fault(
        "Sender",
        "w:InvalidSelectors",
        "The WS-Management service cannot process the request because the request contained "
        "invalid selectors for the resource. ",
        WSManFaultCode.INVALID_SELECTORS,
        fault_detail=_FAULT_DETAIL + detail,
    )


def _not_singleton() -> _Fault:
    message = (
        "The WinRM client cannot process the request. The resource URI is not valid: it does "
        "not contain keys, but the class selected is not a singleton. To access an instance "
        "which is not a singleton, keys must be provided. Use the following command to get more "
        'information in how to construct a resource URI: "winrm help uris". '
    )
    return _Fault(
        "Sender", "w:InvalidSelectors", message, WSManFaultCode.NOT_SINGLETON, wmi_message=message
    )


def _wql_fault(exc: WQLError) -> _Fault:
    """A query WMI refuses: ``n:CannotProcessFilter`` (WS-Enumeration, Action
    ``.../2004/09/enumeration/fault``), WSManFault Code 2150858778 (0x8033801A,
    ``ERROR_WSMAN_ENUMERATE_CANNOT_PROCESS_FILTER``); the WMI status (``0x80041010`` invalid
    class, ``0x80041017`` invalid query) is the provider's, inside the nested fault."""
    return _Fault(
        "Sender",
        "n:CannotProcessFilter",
        "The data source could not process the filter. The filter might be missing or it might "
        "be invalid. Change the filter and try the request again. ",
        WSManFaultCode.CANNOT_PROCESS_FILTER,
        wmi_message=f"The WS-Management service cannot process the request. The WQL query is "
        f"invalid: {exc.message}. (WMI 0x{exc.code:08X}) ",
    )


def _schema_fault(detail: str) -> _Fault:
    return _Fault(
        "Sender",
        "w:SchemaValidationError",
        "The SOAP XML in the message does not match the corresponding XML schema definition. "
        f"Change the XML and retry. ({detail})",
        WSManFaultCode.SCHEMA_VALIDATION,
    )


def _no_class(namespace: str, class_name: str) -> _Fault:
    message = (
        f"The WS-Management service cannot process the request. The class {class_name} does not "
        f"exist in the {namespace} namespace. "
    )
    return _Fault(
        "Sender",
        "a:DestinationUnreachable",
        _NOT_FOUND_REASON,
        WSManFaultCode.RESOURCE_NOT_FOUND,
        fault_detail=_FAULT_DETAIL + "InvalidResourceURI",
        wmi_message=message,
    )


_NOT_FOUND_REASON = (
    "The WS-Management service cannot process the request. The service cannot find the "
    "resource identified by the resource URI and selectors. "
)


def _not_found() -> _Fault:
    """Get (or Invoke) of an instance that does not exist: WS-Addressing
    ``a:DestinationUnreachable`` with FaultDetail ``InvalidResourceURI`` and Code 2150858752
    (0x80338000, ``ERROR_WSMAN_RESOURCE_NOT_FOUND``), Action ``.../addressing/fault`` -- not
    ``w:InvalidSelectors``, which Windows keeps for selectors that name no key."""
    return _Fault(
        "Sender",
        "a:DestinationUnreachable",
        _NOT_FOUND_REASON,
        WSManFaultCode.RESOURCE_NOT_FOUND,
        fault_detail=_FAULT_DETAIL + "InvalidResourceURI",
        wmi_message=_NOT_FOUND_REASON,
    )


def _internal_error() -> _Fault:
    # The recorded fault (virt-who, on a slow WQL query) lost its detail; the WMI plugin passes
    # its provider's WMI error code through, so WBEM_E_FAILED stands in for it (inferred).
    return _Fault(
        "Receiver", "w:InternalError", "An internal error occurred. ", WSManFaultCode.WBEM_E_FAILED
    )


def _quota_fault(limit: int) -> _Fault:
    """More concurrent operations than ``MaxConcurrentOperationsPerUser`` allows:
    ``w:InternalError`` with Code 2150859174 (0x803381A6, ``ERROR_WSMAN_QUOTA_MAX_OPERATIONS``)."""
    return _Fault(
        "Receiver",
        "w:InternalError",
        "The WS-Management service cannot process the request. This user is allowed a maximum "
        "number of concurrent operations, which has been exceeded. Close existing operations for "
        "this user, or raise the quota for this user. ",
        WSManFaultCode.QUOTA_MAX_OPERATIONS,
        message="The WS-Management service cannot process the request. This user is allowed a "
        "maximum number of concurrent operations, which has been exceeded. Close existing "
        f"operations for this user, or raise the quota for this user. (limit {limit}) ",
    )


def _invalid_header(detail: str) -> _Fault:
    """A header Windows cannot read (e.g. ``OperationTimeout`` ``PT-1S``):
    ``a:InvalidMessageInformationHeader``, Code 2150858767 (0x8033800F), Action
    ``.../addressing/fault`` (``pypsrp/fault_addressing_invalid_header_timeout.xml``)."""
    return _Fault(
        "Sender",
        "a:InvalidMessageInformationHeader",
        "The WS-Management service cannot process the request. The request contains one or more "
        "invalid SOAP headers. ",
        WSManFaultCode.INVALID_MESSAGE_INFORMATION_HEADER,
        message=f"The WS-Management service cannot process the request. {detail} ",
    )


def _envelope_limit_fault(limit: int) -> _Fault:
    """An answer that cannot fit the envelope: ``w:EncodingLimit`` with FaultDetail
    ``MaxEnvelopeSize`` (DSP0226 6.2 and its fault table) and Code 2150858824 (0x80338048,
    ``ERROR_WSMAN_MAX_ENVELOPE_SIZE_EXCEEDED``)."""
    return _Fault(
        "Sender",
        "w:EncodingLimit",
        "The response that the WS-Management service computed exceeds the maximum envelope "
        "size that is allowed. ",
        WSManFaultCode.MAX_ENVELOPE_SIZE_EXCEEDED,
        fault_detail=_FAULT_DETAIL + "MaxEnvelopeSize",
        message="The response that the WS-Management service computed exceeds the maximum "
        f"envelope size that is allowed. (MaxEnvelopeSize {limit}) ",
    )


def _envelope_too_small(size: int) -> _Fault:
    """A MaxEnvelopeSize below 8192 octets: ``w:EncodingLimit`` (MS-WSMV 3.1.4.1.7: MUST),
    Code 2150858823 (0x80338047, ``ERROR_WSMAN_MAX_ENVELOPE_SIZE``)."""
    return _Fault(
        "Sender",
        "w:EncodingLimit",
        "The WS-Management service cannot process the request because the MaxEnvelopeSize "
        f"{size} is below the minimum of 8192. ",
        WSManFaultCode.MAX_ENVELOPE_SIZE_TOO_SMALL,
        fault_detail=_FAULT_DETAIL + "MaxEnvelopeSize",
    )


# 0x8033801B, ERROR_WSMAN_ENUMERATE_INVALID_ENUMERATION_CONTEXT (WinRM's error table).
_INVALID_CONTEXT = _Fault(
    "Receiver",
    "n:InvalidEnumerationContext",
    "The WS-Management service cannot process the request because the enumeration context "
    "supplied in the message is not valid. The enumeration may have been completed, or the "
    "context may have expired. ",
    WSManFaultCode.INVALID_ENUMERATION_CONTEXT,
)
_TIMED_OUT = _Fault(
    "Receiver",
    "w:TimedOut",
    "The WS-Management service cannot complete the operation within the time specified in "
    "OperationTimeout.  ",
    WSManFaultCode.OPERATION_TIMEOUT,
)
_NOT_CAPABLE = _Fault(
    "Receiver",
    "w:ActionNotSupported",
    "The action is not supported by the service. ",
    WSManFaultCode.WBEM_E_PROVIDER_NOT_CAPABLE,
    wmi_message="Provider is not capable of the attempted operation ",
)


# --- dispatch -------------------------------------------------------------------------------------
def _dispatch(
    host: SimulatedHost, data: bytes, *, authenticated: bool, over_quota: bool = False
) -> tuple[int, bytes]:
    relates_to: str | None = None
    try:
        try:
            req = parse_request(data)
        except InvalidHeader as exc:
            raise _invalid_header(str(exc)) from None
        except ProtocolError as exc:
            raise _schema_fault(str(exc)) from None
        relates_to = req.message_id
        if req.max_envelope_size is not None and req.max_envelope_size < 8192:
            raise _envelope_too_small(req.max_envelope_size)
        if req.action == Action.IDENTIFY:
            return 200, _identify(host, authenticated=authenticated)
        if not authenticated:
            raise _schema_fault("only Identify may be sent without credentials")
        if over_quota:
            raise _quota_fault(host.faults.max_concurrent_operations or 0)
        faults = host.faults
        if faults.fault_rate and host.fault_rng.random() < faults.fault_rate:
            raise _internal_error()
        return 200, _operation(host, req)
    except _Fault as fault:
        logger.debug("simulator %s: fault %s", host.spec.name, fault.subcode)
        return 500, fault.render(host, relates_to)


def _identify(host: SimulatedHost, *, authenticated: bool) -> bytes:
    os_ = host.os
    version = f"OS: {os_.version} SP: {os_.service_pack}.0 Stack: {os_.stack}"
    # Windows hides its version from anonymous Identify (WSMANIDENTIFY: unauthenticated).
    return build_identify_response(
        product_version=version if authenticated else f"OS: 0.0.0 SP: 0.0 Stack: {os_.stack}"
    )


def _operation(host: SimulatedHost, req: Request) -> bytes:
    action = req.action
    if action == Action.GET:
        return _get(host, req)
    if action == Action.ENUMERATE:
        return _enumerate(host, req)
    if action == Action.PULL:
        return _pull(host, req)
    if action == Action.RELEASE:
        return _release(host, req)
    if action in (Action.PUT, Action.CREATE, Action.DELETE):
        _resolve_class(host, req)
        raise _NOT_CAPABLE
    if req.resource_uri and action.startswith(req.resource_uri + "/"):
        return _invoke(host, req)
    raise _Fault(
        "Sender",
        "a:ActionNotSupported",
        "The action is not supported by the service. ",
        WSManFaultCode.ACTION_NOT_SUPPORTED,
    )


def _resolve_class(
    host: SimulatedHost, req: Request, *, wildcard: bool = False
) -> tuple[str, ClassDef | None]:
    if not req.resource_uri:
        raise _schema_fault("the request has no w:ResourceURI")
    try:
        namespace, class_name = split_resource_uri(req.resource_uri)
    except ValueError:
        raise _Fault(
            "Sender",
            "w:DestinationUnreachable",
            "The WS-Management service cannot process the request. The resource URI is not valid. ",
            WSManFaultCode.RESOURCE_NOT_FOUND,
        ) from None
    if namespace not in served_namespaces(host):
        raise _no_class(namespace, class_name)
    if class_name == "*":
        if not wildcard:
            raise _invalid_selectors("InsufficientSelectors")
        return namespace, None
    cls = SCHEMAS[namespace].get(class_name)
    if cls is None:
        raise _no_class(namespace, class_name)
    return namespace, cls


def _target(host: SimulatedHost, req: Request) -> Instance:
    namespace, cls = _resolve_class(host, req)
    assert cls is not None
    selectors = dict(req.selectors)
    cim_ns = selectors.pop("__cimnamespace", None)
    if cim_ns is not None and cim_ns.replace("\\", "/").strip("/").lower() != namespace.lower():
        raise _invalid_selectors("InvalidValue")
    if not selectors:
        raise _not_singleton()
    keys = {k.lower() for k in cls.keys}
    if any(name.lower() not in keys for name in selectors):
        raise _invalid_selectors("UnexpectedSelectors")
    found = find_instances(host, namespace, cls.name, selectors)
    if not found:
        raise _not_found()
    if len(found) != 1:
        raise _invalid_selectors("InsufficientSelectors")
    return found[0]


def _get(host: SimulatedHost, req: Request) -> bytes:
    inst = localize(host, _target(host, req))
    return build_response(
        Action.GET_RESPONSE,
        relates_to=req.message_id,
        body=serialize_instance(to_cim(inst)),
        lang=host.spec.locale,
    )


def _query(
    host: SimulatedHost, namespace: str, cls: ClassDef | None, filt: Filter | None
) -> tuple[list[Instance], frozenset[str] | None]:
    if filt is None:
        if cls is None:
            raise _wql_fault(WQLError("enumerating the * resource URI needs a filter"))
        return execute(host, namespace, parse_wql(f"SELECT * FROM {cls.name}"))
    if filt.dialect == WQL_DIALECT:
        return execute(host, namespace, parse_wql(filt.query or ""))
    if filt.dialect == SELECTOR_DIALECT and cls is not None:
        return find_instances(host, namespace, cls.name, dict(filt.selectors or {})), None
    if filt.dialect == ASSOCIATION_DIALECT and filt.association is not None:
        assoc = filt.association
        epr = assoc.object
        try:
            obj_ns, obj_class = split_resource_uri(epr.resource_uri)
        except ValueError:
            raise WQLError("the association filter names no WMI object") from None
        keys = {k: v for k, v in epr.selectors if k != "__cimnamespace"}
        path = Ref.make(obj_ns, obj_class, keys).path(host.computer_name)
        query = Associators(
            path=path,
            references=assoc.references,
            assoc_class=assoc.association_class,
            result_class=assoc.result_class,
            role=assoc.role,
            result_role=assoc.result_role,
        )
        return execute(host, namespace, query)
    raise _Fault(
        "Sender",
        "n:FilterDialectRequestedUnavailable",
        "The requested filtering dialect is not supported. ",
        WSManFaultCode.FILTER_DIALECT_REQUESTED_UNAVAILABLE,
    )


def _items(
    instances: list[Instance], mode: EnumerationMode, projection: frozenset[str] | None
) -> list[str]:
    """The items of a batch as finished XML (the shapes ``simulator._codec._item_xml`` writes)."""
    if mode is EnumerationMode.OBJECTS:
        return [to_xml(inst, only=projection) for inst in instances]
    out: list[str] = []
    for inst in instances:
        epr = f"<a:EndpointReference>{epr_xml(inst.ref().epr())}</a:EndpointReference>"
        if mode is EnumerationMode.EPR:
            out.append(epr)
        else:
            out.append(f"<w:Item>{to_xml(inst, only=projection)}{epr}</w:Item>")
    return out


def _enumerate(host: SimulatedHost, req: Request) -> bytes:
    namespace, cls = _resolve_class(host, req, wildcard=True)
    try:
        options = parse_enumerate_request(req)
    except ProtocolError as exc:
        raise _schema_fault(str(exc)) from None
    try:
        found, projection = _query(host, namespace, cls, options.filter)
    except WQLError as exc:
        raise _wql_fault(exc) from None
    ctx = EnumerationContext(
        items=found, mode=options.mode.value, projection=projection, last_used=host.now()
    )
    if not options.optimize:
        context = host.open_context(ctx)
        return build_enumerate_response(
            None,
            context=context,
            end_of_sequence=False,
            relates_to=req.message_id,
            lang=host.spec.locale,
        )
    if host.spec.batching == "windows":
        # The WMI plugin's optimized EnumerateResponse holds the first item only, whatever
        # MaxElements says (txwinrm-server2008r2 and -server2012: every *_000.xml asked for
        # MaxElements 32000 and got one item, plus a context when there were more).
        max_elements = 1
    else:
        max_elements = options.max_elements or 1
    return _batch(host, req, ctx, max_elements, first=True)


def _envelope_limit(host: SimulatedHost, req: Request) -> int:
    """The envelope size an answer must fit, in bytes.

    No MaxEnvelopeSize, or more than the host allows: the host's MaxEnvelopeSizekb applies
    (MS-WSMV 3.1.4.1.7).
    """
    host_limit = host.os.max_envelope_kb * 1024
    limit = req.max_envelope_size
    return host_limit if limit is None or limit > host_limit else limit


def _batch(
    host: SimulatedHost,
    req: Request,
    ctx: EnumerationContext,
    max_elements: int,
    *,
    first: bool,
    context_id: str | None = None,
) -> bytes:
    """The next batch of an enumeration, as an optimized EnumerateResponse or a PullResponse.

    Items are added while the envelope stays within MaxEnvelopeSize counted the way WinRM
    counts it, in UTF-16 (two octets a character): the full Pulls of the recordings are
    75,184-76,811 UTF-8 bytes of ASCII against the 153,600-octet default, and the next item
    would not have fitted (``txwinrm-server2012/Win32_Service_star_001.xml``, ``_002.xml``,
    ``Win32_Process_star_001.xml`` and the others that end with a context).
    """
    mode = EnumerationMode(ctx.mode)
    budget = _envelope_limit(host, req) // 2  # characters
    lang = host.spec.locale
    builder = build_enumerate_response if first else build_pull_response
    remaining = len(ctx.items) - ctx.position
    probe = builder(
        [],
        context=context_id or _CONTEXT_PROBE,
        end_of_sequence=False,
        relates_to=req.message_id,
        mode=mode,
        lang=lang,
    )
    used = len(probe.decode("utf-8"))
    items: list[str] = []
    for inst in ctx.items[ctx.position : ctx.position + min(max_elements, remaining)]:
        (item,) = _items([inst], mode, ctx.projection)
        if used + len(item) > budget:
            break
        used += len(item)
        items.append(item)
    if not items and remaining:
        raise _envelope_limit_fault(_envelope_limit(host, req))
    while True:
        done = ctx.position + len(items) >= len(ctx.items)
        if not done and context_id is None:
            context_id = host.open_context(ctx)
        body = builder(
            items,
            context=context_id,
            end_of_sequence=done,
            relates_to=req.message_id,
            mode=mode,
            lang=lang,
        )
        if len(body) <= budget or len(body.decode("utf-8")) <= budget or len(items) <= 1:
            break
        items.pop()  # the context id came out longer than the probe's
    ctx.position += len(items)
    if done and context_id is not None:
        host.contexts.pop(context_id, None)
    return body


_CONTEXT_PROBE = "uuid:00000000-0000-0000-0000-000000000000"


def _pull(host: SimulatedHost, req: Request) -> bytes:
    try:
        context_id, max_elements = parse_pull_request(req)
    except ProtocolError as exc:
        raise _schema_fault(str(exc)) from None
    ctx = host.take_context(context_id)
    if ctx is None:
        raise _INVALID_CONTEXT
    faults = host.faults
    if faults.pull_timeouts > 0:
        faults.pull_timeouts -= 1
        raise _TIMED_OUT
    if faults.pull_timeout_rate and host.fault_rng.random() < faults.pull_timeout_rate:
        raise _TIMED_OUT
    return _batch(host, req, ctx, max_elements or 1, first=False, context_id=context_id)


def _release(host: SimulatedHost, req: Request) -> bytes:
    try:
        context_id = parse_release_request(req)
    except ProtocolError as exc:
        raise _schema_fault(str(exc)) from None
    if host.contexts.pop(context_id, None) is None:
        raise _INVALID_CONTEXT
    return build_response(
        Action.RELEASE_RESPONSE, relates_to=req.message_id, body=None, lang=host.spec.locale
    )


def _invoke(host: SimulatedHost, req: Request) -> bytes:
    target = _target(host, req)
    try:
        method, args = parse_invoke_request(req)
    except ProtocolError as exc:
        raise _schema_fault(str(exc)) from None
    try:
        result = invoke(host, target, method, args)
    except MethodFault as exc:
        raise _Fault(
            "Sender",
            "w:InvalidParameter",
            "The parameter is incorrect. ",
            exc.code,
            wmi_message=f"{exc.message} ",
        ) from None
    logger.debug("simulator %s: %s -> %s", host.spec.name, method, result.return_value)
    assert req.resource_uri is not None
    body = build_invoke_response(
        req.resource_uri,
        method,
        return_value=result.return_value,
        outputs=result.outputs,
        relates_to=req.message_id,
        lang=host.spec.locale,
    )
    limit = _envelope_limit(host, req)
    if len(body) > limit:  # e.g. a large thumbnail asked for with a small MaxEnvelopeSize
        raise _envelope_limit_fault(limit)
    return body
