"""What a guest tells the host through its integration services: KVP items and IP addresses.

A running VM whose guest has integration services (the record's ``guest_os``) reports its
intrinsic key/value pairs -- ``Msvm_KvpExchangeComponent.GuestIntrinsicExchangeItems``, an
array of embedded ``Msvm_KvpExchangeDataItem`` instances (Name/Data: FullyQualifiedDomainName,
OSName, OSVersion, IntegrationServicesVersion, NetworkAddressIPv4...) -- and each synthetic
NIC's addresses in a ``Msvm_GuestNetworkAdapterConfiguration`` (IPAddresses, Subnets,
DefaultGateways, DNSServers; ProtocolIFType 4096 IPv4 / 4097 IPv6 / 4098 IPv4/v6,
IPAddressOrigins 0 Unknown / 1 Other / 2 Static).  Microsoft documents the classes and the
item names on their pages (``windows/win32/hyperv_v2``).  An off VM, or a guest without
integration services, reports none: the array is NULL (left out on the wire) and the adapter
configurations carry no addresses.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from aiohyperv.cim import CimType, EmbeddedInstance, to_cimxml
from aiohyperv.simulator._host import VMState

if TYPE_CHECKING:
    from aiohyperv.simulator._host import VM, SimulatedHost

__all__ = ["guest_reports", "kvp_items", "nic_addresses"]

_VERSIONS = {
    "Windows Server 2019 Datacenter": ("10.0.17763", "10.0.17763.1"),
    "Windows Server 2022 Standard": ("10.0.20348", "10.0.20348.1"),
    "Windows Server 2016 Standard": ("10.0.14393", "10.0.14393.0"),
    "Ubuntu 22.04.4 LTS": ("5.15.0-105-generic", "3.1"),
    "Red Hat Enterprise Linux 9.3": ("5.14.0-362.8.1.el9_3.x86_64", "3.1"),
    "Debian GNU/Linux 12 (bookworm)": ("6.1.0-18-amd64", "3.1"),
    "FreeBSD 13.2-RELEASE": ("13.2-RELEASE", "4.0"),
}


def guest_reports(host: SimulatedHost, vm: VM) -> bool:
    """True when the guest is up and its integration services answer."""
    return bool(vm.guest_os) and host.enabled_state(vm) == VMState.RUNNING


def _network(vm: VM, index: int) -> tuple[str, str, str, str]:
    """``(IPv4, gateway, DNS server, IPv6)`` of the VM's ``index``-th NIC (seeded)."""
    rng = random.Random(vm.seed ^ (0x1F0 + index))
    subnet = 10 + rng.randrange(200)
    octet = 10 + rng.randrange(240)
    ipv4 = f"10.{subnet}.{index}.{octet}"
    v6 = rng.getrandbits(64)
    ipv6 = "fe80::" + ":".join(f"{(v6 >> s) & 0xFFFF:x}" for s in (48, 32, 16, 0))
    return ipv4, f"10.{subnet}.{index}.1", f"10.{subnet}.0.10", ipv6


def kvp_items(host: SimulatedHost, vm: VM, nic_count: int) -> list[str] | None:
    """GuestIntrinsicExchangeItems (CIM-XML texts), None while the guest does not report."""
    if not guest_reports(host, vm):
        return None
    version, ic_version = _VERSIONS.get(vm.guest_os, ("", ""))
    windows = vm.guest_os.startswith("Windows")
    major, minor, build = [*version.split("."), "", "", ""][:3] if windows else ("", "", "")
    nets = [_network(vm, i) for i in range(nic_count)]
    pairs = {
        "FullyQualifiedDomainName": f"{vm.name}.{host.domain}",
        "OSName": vm.guest_os,
        "OSVersion": version,
        "CSDVersion": "",
        "OSMajorVersion": major,
        "OSMinorVersion": minor,
        "OSBuildNumber": build,
        "OSPlatformId": "2" if windows else "100",
        "ProcessorArchitecture": "9",
        "IntegrationServicesVersion": ic_version,
        "NetworkAddressIPv4": ";".join(n[0] for n in nets),
        "NetworkAddressIPv6": ";".join(n[3] for n in nets),
    }
    out = []
    for name, data in pairs.items():
        emb = EmbeddedInstance("Msvm_KvpExchangeDataItem")
        emb.set("Caption", CimType.STRING, None)
        emb.set("Data", CimType.STRING, data)
        emb.set("Description", CimType.STRING, None)
        emb.set("ElementName", CimType.STRING, None)
        emb.set("Name", CimType.STRING, name)
        emb.set("Source", CimType.UINT16, 2)
        out.append(to_cimxml(emb))
    return out


def nic_addresses(host: SimulatedHost, vm: VM, index: int) -> dict[str, object]:
    """The Msvm_GuestNetworkAdapterConfiguration values of the VM's ``index``-th NIC."""
    values: dict[str, object] = {"ProtocolIFType": 4098}
    if not guest_reports(host, vm):
        return values
    ipv4, gateway, dns, ipv6 = _network(vm, index)
    dhcp = vm.seed % 3 != 0
    values.update(
        DHCPEnabled=dhcp,
        IPAddresses=[ipv4, ipv6],
        Subnets=["255.255.255.0", "/64"],
        DefaultGateways=[gateway],
        DNSServers=[dns],
        IPAddressOrigins=[1 if dhcp else 2, 1],
    )
    return values
