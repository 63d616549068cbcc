"""Fleet-wide operations: run one coroutine against many hosts, and the standard inventory."""

from ._cli import add_inventory_parser, cli_inventory, run_inventory_cli
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
)
from ._gc import tuned_gc
from ._inventory import inventory, inventory_host, inventory_op
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
    "add_inventory_parser",
    "cli_inventory",
    "inventory",
    "inventory_host",
    "inventory_op",
    "run_inventory_cli",
    "tuned_gc",
]
