"""Classes of ``root/virtualization/v2`` (Windows Server 2012 and newer).

Declared from Microsoft's class pages for the namespace (``windows/win32/hyperv_v2``): each
class lists every documented property, inherited ones included, with its CIM type.
"""

from __future__ import annotations

from aiohyperv.schema._common import (
    COMPUTER_SYSTEM,
    CONCRETE_JOB,
    DEVICE_KEYS,
    DISK_DRIVE,
    DISPLAY_CONTROLLER,
    ETHERNET_PORT_ALLOCATION,
    LOGICAL_DEVICE,
    MANAGED_ELEMENT,
    RASD,
    SERVICE,
    SERVICE_KEYS,
    VIDEO_HEAD,
    add_associations,
)
from aiohyperv.schema._model import Schema
from aiohyperv.wsman._ns import NAMESPACE_V2

__all__ = ["build"]

_V2COMPUTER_SYSTEM = (
    COMPUTER_SYSTEM
    + """uint64 OnTimeInMilliseconds; uint32 ProcessID; datetime TimeOfLastConfigurationChange;
    uint16 NumberOfNumaNodes; uint16 ReplicationState; uint16 ReplicationHealth;
    uint16 ReplicationMode; uint16 FailedOverReplicationType; uint16 LastReplicationType;
    datetime LastApplicationConsistentReplicationTime; datetime LastReplicationTime;
    datetime LastSuccessfulBackupTime; uint16 EnhancedSessionModeState;"""
)
_VSSD_V2 = (
    MANAGED_ELEMENT
    + """string VirtualSystemType; string Notes[]; datetime CreationTime;
    string ConfigurationID; string ConfigurationDataRoot; string ConfigurationFile;
    string SnapshotDataRoot; string SuspendDataRoot; string SwapFileDataRoot;
    string LogDataRoot; uint16 AutomaticStartupAction; datetime AutomaticStartupActionDelay;
    uint16 AutomaticStartupActionSequenceNumber; uint16 AutomaticShutdownAction;
    uint16 AutomaticRecoveryAction; string RecoveryFile; string BIOSGUID;
    string BIOSSerialNumber; string BaseBoardSerialNumber; string ChassisSerialNumber;
    string ChassisAssetTag; boolean BIOSNumLock; uint16 BootOrder[]; string Parent;
    uint16 UserSnapshotType; string VirtualSystemIdentifier; boolean IsSaved;
    string AdditionalRecoveryInformation; boolean AllowFullSCSICommandSet;
    uint32 DebugChannelId; uint16 DebugPortEnabled; uint32 DebugPort; string Version;
    boolean IncrementalBackupEnabled; boolean VirtualNumaEnabled;
    boolean AllowReducedFcRedundancy; string VirtualSystemSubType; string BootSourceOrder[];
    boolean PauseAfterBootFailure; uint16 NetworkBootPreferredProtocol;
    boolean SecureBootEnabled; string SecureBootTemplateId; uint64 LowMmioGapSize;
    uint64 HighMmioGapSize; uint16 EnhancedSessionTransportType;
    boolean AutomaticSnapshotsEnabled; boolean IsAutomaticSnapshot;
    boolean GuestControlledCacheTypes; string GuestStateFile; string GuestStateDataRoot;
    boolean GuestStateIsolationEnabled; boolean TurnOffOnGuestRestart;"""
)


def build() -> Schema:
    """Declare the ``root/virtualization/v2`` classes."""
    s = Schema(NAMESPACE_V2)
    cs_supers = "CIM_ComputerSystem CIM_System CIM_EnabledLogicalElement CIM_LogicalElement"
    s.add("Msvm_ComputerSystem", cs_supers, "CreationClassName Name", _V2COMPUTER_SYSTEM)
    s.add(
        "Msvm_VirtualEthernetSwitch",
        "CIM_VirtualEthernetSwitch CIM_ComputerSystem CIM_System CIM_EnabledLogicalElement",
        "CreationClassName Name",
        COMPUTER_SYSTEM + "uint32 MaxVMQOffloads; uint32 MaxIOVOffloads;",
    )
    s.add(
        "Msvm_VirtualSystemSettingData",
        "CIM_VirtualSystemSettingData CIM_SettingData CIM_ManagedElement",
        "InstanceID",
        _VSSD_V2,
    )
    s.add(
        "Msvm_ResourceAllocationSettingData",
        "CIM_ResourceAllocationSettingData CIM_SettingData CIM_ManagedElement",
        "InstanceID",
        RASD + "string VirtualSystemIdentifiers[];",
    )
    s.add(
        "Msvm_ProcessorSettingData",
        "CIM_ResourceAllocationSettingData CIM_SettingData CIM_ManagedElement",
        "InstanceID",
        RASD
        + """boolean LimitCPUID; uint64 HwThreadsPerCore; boolean LimitProcessorFeatures;
        uint64 MaxProcessorsPerNumaNode; uint64 MaxNumaNodesPerSocket;
        boolean EnableHostResourceProtection; string CpuGroupId; boolean HideHypervisorPresent;
        boolean ExposeVirtualizationExtensions;""",
    )
    s.add(
        "Msvm_MemorySettingData",
        "CIM_ResourceAllocationSettingData CIM_SettingData CIM_ManagedElement",
        "InstanceID",
        RASD
        + """boolean DynamicMemoryEnabled; uint32 TargetMemoryBuffer; boolean IsVirtualized;
        boolean SwapFilesInUse; uint64 MaxMemoryBlocksPerNumaNode;""",
    )
    s.add(
        "Msvm_StorageAllocationSettingData",
        "CIM_StorageAllocationSettingData CIM_ResourceAllocationSettingData CIM_SettingData",
        "InstanceID",
        RASD
        + """uint64 VirtualResourceBlockSize; uint16 Access; uint64 HostResourceBlockSize;
        uint64 HostExtentStartingAddress; string HostExtentName; uint16 HostExtentNameFormat;
        string OtherHostExtentNameFormat; uint16 HostExtentNameNamespace;
        string OtherHostExtentNameNamespace; uint64 IOPSLimit; uint64 IOPSReservation;
        string IOPSAllocationUnits; boolean PersistentReservationsSupported;
        uint16 CachingMode; string SnapshotId; boolean IgnoreFlushes;
        uint16 WriteHardeningMethod; string StorageQoSPolicyID;""",
    )
    s.add(
        "Msvm_SyntheticEthernetPortSettingData",
        "Msvm_EthernetPortSettingData CIM_EthernetPortAllocationSettingData "
        "CIM_ResourceAllocationSettingData CIM_SettingData",
        "InstanceID",
        ETHERNET_PORT_ALLOCATION
        + """boolean StaticMacAddress; string VirtualSystemIdentifiers[];
        boolean ClusterMonitored; boolean DeviceNamingEnabled; boolean AllowPacketDirect;""",
    )
    s.add(
        "Msvm_EmulatedEthernetPortSettingData",
        "CIM_EthernetPortAllocationSettingData CIM_ResourceAllocationSettingData CIM_SettingData",
        "InstanceID",
        ETHERNET_PORT_ALLOCATION + "boolean StaticMacAddress; boolean ClusterMonitored;",
    )
    s.add(
        "Msvm_EthernetPortAllocationSettingData",
        "CIM_EthernetPortAllocationSettingData CIM_ResourceAllocationSettingData CIM_SettingData",
        "InstanceID",
        ETHERNET_PORT_ALLOCATION
        + """uint16 EnabledState; string LastKnownSwitchName; string RequiredFeatures[];
        string RequiredFeatureHints[]; string TestReplicaPoolID; string TestReplicaSwitchName;
        boolean TestNetworkConnectivity;""",
    )
    s.add(
        "Msvm_SerialPortSettingData",
        "Msvm_ResourceAllocationSettingData CIM_ResourceAllocationSettingData CIM_SettingData",
        "InstanceID",
        RASD + "string VirtualSystemIdentifiers[]; boolean DebuggerMode;",
    )
    device = "CIM_LogicalDevice CIM_EnabledLogicalElement CIM_LogicalElement"
    dev_keys = DEVICE_KEYS
    s.add("Msvm_ShutdownComponent", device, dev_keys, LOGICAL_DEVICE)
    s.add("Msvm_HeartbeatComponent", device, dev_keys, LOGICAL_DEVICE)
    s.add(
        "Msvm_Keyboard",
        "CIM_Keyboard CIM_UserDevice " + device,
        dev_keys,
        LOGICAL_DEVICE
        + """boolean IsLocked; string Layout; uint16 NumberOfFunctionKeys; uint16 Password;
        boolean UnicodeSupported;""",
    )
    # Generation 1 VMs boot on the emulated S3 controller; generation 2 VMs have only the
    # synthetic one.  Both print the same CIM_DisplayController MOF.
    display = "CIM_DisplayController CIM_Controller " + device
    s.add("Msvm_SyntheticDisplayController", display, dev_keys, DISPLAY_CONTROLLER)
    s.add("Msvm_S3DisplayController", display, dev_keys, DISPLAY_CONTROLLER)
    s.add(
        "Msvm_VideoHead",
        "CIM_VideoHead " + device,
        dev_keys,
        LOGICAL_DEVICE + VIDEO_HEAD,
    )
    s.add(
        "Msvm_DiskDrive",
        "CIM_DiskDrive CIM_MediaAccessDevice " + device,
        dev_keys,
        LOGICAL_DEVICE + DISK_DRIVE,
    )
    s.add(
        "Msvm_VirtualSystemManagementService",
        "CIM_VirtualSystemManagementService CIM_Service CIM_EnabledLogicalElement",
        SERVICE_KEYS,
        SERVICE,
    )
    s.add(
        "Msvm_VirtualEthernetSwitchManagementService",
        "CIM_VirtualSystemManagementService CIM_Service CIM_EnabledLogicalElement",
        SERVICE_KEYS,
        SERVICE,
    )
    s.add(
        "Msvm_ConcreteJob",
        "CIM_ConcreteJob CIM_Job CIM_LogicalElement CIM_ManagedSystemElement",
        "InstanceID",
        CONCRETE_JOB,
    )
    s.add(
        "Msvm_SummaryInformation",
        "Msvm_SummaryInformationBase CIM_View",
        "InstanceID",
        """string Caption; string Description; string InstanceID; datetime CreationTime;
        string ElementName; uint16 EnabledState; string OtherEnabledState; uint16 HealthState;
        string Name; string Notes; string Version; uint16 NumberOfProcessors;
        uint16 OperationalStatus[]; string StatusDescriptions[]; uint64 UpTime;
        uint16 EnhancedSessionModeState; string VirtualSwitchNames[];
        string VirtualSystemSubType; string HostComputerSystemName; string AllocatedGPU;
        boolean Shielded; Msvm_ConcreteJob AsynchronousTasks[]; string GuestOperatingSystem;
        uint16 Heartbeat; uint64 MemoryUsage; sint32 MemoryAvailable;
        sint32 AvailableMemoryBuffer; boolean SwapFilesInUse; uint16 ProcessorLoad;
        uint16 ProcessorLoadHistory[]; Msvm_VirtualSystemSettingData Snapshots[];
        uint8 ThumbnailImage[]; uint16 ThumbnailImageWidth; uint16 ThumbnailImageHeight;
        uint16 ReplicationState; uint16 ReplicationHealth; uint16 ReplicationMode;
        uint16 ApplicationHealth; uint16 IntegrationServicesVersionState;
        uint16 MemorySpansPhysicalNumaNodes;""",
    )
    # Checkpoints (Microsoft: "Msvm_VirtualSystemSnapshotService class",
    # "Msvm_VirtualSystemSnapshotSettingData class", "Msvm_SnapshotOfVirtualSystem class",
    # "Msvm_ParentChildSettingData class", "Msvm_MostCurrentSnapshotInBranch class").
    s.add(
        "Msvm_VirtualSystemSnapshotService",
        "CIM_VirtualSystemSnapshotService CIM_Service CIM_EnabledLogicalElement",
        SERVICE_KEYS,
        SERVICE,
    )
    s.add(
        "Msvm_VirtualSystemSnapshotSettingData",
        "CIM_SettingData CIM_ManagedElement",
        "InstanceID",
        MANAGED_ELEMENT
        + "uint8 ConsistencyLevel; boolean IgnoreNonSnapshottableDisks; uint8 GuestBackupType;",
    )
    s.add(
        "Msvm_SnapshotOfVirtualSystem",
        "CIM_SnapshotOfVirtualSystem CIM_ElementSettingData",
        "Antecedent Dependent",
        "CIM_ComputerSystem REF Antecedent; CIM_VirtualSystemSettingData REF Dependent;",
        association=True,
    )
    s.add(
        "Msvm_ParentChildSettingData",
        "CIM_Dependency",
        "Antecedent Dependent",
        """Msvm_VirtualSystemSettingData REF Antecedent;
        Msvm_VirtualSystemSettingData REF Dependent;""",
        association=True,
    )
    s.add(
        "Msvm_MostCurrentSnapshotInBranch",
        "CIM_MostCurrentSnapshotInBranch CIM_Dependency",
        "Antecedent Dependent",
        "CIM_ComputerSystem REF Antecedent; CIM_VirtualSystemSettingData REF Dependent;",
        association=True,
    )
    # Virtual disk images (Microsoft: "Msvm_ImageManagementService class",
    # "Msvm_VirtualHardDiskSettingData class", "Msvm_VirtualHardDiskState class"); the last two
    # travel only as embedded instances in GetVirtualHardDiskSettingData/-State outputs.
    s.add(
        "Msvm_ImageManagementService",
        "CIM_Service CIM_EnabledLogicalElement",
        SERVICE_KEYS,
        SERVICE,
    )
    s.add(
        "Msvm_VirtualHardDiskSettingData",
        "CIM_SettingData CIM_ManagedElement",
        "InstanceID",
        MANAGED_ELEMENT
        + """uint16 Type; uint16 Format; string Path; string ParentPath;
        datetime ParentTimestamp; string ParentIdentifier; uint64 MaxInternalSize;
        uint32 BlockSize; uint32 LogicalSectorSize; uint32 PhysicalSectorSize;
        string VirtualDiskId; uint64 DataAlignment; uint16 PmemAddressAbstractionType;
        boolean IsPmemCompatible;""",
    )
    s.add(
        "Msvm_VirtualHardDiskState",
        "",
        "",
        """uint64 FileSize; boolean InUse; uint64 MinInternalSize; uint32 PhysicalSectorSize;
        uint32 Alignment; uint32 FragmentationPercentage;""",
    )
    # Guest information (Microsoft: "Msvm_KvpExchangeComponent class",
    # "Msvm_KvpExchangeDataItem class", "Msvm_GuestNetworkAdapterConfiguration class").  The
    # component's GuestIntrinsicExchangeItems are embedded Msvm_KvpExchangeDataItem instances.
    s.add(
        "Msvm_KvpExchangeComponent",
        "CIM_LogicalDevice CIM_EnabledLogicalElement CIM_LogicalElement",
        DEVICE_KEYS,
        LOGICAL_DEVICE + "string GuestIntrinsicExchangeItems[]; string GuestExchangeItems[];",
    )
    s.add(
        "Msvm_KvpExchangeDataItem",
        "CIM_ManagedElement",
        "InstanceID",
        MANAGED_ELEMENT + "uint16 Source; string Name; string Data;",
    )
    s.add(
        "Msvm_GuestNetworkAdapterConfiguration",
        "",
        "InstanceID",
        """string InstanceID; uint16 ProtocolIFType; boolean DHCPEnabled; string IPAddresses[];
        string Subnets[]; string DefaultGateways[]; string DNSServers[];
        uint16 IPAddressOrigins[];""",
    )
    # Ties a NIC's port settings to the guest's configuration of it (Microsoft:
    # "Msvm_SettingDataComponent class").
    s.add(
        "Msvm_SettingDataComponent",
        "CIM_Component",
        "GroupComponent PartComponent",
        """CIM_ResourceAllocationSettingData REF GroupComponent;
        Msvm_GuestNetworkAdapterConfiguration REF PartComponent;""",
        association=True,
    )
    # Moving VMs (Microsoft: "Msvm_VirtualSystemMigrationService class",
    # "Msvm_VirtualSystemMigrationSettingData class").
    s.add(
        "Msvm_VirtualSystemMigrationService",
        "CIM_VirtualSystemMigrationService CIM_Service CIM_EnabledLogicalElement",
        SERVICE_KEYS,
        SERVICE
        + """uint32 ActiveVirtualSystemMigrationCount; uint32 ActiveStorageMigrationCount;
        string MigrationServiceListenerIPAddressList[];""",
    )
    s.add(
        "Msvm_VirtualSystemMigrationSettingData",
        "CIM_VirtualSystemMigrationSettingData CIM_SettingData CIM_ManagedElement",
        "InstanceID",
        MANAGED_ELEMENT
        + """uint16 MigrationType; uint16 Priority; uint16 Bandwidth; string BandwidthUnit;
        string OtherTransportType; uint16 TransportType; boolean RemoveSourceUnmanagedVhds;
        boolean AvoidRemovingVHDs; uint16 CPUCappingMagnitude;
        boolean CancelIfBlackoutThresholdExceeded; boolean AllowOverwriteExistingFile;
        string UnmanagedVhds[]; string DestinationPlannedVirtualSystemId;
        string DestinationIPAddressList[]; boolean RetainVhdCopiesOnSource;
        boolean EnableCompression;""",
    )
    add_associations(s, v1=False)
    return s
