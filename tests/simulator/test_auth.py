"""The simulator authenticates like WinRM: NTLM (sealed over HTTP), HTTPS, client certificates.

End to end on loopback: aiohyperv's own auth client glue (``ClientAuth`` on an aiohttp session
with ``AuthClientRequest``) and core's WS-Man builders against ``SimulatorServer``; what crossed
the wire is checked through a recording TCP proxy.  pypsrp's NTLM with message encryption, an
independent implementation, is in ``test_pypsrp.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

import aiohttp
import pytest
import trustme

from aiohyperv._auth import AuthClientRequest, ClientAuth
from aiohyperv._auth import _client as _auth_client
from aiohyperv._auth._encryption import (
    SPNEGO_PROTOCOL,
    Sealer,
    Wrapped,
    decrypt_message,
    encrypt_message,
    encrypted_content_type,
)
from aiohyperv._config import parse_uri
from aiohyperv._credentials import Credentials
from aiohyperv._exceptions import AuthenticationError, ConfigError, ProtocolError
from aiohyperv.cim import EPR, CimInstance
from aiohyperv.simulator import (
    AUTH_DEFAULTS,
    VM,
    CertificateMapping,
    HostSpec,
    SimulatedHost,
    SimulatorServer,
    VMState,
    generate_fleet,
)
from aiohyperv.wsman import (
    Enumeration,
    Filter,
    RequestOptions,
    build_enumerate,
    build_get,
    build_identify,
    build_invoke,
    parse_get,
    parse_identify,
    parse_invoke,
    parse_response,
    resource_uri,
    wildcard_uri,
)
from tests._proxy import RecordingProxy

from ._helpers import SOAP, ManualClock, RawClient, split_http_messages

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

V2 = "root/virtualization/v2"
CS_URI = resource_uri(V2, "Msvm_ComputerSystem")
JOB_URI = resource_uri(V2, "Msvm_ConcreteJob")
PASSWORD = "Hyper-V-Pa55"
ADMIN = Credentials(username="admin", password=PASSWORD)
VMS_QUERY = "SELECT * FROM Msvm_ComputerSystem WHERE Description = 'Microsoft Virtual Machine'"


def windows_host(name: str = "hv42", **fields: object) -> SimulatedHost:
    spec = HostSpec.windows_defaults(name=name, vms=6, seed=2, password=PASSWORD, **fields)
    return SimulatedHost.generate(spec, clock=ManualClock())


def off_vm(host: SimulatedHost) -> VM:
    found = [v for v in host.vms.values() if v.state == VMState.OFF]
    assert found, "seed 2 generates VMs that are off on hv42 and win1"
    return found[0]


@dataclass
class Client:
    """WS-Man over ``ClientAuth``: every request authenticated (and sealed) as it says."""

    session: aiohttp.ClientSession
    auth: ClientAuth
    url: str

    @property
    def options(self) -> RequestOptions:
        return RequestOptions(to=self.url)

    async def ok(self, body: bytes) -> bytes:
        reply = await self.auth.post(self.session, self.url, body)
        assert reply.status == 200, reply.body[:2000]
        assert reply.sealed == self.auth.encrypt
        return reply.body

    async def enumerate(self, query: str) -> list[CimInstance | EPR]:
        enum = Enumeration(
            wildcard_uri(V2), options=self.options, filter=Filter.wql(query), max_elements=2
        )
        items: list[CimInstance | EPR] = []
        request: bytes | None = enum.start()
        for _ in range(100):  # bounded
            if request is None:
                break
            items.extend(enum.receive(await self.ok(request)))
            request = enum.next_request()
        assert enum.done
        return items

    async def get(self, uri: str, **selectors: str) -> CimInstance:
        body = build_get(uri, options=self.options, selectors=selectors)
        return parse_get(parse_response(await self.ok(body)))

    async def request_state_change(self, guid: str, state: int) -> tuple[int | None, EPR | None]:
        body = build_invoke(
            CS_URI,
            "RequestStateChange",
            options=self.options,
            selectors={"CreationClassName": "Msvm_ComputerSystem", "Name": guid},
            params={"RequestedState": state},
        )
        result = parse_invoke(parse_response(await self.ok(body)), "RequestStateChange")
        return result.return_value, result.job


@contextlib.asynccontextmanager
async def auth_session(
    *, ssl_context: ssl.SSLContext | None = None, limit: int = 2
) -> AsyncIterator[aiohttp.ClientSession]:
    connector = aiohttp.TCPConnector(limit=limit, ssl=ssl_context if ssl_context else True)
    async with aiohttp.ClientSession(
        connector=connector, request_class=AuthClientRequest
    ) as session:
        yield session


def ntlm(
    creds: Credentials = ADMIN,
    *,
    https: bool = False,
    encrypt: bool | None = None,
    send_cbt: bool = True,
) -> ClientAuth:
    return ClientAuth(
        "ntlm",
        hostname="127.0.0.1",
        https=https,
        credentials=creds,
        encrypt=encrypt,
        send_cbt=send_cbt,
    )


def trusting(server: SimulatorServer) -> ssl.SSLContext:
    """A client context that trusts the simulator's self-signed certificate (and checks it)."""
    assert server.certificate_pem is not None
    return ssl.create_default_context(cadata=server.certificate_pem.decode("ascii"))


# --- NTLM over HTTP, sealed ---------------------------------------------------------------------
async def test_ntlm_sealed_over_http_enumerates_and_changes_state_with_no_plaintext_on_wire() -> (
    None
):
    host = windows_host()
    clock = host.clock
    assert isinstance(clock, ManualClock)
    vm = off_vm(host)
    async with (
        SimulatorServer([host]) as server,
        RecordingProxy(server.endpoints[0][1]) as proxy,
        auth_session() as session,
    ):
        client = Client(session, ntlm(), proxy.url)
        vms = await client.enumerate(VMS_QUERY)
        ret, job = await client.request_state_change(vm.guid, VMState.RUNNING)
        assert ret == 4096 and job is not None
        job_id = job.selector("InstanceID")
        assert job_id
        assert host.enabled_state(host.vms[vm.guid]) == VMState.STARTING  # the server acted on it
        clock.advance(1)
        finished = await client.get(JOB_URI, InstanceID=job_id)
        after = await client.get(CS_URI, CreationClassName="Msvm_ComputerSystem", Name=vm.guid)
        stats = client.auth.stats

    names = {i.get_str("ElementName") for i in vms if isinstance(i, CimInstance)}
    assert names == {v.name for v in host.vms.values()}
    assert len(vms) == 6  # several Pulls: max_elements=2
    assert finished.get_int("JobState") == 7
    assert after.get_int("EnabledState") == VMState.RUNNING
    # Enumerate (one item, as Windows answers), 3 Pulls of up to 2, invoke, 2 Gets
    assert stats.sealed == stats.requests == 7
    assert stats.handshakes == len(proxy.connections) >= 1

    # Nothing of the SOAP traffic is readable on the wire, in either direction...
    wire = proxy.client_bytes() + proxy.server_bytes()
    for plaintext in (
        b"Envelope",
        b"Msvm_",
        b"RequestStateChange",
        vm.guid.encode(),
        vm.name.encode(),
    ):
        assert plaintext not in wire
    assert PASSWORD.encode() not in wire
    # ...and every message after each connection's handshake went multipart/encrypted.
    sealed_requests = 0
    for c2s, s2c in proxy.connections:
        requests = split_http_messages(bytes(c2s))
        responses = split_http_messages(bytes(s2c))
        assert len(requests) == len(responses) >= 3
        assert requests[0][1]["authorization"][0].startswith("Negotiate ")
        assert responses[0][0].startswith("HTTP/1.1 401")
        assert responses[0][1]["server"] == ["Microsoft-HTTPAPI/2.0"]
        for (_line, headers, payload), (status, rheaders, rpayload) in zip(
            requests[2:], responses[2:], strict=True
        ):
            assert headers["content-type"][0].startswith("multipart/encrypted;")
            assert "application/HTTP-SPNEGO-session-encrypted" in headers["content-type"][0]
            assert payload.startswith(b"--Encrypted Boundary\r\n")
            assert status.startswith("HTTP/1.1 200")
            assert rheaders["content-type"][0].startswith("multipart/encrypted;")
            assert rpayload.startswith(b"--Encrypted Boundary\r\n")
            sealed_requests += 1
    assert sealed_requests == 7


async def test_streamed_responses_are_sealed_too() -> None:
    # slow_body makes the simulator stream its answer (StreamResponse, sealed by the handler).
    host = windows_host()
    host.faults.slow_body = 0.01
    async with (
        SimulatorServer([host]) as server,
        RecordingProxy(server.endpoints[0][1]) as proxy,
        auth_session() as session,
    ):
        client = Client(session, ntlm(), proxy.url)
        vms = await client.enumerate(VMS_QUERY)
        host.faults.reset_rate = 1.0  # cut off mid-body: the sealed answer never arrives whole
        with pytest.raises((aiohttp.ClientPayloadError, aiohttp.ServerDisconnectedError)):
            await client.enumerate(VMS_QUERY)
        host.faults.reset()
        again = await client.enumerate(VMS_QUERY)
    assert len(vms) == len(again) == 6
    wire = proxy.client_bytes() + proxy.server_bytes()
    assert b"Msvm_" not in wire and b"Envelope" not in wire
    assert b"multipart/encrypted" in proxy.server_bytes()


async def test_negotiate_spnego_and_bad_xml_inside_the_seal() -> None:
    host = windows_host()
    async with SimulatorServer([host]) as server, auth_session() as session:
        auth = ClientAuth("negotiate", hostname="127.0.0.1", https=False, credentials=ADMIN)
        client = Client(session, auth, server.urls[0])
        assert len(await client.enumerate(VMS_QUERY)) == 6
        # A truncated body is sealed as it is: the seal checks out, the XML inside does not.
        host.faults.bad_xml_rate = 1.0
        body = build_get(
            CS_URI,
            options=client.options,
            selectors={"CreationClassName": "Msvm_ComputerSystem", "Name": next(iter(host.vms))},
        )
        reply = await auth.post(session, server.urls[0], body)
    assert reply.status == 200 and reply.sealed
    assert reply.body.startswith(b"<") and not reply.body.rstrip().endswith(b"</s:Envelope>")


# --- who may log on ------------------------------------------------------------------------------
@pytest.mark.parametrize("user", ["admin", "ADMIN", ".\\admin", "HV42\\admin", "hv42\\Admin"])
async def test_local_account_names_windows_accepts(user: str) -> None:
    host = windows_host()
    creds = Credentials(username=user, password=PASSWORD)
    async with SimulatorServer([host]) as server, auth_session() as session:
        client = Client(session, ntlm(creds), server.urls[0])
        inst = await client.get(CS_URI, CreationClassName="Msvm_ComputerSystem", Name="HV42")
    assert inst.get_str("ElementName") == "HV42"


@pytest.mark.parametrize(
    "creds",
    [
        pytest.param(Credentials(username="admin", password="not-the-password"), id="password"),
        pytest.param(Credentials(username="admin", password=PASSWORD.lower()), id="case"),
        pytest.param(Credentials(username="EVIL\\admin", password=PASSWORD), id="domain"),
        pytest.param(Credentials(username="CORP\\admin", password=PASSWORD), id="ad-domain"),
        pytest.param(Credentials(username="other", password=PASSWORD), id="user"),
    ],
)
async def test_wrong_credentials_get_401(creds: Credentials) -> None:
    host = windows_host()
    vm = off_vm(host)
    async with SimulatorServer([host]) as server, auth_session() as session:
        client = Client(session, ntlm(creds), server.urls[0])
        with pytest.raises(AuthenticationError) as info:
            await client.request_state_change(vm.guid, VMState.RUNNING)
        async with session.post(server.urls[0], data=b"", headers={"Content-Type": SOAP}) as resp:
            assert resp.status == 401
    assert info.value.status == 401
    assert creds.password not in str(info.value)
    assert host.enabled_state(host.vms[vm.guid]) == VMState.OFF  # nothing ran


async def test_domain_account_spec() -> None:
    host = windows_host(username="CORP\\svc-hyperv")
    async with SimulatorServer([host]) as server, auth_session() as session:
        good = Client(
            session,
            ntlm(Credentials(username="corp\\svc-hyperv", password=PASSWORD)),
            server.urls[0],
        )
        assert len(await good.enumerate(VMS_QUERY)) == 6
        for name in ("svc-hyperv", "HV42\\svc-hyperv"):
            bad = Client(
                session, ntlm(Credentials(username=name, password=PASSWORD)), server.urls[0]
            )
            with pytest.raises(AuthenticationError):
                await bad.enumerate(VMS_QUERY)


async def test_each_host_has_its_own_account_and_policy() -> None:
    lab = SimulatedHost.generate(HostSpec(name="lab1", vms=2, password="lab-password"))
    win = windows_host("win1")
    # Same policy as win1 (so the same middleware), another password.
    win2 = SimulatedHost.generate(HostSpec.windows_defaults(name="win2", vms=1, password="two-2"))
    async with SimulatorServer([lab, win, win2]) as server, auth_session() as session:
        lab_url, win_url, win2_url = server.urls
        win2_auth = ntlm(Credentials(username="admin", password="two-2"))
        assert len(await Client(session, win2_auth, win2_url).enumerate(VMS_QUERY)) == 1
        with pytest.raises(AuthenticationError):
            await Client(session, ntlm(), win2_url).enumerate(VMS_QUERY)
        with pytest.raises(AuthenticationError):
            await Client(session, win2_auth, win_url).enumerate(VMS_QUERY)
        # Basic: accepted by the lab host, refused by the Windows-like one.
        for url, password, expected in ((lab_url, "lab-password", 200), (win_url, PASSWORD, 401)):
            raw = RawClient(session, url, "admin", password)
            status, _ = await raw.post(build_identify())
            assert status == expected
        # NTLM: each host knows only its own password.
        lab_ntlm = ntlm(Credentials(username="admin", password="lab-password"))
        assert len(await Client(session, lab_ntlm, lab_url).enumerate(VMS_QUERY)) == 2
        assert len(await Client(session, ntlm(), win_url).enumerate(VMS_QUERY)) == 6
        with pytest.raises(AuthenticationError):
            await Client(session, ntlm(), lab_url).enumerate(VMS_QUERY)


async def test_forced_401_fault_applies_to_ntlm() -> None:
    host = windows_host()
    async with SimulatorServer([host]) as server, auth_session() as session:
        client = Client(session, ntlm(), server.urls[0])
        await client.enumerate(VMS_QUERY)
        host.faults.unauthorized = True
        with pytest.raises(AuthenticationError):
            await client.enumerate(VMS_QUERY)
        host.faults.unauthorized = False
        assert len(await client.enumerate(VMS_QUERY)) == 6


# --- Windows defaults: no Basic, no plaintext over HTTP -----------------------------------------
async def test_windows_defaults_refuse_basic_and_offer_only_negotiate() -> None:
    host = windows_host()
    async with SimulatorServer([host]) as server, aiohttp.ClientSession() as session:
        url = server.urls[0]
        raw = RawClient(session, url, "admin", PASSWORD)  # right password, wrong method
        for auth in (True, False):
            headers = {"Content-Type": SOAP}
            if auth:
                headers["Authorization"] = raw.auth
            async with session.post(url, data=build_identify(), headers=headers) as resp:
                assert resp.status == 401
                assert resp.headers.getall("WWW-Authenticate") == ["Negotiate"]
                assert resp.headers["Server"] == "Microsoft-HTTPAPI/2.0"
                assert await resp.read() == b""
        # Anonymous Identify still answers (Test-WSMan works against a fresh host).
        headers = {"Content-Type": SOAP, "WSMANIDENTIFY": "unauthenticated"}
        async with session.post(url, data=build_identify(), headers=headers) as resp:
            assert resp.status == 200
            info = parse_identify(parse_response(await resp.read()))
        assert info["ProductVendor"] == "Microsoft Corporation"


async def test_windows_defaults_refuse_plaintext_over_http() -> None:
    host = windows_host()
    vm = off_vm(host)
    async with SimulatorServer([host]) as server, auth_session() as session:
        # Authenticated with NTLM, but the body is not sealed: refused before it is run.
        plain = Client(session, ntlm(encrypt=False), server.urls[0])
        with pytest.raises(AuthenticationError):
            await plain.request_state_change(vm.guid, VMState.RUNNING)
        assert host.enabled_state(host.vms[vm.guid]) == VMState.OFF
        assert plain.auth.stats.handshakes >= 1  # the logon itself was fine
        # The same request sealed goes through.
        sealed = Client(session, ntlm(), server.urls[0])
        ret, _job = await sealed.request_state_change(vm.guid, VMState.RUNNING)
    assert ret == 4096
    assert host.enabled_state(host.vms[vm.guid]) == VMState.STARTING


async def test_lab_defaults_accept_basic_and_plaintext_ntlm() -> None:
    # The control for the two tests above: the default spec accepts both.
    host = SimulatedHost.generate(HostSpec(name="hv42", vms=3, password=PASSWORD))
    async with SimulatorServer([host]) as server:
        async with RecordingProxy(server.endpoints[0][1]) as proxy, auth_session() as session:
            plain = Client(session, ntlm(encrypt=False), proxy.url)
            assert len(await plain.enumerate(VMS_QUERY)) == 3
        assert b"Msvm_ComputerSystem" in proxy.server_bytes()  # unsealed: the capture sees it
        # A separate session: a connection NTLM authenticated stays so, as on Windows.
        async with aiohttp.ClientSession() as session:
            basic = RawClient(session, server.urls[0], "admin", PASSWORD)
            status, _ = await basic.post(build_enumerate(CS_URI, options=basic.options))
            assert status == 200
            headers = {"Content-Type": SOAP}
            async with session.post(server.urls[0], data=b"", headers=headers) as resp:
                assert resp.status == 401
                offers = resp.headers.getall("WWW-Authenticate")
    assert offers == ["Negotiate", 'Basic realm="WSMAN"']


# --- HTTPS ---------------------------------------------------------------------------------------
async def test_ntlm_over_https_with_channel_binding() -> None:
    host = windows_host()
    async with SimulatorServer([host], transport="https") as server:
        async with auth_session(ssl_context=trusting(server)) as session:
            client = Client(session, ntlm(https=True), server.urls[0])
            assert not client.auth.encrypt  # TLS protects the body; WinRM does not seal
            assert len(await client.enumerate(VMS_QUERY)) == 6
            # Basic is refused over HTTPS too under Windows defaults.
            raw = RawClient(session, server.urls[0], "admin", PASSWORD)
            status, _ = await raw.post(build_identify())
            assert status == 401
            # The listener checks channel bindings (Extended Protection): none -> refused.
            unbound = Client(session, ntlm(https=True, send_cbt=False), server.urls[0])
            with pytest.raises(AuthenticationError):
                await unbound.enumerate(VMS_QUERY)


@pytest.fixture(scope="module")
def client_ca() -> trustme.CA:
    return trustme.CA()


async def test_certificate_auth_over_https(client_ca: trustme.CA) -> None:
    mapping = CertificateMapping(subject="ops@corp.example", username="admin")
    host = windows_host(client_certificates=(mapping,))
    mapped = client_ca.issue_cert("ops@corp.example")
    unmapped = client_ca.issue_cert("mallory@corp.example")
    stranger = trustme.CA().issue_cert("ops@corp.example")  # right name, untrusted issuer
    vm = off_vm(host)
    async with SimulatorServer(
        [host], transport="https", client_ca_pem=client_ca.cert_pem.bytes()
    ) as server:
        cert_auth = ClientAuth("certificate", hostname="127.0.0.1", https=True)
        ctx = trusting(server)
        mapped.configure_cert(ctx)
        async with auth_session(ssl_context=ctx) as session:
            client = Client(session, cert_auth, server.urls[0])
            ret, _job = await client.request_state_change(vm.guid, VMState.RUNNING)
            assert ret == 4096
        for leaf in (unmapped, None):
            ctx = trusting(server)
            if leaf is not None:
                leaf.configure_cert(ctx)
            async with auth_session(ssl_context=ctx) as session:
                client = Client(session, cert_auth, server.urls[0])
                with pytest.raises(AuthenticationError):
                    await client.enumerate(VMS_QUERY)
        ctx = trusting(server)
        stranger.configure_cert(ctx)
        async with auth_session(ssl_context=ctx) as session:
            client = Client(session, cert_auth, server.urls[0])
            # The listener verifies the chain: an untrusted certificate fails the handshake.
            with pytest.raises((aiohttp.ClientError, AuthenticationError)):
                await client.enumerate(VMS_QUERY)
        # NTLM still works on the same listener for clients without a certificate.
        async with auth_session(ssl_context=trusting(server)) as session:
            assert (
                len(await Client(session, ntlm(https=True), server.urls[0]).enumerate(VMS_QUERY))
                == 6
            )
    assert host.enabled_state(host.vms[vm.guid]) == VMState.STARTING


async def test_client_ca_needs_https() -> None:
    with pytest.raises(ConfigError):
        SimulatorServer([windows_host()], client_ca_pem=b"-----BEGIN CERTIFICATE-----")
    with pytest.raises(ConfigError):
        SimulatorServer([windows_host()], transport="https", client_ca_pem=b"not a pem")


# --- many operations on several authenticated connections ---------------------------------------
async def test_many_concurrent_sealed_operations() -> None:
    host = windows_host()
    guids = list(host.vms)
    async with SimulatorServer([host]) as server, auth_session(limit=3) as session:
        client = Client(session, ntlm(), server.urls[0])

        async def one(i: int) -> str | None:
            guid = guids[i % len(guids)]
            inst = await client.get(CS_URI, CreationClassName="Msvm_ComputerSystem", Name=guid)
            return inst.get_str("Name")

        names = await asyncio.gather(*(one(i) for i in range(60)))
    assert names == [guids[i % len(guids)] for i in range(60)]
    assert 1 <= client.auth.stats.handshakes <= 3
    assert client.auth.stats.sealed == 60


# --- presets, specs, CLI ------------------------------------------------------------------------
def test_presets_and_spec_validation() -> None:
    win = HostSpec.windows_defaults(name="a")
    assert (win.allow_basic, win.allow_unencrypted) == (False, False)
    lab = HostSpec(name="a")
    assert (lab.allow_basic, lab.allow_unencrypted) == (True, True)
    assert lab.with_auth_defaults("windows") == win
    assert win.with_auth_defaults("lab") == lab
    assert HostSpec.windows_defaults(name="a", allow_basic=True).allow_basic
    assert set(AUTH_DEFAULTS) == {"lab", "windows"}
    with pytest.raises(ConfigError):
        lab.with_auth_defaults("nope")  # type: ignore[arg-type]
    for bad in ({"password": "a:b"}, {"username": "a:b"}, {"password": "x\ny"}):
        with pytest.raises(ConfigError):
            HostSpec(name="a", **bad)  # type: ignore[arg-type]
    for bad_user in ("\\admin", "a\\b\\c", "CORP\\"):
        with pytest.raises(ConfigError):
            HostSpec(name="a", username=bad_user)
    assert "secret" not in repr(lab)
    fleet = generate_fleet(3, 1, auth_defaults="windows", allow_unencrypted=True)
    assert all(not h.spec.allow_basic and h.spec.allow_unencrypted for h in fleet)
    with pytest.raises(ConfigError):
        generate_fleet(1, 1, auth_defaults="nope")  # type: ignore[arg-type]


async def test_cli_windows_defaults() -> None:
    code = "import sys; from aiohyperv.simulator import cli_main; sys.exit(cli_main(sys.argv[1:]))"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        code,
        "--vms",
        "2",
        "--password",
        PASSWORD,
        "--auth-defaults",
        "windows",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        async with asyncio.timeout(30):
            while not lines or not lines[-1].startswith("serving"):
                line = (await proc.stdout.readline()).decode()
                assert line, "the simulator exited early"
                lines.append(line.strip())
        assert any(line.startswith("auth: Negotiate (NTLM);") for line in lines)
        assert not any("Basic" in line for line in lines if line.startswith("auth:"))
        uri = parse_uri(next(line.split()[0] for line in lines if line.startswith("hyperv://")))
        async with auth_session() as session:
            status, _ = await RawClient(session, uri.endpoint, "admin", PASSWORD).post(
                build_identify()
            )
            assert status == 401
            client = Client(session, ntlm(), uri.endpoint)
            assert len(await client.enumerate(VMS_QUERY)) == 2
        proc.send_signal(2)  # SIGINT
        async with asyncio.timeout(30):
            assert await proc.wait() == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            with contextlib.suppress(ProcessLookupError):
                await proc.wait()


def test_cli_flags_parse() -> None:
    from aiohyperv.simulator._cli import _read_client_ca, build_parser

    parser = build_parser()
    args = parser.parse_args([])
    assert (args.auth_defaults, args.allow_basic, args.allow_unencrypted) == ("lab", None, None)
    args = parser.parse_args(["--no-basic", "--no-unencrypted"])
    assert (args.allow_basic, args.allow_unencrypted) == (False, False)
    args = parser.parse_args(["--map-cert", "ops@corp.example"])
    with pytest.raises(ConfigError, match="--client-ca"):
        _read_client_ca(args)
    args = parser.parse_args(["--client-ca", "/nonexistent/ca.pem"])
    with pytest.raises(ConfigError, match="https"):
        _read_client_ca(args)
    args = parser.parse_args(["--transport", "https", "--client-ca", "/nonexistent/ca.pem"])
    with pytest.raises(ConfigError, match="cannot read"):
        _read_client_ca(args)


# --- message encryption framing -----------------------------------------------------------------
def _untabbed(sealer: Sealer, body: bytes, *, protocol: str = SPNEGO_PROTOCOL) -> tuple[str, bytes]:
    """encrypt_message with MIME part headers not indented (as virt-who sent them 2016-2021)."""
    content_type, payload = encrypt_message(sealer, body, protocol=protocol)
    head, sep, sealed = payload.partition(b"\r\n\tContent-Type: application/octet-stream\r\n")
    assert sep
    head = head.replace(b"\r\n\t", b"\r\n")
    return content_type, head + b"\r\nContent-Type: application/octet-stream\r\n" + sealed


async def test_untabbed_encrypted_framing_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    # Windows accepts multipart/encrypted part headers without the leading tab; the simulator
    # answered 400 before.  Its answers keep Windows' own (tabbed) framing.
    monkeypatch.setattr(_auth_client, "encrypt_message", _untabbed)
    host = windows_host()
    async with (
        SimulatorServer([host]) as server,
        RecordingProxy(server.endpoints[0][1]) as proxy,
        auth_session() as session,
    ):
        client = Client(session, ntlm(), proxy.url)
        vms = await client.enumerate(VMS_QUERY)
        stats = client.auth.stats
    assert len(vms) == 6
    assert stats.sealed == stats.requests >= 2
    sent = proxy.client_bytes()
    assert b"--Encrypted Boundary\r\nContent-Type: application/octet-stream\r\n" in sent
    assert b"\tContent-Type: application/octet-stream" not in sent
    assert b"--Encrypted Boundary\r\n\tContent-Type: application/octet-stream\r\n" in (
        proxy.server_bytes()
    )


def test_decrypt_refuses_what_is_not_the_framing() -> None:
    class Identity:
        def wrap_winrm(self, data: bytes) -> Wrapped:
            raise NotImplementedError

        def unwrap_winrm(self, header: bytes, data: bytes) -> bytes:
            return data

    content_type = encrypted_content_type()
    good = (
        b"--Encrypted Boundary\r\nContent-Type: application/HTTP-SPNEGO-session-encrypted\r\n"
        b"OriginalContent: type=application/soap+xml;charset=UTF-8;Length=2\r\n"
        b"--Encrypted Boundary\r\nContent-Type: application/octet-stream\r\n"
        b"\x01\x00\x00\x00Sok--Encrypted Boundary--\r\n"
    )
    assert decrypt_message(Identity(), content_type, good) == b"ok"
    tabbed = good.replace(b"\r\nContent-Type", b"\r\n\tContent-Type").replace(
        b"\r\nOriginal", b"\r\n\tOriginal"
    )
    assert decrypt_message(Identity(), content_type, tabbed) == b"ok"
    for bad in (
        good.replace(b"Content-Type: application/octet", b"Content-Type:application/octet"),
        good.replace(
            b"\r\nContent-Type: application/HTTP", b"\r\n  Content-Type: application/HTTP"
        ),
        good.replace(b"\r\n--Encrypted Boundary\r\nContent-Type: application/octet", b"\r\n"),
    ):
        with pytest.raises(ProtocolError):
            decrypt_message(Identity(), content_type, bad)
