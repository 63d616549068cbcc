"""``SessionPool``: keep-alive HTTP(S) connections to many hosts, within pool-wide limits.

Bookkeeping happens in synchronous, await-free methods (as in httpcore's connection pool), so a
cancellation can never interrupt it half-way; I/O such as closing a host runs afterwards, in
tasks the pool tracks and finishes on :meth:`SessionPool.aclose`.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._exceptions import ConfigError, InvalidOperation, ProtocolError
from .._lifecycle import AsyncClosing
from .._log import logger
from ._http import Counters, HostKey, HostStats, HostTransport
from ._options import Limits, RetryPolicy, Timeouts, TLSOptions
from ._semaphore import FifoSemaphore
from ._tls import ssl_context

if TYPE_CHECKING:
    from collections.abc import Coroutine

    from .._auth import ClientAuth
    from .._config import ConnectionURI
    from .._credentials import Credentials
    from ._session import WSManSession

__all__ = ["PoolStats", "SessionPool"]

# How long aclose() lets background work (Release requests, closes) finish before cancelling it.
_DRAIN_TIMEOUT = 5.0
#: File descriptors kept out of the pool's reach under RLIMIT_NOFILE, besides an eighth of the
#: limit: the event loop, standard streams, log files, pipes to worker processes, DNS.
_FD_RESERVE = 64


def _connection_cap(wanted: int) -> int:
    """``wanted``, or fewer when the process' open-file limit would not hold that many sockets.

    A socket is a file descriptor; past ``RLIMIT_NOFILE`` every connect fails with EMFILE
    (and so does every open() elsewhere in the process), which fails healthy hosts.
    """
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows has no RLIMIT_NOFILE
        return wanted
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return wanted
    room = max(8, soft - _FD_RESERVE - soft // 8)
    if room >= wanted:
        return wanted
    logger.debug(
        "open-file limit %d: the pool keeps at most %d connections open "
        "(Limits.total_connections %d)",
        soft,
        room,
        wanted,
    )
    return room


@dataclass(frozen=True, slots=True, kw_only=True)
class PoolStats:
    """A snapshot of a pool's counters and gauges.

    Attributes:
        opened: TCP connections opened so far, over all hosts.
        reused: Requests sent over an already-open keep-alive connection.
        requests: HTTP requests sent.
        failed: Requests that ended in a transport error (each attempt counts).
        retried: Requests sent again after a retryable failure.
        hosts: Hosts the pool holds state for now.
        connections: TCP connections open now.
        in_flight: Requests holding (or opening) a connection now.
        queued: Requests waiting for an operation slot or a connection now.
        background: Pool-owned tasks still running (Release requests, closes).
    """

    opened: int
    reused: int
    requests: int
    failed: int
    retried: int
    hosts: int
    connections: int
    in_flight: int
    queued: int
    background: int


class SessionPool(AsyncClosing):
    """Pooled WS-Man sessions for many hosts.

    Hands out a :class:`WSManSession` per URI; the HTTP state behind it is created lazily in
    the running loop on first use, kept alive while used, and closed after
    ``limits.idle_host_timeout`` without traffic.  Pool-wide caps bound the open connections
    and the requests in flight across all hosts; when the connection cap is reached, idle
    hosts' keep-alive connections are closed (least recently used first) to make room.

    Use it as ``async with SessionPool() as pool:`` or call :meth:`aclose`.

    Args:
        limits: Per-host and pool-wide caps.
        timeouts: Connect, read and total timeouts, and the WS-Man OperationTimeout.
        tls: Certificate verification and client certificate (a URI's ``no_verify=1``
            turns verification off for that host).
        retry: When idempotent requests are sent again.
    """

    def __init__(
        self,
        *,
        limits: Limits | None = None,
        timeouts: Timeouts | None = None,
        tls: TLSOptions | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.limits = limits if limits is not None else Limits()
        self.timeouts = timeouts if timeouts is not None else Timeouts()
        self.tls = tls if tls is not None else TLSOptions()
        self.retry = retry if retry is not None else RetryPolicy()
        self._hosts: OrderedDict[HostKey, HostTransport] = OrderedDict()  # LRU first
        self._operations = FifoSemaphore(self.limits.total_operations)
        #: Connections open at most: ``Limits.total_connections``, lowered to fit the
        #: process' open-file limit (``RLIMIT_NOFILE``) with room to spare.
        self.max_connections = _connection_cap(self.limits.total_connections)
        self._budget = FifoSemaphore(self.max_connections, on_wait=self._make_room)
        self._close_when_idle: set[HostKey] = set()
        self._totals = Counters()
        self._tasks: set[asyncio.Task[None]] = set()
        self._warned_plain_basic: set[str] = set()
        self._warned_no_verify: set[str] = set()
        self._closing = False
        self._closed = False
        # Response bytes running enumerations have received (see Limits.max_bytes_per_host).
        self._held: dict[HostKey, int] = {}
        self._held_total = 0

    def __repr__(self) -> str:
        s = self.stats
        state = " closed" if self._closed else ""
        return (
            f"<SessionPool hosts={s.hosts} connections={s.connections} "
            f"in_flight={s.in_flight} queued={s.queued}{state}>"
        )

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def stats(self) -> PoolStats:
        """Counters and gauges, summed over hosts."""
        in_flight = queued = connections = 0
        for host in self._hosts.values():
            in_flight += host.in_flight
            queued += host.queued
            connections += host.connections
        # Requests waiting for the pool-wide connection budget look "in flight" to their
        # host (they hold operation slots); count them as queued here.
        waiting = self._budget.queued
        t = self._totals
        return PoolStats(
            opened=t.opened,
            reused=t.reused,
            requests=t.requests,
            failed=t.failed,
            retried=t.retried,
            hosts=len(self._hosts),
            connections=max(connections, self._budget.in_use),
            in_flight=in_flight - waiting,
            queued=queued + waiting,
            background=len(self._tasks),
        )

    def host_stats(self) -> list[HostStats]:
        """Per-host snapshots, for hosts the pool holds state for now."""
        return [host.stats() for host in self._hosts.values()]

    # -- sessions ------------------------------------------------------------------------------

    def session(self, uri: ConnectionURI, credentials: Credentials | None = None) -> WSManSession:
        """Return a session for ``uri`` that shares this pool's connections and limits.

        Cheap: nothing is opened until the first request.  Closing the session does not close
        the pool or the host's connections.

        Raises:
            ConfigError: The URI asks for an auth method this transport cannot do, or
                certificate authentication without a client certificate.
            InvalidOperation: The pool is closed.
        """
        from ._session import WSManSession

        return WSManSession(uri, credentials, pool=self)

    def _check_open(self, label: str | None = None) -> None:
        if self._closing:
            raise InvalidOperation("the SessionPool is closed", host=label)

    def key_for(
        self, uri: ConnectionURI, auth: str | None, *, username: str | None = None
    ) -> HostKey:
        """The pool key for ``uri``: endpoint, user, auth method and effective TLS options.

        ``username`` (the credentials' user) overrides the URI's: two users of one host never
        share connections, whose NTLM/Kerberos contexts belong to one user.
        """
        tls: TLSOptions | None = None
        if uri.transport == "https":
            tls = dataclasses.replace(self.tls, verify=False) if uri.no_verify else self.tls
            if not tls.verify:
                self._warn_no_verify(uri.host_label, in_uri=uri.no_verify)
        return HostKey(
            endpoint=uri.endpoint,
            label=uri.host_label,
            username=username if username is not None else uri.username,
            auth=auth,
            tls=tls,
        )

    def _warn_no_verify(self, label: str, *, in_uri: bool) -> None:
        """Log, once per host, that its TLS certificate is not checked."""
        if label not in self._warned_no_verify:
            self._warned_no_verify.add(label)
            logger.warning(
                "TLS certificate verification is off for %s (%s): anyone on the network path "
                "can impersonate the host and capture the credentials sent to it",
                label,
                "no_verify=1 in its URI" if in_uri else "TLSOptions(verify=False)",
            )

    def warn_plain_basic(self, label: str) -> None:
        """Log, once per host, that Basic credentials will cross the network in the clear."""
        if label not in self._warned_plain_basic:
            self._warned_plain_basic.add(label)
            logger.warning(
                "Basic authentication to %s over plain HTTP: the password crosses the network "
                "unencrypted; use HTTPS (port 5986) where you can",
                label,
            )

    def host(
        self, key: HostKey, *, cleanup: bool = False, auth: ClientAuth | None = None
    ) -> HostTransport:
        """The transport for ``key``, created on first use (cheap; no I/O).

        ``cleanup`` requests (enumeration Releases) are let through while :meth:`aclose`
        drains background work.  ``auth`` (connection-based authentication) is used only when
        the host is created: the connections of one key share one security-context table.
        """
        if self._closed or (self._closing and not cleanup):
            raise InvalidOperation("the SessionPool is closed", host=key.label)
        host = self._hosts.get(key)
        if host is None:
            try:
                ctx = ssl_context(key.tls) if key.tls is not None else None
            except ConfigError as exc:
                raise exc.with_host(key.label) from None
            host = HostTransport(
                key,
                limits=self.limits,
                timeouts=self.timeouts,
                ssl_context=ctx,
                operations=self._operations,
                connection_budget=self._budget,
                totals=self._totals,
                owner=self,
                auth=auth,
            )
            self._hosts[key] = host
        return host

    # -- memory held by running enumerations (synchronous bookkeeping) ------------------------

    def hold_bytes(self, key: HostKey, size: int) -> None:
        """Count ``size`` response bytes against the host's and the pool's budget.

        Raises:
            ProtocolError: The host would pass ``Limits.max_bytes_per_host`` or the pool
                ``Limits.max_bytes_total``; nothing is counted then.
        """
        limits = self.limits
        held = self._held.get(key, 0) + size
        total = self._held_total + size
        if held > limits.max_bytes_per_host:
            raise ProtocolError(
                f"enumerations of {key.label} passed {limits.max_bytes_per_host} bytes "
                "(Limits.max_bytes_per_host); abandoned",
                host=key.label,
            )
        if total > limits.max_bytes_total:
            raise ProtocolError(
                f"enumerations of all hosts passed {limits.max_bytes_total} bytes "
                f"(Limits.max_bytes_total); the one of {key.label} is abandoned",
                host=key.label,
            )
        self._held[key] = held
        self._held_total = total

    def release_bytes(self, key: HostKey, size: int) -> None:
        """Give back bytes counted by :meth:`hold_bytes` (the enumeration ended)."""
        held = self._held.get(key, 0) - size
        if held > 0:
            self._held[key] = held
        else:
            self._held.pop(key, None)
        self._held_total = max(0, self._held_total - size)

    @property
    def held_bytes(self) -> int:
        """Response bytes the running enumerations of every host have received."""
        return self._held_total

    # -- host lifecycle (synchronous bookkeeping; I/O goes to tracked tasks) -------------------

    def _host_busy(self, host: HostTransport) -> None:
        # The idle timer is not cancelled here (that would cost a timer per request); it
        # checks, when it fires, whether the host has been busy since.
        if self._hosts.get(host.key) is host:
            self._hosts.move_to_end(host.key)

    def _host_idle(self, host: HostTransport) -> None:
        if self._closing or host.closed:
            return
        if host.key in self._close_when_idle and self._hosts.get(host.key) is host:
            _ = self._drop(host)
            return
        loop = asyncio.get_running_loop()
        host.idle_since = loop.time()
        if self._budget.queued and host.has_client:
            # Someone waits for a connection slot: this host's idle connections are the room.
            _ = self._spawn(host.close_connections())
        if host.idle_handle is None:
            host.idle_handle = loop.call_later(self.limits.idle_host_timeout, self._expire, host)

    def _expire(self, host: HostTransport) -> None:
        host.idle_handle = None
        if host.active or self._closing or self._hosts.get(host.key) is not host:
            return  # busy again (the next idle moment re-arms the timer) or already gone
        loop = asyncio.get_running_loop()
        remaining = host.idle_since + self.limits.idle_host_timeout - loop.time()
        if remaining > 0:  # it was used since the timer was set: wait out the rest
            host.idle_handle = loop.call_later(remaining, self._expire, host)
            return
        del self._hosts[host.key]
        logger.debug("host %s idle for %ss; closing", host.label, self.limits.idle_host_timeout)
        _ = self._spawn(host.aclose())

    async def close_host(self, uri: ConnectionURI) -> None:
        """Close the connections to ``uri`` (whatever user or auth) once its requests end.

        For a caller done with a host, such as a fleet whose operation on it ended: its
        keep-alive connections would otherwise hold a socket each until the pool needs room or
        ``idle_host_timeout`` passes, and a fleet of thousands runs out of file descriptors
        long before that.  The host comes back lazily on next use.  Hosts with requests still
        running (an enumeration's Release) are closed when those end.  The closes run in tasks
        the pool owns, and this waits for them under ``asyncio.shield``.
        """
        tasks = self.forget_host(uri)
        if tasks:
            await asyncio.shield(asyncio.gather(*tasks, return_exceptions=True))

    def forget_host(self, uri: ConnectionURI) -> list[asyncio.Task[None]]:
        """:meth:`close_host` without waiting: the bookkeeping, and the close tasks started."""
        tasks = []
        for key, host in list(self._hosts.items()):
            if key.endpoint != uri.endpoint:
                continue
            if host.active:
                self._close_when_idle.add(key)  # _host_idle closes it
            else:
                tasks.append(self._drop(host))
        return tasks

    def _drop(self, host: HostTransport) -> asyncio.Task[None]:
        self._close_when_idle.discard(host.key)
        if self._hosts.get(host.key) is host:
            del self._hosts[host.key]
        if host.idle_handle is not None:
            host.idle_handle.cancel()
            host.idle_handle = None
        return self._spawn(host.aclose())

    def _make_room(self) -> None:
        """Called when a request must wait for the connection budget: close idle hosts."""
        needed = self._budget.queued
        for host in list(self._hosts.values()):  # least recently used first
            if needed <= 0:
                break
            if host.active == 0 and host.has_client and host.connections > 0:
                needed -= host.connections
                _ = self._spawn(host.close_connections())

    def spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None] | None:
        """Run ``coro`` as a pool-owned task that :meth:`aclose` waits for."""
        if self._closed:
            coro.close()
            return None
        return self._spawn(coro)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(_logged(coro))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # -- teardown ------------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Finish background work, then close every host's connections.

        Requests still running when the connections close fail with ``ConnectError``.  Safe to
        call more than once.
        """
        if self._closing:
            return
        self._closing = True
        await asyncio.shield(self._shutdown())

    async def _shutdown(self) -> None:
        if self._tasks:
            _done, pending = await asyncio.wait(set(self._tasks), timeout=_DRAIN_TIMEOUT)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending)
        hosts = list(self._hosts.values())
        self._hosts.clear()
        for host in hosts:
            if host.idle_handle is not None:
                host.idle_handle.cancel()
                host.idle_handle = None
        await asyncio.gather(*(host.aclose() for host in hosts), return_exceptions=True)
        # Closing may have scheduled more (a host going idle); finish those too.
        while self._tasks:
            await asyncio.wait(set(self._tasks))
        self._closed = True
        logger.debug("session pool closed (%d hosts)", len(hosts))


async def _logged(coro: Coroutine[Any, Any, None]) -> None:
    try:
        await coro
    except asyncio.CancelledError:
        raise
    except Exception:
        logger.debug("background transport task failed", exc_info=True)
