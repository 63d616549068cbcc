"""``aiohyperv inventory`` as a shell user meets it: where hosts come from, files, pipes, output.

These run the whole command line (:func:`aiohyperv.cli.run`, or the console script in a
subprocess where the operating system is part of the behaviour: pipes, terminals).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import re
import socket
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from aiohyperv.cli import run
from aiohyperv.testing import HostSpec, run_simulator

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator
    from pathlib import Path

    from aiohyperv.simulator import SimulatorServer


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AIOHYPERV_USERNAME", "admin")
    monkeypatch.setenv("AIOHYPERV_PASSWORD", "secret")
    monkeypatch.delenv("AIOHYPERV_DEFAULT_URI", raising=False)
    monkeypatch.delenv("LIBVIRT_DEFAULT_URI", raising=False)
    monkeypatch.setenv("LIBVIRT_AUTH_FILE", str(tmp_path / "missing-auth.conf"))


@pytest.fixture
async def sim() -> AsyncIterator[SimulatorServer]:
    async with run_simulator(HostSpec(name="hv-one", vms=2, seed=3)) as server:
        yield server


async def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = await run(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@contextlib.contextmanager
def hanging_listener() -> Iterator[socket.socket]:
    """A loopback port that accepts connections and never answers: a host that hangs."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        sock.setblocking(False)
        yield sock


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


# -- 1. no fake data for an empty input ---------------------------------------------------


@pytest.mark.parametrize("content", ["", "# only a comment\n\n   # another\n"])
async def test_empty_hosts_file_is_a_usage_error_not_a_demo(tmp_path: Path, content: str) -> None:
    hosts = tmp_path / "empty.txt"
    hosts.write_text(content)
    code, out, err = await cli("inventory", "--hosts-file", str(hosts))
    assert code == 2
    assert out == ""
    assert "simulated" not in err
    assert "no hosts" in err and str(hosts) in err


async def test_no_hosts_at_all_names_demo() -> None:
    code, out, err = await cli("inventory")
    assert code == 2 and out == ""
    assert "--demo" in err
    assert "simulated fleet of" not in err


async def test_global_connect_uri_is_inventoried(sim: SimulatorServer) -> None:
    code, out, err = await cli("-c", sim.uris[0], "inventory", "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert [h["hostname"] for h in doc["hosts"]] == ["hv-one"]


async def test_default_uri_from_environment_is_inventoried(
    sim: SimulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIOHYPERV_DEFAULT_URI", sim.uris[0])
    code, out, err = await cli("inventory", "--format", "json")
    assert code == 0, err
    assert [h["hostname"] for h in json.loads(out)["hosts"]] == ["hv-one"]


async def test_demo_runs_the_simulated_fleet() -> None:
    code, out, err = await cli("inventory", "--demo", "--sim-hosts", "2", "--sim-vms", "1")
    assert code == 0, err
    assert "simulated fleet of 2 Hyper-V hosts" in err
    assert "2/2 hosts inventoried" in out


# -- 3. hosts files written on Windows ----------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be-bom", "utf-8-sig"])
async def test_hosts_file_with_a_bom(sim: SimulatorServer, tmp_path: Path, encoding: str) -> None:
    text = f"# written by PowerShell\r\n{sim.uris[0]}\r\n"
    if encoding == "utf-16-be-bom":
        data = b"\xfe\xff" + text.encode("utf-16-be")
    else:
        data = text.encode(encoding)  # utf-16: native order with a BOM, as PowerShell 5.1 '>'
    hosts = tmp_path / "hosts.txt"
    hosts.write_bytes(data)
    code, out, err = await cli("inventory", "--hosts-file", str(hosts), "--format", "json")
    assert code == 0, err
    assert [h["hostname"] for h in json.loads(out)["hosts"]] == ["hv-one"]


async def test_positional_file_name_that_does_not_exist(tmp_path: Path) -> None:
    missing = tmp_path / "hostz.txt"
    code, out, err = await cli("inventory", str(missing))
    assert code == 2 and out == ""
    assert "no such file" in err.lower() and "hostz.txt" in err
    code, _, err = await cli("inventory", "hostz.txt")
    assert code == 2 and "no such file" in err.lower()


# -- 4. -o FILE is replaced at the end, never truncated first ----------------------------


async def _run_until_hanging_host_is_reached(
    sim: SimulatorServer, target: Path, *extra: str
) -> tuple[asyncio.Task[tuple[int, str, str]], str]:
    with hanging_listener() as hang:
        port = hang.getsockname()[1]
        hanging = f"hyperv://127.0.0.1:{port}/?transport=http"
        task = asyncio.create_task(
            cli(
                "inventory", sim.uris[0], hanging, "--concurrency", "1", "-o", str(target),
                "--format", "ndjson", *extra,
            )
        )  # fmt: skip
        accept = asyncio.ensure_future(asyncio.get_running_loop().sock_accept(hang))
        done, _ = await asyncio.wait({task, accept}, return_when=asyncio.FIRST_COMPLETED)
        assert accept in done, task.result()  # the run ended before reaching the host
        conn, _ = accept.result()
        during = read(target)
        task.cancel()  # what Ctrl-C does to the CLI's main task
        with pytest.raises(asyncio.CancelledError):
            await task
        conn.close()
    return task, during


async def test_output_file_is_intact_after_an_interrupted_run(
    sim: SimulatorServer, tmp_path: Path
) -> None:
    target = tmp_path / "inventory.ndjson"
    target.write_text("previous run\n")
    _, during = await _run_until_hanging_host_is_reached(sim, target)
    assert during == "previous run\n"
    assert read(target) == "previous run\n"
    assert names(tmp_path) == ["inventory.ndjson"]  # no temp left


async def test_keep_partial_keeps_what_was_written(sim: SimulatorServer, tmp_path: Path) -> None:
    target = tmp_path / "inventory.ndjson"
    target.write_text("previous run\n")
    await _run_until_hanging_host_is_reached(sim, target, "--keep-partial")
    lines = read(target).splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["hostname"] == "hv-one"


async def test_output_file_is_written_at_the_end(sim: SimulatorServer, tmp_path: Path) -> None:
    target = tmp_path / "inventory.csv"
    target.write_text("previous run\n")
    code, out, err = await cli("inventory", sim.uris[0], "--format", "csv", "-o", str(target))
    assert code == 0, err
    assert out == ""
    assert read(target).startswith("host,")
    assert names(tmp_path) == ["inventory.csv"]
    assert oct(target.stat().st_mode & 0o777) != oct(0o600)  # not the temp file's private mode


# -- 2. a closed pipe ---------------------------------------------------------------------


def test_closed_pipe_stops_quietly(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "0"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "aiohyperv", "inventory", "--demo", "--sim-hosts", "40",
         "--sim-vms", "30", "--format", "csv"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    with proc, proc.stderr:
        first = proc.stdout.readline()
        proc.stdout.close()  # what `| head -1` does after its line
        err = proc.stderr.read().decode()
        code = proc.wait(timeout=120)
    assert first.startswith(b"host,")
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
    assert code in (0, 141), err


# -- 11. smaller ones -----------------------------------------------------------------------


async def test_refused_connection_is_worded_as_such() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # bound, not listening: connections are refused
        port = sock.getsockname()[1]
        code, _, err = await cli("-c", f"hyperv://admin@127.0.0.1:{port}/?transport=http", "list")
    assert code == 1
    assert "connection refused" in err and "Connect call failed" not in err, err


# -- 8. global options reach inventory --------------------------------------------------------


async def test_global_json_and_quiet_reach_inventory(sim: SimulatorServer) -> None:
    code, out, err = await cli("--json", "inventory", sim.uris[0])
    assert code == 0, err
    assert json.loads(out)["hosts"][0]["hostname"] == "hv-one"
    code, out, _ = await cli("inventory", sim.uris[0], "--json")
    assert json.loads(out)["summary"]["hosts"] == 1
    code, out, err = await cli("-q", "inventory", sim.uris[0], "--format", "ndjson")
    assert code == 0 and err == ""  # no summary
    code, _, err = await cli("--json", "inventory", sim.uris[0], "--format", "csv")
    assert code == 2 and "--json" in err


# -- 10. one warning per run, not one per host ------------------------------------------------


async def test_per_host_warning_is_one_summary_line() -> None:
    specs = [HostSpec(name=f"hv-w{i}", vms=1) for i in range(5)]
    async with run_simulator(*specs, transport="https") as server:  # URIs carry no_verify=1
        code, _, err = await cli("inventory", *server.uris, "--format", "json")
    assert code == 0, err
    lines = [line for line in err.splitlines() if "verification is off" in line]
    assert len(lines) == 1, err  # shown without -d, once
    assert lines[0].startswith("warning: TLS certificate verification is off for 5 hosts (")
    assert "and 2 more" in lines[0]


# -- 11. -d LEVEL and -l FILE like virsh --------------------------------------------------------


async def test_debug_level_and_log_file(sim: SimulatorServer, tmp_path: Path) -> None:
    stamp = r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} DEBUG aiohyperv"
    code, out, err = await cli("-d", "-c", sim.uris[0], "hostname")
    assert code == 0 and out == "hv-one\n"
    assert re.search(stamp, err, re.MULTILINE), err
    log = tmp_path / "aiohyperv.log"
    code, out, err = await cli("-d", "3", "-l", str(log), "-c", sim.uris[0], "hostname")
    assert code == 0 and out == "hv-one\n"
    assert "DEBUG" not in err
    assert "DEBUG aiohyperv" in read(log)
    code, _, err = await cli("-d", "7", "hostname")
    assert code == 2 and "0 (debug) to 4 (error)" in err


def test_simulate_on_a_busy_port_names_the_address(capsys: pytest.CaptureFixture[str]) -> None:
    from aiohyperv.simulator import cli_main

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        assert cli_main(["--port", str(port)]) == 1
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}" in err, err


async def test_number_that_is_no_domain_is_named_as_an_id(sim: SimulatorServer) -> None:
    code, _, err = await cli("-c", sim.uris[0], "domname", "99999")
    assert code == 1
    assert "no domain with id 99999" in err.lower(), err


async def test_sim_failing_must_not_be_negative() -> None:
    code, _, err = await cli("inventory", "--demo", "--sim-failing", "-3")
    assert code == 2 and "must not be negative" in err


async def test_output_file_still_shows_a_summary(sim: SimulatorServer, tmp_path: Path) -> None:
    target = tmp_path / "inventory.txt"
    code, out, err = await cli("inventory", sim.uris[0], "-o", str(target))
    assert code == 0 and out == ""
    assert "1/1 hosts inventoried" in err  # on the terminal, not only in the file
    assert "1/1 hosts inventoried" in read(target)


async def test_excel_csv_starts_with_a_bom(sim: SimulatorServer, tmp_path: Path) -> None:
    target = tmp_path / "inventory.csv"
    code, _, err = await cli(
        "inventory", sim.uris[0], "--format", "csv", "--excel", "-o", str(target)
    )
    assert code == 0, err
    assert target.read_bytes().startswith(b"\xef\xbb\xbfhost,")


def test_cli_and_fleet_default_concurrency_agree() -> None:
    import inspect

    from aiohyperv.cli import build_parser
    from aiohyperv.fleet import Fleet

    args = build_parser().parse_args(["inventory", "--demo"])
    assert args.concurrency == inspect.signature(Fleet).parameters["concurrency"].default


@pytest.mark.skipif(
    __import__("importlib").util.find_spec("gssapi") is not None, reason="gssapi is installed"
)
async def test_kerberos_without_gssapi_names_the_extra(sim: SimulatorServer) -> None:
    code, _, err = await cli("-c", sim.uris[0] + "&auth=kerberos", "hostname")
    assert code == 1
    assert "pip install 'aiohyperv[kerberos]'" in err, err


async def test_define_does_not_echo_a_raw_newline(sim: SimulatorServer, tmp_path: Path) -> None:
    xml = tmp_path / "vm.xml"
    xml.write_text(
        "<domain type='hyperv'><name>evil&#10;error: fake</name><memory unit='MiB'>512</memory>"
        "<vcpu>1</vcpu></domain>",
        encoding="utf-8",
    )
    code, out, err = await cli("-c", sim.uris[0], "define", str(xml))
    assert code == 0, err
    assert out == f"Domain 'evil\\nerror: fake' defined from {xml}\n"


async def test_version_and_help_command() -> None:
    from aiohyperv import __version__

    code, out, _ = await cli("--version")
    assert (code, out) == (0, f"aiohyperv {__version__}\n")
    code, out, _ = await cli("help", "dominfo")
    assert code == 0 and out.startswith("usage: aiohyperv dominfo")
    code, out, _ = await cli("help", "inventory")
    assert code == 0 and "--hosts-file" in out
    code, _, err = await cli("help", "nope")
    assert code == 2 and "unknown command" in err


def test_python_dash_m_aiohyperv() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "aiohyperv", "--version"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("aiohyperv ")


async def test_vcpuinfo_without_counters_says_unknown(sim: SimulatorServer) -> None:
    # A host without the Hyper-V performance counters has no HvStats class.
    sim.hosts[0].faults.unregistered_classes = frozenset(
        {"win32_perfrawdata_hvstats_hypervhypervisorvirtualprocessor"}
    )
    vm = next(iter(sim.hosts[0].vms.values()))
    if vm.state != 2:
        assert (await cli("-c", sim.uris[0], "start", vm.name))[0] == 0
    code, out, err = await cli("-c", sim.uris[0], "vcpuinfo", vm.name)
    assert code == 0, err
    states = [line.split()[-1] for line in out.splitlines() if line.startswith("State:")]
    assert states and set(states) == {"unknown"}


def test_simulate_prints_the_credentials_it_accepts() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "aiohyperv", "simulate", "--password", "lab-pass", "--vms", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    try:
        lines: list[str] = []
        while not lines or not lines[-1].startswith("serving"):
            line = proc.stdout.readline()
            assert line, "the simulator exited early"
            lines.append(line.strip())
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        proc.stdout.close()
    assert "credentials: user 'admin', password 'lab-pass'" in lines


# -- features: --sort and --fields --------------------------------------------------------------


async def test_sort_and_fields() -> None:
    specs = [
        HostSpec(name="hv-b", vms=1),
        HostSpec(name="hv-a", vms=3),
        HostSpec(name="hv-c", vms=0),
    ]
    async with run_simulator(*specs) as server:
        code, out, err = await cli("inventory", *server.uris, "--json", "--sort=-vms")
        assert code == 0, err
        assert [h["hostname"] for h in json.loads(out)["hosts"]][:2] == ["hv-a", "hv-b"]
        code, out, _ = await cli("inventory", *server.uris, "--sort", "hostname")
        lines = [line for line in out.splitlines() if "hv-" in line]
        assert [line.split()[1] for line in lines] == ["hv-a", "hv-b", "hv-c"]
        code, out, _ = await cli(
            "inventory", *server.uris, "--format", "csv", "--fields", "hostname,vm_name"
        )
        assert code == 0 and out.splitlines()[0] == "hostname,vm_name"
        assert len(out.splitlines()) == 1 + 1 + 3 + 1  # a host without VMs still has a row


async def test_bad_fields_or_sort_are_usage_errors_that_leave_the_file(
    sim: SimulatorServer, tmp_path: Path
) -> None:
    target = tmp_path / "out.csv"
    target.write_text("previous\n")
    code, _, err = await cli(
        "inventory", sim.uris[0], "--format", "csv", "--fields", "nope", "-o", str(target)
    )
    assert code == 2 and "unknown CSV column(s) nope" in err
    code, _, err = await cli("inventory", sim.uris[0], "--format", "ndjson", "--sort", "vms")
    assert code == 2 and "--sort" in err
    assert read(target) == "previous\n" and names(tmp_path) == ["out.csv"]


# -- features: shell completion -----------------------------------------------------------------


@pytest.mark.skipif(sys.platform == "win32", reason="bash")
@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("aiohyperv dom", {"dominfo", "domstate", "domid", "domuuid", "domname"}),
        ("aiohyperv -c hyperv://hv01/ inv", {"inventory"}),
        ("aiohyperv --ca", {"--ca-file"}),
        ("aiohyperv inventory --hosts", {"--hosts-file"}),
        ("aiohyperv inventory --keep", {"--keep-partial"}),
    ],
)
async def test_bash_completion(line: str, expected: set[str], tmp_path: Path) -> None:
    import shutil

    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("no bash")
    code, script, _ = await cli("completion", "bash")
    assert code == 0
    (tmp_path / "completion.bash").write_text(script)
    words = line.split(" ")
    probe = (
        f"source {tmp_path / 'completion.bash'}; COMP_WORDS=({line}); "
        f"COMP_CWORD={len(words) - 1}; _aiohyperv; printf '%s\\n' \"${{COMPREPLY[@]}}\""
    )
    proc = await asyncio.create_subprocess_exec(
        bash, "--norc", "-c", probe, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await proc.communicate()
    assert proc.returncode == 0
    assert set(out.decode().split()) >= expected
    assert all(word.startswith(words[-1]) for word in out.decode().split())


# -- features: one command on several hosts -------------------------------------------------------


async def test_list_on_several_hosts_has_a_host_column() -> None:
    specs = [HostSpec(name="hv-m1", vms=2, seed=1), HostSpec(name="hv-m2", vms=3, seed=2)]
    async with run_simulator(*specs) as server:
        argv = [arg for uri in server.uris for arg in ("-c", uri)]
        code, out, err = await cli(*argv, "list", "--all")
        assert code == 0, err
        lines = out.splitlines()
        assert lines[0].split() == ["Host", "Id", "Name", "State"]
        labels = [f"{a}:{p}" for a, p in server.endpoints]
        assert sorted(line.split()[0] for line in lines[2:]) == sorted(
            [labels[0]] * 2 + [labels[1]] * 3
        )
        code, out, _ = await cli(*argv, "list", "--all", "--json")
        assert {e["host"] for e in json.loads(out)} == set(labels)
        code, out, _ = await cli(*argv, "hostname")
        assert sorted(out.splitlines()) == sorted(
            f"{label}: {host.dns_name}" for label, host in zip(labels, server.hosts, strict=True)
        )
        # The same -c list names the inventory's hosts.
        code, out, _ = await cli(*argv, "inventory", "--json")
        assert json.loads(out)["summary"]["hosts"] == 2
