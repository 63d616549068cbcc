"""Typed tables of the WMI classes the driver reads and writes, derived from the shared schema.

Every class comes from :mod:`aiohyperv.schema` (the one declaration, made from Microsoft's
documented MOF, that the simulator serves too), so a property's CIM type and array flag are the
ones Hyper-V documents.  The tables drive two things: typed reads (:meth:`WmiClass.read`) and the
``TYPE`` attributes of embedded CIM-XML instances sent as method parameters
(:meth:`WmiClass.embed`), where a wrong type makes Hyper-V reject the call.

A namespace's table is built the first time :func:`lookup` asks for one of its classes, so
importing the driver parses nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

from aiohyperv.cim import EPR as _EPR
from aiohyperv.cim import CimType, EmbeddedInstance
from aiohyperv.schema import get_schema
from aiohyperv.wsman._ns import NAMESPACE_CIMV2, NAMESPACE_V1, NAMESPACE_V2, resource_uri

if TYPE_CHECKING:
    from collections.abc import Mapping

    from aiohyperv.cim import CimInstance
    from aiohyperv.schema import ClassDef

    from ._enums import NamespaceVersion

__all__ = [
    "DRIVER_CLASSES",
    "NAMESPACES",
    "NAMESPACE_CIMV2",
    "NAMESPACE_V1",
    "NAMESPACE_V2",
    "Prop",
    "WmiClass",
    "lookup",
    "resource_uri",
]

NAMESPACES: dict[NamespaceVersion, str] = {"v2": NAMESPACE_V2, "v1": NAMESPACE_V1}

_COMMON = (
    "Msvm_ComputerSystem",
    "Msvm_ConcreteJob",
    "Msvm_DiskDrive",
    "Msvm_EmulatedEthernetPortSettingData",
    "Msvm_Keyboard",
    "Msvm_MemorySettingData",
    "Msvm_ProcessorSettingData",
    "Msvm_ResourceAllocationSettingData",
    "Msvm_SettingsDefineState",
    "Msvm_ShutdownComponent",
    "Msvm_SyntheticEthernetPortSettingData",
    "Msvm_VideoHead",
    "Msvm_VirtualSystemManagementService",
    "Msvm_VirtualSystemSettingData",
    "Msvm_VirtualSystemSettingDataComponent",
)

#: The classes the driver queries, addresses or embeds, per namespace (in the manner of libvirt's
#: ``hyperv_wmi_generator.input``).  Each must be declared by the schema; the tests hold the
#: simulator to serving them.
DRIVER_CLASSES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        NAMESPACE_V2: (
            *_COMMON,
            "Msvm_EthernetPortAllocationSettingData",
            "Msvm_SerialPortSettingData",
            "Msvm_StorageAllocationSettingData",
            "Msvm_VirtualEthernetSwitch",
            "Msvm_GuestNetworkAdapterConfiguration",
            "Msvm_ImageManagementService",
            "Msvm_KvpExchangeComponent",
            "Msvm_VirtualHardDiskSettingData",
            "Msvm_VirtualSystemMigrationService",
            "Msvm_VirtualSystemMigrationSettingData",
            "Msvm_VirtualSystemSnapshotService",
            "Msvm_VirtualSystemSnapshotSettingData",
        ),
        NAMESPACE_V1: (
            *_COMMON,
            "Msvm_SwitchPort",
            "Msvm_VirtualSwitch",
            "Msvm_VirtualSystemGlobalSettingData",
        ),
        NAMESPACE_CIMV2: (
            "Win32_ComputerSystem",
            "Win32_ComputerSystemProcessor",
            "Win32_ComputerSystemProduct",
            "Win32_OperatingSystem",
            "Win32_PerfRawData_HvStats_HyperVHypervisorVirtualProcessor",
            "Win32_Processor",
        ),
    }
)


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

    @classmethod
    def from_schema(cls, definition: ClassDef) -> WmiClass:
        """The driver's view of a schema class: its keys and every property, typed."""
        return cls(
            definition.name,
            definition.namespace,
            definition.keys,
            MappingProxyType(
                {p.name: Prop(p.name, p.type, p.array) for p in definition.properties}
            ),
        )

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


# (namespace, class) -> table, filled on first lookup (the schema is shared and immutable).
_TABLES: dict[tuple[str, str], WmiClass] = {}


def lookup(namespace: str, class_name: str) -> WmiClass:
    """The table for ``class_name`` in ``namespace``.

    Raises:
        KeyError: the class is not declared for that namespace.
    """
    found = _TABLES.get((namespace, class_name))
    if found is not None:
        return found
    try:
        definition = get_schema(namespace).get(class_name)
    except KeyError:
        definition = None
    if definition is None or definition.name != class_name:
        raise KeyError(f"class {class_name} is not declared for namespace {namespace}")
    found = _TABLES[(namespace, class_name)] = WmiClass.from_schema(definition)
    return found
