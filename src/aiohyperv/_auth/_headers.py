"""HTTP authentication header helpers shared by the client and server sides, sans-IO."""

from __future__ import annotations

import base64
import binascii
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = [
    "CERTIFICATE_AUTHORIZATION",
    "format_token",
    "parse_authorization",
    "parse_challenges",
]

# What WinRM clients send in Authorization for client-certificate authentication over HTTPS
# (MS-WSMV 3.1.4: the DMTF "https/mutual" security profile); the certificate itself travels in
# the TLS handshake.
CERTIFICATE_AUTHORIZATION = "http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/https/mutual"

# One challenge: a scheme token, optionally followed by a token68 or auth-params (RFC 9110 11.2).
_CHALLENGE_RE = re.compile(r"\s*([A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*)(?:[ \t]+([^,]*))?\s*(?:,|$)")
_TOKEN68_RE = re.compile(r"[A-Za-z0-9+/._~-]+=*")


def parse_challenges(values: Iterable[str]) -> list[tuple[str, str | None]]:
    """Split ``WWW-Authenticate`` header values into ``(scheme, token_or_params)`` pairs.

    Windows sends one header per scheme (``Negotiate <token>``, ``Basic realm="WSMAN"``); other
    servers join them with commas.  A ``Basic realm="a,b"`` with a comma in a quoted string is
    cut at the comma, which is harmless: only the Negotiate and Kerberos tokens are used.
    """
    result: list[tuple[str, str | None]] = []
    for value in values:
        pos = 0
        while pos < len(value):
            match = _CHALLENGE_RE.match(value, pos)
            if match is None or match.end() == pos:
                break
            rest = match.group(2)
            result.append((match.group(1), rest.strip() if rest and rest.strip() else None))
            pos = match.end()
    return result


def decode_token(text: str) -> bytes | None:
    """Decode a base64 token68, or None when it is not one."""
    if not _TOKEN68_RE.fullmatch(text):
        return None
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def format_token(scheme: str, token: bytes) -> str:
    """``"<scheme> <base64 token>"`` for an Authorization or WWW-Authenticate header."""
    return f"{scheme} {base64.b64encode(token).decode('ascii')}"


def parse_authorization(value: str | None) -> tuple[str, str | None] | None:
    """Split an ``Authorization`` header into ``(scheme, credentials)``, or None if absent."""
    if not value:
        return None
    value = value.strip()
    if value == CERTIFICATE_AUTHORIZATION:
        return CERTIFICATE_AUTHORIZATION, None
    scheme, _, rest = value.partition(" ")
    return scheme, rest.strip() or None
