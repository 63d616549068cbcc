"""Connect to one Hyper-V host and list its virtual machines.

python examples/list_vms.py                       # against a simulated host
python examples/list_vms.py hyperv://admin@hv01/  # a real host (password from
                                                  # AIOHYPERV_PASSWORD or auth.conf)
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from typing import TYPE_CHECKING

from aiohyperv import Credentials, default_auth
from aiohyperv.hyperv import connect
from aiohyperv.testing import HostSpec, run_simulator

if TYPE_CHECKING:
    from collections.abc import AsyncIterator


@contextlib.asynccontextmanager
async def target(argv: list[str]) -> AsyncIterator[tuple[str, Credentials | None]]:
    """The host named on the command line, or a simulated one for the length of the block."""
    if argv:
        yield argv[0], None
        return
    # HTTPS with a self-signed certificate, as WinRM listens by default (the URI says no_verify=1).
    spec = HostSpec(name="hv01", os="2022", vms=6, seed=1)
    async with run_simulator(spec, transport="https") as sim:
        yield sim.uris[0], Credentials(username="admin", password="secret")


async def main(argv: list[str]) -> int:
    async with target(argv) as (uri, creds):
        async with connect(uri, auth=creds or default_auth(), read_only=True) as conn:
            print(f"{await conn.get_hostname()}: Windows {conn.os_version} ({conn.namespace})")
            print(f"{'ID':>6}  {'NAME':<16} {'STATE':<10} {'vCPU':>4} {'MEMORY':>10}")
            for dom in sorted(await conn.list_domains(), key=lambda d: d.name):
                info = await dom.info()
                ident = str(dom.id) if dom.id >= 0 else "-"
                memory = f"{info.memory // 1024} MiB"
                print(
                    f"{ident:>6}  {dom.name:<16} {info.state.label:<10} "
                    f"{info.nr_virt_cpu:>4} {memory:>10}"
                )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
