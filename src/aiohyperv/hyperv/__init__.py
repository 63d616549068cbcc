"""The Hyper-V driver: hosts and domains over WMI, the way libvirt's driver models them.

:func:`connect` opens a :class:`HyperVConnection` to one host; its ``list_domains`` and
``lookup_domain_by_*`` give :class:`Domain` objects.  Both WMI namespaces are supported:
``root/virtualization/v2`` (Windows Server 2012 and newer) and ``root/virtualization``
(2008 R2), detected per host.  :data:`STATE_TABLE` documents how their VM states map to
libvirt's :class:`DomainState`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohyperv._lazy import lazy_exports

if TYPE_CHECKING:
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

_LAZY = {
    "NAMESPACE_CIMV2": "._classes",
    "NAMESPACE_V1": "._classes",
    "NAMESPACE_V2": "._classes",
    "Prop": "._classes",
    "WmiClass": "._classes",
    "lookup": "._classes",
    "HyperVConnection": "._connection",
    "connect": "._connection",
    "Domain": "._domain",
    "CapabilitiesDef": "._domxml",
    "ControllerDef": "._domxml",
    "DiskDef": "._domxml",
    "DomainDef": "._domxml",
    "InterfaceDef": "._domxml",
    "SerialDef": "._domxml",
    "format_capabilities": "._domxml",
    "format_domain": "._domxml",
    "format_network": "._domxml",
    "parse_device": "._domxml",
    "parse_domain": "._domxml",
    "STATE_TABLE": "._enums",
    "AutomaticStartupAction": "._enums",
    "AutomaticStartupActionV1": "._enums",
    "DomainState": "._enums",
    "EnabledStateV1": "._enums",
    "EnabledStateV2": "._enums",
    "JobState": "._enums",
    "NamespaceVersion": "._enums",
    "RequestedState": "._enums",
    "RequestedStateV1": "._enums",
    "ResourceType": "._enums",
    "ReturnCode": "._enums",
    "StateInfo": "._enums",
    "VcpuState": "._enums",
    "map_enabled_state": "._enums",
    "GuestAddress": "._guest",
    "GuestInfo": "._guest",
    "GuestInterface": "._guest",
    "rgb565_to_png": "._image",
    "rgb565_to_ppm": "._image",
    "JobPolicy": "._jobs",
    "wait_for_job": "._jobs",
    "CODESETS": "._keycodes",
    "parse_keycode": "._keycodes",
    "to_win32": "._keycodes",
    "Snapshot": "._snapshots",
    "DomainStats": "._stats",
    "RequestedInformation": "._stats",
    "DomainInfo": "._types",
    "NetworkInfo": "._types",
    "NodeInfo": "._types",
    "SchedulerParameters": "._types",
    "VcpuInfo": "._types",
    "DiskImageInfo": "._vhd",
}
if not TYPE_CHECKING:  # type checkers see the imports above, not a catch-all __getattr__
    __getattr__, __dir__ = lazy_exports(__name__, _LAZY)
del TYPE_CHECKING, lazy_exports
