"""Classes of ``root/cimv2`` that Hyper-V management reads.

Declared from Microsoft's pages for the Win32 provider classes (``windows/win32/cimwin32prov``:
Win32_OperatingSystem, Win32_ComputerSystem, Win32_ComputerSystemProduct, Win32_Processor,
Win32_ComputerSystemProcessor, CIM_DataFile) and, for the Hyper-V hypervisor's performance
counter class (a class generated from the counter set, which Microsoft does not print as MOF),
from the property list libvirt's ``src/hyperv/hyperv_wmi_generator.input`` declares for it.
"""

from __future__ import annotations

from aiohyperv.schema._model import Schema
from aiohyperv.wsman._ns import NAMESPACE_CIMV2

__all__ = ["build"]

# The Hyper-V Hypervisor Virtual Processor counter set: every counter is a uint64 raw value.
_HV_VP_COUNTERS = """AddressDomainFlushesPersec AddressSpaceEvictionsPersec
    AddressSpaceFlushesPersec
    AddressSpaceSwitchesPersec APICEOIAccessesPersec APICIPIsSentPersec APICMMIOAccessesPersec
    APICSelfIPIsSentPersec APICTPRAccessesPersec ControlRegisterAccessesCost
    ControlRegisterAccessesCost_Base ControlRegisterAccessesPersec CPUIDInstructionsCost
    CPUIDInstructionsCost_Base CPUIDInstructionsPersec CPUWaitTimePerDispatch
    CPUWaitTimePerDispatch_Base DebugRegisterAccessesCost DebugRegisterAccessesCost_Base
    DebugRegisterAccessesPersec EmulatedInstructionsCost EmulatedInstructionsCost_Base
    EmulatedInstructionsPersec ExternalInterruptsCost ExternalInterruptsCost_Base
    ExternalInterruptsPersec Frequency_Object Frequency_PerfTime Frequency_Sys100NS
    GlobalGVARangeFlushesPersec GPASpaceHypercallsPersec GuestPageTableMapsPersec
    HardwareInterruptsPersec HLTInstructionsCost HLTInstructionsCost_Base HLTInstructionsPersec
    HypercallsCost HypercallsCost_Base HypercallsPersec IOInstructionsCost IOInstructionsCost_Base
    IOInstructionsPersec IOInterceptMessagesPersec LargePageTLBFillsPersec
    LocalFlushedGVARangesPersec LogicalProcessorDispatchesPersec LogicalProcessorHypercallsPersec
    LogicalProcessorMigrationsPersec LongSpinWaitHypercallsPersec MemoryInterceptMessagesPersec
    MSRAccessesCost MSRAccessesCost_Base MSRAccessesPersec MWAITInstructionsCost
    MWAITInstructionsCost_Base MWAITInstructionsPersec NestedPageFaultInterceptsCost
    NestedPageFaultInterceptsCost_Base NestedPageFaultInterceptsPersec OtherHypercallsPersec
    OtherInterceptsCost OtherInterceptsCost_Base OtherInterceptsPersec OtherMessagesPersec
    PageFaultInterceptsCost PageFaultInterceptsCost_Base PageFaultInterceptsPersec
    PageInvalidationsCost PageInvalidationsCost_Base PageInvalidationsPersec
    PageTableAllocationsPersec PageTableEvictionsPersec PageTableReclamationsPersec
    PageTableResetsPersec PageTableValidationsPersec PageTableWriteInterceptsPersec
    PendingInterruptsCost PendingInterruptsCost_Base PendingInterruptsPersec PercentGuestRunTime
    PercentGuestRunTime_Base PercentHypervisorRunTime PercentHypervisorRunTime_Base
    PercentRemoteRunTime PercentRemoteRunTime_Base PercentTotalRunTime PercentTotalRunTime_Base
    ReflectedGuestPageFaultsPersec SmallPageTLBFillsPersec SyntheticInterruptHypercallsPersec
    SyntheticInterruptsPersec Timestamp_Object Timestamp_PerfTime Timestamp_Sys100NS
    TotalInterceptsCost TotalInterceptsCost_Base TotalInterceptsPersec TotalMessagesPersec
    VirtualInterruptHypercallsPersec VirtualInterruptsPersec VirtualMMUHypercallsPersec
    VirtualProcessorHypercallsPersec"""


def build() -> Schema:
    """Declare the ``root/cimv2`` classes."""
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
        uint32 NumberOfProcessors; uint8 OEMLogoBitmap[]; string OEMStringArray[];
        boolean PartOfDomain;
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
    s.add(
        "CIM_DataFile",
        "CIM_LogicalFile CIM_LogicalElement CIM_ManagedSystemElement",
        "Name",
        """uint32 AccessMask; boolean Archive; string Caption; boolean Compressed;
        string CompressionMethod; string CreationClassName; datetime CreationDate;
        string CSCreationClassName; string CSName; string Description; string Drive;
        string EightDotThreeFileName; boolean Encrypted; string EncryptionMethod;
        string Extension; string FileName; uint64 FileSize; string FileType;
        string FSCreationClassName; string FSName; boolean Hidden; datetime InstallDate;
        uint64 InUseCount; datetime LastAccessed; datetime LastModified; string Manufacturer;
        string Name; string Path; boolean Readable; string Status; boolean System;
        string Version; boolean Writeable;""",
    )
    s.add(
        "Win32_PerfRawData_HvStats_HyperVHypervisorVirtualProcessor",
        "Win32_PerfRawData Win32_Perf CIM_StatisticalInformation",
        "Name",
        "string Caption; string Description; string Name;"
        + "".join(f"uint64 {name};" for name in _HV_VP_COUNTERS.split()),
    )
    return s
