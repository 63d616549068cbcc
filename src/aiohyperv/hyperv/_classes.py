"""Declarative tables of the WMI classes the driver reads and writes, per namespace.

In the style of libvirt's ``hyperv_wmi_generator.input``: each class lists its properties with
their CIM type (and whether they are arrays).  The tables drive two things: typed reads
(:meth:`WmiClass.read`) and the ``TYPE`` attributes of embedded CIM-XML instances sent as method
parameters (:meth:`WmiClass.embed`), where a wrong type makes Hyper-V reject the call.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

from aiohyperv.cim import EPR as _EPR
from aiohyperv.cim import CimType, EmbeddedInstance

if TYPE_CHECKING:
    from collections.abc import Mapping

    from aiohyperv.cim import CimInstance

    from ._enums import NamespaceVersion

__all__ = [
    "NAMESPACES",
    "Prop",
    "WmiClass",
    "lookup",
    "resource_uri",
]

NAMESPACE_V2 = "root/virtualization/v2"
NAMESPACE_V1 = "root/virtualization"
NAMESPACE_CIMV2 = "root/cimv2"
NAMESPACES: dict[NamespaceVersion, str] = {"v2": NAMESPACE_V2, "v1": NAMESPACE_V1}
_WMI_BASE = "http://schemas.microsoft.com/wbem/wsman/1/wmi/"


def resource_uri(namespace: str, class_name: str) -> str:
    """``http://schemas.microsoft.com/wbem/wsman/1/wmi/<namespace>/<Class>``."""
    return f"{_WMI_BASE}{namespace}/{class_name}"


@dataclass(frozen=True, slots=True)
class Prop:
    """One declared property."""

    name: str
    type: CimType
    array: bool = False


@dataclass(frozen=True, slots=True)
class WmiClass:
    """One WMI class in one namespace: name, keys and typed properties."""

    name: str
    namespace: str
    keys: tuple[str, ...]
    properties: Mapping[str, Prop]

    @property
    def resource_uri(self) -> str:
        """The class resource URI WS-Management addresses it by."""
        return resource_uri(self.namespace, self.name)

    def read(self, inst: CimInstance, name: str) -> object:
        """Property ``name`` of ``inst`` as its declared Python type (list for arrays).

        Raises:
            KeyError: ``name`` is not declared for this class.
            ProtocolError: the host sent a value that is not of the declared type.
        """
        prop = self.properties[name]
        return inst.typed(name, prop.type, array=prop.array)

    def as_dict(self, inst: CimInstance) -> dict[str, object]:
        """Every declared property ``inst`` carries, typed (for JSON output and debugging)."""
        return {
            name: inst.typed(name, prop.type, array=prop.array)
            for name, prop in self.properties.items()
            if name in inst
        }

    def embed(self, **values: object) -> EmbeddedInstance:
        """An embedded instance carrying only ``values``, typed from this table.

        Raises:
            KeyError: a property is not declared for this class (a typo would otherwise be
                sent to the host and silently ignored).
        """
        emb = EmbeddedInstance(self.name)
        for name, value in values.items():
            prop = self.properties.get(name)
            if prop is None:
                raise KeyError(f"{self.name} has no declared property {name!r}")
            emb.set(name, prop.type, value)
        return emb

    def epr(self, **keys: str) -> _EPR:
        """A reference to one instance, from its key properties."""
        missing = [k for k in self.keys if k not in keys]
        if missing:
            raise KeyError(f"{self.name} reference needs key(s) {', '.join(missing)}")
        return _EPR.make(self.resource_uri, keys)


S = CimType.STRING
B = CimType.BOOLEAN
U8 = CimType.UINT8
U16 = CimType.UINT16
U32 = CimType.UINT32
U64 = CimType.UINT64
DT = CimType.DATETIME


def _props(*spec: tuple[str, CimType] | tuple[str, CimType, bool]) -> Mapping[str, Prop]:
    return MappingProxyType({s[0]: Prop(*s) for s in spec})


_SETTING_BASE = (
    ("InstanceID", S),
    ("ElementName", S),
    ("Caption", S),
    ("Description", S),
)
_RASD_BASE = (
    *_SETTING_BASE,
    ("ResourceType", U16),
    ("OtherResourceType", S),
    ("ResourceSubType", S),
    ("PoolID", S),
    ("Parent", S),
    ("Address", S),
    ("AddressOnParent", S),
    ("HostResource", S, True),
    ("Connection", S, True),
    ("AllocationUnits", S),
    ("VirtualQuantity", U64),
    ("Reservation", U64),
    ("Limit", U64),
    ("Weight", U32),
    ("AutomaticAllocation", B),
    ("AutomaticDeallocation", B),
    ("VirtualSystemIdentifiers", S, True),
)
_DEVICE_KEYS = ("CreationClassName", "DeviceID", "SystemCreationClassName", "SystemName")
_DEVICE_PROPS = (
    ("CreationClassName", S),
    ("DeviceID", S),
    ("SystemCreationClassName", S),
    ("SystemName", S),
    ("ElementName", S),
    ("EnabledState", U16),
    ("OperationalStatus", U16, True),
)
_SYSTEM_PROPS = (
    ("CreationClassName", S),
    ("Name", S),
    ("ElementName", S),
    ("Caption", S),
    ("Description", S),
    ("EnabledState", U16),
    ("RequestedState", U16),
    ("HealthState", U16),
    ("OtherEnabledState", S),
    ("OnTimeInMilliseconds", U64),
    ("ProcessID", U32),
    ("InstallDate", DT),
    ("TimeOfLastStateChange", DT),
    ("EnhancedSessionModeState", U16),
    ("AvailableRequestedStates", U16, True),
)


def _classes(namespace: str, version: NamespaceVersion) -> dict[str, WmiClass]:
    def cls(
        name: str, keys: tuple[str, ...], *spec: tuple[str, CimType] | tuple[str, CimType, bool]
    ) -> WmiClass:
        return WmiClass(name, namespace, keys, _props(*spec))

    vssd_v2 = (
        *_SETTING_BASE,
        ("VirtualSystemIdentifier", S),
        ("VirtualSystemType", S),
        ("VirtualSystemSubType", S),
        ("Notes", S, True),
        ("AutomaticStartupAction", U16),
        ("AutomaticShutdownAction", U16),
        ("AutomaticStartupActionDelay", DT),
        ("BIOSGUID", S),
        ("BIOSSerialNumber", S),
        ("CreationTime", DT),
        ("ConfigurationDataRoot", S),
        ("SnapshotDataRoot", S),
        ("SecureBootEnabled", B),
        ("Version", S),
    )
    vssd_v1 = (
        *_SETTING_BASE,
        ("SystemName", S),
        ("SettingType", U16),
        ("VirtualSystemType", S),
        ("Notes", S, True),
        ("BIOSGUID", S),
        ("BIOSSerialNumber", S),
        ("BaseBoardSerialNumber", S),
        ("BootOrder", U16, True),
        ("CreationTime", DT),
        # v1 keeps AutomaticStartupAction on Msvm_VirtualSystemGlobalSettingData; some
        # providers also expose it here, so it is declared for reading.
        ("AutomaticStartupAction", U16),
    )
    table = [
        cls("Msvm_ComputerSystem", ("CreationClassName", "Name"), *_SYSTEM_PROPS),
        cls(
            "Msvm_VirtualSystemSettingData",
            ("InstanceID",),
            *(vssd_v2 if version == "v2" else vssd_v1),
        ),
        cls(
            "Msvm_VirtualSystemGlobalSettingData",
            ("InstanceID",),
            *_SETTING_BASE,
            ("SystemName", S),
            ("AutomaticStartupAction", U16),
            ("AutomaticShutdownAction", U16),
            ("AutomaticRecoveryAction", U16),
            ("ExternalDataRoot", S),
            ("SnapshotDataRoot", S),
        ),
        cls("Msvm_ProcessorSettingData", ("InstanceID",), *_RASD_BASE),
        cls(
            "Msvm_MemorySettingData",
            ("InstanceID",),
            *_RASD_BASE,
            ("DynamicMemoryEnabled", B),
            ("TargetMemoryBuffer", U32),
        ),
        cls("Msvm_ResourceAllocationSettingData", ("InstanceID",), *_RASD_BASE),
        cls("Msvm_StorageAllocationSettingData", ("InstanceID",), *_RASD_BASE),
        cls("Msvm_SerialPortSettingData", ("InstanceID",), *_RASD_BASE, ("DebuggerMode", B)),
        cls(
            "Msvm_SyntheticEthernetPortSettingData",
            ("InstanceID",),
            *_RASD_BASE,
            ("StaticMacAddress", B),
        ),
        cls(
            "Msvm_EmulatedEthernetPortSettingData",
            ("InstanceID",),
            *_RASD_BASE,
            ("StaticMacAddress", B),
        ),
        cls(
            "Msvm_EthernetPortAllocationSettingData",
            ("InstanceID",),
            *_RASD_BASE,
            ("EnabledState", U16),
        ),
        cls(
            "Msvm_VirtualEthernetSwitch",
            ("CreationClassName", "Name"),
            *_SYSTEM_PROPS,
        ),
        cls("Msvm_VirtualSwitch", ("CreationClassName", "Name"), *_SYSTEM_PROPS),
        cls(
            "Msvm_SwitchPort",
            ("CreationClassName", "Name", "SystemCreationClassName", "SystemName"),
            ("CreationClassName", S),
            ("Name", S),
            ("SystemCreationClassName", S),
            ("SystemName", S),
            ("ElementName", S),
        ),
        cls("Msvm_ShutdownComponent", _DEVICE_KEYS, *_DEVICE_PROPS),
        cls("Msvm_Keyboard", _DEVICE_KEYS, *_DEVICE_PROPS),
        cls(
            "Msvm_VideoHead",
            _DEVICE_KEYS,
            *_DEVICE_PROPS,
            ("CurrentHorizontalResolution", U32),
            ("CurrentVerticalResolution", U32),
        ),
        cls("Msvm_DiskDrive", _DEVICE_KEYS, *_DEVICE_PROPS, ("DriveNumber", U32)),
        cls(
            "Msvm_ConcreteJob",
            ("InstanceID",),
            ("InstanceID", S),
            ("Caption", S),
            ("Description", S),
            ("ElementName", S),
            ("JobState", U16),
            ("JobStatus", S),
            ("JobType", U16),
            ("PercentComplete", U16),
            ("ErrorCode", U16),
            ("ErrorDescription", S),
            ("ErrorSummaryDescription", S),
            ("ElapsedTime", DT),
            ("TimeSubmitted", DT),
            ("Cancellable", B),
            ("DeleteOnCompletion", B),
        ),
        cls(
            "Msvm_VirtualSystemManagementService",
            ("CreationClassName", "Name", "SystemCreationClassName", "SystemName"),
            ("CreationClassName", S),
            ("Name", S),
            ("SystemCreationClassName", S),
            ("SystemName", S),
            ("ElementName", S),
        ),
    ]
    return {c.name: c for c in table}


def _cimv2() -> dict[str, WmiClass]:
    def cls(
        name: str, keys: tuple[str, ...], *spec: tuple[str, CimType] | tuple[str, CimType, bool]
    ) -> WmiClass:
        return WmiClass(name, NAMESPACE_CIMV2, keys, _props(*spec))

    table = [
        cls(
            "Win32_OperatingSystem",
            ("Name",),
            ("Name", S),
            ("Caption", S),
            ("Version", S),
            ("BuildNumber", S),
            ("CSName", S),
            ("FreePhysicalMemory", U64),
            ("TotalVisibleMemorySize", U64),
            ("LastBootUpTime", DT),
        ),
        cls(
            "Win32_ComputerSystem",
            ("Name",),
            ("Name", S),
            ("DNSHostName", S),
            ("Domain", S),
            ("Manufacturer", S),
            ("Model", S),
            ("TotalPhysicalMemory", U64),
            ("NumberOfProcessors", U32),
            ("NumberOfLogicalProcessors", U32),
        ),
        cls(
            "Win32_ComputerSystemProduct",
            ("IdentifyingNumber", "Name", "Version"),
            ("IdentifyingNumber", S),
            ("Name", S),
            ("Version", S),
            ("UUID", S),
            ("Vendor", S),
        ),
        cls(
            "Win32_Processor",
            ("DeviceID",),
            ("DeviceID", S),
            ("Name", S),
            ("Manufacturer", S),
            ("MaxClockSpeed", U32),
            ("CurrentClockSpeed", U32),
            ("NumberOfCores", U32),
            ("NumberOfLogicalProcessors", U32),
            ("Architecture", U16),
            ("AddressWidth", U16),
        ),
        cls(
            "Win32_PerfRawData_HvStats_HyperVHypervisorVirtualProcessor",
            ("Name",),
            ("Name", S),
            ("PercentTotalRunTime", U64),
            ("PercentGuestRunTime", U64),
            ("Frequency_PerfTime", U64),
            ("Timestamp_PerfTime", U64),
        ),
    ]
    return {c.name: c for c in table}


_TABLES: dict[str, dict[str, WmiClass]] = {
    NAMESPACE_V2: _classes(NAMESPACE_V2, "v2"),
    NAMESPACE_V1: _classes(NAMESPACE_V1, "v1"),
    NAMESPACE_CIMV2: _cimv2(),
}


def lookup(namespace: str, class_name: str) -> WmiClass:
    """The table for ``class_name`` in ``namespace``.

    Raises:
        KeyError: the class is not declared for that namespace.
    """
    try:
        return _TABLES[namespace][class_name]
    except KeyError:
        raise KeyError(f"class {class_name} is not declared for namespace {namespace}") from None
