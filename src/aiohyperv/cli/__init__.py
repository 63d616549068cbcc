"""The ``aiohyperv`` command line: virsh's commands and layouts over the public driver API.

The names load on first use (see ``aiohyperv._lazy``), so ``aiohyperv --version`` answers
without building the parser of every command (``__main__``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohyperv._lazy import lazy_exports

if TYPE_CHECKING:
    from ._main import build_parser, main, run

__all__ = ["build_parser", "main", "run"]

_LAZY = {"build_parser": "._main", "main": "._main", "run": "._main"}
if not TYPE_CHECKING:  # type checkers see the imports above, not a catch-all __getattr__
    __getattr__, __dir__ = lazy_exports(__name__, _LAZY)
del TYPE_CHECKING, lazy_exports
