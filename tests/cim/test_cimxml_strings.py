"""cimxml_strings: the named string properties of CIM-XML text, untyped."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

import pytest

from aiohyperv import ProtocolError
from aiohyperv.cim import CimType, EmbeddedInstance, to_cimxml
from aiohyperv.cim._cimxml import _flat_strings, _tree_strings, cimxml_strings

if TYPE_CHECKING:
    from collections.abc import Callable

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


# What WMI itself writes (GetText of an embedded Msvm_KvpExchangeDataItem): PROPAGATED
# attributes, empty elements written open and closed.  The flat reader must take this shape.
WMI_ITEM = (
    '<INSTANCE CLASSNAME="Msvm_KvpExchangeDataItem">'
    '<PROPERTY NAME="Caption" PROPAGATED="true" TYPE="string"></PROPERTY>'
    '<PROPERTY NAME="Data" TYPE="string"><VALUE>WIN-7D2K.corp.example.com</VALUE></PROPERTY>'
    '<PROPERTY NAME="Description" PROPAGATED="true" TYPE="string"></PROPERTY>'
    '<PROPERTY NAME="ElementName" PROPAGATED="true" TYPE="string"></PROPERTY>'
    '<PROPERTY NAME="Name" TYPE="string"><VALUE>FullyQualifiedDomainName</VALUE></PROPERTY>'
    '<PROPERTY NAME="Source" TYPE="uint16"><VALUE>2</VALUE></PROPERTY>'
    "</INSTANCE>"
)


def _either(text: str, read: Callable[[str, frozenset[str]], object]) -> object:
    try:
        return read(text.strip(), NAMES)
    except ProtocolError:
        return ProtocolError


def test_the_flat_reader_takes_what_wmi_and_the_simulator_write() -> None:
    assert _flat_strings(WMI_ITEM, NAMES) == {
        "Data": "WIN-7D2K.corp.example.com",
        "Name": "FullyQualifiedDomainName",
    }
    simulated = _item(Name="OSName", Data="Windows Server 2022 Standard")
    assert _flat_strings(simulated, NAMES) == {
        "Name": "OSName",
        "Data": "Windows Server 2022 Standard",
    }
    assert _flat_strings(_item(Name="OSName", Data=None), NAMES) == {"Name": "OSName", "Data": None}


# Pieces that change what an XML parser reads, or make the text not XML at all.
_TRICKS = [
    "&amp;",
    "&lt;",
    "&#65;",
    "&#0;",
    "&bogus;",
    "&",
    "<",
    ">",
    "]]>",
    "\r",
    "\r\n",
    "\n",
    "\t",
    " ",
    "\x01",
    "\x0b",
    "\ufffe",
    "\ud800",
    "\x85",
    "\u00e9",
    "\U0001f600",
    '"',
    "'",
    "/",
    "<!-- c -->",
    "<![CDATA[x<y]]>",
    "<?pi x?>",
    "<VALUE>",
    "</VALUE>",
    "<PROPERTY>",
    ' NAME="Data"',
    ' TYPE="uint16"',
    ' TYPE="string"',
    ' NAME="Name"',
    ' xmlns="urn:x"',
    ' xml:lang="en"',
    " NAME='Data'",
    ' NAME = "Data"',
    '<PROPERTY NAME="Data" TYPE="string"/>',
    '<PROPERTY.ARRAY NAME="Data" TYPE="string"></PROPERTY.ARRAY>',
    "<!DOCTYPE x>",
]


def test_the_flat_reader_agrees_with_the_parser_on_mutated_items() -> None:
    # Each mutation inserts, replaces or deletes at a random place in a real-shaped item; the
    # reader used by cimxml_strings must give exactly what the parser gives (or both refuse).
    rng = random.Random(20261203)
    bases = [WMI_ITEM, _item(Name="OSName", Data="Linux"), _item(Name="X", Data=None)]
    flat_taken = 0
    for n in range(6000):
        text = rng.choice(bases)
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(text) + 1)
            piece = rng.choice(_TRICKS)
            action = rng.random()
            if action < 0.5:
                text = text[:at] + piece + text[at:]
            elif action < 0.8:
                text = text[:at] + piece + text[at + len(piece) :]
            else:
                text = text[:at] + text[at + rng.randint(1, 8) :]
        flat = _flat_strings(text.strip(), NAMES)
        expected = _either(text, _tree_strings)
        if flat is not None:
            flat_taken += 1
            assert flat == expected, (n, text)
        assert _either(text, cimxml_strings) == expected, (n, text)
    assert flat_taken > 100  # the mutations do not all leave WMI's shape


def test_the_flat_reader_leaves_long_unclosed_text_to_the_parser() -> None:
    # Possessive quantifiers, one forward pass: megabytes of almost-matching text are refused
    # (and then refused by the parser too) rather than backtracked over.
    head = '<INSTANCE CLASSNAME="c"><PROPERTY NAME="Data" TYPE="string"><VALUE>'
    for text in (head + "x" * 2_000_000 + "</INSTANCE>", head + "</VALUE>" * 200_000):
        assert _flat_strings(text, NAMES) is None
        with pytest.raises(ProtocolError):
            cimxml_strings(text, NAMES)
