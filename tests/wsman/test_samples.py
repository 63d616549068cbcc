"""Every recorded Windows sample in tests/data/wsman-samples parses into the right fields."""

from __future__ import annotations

import pytest
from lxml import etree

from aiohyperv._exceptions import (
    InternalError,
    InvalidParameter,
    InvalidSelectors,
    OperationTimedOut,
    WSManFault,
)
from aiohyperv.cim import ANONYMOUS, EPR, CimInstance
from aiohyperv.wsman import (
    Action,
    parse_fault,
    parse_get,
    parse_invoke,
    parse_response,
)

from .files import SAMPLES, sample

CIMV2 = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2"
V2 = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/virtualization/v2"


def test_every_sample_is_covered() -> None:
    names = sorted(p.name for p in SAMPLES.glob("*.xml"))
    assert names == [
        "01_get_response_win32_logicaldisk_windows.xml",
        "02_fault_operation_timeout_windows.xml",
        "03_fault_invalid_parameter_providerfault.xml",
        "04_fault_wmi_plugin_nested_providerfault.xml",
        "05_fault_hyperv_internalerror_virtwho.xml",
        "06_invoke_requeststatechange_RECONSTRUCTED.xml",
    ]


def test_01_get_response_every_field() -> None:
    resp = parse_response(sample("01_get_response_win32_logicaldisk_windows.xml"))
    assert resp.action == Action.GET_RESPONSE
    assert resp.message_id == "uuid:9EA87B97-CAC9-4C2E-9F13-36E0A62AF3EF"
    assert resp.relates_to == "uuid:4ED2993C-4339-4E99-81FC-C2FD3812781A"
    inst = parse_get(resp)
    assert isinstance(inst, CimInstance)
    assert inst.class_name == "Win32_LogicalDisk"
    # The instance namespace is the class URI, re-bound as p: over the envelope's p:.
    assert inst.resource_uri == f"{CIMV2}/Win32_LogicalDisk"
    assert inst.epr is None
    assert inst.properties == {
        "Access": "0",
        "Availability": None,
        "Caption": "c:",
        "Compressed": "false",
        "CreationClassName": "Win32_LogicalDisk",
        "Description": "Local Fixed Disk",
        "DeviceID": "c:",
        "DriveType": "3",
        "FileSystem": "NTFS",
        "FreeSpace": "840649814016",
        "MediaType": "12",
        "Name": "c:",
        "Size": "999650488320",
        "SystemCreationClassName": "Win32_ComputerSystem",
        "SystemName": "HYPERB",
        "VolumeName": "",
        "VolumeSerialNumber": "ECA22F4F",
    }
    assert list(inst) == list(inst.properties)  # wire order kept
    assert inst.get_int("FreeSpace") == 840649814016
    assert inst.get_int("Size") == 999650488320
    assert inst.get_bool("Compressed") is False
    assert inst.get_int("Availability") is None
    assert inst.get_str("VolumeName") == ""


# (file, class, code, subcode, reason, fault_detail, wsman_code, machine, provider,
#  provider_path, provider_fault)
FAULTS = [
    (
        "02_fault_operation_timeout_windows.xml",
        OperationTimedOut,
        "Receiver",
        "TimedOut",
        "The WS-Management service cannot complete the operation within the time specified"
        " in OperationTimeout.",
        None,
        2150858793,
        "192.168.56.11",
        None,
        None,
        None,
    ),
    (
        "03_fault_invalid_parameter_providerfault.xml",
        InvalidParameter,
        "Sender",
        "InvalidParameter",
        "The parameter is incorrect.",
        "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/InvalidValue",
        87,
        "SERVER2016.domain.local",
        "Shell cmd plugin",
        "%systemroot%\\system32\\winrscmd.dll",
        "The parameter is incorrect.",
    ),
    (
        "05_fault_hyperv_internalerror_virtwho.xml",
        InternalError,
        "Receiver",
        "InternalError",
        "An internal error occurred.",
        None,
        None,
        None,
        None,
        None,
        None,
    ),
]


@pytest.mark.parametrize(
    (
        "name",
        "cls",
        "code",
        "subcode",
        "reason",
        "detail",
        "wsman_code",
        "machine",
        "provider",
        "path",
        "provider_fault",
    ),
    FAULTS,
    ids=[row[0][:2] for row in FAULTS],
)
def test_fault_samples_every_field(
    name: str,
    cls: type[WSManFault],
    code: str,
    subcode: str,
    reason: str,
    detail: str | None,
    wsman_code: int | None,
    machine: str | None,
    provider: str | None,
    path: str | None,
    provider_fault: str | None,
) -> None:
    data = sample(name)
    with pytest.raises(WSManFault) as info:
        parse_response(data)
    err = info.value
    assert type(err) is cls
    assert err.code == code
    assert err.subcode == subcode
    assert err.reason == reason
    assert err.fault_detail == detail
    assert err.wsman_code == wsman_code
    assert err.machine == machine
    assert err.provider == provider
    assert err.provider_path == path
    assert err.provider_fault == provider_fault
    assert err.host is None  # the transport attaches it
    # The message names the subcode and says what happened.
    assert subcode in str(err)
    assert (provider_fault or reason) in str(err)
    # parse_fault is pure and gives an equal result from the envelope root.
    again = parse_fault(etree.fromstring(data))
    assert type(again) is cls
    assert again.message == err.message


def test_02_timeout_message_shows_code_in_hex() -> None:
    with pytest.raises(OperationTimedOut, match=r"TimedOut \(0x80338029\)"):
        parse_response(sample("02_fault_operation_timeout_windows.xml"))


def test_04_nested_wmi_provider_fault_innermost_message_wins() -> None:
    root = etree.fromstring(sample("04_fault_wmi_plugin_nested_providerfault.xml"))
    err = parse_fault(root)
    # 0x803380FA "not a singleton, keys must be provided" -> InvalidSelectors
    assert type(err) is InvalidSelectors
    assert err.wsman_code == 2150859002
    assert err.machine == "Server1"  # the outer fault's machine, not the inner ""
    assert err.provider == "WMIv1 plugin for Windows Remote Management"
    assert err.provider_path == "%systemroot%\\system32\\WsmWmiPl.dll"
    assert err.provider_fault is not None
    assert err.provider_fault.startswith("The WinRM client cannot process the request.")
    assert err.provider_fault.endswith('"winrm help uris".')
    assert err.code is None and err.subcode is None and err.reason is None
    assert err.fault_detail is None
    assert "0x803380fa" in str(err)


def test_04_nested_fault_inside_a_full_envelope() -> None:
    detail = sample("04_fault_wmi_plugin_nested_providerfault.xml").decode()
    detail = detail[detail.index("<f:WSManFault", detail.index("-->")) :]
    envelope = (
        '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"'
        ' xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"><s:Header/><s:Body>'
        "<s:Fault><s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value>w:InvalidSelectors"
        '</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang="en-US">bad keys'
        f"</s:Text></s:Reason><s:Detail>{detail}</s:Detail></s:Fault></s:Body></s:Envelope>"
    )
    with pytest.raises(InvalidSelectors) as info:
        parse_response(envelope.encode())
    assert info.value.subcode == "InvalidSelectors"
    assert info.value.reason == "bad keys"
    assert info.value.wsman_code == 2150859002
    assert info.value.provider_fault is not None
    assert "not a singleton" in info.value.provider_fault


def test_06_invoke_output_with_job_reference() -> None:
    resp = parse_response(sample("06_invoke_requeststatechange_RECONSTRUCTED.xml"))
    assert resp.action == f"{V2}/Msvm_ComputerSystem/RequestStateChangeResponse"
    assert resp.message_id == "uuid:0B5C6A9E-3D2F-4F7A-9C11-2E8D4A7B9F01"
    assert resp.relates_to == "uuid:6F1E2D3C-4B5A-6978-8A9B-0C1D2E3F4A5B"
    result = parse_invoke(resp, "RequestStateChange")
    assert result.method == "RequestStateChange"
    assert result.return_value == 4096
    assert result.resource_uri == f"{V2}/Msvm_ComputerSystem"
    job = EPR.make(
        f"{V2}/Msvm_ConcreteJob",
        {
            "InstanceID": "7C1A3B5D-2E4F-4A6B-8C9D-0E1F2A3B4C5D",
            "__cimnamespace": "root/virtualization/v2",
        },
    )
    assert result.job == job
    assert result.outputs == {"Job": job}
    assert job.address == ANONYMOUS
    assert job.class_name == "Msvm_ConcreteJob"
    assert job.selector("InstanceID") == "7C1A3B5D-2E4F-4A6B-8C9D-0E1F2A3B4C5D"
