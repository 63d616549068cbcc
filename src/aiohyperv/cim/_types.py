"""CIM intrinsic types and the conversions between wire text and Python values.

Conversions are driven by a *declared* type (from a class table such as the driver's), never by
guessing from the text: ``"0012"`` is a string until someone says it is a uint16.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from aiohyperv._exceptions import ProtocolError
from aiohyperv.cim._datetime import (
    CimDateTime,
    format_cim_datetime,
    format_cim_interval,
    is_never,
    parse_cim_datetime,
    parse_xs_datetime,
)
from aiohyperv.cim._epr import EPR

if TYPE_CHECKING:
    from aiohyperv.cim._instance import PropertyValue

__all__ = ["INTEGER_RANGES", "CimType", "coerce", "format_value"]


class CimType(StrEnum):
    """The CIM intrinsic types (DSP0004), spelled as CIM-XML's ``TYPE`` attribute spells them."""

    STRING = "string"
    BOOLEAN = "boolean"
    UINT8 = "uint8"
    SINT8 = "sint8"
    UINT16 = "uint16"
    SINT16 = "sint16"
    UINT32 = "uint32"
    SINT32 = "sint32"
    UINT64 = "uint64"
    SINT64 = "sint64"
    REAL32 = "real32"
    REAL64 = "real64"
    CHAR16 = "char16"
    DATETIME = "datetime"
    REFERENCE = "reference"
    INSTANCE = "instance"


#: Inclusive bounds of each integer type.
INTEGER_RANGES: dict[CimType, tuple[int, int]] = {
    CimType.UINT8: (0, 2**8 - 1),
    CimType.SINT8: (-(2**7), 2**7 - 1),
    CimType.UINT16: (0, 2**16 - 1),
    CimType.SINT16: (-(2**15), 2**15 - 1),
    CimType.UINT32: (0, 2**32 - 1),
    CimType.SINT32: (-(2**31), 2**31 - 1),
    CimType.UINT64: (0, 2**64 - 1),
    CimType.SINT64: (-(2**63), 2**63 - 1),
}

_TRUE = frozenset({"true", "1"})
_FALSE = frozenset({"false", "0"})


def _bad(value: object, cim_type: CimType, why: str = "") -> ProtocolError:
    extra = f" ({why})" if why else ""
    return ProtocolError(f"value {value!r} is not a valid CIM {cim_type.value}{extra}")


def _coerce_one(value: object, cim_type: CimType) -> object:
    if value is None:
        return None
    if cim_type is CimType.STRING:
        if isinstance(value, str):
            return value
        if isinstance(value, CimDateTime):
            return value.text
        raise _bad(value, cim_type)
    if cim_type in INTEGER_RANGES:
        if not isinstance(value, str):
            raise _bad(value, cim_type)
        try:
            number = int(value.strip(), 10)
        except ValueError:
            raise _bad(value, cim_type) from None
        low, high = INTEGER_RANGES[cim_type]
        if not low <= number <= high:
            raise _bad(value, cim_type, f"outside {low}..{high}")
        return number
    if cim_type is CimType.BOOLEAN:
        if isinstance(value, str):
            text = value.strip().lower()
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
        raise _bad(value, cim_type)
    if cim_type in (CimType.REAL32, CimType.REAL64):
        if isinstance(value, str):
            try:
                return float(value.strip())
            except ValueError:
                pass
        raise _bad(value, cim_type)
    if cim_type is CimType.CHAR16:
        if isinstance(value, str) and len(value) == 1:
            return value
        raise _bad(value, cim_type, "expected one character")
    if cim_type is CimType.DATETIME:
        result: datetime | timedelta
        try:
            if isinstance(value, CimDateTime):
                result = value.value
            elif isinstance(value, str):
                result = parse_xs_datetime(value) if "T" in value else parse_cim_datetime(value)
            else:
                raise _bad(value, cim_type)
        except ValueError as exc:
            raise _bad(value, cim_type, str(exc)) from None
        # WMI's unset datetime (1601-01-01, the FILETIME epoch) reads as NULL.
        return None if is_never(result) else result
    if cim_type is CimType.REFERENCE:
        if isinstance(value, EPR):
            return value
        raise _bad(value, cim_type, "expected an endpoint reference")
    # CimType.INSTANCE (imported here: _cimxml and _instance import this module)
    from aiohyperv.cim._cimxml import EmbeddedInstance, parse_cimxml
    from aiohyperv.cim._instance import CimInstance

    if isinstance(value, CimInstance | EmbeddedInstance):
        return value
    if isinstance(value, str):
        return parse_cimxml(value)
    raise _bad(value, cim_type)


def coerce(value: PropertyValue, cim_type: CimType, *, array: bool = False) -> object:
    """Turn a raw wire value into the Python value of a declared CIM type.

    ``uint*``/``sint*`` give ``int`` (range-checked), ``boolean`` gives ``bool`` (``true``/``false``
    in any case, or ``1``/``0``), ``real*`` gives ``float``, ``datetime`` gives ``datetime`` or
    ``timedelta``, ``reference`` gives ``EPR``, ``instance`` gives ``CimInstance`` or, for CIM-XML
    text, ``EmbeddedInstance``.  NULL stays ``None``, and so does WMI's "never" datetime
    (``1601-01-01T00:00:00Z``).  A NULL array property is absent from the instance (Windows
    leaves it out rather than writing ``xsi:nil``); read as an array it gives ``[]``.

    Args:
        value: a value from ``CimInstance.properties``.
        cim_type: the declared type.
        array: the property is declared as an array: the result is always a list (``[]`` for
            NULL, one element for a single wire element).

    Raises:
        ProtocolError: the host sent text that is not a value of the declared type, or an array
            where a scalar was declared.
    """
    if array:
        if value is None:
            return []
        items = value if isinstance(value, list) else [value]
        return [_coerce_one(item, cim_type) for item in items]
    if isinstance(value, list):
        raise ProtocolError(
            f"expected one CIM {cim_type.value} value, got an array of {len(value)}"
        )
    return _coerce_one(value, cim_type)


def format_value(value: object, cim_type: CimType) -> str:
    """Write a Python value as the wire text of a CIM type.

    Booleans become ``true``/``false`` (the spelling Windows writes), integers decimal
    (range-checked), reals ``repr`` text, datetimes and timedeltas the DMTF string forms, and
    embedded instances CIM-XML.  A ``str`` is checked against the type and passed through.

    Raises:
        TypeError: the Python type does not fit the CIM type.
        ValueError: the value is out of range or malformed.
    """
    if cim_type is CimType.STRING:
        if isinstance(value, str):
            return value
        raise TypeError(f"CIM string needs str, got {type(value).__name__}")
    if cim_type is CimType.BOOLEAN:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower()
        raise TypeError(f"CIM boolean needs bool, got {value!r}")
    if cim_type in INTEGER_RANGES:
        if isinstance(value, bool):
            raise TypeError(f"CIM {cim_type.value} needs int, got bool")
        if isinstance(value, str):
            value = int(value.strip(), 10)
        if not isinstance(value, int):
            raise TypeError(f"CIM {cim_type.value} needs int, got {type(value).__name__}")
        low, high = INTEGER_RANGES[cim_type]
        if not low <= value <= high:
            raise ValueError(f"{value} is outside the {cim_type.value} range {low}..{high}")
        return str(value)
    if cim_type in (CimType.REAL32, CimType.REAL64):
        if isinstance(value, str):
            value = float(value)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"CIM {cim_type.value} needs float, got {type(value).__name__}")
        number = float(value)
        if math.isnan(number):
            return "NaN"
        if math.isinf(number):
            return "INF" if number > 0 else "-INF"
        return repr(number)
    if cim_type is CimType.CHAR16:
        if isinstance(value, str) and len(value) == 1:
            return value
        raise ValueError(f"CIM char16 needs one character, got {value!r}")
    if cim_type is CimType.DATETIME:
        if isinstance(value, datetime):
            return format_cim_datetime(value)
        if isinstance(value, timedelta):
            return format_cim_interval(value)
        if isinstance(value, CimDateTime):
            return value.to_cim_string()
        if isinstance(value, str):
            parse_cim_datetime(value)  # validate
            return value.strip()
        raise TypeError(f"CIM datetime needs datetime or timedelta, got {type(value).__name__}")
    if cim_type is CimType.INSTANCE:
        # Imported here: _cimxml imports this module.
        from aiohyperv.cim._cimxml import EmbeddedInstance, to_cimxml

        if isinstance(value, EmbeddedInstance):
            return to_cimxml(value)
        if isinstance(value, str):
            return value
        raise TypeError(f"CIM instance needs EmbeddedInstance, got {type(value).__name__}")
    raise TypeError(f"CIM {cim_type.value} values have no text form (use an EPR element)")
