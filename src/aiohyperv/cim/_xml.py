"""The one hardened XML parser every aiohyperv layer parses untrusted bytes with.

It lives in ``cim`` (the bottom of the dependency graph) because both ``cim.parse_cimxml`` and
``wsman.parse_response`` need it.  lxml parsers are not safe to share between threads, so each
thread gets its own instance, built once.
"""

from __future__ import annotations

import threading

from lxml import etree

from aiohyperv._exceptions import ProtocolError

__all__ = ["DEFAULT_MAX_SIZE", "parse_xml"]

#: Default cap on the size of one document (32 MiB).  A 1,000-item PullResponse of
#: Msvm_ComputerSystem is about 3 MiB, and Windows' own MaxEnvelopeSize default is 150 KiB.
DEFAULT_MAX_SIZE = 32 * 1024 * 1024

_local = threading.local()


def _parser() -> etree.XMLParser:
    parser: etree.XMLParser | None = getattr(_local, "parser", None)
    if parser is None:
        # No entity expansion (billion laughs), no network (XXE), no DTD loading, libxml2's
        # default depth/size limits (huge_tree=False).  Blank text is kept: it is cheap, and
        # removing it would change string values made only of whitespace.
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            huge_tree=False,
            remove_blank_text=False,
            load_dtd=False,
            dtd_validation=False,
        )
        _local.parser = parser
    return parser


def _at_end(data: bytes, exc: etree.XMLSyntaxError) -> bool:
    """Did the parser fail at the very end of the input (a cut-off document)?"""
    line, column = exc.position
    text = data.rstrip()
    last_line = text.count(b"\n") + 1
    tail = len(text) - (text.rfind(b"\n") + 1)
    return line >= last_line and column >= tail


def parse_xml(data: bytes | str, *, what: str, max_size: int = DEFAULT_MAX_SIZE) -> etree._Element:
    """Parse one untrusted document; every failure is a ``ProtocolError`` naming what was wrong.

    Args:
        data: the document.  ``str`` is accepted for CIM-XML taken out of element text.
        what: names the document in error messages ("response", "request", "CIM-XML").
        max_size: refuse documents larger than this many bytes (characters for ``str``).

    Raises:
        ProtocolError: empty, oversize, not well-formed or truncated input, or a DOCTYPE.
    """
    size = len(data)
    if size == 0:
        raise ProtocolError(f"{what} is empty, expected an XML document")
    if size > max_size:
        raise ProtocolError(f"{what} is {size} bytes, larger than the {max_size}-byte limit")
    if isinstance(data, str):
        # lxml refuses str with an encoding declaration; CIM-XML never needs one.
        try:
            data = data.encode("utf-8")
        except UnicodeEncodeError as exc:  # a lone surrogate: no XML document can hold one
            bad = ord(exc.object[exc.start])
            raise ProtocolError(
                f"{what} holds U+{bad:04X} at index {exc.start}, which is not a character"
            ) from None
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        msg = str(exc)
        if _at_end(data, exc) or "Premature end" in msg or "end of data" in msg.lower():
            raise ProtocolError(f"{what} is truncated or not closed: {msg}") from None
        raise ProtocolError(f"{what} is not well-formed XML: {msg}") from None
    except ValueError as exc:  # e.g. unsupported encoding declarations
        raise ProtocolError(f"{what} cannot be parsed as XML: {exc}") from None
    # Entities can only be declared in a DTD, so refusing any DOCTYPE refuses them too
    # (WS-Management forbids DTDs: DSP0226 R13.1-3 / SOAP 1.2 part 1 section 5).
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise ProtocolError(f"{what} has a DOCTYPE declaration, which SOAP forbids")
    return root
