"""The WMI classes the simulator serves, declared as typed property tables.

Each class is written the way Microsoft's documentation prints it, as simplified MOF
(``uint16 EnabledState; string Notes[]; Msvm_ComputerSystem REF ManagedElement``), and parsed
once at import into a frozen :class:`ClassDef`.  The tables are shared by every simulated host,
so a fleet of thousands of hosts pays for them once.

Sources: Microsoft's class pages for ``root/virtualization/v2`` (``windows/win32/hyperv_v2``),
``root/virtualization`` (``previous-versions/windows/desktop/virtual``, the 2008 R2 provider) and
``root/cimv2`` (``windows/win32/cimwin32prov``).  Properties are
kept in alphabetical order because that is the order the WinRM WMI plugin writes them in (see
``wsman-samples/01``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohyperv.cim import CimType
from aiohyperv.wsman._ns import NAMESPACE_CIMV2, NAMESPACE_V1, NAMESPACE_V2, resource_uri

__all__ = ["SCHEMAS", "ClassDef", "PropDef", "Schema"]

_TYPES = {t.value: t for t in CimType}


@dataclass(frozen=True, slots=True)
class PropDef:
    """One property: name, CIM type, array flag and, for references, the target class."""

    name: str
    type: CimType
    array: bool = False
    ref_class: str | None = None


@dataclass(frozen=True, slots=True)
class ClassDef:
    """One WMI class as the simulator serves it.

    Attributes:
        name: ``Msvm_ComputerSystem``.
        namespace: ``root/virtualization/v2``.
        superclasses: nearest first, up to the root (``CIM_ComputerSystem``, ...).
        keys: key property names, sorted (the order WMI writes object paths in).
        properties: every property, sorted by name (the order WinRM serializes them in).
        association: true for association classes (all keys are references).
        abstract: true for classes that have no instances of their own.
    """

    name: str
    namespace: str
    superclasses: tuple[str, ...]
    keys: tuple[str, ...]
    properties: tuple[PropDef, ...]
    association: bool = False
    abstract: bool = False
    _by_name: dict[str, PropDef] = field(default_factory=dict, compare=False, repr=False)
    _lineage: frozenset[str] = field(default_factory=frozenset, compare=False, repr=False)

    @property
    def resource_uri(self) -> str:
        """The class's WS-Man resource URI (the XML namespace of its instances)."""
        return resource_uri(self.namespace, self.name)

    def prop(self, name: str) -> PropDef | None:
        """The property called ``name`` (WMI names are case-insensitive), or ``None``."""
        return self._by_name.get(name.lower())

    def is_a(self, class_name: str) -> bool:
        """True when this class is ``class_name`` or derives from it (case-insensitive)."""
        return class_name.lower() in self._lineage

    @property
    def derivation(self) -> tuple[str, ...]:
        """The ``__DERIVATION`` system property: superclasses, nearest first."""
        return self.superclasses

    @property
    def reference_props(self) -> tuple[PropDef, ...]:
        """The reference-typed properties (the roles of an association)."""
        return tuple(p for p in self.properties if p.type is CimType.REFERENCE)


def _parse_props(mof: str) -> tuple[PropDef, ...]:
    props: dict[str, PropDef] = {}
    for raw in mof.split(";"):
        decl = raw.strip()
        if not decl:
            continue
        parts = decl.split()
        if len(parts) == 3 and parts[1] == "REF":
            props[parts[2]] = PropDef(parts[2], CimType.REFERENCE, ref_class=parts[0])
            continue
        if len(parts) != 2:
            raise ValueError(f"bad MOF declaration {decl!r}")
        type_name, name = parts
        array = name.endswith("[]")
        name = name.removesuffix("[]")
        if type_name.lower() in _TYPES:
            props[name] = PropDef(name, _TYPES[type_name.lower()], array)
        else:  # an embedded object typed by class name (Msvm_SummaryInformation's arrays)
            props[name] = PropDef(name, CimType.INSTANCE, array, ref_class=type_name)
    return tuple(sorted(props.values(), key=lambda p: p.name.lower()))


class Schema:
    """The classes of one WMI namespace."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self._classes: dict[str, ClassDef] = {}
        # lower-cased name -> its concrete subclasses (every query asks; cleared by add())
        self._subclasses: dict[str, tuple[ClassDef, ...]] = {}

    def add(
        self,
        name: str,
        superclasses: str,
        keys: str,
        mof: str,
        *,
        association: bool = False,
        abstract: bool = False,
    ) -> ClassDef:
        """Declare a class from its MOF property list."""
        supers = tuple(superclasses.split())
        props = _parse_props(mof)
        by_name = {p.name.lower(): p for p in props}
        key_names = tuple(sorted(keys.split(), key=str.lower))
        for key in key_names:
            if key.lower() not in by_name:
                raise ValueError(f"{name}: key {key} is not a property")
        cls = ClassDef(
            name,
            self.namespace,
            supers,
            key_names,
            props,
            association,
            abstract,
            by_name,
            frozenset(n.lower() for n in (name, *supers)),
        )
        self._classes[name.lower()] = cls
        self._subclasses.clear()
        return cls

    def get(self, name: str) -> ClassDef | None:
        """The class called ``name`` (case-insensitive), or ``None``."""
        return self._classes.get(name.lower())

    def __contains__(self, name: str) -> bool:
        return name.lower() in self._classes

    def classes(self) -> list[ClassDef]:
        """Every class, in declaration order."""
        return list(self._classes.values())

    def concrete_subclasses(self, name: str) -> list[ClassDef]:
        """``name`` and its descendants that have instances, in declaration order."""
        key = name.lower()
        found = self._subclasses.get(key)
        if found is None:
            found = tuple(c for c in self._classes.values() if not c.abstract and c.is_a(name))
            if len(self._subclasses) < 4096:  # names come from clients' queries
                self._subclasses[key] = found
        return list(found)


# --- shared property blocks (CIM base classes) ----------------------------------------------------
_MANAGED_ELEMENT = "string Caption; string Description; string ElementName; string InstanceID;"
_MANAGED_SYSTEM_ELEMENT = (
    _MANAGED_ELEMENT
    + """datetime InstallDate; string Name; uint16 OperationalStatus[]; string StatusDescriptions[];
    string Status; uint16 HealthState; uint16 CommunicationStatus; uint16 DetailedStatus;
    uint16 OperatingStatus; uint16 PrimaryStatus;"""
)
_ENABLED_LOGICAL_ELEMENT = (
    _MANAGED_SYSTEM_ELEMENT
    + """uint16 EnabledState; string OtherEnabledState; uint16 RequestedState;
    uint16 EnabledDefault; datetime TimeOfLastStateChange; uint16 AvailableRequestedStates[];
    uint16 TransitioningToState;"""
)
_LOGICAL_DEVICE = (
    _ENABLED_LOGICAL_ELEMENT
    + """string SystemCreationClassName; string SystemName; string CreationClassName;
    string DeviceID; boolean PowerManagementSupported; uint16 PowerManagementCapabilities[];
    uint16 Availability; uint16 StatusInfo; uint32 LastErrorCode; string ErrorDescription;
    boolean ErrorCleared; string OtherIdentifyingInfo[]; uint64 PowerOnHours;
    uint64 TotalPowerOnHours; string IdentifyingDescriptions[]; uint16 AdditionalAvailability[];
    uint64 MaxQuiesceTime;"""
)
_COMPUTER_SYSTEM = (
    _ENABLED_LOGICAL_ELEMENT
    + """string CreationClassName; string PrimaryOwnerName; string PrimaryOwnerContact;
    string Roles[]; string NameFormat; string OtherIdentifyingInfo[];
    string IdentifyingDescriptions[]; uint16 Dedicated[]; string OtherDedicatedDescriptions[];
    uint16 ResetCapability; uint16 PowerManagementCapabilities[];"""
)
_RASD = (
    _MANAGED_ELEMENT
    + """uint16 ResourceType; string OtherResourceType; string ResourceSubType; string PoolID;
    uint16 ConsumerVisibility; string HostResource[]; string AllocationUnits;
    uint64 VirtualQuantity; uint64 Reservation; uint64 Limit; uint32 Weight;
    boolean AutomaticAllocation; boolean AutomaticDeallocation; string Parent;
    string Connection[]; string Address; uint16 MappingBehavior; string AddressOnParent;
    string VirtualQuantityUnits;"""
)
_SERVICE = (
    _ENABLED_LOGICAL_ELEMENT
    + """string SystemCreationClassName; string SystemName; string CreationClassName;
    string PrimaryOwnerName; string PrimaryOwnerContact; string StartMode; boolean Started;"""
)
_CONCRETE_JOB = (
    _MANAGED_SYSTEM_ELEMENT
    + """string JobStatus; datetime TimeSubmitted; datetime ScheduledStartTime;
    datetime StartTime; datetime ElapsedTime; uint32 JobRunTimes; uint8 RunMonth; sint8 RunDay;
    sint8 RunDayOfWeek; datetime RunStartInterval; uint16 LocalOrUtcTime; datetime UntilTime;
    string Notify; string Owner; uint32 Priority; uint16 PercentComplete;
    boolean DeleteOnCompletion; uint16 ErrorCode; string ErrorDescription;
    string ErrorSummaryDescription; uint16 RecoveryAction; string OtherRecoveryAction;
    uint16 JobState; datetime TimeOfLastStateChange; datetime TimeBeforeRemoval;
    boolean Cancellable; uint16 JobType;"""
)
_ETHERNET_PORT_ALLOCATION = _RASD + "uint16 DesiredVLANEndpointMode; string OtherEndpointMode;"


# --- root/cimv2 -----------------------------------------------------------------------------------
def _cimv2() -> Schema:
    s = Schema(NAMESPACE_CIMV2)
    s.add(
        "Win32_OperatingSystem",
        "CIM_OperatingSystem CIM_LogicalElement CIM_ManagedSystemElement",
        "Name",
        """string BootDevice; string BuildNumber; string BuildType; string Caption;
        string CodeSet; string CountryCode; string CreationClassName;
        string CSCreationClassName; string CSDVersion; string CSName; sint16 CurrentTimeZone;
        boolean DataExecutionPrevention_32BitApplications;
        boolean DataExecutionPrevention_Available; boolean DataExecutionPrevention_Drivers;
        uint8 DataExecutionPrevention_SupportPolicy; boolean Debug; string Description;
        boolean Distributed; uint32 EncryptionLevel; uint8 ForegroundApplicationBoost;
        uint64 FreePhysicalMemory; uint64 FreeSpaceInPagingFiles; uint64 FreeVirtualMemory;
        datetime InstallDate; uint32 LargeSystemCache; datetime LastBootUpTime;
        datetime LocalDateTime; string Locale; string Manufacturer;
        uint32 MaxNumberOfProcesses; uint64 MaxProcessMemorySize; string MUILanguages[];
        string Name; uint32 NumberOfLicensedUsers; uint32 NumberOfProcesses;
        uint32 NumberOfUsers; uint32 OperatingSystemSKU; string Organization;
        string OSArchitecture; uint32 OSLanguage; uint32 OSProductSuite; uint16 OSType;
        string OtherTypeDescription; boolean PAEEnabled; string PlusProductID;
        string PlusVersionNumber; boolean PortableOperatingSystem; boolean Primary;
        uint32 ProductType; string RegisteredUser; string SerialNumber;
        uint16 ServicePackMajorVersion; uint16 ServicePackMinorVersion;
        uint64 SizeStoredInPagingFiles; string Status; uint32 SuiteMask; string SystemDevice;
        string SystemDirectory; string SystemDrive; uint64 TotalSwapSpaceSize;
        uint64 TotalVirtualMemorySize; uint64 TotalVisibleMemorySize; string Version;
        string WindowsDirectory;""",
    )
    s.add(
        "Win32_ComputerSystem",
        "CIM_UnitaryComputerSystem CIM_ComputerSystem CIM_System CIM_LogicalElement "
        "CIM_ManagedSystemElement",
        "Name",
        """uint16 AdminPasswordStatus; boolean AutomaticManagedPagefile;
        boolean AutomaticResetBootOption; boolean AutomaticResetCapability;
        uint16 BootOptionOnLimit; uint16 BootOptionOnWatchDog; boolean BootROMSupported;
        string BootupState; uint16 BootStatus[]; string Caption; uint16 ChassisBootupState;
        string ChassisSKUNumber; string CreationClassName; sint16 CurrentTimeZone;
        boolean DaylightInEffect; string Description; string DNSHostName; string Domain;
        uint16 DomainRole; boolean EnableDaylightSavingsTime; uint16 FrontPanelResetStatus;
        boolean HypervisorPresent; boolean InfraredSupported; string InitialLoadInfo[];
        datetime InstallDate; uint16 KeyboardPasswordStatus; string LastLoadInfo;
        string Manufacturer; string Model; string Name; string NameFormat;
        boolean NetworkServerModeEnabled; uint32 NumberOfLogicalProcessors;
        uint32 NumberOfProcessors; string OEMStringArray[]; boolean PartOfDomain;
        sint64 PauseAfterReset; uint16 PCSystemType; uint16 PCSystemTypeEx;
        uint16 PowerManagementCapabilities[]; boolean PowerManagementSupported;
        uint16 PowerOnPasswordStatus; uint16 PowerState; uint16 PowerSupplyState;
        string PrimaryOwnerContact; string PrimaryOwnerName; uint16 ResetCapability;
        sint16 ResetCount; sint16 ResetLimit; string Roles[]; string Status;
        string SupportContactDescription[]; string SystemFamily; string SystemSKUNumber;
        uint16 SystemStartupDelay; string SystemStartupOptions[]; uint8 SystemStartupSetting;
        string SystemType; uint16 ThermalState; uint64 TotalPhysicalMemory; string UserName;
        uint16 WakeUpType; string Workgroup;""",
    )
    s.add(
        "Win32_ComputerSystemProduct",
        "CIM_Product",
        "IdentifyingNumber Name Version",
        """string Caption; string Description; string IdentifyingNumber; string Name;
        string SKUNumber; string UUID; string Vendor; string Version;""",
    )
    s.add(
        "Win32_Processor",
        "CIM_Processor CIM_LogicalDevice CIM_LogicalElement CIM_ManagedSystemElement",
        "DeviceID",
        """uint16 AddressWidth; uint16 Architecture; string AssetTag; uint16 Availability;
        string Caption; uint32 Characteristics; uint32 ConfigManagerErrorCode;
        boolean ConfigManagerUserConfig; uint16 CpuStatus; string CreationClassName;
        uint32 CurrentClockSpeed; uint16 CurrentVoltage; uint16 DataWidth; string Description;
        string DeviceID; boolean ErrorCleared; string ErrorDescription; uint32 ExtClock;
        uint16 Family; datetime InstallDate; uint32 L2CacheSize; uint32 L2CacheSpeed;
        uint32 L3CacheSize; uint32 L3CacheSpeed; uint32 LastErrorCode; uint16 Level;
        uint16 LoadPercentage; string Manufacturer; uint32 MaxClockSpeed; string Name;
        uint32 NumberOfCores; uint32 NumberOfEnabledCore; uint32 NumberOfLogicalProcessors;
        string OtherFamilyDescription; string PartNumber; string PNPDeviceID;
        uint16 PowerManagementCapabilities[]; boolean PowerManagementSupported;
        string ProcessorId; uint16 ProcessorType; uint16 Revision; string Role;
        boolean SecondLevelAddressTranslationExtensions; string SerialNumber;
        string SocketDesignation; string Status; uint16 StatusInfo; string Stepping;
        string SystemCreationClassName; string SystemName; uint32 ThreadCount;
        string UniqueId; uint16 UpgradeMethod; string Version;
        boolean VirtualizationFirmwareEnabled; boolean VMMonitorModeExtensions;
        uint32 VoltageCaps;""",
    )
    s.add(
        "Win32_ComputerSystemProcessor",
        "Win32_SystemDevices CIM_SystemDevice CIM_SystemComponent CIM_Component",
        "GroupComponent PartComponent",
        "Win32_ComputerSystem REF GroupComponent; Win32_Processor REF PartComponent;",
        association=True,
    )
    return s


# --- root/virtualization/v2 -----------------------------------------------------------------------
_V2_COMPUTER_SYSTEM = (
    _COMPUTER_SYSTEM
    + """uint64 OnTimeInMilliseconds; uint32 ProcessID; datetime TimeOfLastConfigurationChange;
    uint16 NumberOfNumaNodes; uint16 ReplicationState; uint16 ReplicationHealth;
    uint16 ReplicationMode; uint16 FailedOverReplicationType; uint16 LastReplicationType;
    datetime LastApplicationConsistentReplicationTime; datetime LastReplicationTime;
    datetime LastSuccessfulBackupTime; uint16 EnhancedSessionModeState;"""
)
_V2_VSSD = (
    _MANAGED_ELEMENT
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


def _v2() -> Schema:
    s = Schema(NAMESPACE_V2)
    cs_supers = "CIM_ComputerSystem CIM_System CIM_EnabledLogicalElement CIM_LogicalElement"
    s.add("Msvm_ComputerSystem", cs_supers, "CreationClassName Name", _V2_COMPUTER_SYSTEM)
    s.add(
        "Msvm_VirtualEthernetSwitch",
        "CIM_VirtualEthernetSwitch CIM_ComputerSystem CIM_System CIM_EnabledLogicalElement",
        "CreationClassName Name",
        _COMPUTER_SYSTEM + "uint32 MaxVMQOffloads; uint32 MaxChimneyOffloads;",
    )
    s.add(
        "Msvm_VirtualSystemSettingData",
        "CIM_VirtualSystemSettingData CIM_SettingData CIM_ManagedElement",
        "InstanceID",
        _V2_VSSD,
    )
    s.add(
        "Msvm_ResourceAllocationSettingData",
        "CIM_ResourceAllocationSettingData CIM_SettingData CIM_ManagedElement",
        "InstanceID",
        _RASD + "string VirtualSystemIdentifiers[];",
    )
    s.add(
        "Msvm_ProcessorSettingData",
        "CIM_ResourceAllocationSettingData CIM_SettingData CIM_ManagedElement",
        "InstanceID",
        _RASD
        + """boolean LimitCPUID; uint64 HwThreadsPerCore; boolean LimitProcessorFeatures;
        uint64 MaxProcessorsPerNumaNode; uint64 MaxNumaNodesPerSocket;
        boolean EnableHostResourceProtection; string CpuGroupId; boolean HideHypervisorPresent;
        boolean ExposeVirtualizationExtensions;""",
    )
    s.add(
        "Msvm_MemorySettingData",
        "CIM_ResourceAllocationSettingData CIM_SettingData CIM_ManagedElement",
        "InstanceID",
        _RASD
        + """boolean DynamicMemoryEnabled; uint32 TargetMemoryBuffer; boolean IsVirtualized;
        boolean SwapFilesInUse; uint64 MaxMemoryBlocksPerNumaNode;""",
    )
    s.add(
        "Msvm_StorageAllocationSettingData",
        "CIM_StorageAllocationSettingData CIM_ResourceAllocationSettingData CIM_SettingData",
        "InstanceID",
        _RASD
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
        _ETHERNET_PORT_ALLOCATION
        + """boolean StaticMacAddress; string VirtualSystemIdentifiers[];
        boolean ClusterMonitored; boolean DeviceNamingEnabled; boolean AllowPacketDirect;""",
    )
    s.add(
        "Msvm_EthernetPortAllocationSettingData",
        "CIM_EthernetPortAllocationSettingData CIM_ResourceAllocationSettingData CIM_SettingData",
        "InstanceID",
        _ETHERNET_PORT_ALLOCATION
        + """uint16 EnabledState; string LastKnownSwitchName; string RequiredFeatures[];
        string RequiredFeatureHints[]; string TestReplicaPoolID; string TestReplicaSwitchName;
        boolean TestNetworkConnectivity;""",
    )
    s.add(
        "Msvm_SerialPortSettingData",
        "Msvm_ResourceAllocationSettingData CIM_ResourceAllocationSettingData CIM_SettingData",
        "InstanceID",
        _RASD + "string VirtualSystemIdentifiers[]; boolean DebuggerMode;",
    )
    device = "CIM_LogicalDevice CIM_EnabledLogicalElement CIM_LogicalElement"
    dev_keys = "CreationClassName DeviceID SystemCreationClassName SystemName"
    s.add("Msvm_ShutdownComponent", device, dev_keys, _LOGICAL_DEVICE)
    s.add("Msvm_HeartbeatComponent", device, dev_keys, _LOGICAL_DEVICE)
    s.add(
        "Msvm_Keyboard",
        "CIM_Keyboard CIM_UserDevice " + device,
        dev_keys,
        _LOGICAL_DEVICE
        + """boolean IsLocked; string Layout; uint16 NumberOfFunctionKeys; uint16 Password;
        boolean UnicodeSupported;""",
    )
    s.add(
        "Msvm_SyntheticDisplayController",
        "CIM_DisplayController CIM_Controller " + device,
        dev_keys,
        _LOGICAL_DEVICE
        + """uint16 CurrentHorizontalResolution; uint16 CurrentVerticalResolution;
        uint16 MaximumHorizontalResolution; uint16 MaximumVerticalResolution;
        uint16 VideoMode; uint16 ResolutionType;""",
    )
    s.add(
        "Msvm_VirtualSystemManagementService",
        "CIM_VirtualSystemManagementService CIM_Service CIM_EnabledLogicalElement",
        "CreationClassName Name SystemCreationClassName SystemName",
        _SERVICE,
    )
    s.add(
        "Msvm_ConcreteJob",
        "CIM_ConcreteJob CIM_Job CIM_LogicalElement CIM_ManagedSystemElement",
        "InstanceID",
        _CONCRETE_JOB,
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
    _associations(s, v1=False)
    return s


def _associations(s: Schema, *, v1: bool) -> None:
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


# --- root/virtualization (Windows Server 2008 R2, WMI v1) -----------------------------------------
def _v1() -> Schema:
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
        _COMPUTER_SYSTEM + "string ScopeOfResidence; uint32 NumLearnableAddresses; "
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
        _RASD.replace("string AddressOnParent;", "").replace("string VirtualQuantityUnits;", "")
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
    device = "CIM_LogicalDevice CIM_EnabledLogicalElement CIM_LogicalElement"
    dev_keys = "CreationClassName DeviceID SystemCreationClassName SystemName"
    v1_device = _LOGICAL_DEVICE.replace("string InstanceID;", "")
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
        "Msvm_VirtualSystemManagementService",
        "CIM_VirtualSystemManagementService CIM_Service CIM_EnabledLogicalElement",
        "CreationClassName Name SystemCreationClassName SystemName",
        _SERVICE.replace("string InstanceID;", ""),
    )
    s.add(
        "Msvm_ConcreteJob",
        "CIM_ConcreteJob CIM_Job CIM_LogicalElement CIM_ManagedSystemElement",
        "InstanceID",
        _CONCRETE_JOB,
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
    _associations(s, v1=True)
    return s


#: Every namespace the simulator serves, by name.
SCHEMAS: dict[str, Schema] = {s.namespace: s for s in (_cimv2(), _v2(), _v1())}
