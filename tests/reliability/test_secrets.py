"""No password, NTLM hash or Authorization header value in any log, error, repr or CLI output.

Every error path runs with DEBUG logging on for every logger (aiohyperv, its simulator,
aiohttp, asyncio): wrong passwords over Basic, NTLM and Negotiate, forced 401s, SOAP faults,
truncated XML, resets, refused connections, untrusted TLS, successful sealed traffic, the CLI and
the fleet CLI.  The server side records every Authorization header the client sent; none of
those values, nor the passwords, their Basic encodings or their NT hashes, may appear anywhere
the user or a log collector could see.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import io
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest
from aiohttp.test_utils import TestServer

from aiohyperv._auth._ntowf import nt_hash
from aiohyperv._config import parse_uri
from aiohyperv._credentials import Credentials
from aiohyperv._exceptions import HyperVError
from aiohyperv._transport import SessionPool, TLSOptions, WSManSession
from aiohyperv.cli import run as cli_run
from aiohyperv.fleet import Fleet, inventory_op
from aiohyperv.hyperv import connect
from aiohyperv.simulator import HostSpec, SimulatedHost, SimulatorServer, make_app

if TYPE_CHECKING:
    from aiohttp import web

PASSWORD = "Zq7-hunter2-Sekret!"
WRONG = "Wr0ng-Guess-Passw0rd?"
USER = "admin"


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def static_secrets() -> set[str]:
    secrets = {PASSWORD, WRONG}
    for pw in (PASSWORD, WRONG):
        digest = nt_hash(pw)
        secrets |= {
            digest.hex(),
            digest.hex().upper(),
            _b64(f"{USER}:{pw}"),
            base64.b64encode(digest).decode(),
            pw.encode("utf-16-le").hex(),
            repr(pw.encode())[2:-1],
        }
    return secrets


class Recorder:
    """Every Authorization header value the simulated hosts received."""

    def __init__(self) -> None:
        self.authorization: set[str] = set()

    async def on_prepare(self, request: web.Request, _response: web.StreamResponse) -> None:
        value = request.headers.get("Authorization")
        if value:
            self.authorization.add(value)
            scheme, _, token = value.partition(" ")
            if token and scheme.lower() != "http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile":
                self.authorization.add(token)
                # Long enough pieces of the token too (a log could cut it).
                self.authorization.add(token[8:40])


class Scan:
    """Collects everything a user or a log collector could see."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.errors: list[BaseException] = []

    def error(self, exc: BaseException) -> None:
        self.errors.append(exc)
        seen: set[int] = set()
        todo: list[BaseException | None] = [exc]
        while todo:
            item = todo.pop()
            if item is None or id(item) in seen:
                continue
            seen.add(id(item))
            self.texts += [str(item), repr(item), repr(getattr(item, "args", ()))]
            self.texts += (
                [repr(v) for v in vars(item).values()] if hasattr(item, "__dict__") else []
            )
            todo += [item.__cause__, item.__context__]
            if isinstance(item, BaseExceptionGroup):
                todo += list(item.exceptions)

    async def expect_error(self, aw: Awaitable[Any]) -> None:
        try:
            async with asyncio.timeout(30):
                await aw
        except HyperVError as exc:
            self.error(exc)
        else:
            raise AssertionError("expected a HyperVError")


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


StartHost = Callable[..., Awaitable[str]]


@pytest.fixture
async def start_host(recorder: Recorder) -> AsyncIterator[StartHost]:
    servers: list[TestServer] = []

    async def start(**faults: Any) -> str:
        host = SimulatedHost.generate(
            HostSpec(name="hv01", vms=2, seed=5, password=PASSWORD, job_duration=0.01)
        )
        for name, value in faults.items():
            setattr(host.faults, name, value)
        app = make_app(host)
        app.on_response_prepare.append(recorder.on_prepare)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        return f"127.0.0.1:{server.port}"

    yield start
    for server in servers:
        await server.close()


@pytest.fixture
def refused_port() -> Iterator[int]:
    """A port bound but not listening: connecting is refused, and nobody else can take it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


def _creds(password: str) -> Credentials:
    return Credentials(username=USER, password=password)


async def _session_ops(uri: str, password: str) -> None:
    async with WSManSession(parse_uri(uri), _creds(password)) as session:
        await session.identify()
        await session.get(
            "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/Win32_OperatingSystem"
        )


async def _driver_ops(uri: str, password: str) -> None:
    async with connect(uri, auth=_creds(password)) as conn:
        for dom in await conn.list_domains():
            await dom.info()
            await dom.xml_desc()


async def test_no_secret_anywhere(
    start_host: StartHost,
    recorder: Recorder,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Any,
    refused_port: int,
) -> None:
    scan = Scan()
    outputs: list[str] = []
    caplog.set_level(logging.DEBUG)  # the root logger: aiohyperv, the simulator, aiohttp...
    for name in ("aiohyperv", "aiohyperv.simulator", "aiohttp", "asyncio"):
        logging.getLogger(name).setLevel(logging.DEBUG)

    healthy = await start_host()
    http = "?transport=http"
    methods = ["basic", "ntlm", "negotiate"]

    # Wrong passwords, each method, through the session and through the driver.
    for method in methods:
        uri = f"hyperv://{USER}@{healthy}/{http}&auth={method}"
        await scan.expect_error(_session_ops(uri, WRONG))
        await scan.expect_error(_driver_ops(uri, WRONG))
    # The default method (Negotiate) with a wrong password, no auth= in the URI.
    await scan.expect_error(_driver_ops(f"hyperv://{USER}@{healthy}/{http}", WRONG))

    # Right passwords on hosts that misbehave, each method.
    faults: list[dict[str, Any]] = [
        {"unauthorized": True},
        {"fault_rate": 1.0},
        {"bad_xml_rate": 1.0},
        {"reset_rate": 1.0},
    ]
    for fault in faults:
        address = await start_host(**fault)
        for method in methods:
            uri = f"hyperv://{USER}@{address}/{http}&auth={method}"
            await scan.expect_error(_driver_ops(uri, PASSWORD))

    # Successful traffic (sealed NTLM over HTTP, Basic), so the success paths log too.
    for method in methods:
        await _driver_ops(f"hyperv://{USER}@{healthy}/{http}&auth={method}", PASSWORD)

    # Nobody listening; an untrusted certificate.
    closed = f"hyperv://{USER}@127.0.0.1:{refused_port}/{http}&auth=ntlm"
    await scan.expect_error(_driver_ops(closed, PASSWORD))
    async with SimulatorServer(
        [SimulatedHost.generate(HostSpec(name="tls", vms=1, password=PASSWORD))],
        transport="https",
    ) as tls_server:
        address, port = tls_server.endpoints[0]
        for method in methods:
            uri = f"hyperv://{USER}@{address}:{port}/?auth={method}"
            await scan.expect_error(_driver_ops(uri, PASSWORD))
        async with SessionPool(tls=TLSOptions(verify=True)) as pool:
            session = pool.session(
                parse_uri(f"hyperv://{USER}@{address}:{port}/"), _creds(PASSWORD)
            )
            outputs.append(repr(pool))
            outputs.append(repr(session))
            await scan.expect_error(session.identify())

    # The CLI, with -d (everything logged to stderr), on every kind of failure and a success.
    monkeypatch.setenv("LIBVIRT_AUTH_FILE", str(tmp_path / "none.conf"))
    monkeypatch.delenv("AIOHYPERV_USERNAME", raising=False)
    unauthorized = await start_host(unauthorized=True)
    runs = [
        (WRONG, [f"hyperv://{USER}@{healthy}/{http}", "list", "--all"]),
        (WRONG, [f"hyperv://{USER}@{healthy}/{http}&auth=basic", "nodeinfo"]),
        (PASSWORD, [f"hyperv://{USER}@{unauthorized}/{http}", "list"]),
        (PASSWORD, [closed, "list"]),
        (PASSWORD, [f"hyperv://{USER}@{healthy}/{http}", "list", "--all"]),
        (PASSWORD, [f"hyperv://{USER}@{healthy}/{http}&auth=basic", "dominfo", "no-such-vm"]),
    ]
    for password, (uri, *rest) in runs:
        monkeypatch.setenv("AIOHYPERV_PASSWORD", password)
        out, err = io.StringIO(), io.StringIO()
        await cli_run(["-d", "-c", uri, *rest], stdout=out, stderr=err)
        outputs += [out.getvalue(), err.getvalue()]
    # The fleet CLI over a mix of hosts, some with the wrong password.
    monkeypatch.setenv("AIOHYPERV_PASSWORD", WRONG)
    out, err = io.StringIO(), io.StringIO()
    await cli_run(
        ["-d", "inventory", f"hyperv://{USER}@{healthy}/{http}", closed, "--format", "json"],
        stdout=out,
        stderr=err,
    )
    outputs += [out.getvalue(), err.getvalue()]

    # The fleet API: results, errors and their reprs.
    fleet_uris = [f"hyperv://{USER}@{healthy}/{http}&auth={m}" for m in methods] + [closed]
    result = await Fleet(fleet_uris, auth=_creds(WRONG), timeout=30).run(inventory_op)
    outputs += [repr(result), *(repr(r) for r in result)]
    for r in result:
        assert r.error is not None
        scan.error(r.error)
    outputs += [repr(_creds(PASSWORD)), str(_creds(PASSWORD))]

    # --- the check --------------------------------------------------------------------------
    secrets = static_secrets() | recorder.authorization
    assert any(v.startswith("Negotiate ") for v in recorder.authorization)  # NTLM was exercised
    assert any(v.startswith("Basic ") for v in recorder.authorization)
    logs = [r.getMessage() for r in caplog.records]
    logs += [r.exc_text or "" for r in caplog.records] + [caplog.text]
    everything = scan.texts + outputs + logs
    assert len(scan.errors) == 28  # every path above ended in a typed error
    assert any("error:" in text for text in outputs)
    for secret in secrets:
        assert len(secret) >= 8, secret
        for text in everything:
            assert secret not in text, f"a secret leaked into: {text[:300]!r}"
    assert binascii.hexlify(PASSWORD.encode()).decode() not in "".join(everything)


def test_pyspnego_token_logging_is_redacted(caplog: pytest.LogCaptureFixture) -> None:
    """pyspnego logs every token at DEBUG; importing aiohyperv's auth redacts them."""
    import aiohyperv._auth  # noqa: F401  # installs the filter

    token = base64.b64encode(b"NTLMSSP\x00\x03" + bytes(range(64))).decode()
    caplog.set_level(logging.DEBUG)
    for name in ("spnego._ntlm", "spnego._negotiate", "spnego._gss"):
        logging.getLogger(name).debug("NTLM step output: %s", token)
        # pyspnego formats this one itself before logging it (no lazy argument to redact).
        logging.getLogger(name).debug("SPNEGO step input: " + token)  # noqa: G003
    assert token not in caplog.text
    assert caplog.text.count("base64 characters redacted") == 6
