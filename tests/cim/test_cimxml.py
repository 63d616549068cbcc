"""CIM-XML (DSP0201) embedded instances: writing, reading, escaping, malformed input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings

from aiohyperv._exceptions import ProtocolError
from aiohyperv.cim import (
    EPR,
    WMI_RESOURCE_BASE,
    CimType,
    EmbeddedInstance,
    parse_cimxml,
    to_cimxml,
)

from .strategies import embedded_instances

V2 = f"{WMI_RESOURCE_BASE}root/virtualization/v2"


def test_writes_dsp0201_shape() -> None:
    inst = (
        EmbeddedInstance("Msvm_MemorySettingData")
        .set("InstanceID", CimType.STRING, "Microsoft:A\\B")
        .set("VirtualQuantity", CimType.UINT64, 2048)
        .set("DynamicMemoryEnabled", CimType.BOOLEAN, False)
        .set("Notes", CimType.STRING, ["a", None])
        .set("Limit", CimType.UINT64, None)
    )
    assert to_cimxml(inst) == (
        '<INSTANCE CLASSNAME="Msvm_MemorySettingData">'
        '<PROPERTY NAME="InstanceID" TYPE="string"><VALUE>Microsoft:A\\B</VALUE></PROPERTY>'
        '<PROPERTY NAME="VirtualQuantity" TYPE="uint64"><VALUE>2048</VALUE></PROPERTY>'
        '<PROPERTY NAME="DynamicMemoryEnabled" TYPE="boolean"><VALUE>false</VALUE></PROPERTY>'
        '<PROPERTY.ARRAY NAME="Notes" TYPE="string"><VALUE.ARRAY><VALUE>a</VALUE><VALUE.NULL/>'
        "</VALUE.ARRAY></PROPERTY.ARRAY>"
        '<PROPERTY NAME="Limit" TYPE="uint64"/>'
        "</INSTANCE>"
    )


@pytest.mark.parametrize(
    ("value", "escaped"),
    [
        ("a<b", "a&lt;b"),
        ("a&b", "a&amp;b"),
        ("x]]>y", "x]]&gt;y"),  # the CDATA terminator can never appear raw
        ('say "hi"', 'say "hi"'),
        ("line\r\nbreak", "line&#13;\nbreak"),  # CR survives XML line-end normalization
    ],
)
def test_escaping(value: str, escaped: str) -> None:
    inst = EmbeddedInstance("X").set("S", CimType.STRING, value)
    text = to_cimxml(inst)
    assert f"<VALUE>{escaped}</VALUE>" in text
    assert parse_cimxml(text).value("S") == value


def test_references_and_nested_instances() -> None:
    vssd = EPR.make(f"{V2}/Msvm_VirtualSystemSettingData", {"InstanceID": "Microsoft:1"})
    inner = EmbeddedInstance("Msvm_Inner").set("When", CimType.DATETIME, timedelta(hours=2))
    inst = (
        EmbeddedInstance("Msvm_Outer")
        .set("Parent", CimType.REFERENCE, vssd)
        .set("Missing", CimType.REFERENCE, None)
        .set("Child", CimType.INSTANCE, inner)
        .set("At", CimType.DATETIME, datetime(2024, 3, 1, tzinfo=UTC))
    )
    text = to_cimxml(inst)
    assert (
        '<PROPERTY.REFERENCE NAME="Parent" REFERENCECLASS="Msvm_VirtualSystemSettingData">'
        '<VALUE.REFERENCE><LOCALINSTANCEPATH><LOCALNAMESPACEPATH><NAMESPACE NAME="root"/>'
        '<NAMESPACE NAME="virtualization"/><NAMESPACE NAME="v2"/></LOCALNAMESPACEPATH>'
        '<INSTANCENAME CLASSNAME="Msvm_VirtualSystemSettingData"><KEYBINDING NAME="InstanceID">'
        '<KEYVALUE VALUETYPE="string">Microsoft:1</KEYVALUE></KEYBINDING></INSTANCENAME>'
        "</LOCALINSTANCEPATH></VALUE.REFERENCE></PROPERTY.REFERENCE>"
    ) in text
    assert (
        '<PROPERTY NAME="Child" TYPE="string" EmbeddedObject="instance"><VALUE>&lt;INSTANCE' in text
    )
    assert "<VALUE>20240301000000.000000+000</VALUE>" in text
    assert parse_cimxml(text) == inst


def test_reads_other_reference_forms() -> None:
    text = (
        '<INSTANCE CLASSNAME="X">'
        '<PROPERTY.REFERENCE NAME="A"><VALUE.REFERENCE><INSTANCEPATH><NAMESPACEPATH>'
        '<HOST>hv01</HOST><LOCALNAMESPACEPATH><NAMESPACE NAME="root"/><NAMESPACE NAME="cimv2"/>'
        '</LOCALNAMESPACEPATH></NAMESPACEPATH><INSTANCENAME CLASSNAME="Win32_OperatingSystem">'
        "</INSTANCENAME></INSTANCEPATH></VALUE.REFERENCE></PROPERTY.REFERENCE>"
        '<PROPERTY.REFERENCE NAME="B"><VALUE.REFERENCE><INSTANCENAME CLASSNAME="Msvm_Y">'
        '<KEYVALUE VALUETYPE="string">only</KEYVALUE></INSTANCENAME></VALUE.REFERENCE>'
        "</PROPERTY.REFERENCE>"
        '<QUALIFIER NAME="Ignored" TYPE="boolean"><VALUE>true</VALUE></QUALIFIER>'
        '<PROPERTY NAME="Untyped"><VALUE>text</VALUE></PROPERTY>'
        '<PROPERTY.ARRAY NAME="Empty" TYPE="uint8"/>'
        "</INSTANCE>"
    )
    inst = parse_cimxml(f"  \n{text}\n")
    assert inst.properties == {
        "A": (CimType.REFERENCE, EPR.make(f"{WMI_RESOURCE_BASE}root/cimv2/Win32_OperatingSystem")),
        # No namespace in the reference: the Hyper-V v2 namespace is assumed.
        "B": (CimType.REFERENCE, EPR.make(f"{V2}/Msvm_Y", {"": "only"})),
        "Untyped": (CimType.STRING, "text"),
        "Empty": (CimType.UINT8, None),
    }


def test_cdata_values_inside_cimxml() -> None:
    text = (
        '<INSTANCE CLASSNAME="X"><PROPERTY NAME="S" TYPE="string">'
        "<VALUE><![CDATA[<a&b>]]></VALUE></PROPERTY></INSTANCE>"
    )
    assert parse_cimxml(text).value("S") == "<a&b>"


MALFORMED = [
    ("", "empty"),
    ("not xml", "not well-formed"),
    ('<INSTANCE CLASSNAME="X">', "truncated"),
    ("<CLASS NAME='X'/>", "expected INSTANCE"),
    ("<INSTANCE/>", "no CLASSNAME"),
    ('<INSTANCE CLASSNAME="X"><PROPERTY TYPE="string"/></INSTANCE>', "no NAME"),
    ('<INSTANCE CLASSNAME="X"><PROPERTY NAME="n" TYPE="uint7"/></INSTANCE>', "unknown TYPE"),
    ('<INSTANCE CLASSNAME="X"><METHOD NAME="m"/></INSTANCE>', "unexpected element"),
    (
        '<INSTANCE CLASSNAME="X"><PROPERTY NAME="n" TYPE="uint8"><VALUE>256</VALUE>'
        "</PROPERTY></INSTANCE>",
        "uint8",
    ),
    (
        '<INSTANCE CLASSNAME="X"><PROPERTY.REFERENCE NAME="r"><VALUE.REFERENCE/>'
        "</PROPERTY.REFERENCE></INSTANCE>",
        "no INSTANCENAME",
    ),
    (
        '<INSTANCE CLASSNAME="X"><PROPERTY.REFERENCE NAME="r"><VALUE.REFERENCE><INSTANCENAME/>'
        "</VALUE.REFERENCE></PROPERTY.REFERENCE></INSTANCE>",
        "no CLASSNAME",
    ),
    ('<!DOCTYPE INSTANCE [<!ENTITY e "x">]><INSTANCE CLASSNAME="&e;"/>', "DOCTYPE"),
]


@pytest.mark.parametrize(("text", "words"), MALFORMED)
def test_malformed_cimxml(text: str, words: str) -> None:
    with pytest.raises(ProtocolError, match=words):
        parse_cimxml(text)


def test_values_xml_cannot_carry_are_refused_when_writing() -> None:
    with pytest.raises(ValueError):
        to_cimxml(EmbeddedInstance("X").set("S", CimType.STRING, "bell\x07"))
    with pytest.raises(TypeError):
        to_cimxml(EmbeddedInstance("X").set("R", CimType.REFERENCE, "not an EPR"))


@settings(max_examples=80, deadline=None)
@given(embedded_instances(depth=2))
def test_round_trip(inst: EmbeddedInstance) -> None:
    assert parse_cimxml(to_cimxml(inst)) == inst
