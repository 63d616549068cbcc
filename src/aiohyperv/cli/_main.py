"""``aiohyperv``: a virsh-like command line for Hyper-V hosts.

::

    aiohyperv -c hyperv://admin@hv01/ list --all
    aiohyperv -c hyperv://admin@hv01/?transport=http dominfo web01 --json
    aiohyperv inventory hosts.txt          # many hosts at once (see aiohyperv help inventory)
    aiohyperv inventory --demo             # the same over a simulated fleet
    aiohyperv simulate                     # a simulated Hyper-V host to play with

Credentials: the URI's user name, then ``AIOHYPERV_USERNAME``/``AIOHYPERV_PASSWORD``, then
libvirt's ``auth.conf``, then a prompt when a terminal is attached.  Errors print one line on
stderr (``error: ...``) and the exit status is 1; usage errors exit with 2, Ctrl-C with 130, a
closed output pipe with 141 (quietly).  The whole reference is ``docs/CLI.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import io
import json
import os
import sys
from typing import TYPE_CHECKING, Any, TextIO

from aiohyperv import __version__
from aiohyperv._config import parse_uri
from aiohyperv._credentials import ChainAuth, default_auth
from aiohyperv._exceptions import ConfigError, HyperVError

from ._advice import describe
from ._commands import Command, Context, add_commands
from ._format import format_table, safe_line
from ._logging import cli_logging
from ._options import add_shared_options, make_pool, tls_options

if TYPE_CHECKING:
    from collections.abc import Sequence

    from aiohyperv._credentials import AuthCallback, CredentialRequest, Credentials
    from aiohyperv.hyperv import HyperVConnection

__all__ = ["build_parser", "main", "run"]

PROG = "aiohyperv"
URI_ENV = ("AIOHYPERV_DEFAULT_URI", "LIBVIRT_DEFAULT_URI")
_VALUE_OPTIONS = (
    *("-c", "--connect", "--job-timeout", "--timeout", "-d", "--debug", "-l", "--log"),
    *("--ca-file", "--client-cert", "--client-key"),
)
_LEVELS = ("0", "1", "2", "3", "4")
#: Seconds a command may take in all (``--timeout``): a host answering every Pull with
#: ``w:TimedOut`` after Windows' 20 s OperationTimeout would otherwise hold one for 10 minutes.
DEFAULT_DEADLINE = 300.0


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
        action="append",
        help="connection URI, e.g. hyperv://admin@hv01/ (default: $AIOHYPERV_DEFAULT_URI); "
        "repeat it to run the command on several hosts",
    )
    parser.add_argument(
        "-r", "--readonly", action="store_true", help="connect readonly: refuse any change"
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="quiet mode")
    parser.add_argument(
        "-v", "--version", action="version", version=f"{PROG} {__version__}", help="print version"
    )
    parser.add_argument(
        "-d",
        "--debug",
        type=_debug_level,
        metavar="LEVEL",
        help="log to stderr from LEVEL on, with timestamps: 0 debug (the default for a bare "
        "-d), 1 info, 2 notice, 3 warning, 4 error",
    )
    parser.add_argument(
        "-l", "--log", metavar="FILE", help="append every log record (debug level) to FILE"
    )
    parser.add_argument(
        "--job-timeout",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="how long to wait for a Hyper-V job (default: 300)",
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
    completion = subparsers.add_parser(
        "completion", help="print a shell completion script (completion bash|zsh|fish)"
    )
    completion.add_argument("shell", choices=("bash", "zsh", "fish"), help="the shell")
    completion.set_defaults(_delegate="completion", _choices=subparsers.choices)
    shell = subparsers.add_parser(
        "shell",
        help="an interactive prompt that runs commands over one connection (also: -c URI "
        "with no command on a terminal)",
    )
    shell.set_defaults(_delegate="shell")
    helper = subparsers.add_parser("help", help="print help, or a command's help (help COMMAND)")
    helper.add_argument("topic", nargs="?", metavar="COMMAND", help="the command to explain")
    helper.set_defaults(_delegate="help", _choices=subparsers.choices)
    return parser


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds: {text!r}")
    return value


def _debug_level(text: str) -> int:
    if text not in _LEVELS:
        raise argparse.ArgumentTypeError(f"expected a level from 0 (debug) to 4 (error): {text!r}")
    return int(text)


def _bare_debug(argv: list[str]) -> list[str]:
    """``-d`` without a level means ``-d 0`` (virsh always wants the level)."""
    result: list[str] = []
    for i, arg in enumerate(argv):
        if arg == "--":
            return result + argv[i:]
        result.append(arg)
        if arg in ("-d", "--debug") and (i + 1 == len(argv) or not argv[i + 1].isdigit()):
            result.append("0")
    return result


def _uris(args: argparse.Namespace) -> list[str]:
    if args.connect:
        return list(dict.fromkeys(args.connect))  # each host once, in order
    for name in URI_ENV:
        value = os.environ.get(name)
        if value and value.startswith("hyperv"):
            return [value]
    return []


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
    argv = _bare_debug(list(sys.argv[1:] if argv is None else argv))
    try:
        # Usage errors and --help go to the streams this run was given.
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            args = parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2
    try:
        logging_context = cli_logging(err, level=args.debug, logfile=args.log)
        with logging_context:
            return await _with_deadline(parser, args, out, err, auth)
    except OSError as exc:
        if args.log is None or isinstance(exc, BrokenPipeError):
            raise
        err.write(f"error: cannot write the log file {args.log}: {exc.strerror or exc}\n")
        return 1


async def _with_deadline(
    parser: argparse.ArgumentParser,
    args: argparse.Namespace,
    out: TextIO,
    err: TextIO,
    auth: Credentials | AuthCallback | None,
    conn: HyperVConnection | None = None,
) -> int:
    """:func:`_dispatch` under the command's overall deadline (``--timeout``)."""
    seconds: float | None = getattr(args, "deadline", None)
    if getattr(args, "_delegate", None) == "shell" or _starts_shell(args, conn):
        return await _dispatch(parser, args, out, err, auth)  # each line has its own deadline
    if seconds is None and getattr(args, "_delegate", None) is None:
        seconds = DEFAULT_DEADLINE  # a fleet run is bounded by its per-host deadline
    deadline = asyncio.timeout(seconds)
    try:
        async with deadline:
            return await _dispatch(parser, args, out, err, auth, conn)
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
    conn: HyperVConnection | None = None,
) -> int:
    """Run parsed ``args``: a delegate, a command (on ``conn`` when given, as the shell does),
    the shell, or the help."""
    delegate = getattr(args, "_delegate", None)
    if delegate == "shell" or _starts_shell(args, conn):
        if conn is not None:
            err.write("error: this is the shell already\n")
            return 1
        from ._shell import run_shell

        if auth is None:  # resolved once: every line (migrate's second host too) uses it
            auth = default_auth(interactive=True)

        async def on_connection(line: argparse.Namespace, session: HyperVConnection) -> int:
            return await _with_deadline(parser, line, out, err, auth, session)

        return await run_shell(parser, args, _uris(args), out, err, auth, on_connection)
    if delegate == "inventory":
        from ._inventory import run_inventory_cli

        return await run_inventory_cli(args, stdout=out, stderr=err)
    if delegate == "completion":
        from ._completion import script

        out.write(script(args.shell, parser, args._choices))
        return 0
    if delegate == "help":
        topic = args.topic
        if topic is None:
            parser.print_help(out)
            return 0
        if topic == "simulate":
            from aiohyperv.simulator._cli import build_parser as simulate_parser

            simulate_parser().print_help(out)
            return 0
        choices: dict[str, argparse.ArgumentParser] = args._choices
        if topic not in choices:
            err.write(f"error: unknown command: {topic!r} (see '{PROG} help')\n")
            return 2
        choices[topic].print_help(out)
        return 0
    if delegate in ("simulate", "serve"):
        err.write(f"error: '{delegate}' runs its own event loop; call it from the command line\n")
        return 1
    command: Command | None = getattr(args, "_command", None)
    if command is None:
        parser.print_help(out)
        return 0
    if conn is not None:
        if args.readonly and command.mutating:
            err.write(f"error: {command.name} changes the host; the connection is read-only (-r)\n")
            return 1
        return await _run_command(command, args, "", out, err, auth or default_auth(), conn)
    uris = _uris(args)
    if not uris:
        err.write("error: no connection URI: use -c hyperv://user@host/ or AIOHYPERV_DEFAULT_URI\n")
        return 1
    if args.readonly and command.mutating:
        # Refused here, before any request: a read-only run must not even connect for it.
        err.write(f"error: {command.name} changes the host; the connection is read-only (-r)\n")
        return 1
    if auth is None:
        auth = _one_prompt_at_a_time(default_auth(interactive=True))
    if len(uris) == 1:
        return await _run_command(command, args, uris[0], out, err, auth)
    return await _run_on_many(command, args, uris, out, err, auth)


def _starts_shell(args: argparse.Namespace, conn: HyperVConnection | None) -> bool:
    """``aiohyperv -c URI`` with no command, typed at a terminal: virsh's interactive shell."""
    if conn is not None or getattr(args, "_command", None) is not None:
        return False
    if getattr(args, "_delegate", None) is not None or not _uris(args):
        return False
    try:
        return sys.stdin.isatty()
    except (ValueError, AttributeError):  # closed or replaced stdin
        return False


def _one_prompt_at_a_time(source: AuthCallback) -> AuthCallback:
    """``source`` called for one host at a time, so prompts for several hosts never interleave."""
    lock = asyncio.Lock()
    chain = ChainAuth(source)  # calls a sync or async source alike

    async def serialized(request: CredentialRequest) -> Credentials | None:
        async with lock:
            return await chain(request)

    return serialized


async def _run_on_many(
    command: Command,
    args: argparse.Namespace,
    uris: list[str],
    out: TextIO,
    err: TextIO,
    auth: Credentials | AuthCallback,
) -> int:
    """Run ``command`` on every host at once; each output line is prefixed with its host.

    ``list`` gets a HOST column instead (``--json``: one list whose entries carry ``host``).
    The exit status is the worst of the hosts'.
    """
    as_table = command.name == "list" and not getattr(args, "json", False)
    names = ("name", "uuid", "id") if command.name == "list" else ()
    plain_list = as_table and any(getattr(args, n, False) for n in names)
    if as_table and not plain_list:
        args = argparse.Namespace(**{**vars(args), "json": True})

    async def one(uri: str) -> tuple[str, int, str, str]:
        host_out, host_err = io.StringIO(), io.StringIO()
        code = await _run_command(command, args, uri, host_out, host_err, auth)
        return _label(uri), code, host_out.getvalue(), host_err.getvalue()

    results = await asyncio.gather(*(one(uri) for uri in uris))
    if as_table and not plain_list:
        rows: list[list[object]] = []
        for host, code, text, _ in results:
            if code == 0:
                for d in json.loads(text):
                    rows.append([host, "-" if d["id"] is None else d["id"], d["name"], d["state"]])
        out.write(format_table(["Host", "Id", "Name", "State"], rows))
    elif command.name == "list" and getattr(args, "json", False):
        merged = [
            {"host": host, **entry}
            for host, code, text, _ in results
            if code == 0
            for entry in json.loads(text)
        ]
        out.write(json.dumps(merged, indent=2) + "\n")
    else:
        for host, _, text, _ in results:
            out.write("".join(f"{host}: {line}\n" for line in text.splitlines()))
    for host, _, _, text in results:
        err.write("".join(f"{host}: {line}\n" for line in text.splitlines()))
    return max(code for _, code, _, _ in results)


def _label(uri: str) -> str:
    try:
        return parse_uri(uri).host_label
    except ConfigError:
        return uri


async def _run_command(
    command: Command,
    args: argparse.Namespace,
    uri: str,
    out: TextIO,
    err: TextIO,
    auth: Credentials | AuthCallback,
    conn: HyperVConnection | None = None,
) -> int:
    # Imported here: the driver (and its HTTP client) only for commands that connect.
    from aiohyperv.hyperv._connection import connect

    try:
        if conn is not None:  # the shell's connection, kept open between commands
            return await command.handler(Context(conn=conn, args=args, out=out, auth=auth))
        tls = tls_options(args)
        async with contextlib.AsyncExitStack() as stack:
            pool = await stack.enter_async_context(make_pool(tls)) if tls is not None else None
            conn = await stack.enter_async_context(
                connect(
                    uri,
                    auth=auth,
                    pool=pool,
                    read_only=args.readonly,
                    job_timeout=args.job_timeout,
                )
            )
            return await command.handler(Context(conn=conn, args=args, out=out, auth=auth))
    except HyperVError as exc:
        err.write(f"error: {safe_line(describe(exc))}\n")
        return 1
    except BrokenPipeError:
        raise  # stdout's reader went away: main() stops quietly
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
