"""One schema, two users: the driver's class table and the simulator's classes must agree.

Both are derived from :mod:`aiohyperv.schema`; these tests hold the derivations to each other,
hold the schema to what libvirt's client requires, and keep it lazy.
"""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

from aiohyperv.cim import CimType
from aiohyperv.hyperv import _classes
from aiohyperv.schema import NAMESPACES, Schema, get_schema, parse_mof_properties
from aiohyperv.simulator._schema import SCHEMAS
from aiohyperv.wsman._ns import NAMESPACE_CIMV2, NAMESPACE_V1, NAMESPACE_V2

LIBVIRT_CLASSES = Path(__file__).parent / "libvirt_wmi_classes.txt"

DRIVER_CLASSES = [
    (namespace, name) for namespace, names in _classes.DRIVER_CLASSES.items() for name in names
]


@pytest.mark.parametrize(("namespace", "name"), DRIVER_CLASSES)
def test_driver_class_agrees_with_simulator(namespace: str, name: str) -> None:
    table = _classes.lookup(namespace, name)
    served = SCHEMAS[namespace].get(name)
    assert served is not None, f"the simulator does not serve {namespace}:{name}"
    assert served.name == table.name == name
    assert served.keys == table.keys
    assert table.keys, f"{name} has no keys"
    for prop in table.properties.values():
        other = served.prop(prop.name)
        assert other is not None, f"{name}.{prop.name} is not served"
        assert (other.name, other.type, other.array) == (prop.name, prop.type, prop.array)
    assert {p.name for p in served.properties} == set(table.properties)


def test_every_namespace_is_covered() -> None:
    assert set(_classes.DRIVER_CLASSES) == set(NAMESPACES) == set(SCHEMAS)
    assert set(_classes.NAMESPACES.values()) == {NAMESPACE_V2, NAMESPACE_V1}
    for namespace in NAMESPACES:
        assert SCHEMAS[namespace] is get_schema(namespace)


def test_lookup_is_exact_and_shared() -> None:
    vssd = _classes.lookup(NAMESPACE_V2, "Msvm_VirtualSystemSettingData")
    assert vssd is _classes.lookup(NAMESPACE_V2, "Msvm_VirtualSystemSettingData")
    assert vssd.resource_uri.endswith("/root/virtualization/v2/Msvm_VirtualSystemSettingData")
    with pytest.raises(KeyError):
        _classes.lookup(NAMESPACE_V2, "msvm_virtualsystemsettingdata")  # driver spells exactly
    with pytest.raises(KeyError):
        _classes.lookup(NAMESPACE_V2, "Msvm_VirtualSwitch")  # 2008 R2 only
    with pytest.raises(KeyError):
        _classes.lookup("root/nowhere", "Msvm_ComputerSystem")


def test_vssd_follows_each_namespaces_mof() -> None:
    # The two hand-kept tables used to disagree here: v1 VirtualSystemType is a uint16 and v1
    # Notes a scalar string (Microsoft's 2008 R2 page), v2 a string and a string array.
    v1 = _classes.lookup(NAMESPACE_V1, "Msvm_VirtualSystemSettingData").properties
    v2 = _classes.lookup(NAMESPACE_V2, "Msvm_VirtualSystemSettingData").properties
    assert (v1["VirtualSystemType"].type, v1["Notes"].array) == (CimType.UINT16, False)
    assert (v2["VirtualSystemType"].type, v2["Notes"].array) == (CimType.STRING, True)
    assert "AutomaticStartupAction" not in v1
    gsd = _classes.lookup(NAMESPACE_V1, "Msvm_VirtualSystemGlobalSettingData")
    assert gsd.properties["AutomaticStartupAction"].type is CimType.UINT16


def test_documented_properties_of_added_classes() -> None:
    v2 = get_schema(NAMESPACE_V2)
    switch = v2.get("Msvm_VirtualEthernetSwitch")
    assert switch is not None
    assert switch.prop("MaxIOVOffloads") is not None and switch.prop("MaxVMQOffloads")
    assert switch.prop("MaxChimneyOffloads") is None  # 2008 R2's Msvm_VirtualSwitch only
    display = {
        "TimeOfLastReset",
        "ProtocolSupported",
        "MaxNumberControlled",
        "ProtocolDescription",
        "VideoProcessor",
        "VideoMemoryType",
        "OtherVideoMemoryType",
        "NumberOfVideoPages",
        "MaxMemorySupported",
        "OtherVideoArchitecture",
        "VideoArchitecture",
    }
    for name in ("Msvm_SyntheticDisplayController", "Msvm_S3DisplayController"):
        cls = v2.get(name)
        assert cls is not None and cls.is_a("CIM_DisplayController")
        scalars = {p.name for p in cls.properties if not p.array}
        assert display <= scalars
        assert cls.prop("EnabledState").type is CimType.UINT16  # type: ignore[union-attr]
        assert cls.prop("CreationClassName").type is CimType.STRING  # type: ignore[union-attr]
    head = v2.get("Msvm_VideoHead")
    assert head is not None
    assert head.prop("CurrentHorizontalResolution").type is CimType.UINT32  # type: ignore[union-attr]
    assert v2.get("Msvm_DiskDrive").prop("DriveNumber") is not None  # type: ignore[union-attr]
    service = v2.get("Msvm_VirtualEthernetSwitchManagementService")
    assert service is not None and service.keys == (
        "CreationClassName",
        "Name",
        "SystemCreationClassName",
        "SystemName",
    )
    cimv2 = get_schema(NAMESPACE_CIMV2)
    assert cimv2.get("cim_datafile").keys == ("Name",)  # type: ignore[union-attr]
    counters = cimv2.get("Win32_PerfRawData_HvStats_HyperVHypervisorVirtualProcessor")
    assert counters is not None and counters.keys == ("Name",)
    assert counters.prop("PercentTotalRunTime").type is CimType.UINT64  # type: ignore[union-attr]


def _libvirt_classes() -> dict[str, dict[str, tuple[str, bool]]]:
    classes: dict[str, dict[str, tuple[str, bool]]] = {}
    current: dict[str, tuple[str, bool]] | None = None
    for raw in LIBVIRT_CLASSES.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        kind, name = line.split()
        if kind == "class":
            current = classes.setdefault(name, {})
            continue
        assert current is not None
        if kind.startswith("int"):  # libvirt's spelling of sint8..sint64
            kind = "s" + kind
        current[name.removesuffix("[]")] = (kind, name.endswith("[]"))
    return classes


LIBVIRT = _libvirt_classes()


def _served(name: str) -> Schema:
    for namespace in (NAMESPACE_V2, NAMESPACE_CIMV2):
        if name in get_schema(namespace):
            return get_schema(namespace)
    raise AssertionError(f"libvirt's class {name} is not in the schema")


@pytest.mark.parametrize("name", sorted(LIBVIRT))
def test_libvirt_class_has_every_scalar(name: str) -> None:
    """Each class libvirt declares for v2/cimv2 has every one of its scalars, same type."""
    cls = _served(name).get(name)
    assert cls is not None
    missing = []
    for prop_name, (kind, array) in LIBVIRT[name].items():
        prop = cls.prop(prop_name)
        if prop is None:
            if not array:
                missing.append(prop_name)
            continue
        assert (prop.type.value, prop.array) == (kind, array), f"{name}.{prop_name}"
    assert not missing, f"{name} lacks {missing}"


def test_libvirt_fixture_is_read() -> None:
    assert len(LIBVIRT) == 14
    assert LIBVIRT["Win32_ComputerSystem"]["CurrentTimeZone"] == ("sint16", False)
    assert LIBVIRT["Msvm_VirtualSystemSettingData"]["Notes"] == ("string", True)


def test_mof_parser() -> None:
    props = parse_mof_properties(
        "uint16 B; string a[]; Msvm_ComputerSystem REF Dependent; Msvm_ConcreteJob Jobs[];"
    )
    assert [(p.name, p.type, p.array, p.ref_class) for p in props] == [
        ("a", CimType.STRING, True, None),
        ("B", CimType.UINT16, False, None),
        ("Dependent", CimType.REFERENCE, False, "Msvm_ComputerSystem"),
        ("Jobs", CimType.INSTANCE, True, "Msvm_ConcreteJob"),
    ]
    with pytest.raises(ValueError, match="bad MOF declaration"):
        parse_mof_properties("uint16;")
    with pytest.raises(ValueError, match="bad MOF property name"):
        parse_mof_properties("uint16 9lives;")
    schema = Schema("root/test")
    with pytest.raises(ValueError, match="key Name is not a property"):
        schema.add("X_Class", "", "Name", "string Caption;")
    with pytest.raises(KeyError):
        get_schema("root/nowhere")


def test_import_parses_no_namespace() -> None:
    """``import aiohyperv`` stays cheap: no namespace is declared until someone asks."""
    code = (
        "import sys, aiohyperv\n"
        "print(sorted(m for m in sys.modules if m.startswith('aiohyperv.schema.')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    # The package's re-exports load on first use, so the model may not be loaded either.
    assert set(ast.literal_eval(out.strip())) <= {"aiohyperv.schema._model"}


def test_all_is_the_sorted_set_of_public_names() -> None:
    import aiohyperv.schema as package

    public = {
        name
        for name, value in vars(package).items()
        if not name.startswith("_") and not inspect.ismodule(value) and name != "annotations"
    }
    assert set(package.__all__) == public
    assert package.__all__ == sorted(public, key=lambda n: (not n.isupper(), not n[0].isupper(), n))
