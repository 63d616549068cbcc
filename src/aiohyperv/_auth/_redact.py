"""Keep authentication tokens out of pyspnego's DEBUG log lines.

pyspnego logs every token it consumes and produces at DEBUG (``NTLM step output: <base64>``).
Those tokens are the ``Authorization: Negotiate ...`` header values: an NTLM AUTHENTICATE
message carries the NTLMv2 response, from which a weak password can be cracked offline, and
the server side sees the same tokens as input.  An application that turns on DEBUG logging for
everything (``logging.basicConfig(level=logging.DEBUG)``) would write them to its logs.

A filter on pyspnego's token-logging loggers replaces each token with its length.  Logger
filters are not inherited, so each module's logger gets it; installing is idempotent.
"""

from __future__ import annotations

import logging
import re

__all__ = ["install_token_redaction"]

_TOKEN_LOGGERS = (
    "spnego._negotiate",
    "spnego._ntlm",
    "spnego._gss",
    "spnego._sspi",
    "spnego._credssp",
)
_TOKEN = re.compile(r"((?:step|TSRequest) (?:input|output): )([A-Za-z0-9+/=]+)")


class _RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken record is not ours to fix; let it through as it is
            return True
        redacted = _TOKEN.sub(
            lambda m: f"{m.group(1)}<{len(m.group(2))} base64 characters redacted>", message
        )
        if redacted != message:
            record.msg = redacted
            record.args = ()
        return True


_FILTER = _RedactTokens()


def install_token_redaction() -> None:
    """Add the redacting filter to pyspnego's loggers (once)."""
    for name in _TOKEN_LOGGERS:
        log = logging.getLogger(name)
        if _FILTER not in log.filters:
            log.addFilter(_FILTER)
