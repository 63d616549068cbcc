"""WinRM message encryption framing (MS-WSMV 2.2.9.1), sans-IO.

Over plain HTTP, WinRM seals every SOAP body with the connection's NTLM or Kerberos session key
and sends it as a one-part-pair MIME message::

    Content-Type: multipart/encrypted;protocol="application/HTTP-SPNEGO-session-encrypted";
                  boundary="Encrypted Boundary"

    --Encrypted Boundary\\r\\n
    \\tContent-Type: application/HTTP-SPNEGO-session-encrypted\\r\\n
    \\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=<n>\\r\\n
    --Encrypted Boundary\\r\\n
    \\tContent-Type: application/octet-stream\\r\\n
    <uint32 LE signature length><signature><sealed data>--Encrypted Boundary--\\r\\n

``Length`` is the plaintext length.  CredSSP splits bodies over 16 KiB into several such pairs
(``multipart/x-multi-encrypted``); NTLM and Kerberos never do, so this module accepts exactly one
pair and refuses anything else.  The sealed data is binary, so the parser never searches it for
the boundary: it takes everything between the octet-stream header and the closing delimiter.

The functions here take any object with pyspnego's ``wrap_winrm``/``unwrap_winrm`` (a
:class:`Sealer`), so they work the same for the client and the server side.
"""

from __future__ import annotations

import functools
import re
import struct
from typing import Protocol

from .._exceptions import ProtocolError

__all__ = [
    "BOUNDARY",
    "KERBEROS_PROTOCOL",
    "SOAP_CONTENT_TYPE",
    "SPNEGO_PROTOCOL",
    "Sealer",
    "decrypt_message",
    "encrypt_message",
    "encrypted_content_type",
    "is_encrypted_content_type",
]

BOUNDARY = "Encrypted Boundary"
SPNEGO_PROTOCOL = "application/HTTP-SPNEGO-session-encrypted"
KERBEROS_PROTOCOL = "application/HTTP-Kerberos-session-encrypted"
SOAP_CONTENT_TYPE = "application/soap+xml;charset=UTF-8"

_DELIM = b"--" + BOUNDARY.encode("ascii")
_CLOSE = _DELIM + b"--\r\n"
_OCTET_HEADER = b"\tContent-Type: application/octet-stream\r\n"
_LENGTH_PREFIX = struct.Struct("<I")
# Content-Type parameters: name=value or name="value" (RFC 9110 5.6.6); values we expect
# never contain escaped quotes.
_PARAM_RE = re.compile(r';\s*([A-Za-z0-9_.+-]+)\s*=\s*(?:"([^"]*)"|([^;\s]*))')
_ORIGINAL_RE = re.compile(
    rb"\ttype=application/soap\+xml;\s*charset=(?P<charset>[A-Za-z0-9_-]+);\s*Length=(?P<length>\d{1,12})"
)


class Wrapped(Protocol):
    """A sealed message: pyspnego's ``WinRMWrapResult`` or aiohyperv's own ``SealResult``."""

    @property
    def header(self) -> bytes: ...
    @property
    def data(self) -> bytes: ...
    @property
    def padding_length(self) -> int: ...


class Sealer(Protocol):
    """What the framing needs from a security context: pyspnego's WinRM wrap calls."""

    def wrap_winrm(self, data: bytes) -> Wrapped: ...

    def unwrap_winrm(self, header: bytes, data: bytes) -> bytes: ...


def encrypted_content_type(protocol: str = SPNEGO_PROTOCOL) -> str:
    """The HTTP ``Content-Type`` of a sealed message for ``protocol``."""
    return f'multipart/encrypted;protocol="{protocol}";boundary="{BOUNDARY}"'


@functools.lru_cache(maxsize=64)
def _parse_content_type(content_type: str) -> tuple[str, str | None, str | None]:
    # Cached: a connection sees the same one or two Content-Type strings on every message.
    main, _, rest = content_type.partition(";")
    params: dict[str, str] = {}
    for match in _PARAM_RE.finditer(";" + rest):
        value = match.group(2) if match.group(2) is not None else match.group(3)
        params[match.group(1).lower()] = value
    return main.strip().lower(), params.get("protocol"), params.get("boundary")


def is_encrypted_content_type(content_type: str | None) -> bool:
    """Whether a ``Content-Type`` announces a WinRM-encrypted body (of any protocol)."""
    if not content_type:
        return False
    main = _parse_content_type(content_type)[0]
    return main in ("multipart/encrypted", "multipart/x-multi-encrypted")


def encrypt_message(
    sealer: Sealer, body: bytes, *, protocol: str = SPNEGO_PROTOCOL
) -> tuple[str, bytes]:
    """Seal ``body`` and frame it as MS-WSMV 2.2.9.1 describes.

    Args:
        sealer: The connection's established security context.
        body: The SOAP envelope (UTF-8 bytes).
        protocol: :data:`SPNEGO_PROTOCOL` (NTLM and Negotiate) or :data:`KERBEROS_PROTOCOL`.

    Returns:
        ``(content_type, payload)`` to send as the HTTP ``Content-Type`` and body.
    """
    wrapped = sealer.wrap_winrm(body)
    # Kerberos RC4 pads the plaintext before sealing; the length announced covers the padding.
    length = len(body) + wrapped.padding_length
    payload = b"".join(
        (
            _DELIM,
            b"\r\n\tContent-Type: ",
            protocol.encode("ascii"),
            b"\r\n\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=",
            str(length).encode("ascii"),
            b"\r\n",
            _DELIM,
            b"\r\n",
            _OCTET_HEADER,
            _LENGTH_PREFIX.pack(len(wrapped.header)),
            wrapped.header,
            wrapped.data,
            _CLOSE,
        )
    )
    return encrypted_content_type(protocol), payload


def decrypt_message(
    sealer: Sealer,
    content_type: str | None,
    payload: bytes,
    *,
    protocol: str = SPNEGO_PROTOCOL,
) -> bytes:
    """Check the framing of a sealed message strictly, unseal it and return the plaintext.

    Args:
        sealer: The connection's established security context (the same one that sealed the
            peer's previous messages: NTLM sealing is a stream cipher with sequence numbers).
        content_type: The HTTP ``Content-Type`` of the message.
        payload: The HTTP body.
        protocol: The encryption protocol this connection negotiated.

    Raises:
        ProtocolError: The content type, boundary, part headers or length are not what MS-WSMV
            prescribes, the signature does not verify, or the message is CredSSP-chunked.
    """
    if content_type is None:
        raise ProtocolError("encrypted message has no Content-Type")
    main, announced, boundary = _parse_content_type(content_type)
    if main == "multipart/x-multi-encrypted":
        raise ProtocolError("chunked (CredSSP) encrypted messages are not supported")
    if main != "multipart/encrypted":
        raise ProtocolError(f"expected multipart/encrypted, got Content-Type {main!r}")
    if (announced or "").lower() != protocol.lower():
        raise ProtocolError(f"encrypted message protocol {announced!r}, expected {protocol!r}")
    if boundary != BOUNDARY:
        raise ProtocolError(f"unexpected MIME boundary {boundary!r}")

    # Windows indents the part headers with a tab and writes them so; it also accepts them
    # unindented, which some clients sent for years (virt-who's Hyper-V backend wrote
    # "Content-Type: application/octet-stream" with no tab, 2016-2021, against default
    # Windows hosts).  So the tab is optional here, and encrypt_message keeps writing it.
    pos = _expect(payload, 0, _DELIM + b"\r\n", "does not start with the MIME boundary")
    pos = _expect_header(
        payload, pos, b"Content-Type: " + protocol.encode("ascii") + b"\r\n", lower=True
    )
    pos = _expect_header(payload, pos, b"OriginalContent:", lower=True)
    line_end = payload.find(b"\r\n", pos)
    if line_end < 0:
        raise ProtocolError("encrypted message: unterminated OriginalContent header")
    original = _ORIGINAL_RE.fullmatch(b"\t" + payload[pos:line_end].strip())
    if original is None:
        raise ProtocolError("encrypted message: malformed OriginalContent header")
    if original.group("charset").lower() not in (b"utf-8", b"utf-16"):
        raise ProtocolError("encrypted message: unsupported charset in OriginalContent")
    expected_length = int(original.group("length"))
    start = _expect(
        payload, line_end + 2, _DELIM + b"\r\n", "missing application/octet-stream part"
    )
    start = _expect_header(payload, start, _OCTET_HEADER[1:], lower=False)
    if not payload.endswith(_CLOSE):
        raise ProtocolError("encrypted message: missing closing boundary")
    body = payload[start : len(payload) - len(_CLOSE)]
    if len(body) < _LENGTH_PREFIX.size:
        raise ProtocolError("encrypted message: truncated signature length")
    (sig_len,) = _LENGTH_PREFIX.unpack_from(body)
    if sig_len == 0 or sig_len > len(body) - _LENGTH_PREFIX.size:
        raise ProtocolError(f"encrypted message: signature length {sig_len} out of range")
    signature = body[_LENGTH_PREFIX.size : _LENGTH_PREFIX.size + sig_len]
    sealed = body[_LENGTH_PREFIX.size + sig_len :]
    try:
        plaintext = sealer.unwrap_winrm(signature, sealed)
    except Exception as exc:  # pyspnego raises several types for bad signatures and tokens
        raise ProtocolError(f"encrypted message failed to unseal: {type(exc).__name__}") from None
    if len(plaintext) != expected_length:
        raise ProtocolError(
            f"encrypted message length {len(plaintext)} does not match the announced "
            f"Length={expected_length}"
        )
    return plaintext


def _expect(payload: bytes, pos: int, text: bytes, problem: str) -> int:
    """The position after ``text`` at ``pos``; a ProtocolError saying ``problem`` otherwise."""
    if payload[pos : pos + len(text)] != text:
        raise ProtocolError(f"encrypted message {problem}")
    return pos + len(text)


def _expect_header(payload: bytes, pos: int, text: bytes, *, lower: bool) -> int:
    """The position after a MIME part header line ``text`` at ``pos``, tab-indented or not."""
    if payload[pos : pos + 1] == b"\t":
        pos += 1
    found = payload[pos : pos + len(text)]
    if (found.lower() if lower else found) != (text.lower() if lower else text):
        name = text.split(b":", 1)[0].decode("ascii", "replace")
        raise ProtocolError(f"encrypted message: missing or malformed {name} part header")
    return pos + len(text)
