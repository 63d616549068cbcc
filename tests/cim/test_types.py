"""Typed coercion driven by declared CIM types, and the reverse (Python -> wire text)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from aiohyperv._exceptions import ProtocolError
from aiohyperv.cim import (
    EPR,
    INTEGER_RANGES,
    CimDateTime,
    CimInstance,
    CimType,
    EmbeddedInstance,
    PropertyValue,
    coerce,
    format_value,
)

REF = EPR.make("http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/X", {"K": "1"})

COERCE = [
    ("7", CimType.UINT8, 7),
    (" 255 ", CimType.UINT8, 255),
    ("-128", CimType.SINT8, -128),
    ("65535", CimType.UINT16, 65535),
    ("-32768", CimType.SINT16, -32768),
    ("4294967295", CimType.UINT32, 4294967295),
    ("-2147483648", CimType.SINT32, -2147483648),
    ("18446744073709551615", CimType.UINT64, 2**64 - 1),
    ("-9223372036854775808", CimType.SINT64, -(2**63)),
    ("0012", CimType.UINT16, 12),
    ("0012", CimType.STRING, "0012"),  # text stays text unless declared otherwise
    ("true", CimType.BOOLEAN, True),
    ("FALSE", CimType.BOOLEAN, False),
    ("True", CimType.BOOLEAN, True),
    ("1", CimType.BOOLEAN, True),
    ("0", CimType.BOOLEAN, False),
    ("1.5", CimType.REAL32, 1.5),
    ("-2.5E+10", CimType.REAL64, -2.5e10),
    ("x", CimType.CHAR16, "x"),
    ("", CimType.STRING, ""),
    (None, CimType.UINT16, None),
    (None, CimType.BOOLEAN, None),
    ("20240301080000.000000+000", CimType.DATETIME, datetime(2024, 3, 1, 8, tzinfo=UTC)),
    ("00000001000000.000000:000", CimType.DATETIME, timedelta(days=1)),
    ("2024-03-01T08:00:00Z", CimType.DATETIME, datetime(2024, 3, 1, 8, tzinfo=UTC)),
    (CimDateTime(text="P1DT1H", kind="Interval"), CimType.DATETIME, timedelta(days=1, hours=1)),
    (CimDateTime(text="2024-03-01T08:00:00Z"), CimType.STRING, "2024-03-01T08:00:00Z"),
    (REF, CimType.REFERENCE, REF),
]


@pytest.mark.parametrize(("raw", "cim_type", "expected"), COERCE)
def test_coerce(raw: PropertyValue, cim_type: CimType, expected: object) -> None:
    result = coerce(raw, cim_type)
    assert result == expected
    assert type(result) is type(expected)


BAD = [
    ("256", CimType.UINT8, "outside 0..255"),
    ("-1", CimType.UINT32, "outside"),
    ("2147483648", CimType.SINT32, "outside"),
    ("1.0", CimType.UINT16, "uint16"),
    ("0x10", CimType.UINT16, "uint16"),
    ("", CimType.UINT16, "uint16"),
    ("yes", CimType.BOOLEAN, "boolean"),
    ("abc", CimType.REAL64, "real64"),
    ("xy", CimType.CHAR16, "one character"),
    ("2024-13-01T00:00:00Z", CimType.DATETIME, "datetime"),
    ("soon", CimType.DATETIME, "datetime"),
    ("text", CimType.REFERENCE, "endpoint reference"),
    (REF, CimType.STRING, "string"),
    (REF, CimType.UINT8, "uint8"),
    ("<not-cimxml", CimType.INSTANCE, "CIM-XML"),
]


@pytest.mark.parametrize(("raw", "cim_type", "words"), BAD)
def test_coerce_rejects_with_protocol_error(
    raw: PropertyValue, cim_type: CimType, words: str
) -> None:
    with pytest.raises(ProtocolError, match=words):
        coerce(raw, cim_type)


def test_coerce_arrays() -> None:
    assert coerce(None, CimType.UINT16, array=True) == []
    assert coerce("2", CimType.UINT16, array=True) == [2]
    assert coerce(["2", "32782"], CimType.UINT16, array=True) == [2, 32782]
    assert coerce(["true", None], CimType.BOOLEAN, array=True) == [True, None]
    with pytest.raises(ProtocolError, match="got an array of 2"):
        coerce(["1", "2"], CimType.UINT16)


def test_coerce_instances() -> None:
    inst = CimInstance("X", "urn:X", {"a": "1"})
    assert coerce(inst, CimType.INSTANCE) is inst
    text = (
        '<INSTANCE CLASSNAME="Y"><PROPERTY NAME="n" TYPE="uint8"><VALUE>3</VALUE></PROPERTY>'
        "</INSTANCE>"
    )
    assert coerce(text, CimType.INSTANCE) == EmbeddedInstance("Y", {"n": (CimType.UINT8, 3)})


FORMAT = [
    (True, CimType.BOOLEAN, "true"),
    (False, CimType.BOOLEAN, "false"),
    ("TRUE", CimType.BOOLEAN, "true"),
    (7, CimType.UINT8, "7"),
    ("12", CimType.UINT16, "12"),
    (-5, CimType.SINT64, "-5"),
    (2**64 - 1, CimType.UINT64, "18446744073709551615"),
    (1.5, CimType.REAL32, "1.5"),
    (3, CimType.REAL64, "3.0"),
    (float("nan"), CimType.REAL64, "NaN"),
    (float("-inf"), CimType.REAL64, "-INF"),
    ("a b", CimType.STRING, "a b"),
    ("x", CimType.CHAR16, "x"),
    (datetime(2024, 3, 1, 8, tzinfo=UTC), CimType.DATETIME, "20240301080000.000000+000"),
    (timedelta(hours=1), CimType.DATETIME, "00000000010000.000000:000"),
    (CimDateTime(text="P1D", kind="Interval"), CimType.DATETIME, "00000001000000.000000:000"),
    ("00000001000000.000000:000", CimType.DATETIME, "00000001000000.000000:000"),
    (
        EmbeddedInstance("Y", {"n": (CimType.UINT8, 3)}),
        CimType.INSTANCE,
        '<INSTANCE CLASSNAME="Y"><PROPERTY NAME="n" TYPE="uint8"><VALUE>3</VALUE></PROPERTY>'
        "</INSTANCE>",
    ),
]


@pytest.mark.parametrize(("value", "cim_type", "expected"), FORMAT)
def test_format_value(value: object, cim_type: CimType, expected: str) -> None:
    assert format_value(value, cim_type) == expected


FORMAT_BAD: list[tuple[object, CimType, type[Exception]]] = [
    (256, CimType.UINT8, ValueError),
    (-1, CimType.UINT64, ValueError),
    (True, CimType.UINT8, TypeError),  # bool is not an integer here
    (1.5, CimType.UINT32, TypeError),
    ("x", CimType.UINT32, ValueError),
    ("maybe", CimType.BOOLEAN, TypeError),
    (1, CimType.STRING, TypeError),
    (True, CimType.REAL64, TypeError),
    ("ab", CimType.CHAR16, ValueError),
    ("tomorrow", CimType.DATETIME, ValueError),
    (1, CimType.DATETIME, TypeError),
    (REF, CimType.REFERENCE, TypeError),
    (1, CimType.INSTANCE, TypeError),
]


@pytest.mark.parametrize(("value", "cim_type", "exc"), FORMAT_BAD)
def test_format_value_rejects(value: object, cim_type: CimType, exc: type[Exception]) -> None:
    with pytest.raises(exc):
        format_value(value, cim_type)


@pytest.mark.parametrize("cim_type", sorted(INTEGER_RANGES, key=str))
def test_integer_bounds_round_trip(cim_type: CimType) -> None:
    low, high = INTEGER_RANGES[cim_type]
    for value in (low, high):
        assert coerce(format_value(value, cim_type), cim_type) == value
    for value in (low - 1, high + 1):
        with pytest.raises(ValueError):
            format_value(value, cim_type)
        with pytest.raises(ProtocolError):
            coerce(str(value), cim_type)
