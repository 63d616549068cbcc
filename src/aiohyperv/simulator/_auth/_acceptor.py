"""The server side of WinRM authentication, sans-IO: users, security contexts, certificate maps.

Used by the simulator (through its middleware, :mod:`aiohyperv.simulator._auth._middleware`) to
accept what a Windows host accepts: NTLM/Negotiate with message encryption, Basic, and client
certificates.

NTLM, raw or as the first mechanism of SPNEGO (what every WinRM client sends without Kerberos),
goes to the simulator's own acceptor (:mod:`aiohyperv.simulator._auth._ntlm`), which checks
responses against each :class:`UserTable`'s accounts.  Any other first token (SPNEGO leading
with Kerberos) goes to pyspnego's acceptor through its public ``spnego.server``; that acceptor
knows no user table (its NTLM reads only pyspnego's documented ``NTLM_USER_FILE``), so it is
there for Kerberos.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol

import spnego
from spnego.channel_bindings import GssChannelBindings

from aiohyperv._auth._certs import certificate_identity
from aiohyperv._auth._encryption import (
    KERBEROS_PROTOCOL,
    SPNEGO_PROTOCOL,
    Wrapped,
    decrypt_message,
    encrypt_message,
)
from aiohyperv._auth._headers import decode_token, format_token
from aiohyperv._auth._ntowf import nt_hash
from aiohyperv._exceptions import ConfigError, InvalidOperation

from ._kerberos import KerberosAcceptor, KerberosService, kerberos_user
from ._ntlm import NTLMSSP, NTLMAcceptor, spnego_init

__all__ = [
    "AuthUser",
    "CertificateMapping",
    "ServerSecurityContext",
    "UserTable",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthUser:
    """One account the server accepts.

    Attributes:
        username: The account name, without domain.
        password: Its password (never in repr).
        domain: The NetBIOS domain; empty for a local account.  A local account is also
            accepted with the domain ``.`` as Windows does (``.\\admin``).
    """

    username: str
    password: str = field(repr=False)
    domain: str = ""

    @property
    def principal(self) -> str:
        """``DOMAIN\\user`` or ``user``."""
        return f"{self.domain}\\{self.username}" if self.domain else self.username

    @classmethod
    def parse(cls, principal: str, password: str) -> AuthUser:
        """Build from ``DOMAIN\\user`` or ``user``."""
        domain, sep, user = principal.partition("\\")
        if not sep:
            domain, user = "", principal
        return cls(username=user, password=password, domain=domain)


def _check_field(name: str, value: str) -> None:
    if any(ch in value for ch in ":\r\n\x00"):
        raise ConfigError(f"user table {name} may not contain ':', NUL or line breaks")


class UserTable:
    """The accounts a simulated host accepts, for Basic, NTLM and certificate mapping.

    Args:
        users: :class:`AuthUser` objects, or a mapping of ``"DOMAIN\\user"``/``"user"`` to
            password.

    """

    def __init__(self, users: Iterable[AuthUser] | Mapping[str, str]) -> None:
        if isinstance(users, Mapping):
            entries = [AuthUser.parse(name, pw) for name, pw in users.items()]
        else:
            entries = list(users)
        if not entries:
            raise ConfigError("a user table needs at least one user")
        self._users: dict[tuple[str, str], AuthUser] = {}
        for user in entries:
            for name, value in (
                ("user names", user.username),
                ("domains", user.domain),
                ("passwords", user.password),
            ):
                _check_field(name, value)
            if not user.username or "\\" in user.username:
                raise ConfigError(f"invalid user name {user.username!r} in user table")
            self._users[(user.domain.upper(), user.username.upper())] = user

    def __repr__(self) -> str:
        names = ", ".join(sorted(u.principal for u in self._users.values()))
        return f"<UserTable [{names}]>"

    def __len__(self) -> int:
        return len(self._users)

    def __iter__(self) -> Iterator[AuthUser]:
        return iter(self._users.values())

    def lookup(self, principal: str) -> AuthUser | None:
        """Find an account by ``DOMAIN\\user``, ``.\\user`` or ``user`` (case-insensitive)."""
        domain, sep, user = principal.partition("\\")
        if not sep:
            domain, user = "", principal
        if domain == ".":
            domain = ""
        return self._users.get((domain.upper(), user.upper()))

    def check_password(self, principal: str, password: str) -> AuthUser | None:
        """The account if ``password`` is right for it, else None (constant-time compare)."""
        user = self.lookup(principal)
        candidate = user.password if user is not None else "\x00invalid"
        ok = hmac.compare_digest(candidate.encode("utf-8"), password.encode("utf-8"))
        return user if ok and user is not None else None

    def check_basic(self, credentials: str) -> AuthUser | None:
        """Check the credentials of an ``Authorization: Basic`` header."""
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            return None
        name, sep, password = decoded.partition(":")
        if not sep:
            return None
        return self.check_password(name, password)

    def nt_hash(self, principal: str) -> bytes | None:
        """The NT hash (NTOWFv1) of an account's password, None for an unknown account."""
        user = self.lookup(principal)
        return nt_hash(user.password) if user is not None else None


@dataclass(frozen=True, slots=True, kw_only=True)
class CertificateMapping:
    """Map a client certificate to an account, like ``WSMan:\\localhost\\ClientCertificate``.

    Attributes:
        subject: The UPN (or e-mail, or CN) the certificate must carry; ``*`` matches any
            certificate that TLS verified.
        username: The account (``DOMAIN\\user`` or ``user``) the certificate logs on as.
    """

    subject: str
    username: str


def map_certificate(
    certificate_der: bytes, mappings: Iterable[CertificateMapping], users: UserTable
) -> AuthUser | None:
    """The account a verified client certificate maps to, or None.

    Windows matches the certificate's subjectAltName UPN against each mapping's subject; this
    also accepts an rfc822Name or the CN, so certificates from simple test CAs can map too.
    """
    try:
        identity = certificate_identity(certificate_der)
    except ValueError:
        return None
    names = {name.lower() for name in identity.names}
    for mapping in mappings:
        if mapping.subject == "*" or mapping.subject.lower() in names:
            user = users.lookup(mapping.username)
            if user is not None:
                return user
    return None


class ServerSecurityContext:
    """One TCP connection's acceptor: the NTLM/Negotiate handshake, then sealing.

    Args:
        users: The accounts that may log on.
        channel_bindings: RFC 5929 data of this server's TLS certificate, to require clients'
            channel binding tokens to match (Windows' ``CbtHardeningLevel=Strict``: a client
            that sends none, an all-zero one or a wrong one is refused).  None: bindings are
            not checked.  ``Relaxed`` (absent accepted, wrong refused) is not modelled.
        kerberos: The keytab (and service principal) to accept Kerberos with, raw (the
            ``Kerberos`` scheme) or inside SPNEGO (``Negotiate``); None refuses Kerberos.
    """

    __slots__ = (
        "_bindings",
        "_ctx",
        "_kerberos",
        "_protocol",
        "_users",
        "mechanism",
        "principal",
        "user",
    )

    def __init__(
        self,
        users: UserTable,
        *,
        channel_bindings: bytes | None = None,
        kerberos: KerberosService | None = None,
    ) -> None:
        self._users = users
        self._bindings = channel_bindings
        self._kerberos = kerberos
        self._ctx: _Acceptor | None = None
        self._protocol = SPNEGO_PROTOCOL
        self.user: AuthUser | None = None
        self.principal: str | None = None
        #: ``"ntlm"`` or ``"kerberos"`` once a client authenticated.
        self.mechanism: str | None = None

    def __repr__(self) -> str:
        state = "established" if self.established else "handshake"
        return f"<ServerSecurityContext {state} principal={self.principal!r}>"

    @property
    def users(self) -> UserTable:
        """The accounts this connection may log on with."""
        return self._users

    @property
    def established(self) -> bool:
        """True once a client completed the handshake on this connection."""
        return self.user is not None

    def accept(self, token_text: str | None, scheme: str = "Negotiate") -> tuple[bool, str | None]:
        """Process one ``Authorization: Negotiate <token>`` (or ``Kerberos <token>``) leg.

        A new handshake on an established connection starts over (Windows allows this).

        Returns:
            ``(complete, www_authenticate)``: whether the client is now authenticated, and the
            ``WWW-Authenticate`` value to answer with (a challenge or a final token), if any.
            A failed handshake returns ``(False, None)`` and resets the connection's context.
        """
        token = decode_token(token_text) if token_text else None
        if token is None:
            self.reset()
            return False, None
        if self._ctx is None or self.established:
            self.reset()
            try:
                self._ctx = self._new_acceptor(token, scheme)
            except Exception:  # Kerberos refused (no keytab) or an unusable first token
                self.reset()
                return False, None
            self._protocol = KERBEROS_PROTOCOL if scheme == "Kerberos" else SPNEGO_PROTOCOL
        ctx = self._ctx
        try:
            out = ctx.step(token)
        except Exception:  # bad password, unknown user or domain, malformed token
            self.reset()
            return False, None
        header = format_token(scheme, bytes(out)) if out else None
        if not ctx.complete:
            return False, header
        principal = ctx.client_principal or ""
        if isinstance(ctx, KerberosAcceptor):
            user = kerberos_user(principal, self._users)
        else:
            user = self._users.lookup(principal)
        if user is None:
            self.reset()
            return False, None
        self.user = user
        self.principal = user.principal
        self.mechanism = "kerberos" if isinstance(ctx, KerberosAcceptor) else "ntlm"
        return True, header

    def _new_acceptor(self, token: bytes, scheme: str = "Negotiate") -> _Acceptor:
        # The Kerberos scheme, or SPNEGO not leading with NTLM on a host with a keytab: GSSAPI.
        # Raw NTLM, or SPNEGO leading with NTLM (what every WinRM client sends without
        # Kerberos): the simulator's NTLM acceptor.  Anything else: pyspnego's (Kerberos).
        if scheme == "Kerberos" or (
            self._kerberos is not None
            and not token.startswith(NTLMSSP)
            and spnego_init(token) is None
        ):
            if self._kerberos is None:
                raise InvalidOperation("this listener does not accept Kerberos")
            return KerberosAcceptor(self._kerberos, channel_bindings=self._bindings)
        if token.startswith(NTLMSSP):
            return NTLMAcceptor(self._users.nt_hash, self._bindings_hash(), None)
        found = spnego_init(token)
        if found is not None:
            return NTLMAcceptor(self._users.nt_hash, self._bindings_hash(), found[0])
        bindings = GssChannelBindings(application_data=self._bindings) if self._bindings else None
        return spnego.server(
            protocol="negotiate",
            service="HTTP",
            channel_bindings=bindings,
            options=spnego.NegotiateOptions.wrapping_winrm,
        )

    def _bindings_hash(self) -> bytes | None:
        if not self._bindings:
            return None
        packed = GssChannelBindings(application_data=self._bindings).pack()
        return hashlib.md5(packed).digest()

    def reset(self) -> None:
        """Forget the handshake: the connection is unauthenticated again."""
        self._ctx = None
        self.user = None
        self.principal = None
        self.mechanism = None

    def wrap(self, body: bytes) -> tuple[str, bytes]:
        """Seal a response body: ``(content_type, payload)``."""
        if self._ctx is None or not self.established:
            raise InvalidOperation("cannot seal before the client has authenticated")
        return encrypt_message(self._ctx, body, protocol=self._protocol)

    def unwrap(self, content_type: str | None, payload: bytes) -> bytes:
        """Check and unseal a request body.

        Raises:
            ProtocolError: Bad framing or signature.
        """
        if self._ctx is None or not self.established:
            raise InvalidOperation("cannot unseal before the client has authenticated")
        return decrypt_message(self._ctx, content_type, payload, protocol=self._protocol)


CertificateMapper = Callable[[bytes], AuthUser | None]


class _Acceptor(Protocol):
    """What :class:`ServerSecurityContext` needs of an acceptor (pyspnego's or the native one)."""

    @property
    def complete(self) -> bool: ...

    @property
    def client_principal(self) -> str | None: ...

    def step(self, in_token: bytes, /) -> bytes | None: ...

    def wrap_winrm(self, data: bytes, /) -> Wrapped: ...

    def unwrap_winrm(self, header: bytes, data: bytes, /) -> bytes: ...
