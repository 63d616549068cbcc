"""Client glue against the server middleware over real loopback HTTP and HTTPS."""

from __future__ import annotations

import asyncio
import ssl

import aiohttp
import pytest

from aiohyperv import AuthenticationError, ConfigError, Credentials, ProtocolError
from aiohyperv._auth import ClientAuth
from aiohyperv.simulator._auth import CertificateMapping, ServerAuthPolicy, UserTable
from tests._proxy import RecordingProxy

from .conftest import (
    SOAP,
    USERS,
    ServerFactory,
    TLSMaterial,
    client_session,
    issue_upn_cert,
    split_http_messages,
)

ALICE = Credentials(username="CORP\\alice", password=USERS["CORP\\alice"])
ADMIN = Credentials(username="admin", password=USERS["admin"])


def body(i: int) -> bytes:
    return SOAP % b"<w:Get xmlns:w='urn:test'>request-%d-PLAINTEXT-MARKER</w:Get>" % i


def expect_echo(reply: bytes, user: str, i: int) -> None:
    assert f"<Echo user='{user}'>".encode() in reply
    assert body(i) in reply


def ntlm(creds: Credentials = ALICE, *, https: bool = False, **kw: object) -> ClientAuth:
    return ClientAuth("ntlm", hostname="127.0.0.1", https=https, credentials=creds, **kw)  # type: ignore[arg-type]


async def test_ntlm_over_http_is_sealed_on_the_wire(start_server: ServerFactory) -> None:
    auth = ntlm()
    async with start_server() as server, RecordingProxy(server.port) as proxy:
        async with client_session(limit=2) as session:
            for i in range(6):
                reply = await auth.post(session, proxy.url, body(i))
                assert reply.status == 200
                assert reply.sealed
                expect_echo(reply.body, "CORP\\alice", i)

    # The handler got plaintext, and every request it ran had come sealed.
    assert server.seen.bodies == [body(i) for i in range(6)]
    assert server.seen.sealed == [True] * 6
    # No plaintext SOAP in either direction on the wire.
    wire = proxy.client_bytes() + proxy.server_bytes()
    assert b"PLAINTEXT-MARKER" not in wire
    assert b"Envelope" not in wire
    assert b"Echo user" not in wire
    assert b"multipart/encrypted" in proxy.client_bytes()
    assert b"multipart/encrypted" in proxy.server_bytes()
    # Per connection: the handshake (empty-bodied legs) comes first; nothing sealed before a
    # leg was accepted; after that, no Authorization header at all.
    assert 1 <= len(proxy.connections) <= 2
    for c2s, s2c in proxy.connections:
        requests = split_http_messages(bytes(c2s))
        responses = split_http_messages(bytes(s2c))
        assert len(requests) == len(responses) >= 3
        assert requests[0][1]["authorization"].startswith("Negotiate ")
        assert requests[0][2] == b""
        assert responses[0][0].startswith("HTTP/1.1 401")
        assert requests[1][1]["authorization"].startswith("Negotiate ")
        assert requests[1][2] == b""
        assert responses[1][0].startswith("HTTP/1.1 200")
        for _start, headers, payload in requests[2:]:
            assert "authorization" not in headers
            assert headers["content-type"].startswith("multipart/encrypted;")
            assert payload.startswith(b"--Encrypted Boundary\r\n")
    assert auth.stats.handshakes == len(proxy.connections)
    assert auth.stats.sealed == 6


async def test_wire_capture_sees_plaintext_when_not_sealed(start_server: ServerFactory) -> None:
    # Control for the test above: the same capture does show SOAP that is not sealed.
    auth = ntlm(encrypt=False)
    policy = ServerAuthPolicy(allow_unencrypted=True)
    async with start_server(policy) as server, RecordingProxy(server.port) as proxy:
        async with client_session() as session:
            reply = await auth.post(session, proxy.url, body(0))
    expect_echo(reply.body, "CORP\\alice", 0)
    assert b"PLAINTEXT-MARKER" in proxy.client_bytes()
    assert b"PLAINTEXT-MARKER" in proxy.server_bytes()
    assert server.seen.sealed == [False]


async def test_negotiate_spnego_over_http(start_server: ServerFactory) -> None:
    auth = ClientAuth("negotiate", hostname="127.0.0.1", https=False, credentials=ADMIN)
    async with start_server() as server, client_session() as session:
        reply = await auth.post(session, server.url, body(1))
    expect_echo(reply.body, "admin", 1)
    assert reply.sealed
    assert server.seen.sealed == [True]


async def test_local_account_with_dot_domain(start_server: ServerFactory) -> None:
    creds = Credentials(username=".\\admin", password=USERS["admin"])
    async with start_server() as server, client_session() as session:
        reply = await ntlm(creds).post(session, server.url, body(2))
    expect_echo(reply.body, "admin", 2)


async def test_ntlm_over_https_with_channel_binding(
    start_server: ServerFactory, tls: TLSMaterial
) -> None:
    policy = ServerAuthPolicy(server_certificate=tls.server_der)
    auth = ntlm(https=True)
    assert not auth.encrypt
    async with (
        start_server(policy, ssl_context=tls.server_context()) as server,
        client_session(ssl_context=tls.client_context()) as session,
    ):
        for i in range(3):
            reply = await auth.post(session, server.url, body(i))
            expect_echo(reply.body, "CORP\\alice", i)
            assert not reply.sealed
    assert server.seen.sealed == [False, False, False]
    assert auth.stats.handshakes == 1


async def test_https_channel_binding_mismatch_is_refused(
    start_server: ServerFactory, tls: TLSMaterial
) -> None:
    other = tls.ca.issue_cert("elsewhere.example")
    other_der = ssl.PEM_cert_to_DER_cert(other.cert_chain_pems[0].bytes().decode("ascii"))
    policy = ServerAuthPolicy(server_certificate=other_der)
    async with (
        start_server(policy, ssl_context=tls.server_context()) as server,
        client_session(ssl_context=tls.client_context()) as session,
    ):
        with pytest.raises(AuthenticationError):
            await ntlm(https=True).post(session, server.url, body(0))
        # A server that checks bindings (Strict) also refuses a client that sends none.
        with pytest.raises(AuthenticationError):
            await ntlm(https=True, send_cbt=False).post(session, server.url, body(0))
    # A server that does not check them accepts either.
    async with (
        start_server(ssl_context=tls.server_context()) as server,
        client_session(ssl_context=tls.client_context()) as session,
    ):
        reply = await ntlm(https=True, send_cbt=False).post(session, server.url, body(1))
        expect_echo(reply.body, "CORP\\alice", 1)
        reply = await ntlm(https=True).post(session, server.url, body(2))
        expect_echo(reply.body, "CORP\\alice", 2)
    assert server.seen.bodies == [body(1), body(2)]


async def test_certificate_auth_maps_upn_to_user(
    start_server: ServerFactory, tls: TLSMaterial, tmp_path: object
) -> None:
    import pathlib

    assert isinstance(tmp_path, pathlib.Path)
    cert_pem, key_pem = issue_upn_cert(tls.ca, "alice@corp.example")
    (tmp_path / "client.pem").write_bytes(cert_pem)
    (tmp_path / "client.key").write_bytes(key_pem)
    client_ctx = tls.client_context()
    client_ctx.load_cert_chain(tmp_path / "client.pem", tmp_path / "client.key")
    policy = ServerAuthPolicy(
        certificates=(CertificateMapping(subject="alice@corp.example", username="CORP\\alice"),)
    )
    auth = ClientAuth("certificate", hostname="127.0.0.1", https=True)
    async with (
        start_server(policy, ssl_context=tls.server_context(client_certs=True)) as server,
        client_session(ssl_context=client_ctx) as session,
    ):
        reply = await auth.post(session, server.url, body(7))
    expect_echo(reply.body, "CORP\\alice", 7)
    assert server.seen.methods == ["certificate"]


async def test_certificate_auth_with_email_san_and_unmapped_cert(
    start_server: ServerFactory, tls: TLSMaterial
) -> None:
    mapped = tls.ca.issue_cert("bob@corp.example")
    unmapped = tls.ca.issue_cert("mallory@corp.example")
    policy = ServerAuthPolicy(
        certificates=(CertificateMapping(subject="bob@corp.example", username="CORP\\bob"),)
    )
    auth = ClientAuth("certificate", hostname="127.0.0.1", https=True)
    async with start_server(policy, ssl_context=tls.server_context(client_certs=True)) as server:
        async with client_session(ssl_context=tls.client_context(mapped)) as session:
            reply = await auth.post(session, server.url, body(1))
            expect_echo(reply.body, "CORP\\bob", 1)
        async with client_session(ssl_context=tls.client_context(unmapped)) as session:
            with pytest.raises(AuthenticationError) as info:
                await auth.post(session, server.url, body(2))
        assert info.value.auth_method == "certificate"
        # No certificate at all.
        async with client_session(ssl_context=tls.client_context()) as session:
            with pytest.raises(AuthenticationError):
                await auth.post(session, server.url, body(3))
    assert server.seen.users == ["CORP\\bob"]


@pytest.mark.parametrize(
    "creds",
    [
        pytest.param(
            Credentials(username="CORP\\alice", password="not-her-password"), id="password"
        ),
        pytest.param(
            Credentials(username="OTHER\\alice", password=USERS["CORP\\alice"]), id="domain"
        ),
        pytest.param(Credentials(username="CORP\\nobody", password="whatever-1"), id="user"),
    ],
)
async def test_wrong_credentials_are_refused(
    start_server: ServerFactory, creds: Credentials
) -> None:
    auth = ntlm(creds)
    async with start_server() as server, client_session() as session:
        with pytest.raises(AuthenticationError) as info:
            await auth.post(session, server.url, body(0))
        # The failed connection is not reused: the next attempt fails the same way, cleanly.
        with pytest.raises(AuthenticationError):
            await auth.post(session, server.url, body(1))
    err = info.value
    assert err.status == 401
    assert err.auth_method == "ntlm"
    assert creds.password not in str(err)
    assert creds.password not in repr(auth)
    assert server.seen.bodies == []
    assert auth.stats.failures == 2
    assert auth.stats.handshakes == 0


async def test_basic_over_https_and_refused_over_http(
    start_server: ServerFactory, tls: TLSMaterial
) -> None:
    basic_https = ClientAuth("basic", hostname="127.0.0.1", https=True, credentials=ADMIN)
    async with (
        start_server(ssl_context=tls.server_context()) as server,
        client_session(ssl_context=tls.client_context()) as session,
    ):
        reply = await basic_https.post(session, server.url, body(1))
        expect_echo(reply.body, "admin", 1)
        wrong = ClientAuth(
            "basic",
            hostname="127.0.0.1",
            https=True,
            credentials=Credentials(username="admin", password="nope-nope"),
        )
        with pytest.raises(AuthenticationError):
            await wrong.post(session, server.url, body(2))

    basic_http = ClientAuth("basic", hostname="127.0.0.1", https=False, credentials=ADMIN)
    async with start_server() as server, client_session() as session:
        # AllowUnencrypted=false (the default): a plaintext body over HTTP is refused.
        with pytest.raises(AuthenticationError):
            await basic_http.post(session, server.url, body(3))
        assert server.seen.bodies == []
    async with (
        start_server(ServerAuthPolicy(allow_unencrypted=True)) as server,
        client_session() as session,
    ):
        reply = await basic_http.post(session, server.url, body(4))
        expect_echo(reply.body, "admin", 4)


async def test_basic_can_be_refused_like_default_windows(start_server: ServerFactory) -> None:
    policy = ServerAuthPolicy(allow_basic=False, allow_unencrypted=True)
    basic = ClientAuth("basic", hostname="127.0.0.1", https=False, credentials=ADMIN)
    async with start_server(policy) as server, client_session() as session:
        with pytest.raises(AuthenticationError):
            await basic.post(session, server.url, body(0))
        # NTLM still works on the same listener.
        reply = await ntlm(ADMIN).post(session, server.url, body(1))
    expect_echo(reply.body, "admin", 1)


async def test_unsealed_ntlm_over_http_is_refused(start_server: ServerFactory) -> None:
    auth = ntlm(encrypt=False)
    async with start_server() as server, client_session() as session:
        with pytest.raises(AuthenticationError):
            await auth.post(session, server.url, body(0))
    assert server.seen.bodies == []


async def test_server_drops_authenticated_connections(start_server: ServerFactory) -> None:
    auth = ntlm()
    async with start_server(drop_every=3) as server, client_session(limit=1) as session:
        for i in range(9):
            reply = await auth.post(session, server.url, body(i))
            expect_echo(reply.body, "CORP\\alice", i)
    # One connection at a time, closed by the server after every third request: three
    # connections, each authenticated before it carried a sealed message.
    assert auth.stats.handshakes == 3
    assert server.seen.sealed == [True] * 9


async def test_server_drops_connection_mid_handshake(start_server: ServerFactory) -> None:
    auth = ntlm()
    async with (
        start_server(drop_mid_handshake=True) as server,
        client_session(limit=1) as session,
    ):
        reply = await auth.post(session, server.url, body(0))
    expect_echo(reply.body, "CORP\\alice", 0)
    # Leg 1 on the dropped connection, then legs 1 and 2 on a new one.
    assert auth.stats.handshake_legs == 3
    assert auth.stats.handshakes == 1


async def test_cancelled_exchange_does_not_desynchronise_the_pool(
    start_server: ServerFactory,
) -> None:
    arrived = asyncio.Event()
    release = asyncio.Event()

    async def hook(payload: bytes) -> None:
        if payload == body(99):
            arrived.set()
            await release.wait()

    auth = ntlm()
    async with start_server(hook=hook) as server, client_session(limit=1) as session:
        await auth.post(session, server.url, body(0))
        stuck = asyncio.create_task(auth.post(session, server.url, body(99)))
        await arrived.wait()  # the sealed request is at the server; its answer is pending
        stuck.cancel()
        with pytest.raises(asyncio.CancelledError):
            await stuck
        release.set()
        for i in range(1, 4):
            reply = await auth.post(session, server.url, body(i))
            expect_echo(reply.body, "CORP\\alice", i)
    # The connection whose sealed answer was never read is not reused: a new one was
    # authenticated, and every later message unsealed correctly.
    assert auth.stats.handshakes == 2


async def test_idle_connections_reset_by_server_are_reauthenticated(
    start_server: ServerFactory,
) -> None:
    auth = ntlm()
    async with start_server() as server, client_session(limit=2) as session:
        await asyncio.gather(*(auth.post(session, server.url, body(i)) for i in range(4)))
        before = auth.stats.handshakes
        assert before >= 1
        for transport in server.transports():
            assert isinstance(transport, asyncio.Transport)
            transport.abort()
        done = 0
        # Like the transport's retry of idempotent requests: a request that met the reset
        # connection is sent again (bounded).
        for i in range(4, 10):
            for _attempt in range(3):
                try:
                    reply = await auth.post(session, server.url, body(i))
                except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError):
                    continue
                expect_echo(reply.body, "CORP\\alice", i)
                done += 1
                break
    assert done == 6
    assert auth.stats.handshakes > before


async def test_many_concurrent_operations_on_several_connections(
    start_server: ServerFactory,
) -> None:
    auth = ntlm()
    n = 120
    async with start_server() as server, client_session(limit=4) as session:
        sem = asyncio.Semaphore(16)

        async def one(i: int) -> bytes:
            async with sem:
                return (await auth.post(session, server.url, body(i))).body

        replies = await asyncio.gather(*(one(i) for i in range(n)))
        live = auth.established_connections()
    for i, reply in enumerate(replies):
        expect_echo(reply, "CORP\\alice", i)
    assert sorted(server.seen.bodies) == sorted(body(i) for i in range(n))
    assert all(server.seen.sealed)
    assert 2 <= auth.stats.handshakes <= 4
    assert live == auth.stats.handshakes
    assert auth.stats.requests == n
    assert auth.stats.sealed == n


async def test_tampered_sealed_response_is_rejected_and_connection_replaced(
    start_server: ServerFactory,
) -> None:
    auth = ntlm()
    async with start_server() as server, RecordingProxy(server.port) as proxy:
        async with client_session(limit=1) as session:
            await auth.post(session, proxy.url, body(0))

            def flip_last_sealed_byte(chunk: bytes) -> bytes:
                end = chunk.rfind(b"--Encrypted Boundary--")
                if end <= 0:
                    return chunk
                return chunk[: end - 1] + bytes([chunk[end - 1] ^ 0x01]) + chunk[end:]

            proxy.tamper = flip_last_sealed_byte
            with pytest.raises(ProtocolError):
                await auth.post(session, proxy.url, body(1))
            proxy.tamper = None
            reply = await auth.post(session, proxy.url, body(2))
    expect_echo(reply.body, "CORP\\alice", 2)
    # The desynchronised connection was dropped and a new one authenticated.
    assert auth.stats.handshakes == 2
    assert len(proxy.connections) == 2


async def test_session_without_auth_request_class_sends_no_body(
    start_server: ServerFactory,
) -> None:
    auth = ntlm()
    async with start_server(ServerAuthPolicy(allow_unencrypted=True)) as server:
        async with aiohttp.ClientSession() as session:
            with pytest.raises(ConfigError, match="request_class"):
                await auth.post(session, server.url, body(0))
    assert server.seen.bodies == []


async def test_two_listeners_with_different_passwords_for_the_same_user(
    start_server: ServerFactory,
) -> None:
    other = UserTable({"CORP\\alice": "another-password-1"})
    async with (
        start_server() as first,
        start_server(table=other) as second,
        client_session() as session,
    ):
        good_first = ntlm()
        good_second = ntlm(Credentials(username="CORP\\alice", password="another-password-1"))
        r1, r2 = await asyncio.gather(
            good_first.post(session, first.url, body(1)),
            good_second.post(session, second.url, body(2)),
        )
        expect_echo(r1.body, "CORP\\alice", 1)
        expect_echo(r2.body, "CORP\\alice", 2)
        with pytest.raises(AuthenticationError):
            await ntlm().post(session, second.url, body(3))
