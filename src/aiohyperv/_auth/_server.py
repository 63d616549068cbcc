"""The server side of WinRM authentication, sans-IO: users, NTLM acceptors, certificate maps.

Used by the simulator (through :mod:`aiohyperv._auth._aiohttp_server`) to accept what a Windows
host accepts: NTLM/Negotiate with message encryption, Basic, and client certificates.

**Where the NTLM acceptor finds its users.**  pyspnego's NTLM acceptor has no parameter for a
user table: it reads the file named by the environment variable ``NTLM_USER_FILE`` (Heimdal
``DOMAIN:USER:PASSWORD`` or ``smbpasswd`` lines with the hashes; the tables here write the
latter), through its private function ``spnego._ntlm._get_credential_file``,
both when the acceptor is created and again when the client's AUTHENTICATE message arrives.
Pointing the process-wide variable at one file would make every simulator in a process share
one user table, and switching it per request would race with other threads.  Instead, each
:class:`UserTable` writes its own file once (mode 0600, in a private temporary directory, removed
when the table is closed or collected), and a one-time hook replaces that private lookup
function with one that returns the file of the table in effect for the *current*
:class:`contextvars.ContextVar` -- set only around the synchronous pyspnego calls that this
module makes -- and otherwise falls back to pyspnego's own lookup (the environment).  So no
environment variable is read or written at request time and concurrent simulators with
different users never see each other's tables.  If a pyspnego release renames the private
function, :func:`install_credential_hook` raises at table creation with a clear message.
"""

from __future__ import annotations

import base64
import binascii
import contextvars
import functools
import hmac
import importlib
import os
import shutil
import tempfile
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import spnego
from spnego.channel_bindings import GssChannelBindings

from .._exceptions import ConfigError, InvalidOperation
from ._certs import certificate_identity
from ._encryption import SPNEGO_PROTOCOL, decrypt_message, encrypt_message
from ._headers import decode_token, format_token

__all__ = [
    "AuthUser",
    "CertificateMapping",
    "ServerSecurityContext",
    "UserTable",
    "install_credential_hook",
]

_STORE: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "aiohyperv_ntlm_user_file", default=None
)
_HOOK_MARK = "_aiohyperv_credential_hook"


def install_credential_hook() -> None:
    """Route pyspnego's NTLM user-file lookup through the per-context table (idempotent).

    Raises:
        ConfigError: The installed pyspnego no longer has the lookup function this relies on.
    """
    module = importlib.import_module("spnego._ntlm")
    original: Any = getattr(module, "_get_credential_file", None)
    if original is None or not callable(original):
        raise ConfigError(
            "this pyspnego version has no spnego._ntlm._get_credential_file; the simulator's "
            "NTLM acceptor cannot be given a user table"
        )
    if getattr(original, _HOOK_MARK, False):
        return

    def lookup() -> str | None:
        path = _STORE.get()
        return path if path is not None else original()

    setattr(lookup, _HOOK_MARK, True)
    setattr(module, "_get_credential_file", lookup)  # noqa: B010 - see the module docstring


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


def _remove_dir(path: str) -> None:
    shutil.rmtree(path, ignore_errors=True)


def _smb_name(domain: str, username: str) -> str:
    # pyspnego splits the name at the first backslash; no backslash means an empty domain.
    return f"{domain}\\{username}" if domain else username


@functools.lru_cache(maxsize=64)
def _password_hashes(password: str) -> tuple[str, str]:
    """The LM and NT hashes of ``password`` as upper-case hex (LMOWFv1, NTOWFv1; MS-NLMP 3.3).

    Cached: a simulated fleet gives a thousand hosts the same password, and each hash costs
    milliseconds in pyspnego's pure-Python DES and MD4.
    """
    from spnego._ntlm_raw.crypto import lmowfv1, ntowfv1

    return lmowfv1(password).hex().upper(), ntowfv1(password).hex().upper()


class UserTable:
    """The accounts a simulated host accepts, for Basic, NTLM and certificate mapping.

    Args:
        users: :class:`AuthUser` objects, or a mapping of ``"DOMAIN\\user"``/``"user"`` to
            password.

    The NTLM user file is written lazily on first use; call :meth:`close` (or let the table be
    garbage-collected) to remove it.
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
        self._dir: str | None = None
        self._file: str | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None

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

    def ntlm_user_file(self) -> str:
        """Path of this table's NTLM user file, written once.

        The lines are in ``smbpasswd`` form (``[DOMAIN\\]USER:UID:LM:NT:FLAGS:LCT``), with the
        LM and NT hashes computed here once: with ``DOMAIN:USER:PASSWORD`` lines pyspnego
        hashes the password in pure Python (DES and MD4) on every handshake, which made the
        acceptor the costliest step of a simulated fleet.  The file never holds the password.
        """
        if self._file is None:
            directory = tempfile.mkdtemp(prefix="aiohyperv-ntlm-")
            path = os.path.join(directory, "users")
            lines: list[str] = []
            for user in self._users.values():
                lm, nt = _password_hashes(user.password)
                entry = f"{lm}:{nt}:[U          ]:LCT-00000000"
                lines.append(f"{_smb_name(user.domain, user.username)}:0:{entry}\n")
                if not user.domain:
                    lines.append(f"{_smb_name('.', user.username)}:0:{entry}\n")
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.writelines(lines)
            self._dir = directory
            self._file = path
            self._finalizer = weakref.finalize(self, _remove_dir, directory)
        return self._file

    def close(self) -> None:
        """Remove the NTLM user file, if one was written."""
        if self._finalizer is not None:
            self._finalizer()
        self._finalizer = None
        self._file = None
        self._dir = None

    @contextmanager
    def active(self) -> Iterator[None]:
        """Make this table the NTLM acceptor's user store for the enclosed synchronous code."""
        install_credential_hook()
        token = _STORE.set(self.ntlm_user_file())
        try:
            yield
        finally:
            _STORE.reset(token)


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
            that sends none or a wrong one is refused).  None: bindings are not checked.
            pyspnego's acceptor cannot tell "absent" from "wrong", so ``Relaxed`` is not
            modelled.
    """

    __slots__ = ("_bindings", "_ctx", "_users", "principal", "user")

    def __init__(self, users: UserTable, *, channel_bindings: bytes | None = None) -> None:
        self._users = users
        self._bindings = channel_bindings
        self._ctx: spnego.ContextProxy | None = None
        self.user: AuthUser | None = None
        self.principal: str | None = None

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

    def accept(self, token_text: str | None) -> tuple[bool, str | None]:
        """Process one ``Authorization: Negotiate <token>`` leg.

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
            bindings = (
                GssChannelBindings(application_data=self._bindings) if self._bindings else None
            )
            with self._users.active():
                self._ctx = spnego.server(
                    protocol="negotiate",
                    service="HTTP",
                    channel_bindings=bindings,
                    options=spnego.NegotiateOptions.wrapping_winrm,
                )
        ctx = self._ctx
        try:
            with self._users.active():
                out = ctx.step(token)
        except Exception:  # bad password, unknown user or domain, malformed token
            self.reset()
            return False, None
        header = format_token("Negotiate", bytes(out)) if out else None
        if not ctx.complete:
            return False, header
        principal = ctx.client_principal or ""
        user = self._users.lookup(principal)
        if user is None:
            self.reset()
            return False, None
        self.user = user
        self.principal = user.principal
        return True, header

    def reset(self) -> None:
        """Forget the handshake: the connection is unauthenticated again."""
        self._ctx = None
        self.user = None
        self.principal = None

    def wrap(self, body: bytes) -> tuple[str, bytes]:
        """Seal a response body: ``(content_type, payload)``."""
        if self._ctx is None or not self.established:
            raise InvalidOperation("cannot seal before the client has authenticated")
        return encrypt_message(self._ctx, body, protocol=SPNEGO_PROTOCOL)

    def unwrap(self, content_type: str | None, payload: bytes) -> bytes:
        """Check and unseal a request body.

        Raises:
            ProtocolError: Bad framing or signature.
        """
        if self._ctx is None or not self.established:
            raise InvalidOperation("cannot unseal before the client has authenticated")
        return decrypt_message(self._ctx, content_type, payload, protocol=SPNEGO_PROTOCOL)


CertificateMapper = Callable[[bytes], AuthUser | None]
