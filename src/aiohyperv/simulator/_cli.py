"""``aiohyperv simulate``: serve a simulated fleet until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import subprocess
import sys
from typing import TYPE_CHECKING

from aiohyperv._exceptions import ConfigError
from aiohyperv.simulator._auth import CertificateMapping
from aiohyperv.simulator._host import AUTH_DEFAULTS
from aiohyperv.simulator._locale import LOCALES
from aiohyperv.simulator._server import SimulatorServer, generate_fleet

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["build_parser", "cli_main"]


def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    """The ``simulate`` options (pass a subparser to add them to a larger CLI)."""
    parser = parser or argparse.ArgumentParser(
        prog="aiohyperv simulate",
        description="Serve simulated Hyper-V hosts over WS-Management until interrupted.",
    )
    parser.add_argument("--hosts", type=int, default=1, help="number of hosts (default 1)")
    parser.add_argument("--vms", type=int, default=5, help="VMs per host (default 5)")
    parser.add_argument("--listen", default="127.0.0.1", help="address (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=0, help="first port; host i uses port+i (default: free ports)"
    )
    parser.add_argument("--transport", choices=("http", "https"), default="http")
    parser.add_argument("--username", default="admin")
    parser.add_argument(
        "--password",
        default="secret",
        help="the account's password, for Basic and NTLM (default: secret)",
    )
    auth = parser.add_argument_group(
        "authentication",
        "What each host's WinRM listener accepts.  NTLM (through Negotiate, sealed with "
        "WinRM message encryption over HTTP) is always on.",
    )
    auth.add_argument(
        "--auth-defaults",
        choices=tuple(AUTH_DEFAULTS),
        default="lab",
        help="lab (default): Basic and unencrypted HTTP bodies accepted; windows: like a "
        "fresh Windows Server, both refused (NTLM with message encryption or HTTPS needed)",
    )
    auth.add_argument(
        "--no-basic",
        dest="allow_basic",
        action="store_false",
        default=None,
        help="refuse Basic authentication (Service/Auth/Basic=false)",
    )
    auth.add_argument(
        "--no-unencrypted",
        dest="allow_unencrypted",
        action="store_false",
        default=None,
        help="refuse plaintext bodies over HTTP (Service/AllowUnencrypted=false)",
    )
    auth.add_argument(
        "--client-ca",
        metavar="PEM",
        help="HTTPS: ask for client certificates issued by this CA (certificate auth)",
    )
    auth.add_argument(
        "--map-cert",
        metavar="SUBJECT",
        action="append",
        default=[],
        help="HTTPS: map client certificates with this UPN, e-mail or CN ('*': any verified "
        "certificate) to --username; repeatable; needs --client-ca",
    )
    parser.add_argument(
        "--batching",
        choices=("windows", "full"),
        default="windows",
        help="windows (default): an optimized Enumerate answers with the first item only and "
        "Pulls fill the envelope, as Windows does; full: every answer up to MaxElements items",
    )
    parser.add_argument(
        "--locale",
        choices=(*LOCALES, "mixed"),
        default="en-US",
        help="the hosts' display language (Caption, Description, fault texts); mixed: drawn "
        "per host from all of them (default en-US)",
    )
    parser.add_argument(
        "--latency-ms", type=float, default=0.0, help="added latency per request, milliseconds"
    )
    parser.add_argument("--seed", type=int, default=0, help="generation seed (default 0)")
    parser.add_argument(
        "--job-ms", type=float, default=100.0, help="simulated job duration (default 100 ms)"
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        metavar="N",
        help="serve the fleet from N processes, each a consecutive share of the hosts (the same "
        "fleet and ports as one process), so that serving is not bound to one core",
    )
    # One share of a --processes fleet: "I/N" (set by the parent for its children).
    parser.add_argument("--shard", type=_shard, default=(0, 1), help=argparse.SUPPRESS)
    return parser


def _shard(text: str) -> tuple[int, int]:
    index, _, count = text.partition("/")
    try:
        shard = (int(index), int(count))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected I/N: {text!r}") from None
    if not 0 <= shard[0] < shard[1]:
        raise argparse.ArgumentTypeError(f"expected 0 <= I < N: {text!r}")
    return shard


def shard_range(hosts: int, index: int, count: int) -> range:
    """The hosts (consecutive indexes) share ``index`` of ``count`` serves."""
    return range(hosts * index // count, hosts * (index + 1) // count)


def _accepted(allow_basic: bool, allow_unencrypted: bool, https: bool, certs: bool) -> str:
    methods = ["Negotiate (NTLM)"]
    if allow_basic:
        methods.append("Basic")
    if certs:
        methods.append("client certificates")
    text = "auth: " + ", ".join(methods)
    if not https:
        text += "; unencrypted HTTP bodies " + (
            "accepted" if allow_unencrypted else "refused (NTLM must seal: ?auth=ntlm)"
        )
    return text


def _read_client_ca(args: argparse.Namespace) -> bytes | None:
    if args.map_cert and not args.client_ca:
        raise ConfigError("--map-cert needs --client-ca (the CA that issues client certificates)")
    if not args.client_ca:
        return None
    if args.transport != "https":
        raise ConfigError("--client-ca needs --transport https")
    try:
        with open(args.client_ca, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise ConfigError(f"cannot read --client-ca {args.client_ca}: {exc.strerror}") from None


async def _serve(
    args: argparse.Namespace,
    stop: asyncio.Event | None = None,
    *,
    client_ca: bytes | None = None,
) -> int:
    mappings = [CertificateMapping(subject=s, username=args.username) for s in args.map_cert]
    hosts = generate_fleet(
        args.hosts,
        args.vms,
        seed=args.seed,
        username=args.username,
        password=args.password,
        job_duration=args.job_ms / 1000.0,
        auth_defaults=args.auth_defaults,
        allow_basic=args.allow_basic,
        allow_unencrypted=args.allow_unencrypted,
        client_certificates=mappings,
        batching=args.batching,
        locale_mix=dict.fromkeys(LOCALES, 1.0) if args.locale == "mixed" else {args.locale: 1.0},
    )
    for host in hosts:
        host.faults.latency = args.latency_ms / 1000.0
    share = shard_range(len(hosts), *args.shard)
    hosts = hosts[share.start : share.stop]
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    async with SimulatorServer(
        hosts,
        listen=args.listen,
        port=args.port + share.start if args.port else 0,
        transport=args.transport,
        client_ca_pem=client_ca,
    ) as server:
        for uri, host in zip(server.uris, hosts, strict=True):
            print(
                f"{uri}  # {host.spec.name} Windows Server {host.spec.os}, {len(host.vms)} VMs"
                + ("" if host.spec.locale == "en-US" else f", {host.spec.locale}")
            )
        spec = hosts[0].spec if hosts else None
        if spec is not None:
            https = args.transport == "https"
            print(_accepted(spec.allow_basic, spec.allow_unencrypted, https, bool(mappings)))
            # A throwaway lab account chosen on this command line: say it, so the URIs above
            # can be used at once (AIOHYPERV_PASSWORD=... aiohyperv -c URI list).
            print(f"credentials: user {args.username!r}, password {args.password!r}")
        print(f"serving {len(hosts)} simulated hosts; Ctrl+C to stop", flush=True)
        await stop.wait()
    return 0


def cli_main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``aiohyperv simulate``: print every host's URI, serve until interrupted.

    Returns:
        The process exit status.
    """
    args = build_parser().parse_args(argv)
    if args.processes > 1 and args.shard == (0, 1):
        return _serve_from_processes(list(argv if argv is not None else sys.argv[1:]), args)
    try:
        client_ca = _read_client_ca(args)
        return asyncio.run(_serve(args, client_ca=client_ca))
    except ConfigError as exc:
        print(f"aiohyperv simulate: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        text = exc.strerror or str(exc)
        message = text if text.startswith("cannot listen on") else f"cannot listen: {exc}"
        print(f"aiohyperv simulate: {message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0


def _serve_from_processes(argv: list[str], args: argparse.Namespace) -> int:
    """Start one child per share of the fleet, print their URIs in fleet order, wait.

    Each child is this command with ``--shard I/N``: it builds the whole (seeded) fleet and
    serves its consecutive share, so the URIs, ports and hosts are those of one process.
    """
    count = min(args.processes, max(1, args.hosts))
    children: list[subprocess.Popen[str]] = []
    code = "import sys; from aiohyperv.simulator._cli import cli_main; sys.exit(cli_main())"
    try:
        for index in range(count):
            children.append(
                subprocess.Popen(
                    [sys.executable, "-c", code, *argv, "--shard", f"{index}/{count}"],
                    stdout=subprocess.PIPE,
                    text=True,
                )
            )
        summary = ""
        for child in children:
            assert child.stdout is not None
            for line in child.stdout:  # its URIs, its auth line, then "serving ..."
                if line.startswith("serving "):
                    break
                if line.startswith("hyperv://"):
                    print(line, end="")
                else:
                    summary = line
            else:
                print("aiohyperv simulate: a serving process exited", file=sys.stderr)
                return 1
        print(summary, end="")
        print(
            f"serving {args.hosts} simulated hosts from {count} processes; Ctrl+C to stop",
            flush=True,
        )
        with contextlib.suppress(NotImplementedError, ValueError, AttributeError):
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        for child in children:
            child.wait()
        return 0
    finally:
        for child in children:
            if child.poll() is None:
                child.terminate()
        for child in children:
            child.wait()
            if child.stdout is not None:
                child.stdout.close()
