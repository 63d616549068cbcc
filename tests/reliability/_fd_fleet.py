"""The two processes of the file-descriptor test (``python -m tests.reliability._fd_fleet``).

``serve N``: a simulated fleet of N hosts (one VM each) on 127.0.0.1, its URIs printed as one
JSON line; it serves until its stdin closes.  It raises its own open-file limit to the hard
limit: its N listening sockets are not what is tested.

``client C``: reads those URIs from stdin and inventories every host through a ``Fleet`` with
concurrency C, under whatever open-file limit it was started with; prints one JSON line with
the hosts that succeeded, the first errors, and the most file descriptors it had open at once.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import sys

from aiohyperv._credentials import Credentials
from aiohyperv.fleet import Fleet, FleetEvent, HostInventory, inventory_op
from aiohyperv.simulator import SimulatorServer, generate_fleet


async def serve(n_hosts: int) -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    hosts = generate_fleet(n_hosts, 1, seed=7, job_duration=0.01)
    async with SimulatorServer(hosts) as server:
        sys.stdout.write(json.dumps(server.uris) + "\n")
        sys.stdout.flush()
        await asyncio.to_thread(sys.stdin.read)  # until the test closes our stdin


async def client(concurrency: int) -> None:
    uris = [f"{uri}&auth=basic" for uri in json.loads(sys.stdin.readline())]
    peak = 0

    def count(_event: FleetEvent[HostInventory]) -> None:
        nonlocal peak
        try:
            peak = max(peak, len(os.listdir("/proc/self/fd")))
        except OSError:  # EMFILE: every descriptor is taken
            peak = resource.getrlimit(resource.RLIMIT_NOFILE)[0]

    fleet = Fleet(
        uris,
        auth=Credentials(username="admin", password="secret"),
        concurrency=concurrency,
        timeout=60,
    )
    result = await fleet.run(inventory_op, on_event=count)
    report = {
        "succeeded": len(result.succeeded),
        "errors": [f"{r.host}: {r.error!r}" for r in result.failed[:3]],
        "peak_fds": peak,
        "limit": resource.getrlimit(resource.RLIMIT_NOFILE)[0],
    }
    sys.stdout.write(json.dumps(report) + "\n")


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        asyncio.run(serve(int(sys.argv[2])))
    else:
        asyncio.run(client(int(sys.argv[2])))
