"""The client side of a connection's NTLM/Negotiate/Kerberos security context, sans-IO.

NTLM, Negotiate and Kerberos authenticate a TCP connection, not a request (MS-WSMV 3.1.4.1),
and WinRM's message encryption seals with that connection's session key.  A
:class:`ClientSecurityContext` is therefore made per connection, driven through the handshake
with the HTTP status and ``WWW-Authenticate`` headers of each leg, and only then can seal and
unseal bodies.  Nothing here performs I/O; :mod:`aiohyperv._auth._aiohttp_client` wires it to
aiohttp connections.

A leg, as WinRM clients send it when encryption is required: an empty-bodied ``POST`` with
``Authorization: Negotiate <token>``.  The server answers 401 with its challenge, then (after the
last client token) a non-401 status, possibly with a final token for mutual authentication.
"""

from __future__ import annotations

import enum
import sys
from typing import TYPE_CHECKING, Literal

import spnego
from spnego.channel_bindings import GssChannelBindings

from .._exceptions import AuthenticationError, ConfigError, HTTPStatusError, InvalidOperation
from .._log import logger
from ._encryption import (
    KERBEROS_PROTOCOL,
    SPNEGO_PROTOCOL,
    decrypt_message,
    encrypt_message,
)
from ._headers import decode_token, format_token, parse_challenges
from ._kerberos import (
    KerberosFailure,
    KerberosInitiator,
    gssapi_available,
    import_gssapi,
    known_cache_miss,
)
from ._ntowf import nt_hash

if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

__all__ = ["ClientSecurityContext", "HandshakeState", "SpnegoProtocol"]

SpnegoProtocol = Literal["ntlm", "negotiate", "kerberos"]

# The HTTP scheme and the encryption protocol for each pyspnego protocol.  WinRM takes raw NTLM
# tokens inside the Negotiate scheme; Kerberos-only uses its own scheme and MIME protocol.
_SCHEMES: dict[str, str] = {"ntlm": "Negotiate", "negotiate": "Negotiate", "kerberos": "Kerberos"}
_ENCRYPTION: dict[str, str] = {"Negotiate": SPNEGO_PROTOCOL, "Kerberos": KERBEROS_PROTOCOL}


class HandshakeState(enum.Enum):
    """Where a connection's handshake stands."""

    INITIAL = "initial"  # nothing sent yet
    SENT = "sent"  # a leg is on the wire; its response has not been seen
    CONTINUE = "continue"  # the server challenged; the next leg is ready to send
    ESTABLISHED = "established"  # the server accepted: seal and send
    FAILED = "failed"  # rejected or broken: this connection must be closed


class ClientSecurityContext:
    """One TCP connection's client security context.

    Args:
        username: ``user``, ``DOMAIN\\user`` or ``user@REALM``.
        password: The password (never shown in repr, logs or errors).
        hostname: The server host name; Kerberos builds the SPN ``HTTP/<hostname>`` from it.
        protocol: ``"negotiate"`` (Kerberos if available, else NTLM), ``"ntlm"`` or
            ``"kerberos"`` (never NTLM).  Kerberos goes through python-gssapi
            (:mod:`aiohyperv._auth._kerberos`): ``kerberos`` with a password gets a ticket
            with it once per process; otherwise the user's credential cache (``KRB5CCNAME``)
            is used.  Negotiate uses Kerberos when the cache holds a ticket (for ``username``,
            if given) and falls back to NTLM only when Kerberos cannot be used (no ticket, no
            KDC, unknown SPN, or the server refuses it) and a password was given for NTLM.
        service: The SPN service class.
        channel_bindings: RFC 5929 ``tls-server-end-point`` data of the HTTPS server certificate
            (see :func:`~aiohyperv._auth._certs.channel_binding_data`), or None over HTTP.
        encrypt: Whether bodies will be sealed (HTTP).  Over HTTPS TLS protects them instead.

    Raises:
        ConfigError: The protocol is not available on this machine (Kerberos without
            python-gssapi: the message names ``aiohyperv[kerberos]``).
    """

    __slots__ = (
        "_ctx",
        "_encrypt",
        "_fallback",
        "_hostname",
        "_kerberos",
        "_protocol",
        "_scheme",
        "_state",
        "_token",
        "_username",
        "legs",
    )

    def __init__(
        self,
        *,
        username: str,
        password: str,
        hostname: str,
        protocol: SpnegoProtocol = "negotiate",
        service: str = "HTTP",
        channel_bindings: bytes | None = None,
        encrypt: bool = True,
    ) -> None:
        if protocol not in _SCHEMES:
            raise ConfigError(f"unknown authentication protocol {protocol!r}")
        self._protocol = protocol
        self._scheme = _SCHEMES[protocol]
        self._username = username
        self._encrypt = encrypt
        self._state = HandshakeState.INITIAL
        self._token: bytes | None = None
        self.legs = 0
        self._hostname = hostname
        self._kerberos: KerberosInitiator | None = None
        # Negotiate's way out when Kerberos cannot be used: NTLM, if there is a password.
        self._fallback: Any = None
        gssapi = gssapi_available()
        if protocol == "kerberos" and not gssapi and sys.platform != "win32":
            try:
                import_gssapi()
            except ConfigError as exc:
                raise ConfigError(f"kerberos authentication is not available: {exc}") from None
        # On Windows without python-gssapi, pyspnego's SSPI does Kerberos (below).
        spnego_protocol: SpnegoProtocol = protocol
        if protocol == "negotiate" and username and password and gssapi:
            # The cache had no ticket for this user a moment ago (another connection looked):
            # straight to raw NTLM, exactly what _fall_back sends after looking again.  Not
            # pyspnego's "negotiate", which would try GSSAPI once more on every connection (its
            # failure leaves a traceback cycle per connection for the cyclic collector) and
            # wrap the same NTLM tokens in SPNEGO.
            miss = known_cache_miss(username)
            if miss is not None:
                logger.debug(
                    "%s: Kerberos not used (%s); Negotiate falls back to NTLM", hostname, miss
                )
                gssapi = False
                spnego_protocol = "ntlm"
        if gssapi and protocol in ("kerberos", "negotiate"):
            # Negotiate takes Kerberos when the credential cache holds a ticket (for the user,
            # if named); it never turns the password into one, which would send the password
            # to whatever KDC the system's krb5.conf names.  auth=kerberos does.
            self._kerberos = KerberosInitiator(
                hostname=hostname,
                username=username or None,
                password=(password or None) if protocol == "kerberos" else None,
                spnego=protocol == "negotiate",
                channel_bindings=channel_bindings,
                service=service,
            )
            self._ctx: Any = self._kerberos
            if protocol == "negotiate" and username and password:
                self._fallback = (username, password, service, channel_bindings, encrypt)
            return
        self._ctx = self._pyspnego(
            username, password, hostname, spnego_protocol, service, channel_bindings, encrypt
        )

    @staticmethod
    def _pyspnego(
        username: str,
        password: str,
        hostname: str,
        protocol: SpnegoProtocol,
        service: str,
        channel_bindings: bytes | None,
        encrypt: bool,
    ) -> Any:
        bindings = (
            GssChannelBindings(application_data=channel_bindings) if channel_bindings else None
        )
        options = (
            spnego.NegotiateOptions.wrapping_winrm if encrypt else spnego.NegotiateOptions.none
        )
        try:
            return spnego.client(
                _credentials(username, password),
                None,
                hostname=hostname,
                service=service,
                channel_bindings=bindings,
                protocol=protocol,
                options=options,
            )
        except Exception as exc:  # FeatureMissingError, SpnegoError, ValueError...
            hint = ""
            if protocol == "kerberos" and "gssapi" in str(exc):
                # pyspnego does Kerberos through the optional gssapi package (krb5 on POSIX).
                hint = "; install it with: pip install 'aiohyperv[kerberos]'"
            raise ConfigError(
                f"{protocol} authentication is not available for {username!r}: "
                f"{type(exc).__name__}: {_reason(exc)}{hint}"
            ) from None

    @property
    def may_block(self) -> bool:
        """Whether the next leg may talk to a KDC (run it off the event loop)."""
        return self._kerberos is not None and self._state is HandshakeState.INITIAL

    def _fall_back(self, why: str) -> bool:
        """Switch Negotiate from Kerberos to NTLM, if allowed; False when it is not."""
        if self._fallback is None or self._kerberos is None:
            return False
        username, password, service, bindings, encrypt = self._fallback
        logger.debug(
            "%s: Kerberos not used (%s); Negotiate falls back to NTLM", self._hostname, why
        )
        self._kerberos = None
        self._fallback = None
        self._ctx = self._pyspnego(
            username, password, self._hostname, "ntlm", service, bindings, encrypt
        )
        return True

    def __repr__(self) -> str:
        return (
            f"<ClientSecurityContext {self._protocol} user={self._username!r} "
            f"state={self._state.value} legs={self.legs}>"
        )

    @property
    def state(self) -> HandshakeState:
        """Where the handshake stands."""
        return self._state

    @property
    def established(self) -> bool:
        """True once the server accepted the last leg: the connection may carry messages."""
        return self._state is HandshakeState.ESTABLISHED

    @property
    def encrypt(self) -> bool:
        """Whether this connection seals bodies."""
        return self._encrypt

    @property
    def scheme(self) -> str:
        """The HTTP authentication scheme used on the wire (``Negotiate`` or ``Kerberos``)."""
        return self._scheme

    @property
    def encryption_protocol(self) -> str:
        """The ``protocol=`` of ``multipart/encrypted`` bodies on this connection."""
        return _ENCRYPTION[self._scheme]

    @property
    def negotiated_protocol(self) -> str | None:
        """``"ntlm"`` or ``"kerberos"`` once known."""
        try:
            return str(self._ctx.negotiated_protocol)
        except Exception:
            return None

    def next_header(self) -> str:
        """The ``Authorization`` value of the next leg; the leg is then considered sent.

        Raises:
            InvalidOperation: No leg is due (a response is awaited, or the context is
                established or failed).
        """
        if self._state is HandshakeState.INITIAL:
            token = self._first_step()
            if token is None:
                self._fail()
                raise AuthenticationError(
                    f"{self._protocol} produced no initial token", auth_method=self._protocol
                )
        elif self._state is HandshakeState.CONTINUE and self._token is not None:
            token = self._token
            self._token = None
        else:
            raise InvalidOperation(f"no handshake leg is due in state {self._state.value}")
        self._state = HandshakeState.SENT
        self.legs += 1
        return format_token(self._scheme, token)

    def receive(self, status: int, www_authenticate: Iterable[str]) -> bool:
        """Feed the response to the leg just sent.

        Args:
            status: The HTTP status of the response.
            www_authenticate: Its ``WWW-Authenticate`` header values.

        Returns:
            True when the context is now established, False when another leg is due
            (:meth:`next_header`).

        Raises:
            AuthenticationError: The server rejected the credentials (or offers no scheme we
                speak).  The context is failed: close the connection.
            HTTPStatusError: The server answered the handshake with an unrelated error status.
            InvalidOperation: No leg was outstanding.
        """
        if self._state is not HandshakeState.SENT:
            raise InvalidOperation(f"no handshake leg is outstanding in state {self._state.value}")
        in_token: bytes | None = None
        offered: list[str] = []
        for scheme, rest in parse_challenges(www_authenticate):
            offered.append(scheme)
            if scheme.lower() == self._scheme.lower() and rest:
                in_token = decode_token(rest)
        if status == 401:
            if (
                in_token is None
                and self._kerberos is not None
                and self.legs == 1
                and self._fall_back("the server refused the Kerberos ticket")
            ):
                self._token = self._step(None)
                if self._token is None:
                    self._fail()
                    raise AuthenticationError(
                        "NTLM produced no initial token", auth_method=self._protocol
                    )
                self._state = HandshakeState.CONTINUE
                return False
            if in_token is None or self._ctx.complete:
                self._fail()
                if self._scheme.lower() not in (s.lower() for s in offered):
                    raise AuthenticationError(
                        f"the server does not offer {self._scheme} authentication "
                        f"(offers: {', '.join(offered) or 'nothing'})",
                        auth_method=self._protocol,
                    )
                raise AuthenticationError(
                    f"the server rejected the {self._protocol} credentials of "
                    f"{self._username or 'the credential cache'!r}",
                    auth_method=self._protocol,
                )
            out = self._step(in_token)
            if out is None:
                self._fail()
                raise AuthenticationError(
                    f"{self._protocol} handshake ended without a reply to the server's challenge",
                    auth_method=self._protocol,
                )
            self._token = out
            self._state = HandshakeState.CONTINUE
            return False
        if status >= 400 and not self._ctx.complete:
            self._fail()
            raise HTTPStatusError(
                f"the server answered the {self._protocol} handshake with HTTP {status}",
                status=status,
            )
        if in_token is not None and not self._ctx.complete:
            # Mutual authentication: SPNEGO's mechListMIC or Kerberos AP-REP.
            if self._step(in_token) is not None:
                self._fail()
                raise AuthenticationError(
                    f"{self._protocol} wants another leg after the server accepted",
                    auth_method=self._protocol,
                )
        if not self._ctx.complete:
            self._fail()
            raise AuthenticationError(
                f"the server accepted before the {self._protocol} handshake was complete",
                auth_method=self._protocol,
            )
        self._state = HandshakeState.ESTABLISHED
        return True

    def wrap(self, body: bytes) -> tuple[str, bytes]:
        """Seal a SOAP body: ``(content_type, payload)``.

        Raises:
            InvalidOperation: The context is not established (a sealed message must never go
                on a connection that was not authenticated) or this connection does not seal.
        """
        if self._state is not HandshakeState.ESTABLISHED:
            raise InvalidOperation(
                f"cannot seal a message before the security context is established "
                f"(state {self._state.value})"
            )
        if not self._encrypt:
            raise InvalidOperation("this connection was not set up for message encryption")
        try:
            return encrypt_message(self._ctx, body, protocol=self.encryption_protocol)
        except Exception:
            self._fail()
            raise

    def unwrap(self, content_type: str | None, payload: bytes) -> bytes:
        """Check and unseal a response body.

        Raises:
            ProtocolError: The framing or signature is wrong; the context is failed, because
                NTLM's sealing state has moved on and can no longer match the server's.
            InvalidOperation: The context is not established.
        """
        if self._state is not HandshakeState.ESTABLISHED:
            raise InvalidOperation(
                f"cannot unseal a message before the security context is established "
                f"(state {self._state.value})"
            )
        try:
            return decrypt_message(
                self._ctx,
                content_type,
                payload,
                protocol=self.encryption_protocol,
            )
        except Exception:
            self._fail()
            raise

    def fail(self) -> None:
        """Mark the context unusable (its connection is being dropped or desynchronised)."""
        self._fail()

    def _fail(self) -> None:
        self._state = HandshakeState.FAILED
        self._token = None

    def _first_step(self) -> bytes | None:
        kerberos = self._kerberos
        if kerberos is None:
            return self._step(None)
        try:
            out = kerberos.step(None)
        except KerberosFailure as exc:
            if exc.fallback and self._fall_back(str(exc)):
                return self._step(None)
            self._fail()
            raise AuthenticationError(
                f"{self._protocol} authentication to {self._hostname} failed: {exc}",
                auth_method=self._protocol,
            ) from None
        return out

    def _step(self, in_token: bytes | None) -> bytes | None:
        try:
            out = self._ctx.step(in_token)
        except KerberosFailure as exc:
            self._fail()
            raise AuthenticationError(
                f"{self._protocol} authentication to {self._hostname} failed: {exc}",
                auth_method=self._protocol,
            ) from None
        except Exception as exc:
            self._fail()
            raise AuthenticationError(
                f"{self._protocol} handshake failed: {type(exc).__name__}: {_reason(exc)}",
                auth_method=self._protocol,
            ) from None
        return bytes(out) if out is not None else None


def _credentials(username: str, password: str) -> str | list[spnego.Credential]:
    """What ``spnego.client`` is given: the NT hash for NTLM, the password for Kerberos.

    pyspnego's NTLM derives the NT hash (MD4, in pure Python) from the password in every new
    context, that is on every connection; a fleet opens thousands.  An ``NTLMHash`` credential
    ahead of the ``Password`` gives NTLM the hash computed once per password
    (:func:`~aiohyperv._auth._ntowf.nt_hash`), and leaves the password to Kerberos (pyspnego
    uses the first credential that supports each protocol).  NTLMv2 needs no LM hash.  Without
    a user name pyspnego's default (the Kerberos ticket cache) applies.
    """
    if not username:
        return username
    return [
        spnego.NTLMHash(username=username, nt_hash=nt_hash(password).hex().upper()),
        spnego.Password(username=username, password=password),
    ]


def _reason(exc: BaseException) -> str:
    # pyspnego messages name the failing step; they never include the password.  Keep them short.
    text = str(exc).splitlines()[0] if str(exc) else ""
    return text[:200]
