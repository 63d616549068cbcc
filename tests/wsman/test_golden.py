"""Golden tests: each builder's envelope equals a hand-written reference, as canonical XML.

References live in tests/data/golden/.  Both sides are canonicalized the same way: blank text
between elements dropped, MessageID normalized, SOAP header blocks sorted (their order carries
no meaning, SOAP 1.2 part 1 section 5.2), then exclusive C14N.  CDATA and escaped text are the
same after C14N, so the reference may use either for CIM-XML parameters.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest
from lxml import etree

from aiohyperv.cim import EPR, CimInstance, CimType, EmbeddedInstance
from aiohyperv.wsman import (
    NAMESPACE_CIMV2,
    NAMESPACE_V2,
    NS,
    Action,
    EnumerationMode,
    Filter,
    RequestOptions,
    build_create,
    build_delete,
    build_enumerate,
    build_get,
    build_identify,
    build_invoke,
    build_pull,
    build_put,
    build_release,
    build_request,
    resource_uri,
    wildcard_uri,
)

from .files import GOLDEN

if TYPE_CHECKING:
    from collections.abc import Callable

OPTS = RequestOptions(to="https://hv01.example.com:5986/wsman")
CS = resource_uri(NAMESPACE_V2, "Msvm_ComputerSystem")
VSSD = resource_uri(NAMESPACE_V2, "Msvm_VirtualSystemSettingData")
VSMS = resource_uri(NAMESPACE_V2, "Msvm_VirtualSystemManagementService")
OS = resource_uri(NAMESPACE_CIMV2, "Win32_OperatingSystem")
VM = "6A6F1D5C-0D3E-4C4B-9E3A-2B1C0D9E8F7A"
VM_SELECTORS = {"Name": VM, "CreationClassName": "Msvm_ComputerSystem"}
CONTEXT = "uuid:4C5C9C4E-1E3B-4C55-A3A8-6B3E1A5D2F10"
MESSAGE_ID = re.compile(r"uuid:[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}")
_BLANKS = etree.XMLParser(remove_blank_text=True)


def canonical(data: bytes) -> bytes:
    root = etree.fromstring(data, _BLANKS)
    for mid in root.iter(f"{{{NS['a']}}}MessageID"):
        mid.text = "uuid:00000000-0000-0000-0000-000000000000"
    header = root.find(f"{{{NS['s']}}}Header")
    if header is not None:
        header[:] = sorted(header, key=lambda e: str(e.tag))
    return etree.tostring(root, method="c14n", exclusive=True)


def _vssd() -> CimInstance:
    return CimInstance.from_values(
        "Msvm_VirtualSystemSettingData",
        VSSD,
        {
            "InstanceID": f"Microsoft:{VM}",
            "ElementName": "web & db <01>",
            "Notes": ["first line", "second line"],
            "Description": None,
            "AutomaticStartupAction": 4,
            "CreationTime": datetime(2024, 3, 1, 8, 0, tzinfo=UTC),
        },
    )


def _invoke_complex() -> bytes:
    sasd = (
        EmbeddedInstance("Msvm_StorageAllocationSettingData")
        .set("ResourceType", CimType.UINT16, 31)
        .set("HostResource", CimType.STRING, ["C:\\VMs\\a&b.vhdx"])
        .set("Address", CimType.STRING, None)
    )
    cpu = EmbeddedInstance("Msvm_ProcessorSettingData").set("VirtualQuantity", CimType.UINT64, 4)
    return build_invoke(
        VSMS,
        "AddResourceSettings",
        options=OPTS,
        selectors={
            "CreationClassName": "Msvm_VirtualSystemManagementService",
            "Name": "vmms",
            "SystemCreationClassName": "Msvm_ComputerSystem",
            "SystemName": "HV01",
        },
        params={
            "AffectedConfiguration": EPR.make(VSSD, {"InstanceID": f"Microsoft:{VM}"}),
            "ResourceSettings": [sasd, cpu],
            "Force": False,
            "Timeout": 30,
            "Reason": None,
            "Codes": [1, 100],
            "Since": datetime(2024, 3, 1, 8, 0, 0, 500000, tzinfo=UTC),
        },
    )


CASES: dict[str, Callable[[], bytes]] = {
    "identify": build_identify,
    "get": lambda: build_get(CS, options=OPTS, selectors=VM_SELECTORS),
    "delete": lambda: build_delete(CS, options=OPTS, selectors=VM_SELECTORS),
    "put": lambda: build_put(
        VSSD, _vssd(), options=OPTS, selectors={"InstanceID": f"Microsoft:{VM}"}
    ),
    "create": lambda: build_create(
        VSSD,
        CimInstance.from_values(
            "Msvm_VirtualSystemSettingData",
            VSSD,
            {"ElementName": "new-vm", "VirtualSystemSubType": "Microsoft:Hyper-V:SubType:2"},
        ),
        options=OPTS,
    ),
    "enumerate_wql": lambda: build_enumerate(
        wildcard_uri(NAMESPACE_V2),
        options=OPTS,
        filter=Filter.wql(
            'SELECT * FROM Msvm_ComputerSystem WHERE Description = "Microsoft Virtual Machine"'
            " AND ElementName = 'a&b <c>'"
        ),
    ),
    "enumerate_epr_selector": lambda: build_enumerate(
        CS,
        options=OPTS,
        filter=Filter.selector({"Name": VM}),
        mode=EnumerationMode.EPR,
        max_elements=32000,
    ),
    "enumerate_association": lambda: build_enumerate(
        wildcard_uri(NAMESPACE_V2),
        options=OPTS,
        filter=Filter.associators(
            EPR.make(CS, VM_SELECTORS),
            association_class="Msvm_SettingsDefineState",
            result_class="Msvm_VirtualSystemSettingData",
        ),
        mode=EnumerationMode.OBJECT_AND_EPR,
        max_elements=50,
    ),
    "enumerate_plain": lambda: build_enumerate(OS, options=OPTS, optimize=False),
    "pull": lambda: build_pull(CS, CONTEXT, options=OPTS, max_elements=100),
    "release": lambda: build_release(CS, CONTEXT, options=OPTS),
    "invoke_requeststatechange": lambda: build_invoke(
        CS,
        "RequestStateChange",
        options=OPTS,
        selectors=VM_SELECTORS,
        params={"RequestedState": 2},
    ),
    "invoke_complex": _invoke_complex,
    "option_set": lambda: build_request(
        Action.GET,
        OS,
        options=RequestOptions(
            to="https://hv01.example.com:5986/wsman",
            max_envelope_size=512000,
            operation_timeout=60.5,
            locale="de-DE",
        ),
        option_set={"IncludeClassOrigin": True, "msftwinrm:UsePreciseArrays": False, "Depth": 2},
    ),
}


def test_every_reference_has_a_case() -> None:
    assert sorted(p.stem for p in GOLDEN.glob("*.xml")) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(name: str) -> None:
    built = CASES[name]()
    assert isinstance(built, bytes)
    built.decode("utf-8")  # UTF-8, always
    expected = (GOLDEN / f"{name}.xml").read_bytes()
    assert canonical(built).decode() == canonical(expected).decode()


@pytest.mark.parametrize("name", sorted(set(CASES) - {"identify"}))
def test_fresh_message_id_every_time(name: str) -> None:
    first, second = (etree.fromstring(CASES[name]()) for _ in range(2))
    ids = [r.findtext(f".//{{{NS['a']}}}MessageID") for r in (first, second)]
    assert all(i is not None and MESSAGE_ID.fullmatch(i) for i in ids), ids
    assert ids[0] != ids[1]


def test_must_understand_headers() -> None:
    root = etree.fromstring(build_get(CS, options=OPTS, selectors=VM_SELECTORS))
    must = f"{{{NS['s']}}}mustUnderstand"
    header = root.find(f"{{{NS['s']}}}Header")
    assert header is not None
    flags = {etree.QName(h).localname: h.get(must) for h in header.iter() if h.get(must)}
    assert flags == {
        "ResourceURI": "true",
        "Action": "true",
        "Address": "true",  # ReplyTo/Address
        "MaxEnvelopeSize": "true",
        "Locale": "false",
        "DataLocale": "false",
    }


def test_explicit_message_id_is_used() -> None:
    data = build_get(CS, options=OPTS, message_id="uuid:11111111-2222-4333-8444-555555555555")
    root = etree.fromstring(data)
    assert root.findtext(f".//{{{NS['a']}}}MessageID") == (
        "uuid:11111111-2222-4333-8444-555555555555"
    )
