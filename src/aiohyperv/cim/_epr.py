"""WS-Addressing endpoint references: how WS-Management names one CIM instance."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["ANONYMOUS", "EPR"]

ANONYMOUS = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"


@dataclass(frozen=True, slots=True)
class EPR:
    """A reference to one CIM instance: resource URI plus key selectors.

    Hashable and order-independent (selectors are kept sorted by name), so it can key dicts
    and sets.  It is what Get/Put/Delete/Invoke address, what EPR-mode enumerations return, and
    what reference-typed method parameters (``AffectedSystem``, ``Job``...) carry.

    Attributes:
        resource_uri: the class resource URI (``.../wmi/root/virtualization/v2/Msvm_X``).
        selectors: ``(name, value)`` pairs sorted by name.
        address: the ``a:Address``; Windows always writes the anonymous role here.
    """

    resource_uri: str
    selectors: tuple[tuple[str, str], ...] = ()
    address: str = ANONYMOUS

    @classmethod
    def make(
        cls, resource_uri: str, selectors: Mapping[str, str] | None = None, address: str = ANONYMOUS
    ) -> EPR:
        """Build an EPR from a selector mapping (sorted for you)."""
        items = tuple(sorted((selectors or {}).items()))
        return cls(resource_uri, items, address)

    def selector(self, name: str) -> str | None:
        """The value of selector ``name`` (exact, case-sensitive match), or ``None``."""
        for key, value in self.selectors:
            if key == name:
                return value
        return None

    @property
    def selector_map(self) -> dict[str, str]:
        """The selectors as a new dict."""
        return dict(self.selectors)

    @property
    def class_name(self) -> str:
        """Last path segment of the resource URI (``Msvm_ComputerSystem``)."""
        return self.resource_uri.rstrip("/").rpartition("/")[2]
