"""``aiohyperv``: a virsh-like command line for Hyper-V hosts.

::

    aiohyperv -c hyperv://admin@hv01/ list --all
    aiohyperv -c hyperv://admin@hv01/?transport=http dominfo web01 --json
    aiohyperv inventory hosts.txt          # many hosts at once (see aiohyperv inventory -h)
    aiohyperv simulate                     # a simulated Hyper-V host to play with

Credentials: the URI's user name, then ``AIOHYPERV_USERNAME``/``AIOHYPERV_PASSWORD``, then
libvirt's ``auth.conf``, then a prompt when a terminal is attached.  Errors print one line on
stderr (``error: ...``) and the exit status is 1; usage errors exit with 2.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import logging
import os
import sys
from typing import TYPE_CHECKING, Any, TextIO

from aiohyperv._credentials import default_auth
from aiohyperv._exceptions import HyperVError

from ._commands import Command, Context, add_commands
from ._format import safe_line

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from aiohyperv._credentials import AuthCallback, Credentials

__all__ = ["build_parser", "main", "run"]

PROG = "aiohyperv"
URI_ENV = ("AIOHYPERV_DEFAULT_URI", "LIBVIRT_DEFAULT_URI")
_VALUE_OPTIONS = ("-c", "--connect", "--job-timeout", "--timeout")
#: Seconds a command may take in all (``--timeout``): a host answering every Pull with
#: ``w:TimedOut`` after Windows' 20 s OperationTimeout would otherwise hold one for 10 minutes.
DEFAULT_DEADLINE = 300.0


def _common() -> argparse.ArgumentParser:
    # Options accepted both before and after the command (``--json`` reads well at the end).
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable output"
    )
    return parent


def _add_delegates(subparsers: Any) -> None:
    """``inventory`` (fleet) and ``simulate`` (simulator), when those packages are present."""
    try:
        from ._inventory import add_inventory_parser
    except ImportError:  # pragma: no cover - the fleet package ships with aiohyperv
        pass
    else:
        parser = add_inventory_parser(subparsers)
        parser.set_defaults(_delegate="inventory")
    simulate = subparsers.add_parser(
        "simulate",
        help="run a simulated Hyper-V host (see 'aiohyperv simulate --help')",
        add_help=False,
        prefix_chars="\x00",  # pass every argument through untouched
    )
    simulate.add_argument("rest", nargs=argparse.REMAINDER)
    simulate.set_defaults(_delegate="simulate")
    serve = subparsers.add_parser(
        "serve",
        help="inventory service: history, JSON API, metrics, dashboard (see 'aiohyperv serve -h')",
        add_help=False,
        prefix_chars="\x00",
    )
    serve.add_argument("rest", nargs=argparse.REMAINDER)
    serve.set_defaults(_delegate="serve")


def build_parser() -> argparse.ArgumentParser:
    """The whole argument parser (exposed for documentation and tests)."""
    common = _common()
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Manage Hyper-V hosts the way virsh manages libvirt ones.",
        parents=[common],
        epilog="Credentials: URI user, then AIOHYPERV_USERNAME/AIOHYPERV_PASSWORD, "
        "then libvirt's auth.conf, then a prompt.",
    )
    parser.add_argument(
        "-c",
        "--connect",
        metavar="URI",
        help="connection URI, e.g. hyperv://admin@hv01/ (default: $AIOHYPERV_DEFAULT_URI)",
    )
    parser.add_argument(
        "-r", "--readonly", action="store_true", help="connect readonly: refuse any change"
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="quiet mode")
    parser.add_argument(
        "-d", "--debug", action="store_true", help="log warnings and debug details to stderr"
    )
    parser.add_argument(
        "--job-timeout", type=float, default=300.0, help="seconds to wait for Hyper-V jobs"
    )
    parser.add_argument(
        "--timeout",
        dest="deadline",
        metavar="SECONDS",
        type=_positive_seconds,
        default=None,
        help=f"give up on the command after this long (default: {DEFAULT_DEADLINE:g}; "
        "inventory: none, each host has its own deadline)",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_commands(subparsers, [common])
    _add_delegates(subparsers)
    return parser


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds: {text!r}")
    return value


@contextlib.contextmanager
def _cli_logging(stream: TextIO, *, debug: bool) -> Iterator[None]:
    """Library logging on stderr: only errors by default (stderr stays one line per failure, as
    virsh's does); with ``-d`` everything, warnings such as Basic auth over plain HTTP included.

    The package logger's handler, level and propagation are restored afterwards, so running
    the CLI in-process (tests, notebooks) leaves logging as it found it.
    """
    log = logging.getLogger("aiohyperv")
    saved = (log.level, log.propagate)
    handler = logging.StreamHandler(stream)
    if debug:
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        log.setLevel(logging.DEBUG)
    else:
        handler.setFormatter(_LowerLevelFormatter())
        log.setLevel(logging.ERROR)
    log.addHandler(handler)
    log.propagate = False
    try:
        yield
    finally:
        log.removeHandler(handler)
        log.setLevel(saved[0])
        log.propagate = saved[1]


class _LowerLevelFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return f"{record.levelname.lower()}: {record.getMessage()}"


def _uri(args: argparse.Namespace) -> str | None:
    if args.connect:
        return str(args.connect)
    for name in URI_ENV:
        value = os.environ.get(name)
        if value and value.startswith("hyperv"):
            return value
    return None


async def run(
    argv: Sequence[str] | None = None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    auth: Credentials | AuthCallback | None = None,
) -> int:
    """Run one CLI invocation in the running event loop; return the exit status.

    Args:
        argv: Arguments without the program name (default ``sys.argv[1:]``).
        stdout: Where output goes (default ``sys.stdout``).
        stderr: Where errors go (default ``sys.stderr``).
        auth: Credentials or an auth callback; default: environment, auth.conf, then a
            prompt when stdin is a terminal.
    """
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2
    with _cli_logging(err, debug=bool(getattr(args, "debug", False))):
        explicit: float | None = getattr(args, "deadline", None)
        seconds = explicit
        if seconds is None and getattr(args, "_delegate", None) is None:
            seconds = DEFAULT_DEADLINE  # a fleet run is bounded by its per-host deadline
        deadline = asyncio.timeout(seconds)
        try:
            async with deadline:
                return await _dispatch(parser, args, out, err, auth)
        except TimeoutError:
            if not deadline.expired():
                raise
            what = getattr(args, "command", None) or "the command"
            err.write(f"error: {what} did not finish within {seconds:g} s (--timeout)\n")
            return 1


async def _dispatch(
    parser: argparse.ArgumentParser,
    args: argparse.Namespace,
    out: TextIO,
    err: TextIO,
    auth: Credentials | AuthCallback | None,
) -> int:
    delegate = getattr(args, "_delegate", None)
    if delegate == "inventory":
        from ._inventory import run_inventory_cli

        return await run_inventory_cli(args, stdout=out, stderr=err)
    if delegate in ("simulate", "serve"):
        err.write(f"error: '{delegate}' runs its own event loop; call it from the command line\n")
        return 1
    command: Command | None = getattr(args, "_command", None)
    if command is None:
        parser.print_help(out)
        return 0
    uri = _uri(args)
    if uri is None:
        err.write("error: no connection URI: use -c hyperv://user@host/ or AIOHYPERV_DEFAULT_URI\n")
        return 1
    if args.readonly and command.mutating:
        # Refused here, before any request: a read-only run must not even connect for it.
        err.write(f"error: {command.name} changes the host; the connection is read-only (-r)\n")
        return 1
    # Imported here: the driver (and its HTTP client) only for commands that connect.
    from aiohyperv.hyperv._connection import connect

    try:
        credentials = auth if auth is not None else default_auth(interactive=True)
        async with connect(
            uri,
            auth=credentials,
            read_only=args.readonly,
            job_timeout=args.job_timeout,
        ) as conn:
            return await command.handler(Context(conn=conn, args=args, out=out, auth=credentials))
    except HyperVError as exc:
        err.write(f"error: {safe_line(str(exc))}\n")
        return 1
    except OSError as exc:  # files named on the command line (screenshot, define...)
        err.write(f"error: {safe_line(str(exc))}\n")
        return 1


def main(argv: list[str] | None = None) -> int:
    """The ``aiohyperv`` console script: parse ``argv`` and run it in a fresh event loop."""
    args = list(sys.argv[1:] if argv is None else argv)
    # 'simulate' is handed over before anything else: it runs its own server loop.
    for i, arg in enumerate(args):
        if arg == "simulate":
            try:
                simulator = importlib.import_module("aiohyperv.simulator")
                cli_main = simulator.cli_main
            except (ImportError, AttributeError):
                sys.stderr.write("error: the simulator is not available\n")
                return 1
            try:
                return int(cli_main(args[i + 1 :]))
            except SystemExit as exc:  # --help, usage errors
                return exc.code if isinstance(exc.code, int) else 2
        if arg == "serve":
            try:
                service = importlib.import_module("aiohyperv.service")
            except ImportError as exc:
                sys.stderr.write(f"error: {exc}; install it with: pip install 'aiohyperv[serve]'\n")
                return 1
            try:
                return int(service.cli_main(args[i + 1 :]))
            except SystemExit as exc:  # --help, usage errors
                return exc.code if isinstance(exc.code, int) else 2
        if not arg.startswith("-") and (i == 0 or args[i - 1] not in _VALUE_OPTIONS):
            break
    try:
        return asyncio.run(run(args))
    except KeyboardInterrupt:
        sys.stderr.write("\ninterrupted\n")
        return 130
