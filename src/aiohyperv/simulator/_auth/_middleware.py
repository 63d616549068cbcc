"""aiohttp glue for the server (the simulator): an auth middleware that behaves like WinRM.

:func:`auth_middleware` authenticates each request the way a Windows WinRM listener does and
leaves the handler a plaintext SOAP request:

* ``Authorization: Kerberos <token>``, and Kerberos inside ``Negotiate``, are accepted with the
  listener's keytab when the policy has one (:class:`KerberosService`).
* ``Authorization: Negotiate <token>`` runs the NTLM (raw or SPNEGO-wrapped) handshake on the
  request's TCP connection -- 401 with the challenge, then the final leg -- and remembers the
  user for that connection (keyed by ``request.transport``, so the context dies with it).  An
  empty-bodied leg is answered ``200`` with no body, as WinRM clients that encrypt expect.
* ``multipart/encrypted`` bodies on an authenticated connection are unsealed before the handler
  runs (:func:`request_body` returns the plaintext) and its response is sealed back.
* ``Authorization: Basic`` is checked per request when ``allow_basic``.
* ``Authorization: http://schemas.dmtf.org/.../https/mutual`` maps the TLS client certificate to
  a user through ``certificates``.
* Over plain HTTP, a plaintext body is refused with 401 unless ``allow_unencrypted`` -- Windows'
  default ``AllowUnencrypted=false``; over HTTPS plaintext bodies are what TLS is for.

The handler finds who was authenticated, and how, in ``request[AUTH_INFO]``.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from aiohttp import hdrs, web
from multidict import CIMultiDict

from aiohyperv._auth._certs import channel_binding_data
from aiohyperv._auth._encryption import is_encrypted_content_type
from aiohyperv._auth._headers import CERTIFICATE_AUTHORIZATION, parse_authorization
from aiohyperv._exceptions import ProtocolError

from ._acceptor import (
    AuthUser,
    CertificateMapping,
    ServerSecurityContext,
    UserTable,
    map_certificate,
)

if TYPE_CHECKING:
    import asyncio

    from aiohttp.typedefs import Middleware

    from ._kerberos import KerberosService

__all__ = [
    "AUTH_INFO",
    "AuthInfo",
    "ServerAuthPolicy",
    "UserResolver",
    "auth_middleware",
    "ntlm_middleware",
    "request_body",
    "seal_body",
]

logger = logging.getLogger("aiohyperv.simulator.auth")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# Which accounts a request may log on with: one table for the listener, or a per-request choice
# (a simulator serving many hosts picks the table of the host the request is addressed to).
UserResolver = Callable[[web.Request], UserTable | None]


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthInfo:
    """Who sent a request and how it was protected.

    Attributes:
        user: The authenticated account.
        method: ``"negotiate"`` (NTLM via Negotiate), ``"kerberos"`` (Kerberos, through the
            ``Kerberos`` scheme or inside Negotiate), ``"basic"`` or ``"certificate"``.
        sealed: Whether the request came (and its response goes) with message encryption.
    """

    user: AuthUser
    method: Literal["negotiate", "kerberos", "basic", "certificate"]
    sealed: bool


AUTH_INFO: web.RequestKey[AuthInfo] = web.RequestKey("aiohyperv_auth_info", AuthInfo)
_SEALER: web.RequestKey[ServerSecurityContext] = web.RequestKey(
    "aiohyperv_auth_sealer", ServerSecurityContext
)
_PLAINTEXT: web.RequestKey[bytes] = web.RequestKey("aiohyperv_auth_plaintext", bytes)


async def request_body(request: web.Request) -> bytes:
    """The request's SOAP body: the plaintext of a sealed request, else the body as sent.

    Handlers behind :func:`auth_middleware` read the body with this instead of
    ``request.read()``, which returns what came over the wire (``multipart/encrypted``).
    """
    plaintext = request.get(_PLAINTEXT)
    return plaintext if plaintext is not None else await request.read()


def seal_body(request: web.Request, body: bytes) -> tuple[str, bytes]:
    """``(content_type, body)`` to send for ``request``: sealed if the request came sealed.

    Only handlers that stream their response (``web.StreamResponse.prepare``) need this; a
    ``web.Response`` is sealed by the middleware.  Call it once per response, just before
    writing: sealing advances the connection's NTLM sequence number.
    """
    ctx: ServerSecurityContext | None = request.get(_SEALER)
    if ctx is None:
        return "application/soap+xml;charset=UTF-8", body
    del request[_SEALER]  # sealed by the handler: the middleware must not seal again
    return ctx.wrap(body)


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerAuthPolicy:
    """What a simulated WinRM listener accepts (defaults: a fresh Windows Server's HTTP one).

    Attributes:
        allow_unencrypted: Accept plaintext bodies over HTTP (``AllowUnencrypted``).
        allow_basic: Accept Basic (Windows' default is false; the simulator's contract with
            the transport starts with Basic, hence true here).
        allow_negotiate: Accept NTLM through Negotiate.
        certificates: Client-certificate mappings (``ClientCertificate`` entries); empty turns
            certificate authentication off.
        server_certificate: DER of the listener's TLS certificate: when given, NTLM over
            HTTPS requires a matching channel binding token (``CbtHardeningLevel=Strict``);
            when None, bindings are not checked.
        realm: The Basic realm advertised.
        allow_anonymous_identify: Let ``WSMANIDENTIFY: unauthenticated`` requests without
            credentials through (no :data:`AUTH_INFO`), as Windows does for Identify.
        kerberos: Accept Kerberos with this keytab (the ``Kerberos`` scheme, and Kerberos
            inside Negotiate); None: no Kerberos, as for a host outside any domain.
    """

    allow_unencrypted: bool = False
    allow_basic: bool = True
    allow_negotiate: bool = True
    certificates: tuple[CertificateMapping, ...] = ()
    server_certificate: bytes | None = None
    realm: str = "WSMAN"
    allow_anonymous_identify: bool = True
    kerberos: KerberosService | None = None


def ntlm_middleware(
    users: UserTable | Iterable[AuthUser] | Mapping[str, str],
    *,
    allow_unencrypted: bool = False,
    allow_basic: bool = True,
    allow_negotiate: bool = True,
    certificates: Iterable[CertificateMapping] = (),
    server_certificate: bytes | None = None,
) -> Middleware:
    """A WinRM-like auth middleware for ``users``; see :class:`ServerAuthPolicy` for options."""
    policy = ServerAuthPolicy(
        allow_unencrypted=allow_unencrypted,
        allow_basic=allow_basic,
        allow_negotiate=allow_negotiate,
        certificates=tuple(certificates),
        server_certificate=server_certificate,
    )
    table = users if isinstance(users, UserTable) else UserTable(users)
    return auth_middleware(table, policy)


def auth_middleware(
    users: UserTable | UserResolver, policy: ServerAuthPolicy | None = None
) -> Middleware:
    """Build the middleware for one listener.

    Args:
        users: The accounts, or a function choosing them per request (None: answer 404, the
            request names no host).  A connection keeps the table of its first request.
        policy: What is accepted; default :class:`ServerAuthPolicy`.
    """
    resolve: UserResolver = (lambda _request: users) if isinstance(users, UserTable) else users
    listener = _Listener(resolve, policy or ServerAuthPolicy())

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        return await listener.handle(request, handler)

    return middleware


@dataclass(frozen=True, slots=True)
class _LoggedOn:
    """The outcome of a request's authentication step."""

    user: AuthUser
    method: Literal["negotiate", "kerberos", "basic", "certificate"]
    final_token: str | None = None  # SPNEGO's last token, sent back with the response


class _Listener:
    """One listener's authentication, in the steps a WinRM listener takes for each request:
    find the connection's security context, authenticate, unseal, run the handler, seal."""

    __slots__ = ("_bindings", "_contexts", "_policy", "_resolve")

    def __init__(self, resolve: UserResolver, policy: ServerAuthPolicy) -> None:
        self._resolve = resolve
        self._policy = policy
        # A connection's security context dies with its transport.
        self._contexts: weakref.WeakKeyDictionary[asyncio.BaseTransport, ServerSecurityContext] = (
            weakref.WeakKeyDictionary()
        )
        certificate = policy.server_certificate
        self._bindings = channel_binding_data(certificate) if certificate else None

    async def handle(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        transport = request.transport
        if transport is None:  # the client already went away
            raise web.HTTPBadRequest
        ssl_object = transport.get_extra_info("ssl_object")
        if self._anonymous_identify(request):
            return await handler(request)
        ctx = self._context(request, transport, tls=ssl_object is not None)
        logged_on = await self._authenticate(request, ctx, ssl_object)
        if isinstance(logged_on, web.StreamResponse):
            return logged_on
        sealed = await self._unseal(request, ctx, logged_on, tls=ssl_object is not None)
        if isinstance(sealed, web.StreamResponse):
            return sealed
        request[AUTH_INFO] = AuthInfo(user=logged_on.user, method=logged_on.method, sealed=sealed)
        response = await self._run(request, handler, sealed=sealed)
        if sealed and request.get(_SEALER) is not None:
            response = _seal_response(ctx, response)
        if logged_on.final_token is not None:
            response.headers[hdrs.WWW_AUTHENTICATE] = logged_on.final_token
        return response

    def _anonymous_identify(self, request: web.Request) -> bool:
        # Windows answers ``WSMANIDENTIFY: unauthenticated`` without credentials.
        return (
            self._policy.allow_anonymous_identify
            and hdrs.AUTHORIZATION not in request.headers
            and request.headers.get("WSMANIDENTIFY", "").lower() == "unauthenticated"
        )

    def _context(
        self, request: web.Request, transport: asyncio.BaseTransport, *, tls: bool
    ) -> ServerSecurityContext:
        ctx = self._contexts.get(transport)
        if ctx is None:
            table = self._resolve(request)
            if table is None:
                raise web.HTTPNotFound
            ctx = ServerSecurityContext(
                table,
                channel_bindings=self._bindings if tls else None,
                kerberos=self._policy.kerberos,
            )
            self._contexts[transport] = ctx
        return ctx

    async def _authenticate(
        self, request: web.Request, ctx: ServerSecurityContext, ssl_object: Any
    ) -> _LoggedOn | web.Response:
        """Who sent ``request``, or the response that ends it (a challenge, a refusal, or the
        answer to a handshake-only leg)."""
        policy = self._policy
        authorization = parse_authorization(request.headers.get(hdrs.AUTHORIZATION))
        if authorization is None:
            # No header: the connection's NTLM or Kerberos logon, if it has one, still holds.
            if ctx.user is None:
                return self._refuse()
            return _LoggedOn(ctx.user, _connection_method(ctx))
        scheme, credentials = authorization
        lowered = scheme.lower()
        if (lowered == "negotiate" and policy.allow_negotiate) or (
            lowered == "kerberos" and policy.kerberos is not None
        ):
            wire_scheme = "Kerberos" if lowered == "kerberos" else "Negotiate"
            return await self._negotiate(request, ctx, credentials, wire_scheme)
        user: AuthUser | None = None
        if scheme.lower() == "basic" and policy.allow_basic:
            user = ctx.users.check_basic(credentials or "")
            if user is not None:
                return _LoggedOn(user, "basic")
        elif scheme == CERTIFICATE_AUTHORIZATION and policy.certificates and ssl_object:
            der = ssl_object.getpeercert(binary_form=True)
            if der:
                user = map_certificate(der, policy.certificates, ctx.users)
            if user is not None:
                return _LoggedOn(user, "certificate")
        logger.info("refused %s authorization from %s", scheme[:20], request.remote)
        return self._refuse()

    async def _negotiate(
        self,
        request: web.Request,
        ctx: ServerSecurityContext,
        credentials: str | None,
        wire_scheme: str,
    ) -> _LoggedOn | web.Response:
        complete, www = ctx.accept(credentials, wire_scheme)
        if not complete or ctx.user is None:
            if www is None:
                logger.info("%s logon failed from %s", wire_scheme, request.remote)
            return self._refuse(www)
        logger.debug("%s logon of %s from %s", ctx.mechanism, ctx.principal, request.remote)
        if not await request.read():
            # A handshake-only leg (what encrypting clients send): nothing to run.
            leg_done = web.Response(status=200)
            if www is not None:
                leg_done.headers[hdrs.WWW_AUTHENTICATE] = www
            return leg_done
        return _LoggedOn(ctx.user, _connection_method(ctx), www)

    async def _unseal(
        self, request: web.Request, ctx: ServerSecurityContext, logged_on: _LoggedOn, *, tls: bool
    ) -> bool | web.Response:
        """Whether the request came sealed (its plaintext is then :func:`request_body`'s), or
        the response that refuses it."""
        content_type = request.headers.get(hdrs.CONTENT_TYPE)
        if not is_encrypted_content_type(content_type):
            if not tls and not self._policy.allow_unencrypted and await request.read():
                logger.info("refused an unencrypted body over HTTP from %s", request.remote)
                return self._refuse()
            return False
        if logged_on.method not in ("negotiate", "kerberos") or not ctx.established:
            return self._refuse()
        try:
            plaintext = ctx.unwrap(content_type, await request.read())
        except ProtocolError as exc:
            logger.info("bad encrypted message from %s: %s", request.remote, exc)
            ctx.reset()
            bad = web.Response(status=400)
            bad.force_close()
            return bad
        request[_PLAINTEXT] = plaintext
        request[_SEALER] = ctx
        return True

    @staticmethod
    async def _run(request: web.Request, handler: Handler, *, sealed: bool) -> web.StreamResponse:
        try:
            return await handler(request)
        except web.HTTPException as exc:
            if not sealed:
                raise
            return exc  # an error page on a sealed connection is sealed like any answer

    def _refuse(self, challenge: str | None = None) -> web.Response:
        """401 with ``challenge``, or with the schemes this listener offers."""
        headers: CIMultiDict[str] = CIMultiDict()
        if challenge is not None:
            headers.add(hdrs.WWW_AUTHENTICATE, challenge)
        else:
            if self._policy.allow_negotiate:
                headers.add(hdrs.WWW_AUTHENTICATE, "Negotiate")
            if self._policy.kerberos is not None:
                headers.add(hdrs.WWW_AUTHENTICATE, "Kerberos")
            if self._policy.allow_basic:
                headers.add(hdrs.WWW_AUTHENTICATE, f'Basic realm="{self._policy.realm}"')
        return web.Response(status=401, headers=headers)


def _seal_response(ctx: ServerSecurityContext, response: web.StreamResponse) -> web.Response:
    if not isinstance(response, web.Response):
        raise TypeError("sealed requests need a web.Response with a bytes body")
    body = response.body
    if body is None or body == b"":
        return response
    if not isinstance(body, bytes | bytearray):
        raise TypeError("sealed requests need a web.Response with a bytes body")
    content_type, payload = ctx.wrap(bytes(body))
    headers = CIMultiDict(
        (k, v)
        for k, v in response.headers.items()
        if k.lower() not in ("content-type", "content-length", "content-encoding")
    )
    headers[hdrs.CONTENT_TYPE] = content_type
    sealed = web.Response(
        status=response.status, reason=response.reason, body=payload, headers=headers
    )
    if response.keep_alive is False:  # the handler asked to close the connection
        sealed.force_close()
    return sealed


def _connection_method(ctx: ServerSecurityContext) -> Literal["negotiate", "kerberos"]:
    return "kerberos" if ctx.mechanism == "kerberos" else "negotiate"
