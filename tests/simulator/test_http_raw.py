"""The simulator over HTTP, driven with raw WS-Man envelopes (core's builders and parsers).

Every SOAP body that comes back is parsed strictly (``RawClient`` does it), and faults are
compared with the recorded Windows samples in ``samples/``.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import TYPE_CHECKING

import aiohttp
import pytest
import spnego
from aiohttp.test_utils import TestServer
from lxml import etree

from aiohyperv._exceptions import (
    CannotProcessFilter,
    InvalidEnumerationContext,
    InvalidSelectors,
    OperationTimedOut,
    WSManFault,
)
from aiohyperv.cim import EPR, CimInstance, CimType, EmbeddedInstance
from aiohyperv.simulator import HostSpec, SimulatedHost, SimulatorServer, VMState, make_app
from aiohyperv.wsman import (
    NS,
    Action,
    Enumeration,
    EnumerationMode,
    Filter,
    RequestOptions,
    build_enumerate,
    build_get,
    build_identify,
    build_invoke,
    build_pull,
    build_release,
    build_request,
    parse_enumerate,
    parse_get,
    parse_identify,
    parse_invoke,
    parse_response,
    resource_uri,
    wildcard_uri,
)

from ._helpers import (
    SOAP,
    ManualClock,
    RawClient,
    fault_fields,
    header_names,
    iter_elements,
    load_sample,
    parse,
    shape,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

V2 = "root/virtualization/v2"
CS_URI = resource_uri(V2, "Msvm_ComputerSystem")
JOB_URI = resource_uri(V2, "Msvm_ConcreteJob")
VSMS_URI = resource_uri(V2, "Msvm_VirtualSystemManagementService")


@dataclass
class Env:
    host: SimulatedHost
    clock: ManualClock
    client: RawClient
    session: aiohttp.ClientSession

    async def call(self, body: bytes) -> bytes:
        """POST, check the body is well-formed SOAP, return it (faults included)."""
        status, data = await self.client.post(body)
        assert status in (200, 500), status
        parse(data)
        return data

    async def ok(self, body: bytes) -> bytes:
        status, data = await self.client.post(body)
        assert status == 200, data[:2000]
        parse(data)
        return data

    async def fault(self, body: bytes) -> etree._Element:
        status, data = await self.client.post(body)
        assert status == 500, data[:2000]
        return parse(data)

    async def enumerate(self, query: str, **kwargs: object) -> list[CimInstance | EPR]:
        enum = Enumeration(
            wildcard_uri(V2),
            options=self.client.options,
            filter=Filter.wql(query),
            max_pulls=1000,
            **kwargs,  # type: ignore[arg-type]
        )
        items: list[CimInstance | EPR] = []
        request: bytes | None = enum.start()
        while request is not None:
            items.extend(enum.receive(await self.ok(request)))
            request = enum.next_request()
        return items

    async def bodies(self, query: str, **kwargs: object) -> list[bytes]:
        """Every response body of a whole enumeration (the EnumerateResponse, then the Pulls)."""
        enum = Enumeration(
            wildcard_uri(V2),
            options=self.client.options,
            filter=Filter.wql(query),
            max_pulls=1000,
            **kwargs,  # type: ignore[arg-type]
        )
        out: list[bytes] = []
        request: bytes | None = enum.start()
        while request is not None:
            out.append(await self.ok(request))
            enum.receive(out[-1])
            request = enum.next_request()
        return out

    async def get(self, uri: str, **selectors: str) -> CimInstance:
        return parse_get(
            parse_response(await self.ok(build_get(uri, options=self.options, selectors=selectors)))
        )

    @property
    def options(self) -> RequestOptions:
        return self.client.options


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    clock = ManualClock()
    spec = HostSpec(name="hv42", vms=10, seed=17, job_duration=0.5, context_timeout=30)
    host = SimulatedHost.generate(spec, clock=clock)
    async with SimulatorServer([host]) as server, aiohttp.ClientSession() as session:
        yield Env(host, clock, RawClient(session, server.urls[0]), session)


def vm_in(host: SimulatedHost, state: int):
    return next(v for v in host.vms.values() if v.state == state)


# --- HTTP and authentication --------------------------------------------------------------------
async def test_no_credentials_gets_the_windows_challenge(env: Env) -> None:
    status, body = await env.client.post(build_identify(), auth=False)
    assert status == 401 and body == b""
    async with env.session.post(env.client.url, data=b"", headers={"Content-Type": SOAP}) as resp:
        assert resp.headers.getall("WWW-Authenticate") == ["Negotiate", 'Basic realm="WSMAN"']
        assert resp.headers["Server"] == "Microsoft-HTTPAPI/2.0"


@pytest.mark.parametrize(
    ("user", "password", "status"),
    [
        ("admin", "secret", 200),
        ("ADMIN", "secret", 200),
        ("HV42\\admin", "secret", 200),
        (".\\admin", "secret", 200),
        ("admin", "wrong", 401),
        ("admin", "SECRET", 401),
        ("other", "secret", 401),
        ("EVIL\\admin", "secret", 401),
    ],
)
async def test_basic_credentials(env: Env, user: str, password: str, status: int) -> None:
    client = RawClient(env.session, env.client.url, user, password)
    got, body = await client.post(build_enumerate(CS_URI, options=client.options))
    assert got == status
    if status == 401:
        assert b"secret" not in body


async def test_negotiate_gets_an_ntlm_challenge(env: Env) -> None:
    # An NTLM NEGOTIATE message (raw, not SPNEGO-wrapped) gets the CHALLENGE in a 401.
    negotiate = spnego.client("admin", "secret", protocol="ntlm").step()
    assert negotiate is not None
    token = base64.b64encode(negotiate).decode()
    headers = {"Content-Type": SOAP, "Authorization": f"Negotiate {token}"}
    async with env.session.post(env.client.url, data=build_identify(), headers=headers) as resp:
        assert resp.status == 401
        (challenge,) = resp.headers.getall("WWW-Authenticate")
    scheme, _, token = challenge.partition(" ")
    assert scheme == "Negotiate"
    assert base64.b64decode(token).startswith(b"NTLMSSP\x00\x02\x00\x00\x00")
    # A truncated NEGOTIATE message is refused with the plain offers.
    headers["Authorization"] = "Negotiate TlRMTVNTUAABAAAAB4IIog=="
    async with env.session.post(env.client.url, data=build_identify(), headers=headers) as resp:
        assert resp.status == 401
        assert resp.headers.getall("WWW-Authenticate") == ["Negotiate", 'Basic realm="WSMAN"']


async def test_http_errors_like_winrm(env: Env) -> None:
    auth = {"Authorization": env.client.auth}
    async with env.session.get(env.client.url, headers=auth) as resp:
        assert resp.status == 405
    other = env.client.url.replace("/wsman", "/other")
    async with env.session.post(other, data=b"x", headers={**auth, "Content-Type": SOAP}) as resp:
        assert resp.status == 404
    status, _ = await env.client.post(build_identify(), content_type="text/xml")
    assert status == 415


async def test_identify(env: Env) -> None:
    info = parse_identify(parse_response(await env.ok(build_identify())))
    assert info["ProductVendor"] == "Microsoft Corporation"
    assert info["ProductVersion"] == "OS: 10.0.17763 SP: 0.0 Stack: 3.0"
    assert info["ProtocolVersion"] == NS["w"]
    headers = {"Content-Type": SOAP, "WSMANIDENTIFY": "unauthenticated"}
    async with env.session.post(env.client.url, data=build_identify(), headers=headers) as resp:
        assert resp.status == 200
        anonymous = parse_identify(parse_response(await resp.read()))
    assert anonymous["ProductVersion"] == "OS: 0.0.0 SP: 0.0 Stack: 3.0"


async def test_make_app_serves_under_a_plain_aiohttp_server() -> None:
    host = SimulatedHost.generate(HostSpec(name="solo", vms=2))
    server = TestServer(make_app(host), host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as session:
            client = RawClient(session, str(server.make_url("/wsman")))
            status, body = await client.post(
                build_get(
                    CS_URI,
                    options=client.options,
                    selectors={"Name": "SOLO", "CreationClassName": "Msvm_ComputerSystem"},
                )
            )
            assert status == 200
            assert parse_get(parse_response(body)).get_str("ElementName") == "SOLO"
    finally:
        await server.close()


# --- enumeration --------------------------------------------------------------------------------
async def test_list_vms_with_wql_over_the_wildcard_uri(env: Env) -> None:
    items = await env.enumerate(
        "SELECT * FROM Msvm_ComputerSystem WHERE Description = 'Microsoft Virtual Machine'",
        max_elements=3,
    )
    names = {i.get_str("Name") for i in items if isinstance(i, CimInstance)}
    assert names == set(env.host.vms)
    assert all(isinstance(i, CimInstance) and i.resource_uri == CS_URI for i in items)
    assert env.host.contexts == {}  # finished enumerations leave nothing behind


async def test_items_come_in_the_class_namespace(env: Env) -> None:
    bodies = await env.bodies(
        "SELECT * FROM CIM_ResourceAllocationSettingData WHERE ResourceType = 3", max_elements=50
    )
    assert len(bodies) == 2  # the first item, then one Pull with the rest
    items = [
        item for body in bodies for item in iter_elements(parse(body), "Msvm_ProcessorSettingData")
    ]
    assert len(items) == 10 + 4  # one per VM plus the host's Definition rows
    for elem in items:
        assert etree.QName(elem).namespace == resource_uri(V2, "Msvm_ProcessorSettingData")
        assert elem.get(f"{{{NS['xsi']}}}type") == "p:Msvm_ProcessorSettingData_Type"


async def test_enumerate_on_the_wildcard_and_pull_on_the_class_uri(env: Env) -> None:
    # libvirt sends Enumerate to .../v2/* and Pull to the class URI; both must work.
    first = await env.ok(
        build_enumerate(
            wildcard_uri(V2),
            options=env.options,
            filter=Filter.wql("SELECT * FROM Msvm_ComputerSystem"),
            optimize=False,
        )
    )
    batch = parse_enumerate(parse_response(first))
    assert batch.items == [] and batch.context
    seen: list[str] = []
    context: str | None = batch.context
    for _ in range(20):
        if context is None:
            break
        pulled = parse_enumerate(
            parse_response(
                await env.ok(build_pull(CS_URI, context, options=env.options, max_elements=4))
            )
        )
        seen.extend(str(i.get_str("Name")) for i in pulled.items if isinstance(i, CimInstance))
        context = None if pulled.end_of_sequence else pulled.context
    assert len(seen) == 11 and len(set(seen)) == 11


async def test_enumerate_class_uri_without_filter(env: Env) -> None:
    items = [
        i
        async for i in _aiter(
            await env.ok(
                build_enumerate(
                    resource_uri(V2, "Msvm_VirtualEthernetSwitch"),
                    options=env.options,
                    max_elements=10,
                )
            )
        )
    ]
    assert {i.get_str("ElementName") for i in items} <= {"External vSwitch", "Internal"}
    assert items


async def _aiter(body: bytes) -> AsyncIterator[CimInstance]:
    for item in parse_enumerate(parse_response(body)).items:
        assert isinstance(item, CimInstance)
        yield item


async def test_epr_and_object_and_epr_modes(env: Env) -> None:
    eprs = await env.enumerate(
        "SELECT * FROM Msvm_ComputerSystem", mode=EnumerationMode.EPR, max_elements=5
    )
    assert len(eprs) == 11 and all(isinstance(e, EPR) for e in eprs)
    for epr in eprs[:3]:
        assert isinstance(epr, EPR)
        assert epr.resource_uri == CS_URI
        got = await env.get(CS_URI, **dict(epr.selectors))
        assert got.get_str("Name") == epr.selector("Name")
    both = await env.enumerate(
        "SELECT * FROM Msvm_VirtualSystemSettingData",
        mode=EnumerationMode.OBJECT_AND_EPR,
        max_elements=4,
    )
    assert len(both) == 10
    for item in both:
        assert isinstance(item, CimInstance) and item.epr is not None
        assert item.epr.selector("InstanceID") == item.get_str("InstanceID")


async def test_projection(env: Env) -> None:
    items = await env.enumerate(
        "select BIOSGUID, VirtualSystemIdentifier from Msvm_VirtualSystemSettingData"
    )
    assert items and all(
        isinstance(i, CimInstance) and set(i.properties) == {"BIOSGUID", "VirtualSystemIdentifier"}
        for i in items
    )


async def test_follow_associations_to_settings(env: Env) -> None:
    vm = next(iter(env.host.vms.values()))
    (vssd,) = await env.enumerate(
        "ASSOCIATORS OF {Msvm_ComputerSystem.CreationClassName='Msvm_ComputerSystem',"
        f"Name='{vm.guid}'}} WHERE AssocClass = Msvm_SettingsDefineState "
        "ResultClass = Msvm_VirtualSystemSettingData"
    )
    assert isinstance(vssd, CimInstance)
    iid = vssd.get_str("InstanceID")
    (memory,) = await env.enumerate(
        f"ASSOCIATORS OF {{Msvm_VirtualSystemSettingData.InstanceID='{iid}'}} "
        "WHERE AssocClass = Msvm_VirtualSystemSettingDataComponent ResultClass = "
        "Msvm_MemorySettingData"
    )
    assert isinstance(memory, CimInstance) and memory.get_int("VirtualQuantity") == vm.memory_mb
    # the same through the DSP0227 association filter dialect
    body = await env.ok(
        build_enumerate(
            wildcard_uri(V2),
            options=env.options,
            filter=Filter.associators(
                EPR.make(CS_URI, {"CreationClassName": "Msvm_ComputerSystem", "Name": vm.guid}),
                association_class="Msvm_SettingsDefineState",
            ),
            max_elements=10,
        )
    )
    (item,) = parse_enumerate(parse_response(body)).items
    assert isinstance(item, CimInstance) and item.get_str("InstanceID") == iid


async def test_max_envelope_size_limits_the_batch(env: Env) -> None:
    small = RequestOptions(to=env.client.url, max_envelope_size=16384)
    body = await env.ok(
        build_enumerate(
            wildcard_uri(V2),
            options=small,
            filter=Filter.wql("SELECT * FROM Msvm_ComputerSystem"),
            max_elements=10,
        )
    )
    batch = parse_enumerate(parse_response(body))
    assert len(batch.items) == 1 and batch.context  # Windows: the first item only
    body = await env.ok(build_pull(CS_URI, batch.context, options=small, max_elements=10))
    # WinRM counts the envelope in UTF-16: two octets a character
    assert len(body.decode("utf-8")) * 2 <= 16384
    pulled = parse_enumerate(parse_response(body))
    assert 1 <= len(pulled.items) < 10 and pulled.context


# --- faults -------------------------------------------------------------------------------------
async def test_bad_selectors(env: Env) -> None:
    root = await env.fault(
        build_get(
            CS_URI,
            options=env.options,
            selectors={"CreationClassName": "Msvm_ComputerSystem", "Name": "no-such-vm"},
        )
    )
    # Get of an instance that does not exist: a:DestinationUnreachable, not InvalidSelectors
    fields = fault_fields(root)
    assert fields["code"] == "s:Sender" and fields["subcode"] == "a:DestinationUnreachable"
    assert fields["wsman_code"] == "2150858752" and fields["machine"] == "hv42.corp.example.com"
    assert root.findtext(f".//{{{NS['a']}}}Action") == (
        "http://schemas.xmlsoap.org/ws/2004/08/addressing/fault"
    )
    assert root.findtext(f".//{{{NS['w']}}}FaultDetail") == (
        "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/InvalidResourceURI"
    )
    root = await env.fault(build_get(CS_URI, options=env.options, selectors={"Bogus": "x"}))
    assert root.find(f".//{{{NS['w']}}}FaultDetail").text.endswith("/UnexpectedSelectors")  # type: ignore[union-attr]
    with pytest.raises(InvalidSelectors) as info:
        parse_response(
            await env.call(build_get(CS_URI, options=env.options, selectors={"Bogus": "x"}))
        )
    assert info.value.wsman_code == 2150858843


async def test_get_without_keys_is_the_not_singleton_fault(env: Env) -> None:
    root = await env.fault(build_get(CS_URI, options=env.options))
    fields = fault_fields(root)
    assert fields["wsman_code"] == "2150859002"
    inner = list(iter_elements(root, "WSManFault"))
    assert len(inner) == 2 and inner[1].get("Code") == "2150859002"  # nested, as in sample 04
    (provider,) = iter_elements(root, "ProviderFault")
    assert provider.get("path", "").endswith("WsmWmiPl.dll")


async def test_bad_wql(env: Env) -> None:
    data = await env.call(
        build_enumerate(
            wildcard_uri(V2),
            options=env.options,
            filter=Filter.wql("SELECT * FROM Msvm_ComputerSystem WHERE"),
        )
    )
    fields = fault_fields(parse(data))
    assert fields["subcode"] == "n:CannotProcessFilter"
    assert fields["wsman_code"] == "2150858778"
    assert parse(data).findtext(f".//{{{NS['a']}}}Action") == (
        "http://schemas.xmlsoap.org/ws/2004/09/enumeration/fault"
    )
    with pytest.raises(CannotProcessFilter):
        parse_response(data)


async def test_unknown_class_and_namespace(env: Env) -> None:
    root = await env.fault(
        build_get(resource_uri(V2, "Msvm_Nothing"), options=env.options, selectors={"Name": "x"})
    )
    assert fault_fields(root)["subcode"] == "a:DestinationUnreachable"
    root = await env.fault(
        build_enumerate(
            resource_uri("root/virtualization", "Msvm_ComputerSystem"), options=env.options
        )
    )
    assert fault_fields(root)["wsman_code"] == "2150858752"
    assert any("does not exist" in (m.text or "") for m in iter_elements(root, "Message"))


async def test_bad_and_expired_contexts(env: Env) -> None:
    root = await env.fault(
        build_pull(CS_URI, "uuid:00000000-0000-0000-0000-000000000000", options=env.options)
    )
    fields = fault_fields(root)
    assert (
        fields["subcode"] == "n:InvalidEnumerationContext" and fields["wsman_code"] == "2150858779"
    )
    first = parse_enumerate(
        parse_response(await env.ok(build_enumerate(CS_URI, options=env.options, optimize=False)))
    )
    assert first.context
    env.clock.advance(31)  # context_timeout is 30 s
    with pytest.raises(InvalidEnumerationContext):
        parse_response(await env.call(build_pull(CS_URI, first.context, options=env.options)))
    again = parse_enumerate(
        parse_response(await env.ok(build_enumerate(CS_URI, options=env.options, optimize=False)))
    )
    assert again.context
    released = parse_response(
        await env.ok(build_release(CS_URI, again.context, options=env.options))
    )
    assert released.action == Action.RELEASE_RESPONSE
    with pytest.raises(InvalidEnumerationContext):
        parse_response(await env.call(build_pull(CS_URI, again.context, options=env.options)))
    with pytest.raises(InvalidEnumerationContext):
        parse_response(await env.call(build_release(CS_URI, again.context, options=env.options)))


async def test_fault_envelope_matches_the_recorded_windows_fault(env: Env) -> None:
    env.host.faults.pull_timeouts = 1
    first = parse_enumerate(
        parse_response(await env.ok(build_enumerate(CS_URI, options=env.options, optimize=False)))
    )
    assert first.context
    status, data = await env.client.post(build_pull(CS_URI, first.context, options=env.options))
    assert status == 500
    ours = parse(data)
    sample = load_sample("02_fault_operation_timeout_windows.xml")
    assert shape(ours) == shape(sample)
    assert fault_fields(ours) | {"machine": ""} == fault_fields(sample) | {"machine": ""}
    with pytest.raises(OperationTimedOut):
        parse_response(data)
    # the context survives a TimedOut: the next Pull gets items
    pulled = parse_enumerate(
        parse_response(
            await env.ok(build_pull(CS_URI, first.context, options=env.options, max_elements=50))
        )
    )
    assert len(pulled.items) == 11 and pulled.end_of_sequence


async def test_provider_fault_shape_matches_sample_03(env: Env) -> None:
    root = await env.fault(
        build_invoke(
            CS_URI,
            "RequestStateChange",
            options=env.options,
            selectors={
                "CreationClassName": "Msvm_ComputerSystem",
                "Name": next(iter(env.host.vms)),
            },
            params={"RequestedState": "two"},
        )
    )
    sample = load_sample("03_fault_invalid_parameter_providerfault.xml")
    s = NS["s"]

    def detail_shape(root: etree._Element) -> object:
        fault = root.find(f"{{{s}}}Body/{{{s}}}Fault")
        assert fault is not None
        return [shape(c)[0] for c in fault], shape(fault.find(f"{{{s}}}Code"))  # type: ignore[arg-type]

    assert detail_shape(root) == detail_shape(sample)
    assert fault_fields(root)["subcode"] == fault_fields(sample)["subcode"] == "w:InvalidParameter"
    assert list(iter_elements(root, "ProviderFault"))


async def test_get_response_matches_sample_01(env: Env) -> None:
    vm = next(iter(env.host.vms.values()))
    data = await env.ok(
        build_get(
            CS_URI,
            options=env.options,
            selectors={"CreationClassName": "Msvm_ComputerSystem", "Name": vm.guid},
        )
    )
    root = parse(data)
    sample = load_sample("01_get_response_win32_logicaldisk_windows.xml")
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "en-US"
    assert [h for h in header_names(sample) if h != "ActivityId"] == header_names(root)
    body = root.find(f"{{{NS['s']}}}Body")
    assert body is not None
    (inst,) = list(body)
    assert etree.QName(inst).namespace == CS_URI
    assert inst.get(f"{{{NS['xsi']}}}type") == "p:Msvm_ComputerSystem_Type"
    names = [etree.QName(c).localname for c in inst]
    assert names == sorted(names, key=str.lower)  # WinRM writes properties alphabetically
    nil = [c for c in inst if c.get(f"{{{NS['xsi']}}}nil") == "true"]
    assert nil and all(len(c) == 0 and not c.text for c in nil)


async def test_unsupported_actions(env: Env) -> None:
    root = await env.fault(
        build_request(Action.DELETE, CS_URI, options=env.options, selectors={"Name": "x"})
    )
    assert fault_fields(root)["subcode"] == "w:ActionNotSupported"
    root = await env.fault(
        build_request("http://example.com/Frobnicate", CS_URI, options=env.options)
    )
    assert fault_fields(root)["subcode"] == "a:ActionNotSupported"


@pytest.mark.parametrize(
    "body",
    [
        b"not xml at all",
        b"<s:Envelope xmlns:s='http://www.w3.org/2003/05/soap-envelope'><s:Body>",
        b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>",
    ],
)
async def test_malformed_requests(env: Env, body: bytes) -> None:
    root = await env.fault(body)
    assert fault_fields(root)["subcode"] == "w:SchemaValidationError"


# --- methods ------------------------------------------------------------------------------------
async def test_request_state_change_runs_a_job_and_changes_state(env: Env) -> None:
    vm = vm_in(env.host, VMState.OFF)
    selectors = {"CreationClassName": "Msvm_ComputerSystem", "Name": vm.guid}
    result = parse_invoke(
        parse_response(
            await env.ok(
                build_invoke(
                    CS_URI,
                    "RequestStateChange",
                    options=env.options,
                    selectors=selectors,
                    params={"RequestedState": 2},
                )
            )
        ),
        "RequestStateChange",
    )
    assert result.return_value == 4096 and result.job is not None
    job_id = result.job.selector("InstanceID")
    assert job_id
    assert (await env.get(CS_URI, **selectors)).get_int("EnabledState") == VMState.STARTING
    assert (await env.get(JOB_URI, InstanceID=job_id)).get_int("JobState") == 2
    env.clock.advance(0.3)
    job = await env.get(JOB_URI, InstanceID=job_id)
    assert job.get_int("JobState") == 4 and 0 < (job.get_int("PercentComplete") or 0) < 100
    env.clock.advance(0.3)
    job = await env.get(JOB_URI, InstanceID=job_id)
    assert job.get_int("JobState") == 7 and job.get_int("ErrorCode") == 0
    after = await env.get(CS_URI, **selectors)
    assert after.get_int("EnabledState") == VMState.RUNNING
    env.clock.advance(2)
    assert (await env.get(CS_URI, **selectors)).get_int("OnTimeInMilliseconds") == pytest.approx(
        2100, abs=1
    )
    # libvirt finds the job by WQL too
    (found,) = await env.enumerate(f"SELECT * FROM Msvm_ConcreteJob WHERE InstanceID = '{job_id}'")
    assert isinstance(found, CimInstance) and found.get_int("JobState") == 7
    # and starting it again is refused with 32775
    again = parse_invoke(
        parse_response(
            await env.ok(
                build_invoke(
                    CS_URI,
                    "RequestStateChange",
                    options=env.options,
                    selectors=selectors,
                    params={"RequestedState": 2},
                )
            )
        ),
        "RequestStateChange",
    )
    assert again.return_value == 32775


async def test_modify_resource_settings_with_an_embedded_instance(env: Env) -> None:
    vm = vm_in(env.host, VMState.OFF)
    (proc,) = await env.enumerate(
        f"ASSOCIATORS OF {{Msvm_VirtualSystemSettingData.InstanceID='Microsoft:{vm.guid}'}} "
        "WHERE ResultClass = Msvm_ProcessorSettingData"
    )
    assert isinstance(proc, CimInstance)
    change = EmbeddedInstance("Msvm_ProcessorSettingData")
    change.set("InstanceID", CimType.STRING, proc.get_str("InstanceID"))
    change.set("VirtualQuantity", CimType.UINT64, 6)
    data = await env.ok(
        build_invoke(
            VSMS_URI,
            "ModifyResourceSettings",
            options=env.options,
            selectors={"CreationClassName": "Msvm_VirtualSystemManagementService"},
            params={"ResourceSettings": [change]},
        )
    )
    result = parse_invoke(parse_response(data), "ModifyResourceSettings")
    assert result.return_value == 4096
    (ref,) = (
        result.outputs["ResultingResourceSettings"]
        if isinstance(result.outputs["ResultingResourceSettings"], list)
        else [result.outputs["ResultingResourceSettings"]]
    )
    assert isinstance(ref, EPR)
    updated = await env.get(ref.resource_uri, InstanceID=str(ref.selector("InstanceID")))
    assert updated.get_int("VirtualQuantity") == 6


async def test_summary_information_and_thumbnail(env: Env) -> None:
    vm = vm_in(env.host, VMState.RUNNING)
    vssd = EPR.make(
        resource_uri(V2, "Msvm_VirtualSystemSettingData"), {"InstanceID": f"Microsoft:{vm.guid}"}
    )
    data = await env.ok(
        build_invoke(
            VSMS_URI,
            "GetSummaryInformation",
            options=env.options,
            selectors={"CreationClassName": "Msvm_VirtualSystemManagementService"},
            params={"SettingData": [vssd], "RequestedInformation": [0, 1, 100, 105]},
        )
    )
    result = parse_invoke(parse_response(data), "GetSummaryInformation")
    summary = result.outputs["SummaryInformation"]
    assert isinstance(summary, CimInstance)
    assert summary.get_str("ElementName") == vm.name and summary.get_int("EnabledState") == 2
    data = await env.ok(
        build_invoke(
            VSMS_URI,
            "GetVirtualSystemThumbnailImage",
            options=env.options,
            selectors={"CreationClassName": "Msvm_VirtualSystemManagementService"},
            params={"TargetSystem": vssd, "WidthPixels": 64, "HeightPixels": 48},
        )
    )
    shot = parse_invoke(parse_response(data), "GetVirtualSystemThumbnailImage")
    assert shot.return_value == 0
    assert len(base64.b64decode(str(shot.outputs["ImageData"]))) == 64 * 48 * 2


async def test_invalid_method_parameters_fault(env: Env) -> None:
    data = await env.call(
        build_invoke(
            CS_URI,
            "RequestStateChange",
            options=env.options,
            selectors={
                "CreationClassName": "Msvm_ComputerSystem",
                "Name": next(iter(env.host.vms)),
            },
            params={},
        )
    )
    with pytest.raises(WSManFault) as info:
        parse_response(data)
    assert info.value.wsman_code == 0x8004102F


async def test_operations_quota_is_internal_error(env: Env) -> None:
    # MaxConcurrentOperationsPerUser exceeded: w:InternalError, Code 0x803381A6
    env.host.faults.max_concurrent_operations = 0
    root = await env.fault(build_get(CS_URI, options=env.options, selectors={"Name": "x"}))
    fields = fault_fields(root)
    assert (fields["code"], fields["subcode"]) == ("s:Receiver", "w:InternalError")
    assert fields["wsman_code"] == "2150859174"
    env.host.faults.max_concurrent_operations = 1  # this one request is alone: served
    vm = next(iter(env.host.vms))
    got = await env.get(CS_URI, CreationClassName="Msvm_ComputerSystem", Name=vm)
    assert got.get_str("Name") == vm
