"""The exception tree: builtin bases, named fields, host attachment, fault lookup."""

from __future__ import annotations

import pytest

import aiohyperv
from aiohyperv import (
    ActionNotSupported,
    AuthenticationError,
    CannotProcessFilter,
    CimMethodError,
    ConcurrencyExceeded,
    ConcurrencyLimit,
    ConfigError,
    ConnectError,
    DestinationUnreachable,
    HTTPStatusError,
    HyperVError,
    InternalError,
    InvalidEnumerationContext,
    InvalidMessageInformationHeader,
    InvalidSelectors,
    JobFailed,
    NotFound,
    OperationQuotaExceeded,
    OperationTimedOut,
    QuotaLimit,
    TransportTimeout,
    VMNotFound,
    WSManFault,
    WSManFaultCode,
)
from aiohyperv._exceptions import FAULT_CLASSES, SUBCODE_CLASSES, fault_class_for


@pytest.mark.parametrize(
    ("cls", "builtin"),
    [
        (ConfigError, ValueError),
        (ConnectError, OSError),
        (TransportTimeout, TimeoutError),
        (VMNotFound, LookupError),
    ],
)
def test_builtin_bases(cls: type[Exception], builtin: type[Exception]) -> None:
    assert issubclass(cls, builtin)
    assert issubclass(cls, HyperVError)


def test_every_exported_exception_is_rooted() -> None:
    for name in aiohyperv.__all__:
        value = getattr(aiohyperv, name)
        if isinstance(value, type) and issubclass(value, BaseException):
            assert issubclass(value, HyperVError), name


def test_host_is_attached_once() -> None:
    err = HTTPStatusError("service unavailable", status=503)
    assert HTTPStatusError("x", status=500).host is None
    assert err.with_host("hv01:5986") is err
    err.with_host("other:1")
    assert err.host == "hv01:5986"
    assert str(err) == "service unavailable (host hv01:5986)"
    assert err.status == 503


def test_fields_are_keyword_attributes() -> None:
    auth = AuthenticationError("refused", auth_method="basic", host="hv01:5986")
    assert (auth.status, auth.auth_method, auth.host) == (401, "basic", "hv01:5986")
    job = JobFailed("job failed", method="RequestStateChange", job_state=10, error_code=32768)
    assert isinstance(job, CimMethodError)
    assert (job.return_value, job.job_state, job.error_code) == (4096, 10, 32768)


@pytest.mark.parametrize(
    ("code", "subcode", "expected"),
    [
        (2150858793, "TimedOut", OperationTimedOut),
        (None, "TimedOut", OperationTimedOut),
        (2150858843, None, InvalidSelectors),
        (WSManFaultCode.NOT_SINGLETON, None, InvalidSelectors),
        # The subcode decides: a code of another family does not override it.
        (WSManFaultCode.NOT_SINGLETON, "InternalError", InternalError),
        (
            WSManFaultCode.INVALID_MESSAGE_INFORMATION_HEADER,
            "InvalidEnumerationContext",
            InvalidEnumerationContext,
        ),
        (2150858767, "InvalidMessageInformationHeader", InvalidMessageInformationHeader),
        (2150858767, None, InvalidMessageInformationHeader),
        (WSManFaultCode.INVALID_ENUMERATION_CONTEXT, None, InvalidEnumerationContext),
        # ...but may narrow it to a subclass (the concurrent-operations quota).
        (2150859174, "InternalError", OperationQuotaExceeded),
        (2150859174, "QuotaLimit", QuotaLimit),
        (None, "QuotaLimit", QuotaLimit),
        (2150858752, "DestinationUnreachable", DestinationUnreachable),
        (None, "DestinationUnreachable", DestinationUnreachable),
        (2150858778, "CannotProcessFilter", CannotProcessFilter),
        (None, "Concurrency", ConcurrencyExceeded),
        (None, "ActionNotSupported", ActionNotSupported),
        (12345, "SomethingNew", WSManFault),
        (2150858843, "SomethingNew", InvalidSelectors),
        (None, None, WSManFault),
    ],
)
def test_fault_lookup(code: int | None, subcode: str | None, expected: type[WSManFault]) -> None:
    assert fault_class_for(code, subcode) is expected


def test_fault_lookup_is_complete_for_the_subcodes() -> None:
    # Every class in the subcode table is raised for the subcode it names (OperationTimedOut
    # for w:TimedOut, ConcurrencyExceeded for w:Concurrency), and every one is exported.
    renamed = {"TimedOut": "OperationTimedOut", "Concurrency": "ConcurrencyExceeded"}
    for subcode, cls in SUBCODE_CLASSES.items():
        assert cls.__name__ == renamed.get(subcode, subcode)
        assert fault_class_for(None, subcode) is cls
        assert getattr(aiohyperv, cls.__name__) is cls


def test_fault_codes_point_at_fault_classes() -> None:
    for code, cls in FAULT_CLASSES.items():
        assert issubclass(cls, WSManFault), code
        assert fault_class_for(code, None) is cls


def test_not_found_and_quota_faults_are_catchable_both_ways() -> None:
    missing = DestinationUnreachable("gone", subcode="DestinationUnreachable")
    assert isinstance(missing, NotFound)
    assert isinstance(missing, LookupError)
    assert isinstance(missing, WSManFault)
    assert missing.subcode == "DestinationUnreachable"
    quota = OperationQuotaExceeded("busy", subcode="InternalError", wsman_code=2150859174)
    assert isinstance(quota, ConcurrencyLimit)
    assert isinstance(quota, InternalError)
    assert not isinstance(quota, NotFound)
    assert issubclass(QuotaLimit, ConcurrencyLimit)
    assert issubclass(ConcurrencyExceeded, ConcurrencyLimit)
