"""Serving one host or a whole fleet from one process, over HTTP or HTTPS.

All hosts share one aiohttp application and one ``AppRunner``; each host gets its own listening
socket (its own port on ``listen``, or its own loopback address 127.0.0.x), and the app routes a
request to the host by the socket it arrived on.  A fleet of 500 hosts therefore costs 500
sockets and one application, not 500 applications.
"""

from __future__ import annotations

import datetime as _dt
import ipaddress
import os
import random
import socket
import ssl
import tempfile
from typing import TYPE_CHECKING, Literal, Self

from aiohttp import web

from aiohyperv._exceptions import ConfigError
from aiohyperv._lifecycle import AsyncClosing
from aiohyperv.simulator._app import AUTH_KEY, HostRouter, make_app
from aiohyperv.simulator._host import (
    AUTH_DEFAULTS,
    OS_PROFILES,
    AuthDefaults,
    HostSpec,
    SimulatedHost,
)
from aiohyperv.simulator._locale import LOCALES

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from aiohyperv.simulator._auth import CertificateMapping
    from aiohyperv.simulator._security import HostAuth

__all__ = [
    "DEFAULT_OS_MIX",
    "SimulatorServer",
    "generate_fleet",
    "self_signed_context",
]

#: How often each Windows release appears in a generated fleet (weights).
DEFAULT_OS_MIX: dict[str, float] = {
    "2019": 0.38,
    "2022": 0.25,
    "2016": 0.15,
    "2012R2": 0.08,
    "2025": 0.07,
    "2012": 0.04,
    "2008R2": 0.03,
}


def generate_fleet(
    n_hosts: int,
    vms_per_host: int,
    *,
    seed: int = 0,
    os_mix: dict[str, float] | None = None,
    name_prefix: str = "hv",
    username: str = "admin",
    password: str = "secret",
    job_duration: float = 0.1,
    clock: Callable[[], float] | None = None,
    auth_defaults: AuthDefaults = "lab",
    allow_basic: bool | None = None,
    allow_unencrypted: bool | None = None,
    client_certificates: Sequence[CertificateMapping] = (),
    batching: Literal["windows", "full"] = "windows",
    locale_mix: Mapping[str, float] | None = None,
    kerberos_keytab: str | None = None,
) -> list[SimulatedHost]:
    """Generate ``n_hosts`` hosts of ``vms_per_host`` VMs each, deterministically from ``seed``.

    Host names are ``hv001``, ``hv002``...; each host's Windows release is drawn from
    ``os_mix`` (weights by release, default :data:`DEFAULT_OS_MIX`).

    Args:
        auth_defaults: ``"lab"`` (Basic and plaintext HTTP accepted) or ``"windows"`` (a fresh
            Windows Server: both refused); see :data:`AUTH_DEFAULTS`.
        allow_basic, allow_unencrypted: override the preset's value when not None.
        client_certificates: certificate mappings every host gets (HTTPS).
        batching: every host's enumeration batching (see :class:`HostSpec`).
        locale_mix: weights by display language (``{"en-US": 3, "de-DE": 1}``); each host's
            language is drawn from it (default: all ``en-US``).  Drawn from a generator of its
            own, so adding a mix does not change the hosts' releases.
        kerberos_keytab: a keytab every host accepts Kerberos with (any service principal
            in it; see :attr:`HostSpec.kerberos_keytab`).

    Raises:
        ConfigError: a count is negative, the mix names an unknown release or the auth preset
            is unknown.
    """
    if n_hosts < 0 or vms_per_host < 0:
        raise ConfigError("host and VM counts must be zero or more")
    if auth_defaults not in AUTH_DEFAULTS:
        raise ConfigError(
            f"unknown auth preset {auth_defaults!r}; choose one of {', '.join(AUTH_DEFAULTS)}"
        )
    auth = dict(AUTH_DEFAULTS[auth_defaults])
    if allow_basic is not None:
        auth["allow_basic"] = allow_basic
    if allow_unencrypted is not None:
        auth["allow_unencrypted"] = allow_unencrypted
    mix = os_mix or DEFAULT_OS_MIX
    unknown = set(mix) - set(OS_PROFILES)
    if unknown:
        raise ConfigError(f"unknown OS in the mix: {', '.join(sorted(unknown))}")
    releases = list(mix)
    weights = [mix[r] for r in releases]
    rng = random.Random(f"aiohyperv-fleet:{seed}")
    locales = dict(locale_mix or {"en-US": 1.0})
    unknown_locales = set(locales) - set(LOCALES)
    if unknown_locales:
        raise ConfigError(f"unknown locale in the mix: {', '.join(sorted(unknown_locales))}")
    locale_rng = random.Random(f"aiohyperv-fleet-locale:{seed}")
    locale_names = list(locales)
    locale_weights = [locales[name] for name in locale_names]
    width = max(3, len(str(n_hosts)))
    hosts = []
    for index in range(n_hosts):
        spec = HostSpec(
            name=f"{name_prefix}{index + 1:0{width}d}",
            os=rng.choices(releases, weights)[0],
            vms=vms_per_host,
            seed=seed,
            username=username,
            password=password,
            job_duration=job_duration,
            allow_basic=auth["allow_basic"],
            allow_unencrypted=auth["allow_unencrypted"],
            client_certificates=tuple(client_certificates),
            batching=batching,
            locale=locale_rng.choices(locale_names, locale_weights)[0],
            kerberos_keytab=kerberos_keytab,
        )
        hosts.append(SimulatedHost.generate(spec, clock=clock))
    return hosts


_SELF_SIGNED: tuple[bytes, bytes] | None = None


def _self_signed_pem() -> tuple[bytes, bytes]:
    """A throwaway certificate for 127.0.0.1/localhost (made once per process)."""
    global _SELF_SIGNED
    if _SELF_SIGNED is None:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "aiohyperv-simulator")])
        now = _dt.datetime.now(_dt.UTC)
        sans = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _dt.timedelta(days=1))
            .not_valid_after(now + _dt.timedelta(days=365))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .sign(key, hashes.SHA256())
        )
        _SELF_SIGNED = (
            cert.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
        )
    return _SELF_SIGNED


def self_signed_context() -> tuple[ssl.SSLContext, bytes]:
    """A server TLS context with a self-signed certificate, and that certificate's PEM.

    The certificate names ``localhost`` and ``127.0.0.1``; clients either trust the returned
    PEM or skip verification (``?no_verify=1``).
    """
    cert_pem, key_pem = _self_signed_pem()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    with tempfile.TemporaryDirectory() as tmp:
        cert_file = os.path.join(tmp, "cert.pem")
        key_file = os.path.join(tmp, "key.pem")
        with open(cert_file, "wb") as out:
            out.write(cert_pem)
        with open(key_file, "wb") as out:
            out.write(key_pem)
        context.load_cert_chain(cert_file, key_file)
    return context, cert_pem


def _first_certificate_der(pem: bytes) -> bytes | None:
    """DER of the first certificate in a PEM file (the leaf of a chain), or None."""
    text = pem.decode("ascii", errors="replace")
    begin, end = "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----"
    start = text.find(begin)
    stop = text.find(end, start)
    if start < 0 or stop < 0:
        return None
    return ssl.PEM_cert_to_DER_cert(text[start : stop + len(end)])


class SimulatorServer(AsyncClosing):
    """Serve simulated hosts on loopback sockets; ``async with`` starts and stops them.

    Args:
        hosts: the hosts to serve (at least one).
        listen: the address to listen on.
        port: the first port; host *i* listens on ``port + i``.  ``0`` (default) lets the OS
            pick a free port for each host.
        transport: ``"http"`` or ``"https"``.
        certfile, keyfile: PEM certificate and key for HTTPS; a self-signed certificate for
            localhost is made when omitted.
        per_host_address: give host *i* its own address ``127.0.0.(i+2)`` instead of its own
            port (all on ``port``, or each on a free port when ``port`` is 0).
        client_ca_pem: PEM of the CA(s) whose client certificates the HTTPS listener asks for
            and verifies (optional: clients without one still connect), for hosts with
            ``client_certificates`` mappings.

    Over HTTPS, NTLM must carry a channel binding token for the listener's certificate
    (Extended Protection): clients that send none, or one for another certificate, get 401.

    Attributes:
        uris: one ``hyperv://user@address:port/?...`` URI per host, in ``hosts`` order.
        endpoints: ``(address, port)`` per host.
        certificate_pem: the server certificate (HTTPS), to trust it instead of skipping checks.
    """

    def __init__(
        self,
        hosts: Sequence[SimulatedHost],
        *,
        listen: str = "127.0.0.1",
        port: int = 0,
        transport: Literal["http", "https"] = "http",
        certfile: str | None = None,
        keyfile: str | None = None,
        per_host_address: bool = False,
        client_ca_pem: bytes | None = None,
    ) -> None:
        if not hosts:
            raise ConfigError("SimulatorServer needs at least one host")
        if client_ca_pem is not None and transport != "https":
            raise ConfigError("client certificates need transport='https'")
        if transport not in ("http", "https"):
            raise ConfigError(f"transport must be http or https, not {transport!r}")
        if per_host_address and len(hosts) > 250:
            raise ConfigError("per_host_address serves at most 250 hosts (127.0.0.2-251)")
        self.hosts = list(hosts)
        # The hosts find each other by name (MigrateVirtualSystemToHost's DestinationHost).
        peers = {}
        for host in self.hosts:
            for name in (host.spec.name, host.computer_name, host.dns_name,
                         f"{host.dns_name}.{host.domain}"):  # fmt: skip
                peers[name.lower()] = host
        for host in self.hosts:
            host.peers = peers
        self.listen = listen
        self.port = port
        self.transport = transport
        self.per_host_address = per_host_address
        self.certificate_pem: bytes | None = None
        self._ssl: ssl.SSLContext | None = None
        if transport == "https":
            if certfile is not None:
                self._ssl = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
                self._ssl.load_cert_chain(certfile, keyfile)
                with open(certfile, "rb") as fh:
                    self.certificate_pem = fh.read()
            else:
                self._ssl, self.certificate_pem = self_signed_context()
            if client_ca_pem is not None:
                try:
                    self._ssl.load_verify_locations(cadata=client_ca_pem.decode("ascii"))
                except (ssl.SSLError, UnicodeDecodeError, ValueError) as exc:
                    raise ConfigError(f"client_ca_pem is not a PEM certificate: {exc}") from None
                # Optional: clients that authenticate otherwise (NTLM, Basic) send none.
                self._ssl.verify_mode = ssl.CERT_OPTIONAL
        self._server_der = (
            _first_certificate_der(self.certificate_pem) if self.certificate_pem else None
        )
        self._router = HostRouter()
        self._auth: HostAuth | None = None
        self._runner: web.AppRunner | None = None
        self._sites: dict[int, web.SockSite] = {}
        self._reserved: dict[int, socket.socket] = {}  # closed listeners' ports, still bound
        self.endpoints: list[tuple[str, int]] = []

    # --- lifecycle ----------------------------------------------------------------------------
    async def start(self) -> None:
        """Bind every host's socket and start serving."""
        if self._runner is not None:
            return
        app = make_app(router=self._router, server_certificate=self._server_der)
        self._auth = app[AUTH_KEY]
        # handler_cancellation: when a client gives up on a request (a timeout, a stalled host)
        # its handler is cancelled, as HTTP.sys abandons it; otherwise a handler sleeping out
        # a long injected latency outlives its connection and even the server's shutdown.
        runner = web.AppRunner(
            app,
            handle_signals=False,
            access_log=None,
            shutdown_timeout=0.5,
            handler_cancellation=True,
        )
        await runner.setup()
        self._runner = runner
        try:
            for index, host in enumerate(self.hosts):
                address = self._address(index)
                wanted = self.port if self.per_host_address or not self.port else self.port + index
                port = await self._open(index, address, wanted)
                self.endpoints.append((address, port))
                self._router.add(address, port, host)
        except BaseException:
            await self.aclose()
            raise
        for index, host in enumerate(self.hosts):
            if host.faults.refuse_connections:
                await self._close_site(index)

    def warm(self) -> None:
        """Prepare every host before the first request: VM settings (:meth:`SimulatedHost.warm`)
        and the account table each host's authentication uses.  Optional; call after
        :meth:`start`."""
        for host in self.hosts:
            host.warm()
            if self._auth is not None:
                table = self._auth.users(host)
                for user in table:  # the NT hashes the NTLM acceptor checks against
                    table.nt_hash(user.principal)

    def _address(self, index: int) -> str:
        if not self.per_host_address:
            return self.listen
        return f"127.0.0.{index + 2}"

    async def _open(self, index: int, address: str, port: int) -> int:
        assert self._runner is not None
        reserved = self._reserved.pop(index, None)
        if reserved is not None:
            reserved.close()
        sock = socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((address, port))
            sock.setblocking(False)
            site = web.SockSite(self._runner, sock, ssl_context=self._ssl, backlog=128)
            await site.start()
        except OSError as exc:
            sock.close()
            where = f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
            raise OSError(exc.errno, f"cannot listen on {where}: {exc.strerror}") from exc
        except BaseException:
            sock.close()
            raise
        self._sites[index] = site
        return int(sock.getsockname()[1])

    async def _close_site(self, index: int) -> None:
        site = self._sites.pop(index, None)
        if site is not None:
            await site.stop()
            self._reserve(index)

    def _reserve(self, index: int) -> None:
        """Keep a closed listener's port bound (not listening) until it reopens.

        Connecting still fails with "connection refused", but no other program can take the
        port meanwhile: with the port simply released, any process on the machine binding
        port 0 may get it, and clients of the "refusing" host then talk to that stranger
        (and reopening the listener on the same port fails).  No SO_REUSEADDR, so that even
        sockets asking for address reuse are kept off; if the port still has connections in
        TIME_WAIT that bind is refused, and one with SO_REUSEADDR is the best left to do.
        """
        address, port = self.endpoints[index]
        for reuse in (False, True):
            sock = socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET)
            try:
                if reuse:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind((address, port))
            except OSError:
                sock.close()
                continue
            self._reserved[index] = sock
            return

    async def apply_faults(self) -> None:
        """Close or reopen each host's listener to match ``faults.refuse_connections``.

        A closed listener makes clients see "connection refused", as with a host whose WinRM
        service is stopped.  Reopening uses the same address and port.
        """
        for index, host in enumerate(self.hosts):
            refusing = host.faults.refuse_connections
            if refusing and index in self._sites:
                await self._close_site(index)
            elif not refusing and index not in self._sites and self._runner is not None:
                address, port = self.endpoints[index]
                await self._open(index, address, port)

    async def aclose(self) -> None:
        """Stop serving and close every socket."""
        runner, self._runner = self._runner, None
        self._sites.clear()
        for sock in self._reserved.values():
            sock.close()
        self._reserved.clear()
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    # --- addresses ----------------------------------------------------------------------------
    @property
    def uris(self) -> list[str]:
        """Connection URIs, one per host (``hyperv://admin@127.0.0.1:PORT/?transport=http``)."""
        out = []
        for host, (address, port) in zip(self.hosts, self.endpoints, strict=True):
            if self.transport == "http":
                query = "?transport=http"
            else:
                query = "?no_verify=1"
            out.append(f"hyperv://{host.spec.username}@{address}:{port}/{query}")
        return out

    @property
    def urls(self) -> list[str]:
        """The raw WS-Man endpoint URLs (``http://127.0.0.1:PORT/wsman``)."""
        return [f"{self.transport}://{a}:{p}/wsman" for a, p in self.endpoints]

    def host(self, name: str) -> SimulatedHost:
        """The served host called ``name``.

        Raises:
            KeyError: no such host.
        """
        for host in self.hosts:
            if host.spec.name == name:
                return host
        raise KeyError(name)

    def __repr__(self) -> str:
        state = "serving" if self._runner is not None else "stopped"
        return f"<SimulatorServer {state} hosts={len(self.hosts)} transport={self.transport}>"
