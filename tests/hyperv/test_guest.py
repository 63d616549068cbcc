"""Guest information: KVP intrinsic items and guest NIC addresses on a simulated 2019 host."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from aiohyperv._exceptions import InvalidOperation
from aiohyperv.cim import CimType, EmbeddedInstance, to_cimxml
from aiohyperv.hyperv import DomainState, connect
from aiohyperv.hyperv._guest import kvp_pairs, prefix_length
from aiohyperv.testing import HostSpec, run_simulator

from .conftest import AUTH, domain_in

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from aiohyperv.hyperv import HyperVConnection
    from aiohyperv.simulator import SimulatorServer


@pytest.fixture
async def v2() -> AsyncIterator[tuple[HyperVConnection, SimulatorServer]]:
    spec = HostSpec(name="hv01", os="2019", vms=6, seed=9, job_duration=0.02)
    async with run_simulator(spec) as server, connect(server.uris[0], auth=AUTH) as conn:
        yield conn, server


async def test_running_guest_reports(v2: tuple[HyperVConnection, SimulatorServer]) -> None:
    conn, sim = v2
    host = sim.hosts[0]
    dom = await domain_in(conn, DomainState.RUNNING)
    vm = host.vms[dom.guid]
    vm.guest_os = "Windows Server 2019 Datacenter"
    info = await dom.guest_info()
    assert info.reporting
    assert info.fqdn == f"{vm.name}.{host.domain}"
    assert info.os_name == "Windows Server 2019 Datacenter"
    assert info.os_version == "10.0.17763"
    assert info.integration_services == "10.0.17763.1"
    assert info.items["NetworkAddressIPv4"]
    nics = await dom.interface_addresses()
    assert len(nics) == vm.nics
    for nic in nics:
        assert nic.mac is not None and nic.mac.startswith("00:15:5D")
        kinds = [(a.type, a.prefix) for a in nic.addresses]
        assert kinds == [("ipv4", 24), ("ipv6", 64)]
        assert nic.gateways and nic.dns_servers
        assert nic.addresses[0].address in info.items["NetworkAddressIPv4"].split(";")


async def test_off_vm_reports_nothing(v2: tuple[HyperVConnection, SimulatorServer]) -> None:
    conn, _sim = v2
    dom = await domain_in(conn, DomainState.SHUTOFF)
    info = await dom.guest_info()
    assert not info.reporting and info.fqdn is None
    nics = await dom.interface_addresses()
    assert nics and all(n.addresses == () for n in nics)


async def test_guest_without_integration_services(
    v2: tuple[HyperVConnection, SimulatorServer],
) -> None:
    conn, sim = v2
    dom = await domain_in(conn, DomainState.RUNNING)
    sim.hosts[0].vms[dom.guid].guest_os = ""
    assert not (await dom.guest_info()).reporting
    assert all(n.addresses == () for n in await dom.interface_addresses())


async def test_v1_has_no_guest_network() -> None:
    spec = HostSpec(name="hv01", os="2008R2", vms=1, seed=3)
    async with run_simulator(spec) as server, connect(server.uris[0], auth=AUTH) as conn:
        dom = (await conn.list_domains())[0]
        with pytest.raises(InvalidOperation):
            await dom.interface_addresses()


def test_kvp_pairs_and_prefixes() -> None:
    item = EmbeddedInstance("Msvm_KvpExchangeDataItem")
    item.set("Name", CimType.STRING, "OSName").set("Data", CimType.STRING, "Linux")
    item.set("Source", CimType.UINT16, 2)
    assert kvp_pairs([to_cimxml(item), "<not xml", ""]) == {"OSName": "Linux"}
    assert prefix_length("255.255.252.0", v6=False) == 22
    assert prefix_length("/64", v6=True) == 64
    assert prefix_length("64", v6=True) == 64
    assert prefix_length("garbage", v6=False) is None
    assert prefix_length(None, v6=False) is None


async def test_guest_configuration_is_associated_to_the_port(
    v2: tuple[HyperVConnection, SimulatorServer],
) -> None:
    conn, _sim = v2
    dom = await domain_in(conn, DomainState.RUNNING)
    ports = await conn.query(
        "SELECT * FROM Msvm_SyntheticEthernetPortSettingData"
        f" WHERE InstanceID LIKE 'Microsoft:{dom.guid}%'"
    )
    assert ports
    for port in ports:
        instance_id = port.get_str("InstanceID") or ""
        related = await conn.query(
            "ASSOCIATORS OF {Msvm_SyntheticEthernetPortSettingData.InstanceID="
            f"'{instance_id.replace(chr(92), chr(92) * 2)}'}}"
            " WHERE AssocClass = Msvm_SettingDataComponent"
            " ResultClass = Msvm_GuestNetworkAdapterConfiguration"
        )
        assert [r.get_str("InstanceID") for r in related] == [
            f"Microsoft:GuestNetwork\\{dom.guid}\\{instance_id.rsplit(chr(92), 1)[-1]}"
        ]
