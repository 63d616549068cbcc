"""Soak of ``aiohyperv serve --demo``: the service runs for a while on the changing simulated
fleet, and its memory and database size are watched.

Bounded (default 10 minutes; ``--seconds``) and loopback only.  It starts the real command in a
child process (``serve --demo --interval 5s``, a SQLite file in a temporary directory), keeps
one live-feed client connected, scrapes ``/metrics`` and polls ``/api/summary`` as a dashboard
would, and every ``--sample`` seconds prints the child's RSS, the database size (file + WAL),
runs, changes and feed events so far.  At the end it stops the child with SIGTERM and checks,
exiting non-zero otherwise:

* the service stopped cleanly (exit status 0) and never missed its schedule by much
  (runs >= 80 % of seconds / interval);
* memory is flat: RSS at the end is within ``--rss-slack-mb`` of the lowest sample after the
  warm-up (the first third of the run).

Run::

    .venv/bin/python benchmarks/soak_serve.py                  # 10 minutes
    .venv/bin/python benchmarks/soak_serve.py --seconds 180 --sample 15
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def db_mb(path: Path) -> float:
    total = 0
    for suffix in ("", "-wal", "-shm"):
        candidate = Path(str(path) + suffix)
        if candidate.exists():
            total += candidate.stat().st_size
    return total / 1e6


def metric(text: str, name: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                return float(sample.value)
    return 0.0


async def feed_client(url: str, counts: dict[str, int], stop: asyncio.Event) -> None:
    """One live-feed client for the whole soak; reconnects if dropped (bounded)."""
    for _ in range(100):
        if stop.is_set():
            return
        with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError):
            async with aiohttp.ClientSession() as http, http.get(f"{url}/api/events") as stream:
                async for line in stream.content:
                    if line.startswith(b"event: "):
                        kind = line[7:].strip().decode()
                        counts[kind] = counts.get(kind, 0) + 1
                    if stop.is_set():
                        return
        counts["reconnects"] = counts.get("reconnects", 0) + 1


async def soak(args: argparse.Namespace, workdir: Path) -> int:
    database = workdir / "soak.db"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "aiohyperv.cli", "serve", "--demo",
        "--sim-hosts", str(args.hosts), "--sim-vms", str(args.vms),
        "--interval", f"{args.interval}s", "--churn", f"{args.churn}s",
        "--listen", "127.0.0.1:0", "--database", str(database), "--log-format", "json",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stderr is not None
    port = None
    async with asyncio.timeout(60):
        while port is None:
            line = await proc.stderr.readline()
            if not line:
                print("the service did not start", file=sys.stderr)
                return 1
            message = json.loads(line)["msg"]
            if message.startswith("listening on http://127.0.0.1:"):
                port = int(message.split(":")[2].split("/")[0])
    url = f"http://127.0.0.1:{port}"
    log_lines = 0

    async def drain() -> None:
        nonlocal log_lines
        assert proc.stderr is not None
        while await proc.stderr.readline():
            log_lines += 1

    drainer = asyncio.create_task(drain())
    counts: dict[str, int] = {}
    stop = asyncio.Event()
    feed = asyncio.create_task(feed_client(url, counts, stop))
    samples: list[tuple[float, float, float, float, float]] = []
    t0 = time.monotonic()
    print(f"serve --demo ({args.hosts} hosts x {args.vms} VMs, interval {args.interval}s) for "
          f"{args.seconds}s; database {database}")  # fmt: skip
    print(f"{'t/s':>6} {'RSS/MB':>8} {'DB/MB':>8} {'runs':>6} {'changes':>8} {'events':>7}")
    exit_code = 0
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(int(args.seconds // args.sample) + 1):
                elapsed = time.monotonic() - t0
                if elapsed >= args.seconds:
                    break
                await asyncio.sleep(min(args.sample, args.seconds - elapsed))
                async with http.get(f"{url}/metrics") as response:
                    text = await response.text()
                async with http.get(f"{url}/api/summary") as response:
                    await response.json()
                runs = metric(text, "aiohyperv_runs_total")
                changes = sum(
                    s.value
                    for f in text_string_to_metric_families(text)
                    if f.name == "aiohyperv_changes"
                    for s in f.samples
                )
                row = (time.monotonic() - t0, rss_mb(proc.pid), db_mb(database), runs, changes)
                samples.append(row)
                events = counts.get("change", 0) + counts.get("run", 0)
                t, rss, size, runs, changes = row
                print(f"{t:6.0f} {rss:8.1f} {size:8.2f} {runs:6.0f} {changes:8.0f} {events:7d}")
    finally:
        stop.set()
        proc.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(30):
                status = await proc.wait()
        except TimeoutError:
            proc.kill()
            status = await proc.wait()
        feed.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await feed
        await drainer
    if status != 0:
        print(f"FAIL: the service exited with {status}")
        exit_code = 1
    if samples:
        seconds = samples[-1][0]
        runs = samples[-1][3]
        expected = seconds / args.interval
        warm = [s for s in samples if s[0] >= seconds / 3] or samples
        low = min(s[1] for s in warm)
        print(
            f"\nruns {runs:.0f} (schedule allows {expected:.0f}), changes {samples[-1][4]:.0f}, "
            f"feed events {counts.get('change', 0)} changes + {counts.get('run', 0)} runs "
            f"({counts.get('reconnects', 0)} reconnects), {log_lines} log lines\n"
            f"RSS: first {samples[0][1]:.1f} MB, lowest after warm-up {low:.1f} MB, "
            f"last {samples[-1][1]:.1f} MB, max {max(s[1] for s in samples):.1f} MB\n"
            f"database: first {samples[0][2]:.2f} MB, last {samples[-1][2]:.2f} MB"
        )
        if runs < 0.8 * expected - 1:
            print("FAIL: the schedule fell behind")
            exit_code = 1
        if samples[-1][1] - low > args.rss_slack_mb:
            print(f"FAIL: RSS grew by more than {args.rss_slack_mb} MB after warm-up")
            exit_code = 1
    return exit_code


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=600.0, help="how long (default 600)")
    parser.add_argument("--sample", type=float, default=30.0, help="seconds between samples")
    parser.add_argument("--interval", type=float, default=5.0, help="the service's interval")
    parser.add_argument("--churn", type=float, default=2.0, help="simulated changes every N s")
    parser.add_argument("--hosts", type=int, default=12)
    parser.add_argument("--vms", type=int, default=10)
    parser.add_argument("--rss-slack-mb", type=float, default=20.0)
    args = parser.parse_args()
    if not 0 < args.seconds <= 3600:
        parser.error("--seconds must be in (0, 3600]")
    with tempfile.TemporaryDirectory(prefix="aiohyperv-soak-serve-") as workdir:
        return asyncio.run(soak(args, Path(workdir)))


if __name__ == "__main__":
    sys.exit(main())
