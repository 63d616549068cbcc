"""Fleet(processes=N): the same results as one process, failures isolated, nothing left over.

Each test that matters for both mechanisms runs on both: a Dask ``LocalCluster`` (``dask``,
used whenever ``distributed`` is installed) and a ``spawn`` ``ProcessPoolExecutor`` (``pool``,
the fallback without it).
"""

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
from aiohyperv.fleet import _processes as processes_module
from aiohyperv.fleet._inventory import inventory_op
from aiohyperv.simulator import HostSpec

from . import _ops
from .conftest import CREDENTIALS, StartHosts, dead_uri

if TYPE_CHECKING:
    from aiohyperv.fleet._model import HostInventory

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

BACKENDS = ["dask", "pool"]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Which mechanism carries the batches (the pool: as if Dask were not installed)."""
    name: str = request.param
    if name == "dask":
        pytest.importorskip("distributed")
    else:
        monkeypatch.setattr(processes_module, "dask_available", lambda: False)
    return name


@pytest.fixture
def marks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The scratch directory and parent pid the operations in ``_ops`` look for."""
    monkeypatch.setenv(_ops.PARENT_ENV, str(os.getpid()))
    monkeypatch.setenv(_ops.MARKS_ENV, str(tmp_path))
    return tmp_path


def _stable(inventory: HostInventory | None) -> HostInventory | None:
    """The inventory without what moves between two runs (uptime, live CPU load)."""
    if inventory is None:
        return None
    vms = tuple(dataclasses.replace(vm, uptime=None, cpu_load=None) for vm in inventory.vms)
    return dataclasses.replace(inventory, vms=vms)


def _worker_pids() -> set[int]:
    """Live worker processes whose parent is this test process (either mechanism)."""
    me = str(os.getpid())
    found = set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            cmdline = (proc / "cmdline").read_bytes()
            stat = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            worker = b"distributed.cli.dask_worker" in cmdline or b"spawn_main" in cmdline
            if worker and stat[1] == me and stat[0] != "Z":
                found.add(int(proc.name))
    return found


async def test_same_inventory_as_one_process(start_hosts: StartHosts, backend: str) -> None:
    sims = await start_hosts([HostSpec(name=f"hv{i:02d}", vms=3 + i % 3) for i in range(8)])
    uris = [s.uri for s in sims] + [dead_uri()]

    one = await Fleet(uris, auth=CREDENTIALS, timeout=20).run(inventory_op)
    events: list[FleetEvent[HostInventory]] = []
    many = await Fleet(uris, auth=CREDENTIALS, timeout=20, processes=3, batch_size=2).run(
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


async def test_hosts_are_spread_over_the_processes(marks: Path, backend: str) -> None:
    uris = [f"hyperv://hv{i:02d}:5985/?transport=http" for i in range(40)]
    result = await Fleet(uris, concurrency=3, processes=2, batch_size=5).run(_ops.whoami)
    assert [r.value[0] for r in result if r.value] == [f"hv{i:02d}:5985" for i in range(40)]
    pids = {r.value[1] for r in result if r.value}
    assert os.getpid() not in pids  # the batches run in the workers only
    assert len(pids) == 2
    assert _worker_pids() == set()


async def test_never_more_workers_than_hosts(marks: Path, backend: str) -> None:
    uris = [f"hyperv://hv{i:02d}:5985/?transport=http" for i in range(2)]
    started: set[int] = set()

    def on_event(event: FleetEvent[tuple[str, int]]) -> None:
        started.update(_worker_pids())

    result = await Fleet(uris, processes=8).run(_ops.whoami, on_event=on_event)
    assert len(result.succeeded) == 2
    assert 1 <= len(started) <= 2


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


async def test_workers_do_not_inherit_credential_variables(
    backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    password = "env-password-" + os.urandom(6).hex()
    monkeypatch.setenv("AIOHYPERV_USERNAME", "admin")
    monkeypatch.setenv("AIOHYPERV_PASSWORD", password)
    uris = [f"hyperv://hv{i:02d}:5985/?transport=http" for i in range(6)]
    # No auth given: this process resolves it from its environment and sends it along.
    result = await Fleet(uris, processes=2).run(_ops.exposure)
    assert len(result.succeeded) == 6, result.errors
    for r in result:
        assert r.value == {"environment": False, "os.environ": False, "command line": False}
    # The check can fail: this process has the password in its environment.
    assert os.environ["AIOHYPERV_PASSWORD"] == password


async def test_a_dying_worker_fails_its_hosts_not_the_run(marks: Path, backend: str) -> None:
    uris = [f"hyperv://hv{i:02d}:5985/?transport=http" for i in range(12)]
    result = await Fleet(uris, processes=2, batch_size=3, timeout=20).run(_ops.die_once)
    assert len(result) == 12
    dead = result.failed
    assert dead, "the hosts of the batch whose worker died"
    for r in dead:
        assert type(r.error) is HyperVError
        assert r.error.host == r.host
    assert all(r.value == r.host for r in result.succeeded)
    if backend == "dask":  # the other worker carries on; only the lost batch fails
        assert len(dead) == 3
        assert "not idempotent" in str(dead[0].error)
    else:  # a dead worker breaks a process pool: every unfinished batch fails
        assert "worker process running it exited" in str(dead[0].error)
    assert _worker_pids() == set()


async def test_an_idempotent_batch_lost_with_its_worker_runs_again(marks: Path) -> None:
    pytest.importorskip("distributed")
    uris = [f"hyperv://hv{i:02d}:5985/?transport=http" for i in range(12)]
    fleet = Fleet(uris, processes=2, batch_size=3, timeout=20)
    result = await fleet.run(_ops.die_once, idempotent=True)
    assert (marks / "died").exists()
    assert [r.value for r in result] == [r.host for r in result]  # every host, once


async def test_cancelling_the_run_stops_the_workers(marks: Path, backend: str) -> None:
    fifo = marks / "started"
    os.mkfifo(fifo)
    listening = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    uris = [f"hyperv://hv{i:02d}:5985/?transport=http" for i in range(20)]
    fleet = Fleet(uris, concurrency=4, processes=2, timeout=None)
    run = asyncio.create_task(fleet.run(_ops.signal_then_hang))
    loop = asyncio.get_running_loop()
    started = asyncio.Event()
    loop.add_reader(listening, started.set)  # a worker wrote: it is running a host
    try:
        async with asyncio.timeout(90):
            await started.wait()
    finally:
        loop.remove_reader(listening)
        os.close(listening)
    assert _worker_pids(), "the workers should be running"
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    assert _worker_pids() == set()


async def test_what_cannot_run_in_worker_processes_is_refused_early() -> None:
    uris = ["hyperv://hv01:5985/?transport=http", "hyperv://hv02:5985/?transport=http"]
    with pytest.raises(ConfigError, match="processes must be at least 1"):
        Fleet(uris, processes=0)
    with pytest.raises(ConfigError, match="batch_size must be at least 1"):
        Fleet(uris, processes=2, batch_size=0)
    with pytest.raises(ConfigError, match="not both"):
        Fleet(uris, processes=2, cluster="tcp://127.0.0.1:8786")
    async with SessionPool() as pool:
        with pytest.raises(ConfigError, match="cannot be shared"):
            Fleet(uris, processes=2, pool=pool)
        with pytest.raises(ConfigError, match="cannot be shared"):
            Fleet(uris, cluster="tcp://127.0.0.1:8786", pool=pool)
    assert Fleet(uris, processes=1).processes == 1


def test_the_library_imports_no_dask() -> None:
    """Dask is imported only by a run that uses it (``cluster=`` or ``processes``)."""
    from tests.foundation.test_import_isolation import loaded_modules

    names = loaded_modules("import aiohyperv, aiohyperv.fleet\nfrom aiohyperv.fleet import Fleet")
    assert [n for n in names if n.split(".")[0] in ("dask", "distributed")] == []
    # The same check sees Dask once a cluster module is loaded (it can fail).
    names = loaded_modules("import aiohyperv.fleet._dask")
    assert "distributed" in names


async def test_a_result_that_cannot_cross_fails_that_host_only(marks: Path, backend: str) -> None:
    uris = [f"hyperv://hv{i:02d}:5985/?transport=http" for i in range(6)]
    result = await Fleet(uris, processes=2, batch_size=3).run(_ops.unpicklable_odd)
    assert [r.ok for r in result] == [True, False] * 3
    for r in result.failed:
        assert type(r.error) is HyperVError
        assert "could not be sent from the worker process" in str(r.error)
        assert r.error.host == r.host
    assert [r.value for r in result.succeeded] == [f"hv{i:02d}:5985" for i in (0, 2, 4)]


@pytest.mark.parametrize("level", [logging.DEBUG, logging.ERROR])
async def test_workers_log_at_the_parents_level(
    level: int, marks: Path, backend: str, capfd: pytest.CaptureFixture[str]
) -> None:
    log = logging.getLogger("aiohyperv")
    saved = log.level
    log.setLevel(level)
    try:
        uris = [f"hyperv://hv{i:02d}:5985/?transport=http" for i in range(4)]
        result = await Fleet(uris, concurrency=2, processes=2).run(_ops.logs)
    finally:
        log.setLevel(saved)
    assert len(result.succeeded) == 4
    _, err = capfd.readouterr()
    lines = [line for line in err.splitlines() if "debug line for" in line]
    if level == logging.DEBUG:
        assert lines, "the workers ran hosts and should have logged"
        assert all(line.startswith("aiohyperv.test[worker ") for line in lines)
    else:
        assert lines == []
    assert "distributed." not in err  # Dask's own lines stay quiet
