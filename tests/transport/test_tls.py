"""HTTPS with a test CA (trustme): verification, refusal, no_verify, client certificates."""

from __future__ import annotations

import ssl
from typing import TYPE_CHECKING

import pytest
import trustme

from aiohyperv._config import parse_uri
from aiohyperv._exceptions import ConfigError, ConnectError
from aiohyperv._transport import SessionPool, TLSOptions, ssl_context

from .fakehost import RURI

if TYPE_CHECKING:
    from pathlib import Path

    from .conftest import FakeFactory

CERT_PROFILE = "http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/https/mutual"


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def server_ssl(ca: trustme.CA) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(ctx)
    return ctx


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


async def test_https_verified_with_test_ca(
    fakehost: FakeFactory, server_ssl: ssl.SSLContext, ca_file: str
) -> None:
    fake = await fakehost(ssl=server_ssl)
    assert fake.uri.transport == "https"
    async with SessionPool(tls=TLSOptions(ca_file=ca_file)) as pool:
        session = pool.session(fake.uri)
        info = await session.identify()
        inst = await session.get(RURI, {"Name": "tls"})
        assert pool.stats.opened == 1  # TLS connections are kept alive and reused too
    assert info["ProductVendor"] == "Microsoft Corporation"
    assert inst.get_str("Name") == "tls"


async def test_https_refused_with_wrong_ca(
    fakehost: FakeFactory, server_ssl: ssl.SSLContext, tmp_path: Path
) -> None:
    fake = await fakehost(ssl=server_ssl)
    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    async with SessionPool(tls=TLSOptions(ca_file=str(other))) as pool:
        with pytest.raises(ConnectError) as info:
            await pool.session(fake.uri).identify()
        assert pool.stats.opened == 0
    err = info.value
    assert err.host == fake.label
    assert "TLS certificate" in str(err) and "failed verification" in str(err)
    assert fake.host.attempts == {}  # no request ever reached the server


async def test_https_refused_by_default_system_store(
    fakehost: FakeFactory, server_ssl: ssl.SSLContext
) -> None:
    fake = await fakehost(ssl=server_ssl)
    async with SessionPool() as pool:
        with pytest.raises(ConnectError, match="failed verification"):
            await pool.session(fake.uri).identify()


async def test_no_verify_in_uri_skips_verification(
    fakehost: FakeFactory, server_ssl: ssl.SSLContext
) -> None:
    fake = await fakehost(ssl=server_ssl)
    uri = parse_uri(f"hyperv://127.0.0.1:{fake.uri.port}/?no_verify=1")
    async with SessionPool() as pool:
        assert (await pool.session(uri).identify())["ProductVendor"]


async def test_client_certificate_authentication(
    fakehost: FakeFactory, ca: trustme.CA, ca_file: str, tmp_path: Path
) -> None:
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
    server_ctx.verify_mode = ssl.CERT_REQUIRED
    ca.configure_trust(server_ctx)
    fake = await fakehost(ssl=server_ctx)
    client = tmp_path / "client.pem"
    ca.issue_cert("admin@example.test").private_key_and_cert_chain_pem.write_to_path(str(client))
    uri = parse_uri(f"hyperv://127.0.0.1:{fake.uri.port}/?auth=certificate")
    tls = TLSOptions(ca_file=ca_file, client_cert=str(client))
    async with SessionPool(tls=tls) as pool:
        await pool.session(uri).identify()
    assert fake.host.authorization == [CERT_PROFILE]


async def test_one_ssl_context_per_tls_setting(ca_file: str) -> None:
    tls = TLSOptions(ca_file=ca_file)
    hosts = [parse_uri(f"hyperv://hv{i}.example.test/") for i in range(3)]
    insecure = parse_uri("hyperv://hv9.example.test/?no_verify=1")
    async with SessionPool(tls=tls) as one, SessionPool(tls=TLSOptions(ca_file=ca_file)) as two:
        contexts = {
            id(pool.host(pool.key_for(uri, None))._ssl) for uri in hosts for pool in (one, two)
        }
        assert len(contexts) == 1  # shared by every host and every pool with equal settings
        unverified = one.host(one.key_for(insecure, None))._ssl
        assert unverified is not None
        assert id(unverified) not in contexts
        assert unverified.verify_mode == ssl.CERT_NONE
    assert ssl_context(tls) is ssl_context(TLSOptions(ca_file=ca_file))
    assert ssl_context(TLSOptions()).verify_mode == ssl.CERT_REQUIRED
    assert ssl_context(TLSOptions()).check_hostname


async def test_unreadable_ca_file_is_config_error(tmp_path: Path) -> None:
    tls = TLSOptions(ca_file=str(tmp_path / "missing.pem"))
    async with SessionPool(tls=tls) as pool:
        session = pool.session(parse_uri("hyperv://hv01/"))
        with pytest.raises(ConfigError, match=r"cannot load CA certificates") as info:
            await session.identify()
    assert info.value.host == "hv01:5986"
