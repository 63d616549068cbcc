"""Credential sources, the callback contract, and that passwords never leak."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import pytest

from aiohyperv import (
    AuthConfFile,
    ChainAuth,
    CredentialRequest,
    Credentials,
    CredentialsError,
    EnvironmentAuth,
    StaticAuth,
    parse_uri,
    resolve_credentials,
)

if TYPE_CHECKING:
    from pathlib import Path

SECRET = "Tr0ub4dor&3-secret"


async def test_sync_callback_gets_hostname_as_challenge() -> None:
    seen: list[CredentialRequest] = []

    def callback(request: CredentialRequest) -> Credentials:
        seen.append(request)
        return Credentials(username="bob", password=SECRET)

    creds = await resolve_credentials(parse_uri("hyperv://hv01.example.com:5985/"), callback)
    assert creds == Credentials(username="bob", password=SECRET)
    assert seen == [CredentialRequest(hostname="hv01.example.com", username=None, port=5985)]


async def test_async_callback_and_uri_user_wins() -> None:
    async def callback(request: CredentialRequest) -> Credentials:
        assert request.username == "alice"
        return Credentials(username="someone-else", password=SECRET)

    creds = await resolve_credentials(parse_uri("hyperv://alice@hv01/"), callback)
    assert creds.username == "alice"
    assert creds.password == SECRET


async def test_callback_returning_none_is_a_clear_error() -> None:
    with pytest.raises(CredentialsError) as info:
        await resolve_credentials(parse_uri("hyperv://hv01/"), lambda request: None)
    assert "hv01:5986" in str(info.value)
    assert info.value.host == "hv01:5986"


async def test_callback_returning_wrong_type() -> None:
    with pytest.raises(CredentialsError, match="returned str"):
        await resolve_credentials(parse_uri("hyperv://hv01/"), lambda r: "pw")  # type: ignore[arg-type,return-value]


async def test_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIOHYPERV_USERNAME", "envuser")
    monkeypatch.setenv("AIOHYPERV_PASSWORD", SECRET)
    creds = await resolve_credentials(parse_uri("hyperv://hv01/"), EnvironmentAuth())
    assert creds == Credentials(username="envuser", password=SECRET)
    monkeypatch.delenv("AIOHYPERV_PASSWORD")
    with pytest.raises(CredentialsError):
        await resolve_credentials(parse_uri("hyperv://hv01/"), EnvironmentAuth())


AUTH_CONF = """
[credentials-lab]
username=labadmin
password={secret}

[credentials-fallback]
authname=fallbackuser
password=other

[auth-hyperv-hv01.example.com]
credentials=lab

[auth-hyperv-default]
credentials=fallback

[auth-libvirt-hv01.example.com]
credentials=fallback
"""


@pytest.fixture
def auth_conf(tmp_path: Path) -> Path:
    path = tmp_path / "auth.conf"
    path.write_text(AUTH_CONF.format(secret=SECRET), encoding="utf-8")
    return path


async def test_auth_conf_host_group(auth_conf: Path) -> None:
    creds = await resolve_credentials(
        parse_uri("hyperv://hv01.example.com/"), AuthConfFile(auth_conf)
    )
    assert creds == Credentials(username="labadmin", password=SECRET)


async def test_auth_conf_default_group(auth_conf: Path) -> None:
    creds = await resolve_credentials(parse_uri("hyperv://other/"), AuthConfFile(auth_conf))
    assert creds == Credentials(username="fallbackuser", password="other")


async def test_auth_conf_from_environment_variable(
    auth_conf: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIBVIRT_AUTH_FILE", str(auth_conf))
    creds = await resolve_credentials(parse_uri("hyperv://hv01.example.com/"), AuthConfFile())
    assert creds.username == "labadmin"


@pytest.fixture
def xdg_home(auth_conf: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("LIBVIRT_AUTH_FILE", raising=False)
    (tmp_path / "libvirt").mkdir()
    auth_conf.rename(tmp_path / "libvirt" / "auth.conf")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    return tmp_path


@pytest.mark.usefixtures("xdg_home")
async def test_auth_conf_xdg_default_location() -> None:
    creds = await resolve_credentials(parse_uri("hyperv://hv01.example.com/"), AuthConfFile())
    assert creds.username == "labadmin"


async def test_auth_conf_missing_file_passes(tmp_path: Path) -> None:
    source = AuthConfFile(tmp_path / "absent.conf")
    assert await source(CredentialRequest(hostname="hv01")) is None


async def test_auth_conf_dangling_reference(tmp_path: Path) -> None:
    path = tmp_path / "auth.conf"
    path.write_text("[auth-hyperv-hv01]\ncredentials=nope\n", encoding="utf-8")
    with pytest.raises(CredentialsError, match="missing credentials 'nope'"):
        await resolve_credentials(parse_uri("hyperv://hv01/"), AuthConfFile(path))


async def test_chain_takes_first_answer(monkeypatch: pytest.MonkeyPatch, auth_conf: Path) -> None:
    monkeypatch.delenv("AIOHYPERV_PASSWORD", raising=False)
    chain = ChainAuth(EnvironmentAuth(), AuthConfFile(auth_conf), StaticAuth("last", "x"))
    creds = await resolve_credentials(parse_uri("hyperv://hv01.example.com/"), chain)
    assert creds.username == "labadmin"
    with pytest.raises(CredentialsError):
        await resolve_credentials(parse_uri("hyperv://nowhere/"), ChainAuth(EnvironmentAuth()))


async def test_explicit_credentials_pass_through() -> None:
    given = Credentials(username="u", password=SECRET)
    assert await resolve_credentials(parse_uri("hyperv://hv01/"), given) is given


def test_no_repr_or_str_holds_the_password(caplog: pytest.LogCaptureFixture) -> None:
    creds = Credentials(username="u", password=SECRET)
    static = StaticAuth("u", SECRET)
    for text in (repr(creds), str(creds), repr(static), str(static), f"{creds}", f"{creds!r}"):
        assert SECRET not in text
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("aiohyperv").debug("credentials %s %r", creds, static)
    assert SECRET not in caplog.text
    assert "***" in caplog.text


async def test_missing_libvirt_auth_file_is_an_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("LIBVIRT_AUTH_FILE", str(tmp_path / "typo.conf"))
    with pytest.raises(CredentialsError, match=r"typo\.conf .*does not exist"):
        await resolve_credentials(parse_uri("hyperv://hv01/"), AuthConfFile())


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("password=hunter2\n", 1),  # no section header
        ("[credentials-lab]\nusername=a\n\nthis is not a key\n", 4),
    ],
)
async def test_malformed_auth_file_names_the_line_not_its_text(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, text: str, line: int
) -> None:
    auth_conf = tmp_path / "auth.conf"
    auth_conf.write_text(text)
    monkeypatch.setenv("LIBVIRT_AUTH_FILE", str(auth_conf))
    with pytest.raises(CredentialsError) as info:
        await resolve_credentials(parse_uri("hyperv://hv01/"), AuthConfFile())
    assert f"line {line}" in str(info.value)
    assert "hunter2" not in str(info.value) and "not a key" not in str(info.value)
