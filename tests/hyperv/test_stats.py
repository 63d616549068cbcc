"""Live statistics: one GetSummaryInformation for the whole host, typed records, per-VM form."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohyperv.cim import CimInstance
from aiohyperv.hyperv import DomainState, DomainStats
from aiohyperv.hyperv._stats import STATS_CODES, demand_mib, read_stats

if TYPE_CHECKING:
    from aiohyperv.hyperv import HyperVConnection
    from aiohyperv.simulator import SimulatedHost


async def test_summary_is_one_request_for_every_vm(
    conn: HyperVConnection, host: SimulatedHost
) -> None:
    await conn.vsms_keys()  # looked up once per connection
    before = conn.session.stats.requests
    rows = await conn.summary()
    assert conn.session.stats.requests - before == 1
    assert {r.uuid.upper() for r in rows} == set(host.vms)
    for stats in rows:
        vm = host.vms[stats.uuid.upper()]
        assert isinstance(stats, DomainStats)
        assert stats.name == vm.name
        running = vm.state == 2
        assert stats.state is (DomainState.RUNNING if running else stats.state)
        assert (stats.cpu_load or 0) > 0 if running else not stats.cpu_load
        assert (stats.memory_assigned_mib or 0) > 0 if vm.is_on else stats.memory_assigned_mib == 0
        assert stats.uptime_ms == host.on_time_ms(vm) or stats.uptime_ms is not None
        assert stats.health_state == 5 and stats.health == "ok"
        assert stats.vcpus == vm.cpus
        if running:
            assert stats.heartbeat == (2 if vm.guest_os else 12)
        if host.os.v1:
            assert stats.replication_state is None
        else:
            assert stats.replication == "disabled"
        assert stats.as_dict()["state"] == stats.state.label


async def test_domain_stats_names_one_vm(conn: HyperVConnection, host: SimulatedHost) -> None:
    dom = (await conn.list_domains())[0]
    stats = await dom.stats()
    assert stats.uuid == dom.uuid
    assert stats.name == dom.name


def test_demand_from_available_share() -> None:
    assert demand_mib(4096, 40) == 4096 * 60 // 100
    assert demand_mib(4096, None) == 4096
    assert demand_mib(None, 40) is None
    assert demand_mib(1024, 250) == 1024  # nonsense percentages are ignored


def test_read_stats_reads_every_field() -> None:
    inst = CimInstance(
        "Msvm_SummaryInformation",
        None,
        {
            "Name": "ABCD-1", "ElementName": "web", "EnabledState": "2",
            "NumberOfProcessors": "4", "ProcessorLoad": "17", "MemoryUsage": "2048",
            "MemoryAvailable": "25", "AvailableMemoryBuffer": "20", "Heartbeat": "13",
            "UpTime": "5000", "GuestOperatingSystem": "Windows", "HealthState": "20",
            "ReplicationState": "3", "ReplicationHealth": "2",
        },
    )  # fmt: skip
    stats = read_stats(inst, "v2")
    assert stats.state is DomainState.RUNNING
    assert (stats.vcpus, stats.cpu_load, stats.memory_assigned_mib) == (4, 17, 2048)
    assert stats.memory_demand_mib == 1536
    assert stats.as_dict()["heartbeat"] == "lost communication"
    assert stats.health == "major failure"
    assert stats.replication == "replicating"
    assert stats.as_dict()["replication_health"] == "warning"
    assert 104 in STATS_CODES and 114 in STATS_CODES
