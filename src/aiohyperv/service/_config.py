"""The service's settings, and the parsers for durations, listen addresses and database URLs."""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass, field
from typing import Literal

from .._exceptions import ConfigError

__all__ = [
    "DatabaseURL",
    "ServiceConfig",
    "parse_database_url",
    "parse_duration",
    "parse_listen",
]

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?", re.IGNORECASE)
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}


def parse_duration(text: str) -> float:
    """Seconds from ``"90"``, ``"90s"``, ``"5m"``, ``"1h30m"``, ``"30d"`` or ``"250ms"``.

    Raises:
        ConfigError: The text is not a positive duration.
    """
    source = text.strip()
    position = 0
    total = 0.0
    for match in _DURATION.finditer(source):
        if match.start() != position:
            break
        total += float(match.group(1)) * _UNITS[(match.group(2) or "s").lower()]
        position = match.end()
    if not source or position != len(source) or total <= 0:
        raise ConfigError(f"not a positive duration: {text!r} (use e.g. 30s, 5m, 2h, 30d)")
    return total


def parse_listen(text: str) -> tuple[str, int]:
    """``(host, port)`` from ``"127.0.0.1:8080"``, ``"[::1]:8080"`` or ``":8080"`` (loopback).

    Raises:
        ConfigError: The port is missing or out of range.
    """
    host, sep, port_text = text.strip().rpartition(":")
    if not sep:
        raise ConfigError(f"listen address needs a port: {text!r} (e.g. 127.0.0.1:8080)")
    host = host.strip("[]") or "127.0.0.1"
    try:
        port = int(port_text)
    except ValueError:
        raise ConfigError(f"not a port number: {port_text!r}") from None
    if not 0 <= port <= 65535:
        raise ConfigError(f"port out of range: {port}")
    return host, port


@dataclass(frozen=True, slots=True, kw_only=True)
class DatabaseURL:
    """Where the history lives.

    Attributes:
        kind: ``"sqlite"`` or ``"postgresql"``.
        target: The SQLite file path (``":memory:"`` allowed), or the PostgreSQL DSN.
    """

    kind: Literal["sqlite", "postgresql"]
    target: str = field(repr=False)

    @property
    def display(self) -> str:
        """The URL without its password, safe for logs."""
        if self.kind == "sqlite":
            return f"sqlite:///{self.target}"
        parts = urllib.parse.urlsplit(self.target)
        if parts.password is None:
            return self.target
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
        return urllib.parse.urlunsplit(parts._replace(netloc=netloc))

    def __repr__(self) -> str:
        return f"DatabaseURL({self.display!r})"


def parse_database_url(text: str) -> DatabaseURL:
    """``sqlite:///relative.db``, ``sqlite:////abs/path.db``, a bare file path, or
    ``postgresql://user@host:5432/db`` (``postgres://`` too).

    Raises:
        ConfigError: An unknown scheme.
    """
    if text.startswith(("postgresql://", "postgres://")):
        return DatabaseURL(kind="postgresql", target=text)
    if text.startswith("sqlite://"):
        path = text.removeprefix("sqlite://")
        path = path.removeprefix("/") if path.startswith("/") else path
        if not path:
            raise ConfigError("sqlite URL needs a file: sqlite:///aiohyperv.db")
        return DatabaseURL(kind="sqlite", target=path)
    if "://" in text:
        raise ConfigError(f"unsupported database URL scheme: {text.split('://', 1)[0]!r}")
    return DatabaseURL(kind="sqlite", target=text)


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceConfig:
    """Everything ``aiohyperv serve`` is told.

    Attributes:
        interval: Seconds from one run's start to the next (runs never overlap).
        timeout: Per-host deadline of one run, seconds.
        concurrency: Hosts inventoried at once.
        retention: Seconds of history kept (runs, samples, changes).
        database: Where history lives.
        listen: ``(host, port)`` of the HTTP server.
        enable_actions: Serve the VM start/stop endpoints (needs ``token``).
        token: Bearer token for state-changing endpoints; never logged or shown.
        metrics_vm_limit: At most this many per-VM series on ``/metrics`` (0: none).
        history_limit: Recent changes kept in memory for the live feed's replay.
        sse_queue: Events buffered per live-feed client before it is dropped as too slow.
    """

    interval: float = 300.0
    timeout: float = 60.0
    concurrency: int = 64
    retention: float = 30 * 86400.0
    database: DatabaseURL = field(
        default_factory=lambda: DatabaseURL(kind="sqlite", target="aiohyperv-serve.db")
    )
    listen: tuple[str, int] = ("127.0.0.1", 8080)
    enable_actions: bool = False
    token: str | None = field(default=None, repr=False)
    metrics_vm_limit: int = 0
    history_limit: int = 500
    sse_queue: int = 256

    def __post_init__(self) -> None:
        if self.enable_actions and not self.token:
            raise ConfigError("actions need a bearer token (--token-file)")
        if self.interval <= 0 or self.timeout <= 0 or self.retention <= 0:
            raise ConfigError("interval, timeout and retention must be positive")
        if self.concurrency < 1:
            raise ConfigError("concurrency must be at least 1")
