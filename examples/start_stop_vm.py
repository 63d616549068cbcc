"""Start a VM that is off, wait for Hyper-V's job to finish, then turn it off again.

    python examples/start_stop_vm.py                          # a simulated host
    python examples/start_stop_vm.py hyperv://admin@hv01/ web01

``start()`` and ``destroy()`` call ``RequestStateChange``; Hyper-V answers 4096 ("job started")
with a ``Msvm_ConcreteJob``, and the driver waits for that job (with a deadline and backoff)
before it returns, so the state printed afterwards is the new one.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from typing import TYPE_CHECKING

from aiohyperv import Credentials, default_auth
from aiohyperv.hyperv import Domain, DomainState, connect
from aiohyperv.testing import HostSpec, run_simulator

if TYPE_CHECKING:
    from collections.abc import AsyncIterator


@contextlib.asynccontextmanager
async def target(argv: list[str]) -> AsyncIterator[tuple[str, Credentials | None]]:
    if argv:
        yield argv[0], None
        return
    spec = HostSpec(name="hv01", os="2019", vms=8, seed=3)
    async with run_simulator(spec, transport="https") as sim:
        yield sim.uris[0], Credentials(username="admin", password="secret")


async def pick(domains: list[Domain], name: str | None) -> Domain:
    if name is not None:
        return next(d for d in domains if d.name == name)
    for dom in sorted(domains, key=lambda d: d.name):
        state, _ = await dom.state()
        if state is DomainState.SHUTOFF and not await dom.has_managed_save():
            return dom
    raise SystemExit("no VM is shut off; name one on the command line")


async def main(argv: list[str]) -> int:
    async with target(argv[:1]) as (uri, creds):
        async with connect(uri, auth=creds or default_auth()) as conn:
            dom = await pick(await conn.list_domains(), argv[1] if len(argv) > 1 else None)
            state, _ = await dom.state()
            print(f"{dom.name}: {state.label}")

            t0 = time.perf_counter()
            await dom.start()  # returns when the Msvm_ConcreteJob has completed
            state, _ = await dom.state()
            print(f"{dom.name}: started in {time.perf_counter() - t0:.2f} s -> {state.label}")

            t0 = time.perf_counter()
            await dom.destroy()  # hard power-off, also a job
            state, _ = await dom.state()
            print(f"{dom.name}: turned off in {time.perf_counter() - t0:.2f} s -> {state.label}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
