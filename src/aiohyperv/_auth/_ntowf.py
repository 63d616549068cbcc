"""NTOWFv1, the NT hash of a password (MS-NLMP 3.3.1): ``MD4(UTF-16LE(password))``.

NTLM derives everything else (the NTLMv2 response key, the session keys) from this hash, and
pyspnego's NTLM recomputes it from the password in every new context, that is on every
connection.  Both ends of a connection here compute it once per password instead: the client
hands it to pyspnego as a public :class:`spnego.NTLMHash` credential, and the simulator's NTLM
acceptor checks responses with it.

MD4 (RFC 1320) is implemented here because neither :mod:`hashlib` (OpenSSL 3 keeps MD4 in its
"legacy" provider, usually not loaded) nor :mod:`cryptography` offers it, and pyspnego's copy
is private.  It runs once per distinct password, so pure Python costs nothing measurable.  The
LM hash (LMOWFv1) is not needed: NTLMv2, the only NTLM WinRM clients of this century send, uses
the NT hash alone (pyspnego documents ``NTLMHash.lm_hash`` as optional).
"""

from __future__ import annotations

import functools
import struct

__all__ = ["md4", "nt_hash"]

_MASK = 0xFFFFFFFF
_WORDS = struct.Struct("<16I")


def _rotl(x: int, n: int) -> int:
    x &= _MASK
    return ((x << n) | (x >> (32 - n))) & _MASK


def md4(data: bytes) -> bytes:
    """The RFC 1320 MD4 digest of ``data`` (16 bytes)."""
    length = len(data)
    message = data + b"\x80" + b"\0" * ((55 - length) % 64) + struct.pack("<Q", length * 8)
    a, b, c, d = 0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476
    for offset in range(0, len(message), 64):
        x = _WORDS.unpack_from(message, offset)
        aa, bb, cc, dd = a, b, c, d
        # Round 1: F(x, y, z) = xy v not(x)z.
        for i in range(0, 16, 4):
            a = _rotl(a + ((b & c) | (~b & d)) + x[i], 3)
            d = _rotl(d + ((a & b) | (~a & c)) + x[i + 1], 7)
            c = _rotl(c + ((d & a) | (~d & b)) + x[i + 2], 11)
            b = _rotl(b + ((c & d) | (~c & a)) + x[i + 3], 19)
        # Round 2: G(x, y, z) = xy v xz v yz, plus 0x5A827999.
        for i in range(4):
            a = _rotl(a + ((b & c) | (b & d) | (c & d)) + x[i] + 0x5A827999, 3)
            d = _rotl(d + ((a & b) | (a & c) | (b & c)) + x[i + 4] + 0x5A827999, 5)
            c = _rotl(c + ((d & a) | (d & b) | (a & b)) + x[i + 8] + 0x5A827999, 9)
            b = _rotl(b + ((c & d) | (c & a) | (d & a)) + x[i + 12] + 0x5A827999, 13)
        # Round 3: H(x, y, z) = x xor y xor z, plus 0x6ED9EBA1.
        for i in (0, 2, 1, 3):
            a = _rotl(a + (b ^ c ^ d) + x[i] + 0x6ED9EBA1, 3)
            d = _rotl(d + (a ^ b ^ c) + x[i + 8] + 0x6ED9EBA1, 9)
            c = _rotl(c + (d ^ a ^ b) + x[i + 4] + 0x6ED9EBA1, 11)
            b = _rotl(b + (c ^ d ^ a) + x[i + 12] + 0x6ED9EBA1, 15)
        a, b, c, d = (a + aa) & _MASK, (b + bb) & _MASK, (c + cc) & _MASK, (d + dd) & _MASK
    return struct.pack("<4I", a, b, c, d)


@functools.lru_cache(maxsize=64)
def nt_hash(password: str) -> bytes:
    """NTOWFv1 of ``password``, computed once per password (a fleet shares a few passwords)."""
    return md4(password.encode("utf-16-le", errors="surrogatepass"))
