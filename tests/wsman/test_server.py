"""The server-side codec (what the simulator uses) and its agreement with the client side."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from lxml import etree

from aiohyperv._exceptions import (
    AccessDenied,
    ActionNotSupported,
    CannotProcessFilter,
    DestinationUnreachable,
    InvalidEnumerationContext,
    InvalidMessageInformationHeader,
    InvalidParameter,
    InvalidSelectors,
    ProtocolError,
    WSManFault,
)
from aiohyperv.cim import EPR, CimDateTime, CimInstance, CimType, EmbeddedInstance
from aiohyperv.simulator._codec import (
    build_fault,
    build_identify_response,
    build_invoke_response,
    build_response,
    parse_enumerate_request,
    parse_invoke_request,
    parse_pull_request,
    parse_release_request,
    parse_request,
)
from aiohyperv.wsman import (
    NAMESPACE_V2,
    NS,
    Action,
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
    parse_identify,
    parse_invoke,
    parse_response,
    resource_uri,
    serialize_instance,
    wildcard_uri,
)

from .files import GOLDEN

OPTS = RequestOptions(to="http://127.0.0.1:5985/wsman", operation_timeout=7.25, locale="fr-FR")
CS = resource_uri(NAMESPACE_V2, "Msvm_ComputerSystem")
VSMS = resource_uri(NAMESPACE_V2, "Msvm_VirtualSystemManagementService")
VSSD = resource_uri(NAMESPACE_V2, "Msvm_VirtualSystemSettingData")


def test_parse_request_headers() -> None:
    data = build_get(
        CS,
        options=OPTS,
        selectors={"Name": "VM-1", "CreationClassName": "Msvm_ComputerSystem"},
        message_id="uuid:AAAAAAAA-0000-4000-8000-000000000001",
    )
    req = parse_request(data)
    assert req.action == Action.GET
    assert req.resource_uri == CS
    assert req.to == "http://127.0.0.1:5985/wsman"
    assert req.message_id == "uuid:AAAAAAAA-0000-4000-8000-000000000001"
    assert req.selectors == {"Name": "VM-1", "CreationClassName": "Msvm_ComputerSystem"}
    assert req.option_set == {}
    assert req.max_envelope_size == 153600
    assert req.operation_timeout == 7.25
    assert req.locale == "fr-FR"
    assert req.body is None


def test_parse_request_option_set_and_identify() -> None:
    req = parse_request(
        build_request(Action.GET, CS, options=OPTS, option_set={"a": True, "b": "x y"})
    )
    assert req.option_set == {"a": "true", "b": "x y"}
    ident = parse_request(build_identify())
    assert ident.action == Action.IDENTIFY
    assert ident.resource_uri is None
    assert ident.body is not None and str(ident.body.tag).endswith("}Identify")


@pytest.mark.parametrize(
    ("header", "words"),
    [
        ("", "no a:Action"),
        ("<w:MaxEnvelopeSize>big</w:MaxEnvelopeSize>", "MaxEnvelopeSize 'big'"),
        ("<w:OperationTimeout>20 seconds</w:OperationTimeout>", "invalid timeout field"),
        ("<w:OperationTimeout>PT-1S</w:OperationTimeout>", "invalid timeout field"),
    ],
)
def test_parse_request_bad_headers(header: str, words: str) -> None:
    action = "" if not header else f"<a:Action>{Action.GET.value}</a:Action>"
    data = (
        f'<s:Envelope xmlns:s="{NS["s"]}" xmlns:a="{NS["a"]}" xmlns:w="{NS["w"]}">'
        f"<s:Header>{action}{header}</s:Header><s:Body/></s:Envelope>"
    ).encode()
    with pytest.raises(ProtocolError, match=words):
        parse_request(data)


FILTERS = [
    Filter.wql("SELECT * FROM Msvm_ComputerSystem WHERE ElementName = 'a<b>&c'"),
    Filter.selector({"Name": "VM-1", "CreationClassName": "Msvm_ComputerSystem"}),
    Filter.associators(
        EPR.make(CS, {"Name": "VM-1"}),
        association_class="Msvm_SettingsDefineState",
        result_class="Msvm_VirtualSystemSettingData",
        role="ManagedElement",
        result_role="SettingData",
    ),
    Filter.references(EPR.make(CS, {"Name": "VM-1"}), result_class="Msvm_SystemDevice"),
]


@pytest.mark.parametrize("filt", [*FILTERS, None], ids=["wql", "selector", "assoc", "refs", "none"])
@pytest.mark.parametrize("mode", list(EnumerationMode), ids=lambda m: m.name)
@pytest.mark.parametrize("optimize", [True, False], ids=["optimized", "plain"])
def test_enumerate_request_round_trip(
    filt: Filter | None, mode: EnumerationMode, optimize: bool
) -> None:
    data = build_enumerate(
        wildcard_uri(NAMESPACE_V2),
        options=OPTS,
        filter=filt,
        mode=mode,
        optimize=optimize,
        max_elements=17,
    )
    req = parse_request(data)
    assert req.action == Action.ENUMERATE
    got = parse_enumerate_request(req)
    assert got.filter == filt
    assert got.mode is mode
    assert got.optimize is optimize
    assert got.max_elements == (17 if optimize else None)


def test_pull_and_release_requests() -> None:
    assert parse_pull_request(parse_request(build_pull(CS, "ctx-1", options=OPTS, max_elements=9)))
    assert parse_pull_request(
        parse_request(build_pull(CS, "ctx-1", options=OPTS, max_elements=9))
    ) == ("ctx-1", 9)
    assert parse_release_request(parse_request(build_release(CS, "ctx-2", options=OPTS))) == (
        "ctx-2"
    )
    with pytest.raises(ProtocolError, match="expected n:Pull"):
        parse_pull_request(parse_request(build_release(CS, "ctx-2", options=OPTS)))
    with pytest.raises(ProtocolError, match="expected n:Release"):
        parse_release_request(parse_request(build_get(CS, options=OPTS)))
    with pytest.raises(ProtocolError, match="expected n:Enumerate"):
        parse_enumerate_request(parse_request(build_get(CS, options=OPTS)))


def test_invoke_request_golden_with_cdata_and_escaped_text() -> None:
    # The reference carries one CIM-XML parameter in CDATA (libvirt) and one escaped (lxml).
    req = parse_request((GOLDEN / "invoke_complex.xml").read_bytes())
    method, args = parse_invoke_request(req)
    assert method == "AddResourceSettings"
    assert args == {
        "AffectedConfiguration": EPR.make(
            resource_uri(NAMESPACE_V2, "Msvm_VirtualSystemSettingData"),
            {"InstanceID": "Microsoft:6A6F1D5C-0D3E-4C4B-9E3A-2B1C0D9E8F7A"},
        ),
        "ResourceSettings": [
            EmbeddedInstance(
                "Msvm_StorageAllocationSettingData",
                {
                    "ResourceType": (CimType.UINT16, 31),
                    "HostResource": (CimType.STRING, ["C:\\VMs\\a&b.vhdx"]),
                    "Address": (CimType.STRING, None),
                },
            ),
            EmbeddedInstance("Msvm_ProcessorSettingData", {"VirtualQuantity": (CimType.UINT64, 4)}),
        ],
        "Force": "false",
        "Timeout": "30",
        "Reason": None,
        "Codes": ["1", "100"],
        "Since": CimDateTime(text="2024-03-01T08:00:00.500000Z", kind="Datetime"),
    }


@pytest.mark.parametrize(
    "wrapped",
    [
        # libvirt's way: CDATA.  "]]>" in the value is "]]&gt;" in CIM-XML, so it cannot end
        # the section early; a CDATA section of the CIM-XML text is split around it anyway.
        '<![CDATA[<INSTANCE CLASSNAME="Msvm_VirtualSystemSettingData"><PROPERTY NAME="Notes" '
        'TYPE="string"><VALUE>a]]]]><![CDATA[&gt;b &amp; c</VALUE></PROPERTY></INSTANCE>]]>',
        # lxml's way: escaped text.
        '&lt;INSTANCE CLASSNAME="Msvm_VirtualSystemSettingData"&gt;&lt;PROPERTY NAME="Notes" '
        'TYPE="string"&gt;&lt;VALUE&gt;a]]&amp;gt;b &amp;amp; c&lt;/VALUE&gt;&lt;/PROPERTY&gt;'
        "&lt;/INSTANCE&gt;",
    ],
    ids=["cdata", "escaped"],
)
def test_invoke_request_embedded_instance_encodings(wrapped: str) -> None:
    body = (
        f'<p:DefineSystem_INPUT xmlns:p="{VSMS}"><p:SystemSettings>{wrapped}'
        "</p:SystemSettings></p:DefineSystem_INPUT>"
    )
    data = build_request(f"{VSMS}/DefineSystem", VSMS, options=OPTS, body=body)
    method, args = parse_invoke_request(parse_request(data))
    assert method == "DefineSystem"
    settings = args["SystemSettings"]
    assert isinstance(settings, EmbeddedInstance)
    assert settings.class_name == "Msvm_VirtualSystemSettingData"
    assert settings.value("Notes") == "a]]>b & c"


def test_invoke_request_bad_cimxml_is_a_protocol_error() -> None:
    body = (
        f'<p:DefineSystem_INPUT xmlns:p="{VSMS}"><p:SystemSettings>&lt;INSTANCE CLASSNAME="X"&gt;'
        "&lt;PROPERTY NAME='n' TYPE='uint8'&gt;&lt;VALUE&gt;300&lt;/VALUE&gt;&lt;/PROPERTY&gt;"
        "&lt;/INSTANCE&gt;</p:SystemSettings></p:DefineSystem_INPUT>"
    )
    data = build_request(f"{VSMS}/DefineSystem", VSMS, options=OPTS, body=body)
    with pytest.raises(ProtocolError, match="uint8"):
        parse_invoke_request(parse_request(data))


def test_invoke_request_mismatched_action() -> None:
    data = build_invoke(CS, "RequestStateChange", options=OPTS, params={"RequestedState": 2})
    tampered = data.replace(b"/RequestStateChange</a:Action>", b"/Start</a:Action>")
    with pytest.raises(ProtocolError, match="does not name method 'RequestStateChange'"):
        parse_invoke_request(parse_request(tampered))
    with pytest.raises(ProtocolError, match="_INPUT"):
        parse_invoke_request(parse_request(build_release(CS, "c", options=OPTS)))


def test_invoke_response_round_trip() -> None:
    job = EPR.make(resource_uri(NAMESPACE_V2, "Msvm_ConcreteJob"), {"InstanceID": "J-1"})
    rasd = [EPR.make(VSSD, {"InstanceID": f"R-{i}"}) for i in range(3)]
    si = CimInstance.from_values(
        "Msvm_SummaryInformation",
        resource_uri(NAMESPACE_V2, "Msvm_SummaryInformation"),
        {"Name": "VM-1", "EnabledState": 2, "Snapshots": None},
    )
    data = build_invoke_response(
        VSMS,
        "DefineSystem",
        return_value=4096,
        outputs={
            "Job": job,
            "ResultingResourceSettings": rasd,
            "ImageData": [0, 255, 7],
            "Ok": True,
            "Note": None,
            "Since": CimDateTime.of(datetime(2024, 1, 1, tzinfo=UTC)),
            "SummaryInformation": [si, si],
        },
        relates_to="uuid:R",
    )
    resp = parse_response(data)
    assert resp.action == f"{VSMS}/DefineSystemResponse"
    assert resp.relates_to == "uuid:R"
    result = parse_invoke(resp, "DefineSystem")
    assert result.return_value == 4096
    assert result.job == job
    assert result.outputs == {
        "Job": job,
        "ResultingResourceSettings": rasd,
        "ImageData": ["0", "255", "7"],
        "Ok": "true",
        "Note": None,
        "Since": CimDateTime(text="2024-01-01T00:00:00Z", kind="Datetime"),
        "SummaryInformation": [si, si],
    }
    with pytest.raises(TypeError):
        build_invoke_response(VSMS, "X", return_value=0, outputs={"bad": object()})


FAULT_CASES = [
    ("Sender", "AccessDenied", 5, AccessDenied, None, None, None),
    ("Sender", "InvalidSelectors", 2150858843, InvalidSelectors, None, None, None),
    ("Sender", "CannotProcessFilter", 2150858778, CannotProcessFilter, None, None, None),
    (
        "Receiver",
        "InvalidEnumerationContext",
        2150858779,
        InvalidEnumerationContext,
        None,
        None,
        None,
    ),
    ("Sender", "DestinationUnreachable", 2150858752, DestinationUnreachable, None, None, None),
    (
        "Sender",
        "InvalidMessageInformationHeader",
        2150858767,
        InvalidMessageInformationHeader,
        None,
        None,
        None,
    ),
    ("Sender", "ActionNotSupported", 2150858771, ActionNotSupported, None, None, None),
    (
        "Sender",
        "InvalidParameter",
        87,
        InvalidParameter,
        "WMI Provider",
        "%systemroot%\\system32\\WsmWmiPl.dll",
        None,
    ),
    (
        "Sender",
        "InvalidSelectors",
        2150859002,
        InvalidSelectors,
        "WMIv1 plugin",
        "%systemroot%\\system32\\WsmWmiPl.dll",
        "keys must be provided",
    ),
    ("Receiver", "SomethingNew", 1234, WSManFault, None, None, None),
]


@pytest.mark.parametrize(
    ("code", "subcode", "wsman_code", "cls", "provider", "path", "inner"), FAULT_CASES
)
def test_build_fault_parses_back(
    code: str,
    subcode: str,
    wsman_code: int,
    cls: type[WSManFault],
    provider: str | None,
    path: str | None,
    inner: str | None,
) -> None:
    data = build_fault(
        code=code,
        subcode=subcode,
        reason=f"reason for {subcode}",
        wsman_code=wsman_code,
        machine="hv07.example.com",
        fault_detail="http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/InvalidValue",
        relates_to="uuid:REQ",
        provider=provider,
        provider_path=path,
        inner_message=inner,
    )
    root = etree.fromstring(data)
    # The Action follows the subcode's family, as Windows sends it
    # (tests/data/wsman-samples/real/pypsrp/fault_addressing_invalid_header_timeout.xml).
    family = _SUBCODE_FAMILY.get(subcode, "w")
    expected_action = {
        "a": Action.ADDRESSING_FAULT,
        "n": Action.ENUMERATION_FAULT,
        "w": Action.FAULT,
    }[family]
    assert root.findtext(f".//{{{NS['a']}}}Action") == expected_action
    assert err_action(data) == expected_action
    with pytest.raises(WSManFault) as info:
        parse_response(data)
    err = info.value
    assert type(err) is cls
    assert (err.code, err.subcode, err.reason) == (code, subcode, f"reason for {subcode}")
    assert err.wsman_code == wsman_code
    assert err.machine == "hv07.example.com"
    assert err.fault_detail == (
        "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/InvalidValue"
    )
    assert err.provider == provider
    assert err.provider_path == path
    if inner is not None:
        assert err.provider_fault == inner
    elif provider is not None:
        assert err.provider_fault == f"reason for {subcode}"
    else:
        assert err.provider_fault is None
    # The subcode QName uses the right namespace prefix, declared on the envelope.
    value = root.find(f".//{{{NS['s']}}}Subcode/{{{NS['s']}}}Value")
    assert value is not None and value.text is not None
    prefix = value.text.partition(":")[0]
    assert value.nsmap[prefix] == NS[family]


_SUBCODE_FAMILY = {
    "CannotProcessFilter": "n",
    "InvalidEnumerationContext": "n",
    "DestinationUnreachable": "a",
    "InvalidMessageInformationHeader": "a",
    "ActionNotSupported": "a",
}


def err_action(data: bytes) -> str | None:
    with pytest.raises(WSManFault) as info:
        parse_response(data)
    return info.value.action


def test_build_fault_keeps_an_explicit_prefix() -> None:
    data = build_fault(
        code="Sender", subcode="w:CannotProcessFilter", reason="r", wsman_code=1, machine="m"
    )
    assert err_action(data) == Action.FAULT


def test_build_fault_rejects_bad_code() -> None:
    with pytest.raises(ValueError, match="Sender or Receiver"):
        build_fault(code="Client", subcode="X", reason="r", wsman_code=1, machine="m")


def test_identify_round_trip() -> None:
    data = build_identify_response(product_version="OS: 10.0.17763 SP: 0.0 Stack: 3.0")
    assert parse_identify(parse_response(data)) == {
        "ProtocolVersion": NS["w"],
        "ProductVendor": "Microsoft Corporation",
        "ProductVersion": "OS: 10.0.17763 SP: 0.0 Stack: 3.0",
        "SecurityProfiles": (
            "http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/http/spnego-kerberos"
        ),
    }


def test_build_response_bodies() -> None:
    inst = CimInstance.from_values("Msvm_ComputerSystem", CS, {"Name": "x"})
    single = parse_response(
        build_response(Action.GET_RESPONSE, relates_to="uuid:1", body=serialize_instance(inst))
    )
    assert single.action == Action.GET_RESPONSE and single.relates_to == "uuid:1"
    assert single.body is not None and str(single.body.tag) == f"{{{CS}}}Msvm_ComputerSystem"
    empty = parse_response(build_response(Action.DELETE_RESPONSE, relates_to=None, body=None))
    assert empty.body is None and empty.relates_to is None
    assert empty.message_id is not None and empty.message_id.startswith("uuid:")
    text = parse_response(build_response("urn:x", relates_to=None, body="<x:A xmlns:x='urn:x'/>"))
    assert text.body is not None and text.body.tag == "{urn:x}A"
