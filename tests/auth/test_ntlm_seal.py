"""aiohyperv's own NTLM sealing against pyspnego's, message for message, both ways."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
import spnego

from aiohyperv import ProtocolError
from aiohyperv._auth._ntlm_seal import FastSealer, fast_sealer

if TYPE_CHECKING:
    from pathlib import Path

MESSAGES = [b"<s:Envelope/>", b"x" * 70_000, b"", "héllo wörld".encode(), bytes(range(256)) * 9]


def _pair(protocol: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    """An established pyspnego client and server context."""
    users = tmp_path / "ntlm_users"
    users.write_text("DOMAIN:admin:s3cret-Passw0rd\n")
    monkeypatch.setenv("NTLM_USER_FILE", str(users))
    options = spnego.NegotiateOptions.wrapping_winrm
    client = spnego.client(
        "DOMAIN\\admin", "s3cret-Passw0rd", hostname="hv01", protocol=protocol, options=options
    )
    server = spnego.server(protocol=protocol, options=options)
    token = client.step()
    while not (client.complete and server.complete):
        token = server.step(token)
        if token is not None and not client.complete:
            token = client.step(token)
    return client, server


@pytest.mark.parametrize("protocol", ["ntlm", "negotiate"])
def test_interoperates_with_pyspnego_both_ways(
    protocol: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, server = _pair(protocol, tmp_path, monkeypatch)
    sealer = fast_sealer(client)
    assert isinstance(sealer, FastSealer)
    for message in MESSAGES:
        # Client -> server: sealed here, opened by pyspnego.
        wrapped = sealer.wrap_winrm(message)
        assert len(wrapped.header) == 16
        assert wrapped.data != message or not message
        assert server.unwrap_winrm(wrapped.header, wrapped.data) == message
        # Server -> client: sealed by pyspnego, opened here.
        reply = server.wrap_winrm(message[::-1])
        assert sealer.unwrap_winrm(reply.header, reply.data) == message[::-1]


def test_takes_over_the_sequence_numbers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # After the take-over only the fast sealer may seal: the server has seen its sequence
    # number, so a message sealed by the stale pyspnego state is a replay.
    client, server = _pair("negotiate", tmp_path, monkeypatch)
    sealer = fast_sealer(client)
    assert sealer is not None
    ours = sealer.wrap_winrm(b"first")
    server.unwrap_winrm(ours.header, ours.data)
    # pyspnego's own client state did not move, so it would now seal at the first sequence
    # number again; the server refuses that replay, as it must.
    replay = client.wrap_winrm(b"first")
    with pytest.raises(Exception, match=r"(?i)signature|mic"):
        server.unwrap_winrm(replay.header, replay.data)


def test_tampered_reordered_and_replayed_messages_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, server = _pair("ntlm", tmp_path, monkeypatch)
    sealer = fast_sealer(client)
    assert sealer is not None
    server.wrap_winrm(b"one")  # never delivered
    second = server.wrap_winrm(b"two")
    with pytest.raises(ProtocolError, match="signature"):
        sealer.unwrap_winrm(second.header, second.data)  # out of order

    client, server = _pair("ntlm", tmp_path, monkeypatch)
    sealer = fast_sealer(client)
    assert sealer is not None
    reply = server.wrap_winrm(b"payload")
    flipped = bytes([reply.data[0] ^ 1]) + reply.data[1:]
    with pytest.raises(ProtocolError, match="signature"):
        sealer.unwrap_winrm(reply.header, flipped)


def test_falls_back_when_it_cannot_take_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    users = tmp_path / "ntlm_users"
    users.write_text("DOMAIN:admin:pw\n")
    monkeypatch.setenv("NTLM_USER_FILE", str(users))
    unfinished = spnego.client("admin", "pw", hostname="hv01", protocol="ntlm")
    assert fast_sealer(unfinished) is None  # handshake not complete
    assert fast_sealer(object()) is None  # not a pyspnego context at all

    client, _ = _pair("ntlm", tmp_path, monkeypatch)
    del client._handle_out  # a pyspnego whose internals moved: keep pyspnego's own wrap
    assert fast_sealer(client) is None


def test_repr_shows_no_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    client, _ = _pair("ntlm", tmp_path, monkeypatch)
    sealer = fast_sealer(client)
    assert sealer is not None
    text = repr(sealer)
    assert "seq=" in text
    assert sealer.outgoing.sign_key.hex() not in text
