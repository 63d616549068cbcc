"""Namespace detection, cancellation, exported names and connection life cycle."""

from __future__ import annotations

import asyncio
import io

import pytest

import aiohyperv.hyperv
from aiohyperv._exceptions import CredentialsError, InvalidOperation
from aiohyperv.cli import run
from aiohyperv.hyperv import DomainState, connect
from aiohyperv.hyperv._connection import _namespace_for_version, _probe_namespace
from aiohyperv.testing import HostSpec, run_simulator

from .._arrivals import Arrivals, counted_simulator
from .conftest import AUTH


def test_exported_members() -> None:
    public = {n for n in dir(aiohyperv.hyperv) if not n.startswith("_")} - {"annotations"}
    modules = {n for n in public if isinstance(getattr(aiohyperv.hyperv, n), type(aiohyperv))}
    assert aiohyperv.hyperv.__all__ == sorted(public - modules, key=lambda n: (not n.isupper(), n))


@pytest.mark.parametrize(
    ("version", "namespace"),
    [("6.1.7601", "v1"), ("6.0.6002", "v1"), ("6.2.9200", "v2"), ("6.3.9600", "v2"),
     ("10.0.17763", "v2"), ("", None), ("ten", None)],
)  # fmt: skip
def test_namespace_for_version(version: str, namespace: str | None) -> None:
    assert _namespace_for_version(version) == namespace


@pytest.mark.parametrize(("os_name", "namespace"), [("2012", "v2"), ("2008R2", "v1")])
async def test_probe_namespace(os_name: str, namespace: str) -> None:
    async with run_simulator(HostSpec(name="hv01", os=os_name, vms=1)) as sim:
        async with connect(sim.uris[0], auth=AUTH) as conn:
            assert conn.namespace == namespace
            assert await _probe_namespace(conn.session) == namespace


async def test_cancelled_xml_desc_leaves_connection_usable() -> None:
    arrivals = Arrivals()
    async with counted_simulator(HostSpec(name="hv01", vms=3), arrivals) as (_host, uri):
        async with connect(uri, auth=AUTH) as conn:
            dom = (await conn.list_domains())[0]
            arrivals.gate.clear()  # requests are held at the server until it is set
            before = arrivals.count
            task = asyncio.create_task(dom.xml_desc())
            async with asyncio.timeout(30):
                await arrivals.reached(before + 1)  # a request of it is at the server
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            arrivals.gate.set()
            assert "<domain" in await dom.xml_desc()
            assert len(await conn.list_domains()) == 3


async def test_cancel_during_switch_lookup_closes_cleanly() -> None:
    arrivals = Arrivals()
    async with counted_simulator(HostSpec(name="hv01", vms=2), arrivals) as (_host, uri):
        conn = await connect(uri, auth=AUTH)
        arrivals.gate.clear()
        before = arrivals.count
        task = asyncio.create_task(conn.switch_names())
        async with asyncio.timeout(30):
            await arrivals.reached(before + 1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await conn.aclose()  # cancels the shared lookup still running
        assert conn.closed
        arrivals.gate.set()


async def test_closed_connection_refuses_work() -> None:
    async with run_simulator(HostSpec(name="hv01", vms=1)) as sim:
        conn = await connect(sim.uris[0], auth=AUTH)
        dom = (await conn.list_domains())[0]
        await conn.aclose()
        await conn.aclose()  # idempotent
        with pytest.raises(InvalidOperation, match="closed"):
            await conn.list_domains()
        with pytest.raises(InvalidOperation, match="closed"):
            await dom.start()
        assert "closed" in repr(conn)


async def test_shared_pool_outlives_connection() -> None:
    from aiohyperv._transport import SessionPool

    async with run_simulator(HostSpec(name="hv01", vms=2)) as sim, SessionPool() as pool:
        async with connect(sim.uris[0], auth=AUTH, pool=pool) as conn:
            assert len(await conn.list_domains()) == 2
        assert not pool.closed
        async with connect(sim.uris[0], auth=AUTH, pool=pool, read_only=True) as again:
            assert again.read_only and "read-only" in repr(again)
            assert (await again.list_domains())[0].cached_state in DomainState


async def test_missing_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.delenv("AIOHYPERV_PASSWORD", raising=False)
    monkeypatch.setenv("LIBVIRT_AUTH_FILE", "/nonexistent/auth.conf")
    with pytest.raises(CredentialsError):
        await connect("hyperv://admin@127.0.0.1:9/?transport=http")


async def test_cli_debug_logs_go_to_stderr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIOHYPERV_PASSWORD", "secret")
    async with run_simulator(HostSpec(name="hv01", vms=1)) as sim:
        out, err = io.StringIO(), io.StringIO()
        uri = sim.uris[0] + "&auth=basic"  # Basic over plain HTTP: the warning must show
        assert await run(["-d", "-c", uri, "hostname"], stdout=out, stderr=err) == 0
        assert out.getvalue() == "hv01\n"
        assert "Basic authentication" in err.getvalue()
        assert "secret" not in err.getvalue()


async def test_job_polling_falls_back_to_wql_when_get_is_refused() -> None:
    from aiohyperv._exceptions import InvalidSelectors
    from aiohyperv.hyperv import JobPolicy
    from aiohyperv.hyperv._jobs import wait_for_job

    async with run_simulator(HostSpec(name="hv01", vms=2, job_duration=0.02)) as sim:
        async with connect(sim.uris[0], auth=AUTH) as conn:
            dom = next(d for d in await conn.list_domains() if d.id >= 0)
            result = await conn.session.invoke(
                conn._cls("Msvm_ComputerSystem").resource_uri,
                "RequestStateChange",
                selectors={"CreationClassName": "Msvm_ComputerSystem", "Name": dom.guid},
                params={"RequestedState": 3},
            )
            assert result.job is not None
            gets = 0

            async def refuse(*args: object, **kwargs: object) -> None:
                nonlocal gets
                gets += 1
                raise InvalidSelectors("Get refused")

            conn.session.get = refuse  # type: ignore[assignment,method-assign]
            job = await wait_for_job(
                conn.session,
                result.job,
                method="RequestStateChange",
                namespace_uri=conn.job_namespace_uri(),
                policy=JobPolicy(initial=0.005, cap=0.02),
            )
            assert gets >= 1
            assert job.get_int("JobState") == 7
            assert job.get_str("InstanceID") == result.job.selector("InstanceID")
