"""No secret is reachable from any exception aiohyperv raises, through its whole chain.

``str``/``repr`` of the error itself is not enough: a caller (or an error reporter such as
Sentry) walks ``__cause__`` and ``__context__``, prints their reprs and reads their attributes.
aiohttp's ``ClientResponseError`` carries ``request_info``, whose headers hold the
``Authorization`` value sent.  Each failure kind below runs against a real client over Basic
authentication (the token is the password, merely encoded) and every object reachable from the
raised error is scanned for the password and the token.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

import pytest

from aiohyperv._config import ConnectionURI, parse_uri
from aiohyperv._credentials import AuthConfFile, Credentials, resolve_credentials
from aiohyperv._exceptions import CredentialsError, HyperVError
from aiohyperv._transport import WSManSession
from aiohyperv.hyperv import connect

from ._corpus import OS_URI, RawReply, Reply, raw_then_close, soap_fault

if TYPE_CHECKING:
    from pathlib import Path

    from .conftest import HostileFactory

USER = "admin"
PASSWORD = "Chain-Scan-Pa55word!"
TOKEN = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
SECRETS = (PASSWORD, TOKEN, TOKEN[4:28])
CREDS = Credentials(username=USER, password=PASSWORD)


def reachable_texts(root: BaseException) -> list[str]:
    """Reprs of everything reachable from ``root``: chain, args, attributes, containers."""
    texts: list[str] = []
    seen: set[int] = set()
    todo: list[tuple[object, int]] = [(root, 0)]
    while todo:
        item, depth = todo.pop()
        if id(item) in seen or depth > 12:
            continue
        seen.add(id(item))
        try:
            texts.append(repr(item))
            texts.append(str(item))
        except Exception as exc:  # a repr that fails is not a leak
            texts.append(type(exc).__name__)
        children: list[object] = []
        if isinstance(item, BaseException):
            children += [item.__cause__, item.__context__, *item.args]
            children += list(getattr(item, "__notes__", ()))
            if isinstance(item, BaseExceptionGroup):
                children += list(item.exceptions)
        if isinstance(item, str | bytes | int | float | type) or item is None:
            continue
        if isinstance(item, Mapping):
            children += [*item.keys(), *item.values()]
        elif isinstance(item, list | tuple | set | frozenset):
            children += list(item)
        if dataclasses.is_dataclass(item) and not isinstance(item, type):
            children += [getattr(item, f.name, None) for f in dataclasses.fields(item)]
        if hasattr(item, "__dict__") and not callable(item):
            children += list(vars(item).values())
        for slot in getattr(type(item), "__slots__", ()):
            if isinstance(slot, str):
                children.append(getattr(item, slot, None))
        todo += [(child, depth + 1) for child in children]
    return texts


async def _reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: object) -> None:
    from .conftest import read_request

    await read_request(reader)
    writer.transport.abort()


FAILURES: dict[str, Callable[[], Reply | RawReply]] = {
    "malformed-status-line": lambda: raw_then_close(b"HTTP/1.1 2x0 Nope\r\n\r\n"),
    "malformed-header": lambda: raw_then_close(b"HTTP/1.1 200 OK\r\nBad Header\r\n\r\n"),
    "http-401": lambda: Reply(b"", status=401, headers=(("WWW-Authenticate", "Basic"),)),
    "fault-500": lambda: soap_fault("AccessDenied", 5),
    "truncated-body": lambda: raw_then_close(
        b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n<s:Envelope"
    ),
    "connection-reset": lambda: RawReply(_reset),
    "tls-to-plain-http": lambda: Reply(b""),
}


async def _start(hostile: HostileFactory, kind: str) -> ConnectionURI:
    answer = FAILURES[kind]()
    if isinstance(answer, RawReply):
        server = await hostile(raw=answer.script)
    else:
        reply = answer
        server = await hostile(lambda _req: reply)
    uri = server.uri
    if kind == "tls-to-plain-http":
        uri = parse_uri(f"hyperv://{USER}@{uri.host_label}/?transport=https&auth=basic")
    return uri


async def _session_get(uri: ConnectionURI) -> None:
    async with WSManSession(uri, CREDS) as session:
        await session.get(OS_URI)


async def _driver(uri: ConnectionURI) -> None:
    async with connect(uri, auth=CREDS) as conn:
        await conn.list_domains()


OPS: dict[str, Callable[[ConnectionURI], Awaitable[None]]] = {
    "session-get": _session_get,
    "connect": _driver,
}


@pytest.mark.parametrize("op", sorted(OPS))
@pytest.mark.parametrize("kind", sorted(FAILURES))
async def test_no_secret_reachable_from_the_error(
    hostile: HostileFactory, kind: str, op: str
) -> None:
    uri = await _start(hostile, kind)
    error: Any = None
    try:
        async with asyncio.timeout(30):
            await OPS[op](uri)
    except HyperVError as exc:
        error = exc
    assert isinstance(error, HyperVError), f"{kind}/{op} raised nothing"
    texts = reachable_texts(error)
    leaked = [s for s in SECRETS for text in texts if s in text]
    if leaked:  # (not an assert: its message would print the secrets)
        pytest.fail(f"{kind}/{op}: the {type(error).__name__} chain holds the credentials")


async def test_unreadable_auth_conf_keeps_its_lines_out_of_the_error(tmp_path: Path) -> None:
    # configparser's errors quote the offending line: here, the password.
    path = tmp_path / "auth.conf"
    path.write_text(f"password={PASSWORD}\n[credentials-x]\nusername=admin\n", encoding="utf-8")
    with pytest.raises(CredentialsError) as info:
        await resolve_credentials(parse_uri("hyperv://hv01/"), AuthConfFile(path))
    if any(PASSWORD in text for text in reachable_texts(info.value)):
        pytest.fail("the CredentialsError chain holds a line of the auth file")
