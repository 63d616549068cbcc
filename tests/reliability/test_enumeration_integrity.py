"""An enumeration either returns every item or raises: resets never silently drop a batch.

A Pull moves the server's cursor forward.  When the answer to a Pull is cut off half way, the
server has already moved on: sending the same Pull again would fetch the *next* batch and lose
the one in the lost answer without anybody noticing.  Against a simulated host that resets a
share of its answers half way through, every enumeration must come back complete or fail with
a typed error.
"""

from __future__ import annotations

import asyncio
import collections

import pytest

from aiohyperv._config import parse_uri
from aiohyperv._credentials import Credentials
from aiohyperv._exceptions import HyperVError
from aiohyperv._transport import RetryPolicy, SessionPool
from aiohyperv.cim import CimInstance
from aiohyperv.testing import HostSpec, run_simulator
from aiohyperv.wsman import Filter, wildcard_uri

CREDS = Credentials(username="admin", password="secret")


@pytest.mark.parametrize("auth", ["basic", "ntlm"])
async def test_reset_pulls_never_lose_items(auth: str) -> None:
    outcomes: collections.Counter[str] = collections.Counter()
    async with run_simulator(HostSpec(name="hv01", vms=30, seed=4)) as sim:
        host = sim.hosts[0]
        expected = sorted(host.vms)
        host.faults.reset_rate = 0.25
        uri = parse_uri(f"{sim.uris[0]}&auth={auth}")
        retry = RetryPolicy(attempts=3, backoff=0.0, max_backoff=0.0)
        async with SessionPool(retry=retry) as pool, asyncio.timeout(120):
            session = pool.session(uri, CREDS)
            for _ in range(40):
                names: list[str] = []
                try:
                    async with session.enumerate(
                        wildcard_uri(host.namespace),
                        filter=Filter.wql("SELECT * FROM Msvm_ComputerSystem"),
                        max_elements=3,
                    ) as items:
                        async for item in items:
                            assert isinstance(item, CimInstance)
                            if item.get_str("Caption") == "Virtual Machine":
                                names.append(item.get_str("Name") or "")
                except HyperVError as exc:
                    outcomes[type(exc).__name__] += 1
                    continue
                assert sorted(names) == expected, (
                    f"an enumeration lost {len(expected) - len(names)} VMs"
                )
                outcomes["complete"] += 1
            retried = pool.stats.retried
    assert outcomes["complete"] > 0 and sum(outcomes.values()) == 40
    assert retried > 0  # resets before any answer are still retried
