"""A man-in-the-middle that mutates the instances in real simulator traffic.

:class:`MutatingProxy` forwards every request to a simulated host and rewrites the response:
chosen properties of every instance (enumeration items, Get bodies, method outputs) are dropped,
duplicated, emptied, nulled, given garbage text, turned into nested elements, references or
datetimes, and unexpected properties and foreign-class items are added.  The driver above must
either cope (ignore what it does not need) or raise a typed ``HyperVError`` -- never a
``KeyError``, ``ValueError``, ``TypeError`` or ``AttributeError``.
"""

from __future__ import annotations

import copy
import random
import zlib
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
from lxml import etree

S = "http://www.w3.org/2003/05/soap-envelope"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
A = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
CIM = "http://schemas.dmtf.org/wbem/wscim/1/common"
W = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"

KINDS = (
    "drop",
    "garbage",
    "empty",
    "nil",
    "array",
    "nested",
    "huge",
    "negative",
    "epr",
    "datetime",
    "extra",
    "foreign-item",
)


def _local(tag: object) -> str:
    text = str(tag)
    return text[text.find("}") + 1 :]


def _ns(tag: object) -> str:
    text = str(tag)
    return text[1 : text.find("}")] if text.startswith("{") else ""


@dataclass
class Plan:
    """Which properties to mutate, and how.

    A property is hit when a checksum of its name and the seed falls in ``rate`` (so the same
    names are hit in every response of one run: the driver sees a consistent lie), or, when
    ``names`` is set, when it is one of those; and only in responses whose body mentions one
    of ``only`` when that is set.
    """

    seed: int
    kind: str
    rate: float = 0.2
    only: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    hits: int = 0
    names_hit: set[str] = field(default_factory=set)

    def hit(self, name: str) -> bool:
        if self.names:
            return name in self.names
        return (zlib.crc32(f"{self.seed}:{name}".encode()) % 1000) < self.rate * 1000


def _instances(body: etree._Element) -> list[etree._Element]:
    first = next((c for c in body if isinstance(c.tag, str)), None)
    if first is None or _local(first.tag) == "Fault":
        return []
    if _local(first.tag) not in ("EnumerateResponse", "PullResponse"):
        return [first]
    found: list[etree._Element] = []
    for items in first:
        if _local(items.tag) != "Items":
            continue
        for item in items:
            if not isinstance(item.tag, str) or _local(item.tag) == "EndpointReference":
                continue
            if _local(item.tag) == "Item":
                found += [c for c in item if _local(c.tag) != "EndpointReference"]
            else:
                found.append(item)
    return found


def _clear(prop: etree._Element) -> None:
    for child in list(prop):
        prop.remove(child)
    prop.text = None
    for name in list(prop.attrib):
        del prop.attrib[name]


def _apply(kind: str, inst: etree._Element, prop: etree._Element, rng: random.Random) -> None:
    ns = _ns(prop.tag) or _ns(inst.tag)
    if kind == "drop":
        inst.remove(prop)
    elif kind == "garbage":
        _clear(prop)
        prop.text = rng.choice(["\u2603 not a value", "0x", "1.5e", "{}", "--", "true-ish", " "])
    elif kind == "empty":
        _clear(prop)
    elif kind == "nil":
        _clear(prop)
        prop.set(f"{{{XSI}}}nil", "true")
    elif kind == "array":
        for _ in range(rng.randint(1, 2)):
            prop.addnext(copy.deepcopy(prop))
    elif kind == "nested":
        _clear(prop)
        etree.SubElement(prop, f"{{{ns}}}Bogus").text = "1"
    elif kind == "huge":
        _clear(prop)
        prop.text = "9" * rng.randint(20, 60)
    elif kind == "negative":
        _clear(prop)
        prop.text = "-1"
    elif kind == "epr":
        _clear(prop)
        etree.SubElement(prop, f"{{{A}}}Address").text = "http://evil/"
        ref = etree.SubElement(prop, f"{{{A}}}ReferenceParameters")
        etree.SubElement(ref, f"{{{W}}}ResourceURI").text = "http://evil/x/Evil_Class"
    elif kind == "datetime":
        _clear(prop)
        etree.SubElement(prop, f"{{{CIM}}}Datetime").text = "2020-01-01T00:00:00Z"
    elif kind == "extra":
        extra = etree.Element(f"{{{ns}}}Unexpected_{rng.randrange(100)}")
        extra.text = "surprise"
        prop.addnext(extra)


def mutate(data: bytes, plan: Plan, rng: random.Random) -> bytes:
    """Rewrite the instances in one response envelope according to ``plan``."""
    try:
        root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError:
        return data
    body = root.find(f"{{{S}}}Body")
    if body is None:
        return data
    if plan.only and not any(word in data.decode("utf-8", "replace") for word in plan.only):
        return data
    changed = False
    for inst in _instances(body):
        if plan.kind == "foreign-item":
            parent = inst.getparent()
            if parent is not None and _local(parent.tag) == "Items":
                twin = copy.deepcopy(inst)
                twin.tag = f"{{{_ns(inst.tag) or 'urn:evil'}}}Evil_Foreign"
                inst.addnext(twin)
                changed = True
                plan.hits += 1
            continue
        for prop in list(inst):
            if not isinstance(prop.tag, str):
                continue
            name = _local(prop.tag)
            if plan.hit(name):
                _apply(plan.kind, inst, prop, rng)
                plan.hits += 1
                plan.names_hit.add(name)
                changed = True
    return etree.tostring(root) if changed else data


class MutatingProxy:
    """An HTTP proxy on 127.0.0.1 in front of one simulated host's WS-Man endpoint."""

    def __init__(self, target_url: str, plan: Plan) -> None:
        self.target_url = target_url
        self.plan = plan
        self.rng = random.Random(plan.seed)
        self.requests = 0
        self._client: aiohttp.ClientSession | None = None
        self._server: TestServer | None = None

    async def start(self) -> int:
        self._client = aiohttp.ClientSession()
        app = web.Application()
        app.router.add_post("/wsman", self._handle)
        self._server = TestServer(app, host="127.0.0.1")
        await self._server.start_server()
        return int(self._server.port or 0)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        assert self._client is not None
        body = await request.read()
        headers = {
            k: v for k, v in request.headers.items() if k in ("Authorization", "Content-Type")
        }
        self.requests += 1
        async with self._client.post(self.target_url, data=body, headers=headers) as resp:
            data = await resp.read()
            status = resp.status
            ctype = resp.headers.get("Content-Type", "application/soap+xml;charset=UTF-8")
        if status in (200, 500) and data:
            data = mutate(data, self.plan, self.rng)
        return web.Response(status=status, body=data, headers={"Content-Type": ctype})

    async def aclose(self) -> None:
        if self._server is not None:
            await self._server.close()
        if self._client is not None:
            await self._client.close()
