"""``aiohyperv inventory``: collect the standard inventory of many hosts from the command line.

With no host given, it starts a simulated fleet in the background (mixed Windows versions, with
realistic latency), inventories it and stops it: the one-command demo.

Exit status: 0 when every host was inventoried, 1 when any host failed, 2 for usage errors
(a bad URI, an unreadable hosts file), 130 when interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from .._config import ConnectionURI, parse_uri
from .._credentials import Credentials, default_auth
from .._exceptions import ConfigError
from ._gc import tuned_gc
from ._output import FORMATS, ProgressBar, make_writer, write_summary

if TYPE_CHECKING:
    from collections.abc import Sequence

    from aiohyperv.fleet._fleet import FleetAuth, FleetEvent
    from aiohyperv.fleet._model import HostInventory

__all__ = ["add_inventory_parser", "cli_inventory", "run_inventory_cli"]

PROG = "aiohyperv inventory"

DESCRIPTION = """\
Collect the standard inventory of many Hyper-V hosts at once: host name, OS, CPU, memory,
virtual switches, and every VM's state, vCPUs, memory, disks, NICs and more.

Hosts are URIs such as hyperv://admin@hv01/ or hyperv://hv02:5985/?transport=http; a hosts file
lists one per line (bare host names are accepted; '#' starts a comment). Credentials come from
AIOHYPERV_USERNAME/AIOHYPERV_PASSWORD or libvirt's auth.conf, or --ask-password.

With no host given, a simulated fleet is started in the background and inventoried: a demo
that needs no Hyper-V server.
"""


def add_inventory_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """Add the ``inventory`` subcommand to a CLI's subparsers and return its parser.

    The parser sets ``func`` to :func:`run_inventory_cli` (an ``async def (args) -> int``).
    """
    parser = subparsers.add_parser(
        "inventory",
        help="inventory many hosts at once (a simulated fleet when no host is given)",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    configure_parser(parser)
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive: {text}")
    return value


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the inventory options to ``parser`` (used by both entry points)."""
    parser.add_argument(
        "uris", nargs="*", metavar="URI", help="host URIs (hyperv://...) or files listing them"
    )
    parser.add_argument(
        "--hosts-file",
        metavar="FILE",
        help="read host URIs from FILE, one per line ('-' for stdin)",
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="table",
        help="output format (default: table; ndjson streams one line per host)",
    )
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    parser.add_argument(
        "--concurrency",
        type=_positive_int,
        default=100,
        metavar="N",
        help="hosts worked on at once (default: 100)",
    )
    parser.add_argument(
        "--timeout",
        type=_positive_float,
        default=60.0,
        metavar="S",
        help="deadline per host in seconds (default: 60)",
    )
    parser.add_argument(
        "--processes",
        type=_positive_int,
        default=1,
        metavar="N",
        help="spread the hosts over N processes, for fleets too large for one core (default: 1)",
    )
    parser.add_argument(
        "--ask-password",
        action="store_true",
        help="prompt once for a user name and password and use them for every host",
    )
    demo = parser.add_argument_group("simulated fleet (used when no host is given)")
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
        type=int,
        default=0,
        metavar="N",
        help="make N hosts fail (bad password, WMI fault, refused) to see how failures look",
    )
    parser.set_defaults(func=run_inventory_cli)


def read_hosts(args: argparse.Namespace) -> list[ConnectionURI]:
    """The hosts named on the command line and in ``--hosts-file``, parsed, duplicates removed.

    Raises:
        ConfigError: A URI does not parse (the message names the file and line).
        OSError: The hosts file cannot be read.
    """
    entries: list[tuple[str, str]] = []
    files: list[str] = [args.hosts_file] if args.hosts_file else []
    for text in args.uris:
        # ``aiohyperv inventory hosts.txt``: a positional that names a file is a hosts file.
        if "://" not in text and Path(text).is_file():
            files.append(text)
        else:
            entries.append((text, f"argument {text!r}"))
    for name in files:
        if name == "-":
            lines = sys.stdin.read().splitlines()
        else:
            lines = Path(name).read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines, 1):
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
    return uris


def _ask_credentials() -> Credentials:
    username = input("User name for all hosts: ").strip()
    password = getpass.getpass(f"Password for {username}: ")
    return Credentials(username=username, password=password)


async def run_inventory_cli(
    args: argparse.Namespace,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run ``aiohyperv inventory`` with parsed ``args``; return the exit status.

    Args:
        args: From a parser set up by :func:`add_inventory_parser`.
        stdout: Where results go unless ``--output`` is given (default ``sys.stdout``).
        stderr: Where the progress bar, the summary of machine formats and errors go.

    Returns:
        0 if every host succeeded, 1 if any failed, 2 for usage errors.
    """
    # Imported here: `aiohyperv --help` builds this command's parser without the fleet.
    from aiohyperv.fleet._fleet import Fleet
    from aiohyperv.fleet._inventory import inventory_op

    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    try:
        uris = read_hosts(args)
    except (ConfigError, OSError) as exc:
        err.write(f"{PROG}: error: {exc}\n")
        return 2

    async with contextlib.AsyncExitStack() as stack:
        auth: FleetAuth
        if uris:
            if args.ask_password:
                auth = await asyncio.to_thread(_ask_credentials)
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

            err.write(
                f"No hosts given: starting a simulated fleet of {args.sim_hosts} Hyper-V hosts "
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
            try:
                target_file = stack.enter_context(
                    open(args.output, "w", encoding="utf-8", newline="")  # noqa: ASYNC230  # opened once, before any I/O runs
                )
            except OSError as exc:
                err.write(f"{PROG}: error: cannot write {args.output}: {exc.strerror}\n")
                return 2
            out = target_file

        writer = make_writer(args.format, out)
        progress = ProgressBar(err)

        def on_event(event: FleetEvent[HostInventory]) -> None:
            if event.result is not None:
                progress.close()  # streaming writers may share the terminal with the bar
                writer.host(event.result)
            progress(event)

        fleet = await stack.enter_async_context(
            Fleet(
                targets,
                auth=auth,
                concurrency=args.concurrency,
                timeout=args.timeout,
                processes=args.processes,
            )
        )
        stack.enter_context(tuned_gc())  # a command run: this process is ours to tune
        try:
            result = await fleet.run(inventory_op, on_event=on_event)
        finally:
            progress.close()
        writer.finish(result)
        if args.format != "table":
            write_summary(result, err)
        err.flush()
    return 1 if result.failed else 0


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
