"""The simulator's NTLM acceptor (``aiohyperv.simulator._auth._ntlm.NTLMAcceptor``).

It replaced pyspnego's acceptor on the hot path of a simulated fleet, so these tests hold it to
what pyspnego's clients (and so Windows clients) expect: SPNEGO and raw NTLM handshakes, the
mechListMIC and the RC4 restart after it, sealing both ways, and every refusal -- wrong
password, unknown user, tampered MIC, wrong channel bindings, tampered or replayed messages.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct

import pytest
import spnego
from spnego.channel_bindings import GssChannelBindings

from aiohyperv._auth._client import _credentials
from aiohyperv._auth._ntowf import nt_hash
from aiohyperv._exceptions import ProtocolError
from aiohyperv.simulator._auth import AuthUser, ServerSecurityContext, UserTable
from aiohyperv.simulator._auth._ntlm import NTLMAcceptor, spnego_init

PASSWORD = "S1mulated-pw"


@pytest.fixture
def table() -> UserTable:
    return UserTable(
        [
            AuthUser(username="admin", password=PASSWORD),
            AuthUser(username="admin", password=PASSWORD, domain="HV01"),
        ]
    )


def make_client(
    user: str = "admin",
    password: str = PASSWORD,
    *,
    protocol: str = "negotiate",
    bindings: bytes | None = None,
) -> spnego.ContextProxy:
    cbt = GssChannelBindings(application_data=bindings) if bindings is not None else None
    return spnego.client(
        _credentials(user, password),
        hostname="hv01",
        service="HTTP",
        protocol=protocol,
        channel_bindings=cbt,
        options=spnego.NegotiateOptions.wrapping_winrm,
    )


def b64(token: bytes) -> str:
    return base64.b64encode(token).decode("ascii")


def unb64(header: str | None) -> bytes:
    assert header is not None
    scheme, _, token = header.partition(" ")
    assert scheme == "Negotiate"
    return base64.b64decode(token)


def handshake(
    c: spnego.ContextProxy,
    s: ServerSecurityContext,
    *,
    tamper: int | None = None,
) -> bool:
    """Run the legs in memory; ``tamper`` flips the byte at that offset (from the end when
    negative) of the client's second token.  True if the server accepted the client."""
    first = c.step()
    assert first is not None
    complete, www = s.accept(b64(first))
    assert not complete and www is not None
    second = c.step(unb64(www))
    assert second is not None
    if tamper is not None:
        raw = bytearray(second)
        raw[tamper] ^= 0x01
        second = bytes(raw)
    complete, www = s.accept(b64(second))
    if complete and www is not None:
        c.step(unb64(www))  # SPNEGO: the server's mechListMIC
    return complete


@pytest.mark.parametrize(
    ("user", "principal"),
    [("admin", "admin"), ("HV01\\admin", "HV01\\admin"), (".\\admin", "admin")],
)
def test_spnego_handshake_uses_the_native_acceptor(
    table: UserTable, user: str, principal: str
) -> None:
    c, s = make_client(user), ServerSecurityContext(table)
    assert handshake(c, s)
    assert c.complete
    assert isinstance(s._ctx, NTLMAcceptor)
    assert s.established and s.principal == principal


@pytest.mark.parametrize("protocol", ["negotiate", "ntlm"])
def test_sealing_both_ways_after_the_handshake(table: UserTable, protocol: str) -> None:
    c, s = make_client(protocol=protocol), ServerSecurityContext(table)
    assert handshake(c, s)
    assert isinstance(s._ctx, NTLMAcceptor)
    for n in range(3):  # sequence numbers and RC4 streams must stay in step
        request = f"<request n='{n}'/>".encode() * (n + 1)
        wrapped = c.wrap_winrm(request)
        assert s._ctx.unwrap_winrm(wrapped.header, wrapped.data) == request
        reply = f"<reply n='{n}'/>".encode() * 100
        sealed = s._ctx.wrap_winrm(reply)
        assert sealed.data != reply
        assert c.unwrap_winrm(sealed.header, sealed.data) == reply


def test_the_framed_path_roundtrips(table: UserTable) -> None:
    c, s = make_client(), ServerSecurityContext(table)
    assert handshake(c, s)
    content_type, payload = s.wrap(b"<s:Envelope/>")
    assert content_type.startswith("multipart/encrypted")
    assert b"<s:Envelope/>" not in payload


@pytest.mark.parametrize(
    ("user", "password"),
    [("admin", "wrong"), ("nobody", PASSWORD), ("OTHER\\admin", PASSWORD)],
)
def test_bad_credentials_are_refused(table: UserTable, user: str, password: str) -> None:
    c, s = make_client(user, password), ServerSecurityContext(table)
    assert not handshake(c, s)
    assert not s.established and s.principal is None


def _ntlm_offset(token: bytes) -> int:
    return token.index(b"NTLMSSP\x00\x03")


def test_tampered_ntlm_mic_is_refused(table: UserTable) -> None:
    # Find where the AUTHENTICATE message (and its MIC at offset 72) sits in the SPNEGO token
    # of an identical client first: the layout does not depend on the random parts.
    probe, s0 = make_client(), ServerSecurityContext(table)
    first = probe.step()
    assert first is not None
    _ok, www = s0.accept(b64(first))
    second = probe.step(unb64(www))
    assert second is not None
    mic_at = _ntlm_offset(second) + 72
    c, s = make_client(), ServerSecurityContext(table)
    assert not handshake(c, s, tamper=mic_at)
    assert not s.established


def test_tampered_mech_list_mic_is_refused(table: UserTable) -> None:
    # The mechListMIC is the last field of the client's NegTokenResp; its checksum bytes
    # (4..12 of the 16) end four bytes before the token does.
    c, s = make_client(), ServerSecurityContext(table)
    assert not handshake(c, s, tamper=-6)
    assert not s.established


def test_channel_bindings_must_match(table: UserTable) -> None:
    # RFC 5929 tls-server-end-point data, as channel_binding_data() makes from a certificate.
    data = b"tls-server-end-point:" + bytes(range(32))
    good = make_client(bindings=data)
    s = ServerSecurityContext(table, channel_bindings=data)
    assert handshake(good, s) and s.established

    wrong = make_client(bindings=b"tls-server-end-point:" + bytes(range(1, 33)))
    s = ServerSecurityContext(table, channel_bindings=data)
    assert not handshake(wrong, s)

    absent = make_client()
    s = ServerSecurityContext(table, channel_bindings=data)
    assert not handshake(absent, s)


def test_tampered_and_replayed_messages_do_not_unseal(table: UserTable) -> None:
    c, s = make_client(), ServerSecurityContext(table)
    assert handshake(c, s)
    assert isinstance(s._ctx, NTLMAcceptor)
    wrapped = c.wrap_winrm(b"<a/>")
    bad = bytearray(wrapped.data)
    bad[0] ^= 0x20
    with pytest.raises(ProtocolError):
        s._ctx.unwrap_winrm(wrapped.header, bytes(bad))

    c, s = make_client(), ServerSecurityContext(table)
    assert handshake(c, s)
    assert isinstance(s._ctx, NTLMAcceptor)
    wrapped = c.wrap_winrm(b"<b/>")
    assert s._ctx.unwrap_winrm(wrapped.header, wrapped.data) == b"<b/>"
    with pytest.raises(ProtocolError):  # the sequence number has moved on
        s._ctx.unwrap_winrm(wrapped.header, wrapped.data)


def test_a_new_handshake_on_the_connection_starts_over(table: UserTable) -> None:
    s = ServerSecurityContext(table)
    assert handshake(make_client(), s)
    assert not handshake(make_client("admin", "wrong"), s)
    assert not s.established
    assert handshake(make_client(), s)
    assert s.established


def _raw_ntlm_logon(s: ServerSecurityContext, *, bindings: bytes | None) -> bool:
    """A raw NTLMv2 logon built by hand (MS-NLMP 2.2.1.3, 3.3.2), to send a channel binding
    value no client library produces: ``bindings`` is the MsvAvChannelBindings value, None to
    leave the pair out.  No MIC, no key exchange.  True if the server accepted it."""
    ess_128_unicode = 0x00080000 | 0x20000000 | 0x00000001 | 0x00000010 | 0x00000020
    negotiate = b"NTLMSSP\x00\x01\x00\x00\x00" + struct.pack("<I", ess_128_unicode) + bytes(16)
    complete, www = s.accept(b64(negotiate))
    assert not complete
    challenge = unb64(www)
    server_challenge = challenge[24:32]
    pairs = b""
    if bindings is not None:
        pairs += struct.pack("<HH", 10, len(bindings)) + bindings  # MsvAvChannelBindings
    pairs += struct.pack("<HH", 0, 0)  # MsvAvEOL
    blob = b"\x01\x01" + bytes(6) + bytes(8) + b"cli-chal" + bytes(4) + pairs
    key = hmac.digest(nt_hash(PASSWORD), "ADMIN".encode("utf-16-le"), "md5")
    nt_response = hmac.digest(key, server_challenge + blob, "md5") + blob
    user = "admin".encode("utf-16-le")
    fields = ((b"", 12), (nt_response, 20), (b"", 28), (user, 36), (b"", 44), (b"", 52))
    offset, header, payload = 64, bytearray(64), b""
    header[:12] = b"NTLMSSP\x00\x03\x00\x00\x00"
    for value, at in fields:
        header[at : at + 8] = struct.pack("<HHI", len(value), len(value), offset)
        offset += len(value)
        payload += value
    header[60:64] = struct.pack("<I", ess_128_unicode)
    complete, _www = s.accept(b64(bytes(header) + payload))
    return complete


def test_strict_channel_binding_refuses_a_zero_or_missing_binding(table: UserTable) -> None:
    # Windows with CbtHardeningLevel=Strict refuses an HTTPS logon whose binding is absent or
    # all zero (MS-NLMP 2.2.2.1 calls zero "unknown"); only Relaxed lets it through.
    data = b"tls-server-end-point:" + bytes(range(32))
    right = hashlib.md5(GssChannelBindings(application_data=data).pack()).digest()
    assert _raw_ntlm_logon(ServerSecurityContext(table, channel_bindings=data), bindings=right)
    for bindings in (bytes(16), None, bytes(range(16))):
        s = ServerSecurityContext(table, channel_bindings=data)
        assert not _raw_ntlm_logon(s, bindings=bindings)
        assert not s.established
    # Without Extended Protection the binding is not looked at.
    assert _raw_ntlm_logon(ServerSecurityContext(table), bindings=bytes(16))


def test_other_mechanisms_first_go_to_pyspnego(table: UserTable) -> None:
    c = make_client()
    first = c.step()
    assert first is not None
    assert spnego_init(first) is not None
    # The same NegTokenInit with Kerberos (1.2.840.113554.1.2.2) listed before NTLM.
    kerberos = b"\x06\x09\x2a\x86\x48\x86\xf7\x12\x01\x02\x02"
    ntlm = b"\x06\x0a\x2b\x06\x01\x04\x01\x82\x37\x02\x02\x0a"
    assert first.count(ntlm) == 1
    mech_list = b"\x30" + bytes((len(kerberos + ntlm),)) + kerberos + ntlm
    old_list = b"\x30" + bytes((len(ntlm),)) + ntlm
    assert first.count(old_list) == 1
    grown = len(mech_list) - len(old_list)

    def regrow(token: bytes, at: int) -> bytes:  # fix the short-form lengths around the list
        return token[:at] + bytes((token[at] + grown,)) + token[at + 1 :]

    token = first.replace(old_list, mech_list)
    for at in (1, 11, 13, 15):  # [APPLICATION 0], [0], SEQUENCE, [0] mechTypes
        token = regrow(token, at)
    assert spnego_init(token) is None
    s = ServerSecurityContext(table)
    assert not isinstance(s._new_acceptor(token), NTLMAcceptor)


def test_garbage_is_refused(table: UserTable) -> None:
    s = ServerSecurityContext(table)
    for token in (b"NTLMSSP\x00\x01", b"NTLMSSP\x00\x03" + bytes(60), b"\x60\x05\x06\x03abc"):
        assert s.accept(b64(token)) == (False, None)
        assert not s.established
