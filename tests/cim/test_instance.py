"""CimInstance: mapping behaviour and typed getters over raw wire values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from aiohyperv._exceptions import ProtocolError
from aiohyperv.cim import EPR, CimDateTime, CimInstance, CimType

URI = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/virtualization/v2/Msvm_ComputerSystem"
JOB = EPR.make(URI.replace("Msvm_ComputerSystem", "Msvm_ConcreteJob"), {"InstanceID": "J"})


def vm() -> CimInstance:
    return CimInstance(
        "Msvm_ComputerSystem",
        URI,
        {
            "Name": "6A6F1D5C",
            "EnabledState": "2",
            "OperationalStatus": ["2", "32782"],
            "Dedicated": "0",
            "Roles": None,
            "Notes": "",
            "IsSaved": "FALSE",
            "Uptime": CimDateTime(text="P0DT1H0M0S", kind="Interval"),
            "Booted": CimDateTime(text="2024-03-01T08:00:00Z"),
            "LegacyTime": "20240301080000.000000+000",
            "Job": JOB,
            "Jobs": [JOB, JOB],
            "Load": "0.25",
        },
    )


def test_mapping_protocol() -> None:
    inst = vm()
    assert inst["EnabledState"] == "2"
    assert "Name" in inst and "Missing" not in inst
    assert len(inst) == 13
    assert next(iter(inst)) == "Name"
    assert inst.get("Missing") is None
    assert inst.get("Missing", "x") == "x"
    inst["Extra"] = "1"
    assert inst.properties["Extra"] == "1"
    with pytest.raises(KeyError):
        inst["Missing"]
    assert repr(inst) == "<CimInstance Msvm_ComputerSystem (14 properties)>"


def test_equality_and_unhashable() -> None:
    assert vm() == vm()
    other = vm()
    other.epr = JOB
    assert vm() != other
    assert vm() != "not an instance"
    with pytest.raises(TypeError):
        hash(vm())


def test_typed_getters() -> None:
    inst = vm()
    assert inst.get_str("Name") == "6A6F1D5C"
    assert inst.get_str("Notes") == ""
    assert inst.get_str("Roles") is None
    assert inst.get_str("Missing") is None
    assert inst.get_str("Booted") == "2024-03-01T08:00:00Z"
    assert inst.get_int("EnabledState") == 2
    assert inst.get_int("Roles") is None
    assert inst.get_bool("IsSaved") is False
    assert inst.get_float("Load") == 0.25
    assert inst.get_list("OperationalStatus") == ["2", "32782"]
    assert inst.get_list("Dedicated") == ["0"]
    assert inst.get_list("Roles") == []
    assert inst.get_list("Missing") == []
    assert inst.get_int_list("OperationalStatus") == [2, 32782]
    assert inst.get_interval("Uptime") == timedelta(hours=1)
    assert inst.get_datetime("Booted") == datetime(2024, 3, 1, 8, tzinfo=UTC)
    assert inst.get_datetime("LegacyTime") == datetime(2024, 3, 1, 8, tzinfo=UTC)
    assert inst.get_datetime("Roles") is None
    assert inst.get_epr("Job") == JOB
    assert inst.get_epr_list("Jobs") == [JOB, JOB]
    assert inst.get_epr_list("Job") == [JOB]
    assert inst.typed("OperationalStatus", CimType.UINT16, array=True) == [2, 32782]


@pytest.mark.parametrize(
    ("getter", "name", "words"),
    [
        ("get_int", "Name", "not an integer"),
        ("get_int", "OperationalStatus", "is an array of 2 values"),
        ("get_str", "Job", "not text"),
        ("get_bool", "Name", "Msvm_ComputerSystem.Name"),
        ("get_datetime", "Uptime", "is an interval"),
        ("get_interval", "Booted", "is a datetime"),
        ("get_epr", "Name", "endpoint reference"),
        ("get_list", "Jobs", "holds a EPR"),
        ("get_int_list", "Name", "non-integer"),
    ],
)
def test_typed_getters_reject(getter: str, name: str, words: str) -> None:
    with pytest.raises(ProtocolError, match=words):
        getattr(vm(), getter)(name)


def test_from_values() -> None:
    inst = CimInstance.from_values(
        "Msvm_ComputerSystem",
        URI,
        {
            "b": True,
            "i": 5,
            "f": 1.5,
            "s": "x",
            "n": None,
            "d": datetime(2024, 3, 1, tzinfo=UTC),
            "t": timedelta(seconds=90),
            "e": JOB,
            "l": [1, 2],
            "tu": ("a",),
        },
        epr=JOB,
    )
    assert inst.properties == {
        "b": "true",
        "i": "5",
        "f": "1.5",
        "s": "x",
        "n": None,
        "d": CimDateTime(text="2024-03-01T00:00:00Z", kind="Datetime"),
        "t": CimDateTime(text="P0DT0H1M30S", kind="Interval"),
        "e": JOB,
        "l": ["1", "2"],
        "tu": ["a"],
    }
    assert inst.epr == JOB
    with pytest.raises(TypeError):
        CimInstance.from_values("X", None, {"bad": object()})
