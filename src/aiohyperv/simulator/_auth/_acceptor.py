"""The server side of WinRM authentication, sans-IO: users, NTLM acceptors, certificate maps.

Used by the simulator (through its middleware, :mod:`aiohyperv.simulator._auth._middleware`) to
accept what a Windows host accepts: NTLM/Negotiate with message encryption, Basic, and client
certificates.

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
import hashlib
import hmac
import importlib
import os
import shutil
import struct
import tempfile
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import spnego
from cryptography.hazmat.primitives.ciphers import Cipher
from spnego.channel_bindings import GssChannelBindings

try:  # cryptography 43 moved ARC4 to the "decrepit" module
    from cryptography.hazmat.decrepit.ciphers.algorithms import ARC4
except ImportError:  # pragma: no cover - older cryptography
    from cryptography.hazmat.primitives.ciphers.algorithms import (
        ARC4,
    )

from aiohyperv._auth._certs import certificate_identity
from aiohyperv._auth._encryption import (
    KERBEROS_PROTOCOL,
    SPNEGO_PROTOCOL,
    Wrapped,
    decrypt_message,
    encrypt_message,
)
from aiohyperv._auth._headers import decode_token, format_token
from aiohyperv._auth._ntlm_seal import NTLMDirection, SealResult
from aiohyperv._exceptions import ConfigError, InvalidOperation

from ._kerberos import KerberosAcceptor, KerberosService, kerberos_user

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
            if isinstance(ctx, _NTLMAcceptor | KerberosAcceptor):
                out = ctx.step(token)
            else:
                with self._users.active():
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
        # Kerberos): the native acceptor.  Anything else: pyspnego's.
        if scheme == "Kerberos" or (
            self._kerberos is not None
            and not token.startswith(_NTLMSSP)
            and _spnego_init(token) is None
        ):
            if self._kerberos is None:
                raise InvalidOperation("this listener does not accept Kerberos")
            return KerberosAcceptor(self._kerberos, channel_bindings=self._bindings)
        if token.startswith(_NTLMSSP):
            return _NTLMAcceptor(self._users, self._bindings_hash(), None)
        found = _spnego_init(token)
        if found is not None:
            return _NTLMAcceptor(self._users, self._bindings_hash(), found[0])
        bindings = GssChannelBindings(application_data=self._bindings) if self._bindings else None
        with self._users.active():
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


# --- a native NTLM acceptor -----------------------------------------------------------------------
# pyspnego's acceptor spends about two milliseconds of pure-Python ASN.1, enum-flag arithmetic and
# user-file parsing on each handshake and tens of microseconds per sealed message; a simulated
# fleet runs a thousand handshakes and ten thousand messages.  The acceptor below does what a
# WinRM client needs of it -- NTLMv2 with extended session security, raw or inside SPNEGO --
# with the hashes the user table already holds and the RC4/HMAC-MD5 primitives in C.  Any first
# token it does not recognise (another SPNEGO mechanism first, for example) still goes to
# pyspnego, so unusual clients get the same answers as before.

_NTLMSSP = b"NTLMSSP\x00"
_NTLM_OID = b"\x06\x0a\x2b\x06\x01\x04\x01\x82\x37\x02\x02\x0a"  # 1.3.6.1.4.1.311.2.2.10
_SPNEGO_OID = b"\x06\x06\x2b\x06\x01\x05\x05\x02"  # 1.3.6.1.5.5.2

# NegotiateFlags (MS-NLMP 2.2.2.5)
_UNICODE = 0x00000001
_OEM = 0x00000002
_REQUEST_TARGET = 0x00000004
_SIGN = 0x00000010
_SEAL = 0x00000020
_LM_KEY = 0x00000080
_NTLM = 0x00000200
_ALWAYS_SIGN = 0x00008000
_TARGET_TYPE_SERVER = 0x00020000
_ESS = 0x00080000
_TARGET_INFO = 0x00800000
_VERSION = 0x02000000
_128 = 0x20000000
_KEY_EXCH = 0x40000000

_AV_EOL, _AV_NB_COMPUTER, _AV_NB_DOMAIN, _AV_DNS_COMPUTER = 0, 1, 2, 3
_AV_TIMESTAMP, _AV_FLAGS, _AV_CHANNEL_BINDINGS = 7, 6, 10
_AV_FLAG_MIC = 0x2
_FILETIME_EPOCH = 11644473600  # seconds from 1601-01-01 to 1970-01-01
# Windows Server 2019's version structure (MS-NLMP 2.2.2.10): 10.0.17763, NTLM revision 15.
_SERVER_VERSION = struct.pack("<BBH3xB", 10, 0, 17763, 15)
_MAGIC = {
    "cs_sign": b"session key to client-to-server signing key magic constant\x00",
    "sc_sign": b"session key to server-to-client signing key magic constant\x00",
    "cs_seal": b"session key to client-to-server sealing key magic constant\x00",
    "sc_seal": b"session key to server-to-client sealing key magic constant\x00",
}
_FIELD = struct.Struct("<HHI")  # a message's (length, max length, offset) field
_UINT32 = struct.Struct("<I")


class _NTLMRefused(Exception):
    """The token is malformed, or the client did not prove it knows the password."""


def _hmac_md5(key: bytes, data: bytes) -> bytes:
    return hmac.digest(key, data, "md5")


def _rc4(key: bytes) -> Any:
    return Cipher(ARC4(key), mode=None).encryptor()


def _der_read(data: bytes, pos: int) -> tuple[int, int, int]:
    """``(tag, value start, value end)`` of the DER element at ``pos``."""
    if pos + 2 > len(data):
        raise _NTLMRefused("truncated DER")
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or pos + count > len(data):
            raise _NTLMRefused("bad DER length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    end = pos + length
    if end > len(data):
        raise _NTLMRefused("truncated DER")
    return tag, pos, end


def _der_children(data: bytes, start: int, end: int) -> Iterator[tuple[int, int, int, int]]:
    """``(tag, element start, value start, value end)`` of each element in ``data[start:end]``."""
    pos = start
    while pos < end:
        tag, vstart, vend = _der_read(data, pos)
        if vend > end:
            raise _NTLMRefused("DER element overruns its parent")
        yield tag, pos, vstart, vend
        pos = vend


def _der(tag: int, value: bytes) -> bytes:
    n = len(value)
    if n < 0x80:
        head = bytes((tag, n))
    else:
        size = n.to_bytes((n.bit_length() + 7) // 8, "big")
        head = bytes((tag, 0x80 | len(size))) + size
    return head + value


def _spnego_init(token: bytes) -> tuple[bytes, bytes] | None:
    """``(mechTypes DER, NTLM NEGOTIATE)`` of a NegTokenInit that leads with NTLM, else None.

    RFC 4178 4.2.1: ``[APPLICATION 0] { spnego OID, [0] NegTokenInit { [0] mechTypes,
    [1] reqFlags, [2] mechToken, [3] mechListMIC } }``.
    """
    try:
        tag, start, end = _der_read(token, 0)
        if tag != 0x60 or token[start : start + len(_SPNEGO_OID)] != _SPNEGO_OID:
            return None
        tag, start, end = _der_read(token, start + len(_SPNEGO_OID))
        if tag != 0xA0:
            return None
        tag, start, end = _der_read(token, start)
        if tag != 0x30:
            return None
        mech_types: bytes | None = None
        mech_token: bytes | None = None
        for tag, _el, vstart, vend in _der_children(token, start, end):
            if tag == 0xA0:
                inner, istart, iend = _der_read(token, vstart)
                if inner != 0x30 or iend > vend:
                    return None
                mech_types = token[vstart:iend]
                first = token[istart : istart + len(_NTLM_OID)]
                if first != _NTLM_OID:
                    return None  # another mechanism first: pyspnego negotiates that
            elif tag == 0xA2:
                inner, istart, iend = _der_read(token, vstart)
                if inner != 0x04 or iend > vend:
                    return None
                mech_token = token[istart:iend]
    except _NTLMRefused:
        return None
    if mech_types is None or mech_token is None or not mech_token.startswith(_NTLMSSP):
        return None
    return mech_types, mech_token


def _spnego_resp(token: bytes) -> tuple[bytes | None, bytes | None]:
    """``(responseToken, mechListMIC)`` of a NegTokenResp (``[1] { [0] negState,
    [1] supportedMech, [2] responseToken, [3] mechListMIC }``)."""
    tag, start, end = _der_read(token, 0)
    if tag != 0xA1:
        raise _NTLMRefused("not a NegTokenResp")
    tag, start, end = _der_read(token, start)
    if tag != 0x30:
        raise _NTLMRefused("not a NegTokenResp")
    response: bytes | None = None
    mic: bytes | None = None
    for tag, _el, vstart, vend in _der_children(token, start, end):
        if tag in (0xA2, 0xA3):
            inner, istart, iend = _der_read(token, vstart)
            if inner != 0x04 or iend > vend:
                raise _NTLMRefused("NegTokenResp field is not an OCTET STRING")
            if tag == 0xA2:
                response = token[istart:iend]
            else:
                mic = token[istart:iend]
    return response, mic


def _neg_token_resp(state: int, *, mech: bool, token: bytes | None, mic: bytes | None) -> bytes:
    parts = [_der(0xA0, b"\x0a\x01" + bytes((state,)))]
    if mech:
        parts.append(_der(0xA1, _NTLM_OID))
    if token is not None:
        parts.append(_der(0xA2, _der(0x04, token)))
    if mic is not None:
        parts.append(_der(0xA3, _der(0x04, mic)))
    return _der(0xA1, _der(0x30, b"".join(parts)))


def _field(message: bytes, at: int) -> bytes:
    if at + 8 > len(message):
        raise _NTLMRefused("truncated NTLM message")
    length, _max, offset = _FIELD.unpack_from(message, at)
    if length and offset + length > len(message):
        raise _NTLMRefused("NTLM field outside the message")
    return message[offset : offset + length] if length else b""


def _av_pairs(data: bytes) -> dict[int, bytes]:
    pairs: dict[int, bytes] = {}
    pos = 0
    while pos + 4 <= len(data):
        av_id, length = struct.unpack_from("<HH", data, pos)
        pos += 4
        if av_id == _AV_EOL:
            return pairs
        if pos + length > len(data):
            raise _NTLMRefused("truncated AV pair")
        pairs[av_id] = data[pos : pos + length]
        pos += length
    raise _NTLMRefused("AV pairs without MsvAvEOL")


def _av(av_id: int, value: bytes) -> bytes:
    return struct.pack("<HH", av_id, len(value)) + value


@functools.lru_cache(maxsize=1)
def _target_names() -> tuple[str, str]:
    import socket

    dns = socket.gethostname() or "simulator"
    return dns.split(".")[0].upper()[:15], dns


def _direction(session_key: bytes, sign: str, seal: str, *, key_exch: bool) -> NTLMDirection:
    """One direction's signing and sealing state (MS-NLMP 3.4.5.2-3.4.5.3, 128-bit keys)."""
    sign_key = hashlib.md5(session_key + _MAGIC[sign]).digest()
    seal_key = hashlib.md5(session_key + _MAGIC[seal]).digest()
    return NTLMDirection(_rc4(seal_key).update, sign_key, key_exch=key_exch)


class _NTLMAcceptor:
    """NTLMv2 acceptor with extended session security, raw or wrapped in SPNEGO.

    Quacks like the pyspnego context it replaces: ``step``, ``complete``,
    ``client_principal``, ``wrap_winrm`` and ``unwrap_winrm``.  NTLMv1 and LM responses, and
    sessions without extended session security or 128-bit keys, are refused (no WinRM client
    of this century sends them).
    """

    __slots__ = (
        "_bindings_hash",
        "_challenge",
        "_incoming",
        "_mech_types",
        "_negotiate",
        "_outgoing",
        "_seal_keys",
        "_users",
        "client_principal",
        "complete",
    )

    def __init__(
        self, users: UserTable, bindings_hash: bytes | None, mech_types: bytes | None
    ) -> None:
        self._users = users
        self._bindings_hash = bindings_hash
        self._mech_types = mech_types  # None: raw NTLM, no SPNEGO
        self._negotiate = b""
        self._challenge = b""
        self._seal_keys = (b"", b"")  # (incoming, outgoing): to restart the RC4 streams
        self._incoming: NTLMDirection | None = None
        self._outgoing: NTLMDirection | None = None
        self.complete = False
        self.client_principal: str | None = None

    def step(self, token: bytes) -> bytes | None:
        """Process one client token; return the token to answer with.

        Raises:
            _NTLMRefused: malformed token, wrong leg, or authentication failed.
        """
        if self.complete:
            raise _NTLMRefused("the handshake is over")
        if not self._negotiate:
            if self._mech_types is not None:
                found = _spnego_init(token)
                if found is None:
                    raise _NTLMRefused("not an NTLM NegTokenInit")
                token = found[1]
            challenge = self._accept_negotiate(token)
            if self._mech_types is None:
                return challenge
            return _neg_token_resp(1, mech=True, token=challenge, mic=None)
        if self._mech_types is None:
            if not token.startswith(_NTLMSSP):
                raise _NTLMRefused("not an NTLM message")
            self._accept_authenticate(token)
            self.complete = True
            return None
        response, mic = _spnego_resp(token)
        if response is None:
            raise _NTLMRefused("NegTokenResp without the AUTHENTICATE message")
        mic_required = self._accept_authenticate(response)
        incoming, outgoing = self._incoming, self._outgoing
        assert incoming is not None and outgoing is not None
        out_mic: bytes | None = None
        if mic is not None:
            # RFC 4178 5 / MS-SPNG 3.3.5.1: the MIC signs the client's mechTypes; both sides
            # then restart their RC4 streams.
            if not hmac.compare_digest(incoming.signature(self._mech_types), mic):
                raise _NTLMRefused("mechListMIC does not verify")
            out_mic = outgoing.signature(self._mech_types)
            # The RC4 streams restart; the sequence numbers go on (1 each way).
            incoming.rc4 = _rc4(self._seal_keys[0]).update
            outgoing.rc4 = _rc4(self._seal_keys[1]).update
        elif mic_required:
            raise _NTLMRefused("the client sent a MIC in NTLM but no mechListMIC")
        self.complete = True
        return _neg_token_resp(0, mech=False, token=None, mic=out_mic)

    def _accept_negotiate(self, token: bytes) -> bytes:
        if len(token) < 16 or not token.startswith(_NTLMSSP) or token[8:12] != b"\x01\0\0\0":
            raise _NTLMRefused("not an NTLM NEGOTIATE message")
        (client_flags,) = _UINT32.unpack_from(token, 12)
        flags = client_flags | _REQUEST_TARGET | _NTLM | _ALWAYS_SIGN | _TARGET_INFO
        flags |= _TARGET_TYPE_SERVER
        if flags & _UNICODE:
            flags &= ~_OEM
        elif not flags & _OEM:
            raise _NTLMRefused("neither UNICODE nor OEM negotiated")
        if flags & _ESS:
            flags &= ~_LM_KEY
        encoding = "utf-16-le" if flags & _UNICODE else "ascii"
        netbios, dns = _target_names()
        target_name = netbios.encode(encoding)
        stamp = int((time.time() + _FILETIME_EPOCH) * 10_000_000)
        target_info = b"".join(
            (
                _av(_AV_NB_COMPUTER, netbios.encode("utf-16-le")),
                _av(_AV_NB_DOMAIN, "WORKSTATION".encode("utf-16-le")),
                _av(_AV_DNS_COMPUTER, dns.encode("utf-16-le")),
                _av(_AV_TIMESTAMP, struct.pack("<Q", stamp)),
                _av(_AV_EOL, b""),
            )
        )
        version = _SERVER_VERSION if flags & _VERSION else b""
        header = 48 + len(version)
        challenge = b"".join(
            (
                _NTLMSSP,
                b"\x02\0\0\0",
                _FIELD.pack(len(target_name), len(target_name), header),
                _UINT32.pack(flags),
                os.urandom(8),
                b"\0" * 8,
                _FIELD.pack(len(target_info), len(target_info), header + len(target_name)),
                version,
                target_name,
                target_info,
            )
        )
        self._negotiate = token
        self._challenge = challenge
        return challenge

    def _accept_authenticate(self, token: bytes) -> bool:
        """Check the AUTHENTICATE message; derive the session keys.  True if it had a MIC."""
        if len(token) < 64 or not token.startswith(_NTLMSSP) or token[8:12] != b"\x03\0\0\0":
            raise _NTLMRefused("not an NTLM AUTHENTICATE message")
        nt_response = _field(token, 20)
        domain_raw, user_raw = _field(token, 28), _field(token, 36)
        encrypted_key = _field(token, 52)
        (flags,) = _UINT32.unpack_from(token, 60)
        if len(nt_response) <= 24:
            raise _NTLMRefused("NTLMv1, LM or anonymous authentication")
        if not flags & _ESS or not flags & _128:
            raise _NTLMRefused("no extended session security or 128-bit keys")
        encoding = "utf-16-le" if flags & _UNICODE else "ascii"
        try:
            user_name = user_raw.decode(encoding)
            domain = domain_raw.decode(encoding)
        except UnicodeDecodeError:
            raise _NTLMRefused("undecodable user or domain name") from None
        if not user_name:
            raise _NTLMRefused("anonymous authentication")
        principal = f"{domain}\\{user_name}" if domain else user_name
        user = self._users.lookup(principal)
        # Unknown accounts still cost one HMAC, so both failures look alike.
        nt_hash = bytes.fromhex(_password_hashes(user.password if user else "\x00")[1])
        response_key = _hmac_md5(nt_hash, (user_name.upper() + domain).encode("utf-16-le"))
        server_challenge = self._challenge[24:32]
        proof, blob = nt_response[:16], nt_response[16:]
        expected = _hmac_md5(response_key, server_challenge + blob)
        if user is None or not hmac.compare_digest(proof, expected):
            raise _NTLMRefused("wrong user name or password")
        if len(blob) < 28:
            raise _NTLMRefused("truncated NTLMv2 client challenge")
        pairs = _av_pairs(blob[28:])
        if self._bindings_hash is not None:
            # Extended Protection: the client's binding must match this TLS certificate's
            # (pyspnego's rule, kept: an all-zero binding is taken as "unknown").
            bindings = pairs.get(_AV_CHANNEL_BINDINGS)
            if bindings is None or bindings not in (self._bindings_hash, b"\0" * 16):
                raise _NTLMRefused("channel bindings missing or wrong")
        key_exchange_key = _hmac_md5(response_key, proof)
        if flags & _KEY_EXCH and flags & (_SIGN | _SEAL):
            session_key = _rc4(key_exchange_key).update(encrypted_key)
        else:
            session_key = key_exchange_key
        has_mic = bool(_UINT32.unpack(pairs.get(_AV_FLAGS, b"\0\0\0\0")[:4])[0] & _AV_FLAG_MIC)
        if has_mic:
            if len(token) < 88:
                raise _NTLMRefused("AUTHENTICATE message too short for its MIC")
            zeroed = token[:72] + b"\0" * 16 + token[88:]
            mic = _hmac_md5(session_key, self._negotiate + self._challenge + zeroed)
            if not hmac.compare_digest(mic, token[72:88]):
                raise _NTLMRefused("the NTLM MIC does not verify")
        key_exch = bool(flags & _KEY_EXCH)
        self._incoming = _direction(session_key, "cs_sign", "cs_seal", key_exch=key_exch)
        self._outgoing = _direction(session_key, "sc_sign", "sc_seal", key_exch=key_exch)
        self._seal_keys = (
            hashlib.md5(session_key + _MAGIC["cs_seal"]).digest(),
            hashlib.md5(session_key + _MAGIC["sc_seal"]).digest(),
        )
        self.client_principal = principal
        return has_mic

    def wrap_winrm(self, data: bytes) -> SealResult:
        """Seal ``data``: the 16-byte signature and the sealed bytes (MS-NLMP 3.4.3)."""
        if self._outgoing is None or not self.complete:
            raise InvalidOperation("cannot seal before the handshake is complete")
        return self._outgoing.seal(data)

    def unwrap_winrm(self, header: bytes, data: bytes) -> bytes:
        """Unseal ``data`` and check its signature ``header``.

        Raises:
            ProtocolError: the signature does not verify.
        """
        if self._incoming is None or not self.complete:
            raise InvalidOperation("cannot unseal before the handshake is complete")
        return self._incoming.unseal(header, data)
