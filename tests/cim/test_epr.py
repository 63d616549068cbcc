"""EPR: a hashable, order-independent reference to one instance."""

from __future__ import annotations

from aiohyperv.cim import ANONYMOUS, EPR

URI = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/virtualization/v2/Msvm_ComputerSystem"


def test_make_sorts_and_compares_by_value() -> None:
    a = EPR.make(URI, {"Name": "VM", "CreationClassName": "Msvm_ComputerSystem"})
    b = EPR.make(URI, {"CreationClassName": "Msvm_ComputerSystem", "Name": "VM"})
    assert a == b and hash(a) == hash(b)
    assert a.selectors == (("CreationClassName", "Msvm_ComputerSystem"), ("Name", "VM"))
    assert a.address == ANONYMOUS
    assert len({a, b}) == 1


def test_accessors() -> None:
    epr = EPR.make(URI, {"Name": "VM"})
    assert epr.class_name == "Msvm_ComputerSystem"
    assert EPR(URI + "/").class_name == "Msvm_ComputerSystem"
    assert epr.selector("Name") == "VM"
    assert epr.selector("name") is None  # exact match
    assert epr.selector_map == {"Name": "VM"}
    assert EPR.make(URI).selectors == ()
    assert EPR.make(URI, None, "https://hv01/wsman").address == "https://hv01/wsman"
    assert EPR.make(URI, {"a": "1"}) != EPR.make(URI, {"a": "1"}, "https://other")
