"""CIM datetime/interval in both wire forms: DMTF strings and xs:dateTime / xs:duration."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aiohyperv.cim import (
    NEVER,
    CimDateTime,
    CimInstance,
    CimType,
    coerce,
    format_cim_datetime,
    format_cim_interval,
    format_xs_datetime,
    format_xs_duration,
    is_never,
    parse_cim_datetime,
    parse_xs_datetime,
    parse_xs_duration,
)

from .strategies import aware_datetimes, intervals

PST = timezone(timedelta(hours=-8))
IST = timezone(timedelta(hours=5, minutes=30))

DMTF = [
    ("20240301080000.000000+000", datetime(2024, 3, 1, 8, 0, tzinfo=UTC)),
    ("20240131080700.123456-480", datetime(2024, 1, 31, 8, 7, 0, 123456, tzinfo=PST)),
    ("19991231235959.999999+330", datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=IST)),
    ("00000000000000.000000:000", timedelta(0)),
    ("00000001020304.000005:000", timedelta(days=1, hours=2, minutes=3, seconds=4, microseconds=5)),
    ("99999999235959.999999:000", timedelta(days=99999999, seconds=86399, microseconds=999999)),
]


@pytest.mark.parametrize(("text", "value"), DMTF)
def test_dmtf_parse_and_format(text: str, value: datetime | timedelta) -> None:
    parsed = parse_cim_datetime(text)
    assert parsed == value
    assert type(parsed) is type(value)
    if isinstance(value, datetime):
        assert parsed.utcoffset() == value.utcoffset()  # type: ignore[union-attr]
        assert format_cim_datetime(value) == text
    else:
        assert format_cim_interval(value) == text
    assert parse_cim_datetime(f"  {text}\n") == value  # surrounding blanks tolerated


def test_naive_datetime_is_written_as_utc() -> None:
    assert format_cim_datetime(datetime(2024, 3, 1, 8)) == "20240301080000.000000+000"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2024",
        "20240301080000.000000",  # no offset
        "2024030108000*.000000+000",  # wildcards have no Python value
        "20241301080000.000000+000",  # month 13
        "00000000240000.000000:000",  # 24 hours in an interval
        "00000000006000.000000:000",  # 60 minutes
        "20240301080000.000000+0000",  # four-digit offset
        "2024-03-01T08:00:00Z",  # xs form is not DMTF
    ],
)
def test_dmtf_rejects(text: str) -> None:
    with pytest.raises(ValueError, match=r"CIM|month|range|day"):
        parse_cim_datetime(text)


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (datetime(2024, 1, 1, tzinfo=timezone(timedelta(seconds=30))), "whole number of minutes"),
        (datetime(2024, 1, 1, tzinfo=timezone(timedelta(hours=17))), "does not fit"),
    ],
)
def test_dmtf_format_rejects_offsets(value: datetime, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        format_cim_datetime(value)


@pytest.mark.parametrize(
    ("value", "words"),
    [(timedelta(seconds=-1), "negative"), (timedelta(days=100_000_000), "does not fit")],
)
def test_dmtf_interval_rejects(value: timedelta, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        format_cim_interval(value)


XS_DATETIMES = [
    ("2024-03-01T08:00:00Z", datetime(2024, 3, 1, 8, tzinfo=UTC)),
    (
        "2014-04-03T14:45:50.46875+08:00",
        datetime(2014, 4, 3, 14, 45, 50, 468750, tzinfo=timezone(timedelta(hours=8))),
    ),
    # Windows writes seven fractional digits; they are cut to microseconds.
    ("2013-04-09T15:42:20.1234567Z", datetime(2013, 4, 9, 15, 42, 20, 123456, tzinfo=UTC)),
    ("2013-04-09T15:42:20.4124Z", datetime(2013, 4, 9, 15, 42, 20, 412400, tzinfo=UTC)),
    ("2013-04-09T15:42:20", datetime(2013, 4, 9, 15, 42, 20)),
]


@pytest.mark.parametrize(("text", "value"), XS_DATETIMES)
def test_xs_datetime(text: str, value: datetime) -> None:
    assert parse_xs_datetime(text) == value
    assert parse_xs_datetime(text).utcoffset() == value.utcoffset()


def test_xs_datetime_format() -> None:
    assert format_xs_datetime(datetime(2024, 3, 1, 8, tzinfo=UTC)) == "2024-03-01T08:00:00Z"
    assert format_xs_datetime(datetime(2024, 3, 1, 8, 0, 0, 500, tzinfo=PST)) == (
        "2024-03-01T08:00:00.000500-08:00"
    )


@pytest.mark.parametrize("text", ["", "2024-03-01", "yesterday", "2024-03-01T25:00:00Z"])
def test_xs_datetime_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_xs_datetime(text)


XS_DURATIONS = [
    ("P0DT0H1M40S", timedelta(minutes=1, seconds=40)),
    ("P0DT0H0M0.5S", timedelta(milliseconds=500)),
    ("PT20.000S", timedelta(seconds=20)),
    ("P1D", timedelta(days=1)),
    ("PT1H", timedelta(hours=1)),
    ("-P1DT1S", -timedelta(days=1, seconds=1)),
    (
        "P10675199DT2H48M5.4775807S",
        timedelta(days=10675199, hours=2, minutes=48, seconds=5, microseconds=477580),
    ),
    ("P0Y0M3D", timedelta(days=3)),
]


@pytest.mark.parametrize(("text", "value"), XS_DURATIONS)
def test_xs_duration(text: str, value: timedelta) -> None:
    assert parse_xs_duration(text) == value


@pytest.mark.parametrize("text", ["", "P", "PT", "P1Y", "P2M", "1D", "P1DT", "PT1.2.3S", "P-1D"])
def test_xs_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_xs_duration(text)


def test_xs_duration_format() -> None:
    assert format_xs_duration(timedelta(minutes=1, seconds=40)) == "P0DT0H1M40S"
    assert format_xs_duration(timedelta(days=2, microseconds=500000)) == "P2DT0H0M0.5S"
    assert format_xs_duration(-timedelta(seconds=1)) == "-P0DT0H0M1S"


@given(aware_datetimes)
def test_dmtf_datetime_round_trip(value: datetime) -> None:
    text = format_cim_datetime(value)
    assert len(text) == 25
    parsed = parse_cim_datetime(text)
    assert parsed == value and parsed.utcoffset() == value.utcoffset()  # type: ignore[union-attr]


@given(intervals)
def test_dmtf_interval_round_trip(value: timedelta) -> None:
    text = format_cim_interval(value)
    assert len(text) == 25
    assert parse_cim_datetime(text) == value


@given(aware_datetimes)
def test_xs_datetime_round_trip(value: datetime) -> None:
    parsed = parse_xs_datetime(format_xs_datetime(value))
    assert parsed == value and parsed.utcoffset() == value.utcoffset()


@given(st.timedeltas(min_value=timedelta(days=-99_999), max_value=timedelta(days=99_999_999)))
def test_xs_duration_round_trip(value: timedelta) -> None:
    assert parse_xs_duration(format_xs_duration(value)) == value


@given(st.one_of(aware_datetimes, intervals))
def test_cim_datetime_value_object(value: datetime | timedelta) -> None:
    wrapped = CimDateTime.of(value)
    assert wrapped.value == value
    assert wrapped.is_interval is isinstance(value, timedelta)
    assert parse_cim_datetime(wrapped.to_cim_string()) == value
    dmtf = CimDateTime(text=wrapped.to_cim_string(), kind="CIMDateTime")
    assert dmtf.value == value and dmtf.is_interval is wrapped.is_interval
    assert hash(wrapped) == hash(CimDateTime.of(value))


def test_cim_datetime_date_and_time_kinds() -> None:
    assert CimDateTime(text="2024-03-01Z", kind="Date").value == datetime(2024, 3, 1, tzinfo=UTC)
    assert CimDateTime(text="2024-03-01", kind="Date").value == datetime(2024, 3, 1)
    with pytest.raises(ValueError, match="cim:Time"):
        CimDateTime(text="08:00:00", kind="Time").value  # noqa: B018 (the property raises)


# --- WMI's "never": 1601-01-01T00:00:00Z, the FILETIME epoch ----------------------------------
NEVER_FORMS = [
    CimDateTime(text="1601-01-01T00:00:00Z", kind="Datetime"),
    CimDateTime(text=" 1601-01-01T00:00:00.000000Z ", kind="Datetime"),
    CimDateTime(text="1601-01-01T00:00:00+00:00", kind="Datetime"),
    CimDateTime(text="1601-01-01T00:00:00", kind="Datetime"),  # no zone: taken as UTC
    CimDateTime(text="16010101000000.000000+000", kind="CIMDateTime"),
]


@pytest.mark.parametrize("value", NEVER_FORMS, ids=lambda v: v.text.strip())
def test_never_is_recognised_and_reads_as_none(value: CimDateTime) -> None:
    assert value.is_never
    assert value.value.replace(tzinfo=None) == datetime(1601, 1, 1)  # type: ignore[union-attr]
    assert coerce(value, CimType.DATETIME) is None
    assert coerce(value.text, CimType.DATETIME) is None  # the same text without the element
    assert coerce([value, value], CimType.DATETIME, array=True) == [None, None]
    inst = CimInstance("Msvm_ComputerSystem", None, {"TimeOfLastStateChange": value})
    assert inst.get_datetime("TimeOfLastStateChange") is None


@pytest.mark.parametrize(
    "value",
    [
        CimDateTime(text="1601-01-01T00:00:01Z", kind="Datetime"),
        CimDateTime(text="1601-01-02T00:00:00Z", kind="Datetime"),
        CimDateTime(text="1601-01-01T00:00:00-01:00", kind="Datetime"),  # 01:00 UTC
        CimDateTime(text="2013-04-15T16:28:43.488171Z", kind="Datetime"),
        CimDateTime(text="P0D", kind="Interval"),  # a zero interval is a real duration
        CimDateTime(text="00000000000000.000000:000", kind="CIMDateTime"),
        CimDateTime(text="1601-01-01Tgarbage", kind="Datetime"),
        CimDateTime(text="1601-01-01", kind="Date"),
    ],
    ids=lambda v: v.text,
)
def test_other_values_are_not_never(value: CimDateTime) -> None:
    assert not value.is_never


def test_is_never_on_python_values() -> None:
    assert NEVER == datetime(1601, 1, 1, tzinfo=UTC)
    assert is_never(NEVER)
    assert is_never(datetime(1601, 1, 1))
    assert is_never(datetime(1601, 1, 1, 5, 30, tzinfo=IST))  # the same instant
    assert not is_never(datetime(1601, 1, 1, tzinfo=PST))
    assert not is_never(timedelta(0))
    real = CimDateTime(text="2013-04-15T16:28:43.488171Z", kind="Datetime")
    assert coerce(real, CimType.DATETIME) == datetime(2013, 4, 15, 16, 28, 43, 488171, tzinfo=UTC)
