"""Peak memory of a client facing a server that never ends an enumeration, with default limits.

Two hostile servers on 127.0.0.1, each in its own process (so only the client is measured):

* ``oversized``: every Enumerate and Pull answer carries 7,500 tiny items, far more than the
  100 asked for, and never says EndOfSequence (the fleet's 500 KiB MaxEnvelopeSize lets them
  through the size cap);
* ``as-asked``: every answer carries exactly the 100 items asked for, realistic ones (25
  properties, about 1.5 KB each on the wire), and never says EndOfSequence.

The client keeps every row it receives, as ``HyperVConnection.query`` (``list --all``) does.
For each case it prints the error that ended it, the rows kept, the time, the client's peak
traced Python memory (``tracemalloc``) and its peak RSS: two runs, each in a fresh process
(tracing inflates RSS).

Run::

    .venv/bin/python benchmarks/bench_hostile_memory.py
"""

from __future__ import annotations

import asyncio
import json
import resource
import subprocess
import sys
import time
import tracemalloc

from aiohttp import web

CASES = ("oversized", "as-asked")


def _server(case: str) -> None:
    from aiohyperv.cim import CimInstance
    from aiohyperv.simulator._codec import (
        build_enumerate_response,
        build_pull_response,
        build_response,
        parse_request,
    )
    from aiohyperv.wsman import NAMESPACE_V2, Action, resource_uri

    uri = resource_uri(NAMESPACE_V2, "Msvm_ComputerSystem")
    batch: list[CimInstance] | list[str]
    if case == "oversized":
        batch = ['<p:Msvm_ComputerSystem xmlns:p="urn:t"/>'] * 7_500
    else:
        batch = [
            CimInstance.from_values(
                "Msvm_ComputerSystem",
                uri,
                {f"Property{i:02d}": f"value {i} " + "v" * 24 for i in range(25)}
                | {"Name": f"{n:08X}-1111-2222-3333-444455556666"},
            )
            for n in range(100)
        ]

    async def handle(request: web.Request) -> web.Response:
        req = parse_request(await request.read())
        if req.action == Action.RELEASE:
            body = build_response(Action.RELEASE_RESPONSE, relates_to=req.message_id, body=None)
        else:
            build = (
                build_enumerate_response if req.action == Action.ENUMERATE else build_pull_response
            )
            body = build(batch, context="ctx", end_of_sequence=False, relates_to=req.message_id)
        return web.Response(body=body, content_type="application/soap+xml")

    async def main() -> None:
        app = web.Application()
        app.router.add_post("/wsman", handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        sys.stdout.write(f"{port}\n")
        sys.stdout.flush()
        await asyncio.to_thread(sys.stdin.read)
        await runner.cleanup()

    asyncio.run(main())


def _client(port: int, traced: bool) -> None:
    from aiohyperv._config import parse_uri
    from aiohyperv._credentials import Credentials
    from aiohyperv._exceptions import HyperVError
    from aiohyperv._transport import Limits, WSManSession
    from aiohyperv.fleet._fleet import FLEET_MAX_ENVELOPE_SIZE
    from aiohyperv.wsman import NAMESPACE_V2, Filter, wildcard_uri

    async def main() -> dict[str, object]:
        uri = parse_uri(f"hyperv://admin@127.0.0.1:{port}/?transport=http&auth=basic")
        rows: list[object] = []
        error = "none"
        t0 = time.perf_counter()
        if traced:
            tracemalloc.start()
        limits = Limits(max_envelope_size=FLEET_MAX_ENVELOPE_SIZE)
        async with WSManSession(
            uri, Credentials(username="admin", password="pw"), limits=limits
        ) as s:
            try:
                async with s.enumerate(
                    wildcard_uri(NAMESPACE_V2),
                    filter=Filter.wql("SELECT * FROM Msvm_ComputerSystem"),
                ) as items:
                    async for item in items:
                        rows.append(item)
            except HyperVError as exc:
                error = f"{type(exc).__name__}: {exc}"
        _current, peak = tracemalloc.get_traced_memory()
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return {
            "error": error,
            "rows": len(rows),
            "seconds": round(time.perf_counter() - t0, 1),
            # tracemalloc's own bookkeeping inflates RSS: each figure comes from its own run.
            ("traced_peak_mib" if traced else "rss_peak_mib"): round(
                peak / 2**20 if traced else rss, 1
            ),
        }

    sys.stdout.write(json.dumps(asyncio.run(main())) + "\n")


def main() -> None:
    for case in CASES:
        server = subprocess.Popen(
            [sys.executable, __file__, "--serve", case],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert server.stdout is not None and server.stdin is not None
        port = server.stdout.readline().strip()
        try:
            for mode in ("traced", "rss"):
                out = subprocess.run(
                    [sys.executable, __file__, "--client", port, mode],
                    capture_output=True,
                    text=True,
                    timeout=1800,
                    check=True,
                ).stdout
                print(f"{case:10} {out.strip()}")
        finally:
            server.stdin.close()
            server.wait(timeout=30)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--serve":
        _server(sys.argv[2])
    elif len(sys.argv) > 2 and sys.argv[1] == "--client":
        _client(int(sys.argv[2]), traced=sys.argv[3] == "traced")
    else:
        main()
