"""Pure CIM values: endpoint references, instances, types, datetimes and CIM-XML.

Nothing here does I/O; everything is cheap to construct and safe to share.
"""

from __future__ import annotations

from aiohyperv.cim._cimxml import WMI_RESOURCE_BASE, EmbeddedInstance, parse_cimxml, to_cimxml
from aiohyperv.cim._datetime import (
    NEVER,
    CimDateTime,
    format_cim_datetime,
    format_cim_interval,
    format_xs_datetime,
    format_xs_duration,
    is_never,
    parse_cim_datetime,
    parse_xs_datetime,
    parse_xs_duration,
)
from aiohyperv.cim._epr import ANONYMOUS, EPR
from aiohyperv.cim._instance import CimInstance, PropertyValue, RawValue
from aiohyperv.cim._types import INTEGER_RANGES, CimType, coerce, format_value
from aiohyperv.cim._xml import DEFAULT_MAX_SIZE

__all__ = [
    "ANONYMOUS",
    "DEFAULT_MAX_SIZE",
    "EPR",
    "INTEGER_RANGES",
    "NEVER",
    "WMI_RESOURCE_BASE",
    "CimDateTime",
    "CimInstance",
    "CimType",
    "EmbeddedInstance",
    "PropertyValue",
    "RawValue",
    "coerce",
    "format_cim_datetime",
    "format_cim_interval",
    "format_value",
    "format_xs_datetime",
    "format_xs_duration",
    "is_never",
    "parse_cim_datetime",
    "parse_cimxml",
    "parse_xs_datetime",
    "parse_xs_duration",
    "to_cimxml",
]
