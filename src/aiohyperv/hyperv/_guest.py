"""What a running guest reports through its integration services.

* ``Msvm_KvpExchangeComponent.GuestIntrinsicExchangeItems``: an array of embedded
  ``Msvm_KvpExchangeDataItem`` instances (CIM-XML strings) whose Name/Data pairs include
  ``FullyQualifiedDomainName``, ``OSName``, ``OSVersion`` and ``IntegrationServicesVersion``
  (Microsoft: "Msvm_KvpExchangeDataItem class" lists the names).
* ``Msvm_GuestNetworkAdapterConfiguration`` per synthetic NIC: IPAddresses, Subnets,
  DefaultGateways, DNSServers, DHCPEnabled (Microsoft: "Msvm_GuestNetworkAdapterConfiguration
  class").  Its InstanceID is ``Microsoft:GuestNetwork\\<VM GUID>\\<adapter GUID>``, the adapter
  part matching the end of the NIC's Msvm_SyntheticEthernetPortSettingData InstanceID, which is
  how the rows are joined here (one query for all of them).

An off VM, or a guest without integration services, reports nothing: the results are empty.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiohyperv._exceptions import InvalidOperation, ProtocolError
from aiohyperv.cim._cimxml import cimxml_strings

from . import _wql

if TYPE_CHECKING:
    from aiohyperv.cim import CimInstance

    from ._domain import Domain

__all__ = [
    "GuestAddress",
    "GuestInfo",
    "GuestInterface",
    "addresses_of",
    "guest_info",
    "info_from_pairs",
    "interface_addresses",
    "kvp_pairs",
    "prefix_length",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class GuestInfo:
    """The guest's own account of itself (KVP intrinsic items).

    Attributes:
        fqdn: FullyQualifiedDomainName.
        os_name: OSName.
        os_version: OSVersion.
        integration_services: IntegrationServicesVersion.
        items: every intrinsic Name -> Data pair.
    """

    fqdn: str | None = None
    os_name: str | None = None
    os_version: str | None = None
    integration_services: str | None = None
    items: dict[str, str] = field(default_factory=dict)

    @property
    def reporting(self) -> bool:
        """True when the guest's integration services answered."""
        return bool(self.items)

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return {
            "fqdn": self.fqdn,
            "os_name": self.os_name,
            "os_version": self.os_version,
            "integration_services": self.integration_services,
            "items": dict(self.items),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class GuestAddress:
    """One address: ``"ipv4"``/``"ipv6"``, the address and its prefix length."""

    type: str
    address: str
    prefix: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class GuestInterface:
    """One synthetic NIC as the guest configured it.

    Attributes:
        name: the adapter's name (ElementName of its port settings).
        mac: ``00:15:5D:...``.
        addresses: its addresses with prefix lengths.
        gateways: DefaultGateways.
        dns_servers: DNSServers.
        dhcp: DHCPEnabled.
    """

    name: str
    mac: str | None
    addresses: tuple[GuestAddress, ...] = ()
    gateways: tuple[str, ...] = ()
    dns_servers: tuple[str, ...] = ()
    dhcp: bool | None = None

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return {
            "name": self.name,
            "mac": self.mac,
            "addresses": [
                {"type": a.type, "address": a.address, "prefix": a.prefix} for a in self.addresses
            ],
            "gateways": list(self.gateways),
            "dns_servers": list(self.dns_servers),
            "dhcp": self.dhcp,
        }


_KVP_NAMES = frozenset({"Name", "Data"})


def kvp_pairs(items: list[str]) -> dict[str, str]:
    """Name -> Data of embedded Msvm_KvpExchangeDataItem CIM-XML texts (bad items skipped).

    Only Name and Data are read: a host's inventory holds a hundred or more of these items, and
    typing their other properties would cost three times the parse itself.
    """
    pairs: dict[str, str] = {}
    for text in items:
        try:
            item = cimxml_strings(text, _KVP_NAMES)
        except ProtocolError:
            continue
        name = item.get("Name")
        if name:
            pairs[name] = item.get("Data") or ""
    return pairs


def info_from_pairs(pairs: dict[str, str]) -> GuestInfo:
    """A :class:`GuestInfo` from KVP Name/Data pairs."""
    return GuestInfo(
        fqdn=pairs.get("FullyQualifiedDomainName") or None,
        os_name=pairs.get("OSName") or None,
        os_version=pairs.get("OSVersion") or None,
        integration_services=pairs.get("IntegrationServicesVersion") or None,
        items=pairs,
    )


def prefix_length(subnet: str | None, *, v6: bool) -> int | None:
    """``255.255.255.0`` -> 24, ``/64`` or ``64`` -> 64; None when unreadable."""
    if not subnet:
        return None
    text = subnet.strip().lstrip("/")
    if text.isdigit():
        return int(text)
    if v6:
        return None
    try:
        return ipaddress.IPv4Network(f"0.0.0.0/{text}").prefixlen
    except ValueError:
        return None


def addresses_of(row: CimInstance) -> tuple[GuestAddress, ...]:
    """The IPAddresses of a Msvm_GuestNetworkAdapterConfiguration with their prefixes."""
    ips, subnets = row.get_list("IPAddresses"), row.get_list("Subnets")
    out = []
    for index, ip in enumerate(ips):
        v6 = ":" in ip
        subnet = subnets[index] if index < len(subnets) else None
        out.append(
            GuestAddress(
                type="ipv6" if v6 else "ipv4", address=ip, prefix=prefix_length(subnet, v6=v6)
            )
        )
    return tuple(out)


def _v2(dom: Domain) -> None:
    if dom.connection.namespace != "v2":
        raise InvalidOperation(
            "guest network information needs root/virtualization/v2 (Windows Server 2012+)",
            host=dom.connection.host,
        )


async def guest_info(dom: Domain) -> GuestInfo:
    """The guest's KVP intrinsic items (one query); empty when the guest does not report."""
    rows = await dom.connection.query(
        _wql.select("Msvm_KvpExchangeComponent", f"SystemName = {_wql.quote(dom.guid)}")
    )
    items: list[str] = []
    for row in rows:
        items += row.get_list("GuestIntrinsicExchangeItems")
    return info_from_pairs(kvp_pairs(items))


def _format_mac(address: str | None) -> str | None:
    raw = (address or "").replace(":", "").replace("-", "").upper()
    if len(raw) != 12:
        return None
    return ":".join(raw[i : i + 2] for i in range(0, 12, 2))


async def interface_addresses(dom: Domain) -> list[GuestInterface]:
    """Each synthetic NIC with the addresses the guest configured (two queries, together)."""
    _v2(dom)
    conn = dom.connection
    vssd = await dom._vssd()
    ports, configs = await conn.gather(
        conn.query(
            _wql.settings_components(
                vssd.get_str("InstanceID") or "", "Msvm_SyntheticEthernetPortSettingData"
            )
        ),
        conn.query(_wql.select("Msvm_GuestNetworkAdapterConfiguration")),
    )
    by_adapter: dict[str, CimInstance] = {}
    for row in configs:
        parts = (row.get_str("InstanceID") or "").split("\\")
        if len(parts) >= 3 and parts[1].upper() == dom.guid.upper():
            by_adapter[parts[2].upper()] = row
    out = []
    for port in ports:
        adapter = (port.get_str("InstanceID") or "").rsplit("\\", 1)[-1].upper()
        row = by_adapter.get(adapter)
        out.append(
            GuestInterface(
                name=port.get_str("ElementName") or "Network Adapter",
                mac=_format_mac(port.get_str("Address")),
                addresses=addresses_of(row) if row is not None else (),
                gateways=tuple(row.get_list("DefaultGateways")) if row is not None else (),
                dns_servers=tuple(row.get_list("DNSServers")) if row is not None else (),
                dhcp=row.get_bool("DHCPEnabled") if row is not None else None,
            )
        )
    return out
