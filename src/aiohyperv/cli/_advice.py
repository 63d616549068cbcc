"""One-line error messages for the command line, with advice in the CLI's own terms.

The library's messages suggest library fixes (``TLSOptions(ca_file=...)``); on the command line
the same problem is solved with an option, so the CLI names the option.  The problem is read
from what :class:`~aiohyperv.ConnectError` keeps of OpenSSL's error (the transport chains no
aiohttp or :mod:`ssl` error: they hold the request's headers).
"""

from __future__ import annotations

from .._exceptions import ConnectError

__all__ = ["describe"]

# OpenSSL's X509_V_ERR_HOSTNAME_MISMATCH and X509_V_ERR_IP_ADDRESS_MISMATCH.
_NAME_MISMATCH = frozenset({62, 64})


def describe(exc: BaseException) -> str:
    """The message for an ``error:`` line: ``str(exc)``, or CLI advice for TLS problems."""
    if not isinstance(exc, ConnectError):
        return str(exc)
    host = exc.host or "the host"
    if exc.tls_verify_code is not None:
        reason = exc.tls_reason or "verification failed"
        if exc.tls_verify_code in _NAME_MISMATCH:
            return (
                f"TLS certificate of {host} is not issued for the name used to connect "
                f"({reason}): connect with a name the certificate lists (as the URI's "
                "host), or fix the certificate"
            )
        return (
            f"TLS certificate of {host} failed verification ({reason}): trust its CA with "
            "--ca-file PEM, or, if you must, skip the check with --no-verify (?no_verify=1)"
        )
    if exc.tls_reason == "WRONG_VERSION_NUMBER":
        return (
            f"TLS handshake with {host} failed: the listener does not speak TLS; if it is "
            "an HTTP listener (port 5985), add ?transport=http to the URI"
        )
    return str(exc)
