"""Instances and endpoint references as WS-Management XML, both directions.

Reading is the hot path of every enumeration, so ``parse_instance`` walks each element's children
exactly once, takes each ``{namespace}local`` tag's local name from a cache shared by all parses
and keeps the raw text; typing happens later, on demand (``CimInstance.get_*`` / ``coerce``).
Every instance is complete when the parse returns: nothing is decoded lazily.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lxml import etree

from aiohyperv._exceptions import ProtocolError
from aiohyperv.cim._datetime import CimDateTime
from aiohyperv.cim._epr import ANONYMOUS, EPR
from aiohyperv.cim._instance import CimInstance
from aiohyperv.wsman._ns import NS

if TYPE_CHECKING:
    from aiohyperv.cim._instance import PropertyValue, RawValue

__all__ = [
    "append_epr",
    "append_value",
    "epr_xml",
    "instance_xml",
    "parse_epr",
    "parse_instance",
    "parse_item",
    "parse_properties",
    "parse_value",
    "serialize_epr",
    "serialize_instance",
    "value_xml",
]

_A = "{" + NS["a"] + "}"
_W = "{" + NS["w"] + "}"
_CIM = "{" + NS["cim"] + "}"
_XSI = "{" + NS["xsi"] + "}"
A_ADDRESS = _A + "Address"
A_REFERENCE_PARAMETERS = _A + "ReferenceParameters"
A_ENDPOINT_REFERENCE = _A + "EndpointReference"
W_RESOURCE_URI = _W + "ResourceURI"
W_SELECTOR_SET = _W + "SelectorSet"
W_SELECTOR = _W + "Selector"
W_ITEM = _W + "Item"
W_XML_FRAGMENT = _W + "XmlFragment"
XSI_NIL = _XSI + "nil"
XSI_TYPE = _XSI + "type"
_CIM_LEN = len(_CIM)
# Projections (w:XmlFragment) write datetimes without a namespace.
_BARE_DATETIME = frozenset({"Datetime", "Interval", "Date", "Time", "CIMDateTime"})
# cim:Datetime ... (DSP0230 cimDateTime choices), and the unqualified names projections use.
_DATETIME_KINDS = {_CIM + k: k for k in _BARE_DATETIME} | {k: k for k in _BARE_DATETIME}
_EPR_TAGS = frozenset({A_ADDRESS, A_REFERENCE_PARAMETERS, A_ENDPOINT_REFERENCE})
_new = object.__new__
_NSMAP_AW = {"a": NS["a"], "w": NS["w"]}


# --- reading ------------------------------------------------------------------------------------
def _wmi_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _selector_text(sel: etree._Element) -> str:
    """A selector's value; a nested reference (association keys) becomes a WMI object path.

    DSP0226 7.2 lets a selector hold an EPR (the keys of association classes such as
    Msvm_SettingsDefineState).  ``EPR.selectors`` holds text, so the nested reference is written
    the way WMI writes reference keys: ``<namespace>:<Class>.<Key>="<value>",...``.
    """
    for child in sel:
        if child.tag == A_ENDPOINT_REFERENCE:
            ref = parse_epr(child)
            uri = ref.resource_uri
            head, _, cls = uri.rpartition("/")
            namespace = head.partition("/wmi/")[2] if "/wmi/" in head else head
            keys = ",".join(
                f'{k}="{_wmi_escape(v)}"' for k, v in ref.selectors if k != "__cimnamespace"
            )
            return f"{namespace}:{cls}.{keys}" if keys else f"{namespace}:{cls}"
    return sel.text or ""


def parse_epr(elem: etree._Element) -> EPR:
    """Read an endpoint reference from an element holding ``a:Address`` + ``a:ReferenceParameters``.

    Works for ``a:EndpointReference`` items and for reference-valued properties and outputs
    (``p:Job``), which carry the same children directly.

    Raises:
        ProtocolError: no ``w:ResourceURI``.
    """
    address = ANONYMOUS
    uri: str | None = None
    selectors: list[tuple[str, str]] = []
    for child in elem:
        tag = child.tag
        if tag == A_ADDRESS:
            address = (child.text or "").strip() or ANONYMOUS
        elif tag == A_REFERENCE_PARAMETERS:
            for param in child:
                ptag = param.tag
                if ptag == W_RESOURCE_URI:
                    uri = (param.text or "").strip()
                elif ptag == W_SELECTOR_SET:
                    for sel in param:
                        if sel.tag == W_SELECTOR:
                            selectors.append((sel.get("Name", ""), _selector_text(sel)))
        elif tag == A_ENDPOINT_REFERENCE:
            # Some writers wrap the reference once more inside the property element.
            return parse_epr(child)
    if not uri:
        name = elem.tag if isinstance(elem.tag, str) else "element"
        raise ProtocolError(f"endpoint reference in {name} has no w:ResourceURI")
    selectors.sort()
    return EPR(uri, tuple(selectors), address)


def _class_of(elem: etree._Element, namespace: str) -> str:
    xsi_type = elem.get(XSI_TYPE)
    if xsi_type:
        local = xsi_type.rpartition(":")[2]
        return local[:-5] if local.endswith("_Type") else local
    return namespace.rstrip("/").rpartition("/")[2]


# CimDateTime is a frozen dataclass: its generated __init__ goes through object.__setattr__ and
# costs three times what storing through the slot descriptors does (2,000 per 1,000-VM batch).
_set_dt_text = vars(CimDateTime)["text"].__set__
_set_dt_kind = vars(CimDateTime)["kind"].__set__


def _datetime(text: str | None, kind: str) -> CimDateTime:
    value = _new(CimDateTime)
    _set_dt_text(value, (text or "").strip())
    _set_dt_kind(value, kind)
    return value


# Tag -> local name (``{namespace}Local`` -> ``Local``), one shared string per tag, for every
# parse in the process: a response has few distinct tags (one per property of a few classes) and
# the same classes come back in every response, so after the first instance of a class every
# lookup hits, and all instances share one string per property name.  Tags come from the server,
# so the cache is bounded: at most _MAX_CACHED_TAGS tags (cleared when full) of at most
# _MAX_CACHED_TAG_LENGTH characters each (real ones are ~130; a namespace URI can be megabytes
# long, and such tags just take the general loop every time).
_LOCAL_NAMES: dict[str, str] = {}
_MAX_CACHED_TAGS = 4096
_MAX_CACHED_TAG_LENGTH = 512


def _learn_names(elem: etree._Element) -> None:
    """Add the local names of ``elem``'s children to ``_LOCAL_NAMES``."""
    for child in elem:
        tag = child.tag
        if tag.__class__ is str and tag not in _LOCAL_NAMES:
            text = str(tag)
            if len(text) > _MAX_CACHED_TAG_LENGTH:
                continue
            if len(_LOCAL_NAMES) >= _MAX_CACHED_TAGS:
                _LOCAL_NAMES.clear()
            _LOCAL_NAMES[text] = text[text.find("}") + 1 :]


def parse_value(elem: etree._Element) -> RawValue:
    """The raw value of one property element that has element children.

    ``cim:Datetime``/``cim:Interval``/... give ``CimDateTime``, ``a:Address`` +
    ``a:ReferenceParameters`` an ``EPR``, anything else an embedded ``CimInstance`` whose
    properties are the children (the way WinRM writes embedded objects).
    """
    first = elem[0]
    tag = first.tag
    if tag.__class__ is not str:  # a comment first: find the first element
        for first in elem:
            tag = first.tag
            if tag.__class__ is str:
                break
        else:
            return elem.text or ""
    kind = _DATETIME_KINDS.get(tag)
    if kind is not None:
        value = _new(CimDateTime)
        _set_dt_text(value, (first.text or "").strip())
        _set_dt_kind(value, kind)
        return value
    if tag in _EPR_TAGS:
        return parse_epr(elem)
    stag = str(tag)
    if stag.startswith(_CIM):  # a cim: element this code does not know: keep its name
        return _datetime(first.text, stag[_CIM_LEN:])
    # An embedded object (GetSummaryInformation returns one per VM, each ~40 properties).
    namespace = stag[1 : stag.find("}")] if stag[0] == "{" else ""
    return CimInstance(_class_of(elem, namespace), namespace or None, parse_properties(elem))


def _add(props: dict[str, PropertyValue], name: str, value: RawValue) -> None:
    old = props[name]
    if isinstance(old, list):
        old.append(value)
    else:
        props[name] = [old, value]


def _properties_generic(elem: etree._Element) -> dict[str, PropertyValue]:
    props: dict[str, PropertyValue] = {}
    for child in elem:
        tag = child.tag
        if tag.__class__ is not str:  # comments and processing instructions
            continue
        name = str(tag)[str(tag).find("}") + 1 :]
        text = child.text
        if text is None:
            if len(child):
                value = parse_value(child)
            else:
                nil = child.get(XSI_NIL)
                value = None if nil == "true" or nil == "1" else ""
        elif text.isspace() and len(child):
            value = parse_value(child)  # pretty-printed structured value
        else:
            value = text
        if name in props:
            _add(props, name, value)
        else:
            props[name] = value
    return props


def parse_properties(elem: etree._Element) -> dict[str, PropertyValue]:
    """Read the property elements under ``elem``: name -> raw value; repeats become lists.

    NULL (``xsi:nil="true"``) is ``None``; an empty element is ``""``.  Property names are the
    local part of each child's tag, whatever its namespace.

    Args:
        elem: the instance (or ``_OUTPUT``, or embedded-object) element.
    """
    # The hot loop of every enumeration (34,000 iterations for 1,000 VMs).  A plain dict
    # subscript measured faster than dict.get + a None test or a dict subclass with
    # __missing__.  A tag not in the cache yet, or a comment or processing instruction (their
    # .tag is a function), raises KeyError: the names are learnt and this element goes through
    # the general loop, which skips non-elements; the next instance of the class runs here.
    names = _LOCAL_NAMES
    props: dict[str, PropertyValue] = {}
    value: RawValue
    try:
        for child in elem:
            name = names[child.tag]  # type: ignore[index]
            text = child.text
            if text is None:  # NULL, empty string, or a structured value
                if len(child):
                    # Datetimes (two or more per instance) inline; anything else, and a
                    # comment first, through parse_value.
                    first = child[0]
                    kind = _DATETIME_KINDS.get(first.tag)  # type: ignore[arg-type]
                    if kind is None:
                        value = parse_value(child)
                    else:
                        value = _new(CimDateTime)
                        _set_dt_text(value, (first.text or "").strip())
                        _set_dt_kind(value, kind)
                else:
                    nil = child.get(XSI_NIL)
                    value = None if nil == "true" or nil == "1" else ""
            elif text.isspace() and len(child):
                value = parse_value(child)  # pretty-printed structured value
            else:
                value = text
            if name in props:
                _add(props, name, value)
            else:
                props[name] = value
    except KeyError:
        _learn_names(elem)
        return _properties_generic(elem)
    return props


# Instance tag -> (class name, namespace), shared like _LOCAL_NAMES: every instance of a batch
# has the same tag, so all of them share two strings instead of making two each.
_INSTANCE_TAGS: dict[str, tuple[str, str | None]] = {}


def _instance_head(tag: str) -> tuple[str, str | None]:
    if tag[0] == "{":
        end = tag.find("}")
        head: tuple[str, str | None] = (tag[end + 1 :], tag[1:end])
    else:
        head = (tag, None)
    if len(tag) <= _MAX_CACHED_TAG_LENGTH:
        if len(_INSTANCE_TAGS) >= _MAX_CACHED_TAGS:
            _INSTANCE_TAGS.clear()
        _INSTANCE_TAGS[tag] = head
    return head


def parse_instance(elem: etree._Element) -> CimInstance:
    """Read one instance element (sample-01 shape): tag = class in the class's namespace."""
    tag = elem.tag
    if tag.__class__ is not str:
        raise ProtocolError("expected an instance element, found a comment")
    head = _INSTANCE_TAGS.get(tag) or _instance_head(str(tag))
    return CimInstance(head[0], head[1], parse_properties(elem))


def parse_item(elem: etree._Element) -> CimInstance | EPR:
    """Read one child of ``w:Items``/``n:Items``: an instance, an EPR, or ``w:Item`` (both)."""
    tag = elem.tag
    if tag == A_ENDPOINT_REFERENCE:
        return parse_epr(elem)
    if tag == W_ITEM:
        inst: CimInstance | None = None
        epr: EPR | None = None
        for child in elem:
            ctag = child.tag
            if ctag.__class__ is not str:
                continue
            if ctag == A_ENDPOINT_REFERENCE:
                epr = parse_epr(child)
            elif ctag == W_XML_FRAGMENT:
                inst = CimInstance("", None, parse_properties(child))
            else:
                inst = parse_instance(child)
        if inst is None:
            raise ProtocolError("w:Item holds no instance")
        inst.epr = epr
        return inst
    if tag == W_XML_FRAGMENT:
        # WQL projections ("SELECT Name, ElementName FROM ...") come back as fragments with
        # no class element (MS-WSMV 3.1.4.8).
        return CimInstance("", None, parse_properties(elem))
    return parse_instance(elem)


# --- writing ------------------------------------------------------------------------------------
def append_epr(parent: etree._Element, epr: EPR) -> None:
    """Append ``a:Address`` and ``a:ReferenceParameters`` for ``epr`` to ``parent``."""
    # Declare a:/w: only where no ancestor already did (lxml would repeat them otherwise).
    in_scope = parent.nsmap
    nsmap = None if in_scope.get("a") == NS["a"] and in_scope.get("w") == NS["w"] else _NSMAP_AW
    etree.SubElement(parent, A_ADDRESS, nsmap=nsmap).text = epr.address
    params = etree.SubElement(parent, A_REFERENCE_PARAMETERS, nsmap=nsmap)
    etree.SubElement(params, W_RESOURCE_URI).text = epr.resource_uri
    selector_set = etree.SubElement(params, W_SELECTOR_SET)
    for name, value in epr.selectors:
        etree.SubElement(selector_set, W_SELECTOR, Name=name).text = value


def serialize_epr(epr: EPR) -> etree._Element:
    """An ``a:EndpointReference`` element (the EPR-mode enumeration item)."""
    root = etree.Element(A_ENDPOINT_REFERENCE, nsmap=_NSMAP_AW)
    append_epr(root, epr)
    return root


def _fill_instance(elem: etree._Element, inst: CimInstance, namespace: str, depth: int) -> None:
    for name, value in inst.properties.items():
        tag = f"{{{namespace}}}{name}"
        if isinstance(value, list):
            for item in value:
                append_value(elem, tag, item, depth)
        else:
            append_value(elem, tag, value, depth)


def append_value(
    parent: etree._Element, tag: str, value: RawValue, depth: int = 1
) -> etree._Element:
    """Append one property element ``tag`` holding a raw value, in the sample-01 shape.

    ``depth`` numbers the prefix (``e1``, ``e2``...) of embedded objects' namespaces.
    """
    if isinstance(value, CimInstance):
        namespace = value.resource_uri
        if not namespace:
            raise ValueError(f"embedded {value.class_name} instance needs a resource_uri")
        # Embedded objects: the property element holds the instance's properties, in the
        # instance's own namespace, and says its class in xsi:type (as WinRM writes them).
        prefix = f"e{depth}"
        inner = etree.SubElement(parent, tag, nsmap={prefix: namespace, "xsi": NS["xsi"]})
        inner.set(XSI_TYPE, f"{prefix}:{value.class_name}_Type")
        _fill_instance(inner, value, namespace, depth + 1)
        return inner
    elem = etree.SubElement(parent, tag)
    if value is None:
        elem.set(XSI_NIL, "true")
    elif isinstance(value, str):
        elem.text = value
    elif isinstance(value, CimDateTime):
        etree.SubElement(elem, _CIM + value.kind, nsmap={"cim": NS["cim"]}).text = value.text
    elif isinstance(value, EPR):
        append_epr(elem, value)
    else:
        raise TypeError(f"cannot serialize a {type(value).__name__} property value")
    return elem


def serialize_instance(inst: CimInstance) -> etree._Element:
    """Write an instance the way Windows does (sample 01).

    The element is named after the class in the class's resource-URI namespace (prefix ``p``),
    with ``xsi:type="p:<Class>_Type"``; NULL is ``xsi:nil="true"``, arrays are repeated elements,
    datetimes nest ``cim:Datetime``/``cim:Interval`` and references nest an EPR.

    Raises:
        ValueError: ``inst.resource_uri`` is not set.
    """
    namespace = inst.resource_uri
    if not namespace:
        raise ValueError(f"{inst.class_name} instance needs a resource_uri to be serialized")
    root = etree.Element(
        f"{{{namespace}}}{inst.class_name}",
        nsmap={"p": namespace, "xsi": NS["xsi"], "cim": NS["cim"]},
    )
    root.set(XSI_TYPE, f"p:{inst.class_name}_Type")
    _fill_instance(root, inst, namespace, 1)
    return root


# --- writing, fast path -------------------------------------------------------------------------
# The simulator writes thousands of instances per second for fleet tests; building them as text
# is several times faster than through lxml elements.  The output is the same XML (a test
# compares them canonically).  It relies on the ``a:`` and ``w:`` prefixes being declared by the
# enclosing envelope, as every response envelope built here does.
_XSI_DECL = f'xmlns:xsi="{NS["xsi"]}"'
_CIM_DECL = f'xmlns:cim="{NS["cim"]}"'


def _esc(text: str) -> str:
    """Escape element text (CR as a reference, so XML line-end normalization keeps it)."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if "\r" in text:
        text = text.replace("\r", "&#13;")
    return text


def _attr_esc(text: str) -> str:
    """Escape a double-quoted attribute value (whitespace kept as references)."""
    return _esc(text).replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")


def epr_xml(epr: EPR) -> str:
    """``a:Address`` + ``a:ReferenceParameters`` of ``epr`` as text (``a:``/``w:`` in scope)."""
    selectors = "".join(
        f'<w:Selector Name="{_attr_esc(k)}">{_esc(v)}</w:Selector>' for k, v in epr.selectors
    )
    return (
        f"<a:Address>{_esc(epr.address)}</a:Address><a:ReferenceParameters>"
        f"<w:ResourceURI>{_esc(epr.resource_uri)}</w:ResourceURI>"
        f"<w:SelectorSet>{selectors}</w:SelectorSet></a:ReferenceParameters>"
    )


def value_xml(parts: list[str], prefix: str, name: str, value: RawValue, depth: int) -> None:
    """Append one property element ``<prefix:name>`` holding a raw value, as text.

    The ``xsi:`` and ``cim:`` prefixes (and ``a:``/``w:`` for references) must be in scope;
    ``depth`` numbers the prefixes of embedded objects' namespaces (``e1``, ``e2``...).
    """
    if value.__class__ is str:
        if value:
            parts.append(f"<{prefix}:{name}>{_esc(value)}</{prefix}:{name}>")
        else:
            parts.append(f"<{prefix}:{name}/>")
    elif value is None:
        parts.append(f'<{prefix}:{name} xsi:nil="true"/>')
    elif isinstance(value, CimDateTime):
        kind = value.kind
        parts.append(
            f"<{prefix}:{name}><cim:{kind}>{_esc(value.text)}</cim:{kind}></{prefix}:{name}>"
        )
    elif isinstance(value, EPR):
        parts.append(f"<{prefix}:{name}>{epr_xml(value)}</{prefix}:{name}>")
    elif isinstance(value, CimInstance):
        namespace = value.resource_uri
        if not namespace:
            raise ValueError(f"embedded {value.class_name} instance needs a resource_uri")
        inner = f"e{depth}"
        parts.append(
            f'<{prefix}:{name} xmlns:{inner}="{_attr_esc(namespace)}"'
            f' xsi:type="{inner}:{value.class_name}_Type">'
        )
        _properties_xml(parts, inner, value, depth + 1)
        parts.append(f"</{prefix}:{name}>")
    else:
        raise TypeError(f"cannot serialize a {type(value).__name__} property value")


def _properties_xml(parts: list[str], prefix: str, inst: CimInstance, depth: int) -> None:
    for name, value in inst.properties.items():
        # NULL and text, the bulk of every instance, inline; the rest through value_xml.
        if value is None:
            parts.append(f'<{prefix}:{name} xsi:nil="true"/>')
        elif value.__class__ is str:
            if value:
                parts.append(f"<{prefix}:{name}>{_esc(value)}</{prefix}:{name}>")
            else:
                parts.append(f"<{prefix}:{name}/>")
        elif isinstance(value, list):
            for item in value:
                value_xml(parts, prefix, name, item, depth)
        else:
            value_xml(parts, prefix, name, value, depth)


def instance_xml(inst: CimInstance) -> str:
    """``serialize_instance`` as text, for response envelopes (``a:``/``w:`` in scope).

    Unlike the lxml path it does not re-check strings for characters XML cannot carry: the
    simulator's values come from parsed XML or its own generator.

    Raises:
        ValueError: ``inst.resource_uri`` is not set.
    """
    namespace = inst.resource_uri
    if not namespace:
        raise ValueError(f"{inst.class_name} instance needs a resource_uri to be serialized")
    cls = inst.class_name
    parts = [
        f'<p:{cls} xmlns:p="{_attr_esc(namespace)}" {_XSI_DECL} {_CIM_DECL}'
        f' xsi:type="p:{cls}_Type">'
    ]
    _properties_xml(parts, "p", inst, 1)
    parts.append(f"</p:{cls}>")
    return "".join(parts)
