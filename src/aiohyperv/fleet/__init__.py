"""Fleet-wide operations: run one coroutine against many hosts, and the standard inventory."""

from ._fleet import (
    EventKind,
    Fleet,
    FleetAuth,
    FleetEvent,
    FleetHost,
    FleetProgress,
    FleetResult,
    HostOperation,
    HostResult,
    idempotent,
)
from ._inventory import inventory, inventory_host, inventory_op
from ._json import inventory_document, inventory_record, inventory_schema
from ._model import DiskInfo, HostInventory, NicInfo, SwitchInfo, VMInventory

__all__ = [
    "DiskInfo",
    "EventKind",
    "Fleet",
    "FleetAuth",
    "FleetEvent",
    "FleetHost",
    "FleetProgress",
    "FleetResult",
    "HostInventory",
    "HostOperation",
    "HostResult",
    "NicInfo",
    "SwitchInfo",
    "VMInventory",
    "idempotent",
    "inventory",
    "inventory_document",
    "inventory_host",
    "inventory_op",
    "inventory_record",
    "inventory_schema",
]
