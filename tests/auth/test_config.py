"""ClientAuth settings: defaults per URI and combinations that cannot work."""

from __future__ import annotations

import importlib.util

import pytest

from aiohyperv import ConfigError, Credentials, parse_uri
from aiohyperv._auth import ClientAuth, default_auth_method

CREDS = Credentials(username="admin", password="pw-secret-1")


@pytest.mark.parametrize(
    ("uri", "method", "encrypt"),
    [
        ("hyperv://hv01/", "negotiate", False),
        ("hyperv://hv01/?transport=http", "negotiate", True),
        ("hyperv://hv01/?transport=http&auth=ntlm", "ntlm", True),
        ("hyperv://hv01/?auth=basic", "basic", False),
        ("hyperv://hv01/?auth=certificate", "certificate", False),
        pytest.param(
            "hyperv://hv01/?auth=kerberos",
            "kerberos",
            False,
            # Without python-gssapi this is a ConfigError naming the extra (test_sansio.py).
            marks=pytest.mark.skipif(
                importlib.util.find_spec("gssapi") is None, reason="python-gssapi is not installed"
            ),
        ),
    ],
)
def test_defaults_from_uri(uri: str, method: str, encrypt: bool) -> None:
    parsed = parse_uri(uri)
    assert default_auth_method(parsed) == method
    auth = ClientAuth.for_uri(parsed, CREDS)
    assert auth.method == method
    assert auth.encrypt is encrypt
    assert auth.hostname == "hv01"
    assert "pw-secret-1" not in repr(auth)


@pytest.mark.parametrize(
    ("method", "https", "creds", "kw", "match"),
    [
        ("certificate", False, None, {}, "HTTPS"),
        ("basic", True, CREDS, {"encrypt": True}, "encryption"),
        ("certificate", True, None, {"encrypt": True}, "encryption"),
        ("ntlm", False, None, {}, "user name"),
        ("basic", True, None, {}, "user name"),
        ("digest", True, CREDS, {}, "unknown"),
        ("ntlm", False, CREDS, {"max_attempts": 2}, "max_attempts"),
    ],
)
def test_impossible_combinations(
    method: str, https: bool, creds: Credentials | None, kw: dict[str, object], match: str
) -> None:
    with pytest.raises(ConfigError, match=match):
        ClientAuth(method, hostname="hv01", https=https, credentials=creds, **kw)  # type: ignore[arg-type]


def test_negotiate_may_use_a_ticket_cache_without_credentials() -> None:
    auth = ClientAuth("negotiate", hostname="hv01", https=True)
    assert auth.connection_based and not auth.encrypt


def test_basic_over_http_warns(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING", logger="aiohyperv"):
        ClientAuth("basic", hostname="hv01", https=False, credentials=CREDS)
    assert "unencrypted" in caplog.text
    assert "pw-secret-1" not in caplog.text
