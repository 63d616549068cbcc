"""Re-exports that import their module on first use (PEP 562 module ``__getattr__``).

``import aiohyperv`` then costs only the package's own file: the transport (and aiohttp with
it), the driver and the fleet load when one of their names is first looked up, and a command
line that prints ``--help`` loads none of them.
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, table: Mapping[str, str]
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package``, which re-exports ``table``'s names.

    Args:
        package: the package's ``__name__``.
        table: exported name -> module it comes from (relative to ``package`` when it starts
            with a dot).

    Returns:
        ``(__getattr__, __dir__)`` to assign at the end of the package's ``__init__``.
    """
    namespace = vars(sys.modules[package])

    def __getattr__(name: str) -> object:
        try:
            module_name = table[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        value = getattr(importlib.import_module(module_name, package), name)
        # Cached in the package: the next lookup is a plain attribute read.
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(table))

    return __getattr__, __dir__
