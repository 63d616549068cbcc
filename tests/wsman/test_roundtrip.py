"""Round trips: whatever the writers produce, the readers give back (hypothesis)."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from aiohyperv.cim import EPR, CimDateTime, CimInstance, EmbeddedInstance
from aiohyperv.cim._xml import parse_xml
from aiohyperv.simulator._codec import (
    build_enumerate_response,
    build_invoke_response,
    build_pull_response,
    build_response,
    parse_invoke_request,
    parse_request,
)
from aiohyperv.wsman import (
    NAMESPACE_V2,
    NS,
    Action,
    EnumerationMode,
    InvokeValue,
    RequestOptions,
    build_invoke,
    build_put,
    parse_enumerate,
    parse_get,
    parse_instance,
    parse_invoke,
    parse_item,
    parse_response,
    resource_uri,
    serialize_epr,
    serialize_instance,
)
from aiohyperv.wsman._items import instance_xml

from ..cim.strategies import (
    aware_datetimes,
    class_uri,
    embedded_instances,
    eprs,
    instances,
    intervals,
    name,
    xml_text,
)

OPTS = RequestOptions(to="http://127.0.0.1:5985/wsman")
CS = resource_uri(NAMESPACE_V2, "Msvm_ComputerSystem")
SETTINGS = settings(max_examples=60, deadline=None)


def _reparse(elem: etree._Element) -> etree._Element:
    return parse_xml(etree.tostring(elem), what="test")


@SETTINGS
@given(instances(depth=2))
def test_instance_round_trip(inst: CimInstance) -> None:
    assert parse_instance(_reparse(serialize_instance(inst))) == inst


@SETTINGS
@given(instances(depth=3))
def test_text_serializer_matches_lxml_serializer(inst: CimInstance) -> None:
    wrap = f'<w:Items xmlns:w="{NS["w"]}" xmlns:a="{NS["a"]}">{{}}</w:Items>'
    lxml_text = etree.tostring(serialize_instance(inst), encoding="unicode")
    fast = parse_xml(wrap.format(instance_xml(inst)), what="fast")[0]
    slow = parse_xml(wrap.format(lxml_text), what="lxml")[0]
    assert parse_instance(fast) == parse_instance(slow) == inst
    # C14N 2.0 with prefixes renamed (in xsi:type values too): the two writers may pick
    # different prefixes for one namespace URI (an embedded object in its container's own
    # namespace), which is the same XML; everything else must be identical.
    c14n = [
        etree.canonicalize(
            etree.tostring(e, encoding="unicode"),
            rewrite_prefixes=True,
            qname_aware_attrs=[f"{{{NS['xsi']}}}type"],
        )
        for e in (fast, slow)
    ]
    assert c14n[0] == c14n[1]


@SETTINGS
@given(eprs())
def test_epr_round_trip(epr: EPR) -> None:
    assert parse_item(_reparse(serialize_epr(epr))) == epr


@settings(max_examples=30, deadline=None)
@given(st.lists(instances(depth=0), max_size=3), st.booleans(), st.booleans())
def test_enumeration_responses_round_trip(items: list[CimInstance], pull: bool, end: bool) -> None:
    context = None if end else "uuid:CTX"
    if pull:
        data = build_pull_response(items, context=context, end_of_sequence=end)
    else:
        data = build_enumerate_response(items, context=context, end_of_sequence=end)
    batch = parse_enumerate(parse_response(data))
    assert batch.items == items
    assert batch.end_of_sequence is end
    assert batch.context == context


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(instances(depth=0), eprs()), max_size=3))
def test_object_and_epr_round_trip(pairs: list[tuple[CimInstance, EPR]]) -> None:
    items: list[CimInstance | EPR] = []
    for inst, epr in pairs:
        inst.epr = epr
        items.append(inst)
    data = build_pull_response(
        items, context="c", end_of_sequence=False, mode=EnumerationMode.OBJECT_AND_EPR
    )
    assert parse_enumerate(parse_response(data)).items == items
    data = build_pull_response(items, context="c", end_of_sequence=False, mode=EnumerationMode.EPR)
    assert parse_enumerate(parse_response(data)).items == [epr for _, epr in pairs]


@SETTINGS
@given(instances())
def test_put_body_round_trip(inst: CimInstance) -> None:
    assert inst.resource_uri is not None
    req = parse_request(build_put(inst.resource_uri, inst, options=OPTS, selectors={"K": "v"}))
    assert req.body is not None
    assert parse_instance(req.body) == inst
    assert req.selectors == {"K": "v"}


# --- Invoke parameters ------------------------------------------------------------------------
plain_text = xml_text.filter(lambda s: not s.lstrip().startswith(("<INSTANCE", "<?xml")))
scalar_params: st.SearchStrategy[InvokeValue] = st.one_of(
    plain_text,
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.booleans(),
    st.none(),
    eprs(),
    embedded_instances(),
    aware_datetimes,
    intervals,
)
invoke_params = st.dictionaries(
    name,
    st.one_of(
        scalar_params,
        st.lists(scalar_params.filter(lambda v: v is not None), min_size=2, max_size=3),
    ),
    max_size=6,
)


def _expected(value: object) -> object:
    """What the server reads for a parameter the client wrote."""
    if isinstance(value, list):
        return [_expected(v) for v in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime | timedelta):
        return CimDateTime.of(value)
    return value


@SETTINGS
@given(
    st.sampled_from(["RequestStateChange", "DefineSystem"]),
    invoke_params,
    st.dictionaries(name, plain_text, max_size=3),
)
def test_invoke_params_round_trip(
    method: str, params: dict[str, InvokeValue], selectors: dict[str, str]
) -> None:
    data = build_invoke(CS, method, options=OPTS, selectors=selectors, params=params)
    req = parse_request(data)
    assert req.action == f"{CS}/{method}"
    assert req.selectors == selectors
    got_method, args = parse_invoke_request(req)
    assert got_method == method
    assert args == {k: _expected(v) for k, v in params.items()}
    for key, value in params.items():
        if isinstance(value, datetime | timedelta):
            parsed = args[key]
            assert isinstance(parsed, CimDateTime)
            assert parsed.value == value


@SETTINGS
@given(embedded_instances(depth=2))
def test_embedded_instance_param_round_trip(inst: EmbeddedInstance) -> None:
    data = build_invoke(CS, "ModifySystemSettings", options=OPTS, params={"SystemSettings": inst})
    _, args = parse_invoke_request(parse_request(data))
    assert args == {"SystemSettings": inst}


@SETTINGS
@given(
    st.integers(min_value=0, max_value=2**32 - 1),
    st.dictionaries(
        name,
        st.one_of(
            eprs(),
            plain_text,
            st.none(),
            st.lists(eprs(), min_size=2, max_size=3),
            st.lists(st.integers(0, 255), min_size=2, max_size=16),
        ),
        max_size=5,
    ).filter(lambda d: "ReturnValue" not in d),
)
def test_invoke_output_round_trip(return_value: int, outputs: dict[str, object]) -> None:
    data = build_invoke_response(CS, "Go", return_value=return_value, outputs=outputs)
    result = parse_invoke(parse_response(data), "Go")
    assert result.return_value == return_value
    assert result.outputs == {k: _expected(v) for k, v in outputs.items()}
    job = outputs.get("Job")
    assert result.job == (job if isinstance(job, EPR) else None)


@SETTINGS
@given(class_uri(), st.dictionaries(name, xml_text, max_size=6))
def test_get_response_round_trip(uri: str, props: dict[str, str]) -> None:
    inst = CimInstance(uri.rpartition("/")[2], uri, dict(props))
    data = build_response(Action.GET_RESPONSE, relates_to="uuid:x", body=serialize_instance(inst))
    assert parse_get(parse_response(data)) == inst
