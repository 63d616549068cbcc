"""The simulator's answers, shape by shape, against what Windows sent (``data/wsman-samples/real``).

For the same class and query shape, the simulator must write what the recordings show: the
same envelope prefixes, class elements for ``SELECT *`` and ``w:XmlFragment`` for projections,
NULL arrays left out and NULL scalars ``xsi:nil``, the WMI plugin's batching (one item in the
optimized EnumerateResponse, Pulls filled to the envelope) and the same fault Action, subcode,
code and detail.  Values are ignored: only the shapes are compared.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from lxml import etree

from aiohyperv.cim import EPR, CimDateTime, CimInstance
from aiohyperv.simulator import HostSpec, SimulatedHost
from aiohyperv.simulator._app import _dispatch
from aiohyperv.simulator._instance import to_xml
from aiohyperv.simulator._providers import instances_of
from aiohyperv.simulator._schema import SCHEMAS
from aiohyperv.wsman import (
    NAMESPACE_CIMV2,
    NAMESPACE_V2,
    NS,
    Enumeration,
    Filter,
    RequestOptions,
    build_enumerate,
    build_get,
    build_invoke,
    build_pull,
    parse_enumerate,
    parse_response,
    resource_uri,
    wildcard_uri,
)

from ._helpers import ManualClock

if TYPE_CHECKING:
    from collections.abc import Iterator

REAL = Path(__file__).parents[1] / "data" / "wsman-samples" / "real"
TX2012 = REAL / "txwinrm-server2012"
TXWINRM = sorted((REAL / "txwinrm-server2012").glob("*.xml")) + sorted(
    (REAL / "txwinrm-server2008r2").glob("*.xml")
)
S, A, N, W, F = NS["s"], NS["a"], NS["n"], NS["w"], NS["f"]
XSI = NS["xsi"]
ADDRESSING_FAULT = "http://schemas.xmlsoap.org/ws/2004/08/addressing/fault"
ENUMERATION_FAULT = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/fault"
DEFAULT_ENVELOPE = 153600  # MaxEnvelopeSizekb 150 (Windows' default) and the client's default
OPTIONS = RequestOptions(to="http://127.0.0.1:5985/wsman")
V2 = NAMESPACE_V2


def load(path: Path) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)
    return etree.parse(str(path), parser).getroot()


def make_host(vms: int = 6, **fields: object) -> SimulatedHost:
    spec = HostSpec(name="hv-shape", vms=vms, seed=11, **fields)  # type: ignore[arg-type]
    return SimulatedHost.generate(spec, clock=ManualClock())


def call(host: SimulatedHost, body: bytes) -> tuple[int, etree._Element, bytes]:
    status, data = _dispatch(host, body, authenticated=True)
    return status, etree.fromstring(data), data


def body_of(root: etree._Element) -> etree._Element:
    body = root.find(f"{{{S}}}Body")
    assert body is not None
    return body[0]


def children(elem: etree._Element) -> list[str]:
    return [etree.QName(c).text for c in elem if isinstance(c.tag, str)]


def items_of(root: etree._Element) -> list[etree._Element]:
    response = body_of(root)
    for child in response:
        if etree.QName(child).localname == "Items":
            return list(child)
    return []


def context_of(root: etree._Element) -> str | None:
    found = body_of(root).find(f"{{{N}}}EnumerationContext")
    return None if found is None else (found.text or "")


def ended(root: etree._Element) -> bool:
    return any(etree.QName(c).localname == "EndOfSequence" for c in body_of(root))


def wql(host: SimulatedHost, query: str, namespace: str = V2, **kwargs: object) -> bytes:
    return build_enumerate(
        wildcard_uri(namespace),
        options=kwargs.pop("options", OPTIONS),  # type: ignore[arg-type]
        filter=Filter.wql(query),
        max_elements=32000,  # what txwinrm asked for
        **kwargs,  # type: ignore[arg-type]
    )


def whole(host: SimulatedHost, query: str, namespace: str = V2) -> list[bytes]:
    """Every response body of an enumeration (optimized Enumerate, then Pulls)."""
    enum = Enumeration(
        wildcard_uri(namespace),
        options=OPTIONS,
        filter=Filter.wql(query),
        max_elements=32000,
        max_pulls=1000,
    )
    out: list[bytes] = []
    request: bytes | None = enum.start()
    while request is not None:
        status, data = _dispatch(host, request, authenticated=True)
        assert status == 200, data[:500]
        out.append(data)
        enum.receive(data)
        request = enum.next_request()
    return out


# --- envelopes and items -------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["star", "all"])
def test_enumeration_envelope_declares_what_windows_declares(kind: str) -> None:
    theirs = load(TX2012 / f"Win32_OperatingSystem_{kind}_000.xml")
    query = "SELECT * FROM Win32_OperatingSystem" if kind == "star" else _projection_of(theirs)
    _status, ours, _ = call(make_host(), wql(make_host(), query, NAMESPACE_CIMV2))
    assert ours.nsmap == theirs.nsmap  # s a n w, nothing else
    assert ours.get("{http://www.w3.org/XML/1998/namespace}lang") == "en-US"
    # EnumerationContext (empty: the sequence ended), the one item, EndOfSequence; all in w:
    assert children(body_of(ours)) == children(body_of(theirs))
    assert context_of(ours) == context_of(theirs) == ""


def _projection_of(recorded: etree._Element) -> str:
    names = [etree.QName(c).localname for c in items_of(recorded)[0]]
    return f"SELECT {', '.join(names)} FROM Win32_OperatingSystem"


def _property_forms(item: etree._Element) -> list[tuple[str, str | None, str]]:
    """Each property child: (local name, its namespace, its form: nil / datetime / text)."""
    out = []
    for child in item:
        qname = etree.QName(child)
        if child.get(f"{{{XSI}}}nil") == "true":
            form = "nil"
        elif len(child):
            inner = etree.QName(child[0])
            form = f"{{{inner.namespace or ''}}}{inner.localname}"
        else:
            form = "text"
        out.append((qname.localname, qname.namespace, form))
    return out


@pytest.mark.parametrize("class_name", ["Win32_OperatingSystem", "Win32_ComputerSystem"])
def test_select_star_items_are_class_elements(class_name: str) -> None:
    theirs = items_of(load(TX2012 / f"{class_name}_star_000.xml"))[0]
    host = make_host()
    _status, root, _ = call(host, wql(host, f"SELECT * FROM {class_name}", NAMESPACE_CIMV2))
    (ours,) = items_of(root)
    uri = resource_uri(NAMESPACE_CIMV2, class_name)
    for item in (ours, theirs):
        assert etree.QName(item).text == f"{{{uri}}}{class_name}"
        assert item.prefix == "p"
        assert item.get(f"{{{XSI}}}type") == f"p:{class_name}_Type"
    assert ours.nsmap == theirs.nsmap  # p, xsi, cim declared on the item (s a n w inherited)
    ours_forms = {name: (ns, form) for name, ns, form in _property_forms(ours)}
    their_forms = {name: (ns, form) for name, ns, form in _property_forms(theirs)}
    common = [n for n in their_forms if n in ours_forms]
    assert len(common) >= 0.8 * len(their_forms)
    assert [n for n in ours_forms if n in their_forms] == common  # same order (class order)
    for name in common:
        assert ours_forms[name][0] == their_forms[name][0] == uri  # qualified: p:
        # datetimes as cim:Datetime, where both have a value
        if "nil" not in (ours_forms[name][1], their_forms[name][1]):
            assert ours_forms[name][1] == their_forms[name][1], name


def test_projection_items_are_unqualified_fragments() -> None:
    recorded = load(TX2012 / "Win32_OperatingSystem_all_000.xml")
    (theirs,) = items_of(recorded)
    host = make_host()
    _status, root, data = call(host, wql(host, _projection_of(recorded), NAMESPACE_CIMV2))
    (ours,) = items_of(root)
    for item in (ours, theirs):
        assert etree.QName(item).text == f"{{{W}}}XmlFragment"
    assert ours.nsmap == theirs.nsmap
    # the fragment declares xsi and w itself, like Windows' (w again, though in scope)
    declaration = f'<w:XmlFragment xmlns:xsi="{XSI}" xmlns:w="{W}">'.encode()
    assert declaration in data
    assert declaration in (TX2012 / "Win32_OperatingSystem_all_000.xml").read_bytes()
    ours_forms = _property_forms(ours)
    theirs_forms = _property_forms(theirs)
    assert [n for n, _, _ in ours_forms] == [n for n, _, _ in theirs_forms]  # same names, order
    assert all(ns is None for _n, ns, _f in ours_forms + theirs_forms)  # unqualified children
    ours_by_name = {n: f for n, _ns, f in ours_forms}
    theirs_by_name = {n: f for n, _ns, f in theirs_forms}
    # datetimes as an unqualified <Datetime> (no cim: prefix inside a fragment either)
    assert ours_by_name["InstallDate"] == theirs_by_name["InstallDate"] == "{}Datetime"
    assert ours_by_name["LastBootUpTime"] == theirs_by_name["LastBootUpTime"] == "{}Datetime"


def test_a_projection_keeps_class_order_and_only_what_was_asked() -> None:
    host = make_host()
    query = "SELECT Version, Caption, FreePhysicalMemory FROM Win32_OperatingSystem"
    _status, root, _ = call(host, wql(host, query, NAMESPACE_CIMV2))
    (item,) = items_of(root)
    assert [etree.QName(c).localname for c in item] == ["Caption", "FreePhysicalMemory", "Version"]


# --- NULLs ---------------------------------------------------------------------------------------
def test_recorded_null_arrays_are_absent_and_null_scalars_nil() -> None:
    # The premise, read off the recordings: an adapter with no IP configuration has no
    # IPAddress element at all (an array), while NULL scalars are xsi:nil.
    items = items_of(load(TX2012 / "Win32_NetworkAdapterConfiguration_star_001.xml"))
    names = [{etree.QName(c).localname for c in item} for item in items]
    assert any("IPAddress" in n for n in names) and any("IPAddress" not in n for n in names)
    for item in items:
        for child in item:
            if etree.QName(child).localname == "IPAddress":
                assert child.get(f"{{{XSI}}}nil") is None
    os_item = items_of(load(TX2012 / "Win32_OperatingSystem_star_000.xml"))[0]
    assert os_item.find(f"{{{os_item.nsmap['p']}}}CSDVersion").get(f"{{{XSI}}}nil") == "true"  # type: ignore[union-attr]


def _every_instance(host: SimulatedHost) -> Iterator[object]:
    for namespace in (host.namespace, NAMESPACE_CIMV2):
        for cls in SCHEMAS[namespace].classes():
            if not cls.abstract:
                yield from (i for i in instances_of(host, namespace, cls.name) if i.cls is cls)


def test_simulator_leaves_null_arrays_out_and_writes_null_scalars_nil() -> None:
    host = make_host()
    null_arrays = null_scalars = 0
    for inst in _every_instance(host):
        wrapped = f'<x xmlns:a="{A}" xmlns:w="{W}">{to_xml(inst)}</x>'  # type: ignore[arg-type]
        elem = etree.fromstring(wrapped)[0]
        present = {etree.QName(c).localname: c for c in elem}
        for prop in inst.cls.properties:  # type: ignore[attr-defined]
            value = inst.values.get(prop.name)  # type: ignore[attr-defined]
            if value is None or value == []:
                if prop.array:
                    assert prop.name not in present, (inst, prop.name)
                    null_arrays += 1
                else:
                    assert present[prop.name].get(f"{{{XSI}}}nil") == "true", (inst, prop.name)
                    null_scalars += 1
    assert null_arrays > 10 and null_scalars > 10


def test_references_carry_only_key_selectors() -> None:
    host = make_host()
    vm = next(iter(host.vms.values()))
    # A method output reference (Job) and a reference-valued property (an association's).
    status, root, _ = call(
        host,
        build_invoke(
            resource_uri(V2, "Msvm_ComputerSystem"),
            "RequestStateChange",
            options=OPTIONS,
            selectors={"CreationClassName": "Msvm_ComputerSystem", "Name": vm.guid},
            params={"RequestedState": 2 if vm.state != 2 else 3},
        ),
    )
    assert status == 200
    names = [s.get("Name") for s in root.iter(f"{{{W}}}Selector")]
    assert names == ["InstanceID"]
    _status, root, _ = call(host, wql(host, "SELECT * FROM Msvm_SettingsDefineState", V2))
    selectors = [s.get("Name") for s in root.iter(f"{{{W}}}Selector")]
    assert selectors and "__cimnamespace" not in selectors


# --- batching ------------------------------------------------------------------------------------
def test_recorded_batching_rule() -> None:
    # The premise, in every txwinrm recording: the optimized EnumerateResponse holds exactly one
    # item whatever MaxElements (32000) said, with a context if more follow, else an empty
    # context and EndOfSequence; a Pull that is followed by another is full (the next item
    # would not have fitted half of the 153600-octet envelope: WinRM counts UTF-16).
    for path in TXWINRM:
        root = load(path)
        if path.name.endswith("_000.xml"):
            assert len(items_of(root)) == 1, path.name
            assert (context_of(root) == "") == ended(root), path.name
    for first, second in itertools.pairwise(TXWINRM):
        root = load(first)
        if etree.QName(body_of(root)).localname == "PullResponse" and not ended(root):
            text = first.read_bytes().decode("utf-8")
            following = etree.tostring(items_of(load(second))[0], encoding="unicode")
            assert len(text) * 2 <= DEFAULT_ENVELOPE + 64, first.name
            assert (len(text) + len(following)) * 2 > DEFAULT_ENVELOPE, first.name


def test_simulator_batches_like_the_wmi_plugin() -> None:
    host = make_host(vms=120)
    bodies = whole(host, "SELECT * FROM Msvm_VirtualSystemSettingData")
    first = etree.fromstring(bodies[0])
    assert len(items_of(first)) == 1 and context_of(first) and not ended(first)
    pulls = [etree.fromstring(b) for b in bodies[1:]]
    assert len(pulls) >= 2
    for data, root, following in zip(bodies[1:], pulls, [*pulls[1:], None], strict=True):
        chars = len(data.decode("utf-8"))
        assert chars * 2 <= DEFAULT_ENVELOPE
        assert etree.QName(body_of(root)).localname == "PullResponse"
        if following is not None:  # full: the next item would not have fitted
            nxt = etree.tostring(items_of(following)[0], encoding="unicode")
            assert (chars + len(nxt)) * 2 > DEFAULT_ENVELOPE
            assert context_of(root) and not ended(root)
        else:
            assert context_of(root) is None and ended(root)  # the last Pull: no context at all
    assert sum(len(items_of(r)) for r in pulls) + 1 == 120
    assert host.contexts == {}


@pytest.mark.parametrize("count", [0, 1])
def test_everything_in_one_item_ends_at_once(count: int) -> None:
    host = make_host(vms=3)
    vm = next(iter(host.vms.values()))
    where = f"Name = '{vm.guid}'" if count else "Name = 'nothing'"
    _status, root, _ = call(host, wql(host, f"SELECT * FROM Msvm_ComputerSystem WHERE {where}"))
    assert len(items_of(root)) == count
    assert context_of(root) == "" and ended(root)
    recorded = load(REAL / "pypsrp" / "enumerate_optimized_empty_eos.xml")
    if count == 0:  # no Items element at all, as recorded
        assert children(body_of(root)) == children(body_of(recorded))
    assert host.contexts == {}


def test_full_batching_fills_the_first_answer() -> None:
    host = make_host(vms=20, batching="full")
    _status, root, _ = call(host, wql(host, "SELECT * FROM Msvm_ComputerSystem"))
    assert len(items_of(root)) == 21 and context_of(root) == "" and ended(root)
    windows = make_host(vms=20)
    _status, root, _ = call(windows, wql(windows, "SELECT * FROM Msvm_ComputerSystem"))
    assert len(items_of(root)) == 1 and context_of(root) and not ended(root)


# --- faults --------------------------------------------------------------------------------------
def fault_parts(root: etree._Element) -> dict[str, object]:
    fault = body_of(root)
    wsman = fault.find(f".//{{{F}}}WSManFault")
    assert wsman is not None
    text = fault.find(f"{{{S}}}Reason/{{{S}}}Text")
    assert text is not None
    detail = fault.find(f".//{{{W}}}FaultDetail")
    return {
        "action": root.findtext(f"{{{S}}}Header/{{{A}}}Action"),
        "code": fault.findtext(f"{{{S}}}Code/{{{S}}}Value"),
        "subcode": fault.findtext(f"{{{S}}}Code/{{{S}}}Subcode/{{{S}}}Value"),
        "lang": text.get("{http://www.w3.org/XML/1998/namespace}lang"),
        "wsman_code": wsman.get("Code"),
        "machine": bool(wsman.get("Machine")),
        "message": wsman.find(f"{{{F}}}Message") is not None,
        "detail": None if detail is None else detail.text,
        "prefixes": sorted(str(prefix) for prefix in root.nsmap),
    }


RECORDED_FAULT = fault_parts(load(REAL / "pypsrp" / "fault_addressing_invalid_header_timeout.xml"))


def test_bad_operation_timeout_is_the_recorded_fault() -> None:
    host = make_host()
    request = build_get(
        resource_uri(V2, "Msvm_ComputerSystem"),
        options=OPTIONS,
        selectors={"CreationClassName": "Msvm_ComputerSystem", "Name": "x"},
    )
    timeout = request.split(b"<w:OperationTimeout>")[1].split(b"</w:OperationTimeout>")[0]
    request = request.replace(timeout, b"PT-1S")
    status, ours, _ = call(host, request)
    theirs = load(REAL / "pypsrp" / "fault_addressing_invalid_header_timeout.xml")
    assert status == 500
    assert fault_parts(ours) == RECORDED_FAULT
    # word for word, texts included
    assert body_of(ours).findtext(f"{{{S}}}Reason/{{{S}}}Text") == body_of(theirs).findtext(
        f"{{{S}}}Reason/{{{S}}}Text"
    )
    assert ours.findtext(f".//{{{F}}}Message") == theirs.findtext(f".//{{{F}}}Message")


def test_get_of_a_missing_instance_is_destination_unreachable() -> None:
    host = make_host()
    status, root, _ = call(
        host,
        build_get(
            resource_uri(V2, "Msvm_ComputerSystem"),
            options=OPTIONS,
            selectors={"CreationClassName": "Msvm_ComputerSystem", "Name": "no-such-vm"},
        ),
    )
    assert status == 500
    assert fault_parts(root) == {
        **RECORDED_FAULT,
        "subcode": "a:DestinationUnreachable",
        "wsman_code": "2150858752",
        "detail": "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/InvalidResourceURI",
    }


def test_wql_on_a_missing_class_is_cannot_process_filter() -> None:
    host = make_host()
    status, root, _ = call(host, wql(host, "SELECT * FROM Msvm_NoSuchClass"))
    assert status == 500
    assert fault_parts(root) == {
        **RECORDED_FAULT,
        "action": ENUMERATION_FAULT,
        "subcode": "n:CannotProcessFilter",
        "wsman_code": "2150858778",
    }


def test_an_answer_over_max_envelope_size_is_encoding_limit() -> None:
    host = make_host()
    vm = next(iter(host.vms.values()))
    small = RequestOptions(to=OPTIONS.to, max_envelope_size=8192)
    target = EPR.make(
        resource_uri(V2, "Msvm_VirtualSystemSettingData"), {"InstanceID": f"Microsoft:{vm.guid}"}
    )
    request = build_invoke(
        resource_uri(V2, "Msvm_VirtualSystemManagementService"),
        "GetVirtualSystemThumbnailImage",
        options=small,
        selectors={"CreationClassName": "Msvm_VirtualSystemManagementService"},
        params={"TargetSystem": target, "WidthPixels": 320, "HeightPixels": 240},
    )
    status, root, data = call(host, request)
    assert status == 500, data[:800]
    assert fault_parts(root) == {
        **RECORDED_FAULT,
        "action": "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault",
        "subcode": "w:EncodingLimit",
        "wsman_code": "2150858824",
        "detail": "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/MaxEnvelopeSize",
    }
    # the same request with room for the answer succeeds
    roomy = request.replace(b">8192<", b">512000<")
    assert call(host, roomy)[0] == 200


def test_max_envelope_size_below_8192_is_refused() -> None:
    # MS-WSMV 3.1.4.1.7: servers MUST return wsman:EncodingLimit below 8192 octets.
    host = make_host()
    request = wql(host, "SELECT * FROM Msvm_ComputerSystem").replace(b">153600<", b">4096<")
    status, root, _ = call(host, request)
    assert status == 500
    parts = fault_parts(root)
    assert (parts["subcode"], parts["wsman_code"]) == ("w:EncodingLimit", "2150858823")


def test_invalid_context_pull() -> None:
    host = make_host()
    request = build_pull(
        resource_uri(V2, "Msvm_ComputerSystem"),
        "uuid:00000000-0000-0000-0000-00000000000F",
        options=OPTIONS,
    )
    status, root, _ = call(host, request)
    assert status == 500
    parts = fault_parts(root)
    assert parts["action"] == ENUMERATION_FAULT
    assert (parts["subcode"], parts["wsman_code"]) == ("n:InvalidEnumerationContext", "2150858779")


def test_localized_host_localizes_fault_texts_not_codes() -> None:
    host = make_host(locale="de-DE")
    status, root, _ = call(host, wql(host, "SELECT * FROM Msvm_NoSuchClass"))
    assert status == 500
    parts = fault_parts(root)
    assert parts["lang"] == "de-DE" and root.get("{http://www.w3.org/XML/1998/namespace}lang") == (
        "de-DE"
    )
    assert (parts["subcode"], parts["wsman_code"]) == ("n:CannotProcessFilter", "2150858778")
    reason = body_of(root).findtext(f"{{{S}}}Reason/{{{S}}}Text") or ""
    assert reason.startswith("Die Datenquelle")
    messages = [m.text or "" for m in root.iter(f"{{{F}}}Message") if m.text]
    assert messages and all(m.startswith("Der WS-Verwaltungsdienst") for m in messages)
    assert all("Msvm_NoSuchClass" in m for m in messages)  # the detail survives
    with pytest.raises(Exception) as info:  # the client classifies it by code, not by text
        parse_response(etree.tostring(root))
    assert type(info.value).__name__ == "CannotProcessFilter"


@pytest.mark.parametrize(
    ("locale", "caption", "description"),
    [
        ("en-US", "Virtual Machine", "Microsoft Virtual Machine"),
        ("de-DE", "Virtueller Computer", "Virtueller Microsoft-Computer"),
        ("ja-JP", "仮想マシン", "Microsoft 仮想マシン"),
        ("zh-CN", "虚拟机", "Microsoft 虚拟机"),
    ],
)
def test_localized_hosts_describe_vms_in_their_language(
    locale: str, caption: str, description: str
) -> None:
    host = make_host(vms=4, locale=locale)
    english = "SELECT * FROM Msvm_ComputerSystem WHERE Description = 'Microsoft Virtual Machine'"
    found = parse_enumerate(parse_response(whole(host, english)[0])).items
    assert bool(found) == (locale == "en-US")  # selecting by Description finds nothing abroad
    names: list[str] = []
    for data in whole(host, "SELECT * FROM Msvm_ComputerSystem WHERE Name != __SERVER"):
        for item in parse_enumerate(parse_response(data)).items:
            assert item.get_str("Caption") == caption  # type: ignore[union-attr]
            assert item.get_str("Description") == description  # type: ignore[union-attr]
            names.append(item.get_str("Name") or "")  # type: ignore[union-attr]
    assert sorted(names) == sorted(host.vms)


def test_never_replicated_vms_say_1601_and_the_host_null() -> None:
    host = make_host(vms=2)
    bodies = whole(host, "SELECT * FROM Msvm_ComputerSystem")
    items = [i for data in bodies for i in parse_enumerate(parse_response(data)).items]
    for item in items:
        assert isinstance(item, CimInstance)
        never = item.properties["LastReplicationTime"]
        if item.get_str("Name") == host.computer_name:
            assert never is None
        else:
            assert isinstance(never, CimDateTime) and never.text == "1601-01-01T00:00:00Z"
            assert item.properties["LastSuccessfulBackupTime"] is None


def test_get_response_envelope_declares_what_windows_declares() -> None:
    recorded = load(Path(__file__).parent / "samples" / GET_SAMPLE)
    host = make_host()
    request = build_get(
        resource_uri(V2, "Msvm_ComputerSystem"),
        options=OPTIONS,
        selectors={"CreationClassName": "Msvm_ComputerSystem", "Name": host.computer_name},
    )
    status, ours, _ = call(host, request)
    assert status == 200
    assert ours.nsmap == recorded.nsmap  # s a x w p
    for root in (ours, recorded):
        item = body_of(root)
        assert item.prefix == "p" and (item.get(f"{{{XSI}}}type") or "").endswith("_Type")


GET_SAMPLE = "01_get_response_win32_logicaldisk_windows.xml"
