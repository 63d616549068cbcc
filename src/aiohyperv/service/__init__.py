"""``aiohyperv serve``: a fleet inventory service with history, a JSON API, Prometheus metrics
and a web dashboard.

Imported only by ``aiohyperv serve`` (and tests): the client library never loads it, nor
``aiohttp.web``.  Install its dependencies with ``pip install 'aiohyperv[serve]'``.
See ``docs/SERVICE.md``.
"""

from __future__ import annotations

from ._cli import build_parser, cli_main, serve
from ._config import (
    DatabaseURL,
    ServiceConfig,
    parse_database_url,
    parse_duration,
    parse_listen,
)
from ._diff import diff_host
from ._events import Event, EventBroker
from ._records import Change, ChangeKind, HostRecord, RunRecord, VMRecord
from ._scheduler import InventoryRunner, RunStats, Scheduler
from ._service import Service
from ._store import Store

__all__ = [
    "Change",
    "ChangeKind",
    "DatabaseURL",
    "Event",
    "EventBroker",
    "HostRecord",
    "InventoryRunner",
    "RunRecord",
    "RunStats",
    "Scheduler",
    "Service",
    "ServiceConfig",
    "Store",
    "VMRecord",
    "build_parser",
    "cli_main",
    "diff_host",
    "parse_database_url",
    "parse_duration",
    "parse_listen",
    "serve",
]
