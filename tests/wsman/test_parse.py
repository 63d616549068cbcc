"""Response parsing against hand-written fixtures in Windows' shape (tests/data/responses)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from aiohyperv._exceptions import ProtocolError
from aiohyperv.cim import ANONYMOUS, EPR, CimDateTime, CimInstance, CimType
from aiohyperv.wsman import (
    NAMESPACE_V2,
    Action,
    parse_enumerate,
    parse_identify,
    parse_invoke,
    parse_response,
    resource_uri,
)

from .files import response

CS = resource_uri(NAMESPACE_V2, "Msvm_ComputerSystem")
VSSD = resource_uri(NAMESPACE_V2, "Msvm_VirtualSystemSettingData")
VSMS = resource_uri(NAMESPACE_V2, "Msvm_VirtualSystemManagementService")
SASD = resource_uri(NAMESPACE_V2, "Msvm_StorageAllocationSettingData")
VM = "6A6F1D5C-0D3E-4C4B-9E3A-2B1C0D9E8F7A"


def test_optimized_enumerate_response() -> None:
    resp = parse_response(response("enumerate_optimized.xml"))
    assert resp.action == Action.ENUMERATE_RESPONSE
    assert resp.message_id == "uuid:1B1E4C5A-0001-4000-8000-000000000001"
    assert resp.relates_to == "uuid:0D2A4C13-5E0B-4B5B-8E60-6C5F4A0E1A01"
    batch = parse_enumerate(resp)
    assert batch.context == "uuid:4C5C9C4E-1E3B-4C55-A3A8-6B3E1A5D2F10"
    assert batch.end_of_sequence is False
    assert len(batch.items) == 2
    vm, host = batch.items
    assert isinstance(vm, CimInstance) and isinstance(host, CimInstance)
    # Items carry the class URI even though the enumeration used the '*' URI.
    assert (vm.class_name, vm.resource_uri) == ("Msvm_ComputerSystem", CS)
    assert vm.properties == {
        "Caption": "Virtual Machine",
        "Dedicated": "0",
        "Description": "Microsoft Virtual Machine",
        "ElementName": 'web01 & "db"',
        "EnabledState": "2",
        "HealthState": "5",
        "InstallDate": CimDateTime(text="2024-01-31T08:07:00.123456-08:00", kind="Datetime"),
        "Name": VM,
        "OnTimeInMilliseconds": "86400000",
        "OperationalStatus": ["2", "32782"],
        "OtherEnabledState": None,
        "ProcessID": "4242",
        "StatusDescriptions": ["Operating normally", "Backing up"],
        "Notes": "",
    }
    assert vm.get_int_list("OperationalStatus") == [2, 32782]
    assert vm.get_int_list("Dedicated") == [0]  # one element: still a list when asked
    # A NULL array is absent, as Windows sends it: every reader gives an empty list.
    assert "AvailableRequestedStates" not in vm
    assert vm.get_list("AvailableRequestedStates") == []
    assert vm.get_int_list("AvailableRequestedStates") == []
    assert vm.typed("AvailableRequestedStates", CimType.UINT16, array=True) == []
    assert vm.get_epr_list("AvailableRequestedStates") == []
    assert vm.get_datetime("InstallDate") == datetime(
        2024, 1, 31, 8, 7, 0, 123456, tzinfo=timezone(timedelta(hours=-8))
    )
    assert host.properties == {
        "Description": "Microsoft Hosting Computer System",
        "ElementName": "HV01",
        "EnabledState": "2",
        "Name": "HV01",
        "ProcessID": None,
        "TimeOfLastStateChange": CimDateTime(text="1601-01-01T00:00:00Z", kind="Datetime"),
    }
    assert host.get_int("ProcessID") is None
    # "Never" is not a time: the typed readers give None, as for NULL.
    assert host.get_datetime("TimeOfLastStateChange") is None
    assert host.typed("TimeOfLastStateChange", CimType.DATETIME) is None
    raw = host["TimeOfLastStateChange"]
    assert isinstance(raw, CimDateTime) and raw.is_never


def test_last_pull_response_pretty_printed() -> None:
    batch = parse_enumerate(parse_response(response("pull_end.xml")))
    assert batch.end_of_sequence is True
    assert batch.context is None
    (job,) = batch.items
    assert isinstance(job, CimInstance)
    assert job.class_name == "Msvm_ConcreteJob"
    assert job.properties == {
        "ElapsedTime": CimDateTime(text="P0DT0H1M40.5S", kind="Interval"),
        "ErrorCode": "0",
        "InstanceID": "7C1A3B5D-2E4F-4A6B-8C9D-0E1F2A3B4C5D",
        "JobState": "7",
        "PercentComplete": "100",
        "TimeSubmitted": CimDateTime(text="2024-03-01T08:00:00Z", kind="Datetime"),
        "Owner": "   ",  # whitespace-only text with no children is a value, kept as is
    }
    assert job.get_interval("ElapsedTime") == timedelta(minutes=1, seconds=40.5)
    assert job.get_datetime("TimeSubmitted") == datetime(2024, 3, 1, 8, tzinfo=UTC)


def test_epr_mode_single_batch() -> None:
    batch = parse_enumerate(parse_response(response("enumerate_epr.xml")))
    assert batch.end_of_sequence is True  # w:EndOfSequence in an EnumerateResponse
    assert batch.context is None  # the empty context element counts as none
    assert batch.items == [
        EPR.make(VSSD, {"InstanceID": f"Microsoft:{VM}"}),
        EPR.make(CS, {"Name": VM, "CreationClassName": "Msvm_ComputerSystem"}),
    ]
    second = batch.items[1]
    assert isinstance(second, EPR)
    # Selectors are sorted whatever the wire order was, so EPRs compare and hash as values.
    assert second.selectors == (("CreationClassName", "Msvm_ComputerSystem"), ("Name", VM))
    assert second.address == ANONYMOUS


def test_object_and_epr_items() -> None:
    batch = parse_enumerate(parse_response(response("pull_object_and_epr.xml")))
    assert batch.context == "uuid:4C5C9C4E-1E3B-4C55-A3A8-6B3E1A5D2F11"
    assert not batch.end_of_sequence
    (item,) = batch.items
    assert isinstance(item, CimInstance)
    assert item.class_name == "Msvm_VirtualSystemSettingData"
    assert item.properties == {
        "ElementName": "web01",
        "InstanceID": f"Microsoft:{VM}",
        "Notes": "line one",
    }
    assert item.epr == EPR.make(VSSD, {"InstanceID": f"Microsoft:{VM}"})


def test_projection_fragment() -> None:
    batch = parse_enumerate(parse_response(response("pull_fragment.xml")))
    (item,) = batch.items
    assert isinstance(item, CimInstance)
    assert item.class_name == ""
    assert item.resource_uri is None
    assert item.properties == {
        "Name": VM,
        "ElementName": "web01",
        "InstallDate": CimDateTime(text="2013-04-09T15:42:20.4124Z", kind="Datetime"),
    }
    assert item.get_datetime("InstallDate") == datetime(2013, 4, 9, 15, 42, 20, 412400, tzinfo=UTC)


def test_invoke_output_epr_array_and_nil_job() -> None:
    result = parse_invoke(
        parse_response(response("invoke_add_resource_settings.xml")), "AddResourceSettings"
    )
    assert result.return_value == 0
    assert result.job is None
    assert result.resource_uri == VSMS
    disks = [
        EPR.make(
            SASD,
            {"InstanceID": f"Microsoft:6A6F1D5C\\83F8638B-8DCA-4152-9EDA-2CA8B33039B4\\0\\{n}\\L"},
        )
        for n in (0, 1)
    ]
    assert result.outputs == {"Job": None, "ResultingResourceSettings": disks}
    assert result.as_instance().get_epr_list("ResultingResourceSettings") == disks


def test_invoke_output_uint8_array() -> None:
    resp = parse_response(response("invoke_thumbnail.xml"))
    result = parse_invoke(resp, "GetVirtualSystemThumbnailImage")
    assert result.return_value == 0
    assert result.outputs == {"ImageData": ["0", "248", "31", "255"]}
    assert result.as_instance().get_int_list("ImageData") == [0, 248, 31, 255]
    assert bytes(result.as_instance().get_int_list("ImageData")) == b"\x00\xf8\x1f\xff"


def test_invoke_output_embedded_objects() -> None:
    result = parse_invoke(parse_response(response("invoke_summary.xml")), "GetSummaryInformation")
    assert result.return_value == 0
    summaries = result.outputs["SummaryInformation"]
    assert isinstance(summaries, list)
    si = resource_uri(NAMESPACE_V2, "Msvm_SummaryInformation")
    assert summaries == [
        CimInstance(
            "Msvm_SummaryInformation",
            si,
            {"ElementName": "web01", "EnabledState": "2", "Name": VM},
        ),
        CimInstance(
            "Msvm_SummaryInformation",
            si,
            {
                "ElementName": "db01",
                "EnabledState": "3",
                "Name": "0B6E7A52-1111-4A4A-9C9C-DEADBEEF0001",
            },
        ),
    ]


def test_identify_response() -> None:
    resp = parse_response(response("identify_response.xml"))
    assert resp.action is None and resp.message_id is None
    assert parse_identify(resp) == {
        "ProtocolVersion": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
        "ProductVendor": "Microsoft Corporation",
        "ProductVersion": "OS: 0.0.0 SP: 0.0 Stack: 3.0",
        "SecurityProfiles": (
            "http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/http/spnego-kerberos"
        ),
    }
    with pytest.raises(ProtocolError, match="expected IdentifyResponse"):
        parse_identify(parse_response(response("pull_end.xml")))


def test_comments_before_body_content_are_skipped() -> None:
    data = (
        b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><!-- c --><s:Body>'
        b'<!-- c --><p:X xmlns:p="urn:p/X"><!-- c --><p:A>1</p:A></p:X></s:Body></s:Envelope>'
    )
    resp = parse_response(data)
    assert resp.body is not None
    assert str(resp.body.tag) == "{urn:p/X}X"


def test_association_epr_with_reference_selectors() -> None:
    # Association classes are keyed by references: the selector holds a nested EPR, which is
    # kept as a WMI object path.
    data = f"""<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"
 xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"
 xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration"
 xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"><s:Body><n:PullResponse><n:Items>
<a:EndpointReference><a:Address>{ANONYMOUS}</a:Address><a:ReferenceParameters>
<w:ResourceURI>{resource_uri(NAMESPACE_V2, "Msvm_SettingsDefineState")}</w:ResourceURI>
<w:SelectorSet>
<w:Selector Name="ManagedElement"><a:EndpointReference><a:Address>{ANONYMOUS}</a:Address>
<a:ReferenceParameters><w:ResourceURI>{CS}</w:ResourceURI><w:SelectorSet>
<w:Selector Name="Name">{VM}</w:Selector>
<w:Selector Name="CreationClassName">Msvm_ComputerSystem</w:Selector>
<w:Selector Name="__cimnamespace">root/virtualization/v2</w:Selector>
</w:SelectorSet></a:ReferenceParameters></a:EndpointReference></w:Selector>
<w:Selector Name="SettingData"><a:EndpointReference><a:Address>{ANONYMOUS}</a:Address>
<a:ReferenceParameters><w:ResourceURI>{VSSD}</w:ResourceURI><w:SelectorSet>
<w:Selector Name="InstanceID">Microsoft:{VM}\\"x"</w:Selector>
</w:SelectorSet></a:ReferenceParameters></a:EndpointReference></w:Selector>
</w:SelectorSet></a:ReferenceParameters></a:EndpointReference>
</n:Items><n:EndOfSequence/></n:PullResponse></s:Body></s:Envelope>"""
    (epr,) = parse_enumerate(parse_response(data.encode())).items
    assert isinstance(epr, EPR)
    assert epr.class_name == "Msvm_SettingsDefineState"
    assert epr.selectors == (
        (
            "ManagedElement",
            f'root/virtualization/v2:Msvm_ComputerSystem.CreationClassName="Msvm_ComputerSystem",'
            f'Name="{VM}"',
        ),
        (
            "SettingData",
            f'root/virtualization/v2:Msvm_VirtualSystemSettingData.InstanceID="Microsoft:{VM}\\\\\\"x\\""',
        ),
    )
