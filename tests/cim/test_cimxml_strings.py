"""cimxml_strings: the named string properties of CIM-XML text, untyped."""

from __future__ import annotations

import pytest

from aiohyperv import ProtocolError
from aiohyperv.cim import CimType, EmbeddedInstance, _cimxml, to_cimxml
from aiohyperv.cim._cimxml import cimxml_strings, cimxml_strings_each
from aiohyperv.cim._xml import parse_xml as real_parse_xml

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


def _each_alone(texts: list[str]) -> list[dict[str, str | None] | None]:
    out: list[dict[str, str | None] | None] = []
    for text in texts:
        try:
            out.append(cimxml_strings(text, NAMES))
        except ProtocolError:
            out.append(None)
    return out


def _counting_parses(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    parse = real_parse_xml

    def counted(*args: object, **kwargs: object) -> object:
        calls.append(1)
        return parse(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(_cimxml, "parse_xml", counted)
    return calls


def test_each_reads_well_formed_items_in_one_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = [_item(Name=f"K{i}", Data=f"v{i} <&>") for i in range(6)] + [_item(Name="N")]
    expected = _each_alone(texts)
    calls = _counting_parses(monkeypatch)
    assert cimxml_strings_each(texts, NAMES) == expected
    assert len(calls) == 1
    assert cimxml_strings_each([], NAMES) == []


@pytest.mark.parametrize(
    "bad",
    [
        "<not xml",
        "",
        '<INSTANCE CLASSNAME="c"><PROPERTY NAME="Name" TYPE="uint16"><VALUE>1</VALUE></PROPERTY>'
        "</INSTANCE>",
        '<!DOCTYPE x [<!ENTITY a "b">]><INSTANCE CLASSNAME="c"/>',
        '<INSTANCE CLASSNAME="c"/>trailing text',
        '<INSTANCE CLASSNAME="c"/><INSTANCE CLASSNAME="d"/>',
        '<INSTANCE CLASSNAME="c"><!-- a comment --></INSTANCE>',
    ],
)
def test_each_gives_what_each_alone_gives(bad: str) -> None:
    texts = [_item(Name="A", Data="1"), bad, _item(Name="B", Data="2")]
    assert cimxml_strings_each(texts, NAMES) == _each_alone(texts)


def test_each_is_not_fooled_by_an_element_spanning_two_items() -> None:
    # Neither is a document alone, yet together they would be one INSTANCE holding another.
    opened = (
        '<INSTANCE CLASSNAME="c"><PROPERTY NAME="Name" TYPE="string"><VALUE>x</VALUE></PROPERTY>'
    )
    closed = '<INSTANCE CLASSNAME="d"/></INSTANCE>'
    texts = [opened, closed, _item(Name="B")]
    assert cimxml_strings_each(texts, NAMES) == [None, None, {"Name": "B"}]
