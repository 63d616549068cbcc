"""Namespaces, actions, dialects and resource URIs of WS-Management as Windows speaks it."""

from __future__ import annotations

from enum import StrEnum

from aiohyperv.cim._cimxml import WMI_RESOURCE_BASE

__all__ = [
    "ASSOCIATION_DIALECT",
    "CQL_DIALECT",
    "NAMESPACE_CIMV2",
    "NAMESPACE_V1",
    "NAMESPACE_V2",
    "NS",
    "SELECTOR_DIALECT",
    "WMI_RESOURCE_BASE",
    "WQL_DIALECT",
    "XPATH_DIALECT",
    "Action",
    "resource_uri",
    "split_resource_uri",
    "wildcard_uri",
]

#: Prefix -> namespace URI, as Windows uses the prefixes (DSP0226 Table A-1, MS-WSMV 2.2).
NS: dict[str, str] = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "a": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "n": "http://schemas.xmlsoap.org/ws/2004/09/enumeration",
    "x": "http://schemas.xmlsoap.org/ws/2004/09/transfer",
    "w": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
    "p": "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd",
    "f": "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault",
    "b": "http://schemas.dmtf.org/wbem/wsman/1/cimbinding.xsd",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
    "cim": "http://schemas.dmtf.org/wbem/wscim/1/common",
    "wsmid": "http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd",
}

SOAP11_ENV = "http://schemas.xmlsoap.org/soap/envelope/"

WQL_DIALECT = "http://schemas.microsoft.com/wbem/wsman/1/WQL"
SELECTOR_DIALECT = "http://schemas.dmtf.org/wbem/wsman/1/wsman/SelectorFilter"
ASSOCIATION_DIALECT = "http://schemas.dmtf.org/wbem/wsman/1/cimbinding/associationFilter"
CQL_DIALECT = "http://schemas.dmtf.org/wbem/cql/1/dsp0202.pdf"
XPATH_DIALECT = "http://www.w3.org/TR/1999/REC-xpath-19991116"

NAMESPACE_V2 = "root/virtualization/v2"
NAMESPACE_V1 = "root/virtualization"
NAMESPACE_CIMV2 = "root/cimv2"

_T = "http://schemas.xmlsoap.org/ws/2004/09/transfer/"
_E = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/"


class Action(StrEnum):
    """WS-Addressing Action URIs (DSP0226 Annex; WS-Transfer, WS-Enumeration).

    Custom WMI methods use ``<class resource URI>/<Method>`` instead (see ``invoke_action``).
    ``IDENTIFY`` is not sent on the wire (Identify carries no Action header); the server-side
    parser reports it for Identify requests.
    """

    GET = _T + "Get"
    GET_RESPONSE = _T + "GetResponse"
    PUT = _T + "Put"
    PUT_RESPONSE = _T + "PutResponse"
    CREATE = _T + "Create"
    CREATE_RESPONSE = _T + "CreateResponse"
    DELETE = _T + "Delete"
    DELETE_RESPONSE = _T + "DeleteResponse"
    ENUMERATE = _E + "Enumerate"
    ENUMERATE_RESPONSE = _E + "EnumerateResponse"
    PULL = _E + "Pull"
    PULL_RESPONSE = _E + "PullResponse"
    RELEASE = _E + "Release"
    RELEASE_RESPONSE = _E + "ReleaseResponse"
    IDENTIFY = "http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd/Identify"
    FAULT = "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault"
    ADDRESSING_FAULT = "http://schemas.xmlsoap.org/ws/2004/08/addressing/fault"
    ENUMERATION_FAULT = _E + "fault"


def invoke_action(resource_uri: str, method: str) -> str:
    """The Action URI of a custom method: ``<resource URI>/<Method>`` (DSP0226 9.1)."""
    return f"{resource_uri}/{method}"


def resource_uri(namespace: str, class_name: str) -> str:
    """The WMI resource URI of ``class_name`` in ``namespace`` (MS-WSMV 3.1.4.1.30.1).

    ``resource_uri("root/virtualization/v2", "Msvm_ComputerSystem")`` is
    ``http://schemas.microsoft.com/wbem/wsman/1/wmi/root/virtualization/v2/Msvm_ComputerSystem``.
    Backslashes and stray slashes in the namespace are normalized.
    """
    ns = namespace.replace("\\", "/").strip("/")
    return f"{WMI_RESOURCE_BASE}{ns}/{class_name}"


def wildcard_uri(namespace: str) -> str:
    """The ``*`` resource URI that WQL enumerations over any class of ``namespace`` use."""
    return resource_uri(namespace, "*")


def split_resource_uri(uri: str) -> tuple[str, str]:
    """Split a WMI resource URI into ``(namespace, class)``; the class may be ``*``.

    Raises:
        ValueError: ``uri`` is not under the WMI prefix or names no class.
    """
    if not uri.startswith(WMI_RESOURCE_BASE):
        raise ValueError(f"not a WMI resource URI: {uri!r}")
    namespace, _, cls = uri[len(WMI_RESOURCE_BASE) :].rstrip("/").rpartition("/")
    if not namespace or not cls:
        raise ValueError(f"WMI resource URI names no namespace and class: {uri!r}")
    return namespace, cls
