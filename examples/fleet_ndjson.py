"""Stream a fleet inventory as NDJSON: one JSON line per host, written the moment it completes.

    python examples/fleet_ndjson.py > inventory.ndjson          # a simulated fleet of 20 hosts
    python examples/fleet_ndjson.py hyperv://hv01/ hyperv://hv02/ > inventory.ndjson

A failed host is a line too (``"ok": false`` with the error's class and message), and the
progress summary goes to stderr, so stdout stays valid NDJSON for ``jq``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from aiohyperv import Credentials, SessionPool, TLSOptions, default_auth
from aiohyperv.fleet import Fleet, FleetAuth, inventory_op, inventory_record
from aiohyperv.testing import generate_fleet, run_simulator

if TYPE_CHECKING:
    from collections.abc import AsyncIterator


@contextlib.asynccontextmanager
async def targets(argv: list[str]) -> AsyncIterator[tuple[list[str], FleetAuth, TLSOptions]]:
    if argv:
        yield argv, default_auth(), TLSOptions()
        return
    hosts = generate_fleet(20, 10, seed=11)
    for host in hosts:
        host.faults.latency = 0.01
    hosts[-1].faults.unauthorized = True  # one bad host, to show what a failure looks like
    async with run_simulator(*hosts, transport="https") as sim:
        # Trust the simulator's self-signed certificate instead of skipping verification
        # (its URIs say ?no_verify=1, which would warn for each of the 20 hosts).
        assert sim.certificate_pem is not None
        with tempfile.TemporaryDirectory() as tmp:
            ca_file = Path(tmp, "simulator.pem")
            await asyncio.to_thread(ca_file.write_bytes, sim.certificate_pem)
            uris = [uri.replace("?no_verify=1", "") for uri in sim.uris]
            creds = Credentials(username="admin", password="secret")
            yield uris, creds, TLSOptions(ca_file=str(ca_file))


async def main(argv: list[str]) -> int:
    failed = 0
    async with (
        targets(argv) as (uris, auth, tls),
        Fleet(uris, auth=auth, pool_factory=functools.partial(SessionPool, tls=tls)) as fleet,
    ):
        async with contextlib.aclosing(fleet.stream(inventory_op)) as results:
            async for result in results:
                # The same records as `aiohyperv inventory --format ndjson` (schema version 1).
                failed += result.error is not None
                sys.stdout.write(json.dumps(inventory_record(result)) + "\n")
                sys.stdout.flush()
        print(f"{len(fleet) - failed}/{len(fleet)} hosts inventoried", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
