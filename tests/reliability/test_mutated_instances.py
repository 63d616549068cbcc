"""Instances with unexpected, missing or mistyped properties, through the whole driver.

Real simulator traffic passes through a mutating proxy (see ``_mutate.py``); a scripted
session of driver calls runs against it.  Every call must succeed or raise a ``HyperVError``
subclass; a ``KeyError``, ``ValueError``, ``TypeError``, ``AttributeError``... escaping is a bug.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from aiohyperv._credentials import Credentials
from aiohyperv._exceptions import CimMethodError, HyperVError, ProtocolError
from aiohyperv._transport import Limits, Timeouts
from aiohyperv.fleet import inventory_host
from aiohyperv.hyperv import DomainState, connect
from aiohyperv.testing import HostSpec, run_simulator

from ._mutate import KINDS, MutatingProxy, Plan

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

CREDS = Credentials(username="admin", password="secret")
TIMEOUTS = Timeouts(connect=2.0, read=5.0, total=10.0, operation=2.0)
GUARD = 60.0


@dataclass
class Outcome:
    ok: list[str] = field(default_factory=list)
    typed: dict[str, str] = field(default_factory=dict)


async def _step(out: Outcome, name: str, aw: Awaitable[Any]) -> Any:
    try:
        result = await aw
    except HyperVError as exc:
        out.typed[name] = type(exc).__name__
        return None
    out.ok.append(name)
    return result


async def drive(uri: str) -> Outcome:
    """A read-mostly tour of the driver; anything but a HyperVError propagates."""
    out = Outcome()
    try:
        conn = await connect(
            uri, auth=CREDS, timeouts=TIMEOUTS, limits=Limits(max_pulls=200), job_timeout=1.0
        )
    except HyperVError as exc:
        out.typed["connect"] = type(exc).__name__
        return out
    try:
        await _step(out, "hostname", conn.get_hostname())
        await _step(out, "version", conn.get_version())
        await _step(out, "node_info", conn.node_info())
        await _step(out, "capabilities", conn.get_capabilities())
        await _step(out, "free_memory", conn.get_free_memory())
        await _step(out, "networks", conn.list_networks())
        await _step(out, "inventory", inventory_host(conn))
        domains = await _step(out, "list_domains", conn.list_domains()) or []
        for dom in domains[:2]:
            await _step(out, "info", dom.info())
            await _step(out, "state", dom.state())
            await _step(out, "xml_desc", dom.xml_desc())
            await _step(out, "autostart", dom.get_autostart())
            await _step(out, "vcpus", dom.get_vcpus())
            await _step(out, "lookup_uuid", conn.lookup_domain_by_uuid(dom.guid))
        if domains:
            dom = domains[0]
            state = await _step(out, "state-before-change", dom.state())
            if state is not None and state[0] is DomainState.RUNNING:
                await _step(out, "suspend", dom.suspend())
            else:
                await _step(out, "start", dom.start())
    finally:
        await conn.aclose()
    return out


SEEDS = [
    (seed, KINDS[seed % len(KINDS)], ("2019", "2008R2", "2012")[seed % 3]) for seed in range(30)
]


@pytest.mark.parametrize(
    ("seed", "kind", "os_name"), SEEDS, ids=[f"{s}-{k}-{o}" for s, k, o in SEEDS]
)
async def test_mutated_instances_never_crash_the_driver(
    seed: int, kind: str, os_name: str, caplog: pytest.LogCaptureFixture
) -> None:
    spec = HostSpec(name="hv01", os=os_name, vms=3, seed=seed, job_duration=0.01)
    plan = Plan(seed=seed, kind=kind, rate=0.25)
    async with run_simulator(spec) as sim:
        proxy = MutatingProxy(sim.urls[0], plan)
        port = await proxy.start()
        try:
            with caplog.at_level(logging.INFO, logger="aiohyperv"):
                async with asyncio.timeout(GUARD):
                    out = await drive(f"hyperv://admin@127.0.0.1:{port}/?transport=http&auth=basic")
        finally:
            await proxy.aclose()
    assert plan.hits > 0, "the plan mutated nothing: the test would prove nothing"
    assert out.ok or out.typed
    assert "secret" not in caplog.text


async def test_unmutated_tour_succeeds_everywhere() -> None:
    """The control: without mutations the same tour raises nothing at all."""
    for os_name in ("2019", "2008R2"):
        spec = HostSpec(name="hv01", os=os_name, vms=3, seed=1, job_duration=0.01)
        async with run_simulator(spec) as sim:
            proxy = MutatingProxy(sim.urls[0], Plan(seed=1, kind="drop", rate=0.0))
            port = await proxy.start()
            try:
                async with asyncio.timeout(GUARD):
                    out = await drive(f"hyperv://admin@127.0.0.1:{port}/?transport=http&auth=basic")
            finally:
                await proxy.aclose()
        assert out.typed == {}, out.typed
        assert {"connect", "inventory", "info", "xml_desc"} - {"connect", *out.ok} == set()


RETURN_VALUE_CASES: list[tuple[str, type[HyperVError] | None]] = [
    ("array", ProtocolError),  # duplicate ReturnValue
    ("garbage", ProtocolError),  # not an integer
    ("nested", ProtocolError),  # an element where a number belongs
    ("huge", CimMethodError),  # an integer, but no ReturnCode we know
    ("negative", CimMethodError),
]


@pytest.mark.parametrize(
    ("kind", "error"), RETURN_VALUE_CASES, ids=[c[0] for c in RETURN_VALUE_CASES]
)
async def test_return_value_mutations_through_the_driver(
    kind: str, error: type[HyperVError] | None
) -> None:
    """Duplicate, garbage or odd ReturnValues of a state change become typed errors."""
    spec = HostSpec(name="hv01", vms=2, seed=3, job_duration=0.01)
    plan = Plan(seed=0, kind=kind, only=("_OUTPUT",), names=("ReturnValue",))
    async with run_simulator(spec) as sim:
        proxy = MutatingProxy(sim.urls[0], plan)
        port = await proxy.start()
        try:
            async with (
                asyncio.timeout(GUARD),
                connect(
                    f"hyperv://admin@127.0.0.1:{port}/?transport=http&auth=basic",
                    auth=CREDS,
                    job_timeout=1.0,
                ) as conn,
            ):
                dom = (await conn.list_domains())[0]
                state, _ = await dom.state()
                change: Callable[[], Awaitable[None]] = (
                    dom.destroy if state is not DomainState.SHUTOFF else dom.start
                )
                assert error is not None
                with pytest.raises(error):
                    await change()
        finally:
            await proxy.aclose()
    assert plan.hits == 1


async def test_missing_return_value_is_an_error() -> None:
    """A method output without ReturnValue fails the call with a ProtocolError.

    Windows always sends ReturnValue; without one nobody can tell whether the host made the
    change, so the driver (``hyperv._jobs.check_result``) does not report success (libvirt's
    ``hypervInvokeMethod`` fails it too).  No crash, no hang, a typed error naming the method.
    """
    spec = HostSpec(name="hv01", vms=2, seed=3, job_duration=0.01)
    plan = Plan(seed=0, kind="drop", only=("_OUTPUT",), names=("ReturnValue",))
    async with run_simulator(spec) as sim:
        proxy = MutatingProxy(sim.urls[0], plan)
        port = await proxy.start()
        try:
            async with (
                asyncio.timeout(GUARD),
                connect(
                    f"hyperv://admin@127.0.0.1:{port}/?transport=http&auth=basic", auth=CREDS
                ) as conn,
            ):
                dom = (await conn.list_domains())[0]
                state, _ = await dom.state()
                change = dom.start if state is DomainState.SHUTOFF else dom.destroy
                with pytest.raises(ProtocolError, match="RequestStateChange answered without"):
                    await change()
        finally:
            await proxy.aclose()
    assert plan.hits == 1
