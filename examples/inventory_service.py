"""aiohyperv inside an aiohttp web service: ``GET /inventory`` answers with the fleet as JSON.

    python examples/inventory_service.py                  # serve a simulated fleet on :8080
    python examples/inventory_service.py --once           # start, query itself once, exit
    HYPERV_HOSTS="hyperv://hv01/ hyperv://hv02/" python examples/inventory_service.py

The service shares one :class:`~aiohyperv._transport.SessionPool` across requests (created on
startup, closed on cleanup), so repeated inventories reuse keep-alive connections, and it caches
the last inventory for ``CACHE_SECONDS`` so a busy dashboard does not hammer the hosts.
Concurrent requests while an inventory runs wait for that one instead of starting another.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp
from aiohttp import web

from aiohyperv import Credentials, SessionPool, TLSOptions, default_auth
from aiohyperv.fleet import Fleet, FleetAuth, FleetResult, HostInventory, inventory_document
from aiohyperv.testing import generate_fleet, run_simulator

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

CACHE_SECONDS = 30.0


@dataclasses.dataclass
class Inventory:
    """The service's state: where the hosts are, and the last result."""

    uris: list[str]
    auth: FleetAuth
    pool: SessionPool
    result: FleetResult[HostInventory] | None = None
    taken_at: float = 0.0
    lock: asyncio.Lock = dataclasses.field(default_factory=asyncio.Lock)

    async def get(self) -> FleetResult[HostInventory]:
        async with self.lock:  # one inventory at a time; latecomers get its result
            if self.result is None or time.monotonic() - self.taken_at > CACHE_SECONDS:
                fleet = Fleet(self.uris, auth=self.auth, pool=self.pool, timeout=30)
                self.result = await fleet.inventory()
                self.taken_at = time.monotonic()
            return self.result


INVENTORY = web.AppKey("inventory", Inventory)


async def handle_inventory(request: web.Request) -> web.Response:
    result = await request.app[INVENTORY].get()
    # The document `aiohyperv inventory --format json` prints (schema version 1).
    return web.json_response(inventory_document(result))


def make_app(uris: list[str], auth: FleetAuth, tls: TLSOptions | None = None) -> web.Application:
    app = web.Application()

    async def pool_ctx(app: web.Application) -> AsyncIterator[None]:
        async with SessionPool(tls=tls) as pool:
            app[INVENTORY] = Inventory(uris=uris, auth=auth, pool=pool)
            yield

    app.cleanup_ctx.append(pool_ctx)
    app.router.add_get("/inventory", handle_inventory)
    return app


@contextlib.asynccontextmanager
async def hosts() -> AsyncIterator[tuple[list[str], FleetAuth, TLSOptions]]:
    if os.environ.get("HYPERV_HOSTS"):
        yield os.environ["HYPERV_HOSTS"].split(), default_auth(), TLSOptions()
        return
    async with run_simulator(*generate_fleet(5, 4, seed=21), transport="https") as sim:
        # Trust the simulator's self-signed certificate rather than skip verification.
        assert sim.certificate_pem is not None
        with tempfile.TemporaryDirectory() as tmp:
            ca_file = Path(tmp, "simulator.pem")
            await asyncio.to_thread(ca_file.write_bytes, sim.certificate_pem)
            uris = [uri.replace("?no_verify=1", "") for uri in sim.uris]
            creds = Credentials(username="admin", password="secret")
            yield uris, creds, TLSOptions(ca_file=str(ca_file))


async def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--once", action="store_true", help="query the service once and exit")
    args = parser.parse_args(argv)
    async with hosts() as (uris, auth, tls):
        runner = web.AppRunner(make_app(uris, auth, tls))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0 if args.once else args.port)
        await site.start()
        try:
            port = runner.addresses[0][1]
            url = f"http://127.0.0.1:{port}/inventory"
            if not args.once:
                print(f"serving {len(uris)} hosts on {url}; Ctrl+C to stop", file=sys.stderr)
                await asyncio.Event().wait()
            async with aiohttp.ClientSession() as client, client.get(url) as resp:
                resp.raise_for_status()
                body = await resp.json()
            print(json.dumps(body, indent=2))
        finally:
            await runner.cleanup()
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(asyncio.run(main(sys.argv[1:])))
