"""A faithful Hyper-V WS-Management simulator: the embedded default for tests, demo and benchmarks.

It answers ``POST /wsman`` the way a Hyper-V host's WinRM service does -- Basic, NTLM through
Negotiate with WinRM message encryption, and client certificates over HTTPS (Basic and
plaintext HTTP can be refused like a fresh Windows Server: ``HostSpec.windows_defaults(...)``,
``aiohyperv simulate --auth-defaults windows``), SOAP 1.2 envelopes and faults shaped like
recorded Windows traffic, WQL over ``root/virtualization/v2``, ``root/virtualization``
(2008 R2) and ``root/cimv2``, enumerations with expiring contexts, and methods that change VM
state over simulated time through ``Msvm_ConcreteJob`` -- so an independently written WS-Man
client can inventory and operate it.

Typical use::

    hosts = generate_fleet(3, 10, seed=1)
    async with SimulatorServer(hosts) as server:
        print(server.uris)   # hyperv://admin@127.0.0.1:PORT/?transport=http

Under pytest-aiohttp, ``await aiohttp_server(make_app(SimulatedHost.generate(HostSpec(...))))``.
"""

from __future__ import annotations

from aiohyperv.simulator._app import ROUTER_KEY, HostRouter, make_app
from aiohyperv.simulator._auth import CertificateMapping
from aiohyperv.simulator._cli import cli_main
from aiohyperv.simulator._faults import FaultConfig
from aiohyperv.simulator._host import (
    AUTH_DEFAULTS,
    OS_PROFILES,
    VM,
    AuthDefaults,
    HostSpec,
    Job,
    SimulatedHost,
    VMState,
)
from aiohyperv.simulator._server import (
    DEFAULT_OS_MIX,
    SimulatorServer,
    generate_fleet,
    self_signed_context,
)

__all__ = [
    "AUTH_DEFAULTS",
    "DEFAULT_OS_MIX",
    "OS_PROFILES",
    "ROUTER_KEY",
    "VM",
    "AuthDefaults",
    "CertificateMapping",
    "FaultConfig",
    "HostRouter",
    "HostSpec",
    "Job",
    "SimulatedHost",
    "SimulatorServer",
    "VMState",
    "cli_main",
    "generate_fleet",
    "make_app",
    "self_signed_context",
]
