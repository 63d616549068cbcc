"""CimInstance: one WMI object as it came off the wire, typed on demand."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypeAlias

from aiohyperv._exceptions import ProtocolError
from aiohyperv.cim._datetime import CimDateTime, format_xs_datetime, format_xs_duration
from aiohyperv.cim._epr import EPR
from aiohyperv.cim._types import CimType, coerce

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

__all__ = ["CimInstance", "PropertyValue", "RawValue"]

_MISSING = object()


class CimInstance:
    """A CIM instance: class name, namespace URI and raw property values.

    Built on the hot parse path, so construction is four attribute stores and values stay as
    the wire wrote them: ``str`` text, ``None`` for ``xsi:nil``, ``EPR`` for references,
    ``CimDateTime`` for ``cim:Datetime``/``cim:Interval``, a nested ``CimInstance`` for embedded
    objects and a ``list`` for repeated elements (arrays).  The ``get_*`` helpers and
    ``coerce()`` turn them into typed values when asked.

    Attributes:
        class_name: ``Msvm_ComputerSystem``.
        resource_uri: the class resource URI (the XML namespace of the instance element).
        properties: name -> raw value, in wire order.
        epr: the instance's own reference, when the server supplied one
            (EnumerateObjectAndEPR) or the caller set it.
    """

    __slots__ = ("class_name", "epr", "properties", "resource_uri")

    def __init__(
        self,
        class_name: str,
        resource_uri: str | None = None,
        properties: dict[str, PropertyValue] | None = None,
        epr: EPR | None = None,
    ) -> None:
        self.class_name = class_name
        self.resource_uri = resource_uri
        self.properties: dict[str, PropertyValue] = {} if properties is None else properties
        self.epr = epr

    @classmethod
    def from_values(
        cls,
        class_name: str,
        resource_uri: str | None,
        values: Mapping[str, object],
        *,
        epr: EPR | None = None,
    ) -> CimInstance:
        """Build an instance from Python values, writing them in wire form.

        ``bool`` becomes ``"true"``/``"false"``, ``int``/``float`` decimal text, ``datetime`` and
        ``timedelta`` ``CimDateTime`` (``cim:Datetime``/``cim:Interval``); ``str``, ``None``,
        ``EPR``, ``CimDateTime`` and ``CimInstance`` are kept; lists and tuples become arrays.

        Raises:
            TypeError: a value of another type.
        """
        return cls(class_name, resource_uri, {k: _to_raw(v) for k, v in values.items()}, epr)

    # --- mapping protocol -------------------------------------------------------------------
    def __getitem__(self, name: str) -> PropertyValue:
        return self.properties[name]

    def __setitem__(self, name: str, value: PropertyValue) -> None:
        self.properties[name] = value

    def __contains__(self, name: object) -> bool:
        return name in self.properties

    def __iter__(self) -> Iterator[str]:
        return iter(self.properties)

    def __len__(self) -> int:
        return len(self.properties)

    def get(self, name: str, default: PropertyValue = None) -> PropertyValue:
        """The raw value of ``name``, or ``default`` when the property is absent."""
        return self.properties.get(name, default)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CimInstance):
            return NotImplemented
        return (
            self.class_name == other.class_name
            and self.resource_uri == other.resource_uri
            and self.properties == other.properties
            and self.epr == other.epr
        )

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"<CimInstance {self.class_name} ({len(self.properties)} properties)>"

    # --- typed access -----------------------------------------------------------------------
    def _scalar(self, name: str) -> RawValue:
        value = self.properties.get(name)
        if isinstance(value, list):
            raise ProtocolError(
                f"{self.class_name}.{name} is an array of {len(value)} values, expected one"
            )
        return value

    def get_str(self, name: str) -> str | None:
        """``name`` as text; ``None`` when absent or NULL."""
        value = self._scalar(name)
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, CimDateTime):
            return value.text
        raise ProtocolError(f"{self.class_name}.{name} is a {type(value).__name__}, not text")

    def _typed(self, name: str, cim_type: CimType) -> object:
        try:
            return coerce(self._scalar(name), cim_type)
        except ProtocolError as exc:
            raise ProtocolError(f"{self.class_name}.{name}: {exc}") from None

    def get_int(self, name: str) -> int | None:
        """``name`` as an integer (decimal text, any size); ``None`` when absent or NULL.

        Raises:
            ProtocolError: the text is not an integer.
        """
        value = self._scalar(name)
        if value is None:
            return None
        if isinstance(value, str):
            try:
                return int(value.strip(), 10)
            except ValueError:
                pass
        raise ProtocolError(f"{self.class_name}.{name} is {value!r}, not an integer")

    def get_bool(self, name: str) -> bool | None:
        """``name`` as a boolean (``true``/``false`` in any case); ``None`` when absent or NULL."""
        result = self._typed(name, CimType.BOOLEAN)
        return result if isinstance(result, bool) else None

    def get_float(self, name: str) -> float | None:
        """``name`` as a float; ``None`` when absent or NULL."""
        result = self._typed(name, CimType.REAL64)
        return result if isinstance(result, float) else None

    def get_list(self, name: str) -> list[str]:
        """An array property as text: ``[]`` when absent or NULL, ``[x]`` for one element.

        Windows leaves a NULL array out of the instance altogether (no ``xsi:nil`` element),
        so absent and NULL read the same.
        """
        value = self.properties.get(name)
        if value is None:
            return []
        items = value if isinstance(value, list) else [value]
        result: list[str] = []
        for item in items:
            if item is None:
                continue
            if not isinstance(item, str):
                raise ProtocolError(
                    f"{self.class_name}.{name} holds a {type(item).__name__}, not text"
                )
            result.append(item)
        return result

    def get_int_list(self, name: str) -> list[int]:
        """An integer array property (``[]`` when absent or NULL)."""
        try:
            return [int(item.strip(), 10) for item in self.get_list(name)]
        except ValueError:
            raise ProtocolError(f"{self.class_name}.{name} holds a non-integer value") from None

    def get_datetime(self, name: str) -> datetime | None:
        """A datetime property (``cim:Datetime`` or DMTF text).

        ``None`` when absent, NULL, or WMI's "never" (``1601-01-01T00:00:00Z``).
        """
        result = self._typed(name, CimType.DATETIME)
        if result is None or isinstance(result, datetime):
            return result
        raise ProtocolError(f"{self.class_name}.{name} is an interval, not a datetime")

    def get_interval(self, name: str) -> timedelta | None:
        """An interval property (``cim:Interval`` or DMTF text); ``None`` when absent or NULL."""
        result = self._typed(name, CimType.DATETIME)
        if result is None or isinstance(result, timedelta):
            return result
        raise ProtocolError(f"{self.class_name}.{name} is a datetime, not an interval")

    def get_epr(self, name: str) -> EPR | None:
        """A reference property; ``None`` when absent or NULL."""
        result = self._typed(name, CimType.REFERENCE)
        return result if isinstance(result, EPR) else None

    def get_epr_list(self, name: str) -> list[EPR]:
        """A reference array (``ResultingResourceSettings``...); ``[]`` when absent or NULL."""
        result = coerce(self.properties.get(name), CimType.REFERENCE, array=True)
        assert isinstance(result, list)
        return [item for item in result if isinstance(item, EPR)]

    def typed(self, name: str, cim_type: CimType, *, array: bool = False) -> object:
        """``coerce()`` applied to property ``name`` (see ``coerce`` for the mapping)."""
        try:
            return coerce(self.properties.get(name), cim_type, array=array)
        except ProtocolError as exc:
            raise ProtocolError(f"{self.class_name}.{name}: {exc}") from None


RawValue: TypeAlias = str | EPR | CimDateTime | CimInstance | None
PropertyValue: TypeAlias = RawValue | list[RawValue]


def _to_raw_one(value: object) -> RawValue:
    if value is None or isinstance(value, str | EPR | CimDateTime | CimInstance):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime):
        return CimDateTime(text=format_xs_datetime(value), kind="Datetime")
    if isinstance(value, timedelta):
        return CimDateTime(text=format_xs_duration(value), kind="Interval")
    raise TypeError(f"cannot store a {type(value).__name__} in a CIM property")


def _to_raw(value: object) -> PropertyValue:
    if isinstance(value, list | tuple):
        return [_to_raw_one(item) for item in value]
    return _to_raw_one(value)
