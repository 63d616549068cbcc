"""The Hyper-V driver: hosts and domains over WMI, the way libvirt's driver models them.

:func:`connect` opens a :class:`HyperVConnection` to one host; its ``list_domains`` and
``lookup_domain_by_*`` give :class:`Domain` objects.  Both WMI namespaces are supported:
``root/virtualization/v2`` (Windows Server 2012 and newer) and ``root/virtualization``
(2008 R2), detected per host.  :data:`STATE_TABLE` documents how their VM states map to
libvirt's :class:`DomainState`.
"""

from __future__ import annotations

from ._classes import NAMESPACE_CIMV2, NAMESPACE_V1, NAMESPACE_V2, Prop, WmiClass, lookup
from ._connection import HyperVConnection, connect
from ._domain import Domain
from ._domxml import (
    CapabilitiesDef,
    ControllerDef,
    DiskDef,
    DomainDef,
    InterfaceDef,
    SerialDef,
    format_capabilities,
    format_domain,
    format_network,
    parse_device,
    parse_domain,
)
from ._enums import (
    STATE_TABLE,
    AutomaticStartupAction,
    AutomaticStartupActionV1,
    DomainState,
    EnabledStateV1,
    EnabledStateV2,
    JobState,
    NamespaceVersion,
    RequestedState,
    RequestedStateV1,
    ResourceType,
    ReturnCode,
    StateInfo,
    VcpuState,
    map_enabled_state,
)
from ._guest import GuestAddress, GuestInfo, GuestInterface
from ._image import rgb565_to_png, rgb565_to_ppm
from ._jobs import JobPolicy, wait_for_job
from ._keycodes import CODESETS, parse_keycode, to_win32
from ._snapshots import Snapshot
from ._stats import DomainStats, RequestedInformation
from ._types import DomainInfo, NetworkInfo, NodeInfo, SchedulerParameters, VcpuInfo
from ._vhd import DiskImageInfo

__all__ = [
    "CODESETS",
    "NAMESPACE_CIMV2",
    "NAMESPACE_V1",
    "NAMESPACE_V2",
    "STATE_TABLE",
    "AutomaticStartupAction",
    "AutomaticStartupActionV1",
    "CapabilitiesDef",
    "ControllerDef",
    "DiskDef",
    "DiskImageInfo",
    "Domain",
    "DomainDef",
    "DomainInfo",
    "DomainState",
    "DomainStats",
    "EnabledStateV1",
    "EnabledStateV2",
    "GuestAddress",
    "GuestInfo",
    "GuestInterface",
    "HyperVConnection",
    "InterfaceDef",
    "JobPolicy",
    "JobState",
    "NamespaceVersion",
    "NetworkInfo",
    "NodeInfo",
    "Prop",
    "RequestedInformation",
    "RequestedState",
    "RequestedStateV1",
    "ResourceType",
    "ReturnCode",
    "SchedulerParameters",
    "SerialDef",
    "Snapshot",
    "StateInfo",
    "VcpuInfo",
    "VcpuState",
    "WmiClass",
    "connect",
    "format_capabilities",
    "format_domain",
    "format_network",
    "lookup",
    "map_enabled_state",
    "parse_device",
    "parse_domain",
    "parse_keycode",
    "rgb565_to_png",
    "rgb565_to_ppm",
    "to_win32",
    "wait_for_job",
]
