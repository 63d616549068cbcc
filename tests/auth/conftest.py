"""Loopback servers, TLS material and a recording TCP proxy for the auth tests."""

from __future__ import annotations

import contextlib
import datetime
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import aiohttp
import pytest
import trustme
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from aiohyperv._auth import AuthClientRequest
from aiohyperv._auth._certs import UPN_OID
from aiohyperv.simulator._auth import (
    AUTH_INFO,
    ServerAuthPolicy,
    UserTable,
    auth_middleware,
    request_body,
)

if TYPE_CHECKING:
    import asyncio

SOAP = b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>%s</s:Body></s:Envelope>'
USERS = {"admin": "s3cret-Pa55", "CORP\\alice": "Wonderland-9", "CORP\\bob": "bob-Pa55w0rd"}


@dataclass
class Seen:
    """What the echo handler observed, request by request."""

    bodies: list[bytes] = field(default_factory=list)
    users: list[str] = field(default_factory=list)
    sealed: list[bool] = field(default_factory=list)
    methods: list[str] = field(default_factory=list)


async def echo_handler(request: web.Request) -> web.Response:
    """A WS-Man-like handler: answers a SOAP envelope naming the user and echoing the body."""
    seen: Seen = request.app[SEEN]
    body = await request_body(request)
    info = request[AUTH_INFO]
    seen.bodies.append(body)
    seen.users.append(info.user.principal)
    seen.sealed.append(info.sealed)
    seen.methods.append(info.method)
    hook = request.app[HOOK]
    if hook is not None:
        await hook(body)
    reply = SOAP % (b"<Echo user='%s'>" % info.user.principal.encode() + body + b"</Echo>")
    response = web.Response(body=reply, content_type="application/soap+xml", charset="utf-8")
    drop_every = request.app[DROP_EVERY]
    if drop_every and len(seen.bodies) % drop_every == 0:
        response.force_close()  # the server drops this authenticated connection after answering
    return response


SEEN = web.AppKey("seen", Seen)
DROP_EVERY = web.AppKey("drop_every", int)
HOOK: web.AppKey[Callable[[bytes], Awaitable[None]] | None] = web.AppKey("hook")


@web.middleware
async def drop_after_first_challenge(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Outer middleware: close the connection right after the first NTLM challenge."""
    response = await handler(request)
    state = request.app[DROPPED]
    if response.status == 401 and " " in response.headers.get("WWW-Authenticate", "") and not state:
        state.append(True)
        response.force_close()
    return response


DROPPED: web.AppKey[list[bool]] = web.AppKey("dropped")


@dataclass
class Server:
    url: str
    port: int
    seen: Seen
    runner: web.AppRunner
    users: UserTable

    def transports(self) -> list[asyncio.BaseTransport]:
        server = self.runner.server
        assert server is not None
        return [c.transport for c in server.connections if c.transport is not None]


@dataclass
class TLSMaterial:
    ca: trustme.CA
    server_cert: trustme.LeafCert
    server_der: bytes

    def server_context(self, *, client_certs: bool = False) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.server_cert.configure_cert(ctx)
        if client_certs:
            self.ca.configure_trust(ctx)
            ctx.verify_mode = ssl.CERT_OPTIONAL
        return ctx

    def client_context(self, leaf: trustme.LeafCert | None = None) -> ssl.SSLContext:
        ctx = ssl.create_default_context()
        self.ca.configure_trust(ctx)
        if leaf is not None:
            leaf.configure_cert(ctx)
        return ctx


@pytest.fixture(scope="session")
def tls() -> TLSMaterial:
    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1", "localhost")
    der = ssl.PEM_cert_to_DER_cert(leaf.cert_chain_pems[0].bytes().decode("ascii"))
    return TLSMaterial(ca=ca, server_cert=leaf, server_der=der)


def issue_upn_cert(ca: trustme.CA, upn: str) -> tuple[bytes, bytes]:
    """A client certificate whose subjectAltName carries a Microsoft UPN: (cert PEM, key PEM)."""
    ca_key = serialization.load_pem_private_key(ca.private_key_pem.bytes(), password=None)
    ca_cert = x509.load_pem_x509_certificate(ca.cert_pem.bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    encoded = upn.encode("utf-8")
    value = bytes([0x0C, len(encoded)]) + encoded  # DER UTF8String
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "upn client")]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.OtherName(UPN_OID, value)]), False)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
        .sign(ca_key, hashes.SHA256())  # type: ignore[arg-type]
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert_pem, key_pem


@pytest.fixture
def users() -> UserTable:
    return UserTable(USERS)


ServerFactory = Callable[..., "contextlib.AbstractAsyncContextManager[Server]"]


@pytest.fixture
def start_server(users: UserTable) -> ServerFactory:
    @contextlib.asynccontextmanager
    async def start(
        policy: ServerAuthPolicy | None = None,
        *,
        ssl_context: ssl.SSLContext | None = None,
        drop_every: int = 0,
        table: UserTable | None = None,
        hook: Callable[[bytes], Awaitable[None]] | None = None,
        drop_mid_handshake: bool = False,
    ) -> AsyncIterator[Server]:
        middlewares = [auth_middleware(table or users, policy)]
        if drop_mid_handshake:
            middlewares.insert(0, drop_after_first_challenge)
        app = web.Application(middlewares=middlewares)
        seen = Seen()
        app[SEEN] = seen
        app[DROP_EVERY] = drop_every
        app[HOOK] = hook
        app[DROPPED] = []
        app.router.add_post("/wsman", echo_handler)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context)
        await site.start()
        port = runner.addresses[0][1]
        scheme = "https" if ssl_context is not None else "http"
        try:
            yield Server(
                url=f"{scheme}://127.0.0.1:{port}/wsman",
                port=port,
                seen=seen,
                runner=runner,
                users=table or users,
            )
        finally:
            await runner.cleanup()

    return start


@contextlib.asynccontextmanager
async def client_session(
    *, limit: int = 4, ssl_context: ssl.SSLContext | None = None
) -> AsyncIterator[aiohttp.ClientSession]:
    connector = aiohttp.TCPConnector(limit=limit, ssl=ssl_context if ssl_context else True)
    async with aiohttp.ClientSession(
        connector=connector, request_class=AuthClientRequest
    ) as session:
        yield session


def split_http_messages(stream: bytes) -> list[tuple[str, dict[str, str], bytes]]:
    """Cut a recorded HTTP/1.1 byte stream into (start line, headers, body) by Content-Length."""
    messages: list[tuple[str, dict[str, str], bytes]] = []
    pos = 0
    while pos < len(stream):
        end = stream.index(b"\r\n\r\n", pos)
        head = stream[pos:end].decode("latin-1").split("\r\n")
        headers: dict[str, str] = {}
        for line in head[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        body = stream[end + 4 : end + 4 + length]
        messages.append((head[0], headers, body))
        pos = end + 4 + length
    return messages


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say which auth paths this machine could not test, and why, even under ``-q``."""
    for report in terminalreporter.stats.get("skipped", []):
        if "tests/auth/" not in str(getattr(report, "nodeid", "")):
            continue
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        terminalreporter.write_line(f"auth: SKIPPED {report.nodeid}: {reason}")
