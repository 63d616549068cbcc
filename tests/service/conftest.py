"""Fixtures of the service tests: stores on SQLite and on a throwaway PostgreSQL cluster,
simulated fleets served in-process, and a running service on a loopback port."""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from aiohyperv.service import Service, ServiceConfig, Store, parse_database_url
from aiohyperv.service._db import open_database
from aiohyperv.simulator._demo import DemoFleet, FleetSpec, simulated_fleet

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

pytest.importorskip("aiosqlite")


# --- PostgreSQL -----------------------------------------------------------------------------------
def _pg_bin() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(os.path.realpath(found)).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(candidates[-1]).parent if candidates else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A throwaway PostgreSQL cluster on 127.0.0.1 (trust auth), its DSN to the ``postgres``
    database; skipped when PostgreSQL's server binaries or asyncpg are missing.

    PostgreSQL refuses to run as root, so as root the cluster is run as the ``postgres`` user.
    """
    pytest.importorskip("asyncpg")
    bindir = _pg_bin()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries (initdb) not installed")
    as_user: list[str] = []
    if os.geteuid() == 0:
        runuser = shutil.which("runuser")
        try:
            import pwd

            pg_user = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' user to run PostgreSQL as")
        if runuser is None:
            pytest.skip("running as root without runuser")
        as_user = [runuser, "-u", "postgres", "--"]
    directory = tempfile.mkdtemp(prefix="aiohyperv-pg-")
    if as_user:
        os.chown(directory, pg_user.pw_uid, pg_user.pw_gid)
    data = os.path.join(directory, "data")
    port = _free_port()
    try:
        subprocess.run(
            [*as_user, str(bindir / "initdb"), "-D", data, "-U", "postgres", "--auth=trust",
             "-E", "UTF8", "--no-sync"],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {directory} -c fsync=off"
        subprocess.run(
            [*as_user, str(bindir / "pg_ctl"), "-D", data, "-o", options, "-w", "-t", "60",
             "-l", os.path.join(directory, "log"), "start"],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        shutil.rmtree(directory, ignore_errors=True)
        pytest.skip(f"could not start a PostgreSQL cluster: {exc}")
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*as_user, str(bindir / "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop"],
            capture_output=True, timeout=60, check=False,
        )  # fmt: skip
        shutil.rmtree(directory, ignore_errors=True)


_DB_NUMBERS = itertools.count(1)


@pytest.fixture
async def postgres_url(postgres_server: str) -> AsyncIterator[str]:
    """A fresh, empty database on the throwaway cluster; dropped afterwards."""
    import asyncpg

    name = f"aiohyperv_test_{os.getpid()}_{next(_DB_NUMBERS)}"
    conn = await asyncpg.connect(postgres_server)
    try:
        await conn.execute(f"CREATE DATABASE {name}")
    finally:
        await conn.close()
    yield postgres_server.rsplit("/", 1)[0] + f"/{name}"
    conn = await asyncpg.connect(postgres_server)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL of each backend (PostgreSQL skipped when it cannot be started)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'history.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    """A migrated store on each backend."""
    db = await open_database(parse_database_url(database_url))
    found = Store(db, sample_interval=3600.0)
    await found.migrate()
    try:
        yield found
    finally:
        await found.aclose()


# --- simulated fleets and services ----------------------------------------------------------------
@pytest.fixture
async def small_fleet() -> AsyncIterator[DemoFleet]:
    """Three simulated hosts of four VMs each, served in-process on 127.0.0.1, no latency."""
    spec = FleetSpec(hosts=3, vms=4, seed=7, latency_min=0.0, latency_max=0.0, jitter=0.0)
    async with simulated_fleet(spec, in_process=True) as fleet:
        yield fleet


TOKEN = "t0ken-for-the-tests-0123456789"


@contextlib.asynccontextmanager
async def running_service(
    fleet: DemoFleet, tmp_path: Path, *, interval: float = 3600.0, **config: object
) -> AsyncIterator[Service]:
    """A started service over ``fleet`` on an ephemeral loopback port (its first scheduled run
    starts at once; the next only after ``interval``)."""
    fields: dict[str, object] = {
        "interval": interval,
        "timeout": 10.0,
        "database": parse_database_url(f"sqlite:///{tmp_path / 'serve.db'}"),
        "listen": ("127.0.0.1", 0),
    }
    fields.update(config)
    settings = ServiceConfig(**fields)  # type: ignore[arg-type]  # ServiceConfig's own fields
    service = Service(settings, targets=fleet.uris, auth=fleet.auth, sample_interval=0.0)
    await service.start()
    try:
        yield service
    finally:
        await service.aclose()


def base_url(service: Service) -> str:
    host, port = service.addresses[0]
    return f"http://{host}:{port}"
