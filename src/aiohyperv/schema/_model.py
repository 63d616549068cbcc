"""The schema's types: :class:`PropDef`, :class:`ClassDef`, :class:`Schema`, and the lazy loader.

A namespace's classes are declared the way Microsoft's class pages print them, as simplified
MOF property lists (``uint16 EnabledState; string Notes[]; Msvm_ComputerSystem REF Antecedent``).
Nothing is parsed at import: :func:`get_schema` imports the namespace's declaration module and
parses it the first time someone asks for that namespace, then keeps the result.
"""

from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass, field

from aiohyperv.cim import CimType
from aiohyperv.wsman._ns import NAMESPACE_CIMV2, NAMESPACE_V1, NAMESPACE_V2, resource_uri

__all__ = ["NAMESPACES", "ClassDef", "PropDef", "Schema", "get_schema"]

_TYPES = {t.value: t for t in CimType}

#: Namespace -> the module that declares its classes (imported on first use).
_MODULES: dict[str, str] = {
    NAMESPACE_V2: "aiohyperv.schema._v2",
    NAMESPACE_V1: "aiohyperv.schema._v1",
    NAMESPACE_CIMV2: "aiohyperv.schema._cimv2",
}

#: Every namespace the schema declares.
NAMESPACES: tuple[str, ...] = tuple(_MODULES)


@dataclass(frozen=True, slots=True)
class PropDef:
    """One property: name, CIM type, array flag and, for references, the target class."""

    name: str
    type: CimType
    array: bool = False
    ref_class: str | None = None


@dataclass(frozen=True, slots=True)
class ClassDef:
    """One WMI class of one namespace.

    Attributes:
        name: ``Msvm_ComputerSystem``.
        namespace: ``root/virtualization/v2``.
        superclasses: nearest first, up to the root (``CIM_ComputerSystem``, ...).
        keys: key property names, sorted (the order WMI writes object paths in).
        properties: every property, sorted by name (the order WinRM serializes them in).
        association: true for association classes (all keys are references).
        abstract: true for classes that have no instances of their own.
    """

    name: str
    namespace: str
    superclasses: tuple[str, ...]
    keys: tuple[str, ...]
    properties: tuple[PropDef, ...]
    association: bool = False
    abstract: bool = False
    _by_name: dict[str, PropDef] = field(default_factory=dict, compare=False, repr=False)
    _lineage: frozenset[str] = field(default_factory=frozenset, compare=False, repr=False)

    @property
    def resource_uri(self) -> str:
        """The class's WS-Man resource URI (the XML namespace of its instances)."""
        return resource_uri(self.namespace, self.name)

    def prop(self, name: str) -> PropDef | None:
        """The property called ``name`` (WMI names are case-insensitive), or ``None``."""
        return self._by_name.get(name.lower())

    def is_a(self, class_name: str) -> bool:
        """True when this class is ``class_name`` or derives from it (case-insensitive)."""
        return class_name.lower() in self._lineage

    @property
    def derivation(self) -> tuple[str, ...]:
        """The ``__DERIVATION`` system property: superclasses, nearest first."""
        return self.superclasses

    @property
    def reference_props(self) -> tuple[PropDef, ...]:
        """The reference-typed properties (the roles of an association)."""
        return tuple(p for p in self.properties if p.type is CimType.REFERENCE)


def parse_mof_properties(mof: str) -> tuple[PropDef, ...]:
    """Parse a simplified MOF property list into sorted :class:`PropDef` s.

    Each declaration is ``<type> <Name>;``, ``<type> <Name>[];`` or ``<Class> REF <Name>;``; a
    type that is not a CIM type names the class of an embedded object.  A name declared twice
    keeps its last declaration (a subclass overriding a base block).

    Raises:
        ValueError: a declaration is malformed.
    """
    props: dict[str, PropDef] = {}
    for raw in mof.split(";"):
        decl = raw.strip()
        if not decl:
            continue
        parts = decl.split()
        if len(parts) == 3 and parts[1] == "REF":
            props[parts[2].lower()] = PropDef(parts[2], CimType.REFERENCE, ref_class=parts[0])
            continue
        if len(parts) != 2:
            raise ValueError(f"bad MOF declaration {decl!r}")
        type_name, name = parts
        array = name.endswith("[]")
        name = name.removesuffix("[]")
        if not name.isidentifier():
            raise ValueError(f"bad MOF property name {name!r}")
        if type_name.lower() in _TYPES:
            props[name.lower()] = PropDef(name, _TYPES[type_name.lower()], array)
        else:  # an embedded object typed by class name (Msvm_SummaryInformation's arrays)
            props[name.lower()] = PropDef(name, CimType.INSTANCE, array, ref_class=type_name)
    return tuple(sorted(props.values(), key=lambda p: p.name.lower()))


class Schema:
    """The classes of one WMI namespace."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self._classes: dict[str, ClassDef] = {}
        # lower-cased name -> its concrete subclasses (every query asks; cleared by add())
        self._subclasses: dict[str, tuple[ClassDef, ...]] = {}

    def __repr__(self) -> str:
        return f"<Schema {self.namespace} classes={len(self._classes)}>"

    def add(
        self,
        name: str,
        superclasses: str,
        keys: str,
        mof: str,
        *,
        association: bool = False,
        abstract: bool = False,
    ) -> ClassDef:
        """Declare a class from its MOF property list.

        Raises:
            ValueError: a key is not a property, or the MOF is malformed.
        """
        supers = tuple(superclasses.split())
        props = parse_mof_properties(mof)
        by_name = {p.name.lower(): p for p in props}
        key_names = tuple(sorted(keys.split(), key=str.lower))
        for key in key_names:
            if key.lower() not in by_name:
                raise ValueError(f"{name}: key {key} is not a property")
        cls = ClassDef(
            name,
            self.namespace,
            supers,
            key_names,
            props,
            association,
            abstract,
            by_name,
            frozenset(n.lower() for n in (name, *supers)),
        )
        self._classes[name.lower()] = cls
        self._subclasses.clear()
        return cls

    def get(self, name: str) -> ClassDef | None:
        """The class called ``name`` (case-insensitive), or ``None``."""
        return self._classes.get(name.lower())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._classes

    def classes(self) -> list[ClassDef]:
        """Every class, in declaration order."""
        return list(self._classes.values())

    def concrete_subclasses(self, name: str) -> list[ClassDef]:
        """``name`` and its descendants that have instances, in declaration order."""
        key = name.lower()
        found = self._subclasses.get(key)
        if found is None:
            found = tuple(c for c in self._classes.values() if not c.abstract and c.is_a(name))
            if len(self._subclasses) < 4096:  # names come from clients' queries
                self._subclasses[key] = found
        return list(found)


_LOADED: dict[str, Schema] = {}
_LOCK = threading.Lock()


def get_schema(namespace: str) -> Schema:
    """The classes of ``namespace``, declared on first use and then shared.

    Raises:
        KeyError: the schema declares no such namespace.
    """
    schema = _LOADED.get(namespace)
    if schema is not None:
        return schema
    module_name = _MODULES.get(namespace)
    if module_name is None:
        raise KeyError(f"no schema for namespace {namespace}")
    with _LOCK:  # worker threads of one process may ask at once; build each namespace once
        schema = _LOADED.get(namespace)
        if schema is None:
            module = importlib.import_module(module_name)
            schema = _LOADED[namespace] = module.build()
    return schema
