"""Sans-IO pieces: handshake state machines, encryption framing, user tables, certificates.

Client and server contexts talk to each other in memory here; no event loop is needed.
"""

from __future__ import annotations

import base64
import os
import ssl
import struct
import sys

import pytest
import trustme

from aiohyperv import AuthenticationError, ConfigError, HTTPStatusError, InvalidOperation
from aiohyperv._auth import (
    SPNEGO_PROTOCOL,
    ClientAuth,
    ClientSecurityContext,
    HandshakeState,
    certificate_identity,
    channel_binding_data,
    decrypt_message,
    encrypt_message,
    encrypted_content_type,
    is_encrypted_content_type,
)
from aiohyperv._auth._headers import parse_authorization, parse_challenges
from aiohyperv._exceptions import ProtocolError
from aiohyperv.simulator._auth import (
    AuthUser,
    CertificateMapping,
    ServerSecurityContext,
    UserTable,
    map_certificate,
)

from .conftest import issue_upn_cert

PASSWORD = "Tr0ub4dor&3"


@pytest.fixture
def table() -> UserTable:
    return UserTable([AuthUser(username="alice", password=PASSWORD, domain="CORP")])


def state_of(c: ClientSecurityContext) -> HandshakeState:
    return c.state


def client(
    password: str = PASSWORD, user: str = "CORP\\alice", **kw: object
) -> ClientSecurityContext:
    return ClientSecurityContext(
        username=user,
        password=password,
        hostname="hv01",
        protocol="ntlm",
        **kw,  # type: ignore[arg-type]
    )


def handshake(c: ClientSecurityContext, s: ServerSecurityContext) -> None:
    """Run the HTTP legs in memory, as the glue does over a connection."""
    header = c.next_header()
    while True:
        complete, www = s.accept(header.split(" ", 1)[1])
        status = 200 if complete else 401
        if c.receive(status, [www] if www else ["Negotiate"]):
            return
        header = c.next_header()


def established_pair(table: UserTable) -> tuple[ClientSecurityContext, ServerSecurityContext]:
    c, s = client(), ServerSecurityContext(table)
    handshake(c, s)
    return c, s


# --- handshake ---------------------------------------------------------------------------


def test_handshake_states_and_principal(table: UserTable) -> None:
    c, s = client(), ServerSecurityContext(table)
    assert state_of(c) is HandshakeState.INITIAL
    first = c.next_header()
    assert first.startswith("Negotiate ")
    assert state_of(c) is HandshakeState.SENT
    complete, challenge = s.accept(first.split(" ", 1)[1])
    assert not complete and challenge is not None and challenge.startswith("Negotiate ")
    assert c.receive(401, [challenge]) is False
    assert state_of(c) is HandshakeState.CONTINUE
    complete, final = s.accept(c.next_header().split(" ", 1)[1])
    assert complete
    assert s.principal == "CORP\\alice"
    assert c.receive(200, [final] if final else []) is True
    assert c.established and c.legs == 2
    assert c.negotiated_protocol == "ntlm"


def test_wrong_password_is_an_authentication_error(table: UserTable) -> None:
    c, s = client("wrong-password"), ServerSecurityContext(table)
    with pytest.raises(AuthenticationError) as info:
        handshake(c, s)
    assert c.state is HandshakeState.FAILED
    assert not s.established
    assert "wrong-password" not in str(info.value)
    assert "wrong-password" not in repr(c)


def test_server_offering_no_negotiate() -> None:
    c = client()
    c.next_header()
    with pytest.raises(AuthenticationError, match="does not offer Negotiate"):
        c.receive(401, ['Basic realm="WSMAN"'])


def test_unrelated_status_during_handshake() -> None:
    c = client()
    c.next_header()
    with pytest.raises(HTTPStatusError) as info:
        c.receive(503, [])
    assert info.value.status == 503
    assert c.state is HandshakeState.FAILED


def test_accept_without_challenge_is_refused() -> None:
    c = client()
    c.next_header()
    with pytest.raises(AuthenticationError, match="before"):
        c.receive(200, [])


def test_leg_order_is_enforced(table: UserTable) -> None:
    c = client()
    with pytest.raises(InvalidOperation):
        c.receive(401, ["Negotiate"])
    c.next_header()
    with pytest.raises(InvalidOperation):
        c.next_header()


def test_no_sealing_before_established(table: UserTable) -> None:
    c = client()
    with pytest.raises(InvalidOperation, match="established"):
        c.wrap(b"<x/>")
    c.next_header()
    with pytest.raises(InvalidOperation):
        c.wrap(b"<x/>")
    s = ServerSecurityContext(table)
    with pytest.raises(InvalidOperation):
        s.wrap(b"<x/>")


def test_kerberos_without_gssapi_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # As on a machine without python-gssapi (an import of it fails), whether or not it is here.
    monkeypatch.setitem(sys.modules, "gssapi", None)
    monkeypatch.setitem(sys.modules, "gssapi.raw", None)
    with pytest.raises(ConfigError, match=r"kerberos.*pip install 'aiohyperv\[kerberos\]'"):
        ClientSecurityContext(
            username="alice@CORP.EXAMPLE",
            password=PASSWORD,
            hostname="hv01",
            protocol="kerberos",
        )
    # Said when the host's auth is set up, before any request.
    with pytest.raises(ConfigError, match=r"pip install 'aiohyperv\[kerberos\]'"):
        ClientAuth("kerberos", hostname="hv01", https=True)
    # Negotiate still works there: NTLM.
    ctx = ClientSecurityContext(
        username="alice", password=PASSWORD, hostname="hv01", protocol="negotiate"
    )
    assert ctx.next_header().startswith("Negotiate ")
    assert not ctx.may_block


# --- encryption framing -------------------------------------------------------------------


def test_seal_roundtrip_both_directions(table: UserTable) -> None:
    c, s = established_pair(table)
    for i in range(3):
        body = b"<s:Envelope>request %d</s:Envelope>" % i
        content_type, payload = c.wrap(body)
        assert content_type == encrypted_content_type(SPNEGO_PROTOCOL)
        assert body not in payload
        assert payload.startswith(
            b"--Encrypted Boundary\r\n\tContent-Type: application/HTTP-SPNEGO-session-encrypted\r\n"
            b"\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=%d\r\n"
            b"--Encrypted Boundary\r\n\tContent-Type: application/octet-stream\r\n" % len(body)
        )
        assert payload.endswith(b"--Encrypted Boundary--\r\n")
        # NTLM signature: 4-byte little-endian length 16, then the signature.
        marker = b"application/octet-stream\r\n"
        start = payload.index(marker) + len(marker)
        assert struct.unpack("<I", payload[start : start + 4]) == (16,)
        assert s.unwrap(content_type, payload) == body
        reply = b"<s:Envelope>reply %d</s:Envelope>" % i
        rtype, rpayload = s.wrap(reply)
        assert c.unwrap(rtype, rpayload) == reply


def _tamper_cases(payload: bytes) -> dict[str, tuple[str, bytes]]:
    ct = encrypted_content_type()
    length = payload.index(b";Length=") + len(b";Length=")
    end = payload.index(b"\r\n", length)
    wrong_length = payload[:length] + str(int(payload[length:end]) + 1).encode() + payload[end:]
    sig = payload.index(b"octet-stream\r\n") + len(b"octet-stream\r\n") + 4
    flipped = payload[: sig + 2] + bytes([payload[sig + 2] ^ 0xFF]) + payload[sig + 3 :]
    body_flip = payload[:-30] + bytes([payload[-30] ^ 0x01]) + payload[-29:]
    big_sig = payload[: sig - 4] + struct.pack("<I", 10**6) + payload[sig:]
    return {
        "length": (ct, wrong_length),
        "signature": (ct, flipped),
        "sealed-data": (ct, body_flip),
        "sig-length": (ct, big_sig),
        "no-close": (ct, payload[: -len(b"--Encrypted Boundary--\r\n")]),
        "boundary-param": (ct.replace('"Encrypted Boundary"', '"Other"'), payload),
        "protocol-param": (ct.replace("SPNEGO", "Kerberos"), payload),
        "plain-type": ("application/soap+xml;charset=UTF-8", payload),
        "no-type": ("", payload),
        "credssp-chunks": (
            ct.replace("multipart/encrypted", "multipart/x-multi-encrypted"),
            payload,
        ),
        "part-header": (ct, payload.replace(b"OriginalContent", b"OriginalContenu", 1)),
        "octet-part": (
            ct,
            payload.replace(b"application/octet-stream", b"application/x-stream", 1),
        ),
        "empty": (ct, b""),
    }


@pytest.mark.parametrize(
    "case", list(_tamper_cases(b"--x;Length=1\r\noctet-stream\r\n" + b"0" * 64))
)
def test_decrypt_refuses_anything_off(table: UserTable, case: str) -> None:
    c, s = established_pair(table)
    _, payload = c.wrap(b"<s:Envelope>secret</s:Envelope>")
    content_type, bad = _tamper_cases(payload)[case]
    with pytest.raises(ProtocolError):
        s.unwrap(content_type or None, bad)


def test_client_context_fails_after_bad_message(table: UserTable) -> None:
    c, s = established_pair(table)
    rtype, rpayload = s.wrap(b"<ok/>")
    with pytest.raises(ProtocolError):
        c.unwrap(rtype, rpayload[:-30] + b"X" + rpayload[-29:])
    assert c.state is HandshakeState.FAILED
    with pytest.raises(InvalidOperation):
        c.wrap(b"<x/>")


def test_content_type_parameters_may_vary(table: UserTable) -> None:
    c, s = established_pair(table)
    body = b"<e/>"
    _, payload = c.wrap(body)
    variant = (
        'Multipart/Encrypted; boundary="Encrypted Boundary"; '
        'protocol="application/HTTP-SPNEGO-session-encrypted"'
    )
    assert is_encrypted_content_type(variant)
    assert s.unwrap(variant, payload) == body


def test_encrypt_message_uses_given_sealer(table: UserTable) -> None:
    c, s = established_pair(table)
    # The framing functions accept any pyspnego-like sealer.
    ct, payload = encrypt_message(c._ctx, b"<a/>")
    assert decrypt_message(s._ctx, ct, payload) == b"<a/>"  # type: ignore[arg-type]


# --- headers ------------------------------------------------------------------------------


def test_parse_challenges() -> None:
    assert parse_challenges(["Negotiate abc+/=", 'Basic realm="WSMAN"']) == [
        ("Negotiate", "abc+/="),
        ("Basic", 'realm="WSMAN"'),
    ]
    assert parse_challenges(["Negotiate, Kerberos"]) == [("Negotiate", None), ("Kerberos", None)]
    assert parse_challenges([""]) == []


def test_parse_authorization() -> None:
    assert parse_authorization(None) is None
    assert parse_authorization("Negotiate  TlRMTQ==") == ("Negotiate", "TlRMTQ==")
    cert = "http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/https/mutual"
    assert parse_authorization(cert) == (cert, None)


# --- user tables --------------------------------------------------------------------------


def test_user_table_lookup_and_basic() -> None:
    t = UserTable({"admin": "pw-1", "CORP\\alice": "pw-2"})
    assert t.lookup("ADMIN") is not None
    assert t.lookup(".\\admin") is not None
    assert t.lookup("corp\\ALICE") is not None
    assert t.lookup("OTHER\\alice") is None
    assert t.check_password("CORP\\alice", "pw-2") is not None
    assert t.check_password("CORP\\alice", "pw-1") is None
    good = base64.b64encode(b"admin:pw-1").decode()
    assert t.check_basic(good) is not None
    assert t.check_basic(base64.b64encode(b"admin:pw-2").decode()) is None
    assert t.check_basic("!!!") is None
    assert t.check_basic(base64.b64encode(b"no-colon").decode()) is None
    assert "pw-1" not in repr(t) and "pw-2" not in repr(list(t))


@pytest.mark.parametrize("bad", [{"a:b": "x"}, {"a": "pass:word"}, {"a": "x\ny"}, {"": "x"}, {}])
def test_user_table_rejects_unstorable_entries(bad: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        UserTable(bad)


def test_tables_do_not_leak_between_acceptors_or_into_the_environment() -> None:
    before = os.environ.get("NTLM_USER_FILE")
    t1 = UserTable({"CORP\\alice": "first-pw"})
    t2 = UserTable({"CORP\\alice": "second-pw"})
    # Interleave two handshakes, each against its own table.
    c1, s1 = client("first-pw"), ServerSecurityContext(t1)
    c2, s2 = client("second-pw"), ServerSecurityContext(t2)
    h1, h2 = c1.next_header(), c2.next_header()
    ok1, ch1 = s1.accept(h1.split(" ", 1)[1])
    ok2, ch2 = s2.accept(h2.split(" ", 1)[1])
    assert ch1 and ch2
    c1.receive(401, [ch1])
    c2.receive(401, [ch2])
    ok2, _ = s2.accept(c2.next_header().split(" ", 1)[1])
    ok1, _ = s1.accept(c1.next_header().split(" ", 1)[1])
    assert ok1 and ok2
    c3, s3 = client("first-pw"), ServerSecurityContext(t2)
    with pytest.raises(AuthenticationError):
        handshake(c3, s3)
    assert os.environ.get("NTLM_USER_FILE") == before


def test_acceptor_refuses_garbage_tokens(table: UserTable) -> None:
    s = ServerSecurityContext(table)
    assert s.accept("not base64!") == (False, None)
    assert s.accept(base64.b64encode(b"NTLMSSP\x00garbage").decode()) == (False, None)
    assert s.accept(None) == (False, None)
    assert not s.established


# --- certificates -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def _der(leaf: trustme.LeafCert) -> bytes:
    return ssl.PEM_cert_to_DER_cert(leaf.cert_chain_pems[0].bytes().decode("ascii"))


def test_certificate_identity_reads_upn_email_and_cn(ca: trustme.CA) -> None:
    cert_pem, _ = issue_upn_cert(ca, "alice@corp.example")
    der = ssl.PEM_cert_to_DER_cert(cert_pem.decode("ascii"))
    ident = certificate_identity(der)
    assert ident.upns == ("alice@corp.example",)
    assert ident.common_name == "upn client"
    email = certificate_identity(_der(ca.issue_cert("bob@corp.example")))
    assert email.emails == ("bob@corp.example",)
    assert email.upns == ()
    with pytest.raises(ValueError):
        certificate_identity(b"not a certificate")


def test_map_certificate(ca: trustme.CA) -> None:
    t = UserTable({"CORP\\bob": "x-1", "admin": "y-2"})
    der = _der(ca.issue_cert("bob@corp.example"))
    rules = [CertificateMapping(subject="BOB@corp.example", username="CORP\\bob")]
    user = map_certificate(der, rules, t)
    assert user is not None and user.principal == "CORP\\bob"
    assert map_certificate(_der(ca.issue_cert("eve@corp.example")), rules, t) is None
    wildcard = [CertificateMapping(subject="*", username="admin")]
    mapped = map_certificate(der, wildcard, t)
    assert mapped is not None and mapped.principal == "admin"
    assert map_certificate(b"junk", wildcard, t) is None
    assert map_certificate(der, [CertificateMapping(subject="*", username="ghost")], t) is None


def test_channel_binding_data(ca: trustme.CA) -> None:
    import hashlib

    der = _der(ca.issue_cert("hv01.example"))
    data = channel_binding_data(der)
    # trustme signs with SHA-256, so the hash is SHA-256 of the DER certificate (RFC 5929).
    assert data == b"tls-server-end-point:" + hashlib.sha256(der).digest()
