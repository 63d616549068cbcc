"""One declarative schema of the WMI classes Hyper-V serves, shared by the driver and the simulator.

Each namespace (``root/virtualization/v2``, ``root/virtualization``, ``root/cimv2``) has a module
that declares its classes from Microsoft's documented MOF: name, superclasses, keys, every
property with its CIM type and array flag, reference targets, association and abstract flags.
The driver's typed class table (:mod:`aiohyperv.hyperv`) and the simulator's served classes are
both derived from it, so they cannot drift apart.  Nothing is parsed at import:
:func:`get_schema` declares a namespace the first time it is asked for.
"""

from __future__ import annotations

from aiohyperv.schema._model import (
    NAMESPACES,
    ClassDef,
    PropDef,
    Schema,
    get_schema,
    parse_mof_properties,
)

__all__ = ["NAMESPACES", "ClassDef", "PropDef", "Schema", "get_schema", "parse_mof_properties"]
