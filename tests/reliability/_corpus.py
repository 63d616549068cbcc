"""The hostile-response corpus: what a broken or malicious WinRM endpoint may send, as data.

Each :class:`Case` says what the server does and which typed error the client must raise (and
words its message must contain).  The tests in ``test_hostile_responses.py`` run every case
against a real ``WSManSession`` operation and against ``aiohyperv.connect()``, on 127.0.0.1.

Three kinds of answer:

* a :class:`Reply`: one HTTP response, served by aiohttp (body bytes, or a lazy generator
  streamed in chunks, possibly with a delay between chunks);
* a :class:`RawReply`: a script that writes raw bytes to the socket (below HTTP);
* a responder function: a Reply chosen by the request's WS-Man action (enumeration and
  invoke cases, which need a conversation).
"""

from __future__ import annotations

import asyncio
import gzip
import socket
import struct
import zlib
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from aiohyperv._exceptions import (
    AuthenticationError,
    ConnectError,
    HTTPStatusError,
    HyperVError,
    InternalError,
    InvalidEnumerationContext,
    OperationTimedOut,
    ProtocolError,
    TransportTimeout,
)
from aiohyperv.cim import CimInstance
from aiohyperv.simulator._codec import (
    build_enumerate_response,
    build_fault,
    build_identify_response,
    build_invoke_response,
    build_pull_response,
    build_response,
)
from aiohyperv.wsman import NAMESPACE_CIMV2, NAMESPACE_V2, Action, resource_uri

if TYPE_CHECKING:
    from aiohyperv.simulator._codec import Request

    from .conftest import Served

SOAP = "application/soap+xml;charset=UTF-8"
S12 = "http://www.w3.org/2003/05/soap-envelope"
GB = 1 << 30
CHUNK = 64 * 1024

#: A local file the XXE cases point at; its marker must never appear anywhere.
SECRET_FILE = Path(__file__).parent / "corpus" / "xxe-target.txt"
SECRET_MARKER = "AIOHYPERV-XXE-CANARY-7f3c1e"

OS_URI = resource_uri(NAMESPACE_CIMV2, "Win32_OperatingSystem")
CS_URI = resource_uri(NAMESPACE_V2, "Msvm_ComputerSystem")


@dataclass(frozen=True)
class Reply:
    """One HTTP response.

    Attributes:
        body: bytes, or a factory of a lazy chunk iterator (streamed, never built whole).
        status: HTTP status.
        content_type: the Content-Type header (None: no such header).
        headers: further headers.
        content_length: declared length for a streamed body (None: chunked encoding).
        chunk_delay: seconds between streamed chunks (a trickle).
        stream: send ``bytes`` through the streaming path too.
        delay: seconds to wait before answering at all.
    """

    body: bytes | Callable[[], Iterator[bytes]] = b""
    status: int = 200
    content_type: str | None = SOAP
    headers: tuple[tuple[str, str], ...] = ()
    content_length: int | None = None
    chunk_delay: float = 0.0
    stream: bool = False
    delay: float = 0.0


RawScript: TypeAlias = Callable[
    [asyncio.StreamReader, asyncio.StreamWriter, "Served"], Awaitable[None]
]


@dataclass(frozen=True)
class RawReply:
    """Raw bytes on the socket, below HTTP."""

    script: RawScript


Responder: TypeAlias = Callable[["Request | None"], "Reply | RawReply"]
Answer: TypeAlias = "Reply | RawReply | Responder"

#: Operations a case applies to (see test_hostile_responses.OPS).
ALL_OPS = ("identify", "get", "enumerate", "invoke", "connect")
SLOW_OPS = ("get", "connect")
ENUM_OPS = ("enumerate", "connect")


@dataclass(frozen=True)
class Case:
    """One hostile behaviour and the typed error it must produce."""

    id: str
    answer: Answer
    error: type[HyperVError]
    words: str
    ops: tuple[str, ...] = ALL_OPS
    #: Bodies of a gigabyte or more: the test also bounds bytes read and memory.
    huge: bool = False
    notes: str = field(default="", compare=False)


# --- bodies ---------------------------------------------------------------------------------------
def envelope(body: str, *, header: str = "") -> bytes:
    return (
        f'<s:Envelope xmlns:s="{S12}" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"'
        ' xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration"'
        ' xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd">'
        f"<s:Header>{header}</s:Header><s:Body>{body}</s:Body></s:Envelope>"
    ).encode()


GOOD_IDENTIFY = build_identify_response()
TRUNCATED = GOOD_IDENTIFY[: len(GOOD_IDENTIFY) // 2]

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>&lol9;</s:Body></s:Envelope>"""

# One 40 KB entity referenced 4000 times: 160 MB if expanded, 64 KB on the wire.
QUADRATIC = (
    b'<?xml version="1.0"?><!DOCTYPE s:Envelope [<!ENTITY a "'
    + b"a" * 40_000
    + b'">]><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>'
    + b"&a;" * 4000
    + b"</s:Body></s:Envelope>"
)


def xxe(path: str) -> bytes:
    return (
        f'<?xml version="1.0"?><!DOCTYPE s:Envelope [<!ENTITY xxe SYSTEM "file://{path}">]>'
        f'<s:Envelope xmlns:s="{S12}"><s:Header/><s:Body><x>&xxe;</x></s:Body></s:Envelope>'
    ).encode()


XXE_PARAMETER = (
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/e.dtd">'
    b"%remote;]>" + envelope("").split(b"?>", 1)[-1]
)
XINCLUDE = envelope(
    f'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file://{SECRET_FILE}"'
    ' parse="text"/>'
)
DEEP = envelope("<a>" * 20_000 + "</a>" * 20_000)
HTML = b"<html><head><title>Proxy</title></head><body><h1>Access denied</h1></body></html>"
# Latin-1 bytes (e9 = e-acute) in a document that declares no encoding, so it must be UTF-8.
LATIN1_UNDECLARED = envelope("<x>caf\xe9</x>".replace("\xe9", "@")).replace(b"@", b"\xe9")
UTF16_DECLARED_UTF8 = b'<?xml version="1.0" encoding="UTF-16"?>' + envelope("<x>y</x>")
INVALID_UTF8 = envelope("<x>@</x>").replace(b"@", b"\xc3\x28\xff")
UNKNOWN_ENCODING = b'<?xml version="1.0" encoding="x-no-such-charset"?>' + envelope("")


def zeros(total: int) -> Callable[[], Iterator[bytes]]:
    """A lazy body of ``total`` zero bytes (never held in memory whole)."""

    def chunks() -> Iterator[bytes]:
        block = b"\0" * CHUNK
        sent = 0
        while sent < total:
            piece = block[: min(CHUNK, total - sent)]
            sent += len(piece)
            yield piece

    return chunks


def xml_forever() -> Iterator[bytes]:
    """An endless, well-formed-so-far envelope: the closing tag never comes."""
    yield envelope("").split(b"<s:Body>")[0] + b"<s:Body><x>"
    block = b"<y>" + b"z" * 4000 + b"</y>"
    while True:
        yield block


def compressed_zeros(total: int, *, wbits: int) -> Callable[[], Iterator[bytes]]:
    """``total`` zero bytes as a gzip (``wbits=31``) or zlib (15) stream: a ~1000:1 bomb.

    Compressing a gigabyte takes seconds, so the stream is assembled instead: after a full
    flush every 1 MiB block of zeros compresses to the same ~1 KB, which is repeated; the
    trailer (checksum of the whole gigabyte) is computed only if a client reads that far.
    """

    def chunks() -> Iterator[bytes]:
        comp = zlib.compressobj(9, zlib.DEFLATED, wbits)
        block = bytes(1 << 20)
        yield comp.compress(block) + comp.flush(zlib.Z_FULL_FLUSH)
        again = comp.compress(block) + comp.flush(zlib.Z_FULL_FLUSH)
        for _ in range((total >> 20) - 1):
            yield again
        crc, adler = 0, 1
        for _ in range(total >> 20):
            crc, adler = zlib.crc32(block, crc), zlib.adler32(block, adler)
        final = b"\x03\x00"  # an empty, final, fixed-Huffman block
        if wbits > 15:
            yield final + struct.pack("<II", crc, total & 0xFFFFFFFF)
        else:
            yield final + struct.pack(">I", adler)

    return chunks


def soap_fault(subcode: str, code: int, reason: str = "hostile", status: int = 500) -> Reply:
    return Reply(
        build_fault(
            code="Receiver",
            subcode=subcode,
            reason=reason,
            wsman_code=code,
            machine="evil.example",
        ),
        status=status,
    )


# --- raw scripts ----------------------------------------------------------------------------------
async def _read_request(reader: asyncio.StreamReader) -> None:
    from .conftest import read_request

    await read_request(reader)


def raw_then_close(data: bytes) -> RawReply:
    async def script(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, served: Served
    ) -> None:
        await _read_request(reader)
        writer.write(data)
        served.bytes_sent += len(data)
        await writer.drain()

    return RawReply(script)


async def _silence(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, served: Served
) -> None:
    await _read_request(reader)
    await asyncio.Event().wait()  # accept, read, never answer (until the test closes us)


async def _close_at_once(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, served: Served
) -> None:
    await _read_request(reader)


async def _reset_mid_body(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, served: Served
) -> None:
    await _read_request(reader)
    head = f"HTTP/1.1 200 OK\r\nContent-Type: {SOAP}\r\nContent-Length: 5000\r\n\r\n".encode()
    writer.write(head + GOOD_IDENTIFY[:100])
    await writer.drain()
    sock = writer.get_extra_info("socket")
    # SO_LINGER with a zero timeout: close() sends RST instead of FIN.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def _trickle(head: bytes, tail: Iterator[bytes], delay: float) -> RawScript:
    async def script(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, served: Served
    ) -> None:
        await _read_request(reader)
        writer.write(head)
        for piece in tail:
            writer.write(piece)
            served.bytes_sent += len(piece)
            await writer.drain()
            await asyncio.sleep(delay)

    return script


def _forever(piece: bytes) -> Iterator[bytes]:
    while True:
        yield piece


SLOWLORIS_BODY = _trickle(
    f"HTTP/1.1 200 OK\r\nContent-Type: {SOAP}\r\nContent-Length: 100000\r\n\r\n".encode(),
    _forever(b" "),
    0.05,
)
SLOWLORIS_HEADERS = _trickle(b"HTTP/1.1 200 OK\r\n", _forever(b"X"), 0.05)


async def _endless_headers(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, served: Served
) -> None:
    await _read_request(reader)
    writer.write(b"HTTP/1.1 200 OK\r\n")
    line = b"X-Junk: " + b"j" * 1000 + b"\r\n"
    for _ in range(10_000):  # 10 MB of headers, far past any sane limit
        writer.write(line)
        served.bytes_sent += len(line)
        await writer.drain()


# --- conversation responders ----------------------------------------------------------------------
def _action(req: Request | None) -> str:
    return "" if req is None else req.action


def _relates(req: Request | None) -> str | None:
    return None if req is None else req.message_id


def _os_row() -> CimInstance:
    return CimInstance(
        "Win32_OperatingSystem",
        OS_URI,
        {"Caption": "Microsoft Windows Server 2019 Datacenter", "Version": "10.0.17763"},
    )


def never_ending(items_per_pull: int) -> Responder:
    """An enumeration whose context never reaches EndOfSequence."""

    def respond(req: Request | None) -> Reply:
        items = [_os_row() for _ in range(items_per_pull)]
        if _action(req) == Action.ENUMERATE:
            data = build_enumerate_response(
                items, context="ctx-forever", end_of_sequence=False, relates_to=_relates(req)
            )
        elif _action(req) == Action.RELEASE:
            data = build_response(Action.RELEASE_RESPONSE, relates_to=_relates(req), body=None)
        else:
            data = build_pull_response(
                items, context="ctx-forever", end_of_sequence=False, relates_to=_relates(req)
            )
        return Reply(data)

    return respond


def pull_answers(pull: Reply) -> Responder:
    """Enumerate opens a context (no items); every Pull gets ``pull``; Release is answered."""

    def respond(req: Request | None) -> Reply:
        if _action(req) == Action.ENUMERATE:
            return Reply(
                build_enumerate_response(
                    None, context="ctx-1", end_of_sequence=False, relates_to=_relates(req)
                )
            )
        if _action(req) == Action.RELEASE:
            return Reply(build_response(Action.RELEASE_RESPONSE, relates_to=None, body=None))
        return pull

    return respond


def by_action(**replies: Reply) -> Responder:
    """Answer each action (by its last URI segment) with its Reply; anything else: Identify."""

    def respond(req: Request | None) -> Reply:
        name = _action(req).rpartition("/")[2]
        return replies.get(name, Reply(GOOD_IDENTIFY))

    return respond


def _invoke_output(inner: str) -> Reply:
    return Reply(
        build_response(
            f"{CS_URI}/RequestStateChangeResponse",
            relates_to=None,
            body=f'<p:RequestStateChange_OUTPUT xmlns:p="{CS_URI}">{inner}'
            "</p:RequestStateChange_OUTPUT>",
        )
    )


ITEM_WITH_BAD_EPR = envelope(
    "<n:PullResponse><n:Items><a:EndpointReference><a:Address>x</a:Address>"
    "</a:EndpointReference></n:Items><n:EndOfSequence/></n:PullResponse>"
)
NO_CONTEXT_NO_END = envelope("<n:PullResponse><n:Items/></n:PullResponse>")
TIMED_OUT = soap_fault("TimedOut", 2150858793, "The WS-Management service cannot complete")


CASES: list[Case] = [
    # --- not the XML WS-Management promises -----------------------------------------------------
    Case("not-xml", Reply(b"this is not XML at all"), ProtocolError, "not well-formed"),
    Case("binary-garbage", Reply(bytes(range(256)) * 4), ProtocolError, "XML"),
    Case("empty-200", Reply(b""), ProtocolError, "empty"),
    Case("truncated-xml", Reply(TRUNCATED), ProtocolError, "truncated"),
    Case(
        "wrong-envelope-namespace",
        Reply(b'<s:Envelope xmlns:s="urn:evil"><s:Body/></s:Envelope>'),
        ProtocolError,
        "urn:evil",
    ),
    Case(
        "soap-1.1-envelope",
        Reply(
            b'<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body/>'
            b"</e:Envelope>"
        ),
        ProtocolError,
        "SOAP 1.1",
    ),
    Case("root-not-envelope", Reply(b"<rss><channel/></rss>"), ProtocolError, "not a SOAP"),
    Case("excessive-nesting", Reply(DEEP), ProtocolError, "XML"),
    # --- DTDs and entities ----------------------------------------------------------------------
    # libxml2 itself stops the expansion (amplification limit) before the DOCTYPE check runs.
    Case("billion-laughs", Reply(LAUGHS), ProtocolError, "entity"),
    Case("quadratic-blowup", Reply(QUADRATIC), ProtocolError, "entity"),
    Case("xxe-local-file", Reply(xxe(str(SECRET_FILE))), ProtocolError, "DOCTYPE"),
    Case("xxe-etc-passwd", Reply(xxe("/etc/passwd")), ProtocolError, "DOCTYPE"),
    Case("xxe-parameter-entity-network", Reply(XXE_PARAMETER), ProtocolError, "DOCTYPE"),
    # XInclude is never processed, so the include element is just an unexpected element.
    Case("xinclude-local-file", Reply(XINCLUDE), ProtocolError, "include", ops=("identify",)),
    # --- content type and charset ---------------------------------------------------------------
    Case(
        "html-page-with-200",
        Reply(HTML, content_type="text/html; charset=utf-8"),
        ProtocolError,
        "text/html",
    ),
    Case(
        "json-with-200",
        Reply(b'{"error": "nope"}', content_type="application/json"),
        ProtocolError,
        "application/json",
    ),
    Case(
        "soap-body-labelled-text-plain",
        Reply(GOOD_IDENTIFY, content_type="text/plain; charset=utf-8"),
        ProtocolError,
        "text/plain",
    ),
    Case(
        "latin1-bytes-undeclared",
        Reply(LATIN1_UNDECLARED, content_type="application/soap+xml;charset=ISO-8859-1"),
        ProtocolError,
        "XML",
    ),
    Case(
        "declared-utf16-sent-utf8",
        Reply(UTF16_DECLARED_UTF8),
        ProtocolError,
        "XML",
    ),
    Case("invalid-utf8", Reply(INVALID_UTF8), ProtocolError, "XML"),
    Case("unknown-encoding", Reply(UNKNOWN_ENCODING), ProtocolError, "encoding"),
    # --- HTTP statuses --------------------------------------------------------------------------
    Case(
        "html-500", Reply(HTML, status=500, content_type="text/html"), HTTPStatusError, "HTTP 500"
    ),
    Case(
        "plain-503", Reply(b"busy", status=503, content_type="text/plain"), HTTPStatusError, "503"
    ),
    Case(
        "redirect-elsewhere",
        Reply(b"", status=302, headers=(("Location", "http://127.0.0.1:9/wsman"),)),
        HTTPStatusError,
        "HTTP 302",
    ),
    Case(
        "401-garbage-challenge",
        Reply(b"", status=401, headers=(("WWW-Authenticate", 'Evil realm="\\"", ,,;;'),)),
        AuthenticationError,
        "401",
    ),
    Case("truncated-fault-500", Reply(TRUNCATED, status=500), ProtocolError, "truncated"),
    Case("fault-with-200", soap_fault("InternalError", 2150858773, status=200), InternalError, ""),
    Case(
        "fault-without-code",
        Reply(envelope("<s:Fault/>"), status=500),
        HyperVError,
        "no reason given",
    ),
    # --- size -------------------------------------------------------------------------------
    Case(
        "1gb-declared",
        Reply(zeros(GB), content_length=GB),
        ProtocolError,
        "declares 1073741824 bytes",
        huge=True,
    ),
    Case("1gb-chunked", Reply(zeros(GB)), ProtocolError, "MaxEnvelopeSize", huge=True),
    Case("endless-chunked-xml", Reply(xml_forever), ProtocolError, "MaxEnvelopeSize", huge=True),
    Case(
        "gzip-bomb-1gb",
        Reply(compressed_zeros(GB, wbits=31), headers=(("Content-Encoding", "gzip"),)),
        ProtocolError,
        "MaxEnvelopeSize",
        huge=True,
    ),
    Case(
        "deflate-bomb-1gb",
        Reply(compressed_zeros(GB, wbits=15), headers=(("Content-Encoding", "deflate"),)),
        ProtocolError,
        "MaxEnvelopeSize",
        huge=True,
    ),
    Case(
        "small-gzip-declared-length",
        Reply(
            gzip.compress(b"\0" * (8 << 20)),
            headers=(("Content-Encoding", "gzip"),),
        ),
        ProtocolError,
        "MaxEnvelopeSize",
    ),
    # --- below HTTP ---------------------------------------------------------------------------
    Case("not-http", raw_then_close(b"SSH-2.0-OpenSSH_9.6\r\n"), ProtocolError, "invalid HTTP"),
    Case(
        "bad-status-code",
        raw_then_close(b"HTTP/1.1 9999 Nope\r\nContent-Length: 0\r\n\r\n"),
        ProtocolError,
        "invalid HTTP",
    ),
    Case(
        "endless-headers", RawReply(_endless_headers), ProtocolError, "invalid HTTP", ops=SLOW_OPS
    ),
    Case(
        "bad-chunk-size",
        raw_then_close(
            f"HTTP/1.1 200 OK\r\nContent-Type: {SOAP}\r\nTransfer-Encoding: chunked\r\n\r\n"
            "zz\r\nxyz\r\n".encode()
        ),
        ProtocolError,
        "invalid HTTP",
    ),
    Case(
        "body-shorter-than-content-length",
        raw_then_close(
            f"HTTP/1.1 200 OK\r\nContent-Type: {SOAP}\r\nContent-Length: 9000\r\n\r\n".encode()
            + GOOD_IDENTIFY[:200]
        ),
        ConnectError,
        "cut short",
    ),
    Case("close-without-answer", RawReply(_close_at_once), ConnectError, "closed the connection"),
    Case(
        "reset-mid-body",
        RawReply(_reset_mid_body),
        ConnectError,
        "",
    ),
    Case("silence", RawReply(_silence), TransportTimeout, "no response data", ops=SLOW_OPS),
    Case(
        "slowloris-body",
        RawReply(SLOWLORIS_BODY),
        TransportTimeout,
        "did not complete",
        ops=SLOW_OPS,
    ),
    Case(
        "slowloris-headers",
        RawReply(SLOWLORIS_HEADERS),
        TransportTimeout,
        "did not complete",
        ops=SLOW_OPS,
    ),
    # --- enumerations ---------------------------------------------------------------------------
    Case("enum-never-ends-with-items", never_ending(1), ProtocolError, "did not end", ENUM_OPS),
    Case("enum-never-ends-empty", never_ending(0), ProtocolError, "did not end", ENUM_OPS),
    Case(
        "enum-no-context-no-end",
        pull_answers(Reply(NO_CONTEXT_NO_END)),
        ProtocolError,
        "neither an EnumerationContext nor EndOfSequence",
        ENUM_OPS,
    ),
    Case(
        "enum-identify-instead-of-pull",
        pull_answers(Reply(GOOD_IDENTIFY)),
        ProtocolError,
        "IdentifyResponse",
        ENUM_OPS,
    ),
    Case(
        "enum-epr-without-resource-uri",
        pull_answers(Reply(ITEM_WITH_BAD_EPR)),
        ProtocolError,
        "ResourceURI",
        ENUM_OPS,
    ),
    Case(
        "enum-pull-always-timed-out",
        pull_answers(TIMED_OUT),
        OperationTimedOut,
        "TimedOut",
        ENUM_OPS,
    ),
    Case(
        "enum-context-invalid",
        pull_answers(soap_fault("InvalidEnumerationContext", 2150858767)),
        InvalidEnumerationContext,
        "InvalidEnumerationContext",
        ENUM_OPS,
    ),
    # --- invoke output --------------------------------------------------------------------------
    Case(
        "duplicate-return-value",
        by_action(
            RequestStateChange=_invoke_output(
                "<p:ReturnValue>0</p:ReturnValue><p:ReturnValue>4096</p:ReturnValue>"
            )
        ),
        ProtocolError,
        "not a single value",
        ("invoke",),
    ),
    Case(
        "return-value-not-a-number",
        by_action(RequestStateChange=_invoke_output("<p:ReturnValue>zero</p:ReturnValue>")),
        ProtocolError,
        "not an integer",
        ("invoke",),
    ),
    Case(
        "return-value-is-an-element",
        by_action(RequestStateChange=_invoke_output("<p:ReturnValue><p:X>1</p:X></p:ReturnValue>")),
        ProtocolError,
        "ReturnValue",
        ("invoke",),
    ),
    Case(
        "wrong-output-element",
        by_action(RequestStateChange=Reply(build_invoke_response(CS_URI, "Other", return_value=0))),
        ProtocolError,
        "expected RequestStateChange_OUTPUT",
        ("invoke",),
    ),
    # --- get / identify bodies ------------------------------------------------------------------
    Case(
        "get-empty-body",
        by_action(GetResponse=Reply(envelope("")), Get=Reply(envelope(""))),
        ProtocolError,
        "empty Body",
        ("get",),
    ),
    Case(
        "identify-wrong-body",
        Reply(envelope("<x:Foo xmlns:x='urn:x'/>")),
        ProtocolError,
        "expected IdentifyResponse",
        ("identify",),
    ),
]


def cases_for(op: str, *, huge: bool | None = None) -> list[Case]:
    """The cases that apply to ``op`` (optionally only the huge or only the normal ones)."""
    return [c for c in CASES if op in c.ops and (huge is None or c.huge == huge)]
