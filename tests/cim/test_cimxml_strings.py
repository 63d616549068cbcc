"""cimxml_strings: the named string properties of CIM-XML text, untyped."""

from __future__ import annotations

import pytest

from aiohyperv import ProtocolError
from aiohyperv.cim import CimType, EmbeddedInstance, to_cimxml
from aiohyperv.cim._cimxml import cimxml_strings

NAMES = frozenset({"Name", "Data"})


def _item(**values: str | None) -> str:
    emb = EmbeddedInstance("Msvm_KvpExchangeDataItem")
    emb.set("Caption", CimType.STRING, None)
    for name, value in values.items():
        emb.set(name, CimType.STRING, value)
    emb.set("Source", CimType.UINT16, 2)
    return to_cimxml(emb)


def test_reads_only_the_named_strings() -> None:
    assert cimxml_strings(_item(Name="OSName", Data="Linux"), NAMES) == {
        "Name": "OSName",
        "Data": "Linux",
    }


def test_null_is_none_and_absent_is_absent() -> None:
    assert cimxml_strings(_item(Name="OSName", Data=None), NAMES) == {
        "Name": "OSName",
        "Data": None,
    }
    assert cimxml_strings(_item(Name="OSName"), NAMES) == {"Name": "OSName"}


def test_empty_value_is_empty_string() -> None:
    assert cimxml_strings(_item(Name="X", Data=""), NAMES)["Data"] == ""


@pytest.mark.parametrize(
    "text",
    [
        "<not xml",
        "",
        '<CLASS NAME="x"/>',
        '<INSTANCE CLASSNAME="c"><PROPERTY NAME="Name" TYPE="uint16"><VALUE>1</VALUE></PROPERTY>'
        "</INSTANCE>",
        '<INSTANCE CLASSNAME="c"><PROPERTY.ARRAY NAME="Data" TYPE="string"/></INSTANCE>',
        '<!DOCTYPE x [<!ENTITY a "b">]><INSTANCE CLASSNAME="c"/>',
    ],
)
def test_refuses_what_is_not_an_instance_with_string_properties(text: str) -> None:
    with pytest.raises(ProtocolError):
        cimxml_strings(text, NAMES)
