"""The virsh-like commands: each prints what virsh prints, or JSON with ``--json``.

Every command is ``async def (ctx) -> int``; :class:`Context` carries the open connection, the
parsed arguments and the output stream.  Commands only use the public driver API.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as _dt
import json
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from aiohyperv import __version__
from aiohyperv._exceptions import ConfigError
from aiohyperv._version import format_version
from aiohyperv.fleet._json import SCHEMA_VERSION
from aiohyperv.hyperv import DomainState, format_network, parse_keycode

from ._beyond import BEYOND_COMMANDS
from ._format import format_kv, format_table, scaled_kib

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from aiohyperv._credentials import AuthCallback, Credentials
    from aiohyperv.hyperv import Domain, HyperVConnection

__all__ = ["COMMANDS", "Command", "Context", "add_commands"]


@dataclass(slots=True)
class Context:
    """What a command gets: the connection, its arguments and where to write."""

    conn: HyperVConnection
    args: argparse.Namespace
    out: TextIO
    #: The credentials the connection was opened with (``migrate`` opens a second one).
    auth: Credentials | AuthCallback | None = None

    @property
    def json(self) -> bool:
        return bool(getattr(self.args, "json", False))

    @property
    def quiet(self) -> bool:
        return bool(getattr(self.args, "quiet", False))

    def write(self, text: str) -> None:
        self.out.write(text)

    def dump(self, value: object) -> None:
        self.out.write(json.dumps(value, indent=2, sort_keys=False) + "\n")

    def extra(self, text: str) -> None:
        """virsh's ``vshPrintExtra``: informational lines that ``--quiet`` silences."""
        if not self.quiet:
            self.out.write(text)

    async def domain(self) -> Domain:
        return await self.conn.lookup_domain(self.args.domain)


@dataclass(frozen=True, slots=True)
class Command:
    """One subcommand: its name, help, argument setup and handler."""

    name: str
    help: str
    handler: Callable[[Context], Awaitable[int]]
    setup: Callable[[argparse.ArgumentParser], None] | None = None
    mutating: bool = False


# -- host ----------------------------------------------------------------------------------------


async def cmd_version(ctx: Context) -> int:
    packed = await ctx.conn.get_version()
    hv_type = await ctx.conn.get_type()
    if ctx.json:
        ctx.dump(
            {
                "library": __version__,
                "api": __version__,
                "hypervisor_type": hv_type,
                "hypervisor_version": format_version(packed),
                "hypervisor_version_packed": packed,
                "os_version": ctx.conn.os_version,
                "namespace": ctx.conn.namespace,
            }
        )
        return 0
    ctx.write(f"Compiled against library: aiohyperv {__version__}\n")
    ctx.write(f"Using library: aiohyperv {__version__}\n")
    ctx.write(f"Using API: {hv_type} {__version__}\n")
    ctx.write(f"Running hypervisor: {hv_type} {format_version(packed)}\n")
    return 0


async def cmd_hostname(ctx: Context) -> int:
    name = await ctx.conn.get_hostname()
    if ctx.json:
        ctx.dump({"hostname": name})
    else:
        ctx.write(f"{name}\n")
    return 0


async def cmd_nodeinfo(ctx: Context) -> int:
    info = await ctx.conn.node_info()
    if ctx.json:
        ctx.dump(info.as_dict())
        return 0
    pairs: list[tuple[str, object]] = [("CPU model:", info.model), ("CPU(s):", info.cpus)]
    if info.mhz:
        pairs.append(("CPU frequency:", f"{info.mhz} MHz"))
    pairs += [
        ("CPU socket(s):", info.sockets),
        ("Core(s) per socket:", info.cores),
        ("Thread(s) per core:", info.threads),
        ("NUMA cell(s):", info.nodes),
        ("Memory size:", f"{info.memory} KiB"),
    ]
    ctx.write(format_kv(pairs, width=20))
    return 0


async def cmd_capabilities(ctx: Context) -> int:
    xml = await ctx.conn.get_capabilities()
    if ctx.json:
        ctx.dump({"capabilities": xml})
    else:
        ctx.write(xml)
    return 0


async def cmd_maxvcpus(ctx: Context) -> int:
    count = await ctx.conn.get_max_vcpus()
    if ctx.json:
        ctx.dump({"max_vcpus": count})
    else:
        ctx.write(f"{count}\n")
    return 0


async def cmd_freecell(ctx: Context) -> int:
    free = await ctx.conn.get_free_memory()
    if ctx.json:
        ctx.dump({"total_free_bytes": free, "total_free_kib": free // 1024})
    else:
        ctx.write(f"Total: {free // 1024} KiB\n")
    return 0


async def cmd_net_list(ctx: Context) -> int:
    nets = await ctx.conn.list_networks()
    if ctx.json:
        ctx.dump([n.as_dict() for n in nets])
        return 0
    rows = [
        (
            n.name,
            "active" if n.active else "inactive",
            "yes" if n.autostart else "no",
            "yes" if n.persistent else "no",
        )
        for n in nets
    ]
    ctx.write(format_table(("Name", "State", "Autostart", "Persistent"), rows))
    return 0


def _setup_net_list(p: argparse.ArgumentParser) -> None:
    p.add_argument("--all", action="store_true", help="list inactive & active networks")
    p.add_argument("--inactive", action="store_true", help="list inactive networks")


def _network_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("network", help="network name or uuid")


async def cmd_net_info(ctx: Context) -> int:
    # virsh-network.c cmdNetworkInfo: "%-15s %s" lines.  hyperv_network_driver.c says a
    # switch is always active, persistent and autostarted, and has no bridge name (so virsh
    # prints no "Bridge:" line).
    net = await ctx.conn.lookup_network(ctx.args.network)
    if ctx.json:
        ctx.dump(net.as_dict())
        return 0
    pairs: list[tuple[str, object]] = [
        ("Name:", net.name),
        ("UUID:", net.uuid),
        ("Active:", "yes" if net.active else "no"),
        ("Persistent:", "yes" if net.persistent else "no"),
        ("Autostart:", "yes" if net.autostart else "no"),
    ]
    ctx.write(format_kv(pairs, width=15))
    return 0


async def cmd_net_dumpxml(ctx: Context) -> int:
    net = await ctx.conn.lookup_network(ctx.args.network)
    xml = format_network(net)
    if ctx.json:
        ctx.dump({"xml": xml})
    else:
        ctx.write(xml)
    return 0


def libvirt_uri(uri: object) -> str:
    """The URI as ``virsh uri`` prints it for a Hyper-V connection: with the port.

    hyperv_driver.c ``hypervConnectOpen`` stores the default port (5985 for http, 5986 for
    https) in the connection's URI when none was given, and virConnectGetURI formats that URI.
    """
    text = str(uri)
    parts = urllib.parse.urlsplit(text)
    if parts.port is None:
        port = 5985 if "transport=http" in parts.query.split("&") else 5986
        parts = parts._replace(netloc=f"{parts.netloc}:{port}")
    return urllib.parse.urlunsplit(parts)


async def cmd_uri(ctx: Context) -> int:
    uri = libvirt_uri(ctx.conn.uri)
    if ctx.json:
        ctx.dump({"uri": uri})
    else:
        ctx.write(f"{uri}\n")
    return 0


# -- domains -------------------------------------------------------------------------------------


def _setup_list(p: argparse.ArgumentParser) -> None:
    p.add_argument("--all", action="store_true", help="list inactive & active domains")
    p.add_argument("--inactive", action="store_true", help="list inactive domains")
    p.add_argument("--uuid", action="store_true", help="list uuid's only")
    p.add_argument("--name", action="store_true", help="list domain names only")
    p.add_argument("--id", action="store_true", help="list domain IDs only")
    p.add_argument(
        "--managed-save", action="store_true", help="mark inactive domains with managed save state"
    )
    for state in ("running", "paused", "shutoff", "other"):
        p.add_argument(f"--state-{state}", action="store_true", help=f"list {state} domains")
    p.add_argument("--autostart", action="store_true", help="list domains with autostart enabled")
    p.add_argument(
        "--no-autostart", action="store_true", help="list domains with autostart disabled"
    )


def _sort_key(dom: Domain) -> tuple[int, int, str]:
    # virsh: active domains by ID first, then inactive ones by name (case-insensitive).
    if dom.id >= 0:
        return (0, dom.id, "")
    return (1, 0, dom.name.lower())


async def cmd_list(ctx: Context) -> int:
    args = ctx.args
    active = not args.inactive or args.all
    inactive = args.all or args.inactive
    domains = sorted(await ctx.conn.list_domains(active=active, inactive=inactive), key=_sort_key)
    states = {
        DomainState.RUNNING: args.state_running,
        DomainState.PAUSED: args.state_paused,
        DomainState.SHUTOFF: args.state_shutoff,
    }
    if any(states.values()) or args.state_other:

        def wanted(dom: Domain) -> bool:
            state = dom.cached_state
            if state in states:
                return bool(states[state])
            return bool(args.state_other)

        domains = [d for d in domains if wanted(d)]
    if args.autostart != args.no_autostart:
        # VIR_CONNECT_LIST_DOMAINS_AUTOSTART / _NO_AUTOSTART, filtered as virsh-domain-monitor.c
        # virshDomainListCollect does (both flags together match every domain), on the value
        # hyperv_driver.c hypervDomainGetAutostart reads (AutomaticStartupAction "always").
        flags = await ctx.conn.gather(*(d.get_autostart() for d in domains))
        domains = [d for d, on in zip(domains, flags, strict=True) if on == bool(args.autostart)]
    if ctx.json:
        ctx.dump(
            [
                {
                    "schema": SCHEMA_VERSION,  # the inventory's conventions: schemas/inventory-1
                    "id": d.id if d.id >= 0 else None,
                    "name": d.name,
                    "uuid": d.uuid,
                    "state": d.cached_state.label,
                }
                for d in domains
            ]
        )
        return 0
    if args.uuid or args.name or args.id:
        for d in domains:
            if args.id and d.id < 0:
                continue
            fields = []
            if args.id:
                fields.append(str(d.id))
            if args.uuid:
                fields.append(d.uuid)
            if args.name:
                fields.append(d.name)
            ctx.write(" ".join(fields) + "\n")
        return 0
    rows = []
    for d in domains:
        label = d.cached_state.label
        if args.managed_save and d.cached_state is DomainState.SHUTOFF:
            if await d.has_managed_save():
                label = "saved"
        rows.append(("-" if d.id < 0 else str(d.id), d.name, label))
    ctx.write(format_table(("Id", "Name", "State"), rows))
    return 0


def _domain_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("domain", help="domain name, id or uuid")


async def cmd_dominfo(ctx: Context) -> int:
    dom = await ctx.domain()
    info, autostart, saved = await ctx.conn.gather(
        dom.info(), dom.get_autostart(), dom.has_managed_save()
    )
    if ctx.json:
        ctx.dump(
            {
                "id": dom.id if dom.id >= 0 else None,
                "name": dom.name,
                "uuid": dom.uuid,
                "os_type": dom.get_os_type(),
                **info.as_dict(),
                "persistent": dom.is_persistent(),
                "autostart": autostart,
                "managed_save": saved,
            }
        )
        return 0
    pairs: list[tuple[str, object]] = [
        ("Id:", "-" if dom.id < 0 else dom.id),
        ("Name:", dom.name),
        ("UUID:", dom.uuid),
        ("OS Type:", dom.get_os_type()),
        ("State:", info.state.label),
        ("CPU(s):", info.nr_virt_cpu),
    ]
    if info.cpu_time:
        pairs.append(("CPU time:", f"{info.cpu_time / 1e9:.1f}s"))
    pairs += [
        ("Max memory:", f"{info.max_memory} KiB"),
        ("Used memory:", f"{info.memory} KiB"),
        ("Persistent:", "yes" if dom.is_persistent() else "no"),
        ("Autostart:", "enable" if autostart else "disable"),
        ("Managed save:", "yes" if saved else "no"),
    ]
    ctx.write(format_kv(pairs, width=15))
    return 0


def _setup_domstate(p: argparse.ArgumentParser) -> None:
    _domain_arg(p)
    p.add_argument("--reason", action="store_true", help="also print reason for the state")


async def cmd_domstate(ctx: Context) -> int:
    dom = await ctx.domain()
    state, _reason = await dom.state()
    if ctx.json:
        ctx.dump({"state": state.label, "reason": "unknown"})
    elif ctx.args.reason:
        ctx.write(f"{state.label} (unknown)\n")
    else:
        ctx.write(f"{state.label}\n")
    return 0


async def cmd_dumpxml(ctx: Context) -> int:
    dom = await ctx.domain()
    xml = await dom.xml_desc()
    if ctx.json:
        ctx.dump({"xml": xml})
    else:
        ctx.write(xml)
    return 0


def _setup_domblklist(p: argparse.ArgumentParser) -> None:
    _domain_arg(p)
    p.add_argument("--inactive", action="store_true", help="get inactive rather than running")
    p.add_argument(
        "--details", action="store_true", help="additionally display the type and device value"
    )


async def cmd_domblklist(ctx: Context) -> int:
    # virsh-domain-monitor.c cmdDomblklist: a vshTable of Target/Source (--details: Type,
    # Device, Target, Source), "-" for a drive without media.
    definition = await (await ctx.domain()).definition()
    disks = [
        {
            "type": d.source_type,
            "device": d.device,
            "target": d.target_dev or "-",
            "source": d.source if d.source is not None else "-",
        }
        for d in definition.disks
    ]
    if ctx.json:
        ctx.dump(disks)
        return 0
    rows: list[tuple[str, ...]]
    if ctx.args.details:
        header: tuple[str, ...] = ("Type", "Device", "Target", "Source")
        rows = [(d["type"], d["device"], d["target"], d["source"]) for d in disks]
    else:
        header = ("Target", "Source")
        rows = [(d["target"], d["source"]) for d in disks]
    ctx.write(format_table(header, rows))
    return 0


def _setup_domiflist(p: argparse.ArgumentParser) -> None:
    _domain_arg(p)
    p.add_argument("--inactive", action="store_true", help="get inactive rather than running")


async def cmd_domiflist(ctx: Context) -> int:
    # virsh-domain-monitor.c cmdDomiflist: Interface (target dev), Type, Source, Model, MAC.
    # Hyper-V NICs have neither a target device nor a model in the XML: "-".  Adapters
    # connected to no switch are not in the XML (hypervDomainDefParseEthernetAdapter).
    definition = await (await ctx.domain()).definition()
    nics = [n for n in definition.interfaces if n.bridge is not None]
    if ctx.json:
        ctx.dump(
            [
                {"interface": None, "type": "bridge", "source": n.bridge, "model": None,
                 "mac": n.mac}
                for n in nics
            ]
        )  # fmt: skip
        return 0
    rows = [("-", "bridge", n.bridge, "-", n.mac or "-") for n in nics]
    ctx.write(format_table(("Interface", "Type", "Source", "Model", "MAC"), rows))
    return 0


def _setup_vcpucount(p: argparse.ArgumentParser) -> None:
    _domain_arg(p)
    p.add_argument("--maximum", action="store_true", help="get maximum count of vcpus")
    p.add_argument("--active", action="store_true", help="get number of currently active vcpus")
    p.add_argument("--live", action="store_true", help="get value from running domain")
    p.add_argument("--config", action="store_true", help="get value to be used on next boot")
    p.add_argument("--current", action="store_true", help="get value according to current state")
    p.add_argument("--guest", action="store_true", help=argparse.SUPPRESS)


async def cmd_vcpucount(ctx: Context) -> int:
    """virsh-domain.c cmdVcpucount over hyperv_driver.c hypervDomainGetVcpusFlags.

    The driver answers VIR_DOMAIN_VCPU_MAXIMUM with the host's maximum (hypervConnectGetMaxVcpus)
    and everything else with the processor settings' VirtualQuantity; a live value needs a
    running domain.  With no option virsh prints all four combinations it can get, each as
    ``"%-12s %-12s %3d"``; live rows only for an active domain.
    """
    args = ctx.args
    for first, second in (("current", "live"), ("current", "config"), ("active", "maximum")):
        if getattr(args, first) and getattr(args, second):  # virsh VSH_EXCLUSIVE_OPTIONS
            raise ConfigError(f"Options --{first} and --{second} are mutually exclusive")
    if args.guest:
        raise ConfigError("the guest agent is not supported by the Hyper-V driver")
    dom = await ctx.domain()
    active = await dom.is_active()
    if not (args.maximum or args.active or args.live or args.config or args.current):
        maximum, current = await ctx.conn.gather(dom.get_max_vcpus(), dom.get_vcpus_count())
        rows = [("maximum", "config", maximum)]
        if active:
            rows.append(("maximum", "live", maximum))
        rows.append(("current", "config", current))
        if active:
            rows.append(("current", "live", current))
        if ctx.json:
            ctx.dump([{"which": w, "state": s, "count": c} for w, s, c in rows])
        else:
            ctx.write("".join(f"{w:<12} {s:<12} {c:>3}\n" for w, s, c in rows))
        return 0
    if args.live and not active:
        raise ConfigError("Domain is not active")
    count = await (dom.get_max_vcpus() if args.maximum else dom.get_vcpus_count())
    if ctx.json:
        ctx.dump({"count": count})
    else:
        ctx.write(f"{count}\n")
    return 0


def _action(method: str, message: str) -> Callable[[Context], Awaitable[int]]:
    async def handler(ctx: Context) -> int:
        dom = await ctx.domain()
        await getattr(dom, method)()
        if ctx.json:
            ctx.dump({"domain": dom.name, "action": method, "ok": True})
        else:
            ctx.extra(message.format(name=dom.name) + "\n")
        return 0

    return handler


async def cmd_managedsave_remove(ctx: Context) -> int:
    dom = await ctx.domain()
    if not await dom.has_managed_save():
        if ctx.json:
            ctx.dump({"domain": dom.name, "removed": False})
        else:
            ctx.extra(f"Domain '{dom.name}' has no manage save image; removal skipped\n")
        return 0
    await dom.managed_save_remove()
    if ctx.json:
        ctx.dump({"domain": dom.name, "removed": True})
    else:
        ctx.extra(f"Removed managedsave image for domain '{dom.name}'\n")
    return 0


def _setup_autostart(p: argparse.ArgumentParser) -> None:
    _domain_arg(p)
    p.add_argument("--disable", action="store_true", help="disable autostarting")


async def cmd_autostart(ctx: Context) -> int:
    dom = await ctx.domain()
    enable = not ctx.args.disable
    await dom.set_autostart(enable)
    if ctx.json:
        ctx.dump({"domain": dom.name, "autostart": enable})
    elif enable:
        ctx.extra(f"Domain '{dom.name}' marked as autostarted\n")
    else:
        ctx.extra(f"Domain '{dom.name}' unmarked as autostarted\n")
    return 0


def _setup_size(p: argparse.ArgumentParser) -> None:
    _domain_arg(p)
    p.add_argument("size", help="new size (default unit KiB; suffixes b, K, M, G, T, KB, MB...)")
    for flag in ("--config", "--live", "--current"):
        p.add_argument(flag, action="store_true", help=argparse.SUPPRESS)


def _size(ctx: Context) -> int:
    try:
        return scaled_kib(ctx.args.size)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


async def cmd_setmem(ctx: Context) -> int:
    dom = await ctx.domain()
    kib = _size(ctx)
    await dom.set_memory(kib)
    if ctx.json:
        ctx.dump({"domain": dom.name, "memory_kib": kib})
    return 0


async def cmd_setmaxmem(ctx: Context) -> int:
    dom = await ctx.domain()
    kib = _size(ctx)
    await dom.set_max_memory(kib)
    if ctx.json:
        ctx.dump({"domain": dom.name, "max_memory_kib": kib})
    return 0


def _setup_setvcpus(p: argparse.ArgumentParser) -> None:
    _domain_arg(p)
    p.add_argument("count", type=int, help="number of virtual CPUs")
    for flag in ("--config", "--live", "--current", "--maximum"):
        p.add_argument(flag, action="store_true", help=argparse.SUPPRESS)


async def cmd_setvcpus(ctx: Context) -> int:
    dom = await ctx.domain()
    await dom.set_vcpus(ctx.args.count)
    if ctx.json:
        ctx.dump({"domain": dom.name, "vcpus": ctx.args.count})
    return 0


async def cmd_vcpuinfo(ctx: Context) -> int:
    dom = await ctx.domain()
    vcpus, node = await ctx.conn.gather(dom.get_vcpus(), ctx.conn.node_info())
    if ctx.json:
        ctx.dump([v.as_dict() for v in vcpus])
        return 0
    affinity = "y" * max(node.cpus, 1)
    blocks = []
    for v in vcpus:
        pairs: list[tuple[str, object]] = [
            ("VCPU:", v.number),
            ("CPU:", "N/A" if v.cpu < 0 else v.cpu),
            ("State:", v.state_label),
        ]
        if v.cpu_time:
            pairs.append(("CPU time:", f"{v.cpu_time / 1e9:.1f}s"))
        pairs.append(("CPU Affinity:", affinity))
        blocks.append(format_kv(pairs, width=15))
    ctx.write("\n".join(blocks) + ("\n" if blocks else ""))
    return 0


async def cmd_schedinfo(ctx: Context) -> int:
    dom = await ctx.domain()
    params = await dom.scheduler_parameters()
    if ctx.json:
        ctx.dump(params.as_dict())
        return 0
    ctx.write(f"{'Scheduler':<15}: {params.scheduler}\n")
    ctx.write(f"{'limit':<15}: {params.limit}\n")
    ctx.write(f"{'reservation':<15}: {params.reservation}\n")
    ctx.write(f"{'weight':<15}: {params.weight}\n")
    return 0


def _setup_screenshot(p: argparse.ArgumentParser) -> None:
    _domain_arg(p)
    p.add_argument("file", nargs="?", help="where to store the screenshot")
    p.add_argument("--file", dest="file_opt", help="where to store the screenshot")
    p.add_argument("--format", choices=("png", "ppm"), help="image format (default from name)")
    p.add_argument("--screen", type=int, default=0, help=argparse.SUPPRESS)


async def cmd_screenshot(ctx: Context) -> int:
    dom = await ctx.domain()
    target = ctx.args.file_opt or ctx.args.file
    fmt = ctx.args.format
    if fmt is None:
        fmt = "ppm" if target and target.lower().endswith(".ppm") else "png"
    if not target:
        stamp = _dt.datetime.now().strftime("%Y-%m-%d-%H:%M:%S")
        target = f"{dom.name}-{stamp}.{fmt}"
    data = await dom.screenshot(fmt)
    await asyncio.to_thread(Path(target).write_bytes, data)
    mime = "image/png" if fmt == "png" else "image/x-portable-pixmap"
    if ctx.json:
        ctx.dump({"domain": dom.name, "file": target, "mime": mime, "bytes": len(data)})
    else:
        ctx.extra(f"Screenshot saved to {target}, with type of {mime}\n")
    return 0


def _setup_send_key(p: argparse.ArgumentParser) -> None:
    _domain_arg(p)
    p.add_argument("--codeset", default="linux", help="the codeset of keycodes (default linux)")
    p.add_argument("--holdtime", type=int, default=0, help="milliseconds to hold the keys")
    p.add_argument("keycode", nargs="+", help="key code(s) or names")


async def cmd_send_key(ctx: Context) -> int:
    codes = [parse_keycode(ctx.args.codeset, k) for k in ctx.args.keycode]
    dom = await ctx.domain()
    await dom.send_key(ctx.args.codeset, codes, ctx.args.holdtime)
    if ctx.json:
        ctx.dump({"domain": dom.name, "codeset": ctx.args.codeset, "keycodes": codes})
    return 0


def _read_file(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"failed to read file '{path}': {exc.strerror}") from None


def _setup_define(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", help="file containing an XML domain description")
    p.add_argument("--validate", action="store_true", help=argparse.SUPPRESS)


def _printable(text: str) -> str:
    """``text`` with control characters escaped (``\\n``), so a name cannot break the line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


async def cmd_define(ctx: Context) -> int:
    xml = await asyncio.to_thread(_read_file, ctx.args.file)
    dom = await ctx.conn.define_xml(xml)
    if ctx.json:
        ctx.dump({"domain": dom.name, "uuid": dom.uuid, "defined": True})
    else:
        ctx.extra(f"Domain '{_printable(dom.name)}' defined from {ctx.args.file}\n")
    return 0


async def cmd_undefine(ctx: Context) -> int:
    dom = await ctx.domain()
    await dom.undefine()
    if ctx.json:
        ctx.dump({"domain": dom.name, "undefined": True})
    else:
        ctx.extra(f"Domain '{dom.name}' has been undefined\n")
    return 0


def _setup_attach(p: argparse.ArgumentParser) -> None:
    _domain_arg(p)
    p.add_argument("file", nargs="?", help="XML file")
    p.add_argument("--file", dest="file_opt", help="XML file")
    for flag in ("--persistent", "--config", "--live", "--current"):
        p.add_argument(flag, action="store_true", help=argparse.SUPPRESS)


async def cmd_attach_device(ctx: Context) -> int:
    path = ctx.args.file_opt or ctx.args.file
    if not path:
        raise ConfigError("attach-device needs an XML file")
    xml = await asyncio.to_thread(_read_file, path)
    dom = await ctx.domain()
    await dom.attach_device(xml)
    if ctx.json:
        ctx.dump({"domain": dom.name, "attached": True})
    else:
        ctx.extra("Device attached successfully\n")
    return 0


async def cmd_domid(ctx: Context) -> int:
    dom = await ctx.domain()
    if ctx.json:
        ctx.dump({"id": dom.id if dom.id >= 0 else None})
    else:
        ctx.write(f"{dom.id if dom.id >= 0 else '-'}\n")
    return 0


async def cmd_domuuid(ctx: Context) -> int:
    dom = await ctx.domain()
    if ctx.json:
        ctx.dump({"uuid": dom.uuid})
    else:
        ctx.write(f"{dom.uuid}\n")
    return 0


async def cmd_domname(ctx: Context) -> int:
    dom = await ctx.domain()
    if ctx.json:
        ctx.dump({"name": dom.name})
    else:
        ctx.write(f"{dom.name}\n")
    return 0


COMMANDS: tuple[Command, ...] = (
    Command("version", "show version", cmd_version),
    Command("hostname", "print the hypervisor hostname", cmd_hostname),
    Command("nodeinfo", "node information", cmd_nodeinfo),
    Command("capabilities", "capabilities", cmd_capabilities),
    Command("maxvcpus", "connection vcpu maximum", cmd_maxvcpus),
    Command("freecell", "NUMA free memory", cmd_freecell),
    Command("net-list", "list networks", cmd_net_list, _setup_net_list),
    Command("net-info", "network information", cmd_net_info, _network_arg),
    Command("net-dumpxml", "network information in XML", cmd_net_dumpxml, _network_arg),
    Command("uri", "print the hypervisor canonical URI", cmd_uri),
    Command("list", "list domains", cmd_list, _setup_list),
    Command("dominfo", "domain information", cmd_dominfo, _domain_arg),
    Command("domstate", "domain state", cmd_domstate, _setup_domstate),
    Command("domid", "convert a domain name or UUID to domain id", cmd_domid, _domain_arg),
    Command("domuuid", "convert a domain name or id to domain UUID", cmd_domuuid, _domain_arg),
    Command("domname", "convert a domain id or UUID to domain name", cmd_domname, _domain_arg),
    Command("dumpxml", "domain information in XML", cmd_dumpxml, _domain_arg),
    Command("domblklist", "list all domain blocks", cmd_domblklist, _setup_domblklist),
    Command("domiflist", "list all domain virtual interfaces", cmd_domiflist, _setup_domiflist),
    Command("vcpucount", "domain vcpu counts", cmd_vcpucount, _setup_vcpucount),
    Command(
        "start", "start a (previously defined) inactive domain",
        _action("start", "Domain '{name}' started"), _domain_arg, True,
    ),
    Command(
        "shutdown", "gracefully shutdown a domain",
        _action("shutdown", "Domain '{name}' is being shutdown"), _domain_arg, True,
    ),
    Command(
        "destroy", "destroy (stop) a domain",
        _action("destroy", "Domain '{name}' destroyed"), _domain_arg, True,
    ),
    Command(
        "reboot", "reboot a domain",
        _action("reboot", "Domain '{name}' is being rebooted"), _domain_arg, True,
    ),
    Command(
        "reset", "reset a domain", _action("reset", "Domain '{name}' was reset"), _domain_arg, True
    ),
    Command(
        "suspend", "suspend a domain",
        _action("suspend", "Domain '{name}' suspended"), _domain_arg, True,
    ),
    Command(
        "resume", "resume a domain", _action("resume", "Domain '{name}' resumed"), _domain_arg, True
    ),
    Command(
        "managedsave", "managed save of a domain state",
        _action("managed_save", "\nDomain '{name}' state saved by aiohyperv"), _domain_arg, True,
    ),
    Command(
        "managedsave-remove", "remove managed save of a domain",
        cmd_managedsave_remove, _domain_arg, True,
    ),
    Command("autostart", "autostart a domain", cmd_autostart, _setup_autostart, True),
    Command("setmem", "change memory allocation", cmd_setmem, _setup_size, True),
    Command("setmaxmem", "change maximum memory limit", cmd_setmaxmem, _setup_size, True),
    Command("setvcpus", "change number of virtual CPUs", cmd_setvcpus, _setup_setvcpus, True),
    Command("vcpuinfo", "detailed domain vcpu information", cmd_vcpuinfo, _domain_arg),
    Command("schedinfo", "show scheduler parameters", cmd_schedinfo, _domain_arg),
    Command("screenshot", "take a screenshot of a current domain console", cmd_screenshot,
            _setup_screenshot),
    Command("send-key", "Send keycodes to the guest", cmd_send_key, _setup_send_key, True),
    Command("define", "define (but don't start) a domain from an XML file", cmd_define,
            _setup_define, True),
    Command("undefine", "undefine a domain", cmd_undefine, _domain_arg, True),
    Command("attach-device", "attach device from an XML file", cmd_attach_device, _setup_attach,
            True),
    *(Command(*spec) for spec in BEYOND_COMMANDS),
)  # fmt: skip


def add_commands(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Register every command on ``subparsers`` (``handler`` is stored in the namespace)."""
    for command in COMMANDS:
        parser = subparsers.add_parser(
            command.name, help=command.help, description=command.help, parents=parents
        )
        if command.setup is not None:
            command.setup(parser)
        parser.set_defaults(_command=command)
