"""Pure pieces of the transport: exception mapping, the FIFO semaphore, option checks, exports."""

from __future__ import annotations

import asyncio
import errno
import socket
import ssl

import aiohttp
import pytest
from aiohttp.client_reqrep import ConnectionKey
from aioresponses import aioresponses

import aiohyperv._transport as transport
from aiohyperv._config import parse_uri
from aiohyperv._exceptions import (
    AuthenticationError,
    ConfigError,
    ConnectError,
    HTTPStatusError,
    HyperVError,
    InvalidSelectors,
    ProtocolError,
    TransportError,
    TransportTimeout,
)
from aiohyperv._transport import (
    Limits,
    RetryPolicy,
    SessionPool,
    Timeouts,
    TLSOptions,
    is_retryable,
    map_exceptions,
)
from aiohyperv._transport._semaphore import FifoSemaphore

KEY = ConnectionKey("hv01", 5986, True, True, None, None, None)
HOST = "hv01:5986"


def _cert_error() -> aiohttp.ClientConnectorCertificateError:
    return aiohttp.ClientConnectorCertificateError(
        KEY, ssl.SSLCertVerificationError(1, "certificate verify failed: self-signed")
    )


CASES: list[tuple[BaseException, type[HyperVError], str, bool]] = [
    (_cert_error(), ConnectError, "TLS certificate of hv01:5986 failed verification", False),
    (
        aiohttp.ClientConnectorSSLError(KEY, ssl.SSLError(1, "wrong version number")),
        ConnectError,
        "TLS handshake with hv01:5986 failed",
        False,
    ),
    (
        aiohttp.ClientConnectorDNSError(KEY, socket.gaierror(-2, "Name or service not known")),
        ConnectError,
        "cannot resolve hv01:5986: Name or service not known",
        False,
    ),
    (
        aiohttp.ClientConnectorError(KEY, ConnectionRefusedError(errno.ECONNREFUSED, "refused")),
        ConnectError,
        "cannot connect to hv01:5986: refused",
        False,
    ),
    (
        aiohttp.ClientConnectorError(KEY, ConnectionResetError(errno.ECONNRESET, "reset")),
        ConnectError,
        "cannot connect to hv01:5986: reset",
        True,
    ),
    (aiohttp.ServerDisconnectedError(), ConnectError, "closed the connection", True),
    (aiohttp.ClientPayloadError("cut"), ConnectError, "was cut short", True),
    (
        aiohttp.ClientOSError(errno.ECONNRESET, "Connection reset by peer"),
        ConnectError,
        "Connection reset by peer",
        True,
    ),
    (
        aiohttp.ClientOSError(errno.EHOSTUNREACH, "No route to host"),
        ConnectError,
        "No route to host",
        False,
    ),
    (
        aiohttp.ConnectionTimeoutError(),
        TransportTimeout,
        "connecting to hv01:5986 timed out",
        False,
    ),
    (aiohttp.SocketTimeoutError(), TransportTimeout, "sent no response data", False),
    (TimeoutError(), TransportTimeout, "did not complete", False),
    (
        aiohttp.ClientResponseError(None, (), status=400, message="Invalid header"),  # type: ignore[arg-type]
        ProtocolError,
        "invalid HTTP response: Invalid header",
        False,
    ),
    (aiohttp.InvalidURL("x"), TransportError, "HTTP request to hv01:5986 failed", False),
    (OSError(errno.ENETDOWN, "Network is down"), ConnectError, "Network is down", False),
    (ValueError("odd"), TransportError, "ValueError: odd", False),
]


@pytest.mark.parametrize(("exc", "cls", "text", "retryable"), CASES)
def test_map_exceptions(
    exc: BaseException, cls: type[HyperVError], text: str, retryable: bool
) -> None:
    with pytest.raises(cls) as info, map_exceptions(HOST, timeouts=Timeouts()):
        raise exc
    err = info.value
    assert type(err) is cls
    assert err.host == HOST
    assert text in str(err)
    # The original is not chained: aiohttp's errors keep the request, Authorization included.
    assert err.__cause__ is None and err.__context__ is None
    assert is_retryable(err) is retryable
    assert not isinstance(err, aiohttp.ClientError)


def test_map_exceptions_keeps_own_errors_and_cancellation() -> None:
    fault = InvalidSelectors("no such instance")
    with pytest.raises(InvalidSelectors) as info, map_exceptions(HOST):
        raise fault
    assert info.value is fault and fault.host == HOST
    with pytest.raises(asyncio.CancelledError), map_exceptions(HOST):
        raise asyncio.CancelledError
    inner = ConnectError("x", host="other:1")
    with pytest.raises(ConnectError) as info2, map_exceptions(HOST):
        raise inner
    assert info2.value.host == "other:1"  # an inner layer's host wins


def test_is_retryable_statuses() -> None:
    assert is_retryable(HTTPStatusError("busy", status=503))
    assert not is_retryable(HTTPStatusError("gone", status=404))
    assert not is_retryable(AuthenticationError("no"))
    assert not is_retryable(TransportTimeout("slow"))
    assert not is_retryable(InvalidSelectors("x"))


async def test_dns_failure_through_the_session() -> None:
    # A resolver failure cannot be produced on loopback: aioresponses raises it instead.
    uri = parse_uri("hyperv://hv-nowhere.example.test:5985/?transport=http")
    dns = aiohttp.ClientConnectorDNSError(
        ConnectionKey("hv-nowhere.example.test", 5985, False, True, None, None, None),
        socket.gaierror(-2, "Name or service not known"),
    )
    async with SessionPool(retry=RetryPolicy(backoff=0)) as pool:
        with aioresponses() as mocked:
            mocked.post(uri.endpoint, exception=dns, repeat=True)
            with pytest.raises(ConnectError, match="cannot resolve") as info:
                await pool.session(uri).identify()
        assert pool.stats.retried == 0  # DNS failures do not heal in a second
    assert info.value.host == "hv-nowhere.example.test:5985"


async def test_gate_fifo_and_counts() -> None:
    gate = FifoSemaphore(2)
    await gate.acquire()
    await gate.acquire()
    order: list[int] = []

    async def waiter(n: int) -> None:
        await gate.acquire()
        order.append(n)

    tasks = [asyncio.create_task(waiter(n)) for n in range(3)]
    await asyncio.sleep(0)
    assert (gate.in_use, gate.queued) == (2, 3)
    for _ in range(3):
        gate.release()
        await asyncio.sleep(0)
    await asyncio.gather(*tasks)
    assert order == [0, 1, 2]
    assert (gate.in_use, gate.queued) == (2, 0)


async def test_gate_slot_granted_then_cancelled_is_passed_on() -> None:
    gate = FifoSemaphore(1)
    await gate.acquire()
    first = asyncio.create_task(gate.acquire())
    second = asyncio.create_task(gate.acquire())
    await asyncio.sleep(0)
    gate.release()  # grants `first`...
    first.cancel()  # ...which is cancelled before it runs
    with pytest.raises(asyncio.CancelledError):
        await first
    await asyncio.wait_for(second, 1)  # the slot went to `second`, not lost
    assert (gate.in_use, gate.queued) == (1, 0)
    gate.release()
    assert gate.in_use == 0


async def test_gate_cancelled_waiter_leaves_no_trace() -> None:
    gate = FifoSemaphore(1)
    await gate.acquire()
    task = asyncio.create_task(gate.acquire())
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert gate.queued == 0
    gate.release()
    assert gate.try_acquire()


@pytest.mark.parametrize(
    ("factory", "message"),
    [
        (lambda: Timeouts(read=10, operation=20), "must exceed Timeouts.operation"),
        (lambda: Timeouts(total=30, read=60), "at least Timeouts.read"),
        (lambda: Timeouts(connect=0), "Timeouts.connect must be > 0"),
        (lambda: Timeouts(connect=float("nan")), "must be a number"),
        (lambda: Limits(per_host_connections=0), "per_host_connections must be an integer"),
        (lambda: Limits(total_operations=True), "total_operations must be an integer"),
        (lambda: Limits(idle_host_timeout=-1), "idle_host_timeout must be > 0"),
        (lambda: Limits(response_slack=-1), "response_slack must be >= 0"),
        (lambda: Limits(max_envelope_size=4096), "max_envelope_size must be >= 8192"),
        (lambda: RetryPolicy(attempts=0), "attempts must be >= 1"),
        (lambda: RetryPolicy(backoff=-1), "backoff must be >= 0"),
        (lambda: TLSOptions(client_key="k.pem"), "needs TLSOptions.client_cert"),
    ],
)
def test_option_checks(factory: object, message: str) -> None:
    assert callable(factory)
    with pytest.raises(ConfigError, match=message):
        factory()


def test_defaults_stay_inside_windows_quotas() -> None:
    limits = Limits()
    timeouts = Timeouts()
    assert limits.per_host_connections <= 25  # MaxConnections on 2008 R2
    assert limits.per_host_operations <= 1500  # MaxConcurrentOperationsPerUser
    assert timeouts.read > timeouts.operation
    assert limits.max_response_bytes == 153600 + 65536


def test_exported_members() -> None:
    public = {name for name in dir(transport) if not name.startswith("_")}
    modules = {"annotations"}
    assert sorted(transport.__all__) == transport.__all__
    assert set(transport.__all__) == {
        name
        for name in public - modules
        if not isinstance(getattr(transport, name), type(transport))
    }
