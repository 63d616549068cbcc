"""Commands past libvirt's Hyper-V driver: live statistics, checkpoints, disk images, guest
addresses and migration.

Each prints what the virsh command of the same name prints (``virsh-domain-monitor.c``
cmdDomstats / cmdDomMemStat / cmdDomblkinfo / cmdDomIfAddr, ``virsh-snapshot.c``,
``virsh-domain.c`` cmdMigrate), or JSON with ``--json``.  They use the public driver API only.
:data:`BEYOND_COMMANDS` lists them as ``(name, help, handler, setup, mutating)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohyperv._credentials import default_auth
from aiohyperv._exceptions import ConfigError, NotFound, VMNotFound

from ._format import format_kv, format_table

if TYPE_CHECKING:
    import argparse
    from collections.abc import Awaitable, Callable

    from aiohyperv.hyperv import Domain, DomainStats, Snapshot

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


# -- disk images ---------------------------------------------------------------------------------


def _setup_domblkinfo(p: argparse.ArgumentParser) -> None:
    _domain_arg(p)
    p.add_argument("device", help="block device (target such as sda, or the image path)")


async def cmd_domblkinfo(ctx: Context) -> int:
    # virsh-domain-monitor.c cmdDomblkinfo: "%-15s %s" lines Capacity / Allocation /
    # Physical, in bytes.  Hyper-V: MaxInternalSize, and the file's size for both others.
    dom = await ctx.domain()
    info = await dom.block_info(ctx.args.device)
    if ctx.json:
        ctx.dump(info.as_dict())
        return 0
    pairs: list[tuple[str, object]] = [
        ("Capacity:", info.capacity if info.capacity is not None else "-"),
        ("Allocation:", info.file_size if info.file_size is not None else "-"),
        ("Physical:", info.file_size if info.file_size is not None else "-"),
    ]
    ctx.write(format_kv(pairs, width=15))
    return 0


# -- guest addresses -----------------------------------------------------------------------------


def _setup_domifaddr(p: argparse.ArgumentParser) -> None:
    _domain_arg(p)
    p.add_argument("--full", action="store_true", help="always display names and MACs")
    p.add_argument(
        "--source", choices=("agent",), default="agent",
        help="Hyper-V's integration services play the guest agent's part",
    )  # fmt: skip


async def cmd_domifaddr(ctx: Context) -> int:
    # virsh-domain-monitor.c cmdDomIfAddr: the header " %-10s %-20s %-8s     %s" and a rule,
    # then " %-10s %-17s    %-12s %s/%d" per address, "-" for the name and MAC after an
    # interface's first address (unless --full), "N/A" for an interface without addresses.
    dom = await ctx.domain()
    nics = await dom.interface_addresses()
    if ctx.json:
        ctx.dump([n.as_dict() for n in nics])
        return 0
    ctx.extra(f" {'Name':<10} {'MAC address':<20} {'Protocol':<8}     Address\n{'-' * 79}\n")
    for nic in nics:
        mac = nic.mac or ""
        if not nic.addresses:
            ctx.write(f" {nic.name:<10} {mac:<17}    {'N/A':<12} N/A\n")
        for index, addr in enumerate(nic.addresses):
            text = addr.address if addr.prefix is None else f"{addr.address}/{addr.prefix}"
            name, hw = (nic.name, mac) if ctx.args.full or index == 0 else ("-", "-")
            ctx.write(f" {name:<10} {hw:<17}    {addr.type:<12} {text}\n")
    return 0


# -- migration -----------------------------------------------------------------------------------


def _setup_migrate(p: argparse.ArgumentParser) -> None:
    _domain_arg(p)
    p.add_argument("desturi", help="connection URI of the destination host")
    kind = p.add_mutually_exclusive_group()
    kind.add_argument("--live", action="store_true", help="live migration")
    kind.add_argument("--offline", action="store_true", help="offline migration")


async def cmd_migrate(ctx: Context) -> int:
    # virsh-domain.c cmdMigrate: connects to the destination too.  Hyper-V moves the VM
    # itself (Msvm_VirtualSystemMigrationService), given the destination's host name, which is
    # read from the destination (Win32_ComputerSystem.DNSHostName), then the domain is looked
    # up there to confirm it arrived.
    from aiohyperv.hyperv._connection import connect  # the driver only when a command connects

    dom = await ctx.domain()
    live = True if ctx.args.live else False if ctx.args.offline else None
    async with connect(
        ctx.args.desturi, auth=ctx.auth if ctx.auth is not None else default_auth()
    ) as dest:
        hostname = await dest.get_hostname()
        await dom.migrate(hostname, live=live)
        arrived = await dest.lookup_domain_by_uuid(dom.uuid)
    if ctx.json:
        ctx.dump({"domain": arrived.name, "uuid": arrived.uuid, "destination": hostname})
    return 0


# -- checkpoints ---------------------------------------------------------------------------------


def _setup_snapshot_create_as(p: argparse.ArgumentParser) -> None:
    _domain_arg(p)
    p.add_argument("name", nargs="?", help="name of snapshot")
    p.add_argument("--name", dest="name_opt", help="name of snapshot")
    p.add_argument(
        "--type",
        choices=("production", "standard"),
        help="checkpoint type (default: the VM's own setting)",
    )


async def cmd_snapshot_create_as(ctx: Context) -> int:
    dom = await ctx.domain()
    snap = await dom.snapshot_create(ctx.args.name_opt or ctx.args.name, consistency=ctx.args.type)
    if ctx.json:
        ctx.dump(snap.as_dict())
    else:
        ctx.extra(f"Domain snapshot {snap.name} created\n")
    return 0


def _setup_snapshot_list(p: argparse.ArgumentParser) -> None:
    _domain_arg(p)
    p.add_argument("--tree", action="store_true", help="list snapshots in a tree")


def _tree(snaps: list[Snapshot]) -> str:
    # virsh's vshTreePrintInternal (tools/vsh.c): a node, then "  |" above
    # its children; each child as "+- name" under an indent that grows by "| " while siblings
    # follow and "  " after the last; the last leaf of a branch ends with its indent alone.
    children: dict[str | None, list[Snapshot]] = {}
    ids = {s.id for s in snaps}
    for snap in snaps:
        parent = snap.parent_id if snap.parent_id in ids else None
        children.setdefault(parent, []).append(snap)
    lines: list[str] = []

    def walk(node: Snapshot, last: bool, root: bool, indent: str) -> None:
        lines.append(f"{indent}{'' if root else '+- '}{node.name}")
        if not root:
            indent += (" " if last else "|") + " "
        kids = children.get(node.id, [])
        if kids:
            lines.append(f"{indent}  |")
        for index, child in enumerate(kids):
            walk(child, index == len(kids) - 1, False, indent + "  ")
        if not kids and last:
            lines.append(indent)

    for root in children.get(None, []):
        walk(root, True, True, "")
    return "".join(f"{line}\n" for line in lines)


async def cmd_snapshot_list(ctx: Context) -> int:
    # virsh-snapshot.c cmdSnapshotList: Name / Creation Time / State, or --tree.
    dom = await ctx.domain()
    snaps = await dom.snapshot_list()
    if ctx.json:
        ctx.dump([s.as_dict() for s in snaps])
        return 0
    if ctx.args.tree:
        ctx.write(_tree(snaps))
        return 0
    rows = [
        (s.name, s.created.strftime("%Y-%m-%d %H:%M:%S %z") if s.created else "-", s.state)
        for s in snaps
    ]
    ctx.write(format_table(("Name", "Creation Time", "State"), rows))
    return 0


def _setup_snapshot_named(p: argparse.ArgumentParser) -> None:
    _domain_arg(p)
    p.add_argument("snapshotname", nargs="?", help="snapshot name")
    p.add_argument("--current", action="store_true", help="the current snapshot")


async def _named(ctx: Context, dom: Domain) -> Snapshot:
    if ctx.args.snapshotname:
        return await dom.snapshot_lookup(ctx.args.snapshotname)
    if ctx.args.current:
        current = [s for s in await dom.snapshot_list() if s.current]
        if current:
            return current[0]
        raise NotFound(f"domain '{dom.name}' has no current snapshot", host=ctx.conn.host)
    raise ConfigError("a snapshot name or --current is required")


async def cmd_snapshot_info(ctx: Context) -> int:
    # virsh-snapshot.c cmdSnapshotInfo: "%-15s %s" pairs.
    dom = await ctx.domain()
    snap = await _named(ctx, dom)
    snaps = await dom.snapshot_list()
    by_parent: dict[str | None, list[Snapshot]] = {}
    for other in snaps:
        by_parent.setdefault(other.parent_id, []).append(other)
    descendants, todo = 0, list(by_parent.get(snap.id, []))
    while todo:
        descendants += 1
        todo += by_parent.get(todo.pop().id, [])
    parent = next((s.name for s in snaps if s.id == snap.parent_id), None)
    children = len(by_parent.get(snap.id, []))
    if ctx.json:
        ctx.dump(
            {**snap.as_dict(), "domain": dom.name, "parent": parent, "children": children,
             "descendants": descendants}
        )  # fmt: skip
        return 0
    pairs: list[tuple[str, object]] = [
        ("Name:", snap.name),
        ("Domain:", dom.name),
        ("Current:", "yes" if snap.current else "no"),
        ("State:", snap.state),
        ("Location:", "internal"),
        ("Parent:", parent or "-"),
        ("Children:", children),
        ("Descendants:", descendants),
        ("Metadata:", "yes"),
    ]
    ctx.write(format_kv(pairs, width=15))
    return 0


async def cmd_snapshot_revert(ctx: Context) -> int:
    # virsh prints nothing when the revert succeeds.
    dom = await ctx.domain()
    snap = await _named(ctx, dom)
    await dom.snapshot_revert(snap.id)
    if ctx.json:
        ctx.dump({"domain": dom.name, "snapshot": snap.name, "reverted": True})
    return 0


def _setup_snapshot_delete(p: argparse.ArgumentParser) -> None:
    _setup_snapshot_named(p)
    p.add_argument("--children", action="store_true", help="delete snapshot and all children")


async def cmd_snapshot_delete(ctx: Context) -> int:
    dom = await ctx.domain()
    snap = await _named(ctx, dom)
    await dom.snapshot_delete(snap.id, children=ctx.args.children)
    if ctx.json:
        ctx.dump({"domain": dom.name, "snapshot": snap.name, "deleted": True})
    else:
        ctx.extra(f"Domain snapshot {snap.name} deleted\n")
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
    ("domblkinfo", "domain block device size information", cmd_domblkinfo, _setup_domblkinfo,
     False),
    ("domifaddr", "Get network interfaces' addresses for a running domain", cmd_domifaddr,
     _setup_domifaddr, False),
    ("migrate", "migrate domain to another host", cmd_migrate, _setup_migrate, True),
    ("snapshot-create-as", "Create a snapshot from a set of args", cmd_snapshot_create_as,
     _setup_snapshot_create_as, True),
    ("snapshot-list", "List snapshots for a domain", cmd_snapshot_list, _setup_snapshot_list,
     False),
    ("snapshot-info", "snapshot information", cmd_snapshot_info, _setup_snapshot_named, False),
    ("snapshot-revert", "Revert a domain to a snapshot", cmd_snapshot_revert,
     _setup_snapshot_named, True),
    ("snapshot-delete", "Delete a domain snapshot", cmd_snapshot_delete, _setup_snapshot_delete,
     True),
)  # fmt: skip
