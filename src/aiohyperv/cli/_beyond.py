"""Commands past libvirt's Hyper-V driver: live statistics, checkpoints, disk images, guest
addresses and migration.

Each prints what the virsh command of the same name prints (``virsh-domain-monitor.c``
cmdDomstats / cmdDomMemStat / cmdDomblkinfo / cmdDomIfAddr, ``virsh-snapshot.c``,
``virsh-domain.c`` cmdMigrate), or JSON with ``--json``.  They use the public driver API only.
:data:`BEYOND_COMMANDS` lists them as ``(name, help, handler, setup, mutating)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohyperv._exceptions import VMNotFound

if TYPE_CHECKING:
    import argparse
    from collections.abc import Awaitable, Callable

    from aiohyperv.hyperv import DomainStats

    from ._commands import Context

__all__ = ["BEYOND_COMMANDS"]


def _domain_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("domain", help="domain name, id or uuid")


# -- statistics ----------------------------------------------------------------------------------


def _setup_domstats(p: argparse.ArgumentParser) -> None:
    p.add_argument("domains", nargs="*", metavar="DOMAIN", help="domain names or uuids")


def _matches(stats: DomainStats, wanted: str) -> bool:
    return wanted in (stats.name, stats.uuid) or wanted.lower().strip("{}") == stats.uuid


def _stats_lines(stats: DomainStats) -> list[tuple[str, object]]:
    # virsh's groups where Hyper-V has the value (state.*, balloon.* in KiB, vcpu.current),
    # then the Hyper-V values virsh has no name for under "hyperv.".
    lines: list[tuple[str, object]] = [
        ("state.state", int(stats.state)),
        ("state.reason", 0),
    ]
    if stats.memory_assigned_mib is not None:
        lines.append(("balloon.current", stats.memory_assigned_mib * 1024))
    if stats.memory_demand_mib is not None and stats.memory_available_pct is not None:
        usable = (stats.memory_assigned_mib or 0) - stats.memory_demand_mib
        lines.append(("balloon.usable", usable * 1024))
    if stats.vcpus is not None:
        lines.append(("vcpu.current", stats.vcpus))
    extras: list[tuple[str, object]] = [
        ("hyperv.cpu.load", stats.cpu_load),
        ("hyperv.memory.demand", stats.memory_demand_mib and stats.memory_demand_mib * 1024),
        ("hyperv.heartbeat", stats.as_dict()["heartbeat"]),
        ("hyperv.uptime", stats.uptime_ms // 1000 if stats.uptime_ms is not None else None),
        ("hyperv.health", stats.health),
        ("hyperv.replication.state", stats.replication),
        ("hyperv.replication.health", stats.as_dict()["replication_health"]),
        ("hyperv.guest.os", stats.guest_os),
    ]
    lines += [(k, v) for k, v in extras if v is not None]
    return lines


async def cmd_domstats(ctx: Context) -> int:
    # virsh-domain-monitor.c cmdDomstats: "Domain: '<name>'" then "  key=value" lines and a
    # blank line per domain.  One GetSummaryInformation answers for every VM.
    rows = await ctx.conn.summary()
    wanted: list[str] = ctx.args.domains
    if wanted:
        picked = []
        for name in wanted:
            found = [s for s in rows if _matches(s, name)]
            if not found:
                raise VMNotFound(f"failed to get domain '{name}'", host=ctx.conn.host)
            picked += found
        rows = picked
    else:
        rows = sorted(rows, key=lambda s: (s.name.lower(), s.uuid))
    if ctx.json:
        ctx.dump([s.as_dict() for s in rows])
        return 0
    for stats in rows:
        ctx.write(f"Domain: '{stats.name}'\n")
        for key, value in _stats_lines(stats):
            ctx.write(f"  {key}={value}\n")
        ctx.write("\n")
    return 0


async def cmd_dommemstat(ctx: Context) -> int:
    # virsh-domain-monitor.c cmdDomMemStat: "<tag> <value KiB>" lines.  Hyper-V reports
    # the assigned memory ("actual") and, with dynamic memory, how much of it the guest
    # does not need ("usable").
    dom = await ctx.domain()
    stats = await dom.stats()
    if ctx.json:
        ctx.dump(
            {
                "actual": None
                if stats.memory_assigned_mib is None
                else stats.memory_assigned_mib * 1024,
                "demand": None
                if stats.memory_demand_mib is None
                else stats.memory_demand_mib * 1024,
                "available_percent": stats.memory_available_pct,
                "buffer_percent": stats.memory_buffer_pct,
            }
        )
        return 0
    for key, value in _stats_lines(stats):
        if key == "balloon.current":
            ctx.write(f"actual {value}\n")
        elif key == "balloon.usable":
            ctx.write(f"usable {value}\n")
    return 0


BEYOND_COMMANDS: tuple[
    tuple[
        str,
        str,
        Callable[[Context], Awaitable[int]],
        Callable[[argparse.ArgumentParser], None] | None,
        bool,
    ],
    ...,
] = (
    ("domstats", "get statistics about one or multiple domains", cmd_domstats, _setup_domstats,
     False),
    ("dommemstat", "get memory statistics for a domain", cmd_dommemstat, _domain_arg, False),
)  # fmt: skip
