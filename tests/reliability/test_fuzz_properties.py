"""Hypothesis properties over hostile envelopes, instances and CIM-XML (runs on every CI).

Generators build *structurally plausible* WS-Man documents -- the right namespaces and element
names, in random arrangements, with random attributes and text -- so that the parsers get past
"not XML" and into the code that walks envelopes, items, faults and outputs.  Properties:

* parsing never raises anything but ``ProtocolError`` / ``WSManFault`` (and every typed getter on
  every parsed instance raises nothing but ``ProtocolError``);
* escaping round-trips: WQL literals through the simulator's WQL parser, LIKE patterns through its
  LIKE matcher, selectors and faults through the server codec, enumerations through the state
  machine.
"""

from __future__ import annotations

import re
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from aiohyperv._exceptions import ConfigError, ProtocolError, WSManFault
from aiohyperv.cim import CimInstance
from aiohyperv.hyperv import _wql as wql
from aiohyperv.simulator._codec import (
    build_enumerate_response,
    build_fault,
    build_pull_response,
    parse_request,
)
from aiohyperv.simulator._wql import Select, _Compare, _Like, _like_regex, parse_wql
from aiohyperv.wsman import (
    NAMESPACE_V2,
    Enumeration,
    RequestOptions,
    build_get,
    parse_response,
    resource_uri,
)
from tests.cim.strategies import name, xml_text

from .fuzz_targets import check_cimxml, check_response

S = "http://www.w3.org/2003/05/soap-envelope"
A = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
N = "http://schemas.xmlsoap.org/ws/2004/09/enumeration"
W = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
F = "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
CIM = "http://schemas.dmtf.org/wbem/wscim/1/common"
WSMID = "http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd"
P = resource_uri(NAMESPACE_V2, "Msvm_ComputerSystem")
OPTIONS = RequestOptions(to="http://127.0.0.1:5985/wsman")

FUZZ = settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# --- hostile envelopes ----------------------------------------------------------------------------
NAMESPACES = st.sampled_from([S, A, N, W, F, XSI, CIM, WSMID, P, "urn:evil", ""])
LOCAL = st.sampled_from(
    [
        "Envelope",
        "Header",
        "Body",
        "Fault",
        "Code",
        "Value",
        "Subcode",
        "Reason",
        "Text",
        "Detail",
        "FaultDetail",
        "WSManFault",
        "Message",
        "ProviderFault",
        "EnumerateResponse",
        "PullResponse",
        "EnumerationContext",
        "Items",
        "Item",
        "EndOfSequence",
        "XmlFragment",
        "EndpointReference",
        "Address",
        "ReferenceParameters",
        "ResourceURI",
        "SelectorSet",
        "Selector",
        "Datetime",
        "Interval",
        "Action",
        "MessageID",
        "RelatesTo",
        "IdentifyResponse",
        "ProductVendor",
        "ReturnValue",
        "RequestStateChange_OUTPUT",
        "Job",
        "Name",
        "ElementName",
        "EnabledState",
        "Msvm_ComputerSystem",
        "Win32_OperatingSystem",
    ]
)
TEXT = st.one_of(
    xml_text,
    st.sampled_from(
        [
            "0",
            "-1",
            "4096",
            "18446744073709551616",
            "true",
            "FALSE",
            "1.5e308",
            "NaN",
            "",
            " ",
            "20200101000000.000000+060",
            "00000001000000.000000:000",
            "2020-01-01T00:00:00Z",
            "P1DT2H3M",
            "PT0.5S",
            "uuid:1",
            "w:TimedOut",
            "s:Receiver",
            "2150858793",
            "0x10",
        ]
    ),
)
ATTRS = st.dictionaries(
    st.sampled_from(
        [f"{{{XSI}}}nil", "Name", "Code", "Machine", f"{{{S}}}mustUnderstand", "provider", "path"]
    ),
    st.one_of(st.sampled_from(["true", "false", "1", "x", ""]), TEXT),
    max_size=2,
)


@st.composite
def element(draw: st.DrawFn, depth: int = 3) -> etree._Element:
    ns = draw(NAMESPACES)
    tag = f"{{{ns}}}{draw(LOCAL)}" if ns else draw(LOCAL)
    elem = etree.Element(tag)
    for key, value in draw(ATTRS).items():
        elem.set(key, value)
    if depth > 0 and draw(st.booleans()):
        for child in draw(st.lists(element(depth - 1), max_size=4)):
            elem.append(child)
    else:
        elem.text = draw(TEXT)
    return elem


@st.composite
def instance_element(draw: st.DrawFn) -> etree._Element:
    """An instance in sample-01 shape, with hostile property elements."""
    cls = draw(st.sampled_from(["Msvm_ComputerSystem", "Win32_OperatingSystem", "X"]))
    ns = resource_uri(NAMESPACE_V2, cls)
    inst = etree.Element(f"{{{ns}}}{cls}")
    for _ in range(draw(st.integers(0, 6))):
        name = draw(st.sampled_from(["Name", "ElementName", "EnabledState", "Version", "Job"]))
        prop = etree.SubElement(inst, f"{{{ns}}}{name}")
        kind = draw(st.integers(0, 4))
        if kind == 0:
            prop.text = draw(TEXT)
        elif kind == 1:
            prop.set(f"{{{XSI}}}nil", draw(st.sampled_from(["true", "false", "1", "junk"])))
        elif kind == 2:
            for child in draw(st.lists(element(2), min_size=1, max_size=3)):
                prop.append(child)
        elif kind == 3:
            dt = etree.SubElement(
                prop, f"{{{CIM}}}{draw(st.sampled_from(['Datetime', 'Interval']))}"
            )
            dt.text = draw(TEXT)
        else:
            etree.SubElement(prop, f"{{{A}}}Address").text = draw(TEXT)
            ref = etree.SubElement(prop, f"{{{A}}}ReferenceParameters")
            if draw(st.booleans()):
                etree.SubElement(ref, f"{{{W}}}ResourceURI").text = draw(TEXT)
            sel = etree.SubElement(etree.SubElement(ref, f"{{{W}}}SelectorSet"), f"{{{W}}}Selector")
            if draw(st.booleans()):
                sel.set("Name", draw(TEXT))
            sel.text = draw(TEXT)
    return inst


@st.composite
def body_content(draw: st.DrawFn) -> etree._Element:
    kind = draw(
        st.sampled_from(
            ["enum", "enum", "enum", "output", "output", "fault", "identify", "random", "get"]
        )
    )
    if kind in ("get", "random"):
        return draw(instance_element()) if kind == "get" else draw(element())
    if kind == "enum":
        resp = etree.Element(
            f"{{{N}}}{draw(st.sampled_from(['EnumerateResponse', 'PullResponse']))}"
        )
        for _ in range(draw(st.integers(0, 2))):
            etree.SubElement(resp, f"{{{N}}}EnumerationContext").text = draw(TEXT)
        items = etree.SubElement(
            resp, f"{{{draw(st.sampled_from([N, W, W, N, 'urn:evil']))}}}Items"
        )
        for _ in range(draw(st.integers(0, 3))):
            choice = draw(st.integers(0, 7))
            if choice <= 4:
                items.append(draw(instance_element()))
            elif choice == 5:
                item = etree.SubElement(items, f"{{{W}}}Item")
                item.append(draw(instance_element()))
                item.append(draw(element(2)))
            elif choice == 6:
                frag = etree.SubElement(items, f"{{{W}}}XmlFragment")
                for child in draw(instance_element()):
                    frag.append(child)
            else:
                items.append(draw(element(2)))
        if draw(st.booleans()):
            etree.SubElement(resp, f"{{{draw(st.sampled_from([N, W]))}}}EndOfSequence")
        return resp
    if kind == "output":
        out = etree.Element(f"{{{P}}}RequestStateChange_OUTPUT")
        for _ in range(draw(st.integers(0, 3))):
            rv = etree.SubElement(out, f"{{{P}}}{draw(st.sampled_from(['ReturnValue', 'Job']))}")
            rv.text = draw(TEXT)
        return out
    if kind == "identify":
        ident = etree.Element(f"{{{WSMID}}}IdentifyResponse")
        for child in draw(st.lists(element(1), max_size=4)):
            ident.append(child)
        return ident
    fault = etree.Element(f"{{{S}}}Fault")
    for child in draw(st.lists(element(4), max_size=4)):
        fault.append(child)
    if draw(st.booleans()):
        detail = etree.SubElement(fault, f"{{{S}}}Detail")
        wf = etree.SubElement(detail, f"{{{F}}}WSManFault")
        wf.set("Code", draw(TEXT))
        message = etree.SubElement(wf, f"{{{F}}}Message")
        for child in draw(st.lists(element(3), max_size=3)):
            message.append(child)
    return fault


@st.composite
def envelopes(draw: st.DrawFn) -> bytes:
    env = etree.Element(f"{{{draw(st.sampled_from([S] * 9 + ['urn:evil']))}}}Envelope")
    if draw(st.booleans()):
        header = etree.SubElement(env, f"{{{S}}}Header")
        for child in draw(st.lists(element(1), max_size=3)):
            header.append(child)
    if draw(st.integers(0, 9)):
        body = etree.SubElement(env, f"{{{S}}}Body")
        for _ in range(draw(st.sampled_from([1, 1, 1, 0, 2]))):
            body.append(draw(body_content()))
    data = etree.tostring(env)
    if draw(st.integers(0, 5)):
        return data
    return data[: draw(st.integers(0, len(data)))]


@FUZZ
@given(envelopes())
def test_hostile_envelopes_raise_only_typed_errors(data: bytes) -> None:
    check_response(data)


@FUZZ
@given(st.binary(max_size=2000))
def test_random_bytes_raise_only_typed_errors(data: bytes) -> None:
    check_response(data)
    check_cimxml(data)


# --- hostile CIM-XML ------------------------------------------------------------------------------
CIM_TYPES = st.sampled_from(
    [
        "string",
        "boolean",
        "uint8",
        "sint8",
        "uint16",
        "sint64",
        "uint64",
        "real32",
        "real64",
        "char16",
        "datetime",
        "reference",
        "instance",
        "object",
        "",
        "UINT8",
    ]
)
CIM_VALUES = st.one_of(
    TEXT,
    st.sampled_from(
        [
            "256",
            "-129",
            "1e39",
            "inf",
            "-0",
            "xx",
            "20200231000000.000000+000",
            "99999999235959.999999:000",
            "**************.******+000",
            "\t1 ",
            "ab",
        ]
    ),
)


@st.composite
def cimxml_instance(draw: st.DrawFn, depth: int = 2) -> etree._Element:
    inst = etree.Element("INSTANCE")
    if draw(st.integers(0, 9)):
        inst.set("CLASSNAME", draw(st.sampled_from(["C", "Msvm_X", ""])))
    for _ in range(draw(st.integers(0, 5))):
        tag = draw(
            st.sampled_from(
                ["PROPERTY", "PROPERTY.ARRAY", "PROPERTY.REFERENCE", "QUALIFIER", "METHOD", "VALUE"]
            )
        )
        prop = etree.SubElement(inst, tag)
        if draw(st.integers(0, 9)):
            prop.set("NAME", draw(st.sampled_from(["a", "b", "ElementName", ""])))
        if draw(st.booleans()):
            prop.set("TYPE", draw(CIM_TYPES))
        if draw(st.integers(0, 4)) == 0:
            prop.set("EmbeddedObject", draw(st.sampled_from(["instance", "object", ""])))
        if tag == "PROPERTY.ARRAY":
            array = etree.SubElement(prop, "VALUE.ARRAY")
            for _ in range(draw(st.integers(0, 3))):
                child = etree.SubElement(array, draw(st.sampled_from(["VALUE", "VALUE.NULL", "X"])))
                child.text = draw(CIM_VALUES)
        elif tag == "PROPERTY.REFERENCE":
            vref = etree.SubElement(prop, "VALUE.REFERENCE")
            holder = etree.SubElement(
                vref, draw(st.sampled_from(["LOCALINSTANCEPATH", "INSTANCEPATH", "INSTANCENAME"]))
            )
            name = (
                etree.SubElement(holder, "INSTANCENAME") if holder.tag != "INSTANCENAME" else holder
            )
            if draw(st.booleans()):
                name.set("CLASSNAME", draw(st.sampled_from(["C", ""])))
            for _ in range(draw(st.integers(0, 2))):
                kb = etree.SubElement(name, draw(st.sampled_from(["KEYBINDING", "KEYVALUE"])))
                kb.set("NAME", draw(TEXT))
                etree.SubElement(kb, "KEYVALUE").text = draw(TEXT)
        elif depth > 0 and prop.get("EmbeddedObject") and draw(st.booleans()):
            value = etree.SubElement(prop, "VALUE")
            value.text = etree.tostring(draw(cimxml_instance(depth - 1)), encoding="unicode")
        elif draw(st.booleans()):
            etree.SubElement(prop, "VALUE").text = draw(CIM_VALUES)
    return inst


@FUZZ
@given(cimxml_instance(), st.one_of(st.none(), st.integers(0, 400)))
def test_hostile_cimxml_raises_only_protocol_errors(inst: etree._Element, cut: int | None) -> None:
    text = etree.tostring(inst)
    check_cimxml(text if cut is None else text[:cut])


# --- escaping round trips -------------------------------------------------------------------------
wql_values = st.text(
    st.characters(exclude_categories=("Cs",), exclude_characters="\x00"),  # type: ignore[arg-type]
    max_size=30,
)


@FUZZ
@given(wql_values)
def test_wql_literals_round_trip_without_injection(value: str) -> None:
    query = parse_wql(f"SELECT * FROM Msvm_ComputerSystem WHERE ElementName = {wql.quote(value)}")
    assert isinstance(query, Select)
    # Exactly one comparison: nothing in the value became syntax.
    assert query.where == _Compare("ElementName", "=", value)


@FUZZ
@given(wql_values, st.data())
def test_like_patterns_match_only_the_literal(value: str, data: st.DataObject) -> None:
    query = wql.vcpu_counters(value)
    parsed = parse_wql(query)
    assert isinstance(parsed, Select) and isinstance(parsed.where, _Like)
    pattern = parsed.where.pattern
    assert pattern.fullmatch(f"{value}:Hv VP 3")
    if value:
        i = data.draw(st.integers(0, len(value) - 1))
        other = data.draw(st.characters(exclude_categories=("Cs",)))  # type: ignore[arg-type]
        changed = value[:i] + other + value[i + 1 :]
        if changed.lower() != value.lower() and changed.casefold() != value.casefold():
            assert not pattern.fullmatch(f"{changed}:Hv VP 3"), (value, changed)
    assert _like_regex is not None


@FUZZ
@given(st.dictionaries(st.text(string.ascii_letters, min_size=1, max_size=8), xml_text, max_size=4))
def test_selectors_round_trip(selectors: dict[str, str]) -> None:
    req = parse_request(
        build_get(resource_uri(NAMESPACE_V2, "C"), options=OPTIONS, selectors=selectors)
    )
    assert req.selectors == selectors


@FUZZ
@given(xml_text, xml_text, st.integers(0, 2**32 - 1), st.one_of(st.none(), xml_text))
def test_faults_round_trip(reason: str, machine: str, code: int, message: str | None) -> None:
    data = build_fault(
        code="Receiver",
        subcode="InternalError",
        reason=reason,
        wsman_code=code,
        machine=machine,
        message=message,
    )
    try:
        parse_response(data)
    except WSManFault as fault:
        assert fault.wsman_code == code
        assert fault.machine == (machine or None)
        assert fault.reason == (reason.strip() or None)
    else:  # pragma: no cover - a fault must raise
        raise AssertionError("no fault raised")


simple_instances = st.builds(
    lambda props: CimInstance("Msvm_ComputerSystem", P, props),
    st.dictionaries(name, st.one_of(xml_text, st.none()), max_size=4),
)


@settings(FUZZ, max_examples=100)
@given(st.lists(st.lists(simple_instances, max_size=3), min_size=1, max_size=5), st.booleans())
def test_enumeration_state_machine_round_trip(
    batches: list[list[CimInstance]], optimize: bool
) -> None:
    enum = Enumeration(P, options=OPTIONS, max_pulls=len(batches) + 1, optimize=optimize)
    enum.start()
    got: list[object] = []
    first = build_enumerate_response(
        batches[0] if optimize else None,
        context="ctx" if len(batches) > 1 or not optimize else None,
        end_of_sequence=optimize and len(batches) == 1,
    )
    got += enum.receive(first)
    rest = batches[1:] if optimize else batches
    for i, batch in enumerate(rest):
        assert enum.next_request() is not None
        last = i == len(rest) - 1
        got += enum.receive(
            build_pull_response(batch, context=None if last else f"ctx{i}", end_of_sequence=last)
        )
    assert enum.done and enum.next_request() is None and enum.release_request() is None
    assert got == [inst for batch in batches for inst in batch]


def test_unsendable_values_are_config_errors() -> None:
    """What no XML document can carry is refused typed (ConfigError is also a ValueError)."""
    for bad in ["\x00", "\x01", "\ud800", "\ufffe"]:
        try:
            build_get(P, options=OPTIONS, selectors={"Name": f"a{bad}b"})
        except ConfigError as exc:
            assert isinstance(exc, ValueError)
            assert re.search(r"U\+[0-9A-F]{4}", str(exc))
        else:  # pragma: no cover
            raise AssertionError(f"{bad!r} was accepted")
    try:
        check_cimxml(b"<INSTANCE CLASSNAME='C'>\xff</INSTANCE>")
    except ProtocolError:  # pragma: no cover - the target swallows allowed errors
        raise
