"""Instance providers: the WMI instances of each served class, built from the host model.

A provider is ``provider(host, vm) -> Iterator[Instance]``.  With ``vm=None`` it yields every
instance of its class; with a VM it yields only the instances that belong to that VM (its
settings, devices, associations), which keeps association queries and keyed lookups cheap on
hosts with hundreds of VMs.  Nothing here is cached: a VM's resource settings are regenerated
from its seed on every read until a method changes them (then they are stored).

Values follow what Hyper-V shows; the InstanceID shapes (``Microsoft:<VM>\\<device>\\0\\0\\D``),
the fixed device-class GUIDs and the ``ResourceSubType`` strings are Hyper-V's own.
"""

from __future__ import annotations

import functools
import random
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from aiohyperv.simulator._guest import guest_reports, kvp_items, nic_addresses
from aiohyperv.simulator._host import (
    VM,
    Job,
    Resource,
    SimulatedHost,
    Snapshot,
    VMState,
    rng_guid,
)
from aiohyperv.simulator._instance import (
    Instance,
    Ref,
    escape_path_value,
    format_key,
    parse_object_path,
)
from aiohyperv.simulator._schema import SCHEMAS, ClassDef
from aiohyperv.simulator._snapshots import SNAPSHOT_TYPE, snapshot_refs, snapshot_vssd_values
from aiohyperv.simulator._thumbnail import render_thumbnail
from aiohyperv.wsman._ns import NAMESPACE_CIMV2, NAMESPACE_V1, NAMESPACE_V2

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping

__all__ = [
    "PROCESSOR_CLASS_GUID",
    "V1_STARTUP_ACTION",
    "find_instances",
    "instances_of",
    "materialize_resources",
    "resolve",
    "summary_instance",
    "vm_for_keys",
    "vm_image",
    "vm_resources",
]

#: Hyper-V's fixed device-class GUIDs (they appear in every VM's InstanceIDs).
PROCESSOR_CLASS_GUID = "B637F346-6A6E-4DEC-AF52-BD70CB80A21D"
MEMORY_CLASS_GUID = "4764334D-E001-4176-82EE-5594EC9B530E"
IDE_CONTROLLER_GUID = "83F8638B-8DCA-4152-9EDA-2CA8B33039B4"
SERIAL_PORT_GUID = "D2BA4A5E-A5A9-4F07-A0C0-F1F7B3B1B4B0"
SHUTDOWN_IC_GUID = "9F8233AC-BE49-4C79-8EE3-E7E1985B2077"
HEARTBEAT_IC_GUID = "84EAAE65-2F2E-45F5-9BB5-0E857DC8EB47"
SECURE_BOOT_TEMPLATE = "1734C6E8-3154-4DDA-BA5F-A874CC483422"


def _cls(namespace: str, name: str) -> ClassDef:
    cls = SCHEMAS[namespace].get(name)
    if cls is None:  # pragma: no cover - a table/provider mismatch is a programming error
        raise KeyError(f"{namespace}:{name}")
    return cls


def _inst(host: SimulatedHost, name: str, values: dict[str, object]) -> Instance:
    return Instance(_cls(host.namespace, name), values)


def _ref(host: SimulatedHost, name: str, **keys: object) -> Ref:
    return Ref.make(host.namespace, name, keys)


def setting_path(host: SimulatedHost, class_name: str, instance_id: str) -> str:
    """The WMI path Hyper-V puts in ``Parent``/``HostResource`` to point at a setting.

    ``Ref.make(...).path(...)`` spelled out for the one-key case: it runs for most settings
    of every VM.
    """
    namespace = host.namespace.replace("/", "\\")
    return (
        f"\\\\{host.computer_name}\\{namespace}:{class_name}"
        f".InstanceID={escape_path_value(instance_id)}"
    )


def cs_ref(host: SimulatedHost, name: str) -> Ref:
    """Reference to a Msvm_ComputerSystem (host or VM) by ``Name``."""
    return _ref(host, "Msvm_ComputerSystem", CreationClassName="Msvm_ComputerSystem", Name=name)


def vssd_ref(host: SimulatedHost, vm: VM) -> Ref:
    """Reference to a VM's realized Msvm_VirtualSystemSettingData."""
    return _ref(host, "Msvm_VirtualSystemSettingData", InstanceID=f"Microsoft:{vm.guid}")


def job_ref(host: SimulatedHost, job: Job) -> Ref:
    """Reference to a Msvm_ConcreteJob."""
    return _ref(host, "Msvm_ConcreteJob", InstanceID=job.instance_id)


def vsms_ref(host: SimulatedHost) -> Ref:
    """Reference to the host's Msvm_VirtualSystemManagementService."""
    return _ref(
        host,
        "Msvm_VirtualSystemManagementService",
        CreationClassName="Msvm_VirtualSystemManagementService",
        Name="vmms",
        SystemCreationClassName="Msvm_ComputerSystem",
        SystemName=host.computer_name,
    )


# --- VM resources (RASD and subclasses) -----------------------------------------------------------
def vm_resources(host: SimulatedHost, vm: VM) -> list[Resource]:
    """The VM's resource settings: stored ones if a method changed them, else generated."""
    if vm.stored_resources is not None:
        return vm.stored_resources
    # Generating a VM's settings costs far more than any query that reads them, and nearly
    # every query reads them: keep the last generation with the inputs it came from, so a
    # change to any of them (a rename, a new switch...) regenerates.  Callers never mutate
    # the returned list or its value dicts (methods change settings through
    # materialize_resources, which makes the VM's own copy).
    return _generated(host, vm)[1]


def _generated(
    host: SimulatedHost, vm: VM
) -> tuple[object, list[Resource], dict[str, list[Instance]]]:
    """The VM's cached generation: (inputs, settings, settings as instances by class)."""
    key = _generation_key(host, vm)
    cached = vm.generated
    if cached is None or cached[0] != key:
        cached = vm.generated = (key, _generate_resources(host, vm), {})
    return cached


def _vm_instances(host: SimulatedHost, vm: VM, cls: ClassDef) -> list[Instance]:
    """The VM's settings of exactly class ``cls``, as instances (callers must not mutate)."""
    if vm.stored_resources is not None:
        return [Instance(cls, r.values) for r in vm.stored_resources if r.class_name == cls.name]
    _key, resources, by_class = _generated(host, vm)
    found = by_class.get(cls.name)
    if found is None or (found and found[0].cls is not cls):
        found = by_class[cls.name] = [
            Instance(cls, r.values) for r in resources if r.class_name == cls.name
        ]
    return found


def _generation_key(host: SimulatedHost, vm: VM) -> tuple[object, ...]:
    """Everything ``_generate_resources`` reads from the host and the VM."""
    return (
        vm.seed,
        vm.guid,
        vm.name,
        vm.generation,
        vm.cpus,
        vm.memory_mb,
        vm.dynamic_memory,
        vm.disks,
        vm.nics,
        host.os.key,
        host.computer_name,
        host.cores_per_socket,
        host.sockets,
        host.memory_bytes,
        tuple(host.switches),
    )


def warm(host: SimulatedHost) -> None:
    """Build now what the first queries would otherwise build: every VM's settings (as
    instances, by class) and the values drawn from its seed.  Queries answer the same either
    way; see :meth:`SimulatedHost.warm`."""
    for vm in host.all_vms():
        _vssd_serials(vm.seed)
        _bios_guid_of(vm.seed)
        if vm.stored_resources is not None:
            continue
        for class_name in {res.class_name for res in vm_resources(host, vm)}:
            _vm_instances(host, vm, _cls(host.namespace, class_name))


def materialize_resources(host: SimulatedHost, vm: VM) -> list[Resource]:
    """Store the VM's resource settings so that a method can change them."""
    if vm.stored_resources is None:
        # A fresh generation, never the cached one: methods change the stored list in place.
        vm.stored_resources = _generate_resources(host, vm)
        vm.generated = None
    return vm.stored_resources


def _rasd(
    instance_id: str, element: str, rtype: int, subtype: str, **extra: object
) -> dict[str, object]:
    """The values every resource setting has; ``extra`` adds or overrides."""
    values: dict[str, object] = {
        "InstanceID": instance_id,
        "Caption": element,
        "Description": f"Settings for the Microsoft {element}.",
        "ElementName": element,
        "ResourceType": rtype,
        "ResourceSubType": subtype,
        "PoolID": "",
        "ConsumerVisibility": 3,
        "AutomaticAllocation": True,
        "AutomaticDeallocation": True,
    }
    values.update(extra)
    return values


def _generate_resources(host: SimulatedHost, vm: VM) -> list[Resource]:
    if host.os.v1:
        return _generate_resources_v1(host, vm)
    rng = random.Random(vm.seed)
    g = vm.guid
    out: list[Resource] = []
    proc_id = f"Microsoft:{g}\\{PROCESSOR_CLASS_GUID}\\0"
    out.append(
        Resource(
            "Msvm_ProcessorSettingData",
            _rasd(
                proc_id,
                "Processor",
                3,
                "Microsoft:Hyper-V:Processor",
                Description="Settings for Microsoft Virtual Processor.",
                AllocationUnits="percent / 1000",
                VirtualQuantity=vm.cpus,
                Reservation=0,
                Limit=100000,
                Weight=100,
                VirtualQuantityUnits="count",
                LimitCPUID=False,
                HwThreadsPerCore=0 if host.os.year >= 2016 else None,
                LimitProcessorFeatures=False,
                MaxProcessorsPerNumaNode=host.cores_per_socket * 2,
                MaxNumaNodesPerSocket=1,
                EnableHostResourceProtection=False,
                CpuGroupId="00000000-0000-0000-0000-000000000000",
                HideHypervisorPresent=False,
                ExposeVirtualizationExtensions=False,
            ),
        )
    )
    mem_id = f"Microsoft:{g}\\{MEMORY_CLASS_GUID}"
    out.append(
        Resource(
            "Msvm_MemorySettingData",
            _rasd(
                mem_id,
                "Memory",
                4,
                "Microsoft:Hyper-V:Memory",
                Description="Settings for Microsoft Virtual Machine Memory.",
                AllocationUnits="byte * 2^20",
                VirtualQuantity=vm.memory_mb,
                Reservation=512 if vm.dynamic_memory else vm.memory_mb,
                Limit=1048576 if vm.dynamic_memory else vm.memory_mb,
                Weight=5000,
                VirtualQuantityUnits="byte * 2^20",
                DynamicMemoryEnabled=vm.dynamic_memory,
                TargetMemoryBuffer=20,
                IsVirtualized=True,
                SwapFilesInUse=False,
                MaxMemoryBlocksPerNumaNode=host.memory_bytes // 2**20 // host.sockets,
            ),
        )
    )
    rasd = "Msvm_ResourceAllocationSettingData"
    sasd = "Msvm_StorageAllocationSettingData"
    disk_dir = f"C:\\ClusterStorage\\Volume1\\{vm.name}\\Virtual Hard Disks"
    locations: list[tuple[str, str]] = []  # (controller InstanceID, device id part) per drive
    if vm.generation == 1:
        for channel in (0, 1):
            ide_id = f"Microsoft:{g}\\{IDE_CONTROLLER_GUID}\\{channel}"
            out.append(
                Resource(
                    rasd,
                    _rasd(
                        ide_id,
                        "IDE Controller",
                        5,
                        "Microsoft:Hyper-V:Emulated IDE Controller",
                        Address=str(channel),
                    ),
                )
            )
        controller = f"Microsoft:{g}\\{IDE_CONTROLLER_GUID}\\0"
        locations = [(controller, f"{IDE_CONTROLLER_GUID}\\0\\{i}") for i in range(vm.disks)]
        dvd_loc = (f"Microsoft:{g}\\{IDE_CONTROLLER_GUID}\\1", f"{IDE_CONTROLLER_GUID}\\1\\0")
    else:
        scsi = rng_guid(rng)
        controller = f"Microsoft:{g}\\{scsi}"
        out.append(
            Resource(
                rasd,
                _rasd(
                    controller,
                    "SCSI Controller",
                    6,
                    "Microsoft:Hyper-V:Synthetic SCSI Controller",
                    VirtualSystemIdentifiers=[f"{{{scsi.lower()}}}"],
                ),
            )
        )
        locations = [(controller, f"{scsi}\\0\\{i}") for i in range(vm.disks)]
        dvd_loc = (controller, f"{scsi}\\0\\{vm.disks}")
    for index, (parent, loc) in enumerate(locations):
        drive_id = f"Microsoft:{g}\\{loc}\\D"
        address = loc.rsplit("\\", 1)[1]
        out.append(
            Resource(
                rasd,
                _rasd(
                    drive_id,
                    "Hard Drive",
                    17,
                    "Microsoft:Hyper-V:Synthetic Disk Drive",
                    Parent=setting_path(host, rasd, parent),
                    AddressOnParent=address,
                ),
            )
        )
        file = f"{vm.name}.vhdx" if index == 0 else f"{vm.name}_data{index}.vhdx"
        out.append(
            Resource(
                sasd,
                _rasd(
                    f"Microsoft:{g}\\{loc}\\L",
                    "Hard Disk Image",
                    31,
                    "Microsoft:Hyper-V:Virtual Hard Disk",
                    Parent=setting_path(host, rasd, drive_id),
                    HostResource=[f"{disk_dir}\\{file}"],
                    Access=3,
                    VirtualResourceBlockSize=512,
                    HostResourceBlockSize=None,
                    HostExtentStartingAddress=None,
                    IOPSLimit=0,
                    IOPSReservation=0,
                    IOPSAllocationUnits="count",
                    PersistentReservationsSupported=False,
                    CachingMode=0,
                    IgnoreFlushes=False,
                    WriteHardeningMethod=0,
                    StorageQoSPolicyID="00000000-0000-0000-0000-000000000000",
                    Caption="Hard Disk Image",
                    Description="Settings for the Microsoft Hard Disk Image.",
                    AutomaticAllocation=True,
                ),
            )
        )
    dvd_parent, dvd = dvd_loc
    dvd_drive = f"Microsoft:{g}\\{dvd}\\D"
    out.append(
        Resource(
            rasd,
            _rasd(
                dvd_drive,
                "DVD Drive",
                16,
                "Microsoft:Hyper-V:Synthetic DVD Drive",
                Parent=setting_path(host, rasd, dvd_parent),
                AddressOnParent=dvd.rsplit("\\", 1)[1],
            ),
        )
    )
    if rng.random() < 0.3:
        out.append(
            Resource(
                sasd,
                _rasd(
                    f"Microsoft:{g}\\{dvd}\\L",
                    "ISO Disk Image",
                    16,
                    "Microsoft:Hyper-V:Virtual CD/DVD Disk",
                    Parent=setting_path(host, rasd, dvd_drive),
                    HostResource=["C:\\ISO\\en-us_windows_server_x64.iso"],
                    Access=1,
                ),
            )
        )
    for _ in range(vm.nics):
        nic = rng_guid(rng)
        nic_id = f"Microsoft:{g}\\{nic}"
        mac = f"00155D{rng.getrandbits(24):06X}"
        out.append(
            Resource(
                "Msvm_SyntheticEthernetPortSettingData",
                _rasd(
                    nic_id,
                    "Network Adapter",
                    10,
                    "Microsoft:Hyper-V:Synthetic Ethernet Port",
                    Address=mac,
                    StaticMacAddress=False,
                    ClusterMonitored=True,
                    DeviceNamingEnabled=False,
                    AllowPacketDirect=False,
                    VirtualSystemIdentifiers=[f"{{{nic.lower()}}}"],
                    Description="Microsoft Synthetic Ethernet Port",
                    DesiredVLANEndpointMode=None,
                ),
            )
        )
        switch_guid, switch_name = host.switches[rng.randrange(len(host.switches))]
        switch = _ref(
            host,
            "Msvm_VirtualEthernetSwitch",
            CreationClassName="Msvm_VirtualEthernetSwitch",
            Name=switch_guid,
        )
        out.append(
            Resource(
                "Msvm_EthernetPortAllocationSettingData",
                _rasd(
                    f"{nic_id}\\C",
                    "Dynamic Ethernet Switch Port",
                    33,
                    "Microsoft:Hyper-V:Ethernet Connection",
                    Parent=setting_path(host, "Msvm_SyntheticEthernetPortSettingData", nic_id),
                    HostResource=[switch.path(host.computer_name)],
                    EnabledState=2,
                    LastKnownSwitchName=switch_name,
                    Description="Settings for the Microsoft Ethernet Connection.",
                    TestNetworkConnectivity=False,
                ),
            )
        )
    for port in (0, 1):
        pipe = f"\\\\.\\pipe\\{vm.name}-com{port + 1}" if port == 0 and rng.random() < 0.2 else ""
        out.append(
            Resource(
                "Msvm_SerialPortSettingData",
                _rasd(
                    f"Microsoft:{g}\\{SERIAL_PORT_GUID}\\{port}",
                    f"COM {port + 1}",
                    21,
                    "Microsoft:Hyper-V:Serial Port",
                    Connection=[pipe],
                    Description="Microsoft Serial Port",
                    DebuggerMode=False,
                ),
            )
        )
    return out


def _generate_resources_v1(host: SimulatedHost, vm: VM) -> list[Resource]:
    rng = random.Random(vm.seed)
    g = vm.guid
    rasd = "Msvm_ResourceAllocationSettingData"
    out = [
        Resource(
            "Msvm_ProcessorSettingData",
            _rasd(
                f"Microsoft:{g}\\{PROCESSOR_CLASS_GUID}\\0",
                "Processor",
                3,
                "Microsoft Processor",
                AllocationUnits="Processor Cores",
                VirtualQuantity=vm.cpus,
                Reservation=0,
                Limit=100000,
                Weight=100,
                ProcessorsPerSocket=vm.cpus,
                SocketCount=1,
                ThreadsEnabled=False,
                LimitCPUID=False,
                LimitProcessorFeatures=False,
            ),
        ),
        Resource(
            "Msvm_MemorySettingData",
            _rasd(
                f"Microsoft:{g}\\{MEMORY_CLASS_GUID}",
                "Memory",
                4,
                "Microsoft Virtual Machine Memory",
                AllocationUnits="MB",
                VirtualQuantity=vm.memory_mb,
                Reservation=vm.memory_mb,
                Limit=vm.memory_mb,
                Weight=5000,
                IsVirtualized=True,
                DeviceID=f"Microsoft:{MEMORY_CLASS_GUID}\\0",
                DeviceIDFormat=None,
                DynamicMemoryEnabled=False,
                TargetMemoryBuffer=20,
            ),
        ),
    ]
    for channel in (0, 1):
        ide_id = f"Microsoft:{g}\\{IDE_CONTROLLER_GUID}\\{channel}"
        out.append(
            Resource(
                rasd,
                _rasd(
                    ide_id,
                    "IDE Controller",
                    5,
                    "Microsoft Emulated IDE Controller",
                    Address=str(channel),
                ),
            )
        )
    ctrl = f"Microsoft:{g}\\{IDE_CONTROLLER_GUID}\\0"
    for index in range(vm.disks):
        loc = f"{IDE_CONTROLLER_GUID}\\0\\{index}"
        drive_id = f"Microsoft:{g}\\{loc}\\D"
        out.append(
            Resource(
                rasd,
                _rasd(
                    drive_id,
                    "Hard Drive",
                    22,
                    "Microsoft Synthetic Disk Drive",
                    Parent=setting_path(host, rasd, ctrl),
                    Address=str(index),
                ),
            )
        )
        file = f"{vm.name}.vhd" if index == 0 else f"{vm.name}_data{index}.vhd"
        out.append(
            Resource(
                rasd,
                _rasd(
                    f"Microsoft:{g}\\{loc}\\L",
                    "Hard Disk Image",
                    21,
                    "Microsoft Virtual Hard Disk",
                    Parent=setting_path(host, rasd, drive_id),
                    Connection=[f"D:\\Hyper-V\\{vm.name}\\{file}"],
                ),
            )
        )
    dvd_id = f"Microsoft:{g}\\{IDE_CONTROLLER_GUID}\\1\\0\\D"
    out.append(
        Resource(
            rasd,
            _rasd(
                dvd_id,
                "DVD Drive",
                16,
                "Microsoft Synthetic DVD Drive",
                Parent=setting_path(host, rasd, f"Microsoft:{g}\\{IDE_CONTROLLER_GUID}\\1"),
                Address="0",
            ),
        )
    )
    for _ in range(vm.nics):
        nic = rng_guid(rng)
        switch_guid, _name = host.switches[rng.randrange(len(host.switches))]
        port = (
            f"\\\\{host.computer_name}\\root\\virtualization:Msvm_SwitchPort."
            f'CreationClassName="Msvm_SwitchPort",Name="{nic}",'
            f'SystemCreationClassName="Msvm_VirtualSwitch",SystemName="{switch_guid}"'
        )
        out.append(
            Resource(
                "Msvm_SyntheticEthernetPortSettingData",
                _rasd(
                    f"Microsoft:{g}\\{nic}",
                    "Network Adapter",
                    10,
                    "Microsoft Synthetic Ethernet Port",
                    Address=f"00155D{rng.getrandbits(24):06X}",
                    StaticMacAddress=False,
                    Connection=[port],
                    VirtualSystemIdentifiers=[f"{{{nic.lower()}}}"],
                ),
            )
        )
    for port_no in (0, 1):
        out.append(
            Resource(
                rasd,
                _rasd(
                    f"Microsoft:{g}\\{SERIAL_PORT_GUID}\\{port_no}",
                    f"COM {port_no + 1}",
                    17,
                    "Microsoft Serial Port",
                    Connection=[""],
                ),
            )
        )
    return out


# --- providers: Msvm_* ----------------------------------------------------------------------------
_OPERATIONAL_OK = [2]
#: "Never" as WMI writes it: 1601-01-01T00:00:00Z (the FILETIME epoch), e.g. a VM never replicated.
NEVER = datetime(1601, 1, 1, tzinfo=UTC)


def _computer_systems(host: SimulatedHost, vm: VM | None) -> Iterator[Instance]:
    if vm is None:
        yield _inst(
            host,
            "Msvm_ComputerSystem",
            {
                "Caption": "Hosting Computer System",
                "Description": "Microsoft Hosting Computer System",
                "ElementName": host.computer_name,
                "Name": host.computer_name,
                "CreationClassName": "Msvm_ComputerSystem",
                "InstallDate": host.installed,
                "OperationalStatus": _OPERATIONAL_OK,
                "StatusDescriptions": ["OK"],
                "HealthState": 5,
                "EnabledState": 2,
                "RequestedState": 12,
                "EnabledDefault": 2,
                "TimeOfLastStateChange": host.last_boot,
                "TransitioningToState": 12,
                "NameFormat": None,
                "Dedicated": [0],
                "ResetCapability": 1,
                "NumberOfNumaNodes": host.sockets,
                "PrimaryOwnerName": "Administrators",
            },
        )
    for machine in [vm] if vm is not None else list(host.all_vms()):
        yield _vm_cs(host, machine)


def _vm_cs(host: SimulatedHost, vm: VM) -> Instance:
    state = host.enabled_state(vm)
    on = vm.is_on
    return _inst(
        host,
        "Msvm_ComputerSystem",
        {
            "InstanceID": f"Microsoft:{vm.guid}",
            "Caption": "Virtual Machine",
            "Description": "Microsoft Virtual Machine",
            "ElementName": vm.name,
            "Name": vm.guid,
            "CreationClassName": "Msvm_ComputerSystem",
            "InstallDate": vm.created,
            "OperationalStatus": _OPERATIONAL_OK,
            "StatusDescriptions": ["Operating normally"],
            "HealthState": 5,
            "EnabledState": state,
            "OtherEnabledState": None,
            "RequestedState": vm.requested,
            "EnabledDefault": 2,
            "TimeOfLastStateChange": vm.changed,
            "TransitioningToState": vm.pending.target if vm.pending is not None else 12,
            "ResetCapability": 1,
            "OnTimeInMilliseconds": host.on_time_ms(vm),
            "ProcessID": vm.process_id if on else None,
            "TimeOfLastConfigurationChange": vm.created,
            "NumberOfNumaNodes": 1,
            "ReplicationState": 0,
            "ReplicationHealth": 0,
            "ReplicationMode": 0,
            "FailedOverReplicationType": 0,
            "LastReplicationType": 0,
            # Never replicated: WMI writes the FILETIME epoch, not NULL (MOF dumps of VMs on
            # Windows Server 2016/2019 hosts show 16010101000000.000000-000 for both, while
            # LastSuccessfulBackupTime stays NULL); the host's own instance leaves them NULL.
            "LastReplicationTime": NEVER,
            "LastApplicationConsistentReplicationTime": NEVER,
            "EnhancedSessionModeState": 3 if vm.generation == 1 or not vm.shutdown_ic else 2,
        },
    )


def _vssd(host: SimulatedHost, vm: VM | None) -> Iterator[Instance]:
    for machine in [vm] if vm is not None else list(host.all_vms()):
        realized = _vssd_of(host, machine)
        if not machine.snapshots or host.os.v1:
            yield realized
            continue
        # A checkpoint's settings are the VM's as of then; Parent points up the tree and the
        # realized settings' Parent at the current checkpoint.
        realized.values["Parent"] = _snapshot_path(host, machine.current_snapshot)
        yield realized
        for snap in machine.snapshots:
            values = {**realized.values, **snapshot_vssd_values(machine, snap)}
            values["Parent"] = _snapshot_path(host, snap.parent)
            yield Instance(realized.cls, values)


def _snapshot_path(host: SimulatedHost, guid: str | None) -> str | None:
    if guid is None:
        return None
    return setting_path(host, "Msvm_VirtualSystemSettingData", f"Microsoft:{guid}")


def _snapshot_ref(host: SimulatedHost, snap: Snapshot) -> Ref:
    return _ref(host, "Msvm_VirtualSystemSettingData", InstanceID=f"Microsoft:{snap.guid}")


def _snapshot_assocs(name: str) -> Callable[[SimulatedHost, VM | None], Iterator[Instance]]:
    def provider(host: SimulatedHost, vm: VM | None) -> Iterator[Instance]:
        for machine in [vm] if vm is not None else list(host.all_vms()):
            rows = snapshot_refs(
                host, machine, vssd_ref(host, machine), lambda s: _snapshot_ref(host, s)
            )
            for class_name, refs in rows:
                if class_name == name:
                    yield _assoc(host, name, **refs)

    return provider


KVP_IC_GUID = "2A34B1C2-FD73-4043-9A5B-F2E7F2D32EE0"


def _synthetic_nics(host: SimulatedHost, vm: VM) -> list[str]:
    """The InstanceIDs of the VM's synthetic NICs, in order."""
    return [
        r.instance_id
        for r in vm_resources(host, vm)
        if r.class_name == "Msvm_SyntheticEthernetPortSettingData"
    ]


def _kvp_components(host: SimulatedHost, vm: VM | None) -> Iterator[Instance]:
    for machine in [vm] if vm is not None else list(host.all_vms()):
        nics = len(_synthetic_nics(host, machine))
        contact = guest_reports(host, machine)
        yield _device(
            host,
            machine,
            "Msvm_KvpExchangeComponent",
            KVP_IC_GUID,
            Caption="Key-Value Pair Exchange",
            Description="Microsoft Key-Value Pair Exchange Component",
            ElementName="Key-Value Pair Exchange",
            Name="Key-Value Pair Exchange",
            OperationalStatus=[2] if contact else [12],
            GuestIntrinsicExchangeItems=kvp_items(host, machine, nics),
        )


def _guest_network(host: SimulatedHost, vm: VM | None) -> Iterator[Instance]:
    for machine in [vm] if vm is not None else list(host.all_vms()):
        for index, nic in enumerate(_synthetic_nics(host, machine)):
            # Microsoft:GuestNetwork\<VM GUID>\<adapter GUID>, the adapter's part being the
            # end of its Msvm_SyntheticEthernetPortSettingData InstanceID.
            adapter = nic.rsplit("\\", 1)[-1]
            values: dict[str, object] = {
                "InstanceID": f"Microsoft:GuestNetwork\\{machine.guid}\\{adapter}",
                **nic_addresses(host, machine, index),
            }
            yield _inst(host, "Msvm_GuestNetworkAdapterConfiguration", values)


def _migration_service(host: SimulatedHost, vm: VM | None) -> Iterator[Instance]:
    if vm is not None:
        return
    yield _inst(
        host,
        "Msvm_VirtualSystemMigrationService",
        {
            "Caption": "Virtual System Migration Service",
            "Description": "Service for migrating virtual systems",
            "ElementName": "Virtual System Migration Service",
            "Name": "vsmigrationservice",
            "CreationClassName": "Msvm_VirtualSystemMigrationService",
            "SystemCreationClassName": "Msvm_ComputerSystem",
            "SystemName": host.computer_name,
            "OperationalStatus": _OPERATIONAL_OK,
            "HealthState": 5,
            "EnabledState": 2,
            "RequestedState": 12,
            "EnabledDefault": 2,
            "Started": True,
            "ActiveVirtualSystemMigrationCount": 0,
            "ActiveStorageMigrationCount": 0,
        },
    )


def _setting_data_components(host: SimulatedHost, vm: VM | None) -> Iterator[Instance]:
    for machine in [vm] if vm is not None else list(host.all_vms()):
        for nic in _synthetic_nics(host, machine):
            adapter = nic.rsplit("\\", 1)[-1]
            yield _assoc(
                host,
                "Msvm_SettingDataComponent",
                GroupComponent=_ref(host, "Msvm_SyntheticEthernetPortSettingData", InstanceID=nic),
                PartComponent=_ref(
                    host,
                    "Msvm_GuestNetworkAdapterConfiguration",
                    InstanceID=f"Microsoft:GuestNetwork\\{machine.guid}\\{adapter}",
                ),
            )


def _image_service(host: SimulatedHost, vm: VM | None) -> Iterator[Instance]:
    if vm is not None:
        return
    # Msvm_ImageManagementService's MOF defaults (Microsoft's class page).
    yield _inst(
        host,
        "Msvm_ImageManagementService",
        {
            "Caption": "Hyper-V Image Management Service",
            "Description": "Provides Image Management servicing for Hyper-V",
            "ElementName": "Hyper-V Image Management Service",
            "Name": "vhdsvc",
            "CreationClassName": "Msvm_ImageManagementService",
            "SystemCreationClassName": "Msvm_ComputerSystem",
            "SystemName": host.computer_name,
            "OperationalStatus": _OPERATIONAL_OK,
            "StatusDescriptions": ["OK"],
            "HealthState": 5,
            "EnabledState": 2,
            "RequestedState": 12,
            "EnabledDefault": 2,
            "Started": True,
        },
    )


def _snapshot_service(host: SimulatedHost, vm: VM | None) -> Iterator[Instance]:
    if vm is not None:
        return
    # Msvm_VirtualSystemSnapshotService's MOF defaults (Microsoft's class page).
    yield _inst(
        host,
        "Msvm_VirtualSystemSnapshotService",
        {
            "Caption": "Hyper-V Virtual System Snapshot Service",
            "Description": "Service for creating, destroying, and applying virtual machine "
            "snapshots",
            "ElementName": "Msvm_VirtualSystemSnapshotService",
            "Name": "vssnapsvc",
            "CreationClassName": "Msvm_VirtualSystemSnapshotService",
            "SystemCreationClassName": "Msvm_ComputerSystem",
            "SystemName": host.computer_name,
            "OperationalStatus": _OPERATIONAL_OK,
            "StatusDescriptions": ["The service is running normally"],
            "HealthState": 5,
            "EnabledState": 2,
            "RequestedState": 12,
            "EnabledDefault": 2,
            "TransitioningToState": 12,
            "Started": True,
        },
    )


@functools.lru_cache(maxsize=65536)
def _vssd_serials(seed: int) -> tuple[str, str]:
    """A VM's BIOS serial number and chassis asset tag, drawn from its seed (then cached)."""
    rng = random.Random(seed ^ 0x5EED)
    serial = "-".join(f"{rng.randrange(10000):04d}" for _ in range(7))
    return serial, f"{rng.randrange(10**7):07d}"


def _vssd_of(host: SimulatedHost, vm: VM) -> Instance:
    g = vm.guid
    serial, asset_tag = _vssd_serials(vm.seed)
    root = "C:\\ProgramData\\Microsoft\\Windows\\Hyper-V"
    if host.os.v1:
        return _inst(
            host,
            "Msvm_VirtualSystemSettingData",
            {
                "Caption": "Virtual Machine",
                "Description": "Active settings for the virtual machine.",
                "SettingType": 3,
                "SystemName": g,
                "InstanceID": f"Microsoft:{g}",
                "ElementName": vm.name,
                "CreationTime": vm.created,
                "VirtualSystemType": 301,
                "Notes": vm.notes,
                "BIOSGUID": f"{{{_bios_guid(vm)}}}",  # its own GUID, not the VM's ID
                "BIOSSerialNumber": serial,
                "BaseBoardSerialNumber": serial,
                "ChassisSerialNumber": serial,
                "ChassisAssetTag": asset_tag,
                "BIOSNumLock": False,
                "BootOrder": [1, 2, 3, 0],
                "NumaNodesAreRequired": False,
            },
        )
    saved = vm.state == VMState.SAVED and vm.pending is None
    gen2 = vm.generation == 2
    return _inst(
        host,
        "Msvm_VirtualSystemSettingData",
        {
            "InstanceID": f"Microsoft:{g}",
            "Caption": "Virtual Machine Settings",
            "Description": "Active settings for the virtual machine.",
            "ElementName": vm.name,
            "VirtualSystemType": "Microsoft:Hyper-V:System:Realized",
            "VirtualSystemIdentifier": g,
            "VirtualSystemSubType": f"Microsoft:Hyper-V:SubType:{vm.generation}",
            "Version": vm.version,
            "Notes": [vm.notes],
            "CreationTime": vm.created,
            "ConfigurationID": g,
            "ConfigurationDataRoot": root,
            "ConfigurationFile": f"{root}\\Virtual Machines\\{g}.vmcx",
            "SnapshotDataRoot": root,
            "SuspendDataRoot": root,
            "SwapFileDataRoot": root,
            "LogDataRoot": root,
            "AutomaticStartupAction": vm.autostart,
            "AutomaticStartupActionDelay": timedelta(0),
            "AutomaticStartupActionSequenceNumber": 0,
            "AutomaticShutdownAction": 4,
            "AutomaticRecoveryAction": 3,
            "BIOSGUID": f"{{{_bios_guid(vm)}}}",
            "BIOSSerialNumber": serial,
            "BaseBoardSerialNumber": serial,
            "ChassisSerialNumber": serial,
            "ChassisAssetTag": asset_tag,
            "BIOSNumLock": False,
            "BootOrder": None if gen2 else [1, 2, 3, 0],
            "BootSourceOrder": None,
            "UserSnapshotType": vm.snapshot_type,
            "IsSaved": saved,
            "AllowFullSCSICommandSet": False,
            "DebugChannelId": 0,
            "DebugPortEnabled": 0,
            "DebugPort": 0,
            "IncrementalBackupEnabled": False,
            "VirtualNumaEnabled": True,
            "AllowReducedFcRedundancy": False,
            "PauseAfterBootFailure": False,
            "NetworkBootPreferredProtocol": 4096,
            "SecureBootEnabled": gen2,
            "SecureBootTemplateId": SECURE_BOOT_TEMPLATE if gen2 else None,
            "LowMmioGapSize": 128,
            "HighMmioGapSize": 512,
            "EnhancedSessionTransportType": 0,
            "AutomaticSnapshotsEnabled": False,
            "IsAutomaticSnapshot": False,
            "GuestControlledCacheTypes": False,
            "GuestStateDataRoot": root,
            "GuestStateIsolationEnabled": False,
            "TurnOffOnGuestRestart": False,
        },
    )


def _bios_guid(vm: VM) -> str:
    return _bios_guid_of(vm.seed)


@functools.lru_cache(maxsize=65536)
def _bios_guid_of(seed: int) -> str:
    return rng_guid(random.Random(seed ^ 0xB105))


def _resource_provider(class_name: str) -> Callable[[SimulatedHost, VM | None], Iterator[Instance]]:
    def provider(host: SimulatedHost, vm: VM | None) -> Iterator[Instance]:
        cls = _cls(host.namespace, class_name)
        if vm is None:
            yield from _definition_rows(host, class_name)
        for machine in [vm] if vm is not None else list(host.all_vms()):
            yield from _vm_instances(host, machine, cls)

    return provider


def _definition_rows(host: SimulatedHost, class_name: str) -> Iterator[Instance]:
    # The host's allocation capabilities: Default/Minimum/Maximum/Increment rows
    # (libvirt reads 'Microsoft:Definition%Maximum' for the vCPU limit).
    if class_name == "Msvm_ProcessorSettingData":
        guid, element, subtype = PROCESSOR_CLASS_GUID, "Processor", "Processor"
        values = {"Default": 1, "Minimum": 1, "Maximum": host.os.max_vcpus, "Increment": 1}
        rtype, units = 3, "count"
    elif class_name == "Msvm_MemorySettingData":
        guid, element, subtype = MEMORY_CLASS_GUID, "Memory", "Memory"
        top = 65536 if host.os.v1 else (1048576 if host.os.year < 2016 else 12582912)
        values = {"Default": 1024, "Minimum": 32, "Maximum": top, "Increment": 2}
        rtype, units = 4, "byte * 2^20"
    else:
        return
    cls = _cls(host.namespace, class_name)
    prefix = "Microsoft " if host.os.v1 else "Microsoft:Hyper-V:"
    for kind, quantity in values.items():
        yield Instance(
            cls,
            _rasd(
                f"Microsoft:Definition\\{guid}\\{kind}",
                f"{element} {kind}",
                rtype,
                f"{prefix}{subtype}",
                VirtualQuantity=quantity,
                VirtualQuantityUnits=units,
                Description=f"{kind} settings for {element}.",
            ),
        )


def _device(host: SimulatedHost, vm: VM, class_name: str, suffix: str, **extra: object) -> Instance:
    running = host.enabled_state(vm) == VMState.RUNNING
    values: dict[str, object] = {
        "InstanceID": f"Microsoft:{vm.guid}\\{suffix}",
        "SystemCreationClassName": "Msvm_ComputerSystem",
        "SystemName": vm.guid,
        "CreationClassName": class_name,
        "DeviceID": f"Microsoft:{vm.guid}\\{suffix}",
        "EnabledState": 2 if running else 3,
        "EnabledDefault": 2,
        "RequestedState": 12,
        "HealthState": 5,
        "OperationalStatus": _OPERATIONAL_OK if running else None,
        "Availability": 3 if running else 8,
    }
    values.update(extra)
    return _inst(host, class_name, values)


def _shutdown_components(host: SimulatedHost, vm: VM | None) -> Iterator[Instance]:
    for machine in [vm] if vm is not None else list(host.all_vms()):
        contact = machine.shutdown_ic and host.enabled_state(machine) == VMState.RUNNING
        yield _device(
            host,
            machine,
            "Msvm_ShutdownComponent",
            SHUTDOWN_IC_GUID,
            Caption="Shutdown",
            Description="Microsoft Shutdown Component",
            ElementName="Shutdown",
            Name="Shutdown",
            OperationalStatus=[2] if contact else [12],
            StatusDescriptions=["OK"] if contact else ["No Contact"],
        )


def _heartbeat_components(host: SimulatedHost, vm: VM | None) -> Iterator[Instance]:
    for machine in [vm] if vm is not None else list(host.all_vms()):
        contact = bool(machine.guest_os) and host.enabled_state(machine) == VMState.RUNNING
        yield _device(
            host,
            machine,
            "Msvm_HeartbeatComponent",
            HEARTBEAT_IC_GUID,
            Caption="Heartbeat",
            Description="Microsoft Heartbeat Service",
            ElementName="Heartbeat",
            Name="Heartbeat",
            OperationalStatus=[2, 2] if contact else [12],
        )


def _keyboards(host: SimulatedHost, vm: VM | None) -> Iterator[Instance]:
    for machine in [vm] if vm is not None else list(host.all_vms()):
        yield _device(
            host,
            machine,
            "Msvm_Keyboard",
            "Keyboard",
            Caption="Keyboard",
            Description="Microsoft Virtual Keyboard",
            ElementName="Keyboard",
            Name="Keyboard",
            IsLocked=False,
            Layout="00000409",
            NumberOfFunctionKeys=12,
            UnicodeSupported=False,
        )


# Device suffixes of the display devices in their DeviceIDs (``Microsoft:<VM>\\<suffix>``).
_SYNTHETIC_DISPLAY = "5353-SyntheticDisplay"
_S3_DISPLAY = "5353-S3Display"
_VIDEO_HEAD = "Head\\0"


def _display_of(host: SimulatedHost, vm: VM) -> Instance:
    """The VM's display controller: the emulated S3 one for generation 1 (the BIOS boots on
    it), the synthetic one for generation 2; values as Microsoft's class pages give them."""
    s3 = vm.generation == 1
    running = host.enabled_state(vm) == VMState.RUNNING
    return _device(
        host,
        vm,
        "Msvm_S3DisplayController" if s3 else "Msvm_SyntheticDisplayController",
        _S3_DISPLAY if s3 else _SYNTHETIC_DISPLAY,
        Caption="Display Controller",
        Description=(
            "Microsoft Emulated Display Controller"
            if s3
            else "Microsoft Synthetic Display Controller"
        ),
        ElementName="Display Controller",
        Name="Display Controller",
        OperationalStatus=_OPERATIONAL_OK,
        StatusDescriptions=["OK"],
        Availability=6,
        AdditionalAvailability=[6],
        TimeOfLastReset=vm.changed if running else None,
        ProtocolSupported=1,
        MaxNumberControlled=1,
        ProtocolDescription="Video",
        VideoProcessor="Virtual S3 Video Processor" if s3 else "Synthetic Video Processor",
        VideoMemoryType=2,
        NumberOfVideoPages=32768 if s3 else 1024,
        MaxMemorySupported=134217728 if s3 else 4194304,
        AcceleratorCapabilities=[2],
        CapabilityDescriptions=["Graphics Accelerator"],
        VideoArchitecture=2,
    )


def _displays(*, s3: bool) -> Callable[[SimulatedHost, VM | None], Iterator[Instance]]:
    def provider(host: SimulatedHost, vm: VM | None) -> Iterator[Instance]:
        for machine in [vm] if vm is not None else list(host.all_vms()):
            if (machine.generation == 1) == s3:
                yield _display_of(host, machine)

    return provider


def _video_head_of(host: SimulatedHost, vm: VM) -> Instance:
    running = host.enabled_state(vm) == VMState.RUNNING
    width, height = (1024, 768) if running else (640, 480)
    return _device(
        host,
        vm,
        "Msvm_VideoHead",
        _VIDEO_HEAD,
        Caption="Video Head",
        Description="Microsoft Virtual Video Head",
        ElementName="Video Head",
        Name="Video Head",
        EnabledState=2,
        OperationalStatus=_OPERATIONAL_OK,
        StatusDescriptions=["OK"],
        Availability=6,
        AdditionalAvailability=[6],
        LocationIndicator=4,
        CurrentBitsPerPixel=32,
        CurrentHorizontalResolution=width,
        CurrentVerticalResolution=height,
        MaxRefreshRate=60,
        MinRefreshRate=60,
        CurrentRefreshRate=60,
        CurrentScanMode=3,
        CurrentNumberOfColors=2**32,
        CurrentNumberOfRows=0,
        CurrentNumberOfColumns=0,
    )


def _video_heads(host: SimulatedHost, vm: VM | None) -> Iterator[Instance]:
    for machine in [vm] if vm is not None else list(host.all_vms()):
        yield _video_head_of(host, machine)


def _disk_drives_of(host: SimulatedHost, vm: VM) -> list[Instance]:
    """One Msvm_DiskDrive per drive that has a virtual hard disk attached: the drive's setting
    (the image's ``Parent``) names it, and its DeviceID is that setting's InstanceID."""
    resources = vm_resources(host, vm)
    by_id = {res.instance_id.casefold(): res for res in resources}
    drives: list[Instance] = []
    for res in resources:
        subtype = res.values.get("ResourceSubType")
        parent = res.values.get("Parent")
        if not (isinstance(subtype, str) and subtype.endswith("Virtual Hard Disk")):
            continue
        if not isinstance(parent, str):
            continue
        try:
            parent_id = parse_object_path(parent, host.namespace).key_map().get("instanceid", "")
        except ValueError:
            continue
        drive = by_id.get(parent_id.casefold())
        if drive is None:
            continue
        name = drive.values.get("ElementName") or "Hard Drive"
        drives.append(
            _device(
                host,
                vm,
                "Msvm_DiskDrive",
                drive.instance_id.split("\\", 1)[-1],
                DeviceID=drive.instance_id,
                Caption=name,
                Description="Microsoft Virtual Disk Drive",
                ElementName=name,
                Name=name,
                AdditionalAvailability=[6],
                Capabilities=[3, 4],
                CapabilityDescriptions=["Random Access", "Supports Writing"],
                ErrorMethodology="None",
                CompressionMethod="Not Compressed",
                NumberOfMediaSupported=1,
                MaxMediaSize=2000000000,
                DefaultBlockSize=512,
                MinBlockSize=512,
                NeedsCleaning=False,
                MediaIsLocked=True,
                Security=3,
                MaxAccessTime=0,
                LoadTime=0,
                UnloadTime=0,
                MountCount=0,
                TotalMountTime=0,
                MaxUnitsBeforeCleaning=0xFFFFFFFFFFFFFFFF,
                UnitsUsed=0,
            )
        )
    return drives


def _disk_drives(host: SimulatedHost, vm: VM | None) -> Iterator[Instance]:
    for machine in [vm] if vm is not None else list(host.all_vms()):
        yield from _disk_drives_of(host, machine)


#: Hyper-V's v1 AutomaticStartupAction (0 none, 1 restart if it was running, 2 always) for the
#: v2 value a VM keeps (2 none, 3 restart if it was running, 4 always).
V1_STARTUP_ACTION = {2: 0, 3: 1, 4: 2}


def _global_settings(host: SimulatedHost, vm: VM | None) -> Iterator[Instance]:
    """2008 R2's Msvm_VirtualSystemGlobalSettingData: the settings a snapshot does not change."""
    root = "D:\\Hyper-V"
    for machine in [vm] if vm is not None else list(host.all_vms()):
        yield _inst(
            host,
            "Msvm_VirtualSystemGlobalSettingData",
            {
                "Caption": "Global Virtual Machine Settings",
                "Description": "Global settings for the virtual machine",
                "ElementName": machine.name,
                "InstanceID": f"Microsoft:{machine.guid}\\Global",
                "SystemName": machine.guid,
                "SettingType": 32768,
                "VirtualSystemType": 301,
                "CreationTime": machine.created,
                "ExternalDataRoot": root,
                "SnapshotDataRoot": root,
                "AutomaticStartupAction": V1_STARTUP_ACTION.get(machine.autostart, 1),
                "AutomaticStartupActionDelay": timedelta(0),
                "AutomaticShutdownAction": 1,
                "AutomaticRecoveryAction": 1,
                "ScopeOfResidence": "",
                "DebugChannelId": 0,
                "DebugPort": 0,
                "DebugPortEnabled": 0,
                "AllowFullSCSICommandSet": False,
                "Version": machine.version or None,
            },
        )


def _vsms(host: SimulatedHost, vm: VM | None) -> Iterator[Instance]:
    if vm is not None:
        return
    yield _inst(
        host,
        "Msvm_VirtualSystemManagementService",
        {
            "InstanceID": "Microsoft:VirtualSystemManagementService",
            "Caption": "Hyper-V Virtual System Management Service",
            "Description": "Service for managing virtual systems.",
            "ElementName": "Msvm_VirtualSystemManagementService",
            "Name": "vmms",
            "CreationClassName": "Msvm_VirtualSystemManagementService",
            "SystemCreationClassName": "Msvm_ComputerSystem",
            "SystemName": host.computer_name,
            "InstallDate": host.installed,
            "OperationalStatus": _OPERATIONAL_OK,
            "StatusDescriptions": ["The Virtual Machine Management Service is running normally."],
            "HealthState": 5,
            "EnabledState": 2,
            "RequestedState": 12,
            "EnabledDefault": 2,
            "StartMode": "Automatic",
            "Started": True,
            "Status": "OK",
        },
    )


def _switches(host: SimulatedHost, vm: VM | None) -> Iterator[Instance]:
    if vm is not None:
        return
    name = "Msvm_VirtualSwitch" if host.os.v1 else "Msvm_VirtualEthernetSwitch"
    for guid, element in host.switches:
        yield _inst(
            host,
            name,
            {
                "Caption": "Virtual Switch",
                "Description": "Microsoft Virtual Switch",
                "ElementName": element,
                "Name": guid,
                "CreationClassName": name,
                "OperationalStatus": _OPERATIONAL_OK,
                "HealthState": 5,
                "EnabledState": 2,
                "RequestedState": 12,
                "EnabledDefault": 2,
                "MaxVMQOffloads": 4096,
                "MaxChimneyOffloads": 0,  # v1 only (the schema drops what a class lacks)
                "MaxIOVOffloads": 0,  # v2 only: no SR-IOV capable adapter
                "ScopeOfResidence": "",
                "NumLearnableAddresses": 4096,
            },
        )


def _switch_service(host: SimulatedHost, vm: VM | None) -> Iterator[Instance]:
    if vm is not None:
        return
    yield _inst(
        host,
        "Msvm_VirtualEthernetSwitchManagementService",
        {
            "InstanceID": "Microsoft:VirtualEthernetSwitchManagementService",
            "Caption": "Hyper-V Virtual Switch Management Service",
            "Description": "Service for managing virtual Ethernet switches.",
            "ElementName": "Hyper-V Virtual Switch Management Service",
            "Name": "nvspwmi",
            "CreationClassName": "Msvm_VirtualEthernetSwitchManagementService",
            "SystemCreationClassName": "Msvm_ComputerSystem",
            "SystemName": host.computer_name,
            "InstallDate": host.installed,
            "OperationalStatus": _OPERATIONAL_OK,
            "HealthState": 5,
            "EnabledState": 2,
            "RequestedState": 12,
            "EnabledDefault": 2,
            "StartMode": "Automatic",
            "Started": True,
            "Status": "OK",
        },
    )


_JOB_STATUS = {
    2: "Job is new",
    4: "Job is running",
    7: "Job completed successfully",
    10: "Job failed",
}


def job_instance(host: SimulatedHost, job: Job) -> Instance:
    """The ``Msvm_ConcreteJob`` instance of ``job`` as of now."""
    now = host.now()
    state, percent = job.state_at(now)
    finished = state in (7, 10)
    elapsed = (min(now, job.end) if finished else now) - job.start
    return _inst(
        host,
        "Msvm_ConcreteJob",
        {
            "InstanceID": job.instance_id,
            "Caption": job.caption,
            "Description": job.description,
            "ElementName": job.caption,
            "Name": job.caption,
            "InstallDate": None,
            "OperationalStatus": [6] if state == 10 else [2],
            "StatusDescriptions": ["Error"] if state == 10 else ["OK"],
            "Status": "Error" if state == 10 else "OK",
            "HealthState": 20 if state == 10 else 5,
            "JobStatus": _JOB_STATUS[state],
            "TimeSubmitted": job.submitted,
            "StartTime": job.submitted,
            "ElapsedTime": timedelta(seconds=max(0.0, elapsed)),
            "JobRunTimes": 1,
            "LocalOrUtcTime": 2,
            "Owner": f"{host.computer_name}\\{host.spec.username}",
            "Priority": 0,
            "PercentComplete": percent,
            "DeleteOnCompletion": False,
            "ErrorCode": job.error_code if state == 10 else 0,
            "ErrorDescription": job.error_description if state == 10 else None,
            "ErrorSummaryDescription": job.error_description if state == 10 else None,
            "JobState": state,
            "TimeOfLastStateChange": host.wall(job.end) if finished else job.submitted,
            "TimeBeforeRemoval": timedelta(minutes=5),
            "Cancellable": not finished,
            "JobType": job.job_type,
        },
    )


def _jobs(host: SimulatedHost, vm: VM | None) -> Iterator[Instance]:
    for job in list(host.jobs.values()):
        if vm is None or job.vm_guid == vm.guid:
            yield job_instance(host, job)


# --- associations ---------------------------------------------------------------------------------
def _assoc(host: SimulatedHost, name: str, **refs: object) -> Instance:
    return _inst(host, name, dict(refs))


def _settings_define_state(host: SimulatedHost, vm: VM | None) -> Iterator[Instance]:
    for machine in [vm] if vm is not None else list(host.all_vms()):
        yield _assoc(
            host,
            "Msvm_SettingsDefineState",
            ManagedElement=cs_ref(host, machine.guid),
            SettingData=vssd_ref(host, machine),
        )


def _element_setting_data(host: SimulatedHost, vm: VM | None) -> Iterator[Instance]:
    for machine in [vm] if vm is not None else list(host.all_vms()):
        yield _assoc(
            host,
            "Msvm_ElementSettingData",
            ManagedElement=cs_ref(host, machine.guid),
            SettingData=vssd_ref(host, machine),
            IsDefault=2,
            IsCurrent=1,
            IsNext=1,
            IsMinimum=0,
            IsMaximum=0,
            IsPending=0,
        )


def _vssd_components(host: SimulatedHost, vm: VM | None) -> Iterator[Instance]:
    for machine in [vm] if vm is not None else list(host.all_vms()):
        group = vssd_ref(host, machine)
        for res in vm_resources(host, machine):
            part = _ref(host, res.class_name, InstanceID=res.instance_id)
            yield _assoc(
                host,
                "Msvm_VirtualSystemSettingDataComponent",
                GroupComponent=group,
                PartComponent=part,
            )


def _vm_devices(host: SimulatedHost, vm: VM) -> Iterator[Instance]:
    """The VM's logical devices (what Msvm_SystemDevice ties to it)."""
    yield from _shutdown_components(host, vm)
    yield from _heartbeat_components(host, vm)
    yield from _keyboards(host, vm)
    if not host.os.v1:
        yield from _kvp_components(host, vm)
        yield _display_of(host, vm)
    yield _video_head_of(host, vm)
    yield from _disk_drives_of(host, vm)


def _system_devices(host: SimulatedHost, vm: VM | None) -> Iterator[Instance]:
    for machine in [vm] if vm is not None else list(host.all_vms()):
        group = cs_ref(host, machine.guid)
        for device in _vm_devices(host, machine):
            yield _assoc(
                host, "Msvm_SystemDevice", GroupComponent=group, PartComponent=device.ref()
            )


def _hosted_dependencies(host: SimulatedHost, vm: VM | None) -> Iterator[Instance]:
    antecedent = cs_ref(host, host.computer_name)
    for machine in [vm] if vm is not None else list(host.all_vms()):
        yield _assoc(
            host,
            "Msvm_HostedDependency",
            Antecedent=antecedent,
            Dependent=cs_ref(host, machine.guid),
        )


def _hosted_services(host: SimulatedHost, vm: VM | None) -> Iterator[Instance]:
    if vm is None:
        yield _assoc(
            host,
            "Msvm_HostedService",
            Antecedent=cs_ref(host, host.computer_name),
            Dependent=vsms_ref(host),
        )


def _affected_job_elements(host: SimulatedHost, vm: VM | None) -> Iterator[Instance]:
    for job in list(host.jobs.values()):
        if job.vm_guid is None or (vm is not None and job.vm_guid != vm.guid):
            continue
        yield _assoc(
            host,
            "Msvm_AffectedJobElement",
            AffectedElement=cs_ref(host, job.vm_guid),
            AffectingElement=job_ref(host, job),
            ElementEffects=[5],
        )


# --- summaries ------------------------------------------------------------------------------------
_SUMMARY_FIELDS = {
    0: "Name",
    1: "ElementName",
    2: "CreationTime",
    3: "Notes",
    4: "NumberOfProcessors",
    8: "AllocatedGPU",
    9: "VirtualSwitchNames",
    10: "Version",
    11: "Shielded",
    100: "EnabledState",
    101: "ProcessorLoad",
    102: "ProcessorLoadHistory",
    103: "MemoryUsage",
    104: "Heartbeat",
    105: "UpTime",
    106: "GuestOperatingSystem",
    107: "Snapshots",
    108: "AsynchronousTasks",
    109: "HealthState",
    110: "OperationalStatus",
    111: "StatusDescriptions",
    112: "MemoryAvailable",
    113: "AvailableMemoryBuffer",
    114: "ReplicationState",
    115: "ReplicationHealth",
    116: "ReplicationMode",
    121: "SwapFilesInUse",
    122: "IntegrationServicesVersionState",
    124: "MemorySpansPhysicalNumaNodes",
}
_THUMBNAIL_SIZES = {5: (80, 60), 6: (160, 120), 7: (320, 240)}


def _resource_value(host: SimulatedHost, vm: VM, class_name: str, prop: str) -> int:
    for res in vm_resources(host, vm):
        if res.class_name == class_name:
            value = res.values.get(prop)
            if isinstance(value, int):
                return value
    return 0


def summary_instance(host: SimulatedHost, vm: VM, codes: Iterable[int]) -> Instance:
    """A ``Msvm_SummaryInformation`` for ``vm`` holding the fields GetSummaryInformation's
    ``RequestedInformation`` codes ask for (0 Name, 1 ElementName, 4 NumberOfProcessors,
    100 EnabledState, 103 MemoryUsage, 105 UpTime, 106 GuestOperatingSystem, ...)."""
    cls = SCHEMAS[host.namespace].get("Msvm_SummaryInformation")
    assert cls is not None
    codes = list(codes)
    # Only what was asked for is computed: a fleet inventory asks every host for every VM's
    # MemoryUsage, and the history and job scans below are not free.
    wanted = {_SUMMARY_FIELDS[code] for code in codes if code in _SUMMARY_FIELDS}
    state = host.enabled_state(vm)
    running = state == VMState.RUNNING
    on = vm.is_on
    memory = (
        _resource_value(host, vm, "Msvm_MemorySettingData", "VirtualQuantity")
        if "MemoryUsage" in wanted and on
        else 0
    )
    load = (vm.seed + int(host.now() // 5)) % 37 + 1 if running else 0
    every: dict[str, object] = {
        "Name": vm.guid,
        "ElementName": vm.name,
        "CreationTime": vm.created,
        "Notes": vm.notes,
        "NumberOfProcessors": _resource_value(
            host, vm, "Msvm_ProcessorSettingData", "VirtualQuantity"
        )
        if "NumberOfProcessors" in wanted
        else None,
        "Version": vm.version or None,
        "Shielded": False,
        "EnabledState": state,
        "ProcessorLoad": load,
        "ProcessorLoadHistory": [max(0, load - i % 5) for i in range(100)]
        if running and "ProcessorLoadHistory" in wanted
        else None,
        "MemoryUsage": (memory * 6 // 10 if vm.dynamic_memory else memory) if on else 0,
        "Heartbeat": (2 if vm.guest_os else 12) if running else None,
        "UpTime": host.on_time_ms(vm),
        "GuestOperatingSystem": vm.guest_os or None if running else None,
        # 107: the VM's checkpoints as embedded Msvm_VirtualSystemSettingData instances.
        "Snapshots": [
            inst
            for inst in _vssd(host, vm)
            if inst.values.get("VirtualSystemType") == SNAPSHOT_TYPE
        ]
        or None
        if "Snapshots" in wanted and not host.os.v1
        else None,
        "AsynchronousTasks": [
            job_instance(host, j)
            for j in host.jobs.values()
            if j.vm_guid == vm.guid and j.end > host.now()
        ]
        or None
        if "AsynchronousTasks" in wanted
        else None,
        "HealthState": 5,
        "OperationalStatus": [2],
        "StatusDescriptions": ["Operating normally"],
        "MemoryAvailable": 40 if on and vm.dynamic_memory else None,
        "AvailableMemoryBuffer": 20 if on and vm.dynamic_memory else None,
        # No Hyper-V Replica on simulated hosts: 0 Disabled / Not applicable / None.
        "ReplicationState": 0,
        "ReplicationHealth": 0,
        "ReplicationMode": 0,
        "SwapFilesInUse": False,
        "IntegrationServicesVersionState": 1 if vm.guest_os else 0,
        "MemorySpansPhysicalNumaNodes": False,
    }
    values: dict[str, object] = {"InstanceID": f"Microsoft:{vm.guid}"} if not host.os.v1 else {}
    for code in codes:
        if code in _THUMBNAIL_SIZES:
            width, height = _THUMBNAIL_SIZES[code]
            values["ThumbnailImage"] = vm_image(host, vm, width, height) if on else None
            values["ThumbnailImageWidth"], values["ThumbnailImageHeight"] = width, height
        elif code in _SUMMARY_FIELDS:
            name = _SUMMARY_FIELDS[code]
            if cls.prop(name) is not None:  # 2008 R2's class predates Replica (114-116)
                values[name] = every.get(name)
    return Instance(cls, values)


def vm_image(host: SimulatedHost, vm: VM, width: int, height: int) -> bytes:
    """The VM's console as RGB565: its name, the text typed into it, greyed out when paused."""
    typed = "".join(t for t in vm.typed if not t.startswith("<"))
    return render_thumbnail(
        width,
        height,
        title=vm.name,
        subtitle=typed,
        hue=vm.seed % 256,
        paused=host.enabled_state(vm) in (VMState.PAUSED, VMState.V1_PAUSED),
    )


def _summaries(host: SimulatedHost, vm: VM | None) -> Iterator[Instance]:
    for machine in [vm] if vm is not None else list(host.all_vms()):
        yield summary_instance(host, machine, _SUMMARY_FIELDS)


# --- providers: root/cimv2 ------------------------------------------------------------------------
def _os(host: SimulatedHost, vm: VM | None) -> Iterator[Instance]:
    if vm is not None:
        return
    os_ = host.os
    total_kb = host.memory_bytes // 1024
    used_kb = sum(v.memory_mb * 1024 for v in host.all_vms() if v.is_on) + 4 * 1024 * 1024
    free_kb = max(512 * 1024, total_kb - used_kb)
    caption = os_.caption
    yield Instance(
        _cls(NAMESPACE_CIMV2, "Win32_OperatingSystem"),
        {
            "BootDevice": "\\Device\\HarddiskVolume1",
            "BuildNumber": os_.build,
            "BuildType": "Multiprocessor Free",
            "Caption": caption,
            "CodeSet": "1252",
            "CountryCode": "1",
            "CreationClassName": "Win32_OperatingSystem",
            "CSCreationClassName": "Win32_ComputerSystem",
            "CSDVersion": os_.csd_version,
            "CSName": host.computer_name,
            "CurrentTimeZone": 0,
            "DataExecutionPrevention_32BitApplications": True,
            "DataExecutionPrevention_Available": True,
            "DataExecutionPrevention_Drivers": True,
            "DataExecutionPrevention_SupportPolicy": 3,
            "Debug": False,
            "Description": "",
            "Distributed": False,
            "EncryptionLevel": 256,
            "ForegroundApplicationBoost": 2,
            "FreePhysicalMemory": free_kb,
            "FreeSpaceInPagingFiles": 8 * 1024 * 1024,
            "FreeVirtualMemory": free_kb + 8 * 1024 * 1024,
            "InstallDate": host.installed,
            "LastBootUpTime": host.last_boot,
            "LocalDateTime": host.wall(),
            "Locale": "0409",
            "Manufacturer": "Microsoft Corporation",
            "MaxNumberOfProcesses": 4294967295,
            "MaxProcessMemorySize": 137438953344,
            "MUILanguages": ["en-US"],
            "Name": f"{caption.strip()}|C:\\Windows|\\Device\\Harddisk0\\Partition2",
            "NumberOfProcesses": 90 + sum(1 for v in host.vms.values() if v.process_id),
            "NumberOfUsers": 2,
            "OperatingSystemSKU": 8,
            "Organization": "",
            "OSArchitecture": "64-bit",
            "OSLanguage": 1033,
            "OSProductSuite": 400,
            "OSType": 18,
            "PortableOperatingSystem": False,
            "Primary": True,
            "ProductType": 3,
            "RegisteredUser": "Windows User",
            "SerialNumber": "00430-00000-00000-AA" + host.serial_number[:3],
            "ServicePackMajorVersion": os_.service_pack,
            "ServicePackMinorVersion": 0,
            "SizeStoredInPagingFiles": 8 * 1024 * 1024,
            "Status": "OK",
            "SuiteMask": 400,
            "SystemDevice": "\\Device\\HarddiskVolume2",
            "SystemDirectory": "C:\\Windows\\system32",
            "SystemDrive": "C:",
            "TotalVirtualMemorySize": total_kb + 8 * 1024 * 1024,
            "TotalVisibleMemorySize": total_kb,
            "Version": os_.version,
            "WindowsDirectory": "C:\\Windows",
        },
    )


_VENDORS = (
    ("Dell Inc.", "PowerEdge R740"),
    ("HPE", "ProLiant DL380 Gen10"),
    ("Lenovo", "ThinkSystem SR650"),
)


def _vendor(host: SimulatedHost) -> tuple[str, str]:
    return _VENDORS[int(host.system_uuid[:2], 16) % len(_VENDORS)]


def _win32_cs(host: SimulatedHost, vm: VM | None) -> Iterator[Instance]:
    if vm is not None:
        return
    maker, model = _vendor(host)
    yield Instance(
        _cls(NAMESPACE_CIMV2, "Win32_ComputerSystem"),
        {
            "AdminPasswordStatus": 3,
            "AutomaticManagedPagefile": True,
            "AutomaticResetBootOption": True,
            "AutomaticResetCapability": True,
            "BootROMSupported": True,
            "BootupState": "Normal boot",
            "Caption": host.computer_name,
            "ChassisBootupState": 3,
            "CreationClassName": "Win32_ComputerSystem",
            "CurrentTimeZone": 0,
            "Description": "AT/AT COMPATIBLE",
            "DNSHostName": host.dns_name,
            "Domain": host.domain,
            "DomainRole": 3,
            "EnableDaylightSavingsTime": True,
            "HypervisorPresent": True,
            "Manufacturer": maker,
            "Model": model,
            "Name": host.computer_name,
            "NetworkServerModeEnabled": True,
            "NumberOfLogicalProcessors": host.sockets * host.cores_per_socket * 2,
            "NumberOfProcessors": host.sockets,
            "PartOfDomain": True,
            "PauseAfterReset": -1,
            "PCSystemType": 4,
            "PCSystemTypeEx": 4,
            "PowerState": 0,
            "PowerSupplyState": 3,
            "PrimaryOwnerName": "Windows User",
            "ResetCapability": 1,
            "ResetCount": -1,
            "ResetLimit": -1,
            "Roles": ["LM_Workstation", "LM_Server", "NT", "Server_NT"],
            "Status": "OK",
            "SystemFamily": model.split()[0],
            "SystemType": "x64-based PC",
            "ThermalState": 3,
            "TotalPhysicalMemory": host.memory_bytes,
            "WakeUpType": 6,
        },
    )


def _win32_product(host: SimulatedHost, vm: VM | None) -> Iterator[Instance]:
    if vm is not None:
        return
    maker, model = _vendor(host)
    yield Instance(
        _cls(NAMESPACE_CIMV2, "Win32_ComputerSystemProduct"),
        {
            "Caption": "Computer System Product",
            "Description": "Computer System Product",
            "IdentifyingNumber": host.serial_number,
            "Name": model,
            "UUID": host.system_uuid,
            "Vendor": maker,
            "Version": "Not Specified",
        },
    )


def _processor_ref(host: SimulatedHost, index: int) -> Ref:
    return Ref.make(NAMESPACE_CIMV2, "Win32_Processor", {"DeviceID": f"CPU{index}"})


def _win32_processors(host: SimulatedHost, vm: VM | None) -> Iterator[Instance]:
    if vm is not None:
        return
    amd = host.cpu_name.startswith("AMD")
    family = "AMD64 Family 25 Model 1 Stepping 1" if amd else "Intel64 Family 6 Model 85 Stepping 7"
    cls = _cls(NAMESPACE_CIMV2, "Win32_Processor")
    for index in range(host.sockets):
        yield Instance(
            cls,
            {
                "AddressWidth": 64,
                "Architecture": 9,
                "Availability": 3,
                "Caption": family,
                "CpuStatus": 1,
                "CreationClassName": "Win32_Processor",
                "CurrentClockSpeed": host.cpu_mhz,
                "DataWidth": 64,
                "Description": family,
                "DeviceID": f"CPU{index}",
                "Family": 107 if amd else 179,
                "L2CacheSize": host.cores_per_socket * 1024,
                "L3CacheSize": host.cores_per_socket * 1408,
                "Level": 25 if amd else 6,
                "LoadPercentage": 3 + (index * 7 + len(host.vms)) % 40,
                "Manufacturer": "AuthenticAMD" if amd else "GenuineIntel",
                "MaxClockSpeed": host.cpu_mhz,
                "Name": host.cpu_name,
                "NumberOfCores": host.cores_per_socket,
                "NumberOfEnabledCore": host.cores_per_socket,
                "NumberOfLogicalProcessors": host.cores_per_socket * 2,
                "PowerManagementSupported": False,
                "ProcessorId": "178BFBFF00A00F11" if amd else "BFEBFBFF00050657",
                "ProcessorType": 3,
                "Role": "CPU",
                "SecondLevelAddressTranslationExtensions": False,
                "SocketDesignation": f"CPU{index + 1}",
                "Status": "OK",
                "StatusInfo": 3,
                "SystemCreationClassName": "Win32_ComputerSystem",
                "SystemName": host.computer_name,
                "ThreadCount": host.cores_per_socket * 2,
                "UpgradeMethod": 1,
                "VirtualizationFirmwareEnabled": False,
                "VMMonitorModeExtensions": False,
            },
        )


def _win32_cs_processor(host: SimulatedHost, vm: VM | None) -> Iterator[Instance]:
    if vm is not None:
        return
    group = Ref.make(NAMESPACE_CIMV2, "Win32_ComputerSystem", {"Name": host.computer_name})
    cls = _cls(NAMESPACE_CIMV2, "Win32_ComputerSystemProcessor")
    for index in range(host.sockets):
        yield Instance(cls, {"GroupComponent": group, "PartComponent": _processor_ref(host, index)})


def _data_files(host: SimulatedHost, vm: VM | None) -> Iterator[Instance]:
    """The host's ``vmms.exe``, which virt-who reads the Hyper-V version from
    (``SELECT * FROM CIM_Datafile WHERE Path = '\\\\windows\\\\system32\\\\' AND
    FileName = 'vmms'``).  Windows reports drive and path in lower case."""
    if vm is not None:
        return
    yield Instance(
        _cls(NAMESPACE_CIMV2, "CIM_DataFile"),
        {
            "AccessMask": 1179817,
            "Archive": True,
            "Caption": "c:\\windows\\system32\\vmms.exe",
            "Compressed": False,
            "CreationClassName": "CIM_LogicalFile",
            "CreationDate": host.installed,
            "CSCreationClassName": "Win32_ComputerSystem",
            "CSName": host.computer_name,
            "Description": "c:\\windows\\system32\\vmms.exe",
            "Drive": "c:",
            "EightDotThreeFileName": "c:\\windows\\system32\\vmms.exe",
            "Encrypted": False,
            "Extension": "exe",
            "FileName": "vmms",
            "FileSize": 2371584,
            "FileType": "Application",
            "FSCreationClassName": "Win32_FileSystem",
            "FSName": "NTFS",
            "Hidden": False,
            "InstallDate": host.installed,
            "InUseCount": None,
            "LastAccessed": host.last_boot,
            "LastModified": host.installed,
            "Manufacturer": "Microsoft Corporation",
            "Name": "c:\\windows\\system32\\vmms.exe",
            "Path": "\\windows\\system32\\",
            "Readable": True,
            "System": False,
            "Version": f"{host.os.version}.1",
            "Writeable": True,
        },
    )


#: The counters' clock: 100 ns ticks (``Frequency_PerfTime`` of the hypervisor counter set).
_PERF_FREQUENCY = 10_000_000


def _vp_counters(host: SimulatedHost, vm: VM | None) -> Iterator[Instance]:
    """Hyper-V Hypervisor Virtual Processor counters: a row per vCPU of each VM that has a
    partition (running or paused), named ``<VM name>:Hv VP <n>`` (libvirt's ``vcpuinfo``
    selects ``WHERE Name = '<dom>:Hv VP <n>'`` and reads PercentTotalRunTime)."""
    cls = _cls(NAMESPACE_CIMV2, "Win32_PerfRawData_HvStats_HyperVHypervisorVirtualProcessor")
    ticks = int(host.now() * _PERF_FREQUENCY)
    for machine in [vm] if vm is not None else list(host.all_vms()):
        if not machine.is_on:
            continue
        ran = host.on_time_ms(machine) * (_PERF_FREQUENCY // 1000)
        count = _resource_value(host, machine, "Msvm_ProcessorSettingData", "VirtualQuantity")
        for n in range(count):
            guest = ran // (n + 3)
            hypervisor = ran // (10 * (n + 3))
            yield Instance(
                cls,
                {
                    "Name": f"{machine.name}:Hv VP {n}",
                    "Frequency_PerfTime": _PERF_FREQUENCY,
                    "Frequency_Sys100NS": _PERF_FREQUENCY,
                    "Frequency_Object": 0,
                    "Timestamp_PerfTime": ticks,
                    "Timestamp_Sys100NS": ticks,
                    "Timestamp_Object": 0,
                    "PercentGuestRunTime": guest,
                    "PercentGuestRunTime_Base": ticks,
                    "PercentHypervisorRunTime": hypervisor,
                    "PercentHypervisorRunTime_Base": ticks,
                    "PercentRemoteRunTime": 0,
                    "PercentRemoteRunTime_Base": ticks,
                    "PercentTotalRunTime": guest + hypervisor,
                    "PercentTotalRunTime_Base": ticks,
                },
            )


# --- registry and lookups -------------------------------------------------------------------------
_SHARED: dict[str, Callable[[SimulatedHost, VM | None], Iterator[Instance]]] = {
    "msvm_computersystem": _computer_systems,
    "msvm_virtualsystemsettingdata": _vssd,
    "msvm_shutdowncomponent": _shutdown_components,
    "msvm_heartbeatcomponent": _heartbeat_components,
    "msvm_keyboard": _keyboards,
    "msvm_videohead": _video_heads,
    "msvm_diskdrive": _disk_drives,
    "msvm_virtualsystemmanagementservice": _vsms,
    "msvm_concretejob": _jobs,
    "msvm_settingsdefinestate": _settings_define_state,
    "msvm_virtualsystemsettingdatacomponent": _vssd_components,
    "msvm_systemdevice": _system_devices,
    "msvm_hosteddependency": _hosted_dependencies,
    "msvm_hostedservice": _hosted_services,
    "msvm_affectedjobelement": _affected_job_elements,
    "msvm_summaryinformation": _summaries,
}
for _name in (
    "Msvm_ResourceAllocationSettingData",
    "Msvm_ProcessorSettingData",
    "Msvm_MemorySettingData",
    "Msvm_StorageAllocationSettingData",
    "Msvm_SyntheticEthernetPortSettingData",
    "Msvm_EthernetPortAllocationSettingData",
    "Msvm_SerialPortSettingData",
):
    _SHARED[_name.lower()] = _resource_provider(_name)

_PROVIDERS: dict[str, dict[str, Callable[[SimulatedHost, VM | None], Iterator[Instance]]]] = {
    NAMESPACE_V2: {
        **_SHARED,
        "msvm_virtualethernetswitch": _switches,
        "msvm_syntheticdisplaycontroller": _displays(s3=False),
        "msvm_s3displaycontroller": _displays(s3=True),
        "msvm_virtualethernetswitchmanagementservice": _switch_service,
        "msvm_emulatedethernetportsettingdata": _resource_provider(
            "Msvm_EmulatedEthernetPortSettingData"
        ),
        "msvm_elementsettingdata": _element_setting_data,
        "msvm_virtualsystemsnapshotservice": _snapshot_service,
        "msvm_imagemanagementservice": _image_service,
        "msvm_virtualsystemmigrationservice": _migration_service,
        "msvm_kvpexchangecomponent": _kvp_components,
        "msvm_guestnetworkadapterconfiguration": _guest_network,
        "msvm_settingdatacomponent": _setting_data_components,
        "msvm_snapshotofvirtualsystem": _snapshot_assocs("Msvm_SnapshotOfVirtualSystem"),
        "msvm_parentchildsettingdata": _snapshot_assocs("Msvm_ParentChildSettingData"),
        "msvm_mostcurrentsnapshotinbranch": _snapshot_assocs("Msvm_MostCurrentSnapshotInBranch"),
    },
    NAMESPACE_V1: {
        **_SHARED,
        "msvm_virtualswitch": _switches,
        "msvm_virtualsystemglobalsettingdata": _global_settings,
        "msvm_emulatedethernetportsettingdata": _resource_provider(
            "Msvm_EmulatedEthernetPortSettingData"
        ),
    },
    NAMESPACE_CIMV2: {
        "win32_operatingsystem": _os,
        "win32_computersystem": _win32_cs,
        "win32_computersystemproduct": _win32_product,
        "win32_processor": _win32_processors,
        "win32_computersystemprocessor": _win32_cs_processor,
        "cim_datafile": _data_files,
        "win32_perfrawdata_hvstats_hypervhypervisorvirtualprocessor": _vp_counters,
    },
}


def served_namespaces(host: SimulatedHost) -> tuple[str, ...]:
    """The namespaces this host answers for: its virtualization namespace and root/cimv2."""
    return (host.namespace, NAMESPACE_CIMV2)


def instances_of(
    host: SimulatedHost, namespace: str, class_name: str, *, vm: VM | None = None
) -> Iterator[Instance]:
    """Every instance of ``class_name`` and its subclasses in ``namespace`` (WMI deep enumeration).

    With ``vm`` set, only the instances that belong to that VM.
    """
    providers = _PROVIDERS.get(namespace.lower()) if namespace in served_namespaces(host) else None
    if providers is None:
        return
    for cls in SCHEMAS[namespace].concrete_subclasses(class_name):
        provider = providers.get(cls.name.lower())
        if provider is not None:
            yield from provider(host, vm)


def vm_for_keys(host: SimulatedHost, values: Iterable[str]) -> VM | None:
    """The VM a set of key values points into (VM GUID, ``Microsoft:<GUID>...``), if any."""
    for value in values:
        text = value.strip().upper()
        if text.startswith("MICROSOFT:"):
            text = text[10:46]
        elif len(text) == 38 and text.startswith("{"):
            text = text[1:37]
        if len(text) == 36 and text in host.vms:
            return host.vm(text)
    return None


def find_instances(
    host: SimulatedHost, namespace: str, class_name: str, selectors: Mapping[str, str]
) -> list[Instance]:
    """Instances of ``class_name`` whose properties equal ``selectors`` (WMI: case-insensitive)."""
    wanted = {k.lower(): v.casefold() for k, v in selectors.items()}
    scope = vm_for_keys(host, selectors.values())
    found: list[Instance] = []
    for inst in instances_of(host, namespace, class_name, vm=scope):
        ok = True
        for name, value in wanted.items():
            prop = inst.cls.prop(name)
            actual = inst.values.get(prop.name) if prop is not None else None
            if actual is None or format_key(actual).casefold() != value:
                ok = False
                break
        if ok:
            found.append(inst)
    return found


def resolve(host: SimulatedHost, ref: Ref) -> Instance | None:
    """The instance a reference names, or ``None`` if it no longer exists."""
    found = find_instances(host, ref.namespace, ref.class_name, dict(ref.keys))
    exact = [i for i in found if i.cls.name.lower() == ref.class_name.lower()]
    if exact:
        return exact[0]
    return found[0] if found else None
