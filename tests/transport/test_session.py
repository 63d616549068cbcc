"""WSManSession against a fake WS-Man host over real HTTP: operations, enumeration, retries."""

from __future__ import annotations

import asyncio
import base64
import logging
from dataclasses import replace

import pytest

from aiohyperv._config import parse_uri
from aiohyperv._credentials import Credentials
from aiohyperv._exceptions import (
    AuthenticationError,
    ConfigError,
    ConnectError,
    HTTPStatusError,
    InvalidOperation,
    InvalidParameter,
    OperationTimedOut,
)
from aiohyperv._transport import Limits, RetryPolicy, SessionPool, Timeouts, WSManSession
from aiohyperv.cim import EPR, CimInstance
from aiohyperv.wsman import Filter

from .conftest import FakeFactory, client_tasks, eventually
from .fakehost import (
    CLASS,
    DENIED,
    INVALID_PARAMETER,
    INVALID_PARAMETER_400,
    RESET,
    RURI,
    TIMED_OUT,
    UNAVAILABLE,
    make_instance,
)

CREDS = Credentials(username="admin", password="s3cret-pw")
FAST_RETRY = RetryPolicy(attempts=3, backoff=0.001, max_backoff=0.005)


def names(items: list[CimInstance | EPR]) -> list[str | None]:
    return [item.get_str("Name") if isinstance(item, CimInstance) else None for item in items]


async def test_identify_and_get(fakehost: FakeFactory) -> None:
    fake = await fakehost()
    async with SessionPool() as pool, pool.session(fake.uri) as session:
        info = await session.identify()
        inst = await session.get(RURI, {"Name": "VM-42"})
        assert session.stats.requests == 2
        assert pool.stats.opened == 1
    assert info["ProductVendor"] == "Microsoft Corporation"
    assert info["ProductVersion"].startswith("OS: 10.0.17763")
    assert inst.class_name == CLASS
    assert inst.get_str("Name") == "VM-42"


async def test_put_create_delete_invoke(fakehost: FakeFactory) -> None:
    fake = await fakehost()
    async with WSManSession(fake.uri) as session:
        echoed = await session.put(RURI, make_instance(7), selectors={"Name": "VM-00007"})
        created = await session.create(RURI, make_instance(8))
        await session.delete(RURI, {"Name": "VM-00008"})
        result = await session.invoke(
            RURI, "RequestStateChange", selectors={"Name": "VM-1"}, params={"RequestedState": 2}
        )
        pool = session.pool
    assert pool.closed  # a session without a pool owns (and closes) a private one
    assert echoed is not None and echoed.get_str("Name") == "VM-00007"
    assert created == EPR.make(RURI, {"Name": "NEW"})
    assert result.return_value == 4096
    assert result.job is not None and result.job.selector("InstanceID") == "JOB-1"
    assert dict(fake.host.attempts) == {
        "Put": 1,
        "Create": 1,
        "Delete": 1,
        "RequestStateChange": 1,
    }


async def test_enumeration_streams_batch_by_batch(fakehost: FakeFactory) -> None:
    fake = await fakehost(items=1000)
    consumed = 0
    progress: list[int] = []
    fake.host.on_pull = lambda: progress.append(consumed)
    async with SessionPool() as pool:
        session = pool.session(fake.uri)
        seen: list[str | None] = []
        async with session.enumerate(
            RURI, filter=Filter.wql(f"SELECT * FROM {CLASS}"), max_elements=20
        ) as items:
            async for item in items:
                assert items.buffered < 20  # never more than one batch held
                assert isinstance(item, CimInstance)
                seen.append(item.get_str("Name"))
                consumed += 1
        stats = pool.stats
    assert seen == [f"VM-{i:05d}" for i in range(1000)]
    # One optimized Enumerate carried the first batch, then 49 Pulls, each sent only when the
    # consumer had used up the previous batch: nothing is read ahead or accumulated.
    assert fake.host.attempts["Enumerate"] == 1
    assert fake.host.attempts["Pull"] == 49
    assert progress == [20 * k for k in range(1, 50)]
    assert fake.host.pull_sizes == [20] * 49
    assert session.stats.pulls == 49
    assert fake.host.released == []  # EndOfSequence closed the context; nothing to release
    assert fake.host.contexts == {}
    assert (stats.opened, stats.reused) == (1, 49)


async def test_enumeration_smaller_than_one_batch(fakehost: FakeFactory) -> None:
    fake = await fakehost(items=3)
    async with WSManSession(fake.uri) as session:
        items = [item async for item in session.enumerate(RURI)]
    assert names(items) == ["VM-00000", "VM-00001", "VM-00002"]
    assert fake.host.attempts["Pull"] == 0


async def test_early_break_releases_context(fakehost: FakeFactory) -> None:
    fake = await fakehost(items=100)
    async with SessionPool() as pool:
        session = pool.session(fake.uri)
        async with session.enumerate(RURI, max_elements=10) as items:
            async for item in items:
                if isinstance(item, CimInstance) and item.get_str("Name") == "VM-00015":
                    break
        # The Release went out before the `async with` block finished exiting.
        assert fake.host.released == ["uuid:ctx-0"]
        assert fake.host.contexts == {}
        assert session.stats.releases == 1
        assert pool.stats.background == 0
    assert fake.host.attempts["Pull"] == 1


async def test_bare_async_for_break_releases_context(fakehost: FakeFactory) -> None:
    fake = await fakehost(items=100)
    async with SessionPool() as pool:
        session = pool.session(fake.uri)
        async for _item in session.enumerate(RURI, max_elements=10):
            break
        # The dropped iterator released its context in a pool-owned task.
        assert await eventually(lambda: bool(fake.host.released))
        assert fake.host.released == ["uuid:ctx-0"]
    assert pool.stats.background == 0


async def test_release_still_sent_when_pool_closes_right_after_break(
    fakehost: FakeFactory,
) -> None:
    fake = await fakehost(items=100)
    async with SessionPool() as pool:
        async for _item in pool.session(fake.uri).enumerate(RURI, max_elements=10):
            break
    # aclose() drained the Release task before closing the connections.
    assert fake.host.released == ["uuid:ctx-0"]


async def test_cancelled_enumeration_releases_and_leaves_pool_clean(
    fakehost: FakeFactory,
) -> None:
    fake = await fakehost(items=100)
    fake.host.hold_pulls = asyncio.Event()
    async with SessionPool() as pool:
        session = pool.session(fake.uri)
        got: list[CimInstance | EPR] = []

        async def consume() -> None:
            async with session.enumerate(RURI, max_elements=10) as items:
                async for item in items:
                    got.append(item)

        task = asyncio.create_task(consume())
        async with asyncio.timeout(10):
            await fake.host.pull_arrived.wait()  # the first Pull is stuck on the server
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert len(got) == 10
        # The context was released before the cancelled task finished...
        assert fake.host.released == ["uuid:ctx-0"]
        # ...and nothing is left in flight, queued or running in the background.
        stats = pool.stats
        assert (stats.in_flight, stats.queued, stats.background) == (0, 0, 0)
        # The connection of the abandoned Pull was closed, not returned to the pool.
        fake.host.hold_pulls.set()
        assert await eventually(lambda: pool.stats.connections <= 1 and not client_tasks())
        assert pool.stats.connections <= 1  # only the keep-alive one the Release used
        assert client_tasks() == set()


async def test_pull_timed_out_is_pulled_again(fakehost: FakeFactory) -> None:
    fake = await fakehost(items=30)
    fake.host.failures["Pull"] = [TIMED_OUT, TIMED_OUT]
    async with WSManSession(fake.uri) as session:
        items = [i async for i in session.enumerate(RURI, max_elements=10)]
        stats = session.stats
    assert names(items) == [f"VM-{i:05d}" for i in range(30)]
    assert stats.pull_timeouts == 2
    assert fake.host.attempts["Pull"] == 4  # 2 timed out + 2 answered
    assert len(set(fake.host.message_ids["Pull"])) == 4  # each re-sent Pull is a new message


async def test_pull_timed_out_too_often_raises_and_releases(fakehost: FakeFactory) -> None:
    fake = await fakehost(items=30)
    fake.host.failures["Pull"] = [TIMED_OUT, TIMED_OUT, TIMED_OUT]
    retry = RetryPolicy(pull_timeouts=2)
    async with WSManSession(fake.uri, retry=retry) as session:
        with pytest.raises(OperationTimedOut) as info:
            async with session.enumerate(RURI, max_elements=10) as items:
                async for _ in items:
                    pass
    assert info.value.host == fake.label
    assert info.value.subcode == "TimedOut"
    assert fake.host.released == ["uuid:ctx-0"]


async def test_timed_out_on_get_is_not_retried(fakehost: FakeFactory) -> None:
    fake = await fakehost()
    fake.host.failures["Get"] = [TIMED_OUT]
    async with WSManSession(fake.uri, retry=FAST_RETRY) as session:
        with pytest.raises(OperationTimedOut) as info:
            await session.get(RURI, {"Name": "x"})
        assert session.stats.faults == 1
    assert info.value.host == fake.label
    assert fake.host.attempts["Get"] == 1


@pytest.mark.parametrize("kind", [INVALID_PARAMETER, INVALID_PARAMETER_400])
async def test_soap_fault_mapped_to_typed_error(fakehost: FakeFactory, kind: str) -> None:
    fake = await fakehost()
    fake.host.failures["RequestStateChange"] = [kind]
    async with WSManSession(fake.uri) as session:
        with pytest.raises(InvalidParameter) as info:
            await session.invoke(RURI, "RequestStateChange", params={"RequestedState": 2})
    err = info.value
    assert err.host == fake.label
    assert err.wsman_code == 87
    assert err.machine == "fakehost"
    assert err.code == "Sender"


@pytest.mark.parametrize(
    ("failures", "retried"),
    [([RESET], 1), ([UNAVAILABLE], 1), ([RESET, UNAVAILABLE], 2)],
)
async def test_idempotent_operations_retried(
    fakehost: FakeFactory, failures: list[str], retried: int
) -> None:
    fake = await fakehost(items=25)
    fake.host.failures["Get"] = list(failures)
    fake.host.failures["Enumerate"] = list(failures)
    fake.host.failures["Pull"] = list(failures)
    fake.host.failures["Identify"] = list(failures)
    async with SessionPool(retry=FAST_RETRY) as pool:
        session = pool.session(fake.uri)
        assert (await session.get(RURI, {"Name": "a"})).get_str("Name") == "a"
        items = [i async for i in session.enumerate(RURI, max_elements=10)]
        await session.identify()
        assert pool.stats.retried == 4 * retried
    assert len(items) == 25
    assert session.stats.retried == 4 * retried
    for op in ("Get", "Enumerate", "Identify"):
        assert fake.host.attempts[op] == 1 + retried
    assert fake.host.attempts["Pull"] == 2 + retried
    # A retried request is a new message, not a replay of the old MessageID.
    assert len(set(fake.host.message_ids["Get"])) == 1 + retried


async def test_retries_give_up_after_attempts(fakehost: FakeFactory) -> None:
    fake = await fakehost()
    fake.host.failures["Get"] = [UNAVAILABLE] * 5
    async with WSManSession(fake.uri, retry=FAST_RETRY) as session:
        with pytest.raises(HTTPStatusError) as info:
            await session.get(RURI, {"Name": "a"})
    assert info.value.status == 503
    assert info.value.host == fake.label
    assert fake.host.attempts["Get"] == 3


@pytest.mark.parametrize("failure", [RESET, UNAVAILABLE])
@pytest.mark.parametrize("op", ["Put", "Create", "Delete", "RequestStateChange"])
async def test_non_idempotent_operations_never_retried(
    fakehost: FakeFactory, op: str, failure: str
) -> None:
    fake = await fakehost()
    fake.host.failures[op] = [failure]
    async with WSManSession(fake.uri, retry=FAST_RETRY) as session:
        with pytest.raises(ConnectError if failure == RESET else HTTPStatusError) as info:
            if op == "Put":
                await session.put(RURI, make_instance(1), selectors={"Name": "VM-00001"})
            elif op == "Create":
                await session.create(RURI, make_instance(1))
            elif op == "Delete":
                await session.delete(RURI, {"Name": "VM-00001"})
            else:
                await session.invoke(RURI, op, params={"RequestedState": 2})
        assert session.stats.retried == 0
    assert info.value.host == fake.label
    assert fake.host.attempts[op] == 1


async def test_basic_auth_header_and_401(fakehost: FakeFactory) -> None:
    fake = await fakehost(user="admin", auth="basic")
    fake.host.failures["Get"] = [DENIED]
    async with SessionPool(retry=FAST_RETRY) as pool:
        session = pool.session(fake.uri, CREDS)
        await session.identify()
        with pytest.raises(AuthenticationError) as info:
            await session.get(RURI, {"Name": "a"})
        text = f"{info.value} {info.value!r} {session!r} {pool!r}"
    expected = "Basic " + base64.b64encode(b"admin:s3cret-pw").decode()
    assert fake.host.authorization == [expected, expected]
    assert fake.host.attempts["Get"] == 1  # a 401 is not retried
    assert info.value.host == fake.label
    assert info.value.auth_method == "basic"
    assert fake.label in str(info.value) and "basic" in str(info.value)
    assert "s3cret-pw" not in text and expected.split()[1] not in text


async def test_basic_over_http_warns_once_per_host(
    fakehost: FakeFactory, caplog: pytest.LogCaptureFixture
) -> None:
    one = await fakehost(user="admin", auth="basic")
    two = await fakehost(user="admin", auth="basic")
    caplog.set_level(logging.WARNING, logger="aiohyperv")
    async with SessionPool() as pool:
        for _ in range(3):
            await pool.session(one.uri, CREDS).identify()
        pool.session(two.uri, CREDS)
        pool.session(replace(two.uri, auth=None))  # no credentials: nothing crosses in the clear
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2
    assert one.label in warnings[0] and two.label in warnings[1]
    assert all("s3cret-pw" not in w for w in warnings)


def test_auth_configuration_errors() -> None:
    pool = SessionPool()
    uri = parse_uri("hyperv://admin@hv01/?auth=ntlm")
    with pytest.raises(ConfigError, match="ntlm authentication needs") as info:
        pool.session(uri)
    assert info.value.host == "hv01:5986"
    with pytest.raises(ConfigError, match="client_cert"):
        pool.session(parse_uri("hyperv://hv01/?auth=certificate"))
    with pytest.raises(ConfigError, match="needs credentials"):
        pool.session(parse_uri("hyperv://hv01/?auth=basic"))
    with pytest.raises(ConfigError, match="set them on the SessionPool"):
        WSManSession(parse_uri("hyperv://hv01/"), pool=pool, limits=Limits())


async def test_different_users_never_share_connections(fakehost: FakeFactory) -> None:
    fake = await fakehost(auth="basic")
    bob = Credentials(username="bob", password="b0b-pw")
    async with SessionPool() as pool:
        await pool.session(fake.uri, CREDS).identify()
        await pool.session(fake.uri, bob).identify()
        await pool.session(fake.uri, CREDS).identify()
        stats = pool.stats
    assert (stats.hosts, stats.opened, stats.reused) == (2, 2, 1)


async def test_closed_session_and_pool_refuse_work(fakehost: FakeFactory) -> None:
    fake = await fakehost()
    pool = SessionPool()
    session = pool.session(fake.uri)
    await session.aclose()
    assert not pool.closed  # a pool's session does not close the pool
    with pytest.raises(InvalidOperation):
        await session.identify()
    await pool.aclose()
    with pytest.raises(InvalidOperation):
        pool.session(fake.uri)


async def test_envelope_carries_pool_settings(fakehost: FakeFactory) -> None:
    fake = await fakehost(items=5)
    limits = Limits(max_envelope_size=51200)
    timeouts = Timeouts(operation=7.5)
    async with SessionPool(limits=limits, timeouts=timeouts) as pool:
        await pool.session(fake.uri).get(RURI, {"Name": "x"})
    [req] = fake.host.requests
    assert req.max_envelope_size == 51200
    assert req.operation_timeout == 7.5
    assert req.to == fake.uri.endpoint
    assert req.selectors == {"Name": "x"}
    assert req.resource_uri == RURI
