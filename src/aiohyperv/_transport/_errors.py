"""The one place where aiohttp and OS exceptions become aiohyperv exceptions.

Like httpcore's ``map_exceptions``, every HTTP exchange runs inside :func:`map_exceptions`, so no
``aiohttp`` exception ever reaches a caller and every error leaves with ``.host`` set.  aiohttp
never puts request headers (and so never the Authorization header) into its messages, and the
translated message says what happened; but its exceptions keep the request
(``ClientResponseError.request_info`` holds every header sent, ``Authorization`` included).  So
the original is never chained: the translated error has neither ``__cause__`` nor
``__context__``, and what a retry needs to know about it (was an open connection dropped, and
after part of the answer?) is kept on the error itself (``ConnectError.dropped``,
``ConnectError.mid_response``).
"""

from __future__ import annotations

import errno
import os
from contextlib import contextmanager
from typing import TYPE_CHECKING

import aiohttp

from .._exceptions import (
    ConnectError,
    HTTPStatusError,
    HyperVError,
    ProtocolError,
    TransportError,
    TransportTimeout,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from ._options import Timeouts

__all__ = ["is_retryable", "map_exceptions"]

_RESET_ERRNOS = frozenset({errno.ECONNRESET, errno.ECONNABORTED, errno.EPIPE})
_RETRYABLE_STATUSES = frozenset({503})


def _os_reason(exc: OSError) -> str:
    text = exc.strerror or str(exc) or type(exc).__name__
    if exc.errno and text.startswith("Connect call failed"):
        # asyncio words every failed connect "Connect call failed ('10.0.0.5', 5986)"; the
        # errno says what happened ("connection refused"), and the host is named already.
        text = os.strerror(exc.errno).lower()
    return text


def _translate(exc: Exception, host: str, timeouts: Timeouts | None) -> HyperVError:
    """Return the aiohyperv exception for ``exc`` (a pure function; the caller raises it)."""
    connect = f" after {timeouts.connect:g}s" if timeouts else ""
    read = f" within {timeouts.read:g}s" if timeouts else ""
    total = f" within {timeouts.total:g}s" if timeouts else ""
    # Order matters: aiohttp's classes inherit from each other and from builtins.
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        error = ConnectError(
            f"TLS certificate of {host} failed verification ({exc.certificate_error}); "
            "trust its CA with TLSOptions(ca_file=...) or, if you must, use no_verify=1",
            host=host,
        )
        # aiohttp's own wrappers subclass the ssl errors without their attributes.
        code = getattr(exc.certificate_error, "verify_code", None)
        message = getattr(exc.certificate_error, "verify_message", None)
        error.tls_verify_code = code if isinstance(code, int) else None
        error.tls_reason = message if isinstance(message, str) else None
        return error
    if isinstance(exc, aiohttp.ClientSSLError):
        error = ConnectError(f"TLS handshake with {host} failed: {exc}", host=host)
        os_error = exc.os_error if isinstance(exc, aiohttp.ClientConnectorError) else None
        reason = getattr(os_error, "reason", None)
        error.tls_reason = reason if isinstance(reason, str) else None
        return error
    if isinstance(exc, aiohttp.ServerFingerprintMismatch):
        return ConnectError(f"TLS certificate fingerprint of {host} does not match", host=host)
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return TransportTimeout(f"connecting to {host} timed out{connect}", host=host)
    if isinstance(exc, aiohttp.SocketTimeoutError | aiohttp.ServerTimeoutError):
        return TransportTimeout(f"{host} sent no response data{read}", host=host)
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return ConnectError(f"cannot resolve {host}: {_os_reason(exc.os_error)}", host=host)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return _dropped(
            ConnectError(f"cannot connect to {host}: {_os_reason(exc.os_error)}", host=host),
            exc.os_error.errno in _RESET_ERRNOS,
        )
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return _dropped(ConnectError(f"{host} closed the connection before answering", host=host))
    if isinstance(exc, aiohttp.ClientPayloadError):
        error = _dropped(ConnectError(f"response from {host} was cut short: {exc}", host=host))
        error.mid_response = True
        return error
    if isinstance(exc, aiohttp.ClientOSError):
        return _dropped(
            ConnectError(f"connection to {host} failed: {_os_reason(exc)}", host=host),
            exc.errno in _RESET_ERRNOS,
        )
    if isinstance(exc, aiohttp.ClientConnectionResetError):
        return _dropped(ConnectError(f"connection to {host} was reset: {exc}", host=host))
    if isinstance(exc, aiohttp.ClientConnectionError):
        return ConnectError(f"connection to {host} failed: {exc}", host=host)
    if isinstance(exc, aiohttp.ClientResponseError):
        # Malformed status line or headers, oversize headers and the like.
        return ProtocolError(f"{host} sent an invalid HTTP response: {exc.message}", host=host)
    if isinstance(exc, aiohttp.ClientError):
        return TransportError(f"HTTP request to {host} failed: {exc}", host=host)
    if isinstance(exc, TimeoutError):
        # asyncio.timeout around the whole exchange (queueing included).
        return TransportTimeout(f"request to {host} did not complete{total}", host=host)
    if isinstance(exc, OSError):
        return _dropped(
            ConnectError(f"connection to {host} failed: {_os_reason(exc)}", host=host),
            isinstance(exc, ConnectionResetError) or exc.errno in _RESET_ERRNOS,
        )
    return TransportError(f"request to {host} failed: {type(exc).__name__}: {exc}", host=host)


def _dropped(error: ConnectError, dropped: bool = True) -> ConnectError:
    error.dropped = dropped
    return error


@contextmanager
def map_exceptions(host: str, *, timeouts: Timeouts | None = None) -> Iterator[None]:
    """Translate every exception raised inside into the aiohyperv hierarchy.

    aiohyperv's own exceptions pass through with ``host`` filled in; cancellation
    (a ``BaseException``) passes through untouched.

    Args:
        host: ``host:port`` label attached to the error.
        timeouts: Used only to say in the message which limit was hit.
    """
    try:
        yield
    except HyperVError as exc:
        exc.with_host(host)
        raise
    except Exception as exc:
        error = _translate(exc, host, timeouts)
    else:
        return
    # Raised here, outside the handler, and raised again with its context cleared: the
    # original (and whatever request it holds) must not be reachable from the error.
    try:
        raise error from None
    except HyperVError as translated:
        translated.__context__ = None
        raise


def is_retryable(exc: BaseException, *, advances: bool = False) -> bool:
    """Whether an idempotent request that failed with ``exc`` may be sent again.

    Yes for a connection reset or dropped by the server (before or during the response) and for
    HTTP 503; no for refused connections, TLS and DNS failures, timeouts and every other status:
    those do not heal in a second, and a timeout has already cost the caller its budget.

    Args:
        exc: The error of the last attempt.
        advances: The request moves server state forward when it is processed, as a Pull
            moves its enumeration's cursor.  Then a response that was cut off half way is not
            a reason to resend: the server did process the request, and the resent Pull would
            return the *next* batch, silently losing the one that was cut off.
    """
    if isinstance(exc, HTTPStatusError):
        return exc.status in _RETRYABLE_STATUSES
    if not isinstance(exc, ConnectError) or not exc.dropped:
        return False
    return not (advances and exc.mid_response)
