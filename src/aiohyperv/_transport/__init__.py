"""The asyncio transport: pooled HTTP(S) connections to many WS-Man hosts.

The only package that creates ``aiohttp.ClientSession`` objects.  :class:`SessionPool` holds one
keep-alive HTTP session per host within pool-wide limits; :class:`WSManSession` speaks WS-Man to
one host through it, using the sans-IO :mod:`aiohyperv.wsman` core for every byte.
"""

from __future__ import annotations

from ._errors import is_retryable, map_exceptions
from ._http import HostStats, HostTransport, Transport
from ._options import Limits, RetryPolicy, Timeouts, TLSOptions
from ._pool import PoolStats, SessionPool
from ._session import Enumerator, SessionStats, WSManSession
from ._tls import ssl_context

__all__ = [
    "Enumerator",
    "HostStats",
    "HostTransport",
    "Limits",
    "PoolStats",
    "RetryPolicy",
    "SessionPool",
    "SessionStats",
    "TLSOptions",
    "Timeouts",
    "Transport",
    "WSManSession",
    "is_retryable",
    "map_exceptions",
    "ssl_context",
]
