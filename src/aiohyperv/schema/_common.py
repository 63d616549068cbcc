"""Property blocks of the CIM base classes, shared by the namespaces' declarations.

Each block is the inherited part of the simplified MOF that Microsoft's class pages print for
their subclasses (``windows/win32/hyperv_v2`` for ``root/virtualization/v2``,
``windows/win32/cimwin32prov`` for ``root/cimv2``); the namespace modules append each class's own
properties.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aiohyperv.schema._model import Schema

__all__ = [
    "COMPUTER_SYSTEM",
    "CONCRETE_JOB",
    "DEVICE_KEYS",
    "DISK_DRIVE",
    "DISPLAY_CONTROLLER",
    "ENABLED_LOGICAL_ELEMENT",
    "ETHERNET_PORT_ALLOCATION",
    "LOGICAL_DEVICE",
    "MANAGED_ELEMENT",
    "MANAGED_SYSTEM_ELEMENT",
    "RASD",
    "SERVICE",
    "SERVICE_KEYS",
    "VIDEO_HEAD",
    "add_associations",
]

#: CIM_ManagedElement.
MANAGED_ELEMENT = "string Caption; string Description; string ElementName; string InstanceID;"
#: CIM_ManagedSystemElement.
MANAGED_SYSTEM_ELEMENT = (
    MANAGED_ELEMENT
    + """datetime InstallDate; string Name; uint16 OperationalStatus[]; string StatusDescriptions[];
    string Status; uint16 HealthState; uint16 CommunicationStatus; uint16 DetailedStatus;
    uint16 OperatingStatus; uint16 PrimaryStatus;"""
)
#: CIM_EnabledLogicalElement.
ENABLED_LOGICAL_ELEMENT = (
    MANAGED_SYSTEM_ELEMENT
    + """uint16 EnabledState; string OtherEnabledState; uint16 RequestedState;
    uint16 EnabledDefault; datetime TimeOfLastStateChange; uint16 AvailableRequestedStates[];
    uint16 TransitioningToState;"""
)
#: CIM_LogicalDevice.
LOGICAL_DEVICE = (
    ENABLED_LOGICAL_ELEMENT
    + """string SystemCreationClassName; string SystemName; string CreationClassName;
    string DeviceID; boolean PowerManagementSupported; uint16 PowerManagementCapabilities[];
    uint16 Availability; uint16 StatusInfo; uint32 LastErrorCode; string ErrorDescription;
    boolean ErrorCleared; string OtherIdentifyingInfo[]; uint64 PowerOnHours;
    uint64 TotalPowerOnHours; string IdentifyingDescriptions[]; uint16 AdditionalAvailability[];
    uint64 MaxQuiesceTime;"""
)
#: The keys of every CIM_LogicalDevice.
DEVICE_KEYS = "CreationClassName DeviceID SystemCreationClassName SystemName"
#: CIM_DisplayController (through CIM_Controller).  Microsoft's pages for
#: Msvm_SyntheticDisplayController and Msvm_S3DisplayController print ``string EnabledState``
#: and ``uint16 CreationClassName``; their property tables and every other CIM_LogicalDevice
#: say uint16 and string, which is what the blocks above declare.
# CIM_VideoHead's own properties (Msvm_VideoHead in both namespaces).
VIDEO_HEAD = """uint16 LocationIndicator; uint32 CurrentBitsPerPixel;
    uint32 CurrentHorizontalResolution; uint32 CurrentVerticalResolution;
    uint32 MaxRefreshRate; uint32 MinRefreshRate; uint32 CurrentRefreshRate;
    uint16 CurrentScanMode; string OtherCurrentScanMode; uint64 CurrentNumberOfColors;
    uint32 CurrentNumberOfRows; uint32 CurrentNumberOfColumns;"""
# CIM_DiskDrive and CIM_MediaAccessDevice's own properties (Msvm_DiskDrive in both namespaces).
DISK_DRIVE = """uint16 Capabilities[]; string CapabilityDescriptions[]; string ErrorMethodology;
    string CompressionMethod; uint32 NumberOfMediaSupported; uint64 MaxMediaSize;
    uint64 DefaultBlockSize; uint64 MaxBlockSize; uint64 MinBlockSize;
    boolean NeedsCleaning; boolean MediaIsLocked; uint16 Security; datetime LastCleaned;
    uint64 MaxAccessTime; uint32 UncompressedDataRate; uint64 LoadTime; uint64 UnloadTime;
    uint64 MountCount; datetime TimeOfLastMount; uint64 TotalMountTime;
    string UnitsDescription; uint64 MaxUnitsBeforeCleaning; uint64 UnitsUsed;
    uint32 DriveNumber;"""
DISPLAY_CONTROLLER = (
    LOGICAL_DEVICE
    + """datetime TimeOfLastReset; uint16 ProtocolSupported; uint32 MaxNumberControlled;
    string ProtocolDescription; string VideoProcessor; uint16 VideoMemoryType;
    string OtherVideoMemoryType; uint32 NumberOfVideoPages; uint32 MaxMemorySupported;
    uint16 AcceleratorCapabilities[]; string CapabilityDescriptions[];
    string OtherVideoArchitecture; uint16 VideoArchitecture;"""
)
#: CIM_System / CIM_ComputerSystem.
COMPUTER_SYSTEM = (
    ENABLED_LOGICAL_ELEMENT
    + """string CreationClassName; string PrimaryOwnerName; string PrimaryOwnerContact;
    string Roles[]; string NameFormat; string OtherIdentifyingInfo[];
    string IdentifyingDescriptions[]; uint16 Dedicated[]; string OtherDedicatedDescriptions[];
    uint16 ResetCapability; uint16 PowerManagementCapabilities[];"""
)
#: CIM_ResourceAllocationSettingData (the v2 form; v1 lacks the last two).
RASD = (
    MANAGED_ELEMENT
    + """uint16 ResourceType; string OtherResourceType; string ResourceSubType; string PoolID;
    uint16 ConsumerVisibility; string HostResource[]; string AllocationUnits;
    uint64 VirtualQuantity; uint64 Reservation; uint64 Limit; uint32 Weight;
    boolean AutomaticAllocation; boolean AutomaticDeallocation; string Parent;
    string Connection[]; string Address; uint16 MappingBehavior; string AddressOnParent;
    string VirtualQuantityUnits;"""
)
#: CIM_Service.
SERVICE = (
    ENABLED_LOGICAL_ELEMENT
    + """string SystemCreationClassName; string SystemName; string CreationClassName;
    string PrimaryOwnerName; string PrimaryOwnerContact; string StartMode; boolean Started;"""
)
#: The keys of every CIM_Service.
SERVICE_KEYS = "CreationClassName Name SystemCreationClassName SystemName"
#: CIM_ConcreteJob.
CONCRETE_JOB = (
    MANAGED_SYSTEM_ELEMENT
    + """string JobStatus; datetime TimeSubmitted; datetime ScheduledStartTime;
    datetime StartTime; datetime ElapsedTime; uint32 JobRunTimes; uint8 RunMonth; sint8 RunDay;
    sint8 RunDayOfWeek; datetime RunStartInterval; uint16 LocalOrUtcTime; datetime UntilTime;
    string Notify; string Owner; uint32 Priority; uint16 PercentComplete;
    boolean DeleteOnCompletion; uint16 ErrorCode; string ErrorDescription;
    string ErrorSummaryDescription; uint16 RecoveryAction; string OtherRecoveryAction;
    uint16 JobState; datetime TimeOfLastStateChange; datetime TimeBeforeRemoval;
    boolean Cancellable; uint16 JobType;"""
)
#: CIM_EthernetPortAllocationSettingData.
ETHERNET_PORT_ALLOCATION = RASD + "uint16 DesiredVLANEndpointMode; string OtherEndpointMode;"


def add_associations(s: Schema, *, v1: bool) -> None:
    """Declare the association classes Hyper-V serves in both virtualization namespaces."""
    rasd = "CIM_ResourceAllocationSettingData"
    s.add(
        "Msvm_SettingsDefineState",
        "CIM_SettingsDefineState",
        "ManagedElement SettingData",
        "CIM_ManagedElement REF ManagedElement; CIM_SettingData REF SettingData;",
        association=True,
    )
    s.add(
        "Msvm_VirtualSystemSettingDataComponent",
        "CIM_VirtualSystemSettingDataComponent CIM_ConcreteComponent CIM_Component",
        "GroupComponent PartComponent",
        f"Msvm_VirtualSystemSettingData REF GroupComponent; {rasd} REF PartComponent;",
        association=True,
    )
    s.add(
        "Msvm_SystemDevice",
        "CIM_SystemDevice CIM_SystemComponent CIM_Component",
        "GroupComponent PartComponent",
        "Msvm_ComputerSystem REF GroupComponent; CIM_LogicalDevice REF PartComponent;",
        association=True,
    )
    s.add(
        "Msvm_HostedDependency",
        "CIM_HostedDependency CIM_Dependency",
        "Antecedent Dependent",
        "Msvm_ComputerSystem REF Antecedent; Msvm_ComputerSystem REF Dependent;",
        association=True,
    )
    s.add(
        "Msvm_HostedService",
        "CIM_HostedService CIM_HostedDependency CIM_Dependency",
        "Antecedent Dependent",
        "Msvm_ComputerSystem REF Antecedent; CIM_Service REF Dependent;",
        association=True,
    )
    s.add(
        "Msvm_AffectedJobElement",
        "CIM_AffectedJobElement",
        "AffectedElement AffectingElement",
        """CIM_ManagedElement REF AffectedElement; Msvm_ConcreteJob REF AffectingElement;
        uint16 ElementEffects[]; string OtherElementEffectsDescriptions[];""",
        association=True,
    )
    if not v1:
        s.add(
            "Msvm_ElementSettingData",
            "CIM_ElementSettingData",
            "ManagedElement SettingData",
            """CIM_ManagedElement REF ManagedElement; CIM_SettingData REF SettingData;
            uint16 IsDefault; uint16 IsCurrent; uint16 IsNext; uint16 IsMinimum;
            uint16 IsMaximum; uint16 IsPending;""",
            association=True,
        )
