"""Client-side response parsing: bytes -> Response, typed values, or a raised WSManFault.

Each response is parsed exactly once, by the hardened parser; the envelope is checked for SOAP
1.2 and a Body; faults become the most specific ``WSManFault`` subclass.  Anything that is not
what WS-Management promises raises ``ProtocolError`` saying what was wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiohyperv._exceptions import ProtocolError, WSManFault, fault_class_for
from aiohyperv.cim._epr import EPR
from aiohyperv.cim._instance import CimInstance, PropertyValue
from aiohyperv.cim._xml import DEFAULT_MAX_SIZE, parse_xml
from aiohyperv.wsman._items import parse_instance, parse_item, parse_properties
from aiohyperv.wsman._ns import NS, SOAP11_ENV

if TYPE_CHECKING:
    from lxml import etree

__all__ = [
    "EnumerationBatch",
    "MethodResult",
    "Response",
    "envelope_parts",
    "parse_enumerate",
    "parse_fault",
    "parse_get",
    "parse_identify",
    "parse_invoke",
    "parse_response",
]

_S = "{" + NS["s"] + "}"
_A = "{" + NS["a"] + "}"
_N = "{" + NS["n"] + "}"
_W = "{" + NS["w"] + "}"
_F = "{" + NS["f"] + "}"
S_ENVELOPE = _S + "Envelope"
S_HEADER = _S + "Header"
S_BODY = _S + "Body"
S_FAULT = _S + "Fault"
F_WSMAN_FAULT = _F + "WSManFault"
F_MESSAGE = _F + "Message"
F_PROVIDER_FAULT = _F + "ProviderFault"
A_ACTION = _A + "Action"
A_MESSAGE_ID = _A + "MessageID"
A_RELATES_TO = _A + "RelatesTo"
_ENUM_RESPONSES = frozenset({_N + "EnumerateResponse", _N + "PullResponse"})
_CONTEXT = _N + "EnumerationContext"
_ITEMS = frozenset({_N + "Items", _W + "Items"})
_END = frozenset({_N + "EndOfSequence", _W + "EndOfSequence"})
_IDENTIFY_RESPONSE = "{" + NS["wsmid"] + "}IdentifyResponse"


def _local(tag: object) -> str:
    text = str(tag)
    return text[text.find("}") + 1 :]


@dataclass(slots=True)
class Response:
    """One parsed, non-fault response.

    Attributes:
        action: ``a:Action`` header.
        message_id: ``a:MessageID`` header.
        relates_to: ``a:RelatesTo`` header (the request's MessageID).
        body: the first element inside ``s:Body`` (``None`` for an empty Body).
        root: the ``s:Envelope`` element.
    """

    action: str | None
    message_id: str | None
    relates_to: str | None
    body: etree._Element | None
    root: etree._Element | None = field(default=None, repr=False)


def envelope_parts(
    root: etree._Element, *, what: str
) -> tuple[etree._Element | None, etree._Element]:
    """Check that ``root`` is a SOAP 1.2 Envelope and return its ``(Header, Body)``.

    Raises:
        ProtocolError: wrong root element or namespace, or no Body.
    """
    tag = root.tag
    if tag != S_ENVELOPE:
        if tag == f"{{{SOAP11_ENV}}}Envelope":
            raise ProtocolError(
                f"{what} is a SOAP 1.1 envelope; WS-Management uses SOAP 1.2 ({NS['s']})"
            )
        local = _local(tag)
        if local == "Envelope":
            namespace = str(tag)[1 : str(tag).find("}")] if str(tag).startswith("{") else ""
            raise ProtocolError(
                f"{what} Envelope is in namespace {namespace!r}, expected SOAP 1.2 {NS['s']!r}"
            )
        raise ProtocolError(f"{what} root element is {local!r}, not a SOAP Envelope")
    header: etree._Element | None = None
    body: etree._Element | None = None
    for child in root:
        ctag = child.tag
        if ctag == S_HEADER:
            header = child
        elif ctag == S_BODY:
            body = child
        elif isinstance(ctag, str) and _local(ctag) in ("Header", "Body"):
            raise ProtocolError(f"{what} has {ctag}, not in the SOAP 1.2 namespace")
    if body is None:
        raise ProtocolError(f"{what} has no s:Body")
    return header, body


def _first_element(elem: etree._Element) -> etree._Element | None:
    for child in elem:
        if isinstance(child.tag, str):
            return child
    return None


def parse_response(data: bytes, *, max_size: int = DEFAULT_MAX_SIZE) -> Response:
    """Parse a response envelope, raising the typed fault if it is a SOAP fault.

    Args:
        data: the HTTP body (2xx, or a 500 that carries a fault).
        max_size: refuse bodies larger than this many bytes.

    Raises:
        WSManFault: (a subclass of) the fault the server sent.
        ProtocolError: not XML, truncated, DOCTYPE/entities, oversize, not SOAP 1.2, no Body.
    """
    root = parse_xml(data, what="response", max_size=max_size)
    header, body = envelope_parts(root, what="response")
    action = message_id = relates_to = None
    if header is not None:
        for child in header:
            tag = child.tag
            if tag == A_ACTION:
                action = (child.text or "").strip()
            elif tag == A_MESSAGE_ID:
                message_id = (child.text or "").strip()
            elif tag == A_RELATES_TO:
                relates_to = (child.text or "").strip()
    first = _first_element(body)
    if first is not None and first.tag == S_FAULT:
        raise parse_fault(root)
    return Response(action, message_id, relates_to, first, root)


# --- faults -------------------------------------------------------------------------------------
def _text_of(elem: etree._Element | None) -> str | None:
    if elem is None:
        return None
    text = (elem.text or "").strip()
    return text or None


def _qname_local(elem: etree._Element | None) -> str | None:
    text = _text_of(elem)
    return None if text is None else text.rpartition(":")[2]


def _wsman_fault_fields(
    wsman: etree._Element,
) -> tuple[int | None, str | None, str | None, str | None, str | None, str | None]:
    """(code, machine, message, provider, provider_path, provider_fault) of an f:WSManFault."""
    code_text = wsman.get("Code")
    try:
        code = int(code_text) if code_text else None
    except ValueError:
        code = None
    machine = wsman.get("Machine") or None
    message_el = wsman.find(F_MESSAGE)
    message = _text_of(message_el)
    provider = provider_path = provider_fault = None
    provider_el = message_el.find(F_PROVIDER_FAULT) if message_el is not None else None
    if provider_el is not None:
        provider = (provider_el.get("provider") or "").strip() or None
        provider_path = provider_el.get("path") or None
        provider_fault = _text_of(provider_el)
        # The WMI plugin nests a whole f:WSManFault in the ProviderFault: the innermost
        # message is the one that says what happened (sample 04).
        inner = provider_el.find(F_WSMAN_FAULT)
        while inner is not None:
            inner_msg = inner.find(F_MESSAGE)
            text = _text_of(inner_msg)
            if text is not None:
                provider_fault = text
            nested = inner_msg.find(F_PROVIDER_FAULT) if inner_msg is not None else None
            if nested is None:
                break
            provider_fault = _text_of(nested) or provider_fault
            inner = nested.find(F_WSMAN_FAULT)
        if message is None:
            message = provider_fault
    return code, machine, message, provider, provider_path, provider_fault


# MSFT_WmiError (Microsoft's MOF documentation: a CIM_Error plus error_Code, error_Category,
# error_Type and error_WindowsErrorMessage) is what the WMI plugin puts in s:Detail instead of
# f:WSManFault for some faults, the concurrent-operations quota (ERROR_WSMAN_QUOTA_MAX_OPERATIONS,
# wsmerror.h) among them.  It is matched by local name: its namespace is the class's resource URI.
_WMI_ERROR_CLASSES = frozenset({"MSFT_WmiError", "Msvm_Error", "CIM_Error"})


def _wmi_error_fields(
    detail: etree._Element,
) -> tuple[int | None, str | None, str | None, str | None] | None:
    """(error_Code, Message, error_Type, error_WindowsErrorMessage) of a CIM_Error detail."""
    for child in detail:
        if not isinstance(child.tag, str) or _local(child.tag) not in _WMI_ERROR_CLASSES:
            continue
        values: dict[str, str | None] = {}
        for prop in child:
            if isinstance(prop.tag, str):
                values[_local(prop.tag)] = _text_of(prop)
        code_text = values.get("error_Code")
        try:
            code = int(code_text, 10) if code_text else None
        except ValueError:
            code = None
        return (
            code,
            values.get("Message"),
            values.get("error_Type"),
            values.get("error_WindowsErrorMessage"),
        )
    return None


def _fault_action(envelope_root: etree._Element) -> str | None:
    for child in envelope_root:
        if child.tag == S_HEADER:
            for header in child:
                if header.tag == A_ACTION:
                    return _text_of(header)
    return None


def parse_fault(envelope_root: etree._Element) -> WSManFault:
    """Turn a SOAP fault into the most specific ``WSManFault`` subclass, without raising it.

    Accepts the ``s:Envelope``, the ``s:Fault`` itself, or a bare ``f:WSManFault`` detail.
    Code and Subcode are the local parts of their QName text (``Receiver``, ``TimedOut``);
    texts are stripped of the trailing blanks Windows adds.  The detail is an ``f:WSManFault``
    (code, machine, message, provider fault) or an ``MSFT_WmiError`` instance (its
    ``error_Code``, ``Message``, ``error_Type`` and ``error_WindowsErrorMessage``).  The class
    comes from ``fault_class_for(wsman_code, subcode)``: the subcode decides.
    """
    fault: etree._Element | None = None
    wsman: etree._Element | None = None
    action: str | None = None
    tag = envelope_root.tag
    if tag == S_ENVELOPE:
        action = _fault_action(envelope_root)
        for child in envelope_root:
            if child.tag == S_BODY:
                fault = child.find(S_FAULT)
    elif tag == S_FAULT:
        fault = envelope_root
    elif tag == F_WSMAN_FAULT:
        wsman = envelope_root
    code = subcode = reason = fault_detail = None
    wmi_error: tuple[int | None, str | None, str | None, str | None] | None = None
    if fault is not None:
        code_el = fault.find(_S + "Code")
        if code_el is not None:
            code = _qname_local(code_el.find(_S + "Value"))
            sub_el = code_el.find(_S + "Subcode")
            if sub_el is not None:
                subcode = _qname_local(sub_el.find(_S + "Value"))
        reason_el = fault.find(_S + "Reason")
        if reason_el is not None:
            reason = _text_of(reason_el.find(_S + "Text"))
        detail = fault.find(_S + "Detail")
        if detail is not None:
            fault_detail = _text_of(detail.find(_W + "FaultDetail"))
            wsman = detail.find(F_WSMAN_FAULT)
            if wsman is None:
                wmi_error = _wmi_error_fields(detail)
    wsman_code = machine = message = provider = provider_path = provider_fault = None
    error_type = windows_error_message = None
    if wsman is not None:
        wsman_code, machine, message, provider, provider_path, provider_fault = _wsman_fault_fields(
            wsman
        )
    elif wmi_error is not None:
        wsman_code, message, error_type, windows_error_message = wmi_error
    cls = fault_class_for(wsman_code, subcode)
    label = subcode or code or "WSManFault"
    if wsman_code is not None:
        label = f"{label} ({wsman_code:#x})" if wsman_code > 0xFFFF else f"{label} ({wsman_code})"
    text = provider_fault or message or reason or "no reason given"
    return cls(
        f"WS-Management fault {label}: {text}",
        code=code,
        subcode=subcode,
        reason=reason,
        fault_detail=fault_detail,
        wsman_code=wsman_code,
        machine=machine,
        provider=provider,
        provider_path=provider_path,
        provider_fault=provider_fault,
        detail_message=message,
        error_type=error_type,
        windows_error_message=windows_error_message,
        action=action,
    )


# --- typed results ------------------------------------------------------------------------------
def parse_get(resp: Response) -> CimInstance:
    """The instance in a GetResponse (or a Put/Create response that echoes it).

    Raises:
        ProtocolError: the Body is empty.
    """
    if resp.body is None:
        raise ProtocolError(f"{_local(resp.action or 'response')} has an empty Body")
    return parse_instance(resp.body)


@dataclass(slots=True)
class EnumerationBatch:
    """One batch of an enumeration.

    Attributes:
        items: instances (objects mode; ``.epr`` set in object-and-EPR mode) or EPRs.
        context: the EnumerationContext to Pull with next (``None`` when none was sent).
        end_of_sequence: the server says there is nothing more (and has closed the context).
    """

    items: list[CimInstance | EPR]
    context: str | None
    end_of_sequence: bool


def parse_enumerate(resp: Response) -> EnumerationBatch:
    """Read an EnumerateResponse or PullResponse.

    Windows puts optimized items under ``w:Items`` and ``w:EndOfSequence`` in an
    EnumerateResponse and under ``n:Items``/``n:EndOfSequence`` in a PullResponse; both
    namespaces are accepted in both, and only those (DSP0226 8.2.3, MS-WSMV 3.1.4.8).

    Raises:
        ProtocolError: another body, or neither a context nor EndOfSequence.
    """
    body = resp.body
    if body is None or body.tag not in _ENUM_RESPONSES:
        found = "an empty Body" if body is None else repr(_local(body.tag))
        raise ProtocolError(f"expected EnumerateResponse or PullResponse, got {found}")
    items: list[CimInstance | EPR] = []
    context: str | None = None
    end = False
    for child in body:
        tag = child.tag
        if tag in _ITEMS:
            for item in child:
                if item.tag.__class__ is str:
                    items.append(parse_item(item))
        elif tag == _CONTEXT:
            context = (child.text or "").strip() or None
        elif tag in _END:
            end = True
    if not end and context is None:
        raise ProtocolError(
            f"{_local(body.tag)} has neither an EnumerationContext nor EndOfSequence"
        )
    return EnumerationBatch(items, context, end)


@dataclass(slots=True)
class MethodResult:
    """The output of an Invoke (``<Method>_OUTPUT``).

    Attributes:
        method: the method name.
        return_value: ``ReturnValue`` (0 done, 4096 job started, ...), ``None`` if absent.
        outputs: the out parameters, raw (``Job`` is an ``EPR``, arrays are lists).
        resource_uri: the namespace of the output element (the class resource URI).
    """

    method: str
    return_value: int | None
    outputs: dict[str, PropertyValue]
    resource_uri: str | None = None

    @property
    def job(self) -> EPR | None:
        """The ``Job`` reference (a Msvm_ConcreteJob) when the method started one."""
        job = self.outputs.get("Job")
        return job if isinstance(job, EPR) else None

    def as_instance(self) -> CimInstance:
        """The outputs as a ``CimInstance``, for its typed getters (``get_epr_list`` ...)."""
        return CimInstance(f"{self.method}_OUTPUT", self.resource_uri, self.outputs)


def parse_invoke(resp: Response, method: str) -> MethodResult:
    """Read ``<Method>_OUTPUT``: ``ReturnValue`` plus out parameters.

    Raises:
        ProtocolError: the Body is not ``<method>_OUTPUT`` or ReturnValue is not an integer.
    """
    body = resp.body
    expected = f"{method}_OUTPUT"
    if body is None or _local(body.tag) != expected:
        found = "an empty Body" if body is None else repr(_local(body.tag))
        raise ProtocolError(f"expected {expected}, got {found}")
    outputs = parse_properties(body)
    raw = outputs.pop("ReturnValue", None)
    return_value: int | None = None
    if raw is not None:
        if not isinstance(raw, str):
            raise ProtocolError(f"{expected} ReturnValue is not a single value")
        try:
            return_value = int(raw.strip(), 10)
        except ValueError:
            raise ProtocolError(f"{expected} ReturnValue {raw!r} is not an integer") from None
    tag = str(body.tag)
    namespace = tag[1 : tag.find("}")] if tag.startswith("{") else None
    return MethodResult(method, return_value, outputs, namespace)


def parse_identify(resp: Response) -> dict[str, str]:
    """Read an IdentifyResponse: ``ProtocolVersion``, ``ProductVendor``, ``ProductVersion``...

    ``SecurityProfiles`` is given as the profile URIs joined by spaces.

    Raises:
        ProtocolError: the Body is not an IdentifyResponse.
    """
    body = resp.body
    if body is None or body.tag != _IDENTIFY_RESPONSE:
        found = "an empty Body" if body is None else repr(_local(body.tag))
        raise ProtocolError(f"expected IdentifyResponse, got {found}")
    result: dict[str, str] = {}
    for child in body:
        if not isinstance(child.tag, str):
            continue
        name = _local(child.tag)
        if len(child):
            result[name] = " ".join(
                (sub.text or "").strip() for sub in child if isinstance(sub.tag, str)
            )
        else:
            result[name] = (child.text or "").strip()
    return result
