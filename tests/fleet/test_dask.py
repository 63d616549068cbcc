"""Fleet(cluster=...): a real Dask scheduler and workers on 127.0.0.1, a real simulated fleet.

Every process here is real: ``dask scheduler`` and ``dask worker`` are started as
subprocesses (``--no-nanny``, so killing one loses it for good), the simulated fleet runs in
a child process, and results are compared with an in-process run of the same fleet.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

pytest.importorskip("distributed")

from distributed import Client

from aiohyperv._credentials import Credentials
from aiohyperv._exceptions import HyperVError
from aiohyperv.fleet import Fleet
from aiohyperv.fleet._batches import is_secret_variable
from aiohyperv.fleet._dask import LOST_WORKER
from aiohyperv.fleet._inventory import inventory_op
from aiohyperv.simulator._demo import FleetSpec

from . import _ops

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from aiohyperv.fleet._model import HostInventory

pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.skipif(
        not Path("/proc/self/environ").exists(), reason="reads the workers' /proc entries"
    ),
]

REPO = Path(__file__).resolve().parents[2]
PASSWORD = f"pw-{uuid.uuid4().hex}"
HOSTS = 300
START_TIMEOUT = 120.0


@dataclasses.dataclass
class DaskCluster:
    """A scheduler and workers started as subprocesses; their output goes to files."""

    scheduler_file: Path
    logs: Path
    procs: dict[str, subprocess.Popen[bytes]]

    @contextlib.asynccontextmanager
    async def client(self, workers: int, security: Any = None) -> AsyncIterator[Client]:
        # The client waits for the scheduler file, then for the workers to join.
        async with (
            asyncio.timeout(START_TIMEOUT),
            Client(
                scheduler_file=str(self.scheduler_file), asynchronous=True, security=security
            ) as client,
        ):
            await client.wait_for_workers(workers)
            yield client

    def log_text(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.logs.iterdir()))

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                # A worker that knew a killed peer may spend its whole connect timeout saying
                # goodbye to it; these processes hold nothing worth a graceful exit.
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def start_cluster(
    where: Path,
    workers: dict[str, str | None],
    extra_env: dict[str, str] | None = None,
    *,
    scheduler_args: list[str] | None = None,
    worker_args: list[str] | None = None,
) -> DaskCluster:
    """``dask scheduler`` and one ``dask worker`` per name (with its ``--resources``)."""
    where.mkdir(parents=True, exist_ok=True)
    logs = where / "logs"
    logs.mkdir()
    scheduler_file = where / "scheduler.json"
    env = {k: v for k, v in os.environ.items() if not is_secret_variable(k)}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.update(extra_env or {})
    procs: dict[str, subprocess.Popen[bytes]] = {}

    def spawn(name: str, *args: str) -> None:
        with (logs / f"{name}.log").open("wb") as log:
            procs[name] = subprocess.Popen(
                [sys.executable, "-m", *args],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=REPO,
            )

    spawn(
        "scheduler",
        "distributed.cli.dask_scheduler",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--scheduler-file",
        str(scheduler_file),
        "--no-dashboard",
        *(scheduler_args or []),
    )
    for name, resources in workers.items():
        extra = ["--resources", resources] if resources else []
        spawn(
            name,
            "distributed.cli.dask_worker",
            "--scheduler-file",
            str(scheduler_file),
            "--nthreads",
            "1",
            "--no-nanny",
            "--no-dashboard",
            "--host",
            "127.0.0.1",
            "--name",
            name,
            *extra,
            *(worker_args or []),
        )
    return DaskCluster(scheduler_file=scheduler_file, logs=logs, procs=procs)


@pytest.fixture(scope="module")
def fleet_uris() -> Iterator[list[str]]:
    """A simulated fleet of 300 hosts served by a child process (the demo's own server)."""
    spec = FleetSpec(
        hosts=HOSTS, vms=2, seed=11, latency_min=0.001, latency_max=0.002, jitter=0.0,
        password=PASSWORD,
    )  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "aiohyperv.simulator._demo", json.dumps(dataclasses.asdict(spec))],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        line = proc.stdout.readline()  # the child prints its URIs once it serves
        assert line, "the simulated fleet did not start"
        yield list(json.loads(line)["uris"])
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
        proc.stdout.close()


@pytest.fixture(scope="module")
def sited_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaskCluster]:
    """Two workers, one per site."""
    cluster = start_cluster(
        tmp_path_factory.mktemp("dask"), {"worker-a": "site-a=1", "worker-b": "site-b=1"}
    )
    try:
        yield cluster
    finally:
        cluster.stop()


AUTH = Credentials(username="admin", password=PASSWORD)
_reference: dict[tuple[str, ...], list[Any]] = {}


def _stable(inventory: HostInventory | None) -> HostInventory | None:
    """The inventory without what moves between two runs (uptime, live CPU load)."""
    if inventory is None:
        return None
    vms = tuple(dataclasses.replace(vm, uptime=None, cpu_load=None) for vm in inventory.vms)
    return dataclasses.replace(inventory, vms=vms)


async def in_process(uris: list[str]) -> list[Any]:
    """The in-process inventory of ``uris`` (computed once per module)."""
    key = tuple(uris)
    if key not in _reference:
        result = await Fleet(uris, auth=AUTH, timeout=60).inventory()
        assert len(result.succeeded) == len(uris)
        _reference[key] = [(r.host, r.index, r.requests, _stable(r.value)) for r in result]
    return _reference[key]


def comparable(results: Any) -> list[Any]:
    return [(r.host, r.index, r.requests, _stable(r.value)) for r in results]


async def test_inventory_on_the_cluster_equals_the_in_process_one(
    sited_cluster: DaskCluster, fleet_uris: list[str]
) -> None:
    async with sited_cluster.client(2):
        address = json.loads(sited_cluster.scheduler_file.read_text())["address"]
        events: list[Any] = []
        # By address: the fleet opens (and closes) a client of its own.
        result = await Fleet(fleet_uris, auth=AUTH, timeout=60, cluster=address).inventory(
            on_event=events.append
        )
    assert len(result) == HOSTS and not result.failed
    assert comparable(result) == await in_process(fleet_uris)
    started = sorted(e.index for e in events if e.kind == "started")
    finished = [e for e in events if e.kind != "started"]
    assert started == list(range(HOSTS))
    assert sorted(e.index for e in finished) == list(range(HOSTS))
    assert [e.progress.done for e in finished] == list(range(1, HOSTS + 1))
    # Hosts are reported started as the workers start them, not when their batch returns:
    # while the first batches ran, other hosts were in flight.
    assert finished[0].progress.in_flight > 0


async def test_a_site_runs_only_on_its_workers(sited_cluster: DaskCluster) -> None:
    uris = [f"hyperv://hv{i:02d}:5985/?transport=http" for i in range(24)]
    sites = {uri: ("site-a" if i % 3 == 0 else "site-b") for i, uri in enumerate(uris[:18])}
    sites[uris[18]] = "site-c"  # no worker offers it
    async with sited_cluster.client(2) as client:
        fleet = Fleet(uris, cluster=client, sites=sites, batch_size=2)
        result = await fleet.run(_ops.worker_name, idempotent=True)
    assert len(result) == 24
    for i, r in enumerate(result.results[:18]):
        assert r.value == ("worker-a" if i % 3 == 0 else "worker-b"), r
    lost = result.results[18]
    assert isinstance(lost.error, HyperVError) and "'site-c'" in str(lost.error)
    assert {r.value for r in result.results[19:]} <= {"worker-a", "worker-b"}


def _proc_text(pid: int, what: str) -> str:
    """A process's command line or start environment, as the kernel shows them."""
    return Path(f"/proc/{pid}/{what}").read_bytes().decode(errors="replace")


def _scheduler_view(dask_scheduler: Any) -> str:
    """Every task's key and description as the scheduler holds them (run on the scheduler)."""
    return "\n".join(f"{key!r} {ts!r} {ts.run_spec!r}" for key, ts in dask_scheduler.tasks.items())


async def test_no_password_reaches_workers_keys_or_logs(
    sited_cluster: DaskCluster, fleet_uris: list[str], tmp_path: Path
) -> None:
    uris = fleet_uris[:40]
    seen: list[str] = []
    async with sited_cluster.client(2) as client:
        fleet = Fleet(uris, auth=AUTH, cluster=client, batch_size=4)
        async with contextlib.aclosing(fleet.stream(_ops.exposure, idempotent=True)) as stream:
            async for result in stream:
                assert result.value == {
                    "environment": False,
                    "os.environ": False,
                    "command line": False,
                }, result
                if not seen:  # mid-run: the other batches' tasks are on the scheduler
                    seen.append(await client.run_on_scheduler(_scheduler_view))
                    await client.dump_cluster_state(str(tmp_path / "state"), format="yaml")
                    seen.append((tmp_path / "state.yaml").read_text(errors="replace"))
                else:
                    seen.append(result.host)
        assert len(seen) == 41
        assert "aiohyperv-batch-" in seen[0]  # the view did show the batch tasks
        assert "Secrets" in seen[1] or "aiohyperv-batch-" in seen[1]
        for logs in (await client.get_worker_logs()).values():
            seen.extend(message for _, message in logs)
        seen.extend(message for _, message in await client.get_scheduler_logs())
        pids = await client.run(os.getpid)
        for pid in pids.values():
            for what in ("cmdline", "environ"):
                seen.append(_proc_text(pid, what))
    seen.append(sited_cluster.log_text())
    assert all(PASSWORD not in text for text in seen)


async def test_a_worker_lost_mid_run_costs_no_host(tmp_path: Path, fleet_uris: list[str]) -> None:
    cluster = start_cluster(tmp_path, {"worker-1": None, "worker-2": None})
    try:
        async with cluster.client(2) as client:
            pids: dict[str, int] = await client.run(os.getpid)
            fleet = Fleet(fleet_uris, auth=AUTH, timeout=60, cluster=client, batch_size=25)
            results = []
            killed = None
            async with contextlib.aclosing(fleet.stream(inventory_op)) as stream:
                async for result in stream:
                    results.append(result)
                    if killed is None:
                        # The first batch is back; kill a worker that is running another.
                        processing = await client.processing()
                        killed = next(addr for addr, keys in processing.items() if keys)
                        os.kill(pids[killed], signal.SIGKILL)
            assert killed is not None
            remaining = await client.run(os.getpid)
        assert killed not in remaining and len(remaining) == 1
    finally:
        cluster.stop()
    assert sorted(r.index for r in results) == list(range(HOSTS))  # every host exactly once
    results.sort(key=lambda r: r.index)
    assert all(r.ok for r in results), [r.error for r in results if not r.ok][:3]
    assert comparable(results) == await in_process(fleet_uris)


async def test_a_lost_worker_never_reruns_a_state_changing_batch(tmp_path: Path) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    cluster = start_cluster(
        tmp_path / "dask", {"worker-1": None, "worker-2": None}, {_ops.MARKS_ENV: str(marks)}
    )
    uris = [f"hyperv://hv{i:02d}:5985/?transport=http" for i in range(10)]
    try:
        async with cluster.client(2) as client:
            fleet = Fleet(uris, cluster=client, batch_size=5)
            result = await fleet.run(_ops.die_once)  # not declared idempotent
    finally:
        cluster.stop()
    assert (marks / "died").exists()
    assert len(result) == 10
    lost = [r for r in result if not r.ok]
    assert len(lost) == 5  # the batch whose worker died, and only it
    assert {r.index // 5 for r in lost} in ({0}, {1})
    for r in lost:
        assert isinstance(r.error, HyperVError)
        assert LOST_WORKER in str(r.error)
        assert r.error.host == r.host
    assert [r.value for r in result.succeeded] == [r.host for r in result.succeeded]


async def test_the_cli_runs_on_a_scheduler_with_sites(
    sited_cluster: DaskCluster, fleet_uris: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from .test_cli import parse, run

    monkeypatch.setenv("AIOHYPERV_USERNAME", "admin")
    monkeypatch.setenv("AIOHYPERV_PASSWORD", PASSWORD)
    monkeypatch.setenv("LIBVIRT_AUTH_FILE", str(REPO / "nonexistent-auth.conf"))
    address = json.loads(sited_cluster.scheduler_file.read_text())["address"]
    uris = fleet_uris[:6]
    site_args = [f"--site={uris[0]}=site-a", f"--site={uris[1]}=site-b"]
    code, out, err = await run(*uris, "--format", "json", "--scheduler", address, *site_args)
    assert code == 0, err
    doc = json.loads(out)
    assert doc["summary"]["hosts"] == 6
    expected = [v for _, _, _, v in (await in_process(fleet_uris))[:6]]
    assert sorted(h["hostname"] for h in doc["hosts"]) == sorted(v.hostname for v in expected)
    with pytest.raises(SystemExit):
        parse(*uris, "--scheduler", address, "--site", "no-equals-sign")


async def test_a_tls_cluster(tmp_path: Path, fleet_uris: list[str]) -> None:
    """Over ``tls://`` (certificates for every process, from a test CA), by address with Dask's
    TLS settings and with a client built on a ``Security``."""
    import dask.config
    import trustme
    from distributed.security import Security

    ca = trustme.CA()
    files = {"ca": tmp_path / "ca.pem", "cert": tmp_path / "cert.pem", "key": tmp_path / "key.pem"}
    ca.cert_pem.write_to_path(str(files["ca"]))
    issued = ca.issue_cert("127.0.0.1")
    issued.cert_chain_pems[0].write_to_path(str(files["cert"]))
    issued.private_key_pem.write_to_path(str(files["key"]))
    tls = ["--tls-ca-file", str(files["ca"]), "--tls-cert", str(files["cert"])]
    tls += ["--tls-key", str(files["key"])]
    cluster = start_cluster(
        tmp_path / "dask", {"worker-1": None}, scheduler_args=["--protocol", "tls", *tls],
        worker_args=tls,
    )  # fmt: skip
    security = Security(
        tls_ca_file=str(files["ca"]),
        tls_client_cert=str(files["cert"]),
        tls_client_key=str(files["key"]),
        require_encryption=True,
    )
    uris = fleet_uris[:20]
    try:
        async with cluster.client(1, security=security) as client:
            address: str = json.loads(cluster.scheduler_file.read_text())["address"]
            assert address.startswith("tls://")
            by_client = await Fleet(uris, auth=AUTH, cluster=client).inventory()
            settings = {
                "distributed.comm.tls.ca-file": str(files["ca"]),
                "distributed.comm.tls.client.cert": str(files["cert"]),
                "distributed.comm.tls.client.key": str(files["key"]),
            }
            with dask.config.set(settings):
                by_address = await Fleet(uris, auth=AUTH, cluster=address).inventory()
    finally:
        cluster.stop()
    expected = (await in_process(fleet_uris))[:20]
    assert comparable(by_client) == expected
    assert comparable(by_address) == expected


async def test_a_cluster_without_workers_fails_every_host() -> None:
    from distributed import LocalCluster

    uris = [f"hyperv://hv{i:02d}:5985/?transport=http" for i in range(3)]
    from aiohyperv.fleet._processes import LOOPBACK_SCHEDULER

    async with LocalCluster(**LOOPBACK_SCHEDULER) as empty:
        fleet = Fleet(uris, cluster=empty.scheduler_address, timeout=0.5)
        result = await fleet.run(_ops.worker_name, idempotent=True)
    assert [r.host for r in result.failed] == [f"hv{i:02d}:5985" for i in range(3)]
    for r in result.failed:
        assert isinstance(r.error, HyperVError) and "no Dask worker joined" in str(r.error)


async def test_the_cli_reports_scheduler_errors() -> None:
    import dask.config

    from .test_cli import run

    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{sock.getsockname()[1]}"
    code, _, err = await run("hv01", "--processes", "2", "--scheduler", address)
    assert code == 2 and "not both" in err
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        code, _, err = await run("hv01", "--scheduler", address)
    assert code == 1
    assert f"cannot reach the Dask scheduler at {address}" in err
