"""Value objects that configure the transport: timeouts, limits, TLS and retries.

All are frozen, hashable dataclasses, so one instance can be shared by every host of a fleet and
``TLSOptions`` can key the process-wide SSL context cache.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .._exceptions import ConfigError

__all__ = ["Limits", "RetryPolicy", "TLSOptions", "Timeouts"]


def _positive(owner: str, name: str, value: float, *, allow_zero: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise ConfigError(f"{owner}.{name} must be a number, not {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        raise ConfigError(f"{owner}.{name} must be {'>= 0' if allow_zero else '> 0'}: {value!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Timeouts:
    """How long the client waits, in seconds.

    Attributes:
        connect: Opening the TCP (and TLS) connection.
        read: Between two reads of a response. It must exceed ``operation``, because a Windows
            host legitimately stays silent for up to OperationTimeout before it answers a Pull.
        total: One HTTP exchange from start to finish, including the wait for a free
            connection or operation slot; every retry gets its own ``total``.
        operation: The WS-Man ``OperationTimeout`` sent to the server (DSP0226 §6.1): how long
            the server may work on one request before it answers ``w:TimedOut``.
    """

    connect: float = 10.0
    read: float = 60.0
    total: float = 120.0
    operation: float = 20.0

    def __post_init__(self) -> None:
        for name in ("connect", "read", "total", "operation"):
            _positive("Timeouts", name, getattr(self, name))
        if self.read <= self.operation:
            raise ConfigError(
                f"Timeouts.read ({self.read}s) must exceed Timeouts.operation "
                f"({self.operation}s): the server may stay silent for the whole OperationTimeout"
            )
        if self.total < self.read:
            raise ConfigError(
                f"Timeouts.total ({self.total}s) must be at least Timeouts.read ({self.read}s)"
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """How much the pool may open and run at once.

    Windows caps WinRM per user (``MaxConcurrentOperationsPerUser`` 1500, ``MaxConnections``
    300 on Server 2012+, 25 on 2008 R2); the per-host defaults stay far inside both.

    Attributes:
        per_host_connections: TCP connections open to one host at most.
        per_host_operations: Requests admitted to one host at once; the rest queue.  With
            HTTP/1.1 a request needs a connection of its own, so admitted requests beyond
            ``per_host_connections`` wait (counted as queued) for one to come free.
        total_connections: TCP connections open across all hosts at most. When the cap is
            reached, the pool closes the keep-alive connections of idle hosts to make room.
        total_operations: Requests in flight across all hosts at most.
        idle_host_timeout: A host with nothing in flight for this long has its connections
            closed and its state dropped; it comes back lazily on next use.
        keepalive_timeout: An idle keep-alive connection is closed after this long. Keep it
            below the server's own idle timeout (HTTP.sys: 120 s) so reuse rarely meets a
            connection the server already dropped.
        max_envelope_size: ``MaxEnvelopeSize`` sent to the server, in bytes; a response larger
            than this plus ``response_slack`` is refused without being read into memory.
        response_slack: Allowance over ``max_envelope_size`` for HTTP framing and for servers
            that count the envelope loosely.
        max_pulls: Pulls one enumeration may send before it is abandoned with
            ``ProtocolError`` (and its context released): a guard against a server that never
            says EndOfSequence.  10,000 Pulls of even one item each is far beyond any Hyper-V
            class; ``WSManSession.enumerate(max_pulls=...)`` overrides it per call.
        max_rows_per_query: Items one enumeration may return before it is abandoned with
            ``ProtocolError`` (and its context released).  The largest Hyper-V class a real
            host enumerates is its resource settings: about 20 rows per VM, so 20,000 on a
            1,000-VM host; the default leaves five times that.
        max_bytes_per_host: Response bytes the enumerations of one host may have received,
            in all.  An enumeration counts while it runs; in a fleet, every enumeration of a
            host counts until the host's operation ends (it may keep every row; see
            ``WSManSession.retain_enumerations``).  Parsed items take about twice their size
            on the wire in Python objects.  A 1,000-VM host answers its largest query in about
            30 MB; the default (256 MiB) is eight times that.
        max_bytes_total: The same, summed over every host of the pool: what a fleet's running
            enumerations may hold at once.  Past it, the enumeration whose answer crossed the
            line fails with ``ProtocolError``; the others go on.
    """

    per_host_connections: int = 4
    per_host_operations: int = 8
    total_connections: int = 1000
    total_operations: int = 2000
    idle_host_timeout: float = 60.0
    keepalive_timeout: float = 30.0
    max_envelope_size: int = 153600
    response_slack: int = 65536
    max_pulls: int = 10_000
    max_rows_per_query: int = 100_000
    max_bytes_per_host: int = 256 * 1024 * 1024
    max_bytes_total: int = 1024 * 1024 * 1024

    def __post_init__(self) -> None:
        for name in (
            "per_host_connections",
            "per_host_operations",
            "total_connections",
            "total_operations",
            "max_envelope_size",
            "max_pulls",
            "max_rows_per_query",
            "max_bytes_per_host",
            "max_bytes_total",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"Limits.{name} must be an integer >= 1, not {value!r}")
        if self.max_envelope_size < 8192:
            # DSP0226 R6.2-4: a service may refuse anything smaller than 8192 octets.
            raise ConfigError(f"Limits.max_envelope_size must be >= 8192: {self.max_envelope_size}")
        if isinstance(self.response_slack, bool) or not isinstance(self.response_slack, int):
            raise ConfigError(f"Limits.response_slack must be an integer: {self.response_slack!r}")
        _positive("Limits", "response_slack", self.response_slack, allow_zero=True)
        _positive("Limits", "idle_host_timeout", self.idle_host_timeout)
        _positive("Limits", "keepalive_timeout", self.keepalive_timeout)

    @property
    def max_response_bytes(self) -> int:
        """The largest response body the transport reads."""
        return self.max_envelope_size + self.response_slack


@dataclass(frozen=True, slots=True, kw_only=True)
class TLSOptions:
    """How HTTPS connections are verified and which client certificate they present.

    Verification is on by default. A URI's ``no_verify=1`` turns it off for that host only.
    Equal options share one ``ssl.SSLContext`` for the whole process.

    Attributes:
        verify: Check the server certificate chain and host name.
        ca_file: PEM file of CA certificates to trust instead of the system store.
        ca_dir: Directory of hashed CA certificates (``c_rehash``) to trust.
        client_cert: PEM client certificate, for WinRM certificate authentication.
        client_key: PEM private key of ``client_cert`` (unencrypted), if not in the same file.
    """

    verify: bool = True
    ca_file: str | None = None
    ca_dir: str | None = None
    client_cert: str | None = None
    client_key: str | None = None

    def __post_init__(self) -> None:
        if self.client_key is not None and self.client_cert is None:
            raise ConfigError("TLSOptions.client_key needs TLSOptions.client_cert")


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """When idempotent requests are sent again.

    Only Identify, Get, Enumerate and Pull are ever retried, on a connection reset or an HTTP
    503; Invoke, Put, Create and Delete are never retried, because the server may already have
    acted on them.  A Pull whose answer was cut off half way is not retried either: the server
    has moved its cursor, and the retry would skip a batch.  Delays grow exponentially from
    ``backoff`` up to ``max_backoff`` with full jitter, so a fleet whose hosts all hiccup at once
    does not retry in lockstep.

    Attributes:
        attempts: Tries in total for an idempotent request (1 disables retries).
        backoff: First delay bound, in seconds.
        max_backoff: Largest delay bound, in seconds.
        pull_timeouts: How many ``w:TimedOut`` answers to a Pull are re-sent in a row before the
            fault is raised (the server says "nothing yet", not "failed").
    """

    attempts: int = 3
    backoff: float = 0.1
    max_backoff: float = 2.0
    pull_timeouts: int = 30

    def __post_init__(self) -> None:
        for name in ("attempts", "pull_timeouts"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(f"RetryPolicy.{name} must be an integer >= 0, not {value!r}")
        if self.attempts < 1:
            raise ConfigError("RetryPolicy.attempts must be >= 1")
        _positive("RetryPolicy", "backoff", self.backoff, allow_zero=True)
        _positive("RetryPolicy", "max_backoff", self.max_backoff, allow_zero=True)
