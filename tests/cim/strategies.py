"""Hypothesis strategies for CIM values, shared by the cim and wsman round-trip tests."""

from __future__ import annotations

import string
from datetime import datetime, timedelta, timezone

from hypothesis import strategies as st

from aiohyperv.cim import (
    ANONYMOUS,
    EPR,
    WMI_RESOURCE_BASE,
    CimDateTime,
    CimInstance,
    CimType,
    EmbeddedInstance,
    PropertyValue,
    RawValue,
    is_never,
)

# Every character XML 1.0 can carry (tab, LF, CR, and the rest of the BMP and astral planes
# except surrogates and U+FFFE/U+FFFF).
xml_char = st.one_of(
    st.sampled_from("\t\n\r"),
    st.characters(
        min_codepoint=0x20,
        exclude_categories=("Cs",),  # type: ignore[arg-type]  # stub lists fewer categories
        exclude_characters="\ufffe\uffff",
    ),
)
xml_text = st.text(xml_char, max_size=40)
# Property, selector and class names: XML NCNames in the style WMI uses.
_FIRST = string.ascii_letters + "_"
name = st.builds(
    str.__add__,
    st.sampled_from(_FIRST),
    st.text(alphabet=_FIRST + string.digits, max_size=16),
)
namespace = st.sampled_from(["root/virtualization/v2", "root/virtualization", "root/cimv2"])


@st.composite
def class_uri(draw: st.DrawFn) -> str:
    return f"{WMI_RESOURCE_BASE}{draw(namespace)}/{draw(name)}"


@st.composite
def eprs(draw: st.DrawFn, *, anonymous: bool = False) -> EPR:
    selectors = draw(st.dictionaries(name, xml_text, max_size=4))
    address = ANONYMOUS
    if not anonymous and draw(st.booleans()):
        address = "https://" + draw(st.text(alphabet=string.ascii_lowercase, min_size=1))
    return EPR.make(draw(class_uri()), selectors, address)


# Whole-minute UTC offsets within what both wire forms can write (|offset| <= 999 minutes).
timezones = st.integers(min_value=-999, max_value=999).map(lambda m: timezone(timedelta(minutes=m)))
# WMI's "never" (1601-01-01T00:00:00Z) reads back as None, so round trips leave it out; its
# own tests are in test_datetime.py.
aware_datetimes = st.datetimes(
    min_value=datetime(1, 1, 2),
    max_value=datetime(9999, 12, 30),
    timezones=timezones,
).filter(lambda value: not is_never(value))
intervals = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=99_999_999))
cim_datetimes = st.one_of(aware_datetimes, intervals).map(CimDateTime.of)


def raw_values(depth: int = 1) -> st.SearchStrategy[RawValue]:
    base: st.SearchStrategy[RawValue] = st.one_of(xml_text, st.none(), eprs(), cim_datetimes)
    if depth <= 0:
        return base
    return st.one_of(base, instances(depth=depth - 1, min_properties=1))


def property_values(depth: int = 1) -> st.SearchStrategy[PropertyValue]:
    # A one-element array is written exactly like a scalar, and an empty one not at all, so
    # generated arrays have two or more elements (the declared type decides the rest).
    raw = raw_values(depth)
    return st.one_of(raw, st.lists(raw, min_size=2, max_size=4))


@st.composite
def instances(draw: st.DrawFn, *, depth: int = 1, min_properties: int = 0) -> CimInstance:
    uri = draw(class_uri())
    props = draw(st.dictionaries(name, property_values(depth), min_size=min_properties, max_size=8))
    return CimInstance(uri.rpartition("/")[2], uri, props)


_SCALAR_TYPES = {
    CimType.STRING: xml_text,
    CimType.BOOLEAN: st.booleans(),
    CimType.UINT8: st.integers(0, 2**8 - 1),
    CimType.SINT8: st.integers(-(2**7), 2**7 - 1),
    CimType.UINT16: st.integers(0, 2**16 - 1),
    CimType.SINT16: st.integers(-(2**15), 2**15 - 1),
    CimType.UINT32: st.integers(0, 2**32 - 1),
    CimType.SINT32: st.integers(-(2**31), 2**31 - 1),
    CimType.UINT64: st.integers(0, 2**64 - 1),
    CimType.SINT64: st.integers(-(2**63), 2**63 - 1),
    CimType.REAL32: st.floats(allow_nan=False, allow_infinity=False, width=32),
    CimType.REAL64: st.floats(allow_nan=False, allow_infinity=False),
    CimType.CHAR16: xml_char,
    CimType.DATETIME: st.one_of(aware_datetimes, intervals),
}


@st.composite
def embedded_instances(draw: st.DrawFn, *, depth: int = 1) -> EmbeddedInstance:
    inst = EmbeddedInstance(draw(name))
    for prop in draw(st.lists(name, max_size=6, unique=True)):
        kinds = [*_SCALAR_TYPES, CimType.REFERENCE] + ([CimType.INSTANCE] if depth > 0 else [])
        cim_type = draw(st.sampled_from(kinds))
        if cim_type is CimType.REFERENCE:
            value: object = draw(st.none() | eprs(anonymous=True))
        elif cim_type is CimType.INSTANCE:
            value = draw(st.none() | embedded_instances(depth=depth - 1))
        else:
            scalar = _SCALAR_TYPES[cim_type]
            value = draw(
                st.one_of(st.none(), scalar, st.lists(st.one_of(st.none(), scalar), max_size=3))
            )
        inst.set(prop, cim_type, value)
    return inst
