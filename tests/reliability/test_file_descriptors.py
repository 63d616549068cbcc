"""A fleet of 1,000 healthy hosts succeeds under ``ulimit -n 256``.

A host's connections used to stay open after its operation ended, until the pool's global cap
(1,000): a fleet of 1,000 hosts at concurrency 5 peaked at about 1,009 open descriptors, and
under ``ulimit -n 256`` three quarters of its healthy hosts failed with EMFILE.  The client runs
in its own process with the limit set (``resource.setrlimit`` before exec); the simulated fleet
runs in another, so its 1,000 listening sockets do not count against the client.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
from pathlib import Path

import pytest

from aiohyperv._transport import Limits, SessionPool

ROOT = Path(__file__).resolve().parents[2]
HOSTS = 1000
LIMIT = 256
#: A hang guard: the run takes well under a minute on two loaded cores.
GUARD = 600.0


def _limit_open_files() -> None:  # runs in the child, between fork and exec
    resource.setrlimit(resource.RLIMIT_NOFILE, (LIMIT, LIMIT))


@pytest.mark.parametrize("concurrency", [5, 64])
async def test_thousand_hosts_under_ulimit_256(concurrency: int) -> None:
    module = "tests.reliability._fd_fleet"
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        module,
        "serve",
        str(HOSTS),
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert server.stdin is not None and server.stdout is not None
    try:
        async with asyncio.timeout(GUARD):
            uris = await server.stdout.readline()
            assert len(json.loads(uris)) == HOSTS
            client = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                module,
                "client",
                str(concurrency),
                cwd=ROOT,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                preexec_fn=_limit_open_files,
            )
            out, _ = await client.communicate(uris)
    finally:
        server.stdin.close()
        async with asyncio.timeout(30):
            await server.wait()
    assert client.returncode == 0
    report = json.loads(out)
    assert report["limit"] == LIMIT
    assert report["errors"] == []
    assert report["succeeded"] == HOSTS
    assert report["peak_fds"] < LIMIT


@pytest.mark.parametrize(("soft", "expected"), [(256, 160), (1024, 832), (20000, 1000)])
async def test_pool_connection_cap_fits_the_open_file_limit(
    monkeypatch: pytest.MonkeyPatch, soft: int, expected: int
) -> None:
    monkeypatch.setattr(resource, "getrlimit", lambda _which: (soft, soft))
    async with SessionPool(limits=Limits(total_connections=1000)) as pool:
        # 64 descriptors and an eighth of the limit stay free for everything else.
        assert pool.max_connections == expected
