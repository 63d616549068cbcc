"""WMI methods with Hyper-V's semantics, over simulated time.

Return codes are Hyper-V's: 0 done, 4096 job started (a ``Msvm_ConcreteJob`` reference is in
the ``Job`` output), 32773 invalid parameter, 32775 invalid state for this operation (start a
running VM, pause an off one, shut down a guest without its integration component...).
Malformed calls -- a missing required parameter, text where a number belongs -- are not return
codes but the ``WBEM_E_INVALID_METHOD_PARAMETERS`` fault WMI raises (:class:`MethodFault`).

State changes take ``HostSpec.job_duration`` simulated seconds: ``EnabledState`` shows the
transitional state (10 Starting, 4 Shutting Down, 32773 Saving, 32776 Pausing, 32777 Resuming;
the v1 numbers on 2008 R2) until the job completes.  Failing jobs (``faults.fail_jobs``) end in
JobState 10 with ErrorCode 32768 and leave the VM as it was.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiohyperv.cim import EPR, CimDateTime, CimInstance, CimType, EmbeddedInstance
from aiohyperv.simulator import _disks as disks
from aiohyperv.simulator import _migration as migration
from aiohyperv.simulator import _snapshots as snapshots
from aiohyperv.simulator._host import (
    VM,
    Job,
    Resource,
    SimulatedHost,
    Snapshot,
    Transition,
    VMState,
)
from aiohyperv.simulator._instance import Instance, Ref, parse_object_path, to_cim
from aiohyperv.simulator._providers import (
    V1_STARTUP_ACTION,
    cs_ref,
    job_ref,
    materialize_resources,
    resolve,
    summary_instance,
    vm_for_keys,
    vm_image,
    vm_resources,
)
from aiohyperv.simulator._schema import SCHEMAS, ClassDef
from aiohyperv.simulator._snapshots import find_snapshot
from aiohyperv.wsman._ns import split_resource_uri

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from aiohyperv.simulator._codec import InvokeArg

__all__ = ["MethodFault", "MethodResult", "invoke"]

WBEM_E_INVALID_METHOD = 0x8004102E
WBEM_E_INVALID_METHOD_PARAMETERS = 0x8004102F

OK = 0
JOB_STARTED = 4096
NOT_SUPPORTED = 32770
INVALID_PARAMETER = 32773
INVALID_STATE = 32775


class MethodFault(Exception):
    """A call WMI rejects before running it (the server turns it into a SOAP fault)."""

    def __init__(self, message: str, code: int = WBEM_E_INVALID_METHOD_PARAMETERS) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(slots=True)
class MethodResult:
    """What the method returned: ``ReturnValue`` and the out parameters, ready to serialize."""

    return_value: int
    outputs: dict[str, object] = field(default_factory=dict)


# --- argument helpers -----------------------------------------------------------------------------
class _Args:
    def __init__(self, args: Mapping[str, InvokeArg]) -> None:
        self._args = {k.lower(): v for k, v in args.items()}

    def raw(self, name: str) -> InvokeArg:
        return self._args.get(name.lower())

    def get_int(self, name: str, *, required: bool = True) -> int | None:
        value = self._args.get(name.lower())
        if value is None:
            if required:
                raise MethodFault(f"missing parameter {name}")
            return None
        if not isinstance(value, str):
            raise MethodFault(f"{name} must be a number")
        try:
            return int(value.strip(), 0)
        except ValueError:
            raise MethodFault(f"{name} must be a number, got {value!r}") from None

    def get_ints(self, name: str) -> list[int]:
        value = self._args.get(name.lower())
        items = value if isinstance(value, list) else [] if value is None else [value]
        out: list[int] = []
        for item in items:
            if not isinstance(item, str):
                raise MethodFault(f"{name} must hold numbers")
            try:
                out.append(int(item.strip(), 0))
            except ValueError:
                raise MethodFault(f"{name} must hold numbers, got {item!r}") from None
        return out

    def get_bool(self, name: str, default: bool = False) -> bool:
        value = self._args.get(name.lower())
        if value is None:
            return default
        if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0"):
            return value.strip().lower() in ("true", "1")
        raise MethodFault(f"{name} must be a boolean")

    def get_str(self, name: str) -> str | None:
        value = self._args.get(name.lower())
        if value is None:
            return None
        if not isinstance(value, str):
            raise MethodFault(f"{name} must be a string")
        return value

    def get_ref(self, host: SimulatedHost, name: str, *, required: bool = True) -> Ref | None:
        refs = self.get_refs(host, name)
        if not refs:
            if required:
                raise MethodFault(f"missing reference parameter {name}")
            return None
        return refs[0]

    def get_refs(self, host: SimulatedHost, name: str) -> list[Ref]:
        value = self._args.get(name.lower())
        items = value if isinstance(value, list) else [] if value is None else [value]
        return [_to_ref(host, item, name) for item in items if item is not None]

    def get_instances(self, name: str) -> list[EmbeddedInstance]:
        value = self._args.get(name.lower())
        items = value if isinstance(value, list) else [] if value is None else [value]
        out: list[EmbeddedInstance] = []
        for item in items:
            if isinstance(item, EmbeddedInstance):
                out.append(item)
            elif isinstance(item, CimInstance):
                out.append(_embedded_from_cim(item))
            elif item is not None:
                raise MethodFault(f"{name} must hold embedded instances (CIM-XML)")
        return out


def _to_ref(host: SimulatedHost, item: object, name: str) -> Ref:
    if isinstance(item, EPR):
        try:
            namespace, class_name = split_resource_uri(item.resource_uri)
        except ValueError:
            raise MethodFault(f"{name}: {item.resource_uri} is not a WMI class") from None
        selectors = {k: v for k, v in item.selectors if k != "__cimnamespace"}
        return Ref.make(item.selector("__cimnamespace") or namespace, class_name, selectors)
    if isinstance(item, str):
        try:
            return parse_object_path(item, host.namespace)
        except ValueError:
            raise MethodFault(f"{name} is not an object path") from None
    raise MethodFault(f"{name} must be a reference")


def _embedded_from_cim(inst: CimInstance) -> EmbeddedInstance:
    emb = EmbeddedInstance(inst.class_name)
    for key, value in inst.properties.items():
        if isinstance(value, str) or value is None:
            emb.set(key, CimType.STRING, value)
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            emb.set(key, CimType.STRING, list(value))
    return emb


def _typed(value: object, cls: ClassDef, name: str) -> object:
    """Bring an embedded-instance value to the property's declared Python type."""
    prop = cls.prop(name)
    if prop is None or value is None:
        return value
    if isinstance(value, list):
        return [_typed_one(v, prop.type) for v in value]
    return _typed_one(value, prop.type)


def _typed_one(value: object, cim_type: CimType) -> object:
    if isinstance(value, str):
        try:
            if cim_type is CimType.BOOLEAN:
                return value.strip().lower() in ("true", "1")
            if cim_type in (CimType.REAL32, CimType.REAL64):
                return float(value)
            if cim_type.value[1:4] == "int":
                return int(value.strip(), 0)
        except ValueError:
            raise MethodFault(f"{value!r} is not a {cim_type.value}") from None
    if isinstance(value, CimDateTime):
        return value.value
    return value


# --- dispatch -------------------------------------------------------------------------------------
def invoke(
    host: SimulatedHost, target: Instance, method: str, args: Mapping[str, InvokeArg]
) -> MethodResult:
    """Run ``method`` on ``target`` (an instance the request's selectors named).

    Raises:
        MethodFault: the class has no such method, or the arguments are malformed.
    """
    table = _V1_METHODS if host.os.v1 else _V2_METHODS
    handler = table.get((target.cls.name.lower(), method.lower()))
    if handler is None:
        raise MethodFault(f"{target.cls.name} has no method {method}", WBEM_E_INVALID_METHOD)
    return handler(host, target, _Args(args))


def _job_result(host: SimulatedHost, job_ref_value: Ref, **outputs: object) -> MethodResult:
    out: dict[str, object] = {k: _output(v) for k, v in outputs.items()}
    out["Job"] = job_ref_value.epr()
    return MethodResult(JOB_STARTED, out)


def _output(value: object) -> object:
    if isinstance(value, Ref):
        return value.epr()
    if isinstance(value, Instance):
        return to_cim(value)
    if isinstance(value, list):
        return [_output(v) for v in value]
    return value


def _vm_of(host: SimulatedHost, inst: Instance) -> VM | None:
    keys = [str(v) for v in inst.values.values() if isinstance(v, str)]
    return vm_for_keys(host, keys)


# --- Msvm_ComputerSystem.RequestStateChange -------------------------------------------------------
S = VMState
#: requested state -> {current state: transitional state}; final state in _FINAL.
_V2_TRANSITIONS: dict[int, dict[int, int]] = {
    2: {S.OFF: S.STARTING, S.SAVED: S.STARTING, S.PAUSED: S.RESUMING},
    3: {S.RUNNING: S.SHUTTING_DOWN, S.PAUSED: S.SHUTTING_DOWN, S.SAVED: S.SHUTTING_DOWN},
    6: {S.RUNNING: S.SAVING, S.PAUSED: S.SAVING},
    9: {S.RUNNING: S.PAUSING},
    10: {S.RUNNING: S.STARTING, S.PAUSED: S.STARTING},
    11: {S.RUNNING: S.STARTING, S.PAUSED: S.STARTING},
}
_V1_TRANSITIONS: dict[int, dict[int, int]] = {
    2: {S.OFF: S.V1_STARTING, S.V1_SUSPENDED: S.V1_STARTING, S.V1_PAUSED: S.RESUMING},
    3: {S.RUNNING: S.V1_STOPPING, S.V1_PAUSED: S.V1_STOPPING, S.V1_SUSPENDED: S.V1_STOPPING},
    S.V1_PAUSED: {S.RUNNING: S.PAUSING},
    S.V1_SUSPENDED: {S.RUNNING: S.SAVING, S.V1_PAUSED: S.SAVING},
    10: {S.RUNNING: S.V1_STARTING},
    11: {S.RUNNING: S.V1_STARTING},
}
_FINAL = {
    2: S.RUNNING,
    3: S.OFF,
    4: S.OFF,
    6: S.SAVED,
    9: S.PAUSED,
    10: S.RUNNING,
    11: S.RUNNING,
    S.V1_PAUSED: S.V1_PAUSED,
    S.V1_SUSPENDED: S.V1_SUSPENDED,
}
_CAPTIONS = {
    2: "Turning On",
    3: "Turning Off",
    4: "Shutting Down",
    6: "Saving",
    9: "Pausing",
    10: "Restarting",
    11: "Resetting",
    S.V1_PAUSED: "Pausing",
    S.V1_SUSPENDED: "Saving",
}
_VERBS = {
    2: "start",
    3: "turn off",
    4: "shut down",
    6: "save",
    9: "pause",
    10: "restart",
    11: "reset",
    S.V1_PAUSED: "pause",
    S.V1_SUSPENDED: "save",
}


def change_state(host: SimulatedHost, vm: VM, requested: int, *, job: bool = True) -> MethodResult:
    """Start moving ``vm`` to ``requested`` (the heart of RequestStateChange)."""
    host.settle(vm)
    table = _V1_TRANSITIONS if host.os.v1 else _V2_TRANSITIONS
    if requested not in table and requested != 4:
        return MethodResult(INVALID_PARAMETER)
    if vm.pending is not None:
        return MethodResult(INVALID_STATE)
    via: int
    if requested == 4:  # shut down through the guest (v1 RequestedState 4 / InitiateShutdown)
        if vm.state != S.RUNNING or not vm.shutdown_ic:
            return MethodResult(INVALID_STATE)
        via = S.V1_STOPPING if host.os.v1 else S.SHUTTING_DOWN
    else:
        via_for = table[requested].get(vm.state)
        if via_for is None:
            return MethodResult(INVALID_STATE)
        via = via_for
    verb = _VERBS[requested]
    started = host.start_job(
        caption=_CAPTIONS[requested],
        description=f"Changing the state of virtual machine '{vm.name}'",
        job_type=2 if requested != 4 else 12,
        vm=vm,
        error_description=f"'{vm.name}' failed to {verb}. (Virtual machine ID {vm.guid})",
    )
    vm.pending = Transition(
        target=_FINAL[requested],
        via=via,
        source=vm.state,
        end=started.end,
        fail=started.fail,
        restart=requested in (10, 11),
    )
    vm.requested = requested
    host.settle(vm)
    if not job:
        return MethodResult(OK)
    return _job_result(host, job_ref(host, started))


def _request_state_change(host: SimulatedHost, target: Instance, args: _Args) -> MethodResult:
    requested = args.get_int("RequestedState")
    assert requested is not None
    vm = _vm_of(host, target)
    if vm is None:  # the host itself: "only valid for instances that represent a VM"
        return MethodResult(NOT_SUPPORTED)
    if requested == 4 and not host.os.v1:  # "Shut Down" is a v1-only RequestedState
        return MethodResult(INVALID_PARAMETER)
    return change_state(host, vm, requested)


def _initiate_shutdown(host: SimulatedHost, target: Instance, args: _Args) -> MethodResult:
    args.get_bool("Force")
    args.get_str("Reason")
    vm = _vm_of(host, target)
    if vm is None:
        return MethodResult(INVALID_PARAMETER)
    # Works only while the guest's shutdown integration component answers; the method has no
    # Job output, so it returns 0 and the VM goes 4 (Shutting Down) -> 3 (Off).
    return change_state(host, vm, 4, job=False)


# --- Msvm_Keyboard --------------------------------------------------------------------------------
def _keyboard_vm(host: SimulatedHost, target: Instance) -> VM | None:
    vm = _vm_of(host, target)
    if vm is None or host.enabled_state(vm) != S.RUNNING:
        return None
    return vm


def _remember(vm: VM, text: str) -> None:
    vm.typed.append(text)
    del vm.typed[:-100]


def _key_code(args: _Args, name: str = "keyCode") -> int:
    code = args.get_int(name)
    assert code is not None
    if not 0 <= code <= 0xFF:
        raise MethodFault(f"{name} must be a virtual-key code 0..255")
    return code


def _press_key(host: SimulatedHost, target: Instance, args: _Args) -> MethodResult:
    code = _key_code(args)
    vm = _keyboard_vm(host, target)
    if vm is None:
        return MethodResult(INVALID_STATE)
    vm.keys_down.add(code)
    _remember(vm, f"<down {code}>")
    return MethodResult(OK)


def _release_key(host: SimulatedHost, target: Instance, args: _Args) -> MethodResult:
    code = _key_code(args)
    vm = _keyboard_vm(host, target)
    if vm is None:
        return MethodResult(INVALID_STATE)
    vm.keys_down.discard(code)
    _remember(vm, f"<up {code}>")
    return MethodResult(OK)


def _type_key(host: SimulatedHost, target: Instance, args: _Args) -> MethodResult:
    code = _key_code(args)
    vm = _keyboard_vm(host, target)
    if vm is None:
        return MethodResult(INVALID_STATE)
    _remember(vm, chr(code) if 0x20 <= code < 0x7F else f"<key {code}>")
    return MethodResult(OK)


def _type_text(host: SimulatedHost, target: Instance, args: _Args) -> MethodResult:
    text = args.get_str("asciiText")
    if text is None:
        raise MethodFault("missing parameter asciiText")
    if not text.isascii():
        return MethodResult(INVALID_PARAMETER)
    vm = _keyboard_vm(host, target)
    if vm is None:
        return MethodResult(INVALID_STATE)
    _remember(vm, text)
    return MethodResult(OK)


def _type_ctrl_alt_del(host: SimulatedHost, target: Instance, args: _Args) -> MethodResult:
    vm = _keyboard_vm(host, target)
    if vm is None:
        return MethodResult(INVALID_STATE)
    _remember(vm, "<Ctrl+Alt+Del>")
    return MethodResult(OK)


# --- Msvm_VirtualSystemManagementService ----------------------------------------------------------
def _settings_vm(host: SimulatedHost, ref: Ref | None) -> VM | None:
    if ref is None:
        return None
    return vm_for_keys(host, [v for _, v in ref.keys])


def _apply_system_settings(host: SimulatedHost, vm: VM, settings: EmbeddedInstance) -> None:
    name = settings.value("ElementName")
    if isinstance(name, str) and name:
        vm.name = name
    notes = settings.value("Notes")
    if isinstance(notes, list):
        vm.notes = "\n".join(str(n) for n in notes if n is not None)
    elif isinstance(notes, str):
        vm.notes = notes
    action = settings.value("AutomaticStartupAction")
    if action is not None:
        try:
            number = int(str(action))
        except ValueError:
            raise MethodFault("AutomaticStartupAction must be a number") from None
        if settings.class_name.lower() == "msvm_virtualsystemglobalsettingdata":
            # 2008 R2 numbers it 0 none, 1 restart if it was running, 2 always; the VM keeps
            # the v2 value (2, 3, 4).
            v2 = {v1: v2 for v2, v1 in V1_STARTUP_ACTION.items()}.get(number)
            if v2 is None:
                raise MethodFault("AutomaticStartupAction must be 0, 1 or 2")
            number = v2
        vm.autostart = number
    kind = settings.value("UserSnapshotType")
    if kind is not None and not host.os.v1:
        if str(kind).strip() not in ("2", "3", "4", "5"):
            raise MethodFault("UserSnapshotType must be 2, 3, 4 or 5")
        vm.snapshot_type = int(str(kind))


def _define_system(host: SimulatedHost, target: Instance, args: _Args) -> MethodResult:
    names = (
        ("SystemSettingData", "ResourceSettingData", "DefinedSystem")
        if host.os.v1
        else ("SystemSettings", "ResourceSettings", "ResultingSystem")
    )
    settings_list = args.get_instances(names[0])
    settings = (
        settings_list[0] if settings_list else EmbeddedInstance("Msvm_VirtualSystemSettingData")
    )
    if settings.class_name.lower() != "msvm_virtualsystemsettingdata":
        return MethodResult(INVALID_PARAMETER)
    subtype = settings.value("VirtualSystemSubType")
    generation = 2 if isinstance(subtype, str) and subtype.endswith(":2") else 1
    if generation == 2 and not host.os.generation2:
        return MethodResult(INVALID_PARAMETER)
    version = settings.value("Version")
    known = {host.os.vm_version, *host.os.older_vm_versions}
    if isinstance(version, str) and version and version not in known:
        return MethodResult(INVALID_PARAMETER)
    resources = args.get_instances(names[1])
    for res in resources:
        if _resource_class(host, res.class_name) is None:
            return MethodResult(INVALID_PARAMETER)
    vm = VM(guid=host.new_guid(), name="New Virtual Machine", seed=host.new_seed())
    vm.generation = generation
    vm.version = version if isinstance(version, str) and version else host.os.vm_version
    vm.cpus, vm.memory_mb, vm.disks, vm.nics = 1, 512 if host.os.v1 else 1024, 0, 0
    vm.created = vm.changed = host.wall()
    vm.guest_os, vm.shutdown_ic = "", False
    _apply_system_settings(host, vm, settings)
    job = host.start_job(
        caption="Creating",
        description=f"Creating virtual machine '{vm.name}'",
        job_type=5,
        vm=None,
        error_description=f"Failed to create virtual machine '{vm.name}'.",
    )
    if job.fail:
        return _job_result(host, job_ref(host, job), **{names[2]: None})
    host.vms[vm.guid] = vm
    for res in resources:
        _add_resource(host, vm, res)
    return _job_result(host, job_ref(host, job), **{names[2]: cs_ref(host, vm.guid)})


def _destroy_system(host: SimulatedHost, target: Instance, args: _Args) -> MethodResult:
    ref = args.get_ref(host, "ComputerSystem" if host.os.v1 else "AffectedSystem")
    vm = _settings_vm(host, ref)
    if vm is None:
        return MethodResult(INVALID_PARAMETER)
    host.settle(vm)
    if vm.pending is not None or vm.state not in (S.OFF, S.SAVED, S.V1_SUSPENDED):
        return MethodResult(INVALID_STATE)
    job = host.start_job(
        caption="Deleting",
        description=f"Deleting virtual machine '{vm.name}'",
        job_type=6,
        vm=None,
        error_description=f"Failed to delete virtual machine '{vm.name}'.",
    )
    if not job.fail:
        del host.vms[vm.guid]
    return _job_result(host, job_ref(host, job))


def _modify_system_settings(host: SimulatedHost, target: Instance, args: _Args) -> MethodResult:
    settings = args.get_instances("SystemSettingData" if host.os.v1 else "SystemSettings")
    if not settings:
        raise MethodFault("missing parameter SystemSettings")
    if host.os.v1:
        vm = _settings_vm(host, args.get_ref(host, "ComputerSystem"))
    else:
        iid = settings[0].value("InstanceID")
        vm = vm_for_keys(host, [iid]) if isinstance(iid, str) else None
        found = find_snapshot(host, iid) if vm is None and isinstance(iid, str) else None
        if found is not None:
            # Renaming a checkpoint is ModifySystemSettings on its VSSD (Rename-VMSnapshot).
            return _rename_snapshot(host, *found, settings[0])
    if vm is None:
        return MethodResult(INVALID_PARAMETER)
    job = host.start_job(
        caption="Modifying",
        description=f"Modifying settings of '{vm.name}'",
        job_type=7,
        vm=vm,
        error_description=f"Failed to modify settings of '{vm.name}'.",
    )
    if not job.fail:
        _apply_system_settings(host, vm, settings[0])
    return _job_result(host, job_ref(host, job))


def _rename_snapshot(
    host: SimulatedHost, vm: VM, snap: Snapshot, settings: EmbeddedInstance
) -> MethodResult:
    job = _snapshot_job(host, vm, "Modifying checkpoint", "rename checkpoint", False)
    name = settings.value("ElementName")
    if not job.fail and isinstance(name, str) and name:
        snap.name = name
    return _job_result(host, job_ref(host, job))


def _resource_class(host: SimulatedHost, class_name: str) -> ClassDef | None:
    cls = SCHEMAS[host.namespace].get(class_name)
    if cls is None or not cls.is_a("CIM_ResourceAllocationSettingData"):
        return None
    return cls


#: ResourceType of a disk image (CIM "Logical Disk").
_LOGICAL_DISK = 31


def _add_resource(host: SimulatedHost, vm: VM, emb: EmbeddedInstance) -> Ref:
    cls = _resource_class(host, emb.class_name)
    assert cls is not None
    if not host.os.v1 and cls.name == "Msvm_ResourceAllocationSettingData":
        # Hyper-V stores a disk image as Msvm_StorageAllocationSettingData whatever class the
        # caller embedded it as, and later finds it only as that class (libvirt looks for
        # attached images there).
        rtype = emb.value("ResourceType")
        if isinstance(rtype, str | int) and str(rtype).strip() == str(_LOGICAL_DISK):
            storage = _resource_class(host, "Msvm_StorageAllocationSettingData")
            assert storage is not None
            cls = storage
    values: dict[str, object] = {
        p.name: _typed(value, cls, name)
        for name, (_t, value) in emb.properties.items()
        if (p := cls.prop(name)) is not None
    }
    parent = values.get("Parent")
    if cls.name == "Msvm_EthernetPortAllocationSettingData" and isinstance(parent, str):
        values["InstanceID"] = (
            f"{parse_object_path(parent, host.namespace).key_map().get('instanceid', '')}\\C"
        )
    else:
        values["InstanceID"] = f"Microsoft:{vm.guid}\\{host.new_guid()}"
    if cls.name == "Msvm_SyntheticEthernetPortSettingData" and not values.get("Address"):
        values["Address"] = host.new_mac()
    values.setdefault("ElementName", cls.name.removeprefix("Msvm_").removesuffix("SettingData"))
    materialize_resources(host, vm).append(Resource(cls.name, values))
    return Ref.make(host.namespace, cls.name, {"InstanceID": values["InstanceID"]})


def _add_resource_settings(host: SimulatedHost, target: Instance, args: _Args) -> MethodResult:
    v1 = host.os.v1
    ref = args.get_ref(host, "TargetSystem" if v1 else "AffectedConfiguration")
    vm = _settings_vm(host, ref)
    if vm is None:
        return MethodResult(INVALID_PARAMETER)
    resources = args.get_instances("ResourceSettingData" if v1 else "ResourceSettings")
    if not resources or any(_resource_class(host, r.class_name) is None for r in resources):
        return MethodResult(INVALID_PARAMETER)
    job = host.start_job(
        caption="Adding resources",
        description=f"Adding devices to '{vm.name}'",
        job_type=8,
        vm=vm,
        error_description=f"Failed to add device to '{vm.name}'.",
    )
    added = [] if job.fail else [_add_resource(host, vm, r) for r in resources]
    return _job_result(
        host, job_ref(host, job), **{"NewResources" if v1 else "ResultingResourceSettings": added}
    )


def _find_resource(host: SimulatedHost, instance_id: str) -> tuple[VM, Resource] | None:
    vm = vm_for_keys(host, [instance_id])
    if vm is None:
        return None
    wanted = instance_id.casefold()
    for res in vm_resources(host, vm):
        if res.instance_id.casefold() == wanted:
            return vm, res
    return None


def _modify_resource_settings(host: SimulatedHost, target: Instance, args: _Args) -> MethodResult:
    v1 = host.os.v1
    embedded = args.get_instances("ResourceSettingData" if v1 else "ResourceSettings")
    if not embedded:
        raise MethodFault("missing parameter ResourceSettings")
    changes: list[tuple[VM, Resource, dict[str, object]]] = []
    for emb in embedded:
        iid = emb.value("InstanceID")
        found = _find_resource(host, iid) if isinstance(iid, str) else None
        cls = _resource_class(host, emb.class_name)
        if found is None or cls is None:
            return MethodResult(INVALID_PARAMETER)
        vm, res = found
        updates = {
            p.name: _typed(value, cls, name)
            for name, (_t, value) in emb.properties.items()
            if (p := cls.prop(name)) is not None and p.name != "InstanceID"
        }
        quantity = updates.get("VirtualQuantity")
        changed = quantity is not None and quantity != res.values.get("VirtualQuantity")
        state = host.enabled_state(vm)
        if res.class_name == "Msvm_ProcessorSettingData" and quantity is not None:
            if not isinstance(quantity, int) or not 1 <= quantity <= host.os.max_vcpus:
                return MethodResult(INVALID_PARAMETER)
            # vCPUs cannot be hot-added or removed: only an Off VM takes a new count.
            if changed and state != S.OFF:
                return MethodResult(INVALID_STATE)
        if res.class_name == "Msvm_MemorySettingData" and quantity is not None:
            if not isinstance(quantity, int) or quantity < 32 or quantity % 2:
                return MethodResult(INVALID_PARAMETER)
            # A saved VM's memory image and device state were written for its configured
            # memory and processors, so Hyper-V changes neither until the saved state is
            # resumed or deleted: memory follows the vCPU rule there (a running VM may still
            # resize its memory, as Windows Server 2016 and later allow).
            if changed and state in _SAVED_STATES:
                return MethodResult(INVALID_STATE)
        changes.append((vm, res, updates))
    job = host.start_job(
        caption="Modifying resources",
        description="Modifying device settings",
        job_type=9,
        vm=changes[0][0],
        error_description="Failed to modify device settings.",
    )
    results: list[Ref] = []
    if not job.fail:
        for vm, res, updates in changes:
            stored = next(
                r for r in materialize_resources(host, vm) if r.instance_id == res.instance_id
            )
            stored.values = {**stored.values, **updates}
            results.append(
                Ref.make(host.namespace, stored.class_name, {"InstanceID": stored.instance_id})
            )
    outputs = {} if v1 else {"ResultingResourceSettings": results}
    return _job_result(host, job_ref(host, job), **outputs)


_SAVED_STATES = frozenset({S.SAVED, S.SAVING, S.V1_SUSPENDED})


def _remove_resource_settings(host: SimulatedHost, target: Instance, args: _Args) -> MethodResult:
    v1 = host.os.v1
    refs = args.get_refs(host, "ResourceSettingData" if v1 else "ResourceSettings")
    if not refs:
        raise MethodFault("missing parameter ResourceSettings")
    found: list[tuple[VM, Resource]] = []
    for ref in refs:
        hit = _find_resource(host, ref.key_map().get("instanceid", ""))
        if hit is None or hit[1].class_name in (
            "Msvm_ProcessorSettingData",
            "Msvm_MemorySettingData",
        ):
            return MethodResult(INVALID_PARAMETER)
        found.append(hit)
    job = host.start_job(
        caption="Removing resources",
        description="Removing devices",
        job_type=10,
        vm=found[0][0],
        error_description="Failed to remove device.",
    )
    if not job.fail:
        for vm, res in found:
            stored = materialize_resources(host, vm)
            stored[:] = [r for r in stored if r.instance_id != res.instance_id]
    return _job_result(host, job_ref(host, job))


# --- summaries and screenshots --------------------------------------------------------------------
def _get_summary_information(host: SimulatedHost, target: Instance, args: _Args) -> MethodResult:
    codes = args.get_ints("RequestedInformation")
    refs = args.get_refs(host, "SettingData")
    vms: list[VM] = []
    if not refs:
        vms = list(host.all_vms())
    for ref in refs:
        vm = _settings_vm(host, ref)
        if vm is None or resolve(host, ref) is None:
            return MethodResult(INVALID_PARAMETER)
        vms.append(vm)
    summaries = [to_cim(summary_instance(host, vm, codes)) for vm in vms]
    return MethodResult(OK, {"SummaryInformation": summaries})


def _get_thumbnail(host: SimulatedHost, target: Instance, args: _Args) -> MethodResult:
    width = args.get_int("WidthPixels")
    height = args.get_int("HeightPixels")
    assert width is not None and height is not None
    vm = _settings_vm(host, args.get_ref(host, "TargetSystem"))
    if vm is None:
        return MethodResult(INVALID_PARAMETER)
    if not (1 <= width <= 4096 and 1 <= height <= 4096):
        return MethodResult(INVALID_PARAMETER)
    if not vm.is_on:
        return MethodResult(INVALID_STATE)
    # WinRM writes a uint8[] output as one base64 text (libvirt base64-decodes ImageData).
    data = base64.b64encode(vm_image(host, vm, width, height)).decode("ascii")
    return MethodResult(OK, {"ImageData": data})


# --- Msvm_VirtualSystemSnapshotService -----------------------------------------------------------
# Return codes are CIM_VirtualSystemSnapshotService's (Microsoft: "CreateSnapshot method of the
# Msvm_VirtualSystemSnapshotService class" and its Apply/Destroy/DestroySnapshotTree pages):
# 0 OK, 1 Not Supported, 4 Invalid Parameter, 5 Invalid State, 4096 job started.
def _snapshot_arg(host: SimulatedHost, args: _Args, name: str) -> tuple[VM, Snapshot] | None:
    ref = args.get_ref(host, name)
    assert ref is not None
    return find_snapshot(host, ref.key_map().get("instanceid", ""))


def _snapshot_job(host: SimulatedHost, vm: VM, caption: str, verb: str, fail: bool) -> Job:
    return host.start_job(
        caption=caption,
        description=f"{caption} of virtual machine '{vm.name}'",
        job_type=2,
        vm=vm,
        fail=True if fail else None,
        error_description=f"'{vm.name}' failed to {verb}. (Virtual machine ID {vm.guid})",
    )


def _create_snapshot(host: SimulatedHost, target: Instance, args: _Args) -> MethodResult:
    vm = _settings_vm(host, args.get_ref(host, "AffectedSystem"))
    settings = args.get_instances("SnapshotSettings")
    snapshot_type = args.get_int("SnapshotType", required=False)
    if vm is None:
        return MethodResult(snapshots.INVALID_PARAMETER)
    code, snap, refused = snapshots.create_snapshot(
        host, vm, settings[0] if settings else None, 2 if snapshot_type is None else snapshot_type
    )
    if snap is None:
        return MethodResult(code)
    job = _snapshot_job(
        host,
        vm,
        "Creating checkpoint",
        "create a production checkpoint: the guest's integration services did not answer"
        if refused
        else "create checkpoint",
        refused,
    )
    if job.fail:
        return _job_result(host, job_ref(host, job), ResultingSnapshot=None)
    vm.snapshots.append(snap)
    vm.current_snapshot = snap.guid
    ref = Ref.make(
        host.namespace, "Msvm_VirtualSystemSettingData", {"InstanceID": f"Microsoft:{snap.guid}"}
    )
    return _job_result(host, job_ref(host, job), ResultingSnapshot=ref)


def _apply_snapshot(host: SimulatedHost, target: Instance, args: _Args) -> MethodResult:
    found = _snapshot_arg(host, args, "Snapshot")
    if found is None:
        return MethodResult(snapshots.INVALID_PARAMETER)
    vm, snap = found
    host.settle(vm)
    # Only an Off or Saved VM takes a checkpoint's state (Hyper-V turns a running VM off first).
    if vm.pending is not None or vm.state not in (S.OFF, S.SAVED):
        return MethodResult(snapshots.INVALID_STATE)
    job = _snapshot_job(host, vm, "Applying checkpoint", "apply checkpoint", False)
    if not job.fail:
        snapshots.apply_snapshot(host, vm, snap)
    return _job_result(host, job_ref(host, job))


def _destroy(tree: bool, param: str) -> Callable[[SimulatedHost, Instance, _Args], MethodResult]:
    def handler(host: SimulatedHost, target: Instance, args: _Args) -> MethodResult:
        found = _snapshot_arg(host, args, param)
        if found is None:
            return MethodResult(snapshots.INVALID_PARAMETER)
        vm, snap = found
        host.settle(vm)
        if vm.pending is not None:
            return MethodResult(snapshots.INVALID_STATE)
        job = _snapshot_job(host, vm, "Deleting checkpoint", "delete checkpoint", False)
        if not job.fail:
            snapshots.destroy_snapshot(vm, snap, tree=tree)
        return _job_result(host, job_ref(host, job))

    return handler


# --- Msvm_ImageManagementService ------------------------------------------------------------------
# GetVirtualHardDiskSettingData(Path) -> SettingData and GetVirtualHardDiskState(Path) -> State
# (Microsoft's pages for the methods): 0 with the embedded instance, 32773 Invalid parameter,
# 32779 File not found.
def _get_vhd_settings(host: SimulatedHost, target: Instance, args: _Args) -> MethodResult:
    path = args.get_str("Path")
    if not path:
        raise MethodFault("missing parameter Path")
    code, settings = disks.disk_settings(host, path)
    return MethodResult(code, {"SettingData": settings} if settings is not None else {})


def _get_vhd_state(host: SimulatedHost, target: Instance, args: _Args) -> MethodResult:
    path = args.get_str("Path")
    if not path:
        raise MethodFault("missing parameter Path")
    code, state = disks.disk_state(host, path)
    return MethodResult(code, {"State": state} if state is not None else {})


# --- Msvm_VirtualSystemMigrationService -----------------------------------------------------------
def _migrate_to_host(host: SimulatedHost, target: Instance, args: _Args) -> MethodResult:
    # MigrateVirtualSystemToHost (Microsoft's page for the method): Msvm_ReturnCode values.
    vm = _settings_vm(host, args.get_ref(host, "ComputerSystem"))
    destination = args.get_str("DestinationHost")
    settings = args.get_instances("MigrationSettingData")
    args.get_instances("NewSystemSettingData")
    args.get_instances("NewResourceSettingData")
    if vm is None or not destination:
        return MethodResult(INVALID_PARAMETER)
    kind = settings[0].value("MigrationType") if settings else None
    try:
        migration_type = migration.VIRTUAL_SYSTEM if kind is None else int(str(kind))
    except ValueError:
        raise MethodFault("MigrationType must be a number") from None
    if migration_type not in (
        migration.VIRTUAL_SYSTEM,
        migration.STORAGE,
        migration.STAGED,
        migration.VIRTUAL_SYSTEM_AND_STORAGE,
    ):
        return MethodResult(INVALID_PARAMETER)
    if migration_type != migration.VIRTUAL_SYSTEM:
        return MethodResult(NOT_SUPPORTED)  # storage moves are not simulated
    host.settle(vm)
    if vm.pending is not None:
        return MethodResult(INVALID_STATE)
    code, why = migration.check_migration(host, vm, destination)
    job = host.start_job(
        caption="Migrating",
        description=f"Migrating virtual machine '{vm.name}'",
        job_type=2,
        vm=vm,
        fail=True if code else None,
        error_description=why or f"Virtual machine migration operation for '{vm.name}' failed.",
    )
    if code:
        job.error_code = code
    elif not job.fail:
        migration.move_vm(host, vm, destination)
    return _job_result(host, job_ref(host, job))


# --- tables ---------------------------------------------------------------------------------------
_COMMON: dict[tuple[str, str], Callable[[SimulatedHost, Instance, _Args], MethodResult]] = {
    ("msvm_computersystem", "requeststatechange"): _request_state_change,
    ("msvm_shutdowncomponent", "initiateshutdown"): _initiate_shutdown,
    ("msvm_keyboard", "presskey"): _press_key,
    ("msvm_keyboard", "releasekey"): _release_key,
    ("msvm_keyboard", "typekey"): _type_key,
    ("msvm_keyboard", "typetext"): _type_text,
    ("msvm_keyboard", "typectrlaltdel"): _type_ctrl_alt_del,
    ("msvm_virtualsystemmanagementservice", "getsummaryinformation"): _get_summary_information,
    ("msvm_virtualsystemmanagementservice", "getvirtualsystemthumbnailimage"): _get_thumbnail,
}
_VSMS = "msvm_virtualsystemmanagementservice"
_SNAP = "msvm_virtualsystemsnapshotservice"
_IMS = "msvm_imagemanagementservice"
_V2_METHODS = {
    **_COMMON,
    ("msvm_virtualsystemmigrationservice", "migratevirtualsystemtohost"): _migrate_to_host,
    (_IMS, "getvirtualharddisksettingdata"): _get_vhd_settings,
    (_IMS, "getvirtualharddiskstate"): _get_vhd_state,
    (_SNAP, "createsnapshot"): _create_snapshot,
    (_SNAP, "applysnapshot"): _apply_snapshot,
    (_SNAP, "destroysnapshot"): _destroy(False, "AffectedSnapshot"),
    (_SNAP, "destroysnapshottree"): _destroy(True, "SnapshotSettingData"),
    (_VSMS, "definesystem"): _define_system,
    (_VSMS, "destroysystem"): _destroy_system,
    (_VSMS, "modifysystemsettings"): _modify_system_settings,
    (_VSMS, "addresourcesettings"): _add_resource_settings,
    (_VSMS, "modifyresourcesettings"): _modify_resource_settings,
    (_VSMS, "removeresourcesettings"): _remove_resource_settings,
}
_V1_METHODS = {
    **_COMMON,
    (_VSMS, "definevirtualsystem"): _define_system,
    (_VSMS, "destroyvirtualsystem"): _destroy_system,
    (_VSMS, "modifyvirtualsystem"): _modify_system_settings,
    (_VSMS, "addvirtualsystemresources"): _add_resource_settings,
    (_VSMS, "modifyvirtualsystemresources"): _modify_resource_settings,
    (_VSMS, "removevirtualsystemresources"): _remove_resource_settings,
}
