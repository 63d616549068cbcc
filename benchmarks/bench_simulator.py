"""How much a simulated fleet costs: startup time and memory, 50 hosts (baseline) vs 500 hosts.

Each phase generates ``hosts x 20`` VMs, starts a SimulatorServer (one socket per host), then
inventories every host once over HTTP (Identify-free: one WQL Enumerate of its VMs plus the
pulls, with a real aiohttp client and Basic auth) so the figures include serving, not just
idling.  Prints wall-clock startup, the inventory sweep, RSS growth and peak RSS.

Run: ``.venv/bin/python benchmarks/bench_simulator.py [--hosts 500] [--vms 20]``.
Targets (issue 5): 500 x 20 starts in under a few seconds and stays under 1 GiB.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import resource
import time

import aiohttp

from aiohyperv.simulator import SimulatorServer, generate_fleet
from aiohyperv.wsman import (
    Enumeration,
    Filter,
    RequestOptions,
    wildcard_uri,
)

QUERY = "SELECT * FROM Msvm_ComputerSystem WHERE Description = 'Microsoft Virtual Machine'"
HEADERS = {"Content-Type": "application/soap+xml;charset=UTF-8"}


def rss_mib() -> float:
    """Current resident set size, from /proc (Linux)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def inventory(server: SimulatorServer, concurrency: int) -> int:
    """Enumerate every host's VMs once; returns how many VMs came back."""
    auth = aiohttp.encode_basic_auth("admin", "secret")
    limit = asyncio.Semaphore(concurrency)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(url: str, namespace: str) -> int:
            async with limit:
                enum = Enumeration(
                    wildcard_uri(namespace),
                    options=RequestOptions(to=url),
                    filter=Filter.wql(QUERY),
                    max_elements=50,
                    max_pulls=100,
                )
                request: bytes | None = enum.start()
                count = 0
                while request is not None:
                    async with session.post(
                        url, data=request, headers={**HEADERS, "Authorization": auth}
                    ) as resp:
                        count += len(enum.receive(await resp.read()))
                    request = enum.next_request()
                return count

        counts = await asyncio.gather(
            *(one(url, h.namespace) for url, h in zip(server.urls, server.hosts, strict=True))
        )
    return sum(counts)


async def phase(hosts: int, vms: int, concurrency: int) -> dict[str, float]:
    gc.collect()
    before = rss_mib()
    start = time.perf_counter()
    fleet = generate_fleet(hosts, vms, seed=1)
    generated = time.perf_counter()
    server = SimulatorServer(fleet)
    await server.start()
    started = time.perf_counter()
    after_start = rss_mib()
    try:
        total = await inventory(server, concurrency)
        swept = time.perf_counter()
    finally:
        await server.aclose()
    after_sweep = rss_mib()
    assert total == hosts * vms, (total, hosts * vms)
    return {
        "hosts": hosts,
        "vms": hosts * vms,
        "generate_s": generated - start,
        "startup_s": started - start,
        "sweep_s": swept - started,
        "rss_start_mib": after_start - before,
        "rss_sweep_mib": after_sweep - before,
    }


def show(label: str, r: dict[str, float]) -> None:
    print(
        f"{label:<9} {int(r['hosts']):>5} hosts {int(r['vms']):>6} VMs | "
        f"generate {r['generate_s']:6.3f} s  startup (generate+listen) {r['startup_s']:6.3f} s | "
        f"inventory sweep {r['sweep_s']:6.2f} s | RSS +{r['rss_start_mib']:6.1f} MiB after start, "
        f"+{r['rss_sweep_mib']:6.1f} MiB after sweep"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=500)
    parser.add_argument("--vms", type=int, default=20)
    parser.add_argument("--baseline", type=int, default=50, help="hosts in the baseline phase")
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args()
    print(f"start RSS {rss_mib():.1f} MiB")
    base = await phase(args.baseline, args.vms, args.concurrency)
    show("baseline", base)
    big = await phase(args.hosts, args.vms, args.concurrency)
    show("fleet", big)
    per_host_base = base["startup_s"] / base["hosts"] * 1000
    per_host_big = big["startup_s"] / big["hosts"] * 1000
    print(
        f"startup per host: baseline {per_host_base:.2f} ms, fleet {per_host_big:.2f} ms "
        f"(ratio {per_host_big / per_host_base:.2f}; 1.0 = linear)"
    )
    print(
        f"fleet/baseline: startup x{big['startup_s'] / base['startup_s']:.1f} for "
        f"x{big['hosts'] / base['hosts']:.0f} hosts; RSS after start "
        f"x{big['rss_start_mib'] / max(base['rss_start_mib'], 0.1):.1f}"
    )
    peak = peak_rss_mib()
    print(f"peak RSS {peak:.1f} MiB (target < 1024 MiB): {'OK' if peak < 1024 else 'OVER'}")
    print(
        f"{args.hosts} x {args.vms} startup {big['startup_s']:.2f} s "
        f"(target: a few seconds): {'OK' if big['startup_s'] < 5 else 'SLOW'}"
    )


if __name__ == "__main__":
    asyncio.run(main())
