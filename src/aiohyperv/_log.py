"""The package logger. Log with lazy %-arguments, never secrets."""

from __future__ import annotations

import logging

__all__ = ["logger"]

logger = logging.getLogger("aiohyperv")
