"""CIM-XML (DMTF DSP0201) embedded instances: how WMI method parameters carry whole objects.

Hyper-V's management service takes settings such as ``SystemSettings`` or ``ResourceSettings``
as a CIM-XML ``<INSTANCE>`` written as the *text* of the parameter element.  ``to_cimxml`` writes
that text (lxml escapes it; when it is then put inside a WS-Man element it is escaped a second
time, which XML-wise is the same as the CDATA section libvirt uses); ``parse_cimxml`` reads it
back, for the simulator.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

from aiohyperv._exceptions import ProtocolError
from aiohyperv.cim._epr import EPR
from aiohyperv.cim._types import CimType, coerce, format_value
from aiohyperv.cim._xml import parse_xml

__all__ = [
    "WMI_RESOURCE_BASE",
    "EmbeddedInstance",
    "cimxml_strings",
    "parse_cimxml",
    "to_cimxml",
]

#: Prefix of every WMI class resource URI; the rest is ``<namespace>/<Class>``.
WMI_RESOURCE_BASE = "http://schemas.microsoft.com/wbem/wsman/1/wmi/"
#: Namespace assumed for a CIM-XML reference that names none (INSTANCENAME alone).
_DEFAULT_NAMESPACE = "root/virtualization/v2"
#: CIM-XML parameter text is small; refuse anything absurd before parsing.
_MAX_CIMXML = 4 * 1024 * 1024

_TYPES = {t.value: t for t in CimType}


@dataclass
class EmbeddedInstance:
    """A CIM instance in CIM-XML form: only the properties you set are written.

    Attributes:
        class_name: ``Msvm_VirtualSystemSettingData``.
        properties: name -> ``(CimType, value)``.  The value is a Python value of that type
            (``str``, ``int``, ``bool``, ``float``, ``datetime``/``timedelta``, ``EPR`` for
            ``REFERENCE``, ``EmbeddedInstance`` for ``INSTANCE``), ``None`` for NULL, or a
            ``list`` of those for an array property.
    """

    class_name: str
    properties: dict[str, tuple[CimType, object]] = field(default_factory=dict)

    def set(self, name: str, cim_type: CimType, value: object) -> EmbeddedInstance:
        """Set one property and return self, for chaining."""
        self.properties[name] = (cim_type, value)
        return self

    def value(self, name: str) -> object:
        """The Python value of ``name`` (``None`` if absent or NULL)."""
        entry = self.properties.get(name)
        return None if entry is None else entry[1]


# --- writing ------------------------------------------------------------------------------------
def _namespace_of(resource_uri: str) -> tuple[str | None, str]:
    head, _, cls = resource_uri.rstrip("/").rpartition("/")
    if head.startswith(WMI_RESOURCE_BASE):
        return head[len(WMI_RESOURCE_BASE) :], cls
    return None, cls


def _write_reference(parent: etree._Element, epr: EPR) -> None:
    vref = etree.SubElement(parent, "VALUE.REFERENCE")
    namespace, cls = _namespace_of(epr.resource_uri)
    holder = vref
    if namespace is not None:
        holder = etree.SubElement(vref, "LOCALINSTANCEPATH")
        nspath = etree.SubElement(holder, "LOCALNAMESPACEPATH")
        for segment in namespace.split("/"):
            etree.SubElement(nspath, "NAMESPACE", NAME=segment)
    name = etree.SubElement(holder, "INSTANCENAME", CLASSNAME=cls)
    for key, value in epr.selectors:
        binding = etree.SubElement(name, "KEYBINDING", NAME=key)
        keyvalue = etree.SubElement(binding, "KEYVALUE", VALUETYPE="string")
        keyvalue.text = value


def _write_instance(inst: EmbeddedInstance) -> etree._Element:
    root = etree.Element("INSTANCE", CLASSNAME=inst.class_name)
    for name, (cim_type, value) in inst.properties.items():
        if cim_type is CimType.REFERENCE:
            prop = etree.SubElement(root, "PROPERTY.REFERENCE", NAME=name)
            if value is not None:
                if not isinstance(value, EPR):
                    raise TypeError(f"reference property {name} needs an EPR, got {value!r}")
                prop.set("REFERENCECLASS", value.class_name)
                _write_reference(prop, value)
            continue
        wire_type = "string" if cim_type is CimType.INSTANCE else cim_type.value
        if isinstance(value, list | tuple):
            prop = etree.SubElement(root, "PROPERTY.ARRAY", NAME=name, TYPE=wire_type)
            if cim_type is CimType.INSTANCE:
                prop.set("EmbeddedObject", "instance")
            array = etree.SubElement(prop, "VALUE.ARRAY")
            for item in value:
                if item is None:
                    etree.SubElement(array, "VALUE.NULL")
                else:
                    etree.SubElement(array, "VALUE").text = format_value(item, cim_type)
            continue
        prop = etree.SubElement(root, "PROPERTY", NAME=name, TYPE=wire_type)
        if cim_type is CimType.INSTANCE:
            prop.set("EmbeddedObject", "instance")
        if value is not None:
            etree.SubElement(prop, "VALUE").text = format_value(value, cim_type)
    return root


def to_cimxml(inst: EmbeddedInstance) -> str:
    """Serialize an embedded instance as DSP0201 CIM-XML text (``<INSTANCE CLASSNAME=...>``).

    Raises:
        TypeError, ValueError: a value does not fit its declared type, or a string holds
            characters XML cannot carry (control characters).
    """
    return etree.tostring(_write_instance(inst), encoding="unicode")


# --- reading ------------------------------------------------------------------------------------
def _read_reference(prop: etree._Element) -> EPR | None:
    vref = prop.find("VALUE.REFERENCE")
    if vref is None:
        return None
    namespace: str | None = None
    name = vref.find("INSTANCENAME")
    path = vref.find("LOCALINSTANCEPATH")
    if path is None:
        path = vref.find("INSTANCEPATH")
    if path is not None:
        name = path.find("INSTANCENAME")
        segments = [ns.get("NAME", "") for ns in path.iter("NAMESPACE")]
        if segments:
            namespace = "/".join(segments)
    if name is None:
        raise ProtocolError(f"CIM-XML reference {prop.get('NAME')!r} has no INSTANCENAME")
    cls = name.get("CLASSNAME")
    if not cls:
        raise ProtocolError(f"CIM-XML reference {prop.get('NAME')!r} has no CLASSNAME")
    selectors: dict[str, str] = {}
    for binding in name.iter("KEYBINDING"):
        keyvalue = binding.find("KEYVALUE")
        selectors[binding.get("NAME", "")] = (
            "" if keyvalue is None or keyvalue.text is None else keyvalue.text
        )
    keyvalue = name.find("KEYVALUE")  # single-key shorthand: INSTANCENAME > KEYVALUE
    if keyvalue is not None and not selectors:
        selectors[""] = keyvalue.text or ""
    uri = f"{WMI_RESOURCE_BASE}{namespace or _DEFAULT_NAMESPACE}/{cls}"
    return EPR.make(uri, selectors)


def _cim_type(prop: etree._Element) -> CimType:
    if prop.get("EmbeddedObject") or prop.get("EMBEDDEDOBJECT"):
        return CimType.INSTANCE
    wire = prop.get("TYPE", "string")
    cim_type = _TYPES.get(wire)
    if cim_type is None or cim_type in (CimType.REFERENCE, CimType.INSTANCE):
        raise ProtocolError(f"CIM-XML property {prop.get('NAME')!r} has unknown TYPE {wire!r}")
    return cim_type


def _read_value(text: str | None, cim_type: CimType) -> object:
    return coerce("" if text is None else text, cim_type)


def _read_instance(root: etree._Element) -> EmbeddedInstance:
    if root.tag != "INSTANCE":
        raise ProtocolError(f"CIM-XML root element is {root.tag!r}, expected INSTANCE")
    cls = root.get("CLASSNAME")
    if not cls:
        raise ProtocolError("CIM-XML INSTANCE has no CLASSNAME")
    inst = EmbeddedInstance(cls)
    for prop in root:
        tag = prop.tag
        if not isinstance(tag, str) or tag == "QUALIFIER":
            continue
        name = prop.get("NAME")
        if not name:
            raise ProtocolError(f"CIM-XML {tag} in {cls} has no NAME")
        if tag == "PROPERTY":
            cim_type = _cim_type(prop)
            value_el = prop.find("VALUE")
            value = None if value_el is None else _read_value(value_el.text, cim_type)
            inst.properties[name] = (cim_type, value)
        elif tag == "PROPERTY.ARRAY":
            cim_type = _cim_type(prop)
            array = prop.find("VALUE.ARRAY")
            items: list[object] | None = None
            if array is not None:
                items = []
                for item in array:
                    if item.tag == "VALUE":
                        items.append(_read_value(item.text, cim_type))
                    elif item.tag == "VALUE.NULL":
                        items.append(None)
            inst.properties[name] = (cim_type, items)
        elif tag == "PROPERTY.REFERENCE":
            inst.properties[name] = (CimType.REFERENCE, _read_reference(prop))
        else:
            raise ProtocolError(f"CIM-XML INSTANCE {cls} has unexpected element {tag!r}")
    return inst


def parse_cimxml(text: str) -> EmbeddedInstance:
    """Parse DSP0201 CIM-XML ``<INSTANCE>`` text (as found in an Invoke parameter).

    Values are converted to Python values by their declared ``TYPE``; embedded objects
    (``EmbeddedObject="instance"``) are parsed recursively.

    Raises:
        ProtocolError: not well-formed, a DOCTYPE, not an INSTANCE, or a value that does not
            fit its declared type.
    """
    root = parse_xml(text.strip(), what="CIM-XML", max_size=_MAX_CIMXML)
    return _read_instance(root)


def cimxml_strings(text: str, names: frozenset[str]) -> dict[str, str | None]:
    """The string properties ``names`` of DSP0201 CIM-XML ``<INSTANCE>`` text, untyped.

    For embedded objects of which a caller needs a few strings only, such as the Name and Data
    of each Msvm_KvpExchangeDataItem (a host's inventory reads a hundred or more): the same
    hardened parse as :func:`parse_cimxml`, without turning every other property into a Python
    value.  A property that is absent is absent from the result; one without a ``VALUE`` (NULL)
    is ``None``.

    Raises:
        ProtocolError: not well-formed, a DOCTYPE, not an INSTANCE, or one of ``names`` is not
            a scalar string property.
    """
    text = text.strip()
    found = _flat_strings(text, names)
    return found if found is not None else _tree_strings(text, names)


# The shape WMI writes an embedded instance in (Msvm_KvpExchangeDataItem, for one): one line,
# attributes in WMI's order (``NAME``, ``CLASSORIGIN``, ``PROPAGATED``, ``TYPE``), PROPERTY
# elements holding at most one VALUE of plain text.  Text made only of that is well-formed XML
# whose strings are read exactly as the parser reads them; anything else (a character or entity
# reference, CDATA, a comment, a carriage return, whitespace between elements, other attributes,
# PROPERTY.ARRAY...) goes to the parser.  For a host's hundred-odd KVP items this is several
# times cheaper than a parse of each (bench_parse.py).  Possessive quantifiers and one forward
# pass: the matching stays linear in the text, whatever it holds.
_NOT_XML = r"\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff"  # no XML 1.0 Char
_ATTR_VALUE = rf'"([^"<&\t\n\r{_NOT_XML}]*+)"'  # nothing to normalize or unescape
_TEXT = rf"([^<>&\r{_NOT_XML}]*+)"  # no line end to normalize, nothing to unescape
_FLAT_START = re.compile(f"<INSTANCE CLASSNAME={_ATTR_VALUE}>")
_FLAT_PROPERTY = re.compile(
    f"<PROPERTY NAME={_ATTR_VALUE}(?: CLASSORIGIN={_ATTR_VALUE})?+"
    f'(?: PROPAGATED="(?:true|false)")?+ TYPE="([a-z0-9]++)"'
    f"(?:/>|>(?:<VALUE>{_TEXT}</VALUE>)?+</PROPERTY>)"
)
_FLAT_END = "</INSTANCE>"


def _flat_strings(text: str, names: frozenset[str]) -> dict[str, str | None] | None:
    """:func:`cimxml_strings` for text of WMI's own shape, without a parser; None otherwise."""
    start = _FLAT_START.match(text)
    if start is None or len(text) > _MAX_CIMXML or not text.endswith(_FLAT_END):
        return None
    pos, end = start.end(), len(text) - len(_FLAT_END)
    found: dict[str, str | None] = {}
    match = _FLAT_PROPERTY.match
    while pos < end:
        prop = match(text, pos, end)
        if prop is None:
            return None
        name, _, kind, value = prop.groups()
        if name in names:
            if kind != "string":
                return None  # the parser's path raises the error
            found[name] = value  # None: no VALUE (NULL)
        pos = prop.end()
    return found


def _tree_strings(text: str, names: frozenset[str]) -> dict[str, str | None]:
    """:func:`cimxml_strings` through the hardened parser, for any text."""
    root = parse_xml(text, what="CIM-XML", max_size=_MAX_CIMXML)
    if root.tag != "INSTANCE":
        raise ProtocolError(f"CIM-XML root element is {root.tag!r}, expected INSTANCE")
    found: dict[str, str | None] = {}
    for prop in root:
        name = prop.get("NAME")
        if name not in names or prop.tag.__class__ is not str:
            continue
        assert name is not None  # for the type checker: None is never in names
        if prop.tag != "PROPERTY" or prop.get("TYPE", "string") != "string":
            raise ProtocolError(f"CIM-XML property {name!r} is not a string")
        value = prop.find("VALUE")
        found[name] = None if value is None else (value.text or "")
    return found
