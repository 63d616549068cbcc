"""CIM date/time values in both wire forms.

WS-Management (DSP0230) writes datetime properties as ``<cim:Datetime>`` holding an
``xs:dateTime`` and intervals as ``<cim:Interval>`` holding an ``xs:duration``; CIM-XML (DSP0201)
and WMI method parameters use the DMTF string forms ``yyyymmddHHMMSS.mmmmmmsUUU`` (timestamp,
``s`` = ``+``/``-``, ``UUU`` = UTC offset in minutes) and ``ddddddddHHMMSS.mmmmmm:000``
(interval).  Both are supported here, as pure functions.

WMI writes a datetime that was never set (a VM that never changed state, a job that never
started) as the FILETIME epoch, ``1601-01-01T00:00:00Z`` (``16010101000000.000000+000`` in the
DMTF form): :data:`NEVER`.  :func:`is_never` recognises it, ``CimDateTime.is_never`` says it,
and the typed readers (``coerce``, ``CimInstance.get_datetime``) give ``None`` for it, as for
NULL, so no caller ever reports the year 1601 as a real time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

__all__ = [
    "NEVER",
    "CimDateTime",
    "format_cim_datetime",
    "format_cim_interval",
    "format_xs_datetime",
    "format_xs_duration",
    "is_never",
    "parse_cim_datetime",
    "parse_xs_datetime",
    "parse_xs_duration",
]

_TIMESTAMP = re.compile(r"(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})\.(\d{6})([+-])(\d{3})")
_INTERVAL = re.compile(r"(\d{8})(\d{2})(\d{2})(\d{2})\.(\d{6}):000")
_DURATION = re.compile(
    r"(-)?P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?"
    r"(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)(?:\.(\d*))?S)?)?"
)
_MAX_INTERVAL_DAYS = 99_999_999

#: The "never" datetime WMI writes for an unset time: the FILETIME epoch (zero ticks).
NEVER = datetime(1601, 1, 1, tzinfo=UTC)


def is_never(value: datetime | timedelta) -> bool:
    """Whether ``value`` is WMI's "never" (``1601-01-01T00:00:00``, UTC or naive).

    Intervals are never "never": a zero interval is a real duration.
    """
    if not isinstance(value, datetime):
        return False
    if value.tzinfo is None:
        return value == NEVER.replace(tzinfo=None)
    return value == NEVER


def parse_cim_datetime(text: str) -> datetime | timedelta:
    """Parse a DMTF datetime string: a timestamp gives an aware datetime, an interval a timedelta.

    Raises:
        ValueError: not one of the two 25-character DMTF forms, or a field uses the ``*``
            wildcard (which has no Python equivalent).
    """
    text = text.strip()
    match = _TIMESTAMP.fullmatch(text)
    if match is not None:
        year, month, day, hour, minute, second, micro, sign, offset = match.groups()
        minutes = int(offset) if sign == "+" else -int(offset)
        return datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second),
            int(micro),
            tzinfo=UTC if minutes == 0 else timezone(timedelta(minutes=minutes)),
        )
    match = _INTERVAL.fullmatch(text)
    if match is not None:
        days, hours, minutes_, seconds, micro = match.groups()
        hours_i, minutes_i, seconds_i = int(hours), int(minutes_), int(seconds)
        if hours_i > 23 or minutes_i > 59 or seconds_i > 59:
            raise ValueError(f"CIM interval field out of range: {text!r}")
        return timedelta(
            days=int(days),
            hours=hours_i,
            minutes=minutes_i,
            seconds=seconds_i,
            microseconds=int(micro),
        )
    raise ValueError(f"not a CIM datetime or interval: {text!r}")


def format_cim_datetime(value: datetime) -> str:
    """Format a datetime as a DMTF timestamp; a naive datetime is taken to be UTC.

    Raises:
        ValueError: the UTC offset is not a whole number of minutes or exceeds 999 minutes.
    """
    offset = value.utcoffset()
    total = 0 if offset is None else offset.total_seconds()
    if total % 60:
        raise ValueError(f"UTC offset {offset} is not a whole number of minutes")
    minutes = int(total // 60)
    if abs(minutes) > 999:
        raise ValueError(f"UTC offset {offset} does not fit in a CIM datetime")
    sign = "-" if minutes < 0 else "+"
    return (
        f"{value.year:04d}{value.month:02d}{value.day:02d}"
        f"{value.hour:02d}{value.minute:02d}{value.second:02d}."
        f"{value.microsecond:06d}{sign}{abs(minutes):03d}"
    )


def format_cim_interval(value: timedelta) -> str:
    """Format a non-negative timedelta as a DMTF interval (``ddddddddHHMMSS.mmmmmm:000``).

    Raises:
        ValueError: negative, or more than 99,999,999 days.
    """
    if value < timedelta(0):
        raise ValueError(f"CIM intervals cannot be negative: {value}")
    if value.days > _MAX_INTERVAL_DAYS:
        raise ValueError(f"interval of {value.days} days does not fit in a CIM interval")
    hours, rest = divmod(value.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{value.days:08d}{hours:02d}{minutes:02d}{seconds:02d}.{value.microseconds:06d}:000"


def parse_xs_datetime(text: str) -> datetime:
    """Parse the ``xs:dateTime`` inside ``<cim:Datetime>`` (``2014-04-03T14:45:50.46875+08:00``).

    Windows writes up to seven fractional digits; they are cut to microseconds.

    Raises:
        ValueError: not an ISO 8601 date-time.
    """
    text = text.strip()
    if "." in text:
        # datetime.fromisoformat takes at most 6 fractional digits in some versions: trim.
        head, _, tail = text.partition(".")
        digits = len(tail) - len(tail.lstrip("0123456789"))
        if digits > 6:
            text = f"{head}.{tail[:6]}{tail[digits:]}"
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    if "T" not in text:
        raise ValueError(f"not an xs:dateTime: {text!r}")
    return datetime.fromisoformat(text)


def format_xs_datetime(value: datetime) -> str:
    """Format a datetime as ``xs:dateTime`` (UTC written as ``Z``; naive stays without zone)."""
    text = value.isoformat()
    if text.endswith("+00:00"):
        text = text[:-6] + "Z"
    return text


def parse_xs_duration(text: str) -> timedelta:
    """Parse the ``xs:duration`` inside ``<cim:Interval>`` (``P0DT0H1M40S``).

    Raises:
        ValueError: not a duration, or it uses years/months (which have no fixed length).
    """
    match = _DURATION.fullmatch(text.strip())
    if match is None or text.strip() in ("P", "-P") or text.strip().endswith("T"):
        raise ValueError(f"not an xs:duration: {text!r}")
    neg, years, months, days, hours, minutes, seconds, fraction = match.groups()
    if (years and int(years)) or (months and int(months)):
        raise ValueError(f"xs:duration with years or months has no fixed length: {text!r}")
    micro = int((fraction or "").ljust(6, "0")[:6]) if fraction else 0
    value = timedelta(
        days=int(days or 0),
        hours=int(hours or 0),
        minutes=int(minutes or 0),
        seconds=int(seconds or 0),
        microseconds=micro,
    )
    return -value if neg else value


def format_xs_duration(value: timedelta) -> str:
    """Format a timedelta as ``xs:duration`` the way Windows does (``P1DT2H3M4.5S``)."""
    sign = ""
    if value < timedelta(0):
        sign, value = "-", -value
    hours, rest = divmod(value.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    frac = f".{value.microseconds:06d}".rstrip("0") if value.microseconds else ""
    return f"{sign}P{value.days}DT{hours}H{minutes}M{seconds}{frac}S"


@dataclass(frozen=True, slots=True, kw_only=True)
class CimDateTime:
    """A date/time value exactly as it came off the wire, parsed on demand.

    Attributes:
        text: the element text, untouched.
        kind: the DSP0230 element it came in: ``Datetime`` (xs:dateTime), ``Interval``
            (xs:duration), ``Date`` (xs:date), ``Time`` (xs:time) or ``CIMDateTime`` (DMTF
            string form).
    """

    text: str
    kind: str = "Datetime"

    @classmethod
    def of(cls, value: datetime | timedelta) -> CimDateTime:
        """The WS-Management form of a Python value (``cim:Datetime`` / ``cim:Interval``)."""
        if isinstance(value, timedelta):
            return cls(text=format_xs_duration(value), kind="Interval")
        return cls(text=format_xs_datetime(value), kind="Datetime")

    @property
    def is_interval(self) -> bool:
        """True for ``cim:Interval`` and for DMTF interval strings."""
        if self.kind == "CIMDateTime":
            return self.text.strip().endswith(":000")
        return self.kind == "Interval"

    @property
    def value(self) -> datetime | timedelta:
        """The Python value (aware datetime for timestamps with a zone).

        This is the wire value as it is: WMI's "never" comes back as :data:`NEVER` (check
        ``is_never``, or read through ``coerce``/``CimInstance.get_datetime``, which give
        ``None`` for it).

        Raises:
            ValueError: the text does not match its kind, or the kind is ``Time``.
        """
        kind = self.kind
        if kind == "Datetime":
            return parse_xs_datetime(self.text)
        if kind == "Interval":
            return parse_xs_duration(self.text)
        if kind == "CIMDateTime":
            return parse_cim_datetime(self.text)
        if kind == "Date":
            text = self.text.strip()
            if text.endswith(("Z", "z")):
                text = text[:-1] + "+00:00"
            date_part, tz_part = text[:10], text[10:]
            return datetime.fromisoformat(f"{date_part}T00:00:00{tz_part}")
        raise ValueError(f"cim:{kind} {self.text!r} has no datetime or timedelta value")

    @property
    def is_never(self) -> bool:
        """True for WMI's unset datetime, ``1601-01-01T00:00:00Z`` in either form.

        Text that does not parse is not "never" (reading ``value`` says what is wrong).
        """
        if self.kind not in ("Datetime", "CIMDateTime"):
            return False
        text = self.text.lstrip()
        if not text.startswith(("1601-01-01T", "16010101")):
            return False  # the common case, decided without parsing
        try:
            return is_never(self.value)
        except ValueError:
            return False

    def to_cim_string(self) -> str:
        """The DMTF string form (for CIM-XML and WMI method parameters)."""
        if self.kind == "CIMDateTime":
            return self.text.strip()
        value = self.value
        if isinstance(value, timedelta):
            return format_cim_interval(value)
        return format_cim_datetime(value)
