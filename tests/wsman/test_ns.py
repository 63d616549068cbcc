"""Namespaces, actions and resource URIs (pypsrp-style URI table)."""

from __future__ import annotations

import pytest

from aiohyperv.wsman import (
    NAMESPACE_CIMV2,
    NAMESPACE_V1,
    NAMESPACE_V2,
    NS,
    Action,
    invoke_action,
    resource_uri,
    split_resource_uri,
    wildcard_uri,
)

BASE = "http://schemas.microsoft.com/wbem/wsman/1/wmi"

URIS = [
    (NAMESPACE_V2, "Msvm_ComputerSystem", f"{BASE}/root/virtualization/v2/Msvm_ComputerSystem"),
    (NAMESPACE_V1, "Msvm_ComputerSystem", f"{BASE}/root/virtualization/Msvm_ComputerSystem"),
    (NAMESPACE_CIMV2, "Win32_OperatingSystem", f"{BASE}/root/cimv2/Win32_OperatingSystem"),
    ("root\\virtualization\\v2", "Msvm_X", f"{BASE}/root/virtualization/v2/Msvm_X"),
    ("/root/StandardCimv2/", "MSFT_NetAdapter", f"{BASE}/root/StandardCimv2/MSFT_NetAdapter"),
    (NAMESPACE_V2, "*", f"{BASE}/root/virtualization/v2/*"),
]


@pytest.mark.parametrize(("namespace", "cls", "uri"), URIS)
def test_resource_uri(namespace: str, cls: str, uri: str) -> None:
    assert resource_uri(namespace, cls) == uri
    assert split_resource_uri(uri) == (namespace.replace("\\", "/").strip("/"), cls)


def test_wildcard_uri() -> None:
    assert wildcard_uri(NAMESPACE_V2) == f"{BASE}/root/virtualization/v2/*"
    assert split_resource_uri(wildcard_uri(NAMESPACE_CIMV2)) == ("root/cimv2", "*")


@pytest.mark.parametrize(
    "uri",
    [
        "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ComputerSystem",
        f"{BASE}/",
        f"{BASE}/Msvm_ComputerSystem",
    ],
)
def test_split_rejects(uri: str) -> None:
    with pytest.raises(ValueError, match="WMI resource URI"):
        split_resource_uri(uri)


def test_namespaces_and_actions() -> None:
    assert NS["s"] == "http://www.w3.org/2003/05/soap-envelope"
    assert NS["a"] == "http://schemas.xmlsoap.org/ws/2004/08/addressing"
    assert NS["n"] == "http://schemas.xmlsoap.org/ws/2004/09/enumeration"
    assert NS["w"] == "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
    assert NS["p"] == "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd"
    assert NS["f"] == "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault"
    assert Action.PULL.value == "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Pull"
    assert Action.GET_RESPONSE.value == "http://schemas.xmlsoap.org/ws/2004/09/transfer/GetResponse"
    assert Action.FAULT.value == "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault"
    cs = resource_uri(NAMESPACE_V2, "Msvm_ComputerSystem")
    assert invoke_action(cs, "RequestStateChange") == f"{cs}/RequestStateChange"
