"""Every exception aiohyperv raises, in one tree.

::

    HyperVError
    ├── ConfigError(HyperVError, ValueError)
    │   └── CredentialsError             no credentials could be found for a host
    ├── InvalidVersion(HyperVError, ValueError)
    ├── TransportError
    │   ├── ConnectError(TransportError, OSError)
    │   ├── TransportTimeout(TransportError, TimeoutError)
    │   ├── HTTPStatusError              .status
    │   │   └── AuthenticationError      .auth_method
    │   └── ProtocolError                malformed or unexpected XML
    ├── WSManFault                       .code .subcode .reason .machine .provider_fault ...
    │   ├── one class per DSP0226 subcode, looked up in SUBCODE_CLASSES:
    │   │   AccessDenied, ActionNotSupported, AlreadyExists, CannotProcessFilter,
    │   │   EncodingLimit, EndpointUnavailable, FilterDialectRequestedUnavailable,
    │   │   FilteringNotSupported, FragmentDialectNotSupported, InternalError,
    │   │   InvalidEnumerationContext, InvalidExpirationTime, InvalidMessageInformationHeader,
    │   │   InvalidOptions, InvalidParameter, InvalidRepresentation, InvalidSelectors,
    │   │   MessageInformationHeaderRequired, OperationTimedOut (w:TimedOut),
    │   │   SchemaValidationError, UnsupportedExpirationType, UnsupportedFeature
    │   ├── DestinationUnreachable(WSManFault, NotFound)   Get of a missing instance
    │   └── ConcurrencyLimit             the host is too busy: retry later
    │       ├── ConcurrencyExceeded      w:Concurrency
    │       ├── QuotaLimit               w:QuotaLimit
    │       └── OperationQuotaExceeded(ConcurrencyLimit, InternalError)
    ├── CimMethodError                   .method .return_value
    │   └── JobFailed                    .job_state .error_code .error_description
    ├── NotFound(HyperVError, LookupError)
    │   ├── VMNotFound
    │   └── DestinationUnreachable
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
    "ActionNotSupported",
    "AlreadyExists",
    "AuthenticationError",
    "CannotProcessFilter",
    "CimMethodError",
    "ConcurrencyExceeded",
    "ConcurrencyLimit",
    "ConfigError",
    "ConnectError",
    "CredentialsError",
    "DestinationUnreachable",
    "EncodingLimit",
    "EndpointUnavailable",
    "FilterDialectRequestedUnavailable",
    "FilteringNotSupported",
    "FragmentDialectNotSupported",
    "HTTPStatusError",
    "HyperVError",
    "InternalError",
    "InvalidEnumerationContext",
    "InvalidExpirationTime",
    "InvalidMessageInformationHeader",
    "InvalidOperation",
    "InvalidOptions",
    "InvalidParameter",
    "InvalidRepresentation",
    "InvalidSelectors",
    "InvalidVersion",
    "JobFailed",
    "MessageInformationHeaderRequired",
    "NotFound",
    "OperationQuotaExceeded",
    "OperationTimedOut",
    "ProtocolError",
    "QuotaLimit",
    "ReadOnlyError",
    "SchemaValidationError",
    "TransportError",
    "TransportTimeout",
    "UnsupportedExpirationType",
    "UnsupportedFeature",
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
        tls_verify_code: OpenSSL's certificate verification error (``X509_V_ERR_*``) when
            the server's certificate was refused, else None.
        tls_reason: OpenSSL's reason for a failed TLS handshake (``WRONG_VERSION_NUMBER``...).

    The underlying aiohttp and :mod:`ssl` errors are not chained (they hold the request's
    headers); what a caller needs of them is kept here.
    """

    dropped: bool = False
    mid_response: bool = False
    tls_verify_code: int | None = None
    tls_reason: str | None = None


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


class NotFound(HyperVError, LookupError):
    """Raised when a lookup finds nothing."""


class VMNotFound(NotFound):
    """Raised by domain lookups (by name, UUID or ID) that match no virtual machine."""


class WSManFaultCode(IntEnum):
    """Numeric codes Windows puts in ``f:WSManFault/@Code`` (HRESULTs and Win32 errors).

    The ``0x8033xxxx`` values and names are ``ERROR_WSMAN_*`` from the Windows SDK's
    ``wsmerror.h``; the ``0x8004xxxx`` ones are WMI's ``WBEM_E_*`` (``wbemcli.h``).
    """

    ACCESS_DENIED = 5  # Win32 ERROR_ACCESS_DENIED
    INVALID_PARAMETER = 87  # Win32 ERROR_INVALID_PARAMETER
    # Get of an instance that does not exist: a:DestinationUnreachable with faultDetail
    # InvalidResourceURI (DSP0226), this code (wsmerror.h).
    RESOURCE_NOT_FOUND = 2150858752  # 0x80338000
    # A bad SOAP header, e.g. OperationTimeout PT-1S (a:InvalidMessageInformationHeader;
    # tests/data/wsman-samples/real/pypsrp/fault_addressing_invalid_header_timeout.xml).
    INVALID_MESSAGE_INFORMATION_HEADER = 2150858767  # 0x8033800F
    MESSAGE_INFORMATION_HEADER_REQUIRED = 2150858769  # 0x80338011
    DESTINATION_UNREACHABLE = 2150858770  # 0x80338012
    ACTION_NOT_SUPPORTED = 2150858771  # 0x80338013
    ENDPOINT_UNAVAILABLE = 2150858772  # 0x80338014
    INVALID_REPRESENTATION = 2150858773  # 0x80338015
    ENUMERATE_INVALID_EXPIRATION_TIME = 2150858774  # 0x80338016
    ENUMERATE_UNSUPPORTED_EXPIRATION_TIME = 2150858775  # 0x80338017
    FILTERING_NOT_SUPPORTED = 2150858776  # 0x80338018
    FILTER_DIALECT_REQUESTED_UNAVAILABLE = 2150858777  # 0x80338019
    # WQL on a class that does not exist: n:CannotProcessFilter (DSP0226), this code.
    CANNOT_PROCESS_FILTER = 2150858778  # 0x8033801A
    INVALID_ENUMERATION_CONTEXT = 2150858779  # 0x8033801B
    ENUMERATE_TIMED_OUT = 2150858780  # 0x8033801C
    ENVELOPE_TOO_LARGE = 2150858790  # 0x80338026
    OPERATION_TIMEOUT = 2150858793  # 0x80338029 (pypsrp/fault_timedout_activityid.xml)
    CONCURRENCY = 2150858802  # 0x80338032
    ALREADY_EXISTS = 2150858803  # 0x80338033
    ENCODING_LIMIT = 2150858805  # 0x80338035
    INVALID_OPTIONS = 2150858809  # 0x80338039
    WSMAN_INVALID_PARAMETER = 2150858810  # 0x8033803A
    INVALID_SELECTORS_CODE = 2150858813  # 0x8033803D
    QUOTA_LIMIT = 2150858815  # 0x8033803F
    SCHEMA_VALIDATION = 2150858817  # 0x80338041 (pypsrp/fault_schema_validation_error.xml)
    UNSUPPORTED_FEATURE = 2150858818  # 0x80338042
    # ERROR_WSMAN_MAX_ENVELOPE_SIZE: a MaxEnvelopeSize below the minimum (MS-WSMV 3.1.4.1.7).
    MAX_ENVELOPE_SIZE_TOO_SMALL = 2150858823  # 0x80338047
    MAX_ENVELOPE_SIZE_EXCEEDED = 2150858824  # 0x80338048
    INSUFFICIENT_SELECTORS = 2150858842  # 0x8033805A
    # ERROR_WSMAN_UNEXPECTED_SELECTORS (pypsrp/fault_invalid_selectors_*.xml).
    INVALID_SELECTORS = 2150858843  # 0x8033805B
    NOT_SINGLETON = 2150859002  # 0x803380FA (ERROR_WSMAN_INVALID_URI_WMI_SINGLETON)
    # ERROR_WSMAN_QUOTA_MAX_OPERATIONS: too many concurrent operations for the user, sent as
    # w:InternalError, sometimes with an MSFT_WmiError detail instead of f:WSManFault.
    QUOTA_MAX_OPERATIONS = 2150859174  # 0x803381A6
    QUOTA_USER = 2150859175  # 0x803381A7
    QUOTA_SYSTEM = 2150859176  # 0x803381A8
    WBEM_E_FAILED = 2147749889  # 0x80041001
    WBEM_E_NOT_FOUND = 2147749890  # 0x80041002
    WBEM_E_INVALID_CLASS = 2147749904  # 0x80041010
    WBEM_E_INVALID_QUERY = 2147749911  # 0x80041017
    WBEM_E_PROVIDER_NOT_CAPABLE = 2147749924  # 0x80041024
    WBEM_E_INVALID_METHOD_PARAMETERS = 2147749935  # 0x8004102F


class WSManFault(HyperVError):
    """Raised by the protocol core when the server answered with a SOAP fault.

    Attributes keep everything Windows said: the SOAP ``code`` and ``subcode`` (QName local
    parts such as ``Receiver`` and ``TimedOut``), ``reason`` text, the ``fault_detail`` URI,
    Microsoft's numeric ``wsman_code`` and ``machine``, the detail's own message
    (``detail_message``), the innermost provider message, and the fault's ``action``.

    When the detail is an ``MSFT_WmiError`` instance instead of ``f:WSManFault``, its
    ``error_Code`` is ``wsman_code``, its ``Message`` is ``detail_message``, and its
    ``error_Type`` and ``error_WindowsErrorMessage`` are ``error_type`` and
    ``windows_error_message``.
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
        detail_message: str | None = None,
        error_type: str | None = None,
        windows_error_message: str | None = None,
        action: str | None = None,
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
        self.detail_message = detail_message
        self.error_type = error_type
        self.windows_error_message = windows_error_message
        self.action = action


# One class per fault subcode of DSP0226 (wsman:, and the WS-Addressing, WS-Enumeration and
# WS-Transfer subcodes it reuses) that a client that never subscribes to events can receive.
# Each is raised for its subcode whatever the numeric code says (see fault_class_for).


class AccessDenied(WSManFault):
    """Raised for ``w:AccessDenied``: the account may not use WinRM or this namespace."""


class ActionNotSupported(WSManFault):
    """Raised for ``a:ActionNotSupported``: the resource does not implement the action."""


class AlreadyExists(WSManFault):
    """Raised for ``w:AlreadyExists`` on Create."""


class CannotProcessFilter(WSManFault):
    """Raised for ``n:CannotProcessFilter``: the WQL or other filter was rejected.

    Windows sends it, with Code 2150858778, for a WQL query on a class that does not exist.
    """


class ConcurrencyLimit(WSManFault):
    """Base of the faults that mean "the host is too busy now": retrying later may work.

    Raised as one of its subclasses: ``QuotaLimit``, ``ConcurrencyExceeded`` or
    ``OperationQuotaExceeded``.
    """


class ConcurrencyExceeded(ConcurrencyLimit):
    """Raised for ``w:Concurrency``: concurrency or locking problems stopped the action."""


class QuotaLimit(ConcurrencyLimit):
    """Raised for ``w:QuotaLimit``: the service is busy servicing other requests."""


class DestinationUnreachable(WSManFault, NotFound):
    """Raised for ``a:DestinationUnreachable``: no such resource or instance.

    Windows answers a Get of an instance that does not exist this way (Code 2150858752,
    fault detail ``InvalidResourceURI``), so it is also a ``NotFound``.
    """


class EncodingLimit(WSManFault):
    """Raised for ``w:EncodingLimit``: an envelope exceeded MaxEnvelopeSize or similar limits."""


class EndpointUnavailable(WSManFault):
    """Raised for ``a:EndpointUnavailable``: the resource is offline; retry later."""


class FilterDialectRequestedUnavailable(WSManFault):
    """Raised for ``n:FilterDialectRequestedUnavailable``: the filter dialect is unsupported."""


class FilteringNotSupported(WSManFault):
    """Raised for ``n:FilteringNotSupported``: the resource cannot filter enumerations."""


class FragmentDialectNotSupported(WSManFault):
    """Raised for ``w:FragmentDialectNotSupported``: the fragment dialect is unsupported."""


class InternalError(WSManFault):
    """Raised for ``w:InternalError``: the provider failed (often WMI under load)."""


class OperationQuotaExceeded(ConcurrencyLimit, InternalError):
    """Raised for ``w:InternalError`` with Code 2150859174 (ERROR_WSMAN_QUOTA_MAX_OPERATIONS).

    The user has more operations in flight than the host's WinRM quota allows; it is both
    an ``InternalError`` (its subcode) and a ``ConcurrencyLimit`` (what it means).
    """


class InvalidEnumerationContext(WSManFault):
    """Raised for ``n:InvalidEnumerationContext``: the context expired or never existed."""


class InvalidExpirationTime(WSManFault):
    """Raised for ``n:InvalidExpirationTime``: an Enumerate Expires value was refused."""


class InvalidMessageInformationHeader(WSManFault):
    """Raised for ``a:InvalidMessageInformationHeader``: a SOAP header was invalid.

    Windows sends it, with Code 2150858767, for an OperationTimeout such as ``PT-1S``.
    """


class InvalidOptions(WSManFault):
    """Raised for ``w:InvalidOptions``: an option name or value was refused."""


class InvalidParameter(WSManFault):
    """Raised for ``w:InvalidParameter`` / Win32 error 87."""


class InvalidRepresentation(WSManFault):
    """Raised for ``x:InvalidRepresentation``: a Put or Create body did not fit the resource."""


class InvalidSelectors(WSManFault):
    """Raised for ``w:InvalidSelectors``: the selectors name no instance (or wrong keys)."""


class MessageInformationHeaderRequired(WSManFault):
    """Raised for ``a:MessageInformationHeaderRequired``: a required SOAP header is missing."""


class OperationTimedOut(WSManFault):
    """Raised for ``w:TimedOut``: the server had nothing within OperationTimeout.

    For Pull this means "nothing yet, ask again", which the session retries.
    """


class SchemaValidationError(WSManFault):
    """Raised for ``w:SchemaValidationError``: the request did not match the schema."""


class UnsupportedExpirationType(WSManFault):
    """Raised for ``n:UnsupportedExpirationType``: Expires given in an unsupported form."""


class UnsupportedFeature(WSManFault):
    """Raised for ``w:UnsupportedFeature``: the service does not support a requested feature."""


#: SOAP subcode (the QName's local part) -> class.  The subcode decides the class.
SUBCODE_CLASSES: dict[str, type[WSManFault]] = {
    "AccessDenied": AccessDenied,
    "ActionNotSupported": ActionNotSupported,
    "AlreadyExists": AlreadyExists,
    "CannotProcessFilter": CannotProcessFilter,
    "Concurrency": ConcurrencyExceeded,
    "ConcurrencyExceeded": ConcurrencyExceeded,
    "DestinationUnreachable": DestinationUnreachable,
    "EncodingLimit": EncodingLimit,
    "EndpointUnavailable": EndpointUnavailable,
    "FilterDialectRequestedUnavailable": FilterDialectRequestedUnavailable,
    "FilteringNotSupported": FilteringNotSupported,
    "FragmentDialectNotSupported": FragmentDialectNotSupported,
    "InternalError": InternalError,
    "InvalidEnumerationContext": InvalidEnumerationContext,
    "InvalidExpirationTime": InvalidExpirationTime,
    "InvalidMessageInformationHeader": InvalidMessageInformationHeader,
    "InvalidOptions": InvalidOptions,
    "InvalidParameter": InvalidParameter,
    "InvalidRepresentation": InvalidRepresentation,
    "InvalidSelectors": InvalidSelectors,
    "MessageInformationHeaderRequired": MessageInformationHeaderRequired,
    "QuotaLimit": QuotaLimit,
    "SchemaValidationError": SchemaValidationError,
    "TimedOut": OperationTimedOut,
    "UnsupportedExpirationType": UnsupportedExpirationType,
    "UnsupportedFeature": UnsupportedFeature,
}

#: Numeric code -> class.  Used alone when a fault has no subcode (or one not listed above);
#: with a subcode, only to refine it to a subclass of the subcode's class (Code 2150859174
#: turns ``InternalError`` into ``OperationQuotaExceeded``).
FAULT_CLASSES: dict[int, type[WSManFault]] = {
    WSManFaultCode.ACCESS_DENIED: AccessDenied,
    WSManFaultCode.INVALID_PARAMETER: InvalidParameter,
    WSManFaultCode.RESOURCE_NOT_FOUND: DestinationUnreachable,
    WSManFaultCode.INVALID_MESSAGE_INFORMATION_HEADER: InvalidMessageInformationHeader,
    WSManFaultCode.MESSAGE_INFORMATION_HEADER_REQUIRED: MessageInformationHeaderRequired,
    WSManFaultCode.DESTINATION_UNREACHABLE: DestinationUnreachable,
    WSManFaultCode.ACTION_NOT_SUPPORTED: ActionNotSupported,
    WSManFaultCode.ENDPOINT_UNAVAILABLE: EndpointUnavailable,
    WSManFaultCode.INVALID_REPRESENTATION: InvalidRepresentation,
    WSManFaultCode.ENUMERATE_INVALID_EXPIRATION_TIME: InvalidExpirationTime,
    WSManFaultCode.ENUMERATE_UNSUPPORTED_EXPIRATION_TIME: UnsupportedFeature,
    WSManFaultCode.FILTERING_NOT_SUPPORTED: FilteringNotSupported,
    WSManFaultCode.FILTER_DIALECT_REQUESTED_UNAVAILABLE: FilterDialectRequestedUnavailable,
    WSManFaultCode.CANNOT_PROCESS_FILTER: CannotProcessFilter,
    WSManFaultCode.INVALID_ENUMERATION_CONTEXT: InvalidEnumerationContext,
    WSManFaultCode.ENUMERATE_TIMED_OUT: OperationTimedOut,
    WSManFaultCode.ENVELOPE_TOO_LARGE: EncodingLimit,
    WSManFaultCode.OPERATION_TIMEOUT: OperationTimedOut,
    WSManFaultCode.CONCURRENCY: ConcurrencyExceeded,
    WSManFaultCode.ALREADY_EXISTS: AlreadyExists,
    WSManFaultCode.ENCODING_LIMIT: EncodingLimit,
    WSManFaultCode.INVALID_OPTIONS: InvalidOptions,
    WSManFaultCode.WSMAN_INVALID_PARAMETER: InvalidParameter,
    WSManFaultCode.INVALID_SELECTORS_CODE: InvalidSelectors,
    WSManFaultCode.QUOTA_LIMIT: QuotaLimit,
    WSManFaultCode.SCHEMA_VALIDATION: SchemaValidationError,
    WSManFaultCode.UNSUPPORTED_FEATURE: UnsupportedFeature,
    WSManFaultCode.MAX_ENVELOPE_SIZE_EXCEEDED: EncodingLimit,
    WSManFaultCode.INSUFFICIENT_SELECTORS: InvalidSelectors,
    WSManFaultCode.INVALID_SELECTORS: InvalidSelectors,
    WSManFaultCode.NOT_SINGLETON: InvalidSelectors,
    WSManFaultCode.QUOTA_MAX_OPERATIONS: OperationQuotaExceeded,
    WSManFaultCode.QUOTA_USER: OperationQuotaExceeded,
    WSManFaultCode.QUOTA_SYSTEM: OperationQuotaExceeded,
    WSManFaultCode.WBEM_E_INVALID_CLASS: CannotProcessFilter,
    WSManFaultCode.WBEM_E_INVALID_QUERY: CannotProcessFilter,
    WSManFaultCode.WBEM_E_INVALID_METHOD_PARAMETERS: InvalidParameter,
}


def fault_class_for(wsman_code: int | None, subcode: str | None) -> type[WSManFault]:
    """The class a fault is raised as.

    The SOAP subcode decides (``SUBCODE_CLASSES``): a ``w:InvalidSelectors`` fault is an
    ``InvalidSelectors`` whatever its numeric code.  The code may only narrow that class to a
    subclass of it (``InternalError`` with Code 2150859174 is an ``OperationQuotaExceeded``).
    A fault without a known subcode is looked up by code alone (``FAULT_CLASSES``), and one
    with neither is a plain ``WSManFault``.
    """
    by_code = FAULT_CLASSES.get(wsman_code) if wsman_code is not None else None
    by_subcode = SUBCODE_CLASSES.get(subcode) if subcode is not None else None
    if by_subcode is None:
        return by_code or WSManFault
    if by_code is not None and issubclass(by_code, by_subcode):
        return by_code
    return by_subcode


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


class InvalidOperation(HyperVError):
    """Raised when an operation cannot apply (start a running VM, two VMs share a name...)."""


class ReadOnlyError(InvalidOperation):
    """Raised by a read-only connection before it sends anything that would change a host."""
