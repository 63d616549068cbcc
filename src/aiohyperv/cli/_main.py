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
from aiohyperv.hyperv import connect

from ._advice import describe
from ._commands import Command, Context, add_commands
from ._options import add_shared_options, make_pool, tls_options

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from aiohyperv._credentials import AuthCallback, Credentials

__all__ = ["build_parser", "main", "run"]

PROG = "aiohyperv"
URI_ENV = ("AIOHYPERV_DEFAULT_URI", "LIBVIRT_DEFAULT_URI")
_VALUE_OPTIONS = ("-c", "--connect", "--job-timeout")


def _common() -> argparse.ArgumentParser:
    # Options accepted both before and after the command (``--json`` reads well at the end).
    parent = argparse.ArgumentParser(add_help=False)
    add_shared_options(parent)
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
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_commands(subparsers, [common])
    _add_delegates(subparsers)
    return parser


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
        return await _dispatch(parser, args, out, err, auth)


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
    if delegate == "simulate":
        err.write("error: 'simulate' runs its own event loop; call it from the command line\n")
        return 1
    command: Command | None = getattr(args, "_command", None)
    if command is None:
        parser.print_help(out)
        return 0
    uri = _uri(args)
    if uri is None:
        err.write("error: no connection URI: use -c hyperv://user@host/ or AIOHYPERV_DEFAULT_URI\n")
        return 1
    try:
        tls = tls_options(args)
        async with contextlib.AsyncExitStack() as stack:
            pool = await stack.enter_async_context(make_pool(tls)) if tls is not None else None
            conn = await stack.enter_async_context(
                connect(
                    uri,
                    auth=auth if auth is not None else default_auth(interactive=True),
                    pool=pool,
                    read_only=args.readonly,
                    job_timeout=args.job_timeout,
                )
            )
            return await command.handler(Context(conn=conn, args=args, out=out))
    except HyperVError as exc:
        err.write(f"error: {describe(exc)}\n")
        return 1
    except BrokenPipeError:
        raise  # stdout's reader went away: main() stops quietly
    except OSError as exc:  # files named on the command line (screenshot, define...)
        err.write(f"error: {exc}\n")
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
        if not arg.startswith("-") and (i == 0 or args[i - 1] not in _VALUE_OPTIONS):
            break
    try:
        code = asyncio.run(run(args))
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's exit
    except KeyboardInterrupt:
        sys.stderr.write("\ninterrupted\n")
        return 130
    except BrokenPipeError:
        return _closed_pipe()
    return code


def _closed_pipe() -> int:
    """Stop quietly when stdout's reader went away (``| head``), as Unix tools do.

    Whatever is still buffered for stdout goes to ``os.devnull`` instead, so the interpreter's
    final flush cannot fail again (the recipe of the ``signal`` module documentation).  The
    status is 141, what a shell reports for a program killed by SIGPIPE.
    """
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    return 128 + 13  # SIGPIPE
