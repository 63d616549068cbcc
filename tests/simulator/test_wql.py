"""The WQL engine: grammar, comparison semantics, system properties, associations, errors."""

from __future__ import annotations

import pytest

from aiohyperv.simulator import HostSpec, SimulatedHost, VMState
from aiohyperv.simulator._wql import (
    WBEM_E_INVALID_CLASS,
    WBEM_E_INVALID_QUERY,
    WBEM_E_NOT_FOUND,
    WQLError,
    execute,
    parse_wql,
)
from aiohyperv.wsman import NAMESPACE_CIMV2, NAMESPACE_V1, NAMESPACE_V2

from ._helpers import ManualClock

V2 = NAMESPACE_V2


@pytest.fixture(scope="module")
def host() -> SimulatedHost:
    return SimulatedHost.generate(HostSpec(name="hv07", vms=12, seed=3), clock=ManualClock())


def run(host: SimulatedHost, query: str, namespace: str = V2) -> list[str]:
    found, _ = execute(host, namespace, parse_wql(query))
    return [str(i.values.get("Name") or i.values.get("InstanceID") or i.cls.name) for i in found]


def vms(host: SimulatedHost):
    return list(host.vms.values())


def test_libvirt_active_and_inactive_filters_partition_the_vms(host: SimulatedHost) -> None:
    base = 'SELECT * FROM Msvm_ComputerSystem WHERE Description = "Microsoft Virtual Machine" '
    active = run(
        host, base + "AND (EnabledState != 0 and EnabledState != 3 and EnabledState != 32769)"
    )
    inactive = run(
        host, base + "AND (EnabledState = 0 or EnabledState = 3 or EnabledState = 32769)"
    )
    assert sorted(active + inactive) == sorted(v.guid for v in vms(host))
    assert set(inactive) == {v.guid for v in vms(host) if v.state == VMState.OFF}
    assert active and inactive


def test_lookup_by_name_ignores_case(host: SimulatedHost) -> None:
    vm = vms(host)[4]
    assert run(host, f"select * from msvm_computersystem where name = '{vm.guid.lower()}'") == [
        vm.guid
    ]
    assert run(
        host, f"SELECT * FROM Msvm_ComputerSystem WHERE ElementName = '{vm.name.upper()}'"
    ) == [vm.guid]


@pytest.mark.parametrize(
    ("pattern", "name", "matches"),
    [
        ("web-%", "web-01", True),
        ("web-%", "db-01", False),
        ("%-0_", "web-07", True),
        ("%-0_", "web-10", False),
        ("[a-d]%", "db-01", True),
        ("[a-d]%", "web-01", False),
        ("[^a-d]%", "web-01", True),
        ("WEB%", "web-01", True),
        ("w_b-01", "web-01", True),
        ("[%]%", "%x", True),
        ("a.b", "axb", False),
    ],
)
def test_like(pattern: str, name: str, matches: bool) -> None:
    host = SimulatedHost.generate(HostSpec(name="h", vms=1), clock=ManualClock())
    vm = next(iter(host.vms.values()))
    vm.name = name
    query = (
        "SELECT * FROM Msvm_ComputerSystem WHERE Caption = 'Virtual Machine' "
        f"AND ElementName LIKE '{pattern}'"
    )
    assert (run(host, query) == [vm.guid]) is matches


def test_processor_maximum_definition_row(host: SimulatedHost) -> None:
    found = run(
        host,
        "SELECT * FROM Msvm_ProcessorSettingData WHERE InstanceID LIKE "
        "'Microsoft:Definition%Maximum'",
    )
    assert found == ["Microsoft:Definition\\B637F346-6A6E-4DEC-AF52-BD70CB80A21D\\Maximum"]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("EnabledState = 2", lambda v: v.state == 2),
        ("EnabledState <> 2", lambda v: v.state != 2),
        ("EnabledState > 3", lambda v: v.state > 3),
        ("EnabledState >= 3", lambda v: v.state >= 3),
        ("EnabledState < 3", lambda v: v.state < 3),
        ("3 < EnabledState", lambda v: v.state > 3),
        ("EnabledState = '2'", lambda v: v.state == 2),
        ("EnabledState = 0x2", lambda v: v.state == 2),
        ("NOT EnabledState = 2", lambda v: v.state != 2),
        ("EnabledState = 2 OR EnabledState = 3", lambda v: v.state in (2, 3)),
        ("(EnabledState = 2 OR EnabledState = 3) AND NOT EnabledState = 3", lambda v: v.state == 2),
        ("ProcessID IS NULL", lambda v: v.process_id is None),
        ("ProcessID IS NOT NULL", lambda v: v.process_id is not None),
        ("ProcessID = NULL", lambda v: v.process_id is None),
        ("ProcessID > 0", lambda v: v.process_id is not None),
    ],
)
def test_comparisons(host: SimulatedHost, where: str, expected) -> None:
    query = f"SELECT * FROM Msvm_ComputerSystem WHERE Caption = 'Virtual Machine' AND ({where})"
    assert set(run(host, query)) == {v.guid for v in vms(host) if expected(v)}


def test_strings_with_escapes_and_both_quotes(host: SimulatedHost) -> None:
    vm = vms(host)[0]
    iid = f"Microsoft:{vm.guid}"
    assert run(host, f'SELECT * FROM Msvm_VirtualSystemSettingData WHERE InstanceID = "{iid}"') == [
        iid
    ]
    escaped = "Microsoft:" + vm.guid + "\\\\B637F346-6A6E-4DEC-AF52-BD70CB80A21D\\\\0"
    found = run(host, f"SELECT * FROM Msvm_ProcessorSettingData WHERE InstanceID = '{escaped}'")
    assert found == [f"Microsoft:{vm.guid}\\B637F346-6A6E-4DEC-AF52-BD70CB80A21D\\0"]
    assert run(host, "SELECT * FROM Msvm_ComputerSystem WHERE ElementName = 'it\\'s'") == []


def test_system_properties(host: SimulatedHost) -> None:
    vm = vms(host)[2]
    path = (
        f'\\\\HV07\\root\\virtualization\\v2:Msvm_ComputerSystem.CreationClassName="Msvm_ComputerSystem",'
        f'Name="{vm.guid}"'
    )
    wql_path = path.replace("\\", "\\\\").replace("'", "\\'")
    assert run(host, f"SELECT * FROM Msvm_ComputerSystem WHERE __PATH = '{wql_path}'") == [vm.guid]
    rel = f'Msvm_ComputerSystem.CreationClassName="Msvm_ComputerSystem",Name="{vm.guid}"'
    rel_wql = rel.replace("\\", "\\\\")
    assert run(host, f"SELECT * FROM Msvm_ComputerSystem WHERE __RELPATH = '{rel_wql}'") == [
        vm.guid
    ]
    assert (
        len(
            run(
                host,
                "SELECT * FROM CIM_ResourceAllocationSettingData WHERE __CLASS = "
                "'Msvm_MemorySettingData'",
            )
        )
        == 12 + 4
    )
    assert run(host, "SELECT * FROM Win32_OperatingSystem WHERE __SERVER = 'hv07'", NAMESPACE_CIMV2)
    assert run(
        host,
        "SELECT * FROM Msvm_ComputerSystem WHERE __NAMESPACE = 'root\\\\virtualization\\\\v2' "
        "AND Name = 'HV07'",
    ) == ["HV07"]


@pytest.mark.parametrize(
    "where",
    [
        "Name != __SERVER",
        "__SERVER != Name",
        "Name <> __server",
        "NOT Name = __SERVER",
    ],
)
def test_property_against_system_property_selects_the_vms(host: SimulatedHost, where: str) -> None:
    # libvirt >= 6.9 (hyperv_driver.c): the host's own Msvm_ComputerSystem has Name = __SERVER
    assert sorted(run(host, f"SELECT * FROM Msvm_ComputerSystem WHERE {where}")) == sorted(
        v.guid for v in vms(host)
    )


def test_libvirt_69_queries(host: SimulatedHost) -> None:
    base = "SELECT * FROM Msvm_ComputerSystem WHERE Name != __SERVER "
    active = run(
        host, base + "AND (EnabledState != 0 and EnabledState != 3 and EnabledState != 32769)"
    )
    inactive = run(
        host, base + "AND (EnabledState = 0 or EnabledState = 3 or EnabledState = 32769)"
    )
    assert sorted(active + inactive) == sorted(v.guid for v in vms(host))
    assert "HV07" not in active + inactive
    vm = vms(host)[2]
    assert run(host, base + f"AND ElementName = '{vm.name}'") == [vm.guid]
    assert run(host, "SELECT * FROM Msvm_ComputerSystem WHERE Name = __SERVER") == ["HV07"]
    assert run(host, "SELECT * FROM Msvm_ComputerSystem WHERE __CLASS = __CLASS") != []
    # a uint16 against a host name is never equal (and no error)
    assert run(host, "SELECT * FROM Msvm_ComputerSystem WHERE EnabledState = __SERVER") == []


def test_projection_keeps_only_named_properties(host: SimulatedHost) -> None:
    found, projection = execute(
        host, V2, parse_wql("select BIOSGUID, ElementName from Msvm_VirtualSystemSettingData")
    )
    assert len(found) == 12
    assert projection == frozenset({"biosguid", "elementname"})


def test_deep_class_query_includes_subclasses(host: SimulatedHost) -> None:
    classes = {
        i.cls.name
        for i in execute(host, V2, parse_wql("SELECT * FROM CIM_ResourceAllocationSettingData"))[0]
    }
    assert {
        "Msvm_ProcessorSettingData",
        "Msvm_StorageAllocationSettingData",
        "Msvm_SerialPortSettingData",
    } <= classes


def test_associators_follow_settings(host: SimulatedHost) -> None:
    vm = vms(host)[5]
    cs_path = (
        f"{{Msvm_ComputerSystem.CreationClassName='Msvm_ComputerSystem',Name='{vm.guid.lower()}'}}"
    )
    vssd = run(
        host,
        f"ASSOCIATORS OF {cs_path} WHERE AssocClass = Msvm_SettingsDefineState ResultClass = "
        "Msvm_VirtualSystemSettingData",
    )
    assert vssd == [f"Microsoft:{vm.guid}"]
    parts = run(
        host,
        f"ASSOCIATORS OF {{Msvm_VirtualSystemSettingData.InstanceID='Microsoft:{vm.guid}'}} "
        "WHERE AssocClass = Msvm_VirtualSystemSettingDataComponent ResultClass = "
        "Msvm_ProcessorSettingData",
    )
    assert parts == [f"Microsoft:{vm.guid}\\B637F346-6A6E-4DEC-AF52-BD70CB80A21D\\0"]
    rasd = run(
        host,
        f'ASSOCIATORS OF {{Msvm_VirtualSystemSettingData="Microsoft:{vm.guid}"}} WHERE '
        "ResultClass = Msvm_ResourceAllocationSettingData",
    )
    assert rasd and all(r.startswith(f"Microsoft:{vm.guid}\\") for r in rasd)
    keyboard, _ = execute(
        host, V2, parse_wql(f"ASSOCIATORS OF {cs_path} WHERE ResultClass = Msvm_Keyboard")
    )
    assert [k.cls.name for k in keyboard] == ["Msvm_Keyboard"]
    hosted = run(
        host,
        f"ASSOCIATORS OF {cs_path} WHERE AssocClass = Msvm_HostedDependency ResultRole = "
        "Antecedent",
    )
    assert hosted == ["HV07"]
    assert (
        run(
            host,
            f"ASSOCIATORS OF {cs_path} WHERE AssocClass = Msvm_HostedDependency Role = Antecedent",
        )
        == []
    )


def test_host_to_vms_and_processors(host: SimulatedHost) -> None:
    guests = run(
        host,
        "ASSOCIATORS OF "
        "{Msvm_ComputerSystem.CreationClassName='Msvm_ComputerSystem',Name='HV07'} WHERE "
        "AssocClass = Msvm_HostedDependency",
    )
    assert sorted(guests) == sorted(v.guid for v in vms(host))
    cpus = run(
        host,
        "ASSOCIATORS OF {Win32_ComputerSystem.Name='HV07'} WHERE AssocClass = "
        "Win32_ComputerSystemProcessor ResultClass = Win32_Processor",
        NAMESPACE_CIMV2,
    )
    assert cpus == ["Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz"] * 2 or len(cpus) == 2


def test_references_of(host: SimulatedHost) -> None:
    vm = vms(host)[1]
    found, _ = execute(
        host,
        V2,
        parse_wql(
            "REFERENCES OF "
            f'{{Msvm_ComputerSystem.CreationClassName="Msvm_ComputerSystem",Name="{vm.guid}"}} '
            "WHERE ResultClass = Msvm_SettingsDefineState"
        ),
    )
    assert [f.cls.name for f in found] == ["Msvm_SettingsDefineState"]
    everything, _ = execute(
        host,
        V2,
        parse_wql(
            "REFERENCES OF "
            f"{{Msvm_ComputerSystem.CreationClassName='Msvm_ComputerSystem',Name='{vm.guid}'}}"
        ),
    )
    assert {f.cls.name for f in everything} >= {
        "Msvm_SettingsDefineState",
        "Msvm_SystemDevice",
        "Msvm_HostedDependency",
    }


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("", WBEM_E_INVALID_QUERY),
        ("SELEC * FROM Msvm_ComputerSystem", WBEM_E_INVALID_QUERY),
        ("SELECT * Msvm_ComputerSystem", WBEM_E_INVALID_QUERY),
        ("SELECT * FROM Msvm_ComputerSystem WHERE", WBEM_E_INVALID_QUERY),
        ("SELECT * FROM Msvm_ComputerSystem WHERE Bogus = 1", WBEM_E_INVALID_QUERY),
        ("SELECT Bogus FROM Msvm_ComputerSystem", WBEM_E_INVALID_QUERY),
        ("SELECT * FROM Msvm_ComputerSystem WHERE Name = ElementName", WBEM_E_INVALID_QUERY),
        ("SELECT * FROM Msvm_ComputerSystem WHERE Bogus != __SERVER", WBEM_E_INVALID_QUERY),
        ("SELECT * FROM Msvm_ComputerSystem WHERE Roles = __SERVER", WBEM_E_INVALID_QUERY),
        ("SELECT * FROM Msvm_ComputerSystem WHERE OperationalStatus = 2", WBEM_E_INVALID_QUERY),
        ("SELECT * FROM Msvm_ComputerSystem WHERE Name = 'unterminated", WBEM_E_INVALID_QUERY),
        ("SELECT * FROM Msvm_ComputerSystem WHERE Name = 'C:\\Windows'", WBEM_E_INVALID_QUERY),
        ("SELECT * FROM Msvm_ComputerSystem WHERE (EnabledState = 2", WBEM_E_INVALID_QUERY),
        ("SELECT * FROM Msvm_ComputerSystem WHERE EnabledState = 'two'", WBEM_E_INVALID_QUERY),
        ("SELECT * FROM Msvm_ComputerSystem extra", WBEM_E_INVALID_QUERY),
        ("SELECT * FROM Msvm_NoSuchClass", WBEM_E_INVALID_CLASS),
        ("SELECT * FROM Win32_OperatingSystem", WBEM_E_INVALID_CLASS),
        ("ASSOCIATORS OF Msvm_ComputerSystem", WBEM_E_INVALID_QUERY),
        (
            "ASSOCIATORS OF "
            "{Msvm_ComputerSystem.CreationClassName='Msvm_ComputerSystem',Name='nope'}",
            WBEM_E_NOT_FOUND,
        ),
        ("ASSOCIATORS OF {Msvm_ComputerSystem.Name='x'} WHERE ClassDefsOnly", WBEM_E_INVALID_QUERY),
        ("ASSOCIATORS OF {Msvm_ComputerSystem.Name='x'} WHERE Bogus = X", WBEM_E_INVALID_QUERY),
        ("REFERENCES OF {Msvm_ComputerSystem.Name='x'} WHERE AssocClass = X", WBEM_E_INVALID_QUERY),
        ("ASSOCIATORS OF {Msvm_ComputerSystem.Name='x'", WBEM_E_INVALID_QUERY),
    ],
)
def test_invalid_queries(host: SimulatedHost, query: str, code: int) -> None:
    with pytest.raises(WQLError) as info:
        execute(host, V2, parse_wql(query))
    assert info.value.code == code


def test_v1_namespace_queries() -> None:
    host = SimulatedHost.generate(HostSpec(name="old", os="2008R2", vms=4), clock=ManualClock())
    found = run(
        host, "SELECT * FROM Msvm_VirtualSystemSettingData WHERE SettingType = 3", NAMESPACE_V1
    )
    assert len(found) == 4
    with pytest.raises(WQLError):
        run(host, "SELECT * FROM Msvm_ComputerSystem", V2)
