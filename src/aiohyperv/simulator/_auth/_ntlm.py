"""The simulator's NTLM acceptor: NTLMv2 with extended session security, raw or inside SPNEGO.

What a Windows host does with a WinRM client's NTLM (MS-NLMP, MS-SPNG): answer the NEGOTIATE
with a CHALLENGE, check the AUTHENTICATE's NTLMv2 proof against the account's NT hash, its MIC
and (over HTTPS with Extended Protection) its channel binding, then seal and sign every message
both ways (MS-NLMP 3.4.4.2) with the RC4/HMAC-MD5 primitives of :mod:`cryptography` and
:mod:`hmac`.  NTLMv1, LM and anonymous logons, and sessions without extended session security or
128-bit keys, are refused: no WinRM client of this century sends them.

A simulated fleet runs a thousand handshakes and ten thousand sealed messages per run, so this
is written for speed (one ``hmac.digest`` per signature) and takes the account's NT hash from
the caller, computed once per password.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import struct
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Final, TypeAlias

from cryptography.hazmat.primitives.ciphers import Cipher

try:  # cryptography 43 moved ARC4 to the "decrepit" module
    from cryptography.hazmat.decrepit.ciphers.algorithms import ARC4
except ImportError:  # pragma: no cover - older cryptography
    from cryptography.hazmat.primitives.ciphers.algorithms import (
        ARC4,
    )

from aiohyperv._auth._ntowf import nt_hash
from aiohyperv._exceptions import InvalidOperation, ProtocolError

__all__ = [
    "NTLMSSP",
    "NTHashLookup",
    "NTLMAcceptor",
    "NTLMDirection",
    "NTLMRefused",
    "SealResult",
    "spnego_init",
]

NTHashLookup: TypeAlias = Callable[[str], bytes | None]
"""``principal -> NT hash`` of the account, or None when there is no such account."""


@dataclass(frozen=True, slots=True)
class SealResult:
    """A sealed message, shaped like pyspnego's ``WinRMWrapResult``: signature, data, padding."""

    header: bytes
    data: bytes
    padding_length: int = 0


_U32 = struct.Struct("<I")
_SIGNATURE_VERSION: Final = b"\x01\x00\x00\x00"


class NTLMDirection:
    """One direction's NTLM signing and sealing state (MS-NLMP 3.4.4.2 with ESS, and 3.4.3).

    Args:
        rc4: The direction's RC4 key stream (an ``update`` callable; the stream continues).
        sign_key: The direction's signing key.
        seq: The next sequence number.
        key_exch: Whether the checksum is itself RC4-sealed (NTLMSSP_NEGOTIATE_KEY_EXCH).
    """

    __slots__ = ("key_exch", "rc4", "seq", "sign_key")

    def __init__(
        self, rc4: Callable[[bytes], bytes], sign_key: bytes, *, seq: int = 0, key_exch: bool
    ) -> None:
        self.rc4 = rc4
        self.sign_key = sign_key
        self.seq = seq
        self.key_exch = key_exch

    def __repr__(self) -> str:  # no keys in reprs
        return f"<NTLMDirection seq={self.seq}>"

    def signature(self, message: bytes) -> bytes:
        """The 16-byte signature of ``message`` at the next sequence number."""
        seq = _U32.pack(self.seq)
        self.seq += 1
        checksum = hmac.digest(self.sign_key, seq + message, "md5")[:8]
        if self.key_exch:
            checksum = self.rc4(checksum)
        return _SIGNATURE_VERSION + checksum + seq

    def seal(self, data: bytes) -> SealResult:
        """Seal ``data``: the body goes through RC4 first, then the checksum (one stream)."""
        sealed = self.rc4(data)
        return SealResult(header=self.signature(data), data=sealed)

    def unseal(self, header: bytes, data: bytes) -> bytes:
        """Unseal ``data`` and check its signature ``header``.

        Raises:
            ProtocolError: The signature does not match (tampered, reordered or replayed).
        """
        plain = self.rc4(data)
        if not hmac.compare_digest(self.signature(plain), header):
            raise ProtocolError("the NTLM signature of the message does not match")
        return plain


NTLMSSP: Final = b"NTLMSSP\x00"  # every NTLM message starts so (MS-NLMP 2.2.1)
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


class NTLMRefused(Exception):
    """The token is malformed, or the client did not prove it knows the password."""


def _hmac_md5(key: bytes, data: bytes) -> bytes:
    return hmac.digest(key, data, "md5")


def _rc4(key: bytes) -> Any:
    return Cipher(ARC4(key), mode=None).encryptor()


def _der_read(data: bytes, pos: int) -> tuple[int, int, int]:
    """``(tag, value start, value end)`` of the DER element at ``pos``."""
    if pos + 2 > len(data):
        raise NTLMRefused("truncated DER")
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or pos + count > len(data):
            raise NTLMRefused("bad DER length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    end = pos + length
    if end > len(data):
        raise NTLMRefused("truncated DER")
    return tag, pos, end


def _der_children(data: bytes, start: int, end: int) -> Iterator[tuple[int, int, int, int]]:
    """``(tag, element start, value start, value end)`` of each element in ``data[start:end]``."""
    pos = start
    while pos < end:
        tag, vstart, vend = _der_read(data, pos)
        if vend > end:
            raise NTLMRefused("DER element overruns its parent")
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


def spnego_init(token: bytes) -> tuple[bytes, bytes] | None:
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
    except NTLMRefused:
        return None
    if mech_types is None or mech_token is None or not mech_token.startswith(NTLMSSP):
        return None
    return mech_types, mech_token


def _spnego_resp(token: bytes) -> tuple[bytes | None, bytes | None]:
    """``(responseToken, mechListMIC)`` of a NegTokenResp (``[1] { [0] negState,
    [1] supportedMech, [2] responseToken, [3] mechListMIC }``)."""
    tag, start, end = _der_read(token, 0)
    if tag != 0xA1:
        raise NTLMRefused("not a NegTokenResp")
    tag, start, end = _der_read(token, start)
    if tag != 0x30:
        raise NTLMRefused("not a NegTokenResp")
    response: bytes | None = None
    mic: bytes | None = None
    for tag, _el, vstart, vend in _der_children(token, start, end):
        if tag in (0xA2, 0xA3):
            inner, istart, iend = _der_read(token, vstart)
            if inner != 0x04 or iend > vend:
                raise NTLMRefused("NegTokenResp field is not an OCTET STRING")
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
        raise NTLMRefused("truncated NTLM message")
    length, _max, offset = _FIELD.unpack_from(message, at)
    if length and offset + length > len(message):
        raise NTLMRefused("NTLM field outside the message")
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
            raise NTLMRefused("truncated AV pair")
        pairs[av_id] = data[pos : pos + length]
        pos += length
    raise NTLMRefused("AV pairs without MsvAvEOL")


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


class NTLMAcceptor:
    """NTLMv2 acceptor with extended session security, raw or wrapped in SPNEGO.

    It has the shape of a pyspnego context: ``step``, ``complete``, ``client_principal``,
    ``wrap_winrm`` and ``unwrap_winrm``.

    Args:
        nt_hash_of: The NT hash of an account by principal (``DOMAIN\\user`` or ``user``),
            None for an unknown account.
        bindings_hash: MD5 of the server certificate's packed channel bindings when Extended
            Protection is required (``CbtHardeningLevel=Strict``), else None.
        mech_types: The client's SPNEGO mechTypes (DER) when the handshake is inside SPNEGO,
            None for raw NTLM.
    """

    __slots__ = (
        "_bindings_hash",
        "_challenge",
        "_incoming",
        "_mech_types",
        "_negotiate",
        "_nt_hash_of",
        "_outgoing",
        "_seal_keys",
        "client_principal",
        "complete",
    )

    def __init__(
        self, nt_hash_of: NTHashLookup, bindings_hash: bytes | None, mech_types: bytes | None
    ) -> None:
        self._nt_hash_of = nt_hash_of
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
            NTLMRefused: malformed token, wrong leg, or authentication failed.
        """
        if self.complete:
            raise NTLMRefused("the handshake is over")
        if not self._negotiate:
            if self._mech_types is not None:
                found = spnego_init(token)
                if found is None:
                    raise NTLMRefused("not an NTLM NegTokenInit")
                token = found[1]
            challenge = self._accept_negotiate(token)
            if self._mech_types is None:
                return challenge
            return _neg_token_resp(1, mech=True, token=challenge, mic=None)
        if self._mech_types is None:
            if not token.startswith(NTLMSSP):
                raise NTLMRefused("not an NTLM message")
            self._accept_authenticate(token)
            self.complete = True
            return None
        response, mic = _spnego_resp(token)
        if response is None:
            raise NTLMRefused("NegTokenResp without the AUTHENTICATE message")
        mic_required = self._accept_authenticate(response)
        incoming, outgoing = self._incoming, self._outgoing
        assert incoming is not None and outgoing is not None
        out_mic: bytes | None = None
        if mic is not None:
            # RFC 4178 5 / MS-SPNG 3.3.5.1: the MIC signs the client's mechTypes; both sides
            # then restart their RC4 streams.
            if not hmac.compare_digest(incoming.signature(self._mech_types), mic):
                raise NTLMRefused("mechListMIC does not verify")
            out_mic = outgoing.signature(self._mech_types)
            # The RC4 streams restart; the sequence numbers go on (1 each way).
            incoming.rc4 = _rc4(self._seal_keys[0]).update
            outgoing.rc4 = _rc4(self._seal_keys[1]).update
        elif mic_required:
            raise NTLMRefused("the client sent a MIC in NTLM but no mechListMIC")
        self.complete = True
        return _neg_token_resp(0, mech=False, token=None, mic=out_mic)

    def _accept_negotiate(self, token: bytes) -> bytes:
        if len(token) < 16 or not token.startswith(NTLMSSP) or token[8:12] != b"\x01\0\0\0":
            raise NTLMRefused("not an NTLM NEGOTIATE message")
        (client_flags,) = _UINT32.unpack_from(token, 12)
        flags = client_flags | _REQUEST_TARGET | _NTLM | _ALWAYS_SIGN | _TARGET_INFO
        flags |= _TARGET_TYPE_SERVER
        if flags & _UNICODE:
            flags &= ~_OEM
        elif not flags & _OEM:
            raise NTLMRefused("neither UNICODE nor OEM negotiated")
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
                NTLMSSP,
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
        if len(token) < 64 or not token.startswith(NTLMSSP) or token[8:12] != b"\x03\0\0\0":
            raise NTLMRefused("not an NTLM AUTHENTICATE message")
        nt_response = _field(token, 20)
        domain_raw, user_raw = _field(token, 28), _field(token, 36)
        encrypted_key = _field(token, 52)
        (flags,) = _UINT32.unpack_from(token, 60)
        if len(nt_response) <= 24:
            raise NTLMRefused("NTLMv1, LM or anonymous authentication")
        if not flags & _ESS or not flags & _128:
            raise NTLMRefused("no extended session security or 128-bit keys")
        encoding = "utf-16-le" if flags & _UNICODE else "ascii"
        try:
            user_name = user_raw.decode(encoding)
            domain = domain_raw.decode(encoding)
        except UnicodeDecodeError:
            raise NTLMRefused("undecodable user or domain name") from None
        if not user_name:
            raise NTLMRefused("anonymous authentication")
        principal = f"{domain}\\{user_name}" if domain else user_name
        known = self._nt_hash_of(principal)
        # Unknown accounts still cost one HMAC, so both failures look alike.
        account_hash = known if known is not None else nt_hash("\x00")
        response_key = _hmac_md5(account_hash, (user_name.upper() + domain).encode("utf-16-le"))
        server_challenge = self._challenge[24:32]
        proof, blob = nt_response[:16], nt_response[16:]
        expected = _hmac_md5(response_key, server_challenge + blob)
        if known is None or not hmac.compare_digest(proof, expected):
            raise NTLMRefused("wrong user name or password")
        if len(blob) < 28:
            raise NTLMRefused("truncated NTLMv2 client challenge")
        pairs = _av_pairs(blob[28:])
        if self._bindings_hash is not None:
            # Extended Protection, CbtHardeningLevel=Strict: the client's binding must be this
            # TLS certificate's.  Missing or all-zero (MS-NLMP 2.2.2.1: "unknown") is refused
            # as Windows refuses it in strict mode; only Relaxed would let it through.
            bindings = pairs.get(_AV_CHANNEL_BINDINGS)
            if bindings is None or not hmac.compare_digest(bindings, self._bindings_hash):
                raise NTLMRefused("channel bindings missing, zero or wrong")
        key_exchange_key = _hmac_md5(response_key, proof)
        if flags & _KEY_EXCH and flags & (_SIGN | _SEAL):
            session_key = _rc4(key_exchange_key).update(encrypted_key)
        else:
            session_key = key_exchange_key
        has_mic = bool(_UINT32.unpack(pairs.get(_AV_FLAGS, b"\0\0\0\0")[:4])[0] & _AV_FLAG_MIC)
        if has_mic:
            if len(token) < 88:
                raise NTLMRefused("AUTHENTICATE message too short for its MIC")
            zeroed = token[:72] + b"\0" * 16 + token[88:]
            mic = _hmac_md5(session_key, self._negotiate + self._challenge + zeroed)
            if not hmac.compare_digest(mic, token[72:88]):
                raise NTLMRefused("the NTLM MIC does not verify")
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
