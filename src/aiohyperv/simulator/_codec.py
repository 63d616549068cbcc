"""The server side of the codec: what the simulator uses to read requests and write responses.

It reuses the same hardened parser and the same instance/EPR serializers as the client, so
whatever the simulator writes is, byte for byte in shape, what the client parses (and what
Windows sends: samples 01-06).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeAlias

from lxml import etree

from aiohyperv._exceptions import ProtocolError
from aiohyperv.cim._cimxml import EmbeddedInstance, parse_cimxml
from aiohyperv.cim._datetime import CimDateTime, parse_xs_duration
from aiohyperv.cim._epr import ANONYMOUS, EPR
from aiohyperv.cim._instance import CimInstance
from aiohyperv.cim._xml import DEFAULT_MAX_SIZE, parse_xml
from aiohyperv.wsman._envelope import (
    AssociationFilter,
    EnumerationMode,
    Filter,
    new_message_id,
)
from aiohyperv.wsman._items import (
    _CIM_DECL,
    _XSI_DECL,
    W_SELECTOR,
    W_SELECTOR_SET,
    XSI_NIL,
    _attr_esc,
    epr_xml,
    instance_xml,
    parse_epr,
    parse_value,
    value_xml,
)
from aiohyperv.wsman._ns import NS, Action
from aiohyperv.wsman._response import envelope_parts

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

__all__ = [
    "EnumerateRequest",
    "InvalidHeader",
    "InvokeArg",
    "Request",
    "build_enumerate_response",
    "build_fault",
    "build_identify_response",
    "build_invoke_response",
    "build_pull_response",
    "build_response",
    "parse_enumerate_request",
    "parse_invoke_request",
    "parse_pull_request",
    "parse_release_request",
    "parse_request",
]

_S = "{" + NS["s"] + "}"
_A = "{" + NS["a"] + "}"
_N = "{" + NS["n"] + "}"
_W = "{" + NS["w"] + "}"
_P = "{" + NS["p"] + "}"
_B = "{" + NS["b"] + "}"
_F = "{" + NS["f"] + "}"
_WSMID = "{" + NS["wsmid"] + "}"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

#: An Invoke argument as the server reads it: text, a reference, an embedded instance
#: (CIM-XML), a datetime element, NULL, or a list of those (repeated elements).
InvokeArg: TypeAlias = (
    str
    | EPR
    | EmbeddedInstance
    | CimDateTime
    | CimInstance
    | list[str | EPR | EmbeddedInstance | CimDateTime | CimInstance | None]
    | None
)


@dataclass(slots=True)
class Request:
    """One parsed request envelope (server side).

    Attributes:
        action: ``a:Action`` (``Action.IDENTIFY`` for an Identify, which has none).
        resource_uri: ``w:ResourceURI``.
        to: ``a:To``.
        message_id: ``a:MessageID`` (echo it as RelatesTo).
        selectors: ``w:SelectorSet`` name -> value.
        option_set: ``w:OptionSet`` name -> value.
        max_envelope_size: ``w:MaxEnvelopeSize`` in bytes.
        operation_timeout: ``w:OperationTimeout`` in seconds.
        locale: ``w:Locale/@xml:lang``.
        body: the first element inside ``s:Body`` (``None`` when empty).
    """

    action: str
    resource_uri: str | None
    to: str | None
    message_id: str | None
    selectors: dict[str, str] = field(default_factory=dict)
    option_set: dict[str, str] = field(default_factory=dict)
    max_envelope_size: int | None = None
    operation_timeout: float | None = None
    locale: str | None = None
    body: etree._Element | None = None


def _text(elem: etree._Element) -> str:
    return (elem.text or "").strip()


# Header element -> the Request field it fills (one dict lookup per header, not a chain of
# string comparisons).
_HEADER_FIELDS: dict[object, str] = {
    _A + "Action": "action",
    _W + "ResourceURI": "resource_uri",
    _A + "To": "to",
    _A + "MessageID": "message_id",
    _W + "SelectorSet": "selectors",
    _W + "OptionSet": "option_set",
    _W + "MaxEnvelopeSize": "max_envelope_size",
    _W + "OperationTimeout": "operation_timeout",
    _W + "Locale": "locale",
}
_W_OPTION = _W + "Option"


class InvalidHeader(ProtocolError):
    """A WS-Management header whose value Windows cannot use (``OperationTimeout`` ``PT-1S``,
    a MaxEnvelopeSize that is not a number): answered with ``a:InvalidMessageInformationHeader``
    (``pypsrp/fault_addressing_invalid_header_timeout.xml``), not a schema error."""


@functools.lru_cache(maxsize=256)
def _timeout_seconds(text: str) -> float:
    # Cached: a client sends the same OperationTimeout ("PT20.000S") with every request.
    try:
        seconds = parse_xs_duration(text).total_seconds()
    except ValueError:
        seconds = -1.0
    if seconds <= 0:
        raise InvalidHeader(
            f"The XML contains an invalid timeout field in the SOAP header: {text}."
        )
    return seconds


def parse_request(data: bytes, *, max_size: int = DEFAULT_MAX_SIZE) -> Request:
    """Parse a request envelope with the hardened parser.

    Raises:
        ProtocolError: malformed XML, DOCTYPE, oversize, not SOAP 1.2, no Body, no Action
            (other than Identify), or a header value of the wrong form.
    """
    root = parse_xml(data, what="request", max_size=max_size)
    header, body = envelope_parts(root, what="request")
    first: etree._Element | None = None
    for child in body:
        if isinstance(child.tag, str):
            first = child
            break
    req = Request(action="", resource_uri=None, to=None, message_id=None, body=first)
    if header is not None:
        for child in header:
            field_name = _HEADER_FIELDS.get(child.tag)
            if field_name is None:
                continue
            if field_name == "action":
                req.action = _text(child)
            elif field_name == "resource_uri":
                req.resource_uri = _text(child)
            elif field_name == "to":
                req.to = _text(child)
            elif field_name == "message_id":
                req.message_id = _text(child)
            elif field_name == "selectors":
                for sel in child:
                    if sel.tag == W_SELECTOR:
                        req.selectors[sel.get("Name", "")] = sel.text or ""
            elif field_name == "option_set":
                for opt in child:
                    if opt.tag == _W_OPTION:
                        req.option_set[opt.get("Name", "")] = opt.text or ""
            elif field_name == "max_envelope_size":
                try:
                    req.max_envelope_size = int(_text(child))
                except ValueError:
                    raise InvalidHeader(
                        f"The MaxEnvelopeSize {_text(child)!r} in the SOAP header is not a number."
                    ) from None
            elif field_name == "operation_timeout":
                req.operation_timeout = _timeout_seconds(_text(child))
            else:
                req.locale = child.get(_XML_LANG)
    if not req.action:
        if first is not None and first.tag == _WSMID + "Identify":
            req.action = Action.IDENTIFY
        else:
            raise ProtocolError("request has no a:Action header")
    return req


def _require_body(req: Request, tag: str, what: str) -> etree._Element:
    if req.body is None or req.body.tag != tag:
        found = "an empty Body" if req.body is None else repr(req.body.tag)
        raise ProtocolError(f"expected {what} in the Body, got {found}")
    return req.body


@dataclass(frozen=True, slots=True, kw_only=True)
class EnumerateRequest:
    """The options of an Enumerate request."""

    filter: Filter | None = None
    mode: EnumerationMode = EnumerationMode.OBJECTS
    optimize: bool = False
    max_elements: int | None = None


def _parse_int(elem: etree._Element, what: str) -> int:
    try:
        value = int(_text(elem))
    except ValueError:
        raise ProtocolError(f"{what} {_text(elem)!r} is not an integer") from None
    if value < 1:
        raise ProtocolError(f"{what} must be at least 1, got {value}")
    return value


def _parse_filter(elem: etree._Element) -> Filter:
    dialect = elem.get("Dialect") or ""
    for child in elem:
        tag = child.tag
        if tag == W_SELECTOR_SET:
            selectors = {s.get("Name", ""): s.text or "" for s in child if s.tag == W_SELECTOR}
            return Filter(dialect, selectors=selectors)
        if tag in (_B + "AssociatedInstances", _B + "AssociationInstances"):
            obj = child.find(_B + "Object")
            if obj is None:
                raise ProtocolError("association filter has no b:Object")
            names: dict[str, str | None] = {}
            for sub in child:
                if isinstance(sub.tag, str) and sub.tag != _B + "Object":
                    names[sub.tag[len(_B) :]] = _text(sub)
            assoc = AssociationFilter(
                object=parse_epr(obj),
                association_class=names.get("AssociationClassName"),
                result_class=names.get("ResultClassName"),
                role=names.get("Role"),
                result_role=names.get("ResultRole"),
                references=tag == _B + "AssociationInstances",
            )
            return Filter(dialect, association=assoc)
    return Filter(dialect, query=(elem.text or "").strip())


def parse_enumerate_request(req: Request) -> EnumerateRequest:
    """Read an Enumerate body: filter, EnumerationMode, OptimizeEnumeration, MaxElements.

    Raises:
        ProtocolError: not an Enumerate, or an unknown EnumerationMode or bad MaxElements.
    """
    body = _require_body(req, _N + "Enumerate", "n:Enumerate")
    filt: Filter | None = None
    mode = EnumerationMode.OBJECTS
    optimize = False
    max_elements: int | None = None
    for child in body:
        tag = child.tag
        if tag == _W + "Filter" or tag == _N + "Filter":
            filt = _parse_filter(child)
        elif tag == _W + "EnumerationMode":
            try:
                mode = EnumerationMode(_text(child))
            except ValueError:
                raise ProtocolError(f"unknown EnumerationMode {_text(child)!r}") from None
        elif tag == _W + "OptimizeEnumeration":
            optimize = True
        elif tag == _W + "MaxElements":
            max_elements = _parse_int(child, "MaxElements")
    return EnumerateRequest(filter=filt, mode=mode, optimize=optimize, max_elements=max_elements)


def parse_pull_request(req: Request) -> tuple[str, int | None]:
    """Read a Pull body: ``(context, max_elements)``.

    Raises:
        ProtocolError: not a Pull, or no EnumerationContext.
    """
    body = _require_body(req, _N + "Pull", "n:Pull")
    context: str | None = None
    max_elements: int | None = None
    for child in body:
        if child.tag == _N + "EnumerationContext":
            context = _text(child)
        elif child.tag == _N + "MaxElements":
            max_elements = _parse_int(child, "MaxElements")
    if not context:
        raise ProtocolError("Pull has no EnumerationContext")
    return context, max_elements


def parse_release_request(req: Request) -> str:
    """Read a Release body: the context to free.

    Raises:
        ProtocolError: not a Release, or no EnumerationContext.
    """
    body = _require_body(req, _N + "Release", "n:Release")
    for child in body:
        if child.tag == _N + "EnumerationContext" and _text(child):
            return _text(child)
    raise ProtocolError("Release has no EnumerationContext")


def _invoke_arg(
    elem: etree._Element,
) -> str | EPR | EmbeddedInstance | CimDateTime | CimInstance | None:
    if elem.get(XSI_NIL) in ("true", "1"):
        return None
    for child in elem:
        if isinstance(child.tag, str):
            return parse_value(elem)
    text = elem.text or ""
    stripped = text.lstrip()
    # Embedded instances arrive as CIM-XML text (escaped or in CDATA: the same to a parser).
    if stripped.startswith(("<INSTANCE", "<?xml")):
        return parse_cimxml(stripped)
    return text


def parse_invoke_request(req: Request) -> tuple[str, dict[str, InvokeArg]]:
    """Read an Invoke: the method name and its arguments.

    The method comes from ``<Method>_INPUT`` and must match the Action's last segment.
    Repeated elements become lists; CIM-XML text becomes ``EmbeddedInstance``.

    Raises:
        ProtocolError: no ``_INPUT`` body, Action and body disagree, or bad CIM-XML.
    """
    body = req.body
    if body is None:
        raise ProtocolError("Invoke request has an empty Body")
    tag = str(body.tag)
    local = tag[tag.find("}") + 1 :]
    if not local.endswith("_INPUT"):
        raise ProtocolError(f"expected <Method>_INPUT in the Body, got {local!r}")
    method = local[: -len("_INPUT")]
    if req.action.rpartition("/")[2] != method:
        raise ProtocolError(f"Action {req.action!r} does not name method {method!r}")
    args: dict[str, InvokeArg] = {}
    for child in body:
        ctag = child.tag
        if not isinstance(ctag, str):
            continue
        name = ctag[ctag.find("}") + 1 :]
        value = _invoke_arg(child)
        if name in args:
            old = args[name]
            if isinstance(old, list):
                old.append(value)
            else:
                args[name] = [old, value]
        else:
            args[name] = value
    return method, args


# --- writing responses --------------------------------------------------------------------------
# The prefixes each kind of answer declares on s:Envelope, as Windows writes them.
#: Transfer and Invoke answers (``tests/simulator/samples/01_get_response_win32_logicaldisk_
#: windows.xml``: a WMI GetResponse declares s a x w p).
_DEFAULT_PREFIXES = ("s", "a", "x", "w", "p")
#: The WMI plugin's EnumerateResponse/PullResponse (``txwinrm-server2012/*_000.xml``).
_ENUMERATION_PREFIXES = ("s", "a", "n", "w")
#: Faults (``pypsrp/fault_*.xml``).
_FAULT_PREFIXES = ("s", "a", "x", "e", "n", "w", "p")
_E_NS = "http://schemas.xmlsoap.org/ws/2004/08/eventing"


@functools.lru_cache(maxsize=64)
def _envelope_open(lang: str, prefixes: tuple[str, ...]) -> str:
    decls = " ".join(f'xmlns:{p}="{_E_NS if p == "e" else NS[p]}"' for p in prefixes)
    return f'<s:Envelope xml:lang="{_attr_esc(lang)}" {decls}>'


_RESPONSE_OPEN = _envelope_open("en-US", _DEFAULT_PREFIXES)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def build_response(
    action: str,
    *,
    relates_to: str | None,
    body: etree._Element | Iterable[etree._Element] | str | None,
    message_id: str | None = None,
    lang: str = "en-US",
    prefixes: tuple[str, ...] = _DEFAULT_PREFIXES,
) -> bytes:
    """A response envelope in Windows' shape: Action, MessageID, To anonymous, RelatesTo.

    ``body`` is an element, several elements, ready XML text, or ``None`` (empty Body).
    ``lang`` is the envelope's ``xml:lang`` (the host's display language), ``prefixes`` the
    namespace prefixes it declares.
    """
    parts = [
        _envelope_open(lang, prefixes),
        f"<s:Header><a:Action>{_escape(action)}</a:Action>",
        f"<a:MessageID>{_escape(message_id or new_message_id())}</a:MessageID>",
        f"<a:To>{ANONYMOUS}</a:To>",
    ]
    if relates_to is not None:
        parts.append(f"<a:RelatesTo>{_escape(relates_to)}</a:RelatesTo>")
    parts.append("</s:Header><s:Body>")
    if isinstance(body, str):
        parts.append(body)
    elif isinstance(body, etree._Element):
        parts.append(etree.tostring(body, encoding="unicode"))
    elif body is not None:
        parts.extend(etree.tostring(elem, encoding="unicode") for elem in body)
    parts.append("</s:Body></s:Envelope>")
    return "".join(parts).encode("utf-8")


def _item_xml(item: CimInstance | EPR | str, mode: EnumerationMode) -> str:
    if isinstance(item, str):  # already serialized by the caller
        return item
    if isinstance(item, EPR):
        return f"<a:EndpointReference>{epr_xml(item)}</a:EndpointReference>"
    if mode is EnumerationMode.EPR:
        if item.epr is None:
            raise ValueError(f"EPR-mode enumeration needs {item.class_name}.epr")
        return f"<a:EndpointReference>{epr_xml(item.epr)}</a:EndpointReference>"
    inst = instance_xml(item)
    if mode is EnumerationMode.OBJECT_AND_EPR:
        if item.epr is None:
            raise ValueError(f"object-and-EPR enumeration needs {item.class_name}.epr")
        return (
            f"<w:Item>{inst}<a:EndpointReference>{epr_xml(item.epr)}</a:EndpointReference></w:Item>"
        )
    return inst


def _enumeration_body(
    kind: str,
    items: Sequence[CimInstance | EPR | str] | None,
    context: str | None,
    end_of_sequence: bool,
    mode: EnumerationMode,
    items_ns: str,
) -> str:
    parts = [f"<n:{kind}>"]
    if context is not None and not end_of_sequence:
        parts.append(f"<n:EnumerationContext>{_escape(context)}</n:EnumerationContext>")
    elif end_of_sequence and items_ns == "w":
        # An optimized EnumerateResponse that ends the sequence still carries an empty
        # context (pypsrp/enumerate_optimized_empty_eos.xml, txwinrm-server2012/
        # Win32_OperatingSystem_star_000.xml).
        parts.append("<n:EnumerationContext></n:EnumerationContext>")
    if items or (items is not None and not end_of_sequence):
        # An optimized answer with nothing in it has no Items element at all
        # (pypsrp/enumerate_optimized_empty_eos.xml).
        parts.append(f"<{items_ns}:Items>")
        parts.extend(_item_xml(item, mode) for item in items)
        parts.append(f"</{items_ns}:Items>")
    if end_of_sequence:
        parts.append(f"<{items_ns}:EndOfSequence/>")
    parts.append(f"</n:{kind}>")
    return "".join(parts)


def build_enumerate_response(
    items: Sequence[CimInstance | EPR | str] | None,
    *,
    context: str | None,
    end_of_sequence: bool,
    relates_to: str | None = None,
    mode: EnumerationMode = EnumerationMode.OBJECTS,
    lang: str = "en-US",
) -> bytes:
    """An EnumerateResponse; with ``items`` (optimized) they go under ``w:Items``.

    Windows writes optimized items and EndOfSequence in the ``w:`` namespace here, and once
    the sequence has ended the context is empty (``<n:EnumerationContext></n:EnumerationContext>``,
    ``pypsrp/enumerate_*_eos.xml``).  ``items=None`` is the non-optimized answer (a context
    only).  An item may also be given as its finished XML text (an instance element,
    ``w:Item`` or ``a:EndpointReference`` as ``mode`` requires, with ``a:``/``w:`` prefixes),
    for servers that serialize their own instances.  The envelope declares ``s a n w`` only,
    as the WMI plugin's does (``txwinrm-server2012/*_000.xml``).
    """
    ns = "w" if items is not None else "n"
    body = _enumeration_body("EnumerateResponse", items, context, end_of_sequence, mode, ns)
    return build_response(
        Action.ENUMERATE_RESPONSE,
        relates_to=relates_to,
        body=body,
        lang=lang,
        prefixes=_ENUMERATION_PREFIXES,
    )


def build_pull_response(
    items: Sequence[CimInstance | EPR | str],
    *,
    context: str | None,
    end_of_sequence: bool,
    relates_to: str | None = None,
    mode: EnumerationMode = EnumerationMode.OBJECTS,
    lang: str = "en-US",
) -> bytes:
    """A PullResponse: ``n:EnumerationContext``, ``n:Items``, ``n:EndOfSequence``.

    Items as in :func:`build_enumerate_response` (objects, references, or finished XML text);
    the last Pull has no context at all (``txwinrm-server2012/Win32_Service_star_003.xml``).
    """
    body = _enumeration_body("PullResponse", items, context, end_of_sequence, mode, "n")
    return build_response(
        Action.PULL_RESPONSE,
        relates_to=relates_to,
        body=body,
        lang=lang,
        prefixes=_ENUMERATION_PREFIXES,
    )


def build_invoke_response(
    resource_uri: str,
    method: str,
    *,
    return_value: int,
    outputs: Mapping[str, object] | None = None,
    relates_to: str | None = None,
    lang: str = "en-US",
) -> bytes:
    """``<p:<Method>_OUTPUT xmlns:p="<class URI>">`` with out parameters then ReturnValue.

    ``outputs`` values: ``EPR`` (e.g. ``Job``), ``str``, ``int``, ``bool``, ``CimDateTime``,
    ``CimInstance`` (embedded object), ``None``, or a list of those (``ImageData`` as a list of
    ints is written as repeated uint8 elements, as real hosts do).
    """
    # Written as text, like enumeration items (GetSummaryInformation returns an embedded
    # instance per VM; through lxml elements that cost more than the rest of the request).
    # The ``a:``/``w:`` prefixes of references are declared by the response envelope.
    parts = [f'<p:{method}_OUTPUT xmlns:p="{_attr_esc(resource_uri)}" {_XSI_DECL} {_CIM_DECL}>']
    for name, value in (outputs or {}).items():
        for item in value if isinstance(value, list | tuple) else [value]:
            _output_xml(parts, name, item)
    parts.append(f"<p:ReturnValue>{int(return_value)}</p:ReturnValue></p:{method}_OUTPUT>")
    action = f"{resource_uri}/{method}Response"
    return build_response(action, relates_to=relates_to, body="".join(parts), lang=lang)


def _output_xml(parts: list[str], name: str, value: object) -> None:
    if isinstance(value, bool):
        parts.append(f"<p:{name}>{'true' if value else 'false'}</p:{name}>")
    elif isinstance(value, int):
        parts.append(f"<p:{name}>{int(value)}</p:{name}>")
    elif value is None or isinstance(value, str | EPR | CimDateTime | CimInstance):
        value_xml(parts, "p", name, value, 1)
    else:
        raise TypeError(f"cannot write a {type(value).__name__} as a method output")


def build_fault(
    *,
    code: str,
    subcode: str,
    reason: str,
    wsman_code: int,
    machine: str,
    fault_detail: str | None = None,
    relates_to: str | None = None,
    provider: str | None = None,
    provider_path: str | None = None,
    message: str | None = None,
    inner_message: str | None = None,
    action: str | None = None,
    lang: str = "en-US",
) -> bytes:
    """A SOAP fault in the shape of ``pypsrp/fault_*.xml`` (send it with HTTP 500).

    Args:
        code: ``Sender`` or ``Receiver``.
        subcode: a DSP0226 subcode, ``TimedOut`` or ``w:TimedOut``.  Without a prefix,
            WS-Enumeration subcodes (``InvalidEnumerationContext``, ``CannotProcessFilter``...)
            get ``n:``, WS-Addressing ones (``DestinationUnreachable``,
            ``InvalidMessageInformationHeader``...) ``a:`` and the rest ``w:``.  The Action
            follows the prefix, as Windows sends it: ``a:`` faults go out with the addressing
            fault Action, ``n:`` ones with the enumeration fault Action, the rest with the
            WS-Management one (tests/data/wsman-samples/real/pypsrp/fault_*.xml).
        reason: ``s:Reason/s:Text``.
        wsman_code: ``f:WSManFault/@Code``.
        machine: ``f:WSManFault/@Machine``.
        fault_detail: a ``w:FaultDetail`` URI.
        relates_to: the request's MessageID.
        provider, provider_path: wrap the message in ``f:ProviderFault`` (sample 03).
        message: ``f:Message`` text (defaults to ``reason``).
        inner_message: nest an inner ``f:WSManFault`` with this message in the ProviderFault,
            as the WMI plugin does (sample 04).
        action: ``a:Action``; by default the fault Action of the subcode's specification:
            ``.../2004/08/addressing/fault`` for ``a:`` subcodes
            (``pypsrp/fault_addressing_invalid_header_timeout.xml``),
            ``.../2004/09/enumeration/fault`` for ``n:`` ones (WS-Enumeration 4), the
            WS-Management fault Action otherwise (``pypsrp/fault_invalid_selectors_*.xml``).
        lang: ``xml:lang`` of the envelope and of ``s:Reason/s:Text`` (the host's language).
    """
    if code not in ("Sender", "Receiver"):
        raise ValueError(f"SOAP fault code must be Sender or Receiver, got {code!r}")
    if ":" not in subcode:
        if subcode in _ENUMERATION_SUBCODES:
            subcode = f"n:{subcode}"
        elif subcode in _ADDRESSING_SUBCODES:
            subcode = f"a:{subcode}"
        else:
            subcode = f"w:{subcode}"
    s = _S
    fault = etree.Element(s + "Fault", nsmap={"s": NS["s"]})
    code_el = etree.SubElement(fault, s + "Code")
    etree.SubElement(code_el, s + "Value").text = f"s:{code}"
    sub_el = etree.SubElement(code_el, s + "Subcode")
    etree.SubElement(sub_el, s + "Value").text = subcode
    reason_el = etree.SubElement(fault, s + "Reason")
    text_el = etree.SubElement(reason_el, s + "Text")
    text_el.set(_XML_LANG, lang)
    text_el.text = reason
    detail = etree.SubElement(fault, s + "Detail")
    if fault_detail is not None:
        etree.SubElement(detail, _W + "FaultDetail", nsmap={"w": NS["w"]}).text = fault_detail
    wsman = etree.SubElement(
        detail, _F + "WSManFault", nsmap={"f": NS["f"]}, Code=str(wsman_code), Machine=machine
    )
    msg = etree.SubElement(wsman, _F + "Message")
    text = message if message is not None else reason
    if provider is not None or inner_message is not None:
        pf = etree.SubElement(msg, _F + "ProviderFault")
        if provider is not None:
            pf.set("provider", provider)
        if provider_path is not None:
            pf.set("path", provider_path)
        if inner_message is not None:
            inner = etree.SubElement(pf, _F + "WSManFault", Code=str(wsman_code), Machine="")
            etree.SubElement(inner, _F + "Message").text = inner_message
        else:
            pf.text = text
    else:
        msg.text = text
    body = etree.tostring(fault, encoding="unicode")
    if action is None:
        action = _FAULT_ACTIONS.get(subcode.partition(":")[0], Action.FAULT)
    # The subcode QNames use prefixes declared on the envelope (a:, w:, n:) as Windows does.
    return build_response(
        action, relates_to=relates_to, body=body, lang=lang, prefixes=_FAULT_PREFIXES
    )


_ENUMERATION_SUBCODES = frozenset(
    {
        "InvalidEnumerationContext",
        "CannotProcessFilter",
        "FilteringNotSupported",
        "FilterDialectRequestedUnavailable",
        "InvalidExpirationTime",
        "UnsupportedExpirationType",
    }
)


_ADDRESSING_SUBCODES = frozenset(
    {
        "ActionNotSupported",
        "DestinationUnreachable",
        "EndpointUnavailable",
        "InvalidMessageInformationHeader",
        "MessageInformationHeaderRequired",
    }
)
# The envelope declares a: and n: (build_response), so the prefix says the namespace.
_FAULT_ACTIONS = {"a": Action.ADDRESSING_FAULT, "n": Action.ENUMERATION_FAULT}


def build_identify_response(
    *,
    product_vendor: str = "Microsoft Corporation",
    product_version: str = "OS: 0.0.0 SP: 0.0 Stack: 3.0",
    protocol_version: str = NS["w"],
    security_profiles: Sequence[str] = (
        "http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/http/spnego-kerberos",
    ),
) -> bytes:
    """An IdentifyResponse as Windows sends it (no addressing headers)."""
    root = etree.Element(_WSMID + "IdentifyResponse", nsmap={"wsmid": NS["wsmid"]})
    etree.SubElement(root, _WSMID + "ProtocolVersion").text = protocol_version
    etree.SubElement(root, _WSMID + "ProductVendor").text = product_vendor
    etree.SubElement(root, _WSMID + "ProductVersion").text = product_version
    profiles = etree.SubElement(root, _WSMID + "SecurityProfiles")
    for profile in security_profiles:
        etree.SubElement(profiles, _WSMID + "SecurityProfileName").text = profile
    body = etree.tostring(root, encoding="unicode")
    return (
        f'<s:Envelope xml:lang="en-US" xmlns:s="{NS["s"]}"><s:Header/>'
        f"<s:Body>{body}</s:Body></s:Envelope>"
    ).encode()
