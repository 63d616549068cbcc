"""Fleet-wide operations: run one coroutine against many hosts, and the standard inventory."""

from typing import TYPE_CHECKING

from aiohyperv._lazy import lazy_exports

if TYPE_CHECKING:
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

_LAZY = {
    "EventKind": "._fleet",
    "Fleet": "._fleet",
    "FleetAuth": "._fleet",
    "FleetEvent": "._fleet",
    "FleetHost": "._fleet",
    "FleetProgress": "._fleet",
    "FleetResult": "._fleet",
    "HostOperation": "._fleet",
    "HostResult": "._fleet",
    "idempotent": "._fleet",
    "inventory_document": "._json",
    "inventory_record": "._json",
    "inventory_schema": "._json",
    "inventory": "._inventory",
    "inventory_host": "._inventory",
    "inventory_op": "._inventory",
    "DiskInfo": "._model",
    "HostInventory": "._model",
    "NicInfo": "._model",
    "SwitchInfo": "._model",
    "VMInventory": "._model",
}
if not TYPE_CHECKING:  # type checkers see the imports above, not a catch-all __getattr__
    __getattr__, __dir__ = lazy_exports(__name__, _LAZY)
del TYPE_CHECKING, lazy_exports
