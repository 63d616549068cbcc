"""The simulator's own instance values: typed Python values plus their class, and object paths.

Instances are built on demand from the host model (nothing is stored per instance), queried
by the WQL engine with typed values, and turned into ``cim.CimInstance`` only when serialized.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypeAlias

from aiohyperv.cim import EPR, CimDateTime, CimInstance, PropertyValue, RawValue
from aiohyperv.wsman._items import _CIM_DECL, _XSI_DECL, _attr_esc, _esc, epr_xml, value_xml
from aiohyperv.wsman._ns import NS, resource_uri

if TYPE_CHECKING:
    from collections.abc import Mapping

    from aiohyperv.simulator._schema import ClassDef

__all__ = [
    "Instance",
    "Ref",
    "Value",
    "escape_path_value",
    "format_key",
    "parse_object_path",
    "to_cim",
    "to_xml",
]

#: A typed property value: str, int, bool, float, datetime, timedelta, Ref, Instance, None or
#: a list of those for arrays.
Value: TypeAlias = object


def escape_path_value(text: str) -> str:
    """Quote a string key as WMI writes it in an object path: ``"a\\\\b"`` with ``\\`` and ``"``."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def format_key(value: object) -> str:
    """The selector text of a key value (``true``/``false`` for booleans, decimal for numbers)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Ref):  # an association's key: the referenced object's path
        return value.path(".")
    return str(value)


@dataclass(frozen=True, slots=True)
class Ref:
    """A WMI object path: namespace, class and key values (what REF properties hold).

    ``keys`` are ``(name, value)`` pairs sorted by lower-cased name, values as strings.
    """

    namespace: str
    class_name: str
    keys: tuple[tuple[str, str], ...]

    @classmethod
    def make(cls, namespace: str, class_name: str, keys: Mapping[str, object]) -> Ref:
        """Build a reference from a key mapping."""
        items = tuple(sorted(((k, format_key(v)) for k, v in keys.items()), key=_lower_first))
        return cls(namespace, class_name, items)

    def relpath(self) -> str:
        """``Class.Key="v",Key2="w"`` (the ``__RELPATH`` form)."""
        keys = ",".join(f"{k}={escape_path_value(v)}" for k, v in self.keys)
        return f"{self.class_name}.{keys}" if keys else f"{self.class_name}=@"

    def path(self, server: str) -> str:
        """``\\\\SERVER\\root\\virtualization\\v2:Class.Key="v"`` (the ``__PATH`` form)."""
        ns = self.namespace.replace("/", "\\")
        return f"\\\\{server}\\{ns}:{self.relpath()}"

    def epr(self) -> EPR:
        """The WS-Man endpoint reference: the class resource URI and its key selectors only.

        WMI's references (EPR-valued properties, method outputs such as ``Job`` or
        ``ResultingSystem``) carry the class's keys and nothing else: libvirt reads a job's
        ``InstanceID`` straight from ``//w:Selector`` (``hyperv_wmi.c`` ``hypervInvokeMethod``)
        and builds the EPRs it sends back from keys only.  A ``__cimnamespace`` selector is
        what openwsman-based servers add, not Windows.
        """
        return EPR.make(resource_uri(self.namespace, self.class_name), dict(self.keys))

    def key_map(self) -> dict[str, str]:
        """Lower-cased key name -> value."""
        return {k.lower(): v for k, v in self.keys}

    def matches(self, other: Ref) -> bool:
        """Same class and keys, comparing names and values case-insensitively, like WMI."""
        return (
            self.class_name.lower() == other.class_name.lower()
            and self.namespace.lower() == other.namespace.lower()
            and _fold(self.keys) == _fold(other.keys)
        )


def _lower_first(item: tuple[str, str]) -> str:
    return item[0].lower()


def _fold(keys: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    return tuple((k.lower(), v.casefold()) for k, v in keys)


class Instance:
    """One instance of a served class: its class definition and typed property values.

    Absent properties are NULL.  Cheap to build: a class pointer and the dict you pass.
    """

    __slots__ = ("cls", "values")

    def __init__(self, cls: ClassDef, values: dict[str, Value]) -> None:
        self.cls = cls
        self.values = values

    def __repr__(self) -> str:
        return f"<Instance {self.ref().relpath()}>"

    def get(self, name: str) -> Value:
        """The value of property ``name`` (case-insensitive), ``None`` if NULL or unknown."""
        prop = self.cls.prop(name)
        if prop is None:
            return None
        return self.values.get(prop.name)

    def ref(self) -> Ref:
        """This instance's object path."""
        return Ref.make(
            self.cls.namespace, self.cls.name, {k: self.values.get(k, "") for k in self.cls.keys}
        )


def _path_error(text: str) -> ValueError:
    return ValueError(f"not a WMI object path: {text!r}")


def parse_object_path(text: str, default_namespace: str) -> Ref:
    """Parse ``[\\\\SERVER\\ns:]Class.Key="v",Key2=3`` or ``Class="v"`` into a :class:`Ref`.

    Strings may use double or single quotes; inside them a backslash escapes the next character,
    as in WMI object paths and WQL.  A single unnamed key (``Class="v"``) comes back under the
    name ``""`` for the caller to resolve against the class's one key.

    Raises:
        ValueError: the text is not an object path.
    """
    text = text.strip()
    namespace = default_namespace
    colon = _find_unquoted(text, ":")
    if colon >= 0 and colon < _first_separator(text):
        head, text = text[:colon], text[colon + 1 :]
        if head.startswith(("\\\\", "//")):
            parts = head[2:].replace("/", "\\").split("\\", 1)
            if len(parts) != 2 or not parts[1]:
                raise _path_error(head)
            head = parts[1]
        namespace = head.replace("\\", "/").strip("/")
    cut = _first_separator(text)
    if cut == len(text):
        if not text.isidentifier():
            raise _path_error(text)
        return Ref(namespace, text, ())
    class_name = text[:cut]
    if not class_name.isidentifier():
        raise _path_error(text)
    rest = text[cut:]
    if rest == "=@":
        return Ref(namespace, class_name, ())
    keys: dict[str, str] = {}
    if rest.startswith("="):
        value, end = _read_value(rest, 1)
        if end != len(rest):
            raise _path_error(text)
        keys[""] = value
    else:
        pos = 1
        while True:
            eq = rest.find("=", pos)
            if eq < 0:
                raise _path_error(text)
            name = rest[pos:eq].strip()
            if not name.isidentifier():
                raise _path_error(text)
            value, pos = _read_value(rest, eq + 1)
            keys[name] = value
            if pos == len(rest):
                break
            if rest[pos] != ",":
                raise _path_error(text)
            pos += 1
    return Ref.make(namespace, class_name, keys)


def _first_separator(text: str) -> int:
    found = [i for i in (_find_unquoted(text, "."), _find_unquoted(text, "=")) if i >= 0]
    return min(found, default=len(text))


def _find_unquoted(text: str, char: str) -> int:
    quote = ""
    i = 0
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = ""
        elif c in "\"'":
            quote = c
        elif c == char:
            return i
        i += 1
    return -1


def _read_value(text: str, pos: int) -> tuple[str, int]:
    while pos < len(text) and text[pos] == " ":
        pos += 1
    if pos >= len(text):
        raise _path_error(text)
    quote = text[pos]
    if quote not in "\"'":
        end = pos
        while end < len(text) and text[end] not in ", ":
            end += 1
        token = text[pos:end]
        if not token:
            raise _path_error(text)
        return token, end
    out: list[str] = []
    i = pos + 1
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
            continue
        if c == quote:
            return "".join(out), i + 1
        out.append(c)
        i += 1
    raise _path_error(text)


# --- conversion to the wire model -----------------------------------------------------------------
def _raw(value: Value) -> RawValue:
    """One typed value in wire form (what ``CimInstance.from_values`` does, minus its checks)."""
    kind = type(value)
    if kind is str:
        return value  # type: ignore[return-value]  # checked by the line above
    if kind is bool:
        return "true" if value else "false"
    if isinstance(value, int):  # IntEnum codes too
        return str(int(value))
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Ref):
        return value.epr()
    if isinstance(value, Instance):
        return to_cim(value)
    if isinstance(value, datetime | timedelta):
        return CimDateTime.of(value)
    if value is None or isinstance(value, str | EPR | CimDateTime | CimInstance):
        return value
    raise TypeError(f"cannot write a {type(value).__name__} as a CIM value")


def to_cim(inst: Instance, *, only: frozenset[str] | None = None) -> CimInstance:
    """The ``cim.CimInstance`` to serialize: every property in class order, NULL scalars included.

    ``uint8[]`` arrays are written as one base64 text, the way WinRM writes byte arrays (libvirt
    base64-decodes ``ImageData``).  ``only`` (lower-cased names) limits a WQL projection.
    This runs for every item of every enumeration, so it converts directly instead of going
    through ``CimInstance.from_values``.
    """
    plan = _plan(inst.cls, only)
    values: dict[str, PropertyValue] = {}
    source = inst.values
    for prop in plan.props:
        name = prop.name
        value = source.get(name)
        if value is None or (isinstance(value, list) and not value):
            if not prop.array:  # a NULL array is left out, as Windows does (HYPERV-WMI 5)
                values[name] = None
        elif isinstance(value, list):
            values[name] = [_raw(v) for v in value]
        elif prop.array and isinstance(value, bytes | bytearray):
            values[name] = base64.b64encode(bytes(value)).decode("ascii")
        else:
            values[name] = _raw(value)
    return CimInstance(plan.cls.name, plan.uri, values)


def to_xml(inst: Instance, *, only: frozenset[str] | None = None) -> str:
    """One enumeration item: the class element, or for a projection (``only``) a fragment.

    ``SELECT *`` gives ``instance_xml(to_cim(inst))`` without the intermediate ``CimInstance``,
    the same text character for character (a test compares them for every served class): the
    simulator writes every enumerated instance through here, and the element tags of a class
    (or projection) are formatted once, not once per instance.

    A WQL projection (``SELECT A, B FROM X``) is written as Windows writes it: a
    ``w:XmlFragment`` declaring ``xsi`` and ``w`` whose property children, datetimes included,
    are unqualified, in class order (``tests/data/wsman-samples/real/txwinrm-server2012/
    *_all_000.xml`` against ``*_star_000.xml``: same properties, same order).

    A NULL array property is left out entirely and a NULL scalar is ``xsi:nil="true"``
    (``txwinrm-server2012/Win32_NetworkAdapterConfiguration_star_001.xml``: adapters without IP
    configuration have no ``IPAddress``/``DefaultIPGateway`` element at all, while
    ``Win32_OperatingSystem_star_000.xml`` writes ``<p:CSDVersion xsi:nil="true"/>``).
    """
    plan = _plan(inst.cls, only)
    source = inst.values
    parts = [plan.head]
    append = parts.append
    fragment = plan.fragment
    for name, array, open_tag, close_tag, nil, empty in plan.tags:
        value = source.get(name)
        kind = value.__class__
        if kind is str:
            append(f"{open_tag}{_esc(value)}{close_tag}" if value else empty)  # type: ignore[arg-type]
        elif value is None:
            if not array:  # a NULL array is left out, as Windows does
                append(nil)
        elif kind is bool:
            append(f"{open_tag}{'true' if value else 'false'}{close_tag}")
        elif kind is int:
            append(f"{open_tag}{value}{close_tag}")
        elif kind is list:
            if not value:
                if not array:
                    append(nil)
                continue
            for item in value:  # type: ignore[attr-defined]  # checked: a list
                if item.__class__ is str:
                    append(f"{open_tag}{_esc(item)}{close_tag}" if item else empty)
                elif fragment:
                    _fragment_value(parts, name, _raw(item))
                else:
                    value_xml(parts, "p", name, _raw(item), 1)
        elif array and isinstance(value, bytes | bytearray):
            append(f"{open_tag}{base64.b64encode(bytes(value)).decode('ascii')}{close_tag}")
        elif fragment:
            _fragment_value(parts, name, _raw(value))
        else:
            value_xml(parts, "p", name, _raw(value), 1)
    append(plan.tail)
    return "".join(parts)


def _fragment_value(parts: list[str], name: str, value: RawValue) -> None:
    """A property of a projection: unqualified, datetimes as ``<Datetime>`` with no prefix
    (``txwinrm-server2012/Win32_OperatingSystem_all_000.xml``: ``<InstallDate><Datetime>``)."""
    if isinstance(value, CimDateTime):
        kind = value.kind
        parts.append(f"<{name}><{kind}>{_esc(value.text)}</{kind}></{name}>")
    elif isinstance(value, EPR):
        parts.append(f"<{name}>{epr_xml(value)}</{name}>")
    elif isinstance(value, CimInstance):
        # No recording shows an embedded object in a projection: write it as in a class element
        # inside the unqualified property (its own namespace and xsi:type, as WinRM does).
        inner: list[str] = []
        value_xml(inner, "p", name, value, 1)
        text = "".join(inner)
        head_end = text.index(">") + 1
        attrs = text[len(f"<p:{name}") : head_end - 1]
        body = text[head_end : -len(f"</p:{name}>")]
        parts.append(f"<{name}{attrs}>{body}</{name}>")
    elif value is None:
        parts.append(f'<{name} xsi:nil="true"/>')
    else:
        text = value if isinstance(value, str) else str(value)
        parts.append(f"<{name}>{_esc(text)}</{name}>" if text else f"<{name}/>")


class _Plan:
    """How instances of one class (or one projection of it) are written."""

    __slots__ = ("cls", "fragment", "head", "props", "tags", "tail", "uri")

    def __init__(self, cls: ClassDef, only: frozenset[str] | None) -> None:
        self.cls = cls
        self.uri = cls.resource_uri
        self.fragment = only is not None
        self.props = (
            cls.properties
            if only is None
            else tuple(p for p in cls.properties if p.name.lower() in only)
        )
        name = cls.name
        if only is None:
            self.head = (
                f'<p:{name} xmlns:p="{_attr_esc(self.uri)}" {_XSI_DECL} {_CIM_DECL}'
                f' xsi:type="p:{name}_Type">'
            )
            self.tail = f"</p:{name}>"
            prefix = "p:"
        else:
            # txwinrm-server2012/*_all_000.xml: the fragment declares xsi and w itself.
            self.head = f'<w:XmlFragment {_XSI_DECL} xmlns:w="{NS["w"]}">'
            self.tail = "</w:XmlFragment>"
            prefix = ""
        self.tags = tuple(
            (
                p.name,
                p.array,
                f"<{prefix}{p.name}>",
                f"</{prefix}{p.name}>",
                f'<{prefix}{p.name} xsi:nil="true"/>',
                f"<{prefix}{p.name}/>",
            )
            for p in self.props
        )


# (id(class), projection) -> plan.  ClassDefs live as long as the schema, so their ids are
# stable; the plan keeps its class and is checked against it anyway.
_PLANS: dict[tuple[int, frozenset[str] | None], _Plan] = {}


def _plan(cls: ClassDef, only: frozenset[str] | None) -> _Plan:
    key = (id(cls), only)
    plan = _PLANS.get(key)
    if plan is None or plan.cls is not cls:
        if len(_PLANS) >= 4096:  # bounded: projections come from clients
            _PLANS.clear()
        plan = _PLANS[key] = _Plan(cls, only)
    return plan
