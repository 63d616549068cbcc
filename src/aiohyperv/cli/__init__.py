"""The ``aiohyperv`` command line: virsh's commands and layouts over the public driver API."""

from __future__ import annotations

from ._main import build_parser, main, run

__all__ = ["build_parser", "main", "run"]
