"""xml_desc() and info() for 100 VMs on one host at 10 ms latency: concurrent vs one-at-a-time.

Serves one simulated Windows Server 2019 host on 127.0.0.1 (every answer delayed by
``--latency-ms``), connects with the driver and times three ways of describing every VM:

* ``serial``: one VM at a time, and inside each call the independent queries one after another
  too (:func:`_one_at_a_time` in place of ``conn.gather``) -- what a naive port of libvirt's
  driver does;
* ``one-at-a-time``: one VM at a time, each call fetching its settings classes concurrently;
* ``concurrent``: every VM at once (``asyncio.gather``), bounded by the pool's per-host limits.

Each figure is the best of ``--repeat`` runs.  The ratio is one-at-a-time / concurrent.

The simulator runs in a child process by default, so its CPU time (WQL evaluation, XML
building) does not stall the client's event loop; ``--in-process`` serves it from the same loop,
which on a small machine measures mostly the simulator.

    .venv/bin/python benchmarks/bench_driver.py [--vms 100] [--latency-ms 10] [--repeat 3]
        [--per-host-operations 8] [--per-host-connections 4] [--in-process]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import inspect
import sys
import time
from typing import TYPE_CHECKING, Any
from unittest import mock

from aiohyperv._credentials import Credentials
from aiohyperv._transport import Limits, SessionPool
from aiohyperv.hyperv import connect
from aiohyperv.testing import HostSpec, run_simulator

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

    from aiohyperv.hyperv import Domain, HyperVConnection

AUTH = Credentials(username="admin", password="secret")

_CHILD = """
import asyncio, sys
from aiohyperv.simulator import SimulatorServer
from aiohyperv.testing import HostSpec, SimulatedHost

async def serve(vms, latency):
    host = SimulatedHost.generate(HostSpec(name="hv01", os="2019", vms=vms, seed=1))
    host.faults.latency = latency
    async with SimulatorServer([host]) as server:
        print(server.uris[0], flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)

asyncio.run(serve(int(sys.argv[1]), float(sys.argv[2])))
"""


async def _one_at_a_time(*aws: Awaitable[Any]) -> list[Any]:
    """``HyperVConnection.gather`` as a naive driver would do it: one query after another."""
    results: list[Any] = []
    try:
        for aw in aws:
            results.append(await aw)
    except BaseException:
        for rest in aws[len(results) + 1 :]:
            if inspect.iscoroutine(rest):
                rest.close()
        raise
    return results


@contextlib.asynccontextmanager
async def _simulator(args: argparse.Namespace) -> AsyncIterator[str]:
    """One simulated 2019 host; yields its URI.  Stopped when the block ends."""
    latency = args.latency_ms / 1000
    if args.in_process:
        async with run_simulator(HostSpec(name="hv01", os="2019", vms=args.vms, seed=1)) as sim:
            sim.hosts[0].faults.latency = latency
            yield sim.uris[0]
        return
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _CHILD, str(args.vms), str(latency),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stdin is not None
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), 60)
        if not line:
            raise RuntimeError("the simulator process did not start")
        yield line.decode().strip()
    finally:
        proc.stdin.close()  # the child exits when its stdin closes
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            proc.kill()
            await proc.wait()


async def _timed(
    conn: HyperVConnection, run: Callable[[], Awaitable[object]], repeat: int
) -> tuple[float, int]:
    best = float("inf")
    requests = 0
    for _ in range(repeat):
        before = conn.session.stats.requests
        start = time.perf_counter()
        await run()
        best = min(best, time.perf_counter() - start)
        requests = conn.session.stats.requests - before
    return best, requests


async def bench(args: argparse.Namespace) -> None:
    limits = Limits(
        per_host_operations=args.per_host_operations,
        per_host_connections=args.per_host_connections,
    )
    async with _simulator(args) as uri, SessionPool(limits=limits) as pool:
        async with connect(uri, auth=AUTH, pool=pool, read_only=True) as conn:
            domains = await conn.list_domains()
            assert len(domains) == args.vms
            await domains[0].xml_desc()  # warm up: connections, switch cache
            print(
                f"{args.vms} VMs on one host, {args.latency_ms:g} ms latency, "
                f"per-host limits: {args.per_host_operations} operations / "
                f"{args.per_host_connections} connections; best of {args.repeat}; simulator "
                f"{'in this process' if args.in_process else 'in a child process'}"
            )
            print(f"{'operation':<10} {'mode':<14} {'seconds':>8} {'requests':>9} {'VMs/s':>8}")
            for name, op in (
                ("xml_desc", lambda d: d.xml_desc()),
                ("info", lambda d: d.info()),
            ):
                results: dict[str, float] = {}

                def serial_run(op: Callable[[Domain], Awaitable[object]] = op) -> Awaitable[None]:
                    async def go() -> None:
                        with mock.patch.object(conn, "gather", _one_at_a_time):
                            for d in domains:
                                await op(d)

                    return go()

                def one_run(op: Callable[[Domain], Awaitable[object]] = op) -> Awaitable[None]:
                    async def go() -> None:
                        for d in domains:
                            await op(d)

                    return go()

                def concurrent_run(
                    op: Callable[[Domain], Awaitable[object]] = op,
                ) -> Awaitable[list[object]]:
                    return asyncio.gather(*(op(d) for d in domains))

                for mode, run in (
                    ("serial", serial_run),
                    ("one-at-a-time", one_run),
                    ("concurrent", concurrent_run),
                ):
                    seconds, requests = await _timed(conn, run, args.repeat)
                    results[mode] = seconds
                    print(
                        f"{name:<10} {mode:<14} {seconds:8.3f} {requests:9d} "
                        f"{args.vms / seconds:8.1f}"
                    )
                print(
                    f"{name:<10} ratio one-at-a-time/concurrent = "
                    f"{results['one-at-a-time'] / results['concurrent']:.1f}x, "
                    f"serial/concurrent = {results['serial'] / results['concurrent']:.1f}x"
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vms", type=int, default=100)
    parser.add_argument("--latency-ms", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--per-host-operations", type=int, default=8)
    parser.add_argument("--per-host-connections", type=int, default=4)
    parser.add_argument("--in-process", action="store_true", help="serve from the same loop")
    asyncio.run(bench(parser.parse_args()))


if __name__ == "__main__":
    main()
