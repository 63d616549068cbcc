"""aiohttp glue for the client: per-connection security contexts and sealed exchanges.

How it fits aiohttp.  NTLM/Negotiate/Kerberos authenticate a TCP connection, but aiohttp picks
the connection for a request inside ``ClientSession._request``, after the body is set.  So the
decision is taken at the one place that sees both the request and its connection:
:meth:`AuthClientRequest.send`, a ``ClientRequest`` subclass installed with
``ClientSession(request_class=AuthClientRequest)``.  There, for a request issued through
:meth:`ClientAuth.post`, the connection's state (kept in a ``WeakKeyDictionary`` keyed by the
connection's protocol object, so it lives and dies with the TCP connection) decides what goes on
the wire:

* connection established -> the SOAP body, sealed with *this* connection's context over HTTP;
* connection new or mid-handshake -> the next handshake leg instead (an empty-bodied ``POST``
  with ``Authorization: Negotiate <token>``), and :meth:`ClientAuth.post` sends the real request
  again once the response has advanced the handshake;
* connection failed or desynchronised -> the send is refused, aiohttp closes the connection and
  the request is retried on another one.

Consequences: a sealed message can only be produced for a connection whose handshake completed,
and only at the moment it is written to that connection; a connection the server dropped is
replaced by a new protocol object with no state, so it is authenticated again before use; the
pool's connections authenticate concurrently and each handshake costs two empty round trips,
once per connection, not per request.  Basic and certificate authentication are per request
and need no connection state.

Nothing is retried here that the server could have acted on: handshake legs carry no body, and
a sealed request is sent again only when the server answered 401 (it did not process it).
"""

from __future__ import annotations

import asyncio
import base64
import contextvars
import enum
import sys
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import aiohttp
from aiohttp import hdrs

from .._exceptions import AuthenticationError, ConfigError, ProtocolError, TransportError
from .._log import logger
from ._certs import channel_binding_data
from ._client import ClientSecurityContext, HandshakeState, SpnegoProtocol
from ._encryption import SOAP_CONTENT_TYPE
from ._headers import CERTIFICATE_AUTHORIZATION
from ._kerberos import import_gssapi

if TYPE_CHECKING:
    from collections.abc import Mapping

    from aiohttp.client_proto import ResponseHandler
    from aiohttp.connector import Connection
    from multidict import CIMultiDictProxy

    from .._config import AuthMethod, ConnectionURI
    from .._credentials import Credentials

__all__ = [
    "DEFAULT_AUTH_METHOD",
    "AuthClientRequest",
    "AuthResponse",
    "AuthStats",
    "ClientAuth",
    "default_auth_method",
]

DEFAULT_AUTH_METHOD: Final = "negotiate"
_SPNEGO_METHODS: Final = frozenset({"ntlm", "negotiate", "kerberos"})


def default_auth_method(uri: ConnectionURI) -> AuthMethod:
    """The auth method for a URI that names none: Negotiate, over HTTP and HTTPS alike.

    Negotiate is what a Windows host accepts out of the box (Basic is off, unencrypted HTTP is
    refused): Kerberos where GSSAPI and a ticket are available, NTLM otherwise, with message
    encryption over HTTP.
    """
    return uri.auth if uri.auth is not None else "negotiate"


class _Kind(enum.Enum):
    HANDSHAKE = "handshake"
    MESSAGE = "message"


class _StaleConnection(Exception):
    """Raised inside ``send`` to make aiohttp close a connection whose context is unusable."""


class _ConnState:
    """A connection's security context plus the ordering guard for its sealing state."""

    __slots__ = ("_idle", "busy", "ctx")

    def __init__(self, ctx: ClientSecurityContext) -> None:
        self.ctx = ctx
        # True from a leg or sealed message being written until its response was processed:
        # NTLM sealing is a stream cipher, so responses must be unsealed in order.
        self.busy = False
        self._idle: asyncio.Event | None = None

    async def wait_idle(self) -> None:
        # aiohttp hands a connection to one request at a time, so at most one task waits here:
        # the one whose request landed on the connection before the previous response on it
        # was processed by its own task (which needs no I/O to finish).
        while self.busy:
            if self._idle is None or self._idle.is_set():
                self._idle = asyncio.Event()
            await self._idle.wait()

    def done(self) -> None:
        self.busy = False
        if self._idle is not None:
            self._idle.set()


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthResponse:
    """The answer to :meth:`ClientAuth.post`.

    Attributes:
        status: HTTP status.
        headers: The response headers as received (for a sealed response, the
            ``multipart/encrypted`` ones).
        body: The SOAP body, unsealed if it came sealed.
        sealed: Whether request and response were sealed with WinRM message encryption.
    """

    status: int
    headers: CIMultiDictProxy[str]
    body: bytes
    sealed: bool


@dataclass(slots=True)
class AuthStats:
    """Counters of one :class:`ClientAuth` (one host).

    Attributes:
        requests: Calls of :meth:`ClientAuth.post` that returned a response.
        handshakes: Connection handshakes completed.
        handshake_legs: Handshake requests sent (two per NTLM handshake).
        sealed: Messages sealed.
        reconnects: Requests sent again because their connection's context was unusable.
        failures: Handshakes the server rejected.
    """

    requests: int = 0
    handshakes: int = 0
    handshake_legs: int = 0
    sealed: int = 0
    reconnects: int = 0
    failures: int = 0


class _Exchange:
    """One attempt of :meth:`ClientAuth.post`: what ``send`` decided for it."""

    __slots__ = ("auth", "body", "kind", "state", "used")

    def __init__(self, auth: ClientAuth, body: bytes) -> None:
        self.auth = auth
        self.body = body
        self.used = False
        self.kind: _Kind | None = None
        self.state: _ConnState | None = None

    async def prepare(self, req: aiohttp.ClientRequest, conn: Connection) -> None:
        proto = conn.protocol
        if proto is None:
            raise _StaleConnection
        auth = self.auth
        state = auth._states.get(proto)
        if state is None:
            state = _ConnState(auth._new_context(conn))
            auth._states[proto] = state
        if state.busy:
            await state.wait_idle()
        ctx = state.ctx
        if ctx.state is HandshakeState.FAILED:
            raise _StaleConnection
        state.busy = True
        self.state = state
        if ctx.established:
            self.kind = _Kind.MESSAGE
            if ctx.encrypt:
                content_type, payload = ctx.wrap(self.body)
                auth.stats.sealed += 1
                req.headers[hdrs.CONTENT_TYPE] = content_type
                await req.update_body(payload)
            else:
                await req.update_body(self.body)
        else:
            self.kind = _Kind.HANDSHAKE
            if ctx.may_block:
                # Kerberos' first leg may ask the KDC for a ticket: not on the event loop.
                header = await asyncio.to_thread(ctx.next_header)
            else:
                header = ctx.next_header()
            req.headers[hdrs.AUTHORIZATION] = header
            auth.stats.handshake_legs += 1
            await req.update_body(None)

    def finish(self) -> None:
        """Release the connection state; if its response was not processed, poison it."""
        state = self.state
        if state is None or not state.busy:
            return
        if (self.kind is _Kind.MESSAGE and state.ctx.encrypt) or self.kind is _Kind.HANDSHAKE:
            # A sealed response left unread (or a leg left unanswered) desynchronises the
            # context: nobody may use this connection again.
            state.ctx.fail()
        state.done()


_EXCHANGE: contextvars.ContextVar[_Exchange | None] = contextvars.ContextVar(
    "aiohyperv_auth_exchange", default=None
)


class AuthClientRequest(aiohttp.ClientRequest):
    """``ClientRequest`` that lets :class:`ClientAuth` choose the body per connection.

    Install with ``aiohttp.ClientSession(request_class=AuthClientRequest, ...)``.  Requests not
    issued through :meth:`ClientAuth.post` are sent unchanged.
    """

    async def send(self, conn: Connection) -> aiohttp.ClientResponse:
        exchange = _EXCHANGE.get()
        if exchange is not None and not exchange.used:
            exchange.used = True
            await exchange.prepare(self, conn)
        return await super().send(conn)


async def _read_limited(resp: aiohttp.ClientResponse, limit: int | None) -> bytes:
    if limit is None:
        return await resp.read()
    length = resp.content_length
    if length is not None and length > limit:
        raise ProtocolError(f"response of {length} bytes exceeds the {limit}-byte limit")
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_chunked(65536):
        size += len(chunk)
        if size > limit:
            raise ProtocolError(f"response exceeds the {limit}-byte limit")
        chunks.append(chunk)
    return b"".join(chunks)


class ClientAuth:
    """How one host is authenticated, and the security contexts of its connections.

    Make one per host (it holds that host's per-connection contexts) and send every request
    for the host through :meth:`post`, on a ``ClientSession`` created with
    ``request_class=AuthClientRequest``.

    Args:
        method: ``negotiate``, ``ntlm``, ``kerberos``, ``basic`` or ``certificate``.
        hostname: The host name (for the Kerberos SPN ``HTTP/<hostname>``).
        https: Whether the endpoint is HTTPS.
        credentials: User name and password; Negotiate and Kerberos may go without to use the
            default Kerberos ticket cache.  Certificate authentication needs none (the client
            certificate is configured on the SSL context).
        encrypt: Seal messages with WinRM message encryption.  Default: over HTTP for
            NTLM/Negotiate/Kerberos; never for Basic and certificate (they cannot).
        send_cbt: Over HTTPS, bind NTLM/Kerberos to the server certificate (channel binding
            tokens), which Windows' Extended Protection checks.
        service: SPN service class.
        max_attempts: Upper bound of HTTP requests one :meth:`post` may make while connections
            authenticate (each handshake leg is one).

    Raises:
        ConfigError: A combination that cannot work, such as certificate auth over HTTP,
            encryption with Basic, or NTLM/Basic without credentials.
    """

    def __init__(
        self,
        method: AuthMethod,
        *,
        hostname: str,
        https: bool,
        credentials: Credentials | None = None,
        encrypt: bool | None = None,
        send_cbt: bool = True,
        service: str = "HTTP",
        max_attempts: int = 12,
    ) -> None:
        if method not in ("basic", "certificate", *_SPNEGO_METHODS):
            raise ConfigError(f"unknown auth method {method!r}")
        if encrypt is None:
            encrypt = method in _SPNEGO_METHODS and not https
        if encrypt and method not in _SPNEGO_METHODS:
            raise ConfigError(f"message encryption needs ntlm, negotiate or kerberos, not {method}")
        if method == "certificate" and not https:
            raise ConfigError("certificate authentication needs HTTPS")
        if credentials is None and method in ("basic", "ntlm"):
            raise ConfigError(f"{method} authentication needs a user name and password")
        if max_attempts < 3:
            raise ConfigError("max_attempts must be at least 3")
        if method == "kerberos" and sys.platform != "win32":
            # Say so now, not at the first request: "pip install 'aiohyperv[kerberos]'".
            try:
                import_gssapi()
            except ConfigError as exc:
                raise ConfigError(f"kerberos authentication is not available: {exc}") from None
        if method == "basic" and not https:
            logger.warning(
                "Basic authentication over HTTP to %s sends the password unencrypted", hostname
            )
        elif method in _SPNEGO_METHODS and not https and not encrypt:
            logger.warning("messages to %s go over HTTP unencrypted (encrypt=False)", hostname)
        self.method: AuthMethod = method
        self.hostname = hostname
        self.https = https
        self.encrypt = encrypt
        self.send_cbt = send_cbt
        self.service = service
        self.max_attempts = max_attempts
        self.stats = AuthStats()
        self._credentials = credentials
        self._states: weakref.WeakKeyDictionary[ResponseHandler, _ConnState] = (
            weakref.WeakKeyDictionary()
        )
        self._static_header: str | None = None
        if method == "basic" and credentials is not None:
            raw = f"{credentials.username}:{credentials.password}".encode()
            self._static_header = "Basic " + base64.b64encode(raw).decode("ascii")
        elif method == "certificate":
            self._static_header = CERTIFICATE_AUTHORIZATION

    @classmethod
    def for_uri(
        cls, uri: ConnectionURI, credentials: Credentials | None, **options: Any
    ) -> ClientAuth:
        """Build from a connection URI (``?auth=`` or the default) and resolved credentials."""
        return cls(
            default_auth_method(uri),
            hostname=uri.hostname,
            https=uri.transport == "https",
            credentials=credentials,
            **options,
        )

    def __repr__(self) -> str:
        user = self._credentials.username if self._credentials is not None else None
        return (
            f"<ClientAuth {self.method} user={user!r} host={self.hostname!r} "
            f"encrypt={self.encrypt} connections={len(self._states)} "
            f"handshakes={self.stats.handshakes}>"
        )

    @property
    def connection_based(self) -> bool:
        """Whether connections carry security contexts (NTLM, Negotiate, Kerberos)."""
        return self.method in _SPNEGO_METHODS

    def established_connections(self) -> int:
        """How many live connections have a completed handshake."""
        return sum(1 for state in list(self._states.values()) if state.ctx.established)

    def _new_context(self, conn: Connection) -> ClientSecurityContext:
        bindings: bytes | None = None
        if self.https and self.send_cbt:
            transport = conn.transport
            ssl_object = transport.get_extra_info("ssl_object") if transport else None
            der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
            if der:
                bindings = channel_binding_data(der)
        creds = self._credentials
        return ClientSecurityContext(
            username=creds.username if creds is not None else "",
            password=creds.password if creds is not None else "",
            hostname=self.hostname,
            protocol=self._spnego_protocol(),
            service=self.service,
            channel_bindings=bindings,
            encrypt=self.encrypt,
        )

    def _spnego_protocol(self) -> SpnegoProtocol:
        method = self.method
        if method == "ntlm":
            return "ntlm"
        if method == "kerberos":
            return "kerberos"
        return "negotiate"

    async def post(
        self,
        session: aiohttp.ClientSession,
        url: str,
        body: bytes,
        *,
        headers: Mapping[str, str] | None = None,
        request_timeout: aiohttp.ClientTimeout | None = None,
        max_response_bytes: int | None = None,
        trace_request_ctx: object = None,
    ) -> AuthResponse:
        """POST a SOAP envelope, authenticating (and sealing) as this host requires.

        Args:
            session: A session created with ``request_class=AuthClientRequest``.
            url: The WS-Man endpoint.
            body: The SOAP envelope, plaintext.
            headers: Extra request headers (Content-Type defaults to SOAP).
            request_timeout: Per-HTTP-request ``ClientTimeout`` handed to aiohttp.
            max_response_bytes: Refuse larger responses without reading them whole.
            trace_request_ctx: Handed to aiohttp for the caller's ``TraceConfig`` callbacks, on
                every HTTP request this call makes (handshake legs and resends included).

        Returns:
            The status, headers and (unsealed) body.  Any status but 401 is returned.

        Raises:
            AuthenticationError: The server refused the credentials or the method (HTTP 401).
            ProtocolError: Sealed framing or signature was wrong, or a body was too large.
            TransportError: No connection could be authenticated within ``max_attempts``.
            aiohttp.ClientError, OSError, TimeoutError: Passed through for the transport's
                ``map_exceptions``.
        """
        request_headers: dict[str, str] = {hdrs.CONTENT_TYPE: SOAP_CONTENT_TYPE}
        if headers:
            request_headers.update(headers)
        kwargs: dict[str, Any] = {
            "headers": request_headers,
            "allow_redirects": False,
            "trace_request_ctx": trace_request_ctx,
        }
        if request_timeout is not None:
            kwargs["timeout"] = request_timeout
        if not self.connection_based:
            return await self._post_stateless(session, url, body, kwargs, max_response_bytes)

        refused = 0
        for _attempt in range(self.max_attempts):
            exchange = _Exchange(self, body)
            token = _EXCHANGE.set(exchange)
            try:
                try:
                    # The body travels in the exchange, not in ``data``: AuthClientRequest.send
                    # sets it once the connection is known, so a session without that request
                    # class sends nothing but an empty POST.
                    resp = await session.post(url, data=None, **kwargs)
                finally:
                    _EXCHANGE.reset(token)
            except _StaleConnection:
                exchange.finish()
                self.stats.reconnects += 1
                continue
            except BaseException:
                exchange.finish()
                raise
            try:
                result = await self._complete(exchange, resp, max_response_bytes)
            finally:
                exchange.finish()
                resp.release()
            if result is None:
                continue
            if result.status == 401:
                # 401 to a message on an authenticated connection: the server lost the
                # context (try once more on a fresh connection) or refuses the message itself,
                # e.g. an unencrypted body with AllowUnencrypted=false.
                refused += 1
                if refused > 1:
                    self.stats.failures += 1
                    raise AuthenticationError(
                        f"{self.hostname} refused the request on an authenticated "
                        f"{self.method} connection (HTTP 401)"
                        + ("" if self.encrypt else "; it may refuse unencrypted messages"),
                        auth_method=self.method,
                    )
                continue
            self.stats.requests += 1
            return result
        raise TransportError(
            f"could not authenticate a connection to {self.hostname} "
            f"within {self.max_attempts} requests"
        )

    async def _complete(
        self,
        exchange: _Exchange,
        resp: aiohttp.ClientResponse,
        limit: int | None,
    ) -> AuthResponse | None:
        state = exchange.state
        if state is None or exchange.kind is None:
            raise ConfigError(
                "the aiohttp session must be created with request_class=AuthClientRequest"
            )
        ctx = state.ctx
        if exchange.kind is _Kind.HANDSHAKE:
            # The body of a handshake answer is an error page at most; drain it so the
            # connection can be reused for the next leg.
            await _read_limited(resp, 1 << 20)
            try:
                done = ctx.receive(resp.status, resp.headers.getall(hdrs.WWW_AUTHENTICATE, []))
            except AuthenticationError:
                self.stats.failures += 1
                resp.close()
                raise
            finally:
                state.done()
            if done:
                self.stats.handshakes += 1
                logger.debug(
                    "%s: %s connection authenticated (%s)",
                    self.hostname,
                    ctx.negotiated_protocol,
                    "sealed" if ctx.encrypt else "TLS",
                )
            return None
        if resp.status == 401:
            # The server did not process the request: drop the connection, whose context it
            # may no longer know, and let post() decide whether to authenticate a new one.
            ctx.fail()
            state.done()
            resp.close()
            self.stats.reconnects += 1
            logger.debug("%s: authenticated connection got 401", self.hostname)
            return AuthResponse(status=401, headers=resp.headers, body=b"", sealed=False)
        data = await _read_limited(resp, limit)
        if ctx.encrypt and data:
            # A plaintext answer to a sealed request fails here too (wrong Content-Type).
            data = ctx.unwrap(resp.headers.get(hdrs.CONTENT_TYPE), data)
        state.done()
        return AuthResponse(status=resp.status, headers=resp.headers, body=data, sealed=ctx.encrypt)

    async def _post_stateless(
        self,
        session: aiohttp.ClientSession,
        url: str,
        body: bytes,
        kwargs: dict[str, Any],
        limit: int | None,
    ) -> AuthResponse:
        if self._static_header is not None:
            kwargs["headers"][hdrs.AUTHORIZATION] = self._static_header
        async with session.post(url, data=body, **kwargs) as resp:
            if resp.status == 401:
                self.stats.failures += 1
                who = f" of {self._credentials.username!r}" if self._credentials is not None else ""
                raise AuthenticationError(
                    f"{self.hostname} refused {self.method} authentication{who}",
                    auth_method=self.method,
                )
            data = await _read_limited(resp, limit)
            self.stats.requests += 1
            return AuthResponse(status=resp.status, headers=resp.headers, body=data, sealed=False)
