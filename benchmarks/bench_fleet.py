"""Fleet inventory benchmark: 10, 100 and 1,000 simulated hosts x 20 VMs, 25 ms per request.

Three kinds of process, so the figures are the client's own:

* a **server** process runs the simulated fleet (``aiohyperv.simulator``) with the added latency;
* a fresh **client** process per measurement runs the inventory and reports wall time, CPU time
  (``resource.getrusage(RUSAGE_SELF)``), peak RSS (``ru_maxrss``) and requests;
* this **orchestrator** starts them and prints the table.

For each fleet size the concurrent inventory (``Fleet.run(inventory_op)``) is measured in one
client process (``p1``), spread over two local worker processes (``p2``, ``Fleet(processes=2)``:
a LocalCluster scheduler in the client and two ``dask worker`` processes, whose CPU and RSS the
client's figures then include) and on a Dask cluster of two workers started by this
orchestrator (``dask2``, ``Fleet(cluster=address)``: the client's CPU is its own, the workers'
and the scheduler's are measured from ``/proc`` and shown apart, with each process's peak RSS).
The ``dask overhead`` line gives what going through Dask costs per host against ``p1``: extra
CPU of all the processes together, and extra wall time.  The best row is compared with a
baseline that
inventories the same hosts one at a time.  For fleets larger than
``--baseline-sample`` (25) hosts, that is the 100- and 1,000-host ones, the baseline is measured
on a sample of hosts and extrapolated (the output says so), which keeps the whole run under
three minutes.  The client runs with the collector settings of ``aiohyperv inventory``
(:func:`aiohyperv.fleet.tuned_gc`); the largest fleet is also run with CPython's defaults, as an
extra row (``--gc``).

The first line inventories one host alone at 250 ms per request: its wall time divided by that
latency is the number of round trips of latency a host waits for (a little over, for the
client's own CPU time).  The
simulator batches enumerations as Windows does (the first item in the Enumerate response, the
rest by Pull), so the requests and round trips are those a real host would cost.

Each size is also inventoried by pypsrp (``_pypsrp_peer.py``: the same queries and join, one
``WSMan`` per host in a thread pool of each ``--peer-threads`` size); the best pypsrp row is
compared with aiohyperv's best as ratios, and the results are checked equal (a digest of the
inventories without clocks and live counters).

On this 2-core machine the simulator shares the cores with the client, so the wall time is
bounded below by (client CPU + server CPU) / 2 whatever the process count; the table shows both.
The fleet is served by ``--server-processes`` (2) processes, each a share of it.

At the smallest size an end-to-end row compares an ``aiohyperv inventory`` process with a pypsrp
script process (``_pypsrp_peer.py``): wall time from spawn to exit, imports included.

Run: ``.venv/bin/python benchmarks/bench_fleet.py [--sizes 10,100,1000] [--latency-ms 25]
[--modes p1,p2,dask2] [--auth basic] [--concurrency 100]``.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

VMS_PER_HOST = 20
SEED = 7


# -- client process ------------------------------------------------------------------------------


async def _client(
    uris: list[str],
    concurrency: int,
    deadline: float,
    gc_mode: str = "tuned",
    processes: int = 1,
    cluster: str | None = None,
) -> dict[str, Any]:
    import contextlib
    import functools

    from _pypsrp_peer import digest

    from aiohyperv._credentials import Credentials
    from aiohyperv._transport import Limits, SessionPool
    from aiohyperv.cli._gc import tuned_gc
    from aiohyperv.fleet import Fleet
    from aiohyperv.fleet._fleet import FLEET_MAX_ENVELOPE_SIZE, FLEET_PER_HOST_CONNECTIONS
    from aiohyperv.fleet._inventory import inventory_op

    auth = Credentials(username="admin", password="secret")
    # The limits a Fleet gives its own pool, with room for every host's connection.
    limits = Limits(
        total_connections=max(1000, concurrency * FLEET_PER_HOST_CONNECTIONS),
        per_host_connections=FLEET_PER_HOST_CONNECTIONS,
        max_envelope_size=FLEET_MAX_ENVELOPE_SIZE,
    )
    # The collector settings of ``aiohyperv inventory`` (see aiohyperv.fleet.tuned_gc), unless
    # ``--gc default`` asks for CPython's own.  Worker processes copy the parent's settings.
    collector = tuned_gc() if gc_mode == "tuned" else contextlib.nullcontext()
    fleet = Fleet(
        uris,
        auth=auth,
        concurrency=concurrency,
        timeout=deadline,
        pool_factory=functools.partial(SessionPool, limits=limits),
        processes=processes,
        cluster=cluster,
    )
    with collector:
        usage0 = resource.getrusage(resource.RUSAGE_SELF)
        children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        result = await fleet.run(inventory_op)
        wall = time.perf_counter() - t0
        usage1 = resource.getrusage(resource.RUSAGE_SELF)
        children1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    # CPU of this process and of the worker processes it started (and waited for).
    cpu = sum(
        (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        for before, after in ((usage0, usage1), (children0, children1))
    )
    sys_cpu = (usage1.ru_stime - usage0.ru_stime) + (children1.ru_stime - children0.ru_stime)
    vms = sum(len(r.value.vms) for r in result.succeeded if r.value is not None)
    return {
        "hosts": len(uris),
        "succeeded": len(result.succeeded),
        "failed": len(result.failed),
        "errors": sorted({f"{type(r.error).__name__}: {r.error}" for r in result.failed})[:3],
        "vms": vms,
        "wall": wall,
        "cpu": cpu,
        "sys_cpu": sys_cpu,
        "requests": result.requests,
        # Linux reports KiB.  With worker processes: this one's peak plus each worker at the
        # largest worker's peak (getrusage gives only the largest), an upper bound.
        "maxrss_mib": (usage1.ru_maxrss + (processes if processes > 1 else 0) * children1.ru_maxrss)
        / 1024,
        "client_maxrss_mib": usage1.ru_maxrss / 1024,
        "processes": processes,
        "digest": digest([r.value for r in result.succeeded if r.value is not None]),
    }


def _run_client(
    uris: list[str],
    concurrency: int,
    timeout: float,
    gc_mode: str = "tuned",
    processes: int = 1,
    cluster: str = "",
) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(uris, handle)
        path = handle.name
    try:
        proc = subprocess.run(
            [
                sys.executable,
                __file__,
                "--client",
                path,
                str(concurrency),
                str(timeout),
                gc_mode,
                str(processes),
                cluster,
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
    finally:
        os.unlink(path)
    if proc.returncode != 0:
        raise RuntimeError(f"client failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    report: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return report


def _run_peer(uris: list[str], threads: int) -> dict[str, Any]:
    """pypsrp's inventory of ``uris`` in a fresh process (``_pypsrp_peer.py``)."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(uris, handle)
        path = handle.name
    try:
        proc = subprocess.run(
            [sys.executable, str(Path(__file__).with_name("_pypsrp_peer.py")), path, str(threads)],
            capture_output=True,
            text=True,
            check=False,
            timeout=900,
        )
    finally:
        os.unlink(path)
    if proc.returncode != 0:
        raise RuntimeError(f"pypsrp client failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    report: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return report


# -- orchestrator --------------------------------------------------------------------------------


def _cpu_seconds(pid: int) -> float:
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")


def _peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Server:
    """The simulated fleet, served by ``shards`` processes (``aiohyperv.simulator._demo``)."""

    def __init__(self, n_hosts: int, latency: float, shards: int = 2) -> None:
        from aiohyperv.simulator._demo import FleetSpec

        shards = max(1, min(shards, n_hosts))
        self.procs: list[subprocess.Popen[str]] = []
        self.uris: list[str] = []
        for shard in range(shards):
            spec = FleetSpec(
                hosts=n_hosts,
                vms=VMS_PER_HOST,
                seed=SEED,
                latency_min=latency,
                latency_max=latency,
                jitter=0.0,
                transport="http",
                shard=shard,
                shards=shards,
            )
            self.procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "aiohyperv.simulator._demo",
                        json.dumps(dataclasses.asdict(spec)),
                    ],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                )
            )
        for proc in self.procs:  # each prints its share's URIs once it serves
            assert proc.stdout is not None
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError("simulator process exited before serving")
            self.uris.extend(json.loads(line)["uris"])

    def cpu_seconds(self) -> float:
        return sum(_cpu_seconds(p.pid) for p in self.procs)

    def stop(self) -> None:
        for proc in self.procs:
            assert proc.stdin is not None
            proc.stdin.close()
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()


class DaskCluster:
    """A ``dask scheduler`` and ``workers`` ``dask worker`` processes on 127.0.0.1."""

    def __init__(self, workers: int, where: Path) -> None:
        scheduler_file = where / "scheduler.json"
        env = {k: v for k, v in os.environ.items() if "PASSWORD" not in k.upper()}
        common = ["--no-dashboard", "--host", "127.0.0.1"]
        self.scheduler = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "distributed.cli.dask_scheduler",
                "--port",
                "0",
                "--scheduler-file",
                str(scheduler_file),
                *common,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        self.workers = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "distributed.cli.dask_worker",
                    "--scheduler-file",
                    str(scheduler_file),
                    "--nthreads",
                    "1",
                    "--no-nanny",
                    *common,
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=env,
            )
            for _ in range(workers)
        ]
        from distributed import Client

        # The client waits for the scheduler file and the workers.
        with Client(scheduler_file=str(scheduler_file), timeout=120) as client:
            client.wait_for_workers(workers, timeout=120)
            self.address: str = client.scheduler.address

    def cpu(self) -> dict[str, float]:
        figures = {"scheduler": _cpu_seconds(self.scheduler.pid)}
        for n, w in enumerate(self.workers):
            figures[f"worker {n + 1}"] = _cpu_seconds(w.pid)
        return figures

    def peaks(self) -> dict[str, float]:
        figures = {"scheduler": _peak_rss_mib(self.scheduler.pid)}
        for n, w in enumerate(self.workers):
            figures[f"worker {n + 1}"] = _peak_rss_mib(w.pid)
        return figures

    def stop(self) -> None:
        for proc in [*self.workers, self.scheduler]:
            proc.terminate()
        for proc in [*self.workers, self.scheduler]:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--latency-ms", type=float, default=25.0)
    # The default of `aiohyperv inventory --concurrency`.  On 2 cores the run is CPU-bound long
    # before 100 hosts are in flight: more in flight only holds more memory (at 1,000 hosts,
    # 250 measured 1.25x the peak RSS of 100 and no less wall time).
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument(
        "--baseline-sample",
        type=int,
        default=25,
        help="fleets larger than this get their one-by-one baseline measured on this many "
        "hosts and extrapolated",
    )
    parser.add_argument(
        "--gc",
        choices=("tuned", "default", "both"),
        default="both",
        help="client garbage-collector settings: those of `aiohyperv inventory` "
        "(aiohyperv.fleet.tuned_gc), CPython's defaults, or both (the default ones for the "
        "largest fleet only, as an extra row)",
    )
    parser.add_argument(
        "--modes",
        default="p1,p2,dask2",
        help="concurrent modes to measure: pN (Fleet(processes=N)) and daskN (a cluster of N "
        "workers, Fleet(cluster=...))",
    )
    parser.add_argument(
        "--server-processes", type=int, default=2, help="processes serving the simulated fleet"
    )
    parser.add_argument(
        "--auth",
        choices=("default", "basic", "ntlm"),
        default="default",
        help="auth method in the URIs (default: the transport's default for the URI)",
    )
    parser.add_argument(
        "--peer-threads",
        default="16,64,256",
        help="thread-pool sizes to run the pypsrp peer with (its best is compared); 'none' "
        "skips the peer",
    )
    args = parser.parse_args()
    started = time.perf_counter()
    latency = args.latency_ms / 1000
    sizes = [int(s) for s in args.sizes.split(",")]
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]

    print(
        f"fleet inventory benchmark: {VMS_PER_HOST} VMs/host, {args.latency_ms:g} ms added "
        f"latency per request, concurrency {args.concurrency}, auth {args.auth}, "
        f"{args.server_processes} server processes, "
        f"client gc {args.gc}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}"
    )
    print("simulator in its own process; each client run in a fresh process (own CPU/RSS)\n")
    header = (
        f"{'hosts':>6} {'mode':<14} {'ok':>5} {'wall s':>8} {'req/host':>9} {'client CPU s':>13} "
        f"{'ms/host':>8} {'peak RSS MiB':>13} {'hosts/s':>8} {'server CPU s':>13} {'ms/host':>8}"
    )
    _round_trips(args.auth)
    print(header)
    print("-" * len(header))
    notes: list[str] = []
    for n in sizes:
        t0 = time.perf_counter()
        server = Server(n, latency, args.server_processes)
        startup = time.perf_counter() - t0
        try:
            cpu0 = server.cpu_seconds()
            uris = server.uris
            if args.auth != "default":
                uris = [
                    f"{u}&auth={args.auth}" if "?" in u else f"{u}?auth={args.auth}" for u in uris
                ]
            gc_mode = "default" if args.gc == "default" else "tuned"
            fleet: dict[str, Any] | None = None
            runs: dict[str, dict[str, Any]] = {}
            for mode in modes:
                cpu0 = server.cpu_seconds()
                if mode.startswith("dask"):
                    run = _run_on_cluster(n, mode, uris, args.concurrency, gc_mode)
                else:
                    processes = int(mode.removeprefix("p"))
                    run = _run_client(uris, args.concurrency, 120.0, gc_mode, processes)
                    run["mode"] = f"concurrent p{processes}"
                _row(n, run["mode"], run, server.cpu_seconds() - cpu0)
                runs[mode] = run
                if fleet is None or run["wall"] < fleet["wall"]:
                    fleet = run
            _dask_overhead(n, runs, notes)
            assert fleet is not None
            if args.peer_threads != "none":
                _compare_with_peer(n, uris, fleet, args.peer_threads, server, notes)
                if n == min(sizes):
                    _end_to_end(n, uris)
            if args.gc == "both" and n == max(sizes):
                cpu0 = server.cpu_seconds()
                other = _run_client(uris, args.concurrency, 120.0, "default")
                _row(n, "conc. gc=def", other, server.cpu_seconds() - cpu0)
            sample = uris[: args.baseline_sample]
            cpu0 = server.cpu_seconds()
            base = _run_client(sample, 1, 120.0, gc_mode)
            server_cpu = server.cpu_seconds() - cpu0
            scale = n / len(sample)
            label = "one-by-one" if scale == 1 else "one-by-one*"
            if scale != 1:
                notes.append(
                    f"* {n} hosts: baseline measured on {len(sample)} hosts "
                    f"({base['wall']:.2f} s wall, {base['cpu']:.2f} s client CPU) and "
                    f"extrapolated x{scale:g}; its RSS is that of the sample"
                )
                base = {**base, "wall": base["wall"] * scale, "cpu": base["cpu"] * scale}
            _row(n, label, base, server_cpu * scale)
            print(
                f"{'':>6} {'speed-up':<14} {'':>5} {base['wall'] / fleet['wall']:>7.1f}x"
                f"   (best concurrent row, {fleet['mode']}; server start {startup:.1f} s)"
            )
            for error in fleet["errors"]:
                notes.append(f"{n} hosts: {error}")
        finally:
            server.stop()
    print()
    for note in notes:
        print(note)
    print("target: 1,000 hosts < 10 s wall on 2 cores, client memory < 300 MiB")
    print(f"benchmark run time {time.perf_counter() - started:.0f} s")


#: Latency of the host the round trips are counted on: long enough that the client's own CPU
#: time (a few ms per host) hardly shows in wall time / latency.
ROUND_TRIP_LATENCY = 0.25


def _round_trips(auth: str) -> None:
    """How many round trips of latency one host's inventory waits for, measured on one host."""
    server = Server(1, ROUND_TRIP_LATENCY)
    try:
        uris = server.uris
        if auth != "default":
            uris = [f"{u}&auth={auth}" if "?" in u else f"{u}?auth={auth}" for u in uris]
        alone = _run_client(uris, 1, 120.0)
    finally:
        server.stop()
    print(
        f"round trips of latency per host: {alone['wall'] / ROUND_TRIP_LATENCY:.1f} "
        f"({alone['requests']} requests; one host alone at {ROUND_TRIP_LATENCY * 1000:.0f} ms "
        f"per request: {alone['wall']:.2f} s wall)\n"
    )


def _run_on_cluster(
    n: int, mode: str, uris: list[str], concurrency: int, gc_mode: str
) -> dict[str, Any]:
    """The inventory on a fresh Dask cluster of ``daskN`` workers; every process's figures."""
    workers = int(mode.removeprefix("dask"))
    with tempfile.TemporaryDirectory() as where:
        cluster = DaskCluster(workers, Path(where))
        try:
            before = cluster.cpu()
            run = _run_client(uris, concurrency, 120.0, gc_mode, 1, cluster.address)
            after = cluster.cpu()
            peaks = cluster.peaks()
        finally:
            cluster.stop()
    cpu = {k: after[k] - before[k] for k in after}
    run["client_cpu"] = run["cpu"]
    run["cpu"] = run["cpu"] + sum(cpu.values())  # every process that did the work
    run["maxrss_mib"] = run["client_maxrss_mib"] + sum(peaks.values())
    run["mode"] = f"dask {workers}w"
    run["detail"] = (
        f"{n} hosts, dask {workers}w: client CPU {run['client_cpu']:.2f} s, peak RSS "
        f"{run['client_maxrss_mib']:.0f} MiB; "
        + "; ".join(f"{k} CPU {cpu[k]:.2f} s, peak RSS {peaks[k]:.0f} MiB" for k in cpu)
    )
    return run


def _dask_overhead(n: int, runs: dict[str, dict[str, Any]], notes: list[str]) -> None:
    base = runs.get("p1")
    for mode, run in runs.items():
        if "detail" in run:
            notes.append(run["detail"])
        if base is None or not mode.startswith(("dask", "p")) or mode == "p1":
            continue
        print(
            f"{'':>6} {'overhead':<14} {run['mode']} vs p1: "
            f"{(run['cpu'] - base['cpu']) / n * 1000:+.1f} ms CPU/host (all processes), "
            f"{(run['wall'] - base['wall']) / n * 1000:+.1f} ms wall/host"
        )


def _compare_with_peer(
    n: int,
    uris: list[str],
    fleet: dict[str, Any],
    thread_counts: str,
    server: Server,
    notes: list[str],
) -> None:
    """pypsrp rows at each thread-pool size, then aiohyperv's best row as ratios to its best."""
    best: dict[str, Any] | None = None
    for threads in sorted({min(int(t), len(uris)) for t in thread_counts.split(",")}):
        cpu0 = server.cpu_seconds()
        peer = _run_peer(uris, threads)
        _row(n, f"pypsrp t{peer['threads']}", peer, server.cpu_seconds() - cpu0)
        if peer["digest"] != fleet["digest"]:
            notes.append(
                f"{n} hosts: pypsrp t{peer['threads']} results differ from aiohyperv's "
                f"({peer['succeeded']} hosts ok, digest {peer['digest']} vs {fleet['digest']})"
            )
        if best is None or peer["wall"] < best["wall"]:
            best = peer
    assert best is not None
    same = "identical results" if best["digest"] == fleet["digest"] else "RESULTS DIFFER"
    print(
        f"{'':>6} {'vs pypsrp':<14} {'':>5} {best['wall'] / fleet['wall']:>7.1f}x"
        f" less wall, {best['cpu'] / fleet['cpu']:.1f}x less client CPU, "
        f"peak RSS {fleet['maxrss_mib'] / best['maxrss_mib']:.2f}x pypsrp's"
        f"   (best pypsrp row t{best['threads']}; {same})"
    )


#: Runs of each side in the end-to-end comparison (interleaved; the best is printed).
END_TO_END_RUNS = 3


def _end_to_end(n: int, uris: list[str]) -> None:
    """Wall time from spawn to exit: ``aiohyperv inventory`` vs a pypsrp script process.

    Both processes import their libraries, inventory ``uris`` and exit; the CLI writes JSON to
    the null device, the pypsrp script its one-line report.  Best of END_TO_END_RUNS each.
    """
    script = Path(sys.executable).with_name("aiohyperv")
    cli = [str(script)] if script.exists() else [sys.executable, "-m", "aiohyperv.cli"]
    env = {**os.environ, "AIOHYPERV_USERNAME": "admin", "AIOHYPERV_PASSWORD": "secret"}
    # Both sides start from cached bytecode, as installed packages do (pip compiles them at
    # install time).  With PYTHONDONTWRITEBYTECODE set, an editable source tree such as this
    # checkout would be compiled again at every start (about 60 ms for the CLI) while pypsrp,
    # installed by pip, would not.  The first of the best-of runs writes the cache.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(uris, handle)
        path = handle.name
    commands = {
        "aiohyperv": [*cli, "inventory", "--format", "json", "-o", os.devnull, *uris],
        "pypsrp": [
            sys.executable,
            str(Path(__file__).with_name("_pypsrp_peer.py")),
            path,
            str(len(uris)),
        ],
    }
    best = dict.fromkeys(commands, float("inf"))
    try:
        for _ in range(END_TO_END_RUNS):
            for label, command in commands.items():
                t0 = time.perf_counter()
                subprocess.run(command, env=env, capture_output=True, check=True, timeout=300)
                best[label] = min(best[label], time.perf_counter() - t0)
    finally:
        os.unlink(path)
    print(
        f"{n:>6} {'end to end':<14} {'':>5} {best['aiohyperv']:>8.2f}   aiohyperv inventory "
        f"process, spawn to exit; pypsrp script process {best['pypsrp']:.2f} s: "
        f"{best['pypsrp'] / best['aiohyperv']:.2f}x  (best of {END_TO_END_RUNS})"
    )


def _row(n: int, mode: str, r: dict[str, Any], server_cpu: float) -> None:
    per_host = r["requests"] / r["succeeded"] if r["succeeded"] else 0.0
    print(
        f"{n:>6} {mode:<14} {r['succeeded']:>5} {r['wall']:>8.2f} {per_host:>9.1f} "
        f"{r['cpu']:>13.2f} {r['cpu'] / n * 1000:>8.1f} {r['maxrss_mib']:>13.1f} "
        f"{n / r['wall']:>8.0f} {server_cpu:>13.2f} {server_cpu / n * 1000:>8.1f}"
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--client":
        uris = json.loads(Path(sys.argv[2]).read_text())
        report = asyncio.run(
            _client(
                uris,
                int(sys.argv[3]),
                float(sys.argv[4]),
                sys.argv[5],
                int(sys.argv[6]),
                sys.argv[7] or None,
            )
        )
        sys.stdout.write(json.dumps(report) + "\n")
    else:
        main()
