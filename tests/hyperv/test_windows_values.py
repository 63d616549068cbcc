"""The driver's typed reads of values in the shapes Windows writes them.

WMI writes an unset datetime as 1601-01-01T00:00:00Z and leaves a NULL array out of the
instance; the class tables must read the first as None (never as a time in the year 1601) and
the second as an empty list, whichever namespace the instance came from.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from aiohyperv.cim import CimDateTime, CimInstance
from aiohyperv.hyperv import NAMESPACE_CIMV2, NAMESPACE_V1, NAMESPACE_V2, lookup

NEVER = CimDateTime(text="1601-01-01T00:00:00Z", kind="Datetime")
REAL = CimDateTime(text="2013-04-15T16:28:43.488171Z", kind="Datetime")


@pytest.mark.parametrize(
    ("namespace", "class_name", "prop"),
    [
        (NAMESPACE_V2, "Msvm_ComputerSystem", "TimeOfLastStateChange"),
        (NAMESPACE_V2, "Msvm_ComputerSystem", "InstallDate"),
        (NAMESPACE_V1, "Msvm_ComputerSystem", "TimeOfLastStateChange"),
        (NAMESPACE_V2, "Msvm_VirtualSystemSettingData", "CreationTime"),
        (NAMESPACE_V1, "Msvm_VirtualSystemSettingData", "CreationTime"),
        (NAMESPACE_V2, "Msvm_ConcreteJob", "TimeSubmitted"),
        (NAMESPACE_CIMV2, "Win32_OperatingSystem", "LastBootUpTime"),
    ],
)
def test_never_datetimes_read_as_none(namespace: str, class_name: str, prop: str) -> None:
    table = lookup(namespace, class_name)
    assert table.read(CimInstance(class_name, table.resource_uri, {prop: NEVER}), prop) is None
    real = table.read(CimInstance(class_name, table.resource_uri, {prop: REAL}), prop)
    assert real == datetime(2013, 4, 15, 16, 28, 43, 488171, tzinfo=UTC)
    inst = CimInstance(class_name, table.resource_uri, {prop: NEVER})
    assert table.as_dict(inst) == {prop: None}


@pytest.mark.parametrize(
    ("namespace", "class_name", "prop"),
    [
        (NAMESPACE_V2, "Msvm_ComputerSystem", "AvailableRequestedStates"),
        (NAMESPACE_V2, "Msvm_VirtualSystemSettingData", "Notes"),
        # 2008 R2's Notes is a plain string (its MOF: ``string Notes;``), so it is not listed.
        (NAMESPACE_V1, "Msvm_VirtualSystemSettingData", "BootOrder"),
    ],
)
def test_absent_arrays_read_as_empty(namespace: str, class_name: str, prop: str) -> None:
    table = lookup(namespace, class_name)
    assert table.properties[prop].array
    absent = CimInstance(class_name, table.resource_uri, {})
    nil = CimInstance(class_name, table.resource_uri, {prop: None})
    assert table.read(absent, prop) == table.read(nil, prop) == []
    assert absent.get_list(prop) == nil.get_list(prop) == []
