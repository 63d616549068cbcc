"""One-line error messages for the command line, with advice in the CLI's own terms.

The library's messages suggest library fixes (``TLSOptions(ca_file=...)``); on the command line
the same problem is solved with an option, so the CLI names the option.  The problem is read
from the exception's cause chain, which keeps the standard library's :mod:`ssl` errors.
"""

from __future__ import annotations

import ssl

from .._exceptions import ConnectError

__all__ = ["describe"]

# OpenSSL's X509_V_ERR_HOSTNAME_MISMATCH and X509_V_ERR_IP_ADDRESS_MISMATCH.
_NAME_MISMATCH = frozenset({62, 64})


def _causes(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def describe(exc: BaseException) -> str:
    """The message for an ``error:`` line: ``str(exc)``, or CLI advice for TLS problems."""
    if not isinstance(exc, ConnectError):
        return str(exc)
    host = exc.host or "the host"
    for cause in _causes(exc):
        # aiohttp's wrappers subclass the ssl errors without their attributes: skip them.
        if isinstance(cause, ssl.SSLCertVerificationError) and hasattr(cause, "verify_code"):
            reason = cause.verify_message or "verification failed"
            if cause.verify_code in _NAME_MISMATCH:
                return (
                    f"TLS certificate of {host} is not issued for the name used to connect "
                    f"({reason}): connect with a name the certificate lists (as the URI's "
                    "host), or fix the certificate"
                )
            return (
                f"TLS certificate of {host} failed verification ({reason}): trust its CA with "
                "--ca-file PEM, or, if you must, skip the check with --no-verify (?no_verify=1)"
            )
        if isinstance(cause, ssl.SSLError) and getattr(cause, "reason", None) == (
            "WRONG_VERSION_NUMBER"
        ):
            return (
                f"TLS handshake with {host} failed: the listener does not speak TLS; if it is "
                "an HTTP listener (port 5985), add ?transport=http to the URI"
            )
    return str(exc)
