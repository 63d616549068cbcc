"""The WMI classes the simulator serves: the shared schema of :mod:`aiohyperv.schema`.

The simulator keeps no class table of its own.  It serves exactly the classes the driver's table
is derived from, each namespace declared once from Microsoft's documented MOF, so the simulator
sends every documented property (NULL scalars as ``xsi:nil``, NULL arrays left out, as Windows
does) and cannot drift from what the driver expects.
"""

from __future__ import annotations

from aiohyperv.schema import NAMESPACES, ClassDef, PropDef, Schema, get_schema

__all__ = ["SCHEMAS", "ClassDef", "PropDef", "Schema"]

#: Every namespace the simulator serves, by name (declared when the simulator is imported).
SCHEMAS: dict[str, Schema] = {namespace: get_schema(namespace) for namespace in NAMESPACES}
