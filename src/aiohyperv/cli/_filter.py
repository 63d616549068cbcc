"""``aiohyperv inventory --filter FIELD<OP>VALUE``: keep the hosts and VMs that match.

Like PowerShell's ``Where-Object``: every filter must match.  A host field (``host``,
``hostname``, ``os_version`` ...) keeps or drops whole hosts; a VM field (``name``, ``state``,
``vcpus``, ``guest_os`` ...) keeps the VMs of each host that match, and a host left with no VM
still shows with its host fields.  ``=`` and ``!=`` compare text as case-insensitive globs
(``name=web-*``), as Windows compares names; numeric fields compare as numbers with ``<``,
``<=``, ``>``, ``>=`` as well.  A host that failed has no fields but ``host``: only filters on
``host`` can drop it, so failures are never hidden by a filter on what they could not report.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import operator
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .._exceptions import ConfigError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from aiohyperv.fleet._fleet import FleetResult, HostResult
    from aiohyperv.fleet._model import HostInventory, VMInventory

__all__ = ["FIELDS", "InventoryFilter", "parse_filters"]

#: Filterable fields: name -> (level, kind).  Written out (not read from the dataclasses) so
#: ``--help`` and completion need no fleet import; a test checks them against the model.
HOST_FIELDS: dict[str, str] = {
    "host": "text",
    "hostname": "text",
    "os_caption": "text",
    "os_version": "text",
    "version": "number",
    "namespace": "text",
    "cpu_model": "text",
    "cpu_sockets": "number",
    "cpu_cores": "number",
    "cpu_threads": "number",
    "memory_total": "number",
    "memory_free": "number",
}
VM_FIELDS: dict[str, str] = {
    "name": "text",
    "uuid": "text",
    "id": "number",
    "state": "text",
    "enabled_state": "number",
    "vcpus": "number",
    "memory_startup_mib": "number",
    "memory_dynamic": "bool",
    "memory_min_mib": "number",
    "memory_max_mib": "number",
    "memory_demand_mib": "number",
    "memory_assigned_mib": "number",
    "cpu_load": "number",
    "heartbeat": "text",
    "health": "text",
    "replication": "text",
    "uptime": "number",
    "generation": "number",
    "config_version": "text",
    "notes": "text",
    "autostart": "bool",
    "fqdn": "text",
    "guest_os": "text",
    "guest_os_version": "text",
    "integration_services": "text",
}
FIELDS: tuple[str, ...] = (*HOST_FIELDS, *VM_FIELDS)

# Longest operators first, so ``a<=1`` is not read as ``a`` ``<`` ``=1``.
_EXPR = re.compile(r"^\s*([A-Za-z_]+)\s*(!=|<=|>=|=|<|>)(.*)$", re.DOTALL)
_NUMBER_ORDER: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_TEXT_ORDER: dict[str, Callable[[str, str], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_BOOLS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


@dataclass(frozen=True, slots=True, kw_only=True)
class Condition:
    """One ``FIELD<OP>VALUE``, parsed and checked against the field's kind."""

    text: str
    field: str
    op: str
    value: str | float | bool
    vm: bool

    def matches(self, actual: object) -> bool:
        """Whether a field's value satisfies the condition (a missing value never does,
        except for ``!=``)."""
        if actual is None:
            return self.op == "!="
        if isinstance(self.value, bool):
            result = actual is self.value
        elif isinstance(self.value, float):
            number = float(actual)  # type: ignore[arg-type]  # numeric fields hold int/float
            if self.op in ("=", "!="):
                result = number == self.value
            else:
                return _NUMBER_ORDER[self.op](number, self.value)
        else:
            text = str(actual).casefold()
            if self.op in ("=", "!="):
                result = fnmatch.fnmatchcase(text, self.value)
            else:
                return _TEXT_ORDER[self.op](text, self.value)
        return result if self.op == "=" else not result


def _usage(message: str) -> ConfigError:
    return ConfigError(f"{message}; fields: {', '.join(FIELDS)}")


def parse_condition(text: str) -> Condition:
    """Parse one ``--filter`` expression.

    Raises:
        ConfigError: No operator, an unknown field, an ordering of a yes/no field, or a
            number field compared with something that is no number.
    """
    match = _EXPR.match(text)
    if match is None:
        raise _usage(f"--filter {text!r}: expected FIELD<OP>VALUE with OP one of = != < <= > >=")
    field, op, raw = match.group(1).lower(), match.group(2), match.group(3).strip()
    kind = HOST_FIELDS.get(field) or VM_FIELDS.get(field)
    if kind is None:
        raise _usage(f"--filter {text!r}: unknown field {field!r}")
    value: str | float | bool
    if kind == "number":
        try:
            value = float(raw)
        except ValueError:
            raise ConfigError(f"--filter {text!r}: {field} is a number, not {raw!r}") from None
    elif kind == "bool":
        if op not in ("=", "!="):
            raise ConfigError(f"--filter {text!r}: {field} is yes or no; use = or !=")
        if raw.lower() not in _BOOLS:
            raise ConfigError(f"--filter {text!r}: {field} is true or false, not {raw!r}")
        value = _BOOLS[raw.lower()]
    else:
        value = raw.casefold()
    return Condition(text=text, field=field, op=op, value=value, vm=field in VM_FIELDS)


@dataclass(frozen=True, slots=True)
class InventoryFilter:
    """Every ``--filter`` of a run; all must match."""

    conditions: tuple[Condition, ...]

    def host(self, result: HostResult[HostInventory]) -> HostResult[HostInventory] | None:
        """``result`` with only the matching VMs, or None when a host condition fails."""
        inv = result.value
        if inv is None:  # a failed host reports nothing but its name
            fails = any(c.field == "host" and not c.matches(result.host) for c in self.conditions)
            return None if fails else result
        host_conditions = [c for c in self.conditions if not c.vm]
        if not all(c.matches(getattr(inv, c.field)) for c in host_conditions):
            return None
        vm_conditions = [c for c in self.conditions if c.vm]
        if not vm_conditions:
            return result
        vms = tuple(v for v in inv.vms if _vm_matches(v, vm_conditions))
        if len(vms) == len(inv.vms):
            return result
        return dataclasses.replace(result, value=dataclasses.replace(inv, vms=vms))

    def result(self, result: FleetResult[HostInventory]) -> FleetResult[HostInventory]:
        """The whole run filtered host by host."""
        kept = (self.host(r) for r in result.results)
        return dataclasses.replace(result, results=tuple(r for r in kept if r is not None))


def _vm_matches(vm: VMInventory, conditions: Sequence[Condition]) -> bool:
    return all(c.matches(getattr(vm, c.field)) for c in conditions)


def parse_filters(texts: Sequence[str]) -> InventoryFilter | None:
    """The filter of a run's ``--filter`` options (None when there is none)."""
    if not texts:
        return None
    return InventoryFilter(tuple(parse_condition(t) for t in texts))
