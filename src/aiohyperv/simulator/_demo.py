"""The embedded demo fleet: simulated Hyper-V hosts served in the background.

``aiohyperv inventory`` with no host starts one, inventories it and stops it, so the project's
first command needs no Windows server.  The hosts run a mix of Windows releases including
2008 R2 and answer with a per-host latency of 5-30 ms, so the run behaves like a real fleet.

By default the fleet is served from a child process (``python -m aiohyperv.simulator._demo``), so
the simulator's CPU does not compete with the client's event loop and the split is what a real
deployment looks like; the benchmark uses the same child.  ``in_process=True`` serves it from
the running loop instead and exposes the :class:`~aiohyperv.simulator.SimulatedHost` objects,
for tests that change hosts while they serve.

Child protocol: the parent passes a JSON :class:`FleetSpec` as the only argument; the child
prints one JSON line ``{"uris": [...]}`` once it serves, and stops when its stdin closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import json
import logging
import random
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from .._credentials import Credentials
from .._exceptions import HyperVError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from . import SimulatedHost, SimulatorServer

__all__ = ["DemoFleet", "FleetSpec", "quiet_loopback_basic_warning", "simulated_fleet"]

#: The display languages of the demo fleet: mostly English, some German, Japanese and Chinese
#: hosts, as a multinational estate has (a client that reads English texts misses their VMs).
DEMO_LOCALE_MIX = {"en-US": 7.0, "de-DE": 1.0, "ja-JP": 1.0, "zh-CN": 1.0}

_START_TIMEOUT = 60.0
_STOP_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True, kw_only=True)
class FleetSpec:
    """What simulated fleet to serve.

    Attributes:
        hosts: How many hosts.
        vms: VMs on each.
        seed: Makes the fleet (names, OS mix, VMs, latencies) the same every run.
        latency_min / latency_max: Each host answers after a fixed delay drawn from this range
            (seconds); ``jitter`` adds up to that much more per request.
        transport: ``"http"`` or ``"https"`` (self-signed; the URIs carry ``no_verify=1``).
        failing: Make this many hosts (the last ones) fail: wrong password, WMI fault,
            connection refused, in turn.
        username / password: What the hosts accept.
        shard / shards: Serve only share ``shard`` of ``shards`` (consecutive hosts) of the
            fleet, so that several processes can serve one fleet between them.
    """

    hosts: int = 50
    vms: int = 20
    seed: int = 2024
    latency_min: float = 0.005
    latency_max: float = 0.030
    jitter: float = 0.002
    transport: Literal["http", "https"] = "http"
    failing: int = 0
    username: str = "admin"
    password: str = dataclasses.field(default="secret", repr=False)
    shard: int = 0
    shards: int = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoFleet:
    """A running simulated fleet: where it listens and how to log in.

    ``hosts`` holds the simulated hosts when the fleet runs in this process, else it is empty.
    """

    uris: list[str]
    auth: Credentials
    hosts: list[SimulatedHost]


class _LoopbackBasicFilter(logging.Filter):
    """Drop the transport's "Basic over plain HTTP" warning for 127.0.0.1 hosts only."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not str(record.msg).startswith("Basic authentication to"):
            return True
        args = record.args if isinstance(record.args, tuple) else ()
        return not (args and str(args[0]).startswith("127.0.0.1:"))


@contextlib.contextmanager
def quiet_loopback_basic_warning() -> Iterator[None]:
    """Silence the plain-HTTP Basic warning for the demo's loopback hosts, for a while.

    The simulated fleet listens on 127.0.0.1 only, so the password never leaves the machine;
    fifty identical warnings would only bury the demo's output.  Other hosts still warn.
    """
    log = logging.getLogger("aiohyperv")
    quiet = _LoopbackBasicFilter()
    log.addFilter(quiet)
    try:
        yield
    finally:
        log.removeFilter(quiet)


def _build(spec: FleetSpec) -> SimulatorServer:
    from . import SimulatorServer, generate_fleet

    hosts = generate_fleet(
        spec.hosts,
        spec.vms,
        seed=spec.seed,
        username=spec.username,
        password=spec.password,
        locale_mix=DEMO_LOCALE_MIX,
    )
    rng = random.Random(f"aiohyperv-demo:{spec.seed}")
    for host in hosts:
        host.faults.latency = rng.uniform(spec.latency_min, spec.latency_max)
        host.faults.jitter = spec.jitter
    failing = hosts[len(hosts) - spec.failing :] if spec.failing else []
    for index, host in enumerate(failing):
        kind = index % 3
        if kind == 0:
            host.faults.unauthorized = True
        elif kind == 1:
            host.faults.fault_rate = 1.0
        else:
            host.faults.refuse_connections = True
    share = slice(
        len(hosts) * spec.shard // spec.shards, len(hosts) * (spec.shard + 1) // spec.shards
    )
    return SimulatorServer(hosts[share], transport=spec.transport)


@contextlib.asynccontextmanager
async def simulated_fleet(
    spec: FleetSpec | None = None, *, in_process: bool = False
) -> AsyncIterator[DemoFleet]:
    """Serve a simulated fleet on 127.0.0.1 for the duration of the ``async with``.

    Args:
        spec: The fleet; the default is the demo's 50 hosts x 20 VMs.
        in_process: Serve from this event loop rather than a child process.

    Raises:
        HyperVError: The child process did not start serving.
    """
    spec = spec or FleetSpec()
    auth = Credentials(username=spec.username, password=spec.password)
    if in_process:
        server = _build(spec)
        async with server:
            yield DemoFleet(uris=server.uris, auth=auth, hosts=server.hosts)
        return
    async with _child(spec) as uris:
        yield DemoFleet(uris=uris, auth=auth, hosts=[])


@contextlib.asynccontextmanager
async def _child(spec: FleetSpec) -> AsyncIterator[list[str]]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "aiohyperv.simulator._demo",
        json.dumps(dataclasses.asdict(spec)),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    try:
        try:
            async with asyncio.timeout(_START_TIMEOUT):
                line = await proc.stdout.readline()
        except TimeoutError:
            line = b""
        if not line:
            proc.stdin.close()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(_STOP_TIMEOUT):
                    await proc.wait()
            detail = (await proc.stderr.read()).decode(errors="replace").strip()
            raise HyperVError(
                "the simulated fleet did not start"
                + (f": {detail.splitlines()[-1]}" if detail else "")
            )
        yield list(json.loads(line)["uris"])
    finally:
        if proc.returncode is None:
            proc.stdin.close()
            try:
                async with asyncio.timeout(_STOP_TIMEOUT):
                    await proc.wait()
            except TimeoutError:
                proc.kill()
                await proc.wait()
            except asyncio.CancelledError:
                proc.kill()
                await asyncio.shield(proc.wait())
                raise
        await proc.stderr.read()  # drain, so the pipe transport closes cleanly


def _tune_gc() -> None:
    """Garbage-collector settings for the serving child process (this process only).

    Everything built so far (the fleet, its sockets, the imported modules) lives until the
    process exits, so it is moved out of the collector's sight (``gc.freeze``); requests then
    leave little cyclic garbage behind, so collections can be rarer.  With the defaults a
    thousand-host fleet spent about a fifth of its CPU in the collector re-scanning the fleet
    (and building it, with the collector on, took seconds of collections of a growing heap).
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    gc.enable()


async def _serve_child(spec: FleetSpec) -> None:
    # Clients cancel requests on purpose (deadlines); the simulated hosts need not log that.
    logging.getLogger("aiohttp").setLevel(logging.CRITICAL)
    logging.getLogger("aiohyperv").setLevel(logging.ERROR)
    loop = asyncio.get_running_loop()
    gc.disable()  # building a big fleet is all allocations and no garbage; see _tune_gc
    async with _build(spec) as server:
        server.warm()  # a served fleet answers from state it holds, like real hosts
        _tune_gc()
        sys.stdout.write(json.dumps({"uris": server.uris}) + "\n")
        sys.stdout.flush()
        await loop.run_in_executor(None, sys.stdin.buffer.read)  # until the parent closes it


def _main(argv: list[str]) -> int:
    spec = FleetSpec(**json.loads(argv[0])) if argv else FleetSpec()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve_child(spec))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
