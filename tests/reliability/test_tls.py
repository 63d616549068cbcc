"""TLS: verification on by default, clear errors for a wrong name or an untrusted CA, and a
``no_verify`` that has to be asked for and is logged (a warning once per host).

The simulator serves HTTPS with certificates from test CAs (trustme) on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import pytest
import trustme

from aiohyperv._config import parse_uri
from aiohyperv._credentials import Credentials
from aiohyperv._exceptions import ConnectError
from aiohyperv._transport import SessionPool, TLSOptions
from aiohyperv.hyperv import connect
from aiohyperv.simulator import HostSpec, SimulatedHost, SimulatorServer

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

CREDS = Credentials(username="admin", password="secret")


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def _pem(tmp_path: Path, name: str, blob: trustme.Blob) -> str:
    path = tmp_path / name
    blob.write_to_path(str(path))
    return str(path)


async def _serve(cert_file: str, hosts: int = 1) -> SimulatorServer:
    return SimulatorServer(
        [SimulatedHost.generate(HostSpec(name=f"hv{i}", vms=1)) for i in range(hosts)],
        transport="https",
        certfile=cert_file,
    )


@pytest.fixture
async def right_name(ca: trustme.CA, tmp_path: Path) -> AsyncIterator[SimulatorServer]:
    cert = ca.issue_cert("127.0.0.1", "localhost")
    server = await _serve(_pem(tmp_path, "right.pem", cert.private_key_and_cert_chain_pem), 2)
    async with server:
        yield server


@pytest.fixture
async def wrong_name(ca: trustme.CA, tmp_path: Path) -> AsyncIterator[SimulatorServer]:
    cert = ca.issue_cert("hv-other.example.com")
    server = await _serve(_pem(tmp_path, "wrong.pem", cert.private_key_and_cert_chain_pem))
    async with server:
        yield server


def _uri(server: SimulatorServer, index: int = 0, query: str = "") -> str:
    address, port = server.endpoints[index]
    return f"hyperv://admin@{address}:{port}/{query}"


def test_verification_is_the_default() -> None:
    assert TLSOptions().verify is True
    uri = parse_uri("hyperv://admin@hv01.example.com/")
    assert (uri.transport, uri.no_verify) == ("https", False)


async def test_trusted_ca_and_right_name_connect(
    right_name: SimulatorServer, ca: trustme.CA, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    tls = TLSOptions(ca_file=_pem(tmp_path, "ca.pem", ca.cert_pem))
    async with asyncio.timeout(30), SessionPool(tls=tls) as pool:
        async with connect(_uri(right_name), auth=CREDS, pool=pool) as conn:
            assert await conn.get_hostname()
    assert "verification is off" not in caplog.text


async def test_untrusted_ca_fails_by_default(right_name: SimulatorServer) -> None:
    """No options at all: the system store does not know the test CA."""
    async with asyncio.timeout(30):
        with pytest.raises(ConnectError) as info:
            async with connect(_uri(right_name), auth=CREDS):
                pass
    text = str(info.value)
    assert "TLS certificate" in text and "failed verification" in text
    assert "certificate verify failed" in text  # OpenSSL's own reason, kept in the message
    assert "no_verify=1" in text  # and what to do about it
    assert info.value.host == right_name.endpoints[0][0] + ":" + str(right_name.endpoints[0][1])


async def test_other_ca_fails(right_name: SimulatorServer, tmp_path: Path) -> None:
    tls = TLSOptions(ca_file=_pem(tmp_path, "other.pem", trustme.CA().cert_pem))
    async with asyncio.timeout(30), SessionPool(tls=tls) as pool:
        with pytest.raises(ConnectError, match="failed verification") as info:
            await pool.session(parse_uri(_uri(right_name)), CREDS).identify()
    assert "unable to get local issuer certificate" in str(info.value)


async def test_wrong_host_name_fails_and_says_so(
    wrong_name: SimulatorServer, ca: trustme.CA, tmp_path: Path
) -> None:
    """Trusted CA, but the certificate names another host: refused, naming the mismatch."""
    tls = TLSOptions(ca_file=_pem(tmp_path, "ca.pem", ca.cert_pem))
    async with asyncio.timeout(30), SessionPool(tls=tls) as pool:
        with pytest.raises(ConnectError) as info:
            async with connect(_uri(wrong_name), auth=CREDS, pool=pool):
                pass
    text = str(info.value)
    assert "failed verification" in text
    assert "mismatch" in text and "127.0.0.1" in text


async def test_no_verify_is_explicit_and_warned_once_per_host(
    wrong_name: SimulatorServer, right_name: SimulatorServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="aiohyperv")
    uris = [_uri(wrong_name, 0, "?no_verify=1"), _uri(right_name, 1, "?no_verify=1")]
    async with asyncio.timeout(60), SessionPool() as pool:
        for _ in range(3):  # several connections and sessions per host: still one warning each
            for uri in uris:
                async with connect(uri, auth=CREDS, pool=pool) as conn:
                    assert await conn.get_hostname()
    warnings = [r for r in caplog.records if "verification is off" in r.getMessage()]
    assert len(warnings) == 2
    assert {r.levelno for r in warnings} == {logging.WARNING}
    for record, uri in zip(warnings, uris, strict=True):
        assert parse_uri(uri).host_label in record.getMessage()
        assert "no_verify=1" in record.getMessage()


async def test_pool_wide_verify_off_is_warned_too(
    right_name: SimulatorServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="aiohyperv")
    async with asyncio.timeout(30), SessionPool(tls=TLSOptions(verify=False)) as pool:
        async with connect(_uri(right_name), auth=CREDS, pool=pool) as conn:
            assert await conn.get_hostname()
    messages = [r.getMessage() for r in caplog.records if "verification is off" in r.getMessage()]
    assert len(messages) == 1 and "TLSOptions(verify=False)" in messages[0]


async def test_plain_http_is_never_silently_upgraded_or_downgraded() -> None:
    """Without ``transport=http`` the default is HTTPS on 5986; HTTP needs asking for too."""
    assert parse_uri("hyperv://hv01/").endpoint == "https://hv01:5986/wsman"
    assert parse_uri("hyperv://hv01/?transport=http").endpoint == "http://hv01:5985/wsman"
