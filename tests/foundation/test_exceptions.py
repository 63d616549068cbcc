"""The exception tree: builtin bases, named fields, host attachment, fault lookup."""

from __future__ import annotations

import pytest

import aiohyperv
from aiohyperv import (
    AuthenticationError,
    CimMethodError,
    ConfigError,
    ConnectError,
    HTTPStatusError,
    HyperVError,
    InvalidSelectors,
    JobFailed,
    OperationTimedOut,
    TransportTimeout,
    VMNotFound,
    WSManFault,
    WSManFaultCode,
)
from aiohyperv._exceptions import fault_class_for


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
        (WSManFaultCode.NOT_SINGLETON, "InternalError", InvalidSelectors),
        (12345, "SomethingNew", WSManFault),
        (None, None, WSManFault),
    ],
)
def test_fault_lookup(code: int | None, subcode: str | None, expected: type[WSManFault]) -> None:
    assert fault_class_for(code, subcode) is expected
