"""The floor under the client CPU of one host's inventory: the same bytes, nothing else done.

One host's inventory (the queries and responses of ``inventory_op`` against the simulator, 20
VMs) is recorded once, as raw HTTP, through a recording TCP relay (Basic auth over HTTP, so the
bodies are plaintext).  Then three floors are measured on exactly those bytes:

* **parse**: every response body through bare ``lxml.etree.fromstring`` (the tree freed inside
  the timing), and, for information, the embedded CIM-XML strings of the response (the KVP
  items) the same way;
* **seal**: an NTLM handshake per connection (two per host, client side only: ``step``) and
  every request body sealed and every response unsealed through pyspnego's public
  ``wrap_winrm``/``unwrap_winrm`` (the responses are sealed beforehand by an acceptor context);
* **http**: a raw asyncio client (``asyncio.Protocol``, ``Content-Length`` framing, nothing
  else) sends the recorded requests of ``--hosts`` hosts, two connections per host, each
  request after the previous answer on its connection, to a raw asyncio server in its own
  process that answers with the recorded responses; the client's CPU time
  (``resource.getrusage``) divided by the hosts;
* **aiohttp**: the same exchange through a bare ``aiohttp.ClientSession`` per host (the
  transport this library is built on), so the floor of any aiohttp-based client is printed too.

The sum is the CPU a client must spend per host to move and read these bytes at all; compare it
with bench_fleet's "client CPU ms/host" (printed here too when ``--compare`` runs one
aiohyperv client process on the same recorded fleet shape, NTLM-sealed).

Run: ``.venv/bin/python benchmarks/bench_floor.py [--hosts 1000] [--repeats 5]``
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import gc
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from lxml import etree

sys.path.insert(0, str(Path(__file__).parent))

_LENGTH = re.compile(rb"\r\ncontent-length:\s*(\d+)", re.IGNORECASE)


def split_messages(stream: bytes) -> list[tuple[bytes, bytes]]:
    """(head, body) of each Content-Length-framed HTTP message in ``stream``."""
    out: list[tuple[bytes, bytes]] = []
    pos = 0
    while pos < len(stream):
        end = stream.index(b"\r\n\r\n", pos) + 4
        head = stream[pos:end]
        match = _LENGTH.search(head)
        length = int(match.group(1)) if match else 0
        out.append((head, stream[end : end + length]))
        pos = end + length
    return out


# -- recording --------------------------------------------------------------------------------


async def _record(target_uri: str) -> list[list[tuple[bytes, bytes]]]:
    """Inventory one host through a relay; the (request, response) messages per connection."""
    from aiohyperv._credentials import Credentials
    from aiohyperv.fleet import Fleet
    from aiohyperv.fleet._inventory import inventory_op

    host_port = target_uri.split("//", 1)[1].split("/", 1)[0].rpartition("@")[2]
    target_host, target_port = host_port.rsplit(":", 1)
    conversations: list[tuple[bytearray, bytearray]] = []

    async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(target_host, int(target_port))
        sent, received = bytearray(), bytearray()
        conversations.append((sent, received))

        async def pump(
            src: asyncio.StreamReader, dst: asyncio.StreamWriter, log: bytearray
        ) -> None:
            while data := await src.read(65536):
                log += data
                dst.write(data)
                await dst.drain()
            dst.close()

        await asyncio.gather(pump(reader, up_writer, sent), pump(up_reader, writer, received))

    server = await asyncio.start_server(relay, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    uri = target_uri.replace(host_port, f"127.0.0.1:{port}")
    uri = f"{uri}&auth=basic" if "?" in uri else f"{uri}?auth=basic"
    result = await Fleet([uri], auth=Credentials(username="admin", password="secret")).run(
        inventory_op
    )
    result.raise_for_errors()
    server.close()
    await asyncio.sleep(0.1)
    exchanges = []
    for sent, received in conversations:
        requests, responses = split_messages(bytes(sent)), split_messages(bytes(received))
        exchanges.append(
            [(h + b, rh + rb) for (h, b), (rh, rb) in zip(requests, responses, strict=True)]
        )
    return [e for e in exchanges if e]


def _bodies(raw: bytes) -> bytes:
    return raw.split(b"\r\n\r\n", 1)[1]


# -- parse and seal floors ------------------------------------------------------------------------


def parse_floor(responses: list[bytes]) -> float:
    """CPU seconds to parse every body once with bare lxml (trees freed inside the timing)."""
    start = time.thread_time()
    for body in responses:
        etree.fromstring(body)
    return time.thread_time() - start


def embedded_strings(responses: list[bytes]) -> list[bytes]:
    """The embedded CIM-XML documents (escaped ``<INSTANCE`` text) inside the responses."""
    docs: list[bytes] = []
    for body in responses:
        for elem in etree.fromstring(body).iter():
            text = elem.text
            if text and text.lstrip().startswith("<INSTANCE"):
                docs.append(text.encode())
    return docs


def seal_floor(requests: list[list[bytes]], responses: list[list[bytes]]) -> float:
    """CPU seconds of the client side of NTLM: a handshake and every wrap/unwrap, per connection.

    The acceptor's work (its handshake steps, sealing the responses) is done outside the timing.
    """
    import spnego

    # pyspnego's NTLM acceptor reads its users from the file NTLM_USER_FILE names.
    with tempfile.NamedTemporaryFile("w", suffix=".ntlm", delete=False) as users:
        users.write(":admin:secret\n")
    os.environ["NTLM_USER_FILE"] = users.name
    total = 0.0
    for reqs, resps in zip(requests, responses, strict=True):
        start = time.thread_time()
        client = spnego.client("admin", "secret", hostname="host", protocol="ntlm")
        negotiate = client.step()
        total += time.thread_time() - start
        server = spnego.server(protocol="ntlm")
        challenge = server.step(negotiate)
        start = time.thread_time()
        authenticate = client.step(challenge)
        total += time.thread_time() - start
        server.step(authenticate)
        sealed = [server.wrap_winrm(r) for r in resps]
        start = time.thread_time()
        for req, (header, data, _pad) in zip(reqs, sealed, strict=True):
            client.wrap_winrm(req)
            client.unwrap_winrm(header, data)
        total += time.thread_time() - start
    os.unlink(users.name)
    return total


# -- raw HTTP floor ------------------------------------------------------------------------------


class _Exchange(asyncio.Protocol):
    """One connection: send each request, read its Content-Length-framed answer, repeat."""

    def __init__(self, requests: list[bytes], done: asyncio.Future[None]) -> None:
        self.requests = requests
        self.done = done
        self.index = 0
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.requests[0])

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        match = _LENGTH.search(self.buffer, 0, end + 2)
        length = int(match.group(1)) if match else 0
        if len(self.buffer) < end + 4 + length:
            return
        del self.buffer[: end + 4 + length]
        self.index += 1
        assert self.transport is not None
        if self.index == len(self.requests):
            self.transport.close()
            if not self.done.done():
                self.done.set_result(None)
        else:
            self.transport.write(self.requests[self.index])

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(None)


async def _http_client(port: int, connections: list[list[bytes]], hosts: int) -> None:
    loop = asyncio.get_running_loop()
    limit = asyncio.Semaphore(250)

    async def host() -> None:
        async with limit:
            waits = []
            for requests in connections:
                done: asyncio.Future[None] = loop.create_future()
                await loop.create_connection(
                    functools.partial(_Exchange, requests, done), "127.0.0.1", port
                )
                waits.append(done)
            await asyncio.gather(*waits)

    await asyncio.gather(*(host() for _ in range(hosts)))


async def _http_server(connections: list[list[tuple[bytes, bytes]]]) -> None:
    """Answer each request with the response recorded for the same request body."""
    answers = {_bodies(q): r for conn in connections for q, r in conn}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                match = _LENGTH.search(head)
                body = await reader.readexactly(int(match.group(1)) if match else 0)
                writer.write(answers[body])
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=4096)
    sys.stdout.write(json.dumps({"port": server.sockets[0].getsockname()[1]}) + "\n")
    sys.stdout.flush()
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    server.close()


async def _aiohttp_client(port: int, connections: list[list[bytes]], hosts: int) -> None:
    """The same exchange through aiohttp, the transport the library is built on.

    One ``ClientSession`` per host with two keep-alive connections (a fleet host's pool), each
    connection's requests posted in turn with their recorded path, Content-Type and body and
    the answer read whole: what any aiohttp-based client pays per request before doing
    anything of its own.
    """
    import aiohttp

    limit = asyncio.Semaphore(250)
    recorded = [[_request_parts(raw) for raw in requests] for requests in connections]

    async def one_connection(session: aiohttp.ClientSession, parts: list[Any]) -> None:
        for path, content_type, body in parts:
            async with session.post(
                f"http://127.0.0.1:{port}{path}",
                data=body,
                headers={"Content-Type": content_type},
            ) as resp:
                await resp.read()

    async def host() -> None:
        async with limit:
            connector = aiohttp.TCPConnector(limit_per_host=len(recorded))
            async with aiohttp.ClientSession(connector=connector) as session:
                await asyncio.gather(*(one_connection(session, parts) for parts in recorded))

    await asyncio.gather(*(host() for _ in range(hosts)))


def _request_parts(raw: bytes) -> tuple[str, str, bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    path = lines[0].split(" ")[1]
    content_type = next(
        (
            v.strip()
            for k, _, v in (x.partition(":") for x in lines[1:])
            if k.lower() == "content-type"
        ),
        "application/soap+xml;charset=UTF-8",
    )
    return path, content_type, body


def http_floor(record: Path, hosts: int, mode: str = "--http-client") -> float:
    """Client CPU seconds (getrusage) of the exchange of ``hosts`` hosts (raw or aiohttp)."""
    server = subprocess.Popen(
        [sys.executable, __file__, "--http-server", str(record)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        port = json.loads(server.stdout.readline())["port"]
        client = subprocess.run(
            [sys.executable, __file__, mode, str(record), str(port), str(hosts)],
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        assert server.stdin is not None
        server.stdin.close()
        server.wait(timeout=30)
    cpu: float = json.loads(client.stdout.strip().splitlines()[-1])["cpu"]
    return cpu


def _load(record: Path) -> tuple[list[list[bytes]], list[list[bytes]]]:
    data = json.loads(record.read_text())
    requests = [[bytes.fromhex(q) for q, _ in conn] for conn in data]
    responses = [[bytes.fromhex(r) for _, r in conn] for conn in data]
    return requests, responses


def main() -> None:
    from bench_fleet import Server

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    sim = Server(1, 0.0)
    try:
        exchanges = asyncio.run(_record(sim.uris[0]))
    finally:
        sim.stop()
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump([[[q.hex(), r.hex()] for q, r in conn] for conn in exchanges], handle)
    record = Path(handle.name)
    try:
        requests, responses = _load(record)
        req_bodies = [[_bodies(q) for q in conn] for conn in requests]
        resp_bodies = [[_bodies(r) for r in conn] for conn in responses]
        flat = [b for conn in resp_bodies for b in conn]
        embedded = embedded_strings(flat)
        n_requests = sum(len(c) for c in requests)
        size_in = sum(len(r) for c in responses for r in c)
        size_out = sum(len(q) for c in requests for q in c)
        parse = min(_timed(lambda: parse_floor(flat)) for _ in range(args.repeats * 20))
        parse_emb = min(_timed(lambda: parse_floor(embedded)) for _ in range(args.repeats * 20))
        seal = min(seal_floor(req_bodies, resp_bodies) for _ in range(args.repeats * 4))
        http = min(http_floor(record, args.hosts) for _ in range(max(1, args.repeats // 2)))
        with_aiohttp = min(
            http_floor(record, args.hosts, "--aiohttp-client")
            for _ in range(max(1, args.repeats // 2))
        )
    finally:
        record.unlink()
    per_host_http = http / args.hosts
    total = parse + seal + per_host_http
    print(
        f"one host's inventory: {n_requests} requests on {len(requests)} connections, "
        f"{size_out / 1e3:.0f} kB sent, {size_in / 1e3:.0f} kB received, "
        f"{len(embedded)} embedded CIM-XML documents"
    )
    print(f"parse  (bare lxml.etree.fromstring, every response):     {parse * 1e3:6.2f} ms/host")
    print(f"seal   (NTLM handshakes + wrap_winrm/unwrap_winrm):       {seal * 1e3:6.2f} ms/host")
    print(
        f"http   (raw asyncio client, {args.hosts} hosts, getrusage):   "
        f"{per_host_http * 1e3:6.2f} ms/host"
    )
    print(f"floor  (sum):                                            {total * 1e3:6.2f} ms/host")
    per_host_aiohttp = with_aiohttp / args.hosts
    print(
        f"aiohttp (the same exchange, bare ClientSession.post):      "
        f"{per_host_aiohttp * 1e3:6.2f} ms/host  ({per_host_aiohttp / per_host_http:.1f}x raw)"
    )
    print(
        f"floor with aiohttp as the transport (parse + seal + aiohttp): "
        f"{(parse + seal + per_host_aiohttp) * 1e3:6.2f} ms/host"
    )
    print(
        f"for information: the embedded CIM-XML documents by bare lxml: "
        f"{parse_emb * 1e3:.2f} ms/host"
    )


def _timed(fn: Any) -> float:
    gc.collect()
    result: float = fn()
    return result


def _http_client_main(record: Path, port: int, hosts: int, with_aiohttp: bool = False) -> None:
    requests, _ = _load(record)
    client = _aiohttp_client if with_aiohttp else _http_client
    usage0 = resource.getrusage(resource.RUSAGE_SELF)
    asyncio.run(client(port, requests, hosts))
    usage1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (usage1.ru_utime - usage0.ru_utime) + (usage1.ru_stime - usage0.ru_stime)
    sys.stdout.write(json.dumps({"cpu": cpu}) + "\n")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--http-server":
        data = json.loads(Path(sys.argv[2]).read_text())
        pairs = [[(bytes.fromhex(q), bytes.fromhex(r)) for q, r in conn] for conn in data]
        asyncio.run(_http_server(pairs))
    elif len(sys.argv) > 1 and sys.argv[1] == "--http-client":
        _http_client_main(Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
    elif len(sys.argv) > 1 and sys.argv[1] == "--aiohttp-client":
        _http_client_main(Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), True)
    else:
        main()
