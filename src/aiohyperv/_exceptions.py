"""Every exception aiohyperv raises, in one tree.

::

    HyperVError
    ├── ConfigError(HyperVError, ValueError)
│   └── CredentialsError         no credentials could be found for a host
├── InvalidVersion(HyperVError, ValueError)
    ├── TransportError
    │   ├── ConnectError(TransportError, OSError)
    │   ├── TransportTimeout(TransportError, TimeoutError)
    │   ├── HTTPStatusError              .status
    │   │   └── AuthenticationError      .auth_method
    │   └── ProtocolError                malformed or unexpected XML
    ├── WSManFault                       .code .subcode .reason .machine .provider_fault ...
    │   ├── AccessDenied
    │   ├── InvalidSelectors
    │   ├── InvalidParameter
    │   ├── OperationTimedOut            the server said "nothing yet" (w:TimedOut)
    │   ├── InvalidEnumerationContext
    │   ├── CannotProcessFilter
    │   ├── InternalError
    │   └── ...                          looked up in FAULT_CLASSES by WSManFaultCode
    ├── CimMethodError                   .method .return_value
    │   └── JobFailed                    .job_state .error_code .error_description
    ├── NotFound(HyperVError, LookupError)
    │   └── VMNotFound
    └── InvalidOperation                 refused before or after asking the host
        └── ReadOnlyError                a read-only connection refused a change

``FleetResult.raise_for_errors()`` raises a plain ``ExceptionGroup`` of these.

Every error carries ``host`` (``None`` until a transport boundary attaches it), the way httpx
attaches ``request``.  Fields are keyword attributes; messages never contain secrets.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any, Self

__all__ = [
    "FAULT_CLASSES",
    "SUBCODE_CLASSES",
    "AccessDenied",
    "AlreadyExists",
    "AuthenticationError",
    "CannotProcessFilter",
    "CimMethodError",
    "ConcurrencyLimit",
    "ConfigError",
    "ConnectError",
    "CredentialsError",
    "EncodingLimit",
    "HTTPStatusError",
    "HyperVError",
    "InternalError",
    "InvalidEnumerationContext",
    "InvalidOperation",
    "InvalidParameter",
    "InvalidSelectors",
    "InvalidVersion",
    "JobFailed",
    "NotFound",
    "OperationTimedOut",
    "ProtocolError",
    "ReadOnlyError",
    "SchemaValidationError",
    "TransportError",
    "TransportTimeout",
    "VMNotFound",
    "WSManFault",
    "WSManFaultCode",
    "fault_class_for",
]


class HyperVError(Exception):
    """Root of every error aiohyperv raises.

    ``host`` names the server the error came from; the transport boundary fills it in.
    """

    host: str | None

    def __init__(self, message: str = "", *, host: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.host = host

    def with_host(self, host: str) -> Self:
        """Attach ``host`` if no inner layer already did, and return self (for ``raise``)."""
        if self.host is None:
            self.host = host
        return self

    def __str__(self) -> str:
        if self.host and self.host not in self.message:
            return f"{self.message} (host {self.host})"
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled whole, attributes and all, without calling ``__init__`` again: subclasses
        # take required keyword arguments (``status``, ``method``...), which the default
        # ``Exception`` pickling (``cls(*args)``) cannot give back.  A fleet run in several
        # processes sends each host's error to the parent this way.
        return (_rebuild_error, (type(self), self.args, self.__dict__))


def _rebuild_error(
    cls: type[HyperVError], args: tuple[Any, ...], state: dict[str, Any]
) -> HyperVError:
    exc = cls.__new__(cls)
    exc.args = args
    exc.__dict__.update(state)
    return exc


class ConfigError(HyperVError, ValueError):
    """Raised by URI parsing and option checks when the caller's input cannot work."""


class CredentialsError(ConfigError):
    """Raised when no auth source could supply a user name or password for a host."""


class InvalidVersion(HyperVError, ValueError):
    """Raised by version packing when a component is not a number or too large to pack."""


class TransportError(HyperVError):
    """Raised by the transport when a request could not be completed over HTTP."""


class ConnectError(TransportError, OSError):
    """Raised when the TCP or TLS connection cannot be opened or was reset mid-request.

    Attributes:
        dropped: The peer closed or reset a connection that was open (a resend may work).
        mid_response: Part of the response had already arrived when it was dropped.
    """

    dropped: bool = False
    mid_response: bool = False


class TransportTimeout(TransportError, TimeoutError):
    """Raised when connecting, reading or the whole operation took longer than allowed."""


class HTTPStatusError(TransportError):
    """Raised for a non-2xx response that carries no SOAP fault (for example 404 or 503)."""

    def __init__(self, message: str, *, status: int, host: str | None = None) -> None:
        super().__init__(message, host=host)
        self.status = status


class AuthenticationError(HTTPStatusError):
    """Raised on HTTP 401: the server refused the credentials or the auth method.

    The message names the host and the method, never the password.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int = 401,
        auth_method: str | None = None,
        host: str | None = None,
    ) -> None:
        super().__init__(message, status=status, host=host)
        self.auth_method = auth_method


class ProtocolError(TransportError):
    """Raised by the protocol core when a response is not the XML WS-Management promises.

    Covers bytes that are not XML, truncated documents, DOCTYPEs and entities, oversize bodies,
    wrong namespaces and missing elements. ``reason`` says what was wrong.
    """


class WSManFaultCode(IntEnum):
    """Numeric codes Windows puts in ``f:WSManFault/@Code`` (HRESULTs and Win32 errors)."""

    ACCESS_DENIED = 5
    INVALID_PARAMETER = 87
    OPERATION_TIMEOUT = 2150858793  # 0x80338029
    INVALID_SELECTORS = 2150858843  # 0x8033805B
    SCHEMA_VALIDATION = 2150858817  # 0x80338041
    NOT_SINGLETON = 2150859002  # 0x803380FA
    INVALID_ENUMERATION_CONTEXT = 2150858767  # 0x8033800F
    CANNOT_PROCESS_FILTER = 2150858778  # 0x8033801A
    ENCODING_LIMIT = 2150858755  # 0x80338003 (MaxEnvelopeSize exceeded)
    CONCURRENCY = 2150859046  # 0x80338126 (quota: too many operations)
    WBEM_E_NOT_FOUND = 2147749890  # 0x80041002
    WBEM_E_INVALID_QUERY = 2147749911  # 0x80041017
    WBEM_E_INVALID_METHOD_PARAMETERS = 2147749935  # 0x8004102F
    INTERNAL_ERROR = 2150858773  # 0x80338015 (generic internal error)


class WSManFault(HyperVError):
    """Raised by the protocol core when the server answered with a SOAP fault.

    Attributes keep everything Windows said: the SOAP ``code`` and ``subcode`` (QName local
    parts such as ``Receiver`` and ``TimedOut``), ``reason`` text, the ``fault_detail`` URI,
    Microsoft's numeric ``wsman_code`` and ``machine``, and the innermost provider message.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        subcode: str | None = None,
        reason: str | None = None,
        fault_detail: str | None = None,
        wsman_code: int | None = None,
        machine: str | None = None,
        provider: str | None = None,
        provider_path: str | None = None,
        provider_fault: str | None = None,
        host: str | None = None,
    ) -> None:
        super().__init__(message, host=host)
        self.code = code
        self.subcode = subcode
        self.reason = reason
        self.fault_detail = fault_detail
        self.wsman_code = wsman_code
        self.machine = machine
        self.provider = provider
        self.provider_path = provider_path
        self.provider_fault = provider_fault


class AccessDenied(WSManFault):
    """Raised for ``w:AccessDenied``: the account may not use WinRM or this namespace."""


class InvalidSelectors(WSManFault):
    """Raised for ``w:InvalidSelectors``: the selectors name no instance (or wrong keys)."""


class InvalidParameter(WSManFault):
    """Raised for ``w:InvalidParameter`` / Win32 error 87."""


class SchemaValidationError(WSManFault):
    """Raised for ``w:SchemaValidationError``: the request did not match the schema."""


class OperationTimedOut(WSManFault):
    """Raised for ``w:TimedOut``: the server had nothing within OperationTimeout.

    For Pull this means "nothing yet, ask again", which the session retries.
    """


class InvalidEnumerationContext(WSManFault):
    """Raised for ``n:InvalidEnumerationContext``: the context expired or never existed."""


class CannotProcessFilter(WSManFault):
    """Raised for ``n:CannotProcessFilter``: the WQL or other filter was rejected."""


class EncodingLimit(WSManFault):
    """Raised for ``w:EncodingLimit``: an envelope exceeded MaxEnvelopeSize or similar limits."""


class ConcurrencyLimit(WSManFault):
    """Raised when Windows refuses an operation over its per-user quota (``w:QuotaLimit``)."""


class AlreadyExists(WSManFault):
    """Raised for ``w:AlreadyExists`` on Create."""


class InternalError(WSManFault):
    """Raised for ``w:InternalError``: the provider failed (often WMI under load)."""


# Faults are looked up by Microsoft's numeric code first, then by SOAP subcode.
FAULT_CLASSES: dict[int, type[WSManFault]] = {
    WSManFaultCode.ACCESS_DENIED: AccessDenied,
    WSManFaultCode.INVALID_PARAMETER: InvalidParameter,
    WSManFaultCode.OPERATION_TIMEOUT: OperationTimedOut,
    WSManFaultCode.INVALID_SELECTORS: InvalidSelectors,
    WSManFaultCode.SCHEMA_VALIDATION: SchemaValidationError,
    WSManFaultCode.NOT_SINGLETON: InvalidSelectors,
    WSManFaultCode.INVALID_ENUMERATION_CONTEXT: InvalidEnumerationContext,
    WSManFaultCode.CANNOT_PROCESS_FILTER: CannotProcessFilter,
    WSManFaultCode.ENCODING_LIMIT: EncodingLimit,
    WSManFaultCode.CONCURRENCY: ConcurrencyLimit,
    WSManFaultCode.WBEM_E_INVALID_QUERY: CannotProcessFilter,
    WSManFaultCode.WBEM_E_INVALID_METHOD_PARAMETERS: InvalidParameter,
    WSManFaultCode.INTERNAL_ERROR: InternalError,
}

SUBCODE_CLASSES: dict[str, type[WSManFault]] = {
    "AccessDenied": AccessDenied,
    "InvalidSelectors": InvalidSelectors,
    "InvalidParameter": InvalidParameter,
    "SchemaValidationError": SchemaValidationError,
    "TimedOut": OperationTimedOut,
    "InvalidEnumerationContext": InvalidEnumerationContext,
    "CannotProcessFilter": CannotProcessFilter,
    "EncodingLimit": EncodingLimit,
    "QuotaLimit": ConcurrencyLimit,
    "AlreadyExists": AlreadyExists,
    "InternalError": InternalError,
}


def fault_class_for(wsman_code: int | None, subcode: str | None) -> type[WSManFault]:
    """Pick the most specific fault class: numeric code first, then SOAP subcode."""
    if wsman_code is not None:
        cls = FAULT_CLASSES.get(wsman_code)
        if cls is not None:
            return cls
    if subcode is not None:
        return SUBCODE_CLASSES.get(subcode, WSManFault)
    return WSManFault


class CimMethodError(HyperVError):
    """Raised by the driver when a WMI method returned a non-zero, non-4096 ReturnValue."""

    def __init__(
        self,
        message: str,
        *,
        method: str,
        return_value: int,
        host: str | None = None,
    ) -> None:
        super().__init__(message, host=host)
        self.method = method
        self.return_value = return_value


class JobFailed(CimMethodError):
    """Raised by job waiting when a Msvm_ConcreteJob ends in a state other than Completed.

    ``job_state`` is the final JobState; ``error_code``/``error_description`` are the job's own.
    """

    def __init__(
        self,
        message: str,
        *,
        method: str,
        return_value: int = 4096,
        job_id: str | None = None,
        job_state: int | None = None,
        error_code: int | None = None,
        error_description: str | None = None,
        host: str | None = None,
    ) -> None:
        super().__init__(message, method=method, return_value=return_value, host=host)
        self.job_id = job_id
        self.job_state = job_state
        self.error_code = error_code
        self.error_description = error_description


class NotFound(HyperVError, LookupError):
    """Raised when a lookup finds nothing."""


class VMNotFound(NotFound):
    """Raised by domain lookups (by name, UUID or ID) that match no virtual machine."""


class InvalidOperation(HyperVError):
    """Raised when an operation cannot apply (start a running VM, two VMs share a name...)."""


class ReadOnlyError(InvalidOperation):
    """Raised by a read-only connection before it sends anything that would change a host."""
