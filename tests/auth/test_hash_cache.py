"""NTLM's NT hash (MD4, RFC 1320) is derived once per password, on both ends, and authenticates."""

from __future__ import annotations

import pytest
import spnego

from aiohyperv._auth._client import _credentials
from aiohyperv._auth._ntowf import md4, nt_hash
from aiohyperv._exceptions import AuthenticationError
from aiohyperv.simulator._auth import ServerSecurityContext, UserTable

from .test_sansio import client, handshake

# MD4(UTF-16LE("pw-1")), NTOWFv1 as MS-NLMP 3.3.1 defines it.
NT_PW1 = "09B107437E4B4C321C6A521E62AE5058"


@pytest.mark.parametrize(
    ("message", "digest"),
    [  # RFC 1320 appendix A.5
        (b"", "31d6cfe0d16ae931b73c59d7e0c089c0"),
        (b"a", "bde52cb31de33e46245e05fbdbd6fb24"),
        (b"abc", "a448017aaf21d8525fc10ae87aa6729d"),
        (b"message digest", "d9130a8164549fe818874806e1c7014b"),
        (b"abcdefghijklmnopqrstuvwxyz", "d79e1c308aa5bbcdeea8ed63df412da9"),
        (
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
            "043f8582f241db351ce627e153e7f0e4",
        ),
        (b"1234567890" * 8, "e33b4ddc9c38f2199c3e7b164fcc0536"),
    ],
)
def test_md4_matches_rfc_1320(message: bytes, digest: str) -> None:
    assert md4(message).hex() == digest


def test_nt_hash_is_ntowfv1() -> None:
    assert nt_hash("pw-1").hex().upper() == NT_PW1
    # Padding boundaries: 27 and 28 UTF-16 characters are 54 and 56 bytes (one or two blocks).
    assert md4(("x" * 28).encode("utf-16-le")) == nt_hash("x" * 28)
    assert len({nt_hash("x" * n) for n in (27, 28, 29, 32)}) == 4


def test_client_gives_ntlm_the_hashes_and_kerberos_the_password() -> None:
    creds = _credentials("CORP\\bob", "pw-1")
    assert isinstance(creds, list)
    hashed, plain = creds
    assert isinstance(hashed, spnego.NTLMHash) and isinstance(plain, spnego.Password)
    # NTLMv2 needs no LM hash (pyspnego documents lm_hash as optional).
    assert (hashed.username, hashed.lm_hash, hashed.nt_hash) == ("CORP\\bob", None, NT_PW1)
    assert (plain.username, plain.password) == ("CORP\\bob", "pw-1")
    assert "pw-1" not in repr(creds) and NT_PW1 not in repr(creds)
    # No user name: pyspnego's default (the Kerberos ticket cache), as before.
    assert _credentials("", "") == ""


def test_each_password_is_hashed_once() -> None:
    nt_hash.cache_clear()
    table = UserTable({"CORP\\alice": "hash-once-pw"})
    for _ in range(3):
        c, s = client("hash-once-pw"), ServerSecurityContext(table)
        handshake(c, s)
        assert c.established and s.established
        assert s.principal == "CORP\\alice"
    with pytest.raises(AuthenticationError):
        handshake(client("not-the-pw"), ServerSecurityContext(table))
    # Client and acceptor share the cache: "hash-once-pw" and "not-the-pw", once each.
    assert nt_hash.cache_info().misses == 2
    assert nt_hash.cache_info().hits >= 6
