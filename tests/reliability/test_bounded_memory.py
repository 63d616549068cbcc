"""What one enumeration, one host and one pool may hold is bounded by ``Limits``, not by the server.

A hostile (or broken) server that never says EndOfSequence and sends more items per answer
than asked drove ``list --all`` past a gigabyte; sending exactly what was asked, with realistic
items, did the same more slowly.  The consumer here keeps every row, as the driver's ``query``
does, and must end with a typed error while its traced peak memory stays within the limits.
Its own guard stops it if the client does not (so the test cannot eat the machine).
"""

from __future__ import annotations

import tracemalloc
from typing import TYPE_CHECKING

import pytest

from aiohyperv._credentials import Credentials
from aiohyperv._exceptions import ProtocolError
from aiohyperv._transport import Limits, RetryPolicy, SessionPool, WSManSession
from aiohyperv.cim import CimInstance
from aiohyperv.fleet import Fleet
from aiohyperv.simulator._codec import (
    build_enumerate_response,
    build_pull_response,
    build_response,
)
from aiohyperv.wsman import Action, Filter

from ._corpus import CS_URI, Reply

if TYPE_CHECKING:
    from aiohyperv._config import ConnectionURI
    from aiohyperv.fleet import FleetHost
    from aiohyperv.simulator._codec import Request

    from ._corpus import Responder
    from .conftest import HostileFactory

CREDS = Credentials(username="admin", password="pw")
MiB = 1024 * 1024
#: The consumer's own stop: far past every limit below, far below harm.
GUARD_ROWS = 60_000


#: A tiny item, as finished XML: 7,500 of them fit the fleet's 500 KiB MaxEnvelopeSize.
TINY = '<p:Msvm_ComputerSystem xmlns:p="urn:t"/>'
FLEET_ENVELOPE = 500 * 1024


def _realistic(n: int) -> CimInstance:
    props = {f"Property{i:02d}": f"value {i} " + "v" * 24 for i in range(25)}
    props["Name"] = f"{n:08X}-1111-2222-3333-444455556666"
    return CimInstance("Msvm_ComputerSystem", CS_URI, dict(props))


def forever(batch: list[CimInstance] | list[str]) -> Responder:
    """Every Enumerate and Pull answers ``batch`` and keeps the context open."""

    def respond(req: Request | None) -> Reply:
        relates = None if req is None else req.message_id
        action = "" if req is None else req.action
        if action == Action.RELEASE:
            return Reply(build_response(Action.RELEASE_RESPONSE, relates_to=relates, body=None))
        build = build_enumerate_response if action == Action.ENUMERATE else build_pull_response
        return Reply(build(batch, context="ctx-forever", end_of_sequence=False, relates_to=relates))

    return respond


async def _collect_all(uri: ConnectionURI, limits: Limits) -> tuple[BaseException | None, int]:
    """Keep every row until the client stops (or the guard does); return the error and peak."""
    rows: list[object] = []
    error: BaseException | None = None
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        async with WSManSession(
            uri, CREDS, limits=limits, retry=RetryPolicy(attempts=1)
        ) as session:
            try:
                async with session.enumerate(
                    CS_URI, filter=Filter.wql("SELECT * FROM Msvm_ComputerSystem")
                ) as items:
                    async for item in items:
                        rows.append(item)
                        if len(rows) > GUARD_ROWS:
                            break
            except ProtocolError as exc:
                error = exc
            assert session.pool.held_bytes == 0  # the ended enumeration gave its bytes back
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(rows) <= GUARD_ROWS, "the client never stopped the enumeration"
    return error, peak


async def test_more_items_than_asked_is_a_protocol_error(hostile: HostileFactory) -> None:
    server = await hostile(forever([TINY] * 7_500))
    error, peak = await _collect_all(server.uri, Limits(max_envelope_size=FLEET_ENVELOPE))
    assert isinstance(error, ProtocolError)
    assert "sent 7500 items in one answer" in str(error)
    assert error.host == server.label
    assert peak < 32 * MiB, peak
    assert server.served.actions[-1] == "Release"


async def test_rows_per_query_are_bounded(hostile: HostileFactory) -> None:
    server = await hostile(forever([_realistic(n) for n in range(100)]))
    error, peak = await _collect_all(server.uri, Limits(max_rows_per_query=5_000))
    assert isinstance(error, ProtocolError)
    assert "max_rows_per_query" in str(error)
    # 5,000 rows of ~1.5 KB on the wire, about 3 KB each as Python objects.
    assert peak < 48 * MiB, peak
    assert server.served.actions[-1] == "Release"


@pytest.mark.parametrize("field", ["max_bytes_per_host", "max_bytes_total"])
async def test_bytes_per_host_and_pool_are_bounded(hostile: HostileFactory, field: str) -> None:
    server = await hostile(forever([_realistic(n) for n in range(100)]))
    limits = Limits(**{field: 8 * MiB})
    error, peak = await _collect_all(server.uri, limits)
    assert isinstance(error, ProtocolError)
    assert field in str(error)
    # Python holds parsed items in about twice their wire size.
    assert peak < 40 * MiB, peak


def once(batch: list[CimInstance]) -> Responder:
    """Every Enumerate answers ``batch`` and ends the sequence."""

    def respond(req: Request | None) -> Reply:
        relates = None if req is None else req.message_id
        done = build_enumerate_response(
            batch, context=None, end_of_sequence=True, relates_to=relates
        )
        return Reply(done)

    return respond


async def _five_queries(session: WSManSession) -> int:
    kept: list[object] = []
    for _ in range(5):
        async with session.enumerate(CS_URI) as items:
            kept += [item async for item in items]
    return len(kept)


async def test_a_fleet_host_counts_its_rows_until_its_operation_ends(
    hostile: HostileFactory,
) -> None:
    """A fleet operation keeps every row of its queries: together they count for the host."""
    server = await hostile(once([_realistic(n) for n in range(100)]))  # ~155 KB an answer
    limits = Limits(max_bytes_per_host=400_000)  # two answers fit, not three

    async def op(host: FleetHost) -> int:
        return await _five_queries(await host.session())

    async with SessionPool(limits=limits) as pool:
        result = await Fleet([server.uri], auth=CREDS, pool=pool).run(op)
        error = result.results[0].error
        assert isinstance(error, ProtocolError), error
        assert "max_bytes_per_host" in str(error)
        assert pool.held_bytes == 0  # given back when the host's operation ended

        # A session of its own counts each query only while it runs: a long-lived connection
        # is not worn down by its own history.
        async with WSManSession(server.uri, CREDS, pool=pool) as session:
            assert await _five_queries(session) == 500
        assert pool.held_bytes == 0
