"""``aiohyperv serve``: the command line of the inventory service.

::

    aiohyperv serve --demo                                  # the simulated fleet, changing
    aiohyperv serve --hosts-file hosts.txt --interval 5m --database postgresql://inv@db/inv

Runs until SIGTERM or SIGINT, then finishes (or, after a grace period, cancels) the run in
flight, ends the live feeds, stops listening and closes the database.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import stat
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from aiohyperv._exceptions import ConfigError

from ._config import ServiceConfig, parse_database_url, parse_duration, parse_listen

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from aiohyperv._config import ConnectionURI

    from ._service import Service

__all__ = ["build_parser", "cli_main", "serve"]

PROG = "aiohyperv serve"
log = logging.getLogger("aiohyperv.service")

DESCRIPTION = """\
Inventory a Hyper-V fleet on a schedule and serve what it finds: the latest state, the history
of changes (VMs created, removed, renamed, started and stopped, resized; hosts lost and back),
a JSON API (/api, described at /api/openapi.json), Prometheus metrics (/metrics), a live
change feed (/api/events) and a web dashboard (/).

Hosts are URIs (hyperv://admin@hv01/) or files listing them, as for 'aiohyperv inventory';
credentials come from AIOHYPERV_USERNAME/AIOHYPERV_PASSWORD or libvirt's auth.conf.
With --demo, a simulated fleet whose VMs change over time is served instead.
"""


def _duration(text: str) -> float:
    try:
        return parse_duration(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _listen(text: str) -> tuple[str, int]:
    try:
        return parse_listen(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


class _StartError(Exception):
    """The service could not start (database, listening socket, missing extra)."""


def build_parser() -> argparse.ArgumentParser:
    """The ``aiohyperv serve`` argument parser."""
    parser = argparse.ArgumentParser(
        prog=PROG, description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("uris", nargs="*", metavar="URI", help="host URIs or files listing them")
    parser.add_argument("--hosts-file", metavar="FILE", help="read host URIs from FILE")
    parser.add_argument(
        "--interval", type=_duration, default=None, metavar="D",
        help="time between run starts, e.g. 30s, 5m (default: 5m; 15s with --demo)",
    )  # fmt: skip
    parser.add_argument(
        "--timeout", type=_duration, default=60.0, metavar="D",
        help="deadline per host within a run (default: 60s)",
    )  # fmt: skip
    parser.add_argument(
        "--concurrency", type=int, default=64, metavar="N", help="hosts at once (default: 64)"
    )
    parser.add_argument(
        "--listen", type=_listen, default=("127.0.0.1", 8080), metavar="HOST:PORT",
        help="where the web server listens (default: 127.0.0.1:8080)",
    )  # fmt: skip
    parser.add_argument(
        "--database", metavar="URL", default=None,
        help="sqlite:///FILE, a file path, or postgresql://... (default: aiohyperv-serve.db; "
        "in memory with --demo)",
    )  # fmt: skip
    parser.add_argument(
        "--retention", type=_duration, default=None, metavar="D",
        help="history kept (default: 30d; 1d with --demo)",
    )  # fmt: skip
    parser.add_argument(
        "--sample-interval", type=_duration, default=3600.0, metavar="D",
        help="store an unchanged VM's fields at most this often (default: 1h; changes are "
        "always stored)",
    )  # fmt: skip
    parser.add_argument(
        "--metrics-vm-limit", type=int, default=0, metavar="N",
        help="per-VM series on /metrics for at most N VMs (default: 0, none)",
    )  # fmt: skip
    parser.add_argument(
        "--enable-actions", action="store_true",
        help="serve the VM start/stop endpoints (needs --token-file)",
    )  # fmt: skip
    parser.add_argument(
        "--token-file", metavar="FILE",
        help="file holding the bearer token for POST endpoints",
    )  # fmt: skip
    parser.add_argument(
        "--log-format", choices=("text", "json"), default="text", help="log lines (default: text)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    demo = parser.add_argument_group("simulated fleet")
    demo.add_argument("--demo", action="store_true", help="serve a simulated, changing fleet")
    demo.add_argument("--sim-hosts", type=int, default=12, metavar="N", help="hosts (default: 12)")
    demo.add_argument("--sim-vms", type=int, default=10, metavar="N", help="VMs each (default: 10)")
    demo.add_argument("--sim-seed", type=int, default=2024, metavar="N", help="seed")
    demo.add_argument(
        "--churn", type=_duration, default=4.0, metavar="D",
        help="how often simulated VMs change (default: 4s)",
    )  # fmt: skip
    return parser


def read_token(path: str) -> str:
    """The bearer token in ``path`` (stripped); warns when others may read the file.

    Raises:
        ConfigError: The file is empty or unreadable.
    """
    try:
        file = Path(path)
        token = file.read_text(encoding="utf-8").strip()
        mode = file.stat().st_mode
    except OSError as exc:
        raise ConfigError(f"cannot read the token file: {exc.strerror}") from None
    if len(token) < 16:
        raise ConfigError("the token file must hold a token of at least 16 characters")
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        log.warning("the token file %s is readable by others (chmod 600 it)", path)
    return token


def make_config(args: argparse.Namespace) -> ServiceConfig:
    """The service settings the parsed ``args`` ask for."""
    database = args.database or (":memory:" if args.demo else "aiohyperv-serve.db")
    token = read_token(args.token_file) if args.token_file else None
    interval = args.interval if args.interval is not None else (15.0 if args.demo else 300.0)
    return ServiceConfig(
        interval=interval,
        timeout=args.timeout,
        concurrency=args.concurrency,
        retention=args.retention
        if args.retention is not None
        else (86400.0 if args.demo else 30 * 86400.0),
        database=parse_database_url(database),
        listen=args.listen,
        enable_actions=args.enable_actions,
        token=token,
        metrics_vm_limit=max(0, args.metrics_vm_limit),
    )


async def serve(
    args: argparse.Namespace,
    *,
    stop: asyncio.Event | None = None,
    on_ready: Callable[[Service], None] | None = None,
) -> int:
    """Run the service with parsed ``args`` until ``stop`` is set (or SIGTERM/SIGINT).

    Returns:
        0 after a clean stop, 2 for configuration errors.
    """
    from aiohyperv._credentials import default_auth
    from aiohyperv.cli._inventory import read_hosts

    from ._service import Service

    def configure() -> tuple[ServiceConfig, list[ConnectionURI]]:
        # Files (hosts, token) are read off the event loop.
        return make_config(args), ([] if args.demo else read_hosts(args)[0])

    try:
        config, uris = await asyncio.to_thread(configure)
    except (ConfigError, OSError) as exc:
        sys.stderr.write(f"{PROG}: error: {exc}\n")
        return 2
    if not uris and not args.demo:
        sys.stderr.write(f"{PROG}: error: no hosts given (name URIs or --hosts-file, or --demo)\n")
        return 2
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    handled: list[signal.Signals] = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
            handled.append(sig)
    try:
        async with contextlib.AsyncExitStack() as stack:
            service: Service
            if args.demo:
                from aiohyperv.simulator._demo import (
                    FleetSpec,
                    quiet_loopback_basic_warning,
                    simulated_fleet,
                )

                from ._demo import DemoChurn

                spec = FleetSpec(hosts=args.sim_hosts, vms=args.sim_vms, seed=args.sim_seed)
                demo = await stack.enter_async_context(simulated_fleet(spec, in_process=True))
                stack.enter_context(quiet_loopback_basic_warning())
                service = Service(
                    config,
                    targets=demo.uris,
                    auth=demo.auth,
                    sample_interval=args.sample_interval,
                )
                churn = DemoChurn(demo, seed=args.sim_seed)
                log.info("demo: %d simulated hosts x %d VMs", args.sim_hosts, args.sim_vms)
            else:
                service = Service(
                    config, targets=uris, auth=default_auth(), sample_interval=args.sample_interval
                )
            try:
                await service.start()
            except (OSError, ImportError) as exc:
                raise _StartError(f"cannot start: {exc}") from exc
            except Exception as exc:  # the database drivers' own errors (sqlite3, asyncpg)
                raise _StartError(f"cannot start: {type(exc).__name__}: {exc}") from exc
            stack.push_async_callback(service.aclose)
            if args.demo:
                churn_stop = asyncio.Event()
                task = asyncio.create_task(churn.run(args.churn, churn_stop))

                async def stop_churn() -> None:
                    churn_stop.set()
                    await task

                stack.push_async_callback(stop_churn)
            if on_ready is not None:
                on_ready(service)
            await stop.wait()
            log.info("stopping")
    except (_StartError, OSError) as exc:
        sys.stderr.write(f"{PROG}: error: {exc}\n")
        return 1
    finally:
        for sig in handled:
            loop.remove_signal_handler(sig)
    return 0


def cli_main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and serve in a fresh event loop until SIGTERM/SIGINT."""
    from ._logging import configure_logging

    args = build_parser().parse_args(argv)
    configure_logging(
        json_lines=args.log_format == "json",
        level=logging.DEBUG if args.verbose else logging.INFO,
    )
    if os.name != "posix":  # pragma: no cover - signal handlers need a POSIX loop
        sys.stderr.write(f"{PROG}: note: stop with Ctrl+C\n")
    try:
        return asyncio.run(serve(args))
    except KeyboardInterrupt:
        return 130
