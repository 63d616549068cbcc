"""NTLM message sealing (MS-NLMP 3.4.4.2, with extended session security) at C speed.

pyspnego does the handshake; once a connection's context is established, every WinRM message
on it is sealed and signed: RC4 over the body and an HMAC-MD5 signature over the sequence number
and the plaintext.  pyspnego computes these through several layers of Python (flag
properties, a pure-Python HMAC object per signature), which cost about as much as the RC4 and
MD5 themselves on a fleet run's ~150 KB of answers per host.  :class:`FastSealer` does the same
arithmetic with one ``hmac.digest`` call and the context's own RC4 streams
(:class:`NTLMDirection`, the same code the simulator's NTLM acceptor seals with).

It takes over from an established pyspnego context (:func:`fast_sealer`): the RC4 key streams
are pyspnego's own cipher objects and the sequence numbers continue from where pyspnego left
them (SPNEGO's mechListMIC has already used one each way), so the two are interchangeable at
that point.  Anything unusual — not NTLM (Kerberos), no extended session security, or a pyspnego
whose internals differ from what this expects — gets None, and the caller keeps pyspnego.
"""

from __future__ import annotations

import hmac
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from .._exceptions import ProtocolError

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["FastSealer", "NTLMDirection", "SealResult", "fast_sealer"]

# MS-NLMP 2.2.2.5 NegotiateFlags.
_SIGN: Final = 0x00000010
_SEAL: Final = 0x00000020
_EXTENDED_SESSION_SECURITY: Final = 0x00080000
_KEY_EXCH: Final = 0x40000000

_U32 = struct.Struct("<I")
_VERSION: Final = b"\x01\x00\x00\x00"


@dataclass(frozen=True, slots=True)
class SealResult:
    """The shape of pyspnego's ``WinRMWrapResult``: signature, sealed data, padding."""

    header: bytes
    data: bytes
    padding_length: int = 0


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
        return _VERSION + checksum + seq

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


class FastSealer:
    """Seal and unseal the WinRM messages of one established NTLM connection."""

    __slots__ = ("incoming", "outgoing")

    def __init__(self, outgoing: NTLMDirection, incoming: NTLMDirection) -> None:
        self.outgoing = outgoing
        self.incoming = incoming

    def __repr__(self) -> str:
        return f"<FastSealer out={self.outgoing!r} in={self.incoming!r}>"

    def wrap_winrm(self, data: bytes) -> SealResult:
        """Seal ``data``; the 16-byte signature goes in the header (MS-WSMV 2.2.9.1.1)."""
        return self.outgoing.seal(data)

    def unwrap_winrm(self, header: bytes, data: bytes) -> bytes:
        """Unseal ``data`` and check its signature.

        Raises:
            ProtocolError: The signature does not match.
        """
        return self.incoming.unseal(header, data)


def fast_sealer(context: Any) -> FastSealer | None:
    """A :class:`FastSealer` continuing ``context`` (pyspnego NTLM or Negotiate-over-NTLM).

    Call it once the context is complete and before any message is sealed with it; from then
    on use only the returned sealer for that connection.  None when the context is not one
    this can take over (the caller keeps using pyspnego's own wrap).
    """
    try:
        if not context.complete:
            return None
        inner = context
        if type(context).__name__ == "NegotiateProxy":
            inner = context._context  # the mechanism SPNEGO chose
        if type(inner).__name__ != "NTLMProxy":
            return None
        flags = int(inner._context_attr)
        needed = _SIGN | _SEAL | _EXTENDED_SESSION_SECURITY
        if flags & needed != needed:
            return None
        rc4_out = inner._handle_out._handle.update
        rc4_in = inner._handle_in._handle.update
        sign_key_out = bytes(inner._sign_key_out)
        sign_key_in = bytes(inner._sign_key_in)
        seq_out = int(inner._NTLMProxy__seq_num_out)
        seq_in = int(inner._NTLMProxy__seq_num_in)
    except (AttributeError, TypeError, KeyError):
        return None
    if inner._handle_out is inner._handle_in:  # one shared stream: not the ESS layout
        return None
    key_exch = bool(flags & _KEY_EXCH)
    return FastSealer(
        NTLMDirection(rc4_out, sign_key_out, seq=seq_out, key_exch=key_exch),
        NTLMDirection(rc4_in, sign_key_in, seq=seq_in, key_exch=key_exch),
    )
