"""TLS from the command line: --ca-file, --client-cert/--client-key with ?auth=certificate,
--no-verify, and error lines whose advice names those options.

The simulator serves HTTPS with certificates from a test CA (trustme) on 127.0.0.1.
"""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING

import pytest
import trustme

from aiohyperv.cli import run
from aiohyperv.simulator import SimulatorServer, generate_fleet
from aiohyperv.simulator._auth import CertificateMapping

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AIOHYPERV_PASSWORD", "secret")
    monkeypatch.delenv("AIOHYPERV_USERNAME", raising=False)
    monkeypatch.setenv("LIBVIRT_AUTH_FILE", str(tmp_path / "missing-auth.conf"))


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


async def _https(ca: trustme.CA, tmp_path: Path, *names: str) -> SimulatorServer:
    cert = tmp_path / f"server-{names[0]}.pem"
    ca.issue_cert(*names).private_key_and_cert_chain_pem.write_to_path(str(cert))
    hosts = generate_fleet(
        1,
        2,
        client_certificates=(CertificateMapping(subject="admin@example.test", username="admin"),),
    )
    return SimulatorServer(
        hosts, transport="https", certfile=str(cert), client_ca_pem=ca.cert_pem.bytes()
    )


@pytest.fixture
async def right_name(ca: trustme.CA, tmp_path: Path) -> AsyncIterator[str]:
    async with await _https(ca, tmp_path, "127.0.0.1") as server:
        address, port = server.endpoints[0]
        yield f"{address}:{port}"


@pytest.fixture
async def wrong_name(ca: trustme.CA, tmp_path: Path) -> AsyncIterator[str]:
    async with await _https(ca, tmp_path, "hv-other.example.com") as server:
        address, port = server.endpoints[0]
        yield f"{address}:{port}"


async def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = await run(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


async def test_ca_file_option_verifies_the_host(right_name: str, ca_file: str) -> None:
    code, out, err = await cli(
        "-c", f"hyperv://admin@{right_name}/", "--ca-file", ca_file, "hostname"
    )
    assert code == 0, err
    assert out.strip()
    # After the command too, like --json; and for the fleet inventory.
    code, _, err = await cli(
        "-c", f"hyperv://admin@{right_name}/", "hostname", "--ca-file", ca_file
    )
    assert code == 0, err
    code, out, err = await cli(
        "inventory", f"hyperv://admin@{right_name}/", "--ca-file", ca_file, "--format", "json"
    )
    assert code == 0, err


async def test_untrusted_ca_advice_names_the_cli_options(right_name: str) -> None:
    code, _, err = await cli("-c", f"hyperv://admin@{right_name}/", "hostname")
    assert code == 1
    assert "--ca-file" in err and "--no-verify" in err
    assert "TLSOptions" not in err


async def test_no_verify_option(right_name: str) -> None:
    code, _, err = await cli("-c", f"hyperv://admin@{right_name}/", "--no-verify", "hostname")
    assert code == 0, err


async def test_host_name_mismatch_has_its_own_advice(wrong_name: str, ca_file: str) -> None:
    code, _, err = await cli(
        "-c", f"hyperv://admin@{wrong_name}/", "--ca-file", ca_file, "hostname"
    )
    assert code == 1
    assert "not issued for the name" in err
    assert "--ca-file" not in err  # trusting another CA would not help


async def test_client_certificate_auth_from_the_cli(
    right_name: str, ca: trustme.CA, ca_file: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AIOHYPERV_PASSWORD")  # no password anywhere: the certificate it is
    client = ca.issue_cert("admin@example.test")
    cert, key = tmp_path / "client.pem", tmp_path / "client.key"
    client.cert_chain_pems[0].write_to_path(str(cert))
    client.private_key_pem.write_to_path(str(key))
    uri = f"hyperv://admin@{right_name}/?auth=certificate"
    argv = ("-c", uri, "--ca-file", ca_file, "--client-cert", str(cert), "--client-key", str(key))
    code, out, err = await cli(*argv, "hostname")
    assert code == 0, err
    assert out.strip()
    code, _, err = await cli("-c", uri, "--client-key", str(key), "hostname")
    assert code == 1 and "--client-key needs --client-cert" in err


async def test_https_to_an_http_listener_hints_transport_http() -> None:
    from aiohyperv.testing import HostSpec, run_simulator

    async with run_simulator(HostSpec(name="hv-plain")) as sim:
        address, port = sim.endpoints[0]
        code, _, err = await cli("-c", f"hyperv://admin@{address}:{port}/", "hostname")
    assert code == 1
    assert "?transport=http" in err, err


async def test_tls_options_reach_worker_processes(right_name: str, ca_file: str) -> None:
    from aiohyperv.testing import HostSpec, run_simulator

    async with run_simulator(HostSpec(name="hv-plain", vms=1)) as plain:
        hosts = [f"hyperv://admin@{right_name}/", plain.uris[0]]
        code, out, err = await cli(
            "inventory", *hosts, "--ca-file", ca_file, "--processes", "2", "--format", "json"
        )
    assert code == 0, err
    assert len(json.loads(out)["hosts"]) == 2


async def test_inventory_failures_carry_the_same_advice(right_name: str) -> None:
    code, out, _ = await cli("inventory", f"hyperv://admin@{right_name}/")
    assert code == 1
    assert "1 host(s) failed" in out and "--ca-file" in out
