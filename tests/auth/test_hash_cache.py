"""NTLM's password hashes are derived once per password, on both ends, and still authenticate."""

from __future__ import annotations

import pytest
import spnego

from aiohyperv._auth._client import _credentials, _ntlm_hashes
from aiohyperv._exceptions import AuthenticationError
from aiohyperv.simulator._auth import ServerSecurityContext, UserTable
from aiohyperv.simulator._auth._acceptor import _password_hashes

from .test_sansio import client, handshake

# MD4(UTF-16LE("pw-1")) and the LM hash of "PW-1", as MS-NLMP 3.3.1 defines them.
NT_PW1 = "09B107437E4B4C321C6A521E62AE5058"
LM_PW1 = "B3B1BB7E6097339EAAD3B435B51404EE"


def test_client_gives_ntlm_the_hashes_and_kerberos_the_password() -> None:
    creds = _credentials("CORP\\bob", "pw-1")
    assert isinstance(creds, list)
    hashed, plain = creds
    assert isinstance(hashed, spnego.NTLMHash) and isinstance(plain, spnego.Password)
    assert (hashed.username, hashed.lm_hash, hashed.nt_hash) == ("CORP\\bob", LM_PW1, NT_PW1)
    assert (plain.username, plain.password) == ("CORP\\bob", "pw-1")
    assert "pw-1" not in repr(creds) and NT_PW1 not in repr(creds)
    # No user name: pyspnego's default (the Kerberos ticket cache), as before.
    assert _credentials("", "") == ""


def test_each_password_is_hashed_once() -> None:
    _ntlm_hashes.cache_clear()
    _password_hashes.cache_clear()
    table = UserTable({"CORP\\alice": "hash-once-pw"})
    try:
        for _ in range(3):
            c, s = client("hash-once-pw"), ServerSecurityContext(table)
            handshake(c, s)
            assert c.established and s.established
            assert s.principal == "CORP\\alice"
        with pytest.raises(AuthenticationError):
            handshake(client("not-the-pw"), ServerSecurityContext(table))
    finally:
        table.close()
    assert _ntlm_hashes.cache_info().misses == 2  # "hash-once-pw", "not-the-pw"
    assert _ntlm_hashes.cache_info().hits == 2
    assert _password_hashes.cache_info().misses == 1  # the table's file, written once
