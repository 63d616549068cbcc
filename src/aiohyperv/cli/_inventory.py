"""``aiohyperv inventory``: collect the standard inventory of many hosts from the command line.

Hosts come from the arguments (URIs, bare host names or hosts files), ``--hosts-file``, or else
the connection URI (``-c URI`` or ``$AIOHYPERV_DEFAULT_URI``).  No hosts at all is a usage
error: the simulated fleet runs only when asked for with ``--demo``.

Exit status: 0 when every host was inventoried, 1 when any host failed, 2 for usage errors
(a bad URI, an unreadable or empty hosts file, no hosts), 130 when interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import io
import os
import secrets
import stat
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from aiohyperv.fleet._fleet import DEFAULT_CONCURRENCY

from .._config import ConnectionURI, parse_uri
from .._credentials import Credentials, default_auth, prompt_line
from .._exceptions import ConfigError, HyperVError
from ._filter import FIELDS, parse_filters
from ._gc import tuned_gc
from ._options import add_shared_options, make_pool, tls_options
from ._output import FORMATS, SORT_KEYS, make_writer, sort_result, write_summary
from ._progress import LiveProgress

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from aiohyperv.fleet._fleet import FleetAuth, FleetEvent, FleetResult
    from aiohyperv.fleet._model import HostInventory

__all__ = ["add_inventory_parser", "cli_inventory", "run_inventory_cli"]

PROG = "aiohyperv inventory"
URI_ENV = ("AIOHYPERV_DEFAULT_URI", "LIBVIRT_DEFAULT_URI")

DESCRIPTION = """\
Collect the standard inventory of many Hyper-V hosts at once: host name, OS, CPU, memory,
virtual switches, and every VM's state, vCPUs, memory, disks, NICs and more.

Hosts are URIs such as hyperv://admin@hv01/ or hyperv://hv02:5985/?transport=http; a hosts file
lists one per line (bare host names are accepted; '#' starts a comment; UTF-8 or UTF-16 with a
byte order mark, as Windows PowerShell writes). With no host named, the connection URI is used
(-c URI or $AIOHYPERV_DEFAULT_URI). Credentials come from AIOHYPERV_USERNAME/AIOHYPERV_PASSWORD
or libvirt's auth.conf, or --ask-password.

--demo starts a simulated fleet in the background and inventories it: a demo that needs no
Hyper-V server.
"""

#: A positional argument with one of these endings is meant as a hosts file, never a host.
_FILE_SUFFIXES = (".txt", ".list", ".lst", ".csv", ".hosts", ".conf", ".cfg", ".ini", ".json")


def add_inventory_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """Add the ``inventory`` subcommand to a CLI's subparsers and return its parser.

    The parser sets ``func`` to :func:`run_inventory_cli` (an ``async def (args) -> int``).
    """
    parser = subparsers.add_parser(
        "inventory",
        help="inventory many hosts at once (--demo: a simulated fleet)",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    configure_parser(parser)
    return parser


def _whole_number(text: str, minimum: int, complaint: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"{complaint}: {value}")
    return value


def _positive_int(text: str) -> int:
    return _whole_number(text, 1, "must be at least 1")


def _non_negative_int(text: str) -> int:
    return _whole_number(text, 0, "must not be negative")


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive: {text}")
    return value


def _site(text: str) -> tuple[str, str]:
    host, sep, site = text.rpartition("=")
    if not sep or not host or not site:
        raise argparse.ArgumentTypeError(f"expected HOST=SITE: {text!r}")
    return host, site


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the inventory options to ``parser`` (used by both entry points)."""
    parser.add_argument(
        "uris",
        nargs="*",
        metavar="HOST",
        help="host URIs (hyperv://...), bare host names, or files listing them",
    )
    parser.add_argument(
        "--hosts-file",
        metavar="FILE",
        help="read hosts from FILE, one per line ('-' for stdin)",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="inventory a simulated fleet started in the background (no Hyper-V needed)",
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default=None,
        help="output format (default: table, or json with --json; ndjson streams one line "
        "per host)",
    )
    add_shared_options(parser)
    output = parser.add_argument_group("output file")
    output.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write to FILE instead of stdout; FILE is replaced only when the run ends",
    )
    output.add_argument(
        "--keep-partial",
        action="store_true",
        help="with -o: keep what was written if the run is interrupted or fails",
    )
    output.add_argument(
        "--sort",
        metavar="KEY",
        choices=[*SORT_KEYS, *(f"-{k}" for k in SORT_KEYS)],
        help=f"order the hosts (table, json) by {', '.join(SORT_KEYS)}; --sort=-KEY descending",
    )
    output.add_argument(
        "--fields",
        metavar="COLUMNS",
        type=lambda text: [c.strip() for c in text.split(",") if c.strip()],
        help="CSV only: the columns to write, comma-separated (default: the standard set; any "
        "field --filter knows may be named, the VM's name, uuid and id as vm_name, vm_uuid, vm_id)",
    )
    output.add_argument(
        "--filter",
        action="append",
        default=[],
        metavar="EXPR",
        help="keep hosts and VMs where FIELD<OP>VALUE holds (OP: = != < <= > >=; text is a "
        "case-insensitive glob, e.g. state=running, 'name=web-*', 'vcpus>=4'); repeatable, all "
        f"must match; fields: {', '.join(FIELDS)}",
    )
    output.add_argument(
        "--excel",
        action="store_true",
        help="CSV for Excel: UTF-8 with a byte order mark, so names keep their accents",
    )
    parser.add_argument(
        "--concurrency",
        type=_positive_int,
        default=DEFAULT_CONCURRENCY,
        metavar="N",
        help=f"hosts worked on at once (default: {DEFAULT_CONCURRENCY})",
    )
    parser.add_argument(
        "--timeout",
        type=_positive_float,
        default=60.0,
        metavar="SECONDS",
        help="deadline per host (default: 60)",
    )
    parser.add_argument(
        "--processes",
        type=_positive_int,
        default=1,
        metavar="N",
        help="spread the hosts over N processes, for fleets too large for one core (default: 1;"
        " never more than the hosts)",
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on a Dask distributed cluster (tcp://HOST:8786, tls://...; needs "
        "aiohyperv[dask]); credentials are resolved here and sent to the workers directly",
    )
    parser.add_argument(
        "--site",
        action="append",
        default=[],
        type=_site,
        metavar="HOST=SITE",
        help="with --scheduler: run HOST only on workers offering the Dask resource SITE "
        "(dask worker --resources SITE=1); repeatable",
    )
    parser.add_argument(
        "--ask-password",
        action="store_true",
        help="prompt once for a user name and password and use them for every host",
    )
    demo = parser.add_argument_group("simulated fleet (with --demo)")
    demo.add_argument(
        "--sim-hosts", type=_positive_int, default=50, metavar="N", help="hosts (default: 50)"
    )
    demo.add_argument(
        "--sim-vms", type=_positive_int, default=20, metavar="N", help="VMs per host (default: 20)"
    )
    demo.add_argument(
        "--sim-seed", type=int, default=2024, metavar="N", help="random seed (default: 2024)"
    )
    demo.add_argument(
        "--sim-failing",
        type=_non_negative_int,
        default=0,
        metavar="N",
        help="make N hosts fail (bad password, WMI fault, refused) to see how failures look",
    )
    parser.set_defaults(func=run_inventory_cli)


def _decode(data: bytes) -> str:
    """Text of a hosts file: UTF-16 with a BOM (PowerShell 5.1's ``>``), else UTF-8 (BOM or not)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")  # the BOM says the byte order, and is dropped
    return data.decode("utf-8-sig")


def _read_lines(name: str) -> list[str]:
    if name == "-":
        return sys.stdin.read().removeprefix("\ufeff").splitlines()
    try:
        data = Path(name).read_bytes()
    except FileNotFoundError:
        raise OSError(f"{name}: no such file") from None
    except OSError as exc:
        raise OSError(f"{name}: {exc.strerror or exc}") from None
    try:
        return _decode(data).splitlines()
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{name}: not UTF-8 or UTF-16 text (byte {exc.start}); save it as UTF-8"
        ) from None


def _looks_like_file(text: str) -> bool:
    return (
        "/" in text or "\\" in text or text.lower().endswith(_FILE_SUFFIXES) or text.startswith(".")
    )


def read_hosts(args: argparse.Namespace) -> tuple[list[ConnectionURI], list[str]]:
    """The hosts named on the command line and in hosts files, parsed, duplicates removed.

    Returns:
        The URIs, and the hosts files they were read from.

    Raises:
        ConfigError: A URI does not parse (the message names the file and line).
        OSError: A hosts file cannot be read, or a name meant as one does not exist.
    """
    entries: list[tuple[str, str]] = []
    files: list[str] = [args.hosts_file] if args.hosts_file else []
    for text in args.uris:
        # ``aiohyperv inventory hosts.txt``: a positional that names a file is a hosts file;
        # one that only looks like a file name is a mistyped one, not a host called hostz.txt.
        if "://" not in text and (Path(text).is_file() or _looks_like_file(text)):
            files.append(text)
        else:
            entries.append((text, f"argument {text!r}"))
    for name in files:
        for number, line in enumerate(_read_lines(name), 1):
            text = line.split("#", 1)[0].strip()
            if text:
                entries.append((text, f"{name}:{number}"))
    uris: list[ConnectionURI] = []
    seen: set[tuple[str, int]] = set()
    for text, where in entries:
        if "://" not in text:
            text = f"hyperv://{text}/"
        try:
            uri = parse_uri(text)
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from None
        key = (uri.hostname, uri.port)
        if key not in seen:
            seen.add(key)
            uris.append(uri)
    return uris, files


def _default_uris(args: argparse.Namespace) -> list[str]:
    """``-c URI`` (repeatable), else the default URI from the environment."""
    connect: list[str] | str | None = getattr(args, "connect", None)
    if connect:
        return [connect] if isinstance(connect, str) else list(connect)
    for name in URI_ENV:
        value = os.environ.get(name)
        if value and value.startswith("hyperv"):
            return [value]
    return []


def _hosts(args: argparse.Namespace) -> list[ConnectionURI]:
    """Every host to inventory; a usage error (ConfigError) when there is none."""
    uris, files = read_hosts(args)
    if args.demo:
        if uris or files:
            raise ConfigError("--demo inventories a simulated fleet; it takes no hosts")
        return []
    if uris:
        return uris
    if files:
        raise ConfigError(f"no hosts in {', '.join(files)}")
    defaults = _default_uris(args)
    if defaults:
        return [parse_uri(uri) for uri in dict.fromkeys(defaults)]
    raise ConfigError(
        "no hosts given: name host URIs or a hosts file, use -c URI "
        "(or $AIOHYPERV_DEFAULT_URI), or --demo for a simulated fleet"
    )


def _format(args: argparse.Namespace) -> str:
    as_json = bool(getattr(args, "json", False))
    if args.format is None:
        return "json" if as_json else "table"
    if as_json and args.format != "json":
        raise ConfigError(f"--json contradicts --format {args.format}")
    fmt: str = args.format
    return fmt


def _check_output_options(args: argparse.Namespace, fmt: str) -> None:
    """Usage errors of --fields and --sort, found before any file is touched."""
    if args.fields is not None:
        make_writer(fmt, io.StringIO(), columns=args.fields)  # raises ConfigError if wrong
    if args.sort and fmt in ("ndjson", "csv"):
        raise ConfigError(f"--sort orders table and json output; {fmt} streams as hosts end")


async def _ask_credentials() -> Credentials:
    username = (await prompt_line("User name for all hosts: ")).strip()
    password = await prompt_line(f"Password for {username}: ", echo=False)
    return Credentials(username=username, password=password)


def _create_beside(path: Path) -> tuple[int, Path]:
    """A new, empty file next to ``path`` (same directory, so a rename replaces atomically)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(temp, flags, 0o666), temp  # the umask applies, as for open()
        except FileExistsError:  # pragma: no cover - 32 random bits collided
            continue


@contextlib.contextmanager
def replaced_at_end(name: str, *, keep_partial: bool, encoding: str) -> Iterator[TextIO]:
    """Write to a temporary file beside ``name`` and rename it over ``name`` at the end.

    ``name`` keeps its previous content until the run completes; after an error or an
    interruption (KeyboardInterrupt, cancellation) the temporary file is removed, or, with
    ``keep_partial``, renamed over ``name`` all the same.  An existing file's permissions
    carry over to the new one.
    """
    path = Path(name)
    fd, temp = _create_beside(path)
    with contextlib.suppress(OSError):
        os.chmod(temp, stat.S_IMODE(path.stat().st_mode))
    handle: TextIO = open(fd, "w", encoding=encoding, newline="")  # closed below
    complete = False
    try:
        yield handle
        complete = True
    finally:
        try:
            handle.close()
        finally:
            if complete or keep_partial:
                os.replace(temp, path)
            else:
                temp.unlink(missing_ok=True)


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (ValueError, AttributeError):
        return False


async def run_inventory_cli(
    args: argparse.Namespace,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run ``aiohyperv inventory`` with parsed ``args``; return the exit status.

    Args:
        args: From a parser set up by :func:`add_inventory_parser` (options of the top-level
            parser such as ``-c``, ``-q`` and ``--json`` are honoured when present).
        stdout: Where results go unless ``--output`` is given (default ``sys.stdout``).
        stderr: Where the live progress, the summary of machine formats and errors go.

    Returns:
        0 if every host succeeded, 1 if any failed, 2 for usage errors.

    Raises:
        BrokenPipeError: stdout was closed by its reader (``| head``); the run was stopped.
    """
    # Imported here: `aiohyperv --help` builds this command's parser without the fleet.
    from aiohyperv.fleet._fleet import Fleet
    from aiohyperv.fleet._inventory import inventory_op

    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    quiet = bool(getattr(args, "quiet", False))
    try:
        uris = _hosts(args)
        fmt = _format(args)
        tls = tls_options(args)
        _check_output_options(args, fmt)
        selection = parse_filters(args.filter)
    except (ConfigError, OSError) as exc:
        err.write(f"{PROG}: error: {exc}\n")
        return 2

    async with contextlib.AsyncExitStack() as stack:
        auth: FleetAuth
        if uris:
            if args.ask_password:
                auth = await _ask_credentials()
            else:
                auth = default_auth()
            targets: Sequence[str | ConnectionURI] = uris
        else:
            # The simulator is only needed for the demo.
            from aiohyperv.simulator._demo import (
                FleetSpec,
                quiet_loopback_basic_warning,
                simulated_fleet,
            )

            if args.sim_failing > args.sim_hosts:
                err.write(f"{PROG}: error: --sim-failing exceeds --sim-hosts\n")
                return 2
            if not quiet:
                err.write(
                    f"Starting a simulated fleet of {args.sim_hosts} Hyper-V hosts "
                    f"x {args.sim_vms} VMs on 127.0.0.1 ...\n"
                )
                err.flush()
            spec = FleetSpec(
                hosts=args.sim_hosts, vms=args.sim_vms, seed=args.sim_seed, failing=args.sim_failing
            )
            demo = await stack.enter_async_context(simulated_fleet(spec))
            stack.enter_context(quiet_loopback_basic_warning())
            targets, auth = demo.uris, demo.auth

        if args.output:
            encoding = "utf-8-sig" if args.excel else "utf-8"
            try:
                out = stack.enter_context(
                    replaced_at_end(args.output, keep_partial=args.keep_partial, encoding=encoding)
                )
            except OSError as exc:
                err.write(f"{PROG}: error: cannot write {args.output}: {exc.strerror or exc}\n")
                return 2
        elif args.excel and out is sys.stdout:
            out.write("\ufeff")

        writer = make_writer(fmt, out, columns=args.fields)
        progress = LiveProgress(err, enabled=None if not quiet else False)
        write_error: list[BaseException] = []
        # Lines streamed to the terminal the display is on: take the display off first, or
        # they would be drawn over.  Anything else leaves it alone (no flicker per host).
        shares_terminal = fmt in ("ndjson", "csv") and progress.enabled and _isatty(out)

        def on_event(event: FleetEvent[HostInventory]) -> None:
            progress.event(event)
            shown = event.result
            if shown is not None and selection is not None:
                shown = selection.host(shown)
            if shown is not None and not write_error:
                try:
                    if shares_terminal:
                        progress.clear()
                    writer.host(shown)
                except (OSError, ValueError) as exc:  # EPIPE, ENOSPC; ValueError: closed file
                    write_error.append(exc)
                    run_task.cancel()

        try:
            fleet = Fleet(
                targets,
                auth=auth,
                concurrency=args.concurrency,
                timeout=args.timeout,
                processes=args.processes,
                pool_factory=functools.partial(make_pool, tls) if tls is not None else None,
                cluster=args.scheduler,
                sites=dict(args.site),
            )
        except ConfigError as exc:  # --processes with --scheduler, no Dask for --scheduler
            err.write(f"{PROG}: error: {exc}\n")
            return 2
        await stack.enter_async_context(fleet)
        stack.enter_context(tuned_gc())  # a command run: this process is ours to tune
        run_task = asyncio.create_task(fleet.run(inventory_op, on_event=on_event))
        result: FleetResult[HostInventory]
        try:
            async with progress.ticking():
                result = await run_task
        except asyncio.CancelledError:
            if not write_error:
                raise
            raise write_error[0] from None
        except HyperVError as exc:  # the run itself failed (no Dask scheduler at --scheduler)
            err.write(f"{PROG}: error: {exc}\n")
            return 1
        failed = bool(result.failed)  # a host filtered out still failed the run
        if selection is not None:
            result = selection.result(result)
        if args.sort:
            result = sort_result(result, args.sort)
        writer.finish(result)
        if not quiet and (fmt != "table" or args.output):
            write_summary(result, err)
        err.flush()
    return 1 if failed else 0


def build_parser() -> argparse.ArgumentParser:
    """A standalone parser for ``aiohyperv inventory`` (the CLI embeds the same options)."""
    parser = argparse.ArgumentParser(
        prog=PROG, description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    configure_parser(parser)
    return parser


def cli_inventory(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the inventory in a fresh event loop; return the exit status.

    Usage errors exit with status 2 (argparse's convention).
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2
    try:
        return asyncio.run(run_inventory_cli(args))
    except KeyboardInterrupt:
        sys.stderr.write("\ninterrupted\n")
        return 130
