"""Embedded objects (GetSummaryInformation's outputs) read the same on the fast and slow paths."""

from __future__ import annotations

import pytest
from lxml import etree

from aiohyperv.cim import CimDateTime, CimInstance
from aiohyperv.simulator._codec import build_invoke_response
from aiohyperv.wsman import NAMESPACE_V2, parse_invoke, parse_response, resource_uri
from aiohyperv.wsman._items import _properties_generic, parse_value

SI = resource_uri(NAMESPACE_V2, "Msvm_SummaryInformation")
VSMS = resource_uri(NAMESPACE_V2, "Msvm_VirtualSystemManagementService")
XSI = "http://www.w3.org/2001/XMLSchema-instance"


def summary(i: int) -> CimInstance:
    return CimInstance(
        "Msvm_SummaryInformation",
        SI,
        {
            "AsynchronousTasks": None,
            "CreationTime": CimDateTime(text="2024-01-01T00:00:00Z", kind="Datetime"),
            "ElementName": f"vm <{i}> & co",
            "MemoryUsage": str(512 * i),
            "Name": f"GUID-{i}",
            "Notes": ["", "two"],
            "OperationalStatus": ["2", "3"],
            "Version": None,
        },
    )


def test_summaries_round_trip() -> None:
    items = [summary(i) for i in range(5)]
    data = build_invoke_response(
        VSMS, "GetSummaryInformation", return_value=0, outputs={"SummaryInformation": items}
    )
    result = parse_invoke(parse_response(data), "GetSummaryInformation")
    assert result.return_value == 0
    assert result.outputs == {"SummaryInformation": items}


@pytest.mark.parametrize(
    "children",
    [
        # Everything in the embedded object's namespace: the fast reader.
        '<e:A>1</e:A><e:B xsi:nil="true"/><e:C/><e:A>2</e:A>',
        # A comment, a child from another namespace, one with no namespace: the general one.
        '<e:A>1</e:A><!-- note --><e:B xsi:nil="true"/>',
        "<e:A>1</e:A><o:B>x</o:B><e:C/>",
        "<e:A>1</e:A><B>plain</B>",
        '<e:A>1</e:A><e:D xsi:nil="1"/><e:E><cim:Datetime>20240101000000.000000+000'
        "</cim:Datetime></e:E>",
    ],
)
def test_fast_reader_matches_the_general_one(children: str) -> None:
    xml = (
        f'<p:Out xmlns:p="urn:p" xmlns:e="{SI}" xmlns:o="urn:o" xmlns:xsi="{XSI}"'
        ' xmlns:cim="http://schemas.dmtf.org/wbem/wscim/1/common"'
        ' xsi:type="e:Msvm_SummaryInformation_Type">'
        f"{children}</p:Out>"
    )
    elem = etree.fromstring(xml)
    value = parse_value(elem)
    assert isinstance(value, CimInstance)
    assert value.class_name == "Msvm_SummaryInformation"
    assert value.resource_uri == SI
    assert value.properties == _properties_generic(elem)
