"""Every driver operation end to end against the simulator: a v2 (2019) and a v1 (2008 R2) host."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import struct
import uuid
import zlib
from typing import TYPE_CHECKING, Any
from unittest import mock

import pytest
from lxml import etree

from aiohyperv._exceptions import (
    CimMethodError,
    ConfigError,
    InvalidOperation,
    JobFailed,
    ReadOnlyError,
    VMNotFound,
)
from aiohyperv.hyperv import (
    DomainState,
    JobPolicy,
    ReturnCode,
    VcpuState,
    connect,
    parse_domain,
)
from aiohyperv.hyperv._jobs import wait_for_job

from .conftest import AUTH, domain_in

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from aiohyperv.hyperv import HyperVConnection
    from aiohyperv.simulator import SimulatedHost, SimulatorServer

V2_STATES = {2: DomainState.RUNNING, 3: DomainState.SHUTOFF, 6: DomainState.SHUTOFF,
             9: DomainState.PAUSED}  # fmt: skip
V1_STATES = {2: DomainState.RUNNING, 3: DomainState.SHUTOFF, 32769: DomainState.SHUTOFF,
             32768: DomainState.PAUSED}  # fmt: skip


def expected_state(host: SimulatedHost, guid: str) -> DomainState:
    table = V1_STATES if host.os.v1 else V2_STATES
    return table[host.vms[guid.upper()].state]


# -- connection ----------------------------------------------------------------------------------


async def test_connection_facts(conn: HyperVConnection, host: SimulatedHost) -> None:
    assert conn.namespace == ("v1" if host.os.v1 else "v2")
    packed = await conn.get_version()
    major, minor, micro = (int(p) for p in host.os.version.split("."))
    assert packed == major * 100_000_000 + minor * 1_000_000 + micro
    assert await conn.get_type() == "Hyper-V"
    assert await conn.get_hostname() == host.dns_name
    info = await conn.node_info()
    assert info.sockets == host.sockets
    assert info.cores == host.cores_per_socket
    assert info.threads == 2
    assert info.cpus == host.sockets * host.cores_per_socket
    assert info.mhz == host.cpu_mhz
    assert info.memory == host.memory_bytes // 1024
    assert "(R)" not in info.model and "@" not in info.model
    assert info.model.split()[0] in host.cpu_name
    assert 0 < await conn.get_free_memory() < host.memory_bytes
    assert await conn.get_max_vcpus() == host.os.max_vcpus
    nets = await conn.list_networks()
    assert sorted(n.name for n in nets) == sorted(name for _, name in host.switches)
    assert {n.uuid for n in nets} == {str(uuid.UUID(g)) for g, _ in host.switches}
    assert await conn.is_alive()
    assert conn.is_encrypted() is False and conn.is_secure() is False


async def test_capabilities(conn: HyperVConnection, host: SimulatedHost) -> None:
    root = etree.fromstring((await conn.get_capabilities()).encode())
    assert root.findtext("host/uuid") == str(uuid.UUID(host.system_uuid))
    assert root.findtext("host/cpu/arch") == "x86_64"
    topo = root.find("host/cpu/topology")
    assert topo is not None
    assert topo.get("sockets") == str(host.sockets)
    assert topo.get("cores") == str(host.cores_per_socket)
    arches = [a.get("name") for a in root.iterfind("guest/arch")]
    assert arches == ["i686", "x86_64"]
    assert {d.get("type") for d in root.iterfind("guest/arch/domain")} == {"hyperv"}


async def test_is_alive_probes_the_host(sim: SimulatorServer, conn: HyperVConnection) -> None:
    assert await conn.is_alive()
    sim.hosts[0].faults.unauthorized = True
    assert not await conn.is_alive()
    sim.hosts[0].faults.unauthorized = False
    assert await conn.is_alive()
    await conn.aclose()
    assert not await conn.is_alive()


async def test_namespace_from_uri(sim: SimulatorServer, host: SimulatedHost) -> None:
    ns = "v1" if host.os.v1 else "v2"
    async with connect(f"{sim.uris[0]}&namespace={ns}", auth=AUTH) as conn:
        assert conn.namespace == ns
        assert len(await conn.list_domains()) == len(host.vms)
    # awaiting connect() works too
    conn2 = await connect(sim.uris[0], auth=AUTH)
    try:
        assert conn2.namespace == ns
    finally:
        await conn2.aclose()


# -- listing and lookups -------------------------------------------------------------------------


async def test_list_domains_and_states(conn: HyperVConnection, host: SimulatedHost) -> None:
    every = await conn.list_domains()
    assert {d.guid for d in every} == set(host.vms)
    active = await conn.list_domains(active=True, inactive=False)
    inactive = await conn.list_domains(active=False, inactive=True)
    assert {d.guid for d in active} | {d.guid for d in inactive} == set(host.vms)
    assert not {d.guid for d in active} & {d.guid for d in inactive}
    assert await conn.list_domains(active=False, inactive=False) == []
    for dom in every:
        assert dom.cached_state is expected_state(host, dom.guid)
        assert (dom.id >= 0) == (dom.cached_state in (DomainState.RUNNING, DomainState.PAUSED))
        if dom.id >= 0:
            assert dom.id == host.vms[dom.guid].process_id
    assert await conn.num_of_domains() == len(active)
    assert await conn.num_of_defined_domains() == len(inactive)


async def test_lookups(conn: HyperVConnection, host: SimulatedHost) -> None:
    vm = next(iter(host.vms.values()))
    by_name = await conn.lookup_domain_by_name(vm.name)
    assert by_name.guid == vm.guid and by_name.uuid == vm.guid.lower()
    by_uuid = await conn.lookup_domain_by_uuid(vm.guid.lower())
    assert by_uuid.name == vm.name
    assert (await conn.lookup_domain_by_uuid(uuid.UUID(vm.guid))).name == vm.name
    running = await domain_in(conn, DomainState.RUNNING)
    assert (await conn.lookup_domain_by_id(running.id)).guid == running.guid
    assert (await conn.lookup_domain(str(running.id))).guid == running.guid
    assert (await conn.lookup_domain(vm.guid)).guid == vm.guid
    assert (await conn.lookup_domain(vm.name)).guid == vm.guid
    with pytest.raises(VMNotFound) as err:
        await conn.lookup_domain_by_name("no such vm")
    assert err.value.host == conn.host
    with pytest.raises(VMNotFound):
        await conn.lookup_domain_by_uuid(uuid.uuid4())
    with pytest.raises(VMNotFound):
        await conn.lookup_domain_by_id(1)
    with pytest.raises(ConfigError):
        await conn.lookup_domain_by_uuid("not-a-uuid")


async def test_lookup_escapes_names(conn: HyperVConnection, host: SimulatedHost) -> None:
    vms = list(host.vms.values())
    vms[0].name = 'it\'s a "test" \\ VM ☃'
    dom = await conn.lookup_domain_by_name(vms[0].name)
    assert dom.guid == vms[0].guid and dom.name == vms[0].name
    vms[1].name = vms[2].name = "twin"
    with pytest.raises(InvalidOperation, match="multiple domains"):
        await conn.lookup_domain_by_name("twin")


# -- life cycle ----------------------------------------------------------------------------------


async def test_start_pause_resume_save_restore(conn: HyperVConnection, host: SimulatedHost) -> None:
    dom = await domain_in(conn, DomainState.SHUTOFF)
    await dom.start()
    assert await dom.state() == (DomainState.RUNNING, 0)
    assert dom.id == host.vms[dom.guid].process_id and dom.id >= 0
    assert await dom.is_active()
    with pytest.raises(InvalidOperation, match="already active"):
        await dom.start()
    with pytest.raises(InvalidOperation, match="not paused"):
        await dom.resume()
    await dom.suspend()
    assert (await dom.state())[0] is DomainState.PAUSED
    assert host.vms[dom.guid].state == (32768 if host.os.v1 else 9)
    with pytest.raises(InvalidOperation, match="not running"):
        await dom.suspend()
    await dom.resume()
    assert (await dom.state())[0] is DomainState.RUNNING
    await dom.managed_save()
    assert (await dom.state())[0] is DomainState.SHUTOFF
    assert host.vms[dom.guid].state == (32769 if host.os.v1 else 6)
    assert await dom.has_managed_save()
    assert dom.id == -1
    with pytest.raises(InvalidOperation):
        await dom.managed_save()
    await dom.start()  # restores the saved state
    assert (await dom.state())[0] is DomainState.RUNNING
    assert not await dom.has_managed_save()


async def test_reboot_reset_destroy(conn: HyperVConnection, host: SimulatedHost) -> None:
    dom = await domain_in(conn, DomainState.RUNNING)
    await dom.reboot()
    assert (await dom.state())[0] is DomainState.RUNNING
    await dom.reset()
    assert (await dom.state())[0] is DomainState.RUNNING
    await dom.destroy()
    assert (await dom.state())[0] is DomainState.SHUTOFF
    assert host.vms[dom.guid].state == 3
    for op in (dom.destroy, dom.reboot, dom.reset, dom.suspend, dom.shutdown):
        with pytest.raises(InvalidOperation):
            await op()


async def test_managed_save_remove(conn: HyperVConnection, host: SimulatedHost) -> None:
    dom = await domain_in(conn, DomainState.RUNNING)
    await dom.managed_save()
    assert await dom.has_managed_save()
    await dom.managed_save_remove()
    assert not await dom.has_managed_save()
    assert (await dom.state())[0] is DomainState.SHUTOFF
    with pytest.raises(InvalidOperation, match="no managed save"):
        await dom.managed_save_remove()


async def test_guest_shutdown(conn: HyperVConnection, host: SimulatedHost) -> None:
    dom = await domain_in(conn, DomainState.RUNNING)
    host.vms[dom.guid].shutdown_ic = True
    await dom.shutdown()
    # The guest shuts down after the call returns; wait for it (bounded).
    for _ in range(100):
        if (await dom.state())[0] is DomainState.SHUTOFF:
            break
        await asyncio.sleep(0.02)
    assert (await dom.state())[0] is DomainState.SHUTOFF


async def test_shutdown_without_integration_services(
    conn: HyperVConnection, host: SimulatedHost
) -> None:
    dom = await domain_in(conn, DomainState.RUNNING)
    host.vms[dom.guid].shutdown_ic = False
    with pytest.raises(CimMethodError) as err:
        await dom.shutdown()
    assert err.value.return_value is ReturnCode.MSVM_INVALID_STATE
    assert (await dom.state())[0] is DomainState.RUNNING


async def test_failed_job_raises_job_failed(conn: HyperVConnection, host: SimulatedHost) -> None:
    dom = await domain_in(conn, DomainState.SHUTOFF)
    host.faults.fail_jobs = True
    with pytest.raises(JobFailed) as err:
        await dom.start()
    assert err.value.job_state == 10
    assert err.value.error_description
    assert err.value.error_code
    assert err.value.method == "RequestStateChange"
    assert err.value.host == conn.host
    host.faults.fail_jobs = False
    assert (await dom.state())[0] is DomainState.SHUTOFF


async def test_job_deadline(sim: SimulatorServer, host: SimulatedHost) -> None:
    async with connect(sim.uris[0], auth=AUTH, job_timeout=0.05) as conn:
        dom = await domain_in(conn, DomainState.SHUTOFF)
        host.spec = dataclasses.replace(host.spec, job_duration=30.0)
        with pytest.raises(JobFailed, match="did not finish") as err:
            await dom.start()
        assert err.value.job_state in (2, 3, 4)


async def test_wait_for_job_polls_until_complete(conn: HyperVConnection) -> None:
    dom = await domain_in(conn, DomainState.SHUTOFF)
    result = await conn.session.invoke(
        conn._cls("Msvm_ComputerSystem").resource_uri,
        "RequestStateChange",
        selectors={"CreationClassName": "Msvm_ComputerSystem", "Name": dom.guid},
        params={"RequestedState": 2},
    )
    assert result.return_value == 4096 and result.job is not None
    job = await wait_for_job(
        conn.session,
        result.job,
        method="RequestStateChange",
        namespace_uri=conn.job_namespace_uri(),
        policy=JobPolicy(initial=0.001, cap=0.01),
    )
    assert job.get_int("JobState") == 7


# -- settings ------------------------------------------------------------------------------------


async def test_info_memory_vcpus(conn: HyperVConnection, host: SimulatedHost) -> None:
    dom = await domain_in(conn, DomainState.SHUTOFF)
    await dom.set_vcpus(3)
    await dom.set_max_memory(8 * 1024 * 1024)
    await dom.set_memory(3 * 1024 * 1024 + 1)  # rounds up to an even number of MiB: 3074 MiB
    info = await dom.info()
    assert info.nr_virt_cpu == 3 == await dom.get_vcpus_count()
    assert info.max_memory == 8 * 1024 * 1024 == await dom.get_max_memory()
    assert info.memory == 3074 * 1024
    assert info.state is DomainState.SHUTOFF and info.cpu_time == 0
    assert await dom.get_max_vcpus() == host.os.max_vcpus
    with pytest.raises(ConfigError):
        await dom.set_vcpus(0)
    with pytest.raises(ConfigError):
        await dom.set_memory(0)
    await dom.start()
    with pytest.raises(CimMethodError) as err:  # Hyper-V cannot hot-add vCPUs
        await dom.set_vcpus(2)
    assert err.value.return_value is ReturnCode.MSVM_INVALID_STATE


async def test_autostart(conn: HyperVConnection, host: SimulatedHost) -> None:
    dom = (await conn.list_domains())[0]
    await dom.set_autostart(True)
    await dom.set_autostart(False)
    # 2008 R2 keeps AutomaticStartupAction on Msvm_VirtualSystemGlobalSettingData (0 none,
    # 2 always); the simulated VM keeps the v2 number either way (2 none, 4 always).
    assert not await dom.get_autostart()
    assert host.vms[dom.guid].autostart == 2
    await dom.set_autostart(True)
    assert await dom.get_autostart()
    assert host.vms[dom.guid].autostart == 4


async def test_scheduler_parameters(conn: HyperVConnection) -> None:
    dom = (await conn.list_domains())[0]
    params = await dom.scheduler_parameters()
    assert params.scheduler == "allocation" == dom.scheduler_type()[0]
    assert 0 < params.limit <= 100000
    assert 0 <= params.reservation <= params.limit
    assert params.weight > 0


async def test_vcpus_info(conn: HyperVConnection) -> None:
    dom = await domain_in(conn, DomainState.SHUTOFF)
    vcpus = await dom.get_vcpus()
    assert len(vcpus) == await dom.get_vcpus_count()
    assert [v.number for v in vcpus] == list(range(len(vcpus)))
    assert all(v.state is VcpuState.OFFLINE and v.cpu_time == 0 for v in vcpus)


async def test_running_vcpus_are_not_offline(conn: HyperVConnection) -> None:
    # The hypervisor counter set has a '<VM name>:Hv VP <n>' row per vCPU of a running VM.
    dom = await domain_in(conn, DomainState.RUNNING)
    vcpus = await dom.get_vcpus()
    assert len(vcpus) == await dom.get_vcpus_count() > 0
    assert all(v.state is VcpuState.RUNNING for v in vcpus)


# -- XML -----------------------------------------------------------------------------------------


async def test_xml_desc_matches_host(conn: HyperVConnection, host: SimulatedHost) -> None:
    from aiohyperv.simulator._providers import vm_resources

    for dom in await conn.list_domains():
        vm = host.vms[dom.guid]
        definition = parse_domain(await dom.xml_desc())
        assert definition.name == vm.name
        assert definition.uuid == vm.guid.lower()
        assert definition.vcpus == vm.cpus
        assert definition.current_memory_kib == vm.memory_mb * 1024 or vm.dynamic_memory
        assert definition.generation == vm.generation
        assert len([d for d in definition.disks if d.device == "disk"]) == vm.disks
        macs = {
            str(r.values["Address"]).lower()
            for r in vm_resources(host, vm)
            if "EthernetPort" in r.class_name and r.values.get("Address")
        }
        assert {(n.mac or "").replace(":", "") for n in definition.interfaces} == macs
        # libvirt's driver names the switch by its Name (GUID), not its display name.
        switch_guids = {guid.lower() for guid, _ in host.switches}
        assert all((n.bridge or "").lower() in switch_guids for n in definition.interfaces)
        assert [s.port for s in definition.serials] == [1, 2]
        assert all(d.target_dev for d in definition.disks)
        kinds = {c.type for c in definition.controllers}
        assert kinds == ({"ide"} if vm.generation == 1 else {"scsi"})


async def test_xml_desc_queries_run_concurrently(conn: HyperVConnection) -> None:
    dom = (await conn.list_domains())[0]
    session = conn.session
    original = session.enumerate
    in_flight = peak = 0
    calls = 0

    class Counting:
        def __init__(self, inner: Any) -> None:
            self.inner = inner

        async def __aenter__(self) -> Any:
            nonlocal in_flight, peak, calls
            calls += 1
            in_flight += 1
            peak = max(peak, in_flight)
            await asyncio.sleep(0)  # let sibling tasks start before this one finishes
            return await self.inner.__aenter__()

        async def __aexit__(self, *exc: object) -> None:
            nonlocal in_flight
            in_flight -= 1
            await self.inner.__aexit__(*exc)

    def counting(*args: Any, **kwargs: Any) -> Any:
        return Counting(original(*args, **kwargs))

    batched_xml = await dom.xml_desc()  # warms the switch cache too
    before, pulls = session.stats.requests, session.stats.pulls
    assert await dom.xml_desc() == batched_xml
    # computer system + settings (concurrently), then every settings row in one query (and its
    # Pull: Windows answers an optimized Enumerate with the first item only)
    assert session.stats.requests - before == 3 + (session.stats.pulls - pulls)
    assert session.stats.pulls - pulls == 1
    conn.batch_settings = False  # the per-class path, as for a host refusing the base class
    session.enumerate = counting  # type: ignore[method-assign]
    try:
        concurrent_xml = await dom.xml_desc()
        concurrent_peak = peak

        async def one_at_a_time(*aws: Awaitable[object]) -> list[object]:
            return [await aw for aw in aws]

        peak = 0
        with mock.patch.object(conn, "gather", one_at_a_time):
            sequential_xml = await dom.xml_desc()
        sequential_peak = peak
    finally:
        session.enumerate = original  # type: ignore[method-assign]
    assert concurrent_xml == sequential_xml == batched_xml
    assert concurrent_peak >= 5  # the settings classes were fetched side by side
    assert sequential_peak == 1


async def test_enumerations_pull_in_batches(sim: SimulatorServer, host: SimulatedHost) -> None:
    async with connect(sim.uris[0], auth=AUTH, max_elements=2) as conn:
        pulls = conn.session.stats.pulls
        domains = await conn.list_domains()
        assert len(domains) == len(host.vms) == 6
        assert conn.session.stats.pulls - pulls >= 2  # 6 VMs in batches of 2


async def test_define_and_undefine(conn: HyperVConnection, host: SimulatedHost) -> None:
    switch = host.switches[0][1]
    bus = "ide" if host.os.v1 else "scsi"
    target = "hda" if host.os.v1 else "sda"
    xml = f"""
    <domain type='hyperv'>
      <name>new-vm</name>
      <description>made by a test</description>
      <memory unit='MiB'>2048</memory>
      <currentMemory unit='MiB'>1024</currentMemory>
      <vcpu>2</vcpu>
      <os><type arch='x86_64'>hvm</type></os>
      <devices>
        <disk type='file' device='disk'>
          <source file='C:\\VMs\\new-vm.vhdx'/>
          <target dev='{target}' bus='{bus}'/>
        </disk>
        <interface type='bridge'>
          <mac address='00:15:5d:12:34:56'/>
          <source bridge='{switch}'/>
        </interface>
        <serial type='pipe'><source path='\\\\.\\pipe\\new-vm'/><target port='1'/></serial>
      </devices>
    </domain>"""
    if not host.os.v1:
        xml = xml.replace("<devices>", "<devices><controller type='scsi' index='0'/>")
    dom = await conn.define_xml(xml)
    assert dom.name == "new-vm"
    assert dom.guid in host.vms
    assert (await dom.state())[0] is DomainState.SHUTOFF
    definition = parse_domain(await dom.xml_desc())
    assert definition.vcpus == 2
    # <memory> 2048 became the Limit, <currentMemory> the startup memory; dumpxml prints the
    # startup memory as both <memory> and <currentMemory> (libvirt's hypervDomainGetXMLDesc).
    assert definition.memory_kib == definition.current_memory_kib == 1024 * 1024
    assert (await dom.info()).max_memory == 2048 * 1024
    assert definition.description == "made by a test"
    disks = [d for d in definition.disks if d.device == "disk"]
    assert [(d.source, d.bus, d.target_dev) for d in disks] == [
        ("C:\\VMs\\new-vm.vhdx", bus, target)
    ]
    switch_guid = next(g for g, n in host.switches if switch in (g, n))
    assert [(n.mac, (n.bridge or "").lower()) for n in definition.interfaces] == [
        ("00:15:5d:12:34:56", switch_guid.lower())
    ]
    assert [(s.port, s.path) for s in definition.serials if s.path] == [(1, "\\\\.\\pipe\\new-vm")]
    with pytest.raises(InvalidOperation, match="already exists"):
        await conn.define_xml(xml)
    await dom.undefine()
    assert dom.guid not in host.vms
    with pytest.raises(VMNotFound):
        await conn.lookup_domain_by_name("new-vm")


async def test_define_rolls_back_on_failure(conn: HyperVConnection, host: SimulatedHost) -> None:
    before = set(host.vms)
    xml = (
        "<domain type='hyperv'><name>broken</name><vcpu>2</vcpu><devices>"
        "<interface type='bridge'><source bridge='no such switch'/></interface>"
        "</devices></domain>"
    )
    with pytest.raises(InvalidOperation, match="no virtual switch"):
        await conn.define_xml(xml)
    assert set(host.vms) == before


async def test_undefine_refuses_active_domain(conn: HyperVConnection) -> None:
    dom = await domain_in(conn, DomainState.RUNNING)
    with pytest.raises(InvalidOperation, match="active"):
        await dom.undefine()


async def test_attach_device(conn: HyperVConnection, host: SimulatedHost) -> None:
    dom = await domain_in(conn, DomainState.SHUTOFF)
    before = parse_domain(await dom.xml_desc())
    vm = host.vms[dom.guid]
    if vm.generation == 1:
        disk = (
            "<disk type='file' device='disk'><source file='C:\\extra.vhdx'/>"
            "<target dev='hdd' bus='ide'/></disk>"
        )
        expected_target = "hdd"
    else:
        disk = (
            "<disk type='file' device='disk'><source file='C:\\extra.vhdx'/>"
            "<target dev='sdb' bus='scsi'/><address type='drive' controller='0' unit='9'/></disk>"
        )
        expected_target = "sdj"
    await dom.attach_device(disk)
    await dom.attach_device(
        f"<interface type='bridge'><source bridge='{host.switches[0][1]}'/></interface>"
    )
    await dom.attach_device(
        "<serial type='pipe'><source path='\\\\.\\pipe\\p2'/><target port='2'/></serial>"
    )
    after = parse_domain(await dom.xml_desc())
    added = [d for d in after.disks if d.source == "C:\\extra.vhdx"]
    assert [d.target_dev for d in added] == [expected_target]
    assert len(after.interfaces) == len(before.interfaces) + 1
    assert after.interfaces[-1].mac  # Hyper-V assigned one
    assert ("\\\\.\\pipe\\p2") in [s.path for s in after.serials if s.port == 2]
    with pytest.raises(ConfigError):
        await dom.attach_device("<graphics type='vnc'/>")
    with pytest.raises(InvalidOperation, match="no SCSI controller 3"):
        await dom.attach_device(
            "<disk type='file'><source file='x'/><target dev='sda' bus='scsi'/>"
            "<address type='drive' controller='3' unit='0'/></disk>"
        )


# -- console -------------------------------------------------------------------------------------


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    # the image data decompresses to height rows of 1 + 3 * width bytes
    pos, idat = 8, b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        if data[pos + 4 : pos + 8] == b"IDAT":
            idat += data[pos + 8 : pos + 8 + length]
        pos += 12 + length
    assert len(zlib.decompress(idat)) == height * (1 + 3 * width)
    return width, height


async def test_screenshot(conn: HyperVConnection) -> None:
    dom = await domain_in(conn, DomainState.RUNNING)
    png = await dom.screenshot()
    width, height = _png_size(png)
    assert (width, height) > (0, 0)
    ppm = await dom.screenshot("ppm", width=64, height=48)
    assert (
        ppm.startswith(b"P6\n64 48\n255\n") and len(ppm) == len(b"P6\n64 48\n255\n") + 64 * 48 * 3
    )
    off = await domain_in(conn, DomainState.SHUTOFF)
    with pytest.raises(CimMethodError):
        await off.screenshot()


async def test_send_key(conn: HyperVConnection, host: SimulatedHost) -> None:
    dom = await domain_in(conn, DomainState.RUNNING)
    vm = host.vms[dom.guid]
    vm.typed.clear()
    await dom.send_key("linux", [29, 56, 111], holdtime=10)  # ctrl-alt-del
    assert vm.typed == [
        "<down 162>", "<down 164>", "<down 46>", "<up 162>", "<up 164>", "<up 46>"
    ]  # fmt: skip
    assert not vm.keys_down
    with pytest.raises(ConfigError):
        await dom.send_key("linux", [])
    with pytest.raises(ConfigError):
        await dom.send_key("linux", list(range(2, 20)))
    with pytest.raises(ConfigError):
        await dom.send_key("nope", [1])
    off = await domain_in(conn, DomainState.SHUTOFF)
    with pytest.raises(CimMethodError):
        await off.send_key("win32", [0x41])


# -- read-only -----------------------------------------------------------------------------------


async def test_read_only_refuses_changes_before_sending(
    sim: SimulatorServer, host: SimulatedHost
) -> None:
    async with connect(sim.uris[0], auth=AUTH, read_only=True) as conn:
        dom = (await conn.list_domains())[0]
        assert (await dom.info()).nr_virt_cpu > 0  # reads work
        sent = conn.session.stats.requests
        ops = [
            dom.start(), dom.destroy(), dom.shutdown(), dom.reboot(), dom.reset(),
            dom.suspend(), dom.resume(), dom.managed_save(), dom.managed_save_remove(),
            dom.set_autostart(True), dom.set_memory(1024), dom.set_max_memory(1024),
            dom.set_vcpus(1), dom.undefine(), dom.attach_device("<serial/>"),
            dom.send_key("linux", [1]), conn.define_xml("<domain/>"),
        ]  # fmt: skip
        for op in ops:
            with pytest.raises(ReadOnlyError) as err:
                await op
            assert err.value.host == conn.host
        assert conn.session.stats.requests == sent  # nothing was sent
        assert await dom.screenshot("ppm", width=8, height=8) if dom.id >= 0 else True


def test_thumbnail_base64_decoding() -> None:
    from aiohyperv.hyperv._domain import _image_bytes

    assert _image_bytes(base64.b64encode(b"\x01\x02").decode()) == b"\x01\x02"
    assert _image_bytes(["1", "2", "255"]) == b"\x01\x02\xff"
