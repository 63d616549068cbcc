"""HTTP for one host: ``HostTransport.post(body) -> (status, body)``.

Each host (more exactly each endpoint + user + auth method + TLS setting) gets its own
``aiohttp.ClientSession`` over its own ``TCPConnector(limit=per_host_connections)``: that isolates
authentication, TLS and teardown per host, and keeps one slow host from starving the others.
The session is created lazily inside the running loop, on the first request.

What this layer does *not* do: it does not raise on HTTP 500 or 400 when the body is a SOAP
envelope.  Windows sends every WS-Man fault that way, and only the protocol core can turn it into
the right ``WSManFault`` subclass (as pypsrp's ``_io/wsman.py`` ``post()`` does).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Protocol

import aiohttp
from yarl import URL

from .._exceptions import (
    AuthenticationError,
    HTTPStatusError,
    InvalidOperation,
    ProtocolError,
    TransportError,
)
from .._log import logger
from ._errors import map_exceptions
from ._semaphore import FifoSemaphore

if TYPE_CHECKING:
    import ssl
    from collections.abc import Mapping

    from aiohttp.client_proto import ResponseHandler
    from aiohttp.client_reqrep import ClientRequest, ConnectionKey
    from aiohttp.connector import Connection
    from aiohttp.tracing import Trace

    from .._auth import ClientAuth
    from ._options import Limits, Timeouts, TLSOptions

__all__ = [
    "SOAP_CONTENT_TYPE",
    "Counters",
    "HostKey",
    "HostOwner",
    "HostStats",
    "HostTransport",
    "Transport",
]

SOAP_CONTENT_TYPE: Final = "application/soap+xml;charset=UTF-8"
_READ_CHUNK = 65536


class Transport(Protocol):
    """The seam between the WS-Man session and HTTP: bytes in, status and bytes out."""

    async def post(
        self, body: bytes, *, headers: Mapping[str, str] | None = None
    ) -> tuple[int, bytes]: ...


@dataclass(frozen=True, slots=True)
class HostKey:
    """What makes two requests share connections: endpoint, user, auth method and TLS.

    NTLM and Kerberos authenticate a *connection*, so different users must never share one;
    the password is deliberately not part of the key (nor anywhere in this object).
    """

    endpoint: str
    label: str
    username: str | None
    auth: str | None
    tls: TLSOptions | None  # None for plain HTTP


@dataclass(slots=True)
class Counters:
    """Monotonic counters, kept per host and summed per pool."""

    opened: int = 0
    reused: int = 0
    requests: int = 0
    failed: int = 0
    retried: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class HostStats:
    """A snapshot of one host's transport.

    Attributes:
        host: ``host:port``.
        opened: TCP connections opened so far (counted by the host's connector).
        reused: Requests that went over an already-open keep-alive connection.
        requests: HTTP requests sent.
        failed: Requests that ended in a transport error.
        retried: Requests sent again after a retryable failure.
        connections: TCP connections open now.
        in_flight: Requests holding a connection now.
        queued: Requests waiting for an operation slot or a connection.
    """

    host: str
    opened: int
    reused: int
    requests: int
    failed: int
    retried: int
    connections: int
    in_flight: int
    queued: int


class HostOwner(Protocol):
    """What a host tells its pool: when it becomes busy or idle."""

    def _host_busy(self, host: HostTransport) -> None: ...
    def _host_idle(self, host: HostTransport) -> None: ...


class _BudgetConnector(aiohttp.TCPConnector):
    """A TCPConnector whose every open TCP connection holds a slot of a pool-wide budget.

    The slot is taken before the socket is opened and given back when the connection is lost,
    whatever closed it (keep-alive expiry, server, error, session close), so the budget counts
    exactly the connections that are open.

    It also keeps its host's connection counters (opened, reused): here, where aiohttp
    decides, rather than through a ``TraceConfig``, whose signals aiohttp
    sends for every request (a dozen coroutines each, whether anyone listens or not).
    """

    def __init__(self, *, budget: FifoSemaphore, host: HostTransport, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]  # forwards TCPConnector's own kwargs
        self._budget = budget
        self._host = host

    async def _create_connection(
        self,
        req: ClientRequest,
        traces: list[Trace],
        timeout: aiohttp.ClientTimeout,  # noqa: ASYNC109  -- aiohttp's signature, overridden
    ) -> ResponseHandler:
        await self._budget.acquire()
        try:
            proto = await super()._create_connection(req, traces, timeout)
        except BaseException:
            self._budget.release()
            raise
        self._host._connections += 1
        self._host._count("opened")
        closed = proto.closed
        if closed is None:  # already lost before we could watch it
            self._lost(None)
        else:
            closed.add_done_callback(self._lost)
        return proto

    async def _get(self, key: ConnectionKey, traces: list[Trace]) -> Connection | None:
        conn = await super()._get(key, traces)
        if conn is not None:
            self._host._count("reused")
        return conn

    def _lost(self, fut: asyncio.Future[None] | None) -> None:
        if fut is not None and not fut.cancelled():
            fut.exception()  # mark retrieved: a reset connection is not an error here
        self._host._connections -= 1
        self._budget.release()


class HostTransport:
    """HTTP(S) POSTs to one WS-Man endpoint, through a pooled keep-alive ClientSession.

    Created by :class:`SessionPool`; the pool passes the shared semaphores and counters.  Every
    request takes a per-host operation slot, then a pool-wide one, then one of the host's
    ``per_host_connections`` connection slots, and only then a connection from the host's
    connector (whose connections each hold a slot of the pool-wide connection budget).

    With ``auth`` (NTLM, Negotiate or Kerberos) every request goes through
    :meth:`aiohyperv._auth.ClientAuth.post`, which authenticates each TCP connection once and
    keeps its security context (and WinRM message encryption over HTTP) with that connection.
    Basic and certificate authentication are plain request headers and need no ``auth``.
    """

    def __init__(
        self,
        key: HostKey,
        *,
        limits: Limits,
        timeouts: Timeouts,
        ssl_context: ssl.SSLContext | None,
        operations: FifoSemaphore,
        connection_budget: FifoSemaphore,
        totals: Counters,
        owner: HostOwner,
        auth: ClientAuth | None = None,
    ) -> None:
        self.key = key
        self.label = key.label
        self._url = URL(key.endpoint)
        self._limits = limits
        self._timeouts = timeouts
        self._ssl = ssl_context
        self._ops = FifoSemaphore(limits.per_host_operations)
        # One slot per connection the connector may open: a request waits here, where it is
        # counted as queued, rather than inside aiohttp's connector, which would not tell.
        self._conns = FifoSemaphore(limits.per_host_connections)
        self._global_ops = operations
        self._budget = connection_budget
        self._totals = totals
        self._owner = owner
        self._auth = auth
        self._counters = Counters()
        self._client: aiohttp.ClientSession | None = None
        self._closed = False
        self._active = 0  # inside post(), queued or not
        self._admitted = 0  # holding both operation slots
        self._connections = 0  # open TCP connections (kept by _BudgetConnector)
        self.idle_handle: asyncio.TimerHandle | None = None  # owned by the pool
        self.idle_since = 0.0  # loop time when `active` last dropped to zero
        self._max_bytes = limits.max_response_bytes
        self._default_headers = {"Content-Type": SOAP_CONTENT_TYPE}

    def __repr__(self) -> str:
        return (
            f"<HostTransport {self.label} connections={self._connections} "
            f"in_flight={self.in_flight} queued={self.queued}{' closed' if self._closed else ''}>"
        )

    # -- numbers -----------------------------------------------------------------------------

    def _count(self, name: str) -> None:
        setattr(self._counters, name, getattr(self._counters, name) + 1)
        setattr(self._totals, name, getattr(self._totals, name) + 1)

    @property
    def active(self) -> int:
        """Requests inside :meth:`post` (in flight or queued)."""
        return self._active

    @property
    def in_flight(self) -> int:
        """Requests that hold a connection (or are opening one)."""
        return self._conns.in_use

    @property
    def queued(self) -> int:
        """Requests waiting for an operation slot or for a free connection."""
        return (self._active - self._admitted) + self._conns.queued

    @property
    def connections(self) -> int:
        """TCP connections open now."""
        return self._connections

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def has_client(self) -> bool:
        """Whether an HTTP session is open (it is created on first request)."""
        return self._client is not None

    def stats(self) -> HostStats:
        c = self._counters
        return HostStats(
            host=self.label,
            opened=c.opened,
            reused=c.reused,
            requests=c.requests,
            failed=c.failed,
            retried=c.retried,
            connections=self._connections,
            in_flight=self.in_flight,
            queued=self.queued,
        )

    def count_retry(self) -> None:
        """Record that the session is about to send a request again."""
        self._count("retried")

    # -- lifecycle ---------------------------------------------------------------------------

    def _open(self) -> aiohttp.ClientSession:
        connector = _BudgetConnector(
            budget=self._budget,
            host=self,
            limit=self._limits.per_host_connections,
            limit_per_host=0,
            ssl=self._ssl if self._ssl is not None else True,
            keepalive_timeout=self._limits.keepalive_timeout,
            ttl_dns_cache=300,
        )
        self._client = aiohttp.ClientSession(
            connector=connector,
            # The total is enforced around the whole exchange (queueing included) by post().
            timeout=aiohttp.ClientTimeout(
                total=None,
                connect=None,
                sock_connect=self._timeouts.connect,
                sock_read=self._timeouts.read,
            ),
            cookie_jar=aiohttp.DummyCookieJar(),
            raise_for_status=False,
            **self._session_options(),
        )
        logger.debug("opened HTTP session for %s", self.label)
        return self._client

    def _session_options(self) -> dict[str, Any]:
        if self._auth is None or not self._auth.connection_based:
            return {}
        from .._auth import AuthClientRequest

        return {"request_class": AuthClientRequest}

    async def aclose(self) -> None:
        """Close the host's connections. Requests still running fail with ``ConnectError``."""
        self._closed = True
        await self.close_connections()

    async def close_connections(self) -> None:
        """Close every connection (idle eviction); the next request reopens lazily."""
        client, self._client = self._client, None
        if client is not None:
            logger.debug("closing HTTP session for %s", self.label)
            await client.close()

    # -- the request ---------------------------------------------------------------------------

    async def post(
        self, body: bytes, *, headers: Mapping[str, str] | None = None
    ) -> tuple[int, bytes]:
        """POST one envelope and return ``(status, body)``.

        Args:
            body: The UTF-8 SOAP envelope.
            headers: Request headers (Content-Type, Authorization); defaults to the SOAP
                Content-Type only.

        Returns:
            The HTTP status (2xx, or 400/500 carrying a SOAP envelope) and the body bytes.

        Raises:
            AuthenticationError: HTTP 401.
            HTTPStatusError: Any other status that does not carry a SOAP envelope.
            ConnectError: Connecting failed, TLS failed, or the connection dropped.
            TransportTimeout: A connect, read or total timeout expired.
            ProtocolError: The response is larger than MaxEnvelopeSize plus slack, or not HTTP.
            InvalidOperation: The pool was closed.
        """
        if self._closed:
            raise InvalidOperation(f"the transport for {self.label} is closed", host=self.label)
        self._active += 1
        if self._active == 1:
            self._owner._host_busy(self)
        try:
            with map_exceptions(self.label, timeouts=self._timeouts):
                async with asyncio.timeout(self._timeouts.total):
                    await self._ops.acquire()
                    try:
                        await self._global_ops.acquire()
                        self._admitted += 1
                        try:
                            await self._conns.acquire()
                            try:
                                return await self._exchange(body, headers)
                            finally:
                                self._conns.release()
                        finally:
                            self._admitted -= 1
                            self._global_ops.release()
                    finally:
                        self._ops.release()
        except TransportError:
            self._count("failed")
            raise
        finally:
            self._active -= 1
            if self._active == 0:
                self._owner._host_idle(self)

    async def _exchange(self, body: bytes, headers: Mapping[str, str] | None) -> tuple[int, bytes]:
        if self._closed:
            # Closed while this request waited for an operation slot: opening a new HTTP
            # session now would leak it (aclose() already ran and nobody closes it again).
            raise InvalidOperation(f"the transport for {self.label} is closed", host=self.label)
        client = self._client if self._client is not None else self._open()
        self._count("requests")
        if self._auth is not None and self._auth.connection_based:
            reply = await self._auth.post(
                client,
                self.key.endpoint,
                body,
                headers=headers,
                max_response_bytes=self._max_bytes,
            )
            # A sealed reply's Content-Type is multipart/encrypted; its body is the envelope.
            ctype = None if reply.sealed else reply.headers.get("Content-Type")
            return self._classify(reply.status, reply.body, ctype, None)
        async with client.post(
            self._url,
            data=body,
            headers=headers if headers is not None else self._default_headers,
            allow_redirects=False,
        ) as resp:
            status = resp.status
            if status == 401:
                offered = ", ".join(
                    v.split(" ", 1)[0] for v in resp.headers.getall("WWW-Authenticate", ())
                )
                method = self.key.auth or "no"
                user = f" for user {self.key.username!r}" if self.key.username else ""
                resp.close()  # never reuse a connection the server just refused
                raise AuthenticationError(
                    f"{self.label} refused {method} authentication{user} (HTTP 401)"
                    + (f"; it offers: {offered}" if offered else ""),
                    auth_method=self.key.auth,
                    host=self.label,
                )
            data = await self._read_capped(resp)
            # The header as sent (``resp.content_type`` invents application/octet-stream).
            return self._classify(status, data, resp.headers.get("Content-Type"), resp.reason)

    def _classify(
        self, status: int, data: bytes, content_type: str | None, reason: str | None
    ) -> tuple[int, bytes]:
        if 200 <= status < 300:
            media = _media_type(content_type)
            if media is not None and "xml" not in media:
                # A captive portal, proxy or load balancer page, not WinRM (which always says
                # application/soap+xml): say so instead of "root element is 'html'".
                raise ProtocolError(
                    f"{self.label} answered HTTP {status} with Content-Type {media!r}, "
                    "not application/soap+xml",
                    host=self.label,
                )
            return status, data
        if status in (400, 500) and _looks_like_soap(content_type, data):
            # A SOAP fault: the protocol core raises the typed WSManFault.
            return status, data
        raise HTTPStatusError(
            f"{self.label} answered HTTP {status} {reason or ''}".rstrip(),
            status=status,
            host=self.label,
        )

    async def _read_capped(self, resp: aiohttp.ClientResponse) -> bytes:
        """Read the body, refusing (and dropping the connection) once it passes the cap.

        Content-Length is checked before a byte is read; a chunked or compressed body is read
        in pieces and abandoned as soon as it grows past the cap, so a runaway or hostile
        server costs at most ``max_response_bytes`` of memory.
        """
        cap = self._max_bytes
        length = resp.content_length
        if length is not None and length > cap:
            resp.close()
            raise self._oversize(f"declares {length} bytes")
        if length is not None and "Content-Encoding" not in resp.headers:
            return await resp.read()
        buf = bytearray()
        while chunk := await resp.content.read(_READ_CHUNK):
            buf += chunk
            if len(buf) > cap:
                resp.close()
                raise self._oversize(f"passed {cap} bytes")
        return bytes(buf)

    def _oversize(self, what: str) -> ProtocolError:
        return ProtocolError(
            f"response from {self.label} {what}, over MaxEnvelopeSize "
            f"{self._limits.max_envelope_size} plus {self._limits.response_slack} slack; refused",
            host=self.label,
        )


def _media_type(content_type: str | None) -> str | None:
    """The media type a response declares, lower case, without parameters.

    ``None`` when it declares none, or only ``application/octet-stream``: servers (aiohttp's
    among them) send that when nobody said what the body is, so it tells nothing either way.
    """
    if content_type is None:
        return None
    media = content_type.split(";", 1)[0].strip().lower()
    return None if media in ("", "application/octet-stream") else media


def _looks_like_soap(content_type: str | None, data: bytes) -> bool:
    # A declared type decides (an HTML error page from IIS or a proxy is not a SOAP fault);
    # only an unlabelled body is sniffed.
    media = _media_type(content_type)
    if media is not None:
        return "xml" in media
    return data.lstrip()[:1] == b"<"
