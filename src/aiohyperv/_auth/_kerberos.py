"""Kerberos through the system's GSSAPI (python-gssapi), for both ends of a connection.

Why python-gssapi directly rather than through pyspnego: three things a fleet client needs that
pyspnego's public API does not give.

* **The SPN is exactly ``HTTP/<the URI's host name>``.**  pyspnego names the target as a
  host-based service (``HTTP@host``), which MIT Kerberos canonicalises with forward and reverse
  DNS lookups unless krb5.conf says otherwise; a Windows client uses the name as typed.  Here
  the target is the Kerberos principal name ``HTTP/<host>`` (in the default realm), so no DNS
  lookup is involved and the error for an unknown SPN can name it.
* **One ticket for the whole fleet.**  Given a password, pyspnego runs a fresh ``kinit`` (an
  AS exchange with the KDC) for every connection.  Here the password is turned into a ticket
  once per process and user (:func:`initiator_credentials`), and every connection to every
  host takes its service ticket from that one credential, as ``kinit`` followed by many
  ``klist``-visible service tickets would.  Without a password the user's own credential
  cache (``KRB5CCNAME``) is used and nothing is asked.
* **No second Kerberos binding.**  pyspnego's password path needs pykrb5 as well; this needs
  only python-gssapi (``pip install 'aiohyperv[kerberos]'``).

WinRM seals messages with ``gss_wrap_iov`` (header, data, padding buffers) and the
``multipart/encrypted`` framing of :mod:`aiohyperv._auth._encryption`; :func:`wrap_winrm` and
:func:`unwrap_winrm` do that for a context of either side.  Nothing here performs network I/O
itself, but GSSAPI calls reach the KDC: acquiring a ticket with a password and the first step
of a context (the TGS exchange) block, so callers on an event loop run them in a thread.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from .._exceptions import ConfigError

if TYPE_CHECKING:
    from types import ModuleType

__all__ = [
    "INSTALL_HINT",
    "KerberosFailure",
    "KerberosInitiator",
    "WinRMWrapped",
    "gssapi_available",
    "import_gssapi",
    "initiator_credentials",
    "service_principal",
    "unwrap_winrm",
    "wrap_winrm",
]

KRB5_MECH: Final = "1.2.840.113554.1.2.2"
SPNEGO_MECH: Final = "1.3.6.1.5.5.2"
INSTALL_HINT: Final = (
    "Kerberos needs python-gssapi and the system's Kerberos libraries: "
    "pip install 'aiohyperv[kerberos]' (on Debian/Ubuntu first apt-get install libkrb5-dev)"
)
# Renew a password-obtained ticket this long before it expires.
_RENEW_MARGIN: Final = 300


class KerberosFailure(Exception):
    """Kerberos could not be used for a connection; the message says why, in plain words.

    Attributes:
        fallback: Whether Negotiate may fall back to NTLM (Kerberos is unusable here: no
            ticket, no KDC, unknown SPN), as opposed to a refusal NTLM would not cure.
    """

    def __init__(self, message: str, *, fallback: bool = True) -> None:
        super().__init__(message)
        self.fallback = fallback


def import_gssapi() -> ModuleType:
    """python-gssapi, or a :class:`ConfigError` naming the extra that installs it."""
    try:
        import gssapi
        import gssapi.raw
    except ImportError as exc:
        raise ConfigError(f"{INSTALL_HINT} ({exc})") from None
    return gssapi


def gssapi_available() -> bool:
    """Whether Kerberos can be tried on this machine."""
    try:
        import_gssapi()
    except ConfigError:
        return False
    return True


def service_principal(hostname: str, service: str = "HTTP") -> str:
    """``HTTP/<hostname>``: the SPN for a host, exactly as named in its URI (no DNS)."""
    return f"{service}/{hostname}"


def _mechs(gssapi: ModuleType) -> tuple[Any, Any]:
    return gssapi.OID.from_int_seq(KRB5_MECH), gssapi.OID.from_int_seq(SPNEGO_MECH)


def _gss_reason(exc: BaseException) -> str:
    """A GSSAPI error's minor (mechanism) message, else its major one; one short line."""
    text = ""
    minor = getattr(exc, "min_code", 0)
    if minor:
        try:
            raw: Any = exc
            text = "; ".join(raw.get_all_statuses(minor, False))
        except Exception:
            text = ""
    if not text:
        text = str(exc)
    return " ".join(text.split())[:200]


def _describe(
    exc: BaseException, *, spn: str | None = None, with_password: bool = False
) -> KerberosFailure:
    reason = _gss_reason(exc)
    lowered = reason.lower()
    if with_password and "integrity check failed" in lowered:
        # A KDC that does not require pre-authentication answers a wrong password with a
        # reply the client cannot decrypt.
        return KerberosFailure(f"the KDC refused the password ({reason})", fallback=False)
    if "not found in kerberos database" in lowered and spn is not None:
        return KerberosFailure(
            f"the KDC does not know the service principal {spn} ({reason}); "
            "register the SPN for the host, or name the host as it is registered"
        )
    if "cannot contact any kdc" in lowered or "cannot find kdc" in lowered:
        return KerberosFailure(f"no Kerberos KDC could be reached ({reason})")
    if "expired" in lowered:
        return KerberosFailure(
            f"the Kerberos ticket has expired ({reason}); run kinit to get a new one"
        )
    if "preauthentication failed" in lowered or "password incorrect" in lowered:
        return KerberosFailure(f"the KDC refused the password ({reason})", fallback=False)
    if "no credentials cache found" in lowered or "no kerberos credentials" in lowered:
        return KerberosFailure(
            f"no Kerberos ticket in the credential cache (KRB5CCNAME) ({reason}); run kinit, "
            "or give a user name and password"
        )
    return KerberosFailure(f"Kerberos failed: {reason}")


# --- initiator credentials -------------------------------------------------------------------


@dataclass(slots=True)
class _Ticket:
    credentials: Any  # gssapi.Credentials


_TICKETS: dict[tuple[str, bytes], _Ticket] = {}
_TICKETS_LOCK = threading.Lock()

#: How long Negotiate remembers that the credential cache held no usable ticket for a user.
#: A fleet run opens two connections per host and each would otherwise look the cache up again
#: off the event loop (a thread hop, a GSSAPI cache read and a wake-up of the loop per
#: connection: about 9% of the client's profile samples in a 1,000-host inventory on NTLM,
#: docs/PERFORMANCE.md).  A ticket got with ``kinit`` meanwhile is used once this has passed.
CACHE_MISS_SECONDS = 30.0
#: (user, KRB5CCNAME) -> (monotonic deadline, why Kerberos was not used).
_CACHE_MISSES: dict[tuple[str, str], tuple[float, str]] = {}


def _miss_key(username: str | None) -> tuple[str, str]:
    return ((username or "").lower(), os.environ.get("KRB5CCNAME", ""))


def known_cache_miss(username: str | None) -> str | None:
    """Why the credential cache had no ticket for ``username`` a moment ago, else None."""
    key = _miss_key(username)
    with _TICKETS_LOCK:
        miss = _CACHE_MISSES.get(key)
        if miss is None:
            return None
        if miss[0] <= time.monotonic():
            del _CACHE_MISSES[key]
            return None
        return miss[1]


def _remember_miss(username: str | None, why: str) -> None:
    with _TICKETS_LOCK:
        _CACHE_MISSES[_miss_key(username)] = (time.monotonic() + CACHE_MISS_SECONDS, why)


def initiator_credentials(username: str | None, password: str | None) -> Any:
    """The ``gssapi.Credentials`` a client context starts from.

    With a password: a ticket-granting ticket obtained once per process for ``username``
    (``gss_acquire_cred_with_password``, in memory, never written to disk) and renewed when it
    is about to expire.  Keyed by user and a hash of the password, so a changed password gets
    a new ticket and the password itself is not kept.  Without one: the user's credential cache
    (``KRB5CCNAME``, else the system default), for ``username`` when given.

    Raises:
        ConfigError: python-gssapi is not installed.
        KerberosFailure: No usable ticket (none in the cache, expired, the KDC unreachable,
            the password refused).
    """
    gssapi = import_gssapi()
    krb5, spnego = _mechs(gssapi)
    try:
        if password:
            if not username:
                raise KerberosFailure("a Kerberos password needs a user name", fallback=False)
            key = (username.lower(), hashlib.sha256(password.encode("utf-8")).digest())
            with _TICKETS_LOCK:
                ticket = _TICKETS.get(key)
                if ticket is not None and _lifetime(ticket.credentials) > _RENEW_MARGIN:
                    return ticket.credentials
                name = gssapi.Name(username, gssapi.NameType.user)
                # Kerberos alone: asking for SPNEGO too makes GSSAPI run a second AS exchange.
                # (A password is only turned into a ticket for auth=kerberos, which sends raw
                # Kerberos tokens; Negotiate uses the cache.)
                acquired = gssapi.raw.acquire_cred_with_password(
                    name, password.encode("utf-8"), usage="initiate", mechs=[krb5]
                )
                credentials = gssapi.Credentials(acquired.creds)
                _TICKETS[key] = _Ticket(credentials)
                return credentials
        name = gssapi.Name(username, gssapi.NameType.user) if username else None
        credentials = gssapi.Credentials(name=name, usage="initiate", mechs=[krb5, spnego])
        if _lifetime(credentials) <= 0:
            raise KerberosFailure(
                "the Kerberos ticket in the credential cache has expired; run kinit"
            )
        return credentials
    except KerberosFailure as refused:
        if not password and refused.fallback:
            _remember_miss(username, str(refused))
        raise
    except gssapi.exceptions.GSSError as exc:
        failure = _describe(exc, with_password=bool(password))
        if "expired" in str(failure) and not password:
            failure = KerberosFailure(
                "the Kerberos ticket in the credential cache has expired; run kinit"
            )
        if not password and failure.fallback:
            _remember_miss(username, str(failure))
        raise failure from None


def _lifetime(credentials: Any) -> int:
    """Seconds left on a credential; 0 when expired (GSSAPI raises for those)."""
    try:
        lifetime = credentials.lifetime
    except Exception:
        return 0
    return int(lifetime) if lifetime is not None else 1 << 30


def forget_tickets() -> None:
    """Drop the tickets obtained with passwords and the remembered cache misses (tests; a
    password change; a ``kinit`` that should count at once)."""
    with _TICKETS_LOCK:
        _TICKETS.clear()
        _CACHE_MISSES.clear()


# --- sealing -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WinRMWrapped:
    """A sealed message: the GSS header, the sealed data (padding appended) and its padding."""

    header: bytes
    data: bytes
    padding_length: int


def wrap_winrm(context: Any, data: bytes) -> WinRMWrapped:
    """Seal ``data`` with ``gss_wrap_iov`` (header, data, padding), as WinRM does."""
    import gssapi.raw as raw

    iov = raw.IOV(
        raw.IOVBufferType.header,
        (raw.IOVBufferType.data, True, data),
        raw.IOVBufferType.padding,
        std_layout=False,
    )
    raw.wrap_iov(context, iov, confidential=True)
    header = iov[0].value or b""
    sealed = iov[1].value or b""
    padding = iov[2].value or b""
    return WinRMWrapped(header=header, data=sealed + padding, padding_length=len(padding))


def unwrap_winrm(context: Any, header: bytes, data: bytes) -> bytes:
    """Check and unseal a WinRM message sealed by the peer (``gss_unwrap_iov``).

    Raises:
        gssapi.exceptions.GSSError: Bad signature, replay or a token for another context.
    """
    import gssapi.raw as raw

    iov = raw.IOV(
        (raw.IOVBufferType.header, False, header),
        (raw.IOVBufferType.data, True, data),
        std_layout=False,
    )
    raw.unwrap_iov(context, iov)
    return bytes(iov[1].value or b"")


# --- the client context ----------------------------------------------------------------------


class KerberosInitiator:
    """A client Kerberos context for one connection, with pyspnego's context interface.

    Args:
        hostname: The host name as in the URI; the SPN is ``<service>/<hostname>``.
        username: ``user@REALM`` (or ``user``, in the default realm), or None for the
            credential cache's own principal.
        password: Get a ticket with it (once per process and user); None or empty: use the
            credential cache.
        spnego: Wrap the Kerberos token in SPNEGO (the ``Negotiate`` HTTP scheme) rather than
            sending it raw (the ``Kerberos`` scheme).
        channel_bindings: RFC 5929 ``tls-server-end-point`` data over HTTPS, else None.
        service: The SPN's service class.

    Raises:
        ConfigError: python-gssapi is not installed.
    """

    def __init__(
        self,
        *,
        hostname: str,
        username: str | None,
        password: str | None,
        spnego: bool,
        channel_bindings: bytes | None = None,
        service: str = "HTTP",
    ) -> None:
        self._gssapi = import_gssapi()
        self.spn = service_principal(hostname, service)
        self._username = username
        self._password = password
        self._spnego = spnego
        self._bindings = channel_bindings
        self._context: Any = None
        self._complete = False

    def __repr__(self) -> str:
        return f"<KerberosInitiator spn={self.spn!r} complete={self._complete}>"

    @property
    def complete(self) -> bool:
        return self._complete

    @property
    def negotiated_protocol(self) -> str:
        return "kerberos"

    def step(self, in_token: bytes | None = None) -> bytes | None:
        """The next token for the server; the first call gets the credential and the ticket.

        Raises:
            KerberosFailure: No ticket, no KDC, an unknown SPN, or the server's token is bad.
        """
        gssapi = self._gssapi
        try:
            if self._context is None:
                credentials = initiator_credentials(self._username, self._password)
                krb5, spnego = _mechs(gssapi)
                flags = (
                    gssapi.RequirementFlag.mutual_authentication
                    | gssapi.RequirementFlag.integrity
                    | gssapi.RequirementFlag.confidentiality
                    | gssapi.RequirementFlag.out_of_sequence_detection
                )
                bindings = (
                    gssapi.raw.ChannelBindings(application_data=self._bindings)
                    if self._bindings
                    else None
                )
                self._context = gssapi.SecurityContext(
                    name=gssapi.Name(self.spn, gssapi.NameType.kerberos_principal),
                    creds=credentials,
                    usage="initiate",
                    mech=spnego if self._spnego else krb5,
                    flags=flags,
                    channel_bindings=bindings,
                )
            out = self._context.step(in_token)
            # python-gssapi keeps an error that came with an error token until asked this.
            self._complete = bool(self._context.complete)
        except KerberosFailure:
            raise
        except gssapi.exceptions.GSSError as exc:
            raise _describe(exc, spn=self.spn) from None
        return bytes(out) if out else None

    def wrap_winrm(self, data: bytes) -> WinRMWrapped:
        return wrap_winrm(self._context, data)

    def unwrap_winrm(self, header: bytes, data: bytes) -> bytes:
        return unwrap_winrm(self._context, header, data)
