"""Requests per second on one host for each auth method, over real loopback HTTP(S).

Runs its own aiohttp servers on 127.0.0.1 with aiohyperv's auth middleware (the one the
simulator installs) and a handler that answers a real Windows Get response, and drives them with
:class:`aiohyperv._auth.ClientAuth` over a pooled ``ClientSession`` -- the code path the
transport uses.  The connection handshake is paid once per pooled connection, so the figures
include it amortised; "handshakes/1k" says how often it was paid, and "x Basic" is each
case's rate over Basic/HTTPS's in the same run.

The Kerberos rows run against a throwaway MIT realm on 127.0.0.1 (``aiohyperv.simulator._kdc``:
its own KDC, a user and ``HTTP/127.0.0.1`` in a keytab, all in a temporary directory); where the
KDC programs or python-gssapi are missing they are left out, and the output says why.

    .venv/bin/python benchmarks/bench_auth.py [--requests 2000] [--concurrency 8] [--connections 4]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import pathlib
import ssl
import tempfile
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import aiohttp
import trustme
from aiohttp import web

from aiohyperv._auth import AuthClientRequest, ClientAuth
from aiohyperv._credentials import Credentials
from aiohyperv.simulator import _kdc
from aiohyperv.simulator._auth import (
    KerberosService,
    ServerAuthPolicy,
    UserTable,
    auth_middleware,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

SAMPLE = (
    pathlib.Path(__file__).resolve().parents[1]
    / "tests/data/wsman-samples/01_get_response_win32_logicaldisk_windows.xml"
)
REQUEST = (
    b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
    b'xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
    b'xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"><s:Header>'
    b"<a:To>http://127.0.0.1/wsman</a:To>"
    b"<w:ResourceURI>http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/Win32_LogicalDisk"
    b"</w:ResourceURI><a:Action>http://schemas.xmlsoap.org/ws/2004/09/transfer/Get</a:Action>"
    b"<w:SelectorSet><w:Selector Name='DeviceID'>C:</w:Selector></w:SelectorSet>"
    b"</s:Header><s:Body/></s:Envelope>"
)
CREDS = Credentials(username="admin", password="bench-Pa55word")


@dataclass
class Result:
    name: str
    requests: int
    seconds: float
    handshakes: int
    legs: int


async def handler(request: web.Request) -> web.Response:
    await request.read()
    return web.Response(body=request.app[REPLY], content_type="application/soap+xml")


REPLY: web.AppKey[bytes] = web.AppKey("reply")


@contextlib.asynccontextmanager
async def serve(
    users: UserTable, policy: ServerAuthPolicy, ssl_context: ssl.SSLContext | None, reply: bytes
) -> AsyncIterator[str]:
    app = web.Application(middlewares=[auth_middleware(users, policy)])
    app[REPLY] = reply
    app.router.add_post("/wsman", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"{'https' if ssl_context else 'http'}://127.0.0.1:{port}/wsman"
    finally:
        await runner.cleanup()


async def run_one(
    name: str,
    auth: ClientAuth,
    url: str,
    client_ssl: ssl.SSLContext | None,
    args: argparse.Namespace,
) -> Result:
    connector = aiohttp.TCPConnector(limit=args.connections, ssl=client_ssl or True)
    async with aiohttp.ClientSession(connector=connector, request_class=AuthClientRequest) as s:
        sem = asyncio.Semaphore(args.concurrency)

        async def one() -> None:
            async with sem:
                reply = await auth.post(s, url, REQUEST)
                if reply.status != 200 or b"Envelope" not in reply.body:
                    raise RuntimeError(f"{name}: bad reply {reply.status}")

        await asyncio.gather(*(one() for _ in range(min(50, args.requests))))  # warm-up
        start = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(args.requests)))
        elapsed = time.perf_counter() - start
    return Result(
        name=name,
        requests=args.requests,
        seconds=elapsed,
        handshakes=auth.stats.handshakes,
        legs=auth.stats.handshake_legs,
    )


async def main(args: argparse.Namespace) -> None:
    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1")
    server_ssl = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    leaf.configure_cert(server_ssl)
    client_ssl = ssl.create_default_context()
    ca.configure_trust(client_ssl)
    users = UserTable({CREDS.username: CREDS.password})
    reply = SAMPLE.read_bytes() if SAMPLE.exists() else REQUEST * 4
    total = args.requests + min(50, args.requests)
    results: list[Result] = []
    missing = _kdc.unavailable()
    with contextlib.ExitStack() as stack:
        cases: list[tuple[str, str, ssl.SSLContext | None, ssl.SSLContext | None]] = [
            ("Basic/HTTPS", "basic", server_ssl, client_ssl),
            ("NTLM/HTTP sealed", "ntlm", None, None),
            ("NTLM/HTTPS", "ntlm", server_ssl, client_ssl),
        ]
        kerberos: KerberosService | None = None
        if missing is None:
            kerberos = stack.enter_context(_realm())
            cases += [
                ("Kerberos/HTTP sealed", "kerberos", None, None),
                ("Kerberos/HTTPS", "kerberos", server_ssl, client_ssl),
            ]
        for name, method, s_ssl, c_ssl in cases:
            der = _leaf_der(leaf) if s_ssl is not None else None
            policy = ServerAuthPolicy(kerberos=kerberos, server_certificate=der)
            async with serve(users, policy, s_ssl, reply) as url:
                is_kerberos = method == "kerberos"
                auth = ClientAuth(
                    method,  # type: ignore[arg-type]
                    hostname="127.0.0.1",
                    https=s_ssl is not None,
                    # Kerberos: the ticket from the realm's kinit, in KRB5CCNAME.
                    credentials=None if is_kerberos else CREDS,
                )
                results.append(await run_one(name, auth, url, c_ssl, args))
    print(
        f"bench_auth: {args.requests} requests (+{total - args.requests} warm-up) per case, "
        f"concurrency {args.concurrency}, {args.connections} pooled connections, one host"
    )
    print(
        f"{'case':<20} {'req/s':>9} {'x Basic':>8} {'ms/req':>8} {'handshakes':>10} "
        f"{'legs':>5} {'handshakes/1k':>13}"
    )
    basic = results[0].requests / results[0].seconds
    for r in results:
        rate = r.requests / r.seconds
        print(
            f"{r.name:<20} {rate:>9.0f} {rate / basic:>8.2f} "
            f"{1000 * r.seconds / r.requests:>8.3f} {r.handshakes:>10} {r.legs:>5} "
            f"{1000 * r.handshakes / total:>13.2f}"
        )
    if missing is not None:
        print(f"Kerberos rows left out: {missing}")


def _leaf_der(leaf: trustme.LeafCert) -> bytes:
    return ssl.PEM_cert_to_DER_cert(leaf.cert_chain_pems[0].bytes().decode("ascii"))


@contextlib.contextmanager
def _realm() -> Iterator[KerberosService]:
    """A realm with a user and ``HTTP/127.0.0.1``; the user's ticket in ``KRB5CCNAME``."""
    with tempfile.TemporaryDirectory(prefix="bench-auth-realm-") as tmp:
        directory = pathlib.Path(tmp)
        realm = _kdc.start_realm(directory)
        try:
            principal = realm.add_user(CREDS.username, CREDS.password)  # the host's account
            realm.add_services(["127.0.0.1"])
            ccache = directory / "ccache"
            realm.kinit(principal, CREDS.password, ccache)
            os.environ["KRB5_CONFIG"] = realm.env["KRB5_CONFIG"]
            os.environ["KRB5CCNAME"] = f"FILE:{ccache}"
            yield KerberosService(keytab=str(realm.keytab))
        finally:
            realm.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--connections", type=int, default=4)
    asyncio.run(main(parser.parse_args()))
