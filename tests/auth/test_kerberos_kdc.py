"""Kerberos end to end against a real MIT KDC started by the tests (``aiohyperv.simulator._kdc``).

The realm, its KDC (127.0.0.1 only) and every credential cache live in a temporary directory.
The library reads the realm's ``krb5.conf`` through ``KRB5_CONFIG`` and the user's ticket
through ``KRB5CCNAME``, both set per test, exactly as a user's shell would set them.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import re
import socket
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from aiohyperv import AuthenticationError, Credentials
from aiohyperv._auth import KERBEROS_PROTOCOL, SPNEGO_PROTOCOL, ClientAuth
from aiohyperv._auth._kerberos import forget_tickets
from aiohyperv.simulator import _kdc
from aiohyperv.simulator._auth import KerberosService, ServerAuthPolicy, UserTable
from tests._proxy import RecordingProxy

from .conftest import SOAP, ServerFactory, TLSMaterial, client_session, split_http_messages

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.skipif(_kdc.unavailable() is not None, reason=str(_kdc.unavailable()))

PASSWORD = "Kerberos-Pa55-word"
SHORT_PASSWORD = "Short-lived-Pa55"
HOSTS = ["localhost", "127.0.0.1"]
FLEET = [f"127.0.0.{i + 2}" for i in range(200)]


@pytest.fixture(scope="module")
def realm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_kdc.Realm]:
    realm = _kdc.start_realm(tmp_path_factory.mktemp("realm"))
    try:
        realm.add_user("alice", PASSWORD)
        realm.add_user("shorty", SHORT_PASSWORD, max_life="2 seconds")
        realm.add_services(HOSTS + FLEET)
        yield realm
    finally:
        realm.stop()


@pytest.fixture
def krb_env(realm: _kdc.Realm, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """Point this process's Kerberos library at the realm; an empty ccache of its own."""
    ccache = tmp_path / "ccache"
    monkeypatch.setenv("KRB5_CONFIG", realm.env["KRB5_CONFIG"])
    monkeypatch.setenv("KRB5CCNAME", f"FILE:{ccache}")
    forget_tickets()
    yield ccache
    forget_tickets()


def alice() -> Credentials:
    return Credentials(username=f"alice@{_kdc.REALM}", password=PASSWORD)


def table() -> UserTable:
    # alice's local account on the host; Kerberos maps alice@AIOHYPERV.TEST to it, and NTLM
    # (for the fallback tests) logs on with the same password.
    return UserTable({"alice": PASSWORD})


def kerberos_policy(realm: _kdc.Realm, **kw: object) -> ServerAuthPolicy:
    return ServerAuthPolicy(kerberos=KerberosService(keytab=str(realm.keytab)), **kw)  # type: ignore[arg-type]


def body(i: int) -> bytes:
    return SOAP % b"<w:Get xmlns:w='urn:test'>kerberos-%d-PLAINTEXT-MARKER</w:Get>" % i


def kdc_requests(realm: _kdc.Realm, kind: str) -> int:
    """How many tickets the KDC issued so far for AS_REQ (TGTs) or TGS_REQ (service tickets)."""
    log = realm.directory / "kdc.log"
    lines = log.read_text(errors="replace").splitlines()
    return sum(1 for line in lines if f" {kind} " in line and ": ISSUE: " in line)


# --- sealed HTTP ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "scheme", "protocol"),
    [("kerberos", "Kerberos", KERBEROS_PROTOCOL), ("negotiate", "Negotiate", SPNEGO_PROTOCOL)],
)
async def test_sealed_http(
    realm: _kdc.Realm,
    krb_env: Path,
    start_server: ServerFactory,
    method: str,
    scheme: str,
    protocol: str,
) -> None:
    if method == "negotiate":
        # Negotiate uses a ticket that is already there; kinit as a user would.
        realm.kinit(f"alice@{_kdc.REALM}", PASSWORD, krb_env)
        creds = None
    else:
        creds = alice()
    auth = ClientAuth(method, hostname="localhost", https=False, credentials=creds)  # type: ignore[arg-type]
    async with (
        start_server(kerberos_policy(realm), table=table()) as server,
        RecordingProxy(server.port) as proxy,
        client_session(limit=2) as session,
    ):
        for i in range(4):
            reply = await auth.post(session, proxy.url, body(i))
            assert reply.status == 200
            assert reply.sealed
            assert b"<Echo user='alice'>" in reply.body
            assert body(i) in reply.body
    assert server.seen.methods == ["kerberos"] * 4
    assert server.seen.sealed == [True] * 4
    wire = proxy.client_bytes() + proxy.server_bytes()
    assert b"PLAINTEXT-MARKER" not in wire
    assert b"Echo user" not in wire
    assert f'protocol="{protocol}"'.encode() in proxy.client_bytes()
    assert f'protocol="{protocol}"'.encode() in proxy.server_bytes()
    for c2s, _s2c in proxy.connections:
        first = split_http_messages(bytes(c2s))[0]
        assert first[1]["authorization"].startswith(f"{scheme} ")
    assert auth.stats.handshakes == len(proxy.connections)


async def test_ticket_from_users_ccache(
    realm: _kdc.Realm, krb_env: Path, start_server: ServerFactory
) -> None:
    # kinit, then no credentials at all: the ccache named by KRB5CCNAME is used.
    realm.kinit(f"alice@{_kdc.REALM}", PASSWORD, krb_env)
    auth = ClientAuth("kerberos", hostname="localhost", https=False)
    async with (
        start_server(kerberos_policy(realm), table=table()) as server,
        client_session() as session,
    ):
        reply = await auth.post(session, server.url, body(1))
    assert b"<Echo user='alice'>" in reply.body
    assert server.seen.methods == ["kerberos"]
    # The service ticket went into the user's cache, as with any Kerberos client.
    klist = await asyncio.create_subprocess_exec(
        "klist", "-c", f"FILE:{krb_env}", env=realm.env, stdout=asyncio.subprocess.PIPE
    )
    listing = (await klist.communicate())[0].decode()
    assert f"HTTP/localhost@{_kdc.REALM}" in listing


async def test_no_ticket_and_no_password_is_a_clear_error(
    realm: _kdc.Realm, krb_env: Path, start_server: ServerFactory
) -> None:
    auth = ClientAuth("kerberos", hostname="localhost", https=False)
    async with (
        start_server(kerberos_policy(realm), table=table()) as server,
        client_session() as session,
    ):
        with pytest.raises(AuthenticationError, match="run kinit"):
            await auth.post(session, server.url, body(0))
    assert server.seen.bodies == []


# --- HTTPS with channel binding ------------------------------------------------------------


@pytest.mark.parametrize("method", ["kerberos", "negotiate"])
async def test_https_with_channel_binding(
    realm: _kdc.Realm,
    krb_env: Path,
    start_server: ServerFactory,
    tls: TLSMaterial,
    method: str,
) -> None:
    policy = kerberos_policy(realm, server_certificate=tls.server_der)
    if method == "negotiate":
        realm.kinit(f"alice@{_kdc.REALM}", PASSWORD, krb_env)
    creds = alice() if method == "kerberos" else None
    auth = ClientAuth(method, hostname="localhost", https=True, credentials=creds)  # type: ignore[arg-type]
    assert not auth.encrypt
    async with (
        start_server(policy, ssl_context=tls.server_context(), table=table()) as server,
        client_session(ssl_context=tls.client_context()) as session,
    ):
        for i in range(2):
            reply = await auth.post(session, server.url, body(i))
            assert not reply.sealed
            assert b"<Echo user='alice'>" in reply.body
    assert server.seen.methods == ["kerberos", "kerberos"]
    assert server.seen.sealed == [False, False]


@pytest.mark.parametrize("method", ["kerberos", "negotiate"])
async def test_https_channel_binding_mismatch_is_refused(
    realm: _kdc.Realm,
    krb_env: Path,
    start_server: ServerFactory,
    tls: TLSMaterial,
    method: str,
) -> None:
    # The listener expects the bindings of another certificate (a TLS-terminating relay in
    # between would present its own): the authenticator's bindings do not match.
    other = tls.ca.issue_cert("elsewhere.example")
    import ssl

    other_der = ssl.PEM_cert_to_DER_cert(other.cert_chain_pems[0].bytes().decode("ascii"))
    policy = kerberos_policy(realm, server_certificate=other_der)
    if method == "negotiate":
        realm.kinit(f"alice@{_kdc.REALM}", PASSWORD, krb_env)
    creds = alice() if method == "kerberos" else None
    auth = ClientAuth(method, hostname="localhost", https=True, credentials=creds)  # type: ignore[arg-type]
    async with (
        start_server(policy, ssl_context=tls.server_context(), table=table()) as server,
        client_session(ssl_context=tls.client_context()) as session,
    ):
        with pytest.raises(AuthenticationError):
            await auth.post(session, server.url, body(0))
    assert server.seen.bodies == []


# --- failures ---------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["kerberos", "negotiate"])
async def test_wrong_password(
    realm: _kdc.Realm, krb_env: Path, start_server: ServerFactory, method: str
) -> None:
    wrong = Credentials(username=f"alice@{_kdc.REALM}", password="not-the-password")
    auth = ClientAuth(method, hostname="localhost", https=False, credentials=wrong)  # type: ignore[arg-type]
    async with (
        start_server(kerberos_policy(realm), table=table()) as server,
        client_session() as session,
    ):
        with pytest.raises(AuthenticationError) as info:
            await auth.post(session, server.url, body(0))
    if method == "kerberos":
        assert "refused the password" in str(info.value)
    assert "not-the-password" not in str(info.value)
    assert server.seen.bodies == []


async def test_expired_ticket(
    realm: _kdc.Realm, krb_env: Path, start_server: ServerFactory
) -> None:
    # shorty's tickets live 2 seconds at most (the principal's max life).
    realm.kinit(f"shorty@{_kdc.REALM}", SHORT_PASSWORD, krb_env)
    await _until_expired(realm, krb_env)
    auth = ClientAuth("kerberos", hostname="localhost", https=False)
    async with (
        start_server(kerberos_policy(realm), table=UserTable({"shorty": "x"})) as server,
        client_session() as session,
    ):
        with pytest.raises(AuthenticationError, match=r"expired.*kinit"):
            await auth.post(session, server.url, body(0))
    assert server.seen.bodies == []


async def _until_expired(realm: _kdc.Realm, ccache: Path) -> None:
    """Wait (at most 20 s) until ``klist -s`` says the ticket in ``ccache`` expired.

    A ticket's life is wall-clock time; this waits for Kerberos' own verdict on it rather
    than for a fixed delay.
    """
    for _ in range(400):
        proc = await asyncio.create_subprocess_exec(
            "klist", "-s", "-c", f"FILE:{ccache}", env=realm.env
        )
        if await proc.wait() != 0:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the short-lived ticket did not expire")


async def test_unknown_spn_names_the_spn(
    realm: _kdc.Realm, krb_env: Path, start_server: ServerFactory
) -> None:
    auth = ClientAuth("kerberos", hostname="nowhere.example.test", https=False, credentials=alice())
    async with (
        start_server(kerberos_policy(realm), table=table()) as server,
        client_session() as session,
    ):
        with pytest.raises(AuthenticationError, match=r"HTTP/nowhere\.example\.test"):
            await auth.post(session, server.url, body(0))
    assert server.seen.bodies == []


async def test_negotiate_falls_back_to_ntlm_only_when_allowed(
    realm: _kdc.Realm, krb_env: Path, start_server: ServerFactory
) -> None:
    realm.kinit(f"alice@{_kdc.REALM}", PASSWORD, krb_env)
    async with (
        start_server(kerberos_policy(realm), table=table()) as server,
        client_session() as session,
    ):
        # A ticket, but the KDC does not know the SPN: Negotiate with a password uses NTLM.
        with_password = ClientAuth(
            "negotiate",
            hostname="nowhere.example.test",
            https=False,
            credentials=Credentials(username="alice", password=PASSWORD),
        )
        reply = await with_password.post(session, server.url, body(1))
        assert b"<Echo user='alice'>" in reply.body
        # Without a password there is nothing to fall back to: the Kerberos reason is given.
        ticket_only = ClientAuth("negotiate", hostname="nowhere.example.test", https=False)
        with pytest.raises(AuthenticationError, match=r"HTTP/nowhere\.example\.test"):
            await ticket_only.post(session, server.url, body(2))
        # auth=kerberos never falls back, even with a password NTLM would accept.
        kerberos_only = ClientAuth(
            "kerberos", hostname="nowhere.example.test", https=False, credentials=alice()
        )
        with pytest.raises(AuthenticationError, match=r"HTTP/nowhere\.example\.test"):
            await kerberos_only.post(session, server.url, body(3))
        # With a known SPN, Negotiate takes Kerberos.
        reply = await ClientAuth("negotiate", hostname="localhost", https=False).post(
            session, server.url, body(4)
        )
        assert b"<Echo user='alice'>" in reply.body
    assert server.seen.methods == ["negotiate", "kerberos"]


async def test_kdc_down(
    realm: _kdc.Realm,
    krb_env: Path,
    start_server: ServerFactory,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    # A ticket-granting ticket in the cache, then the realm's KDC at a port where nothing
    # listens: no service ticket can be had.
    realm.kinit(f"alice@{_kdc.REALM}", PASSWORD, krb_env)
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        dead_port = closed.getsockname()[1]
    dead = _dead_kdc_conf(Path(realm.env["KRB5_CONFIG"]), tmp_path, dead_port)
    monkeypatch.setenv("KRB5_CONFIG", str(dead))
    before = kdc_requests(realm, "TGS_REQ"), kdc_requests(realm, "AS_REQ")
    async with (
        start_server(kerberos_policy(realm), table=table()) as server,
        client_session() as session,
    ):
        for creds in (None, alice()):  # from the cache, and with a password
            with pytest.raises(AuthenticationError, match="no Kerberos KDC could be reached"):
                await ClientAuth(
                    "kerberos", hostname="localhost", https=False, credentials=creds
                ).post(session, server.url, body(0))
        assert server.seen.bodies == []
        # Negotiate with a password carries on with NTLM.
        ntlm_creds = Credentials(username="alice", password=PASSWORD)
        reply = await ClientAuth(
            "negotiate", hostname="localhost", https=False, credentials=ntlm_creds
        ).post(session, server.url, body(1))
        assert b"<Echo user='alice'>" in reply.body
    assert server.seen.methods == ["negotiate"]
    assert (kdc_requests(realm, "TGS_REQ"), kdc_requests(realm, "AS_REQ")) == before


def _dead_kdc_conf(conf: Path, directory: Path, port: int) -> Path:
    dead = directory / "krb5-dead.conf"
    text = conf.read_text()
    dead.write_text(re.sub(r"kdc = 127\.0\.0\.1:\d+", f"kdc = 127.0.0.1:{port}", text))
    return dead


# --- logs -------------------------------------------------------------------------------------


async def test_no_secrets_in_debug_logs(
    realm: _kdc.Realm,
    krb_env: Path,
    start_server: ServerFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    auth = ClientAuth("kerberos", hostname="localhost", https=False, credentials=alice())
    async with (
        start_server(kerberos_policy(realm), table=table()) as server,
        RecordingProxy(server.port) as proxy,
        client_session() as session,
    ):
        for i in range(2):
            await auth.post(session, proxy.url, body(i))
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert caplog.records, "nothing was logged at DEBUG: the scan below would prove nothing"
    assert PASSWORD not in text
    # Every base64 token that crossed the wire (Authorization / WWW-Authenticate values).
    tokens: list[str] = []
    for c2s, s2c in proxy.connections:
        for _start, headers, _payload in split_http_messages(bytes(c2s)) + split_http_messages(
            bytes(s2c)
        ):
            for name in ("authorization", "www-authenticate"):
                _scheme, _, token = headers.get(name, "").partition(" ")
                if token:
                    tokens.append(token)
    assert tokens
    for token in tokens:
        assert token not in text
        assert token[:24] not in text
        raw = base64.b64decode(token)
        assert raw.hex() not in text


# --- a fleet on one ticket ----------------------------------------------------------------------


@pytest.mark.parametrize("source", ["ccache", "password"])
async def test_fleet_of_200_hosts_on_one_ticket(
    realm: _kdc.Realm, krb_env: Path, source: str
) -> None:
    # 200 simulated hosts, each on its own loopback address 127.0.0.N with the SPN
    # HTTP/127.0.0.N: the name in its URI, as the client must use it (no DNS involved).
    from aiohyperv.fleet import Fleet, FleetHost
    from aiohyperv.simulator import HostSpec, SimulatedHost, SimulatorServer

    hosts = [
        SimulatedHost.generate(
            HostSpec(
                name=f"hv{i:03d}",
                vms=1,
                username="alice",
                password="ntlm-would-need-this",
                allow_basic=False,
                allow_unencrypted=False,
                kerberos_keytab=str(realm.keytab),
                service_principal=f"HTTP/{address}@{_kdc.REALM}",
            )
        )
        for i, address in enumerate(FLEET)
    ]
    auth: Credentials | None = None
    if source == "ccache":
        realm.kinit(f"alice@{_kdc.REALM}", PASSWORD, krb_env)  # the user's one kinit
    else:
        auth = alice()
    as_before, tgs_before = kdc_requests(realm, "AS_REQ"), kdc_requests(realm, "TGS_REQ")

    async def identify(host: FleetHost) -> str:
        session = await host.session()
        info = await session.identify()
        assert session._client_auth is not None
        assert session._client_auth.stats.sealed >= 1
        return info.get("ProductVendor", "")

    async with SimulatorServer(hosts, per_host_address=True) as server:
        uris = [f"hyperv://{a}:{p}/?transport=http&auth=kerberos" for a, p in server.endpoints]
        result = await Fleet(uris, auth=auth, concurrency=50).run(identify)
    assert result.errors == {}
    assert len(result.values) == 200
    # One ticket-granting ticket for the whole fleet (the test's kinit, or the library's one
    # exchange with the password), and one service ticket per host.
    assert kdc_requests(realm, "AS_REQ") - as_before == (0 if source == "ccache" else 1)
    assert kdc_requests(realm, "TGS_REQ") - tgs_before == 200


async def test_negotiate_falls_back_when_the_server_refuses_kerberos(
    realm: _kdc.Realm, krb_env: Path, start_server: ServerFactory
) -> None:
    # A workgroup host (no keytab): the Kerberos leg gets a bare 401, NTLM follows on the same
    # connection when there is a password, and nothing follows without one.
    realm.kinit(f"alice@{_kdc.REALM}", PASSWORD, krb_env)
    async with start_server(table=table()) as server, client_session() as session:
        with_password = ClientAuth(
            "negotiate",
            hostname="localhost",
            https=False,
            credentials=Credentials(username="alice", password=PASSWORD),
        )
        reply = await with_password.post(session, server.url, body(1))
        assert b"<Echo user='alice'>" in reply.body
        assert with_password.stats.handshake_legs == 3  # Kerberos, then NTLM's two
        with pytest.raises(AuthenticationError):
            await ClientAuth("negotiate", hostname="localhost", https=False).post(
                session, server.url, body(2)
            )
    assert server.seen.methods == ["negotiate"]


# --- the CLI ------------------------------------------------------------------------------------


async def test_cli_inventory_uses_the_ccache_without_prompting(
    realm: _kdc.Realm, krb_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import argparse
    import builtins
    import getpass
    import io

    from aiohyperv.cli._inventory import add_inventory_parser, run_inventory_cli
    from aiohyperv.simulator import SimulatorServer, generate_fleet

    def no_prompt(*_args: object, **_kw: object) -> str:
        raise AssertionError("prompted for a password")

    monkeypatch.setattr(builtins, "input", no_prompt)
    monkeypatch.setattr(getpass, "getpass", no_prompt)
    monkeypatch.delenv("AIOHYPERV_USERNAME", raising=False)
    monkeypatch.delenv("AIOHYPERV_PASSWORD", raising=False)
    monkeypatch.setenv("LIBVIRT_AUTH_FILE", str(krb_env.parent / "no-auth.conf"))
    realm.kinit(f"alice@{_kdc.REALM}", PASSWORD, krb_env)
    hosts = generate_fleet(
        3, 2, username="alice", auth_defaults="windows", kerberos_keytab=str(realm.keytab)
    )
    parser = argparse.ArgumentParser(prog="aiohyperv")
    add_inventory_parser(parser.add_subparsers(dest="command"))
    async with SimulatorServer(hosts, per_host_address=True) as server:
        uris = [f"hyperv://{a}:{p}/?transport=http&auth=kerberos" for a, p in server.endpoints]
        out, err = io.StringIO(), io.StringIO()
        code = await run_inventory_cli(
            parser.parse_args(["inventory", *uris]), stdout=out, stderr=err
        )
    assert code == 0, err.getvalue() + out.getvalue()
    assert "3/3 hosts inventoried, 0 failed; 6 VMs" in out.getvalue()


async def test_fleet_worker_processes_use_the_same_ccache(realm: _kdc.Realm, krb_env: Path) -> None:
    # Worker processes inherit KRB5CCNAME and KRB5_CONFIG like any child of the user's shell.
    from aiohyperv.fleet import Fleet
    from aiohyperv.fleet._inventory import inventory_op
    from aiohyperv.simulator import HostSpec, SimulatedHost, SimulatorServer

    realm.kinit(f"alice@{_kdc.REALM}", PASSWORD, krb_env)
    hosts = [
        SimulatedHost.generate(
            HostSpec(
                name=f"hv{i}",
                vms=1,
                username="alice",
                allow_basic=False,
                allow_unencrypted=False,
                kerberos_keytab=str(realm.keytab),
            )
        )
        for i in range(8)
    ]
    async with SimulatorServer(hosts, per_host_address=True) as server:
        uris = [f"hyperv://{a}:{p}/?transport=http&auth=kerberos" for a, p in server.endpoints]
        result = await Fleet(uris, processes=2, timeout=30).run(inventory_op)
    assert result.errors == {}
    assert sorted(inv.hostname.lower().split(".")[0] for inv in result.values.values()) == [
        f"hv{i}" for i in range(8)
    ]


async def test_password_ticket_is_reused_and_renewed_before_it_expires(
    realm: _kdc.Realm, krb_env: Path, start_server: ServerFactory
) -> None:
    # alice's ticket lives 10 hours: two hosts' worth of connections share one AS exchange.
    # shorty's lives 2 seconds, under the renewal margin: each new connection gets a fresh one
    # rather than failing on an expired ticket.
    users = UserTable({"alice": PASSWORD, "shorty": SHORT_PASSWORD})
    shorty = Credentials(username=f"shorty@{_kdc.REALM}", password=SHORT_PASSWORD)
    async with (
        start_server(kerberos_policy(realm), table=users) as server,
        client_session(limit=1) as session,
    ):
        for creds, tickets in ((alice(), 1), (shorty, 3)):
            before = kdc_requests(realm, "AS_REQ")
            for i in range(3):
                auth = ClientAuth("kerberos", hostname="localhost", https=False, credentials=creds)
                reply = await auth.post(session, server.url, body(i))
                assert reply.status == 200  # each ClientAuth: a new security context
            assert kdc_requests(realm, "AS_REQ") - before == tickets
    assert server.seen.methods == ["kerberos"] * 6


def test_negotiate_remembers_an_empty_credential_cache(realm: _kdc.Realm, krb_env: Path) -> None:
    """One look at an empty cache per user, not one per connection (a fleet opens thousands)."""
    from aiohyperv._auth._client import ClientSecurityContext

    def context(username: str = "alice") -> ClientSecurityContext:
        return ClientSecurityContext(username=username, password=PASSWORD, hostname="localhost")

    def tries_kerberos(ctx: ClientSecurityContext) -> bool:
        return ctx.may_block  # the cache is looked at, off the event loop

    def first_token(ctx: ClientSecurityContext) -> bytes:
        scheme, _, token = ctx.next_header().partition(" ")
        assert scheme == "Negotiate"
        return base64.b64decode(token)

    first = context()
    assert tries_kerberos(first)
    assert first_token(first).startswith(b"NTLMSSP\x00")  # no ticket: raw NTLM's first leg
    assert not tries_kerberos(first)
    # The next connection for alice goes straight to NTLM, the same raw NTLM as the first
    # connection's fallback (not pyspnego's SPNEGO-wrapped Negotiate); another user still looks.
    second = context()
    assert not second.may_block
    assert first_token(second).startswith(b"NTLMSSP\x00")
    assert context("bob").may_block
    # A kinit counts once the miss is forgotten (forget_tickets, or CACHE_MISS_SECONDS later).
    realm.kinit(f"alice@{_kdc.REALM}", PASSWORD, krb_env)
    assert not context().may_block
    forget_tickets()
    assert context().may_block
