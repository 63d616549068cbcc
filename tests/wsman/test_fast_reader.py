"""The instance reader's caches and its inlined paths give what the general loop gives."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from lxml import etree

from aiohyperv.cim import CimDateTime, CimInstance
from aiohyperv.cim._epr import EPR
from aiohyperv.wsman import _items
from aiohyperv.wsman._items import _properties_generic, parse_instance, parse_properties

if TYPE_CHECKING:
    from aiohyperv.cim._instance import PropertyValue

NS_P = "urn:fast-reader/Msvm_X"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
CIM = "http://schemas.dmtf.org/wbem/wscim/1/common"
A = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
W = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
DECLS = f'xmlns:p="{NS_P}" xmlns:xsi="{XSI}" xmlns:cim="{CIM}" xmlns:a="{A}" xmlns:w="{W}"'


def instance(children: str, cls: str = "Msvm_X") -> etree._Element:
    return etree.fromstring(f"<p:{cls} {DECLS}>{children}</p:{cls}>")


@pytest.fixture
def empty_caches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_items, "_LOCAL_NAMES", {})
    monkeypatch.setattr(_items, "_INSTANCE_TAGS", {})


@pytest.fixture
def generic_calls(monkeypatch: pytest.MonkeyPatch) -> list[etree._Element]:
    """Record each element that goes through the general loop."""
    calls: list[etree._Element] = []

    def spy(elem: etree._Element) -> dict[str, PropertyValue]:
        calls.append(elem)
        return _properties_generic(elem)

    monkeypatch.setattr(_items, "_properties_generic", spy)
    return calls


@pytest.mark.usefixtures("empty_caches")
def test_first_sight_learns_the_names_then_the_fast_loop_reads_the_same(
    generic_calls: list[etree._Element],
) -> None:
    elem = instance('<p:A>1</p:A><p:B xsi:nil="true"/><p:C/><p:A>2</p:A><p:D>x</p:D>')
    expected = {"A": ["1", "2"], "B": None, "C": "", "D": "x"}
    assert parse_properties(elem) == expected
    assert generic_calls == [elem]  # unknown tags: learnt, read by the general loop
    assert _items._LOCAL_NAMES == {f"{{{NS_P}}}{n}": n for n in "ABCD"}
    assert parse_properties(elem) == expected
    assert generic_calls == [elem]  # second time: the fast loop alone


@pytest.mark.usefixtures("empty_caches")
def test_instances_share_one_string_per_name_and_class() -> None:
    first, second, third = (
        parse_instance(instance(f"<p:Name>{v}</p:Name>")) for v in ("a", "b", "c")
    )
    assert (first.class_name, first.resource_uri) == ("Msvm_X", NS_P)
    assert first.class_name is second.class_name is third.class_name
    assert first.resource_uri is second.resource_uri is third.resource_uri
    # The first instance taught the cache; the next ones share its string.
    assert [next(iter(i.properties)) for i in (first, second, third)] == ["Name"] * 3
    assert next(iter(second.properties)) is next(iter(third.properties))


@pytest.mark.usefixtures("empty_caches")
def test_caches_are_bounded(
    monkeypatch: pytest.MonkeyPatch, generic_calls: list[etree._Element]
) -> None:
    monkeypatch.setattr(_items, "_MAX_CACHED_TAGS", 5)
    children = "".join(f"<p:N{i}>{i}</p:N{i}>" for i in range(12)) + "<p:N3>x</p:N3>"
    elem = instance(children)
    expected = {f"N{i}": str(i) for i in range(12)} | {"N3": ["3", "x"]}
    for _ in range(3):  # never all cached at once: the general loop every time, still right
        assert parse_properties(elem) == expected
        assert len(_items._LOCAL_NAMES) <= 5
    assert len(generic_calls) == 3
    for i in range(12):
        inst = parse_instance(instance("<p:N0>0</p:N0>", cls=f"Msvm_C{i}"))
        assert inst.class_name == f"Msvm_C{i}"
        assert inst.resource_uri == NS_P
        assert len(_items._INSTANCE_TAGS) <= 5


@pytest.mark.usefixtures("empty_caches")
def test_overlong_tags_are_read_but_not_cached(generic_calls: list[etree._Element]) -> None:
    namespace = "urn:" + "x" * 600
    xml = f'<q:Big xmlns:q="{namespace}"><q:A>1</q:A><q:B/><q:A>2</q:A></q:Big>'
    for _ in range(2):
        inst = parse_instance(etree.fromstring(xml))
        assert inst == CimInstance("Big", namespace, {"A": ["1", "2"], "B": ""})
    assert len(generic_calls) == 2  # never cached: the general loop each time
    assert _items._LOCAL_NAMES == {}
    assert _items._INSTANCE_TAGS == {}


def test_instance_without_namespace() -> None:
    inst = parse_instance(etree.fromstring("<Plain><A>1</A><B/></Plain>"))
    assert inst == CimInstance("Plain", None, {"A": "1", "B": ""})


def test_comment_in_an_instance_of_a_known_class(generic_calls: list[etree._Element]) -> None:
    clean = instance("<p:A>1</p:A><p:B>2</p:B>")
    assert parse_properties(clean) == {"A": "1", "B": "2"}  # the names are now cached
    generic_calls.clear()
    commented = instance("<p:A>1</p:A><!-- note --><?pi x?><p:B>2</p:B>")
    assert parse_properties(commented) == {"A": "1", "B": "2"}
    assert generic_calls == [commented]


DT = "<cim:Datetime>2024-03-01T08:00:00Z</cim:Datetime>"


@pytest.mark.parametrize(
    ("children", "expected"),
    [
        (f"<p:T>{DT}</p:T>", CimDateTime(text="2024-03-01T08:00:00Z", kind="Datetime")),
        (
            "<p:T><cim:Interval> P1DT2H </cim:Interval></p:T>",
            CimDateTime(text="P1DT2H", kind="Interval"),
        ),
        # Projections write the datetime element without a namespace.
        (
            "<p:T><Datetime>2024-01-01T00:00:00Z</Datetime></p:T>",
            CimDateTime(text="2024-01-01T00:00:00Z"),
        ),
        # A comment before the value, pretty-printing, nil beside a value: as before.
        (f"<p:T><!-- c -->{DT}</p:T>", CimDateTime(text="2024-03-01T08:00:00Z")),
        (f"<p:T>\n  {DT}\n</p:T>", CimDateTime(text="2024-03-01T08:00:00Z")),
        (f'<p:T xsi:nil="true">{DT}</p:T>', CimDateTime(text="2024-03-01T08:00:00Z")),
        ("<p:T><!-- only a comment --></p:T>", ""),
        ("<p:T><cim:Date>2024-01-01</cim:Date></p:T>", CimDateTime(text="2024-01-01", kind="Date")),
        ("<p:T><cim:Whatever>w</cim:Whatever></p:T>", CimDateTime(text="w", kind="Whatever")),
        ("<p:T><cim:Datetime/></p:T>", CimDateTime(text="")),
        (
            "<p:T><a:Address>x</a:Address><a:ReferenceParameters>"
            "<w:ResourceURI>urn:r/C</w:ResourceURI></a:ReferenceParameters></p:T>",
            EPR("urn:r/C", (), "x"),
        ),
        (
            f'<p:T xmlns:e="urn:e/E" xsi:type="e:E_Type"><e:V>1</e:V>{""}</p:T>',
            CimInstance("E", "urn:e/E", {"V": "1"}),
        ),
        ('<p:T xsi:nil="1"/>', None),
        ('<p:T xsi:nil="false"/>', ""),
        ("<p:T>   </p:T>", "   "),
    ],
)
def test_structured_values(children: str, expected: PropertyValue) -> None:
    elem = instance(f"<p:Before>b</p:Before>{children}<p:After>a</p:After>")
    want = {"Before": "b", "T": expected, "After": "a"}
    assert _properties_generic(elem) == want
    assert parse_properties(elem) == want  # first sight (or not: other tests ran)
    assert parse_properties(elem) == want  # names cached: the fast loop
