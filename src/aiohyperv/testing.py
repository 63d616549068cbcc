"""Helpers for testing code that talks to Hyper-V, against the embedded simulator.

Start simulated hosts inside a test, get their URIs, poke at their state::

    from aiohyperv.testing import run_simulator

    async def test_inventory():
        async with run_simulator(HostSpec(name="hv01", vms=3)) as sim:
            uri = sim.uris[0]              # hyperv://admin@127.0.0.1:PORT/?transport=http
            sim.hosts[0].faults.latency = 0.05
            ...

Everything listens on 127.0.0.1 and is closed when the block ends, so tests stay hermetic and
``filterwarnings = error`` finds nothing left open.

Hosts accept Basic and plaintext HTTP by default (the ``lab`` preset);
``HostSpec.windows_defaults(name="hv01")`` gives one that authenticates like a fresh Windows
Server: Basic refused, and over HTTP only NTLM with WinRM message encryption gets through.

For pytest, ``pytest_plugins = ["aiohyperv.testing"]`` adds the ``hyperv_simulator`` fixture,
a factory: ``sim = await hyperv_simulator(HostSpec(name="hv01"))``, closed after the test.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Literal

from aiohyperv.simulator import (
    CertificateMapping,
    FaultConfig,
    HostSpec,
    SimulatedHost,
    SimulatorServer,
    generate_fleet,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

__all__ = [
    "CertificateMapping",
    "FaultConfig",
    "HostSpec",
    "SimulatedHost",
    "SimulatorServer",
    "generate_fleet",
    "hyperv_simulator",
    "run_simulator",
]


def _hosts(items: tuple[HostSpec | SimulatedHost, ...]) -> list[SimulatedHost]:
    if not items:
        return [SimulatedHost.generate(HostSpec(name="hv01"))]
    return [i if isinstance(i, SimulatedHost) else SimulatedHost.generate(i) for i in items]


@contextlib.asynccontextmanager
async def run_simulator(
    *hosts: HostSpec | SimulatedHost,
    transport: Literal["http", "https"] = "http",
    per_host_address: bool = False,
    client_ca_pem: bytes | None = None,
) -> AsyncIterator[SimulatorServer]:
    """Serve simulated hosts on 127.0.0.1 for the duration of the block.

    Args:
        hosts: specs (generated for you) or ready hosts; one default host ``hv01`` if none.
        transport: ``"http"`` or ``"https"`` (self-signed certificate; URIs carry
            ``no_verify=1`` and ``server.certificate_pem`` holds the certificate).
        per_host_address: one loopback address per host (127.0.0.2, .3, ...) instead of one
            port per host.
        client_ca_pem: HTTPS only: the CA whose client certificates the listener accepts, for
            hosts with ``client_certificates`` mappings (certificate authentication).

    Yields:
        The running :class:`SimulatorServer` (``.uris``, ``.urls``, ``.hosts``).
    """
    server = SimulatorServer(
        _hosts(hosts),
        transport=transport,
        per_host_address=per_host_address,
        client_ca_pem=client_ca_pem,
    )
    async with server:
        yield server


async def _factory_fixture() -> AsyncIterator[
    Callable[..., Awaitable[SimulatorServer]]
]:  # pragma: no cover - exercised through pytest
    stack = contextlib.AsyncExitStack()

    async def start(
        *hosts: HostSpec | SimulatedHost,
        transport: Literal["http", "https"] = "http",
        client_ca_pem: bytes | None = None,
    ) -> SimulatorServer:
        return await stack.enter_async_context(
            run_simulator(*hosts, transport=transport, client_ca_pem=client_ca_pem)
        )

    async with stack:
        yield start


#: The pytest fixture (``None`` where pytest-asyncio is not installed).
hyperv_simulator: object
try:  # the fixture exists only where pytest-asyncio does (test environments)
    import pytest_asyncio

    hyperv_simulator = pytest_asyncio.fixture(_factory_fixture, name="hyperv_simulator")
except ImportError:  # pragma: no cover - production installs without the test extras
    hyperv_simulator = None
