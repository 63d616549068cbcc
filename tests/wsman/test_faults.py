"""The fault shapes Windows sends beyond the recorded ones: each raises the class its subcode names.

The envelopes are in ``tests/data/responses/fault_*.xml``; each file's comment says where its
shape comes from.  Every field of the parsed fault is asserted.
"""

from __future__ import annotations

import pickle

import pytest

import aiohyperv
from aiohyperv import (
    CannotProcessFilter,
    ConcurrencyLimit,
    DestinationUnreachable,
    InternalError,
    NotFound,
    OperationQuotaExceeded,
    WSManFault,
)
from aiohyperv.wsman import parse_response

from .files import response

ADDRESSING_FAULT = "http://schemas.xmlsoap.org/ws/2004/08/addressing/fault"
ENUMERATION_FAULT = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/fault"
WSMAN_FAULT = "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault"
QUOTA_TEXT = (
    "The WS-Management service cannot process the request. This user is allowed a maximum"
    " number of 1500 concurrent operations, which has been exceeded."
)


def _raised(name: str) -> WSManFault:
    with pytest.raises(WSManFault) as info:
        parse_response(response(name))
    return info.value


def test_get_of_a_missing_instance_is_not_found() -> None:
    fault = _raised("fault_get_missing_instance.xml")
    assert type(fault) is DestinationUnreachable
    assert isinstance(fault, aiohyperv.NotFound)
    assert isinstance(fault, LookupError)
    assert (fault.code, fault.subcode) == ("Sender", "DestinationUnreachable")
    assert fault.action == ADDRESSING_FAULT
    assert fault.wsman_code == 2150858752
    assert fault.machine == "hv01.example.test"
    assert fault.fault_detail == (
        "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/InvalidResourceURI"
    )
    assert fault.reason == (
        "The WS-Management service cannot process the request because the resource URI or the"
        " selectors do not identify a resource."
    )
    assert fault.detail_message == (
        "The WS-Management service cannot process the request. The service cannot find the"
        " resource identified by the resource URI and selectors."
    )
    assert fault.provider is None and fault.provider_fault is None
    assert fault.error_type is None and fault.windows_error_message is None


def test_catching_not_found_catches_a_missing_instance() -> None:
    with pytest.raises(NotFound):
        parse_response(response("fault_get_missing_instance.xml"))


def test_wql_on_a_missing_class_cannot_process_filter() -> None:
    fault = _raised("fault_wql_unknown_class.xml")
    assert type(fault) is CannotProcessFilter
    assert not isinstance(fault, NotFound)
    assert (fault.code, fault.subcode) == ("Sender", "CannotProcessFilter")
    assert fault.action == ENUMERATION_FAULT
    assert fault.wsman_code == 2150858778
    assert fault.machine == "hv01.example.test"
    assert fault.fault_detail is None
    assert fault.provider == "WMI Provider"
    assert fault.provider_path == "%systemroot%\\system32\\WsmWmiPl.dll"
    assert fault.provider_fault == "Invalid class"
    assert str(fault) == "WS-Management fault CannotProcessFilter (0x8033801a): Invalid class"


def test_concurrent_operations_quota_is_a_concurrency_limit() -> None:
    fault = _raised("fault_quota_max_operations.xml")
    assert type(fault) is OperationQuotaExceeded
    assert isinstance(fault, ConcurrencyLimit)
    assert isinstance(fault, InternalError)  # what its subcode says
    assert (fault.code, fault.subcode) == ("Receiver", "InternalError")
    assert fault.action == WSMAN_FAULT
    assert fault.wsman_code == 2150859174
    assert fault.machine == "hv01.example.test"
    assert fault.reason == (
        f"{QUOTA_TEXT} Close existing operations for this user, or raise the quota for this user."
    )
    assert fault.detail_message == fault.reason


def test_msft_wmierror_detail_gives_the_code_fields() -> None:
    fault = _raised("fault_msft_wmierror.xml")
    assert type(fault) is OperationQuotaExceeded  # error_Code 2150859174 under w:InternalError
    assert (fault.code, fault.subcode) == ("Receiver", "InternalError")
    assert fault.wsman_code == 2150859174
    assert fault.detail_message == QUOTA_TEXT
    assert fault.error_type == "HRESULT"
    assert fault.windows_error_message == QUOTA_TEXT
    assert fault.reason == QUOTA_TEXT
    assert fault.machine is None  # MSFT_WmiError does not name the machine
    assert fault.provider is None and fault.provider_fault is None
    assert fault.fault_detail is None
    assert str(fault) == f"WS-Management fault InternalError (0x803381a6): {QUOTA_TEXT}"


def test_msft_wmierror_without_a_known_code_keeps_the_subcode_class() -> None:
    data = response("fault_msft_wmierror.xml").replace(b">2150859174<", b">2147749889<")
    with pytest.raises(InternalError) as info:
        parse_response(data)
    assert type(info.value) is InternalError
    assert info.value.wsman_code == 2147749889


def test_fault_fields_survive_pickling() -> None:
    fault = _raised("fault_msft_wmierror.xml")
    copy = pickle.loads(pickle.dumps(fault))
    assert type(copy) is OperationQuotaExceeded
    assert vars(copy) == vars(fault)
    assert str(copy) == str(fault)
