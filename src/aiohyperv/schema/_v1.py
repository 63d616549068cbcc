"""Classes of ``root/virtualization`` (Windows Server 2008 R2, WMI v1).

Declared from Microsoft's pages for the 2008 R2 provider
(``previous-versions/windows/desktop/virtual``): each class lists every documented property,
inherited ones included, with its CIM type.
"""

from __future__ import annotations

from aiohyperv.schema._common import (
    COMPUTER_SYSTEM,
    CONCRETE_JOB,
    DEVICE_KEYS,
    DISK_DRIVE,
    LOGICAL_DEVICE,
    RASD,
    SERVICE,
    SERVICE_KEYS,
    VIDEO_HEAD,
    add_associations,
)
from aiohyperv.schema._model import Schema
from aiohyperv.wsman._ns import NAMESPACE_V1

__all__ = ["build"]


def build() -> Schema:
    """Declare the ``root/virtualization`` classes."""
    s = Schema(NAMESPACE_V1)
    s.add(
        "Msvm_ComputerSystem",
        "CIM_ComputerSystem CIM_System CIM_EnabledLogicalElement CIM_LogicalElement",
        "CreationClassName Name",
        """string Caption; string Description; string ElementName; datetime InstallDate;
        uint16 OperationalStatus[]; string StatusDescriptions[]; string Status;
        uint16 HealthState; uint16 EnabledState; string OtherEnabledState;
        uint16 RequestedState; datetime TimeOfLastStateChange; string Name;
        string PrimaryOwnerName; string PrimaryOwnerContact; string IdentifyingDescriptions[];
        string OtherIdentifyingInfo[]; uint16 Dedicated[]; string OtherDedicatedDescriptions[];
        uint16 ResetCapability; uint16 PowerManagementCapabilities[]; uint16 EnabledDefault;
        string CreationClassName; string Roles[]; string NameFormat;
        uint64 OnTimeInMilliseconds; datetime TimeOfLastConfigurationChange; uint32 ProcessID;
        uint16 AssignedNumaNodeList[];""",
    )
    s.add(
        "Msvm_VirtualSwitch",
        "CIM_ComputerSystem CIM_System CIM_EnabledLogicalElement CIM_LogicalElement",
        "CreationClassName Name",
        COMPUTER_SYSTEM + "string ScopeOfResidence; uint32 NumLearnableAddresses; "
        "uint32 MaxVMQOffloads; uint32 MaxChimneyOffloads;",
    )
    s.add(
        "Msvm_VirtualSystemSettingData",
        "CIM_VirtualSystemSettingData CIM_SettingData CIM_ManagedElement",
        "InstanceID",
        """string Caption; string Description; uint16 SettingType; string SystemName;
        string InstanceID; string ElementName; boolean AutoActivate;
        string OtherVirtualSystemType; datetime CreationTime; uint16 VirtualSystemType;
        string Notes; string BIOSGUID; string BIOSSerialNumber; string BaseBoardSerialNumber;
        string ChassisSerialNumber; string ChassisAssetTag; boolean BIOSNumLock;
        uint16 BootOrder[]; string Parent; uint16 NumaNodeList[];
        boolean NumaNodesAreRequired;""",
    )
    v1_rasd = (
        RASD.replace("string AddressOnParent;", "").replace("string VirtualQuantityUnits;", "")
        + "string VirtualSystemIdentifiers[];"
    )
    rasd_supers = "CIM_ResourceAllocationSettingData CIM_SettingData CIM_ManagedElement"
    s.add("Msvm_ResourceAllocationSettingData", rasd_supers, "InstanceID", v1_rasd)
    s.add(
        "Msvm_ProcessorSettingData",
        rasd_supers,
        "InstanceID",
        v1_rasd
        + """uint16 ProcessorsPerSocket; uint16 SocketCount; boolean ThreadsEnabled;
        boolean LimitCPUID; boolean LimitProcessorFeatures;""",
    )
    s.add(
        "Msvm_MemorySettingData",
        rasd_supers,
        "InstanceID",
        v1_rasd
        + """boolean IsVirtualized; string DeviceID; string DeviceIDFormat;
        boolean DynamicMemoryEnabled; uint32 TargetMemoryBuffer;""",
    )
    s.add(
        "Msvm_SyntheticEthernetPortSettingData",
        "CIM_ResourceAllocationSettingData CIM_SettingData CIM_ManagedElement",
        "InstanceID",
        v1_rasd + "boolean StaticMacAddress;",
    )
    s.add(
        "Msvm_EmulatedEthernetPortSettingData",
        "CIM_ResourceAllocationSettingData CIM_SettingData CIM_ManagedElement",
        "InstanceID",
        v1_rasd + "boolean StaticMacAddress;",
    )
    # 2008 R2 keeps the settings a snapshot does not change (AutomaticStartupAction among
    # them) here rather than on the VSSD.
    s.add(
        "Msvm_VirtualSystemGlobalSettingData",
        "CIM_VirtualSystemSettingData CIM_SettingData CIM_ManagedElement",
        "InstanceID",
        """string Caption; string Description; string SystemName; string InstanceID;
        string ElementName; uint16 VirtualSystemType; boolean AutoActivate;
        string OtherVirtualSystemType; datetime CreationTime; string ExternalDataRoot;
        uint16 SettingType; string SnapshotDataRoot; uint16 AutomaticStartupAction;
        datetime AutomaticStartupActionDelay; uint16 AutomaticShutdownAction;
        uint16 AutomaticRecoveryAction; string AdditionalRecoveryInformation;
        string ScopeOfResidence; uint32 DebugChannelId; uint32 DebugPort;
        uint16 DebugPortEnabled; boolean AllowFullSCSICommandSet; string Version;""",
    )
    device = "CIM_LogicalDevice CIM_EnabledLogicalElement CIM_LogicalElement"
    dev_keys = DEVICE_KEYS
    v1_device = LOGICAL_DEVICE.replace("string InstanceID;", "")
    s.add("Msvm_ShutdownComponent", device, dev_keys, v1_device)
    s.add("Msvm_HeartbeatComponent", device, dev_keys, v1_device)
    s.add(
        "Msvm_Keyboard",
        "CIM_Keyboard CIM_UserDevice " + device,
        dev_keys,
        v1_device
        + """boolean IsLocked; string Layout; uint16 NumberOfFunctionKeys; uint16 Password;
        boolean UnicodeSupported;""",
    )
    s.add(
        "Msvm_VideoHead",
        "CIM_VideoHead " + device,
        dev_keys,
        v1_device + VIDEO_HEAD,
    )
    s.add(
        "Msvm_DiskDrive",
        "CIM_DiskDrive CIM_MediaAccessDevice " + device,
        dev_keys,
        v1_device + DISK_DRIVE,
    )
    s.add(
        "Msvm_SwitchPort",
        "CIM_SwitchPort CIM_ProtocolEndpoint CIM_ServiceAccessPoint CIM_EnabledLogicalElement",
        SERVICE_KEYS,
        """string Caption; string ElementName; datetime InstallDate; uint16 HealthState;
        string OtherEnabledState; uint16 RequestedState; string SystemCreationClassName;
        string SystemName; string CreationClassName; string Description;
        uint16 OperationalStatus[]; uint16 EnabledState; datetime TimeOfLastStateChange;
        uint16 ProtocolType; uint16 ProtocolIFType; uint16 PortNumber;
        string StatusDescriptions[]; uint16 EnabledDefault; string Name; string NameFormat;
        string OtherTypeDescription; boolean BroadcastResetSupported;
        string ScopeOfResidence; string Status; uint32 VMQOffloadWeight;
        string AllowedIPv6Addresses[]; string AllowedIPv4Addresses[];
        boolean PreventIPSpoofing; uint32 ChimneyOffloadWeight; uint32 VMQOffloadUsage;
        uint32 ChimneyOffloadUsage; uint32 VMQOffloadLimit; uint32 ChimneyOffloadLimit;
        boolean AllowMacSpoofing;""",
    )
    s.add(
        "Msvm_VirtualSystemManagementService",
        "CIM_VirtualSystemManagementService CIM_Service CIM_EnabledLogicalElement",
        SERVICE_KEYS,
        SERVICE.replace("string InstanceID;", ""),
    )
    s.add(
        "Msvm_ConcreteJob",
        "CIM_ConcreteJob CIM_Job CIM_LogicalElement CIM_ManagedSystemElement",
        "InstanceID",
        CONCRETE_JOB,
    )
    s.add(
        "Msvm_SummaryInformation",
        "",
        "Name",
        """string Name; string ElementName; uint16 EnabledState; uint16 HealthState;
        string Notes; uint16 NumberOfProcessors; uint8 ThumbnailImage[];
        datetime CreationTime; uint16 ProcessorLoad; uint16 ProcessorLoadHistory[];
        uint64 MemoryUsage; sint32 MemoryAvailable; sint32 AvailableMemoryBuffer;
        uint16 Heartbeat; uint64 UpTime; string GuestOperatingSystem;
        uint16 OperationalStatus[]; string StatusDescriptions[];
        Msvm_VirtualSystemSettingData Snapshots[]; Msvm_ConcreteJob AsynchronousTasks[];
        string AllocatedGPU;""",
    )
    add_associations(s, v1=True)
    return s
