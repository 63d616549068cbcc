"""The host model without HTTP: generation, class tables, state machine, jobs, methods."""

from __future__ import annotations

import base64

import pytest

from aiohyperv._exceptions import ConfigError
from aiohyperv.cim import EPR, CimInstance, CimType, EmbeddedInstance
from aiohyperv.simulator import HostSpec, SimulatedHost, VMState, generate_fleet
from aiohyperv.simulator._instance import Instance, parse_object_path
from aiohyperv.simulator._methods import MethodFault, MethodResult, invoke
from aiohyperv.simulator._providers import find_instances, instances_of, job_instance
from aiohyperv.simulator._schema import SCHEMAS
from aiohyperv.wsman import NAMESPACE_CIMV2, NAMESPACE_V1, NAMESPACE_V2

from ._helpers import ManualClock

V2 = NAMESPACE_V2


def make_host(os: str = "2019", vms: int = 6, seed: int = 7) -> tuple[SimulatedHost, ManualClock]:
    clock = ManualClock()
    spec = HostSpec(name="hv01", os=os, vms=vms, seed=seed, job_duration=0.2)
    return SimulatedHost.generate(spec, clock=clock), clock


def vm_in(host: SimulatedHost, state: int):
    for vm in host.all_vms():
        if vm.state == state and vm.pending is None:
            return vm
    raise AssertionError(f"no VM in state {state}")


def cs(host: SimulatedHost, guid: str) -> Instance:
    (inst,) = find_instances(host, host.namespace, "Msvm_ComputerSystem", {"Name": guid})
    return inst


def vsms(host: SimulatedHost) -> Instance:
    (inst,) = instances_of(host, host.namespace, "Msvm_VirtualSystemManagementService")
    return inst


def call(host: SimulatedHost, target: Instance, method: str, **args: object) -> MethodResult:
    return invoke(host, target, method, args)  # type: ignore[arg-type]


# --- generation ---------------------------------------------------------------------------------
def test_generation_is_deterministic() -> None:
    one, _ = make_host(seed=11)
    two, _ = make_host(seed=11)
    other, _ = make_host(seed=12)
    signature = [(v.guid, v.name, v.state, v.cpus, v.memory_mb) for v in one.vms.values()]
    assert signature == [(v.guid, v.name, v.state, v.cpus, v.memory_mb) for v in two.vms.values()]
    assert signature != [(v.guid, v.name, v.state, v.cpus, v.memory_mb) for v in other.vms.values()]
    macs = [
        str(i.values["Address"])
        for i in instances_of(one, V2, "Msvm_SyntheticEthernetPortSettingData")
    ]
    assert macs == [
        str(i.values["Address"])
        for i in instances_of(two, V2, "Msvm_SyntheticEthernetPortSettingData")
    ]
    assert all(len(m) == 12 and m.startswith("00155D") for m in macs)


def test_fleet_mixes_releases_and_states() -> None:
    hosts = generate_fleet(40, 10, seed=5)
    assert len({h.spec.name for h in hosts}) == 40
    assert len({h.spec.os for h in hosts}) >= 4
    states = {v.state for h in hosts for v in h.vms.values()}
    assert {VMState.RUNNING, VMState.OFF} <= states
    assert states & {VMState.SAVED, VMState.V1_SUSPENDED}
    assert [h.spec.os for h in hosts] == [h.spec.os for h in generate_fleet(40, 10, seed=5)]


@pytest.mark.parametrize(
    ("os", "version", "build", "namespace"),
    [
        ("2008R2", "6.1.7601", "7601", NAMESPACE_V1),
        ("2012", "6.2.9200", "9200", NAMESPACE_V2),
        ("2012R2", "6.3.9600", "9600", NAMESPACE_V2),
        ("2016", "10.0.14393", "14393", NAMESPACE_V2),
        ("2019", "10.0.17763", "17763", NAMESPACE_V2),
        ("2022", "10.0.20348", "20348", NAMESPACE_V2),
        ("2025", "10.0.26100", "26100", NAMESPACE_V2),
    ],
)
def test_operating_system_per_release(os: str, version: str, build: str, namespace: str) -> None:
    host, _ = make_host(os=os, vms=2)
    assert host.namespace == namespace
    (osi,) = instances_of(host, NAMESPACE_CIMV2, "Win32_OperatingSystem")
    assert osi.values["Version"] == version
    assert osi.values["BuildNumber"] == build
    assert str(osi.values["Caption"]).startswith("Microsoft Windows Server")
    free, total = osi.values["FreePhysicalMemory"], osi.values["TotalVisibleMemorySize"]
    assert isinstance(free, int) and isinstance(total, int) and 0 < free < total
    assert osi.values["LastBootUpTime"] is not None


def test_spec_validation() -> None:
    with pytest.raises(ConfigError):
        HostSpec(name="x", os="2003")
    with pytest.raises(ConfigError):
        HostSpec(name="x", vms=-1)
    assert "secret" not in repr(HostSpec(name="x", password="secret"))


# --- class tables -------------------------------------------------------------------------------
V2_CLASSES = [
    "Msvm_ComputerSystem",
    "Msvm_VirtualSystemSettingData",
    "Msvm_ProcessorSettingData",
    "Msvm_MemorySettingData",
    "Msvm_ResourceAllocationSettingData",
    "Msvm_StorageAllocationSettingData",
    "Msvm_SyntheticEthernetPortSettingData",
    "Msvm_EthernetPortAllocationSettingData",
    "Msvm_SerialPortSettingData",
    "Msvm_ShutdownComponent",
    "Msvm_Keyboard",
    "Msvm_VirtualEthernetSwitch",
    "Msvm_VirtualSystemManagementService",
    "Msvm_SettingsDefineState",
    "Msvm_VirtualSystemSettingDataComponent",
    "Msvm_SystemDevice",
    "Msvm_HostedDependency",
    "Msvm_SummaryInformation",
    "Msvm_ConcreteJob",
]


@pytest.mark.parametrize("class_name", V2_CLASSES)
def test_every_listed_class_has_instances_with_keys(class_name: str) -> None:
    host, _ = make_host()
    call(host, vsms(host), "GetSummaryInformation")  # the service is there; no job
    vm = next(iter(host.vms.values()))
    call(host, cs(host, vm.guid), "RequestStateChange", RequestedState="11")  # makes a job
    found = list(instances_of(host, V2, class_name))
    assert found
    for inst in found:
        assert inst.cls.name == class_name or inst.cls.is_a(class_name)
        for key in inst.cls.keys:
            assert inst.values.get(key) not in (None, "")
        for name in inst.values:
            assert inst.cls.prop(name) is not None or name not in {
                p.name for p in inst.cls.properties
            }


def test_property_types_follow_the_documentation() -> None:
    cs_cls = SCHEMAS[V2].get("Msvm_ComputerSystem")
    assert cs_cls is not None
    assert cs_cls.keys == ("CreationClassName", "Name")
    assert cs_cls.prop("EnabledState").type is CimType.UINT16  # type: ignore[union-attr]
    assert cs_cls.prop("OnTimeInMilliseconds").type is CimType.UINT64  # type: ignore[union-attr]
    assert cs_cls.prop("OperationalStatus").array  # type: ignore[union-attr]
    vssd2 = SCHEMAS[V2].get("Msvm_VirtualSystemSettingData")
    vssd1 = SCHEMAS[NAMESPACE_V1].get("Msvm_VirtualSystemSettingData")
    assert vssd2 is not None and vssd1 is not None
    assert vssd2.prop("Notes").array and not vssd1.prop("Notes").array  # type: ignore[union-attr]
    assert vssd1.prop("SettingType") is not None and vssd2.prop("SettingType") is None
    assert [p.name for p in cs_cls.properties] == sorted(
        (p.name for p in cs_cls.properties), key=str.lower
    )


def test_v2_vm_values_look_like_hyper_v() -> None:
    host, _ = make_host(vms=8)
    vm = next(iter(host.vms.values()))
    inst = cs(host, vm.guid)
    assert inst.values["Description"] == "Microsoft Virtual Machine"
    assert inst.values["Caption"] == "Virtual Machine"
    (vssd,) = find_instances(
        host, V2, "Msvm_VirtualSystemSettingData", {"InstanceID": f"Microsoft:{vm.guid}"}
    )
    assert vssd.values["VirtualSystemType"] == "Microsoft:Hyper-V:System:Realized"
    assert vssd.values["VirtualSystemSubType"] in (
        "Microsoft:Hyper-V:SubType:1",
        "Microsoft:Hyper-V:SubType:2",
    )
    assert vssd.values["Version"] in ("9.0", "8.0", "5.0")
    (maximum,) = (
        i
        for i in instances_of(host, V2, "Msvm_ProcessorSettingData")
        if str(i.values["InstanceID"]).endswith("\\Maximum")
    )
    assert str(maximum.values["InstanceID"]).startswith("Microsoft:Definition")
    assert maximum.values["VirtualQuantity"] == 240
    disks = [
        i
        for i in instances_of(host, V2, "Msvm_StorageAllocationSettingData", vm=vm)
        if i.values["ResourceSubType"] == "Microsoft:Hyper-V:Virtual Hard Disk"
    ]
    assert disks and str(disks[0].values["HostResource"][0]).endswith(".vhdx")  # type: ignore[index]
    parent = parse_object_path(str(disks[0].values["Parent"]), V2)
    assert parent.class_name == "Msvm_ResourceAllocationSettingData"


def test_v1_host_uses_the_2008r2_classes() -> None:
    host, _ = make_host(os="2008R2")
    (vssd, *_) = instances_of(host, NAMESPACE_V1, "Msvm_VirtualSystemSettingData")
    assert vssd.values["SettingType"] == 3
    assert list(instances_of(host, NAMESPACE_V1, "Msvm_VirtualSwitch"))
    assert not list(instances_of(host, NAMESPACE_V2, "Msvm_ComputerSystem"))
    vhd = [
        i
        for i in instances_of(host, NAMESPACE_V1, "Msvm_ResourceAllocationSettingData")
        if i.values["ResourceSubType"] == "Microsoft Virtual Hard Disk"
    ]
    assert vhd and str(vhd[0].values["Connection"][0]).endswith(".vhd")  # type: ignore[index]


# --- state machine ------------------------------------------------------------------------------
def job_of(host: SimulatedHost, result: MethodResult) -> str:
    job = result.outputs["Job"]
    assert isinstance(job, EPR)
    instance_id = job.selector("InstanceID")
    assert instance_id is not None
    return instance_id


def test_start_goes_through_starting_and_completes_a_job() -> None:
    host, clock = make_host()
    vm = vm_in(host, VMState.OFF)
    result = call(host, cs(host, vm.guid), "RequestStateChange", RequestedState="2")
    assert result.return_value == 4096
    job = host.jobs[job_of(host, result)]
    assert job_instance(host, job).values["JobState"] == 2  # New
    assert cs(host, vm.guid).values["EnabledState"] == VMState.STARTING
    assert cs(host, vm.guid).values["OnTimeInMilliseconds"] == 0
    clock.advance(0.1)
    running = job_instance(host, job).values
    assert running["JobState"] == 4 and 0 < running["PercentComplete"] < 100  # type: ignore[operator]
    clock.advance(0.2)
    done = job_instance(host, job).values
    assert done["JobState"] == 7 and done["PercentComplete"] == 100
    assert cs(host, vm.guid).values["EnabledState"] == VMState.RUNNING
    assert cs(host, vm.guid).values["ProcessID"] is not None
    clock.advance(5)
    assert cs(host, vm.guid).values["OnTimeInMilliseconds"] == pytest.approx(5100, abs=1)


@pytest.mark.parametrize(
    ("start", "requested", "via", "final"),
    [
        (VMState.RUNNING, 3, VMState.SHUTTING_DOWN, VMState.OFF),
        (VMState.RUNNING, 6, VMState.SAVING, VMState.SAVED),
        (VMState.RUNNING, 9, VMState.PAUSING, VMState.PAUSED),
        (VMState.RUNNING, 10, VMState.STARTING, VMState.RUNNING),
        (VMState.RUNNING, 11, VMState.STARTING, VMState.RUNNING),
        (VMState.PAUSED, 2, VMState.RESUMING, VMState.RUNNING),
        (VMState.SAVED, 2, VMState.STARTING, VMState.RUNNING),
        (VMState.SAVED, 3, VMState.SHUTTING_DOWN, VMState.OFF),
    ],
)
def test_v2_transitions(start: int, requested: int, via: int, final: int) -> None:
    host, clock = make_host(vms=30)
    vm = vm_in(host, start)
    result = call(host, cs(host, vm.guid), "RequestStateChange", RequestedState=str(requested))
    assert result.return_value == 4096
    assert cs(host, vm.guid).values["EnabledState"] == via
    clock.advance(1)
    assert cs(host, vm.guid).values["EnabledState"] == final


@pytest.mark.parametrize(
    ("start", "requested"),
    [
        (VMState.OFF, 9),  # pause an Off VM
        (VMState.RUNNING, 2),  # start a running one
        (VMState.OFF, 3),
        (VMState.OFF, 6),
        (VMState.SAVED, 9),
        (VMState.PAUSED, 9),
    ],
)
def test_invalid_transitions_are_refused(start: int, requested: int) -> None:
    host, _ = make_host(vms=30)
    vm = vm_in(host, start)
    result = call(host, cs(host, vm.guid), "RequestStateChange", RequestedState=str(requested))
    assert result.return_value == 32775
    assert vm.state == start and vm.pending is None


def test_unknown_or_v1_only_requested_state_is_an_invalid_parameter() -> None:
    host, _ = make_host()
    vm = vm_in(host, VMState.RUNNING)
    for requested in ("4", "7", "32768"):
        result = call(host, cs(host, vm.guid), "RequestStateChange", RequestedState=requested)
        assert result.return_value == 32773


def test_a_vm_in_transition_refuses_another_change() -> None:
    host, _ = make_host()
    vm = vm_in(host, VMState.OFF)
    assert (
        call(host, cs(host, vm.guid), "RequestStateChange", RequestedState="2").return_value == 4096
    )
    assert (
        call(host, cs(host, vm.guid), "RequestStateChange", RequestedState="3").return_value
        == 32775
    )


def test_reboot_restarts_the_uptime() -> None:
    host, clock = make_host()
    vm = vm_in(host, VMState.RUNNING)
    before = cs(host, vm.guid).values["OnTimeInMilliseconds"]
    assert isinstance(before, int) and before > 60_000
    call(host, cs(host, vm.guid), "RequestStateChange", RequestedState="10")
    clock.advance(1)
    after = cs(host, vm.guid).values["OnTimeInMilliseconds"]
    assert isinstance(after, int) and after < 1000


def test_failing_job_leaves_the_vm_as_it_was() -> None:
    host, clock = make_host()
    host.faults.fail_jobs = True
    vm = vm_in(host, VMState.OFF)
    result = call(host, cs(host, vm.guid), "RequestStateChange", RequestedState="2")
    job = host.jobs[job_of(host, result)]
    clock.advance(1)
    values = job_instance(host, job).values
    assert values["JobState"] == 10
    assert values["ErrorCode"] == 32768
    assert "failed to start" in str(values["ErrorDescription"])
    assert cs(host, vm.guid).values["EnabledState"] == VMState.OFF


def test_v1_pause_and_suspend_use_the_2008r2_numbers() -> None:
    host, clock = make_host(os="2008R2", vms=20)
    vm = vm_in(host, VMState.RUNNING)
    target = cs(host, vm.guid)
    assert call(host, target, "RequestStateChange", RequestedState="9").return_value == 32773
    assert call(host, target, "RequestStateChange", RequestedState="32768").return_value == 4096
    assert cs(host, vm.guid).values["EnabledState"] == VMState.PAUSING
    clock.advance(1)
    assert cs(host, vm.guid).values["EnabledState"] == VMState.V1_PAUSED
    assert call(host, target, "RequestStateChange", RequestedState="32769").return_value == 4096
    clock.advance(1)
    assert cs(host, vm.guid).values["EnabledState"] == VMState.V1_SUSPENDED
    assert call(host, target, "RequestStateChange", RequestedState="2").return_value == 4096
    assert cs(host, vm.guid).values["EnabledState"] == VMState.V1_STARTING


def test_host_system_has_no_state_change() -> None:
    host, _ = make_host()
    target = cs(host, host.computer_name)
    assert call(host, target, "RequestStateChange", RequestedState="2").return_value == 32770


def test_malformed_arguments_are_a_method_fault() -> None:
    host, _ = make_host()
    vm = next(iter(host.vms.values()))
    with pytest.raises(MethodFault):
        call(host, cs(host, vm.guid), "RequestStateChange")
    with pytest.raises(MethodFault):
        call(host, cs(host, vm.guid), "RequestStateChange", RequestedState="two")
    with pytest.raises(MethodFault):
        call(host, cs(host, vm.guid), "NoSuchMethod")


# --- shutdown and keyboard ----------------------------------------------------------------------
def shutdown_component(host: SimulatedHost, guid: str) -> Instance:
    (inst,) = find_instances(host, host.namespace, "Msvm_ShutdownComponent", {"SystemName": guid})
    return inst


def test_initiate_shutdown_needs_the_integration_component() -> None:
    host, clock = make_host(vms=40)
    running = [v for v in host.all_vms() if v.state == VMState.RUNNING]
    with_ic = next(v for v in running if v.shutdown_ic)
    without_ic = next(v for v in running if not v.shutdown_ic)
    off = vm_in(host, VMState.OFF)
    target = shutdown_component(host, with_ic.guid)
    assert call(host, target, "InitiateShutdown", Force="true", Reason="test").return_value == 0
    assert cs(host, with_ic.guid).values["EnabledState"] == VMState.SHUTTING_DOWN
    clock.advance(1)
    assert cs(host, with_ic.guid).values["EnabledState"] == VMState.OFF
    for vm in (without_ic, off):
        component = shutdown_component(host, vm.guid)
        assert call(
            host, component, "InitiateShutdown", Force="false", Reason="x"
        ).return_value == (32775)


def test_keyboard_types_into_running_vms_only() -> None:
    host, _ = make_host(vms=20)
    running = vm_in(host, VMState.RUNNING)
    off = vm_in(host, VMState.OFF)

    def keyboard(guid: str) -> Instance:
        (inst,) = find_instances(host, host.namespace, "Msvm_Keyboard", {"SystemName": guid})
        return inst

    kb = keyboard(running.guid)
    assert call(host, kb, "TypeText", asciiText="hello").return_value == 0
    assert call(host, kb, "PressKey", keyCode="17").return_value == 0
    assert running.keys_down == {17}
    assert call(host, kb, "ReleaseKey", keyCode="17").return_value == 0
    assert call(host, kb, "TypeCtrlAltDel").return_value == 0
    assert running.keys_down == set()
    assert running.typed[0] == "hello" and running.typed[-1] == "<Ctrl+Alt+Del>"
    assert call(host, keyboard(off.guid), "TypeText", asciiText="x").return_value == 32775
    with pytest.raises(MethodFault):
        call(host, kb, "PressKey", keyCode="999")


# --- management service -------------------------------------------------------------------------
def vssd_epr(host: SimulatedHost, guid: str) -> EPR:
    (inst,) = find_instances(
        host, host.namespace, "Msvm_VirtualSystemSettingData", {"InstanceID": f"Microsoft:{guid}"}
    )
    return inst.ref().epr()


def test_define_modify_add_remove_destroy() -> None:
    host, clock = make_host()
    service = vsms(host)
    settings = EmbeddedInstance("Msvm_VirtualSystemSettingData")
    settings.set("ElementName", CimType.STRING, "new-vm")
    settings.set("VirtualSystemSubType", CimType.STRING, "Microsoft:Hyper-V:SubType:2")
    result = call(host, service, "DefineSystem", SystemSettings=settings)
    assert result.return_value == 4096
    system = result.outputs["ResultingSystem"]
    assert isinstance(system, EPR)
    guid = system.selector("Name")
    assert guid is not None
    vm = host.vms[guid]
    assert vm.name == "new-vm" and vm.generation == 2 and vm.state == VMState.OFF

    nic = EmbeddedInstance("Msvm_SyntheticEthernetPortSettingData")
    nic.set("ResourceType", CimType.UINT16, 10)
    nic.set("ResourceSubType", CimType.STRING, "Microsoft:Hyper-V:Synthetic Ethernet Port")
    nic.set("ElementName", CimType.STRING, "Network Adapter")
    added = call(
        host,
        service,
        "AddResourceSettings",
        AffectedConfiguration=vssd_epr(host, guid),
        ResourceSettings=[nic],
    )
    assert added.return_value == 4096
    refs = added.outputs["ResultingResourceSettings"]
    assert isinstance(refs, list)
    (new_ref,) = refs
    nics = list(instances_of(host, V2, "Msvm_SyntheticEthernetPortSettingData", vm=vm))
    assert len(nics) == 1 and str(nics[0].values["Address"]).startswith("00155D")

    (proc,) = instances_of(host, V2, "Msvm_ProcessorSettingData", vm=vm)
    change = EmbeddedInstance("Msvm_ProcessorSettingData")
    change.set("InstanceID", CimType.STRING, proc.values["InstanceID"])
    change.set("VirtualQuantity", CimType.UINT64, 4)
    modified = call(host, service, "ModifyResourceSettings", ResourceSettings=[change])
    assert modified.return_value == 4096
    (proc,) = instances_of(host, V2, "Msvm_ProcessorSettingData", vm=vm)
    assert proc.values["VirtualQuantity"] == 4
    change.set("VirtualQuantity", CimType.UINT64, 100000)
    assert call(
        host, service, "ModifyResourceSettings", ResourceSettings=[change]
    ).return_value == (32773)

    rename = EmbeddedInstance("Msvm_VirtualSystemSettingData")
    rename.set("InstanceID", CimType.STRING, f"Microsoft:{guid}")
    rename.set("ElementName", CimType.STRING, "renamed")
    rename.set("AutomaticStartupAction", CimType.UINT16, 4)
    assert call(host, service, "ModifySystemSettings", SystemSettings=rename).return_value == 4096
    assert cs(host, guid).values["ElementName"] == "renamed" and vm.autostart == 4

    removed = call(host, service, "RemoveResourceSettings", ResourceSettings=[new_ref])
    assert removed.return_value == 4096
    assert not list(instances_of(host, V2, "Msvm_SyntheticEthernetPortSettingData", vm=vm))

    destroyed = call(host, service, "DestroySystem", AffectedSystem=system)
    assert destroyed.return_value == 4096
    assert guid not in host.vms
    clock.advance(1)
    assert job_instance(host, host.jobs[job_of(host, destroyed)]).values["JobState"] == 7


def test_running_vm_refuses_cpu_changes_and_destroy() -> None:
    host, _ = make_host(vms=20)
    vm = vm_in(host, VMState.RUNNING)
    (proc,) = instances_of(host, V2, "Msvm_ProcessorSettingData", vm=vm)
    change = EmbeddedInstance("Msvm_ProcessorSettingData")
    change.set("InstanceID", CimType.STRING, proc.values["InstanceID"])
    change.set("VirtualQuantity", CimType.UINT64, int(proc.values["VirtualQuantity"]) + 1)  # type: ignore[call-overload]
    service = vsms(host)
    assert call(
        host, service, "ModifyResourceSettings", ResourceSettings=[change]
    ).return_value == (32775)
    system = cs(host, vm.guid).ref().epr()
    assert call(host, service, "DestroySystem", AffectedSystem=system).return_value == 32775


def test_summary_information_returns_requested_fields() -> None:
    host, _ = make_host(vms=10)
    running = vm_in(host, VMState.RUNNING)
    off = vm_in(host, VMState.OFF)
    result = call(
        host,
        vsms(host),
        "GetSummaryInformation",
        SettingData=[vssd_epr(host, running.guid), vssd_epr(host, off.guid)],
        RequestedInformation=["0", "1", "4", "100", "103", "105", "106"],
    )
    assert result.return_value == 0
    summaries = result.outputs["SummaryInformation"]
    assert isinstance(summaries, list)
    on, down = [s for s in summaries if isinstance(s, CimInstance)]
    assert on.get_str("Name") == running.guid and on.get_int("EnabledState") == 2
    assert on.get_int("NumberOfProcessors") == running.cpus
    assert (on.get_int("UpTime") or 0) > 0 and (on.get_int("MemoryUsage") or 0) > 0
    assert down.get_int("EnabledState") == 3 and down.get_int("UpTime") == 0
    assert down.get("Notes") is None  # not requested
    everyone = call(host, vsms(host), "GetSummaryInformation", RequestedInformation=["1"])
    assert len(everyone.outputs["SummaryInformation"]) == 10  # type: ignore[arg-type]


def decode_rgb565(data: bytes) -> list[tuple[int, int, int]]:
    pixels = []
    for i in range(0, len(data), 2):
        value = data[i] | data[i + 1] << 8
        pixels.append(((value >> 11) & 0x1F, (value >> 5) & 0x3F, value & 0x1F))
    return pixels


def test_thumbnail_is_a_real_rgb565_image() -> None:
    host, _ = make_host(vms=10)
    vm = vm_in(host, VMState.RUNNING)
    result = call(
        host,
        vsms(host),
        "GetVirtualSystemThumbnailImage",
        TargetSystem=vssd_epr(host, vm.guid),
        WidthPixels="160",
        HeightPixels="120",
    )
    assert result.return_value == 0
    data = base64.b64decode(str(result.outputs["ImageData"]))
    assert len(data) == 160 * 120 * 2
    pixels = decode_rgb565(data)
    assert pixels[0] != pixels[-1]  # a gradient, top to bottom
    bright = [p for p in pixels[: 160 * 40] if p[0] > 25 and p[1] > 50 and p[2] > 25]
    assert bright  # the VM name, drawn in near-white
    off = vm_in(host, VMState.OFF)
    refused = call(
        host,
        vsms(host),
        "GetVirtualSystemThumbnailImage",
        TargetSystem=vssd_epr(host, off.guid),
        WidthPixels="160",
        HeightPixels="120",
    )
    assert refused.return_value == 32775


def test_v1_management_service_methods() -> None:
    host, clock = make_host(os="2008R2", vms=3)
    service = vsms(host)
    with pytest.raises(MethodFault):
        call(host, service, "DefineSystem")  # the v2 name does not exist on 2008 R2
    settings = EmbeddedInstance("Msvm_VirtualSystemSettingData")
    settings.set("ElementName", CimType.STRING, "legacy")
    defined = call(host, service, "DefineVirtualSystem", SystemSettingData=settings)
    assert defined.return_value == 4096
    system = defined.outputs["DefinedSystem"]
    assert isinstance(system, EPR) and system.resource_uri.endswith(
        "/root/virtualization/Msvm_ComputerSystem"
    )
    guid = str(system.selector("Name"))
    nic = EmbeddedInstance("Msvm_SyntheticEthernetPortSettingData")
    nic.set("ResourceSubType", CimType.STRING, "Microsoft Synthetic Ethernet Port")
    added = call(
        host, service, "AddVirtualSystemResources", TargetSystem=system, ResourceSettingData=[nic]
    )
    assert added.return_value == 4096 and added.outputs["NewResources"]
    summary = call(host, service, "GetSummaryInformation", RequestedInformation=["1", "100"])
    rows = summary.outputs["SummaryInformation"]
    assert isinstance(rows, list)
    names = {s.get_str("ElementName") for s in rows if isinstance(s, CimInstance)}
    assert "legacy" in names
    assert call(host, service, "DestroyVirtualSystem", ComputerSystem=system).return_value == 4096
    assert guid not in host.vms
    clock.advance(1)
