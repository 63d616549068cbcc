"""The virsh-like CLI end to end against the simulator (v2 and 2008 R2 hosts).

The expected layouts are written out here from virsh's sources (``virsh-domain-monitor.c``
cmdDominfo ``"%-15s %s"``, ``virsh-host.c`` cmdNodeinfo ``"%-20s %s"``, cmdVersion, and
``vsh-table.c`` for ``list``), independently of the CLI's own formatter.
"""

from __future__ import annotations

import io
import json
import uuid
from typing import TYPE_CHECKING

import pytest
from lxml import etree

from aiohyperv import __version__
from aiohyperv.cli import main, run
from aiohyperv.testing import HostSpec, run_simulator

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from aiohyperv.simulator import VM, SimulatedHost, SimulatorServer

V2_LABELS = {2: "running", 3: "shut off", 6: "shut off", 9: "paused"}
V1_LABELS = {2: "running", 3: "shut off", 32769: "shut off", 32768: "paused"}


@pytest.fixture(params=["2019", "2008R2"])
async def sim(request: pytest.FixtureRequest) -> AsyncIterator[SimulatorServer]:
    spec = HostSpec(name="hv01", os=request.param, vms=5, seed=11, job_duration=0.02)
    async with run_simulator(spec) as server:
        yield server


@pytest.fixture(autouse=True)
def _password(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Credentials come from the environment, the second source after the URI's user name.
    monkeypatch.setenv("AIOHYPERV_PASSWORD", "secret")
    monkeypatch.delenv("AIOHYPERV_USERNAME", raising=False)
    monkeypatch.delenv("AIOHYPERV_DEFAULT_URI", raising=False)
    monkeypatch.delenv("LIBVIRT_DEFAULT_URI", raising=False)
    monkeypatch.setenv("LIBVIRT_AUTH_FILE", str(tmp_path / "missing-auth.conf"))


async def cli(sim: SimulatorServer, *argv: str, uri: int = 0) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = await run(["-c", sim.uris[uri], *argv], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


async def off_vm(sim: SimulatorServer) -> VM:
    """A VM that is off without saved state (turned off through the CLI if none is)."""
    host = sim.hosts[0]
    for vm in host.vms.values():
        if vm.state == 3:
            return vm
    vm = next(v for v in host.vms.values() if v.state == 2)
    assert (await cli(sim, "destroy", vm.name))[0] == 0
    assert vm.state == 3
    return vm


def label(host: SimulatedHost, state: int) -> str:
    return (V1_LABELS if host.os.v1 else V2_LABELS)[state]


async def test_list_all_matches_virsh_layout(sim: SimulatorServer) -> None:
    host = sim.hosts[0]
    code, out, err = await cli(sim, "list", "--all")
    assert code == 0, err
    rows = []
    for vm in host.vms.values():
        active = vm.process_id is not None and vm.state in (2, 9, 32768)
        rows.append((str(vm.process_id) if active else "-", vm.name, label(host, vm.state)))
    # virsh sorts running domains by ID, then inactive ones by name.
    rows.sort(key=lambda r: (r[0] == "-", int(r[0]) if r[0] != "-" else 0, r[1].lower()))
    w_id = max(2, *(len(r[0]) for r in rows))
    w_name = max(4, *(len(r[1]) for r in rows))
    w_state = max(5, *(len(r[2]) for r in rows))
    expected = [
        f" {'Id':<{w_id}}   {'Name':<{w_name}}   State",
        "-" * (w_id + w_name + w_state + 9),
    ]
    expected += [f" {i:<{w_id}}   {n:<{w_name}}   {s}" for i, n, s in rows]
    assert out.splitlines() == expected
    # without --all: only active domains
    code, out, _ = await cli(sim, "list")
    assert code == 0
    names = [line.split()[1] for line in out.splitlines()[2:]]
    assert names == [r[1] for r in rows if r[0] != "-"]
    code, out, _ = await cli(sim, "list", "--all", "--name")
    assert out.splitlines() == [r[1] for r in rows]
    code, out, _ = await cli(sim, "list", "--all", "--json")
    data = json.loads(out)
    assert [d["name"] for d in data] == [r[1] for r in rows]
    assert {d["uuid"] for d in data} == {g.lower() for g in host.vms}


async def test_dominfo_matches_virsh_layout(sim: SimulatorServer) -> None:
    host = sim.hosts[0]
    vm = next(v for v in host.vms.values() if v.state == 2)
    code, out, err = await cli(sim, "dominfo", vm.name)
    assert code == 0, err
    _, out_json, _ = await cli(sim, "dominfo", vm.guid.lower(), "--json")
    info = json.loads(out_json)
    assert info["uuid"] == vm.guid.lower()
    autostart = "enable" if info["autostart"] else "disable"
    assert out.splitlines() == [
        f"Id:             {vm.process_id}",
        f"Name:           {vm.name}",
        f"UUID:           {vm.guid.lower()}",
        "OS Type:        hvm",
        "State:          running",
        f"CPU(s):         {vm.cpus}",
        f"Max memory:     {info['max_memory']} KiB",
        f"Used memory:    {info['memory']} KiB",
        "Persistent:     yes",
        f"Autostart:      {autostart}",
        "Managed save:   no",
    ]
    assert info["memory"] == vm.memory_mb * 1024 or vm.dynamic_memory
    # by ID, too
    code, out_id, _ = await cli(sim, "dominfo", str(vm.process_id))
    assert code == 0 and out_id == out


async def test_nodeinfo_matches_virsh_layout(sim: SimulatorServer) -> None:
    host = sim.hosts[0]
    code, out, err = await cli(sim, "nodeinfo")
    assert code == 0, err
    model = " ".join(host.cpu_name.replace("(R)", "").replace("(TM)", "").split(" @ ")[0].split())
    assert out.splitlines() == [
        f"CPU model:           {model}",
        f"CPU(s):              {host.sockets * host.cores_per_socket}",
        f"CPU frequency:       {host.cpu_mhz} MHz",
        f"CPU socket(s):       {host.sockets}",
        f"Core(s) per socket:  {host.cores_per_socket}",
        "Thread(s) per core:  2",
        "NUMA cell(s):        1",
        f"Memory size:         {host.memory_bytes // 1024} KiB",
    ]


async def test_version_matches_virsh_layout(sim: SimulatorServer) -> None:
    host = sim.hosts[0]
    major, minor, micro = (int(p) for p in host.os.version.split("."))
    code, out, err = await cli(sim, "version")
    assert code == 0, err
    assert out.splitlines() == [
        f"Compiled against library: aiohyperv {__version__}",
        f"Using library: aiohyperv {__version__}",
        f"Using API: Hyper-V {__version__}",
        f"Running hypervisor: Hyper-V {major * 100 + minor}.{micro // 1000}.{micro % 1000}",
    ]
    code, out, _ = await cli(sim, "version", "--json")
    assert (
        json.loads(out)["hypervisor_version"]
        == f"{major * 100 + minor}.{micro // 1000}.{micro % 1000}"
    )


async def test_host_commands(sim: SimulatorServer, tmp_path: Path) -> None:
    host = sim.hosts[0]
    assert await cli(sim, "hostname") == (0, f"{host.dns_name}\n", "")
    code, out, _ = await cli(sim, "capabilities")
    assert code == 0
    assert etree.fromstring(out.encode()).findtext("host/uuid") == str(uuid.UUID(host.system_uuid))
    assert (await cli(sim, "maxvcpus"))[1] == f"{host.os.max_vcpus}\n"
    code, out, _ = await cli(sim, "freecell")
    assert code == 0 and out.startswith("Total: ") and out.endswith(" KiB\n")
    code, out, _ = await cli(sim, "net-list")
    lines = out.splitlines()
    assert lines[0].split() == ["Name", "State", "Autostart", "Persistent"]
    assert set(lines[1]) == {"-"}
    assert sorted(line.split("   ")[0].strip() for line in lines[2:]) == sorted(
        n for _, n in host.switches
    )


async def test_domain_commands(sim: SimulatorServer, tmp_path: Path) -> None:
    host = sim.hosts[0]
    vm = await off_vm(sim)
    name = vm.name
    assert await cli(sim, "domstate", name) == (0, "shut off\n", "")
    assert await cli(sim, "domstate", "--reason", name) == (0, "shut off (unknown)\n", "")
    assert await cli(sim, "domuuid", name) == (0, vm.guid.lower() + "\n", "")
    assert await cli(sim, "domid", name) == (0, "-\n", "")
    assert await cli(sim, "domname", vm.guid) == (0, name + "\n", "")
    code, out, _ = await cli(sim, "dumpxml", name)
    assert code == 0 and etree.fromstring(out.encode()).findtext("name") == name
    assert await cli(sim, "setvcpus", name, "3") == (0, "", "")
    assert await cli(sim, "setmaxmem", name, "4G") == (0, "", "")
    assert await cli(sim, "setmem", name, "2048M") == (0, "", "")
    code, out, _ = await cli(sim, "dominfo", name, "--json")
    info = json.loads(out)
    assert (info["nr_virt_cpu"], info["max_memory"], info["memory"]) == (3, 4194304, 2097152)
    assert await cli(sim, "start", name) == (0, f"Domain '{name}' started\n", "")
    assert host.vms[vm.guid].state == 2
    assert (await cli(sim, "suspend", name))[1] == f"Domain '{name}' suspended\n"
    assert (await cli(sim, "resume", name))[1] == f"Domain '{name}' resumed\n"
    assert (await cli(sim, "reboot", name))[1] == f"Domain '{name}' is being rebooted\n"
    assert (await cli(sim, "reset", name))[1] == f"Domain '{name}' was reset\n"
    code, out, _ = await cli(sim, "schedinfo", name)
    assert code == 0 and out.splitlines()[0] == "Scheduler      : allocation"
    assert [line.split(":")[0].strip() for line in out.splitlines()[1:]] == [
        "limit", "reservation", "weight"
    ]  # fmt: skip
    code, out, _ = await cli(sim, "vcpuinfo", name)
    assert code == 0 and out.splitlines()[0] == "VCPU:           0"
    shot = tmp_path / "shot.png"
    code, out, err = await cli(sim, "screenshot", name, "--file", str(shot))
    assert code == 0, err
    assert out == f"Screenshot saved to {shot}, with type of image/png\n"
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    host.vms[vm.guid].typed.clear()
    assert await cli(sim, "send-key", name, "KEY_LEFTCTRL", "KEY_LEFTALT", "KEY_DELETE") == (
        0,
        "",
        "",
    )
    assert host.vms[vm.guid].typed[:3] == ["<down 162>", "<down 164>", "<down 46>"]
    code, out, _ = await cli(sim, "managedsave", name)
    assert out == f"\nDomain '{name}' state saved by aiohyperv\n"
    code, out, _ = await cli(sim, "list", "--all", "--managed-save")
    assert any(line.split()[1:] == [name, "saved"] for line in out.splitlines()[2:])
    assert (await cli(sim, "managedsave-remove", name))[1] == (
        f"Removed managedsave image for domain '{name}'\n"
    )
    assert (await cli(sim, "start", name))[0] == 0
    assert (await cli(sim, "destroy", name))[1] == f"Domain '{name}' destroyed\n"
    assert (await cli(sim, "autostart", name))[1] == f"Domain '{name}' marked as autostarted\n"
    assert (await cli(sim, "autostart", "--disable", name))[1] == (
        f"Domain '{name}' unmarked as autostarted\n"
    )
    # quiet mode drops the informational lines
    out_q = io.StringIO()
    assert await run(["-q", "-c", sim.uris[0], "start", name], stdout=out_q) == 0
    assert out_q.getvalue() == ""
    host.vms[vm.guid].shutdown_ic = True
    assert (await cli(sim, "shutdown", name))[1] == f"Domain '{name}' is being shutdown\n"


async def test_define_attach_undefine(sim: SimulatorServer, tmp_path: Path) -> None:
    host = sim.hosts[0]
    xml = tmp_path / "vm.xml"
    xml.write_text(
        "<domain type='hyperv'><name>cli-vm</name><memory unit='MiB'>1024</memory>"
        "<vcpu>1</vcpu></domain>",
        encoding="utf-8",
    )
    code, out, err = await cli(sim, "define", str(xml))
    assert (code, out) == (0, f"Domain 'cli-vm' defined from {xml}\n"), err
    assert any(v.name == "cli-vm" for v in host.vms.values())
    dev = tmp_path / "nic.xml"
    dev.write_text(
        f"<interface type='bridge'><source bridge='{host.switches[0][1]}'/></interface>",
        encoding="utf-8",
    )
    assert await cli(sim, "attach-device", "cli-vm", str(dev)) == (
        0, "Device attached successfully\n", ""
    )  # fmt: skip
    code, out, _ = await cli(sim, "dumpxml", "cli-vm")
    # attached by the switch's name, reported by its GUID (Name) as libvirt's driver does
    assert f"<source bridge='{host.switches[0][0]}'/>".lower() in out.lower()
    assert await cli(sim, "undefine", "cli-vm") == (0, "Domain 'cli-vm' has been undefined\n", "")
    assert not any(v.name == "cli-vm" for v in host.vms.values())


async def test_errors_are_one_line(sim: SimulatorServer, tmp_path: Path) -> None:
    code, out, err = await cli(sim, "dominfo", "no-such-vm")
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith("error: ") and "no-such-vm" in err
    running = next(v for v in sim.hosts[0].vms.values() if v.state == 2)
    code, _, err = await cli(sim, "start", running.name)
    assert code == 1 and "already active" in err and err.count("\n") == 1
    code, _, err = await cli(sim, "define", str(tmp_path / "missing.xml"))
    assert code == 1 and err.startswith("error: failed to read file") and err.count("\n") == 1
    code, _, err = await cli(sim, "setmem", running.name, "lots")
    assert code == 1 and "invalid size" in err
    sim.hosts[0].faults.unauthorized = True
    code, _, err = await cli(sim, "list")
    assert code == 1 and err.count("\n") == 1 and "secret" not in err


async def test_readonly_refuses_changes(sim: SimulatorServer) -> None:
    host = sim.hosts[0]
    vm = await off_vm(sim)
    out, err = io.StringIO(), io.StringIO()
    code = await run(["-r", "-c", sim.uris[0], "start", vm.name], stdout=out, stderr=err)
    assert code == 1 and "read-only" in err.getvalue()
    assert host.vms[vm.guid].state == 3
    out = io.StringIO()
    assert await run(["--readonly", "-c", sim.uris[0], "list", "--all"], stdout=out) == 0
    assert len(out.getvalue().splitlines()) == 2 + len(host.vms)


async def test_credentials_from_auth_conf(
    sim: SimulatorServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("AIOHYPERV_PASSWORD")
    conf = tmp_path / "auth.conf"
    conf.write_text(
        "[credentials-lab]\nusername=admin\npassword=secret\n\n"
        "[auth-hyperv-127.0.0.1]\ncredentials=lab\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("LIBVIRT_AUTH_FILE", str(conf))
    uri = sim.uris[0].replace("admin@", "")
    out, err = io.StringIO(), io.StringIO()
    assert await run(["-c", uri, "hostname"], stdout=out, stderr=err) == 0, err.getvalue()
    assert out.getvalue() == f"{sim.hosts[0].dns_name}\n"
    conf.unlink()
    err = io.StringIO()
    assert await run(["-c", uri, "hostname"], stdout=io.StringIO(), stderr=err) == 1
    assert "(named by LIBVIRT_AUTH_FILE) does not exist" in err.getvalue()  # as libvirt
    monkeypatch.delenv("LIBVIRT_AUTH_FILE")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))  # the default place, with no file
    err = io.StringIO()
    assert await run(["-c", uri, "hostname"], stdout=io.StringIO(), stderr=err) == 1
    assert "no credentials" in err.getvalue()


async def test_usage_and_uri_errors(capsys: pytest.CaptureFixture[str]) -> None:
    err = io.StringIO()
    assert await run(["list"], stdout=io.StringIO(), stderr=err) == 1
    assert "no connection URI" in err.getvalue()
    err = io.StringIO()
    assert await run(["-c", "http://nope/", "list"], stderr=err) == 1
    assert err.getvalue().startswith("error: ") and err.getvalue().count("\n") == 1
    assert await run(["dominfo"]) == 2  # argparse: missing argument
    assert await run(["inventory", "--help"]) == 0
    assert "inventory" in capsys.readouterr().out


def test_main_entry_points(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-c", "hyperv://admin@127.0.0.1:1/?transport=http", "--bogus"]) == 2
    assert main(["simulate", "--help"]) == 0
    assert "simulate" in capsys.readouterr().out


# -- domblklist, domiflist, vcpucount, net-info, net-dumpxml, uri, list --autostart -------------
# Layouts from virsh: virsh-domain-monitor.c cmdDomblklist/cmdDomiflist (vshTable),
# virsh-domain.c cmdVcpucount ("%-12s %-12s %3d"), virsh-network.c cmdNetworkInfo ("%-15s %s").


def _table(header: list[str], rows: list[list[str]]) -> str:
    """vsh-table.c layout, written out independently of the CLI's formatter."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = []
    for r in [header, *rows]:
        cells = [f" {c}" + " " * (widths[i] - len(c) + 2) for i, c in enumerate(r[:-1])]
        lines.append("".join(cells) + f" {r[-1]}")
    lines.insert(1, "-" * sum(w + 3 for w in widths))
    return "\n".join(lines) + "\n"


async def test_domblklist(sim: SimulatorServer) -> None:
    host = sim.hosts[0]
    vm = next(v for v in host.vms.values() if v.disks >= 1)
    code, out, err = await cli(sim, "dumpxml", vm.name)
    assert code == 0, err
    root = etree.fromstring(out.encode())
    disks = [
        (
            d.get("type"),
            d.get("device"),
            d.find("target").get("dev"),  # type: ignore[union-attr]
            d.find("source").get("file") if d.find("source") is not None else "-",  # type: ignore[union-attr]
        )
        for d in root.iter("disk")
    ]
    assert len([d for d in disks if d[1] == "disk"]) == vm.disks
    code, out, err = await cli(sim, "domblklist", vm.name)
    assert code == 0, err
    assert out == _table(["Target", "Source"], [[str(d[2]), str(d[3])] for d in disks])
    code, out, _ = await cli(sim, "domblklist", "--details", vm.name)
    assert out == _table(
        ["Type", "Device", "Target", "Source"], [[str(c) for c in d] for d in disks]
    )
    code, out, _ = await cli(sim, "domblklist", vm.name, "--json")
    assert [d["target"] for d in json.loads(out)] == [d[2] for d in disks]


async def test_domiflist(sim: SimulatorServer) -> None:
    from aiohyperv.simulator._providers import vm_resources

    host = sim.hosts[0]
    vm = next(iter(host.vms.values()))
    macs = [
        str(r.values["Address"]).lower()
        for r in vm_resources(host, vm)
        if r.class_name == "Msvm_SyntheticEthernetPortSettingData" and r.values.get("Address")
    ]
    assert macs
    code, out, err = await cli(sim, "domiflist", vm.name)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["Interface", "Type", "Source", "Model", "MAC"]
    guids = {g.lower() for g, _ in host.switches}
    rows = [line.split() for line in lines[2:]]
    assert sorted(r[4].replace(":", "") for r in rows) == sorted(macs)
    for iface, kind, source, model, _mac in rows:
        assert (iface, kind, model) == ("-", "bridge", "-")
        assert source.lower() in guids  # libvirt names the switch by its GUID
    expected = _table(
        ["Interface", "Type", "Source", "Model", "MAC"],
        [[r[0], r[1], r[2], r[3], r[4]] for r in rows],
    )
    assert out == expected


async def test_vcpucount(sim: SimulatorServer) -> None:
    host = sim.hosts[0]
    running = next(v for v in host.vms.values() if v.state == 2)
    maximum = host.os.max_vcpus
    code, out, err = await cli(sim, "vcpucount", running.name)
    assert code == 0, err
    assert out == (
        f"maximum      config       {maximum:>3}\n"
        f"maximum      live         {maximum:>3}\n"
        f"current      config       {running.cpus:>3}\n"
        f"current      live         {running.cpus:>3}\n"
    )
    off = await off_vm(sim)
    code, out, _ = await cli(sim, "vcpucount", off.name)
    # An inactive domain has no live values: virsh leaves those rows out.
    assert out == (
        f"maximum      config       {maximum:>3}\ncurrent      config       {off.cpus:>3}\n"
    )
    assert await cli(sim, "vcpucount", "--maximum", off.name) == (0, f"{maximum}\n", "")
    assert await cli(sim, "vcpucount", "--current", off.name) == (0, f"{off.cpus}\n", "")
    code, _, err = await cli(sim, "vcpucount", "--live", off.name)
    assert (code, err) == (1, "error: Domain is not active\n")
    code, _, err = await cli(sim, "vcpucount", "--active", "--maximum", off.name)
    assert (code, err) == (1, "error: Options --active and --maximum are mutually exclusive\n")


async def test_net_info_and_net_dumpxml(sim: SimulatorServer) -> None:
    host = sim.hosts[0]
    guid, name = host.switches[0]
    expected_info = (
        f"Name:           {name}\n"
        f"UUID:           {guid.lower()}\n"
        "Active:         yes\n"
        "Persistent:     yes\n"
        "Autostart:      yes\n"
    )
    assert await cli(sim, "net-info", name) == (0, expected_info, "")
    assert await cli(sim, "net-info", guid) == (0, expected_info, "")  # by UUID too
    expected_xml = f"<network>\n  <name>{name}</name>\n  <uuid>{guid.lower()}</uuid>\n</network>\n"
    assert await cli(sim, "net-dumpxml", name) == (0, expected_xml, "")
    code, _, err = await cli(sim, "net-info", "no-such-net")
    assert code == 1 and "no-such-net" in err


async def test_uri_prints_the_port(sim: SimulatorServer) -> None:
    uri = sim.uris[0]
    code, out, _ = await cli(sim, "uri")
    assert code == 0
    # The simulator listens on a free port, so the port is in the URI already.
    assert uri.startswith("hyperv://admin@127.0.0.1:")
    assert out == uri + "\n"


def test_libvirt_uri_fills_in_the_default_port() -> None:
    from aiohyperv._config import parse_uri
    from aiohyperv.cli._commands import libvirt_uri

    assert libvirt_uri(parse_uri("hyperv://hv01/")) == "hyperv://hv01:5986/"
    assert libvirt_uri(parse_uri("hyperv://me@hv01/?transport=http")) == (
        "hyperv://me@hv01:5985/?transport=http"
    )
    assert libvirt_uri(parse_uri("hyperv://[fe80::1]:6000/")) == "hyperv://[fe80::1]:6000/"


async def test_list_autostart_filters(sim: SimulatorServer) -> None:
    host = sim.hosts[0]
    vms = list(host.vms.values())
    auto = vms[0]
    assert (await cli(sim, "autostart", auto.name))[0] == 0
    for vm in vms[1:]:
        assert (await cli(sim, "autostart", "--disable", vm.name))[0] == 0
    code, out, err = await cli(sim, "list", "--all", "--autostart", "--name")
    assert (code, out) == (0, f"{auto.name}\n"), err
    code, out, _ = await cli(sim, "list", "--all", "--no-autostart", "--name")
    assert sorted(out.split()) == sorted(v.name for v in vms[1:])
    # Both filters together list everything, as virsh does (libvirt's filter group semantics).
    code, out, _ = await cli(sim, "list", "--all", "--autostart", "--no-autostart", "--name")
    assert sorted(out.split()) == sorted(v.name for v in vms)
