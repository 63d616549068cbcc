"""Deadlines: a host answering every Pull with ``w:TimedOut`` cannot hold a caller for long.

Windows answers a Pull with nothing to return after its OperationTimeout (about 20 s) with a
``w:TimedOut`` fault, which means "nothing yet": the client asks again, up to
``RetryPolicy.pull_timeouts`` times.  A server doing that forever kept ``list --all`` busy for
ten minutes.  Here the server waits a little before each fault and the retry budget is far
larger than the deadline, so only the deadline can end the wait.
"""

from __future__ import annotations

import asyncio
import io
from typing import TYPE_CHECKING

import pytest

from aiohyperv._credentials import Credentials
from aiohyperv._exceptions import ConfigError, TransportTimeout
from aiohyperv._transport import RetryPolicy, WSManSession
from aiohyperv.cim import CimInstance
from aiohyperv.cli import run
from aiohyperv.hyperv import connect
from aiohyperv.simulator._codec import build_enumerate_response
from aiohyperv.wsman import Action, Filter

from ._corpus import CS_URI, OS_URI, TIMED_OUT, Reply, pull_answers

if TYPE_CHECKING:
    from aiohyperv.simulator._codec import Request

    from .conftest import HostileFactory

CREDS = Credentials(username="admin", password="pw")
#: A hang guard, far above every deadline below.
GUARD = 60.0
SLOW_TIMED_OUT = Reply(TIMED_OUT.body, status=TIMED_OUT.status, delay=0.2)


async def test_enumeration_ends_at_its_deadline(hostile: HostileFactory) -> None:
    server = await hostile(pull_answers(SLOW_TIMED_OUT))
    retry = RetryPolicy(pull_timeouts=100_000)
    async with asyncio.timeout(GUARD), WSManSession(server.uri, CREDS, retry=retry) as session:
        with pytest.raises(TransportTimeout) as info:
            async with session.enumerate(
                CS_URI, filter=Filter.wql("SELECT * FROM Msvm_ComputerSystem"), timeout=1.0
            ) as items:
                async for _ in items:
                    pass
        assert session.stats.pull_timeouts >= 1  # it did wait through TimedOut answers
    assert "1 s deadline" in str(info.value)
    assert info.value.host == server.label
    assert server.served.actions[-1] == "Release"  # the context was given back


async def test_invoke_ends_at_its_deadline(hostile: HostileFactory) -> None:
    server = await hostile(lambda _req: Reply(TIMED_OUT.body, status=500, delay=GUARD))
    async with asyncio.timeout(GUARD), WSManSession(server.uri, CREDS) as session:
        with pytest.raises(TransportTimeout) as info:
            await session.invoke(CS_URI, "RequestStateChange", params={}, timeout=0.5)
    assert "RequestStateChange" in str(info.value)


async def test_enumeration_timeout_must_be_positive(hostile: HostileFactory) -> None:
    server = await hostile(pull_answers(SLOW_TIMED_OUT))
    async with WSManSession(server.uri, CREDS) as session:
        with pytest.raises(ConfigError):
            session.enumerate(CS_URI, timeout=0)


async def test_cli_command_ends_at_its_deadline(hostile: HostileFactory) -> None:
    # connect() enumerates Win32_OperatingSystem first: its Pulls time out forever.  At 0.5 s
    # a fault, the default 30 re-sends would take 15 s; the deadline is 1 s.
    server = await hostile(pull_answers(Reply(TIMED_OUT.body, status=500, delay=0.5)))
    out, err = io.StringIO(), io.StringIO()
    async with asyncio.timeout(GUARD):
        code = await run(
            ["--timeout", "1", "-c", str(server.uri), "list", "--all"],
            stdout=out,
            stderr=err,
            auth=CREDS,
        )
    assert code == 1
    errors = [line for line in err.getvalue().splitlines() if not line.startswith("warning: ")]
    assert errors == ["error: list did not finish within 1 s (--timeout)"]
    assert server.served.actions.count("Pull") < 30


@pytest.mark.parametrize("value", ["0", "-1", "soon", "inf"])
async def test_cli_timeout_must_be_positive(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert await run(["--timeout", value, "version"]) == 2
    assert "seconds" in capsys.readouterr().err


def _os_then_timed_out(req: Request | None) -> Reply:
    """connect()'s OS query is answered; every other enumeration's Pulls time out forever."""
    relates = None if req is None else req.message_id
    action = "" if req is None else req.action
    if action == Action.ENUMERATE and "cimv2" in (req.resource_uri or "" if req else ""):
        os_row = CimInstance("Win32_OperatingSystem", OS_URI, {"Version": "10.0.17763"})
        return Reply(
            build_enumerate_response(
                [os_row], context=None, end_of_sequence=True, relates_to=relates
            )
        )
    answer = pull_answers(SLOW_TIMED_OUT)(req)
    assert isinstance(answer, Reply)
    return answer


async def test_connection_calls_end_at_their_deadline(hostile: HostileFactory) -> None:
    server = await hostile(_os_then_timed_out)
    async with asyncio.timeout(GUARD):
        with pytest.raises(ConfigError):
            _ = connect(server.uri, auth=CREDS, call_timeout=0)
        async with connect(server.uri, auth=CREDS, call_timeout=1.0) as conn:
            with pytest.raises(TransportTimeout) as info:
                await conn.list_domains()
    assert "1 s deadline" in str(info.value)
