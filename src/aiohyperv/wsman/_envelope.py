"""Client-side request builders: every WS-Management operation as UTF-8 envelope bytes.

One ``build_request`` does the envelope; the typed helpers only make bodies.  Envelope building
is hot (every Pull of every host), so the parts that never change for a session are rendered
once into ``RequestOptions`` and each request is a single ``str.join``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TypeAlias

from lxml import etree

from aiohyperv._exceptions import ConfigError
from aiohyperv.cim._cimxml import EmbeddedInstance, to_cimxml
from aiohyperv.cim._datetime import CimDateTime, format_xs_datetime, format_xs_duration
from aiohyperv.cim._epr import ANONYMOUS, EPR
from aiohyperv.cim._instance import CimInstance
from aiohyperv.wsman._items import (
    XSI_NIL,
    _attr_esc,
    _esc,
    append_epr,
    append_value,
    serialize_instance,
)
from aiohyperv.wsman._ns import (
    ASSOCIATION_DIALECT,
    NS,
    SELECTOR_DIALECT,
    WQL_DIALECT,
    Action,
    invoke_action,
)

__all__ = [
    "DEFAULT_MAX_ELEMENTS",
    "DEFAULT_MAX_ENVELOPE_SIZE",
    "AssociationFilter",
    "EnumerationMode",
    "Filter",
    "InvokeValue",
    "RequestOptions",
    "Selectors",
    "build_create",
    "build_delete",
    "build_enumerate",
    "build_get",
    "build_identify",
    "build_invoke",
    "build_pull",
    "build_put",
    "build_release",
    "build_request",
    "new_message_id",
]

DEFAULT_MAX_ENVELOPE_SIZE = 153600
DEFAULT_MAX_ELEMENTS = 100

Selectors: TypeAlias = Mapping[str, str] | Sequence[tuple[str, str]]
_Scalar: TypeAlias = (
    str | int | bool | float | datetime | timedelta | CimDateTime | EPR | EmbeddedInstance
)
#: What an Invoke parameter may be: a scalar, an EPR (reference parameter), an embedded
#: instance (CIM-XML), NULL, or a sequence of those (an array parameter).
InvokeValue: TypeAlias = _Scalar | CimInstance | Sequence[_Scalar | CimInstance] | None

# Characters XML 1.0 cannot carry at all (even escaped).
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _check(text: str) -> str:
    found = _INVALID_XML.search(text)
    if found is not None:
        # ConfigError is a ValueError too; typed, so callers above (the driver, a fleet)
        # see a HyperVError for a VM name or selector that no XML document can carry.
        raise ConfigError(
            f"{text[:40]!r} holds U+{ord(found.group()):04X} at index {found.start()}, "
            "a character XML cannot carry"
        )
    return text


def _text(text: str) -> str:
    """Escape element text, refusing what XML cannot carry."""
    return _esc(_check(text))


def _attr(text: str) -> str:
    """Escape a double-quoted attribute value, refusing what XML cannot carry."""
    return _attr_esc(_check(text))


def new_message_id() -> str:
    """A fresh WS-Addressing MessageID (``uuid:`` + upper-case UUID, as Windows writes them)."""
    return "uuid:" + str(uuid.uuid4()).upper()


def _duration(seconds: float) -> str:
    return f"PT{seconds:.3f}S"


_ENVELOPE_OPEN = (
    f'<s:Envelope xmlns:s="{NS["s"]}" xmlns:a="{NS["a"]}" xmlns:n="{NS["n"]}"'
    f' xmlns:w="{NS["w"]}" xmlns:p="{NS["p"]}" xmlns:b="{NS["b"]}" xmlns:xsi="{NS["xsi"]}">'
)


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestOptions:
    """Per-session envelope settings; the constant header parts are rendered once, here.

    Attributes:
        to: the endpoint URL (``https://hv01:5986/wsman``), written as ``a:To``.
        max_envelope_size: ``w:MaxEnvelopeSize`` in bytes (mustUnderstand), 153600 by default
            as Windows' own client sends.
        operation_timeout: ``w:OperationTimeout`` in seconds (``PT20.000S``).
        locale: ``w:Locale`` and ``p:DataLocale`` (mustUnderstand="false").
    """

    to: str
    max_envelope_size: int = DEFAULT_MAX_ENVELOPE_SIZE
    operation_timeout: float = 20.0
    locale: str = "en-US"
    _head: str = field(init=False, repr=False, compare=False)
    _tail: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.max_envelope_size < 8192:
            raise ConfigError(f"max_envelope_size {self.max_envelope_size} is below 8192 bytes")
        if not self.operation_timeout > 0:
            raise ConfigError(f"operation_timeout must be positive, got {self.operation_timeout}")
        try:
            to, locale = _text(self.to), _attr(self.locale)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        head = (
            f"{_ENVELOPE_OPEN}<s:Header><a:To>{to}</a:To>"
            f'<a:ReplyTo><a:Address s:mustUnderstand="true">{ANONYMOUS}</a:Address></a:ReplyTo>'
        )
        tail = (
            f'<w:MaxEnvelopeSize s:mustUnderstand="true">{self.max_envelope_size}'
            "</w:MaxEnvelopeSize>"
            f'<w:Locale xml:lang="{locale}" s:mustUnderstand="false"/>'
            f'<p:DataLocale xml:lang="{locale}" s:mustUnderstand="false"/>'
            f"<w:OperationTimeout>{_duration(self.operation_timeout)}</w:OperationTimeout>"
        )
        object.__setattr__(self, "_head", head)
        object.__setattr__(self, "_tail", tail)


def _selector_set(selectors: Selectors) -> str:
    # Sorted by name: selector order means nothing (DSP0226 7.2) and sorted output is
    # deterministic (and matches EPR.selectors).
    items = sorted(selectors.items() if isinstance(selectors, Mapping) else selectors)
    parts = ["<w:SelectorSet>"]
    for name, value in items:
        parts.append(f'<w:Selector Name="{_attr(name)}">{_text(value)}</w:Selector>')
    parts.append("</w:SelectorSet>")
    return "".join(parts)


def _option_value(value: str | bool | int) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _body_text(body: str | bytes | etree._Element | None) -> str:
    if body is None:
        return ""
    if isinstance(body, str):
        return body
    if isinstance(body, bytes):
        return body.decode("utf-8")
    return etree.tostring(body, encoding="unicode")


def build_request(
    action: str,
    resource_uri: str | None,
    *,
    options: RequestOptions,
    selectors: Selectors | None = None,
    option_set: Mapping[str, str | bool | int] | None = None,
    body: str | bytes | etree._Element | None = None,
    message_id: str | None = None,
) -> bytes:
    """Build one SOAP 1.2 WS-Management request envelope.

    Headers: ``a:To``, ``w:ResourceURI`` (mustUnderstand), ``a:ReplyTo`` anonymous,
    ``a:Action`` (mustUnderstand), ``a:MessageID``, ``w:MaxEnvelopeSize`` (mustUnderstand),
    ``w:Locale``/``p:DataLocale``, ``w:OperationTimeout`` and, when given, ``w:SelectorSet`` and
    ``w:OptionSet`` (DSP0226 clause 6).

    Args:
        action: the Action URI (an ``Action`` or ``<resource URI>/<Method>``).
        resource_uri: the class resource URI (or ``None`` for none).
        options: the session's ``RequestOptions``.
        selectors: key selectors naming one instance.
        option_set: ``w:Option`` name -> value (booleans written ``true``/``false``).
        body: the child of ``s:Body``: XML text, UTF-8 bytes or an lxml element.
        message_id: a MessageID to use instead of a fresh one (tests, retries).

    Returns:
        The UTF-8 encoded envelope.

    Raises:
        ConfigError: (a ``ValueError``) a value holds characters XML cannot carry.
    """
    parts = [
        options._head,
        f'<a:Action s:mustUnderstand="true">{_text(action)}</a:Action>',
        f"<a:MessageID>{_text(message_id or new_message_id())}</a:MessageID>",
        options._tail,
    ]
    if resource_uri is not None:
        parts.append(
            f'<w:ResourceURI s:mustUnderstand="true">{_text(resource_uri)}</w:ResourceURI>'
        )
    if selectors:
        parts.append(_selector_set(selectors))
    if option_set:
        parts.append("<w:OptionSet>")
        for name, value in option_set.items():
            parts.append(f'<w:Option Name="{_attr(name)}">{_text(_option_value(value))}</w:Option>')
        parts.append("</w:OptionSet>")
    parts.append("</s:Header><s:Body>")
    parts.append(_body_text(body))
    parts.append("</s:Body></s:Envelope>")
    return "".join(parts).encode("utf-8")


_IDENTIFY = (
    f'<s:Envelope xmlns:s="{NS["s"]}" xmlns:wsmid="{NS["wsmid"]}">'
    "<s:Header/><s:Body><wsmid:Identify/></s:Body></s:Envelope>"
).encode()


def build_identify() -> bytes:
    """The WS-Management Identify request (DSP0226 11): no headers, no authentication needed."""
    return _IDENTIFY


def build_get(
    resource_uri: str,
    *,
    options: RequestOptions,
    selectors: Selectors | None = None,
    message_id: str | None = None,
) -> bytes:
    """WS-Transfer Get of the instance named by ``selectors`` (none for a singleton)."""
    return build_request(
        Action.GET, resource_uri, options=options, selectors=selectors, message_id=message_id
    )


def build_put(
    resource_uri: str,
    instance: CimInstance,
    *,
    options: RequestOptions,
    selectors: Selectors | None = None,
    message_id: str | None = None,
) -> bytes:
    """WS-Transfer Put: replace the instance named by ``selectors`` with ``instance``."""
    return build_request(
        Action.PUT,
        resource_uri,
        options=options,
        selectors=selectors,
        body=serialize_instance(instance),
        message_id=message_id,
    )


def build_create(
    resource_uri: str,
    instance: CimInstance,
    *,
    options: RequestOptions,
    message_id: str | None = None,
) -> bytes:
    """WS-Transfer Create of ``instance``."""
    return build_request(
        Action.CREATE,
        resource_uri,
        options=options,
        body=serialize_instance(instance),
        message_id=message_id,
    )


def build_delete(
    resource_uri: str,
    *,
    options: RequestOptions,
    selectors: Selectors | None = None,
    message_id: str | None = None,
) -> bytes:
    """WS-Transfer Delete of the instance named by ``selectors``."""
    return build_request(
        Action.DELETE, resource_uri, options=options, selectors=selectors, message_id=message_id
    )


# --- enumeration --------------------------------------------------------------------------------
class EnumerationMode(StrEnum):
    """What each enumeration item is (DSP0226 8.7): objects, EPRs, or objects with their EPRs."""

    OBJECTS = ""
    EPR = "EnumerateEPR"
    OBJECT_AND_EPR = "EnumerateObjectAndEPR"


@dataclass(frozen=True, slots=True, kw_only=True)
class AssociationFilter:
    """A DSP0227 association filter: instances associated with (or associations of) ``object``.

    ``references=False`` asks for ``AssociatedInstances`` (WQL ``ASSOCIATORS OF``);
    ``True`` for ``AssociationInstances`` (WQL ``REFERENCES OF``).
    """

    object: EPR
    association_class: str | None = None
    result_class: str | None = None
    role: str | None = None
    result_role: str | None = None
    references: bool = False


@dataclass(frozen=True, slots=True)
class Filter:
    """An enumeration filter: a dialect plus a WQL query, selectors, or an association."""

    dialect: str
    query: str | None = None
    selectors: Mapping[str, str] | None = None
    association: AssociationFilter | None = None

    @classmethod
    def wql(cls, query: str) -> Filter:
        """A WQL filter (``SELECT * FROM Msvm_ComputerSystem WHERE ...``)."""
        return cls(WQL_DIALECT, query=query)

    @classmethod
    def selector(cls, selectors: Mapping[str, str]) -> Filter:
        """A selector filter: instances whose keys equal ``selectors``."""
        return cls(SELECTOR_DIALECT, selectors=dict(selectors))

    @classmethod
    def associators(
        cls,
        obj: EPR,
        *,
        association_class: str | None = None,
        result_class: str | None = None,
        role: str | None = None,
        result_role: str | None = None,
    ) -> Filter:
        """Instances associated with ``obj`` (enumerate with the ``*`` or result-class URI)."""
        return cls(
            ASSOCIATION_DIALECT,
            association=AssociationFilter(
                object=obj,
                association_class=association_class,
                result_class=result_class,
                role=role,
                result_role=result_role,
            ),
        )

    @classmethod
    def references(
        cls, obj: EPR, *, result_class: str | None = None, role: str | None = None
    ) -> Filter:
        """Association instances that refer to ``obj``."""
        return cls(
            ASSOCIATION_DIALECT,
            association=AssociationFilter(
                object=obj, result_class=result_class, role=role, references=True
            ),
        )

    def to_xml(self) -> str:
        """The ``w:Filter`` element as XML text (prefixes of the request envelope)."""
        head = f'<w:Filter Dialect="{_attr(self.dialect)}">'
        if self.association is not None:
            return f"{head}{_association_xml(self.association)}</w:Filter>"
        if self.selectors is not None:
            return f"{head}{_selector_set(self.selectors)}</w:Filter>"
        return f"{head}{_text(self.query or '')}</w:Filter>"


def _epr_xml(epr: EPR) -> str:
    return (
        f"<a:Address>{_text(epr.address)}</a:Address><a:ReferenceParameters>"
        f"<w:ResourceURI>{_text(epr.resource_uri)}</w:ResourceURI>"
        f"{_selector_set(epr.selectors)}</a:ReferenceParameters>"
    )


def _association_xml(assoc: AssociationFilter) -> str:
    kind = "AssociationInstances" if assoc.references else "AssociatedInstances"
    parts = [f"<b:{kind}><b:Object>{_epr_xml(assoc.object)}</b:Object>"]
    fields = (
        ("AssociationClassName", assoc.association_class),
        ("Role", assoc.role),
        ("ResultClassName", assoc.result_class),
        ("ResultRole", assoc.result_role),
    )
    for name, value in fields:
        if value is not None:
            parts.append(f"<b:{name}>{_text(value)}</b:{name}>")
    parts.append(f"</b:{kind}>")
    return "".join(parts)


def build_enumerate(
    resource_uri: str,
    *,
    options: RequestOptions,
    filter: Filter | None = None,
    mode: EnumerationMode = EnumerationMode.OBJECTS,
    optimize: bool = True,
    max_elements: int = DEFAULT_MAX_ELEMENTS,
    selectors: Selectors | None = None,
    message_id: str | None = None,
) -> bytes:
    """WS-Enumeration Enumerate.

    With ``optimize`` (``w:OptimizeEnumeration`` + ``w:MaxElements``) the first batch comes back
    in the EnumerateResponse itself, saving a round trip per enumeration.  Elements are written
    in the order Windows' own CIM client writes them.
    """
    if max_elements < 1:
        raise ConfigError(f"max_elements must be at least 1, got {max_elements}")
    parts = ["<n:Enumerate>"]
    if optimize:
        parts.append(f"<w:OptimizeEnumeration/><w:MaxElements>{max_elements}</w:MaxElements>")
    if mode:
        parts.append(f"<w:EnumerationMode>{mode.value}</w:EnumerationMode>")
    if filter is not None:
        parts.append(filter.to_xml())
    parts.append("</n:Enumerate>")
    return build_request(
        Action.ENUMERATE,
        resource_uri,
        options=options,
        selectors=selectors,
        body="".join(parts),
        message_id=message_id,
    )


def build_pull(
    resource_uri: str,
    context: str,
    *,
    options: RequestOptions,
    max_elements: int = DEFAULT_MAX_ELEMENTS,
    message_id: str | None = None,
) -> bytes:
    """WS-Enumeration Pull of up to ``max_elements`` items from an open context."""
    if max_elements < 1:
        raise ConfigError(f"max_elements must be at least 1, got {max_elements}")
    body = (
        f"<n:Pull><n:EnumerationContext>{_text(context)}</n:EnumerationContext>"
        f"<n:MaxElements>{max_elements}</n:MaxElements></n:Pull>"
    )
    return build_request(
        Action.PULL, resource_uri, options=options, body=body, message_id=message_id
    )


def build_release(
    resource_uri: str,
    context: str,
    *,
    options: RequestOptions,
    message_id: str | None = None,
) -> bytes:
    """WS-Enumeration Release: free a context the client will not pull to the end."""
    body = f"<n:Release><n:EnumerationContext>{_text(context)}</n:EnumerationContext></n:Release>"
    return build_request(
        Action.RELEASE, resource_uri, options=options, body=body, message_id=message_id
    )


# --- invoke -------------------------------------------------------------------------------------
def _append_param(parent: etree._Element, tag: str, value: object) -> None:
    if value is None:
        etree.SubElement(parent, tag).set(XSI_NIL, "true")
    elif isinstance(value, bool):
        etree.SubElement(parent, tag).text = "true" if value else "false"
    elif isinstance(value, int):
        etree.SubElement(parent, tag).text = str(value)
    elif isinstance(value, float):
        etree.SubElement(parent, tag).text = repr(value)
    elif isinstance(value, str):
        etree.SubElement(parent, tag).text = _check(value)
    elif isinstance(value, EmbeddedInstance):
        # CIM-XML as escaped text (lxml escapes it); equivalent to libvirt's CDATA section
        # and safe for any content, "]]>" included.
        etree.SubElement(parent, tag).text = to_cimxml(value)
    elif isinstance(value, EPR):
        append_epr(etree.SubElement(parent, tag), value)
    elif isinstance(value, datetime):
        append_value(parent, tag, CimDateTime(text=format_xs_datetime(value), kind="Datetime"))
    elif isinstance(value, timedelta):
        append_value(parent, tag, CimDateTime(text=format_xs_duration(value), kind="Interval"))
    elif isinstance(value, CimDateTime | CimInstance):
        append_value(parent, tag, value)
    elif isinstance(value, Sequence):
        for item in value:
            if isinstance(item, list | tuple):
                raise TypeError("nested sequences cannot be Invoke parameters")
            _append_param(parent, tag, item)
    else:
        raise TypeError(f"cannot send a {type(value).__name__} as an Invoke parameter")


def invoke_body(
    resource_uri: str, method: str, params: Mapping[str, InvokeValue]
) -> etree._Element:
    """The ``<p:<Method>_INPUT xmlns:p="<class resource URI>">`` body of an Invoke."""
    root = etree.Element(
        f"{{{resource_uri}}}{method}_INPUT", nsmap={"p": resource_uri, "xsi": NS["xsi"]}
    )
    for name, value in params.items():
        _append_param(root, f"{{{resource_uri}}}{name}", value)
    return root


def build_invoke(
    resource_uri: str,
    method: str,
    *,
    options: RequestOptions,
    selectors: Selectors | None = None,
    params: Mapping[str, InvokeValue] | None = None,
    message_id: str | None = None,
) -> bytes:
    """Invoke a WMI method: Action ``<resource URI>/<Method>``, body ``<Method>_INPUT``.

    Parameters: ``bool`` is written ``true``/``false``, ``int`` decimal, ``str`` as text,
    ``datetime``/``timedelta`` as ``cim:Datetime``/``cim:Interval``, an ``EPR`` as
    ``a:Address`` + ``a:ReferenceParameters``, an ``EmbeddedInstance`` as CIM-XML text, ``None``
    as ``xsi:nil``, and a list or tuple as repeated elements (an array).

    Raises:
        TypeError: a parameter of an unsupported type.
        ConfigError: (a ``ValueError``) a string holds characters XML cannot carry.
    """
    try:
        body = invoke_body(resource_uri, method, params or {})
    except ConfigError:
        raise
    except ValueError as exc:
        # lxml refuses control characters in text ("All strings must be XML compatible").
        raise ConfigError(f"{method} parameters cannot be sent: {exc}") from None
    return build_request(
        invoke_action(resource_uri, method),
        resource_uri,
        options=options,
        selectors=selectors,
        body=body,
        message_id=message_id,
    )
