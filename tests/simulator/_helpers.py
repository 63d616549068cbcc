"""Shared helpers for the simulator tests: a manual clock, a raw WS-Man client, XML shapes."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp
from lxml import etree

from aiohyperv.wsman import NS, RequestOptions

if TYPE_CHECKING:
    from collections.abc import Iterator

SAMPLES = Path(__file__).parent / "samples"
SOAP = "application/soap+xml;charset=UTF-8"


class ManualClock:
    """A monotonic clock the test moves by hand: simulated time never depends on the machine."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class RawClient:
    """POSTs envelopes to one endpoint with Basic credentials and returns (status, body)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        url: str,
        user: str = "admin",
        password: str = "secret",
    ) -> None:
        self.session = session
        self.url = url
        self.auth = aiohttp.encode_basic_auth(user, password)
        self.options = RequestOptions(to=url)

    async def post(
        self, body: bytes, *, auth: bool = True, content_type: str = SOAP
    ) -> tuple[int, bytes]:
        headers = {"Content-Type": content_type}
        if auth:
            headers["Authorization"] = self.auth
        async with self.session.post(self.url, data=body, headers=headers) as resp:
            return resp.status, await resp.read()


def parse(body: bytes) -> etree._Element:
    """Parse a response strictly (no entities, no network): it must be well-formed XML."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.fromstring(body, parser)


def load_sample(name: str) -> etree._Element:
    """A recorded Windows response from ``samples/``."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)
    root = etree.parse(str(SAMPLES / name), parser).getroot()
    return root


def _local(tag: object) -> str:
    text = str(tag)
    return text.rpartition("}")[2]


def shape(elem: etree._Element) -> tuple[object, ...]:
    """The skeleton of an element: local names, attribute names and child skeletons."""
    children = tuple(shape(c) for c in elem if isinstance(c.tag, str))
    attrs = tuple(sorted(_local(a) for a in elem.attrib))
    return (_local(elem.tag), attrs, children)


def header_names(root: etree._Element) -> list[str]:
    """Local names of the envelope's header children, in order."""
    header = root.find(f"{{{NS['s']}}}Header")
    assert header is not None
    return [_local(c.tag) for c in header if isinstance(c.tag, str)]


def fault_fields(root: etree._Element) -> dict[str, str]:
    """Code, Subcode, Reason, WSManFault Code/Machine of a fault envelope."""
    s, f = NS["s"], NS["f"]
    fault = root.find(f"{{{s}}}Body/{{{s}}}Fault")
    assert fault is not None
    wsman = fault.find(f".//{{{f}}}WSManFault")
    assert wsman is not None

    def text(path: str) -> str:
        found = fault.find(path)
        return (found.text or "") if found is not None else ""

    return {
        "code": text(f"{{{s}}}Code/{{{s}}}Value"),
        "subcode": text(f"{{{s}}}Code/{{{s}}}Subcode/{{{s}}}Value"),
        "reason": text(f"{{{s}}}Reason/{{{s}}}Text"),
        "wsman_code": wsman.get("Code", ""),
        "machine": wsman.get("Machine", ""),
    }


def iter_elements(root: etree._Element, local: str) -> Iterator[etree._Element]:
    """Every descendant element whose local name is ``local``."""
    for elem in root.iter():
        if isinstance(elem.tag, str) and _local(elem.tag) == local:
            yield elem


def split_http_messages(stream: bytes) -> list[tuple[str, dict[str, list[str]], bytes]]:
    """Cut a recorded HTTP/1.1 stream into (start line, headers, body) by Content-Length."""
    messages: list[tuple[str, dict[str, list[str]], bytes]] = []
    pos = 0
    while pos < len(stream):
        end = stream.index(b"\r\n\r\n", pos)
        head = stream[pos:end].decode("latin-1").split("\r\n")
        headers: dict[str, list[str]] = {}
        for line in head[1:]:
            name, _, value = line.partition(":")
            headers.setdefault(name.strip().lower(), []).append(value.strip())
        length = int(headers.get("content-length", ["0"])[0])
        messages.append((head[0], headers, stream[end + 4 : end + 4 + length]))
        pos = end + 4 + length
    return messages
