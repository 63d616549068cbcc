"""Fleet(processes=N): the same results as one process, failures isolated, nothing left over."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from aiohyperv._credentials import CredentialRequest, Credentials
from aiohyperv._exceptions import (
    AuthenticationError,
    ConfigError,
    ConnectError,
    CredentialsError,
    HyperVError,
)
from aiohyperv._transport import SessionPool
from aiohyperv.fleet import EventKind, Fleet, FleetEvent
from aiohyperv.fleet._inventory import inventory_op
from aiohyperv.simulator import HostSpec

from . import _ops
from .conftest import CREDENTIALS, StartHosts, dead_uri

if TYPE_CHECKING:
    from aiohyperv.fleet._model import HostInventory

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def marks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The scratch directory and parent pid the operations in ``_ops`` look for."""
    monkeypatch.setenv(_ops.PARENT_ENV, str(os.getpid()))
    monkeypatch.setenv(_ops.MARKS_ENV, str(tmp_path))
    return tmp_path


def _stable(inventory: HostInventory | None) -> HostInventory | None:
    """The inventory without what moves between two runs (uptime)."""
    if inventory is None:
        return None
    vms = tuple(dataclasses.replace(vm, uptime=None) for vm in inventory.vms)
    return dataclasses.replace(inventory, vms=vms)


def _worker_pids() -> set[int]:
    """Live worker processes whose parent is this test process."""
    me = str(os.getpid())
    found = set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            cmdline = (proc / "cmdline").read_bytes()
            stat = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            if b"aiohyperv.fleet._processes" in cmdline and stat[1] == me and stat[0] != "Z":
                found.add(int(proc.name))
    return found


async def test_same_inventory_as_one_process(start_hosts: StartHosts) -> None:
    sims = await start_hosts([HostSpec(name=f"hv{i:02d}", vms=3 + i % 3) for i in range(8)])
    uris = [s.uri for s in sims] + [dead_uri()]

    one = await Fleet(uris, auth=CREDENTIALS, timeout=20).run(inventory_op)
    events: list[FleetEvent[HostInventory]] = []
    many = await Fleet(uris, auth=CREDENTIALS, timeout=20, processes=3).run(
        inventory_op, on_event=events.append
    )

    assert [r.host for r in many] == [r.host for r in one]
    assert [r.index for r in many] == list(range(9))
    for a, b in zip(one.succeeded, many.succeeded, strict=True):
        assert _stable(a.value) == _stable(b.value)  # every field of every VM
        assert a.requests == b.requests > 0
    assert len(many.succeeded) == 8
    [failed] = many.failed
    assert failed.index == 8
    assert isinstance(failed.error, ConnectError)
    assert failed.error.host == failed.host
    # Events: one started and one finished per host, counts global and ending at the total.
    assert sorted(e.index for e in events if e.kind is EventKind.STARTED) == list(range(9))
    finished = [e for e in events if e.kind is not EventKind.STARTED]
    assert sorted(e.index for e in finished) == list(range(9))
    assert [e.progress.done for e in finished] == list(range(1, 10))
    assert finished[-1].progress.failed == 1
    assert _worker_pids() == set()


async def test_hosts_are_spread_over_the_processes(marks: Path) -> None:
    uris = [f"hyperv://hv{i:02d}:5985/?transport=http" for i in range(40)]
    result = await Fleet(uris, concurrency=3, processes=3).run(_ops.whoami)
    assert [r.value[0] for r in result if r.value] == [f"hv{i:02d}:5985" for i in range(40)]
    pids = {r.value[1] for r in result if r.value}
    assert os.getpid() in pids  # this loop works on a share itself
    assert len(pids) >= 2
    assert _worker_pids() == set()


async def test_errors_cross_the_process_boundary_with_their_fields(start_hosts: StartHosts) -> None:
    [sim] = await start_hosts([HostSpec(name="hv01", vms=1)])
    good = str(sim.uri)
    other = good.replace("hyperv://", "hyperv://intruder@")
    wrong = Credentials(username="intruder", password="not-the-password")
    texts = [good, other, str(dead_uri()), str(dead_uri())]
    auth = {good: CREDENTIALS, other: wrong, texts[2]: CREDENTIALS, texts[3]: CREDENTIALS}
    result = await Fleet(texts, auth=auth, timeout=10, processes=2).run(inventory_op)
    assert result.results[0].ok
    error = result.results[1].error
    assert isinstance(error, AuthenticationError)
    assert error.status == 401
    assert error.host == result.results[1].host
    assert "not-the-password" not in str(error) + repr(error)
    assert [type(r.error) for r in result.results[2:]] == [ConnectError, ConnectError]


async def test_auth_callback_runs_in_this_process(start_hosts: StartHosts) -> None:
    sims = await start_hosts([HostSpec(name=f"hv{i}", vms=1) for i in range(3)])
    asked: list[tuple[str, int]] = []
    refused = sims[1].uri.host_label

    async def callback(request: CredentialRequest) -> Credentials:
        asked.append((request.hostname, os.getpid()))
        if f"{request.hostname}:{request.port}" == refused:
            raise CredentialsError("no password for this one")
        return CREDENTIALS

    result = await Fleet([s.uri for s in sims], auth=callback, processes=2).run(inventory_op)
    assert [r.ok for r in result] == [True, False, True]
    assert isinstance(result.results[1].error, CredentialsError)
    assert {pid for _, pid in asked} == {os.getpid()}


async def test_a_dying_worker_fails_its_hosts_not_the_run(marks: Path) -> None:
    uris = [f"hyperv://hv{i:02d}:5985/?transport=http" for i in range(40)]
    result = await Fleet(uris, concurrency=4, processes=2, timeout=20).run(_ops.die_in_worker)
    assert len(result) == 40
    dead = [r for r in result.failed]
    assert dead, "some hosts must have gone to the worker that died"
    for r in dead:
        assert type(r.error) is HyperVError
        assert "worker process" in str(r.error) and "exited (code 3)" in str(r.error)
    assert all(r.value == os.getpid() for r in result.succeeded)
    assert _worker_pids() == set()


async def test_cancelling_the_run_stops_the_workers() -> None:
    uris = [f"hyperv://hv{i:02d}:5985/?transport=http" for i in range(20)]
    fleet = Fleet(uris, concurrency=4, processes=3, timeout=None)
    started = asyncio.Event()
    workers: set[int] = set()

    def on_event(event: FleetEvent[int]) -> None:
        if event.progress.started >= 6:  # 2 at a time in each of the 3 processes
            workers.update(_worker_pids())
            started.set()

    run = asyncio.create_task(fleet.run(_ops.slow, on_event=on_event))
    async with asyncio.timeout(30):
        await started.wait()
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    assert workers, "the workers should have been running"
    assert _worker_pids() == set()


async def test_results_larger_than_a_pipe_buffer_arrive_whole(marks: Path) -> None:
    uris = [f"hyperv://hv{i:02d}:5985/?transport=http" for i in range(12)]
    result = await Fleet(uris, concurrency=4, processes=2).run(_ops.big)
    assert [r.value for r in result] == [f"hv{i:02d}:5985" * 100_000 for i in range(12)]


async def test_leaving_the_stream_early_stops_the_workers(marks: Path) -> None:
    uris = [f"hyperv://hv{i:02d}:5985/?transport=http" for i in range(30)]
    fleet = Fleet(uris, concurrency=6, processes=3, timeout=None)
    seen = 0
    async with asyncio.timeout(60):
        async with contextlib.aclosing(fleet.stream(_ops.slow_in_workers)) as stream:
            async for _ in stream:  # the first result comes once a worker is busy
                seen += 1
                assert _worker_pids(), "a worker should be running a host"
                break
    assert seen == 1
    assert _worker_pids() == set()


@pytest.mark.parametrize("level", [logging.DEBUG, logging.ERROR])
async def test_workers_log_at_the_parents_level(
    level: int, marks: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    log = logging.getLogger("aiohyperv")
    saved = log.level
    log.setLevel(level)
    try:
        uris = [f"hyperv://hv{i:02d}:5985/?transport=http" for i in range(8)]
        result = await Fleet(uris, concurrency=2, processes=2).run(_ops.logs)
    finally:
        log.setLevel(saved)
    assert len(result.succeeded) == 8
    _, err = capfd.readouterr()
    lines = [line for line in err.splitlines() if "debug line for" in line]
    if level == logging.DEBUG:
        assert lines, "a worker ran hosts and should have logged"
        assert all(line.startswith("aiohyperv.test[worker ") for line in lines)
    else:
        assert lines == []


async def test_a_result_that_cannot_cross_fails_that_host_only(marks: Path) -> None:
    uris = [f"hyperv://hv{i:02d}:5985/?transport=http" for i in range(8)]
    result = await Fleet(uris, concurrency=2, processes=2).run(_ops.unpicklable)
    from_workers = [r for r in result if r.error is not None]
    assert from_workers, "a worker ran hosts"
    for r in from_workers:
        assert type(r.error) is HyperVError
        assert "could not be sent from the worker process" in str(r.error)
        assert r.error.host == r.host
    assert all(callable(r.value) for r in result if r.error is None)  # this loop's own hosts


async def test_prints_in_a_worker_do_not_break_the_results(
    capfd: pytest.CaptureFixture[str],
) -> None:
    uris = [f"hyperv://hv{i:02d}:5985/?transport=http" for i in range(30)]
    result = await Fleet(uris, concurrency=2, processes=2).run(_ops.chatty)
    assert [r.value for r in result] == [f"hv{i:02d}:5985" for i in range(30)]
    out, err = capfd.readouterr()
    assert out.count("hello from") + err.count("hello from") == 30


async def test_what_cannot_cross_a_process_boundary_is_refused_early() -> None:
    uris = ["hyperv://hv01:5985/?transport=http", "hyperv://hv02:5985/?transport=http"]
    with pytest.raises(ConfigError, match="processes must be at least 1"):
        Fleet(uris, processes=0)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("sys.platform", "win32")
        with pytest.raises(ConfigError, match="POSIX"):
            Fleet(uris, processes=2)
        assert Fleet(uris, processes=1).processes == 1
    async with SessionPool() as pool:
        with pytest.raises(ConfigError, match="cannot be shared"):
            Fleet(uris, processes=2, pool=pool)

    async def local(host: object) -> None:
        return None

    with pytest.raises(ConfigError, match="cannot be sent to a worker process"):
        await Fleet(uris, processes=2).run(local)
    assert _worker_pids() == set()


async def test_workers_do_not_inherit_credential_variables(
    marks: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIOHYPERV_PASSWORD", "parent-only-secret")
    monkeypatch.setenv("OTHER_TOOL_PASSWORD", "parent-only-secret")
    monkeypatch.setenv("SOME_PASSWD", "parent-only-secret")
    uris = [f"hyperv://hv{i:02d}:5985/?transport=http" for i in range(12)]
    result = await Fleet(uris, concurrency=2, processes=2).run(_ops.credential_env)
    values = [r.unwrap() for r in result]
    in_workers = [names for pid, names in values if pid != os.getpid()]
    assert in_workers, "no worker ran a host"
    assert all(names == [] for names in in_workers), in_workers
    # This process keeps them: only the children's environment is trimmed.
    assert os.environ["AIOHYPERV_PASSWORD"] == "parent-only-secret"
