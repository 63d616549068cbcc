"""Malformed input: every case raises ProtocolError naming what was wrong; nothing else escapes."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aiohyperv._exceptions import ProtocolError, WSManFault
from aiohyperv.simulator._codec import parse_request
from aiohyperv.wsman import Response, parse_enumerate, parse_get, parse_invoke, parse_response

from .files import RESPONSES, SAMPLES, response, sample

if TYPE_CHECKING:
    from collections.abc import Callable

S12 = "http://www.w3.org/2003/05/soap-envelope"
GOOD = sample("01_get_response_win32_logicaldisk_windows.xml")

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE s:Envelope [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>&xxe;</s:Body></s:Envelope>"""

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>&lol4;</s:Body></s:Envelope>"""

PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/evil.dtd"> %remote;]>
<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body/></s:Envelope>"""

DEEP = (
    f'<s:Envelope xmlns:s="{S12}"><s:Body>'.encode()
    + b"<a>" * 5000
    + b"</a>" * 5000
    + b"</s:Body></s:Envelope>"
)

# (id, bytes, words the message must contain)
CASES: list[tuple[str, bytes, str]] = [
    ("empty", b"", "empty"),
    ("not-xml", b"this is not XML", "not well-formed"),
    ("binary", bytes(range(256)), "XML"),
    ("html-error-page", b"<html><body><h1>503 Service Unavailable</h1></body></html>", "html"),
    ("truncated", GOOD[: len(GOOD) // 2], "truncated"),
    ("truncated-one-byte-short", GOOD.rstrip()[:-1], "truncated"),
    ("json", b'{"error": "nope"}', "not well-formed"),
    (
        "soap11",
        b'<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body/></e:Envelope>',
        "SOAP 1.1",
    ),
    (
        "wrong-envelope-namespace",
        b'<s:Envelope xmlns:s="urn:not-soap"><s:Body/></s:Envelope>',
        "urn:not-soap",
    ),
    ("no-namespace", b"<Envelope><Body/></Envelope>", "namespace ''"),
    ("missing-body", f'<s:Envelope xmlns:s="{S12}"><s:Header/></s:Envelope>'.encode(), "no s:Body"),
    (
        "body-in-wrong-namespace",
        f'<s:Envelope xmlns:s="{S12}" xmlns:x="urn:x"><x:Body/></s:Envelope>'.encode(),
        "not in the SOAP 1.2 namespace",
    ),
    ("xxe-entity", XXE, "DOCTYPE"),
    ("billion-laughs", LAUGHS, "DOCTYPE"),
    ("parameter-entity", PARAMETER_ENTITY, "DOCTYPE"),
    (
        "bare-doctype",
        f'<!DOCTYPE s:Envelope><s:Envelope xmlns:s="{S12}"><s:Body/></s:Envelope>'.encode(),
        "DOCTYPE",
    ),
    ("excessive-depth", DEEP, "XML"),
    (
        "bad-encoding",
        f'<?xml version="1.0" encoding="no-such-codec"?><s:Envelope xmlns:s="{S12}"/>'.encode(),
        "encoding",
    ),
    ("undeclared-prefix", b"<s:Envelope><s:Body/></s:Envelope>", "prefix"),
]


@pytest.mark.parametrize(("data", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
@pytest.mark.parametrize("parse", [parse_response, parse_request], ids=["response", "request"])
def test_malformed_raises_protocol_error(
    parse: Callable[[bytes], object], data: bytes, words: str
) -> None:
    with pytest.raises(ProtocolError) as info:
        parse(data)
    assert words.lower() in str(info.value).lower(), str(info.value)


def test_xxe_never_reads_the_file() -> None:
    with pytest.raises(ProtocolError) as info:
        parse_response(XXE)
    assert "root:" not in str(info.value)


@pytest.mark.parametrize("parse", [parse_response, parse_request], ids=["response", "request"])
def test_oversize_refused_before_parsing(parse: Callable[..., object]) -> None:
    with pytest.raises(ProtocolError, match=r"larger than the 1000-byte limit"):
        parse(GOOD, max_size=1000)
    # The same document under the limit is fine.
    parse_response(GOOD, max_size=len(GOOD))


def _resp(body: str) -> Response:
    return parse_response(
        f'<s:Envelope xmlns:s="{S12}" xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration"'
        ' xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xmlns:p="urn:p"'
        ' xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing">'
        f"<s:Body>{body}</s:Body></s:Envelope>".encode()
    )


BODY_CASES: list[tuple[str, Callable[[Response], object], str, str]] = [
    ("get-empty-body", parse_get, "", "empty Body"),
    ("enumerate-empty-body", parse_enumerate, "", "empty Body"),
    ("enumerate-wrong-body", parse_enumerate, "<p:Foo/>", "'Foo'"),
    (
        "enumerate-no-context-no-end",
        parse_enumerate,
        "<n:PullResponse><n:Items/></n:PullResponse>",
        "neither an EnumerationContext nor EndOfSequence",
    ),
    (
        "end-of-sequence-in-foreign-namespace",
        parse_enumerate,
        '<n:PullResponse><x:EndOfSequence xmlns:x="urn:x"/></n:PullResponse>',
        "neither",
    ),
    (
        "epr-item-without-resource-uri",
        parse_enumerate,
        "<n:PullResponse><n:Items><a:EndpointReference><a:Address>x</a:Address>"
        "</a:EndpointReference></n:Items><n:EndOfSequence/></n:PullResponse>",
        "no w:ResourceURI",
    ),
    (
        "object-and-epr-item-without-instance",
        parse_enumerate,
        "<n:PullResponse><n:Items><w:Item/></n:Items><n:EndOfSequence/></n:PullResponse>",
        "w:Item holds no instance",
    ),
    (
        "invoke-wrong-method",
        lambda r: parse_invoke(r, "Start"),
        "<p:Stop_OUTPUT><p:ReturnValue>0</p:ReturnValue></p:Stop_OUTPUT>",
        "expected Start_OUTPUT, got 'Stop_OUTPUT'",
    ),
    (
        "invoke-return-value-not-int",
        lambda r: parse_invoke(r, "Start"),
        "<p:Start_OUTPUT><p:ReturnValue>zero</p:ReturnValue></p:Start_OUTPUT>",
        "'zero' is not an integer",
    ),
    (
        "invoke-return-value-array",
        lambda r: parse_invoke(r, "Start"),
        "<p:Start_OUTPUT><p:ReturnValue>0</p:ReturnValue><p:ReturnValue>1</p:ReturnValue>"
        "</p:Start_OUTPUT>",
        "not a single value",
    ),
]


@pytest.mark.parametrize(
    ("parse", "body", "words"), [c[1:] for c in BODY_CASES], ids=[c[0] for c in BODY_CASES]
)
def test_unexpected_bodies(parse: Callable[[Response], object], body: str, words: str) -> None:
    resp = _resp(body)
    with pytest.raises(ProtocolError) as info:
        parse(resp)
    assert words in str(info.value)


_ALL_FIXTURES = [p.read_bytes() for p in sorted(SAMPLES.glob("*.xml"))] + [
    p.read_bytes() for p in sorted(RESPONSES.glob("*.xml"))
]


def _consume(data: bytes) -> None:
    """Parse as far as the layer goes; only ProtocolError and WSManFault may escape."""
    try:
        resp = parse_response(data)
        if resp.body is not None:
            tag = str(resp.body.tag)
            if tag.endswith(("EnumerateResponse", "PullResponse")):
                for item in parse_enumerate(resp).items:
                    repr(item)
            elif tag.endswith("_OUTPUT"):
                parse_invoke(resp, tag.rpartition("}")[2][: -len("_OUTPUT")])
            else:
                parse_get(resp)
    except (ProtocolError, WSManFault):
        pass
    try:
        parse_request(data)
    except ProtocolError:
        pass


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=st.sampled_from(_ALL_FIXTURES), data=st.data())
def test_truncations_and_mutations_only_raise_protocol_errors(
    doc: bytes, data: st.DataObject
) -> None:
    cut = data.draw(st.integers(min_value=0, max_value=len(doc)), label="cut")
    _consume(doc[:cut])
    pos = data.draw(st.integers(min_value=0, max_value=len(doc) - 1), label="pos")
    byte = data.draw(st.integers(min_value=0, max_value=255), label="byte")
    _consume(doc[:pos] + bytes([byte]) + doc[pos + 1 :])


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_only_raise_protocol_errors(data: bytes) -> None:
    _consume(data)


def test_fixture_smoke() -> None:
    # The fuzz corpus really is parseable to begin with.
    assert parse_enumerate(parse_response(response("pull_end.xml"))).end_of_sequence
