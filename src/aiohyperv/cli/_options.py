"""Options every subcommand shares with the top level: ``--json`` and the TLS options.

They are accepted before the command (``aiohyperv --json inventory``) and after it
(``aiohyperv inventory --json``).  Their defaults are ``SUPPRESS`` in the subcommand parsers, so
a value given before the command is never overwritten by a subparser's default; read them with
:func:`tls_options` and ``getattr(args, "json", False)``.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from .._exceptions import ConfigError

if TYPE_CHECKING:
    from .._transport import SessionPool, TLSOptions

__all__ = ["add_shared_options", "make_pool", "tls_options"]


def add_shared_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--json`` and the TLS options to ``parser`` (with suppressed defaults)."""
    parser.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable output"
    )
    tls = parser.add_argument_group("TLS (HTTPS hosts)")
    tls.add_argument(
        "--ca-file",
        metavar="PEM",
        default=argparse.SUPPRESS,
        help="trust the CA certificates in PEM instead of the system store",
    )
    tls.add_argument(
        "--client-cert",
        metavar="PEM",
        default=argparse.SUPPRESS,
        help="client certificate for ?auth=certificate (may hold the key too)",
    )
    tls.add_argument(
        "--client-key",
        metavar="PEM",
        default=argparse.SUPPRESS,
        help="unencrypted private key of --client-cert, if in a separate file",
    )
    tls.add_argument(
        "--no-verify",
        action="store_true",
        default=argparse.SUPPRESS,
        help="do not check host certificates (like ?no_verify=1 on every URI)",
    )


def tls_options(args: argparse.Namespace) -> TLSOptions | None:
    """The :class:`TLSOptions` the command line asks for, or None for the defaults.

    Raises:
        ConfigError: ``--client-key`` without ``--client-cert``.
    """
    ca_file: str | None = getattr(args, "ca_file", None)
    client_cert: str | None = getattr(args, "client_cert", None)
    client_key: str | None = getattr(args, "client_key", None)
    no_verify = bool(getattr(args, "no_verify", False))
    if client_key is not None and client_cert is None:
        raise ConfigError("--client-key needs --client-cert")
    if ca_file is None and client_cert is None and not no_verify:
        return None
    from .._transport import TLSOptions  # the transport (and aiohttp) only when used

    return TLSOptions(
        verify=not no_verify, ca_file=ca_file, client_cert=client_cert, client_key=client_key
    )


def make_pool(tls: TLSOptions | None) -> SessionPool:
    """A session pool with ``tls`` (module level, so worker processes can build it too)."""
    from .._transport import SessionPool

    return SessionPool(tls=tls)
