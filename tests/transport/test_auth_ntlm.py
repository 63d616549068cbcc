"""Connection-based authentication (NTLM with WinRM message encryption) through the pool.

The server side is ``aiohyperv._auth``'s WinRM-like middleware in front of the fake host, so the
handshake, the per-connection security contexts and the sealing are real.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest

from aiohyperv._config import parse_uri
from aiohyperv._credentials import Credentials
from aiohyperv._exceptions import AuthenticationError
from aiohyperv._transport import Limits, SessionPool
from aiohyperv.cim import CimInstance
from aiohyperv.simulator._auth import UserTable, ntlm_middleware

from .fakehost import RURI

if TYPE_CHECKING:
    from .conftest import Fake, FakeFactory

ALICE = Credentials(username="CORP\\alice", password="Wonderland-9")


@pytest.fixture
def users() -> UserTable:
    return UserTable({"CORP\\alice": "Wonderland-9"})


async def start(fakehost: FakeFactory, users: UserTable, items: int = 0) -> Fake:
    return await fakehost(items=items, middlewares=[ntlm_middleware(users)])


async def test_ntlm_sealed_over_http_with_keepalive(
    fakehost: FakeFactory, users: UserTable
) -> None:
    fake = await start(fakehost, users, items=45)
    uri = parse_uri(f"hyperv://127.0.0.1:{fake.uri.port}/?transport=http&auth=ntlm")
    async with SessionPool() as pool:
        session = pool.session(uri, ALICE)
        info = await session.identify()
        inst = await session.get(RURI, {"Name": "VM-7"})
        async with session.enumerate(RURI, max_elements=10) as items:
            names = [i.get_str("Name") async for i in items if isinstance(i, CimInstance)]
        stats = pool.stats
    assert info["ProductVendor"] == "Microsoft Corporation"
    assert inst.get_str("Name") == "VM-7"
    assert len(names) == 45
    # One connection, authenticated once, carried every sealed request.
    assert stats.opened == 1
    assert fake.host.attempts["Pull"] == 4
    assert "Wonderland-9" not in repr(session) + repr(pool)


async def test_ntlm_concurrent_connections_each_authenticated(
    fakehost: FakeFactory, users: UserTable
) -> None:
    fake = await start(fakehost, users)
    uri = parse_uri(f"hyperv://127.0.0.1:{fake.uri.port}/?transport=http&auth=ntlm")
    limits = Limits(per_host_connections=3, per_host_operations=3)
    async with SessionPool(limits=limits) as pool:
        session = pool.session(uri, ALICE)
        results = await asyncio.gather(*(session.get(RURI, {"Name": f"VM-{i}"}) for i in range(30)))
        stats = pool.stats
    assert [r.get_str("Name") for r in results] == [f"VM-{i}" for i in range(30)]
    assert 1 <= stats.opened <= 3
    assert fake.host.attempts["Get"] == 30


async def test_ntlm_wrong_password_is_authentication_error(
    fakehost: FakeFactory, users: UserTable
) -> None:
    fake = await start(fakehost, users)
    uri = parse_uri(f"hyperv://127.0.0.1:{fake.uri.port}/?transport=http&auth=ntlm")
    wrong = Credentials(username="CORP\\alice", password="not-it-123")
    async with SessionPool() as pool:
        with pytest.raises(AuthenticationError) as info:
            await pool.session(uri, wrong).identify()
    assert info.value.host == uri.host_label
    assert "not-it-123" not in str(info.value)
    assert fake.host.attempts == {}
