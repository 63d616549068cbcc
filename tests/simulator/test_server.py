"""SimulatorServer: fleets on ports or addresses, HTTPS, URIs, the CLI, the testing helpers."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import ssl
import sys
from typing import TYPE_CHECKING

import aiohttp
import pytest

from aiohyperv._config import parse_uri
from aiohyperv._exceptions import ConfigError
from aiohyperv.cim import CimInstance
from aiohyperv.simulator import HostSpec, SimulatedHost, SimulatorServer, generate_fleet
from aiohyperv.simulator._server import _self_signed_pem
from aiohyperv.testing import hyperv_simulator, run_simulator
from aiohyperv.wsman import (
    Filter,
    build_enumerate,
    build_get,
    parse_enumerate,
    parse_get,
    parse_response,
    resource_uri,
    wildcard_uri,
)

from ._helpers import RawClient

if TYPE_CHECKING:
    from pathlib import Path

CS_NAME = "Win32_ComputerSystem"
__all__ = ["hyperv_simulator"]  # the fixture, imported so pytest finds it


async def computer_name(session: aiohttp.ClientSession, url: str, **kwargs: object) -> str:
    """Ask the host at ``url`` for its Win32_ComputerSystem.Name (a WQL projection)."""
    client = RawClient(session, url)
    body = build_enumerate(
        wildcard_uri("root/cimv2"),
        options=client.options,
        filter=Filter.wql(f"SELECT Name FROM {CS_NAME}"),
    )
    headers = {"Content-Type": "application/soap+xml;charset=UTF-8", "Authorization": client.auth}
    async with session.post(url, data=body, headers=headers, **kwargs) as resp:  # type: ignore[arg-type]
        assert resp.status == 200
        (item,) = parse_enumerate(parse_response(await resp.read())).items
    assert isinstance(item, CimInstance)
    return str(item.get_str("Name"))


async def test_each_port_serves_its_own_host() -> None:
    hosts = generate_fleet(3, 2, seed=1)
    async with SimulatorServer(hosts) as server, aiohttp.ClientSession() as session:
        assert len({port for _, port in server.endpoints}) == 3
        names = [await computer_name(session, url) for url in server.urls]
    assert names == ["HV001", "HV002", "HV003"]


async def test_hosts_on_their_own_loopback_addresses() -> None:
    hosts = generate_fleet(2, 1, seed=1)
    async with SimulatorServer(hosts, per_host_address=True) as server:
        assert [a for a, _ in server.endpoints] == ["127.0.0.2", "127.0.0.3"]
        async with aiohttp.ClientSession() as session:
            names = [await computer_name(session, url) for url in server.urls]
    assert names == ["HV001", "HV002"]


def free_port_pair() -> int:
    for _ in range(50):
        with socket.socket() as one:
            one.bind(("127.0.0.1", 0))
            port = int(one.getsockname()[1])
        with socket.socket() as two:
            try:
                two.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise AssertionError("no free port pair")


async def test_consecutive_fixed_ports() -> None:
    port = free_port_pair()
    async with SimulatorServer(generate_fleet(2, 1), port=port) as server:
        assert [p for _, p in server.endpoints] == [port, port + 1]


async def test_uris_parse_as_connection_uris() -> None:
    async with SimulatorServer(generate_fleet(2, 1, username="ops")) as server:
        for uri, (address, port) in zip(server.uris, server.endpoints, strict=True):
            parsed = parse_uri(uri)
            assert (parsed.hostname, parsed.port, parsed.transport) == (address, port, "http")
            assert parsed.username == "ops"
            assert parsed.endpoint == f"http://{address}:{port}/wsman"


async def test_https_with_the_self_signed_certificate() -> None:
    async with SimulatorServer(generate_fleet(1, 1), transport="https") as server:
        assert server.urls[0].startswith("https://127.0.0.1:")
        parsed = parse_uri(server.uris[0])
        assert parsed.transport == "https" and parsed.no_verify
        assert server.certificate_pem is not None
        trusted = ssl.create_default_context(cadata=server.certificate_pem.decode())
        async with aiohttp.ClientSession() as session:
            assert await computer_name(session, server.urls[0], ssl=trusted) == "HV001"
            with pytest.raises(aiohttp.ClientConnectorCertificateError):
                await computer_name(session, server.urls[0])


async def test_https_with_a_given_certificate(tmp_path: Path) -> None:
    cert, key = _self_signed_pem()
    (tmp_path / "cert.pem").write_bytes(cert)
    (tmp_path / "key.pem").write_bytes(key)
    server = SimulatorServer(
        generate_fleet(1, 1),
        transport="https",
        certfile=str(tmp_path / "cert.pem"),
        keyfile=str(tmp_path / "key.pem"),
    )
    async with server, aiohttp.ClientSession() as session:
        assert await computer_name(session, server.urls[0], ssl=False) == "HV001"
        assert server.certificate_pem == cert


def test_bad_arguments() -> None:
    with pytest.raises(ConfigError):
        SimulatorServer([])
    with pytest.raises(ConfigError):
        SimulatorServer(generate_fleet(1, 1), transport="ftp")  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        generate_fleet(2, 1, os_mix={"2003": 1.0})
    with pytest.raises(ConfigError):
        generate_fleet(-1, 1)


async def test_run_simulator_helper() -> None:
    async with run_simulator(HostSpec(name="hv9", vms=2), HostSpec(name="old", os="2008R2")) as sim:
        assert [h.spec.name for h in sim.hosts] == ["hv9", "old"]
        assert len(sim.uris) == 2
        async with aiohttp.ClientSession() as session:
            client = RawClient(session, sim.urls[1])
            body = build_get(
                resource_uri("root/virtualization", "Msvm_ComputerSystem"),
                options=client.options,
                selectors={"CreationClassName": "Msvm_ComputerSystem", "Name": "OLD"},
            )
            status, data = await client.post(body)
            assert status == 200
            assert parse_get(parse_response(data)).get_str("Description") == (
                "Microsoft Hosting Computer System"
            )
    assert "stopped" in repr(sim)


async def test_pytest_fixture(hyperv_simulator) -> None:
    sim = await hyperv_simulator(HostSpec(name="fx", vms=1))
    host = sim.hosts[0]
    assert isinstance(host, SimulatedHost)
    async with aiohttp.ClientSession() as session:
        assert await computer_name(session, sim.urls[0]) == "FX"


async def test_cli_prints_uris_and_serves_until_interrupted() -> None:
    code = "import sys; from aiohyperv.simulator import cli_main; sys.exit(cli_main(sys.argv[1:]))"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        code,
        "--hosts",
        "2",
        "--vms",
        "3",
        "--seed",
        "4",
        "--username",
        "ops",
        "--password",
        "pw",
        "--latency-ms",
        "1",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        async with asyncio.timeout(30):
            while not lines or not lines[-1].startswith("serving"):
                line = (await proc.stdout.readline()).decode()
                assert line, "the simulator exited early"
                lines.append(line.strip())
        uris = [line.split()[0] for line in lines if line.startswith("hyperv://")]
        assert len(uris) == 2 and all(u.startswith("hyperv://ops@127.0.0.1:") for u in uris)
        endpoint = parse_uri(uris[0]).endpoint
        async with aiohttp.ClientSession() as session:
            client = RawClient(session, endpoint, "ops", "pw")
            status, _ = await client.post(
                build_get(
                    resource_uri("root/cimv2", CS_NAME),
                    options=client.options,
                    selectors={"Name": "HV001"},
                )
            )
            assert status == 200
        proc.send_signal(signal.SIGINT)
        async with asyncio.timeout(30):
            assert await proc.wait() == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            with contextlib.suppress(ProcessLookupError):
                await proc.wait()
