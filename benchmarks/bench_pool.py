"""Connection-pool benchmark: 200 loopback WS-Man endpoints x 20 Get requests, 10 ms each.

A **server** subprocess listens on 200 ports of 127.0.0.1; every endpoint answers a WS-Man Get
with a canned GetResponse (built by the wsman server-side codec) after a fixed latency.  This
process is the client and measures, for the same 4,000 requests:

* **aiohyperv pool**: one ``SessionPool`` (default limits: 4 connections and 8 operations per
  host), all hosts and requests concurrent;
* **naive**: the same concurrency (4 per host), same request building and parsing, but a new
  ``aiohttp.ClientSession`` (so a new TCP connection) for every request;
* **sequential**: one request at a time through an aiohyperv session (keep-alive).  At 10 ms
  per request it would take over 40 s on all hosts, so by default it runs on the first
  ``--sequential-hosts`` hosts and is extrapolated linearly (the output says so).

Run: ``.venv/bin/python benchmarks/bench_pool.py [--hosts 200] [--requests 20]
[--latency-ms 10] [--sequential-hosts 20]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from typing import Any

import aiohttp

from aiohyperv._config import ConnectionURI, parse_uri
from aiohyperv._transport import SessionPool
from aiohyperv.cim import CimInstance
from aiohyperv.wsman import (
    NAMESPACE_V2,
    Action,
    RequestOptions,
    build_get,
    parse_get,
    parse_response,
    resource_uri,
)

RURI = resource_uri(NAMESPACE_V2, "Msvm_ComputerSystem")
HEADERS = {"Content-Type": "application/soap+xml;charset=UTF-8"}

# -- server process ------------------------------------------------------------------------------


def _canned_response() -> bytes:
    from aiohyperv.simulator._codec import build_response
    from aiohyperv.wsman import serialize_instance

    inst = CimInstance(
        "Msvm_ComputerSystem",
        RURI,
        {
            "Name": "6A7E2B4C-0D1F-4E3A-9B8C-7D6E5F4A3B2C",
            "ElementName": "vm-01",
            "EnabledState": "2",
            "HealthState": "5",
            "Caption": "Virtual Machine",
            "Description": "Microsoft Virtual Machine",
        },
    )
    return build_response(
        Action.GET_RESPONSE,
        relates_to="uuid:00000000-0000-0000-0000-000000000000",
        body=serialize_instance(inst),
    )


async def _serve(n_hosts: int, latency: float) -> None:
    from aiohttp import web

    body = _canned_response()

    async def handle(request: web.Request) -> web.Response:
        await request.read()
        await asyncio.sleep(latency)
        return web.Response(body=body, content_type="application/soap+xml", charset="UTF-8")

    app = web.Application()
    app.router.add_post("/wsman", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    ports: list[int] = []
    for _ in range(n_hosts):
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        server = site._server
        assert isinstance(server, asyncio.base_events.Server)
        ports.append(server.sockets[0].getsockname()[1])
    sys.stdout.write(json.dumps({"ports": ports}) + "\n")
    sys.stdout.flush()
    try:
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    finally:
        await runner.cleanup()


# -- client modes --------------------------------------------------------------------------------


async def _pool_run(uris: list[ConnectionURI], requests: int) -> dict[str, Any]:
    async with SessionPool() as pool:

        async def one_host(uri: ConnectionURI) -> None:
            session = pool.session(uri)
            insts = await asyncio.gather(
                *(session.get(RURI, {"Name": f"vm-{i}"}) for i in range(requests))
            )
            assert all(inst.class_name == "Msvm_ComputerSystem" for inst in insts)

        start = time.perf_counter()
        await asyncio.gather(*(one_host(uri) for uri in uris))
        elapsed = time.perf_counter() - start
        per_host = [h.opened for h in pool.host_stats()]
        stats = pool.stats
    return {
        "seconds": elapsed,
        "opened": stats.opened,
        "reused": stats.reused,
        "requests": stats.requests,
        "per_host": per_host,
    }


async def _naive_run(uris: list[ConnectionURI], requests: int) -> dict[str, Any]:
    opened = 0

    async def count(*_args: object) -> None:
        nonlocal opened
        opened += 1

    trace = aiohttp.TraceConfig()
    trace.on_connection_create_end.append(count)

    async def one_host(uri: ConnectionURI) -> None:
        options = RequestOptions(to=uri.endpoint)
        gate = asyncio.Semaphore(4)  # the same per-host concurrency as the pool

        async def one(i: int) -> None:
            async with gate, aiohttp.ClientSession(trace_configs=[trace]) as client:
                body = build_get(RURI, options=options, selectors={"Name": f"vm-{i}"})
                async with client.post(uri.endpoint, data=body, headers=HEADERS) as resp:
                    data = await resp.read()
                inst = parse_get(parse_response(data))
                assert inst.class_name == "Msvm_ComputerSystem"

        await asyncio.gather(*(one(i) for i in range(requests)))

    start = time.perf_counter()
    await asyncio.gather(*(one_host(uri) for uri in uris))
    return {"seconds": time.perf_counter() - start, "opened": opened}


async def _sequential_run(uris: list[ConnectionURI], requests: int) -> dict[str, Any]:
    async with SessionPool() as pool:
        start = time.perf_counter()
        for uri in uris:
            session = pool.session(uri)
            for i in range(requests):
                await session.get(RURI, {"Name": f"vm-{i}"})
        elapsed = time.perf_counter() - start
        stats = pool.stats
    return {"seconds": elapsed, "opened": stats.opened}


# -- orchestration -------------------------------------------------------------------------------


async def _main(args: argparse.Namespace) -> None:
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--serve",
        str(args.hosts),
        "--latency-ms",
        str(args.latency_ms),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert server.stdout is not None
        line = await asyncio.wait_for(server.stdout.readline(), 60)
        ports = json.loads(line)["ports"]
        uris = [parse_uri(f"hyperv://127.0.0.1:{p}/?transport=http") for p in ports]
        total = args.hosts * args.requests
        print(
            f"bench_pool: {args.hosts} loopback endpoints x {args.requests} WS-Man Get "
            f"= {total} requests, {args.latency_ms:g} ms server latency each"
        )
        await _pool_run(uris[:5], 2)  # warm up imports and code paths

        pool = await _pool_run(uris, args.requests)
        naive = await _naive_run(uris, args.requests)
        n_seq = min(args.sequential_hosts, args.hosts)
        seq = await _sequential_run(uris[:n_seq], args.requests)
        seq_total = seq["seconds"] * args.hosts / n_seq

        per_host = pool["per_host"]
        print(
            f"  aiohyperv pool : {pool['seconds']:7.2f} s  {total / pool['seconds']:7.0f} req/s  "
            f"connections opened {pool['opened']} (reused {pool['reused']})"
        )
        print(
            f"  naive          : {naive['seconds']:7.2f} s  {total / naive['seconds']:7.0f} req/s  "
            f"connections opened {naive['opened']}"
        )
        label = (
            ""
            if n_seq == args.hosts
            else f" (measured {seq['seconds']:.2f} s on {n_seq} hosts, extrapolated)"
        )
        print(
            f"  sequential     : {seq_total:7.2f} s  {total / seq_total:7.0f} req/s  "
            f"connections opened {seq['opened']} on {n_seq} hosts{label}"
        )
        print(f"  naive / pool      = {naive['seconds'] / pool['seconds']:.2f}x")
        print(f"  sequential / pool = {seq_total / pool['seconds']:.1f}x")
        print(
            "  connections opened per host (pool): "
            f"min {min(per_host)} / mean {statistics.mean(per_host):.2f} / max {max(per_host)}; "
            f"naive: {naive['opened'] / args.hosts:.2f}; sequential: {seq['opened'] / n_seq:.2f}"
        )
    finally:
        if server.stdin is not None:
            server.stdin.close()
        try:
            await asyncio.wait_for(server.wait(), 10)
        except TimeoutError:
            server.kill()
            await server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--hosts", type=int, default=200)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--latency-ms", type=float, default=10.0)
    parser.add_argument("--sequential-hosts", type=int, default=20)
    parser.add_argument("--serve", type=int, metavar="N", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(_serve(args.serve, args.latency_ms / 1000))
    else:
        asyncio.run(_main(args))


if __name__ == "__main__":
    main()
