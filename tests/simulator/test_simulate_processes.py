"""``aiohyperv simulate --processes N``: one fleet, served by N processes, same as by one."""

from __future__ import annotations

import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from aiohyperv._credentials import Credentials
from aiohyperv.fleet import Fleet
from aiohyperv.simulator import generate_fleet
from aiohyperv.simulator._cli import shard_range

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.mark.parametrize(("hosts", "count"), [(10, 3), (5, 5), (7, 2), (1000, 7)])
def test_shards_cover_the_fleet_once_in_order(hosts: int, count: int) -> None:
    served = [i for n in range(count) for i in shard_range(hosts, n, count)]
    assert served == list(range(hosts))


@pytest.fixture
def served() -> Iterator[list[str]]:
    """``aiohyperv simulate`` serving 7 hosts from 3 processes; its URIs."""
    argv = ["--hosts", "7", "--vms", "2", "--seed", "5", "--processes", "3"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "aiohyperv.cli", "simulate", *argv],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    try:
        uris: list[str] = []
        for line in proc.stdout:  # the URIs, then "serving ..." once every share serves
            if line.startswith("serving "):
                assert "from 3 processes" in line
                break
            if line.startswith("hyperv://"):
                uris.append(line.split()[0])
        yield uris
    finally:
        proc.terminate()
        assert proc.wait(timeout=30) == 0  # it stopped its serving processes
        proc.stdout.close()


async def test_a_fleet_served_by_three_processes(served: list[str]) -> None:
    assert len(served) == 7
    auth = Credentials(username="admin", password="secret")
    result = await Fleet(served, auth=auth).inventory()
    assert not result.failed, result.errors
    expected = generate_fleet(7, 2, seed=5)
    assert [r.value.hostname for r in result if r.value] == [h.spec.name for h in expected]
    assert [len(r.value.vms) for r in result if r.value] == [2] * 7
