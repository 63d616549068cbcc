"""Every recording under tests/data/wsman-samples/real/ goes through the client's parsers.

The tests are parametrized over the directory listing, so a file added there is parsed by
the generic checks at once, and ``test_every_recording_has_expectations`` fails until its
specific expectations are written down here.

* Enumerations (``txwinrm-*``: ``<Class>_<star|all>_<NNN>.xml``, ``_000`` the EnumerateResponse
  and the rest its PullResponses; ``pypsrp/enumerate_*``): every item is checked against an
  independent, naive reading of the same XML, the item counts of each response are asserted,
  and each series is driven through the ``Enumeration`` state machine, context by context.
  ``*_star_*`` answer ``SELECT *`` (class elements in the class namespace), ``*_all_*`` answer
  a projection (``w:XmlFragment`` items with unqualified children).
* Faults (``pypsrp/fault_*``): the exact class and every field.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest
from lxml import etree

from aiohyperv import (
    InvalidMessageInformationHeader,
    InvalidSelectors,
    OperationTimedOut,
    SchemaValidationError,
    WSManFault,
)
from aiohyperv.cim import CimDateTime, CimInstance
from aiohyperv.wsman import (
    NS,
    Action,
    Enumeration,
    Filter,
    RequestOptions,
    parse_enumerate,
    parse_response,
    resource_uri,
    wildcard_uri,
)

from .files import SAMPLES

if TYPE_CHECKING:
    from pathlib import Path

    from aiohyperv.cim import PropertyValue, RawValue

REAL = SAMPLES / "real"
FILES = sorted(REAL.rglob("*.xml"))
CIMV2 = "root/cimv2"
SHELL = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
XSI_NIL = f"{{{NS['xsi']}}}nil"
W_ITEMS = f"{{{NS['w']}}}Items"
N_ITEMS = f"{{{NS['n']}}}Items"
W_FRAGMENT = f"{{{NS['w']}}}XmlFragment"
N_CONTEXT = f"{{{NS['n']}}}EnumerationContext"
FAULT_ACTIONS = (
    "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault",
    "http://schemas.xmlsoap.org/ws/2004/08/addressing/fault",
    "http://schemas.xmlsoap.org/ws/2004/09/enumeration/fault",
)
_SERIES_NAME = re.compile(r"(?P<cls>.+)_(?P<kind>star|all)_(?P<index>\d{3})")


def _rel(path: Path) -> str:
    return path.relative_to(REAL).as_posix()


def _tree(path: Path) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.fromstring(path.read_bytes(), parser)


def _action(path: Path) -> str:
    found = _tree(path).find(f"{{{NS['s']}}}Header/{{{NS['a']}}}Action")
    assert found is not None and found.text
    return found.text.strip()


ENUMERATIONS = [p for p in FILES if _action(p) not in FAULT_ACTIONS]
FAULT_FILES = [p for p in FILES if _action(p) in FAULT_ACTIONS]


# --- expectations -------------------------------------------------------------------------------
#: Items in each response of a series (host, class, star|all): ``_000`` first.  The optimized
#: EnumerateResponse holds one item whatever MaxElements asked (32000), and each Pull stops at
#: the envelope size: ~75 KB.
SERIES: dict[tuple[str, str, str], tuple[int, ...]] = {
    ("server2008r2", "Win32_ComputerSystem", "all"): (1,),
    ("server2008r2", "Win32_ComputerSystem", "star"): (1,),
    ("server2008r2", "Win32_IP4RouteTable", "all"): (1, 13),
    ("server2008r2", "Win32_IP4RouteTable", "star"): (1, 13),
    ("server2008r2", "Win32_LogicalDisk", "all"): (1, 1),
    ("server2008r2", "Win32_LogicalDisk", "star"): (1, 1),
    ("server2008r2", "Win32_NetworkAdapterConfiguration", "all"): (1, 13),
    ("server2008r2", "Win32_NetworkAdapterConfiguration", "star"): (1, 13),
    ("server2008r2", "Win32_OperatingSystem", "all"): (1,),
    ("server2008r2", "Win32_OperatingSystem", "star"): (1,),
    ("server2008r2", "Win32_PerfRawData_PerfDisk_PhysicalDisk", "all"): (1, 2),
    ("server2008r2", "Win32_PerfRawData_PerfDisk_PhysicalDisk", "star"): (1, 2),
    ("server2008r2", "Win32_PerfRawData_PerfProc_Process", "all"): (1, 42),
    ("server2008r2", "Win32_PerfRawData_PerfProc_Process", "star"): (1, 37, 5),
    ("server2008r2", "Win32_PerfRawData_Tcpip_NetworkInterface", "all"): (1, 2),
    ("server2008r2", "Win32_PerfRawData_Tcpip_NetworkInterface", "star"): (1, 2),
    ("server2008r2", "Win32_Process", "all"): (1, 36, 5),
    ("server2008r2", "Win32_Process", "star"): (1, 32, 9),
    ("server2008r2", "Win32_Processor", "all"): (1,),
    ("server2008r2", "Win32_Processor", "star"): (1,),
    ("server2008r2", "Win32_Product", "all"): (1, 4),
    ("server2008r2", "Win32_Product", "star"): (1, 4),
    ("server2008r2", "Win32_Service", "all"): (1, 59, 60, 2),
    ("server2008r2", "Win32_Service", "star"): (1, 50, 52, 19),
    ("server2008r2", "Win32_SystemEnclosure", "all"): (1,),
    ("server2008r2", "Win32_SystemEnclosure", "star"): (1,),
    ("server2008r2", "Win32_Volume", "all"): (1, 1),
    ("server2008r2", "Win32_Volume", "star"): (1, 1),
    ("server2012", "Win32_ComputerSystem", "all"): (1,),
    ("server2012", "Win32_ComputerSystem", "star"): (1,),
    ("server2012", "Win32_IP4RouteTable", "all"): (1, 13),
    ("server2012", "Win32_IP4RouteTable", "star"): (1, 13),
    ("server2012", "Win32_LogicalDisk", "all"): (1,),
    ("server2012", "Win32_LogicalDisk", "star"): (1,),
    ("server2012", "Win32_NetworkAdapterConfiguration", "all"): (1, 12),
    ("server2012", "Win32_NetworkAdapterConfiguration", "star"): (1, 12),
    ("server2012", "Win32_OperatingSystem", "all"): (1,),
    ("server2012", "Win32_OperatingSystem", "star"): (1,),
    ("server2012", "Win32_PerfRawData_PerfDisk_PhysicalDisk", "all"): (1, 1),
    ("server2012", "Win32_PerfRawData_PerfDisk_PhysicalDisk", "star"): (1, 1),
    ("server2012", "Win32_PerfRawData_PerfProc_Process", "all"): (1, 44, 1),
    ("server2012", "Win32_PerfRawData_PerfProc_Process", "star"): (1, 37, 8),
    ("server2012", "Win32_PerfRawData_Tcpip_NetworkInterface", "all"): (1, 2),
    ("server2012", "Win32_PerfRawData_Tcpip_NetworkInterface", "star"): (1, 2),
    ("server2012", "Win32_Process", "all"): (1, 36, 9),
    ("server2012", "Win32_Process", "star"): (1, 32, 13),
    ("server2012", "Win32_Processor", "all"): (1,),
    ("server2012", "Win32_Processor", "star"): (1,),
    ("server2012", "Win32_Product", "all"): (1, 2),
    ("server2012", "Win32_Product", "star"): (1, 2),
    ("server2012", "Win32_Service", "all"): (1, 59, 61, 10),
    ("server2012", "Win32_Service", "star"): (1, 50, 52, 28),
    ("server2012", "Win32_SystemEnclosure", "all"): (1,),
    ("server2012", "Win32_SystemEnclosure", "star"): (1,),
    ("server2012", "Win32_Volume", "all"): (1, 1),
    ("server2012", "Win32_Volume", "star"): (1, 1),
}

#: pypsrp's optimized enumerations: (items, class of the items).  Each is a whole enumeration
#: in one EnumerateResponse: w:EndOfSequence beside an empty n:EnumerationContext.
PYPSRP_ENUMERATIONS: dict[str, tuple[int, str | None]] = {
    "pypsrp/enumerate_commands_optimized_eos.xml": (1, "Command"),
    "pypsrp/enumerate_optimized_empty_eos.xml": (0, None),
    "pypsrp/enumerate_shells_optimized_items_eos.xml": (2, "Shell"),
}


#: Subclasses whose instances a ``SELECT *`` on the class returns, each in its own namespace.
SUBCLASSES = {"Win32_Service": ("Win32_TerminalService",)}


def _series_key(path: Path) -> tuple[str, str, str, int] | None:
    match = _SERIES_NAME.fullmatch(path.stem)
    if not path.parent.name.startswith("txwinrm-") or match is None:
        return None
    host = path.parent.name.removeprefix("txwinrm-")
    return host, match["cls"], match["kind"], int(match["index"])


def _series_files() -> dict[tuple[str, str, str], list[Path]]:
    found: dict[tuple[str, str, str], list[Path]] = defaultdict(list)
    for path in ENUMERATIONS:
        key = _series_key(path)
        if key is not None:
            found[key[:3]].append(path)
    return dict(found)


def test_every_recording_has_expectations() -> None:
    covered = {_rel(p) for p in FAULT_FILES if _rel(p) in FAULTS}
    covered |= {_rel(p) for p in ENUMERATIONS if _rel(p) in PYPSRP_ENUMERATIONS}
    series = _series_files()
    for key, paths in series.items():
        assert key in SERIES, key
        indexes = [_series_key(p) for p in paths]
        assert [k[3] for k in indexes if k is not None] == list(range(len(SERIES[key])))
        covered |= {_rel(p) for p in paths}
    assert set(series) == set(SERIES)
    assert covered == {_rel(p) for p in FILES}


# --- an independent reading of an item -----------------------------------------------------------
def _naive_value(elem: etree._Element) -> RawValue:
    """What a property element says, read the obvious way (no caches, no fast paths)."""
    children = [c for c in elem if isinstance(c.tag, str)]
    if elem.get(XSI_NIL) == "true":
        assert not children and not (elem.text or "").strip()
        return None
    if children:
        # Every structured value in these recordings is a datetime: cim:Datetime in class
        # elements, an unqualified Datetime in projections.
        (child,) = children
        kind = etree.QName(child).localname
        assert kind == "Datetime"
        return CimDateTime(text=(child.text or "").strip(), kind=kind)
    return elem.text or ""


def _naive_properties(item: etree._Element) -> dict[str, PropertyValue]:
    props: dict[str, PropertyValue] = {}
    for child in item:
        if not isinstance(child.tag, str):
            continue
        name = etree.QName(child).localname
        value = _naive_value(child)
        if name not in props:
            props[name] = value
        else:
            old = props[name]
            props[name] = [*old, value] if isinstance(old, list) else [old, value]
    return props


def _raw_items(path: Path) -> tuple[list[etree._Element], str | None, bool]:
    """(item elements, context text, EndOfSequence) straight from the XML."""
    body = _tree(path).find(f"{{{NS['s']}}}Body")
    assert body is not None
    (response,) = list(body)
    items: list[etree._Element] = []
    context: str | None = None
    end = False
    for child in response:
        if child.tag in (W_ITEMS, N_ITEMS):
            items.extend(c for c in child if isinstance(c.tag, str))
        elif child.tag == N_CONTEXT:
            context = (child.text or "").strip() or None
        elif etree.QName(child).localname == "EndOfSequence":
            end = True
    return items, context, end


# --- every enumeration response ------------------------------------------------------------------
@pytest.mark.parametrize("path", ENUMERATIONS, ids=_rel)
def test_enumeration_response_parses_completely(path: Path) -> None:
    resp = parse_response(path.read_bytes())
    batch = parse_enumerate(resp)
    raw_items, raw_context, raw_end = _raw_items(path)
    assert len(batch.items) == len(raw_items)
    assert batch.context == raw_context
    assert batch.end_of_sequence is raw_end
    # Windows either closes the sequence or hands back a context, never both.
    assert (batch.context is None) is batch.end_of_sequence

    key = _series_key(path)
    if key is None:
        expected_count, class_name = PYPSRP_ENUMERATIONS[_rel(path)]
        assert resp.action == Action.ENUMERATE_RESPONSE
        assert len(batch.items) == expected_count
        assert batch.end_of_sequence
        # The empty n:EnumerationContext beside w:EndOfSequence counts as no context.
        assert b"<n:EnumerationContext></n:EnumerationContext>" in path.read_bytes()
        for item in batch.items:
            assert isinstance(item, CimInstance)
            assert (item.class_name, item.resource_uri) == (class_name, SHELL)
    else:
        host, cls, kind, index = key
        counts = SERIES[host, cls, kind]
        assert len(batch.items) == counts[index]
        expected_action = Action.ENUMERATE_RESPONSE if index == 0 else Action.PULL_RESPONSE
        assert resp.action == expected_action
        last = index == len(counts) - 1
        assert batch.end_of_sequence is last
        if not last:
            assert batch.context is not None and batch.context.startswith("uuid:")
        for item, raw in zip(batch.items, raw_items, strict=True):
            assert isinstance(item, CimInstance)
            if kind == "star":
                # SELECT *: each item is an element named after its own class, in that class's
                # namespace; a query on a class also returns its subclasses' instances.
                own = item.class_name
                assert own == cls or own in SUBCLASSES.get(cls, ())
                assert raw.tag == f"{{{resource_uri(CIMV2, own)}}}{own}"
                assert item.resource_uri == resource_uri(CIMV2, own)
            else:
                # A projection: w:XmlFragment, children in no namespace, no class name.
                assert raw.tag == W_FRAGMENT
                assert all(etree.QName(c).namespace is None for c in raw if isinstance(c.tag, str))
                assert (item.class_name, item.resource_uri) == ("", None)

    for item, raw in zip(batch.items, raw_items, strict=True):
        assert isinstance(item, CimInstance)
        assert item.properties == _naive_properties(raw)
        assert list(item.properties) == list(_naive_properties(raw))  # wire order kept
        for name, value in item.properties.items():
            if isinstance(value, CimDateTime):
                when = item.get_datetime(name)
                assert when is None or when.tzinfo is not None


@pytest.mark.parametrize("key", sorted(SERIES), ids="/".join)
def test_series_through_the_enumeration_state_machine(key: tuple[str, str, str]) -> None:
    # The client's own state machine, fed the recorded answers in order: each Pull carries the
    # context of the answer before it, and the last answer ends the enumeration.
    cls = key[1]
    paths = _series_files()[key]
    enum = Enumeration(
        wildcard_uri(CIMV2),
        options=RequestOptions(to="http://10.30.40.69:5985/wsman"),
        filter=Filter.wql(f"SELECT * FROM {cls}"),
        max_elements=32000,
    )
    enum.start()
    received: list[object] = list(enum.receive(paths[0].read_bytes()))
    for path in paths[1:]:
        context = enum.context
        assert context is not None
        pull = enum.next_request()
        assert pull is not None and f">{context}<".encode() in pull
        received += enum.receive(path.read_bytes())
    assert enum.done
    assert enum.next_request() is None
    assert len(received) == sum(SERIES[key]) == enum.items_received


@pytest.mark.parametrize("host", ["server2008r2", "server2012"])
@pytest.mark.parametrize(
    "cls", sorted({cls for (_, cls, _) in SERIES}), ids=lambda cls: cls.removeprefix("Win32_")
)
def test_projection_and_select_star_return_the_same_instances(host: str, cls: str) -> None:
    # The same class enumerated twice, moments apart: the same number of instances, with the
    # same property names (but for those the projection did not ask for), in either form.
    star = _all_items(host, cls, "star")
    projected = _all_items(host, cls, "all")
    assert len(star) == len(projected) == sum(SERIES[host, cls, "star"])
    extra: set[str] = set()
    for a, b in zip(star, projected, strict=True):
        assert set(b) <= set(a)
        extra |= set(a) - set(b)
    assert extra == ONLY_IN_SELECT_STAR.get(cls, set())


#: Properties the SELECT * answers have and the projections lack: the adapter addresses (arrays,
#: which the projection did not name) and the properties only Win32_TerminalService has.
ONLY_IN_SELECT_STAR = {
    "Win32_NetworkAdapterConfiguration": {
        "DNSDomainSuffixSearchOrder",
        "DNSServerSearchOrder",
        "DefaultIPGateway",
        "GatewayCostMetric",
        "IPAddress",
        "IPSubnet",
    },
    "Win32_Service": {"DisconnectedSessions", "TotalSessions"},
}


def _all_items(host: str, cls: str, kind: str) -> list[CimInstance]:
    items: list[CimInstance] = []
    for path in _series_files()[host, cls, kind]:
        for item in parse_enumerate(parse_response(path.read_bytes())).items:
            assert isinstance(item, CimInstance)
            items.append(item)
    return items


# --- selected values ----------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["star", "all"])
@pytest.mark.parametrize(
    ("host", "caption", "version", "name", "boot"),
    [
        (
            "server2008r2",
            "Microsoft Windows Server 2008 R2 Datacenter ",
            "6.1.7601",
            "AMAZONA-Q2R281F",
            datetime(2013, 4, 15, 16, 28, 39, 500000, tzinfo=UTC),
        ),
        (
            "server2012",
            "Microsoft Windows Server 2012 Standard",
            "6.2.9200",
            "AMAZONA-SDFU7B1",
            datetime(2013, 4, 15, 16, 28, 43, 488171, tzinfo=UTC),
        ),
    ],
)
def test_operating_system_and_computer_values(
    kind: str, host: str, caption: str, version: str, name: str, boot: datetime
) -> None:
    (os_row,) = _all_items(host, "Win32_OperatingSystem", kind)
    assert os_row.get_str("Caption") == caption
    assert os_row.get_str("Version") == version
    assert os_row.get_str("CSName") == name
    assert os_row.get_int("TotalVisibleMemorySize") in (629368, 629364)
    assert os_row.get_datetime("LastBootUpTime") == boot
    assert os_row.get("PlusProductID") is None  # xsi:nil
    assert "PlusProductID" in os_row
    (computer,) = _all_items(host, "Win32_ComputerSystem", kind)
    assert computer.get_str("Name") == computer.get_str("DNSHostName") == name
    assert computer.get_str("Domain") == "WORKGROUP"
    assert computer.get_int("NumberOfLogicalProcessors") == 1
    # A real array: repeated elements, in order, in both answer forms.
    assert computer.get_list("Roles") == ["LM_Workstation", "LM_Server", "NT", "Server_NT"]
    (cpu,) = _all_items(host, "Win32_Processor", kind)
    assert cpu.get_str("Name") == "Intel(R) Xeon(R) CPU           E5645  @ 2.40GHz"
    assert cpu.get_int("NumberOfCores") == 1


@pytest.mark.parametrize(
    ("host", "index", "address", "mac"),
    [
        ("server2008r2", 12, "10.30.40.69", "12:4A:CE:A2:C9:F2"),
        ("server2012", 10, "10.30.40.193", "12:4A:CE:9E:11:23"),
    ],
)
def test_null_arrays_are_absent_and_read_empty(
    host: str, index: int, address: str, mac: str
) -> None:
    adapters = _all_items(host, "Win32_NetworkAdapterConfiguration", "star")
    with_address = [a for a in adapters if "IPAddress" in a]
    (adapter,) = with_address
    assert adapter.get_int("Index") == index
    assert adapter.get_str("MACAddress") == mac
    # A one-element array is one element on the wire: a str until read as a list.
    assert adapter["IPAddress"] == address
    assert adapter.get_list("IPAddress") == [address]
    assert adapter.get_list("DefaultIPGateway") == ["10.30.40.1"]
    assert adapter.get_list("IPSubnet") == ["255.255.255.0"]
    for other in adapters:
        if other is adapter:
            continue
        # Windows leaves NULL arrays out (never xsi:nil): absent, and read as [].
        assert "IPAddress" not in other
        assert other.get_list("IPAddress") == []
        assert other.get_list("DNSServerSearchOrder") == []


@pytest.mark.parametrize(
    ("host", "processes", "last", "created", "services", "last_service", "state"),
    [
        (
            "server2008r2",
            42,
            "msiexec.exe",
            datetime(2013, 4, 15, 20, 25, 59, 956152, tzinfo=UTC),
            122,
            "wudfsvc",
            "Stopped",
        ),
        (
            "server2012",
            46,
            "explorer.exe",
            datetime(2013, 4, 15, 20, 28, 28, 854422, tzinfo=UTC),
            131,
            "xensvc",
            "Running",
        ),
    ],
)
@pytest.mark.parametrize("kind", ["star", "all"])
def test_multi_pull_enumerations(
    kind: str,
    host: str,
    processes: int,
    last: str,
    created: datetime,
    services: int,
    last_service: str,
    state: str,
) -> None:
    procs = _all_items(host, "Win32_Process", kind)
    assert len(procs) == processes
    idle, system = procs[0], procs[1]
    assert (idle.get_str("Name"), idle.get_int("ProcessId")) == ("System Idle Process", 0)
    assert idle.get("CreationDate") is None
    assert idle.get_datetime("CreationDate") is None
    assert (system.get_str("Name"), system.get_int("ProcessId")) == ("System", 4)
    assert procs[-1].get_str("Name") == last
    assert procs[-1].get_datetime("CreationDate") == created
    svcs = _all_items(host, "Win32_Service", kind)
    assert len(svcs) == services
    if kind == "star":
        terminal = [s for s in svcs if s.class_name == "Win32_TerminalService"]
        assert [s.get_str("Name") for s in terminal] == ["TermService"]
        assert {s.class_name for s in svcs} == {"Win32_Service", "Win32_TerminalService"}
    else:
        assert {s.class_name for s in svcs} == {""}  # projections do not say the class
    assert svcs[0].get_str("Caption") == "Application Experience"
    assert svcs[0].get_bool("AcceptStop") is False
    assert svcs[-1].get_str("Name") == last_service
    assert svcs[-1].get_str("State") == state


def test_projection_datetimes_are_unqualified() -> None:
    # In a w:XmlFragment the datetime's inner element is a bare <Datetime>, not cim:Datetime.
    path = REAL / "txwinrm-server2012" / "Win32_OperatingSystem_all_000.xml"
    assert b"<LastBootUpTime><Datetime>2013-04-15T16:28:43.488171Z</Datetime>" in path.read_bytes()
    (os_row,) = _all_items("server2012", "Win32_OperatingSystem", "all")
    assert os_row["LastBootUpTime"] == CimDateTime(
        text="2013-04-15T16:28:43.488171Z", kind="Datetime"
    )
    assert os_row.get_datetime("InstallDate") == datetime(2013, 3, 9, 2, 57, 32, tzinfo=UTC)


# --- faults --------------------------------------------------------------------------------------
WSMAN_FAULT_ACTION = "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault"
SELECTORS_REASON = (
    "The WS-Management service cannot process the request because the request contained invalid"
    " selectors for the resource."
)
TIMEOUT_TEXT = (
    "The WS-Management service cannot complete the operation within the time specified in"
    " OperationTimeout."
)

#: file -> (class, code, subcode, wsman_code, machine, reason, action, fault_detail,
#: detail_message, provider, provider_path, provider_fault)
FAULTS: dict[str, tuple[object, ...]] = {
    "pypsrp/fault_addressing_invalid_header_timeout.xml": (
        InvalidMessageInformationHeader,
        "Sender",
        "InvalidMessageInformationHeader",
        2150858767,
        "127.0.0.1",
        "The WS-Management service cannot process the request. The request contains one or more"
        " invalid SOAP headers.",
        "http://schemas.xmlsoap.org/ws/2004/08/addressing/fault",
        None,
        "The WS-Management service cannot process the request. The XML contains an invalid"
        " timeout field in the SOAP header: PT-1S.",
        None,
        None,
        None,
    ),
    "pypsrp/fault_invalid_selectors_nested_providerfault.xml": (
        InvalidSelectors,
        "Sender",
        "InvalidSelectors",
        2150858843,
        "127.0.0.1",
        SELECTORS_REASON,
        WSMAN_FAULT_ACTION,
        "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/UnexpectedSelectors",
        SELECTORS_REASON,
        "Shell provider",
        "%systemroot%\\system32\\WsmSvc.dll",
        SELECTORS_REASON,
    ),
    "pypsrp/fault_invalid_selectors_no_provider.xml": (
        InvalidSelectors,
        "Sender",
        "InvalidSelectors",
        2150858843,
        "127.0.0.1",
        SELECTORS_REASON,
        WSMAN_FAULT_ACTION,
        "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/UnexpectedSelectors",
        "The Windows Remote Shell received a request to perform an operation on a command"
        " identifier that does not exist. Either the command has completed execution or the"
        " client specified an invalid command identifier.",
        None,
        None,
        None,
    ),
    "pypsrp/fault_schema_validation_error.xml": (
        SchemaValidationError,
        "Sender",
        "SchemaValidationError",
        2150858817,
        "SERVER2008.domain.local",
        "The SOAP XML in the message does not match the corresponding XML schema definition."
        " Change the XML and retry.",
        WSMAN_FAULT_ACTION,
        None,
        "The Windows Remote Shell cannot process the request. The SOAP packet contains an"
        " element Argument that is invalid. Retry the request with the correct XML element.",
        None,
        None,
        None,
    ),
    "pypsrp/fault_timedout_activityid.xml": (
        OperationTimedOut,
        "Receiver",
        "TimedOut",
        2150858793,
        "127.0.0.1",
        TIMEOUT_TEXT,
        WSMAN_FAULT_ACTION,
        None,
        TIMEOUT_TEXT,
        None,
        None,
        None,
    ),
}


@pytest.mark.parametrize("path", FAULT_FILES, ids=_rel)
def test_fault_every_field(path: Path) -> None:
    (
        cls,
        code,
        subcode,
        wsman_code,
        machine,
        reason,
        action,
        fault_detail,
        detail_message,
        provider,
        provider_path,
        provider_fault,
    ) = FAULTS[_rel(path)]
    with pytest.raises(WSManFault) as info:
        parse_response(path.read_bytes())
    fault = info.value
    assert type(fault) is cls
    assert fault.code == code
    assert fault.subcode == subcode
    assert fault.wsman_code == wsman_code
    assert fault.machine == machine
    assert fault.reason == reason
    assert fault.action == action == _action(path)
    assert fault.fault_detail == fault_detail
    assert fault.detail_message == detail_message
    assert fault.provider == provider
    assert fault.provider_path == provider_path
    assert fault.provider_fault == provider_fault
    assert (fault.error_type, fault.windows_error_message, fault.host) == (None, None, None)
    assert str(fault).startswith(f"WS-Management fault {subcode} ({wsman_code:#x}): ")
