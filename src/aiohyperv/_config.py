"""Connection URIs, read exactly as libvirt's Hyper-V driver reads them.

``hyperv://[username@]hostname[:port]/[?extraparameters]``: HTTPS on 5986 unless
``transport=http`` (then 5985); an explicit port always wins.  Everything a URI can say is kept in
one frozen :class:`ConnectionURI`, whose ``str()`` gives back a canonical URI.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Literal, cast, get_args
from urllib.parse import quote, unquote

from ._exceptions import ConfigError

__all__ = ["AuthMethod", "ConnectionURI", "Namespace", "Transport", "parse_uri"]

Transport = Literal["http", "https"]
Namespace = Literal["auto", "v1", "v2"]
AuthMethod = Literal["basic", "ntlm", "negotiate", "kerberos", "certificate"]

DEFAULT_PORTS: dict[str, int] = {"https": 5986, "http": 5985}

_URI_RE = re.compile(
    r"(?P<scheme>[^:/?#]*)://(?P<authority>[^/?#]*)(?P<path>[^?#]*)"
    r"(?:\?(?P<query>[^#]*))?(?:#(?P<fragment>.*))?",
    re.DOTALL,
)
# RFC 1123 host names, plus '_' which Windows NetBIOS-derived names sometimes carry.
_HOSTNAME_RE = re.compile(r"(?!-)[A-Za-z0-9_-]{1,63}(?<!-)(?:\.(?!-)[A-Za-z0-9_-]{1,63}(?<!-))*\.?")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionURI:
    """Where and how to reach one Hyper-V host.

    Attributes:
        hostname: Host name or IP address, IPv6 without brackets, lower-cased.
        port: TCP port of the WinRM listener.
        transport: ``"https"`` (default) or ``"http"``.
        username: User from the URI, percent-decoded, or None.
        no_verify: Skip TLS certificate verification (off unless asked for).
        namespace: WMI namespace: ``"v2"`` (2012+), ``"v1"`` (2008 R2) or ``"auto"``.
        auth: Authentication method, or None for the default.
    """

    hostname: str
    port: int
    transport: Transport = "https"
    username: str | None = None
    no_verify: bool = False
    namespace: Namespace = "auto"
    auth: AuthMethod | None = None

    @property
    def _host_for_url(self) -> str:
        return f"[{self.hostname}]" if ":" in self.hostname else self.hostname

    @property
    def endpoint(self) -> str:
        """The WS-Management endpoint URL, e.g. ``https://hv01:5986/wsman``."""
        return f"{self.transport}://{self._host_for_url}:{self.port}/wsman"

    @property
    def host_label(self) -> str:
        """``host:port``: how errors, logs and the pool name this host."""
        return f"{self._host_for_url}:{self.port}"

    def __str__(self) -> str:
        user = f"{quote(self.username, safe='')}@" if self.username else ""
        port = "" if self.port == DEFAULT_PORTS[self.transport] else f":{self.port}"
        params: list[str] = []
        if self.transport != "https":
            params.append(f"transport={self.transport}")
        if self.no_verify:
            params.append("no_verify=1")
        if self.namespace != "auto":
            params.append(f"namespace={self.namespace}")
        if self.auth is not None:
            params.append(f"auth={self.auth}")
        query = f"?{'&'.join(params)}" if params else ""
        return f"hyperv://{user}{self._host_for_url}{port}/{query}"


def _parse_host(hostport: str, text: str) -> tuple[str, int | None]:
    if not hostport:
        raise ConfigError(f"missing host name in URI {text!r}")
    port_text: str | None = None
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0:
            raise ConfigError(f"unterminated IPv6 literal {hostport!r}")
        host = hostport[1:end]
        rest = hostport[end + 1 :]
        if rest:
            if not rest.startswith(":"):
                raise ConfigError(f"unexpected text {rest!r} after IPv6 literal")
            port_text = rest[1:]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ConfigError(f"invalid IPv6 address {host!r}") from None
    else:
        host, sep, port_part = hostport.partition(":")
        if sep:
            if ":" in port_part:
                raise ConfigError(f"IPv6 address {hostport!r} must be written in brackets")
            port_text = port_part
        if not host:
            raise ConfigError(f"missing host name in URI {text!r}")
        if not _HOSTNAME_RE.fullmatch(host):
            raise ConfigError(f"invalid host name {host!r}")
    port: int | None = None
    if port_text is not None:
        if not port_text.isascii() or not port_text.isdigit():
            raise ConfigError(f"invalid port {port_text!r}: not a number")
        port = int(port_text)
        if not 1 <= port <= 65535:
            raise ConfigError(f"port {port} out of range 1-65535")
    return host.lower(), port


def _flag(name: str, value: str) -> bool:
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ConfigError(f"parameter {name}={value!r}: expected 0 or 1")


def _choice(name: str, value: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ConfigError(f"parameter {name}={value!r}: expected one of {', '.join(choices)}")
    return value


def parse_uri(text: str) -> ConnectionURI:
    """Parse a libvirt-style Hyper-V connection URI.

    Args:
        text: For example ``hyperv://admin@hv01:5985/?transport=http``.

    Returns:
        The parsed, validated :class:`ConnectionURI`.

    Raises:
        ConfigError: The URI is malformed or asks for something unsupported; the message names
            the offending part (never a password).
    """
    if not isinstance(text, str):
        raise ConfigError(f"URI must be a string, not {type(text).__name__}")
    match = _URI_RE.fullmatch(text.strip())
    if match is None:
        raise ConfigError(f"not a URI: {text!r}; expected hyperv://[user@]host[:port]/")
    scheme = match["scheme"].lower()
    if scheme != "hyperv":
        if scheme.startswith("hyperv+"):
            raise ConfigError(
                f"URI scheme {match['scheme']!r}: transport {scheme[7:]!r} is not supported; "
                "aiohyperv is a client-side driver and talks WS-Management directly (hyperv://)"
            )
        raise ConfigError(f"URI scheme {match['scheme']!r} is not supported; use hyperv://")
    if match["fragment"] is not None:
        raise ConfigError("URI fragments ('#...') are not supported")
    if match["path"] not in ("", "/"):
        raise ConfigError(f"unexpected path {match['path']!r} in URI; expected '/'")

    authority = match["authority"]
    userinfo, at, hostport = authority.rpartition("@")
    username: str | None = None
    if at:
        if ":" in userinfo:
            # Never echo the userinfo: it holds a password.
            raise ConfigError(
                "passwords do not belong in URIs; supply them through an auth callback"
            )
        if not userinfo:
            raise ConfigError("empty user name before '@' in URI")
        username = unquote(userinfo, errors="strict")
    hostname, port = _parse_host(hostport, text)

    transport: Transport = "https"
    no_verify = False
    namespace: Namespace = "auto"
    auth: AuthMethod | None = None
    seen: set[str] = set()
    for pair in (match["query"] or "").split("&"):
        if not pair:
            continue
        name, eq, raw = pair.partition("=")
        name = unquote(name)
        value = unquote(raw)
        if not eq:
            raise ConfigError(f"parameter {name!r} has no value; expected name=value")
        if name in seen:
            raise ConfigError(f"parameter {name!r} given twice")
        seen.add(name)
        if name == "transport":
            transport = cast("Transport", _choice(name, value.lower(), get_args(Transport)))
        elif name == "no_verify":
            no_verify = _flag(name, value)
        elif name == "namespace":
            namespace = cast("Namespace", _choice(name, value.lower(), get_args(Namespace)))
        elif name == "auth":
            auth = cast("AuthMethod", _choice(name, value.lower(), get_args(AuthMethod)))
        else:
            raise ConfigError(
                f"unknown parameter {name!r}; known: transport, no_verify, namespace, auth"
            )
    return ConnectionURI(
        hostname=hostname,
        port=port if port is not None else DEFAULT_PORTS[transport],
        transport=transport,
        username=username,
        no_verify=no_verify,
        namespace=namespace,
        auth=auth,
    )
