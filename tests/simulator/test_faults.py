"""Fault injection: every knob of FaultConfig, observed from a real client on 127.0.0.1."""

from __future__ import annotations

from typing import TYPE_CHECKING

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from aiohyperv._exceptions import InternalError, OperationTimedOut, ProtocolError
from aiohyperv.simulator import FaultConfig, HostSpec, SimulatedHost, SimulatorServer, make_app
from aiohyperv.wsman import (
    Filter,
    build_enumerate,
    build_get,
    build_identify,
    build_invoke,
    build_pull,
    parse_enumerate,
    parse_get,
    parse_invoke,
    parse_response,
    resource_uri,
    wildcard_uri,
)

from ._helpers import ManualClock, RawClient, fault_fields, load_sample, parse, shape

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

V2 = "root/virtualization/v2"
CS_URI = resource_uri(V2, "Msvm_ComputerSystem")


@pytest.fixture
async def fleet() -> AsyncIterator[tuple[SimulatorServer, aiohttp.ClientSession]]:
    clock = ManualClock()
    hosts = [
        SimulatedHost.generate(HostSpec(name=f"hv{i}", vms=4, seed=17), clock=clock) for i in (1, 2)
    ]
    async with SimulatorServer(hosts) as server, aiohttp.ClientSession() as session:
        yield server, session


def raw(server: SimulatorServer, session: aiohttp.ClientSession, index: int = 0) -> RawClient:
    return RawClient(session, server.urls[index])


def get_host_body(client: RawClient, name: str) -> bytes:
    return build_get(
        CS_URI,
        options=client.options,
        selectors={"CreationClassName": "Msvm_ComputerSystem", "Name": name},
    )


async def test_latency_and_jitter_still_answer(
    fleet: tuple[SimulatorServer, aiohttp.ClientSession],
) -> None:
    server, session = fleet
    host = server.hosts[0]
    host.faults.latency = 0.01
    host.faults.jitter = 0.01
    client = raw(server, session)
    status, body = await client.post(get_host_body(client, "HV1"))
    assert status == 200
    assert parse_get(parse_response(body)).get_str("Name") == "HV1"


async def test_refused_connections_close_the_listener(
    fleet: tuple[SimulatorServer, aiohttp.ClientSession],
) -> None:
    server, session = fleet
    port = server.endpoints[1][1]
    server.hosts[1].faults.refuse_connections = True
    await server.apply_faults()
    with pytest.raises(aiohttp.ClientConnectorError) as info:
        await raw(server, session, 1).post(build_identify())
    assert isinstance(info.value.os_error, ConnectionRefusedError)
    status, _ = await raw(server, session, 0).post(build_identify())
    assert status == 200  # the other host is untouched
    server.hosts[1].faults.refuse_connections = False
    await server.apply_faults()
    assert server.endpoints[1][1] == port
    status, _ = await raw(server, session, 1).post(build_identify())
    assert status == 200


async def test_refusing_under_make_app_drops_the_connection() -> None:
    host = SimulatedHost.generate(HostSpec(name="solo", vms=1))
    host.faults.refuse_connections = True
    server = TestServer(make_app(host), host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as session:
            with pytest.raises(aiohttp.ClientError):
                await RawClient(session, str(server.make_url("/wsman"))).post(build_identify())
    finally:
        await server.close()


async def test_reset_mid_response(fleet: tuple[SimulatorServer, aiohttp.ClientSession]) -> None:
    server, session = fleet
    server.hosts[0].faults.reset_rate = 1.0
    client = raw(server, session)
    with pytest.raises((aiohttp.ClientPayloadError, aiohttp.ServerDisconnectedError)):
        await client.post(get_host_body(client, "HV1"))
    server.hosts[0].faults.reset()
    status, _ = await client.post(get_host_body(client, "HV1"))
    assert status == 200


async def test_slow_body_arrives_whole(
    fleet: tuple[SimulatorServer, aiohttp.ClientSession],
) -> None:
    server, session = fleet
    server.hosts[0].faults.slow_body = 0.05
    client = raw(server, session)
    status, body = await client.post(get_host_body(client, "HV1"))
    assert status == 200
    assert parse_get(parse_response(body)).get_str("Name") == "HV1"


async def test_unauthorized_always(fleet: tuple[SimulatorServer, aiohttp.ClientSession]) -> None:
    server, session = fleet
    server.hosts[0].faults.unauthorized = True
    client = raw(server, session)
    status, _ = await client.post(get_host_body(client, "HV1"))
    assert status == 401


async def test_500_internal_error_like_sample_05(
    fleet: tuple[SimulatorServer, aiohttp.ClientSession],
) -> None:
    server, session = fleet
    server.hosts[0].faults.fault_rate = 1.0
    client = raw(server, session)
    status, body = await client.post(get_host_body(client, "HV1"))
    assert status == 500
    fields = fault_fields(parse(body))
    assert (fields["code"], fields["subcode"]) == ("s:Receiver", "w:InternalError")
    assert fields["reason"] == "An internal error occurred. "
    with pytest.raises(InternalError):
        parse_response(body)
    assert shape(parse(body)) == shape(load_sample("02_fault_operation_timeout_windows.xml"))


async def test_bad_xml_body(fleet: tuple[SimulatorServer, aiohttp.ClientSession]) -> None:
    server, session = fleet
    server.hosts[0].faults.bad_xml_rate = 1.0
    client = raw(server, session)
    status, body = await client.post(get_host_body(client, "HV1"))
    assert status == 200
    with pytest.raises(ProtocolError):
        parse_response(body)


async def test_pull_timeouts_keep_the_context(
    fleet: tuple[SimulatorServer, aiohttp.ClientSession],
) -> None:
    server, session = fleet
    faults = server.hosts[0].faults
    client = raw(server, session)
    first = parse_enumerate(
        parse_response(
            (await client.post(build_enumerate(CS_URI, options=client.options, optimize=False)))[1]
        )
    )
    assert first.context
    faults.pull_timeout_rate = 1.0
    for _ in range(3):
        status, body = await client.post(build_pull(CS_URI, first.context, options=client.options))
        assert status == 500
        with pytest.raises(OperationTimedOut):
            parse_response(body)
    faults.pull_timeout_rate = 0.0
    status, body = await client.post(
        build_pull(CS_URI, first.context, options=client.options, max_elements=10)
    )
    assert status == 200 and len(parse_enumerate(parse_response(body)).items) == 5


async def test_failing_jobs_over_http(fleet: tuple[SimulatorServer, aiohttp.ClientSession]) -> None:
    server, session = fleet
    host = server.hosts[0]
    host.faults.fail_jobs = True
    vm = next(v for v in host.vms.values() if v.state == 2)
    client = raw(server, session)
    _, body = await client.post(
        build_invoke(
            CS_URI,
            "RequestStateChange",
            options=client.options,
            selectors={"CreationClassName": "Msvm_ComputerSystem", "Name": vm.guid},
            params={"RequestedState": 9},
        )
    )
    result = parse_invoke(parse_response(body), "RequestStateChange")
    assert result.return_value == 4096 and result.job is not None
    host.clock.advance(1)  # type: ignore[attr-defined]  # the fixture's ManualClock
    query = (
        f"SELECT * FROM Msvm_ConcreteJob WHERE InstanceID = '{result.job.selector('InstanceID')}'"
    )
    _status, body = await client.post(
        build_enumerate(wildcard_uri(V2), options=client.options, filter=Filter.wql(query))
    )
    (job,) = parse_enumerate(parse_response(body)).items
    assert job.get_int("JobState") == 10  # type: ignore[union-attr]
    assert job.get_int("ErrorCode") == 32768  # type: ignore[union-attr]
    assert vm.state == 2


def test_reset_turns_every_knob_off() -> None:
    faults = FaultConfig(latency=1, unauthorized=True, pull_timeouts=3, fail_jobs=True)
    faults.reset()
    assert faults == FaultConfig()
