"""A second opinion: pypsrp's WSMan (synchronous, requests-based, its own envelope code).

pypsrp was written against real Windows hosts, not against this simulator.  Each test runs a
pypsrp session in a worker thread against a simulator on 127.0.0.1: Basic over HTTP against the
lab defaults, and NTLM with WinRM message encryption (its own implementation of MS-WSMV's
``multipart/encrypted`` framing) against a host with Windows' defaults.
"""

from __future__ import annotations

import asyncio
import time
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING, TypeVar

import pytest
from pypsrp.exceptions import AuthenticationError, WSManFaultError
from pypsrp.wsman import WSMan, WSManAction

from aiohyperv.simulator import HostSpec, SimulatedHost, SimulatorServer, VMState

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

N = "http://schemas.xmlsoap.org/ws/2004/09/enumeration"
W = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
A = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
WQL = "http://schemas.microsoft.com/wbem/wsman/1/WQL"
BASE = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/virtualization/v2/"
CS_URI = BASE + "Msvm_ComputerSystem"

T = TypeVar("T")


class Selectors:
    """pypsrp's SelectorSet, built from a dict."""

    @staticmethod
    def of(**values: str):
        from pypsrp.wsman import SelectorSet

        selectors = SelectorSet()
        for name, value in values.items():
            selectors.add_option(name, value)
        return selectors


@pytest.fixture
async def server() -> AsyncIterator[tuple[SimulatorServer, SimulatedHost]]:
    spec = HostSpec(name="hv17", vms=8, seed=17, job_duration=0.05, password="Pa55w.rd")
    host = SimulatedHost.generate(spec)
    async with SimulatorServer([host]) as srv:
        yield srv, host


def client(srv: SimulatorServer, password: str = "Pa55w.rd") -> WSMan:
    return WSMan(
        "127.0.0.1",
        port=srv.endpoints[0][1],
        username="admin",
        password=password,
        ssl=False,
        auth="basic",
        encryption="never",
        operation_timeout=10,
        read_timeout=15,
    )


async def in_thread(srv: SimulatorServer, work: Callable[[WSMan], T]) -> T:
    def run() -> T:
        wsman = client(srv)
        try:
            return work(wsman)
        finally:
            wsman.close()

    return await asyncio.to_thread(run)


def enumerate_wql(wsman: WSMan, query: str, *, batch: int = 3) -> list[ET.Element]:
    """Optimized Enumerate on the ``*`` URI, then Pulls until EndOfSequence (bounded)."""
    body = ET.Element(f"{{{N}}}Enumerate")
    ET.SubElement(body, f"{{{W}}}OptimizeEnumeration")
    ET.SubElement(body, f"{{{W}}}MaxElements").text = str(batch)
    ET.SubElement(body, f"{{{W}}}Filter", Dialect=WQL).text = query
    response = wsman.enumerate(BASE + "*", body)
    items = list(response.find(f"{{{N}}}EnumerateResponse/{{{W}}}Items") or [])
    done = response.find(f"{{{N}}}EnumerateResponse/{{{W}}}EndOfSequence") is not None
    context = response.findtext(f"{{{N}}}EnumerateResponse/{{{N}}}EnumerationContext")
    for _ in range(100):
        if done:
            break
        pull = ET.Element(f"{{{N}}}Pull")
        ET.SubElement(pull, f"{{{N}}}EnumerationContext").text = context
        ET.SubElement(pull, f"{{{N}}}MaxElements").text = str(batch)
        pulled = wsman.pull(BASE + "*", pull)
        items.extend(pulled.find(f"{{{N}}}PullResponse/{{{N}}}Items") or [])
        done = pulled.find(f"{{{N}}}PullResponse/{{{N}}}EndOfSequence") is not None
        context = pulled.findtext(f"{{{N}}}PullResponse/{{{N}}}EnumerationContext")
    assert done
    return items


def prop(item: ET.Element, name: str) -> str | None:
    namespace = item.tag[1:].partition("}")[0]
    return item.findtext(f"{{{namespace}}}{name}")


async def test_list_vms_with_wql(server: tuple[SimulatorServer, SimulatedHost]) -> None:
    srv, host = server
    query = "SELECT * FROM Msvm_ComputerSystem WHERE Description = 'Microsoft Virtual Machine'"
    items = await in_thread(srv, lambda w: enumerate_wql(w, query))
    assert {prop(i, "Name") for i in items} == set(host.vms)
    assert {prop(i, "ElementName") for i in items} == {v.name for v in host.vms.values()}
    assert all(i.tag == f"{{{CS_URI}}}Msvm_ComputerSystem" for i in items)
    assert host.contexts == {}


async def test_follow_associations_to_settings(
    server: tuple[SimulatorServer, SimulatedHost],
) -> None:
    srv, host = server
    vm = next(iter(host.vms.values()))

    def work(wsman: WSMan) -> tuple[list[ET.Element], list[ET.Element]]:
        vssd = enumerate_wql(
            wsman,
            "ASSOCIATORS OF {Msvm_ComputerSystem.CreationClassName='Msvm_ComputerSystem',"
            f"Name='{vm.guid}'}} WHERE AssocClass = Msvm_SettingsDefineState "
            "ResultClass = Msvm_VirtualSystemSettingData",
        )
        iid = prop(vssd[0], "InstanceID")
        parts = enumerate_wql(
            wsman,
            f"ASSOCIATORS OF {{Msvm_VirtualSystemSettingData.InstanceID='{iid}'}} "
            "WHERE AssocClass = Msvm_VirtualSystemSettingDataComponent "
            "ResultClass = Msvm_ResourceAllocationSettingData",
        )
        return vssd, parts

    vssd, parts = await in_thread(srv, work)
    assert len(vssd) == 1 and prop(vssd[0], "VirtualSystemIdentifier") == vm.guid
    subtypes = {prop(p, "ResourceSubType") for p in parts}
    assert "Microsoft:Hyper-V:Synthetic Disk Drive" in subtypes
    assert all(str(prop(p, "InstanceID")).startswith(f"Microsoft:{vm.guid}") for p in parts)


async def test_request_state_change_job_and_state(
    server: tuple[SimulatorServer, SimulatedHost],
) -> None:
    srv, host = server
    vm = next(v for v in host.vms.values() if v.state == VMState.OFF)
    selectors = {"CreationClassName": "Msvm_ComputerSystem", "Name": vm.guid}

    def work(wsman: WSMan) -> tuple[str, list[str], str]:
        body = ET.Element(f"{{{CS_URI}}}RequestStateChange_INPUT")
        ET.SubElement(body, f"{{{CS_URI}}}RequestedState").text = "2"
        response = wsman.invoke(
            CS_URI + "/RequestStateChange", CS_URI, body, selector_set=Selectors.of(**selectors)
        )
        output = response.find(
            f"{{http://www.w3.org/2003/05/soap-envelope}}Body/{{{CS_URI}}}RequestStateChange_OUTPUT"
        )
        assert output is not None
        ret = output.findtext(f"{{{CS_URI}}}ReturnValue") or ""
        job_id = output.findtext(
            f"{{{CS_URI}}}Job/{{{A}}}ReferenceParameters/{{{W}}}SelectorSet/"
            f"{{{W}}}Selector[@Name='InstanceID']"
        )
        states: list[str] = []
        for _ in range(500):  # bounded: the job takes 50 ms of simulated (= real) time
            jobs = enumerate_wql(
                wsman, f"SELECT * FROM Msvm_ConcreteJob WHERE InstanceID = '{job_id}'"
            )
            states.append(prop(jobs[0], "JobState") or "")
            if states[-1] in ("7", "8", "9", "10"):
                break
            time.sleep(0.01)
        got = wsman.get(CS_URI, selector_set=Selectors.of(**selectors))
        item = got.find(f"{{{CS_URI}}}Msvm_ComputerSystem")
        assert item is not None
        return ret, states, prop(item, "EnabledState") or ""

    ret, states, enabled = await in_thread(srv, work)
    assert ret == "4096"
    assert states[-1] == "7"
    assert enabled == "2"


async def test_bad_selectors_fault(server: tuple[SimulatorServer, SimulatedHost]) -> None:
    srv, _ = server

    def work(wsman: WSMan) -> WSManFaultError:
        with pytest.raises(WSManFaultError) as info:
            wsman.get(CS_URI, selector_set=Selectors.of(Name="nope", CreationClassName="x"))
        return info.value

    fault = await in_thread(srv, work)
    # a Get of an instance that does not exist: a:DestinationUnreachable, 0x80338000
    assert fault.code == 2150858752
    assert fault.machine == "hv17.corp.example.com"
    assert fault.reason and "cannot find the resource" in fault.reason


async def test_bad_wql_fault(server: tuple[SimulatorServer, SimulatedHost]) -> None:
    srv, _ = server

    def work(wsman: WSMan) -> WSManFaultError:
        with pytest.raises(WSManFaultError) as info:
            enumerate_wql(wsman, "SELECT * FROM Msvm_ComputerSystem WHERE Name = ")
        return info.value

    fault = await in_thread(srv, work)
    assert fault.code == 2150858778  # n:CannotProcessFilter, 0x8033801A
    assert fault.provider == "WMI Provider"
    assert fault.provider_path and fault.provider_path.endswith("WsmWmiPl.dll")
    assert fault.reason and "could not process the filter" in fault.reason


async def test_bad_context_fault(server: tuple[SimulatorServer, SimulatedHost]) -> None:
    srv, _ = server

    def work(wsman: WSMan) -> WSManFaultError:
        pull = ET.Element(f"{{{N}}}Pull")
        ET.SubElement(pull, f"{{{N}}}EnumerationContext").text = "uuid:DEADBEEF-0000-0000-0000-0"
        with pytest.raises(WSManFaultError) as info:
            wsman.pull(CS_URI, pull)
        release = ET.Element(f"{{{N}}}Release")
        ET.SubElement(release, f"{{{N}}}EnumerationContext").text = "uuid:nothing"
        with pytest.raises(WSManFaultError):
            wsman.invoke(f"{N}/Release", CS_URI, release)
        return info.value

    fault = await in_thread(srv, work)
    assert fault.code == 2150858779  # 0x8033801B, ERROR_WSMAN_ENUMERATE_INVALID_ENUMERATION_CONTEXT


async def test_wrong_password(server: tuple[SimulatorServer, SimulatedHost]) -> None:
    srv, _ = server

    def work() -> None:
        wsman = client(srv, password="wrong")
        try:
            with pytest.raises(AuthenticationError):
                wsman.get(CS_URI, selector_set=Selectors.of(Name="x"))
        finally:
            wsman.close()

    await asyncio.to_thread(work)


async def test_get_and_identify_shapes(server: tuple[SimulatorServer, SimulatedHost]) -> None:
    srv, host = server

    def work(wsman: WSMan) -> tuple[ET.Element, dict[str, str]]:
        body = wsman.get(
            BASE + "Msvm_VirtualSystemManagementService",
            selector_set=Selectors.of(CreationClassName="Msvm_VirtualSystemManagementService"),
        )
        config = wsman.invoke(
            WSManAction.GET,
            "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/Win32_OperatingSystem",
            None,
            selector_set=Selectors.of(
                Name="Microsoft Windows Server 2019 Datacenter|C:\\Windows"
                "|\\Device\\Harddisk0\\Partition2"
            ),
        )
        osi = config.find(
            "{http://www.w3.org/2003/05/soap-envelope}Body/"
            "{http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/Win32_OperatingSystem}"
            "Win32_OperatingSystem"
        )
        assert osi is not None
        return body, {"Version": prop(osi, "Version") or "", "CSName": prop(osi, "CSName") or ""}

    body, osi = await in_thread(srv, work)
    service = body.find(
        f"{{{BASE}Msvm_VirtualSystemManagementService}}Msvm_VirtualSystemManagementService"
    )
    assert service is not None and prop(service, "Name") == "vmms"
    assert osi == {"Version": "10.0.17763", "CSName": host.computer_name}


# --- NTLM with WinRM message encryption: pypsrp against a host with Windows' defaults ----------
@pytest.fixture
async def windows_server() -> AsyncIterator[tuple[SimulatorServer, SimulatedHost]]:
    spec = HostSpec.windows_defaults(
        name="hv17", vms=8, seed=17, job_duration=0.05, password="Pa55w.rd"
    )
    host = SimulatedHost.generate(spec)
    async with SimulatorServer([host]) as srv:
        yield srv, host


def ntlm_client(srv: SimulatorServer, *, password: str = "Pa55w.rd", **kwargs: object) -> WSMan:
    options: dict[str, object] = {
        "auth": "ntlm",
        "encryption": "always",
        "ssl": False,
        "operation_timeout": 10,
        "read_timeout": 15,
        **kwargs,
    }
    return WSMan(
        "127.0.0.1",
        port=srv.endpoints[0][1],
        username="admin",
        password=password,
        **options,  # type: ignore[arg-type]
    )


async def test_pypsrp_ntlm_sealed_enumerate_and_request_state_change(
    windows_server: tuple[SimulatorServer, SimulatedHost],
) -> None:
    srv, host = windows_server
    vm = next(v for v in host.vms.values() if v.state == VMState.OFF)
    selectors = {"CreationClassName": "Msvm_ComputerSystem", "Name": vm.guid}
    query = "SELECT * FROM Msvm_ComputerSystem WHERE Description = 'Microsoft Virtual Machine'"

    def work() -> tuple[list[ET.Element], str]:
        wsman = ntlm_client(srv)
        try:
            items = enumerate_wql(wsman, query)
            body = ET.Element(f"{{{CS_URI}}}RequestStateChange_INPUT")
            ET.SubElement(body, f"{{{CS_URI}}}RequestedState").text = "2"
            response = wsman.invoke(
                CS_URI + "/RequestStateChange", CS_URI, body, selector_set=Selectors.of(**selectors)
            )
            ret = response.findtext(
                f"{{http://www.w3.org/2003/05/soap-envelope}}Body/"
                f"{{{CS_URI}}}RequestStateChange_OUTPUT/{{{CS_URI}}}ReturnValue"
            )
            return items, ret or ""
        finally:
            wsman.close()

    items, ret = await asyncio.to_thread(work)
    assert {prop(i, "Name") for i in items} == set(host.vms)
    assert ret == "4096"
    assert host.enabled_state(host.vms[vm.guid]) in (VMState.STARTING, VMState.RUNNING)


async def test_pypsrp_refused_without_encryption_or_with_basic(
    windows_server: tuple[SimulatorServer, SimulatedHost],
) -> None:
    srv, _ = windows_server

    def work() -> list[str]:
        refused: list[str] = []
        for name, wsman in (
            ("ntlm-unencrypted", ntlm_client(srv, encryption="never")),
            ("basic", client(srv)),
            ("ntlm-wrong-password", ntlm_client(srv, password="wrong")),
        ):
            try:
                with pytest.raises(AuthenticationError):
                    wsman.get(CS_URI, selector_set=Selectors.of(Name="x"))
                refused.append(name)
            finally:
                wsman.close()
        return refused

    assert await asyncio.to_thread(work) == ["ntlm-unencrypted", "basic", "ntlm-wrong-password"]


async def test_pypsrp_ntlm_over_https_with_channel_binding() -> None:
    spec = HostSpec.windows_defaults(name="hv18", vms=3, password="Pa55w.rd")
    host = SimulatedHost.generate(spec)
    async with SimulatorServer([host], transport="https") as srv:

        def work() -> list[ET.Element]:
            wsman = ntlm_client(srv, ssl=True, encryption="auto", cert_validation=False)
            try:
                return enumerate_wql(wsman, "SELECT * FROM Msvm_ComputerSystem")
            finally:
                wsman.close()

        items = await asyncio.to_thread(work)
    assert len(items) == 4  # the host and its three VMs


# --- libvirt's queries, through pypsrp ---------------------------------------------------------
async def test_libvirt_selects_vms_by_name_not_server(
    server: tuple[SimulatorServer, SimulatedHost],
) -> None:
    # libvirt >= 6.9 (hyperv_driver.c): every VM is "Name != __SERVER", active ones exclude the
    # off states, a lookup by name adds ElementName.
    srv, host = server
    base = "SELECT * FROM Msvm_ComputerSystem WHERE Name != __SERVER"
    vm = next(iter(host.vms.values()))

    def work(wsman: WSMan) -> tuple[list[ET.Element], ...]:
        return (
            enumerate_wql(wsman, base),
            enumerate_wql(
                wsman,
                base + " AND (EnabledState != 0 and EnabledState != 3 and EnabledState != 32769)",
            ),
            enumerate_wql(wsman, base + f" AND ElementName = '{vm.name}'"),
        )

    every, active, named = await in_thread(srv, work)
    assert {prop(i, "Name") for i in every} == set(host.vms)
    assert {prop(i, "Name") for i in active} == {
        g for g, v in host.vms.items() if host.enabled_state(v) not in (0, 3, 32769)
    }
    assert [prop(i, "Name") for i in named] == [vm.guid]


async def test_projection_through_pypsrp_is_an_xml_fragment(
    server: tuple[SimulatorServer, SimulatedHost],
) -> None:
    # virt-who's projection: unqualified children in w:XmlFragment items
    srv, host = server
    query = (
        "select BIOSGUID, VirtualSystemIdentifier from Msvm_VirtualSystemSettingData"
        " where VirtualSystemType = 'Microsoft:Hyper-V:System:Realized'"
    )
    items = await in_thread(srv, lambda w: enumerate_wql(w, query))
    assert all(i.tag == f"{{{W}}}XmlFragment" for i in items)
    assert {i.findtext("VirtualSystemIdentifier") for i in items} == set(host.vms)
    assert all([c.tag for c in i] == ["BIOSGUID", "VirtualSystemIdentifier"] for i in items)


async def test_associators_of_keyboard_through_pypsrp(
    server: tuple[SimulatorServer, SimulatedHost],
) -> None:
    # libvirt's sendKey: ASSOCIATORS OF {Msvm_ComputerSystem...} WHERE ResultClass = Msvm_Keyboard
    srv, host = server
    vm = next(iter(host.vms.values()))
    query = (
        "ASSOCIATORS OF {Msvm_ComputerSystem.CreationClassName='Msvm_ComputerSystem',"
        f"Name='{vm.guid}'}} WHERE ResultClass = Msvm_Keyboard"
    )
    items = await in_thread(srv, lambda w: enumerate_wql(w, query))
    assert len(items) == 1 and items[0].tag == f"{{{BASE}Msvm_Keyboard}}Msvm_Keyboard"
    assert prop(items[0], "SystemName") == vm.guid
