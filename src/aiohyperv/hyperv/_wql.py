"""WQL text for every query the driver sends, with the escaping user-supplied values need.

WQL string literals use a backslash as escape character, so a VM name like ``it's \\ here`` must
be sent as ``'it\\'s \\\\ here'``.  libvirt escapes the same three characters (``'``, ``"``, ``\\``)
with ``virBufferEscapeSQL``.  Non-ASCII text passes through unchanged: the envelope is UTF-8.
Every value that comes from a caller goes through :func:`quote`; nothing else is interpolated.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohyperv._exceptions import ConfigError

from ._enums import active_states

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from ._enums import NamespaceVersion

__all__ = [
    "associators",
    "escape",
    "quote",
    "select",
]

#: Every Msvm_ComputerSystem but the host itself, whose Name is the host's computer name: the
#: ``__SERVER`` system property.  Windows localizes ``Description`` ("Microsoft Virtual
#: Machine" on an English host only), so a filter on it finds no VM on a German, Japanese or
#: Chinese host; libvirt selects VMs this way since 6.9 (MSVM_COMPUTERSYSTEM_WQL_VIRTUAL in
#: src/hyperv/hyperv_wmi_classes.h).  The same text works in root/virtualization (v1).
VIRTUAL_MACHINE = "Name != __SERVER"


def escape(value: str) -> str:
    """Backslash-escape ``\\``, ``'`` and ``"`` for use inside a WQL string literal.

    Raises:
        ConfigError: the value contains a NUL character, which no WMI string can hold.
    """
    if "\x00" in value:
        raise ConfigError("a WQL value cannot contain a NUL character")
    if "\\" in value or "'" in value or '"' in value:
        value = value.replace("\\", "\\\\").replace("'", "\\'").replace('"', '\\"')
    return value


def quote(value: str) -> str:
    """A single-quoted, escaped WQL string literal."""
    return f"'{escape(value)}'"


def select(class_name: str, where: str | None = None, *, properties: Iterable[str] = ()) -> str:
    """``SELECT <props|*> FROM <class> [WHERE <where>]``; ``where`` must already be escaped."""
    props = ", ".join(properties) or "*"
    text = f"SELECT {props} FROM {class_name}"
    return f"{text} WHERE {where}" if where else text


def object_path(class_name: str, keys: Mapping[str, str]) -> str:
    """A WMI object path such as ``Msvm_ComputerSystem.CreationClassName='...',Name='...'``."""
    return class_name + "." + ",".join(f"{k}={quote(v)}" for k, v in keys.items())


def associators(
    class_name: str,
    keys: Mapping[str, str],
    *,
    assoc_class: str | None = None,
    result_class: str | None = None,
) -> str:
    """``ASSOCIATORS OF {path} WHERE AssocClass = A ResultClass = R``."""
    text = f"ASSOCIATORS OF {{{object_path(class_name, keys)}}}"
    clauses = []
    if assoc_class:
        clauses.append(f"AssocClass = {assoc_class}")
    if result_class:
        clauses.append(f"ResultClass = {result_class}")
    return f"{text} WHERE {' '.join(clauses)}" if clauses else text


# -- Msvm_ComputerSystem -------------------------------------------------------------------------


def _state_filter(namespace: NamespaceVersion, *, active: bool) -> str:
    states = active_states(namespace)
    if active:
        return "(" + " OR ".join(f"EnabledState = {s}" for s in states) + ")"
    return "(" + " AND ".join(f"EnabledState != {s}" for s in states) + ")"


def vm_list(namespace: NamespaceVersion, *, active: bool | None = None) -> str:
    """Virtual machines (never the host itself), optionally only active or inactive ones."""
    where = VIRTUAL_MACHINE
    if active is not None:
        where += " AND " + _state_filter(namespace, active=active)
    return select("Msvm_ComputerSystem", where)


def vm_by_name(name: str) -> str:
    """The VMs whose ElementName is ``name`` (Hyper-V allows duplicates)."""
    return select("Msvm_ComputerSystem", f"{VIRTUAL_MACHINE} AND ElementName = {quote(name)}")


def vm_by_uuid(uuid: str) -> str:
    """The VM whose Name (its GUID) is ``uuid``."""
    return select("Msvm_ComputerSystem", f"{VIRTUAL_MACHINE} AND Name = {quote(uuid)}")


def vm_by_id(domain_id: int) -> str:
    """The running VM whose worker process has ``domain_id`` (libvirt's domain ID)."""
    return select("Msvm_ComputerSystem", f"{VIRTUAL_MACHINE} AND ProcessID = {int(domain_id)}")


def _vm_keys(uuid: str) -> dict[str, str]:
    return {"CreationClassName": "Msvm_ComputerSystem", "Name": uuid}


def vm_settings(uuid: str) -> str:
    """The VM's current Msvm_VirtualSystemSettingData (through Msvm_SettingsDefineState)."""
    return associators(
        "Msvm_ComputerSystem",
        _vm_keys(uuid),
        assoc_class="Msvm_SettingsDefineState",
        result_class="Msvm_VirtualSystemSettingData",
    )


def vm_associated(uuid: str, result_class: str) -> str:
    """Instances of ``result_class`` associated with the VM (keyboard, video heads...)."""
    return associators("Msvm_ComputerSystem", _vm_keys(uuid), result_class=result_class)


def settings_components(vssd_instance_id: str, result_class: str) -> str:
    """The VSSD's component settings of one class (processor, memory, RASDs...)."""
    return associators(
        "Msvm_VirtualSystemSettingData",
        {"InstanceID": vssd_instance_id},
        assoc_class="Msvm_VirtualSystemSettingDataComponent",
        result_class=result_class,
    )


def shutdown_component(uuid: str) -> str:
    """The VM's Msvm_ShutdownComponent (guest integration service)."""
    return select("Msvm_ShutdownComponent", f"SystemName = {quote(uuid)}")


def keyboard(uuid: str) -> str:
    """The VM's Msvm_Keyboard (libvirt's form: associators with ResultClass only)."""
    return vm_associated(uuid, "Msvm_Keyboard")


def max_processor_settings() -> str:
    """The host's ``Microsoft:Definition...Maximum`` processor row (its VirtualQuantity)."""
    return select("Msvm_ProcessorSettingData", "InstanceID LIKE 'Microsoft:Definition%Maximum'")


def concrete_job(instance_id: str) -> str:
    """One Msvm_ConcreteJob by InstanceID (fallback when Get by selector is refused)."""
    return select("Msvm_ConcreteJob", f"InstanceID = {quote(instance_id)}")


def by_path(class_name: str, path: str) -> str:
    """``SELECT * FROM C WHERE __PATH = '<path>'`` for a WMI path held in a property."""
    return select(class_name, f"__PATH = {quote(path)}")


def switches(namespace: NamespaceVersion) -> str:
    """The virtual switches (v2: healthy ones only, as libvirt does)."""
    if namespace == "v2":
        return select("Msvm_VirtualEthernetSwitch", "HealthState = 5")
    return select("Msvm_VirtualSwitch")


def vcpu_counter(domain_name: str, vcpu: int) -> str:
    """The hypervisor's per-vCPU counter row, named ``<domain>:Hv VP <n>``."""
    return select(
        "Win32_PerfRawData_HvStats_HyperVHypervisorVirtualProcessor",
        f"Name = {quote(f'{domain_name}:Hv VP {int(vcpu)}')}",
    )


def vcpu_counters(domain_name: str) -> str:
    """All of one domain's per-vCPU counter rows in one query (``LIKE '<domain>:Hv VP %'``)."""
    pattern = escape(domain_name).replace("[", "[[]").replace("%", "[%]").replace("_", "[_]")
    return select(
        "Win32_PerfRawData_HvStats_HyperVHypervisorVirtualProcessor",
        f"Name LIKE '{pattern}:Hv VP %'",
    )


# -- root/cimv2 ----------------------------------------------------------------------------------


def host_processors(computer_name: str) -> str:
    """The host's Win32_Processor rows (one per socket)."""
    return associators(
        "Win32_ComputerSystem",
        {"Name": computer_name},
        assoc_class="Win32_ComputerSystemProcessor",
        result_class="Win32_Processor",
    )
