"""aiohttp glue for the server (the simulator): an auth middleware that behaves like WinRM.

:func:`auth_middleware` authenticates each request the way a Windows WinRM listener does and
leaves the handler a plaintext SOAP request:

* ``Authorization: Negotiate <token>`` runs the NTLM (raw or SPNEGO-wrapped) handshake on the
  request's TCP connection -- 401 with the challenge, then the final leg -- and remembers the
  user for that connection (keyed by ``request.transport``, so the context dies with it).  An
  empty-bodied leg is answered ``200`` with no body, as WinRM clients that encrypt expect.
* ``multipart/encrypted`` bodies on an authenticated connection are unsealed before the handler
  runs (``await request.read()`` returns the plaintext) and its response is sealed back.
* ``Authorization: Kerberos <token>``, and Kerberos inside ``Negotiate``, are accepted the same
  way with the listener's keytab when the policy has one (:class:`KerberosService`).
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
from typing import TYPE_CHECKING, Literal

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
            request names no host).  The caller owns the tables (``close()`` on shutdown
            removes their NTLM user files; garbage collection does too).  A connection keeps
            the table of its first request.
        policy: What is accepted; default :class:`ServerAuthPolicy`.
    """
    policy = policy or ServerAuthPolicy()
    resolve: UserResolver = (lambda _request: users) if isinstance(users, UserTable) else users
    contexts: weakref.WeakKeyDictionary[asyncio.BaseTransport, ServerSecurityContext] = (
        weakref.WeakKeyDictionary()
    )
    bindings = (
        channel_binding_data(policy.server_certificate) if policy.server_certificate else None
    )

    def offers() -> CIMultiDict[str]:
        headers: CIMultiDict[str] = CIMultiDict()
        if policy.allow_negotiate:
            headers.add(hdrs.WWW_AUTHENTICATE, "Negotiate")
        if policy.kerberos is not None:
            headers.add(hdrs.WWW_AUTHENTICATE, "Kerberos")
        if policy.allow_basic:
            headers.add(hdrs.WWW_AUTHENTICATE, f'Basic realm="{policy.realm}"')
        return headers

    def unauthorized(challenge: str | None = None) -> web.Response:
        if challenge is not None:
            headers: CIMultiDict[str] = CIMultiDict({hdrs.WWW_AUTHENTICATE: challenge})
        else:
            headers = offers()
        return web.Response(status=401, headers=headers)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        transport = request.transport
        if transport is None:  # the client already went away
            raise web.HTTPBadRequest
        ssl_object = transport.get_extra_info("ssl_object")
        tls = ssl_object is not None
        if (
            policy.allow_anonymous_identify
            and hdrs.AUTHORIZATION not in request.headers
            and request.headers.get("WSMANIDENTIFY", "").lower() == "unauthenticated"
        ):
            return await handler(request)
        ctx = contexts.get(transport)
        if ctx is None:
            table = resolve(request)
            if table is None:
                raise web.HTTPNotFound
            ctx = ServerSecurityContext(
                table, channel_bindings=bindings if tls else None, kerberos=policy.kerberos
            )
            contexts[transport] = ctx
        users = ctx.users

        user: AuthUser | None = None
        method: Literal["negotiate", "kerberos", "basic", "certificate"]
        final_token: str | None = None
        authorization = parse_authorization(request.headers.get(hdrs.AUTHORIZATION))
        if authorization is None:
            if ctx.user is None:
                return unauthorized()
            user, method = ctx.user, _connection_method(ctx)
        else:
            scheme, credentials = authorization
            lowered = scheme.lower()
            if (lowered == "negotiate" and policy.allow_negotiate) or (
                lowered == "kerberos" and policy.kerberos is not None
            ):
                wire_scheme = "Kerberos" if lowered == "kerberos" else "Negotiate"
                complete, www = ctx.accept(credentials, wire_scheme)
                if not complete:
                    if www is None:
                        logger.info("%s logon failed from %s", wire_scheme, request.remote)
                    return unauthorized(www)
                user, method, final_token = ctx.user, _connection_method(ctx), www
                logger.debug("%s logon of %s from %s", ctx.mechanism, ctx.principal, request.remote)
                if not await request.read():
                    # A handshake-only leg (what encrypting clients send): nothing to run.
                    leg_done = web.Response(status=200)
                    if final_token is not None:
                        leg_done.headers[hdrs.WWW_AUTHENTICATE] = final_token
                    return leg_done
            elif scheme.lower() == "basic" and policy.allow_basic:
                user, method = users.check_basic(credentials or ""), "basic"
            elif scheme == CERTIFICATE_AUTHORIZATION and policy.certificates and tls:
                der = ssl_object.getpeercert(binary_form=True)
                if der:
                    user = map_certificate(der, policy.certificates, users)
                method = "certificate"
            if user is None:
                logger.info("refused %s authorization from %s", scheme[:20], request.remote)
                return unauthorized()

        sealed = False
        content_type = request.headers.get(hdrs.CONTENT_TYPE)
        if is_encrypted_content_type(content_type):
            if method not in ("negotiate", "kerberos") or not ctx.established:
                return unauthorized()
            raw = await request.read()
            try:
                plaintext = ctx.unwrap(content_type, raw)
            except ProtocolError as exc:
                logger.info("bad encrypted message from %s: %s", request.remote, exc)
                ctx.reset()
                bad = web.Response(status=400)
                bad.force_close()
                return bad
            # aiohttp keeps the body read so far here; later ``await request.read()`` calls
            # in the handler return the plaintext.
            request._read_bytes = plaintext
            request[_SEALER] = ctx
            sealed = True
        elif not tls and not policy.allow_unencrypted and await request.read():
            logger.info("refused an unencrypted body over HTTP from %s", request.remote)
            return unauthorized()

        request[AUTH_INFO] = AuthInfo(user=user, method=method, sealed=sealed)
        response: web.StreamResponse
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            if not sealed:
                raise
            response = exc
        if sealed and request.get(_SEALER) is not None:
            response = _seal_response(ctx, response)
        if final_token is not None:
            response.headers[hdrs.WWW_AUTHENTICATE] = final_token
        return response

    return middleware


def _connection_method(ctx: ServerSecurityContext) -> Literal["negotiate", "kerberos"]:
    return "kerberos" if ctx.mechanism == "kerberos" else "negotiate"


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
