"""Soak: steady concurrent operations against simulated hosts with faults injected, for a while.

Bounded (default 3 minutes) and loopback only.  One process runs a simulated fleet and the
client; workers loop over random operations on random hosts -- WS-Man Get/Enumerate/Identify
through a shared ``SessionPool``, driver calls through ``connect(pool=...)``, enumerations
abandoned half way (Release), operations cancelled mid-flight, and now and then a whole fleet
inventory -- while a rotating quarter of the hosts misbehave: connection resets, 500 faults,
truncated XML, forced 401s, refused connections, stalls past the read timeout, Pull timeouts.

Every ``--sample`` seconds it prints RSS, open file descriptors, asyncio tasks, pool gauges and
the operations that succeeded or failed.  At the end it checks, and exits non-zero otherwise:

* memory is flat: RSS at the end is within ``--rss-slack-mb`` of the lowest sample after warm-up;
* file descriptors and tasks return to where they were before the run;
* no error is swallowed: every operation is counted as ok, failed (by exception type) or
  cancelled, and ``started == ok + failed + cancelled``; no exception outside ``HyperVError``
  (a bug) and no operation hung past its guard.

Run::

    .venv/bin/python benchmarks/soak.py                 # 3 minutes
    .venv/bin/python benchmarks/soak.py --seconds 30 --sample 5
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import dataclasses
import gc
import logging
import os
import random
import sys
import time
import traceback
from typing import TYPE_CHECKING, Any

from aiohyperv._config import parse_uri
from aiohyperv._credentials import Credentials
from aiohyperv._exceptions import HyperVError
from aiohyperv._transport import Limits, RetryPolicy, SessionPool, Timeouts
from aiohyperv.cim import CimInstance
from aiohyperv.fleet import Fleet, inventory_op
from aiohyperv.hyperv import connect
from aiohyperv.simulator import SimulatorServer, generate_fleet
from aiohyperv.wsman import Filter, resource_uri, wildcard_uri

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from aiohyperv.simulator import SimulatedHost

PASSWORD = "soak-secret"
CREDS = Credentials(username="admin", password=PASSWORD)
FAULT_KINDS = ("reset", "fault", "bad-xml", "401", "refuse", "stall", "pull-timeout", "slow")


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@dataclasses.dataclass
class Counts:
    started: int = 0
    ok: int = 0
    cancelled: int = 0
    failed: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)
    unexpected: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)
    hung: int = 0
    by_op: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)

    @property
    def failures(self) -> int:
        return sum(self.failed.values()) + sum(self.unexpected.values()) + self.hung

    def reconciles(self) -> bool:
        return self.started == self.ok + self.failures + self.cancelled


@dataclasses.dataclass
class Sample:
    t: float
    rss: float
    fds: int
    tasks: int
    connections: int
    in_flight: int
    ok: int
    failed: int


@dataclasses.dataclass
class Report:
    samples: list[Sample]
    counts: Counts
    fds_before: int
    fds_after: int
    tasks_before: int
    tasks_after: int
    rss_growth: float
    flat: bool
    ok: bool
    problems: list[str]


class Soak:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.rng = random.Random(args.seed)
        self.counts = Counts()
        self.stop = asyncio.Event()
        self.hosts: list[SimulatedHost] = []
        self.server: SimulatorServer | None = None
        self.pool: SessionPool | None = None
        self.uris: list[str] = []
        self.faulty: dict[int, str] = {}

    # -- operations ----------------------------------------------------------------------------
    def _session(self, i: int) -> Any:
        assert self.pool is not None
        return self.pool.session(parse_uri(self.uris[i]), CREDS)

    async def op_identify(self, i: int) -> None:
        await self._session(i).identify()

    async def op_get(self, i: int) -> None:
        host = self.hosts[i]
        guid = self.rng.choice(list(host.vms))
        await self._session(i).get(
            resource_uri(host.namespace, "Msvm_ComputerSystem"),
            {"CreationClassName": "Msvm_ComputerSystem", "Name": guid},
        )

    async def op_enumerate(self, i: int) -> None:
        query = Filter.wql("SELECT * FROM Msvm_ComputerSystem")
        async with self._session(i).enumerate(
            wildcard_uri(self.hosts[i].namespace), filter=query, max_elements=2
        ) as items:
            async for _ in items:
                pass

    async def op_enumerate_break(self, i: int) -> None:
        """Stop after the first item: the open context must be released."""
        query = Filter.wql("SELECT * FROM Msvm_ComputerSystem")
        async with self._session(i).enumerate(
            wildcard_uri(self.hosts[i].namespace), filter=query, max_elements=1
        ) as items:
            async for item in items:
                assert isinstance(item, CimInstance)
                break

    async def op_driver(self, i: int) -> None:
        async with connect(self.uris[i], auth=CREDS, pool=self.pool, job_timeout=5) as conn:
            for dom in (await conn.list_domains())[:2]:
                await dom.info()

    async def op_lookup(self, i: int) -> None:
        async with connect(self.uris[i], auth=CREDS, pool=self.pool) as conn:
            names = [vm.name for vm in self.hosts[i].vms.values()]
            await conn.lookup_domain_by_name(self.rng.choice(names))

    async def op_cancelled(self, i: int) -> None:
        """An operation cancelled after a random few milliseconds (a caller's own timeout)."""
        async with asyncio.timeout(self.rng.uniform(0.001, 0.03)):
            await self.op_driver(i)

    async def op_fleet(self, _i: int) -> None:
        result = await Fleet(
            self.uris, auth=CREDS, concurrency=16, timeout=self.args.op_guard / 2, pool=self.pool
        ).run(inventory_op)
        for r in result:
            if r.error is not None and not isinstance(r.error, HyperVError):
                raise r.error  # counted as unexpected by the caller

    def operations(self) -> list[tuple[str, Callable[[int], Awaitable[None]], int]]:
        return [
            ("identify", self.op_identify, 3),
            ("get", self.op_get, 3),
            ("enumerate", self.op_enumerate, 3),
            ("enumerate-break", self.op_enumerate_break, 2),
            ("driver", self.op_driver, 3),
            ("lookup", self.op_lookup, 2),
            ("cancelled", self.op_cancelled, 1),
        ]

    async def worker(self) -> None:
        ops = self.operations()
        names, funcs, weights = zip(*ops, strict=True)
        table = dict(zip(names, funcs, strict=True))
        while not self.stop.is_set():
            name = self.rng.choices(names, weights)[0]
            if self.rng.random() < self.args.fleet_rate:
                name = "fleet"
            func = self.op_fleet if name == "fleet" else table[name]
            await self.run_one(name, func, self.rng.randrange(len(self.hosts)))

    async def run_one(self, name: str, func: Callable[[int], Awaitable[None]], i: int) -> None:
        counts = self.counts
        counts.started += 1
        counts.by_op[name] += 1
        guard = asyncio.timeout(self.args.op_guard)
        try:
            async with guard:
                await func(i)
        except HyperVError as exc:
            counts.failed[type(exc).__name__] += 1
        except TimeoutError:
            if guard.expired():
                counts.hung += 1
                print(f"HUNG: {name} on host {i} passed its {self.args.op_guard}s guard")
            else:
                counts.cancelled += 1  # op_cancelled's own timeout: the expected outcome
        except Exception as exc:
            counts.unexpected[type(exc).__name__] += 1
            print(f"UNEXPECTED in {name} on host {i}:", file=sys.stderr)
            traceback.print_exception(exc, file=sys.stderr)
        else:
            counts.ok += 1

    # -- faults --------------------------------------------------------------------------------
    def _inject(self, host: SimulatedHost, kind: str) -> None:
        f = host.faults
        if kind == "reset":
            f.reset_rate = 0.5
        elif kind == "fault":
            f.fault_rate = 0.5
        elif kind == "bad-xml":
            f.bad_xml_rate = 0.5
        elif kind == "401":
            f.unauthorized = True
        elif kind == "refuse":
            f.refuse_connections = True
        elif kind == "stall":
            f.latency = self.args.read_timeout + 1.0
        elif kind == "pull-timeout":
            f.pull_timeout_rate = 0.5
        elif kind == "slow":
            f.latency, f.jitter, f.slow_body = 0.02, 0.05, 0.05

    async def rotate_faults(self) -> None:
        assert self.server is not None
        while not self.stop.is_set():
            for host in self.hosts:
                host.faults.reset()
            count = max(1, int(len(self.hosts) * self.args.fault_share))
            chosen = self.rng.sample(range(len(self.hosts)), count)
            self.faulty = {i: FAULT_KINDS[n % len(FAULT_KINDS)] for n, i in enumerate(chosen)}
            for i, kind in self.faulty.items():
                self._inject(self.hosts[i], kind)
            await self.server.apply_faults()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), self.args.rotate)
        for host in self.hosts:
            host.faults.reset()
        await self.server.apply_faults()

    # -- the run -------------------------------------------------------------------------------
    def sample(self, t0: float) -> Sample:
        assert self.pool is not None
        stats = self.pool.stats
        return Sample(
            t=time.monotonic() - t0,
            rss=rss_mb(),
            fds=open_fds(),
            tasks=len(asyncio.all_tasks()),
            connections=stats.connections,
            in_flight=stats.in_flight,
            ok=self.counts.ok,
            failed=self.counts.failures,
        )

    def print_sample(self, s: Sample, previous: Sample | None) -> None:
        span = s.t - (previous.t if previous else 0.0)
        done = (s.ok + s.failed) - ((previous.ok + previous.failed) if previous else 0)
        top = ", ".join(f"{k} {v}" for k, v in self.counts.failed.most_common(4))
        print(
            f"{s.t:7.1f} {s.rss:8.1f} {s.fds:5d} {s.tasks:6d} {s.connections:6d} "
            f"{s.in_flight:8d} {done / max(span, 1e-9):7.0f} {s.ok:8d} {s.failed:7d}  {top}",
            flush=True,
        )

    async def run(self) -> Report:
        # The library's warnings (Basic over HTTP...) are expected here, and the simulator's
        # side of a request the client cancelled or reset ("cannot write to closing
        # transport") is not a client error: keep both off the report, then restore them.
        quiet = {"aiohyperv": logging.ERROR, "aiohttp.server": logging.CRITICAL}
        saved = {name: logging.getLogger(name).level for name in quiet}
        for name, level in quiet.items():
            logging.getLogger(name).setLevel(level)
        try:
            return await self._run()
        finally:
            for name, level in saved.items():
                logging.getLogger(name).setLevel(level)

    async def _run(self) -> Report:
        args = self.args
        gc.collect()
        await asyncio.sleep(0)
        fds_before = open_fds()
        tasks_before = len(asyncio.all_tasks())
        self.hosts = generate_fleet(
            args.hosts, args.vms, seed=args.seed, password=PASSWORD, job_duration=0.05
        )
        timeouts = Timeouts(
            connect=2.0, read=args.read_timeout, total=args.read_timeout * 2, operation=1.0
        )
        samples: list[Sample] = []
        async with SimulatorServer(self.hosts) as server:
            self.server = server
            # Half the hosts authenticate with NTLM (sealed over HTTP), half with Basic.
            self.uris = [
                uri + ("&auth=basic" if i % 2 else "") for i, uri in enumerate(server.uris)
            ]
            self.pool = SessionPool(
                limits=Limits(per_host_connections=2, idle_host_timeout=5.0),
                timeouts=timeouts,
                retry=RetryPolicy(attempts=2, backoff=0.01, max_backoff=0.05, pull_timeouts=3),
            )
            async with self.pool:
                t0 = time.monotonic()
                print(
                    f"soak: {args.seconds:g} s, {args.hosts} hosts x {args.vms} VMs, "
                    f"{args.workers} workers, faults on {args.fault_share:.0%} of hosts "
                    f"(rotating every {args.rotate:g} s)"
                )
                print(
                    "   t(s)  rss(MB)   fds  tasks  conns  inflight   ops/s       ok  failed"
                    "  top errors"
                )
                rotator = asyncio.create_task(self.rotate_faults())
                workers = [asyncio.create_task(self.worker()) for _ in range(args.workers)]
                previous: Sample | None = None
                while time.monotonic() - t0 < args.seconds:
                    wait = min(args.sample, args.seconds - (time.monotonic() - t0))
                    await asyncio.sleep(max(wait, 0))
                    gc.collect()
                    current = self.sample(t0)
                    samples.append(current)
                    self.print_sample(current, previous)
                    previous = current
                self.stop.set()
                await asyncio.gather(*workers, rotator)
                stats = self.pool.stats
                print(f"drained: pool {stats}")
        self.server = None
        self.pool = None
        gc.collect()
        for _ in range(50):  # closing callbacks finish within a few loop turns
            if open_fds() <= fds_before and len(asyncio.all_tasks()) <= tasks_before:
                break
            await asyncio.sleep(0.05)
        return self.report(samples, fds_before, tasks_before)

    def report(self, samples: list[Sample], fds_before: int, tasks_before: int) -> Report:
        args = self.args
        problems: list[str] = []
        warm = samples[args.warmup :] or samples
        floor = min(s.rss for s in warm)
        growth = samples[-1].rss - floor if samples else 0.0
        flat = growth <= args.rss_slack_mb
        if not flat:
            problems.append(f"RSS grew {growth:.1f} MB after warm-up (slack {args.rss_slack_mb})")
        fds_after, tasks_after = open_fds(), len(asyncio.all_tasks())
        if fds_after > fds_before:
            problems.append(f"file descriptors: {fds_before} before, {fds_after} after")
        if tasks_after > tasks_before:
            problems.append(f"tasks: {tasks_before} before, {tasks_after} after")
        c = self.counts
        if not c.reconciles():
            problems.append(f"counts do not reconcile: {c}")
        if c.unexpected:
            problems.append(f"exceptions outside HyperVError: {dict(c.unexpected)}")
        if c.hung:
            problems.append(f"{c.hung} operations hung past their guard")
        if not c.failed:
            problems.append("no failure at all: the faults were not exercised")
        return Report(
            samples=samples,
            counts=c,
            fds_before=fds_before,
            fds_after=fds_after,
            tasks_before=tasks_before,
            tasks_after=tasks_after,
            rss_growth=growth,
            flat=flat,
            ok=not problems,
            problems=problems,
        )


def print_report(report: Report) -> None:
    c = report.counts
    print(
        f"operations: started {c.started}, ok {c.ok}, failed {c.failures}, "
        f"cancelled {c.cancelled}; reconcile: {c.reconciles()}"
    )
    print(f"by operation: {dict(sorted(c.by_op.items()))}")
    print(f"failures by type: {dict(c.failed.most_common())}")
    print(f"unexpected: {dict(c.unexpected)}; hung: {c.hung}")
    if report.samples:
        warm = report.samples[2:] or report.samples
        print(
            f"rss: first {report.samples[0].rss:.1f} MB, min after warm-up "
            f"{min(s.rss for s in warm):.1f} MB, last {report.samples[-1].rss:.1f} MB, "
            f"growth {report.rss_growth:.1f} MB -> {'flat' if report.flat else 'NOT FLAT'}"
        )
        print(
            f"fds: before {report.fds_before}, peak {max(s.fds for s in report.samples)}, "
            f"after {report.fds_after}; tasks: before {report.tasks_before}, "
            f"peak {max(s.tasks for s in report.samples)}, after {report.tasks_after}"
        )
    print("RESULT: " + ("ok" if report.ok else "FAILED: " + "; ".join(report.problems)))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=180.0, help="how long (default 180)")
    parser.add_argument("--sample", type=float, default=10.0, help="seconds between samples")
    parser.add_argument("--hosts", type=int, default=24)
    parser.add_argument("--vms", type=int, default=3)
    parser.add_argument("--workers", type=int, default=32, help="concurrent operations")
    parser.add_argument("--fault-share", type=float, default=0.25, help="share of faulty hosts")
    parser.add_argument("--rotate", type=float, default=5.0, help="seconds between fault changes")
    parser.add_argument("--fleet-rate", type=float, default=0.002, help="share of fleet runs")
    parser.add_argument("--read-timeout", type=float, default=2.0)
    parser.add_argument("--op-guard", type=float, default=30.0, help="hang guard per operation")
    parser.add_argument("--warmup", type=int, default=2, help="samples before RSS is judged")
    parser.add_argument("--rss-slack-mb", type=float, default=16.0)
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args(argv)


async def soak(argv: list[str] | None = None) -> Report:
    """Run a soak in the running loop (the test suite's short variant calls this)."""
    return await Soak(parse_args(argv)).run()


def main(argv: list[str] | None = None) -> int:
    report = asyncio.run(soak(argv))
    print_report(report)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
