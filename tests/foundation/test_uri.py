"""Every rule of libvirt's Hyper-V connection URIs, as a table."""

from __future__ import annotations

import pytest

from aiohyperv import ConfigError, ConnectionURI, parse_uri

VALID = [
    # text, hostname, port, transport, username, no_verify, namespace, endpoint
    ("hyperv://hv01/", "hv01", 5986, "https", None, False, "auto", "https://hv01:5986/wsman"),
    ("hyperv://hv01", "hv01", 5986, "https", None, False, "auto", "https://hv01:5986/wsman"),
    ("hyperv://HV01.Example.COM/", "hv01.example.com", 5986, "https", None, False, "auto",
     "https://hv01.example.com:5986/wsman"),
    ("hyperv://hv01/?transport=http", "hv01", 5985, "http", None, False, "auto",
     "http://hv01:5985/wsman"),
    ("hyperv://hv01/?transport=https", "hv01", 5986, "https", None, False, "auto",
     "https://hv01:5986/wsman"),
    ("hyperv://hv01:8443/?transport=http", "hv01", 8443, "http", None, False, "auto",
     "http://hv01:8443/wsman"),
    ("hyperv://hv01:5985/", "hv01", 5985, "https", None, False, "auto", "https://hv01:5985/wsman"),
    ("hyperv://admin@hv01/", "hv01", 5986, "https", "admin", False, "auto",
     "https://hv01:5986/wsman"),
    ("hyperv://CORP%5Cadmin@hv01/", "hv01", 5986, "https", "CORP\\admin", False, "auto",
     "https://hv01:5986/wsman"),
    ("hyperv://j%C3%B6rg%40corp.example@hv01/", "hv01", 5986, "https", "jörg@corp.example",
     False, "auto", "https://hv01:5986/wsman"),
    ("hyperv://[::1]/", "::1", 5986, "https", None, False, "auto", "https://[::1]:5986/wsman"),
    ("hyperv://u@[fe80::1]:1234/?transport=http", "fe80::1", 1234, "http", "u", False, "auto",
     "http://[fe80::1]:1234/wsman"),
    ("hyperv://10.0.0.5/?no_verify=1", "10.0.0.5", 5986, "https", None, True, "auto",
     "https://10.0.0.5:5986/wsman"),
    ("hyperv://hv01/?no_verify=0", "hv01", 5986, "https", None, False, "auto",
     "https://hv01:5986/wsman"),
    ("hyperv://hv01/?namespace=v1&transport=http", "hv01", 5985, "http", None, False, "v1",
     "http://hv01:5985/wsman"),
    ("hyperv://hv01/?namespace=v2", "hv01", 5986, "https", None, False, "v2",
     "https://hv01:5986/wsman"),
    ("HYPERV://hv01/?namespace=auto", "hv01", 5986, "https", None, False, "auto",
     "https://hv01:5986/wsman"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "hostname", "port", "transport", "username", "no_verify", "namespace", "endpoint"),
    VALID,
)
def test_valid(
    text: str,
    hostname: str,
    port: int,
    transport: str,
    username: str | None,
    no_verify: bool,
    namespace: str,
    endpoint: str,
) -> None:
    uri = parse_uri(text)
    assert uri.hostname == hostname
    assert uri.port == port
    assert uri.transport == transport
    assert uri.username == username
    assert uri.no_verify is no_verify
    assert uri.namespace == namespace
    assert uri.endpoint == endpoint
    # str() is canonical and parses back to the same value.
    assert parse_uri(str(uri)) == uri


@pytest.mark.parametrize("text", [row[0] for row in VALID])
def test_canonical_is_stable(text: str) -> None:
    once = str(parse_uri(text))
    assert str(parse_uri(once)) == once


def test_canonical_form() -> None:
    uri = parse_uri(
        "hyperv://CORP%5Cadmin@HV01:5985/?transport=http&no_verify=1&namespace=v1&auth=ntlm"
    )
    assert (
        str(uri) == "hyperv://CORP%5Cadmin@hv01/?transport=http&no_verify=1&namespace=v1&auth=ntlm"
    )
    assert str(parse_uri("hyperv://hv01:5985/")) == "hyperv://hv01:5985/"
    assert uri.host_label == "hv01:5985"
    assert parse_uri("hyperv://[::1]/").host_label == "[::1]:5986"


@pytest.mark.parametrize("method", ["basic", "ntlm", "negotiate", "kerberos", "certificate"])
def test_auth_parameter(method: str) -> None:
    assert parse_uri(f"hyperv://hv01/?auth={method}").auth == method
    assert parse_uri("hyperv://hv01/").auth is None


INVALID = [
    # text, a fragment the message must contain
    ("hyperv+ssh://hv01/", "client-side"),
    ("hyperv+tls://hv01/", "'tls' is not supported"),
    ("qemu:///system", "'qemu'"),
    ("http://hv01/wsman", "'http'"),
    ("hyperv:///", "missing host"),
    ("hyperv://", "missing host"),
    ("hyperv://admin@/", "missing host"),
    ("hyperv://hv01:0/", "port 0 out of range"),
    ("hyperv://hv01:65536/", "port 65536 out of range"),
    ("hyperv://hv01:99999/", "out of range"),
    ("hyperv://hv01:abc/", "'abc': not a number"),
    ("hyperv://hv01:/", "'': not a number"),
    ("hyperv://hv01/?transport=ssh", "transport='ssh'"),
    ("hyperv://hv01/?transport=", "transport=''"),
    ("hyperv://hv01/?no_verify=maybe", "no_verify='maybe'"),
    ("hyperv://hv01/?namespace=v3", "namespace='v3'"),
    ("hyperv://hv01/?auth=digest", "auth='digest'"),
    ("hyperv://hv01/?foo=bar", "unknown parameter 'foo'"),
    ("hyperv://hv01/?transport", "'transport' has no value"),
    ("hyperv://hv01/?transport=http&transport=https", "given twice"),
    ("hyperv://hv01/root/virtualization", "unexpected path"),
    ("hyperv://hv01/#frag", "fragment"),
    ("hyperv://::1/", "brackets"),
    ("hyperv://[::1/", "unterminated"),
    ("hyperv://[not-ipv6]/", "invalid IPv6"),
    ("hyperv://[::1]x/", "after IPv6"),
    ("hyperv://bad host/", "invalid host name"),
    ("hyperv://-bad/", "invalid host name"),
    ("hyperv://@hv01/", "empty user name"),
    ("hv01", "not a URI"),
    ("", "not a URI"),
]


@pytest.mark.parametrize(("text", "fragment"), INVALID)
def test_invalid(text: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_uri(text)
    assert fragment in str(info.value)
    assert isinstance(info.value, ValueError)


def test_password_in_uri_is_refused_without_echo() -> None:
    with pytest.raises(ConfigError) as info:
        parse_uri("hyperv://admin:Sup3rS3cret@hv01/")
    assert "Sup3rS3cret" not in str(info.value)
    assert "Sup3rS3cret" not in repr(info.value)
    assert "auth callback" in str(info.value)


def test_non_string_is_refused() -> None:
    with pytest.raises(ConfigError):
        parse_uri(b"hyperv://hv01/")  # type: ignore[arg-type]


def test_value_object() -> None:
    uri = parse_uri("hyperv://hv01/")
    assert isinstance(uri, ConnectionURI)
    assert hash(uri) == hash(parse_uri("hyperv://HV01:5986/?transport=https"))
    with pytest.raises(AttributeError):
        uri.port = 1  # type: ignore[misc]
