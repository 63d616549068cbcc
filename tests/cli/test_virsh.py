"""libvirt's own ``virsh`` against the simulator, beside ``aiohyperv`` (skipped without it).

Runs only where ``virsh -V`` lists the Hyper-V driver.  Debian's libvirt-clients (bookworm,
9.0.0) is built without it ("libvirt was built without the 'hyperv' driver"), so on such a
machine every test here is skipped.  Where it runs, the layouts of ``list --all`` and
``net-list`` must equal ours character for character, and ``dominfo``/``dumpxml`` must describe
the same VM.

libvirt 6.9+ selects VMs with ``WHERE Name != __SERVER``: a simulator whose WQL refuses a
property compared with a system property fails ``list``, ``dominfo`` and ``dumpxml`` here.
"""

from __future__ import annotations

import asyncio
import io
import shutil
import subprocess
import uuid
from typing import TYPE_CHECKING

import pytest
from lxml import etree

from aiohyperv.cli import run
from aiohyperv.testing import HostSpec, run_simulator

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from aiohyperv.simulator import SimulatorServer


def _virsh_has_hyperv() -> bool:
    virsh = shutil.which("virsh")
    if virsh is None:
        return False
    try:
        result = subprocess.run(
            [virsh, "-V"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "Hyper-V" in result.stdout


pytestmark = pytest.mark.skipif(
    not _virsh_has_hyperv(),
    reason="virsh is absent or built without the Hyper-V driver (Debian's libvirt-clients is)",
)


@pytest.fixture
async def sim() -> AsyncIterator[SimulatorServer]:
    spec = HostSpec(name="hv01", os="2019", vms=4, seed=5, job_duration=0.02)
    async with run_simulator(spec) as server:
        yield server


@pytest.fixture
def auth_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # libvirt's auth.conf: the password for the simulator's account, for virsh and for us.
    path = tmp_path / "auth.conf"
    path.write_text(
        "[credentials-sim]\nusername=admin\npassword=secret\n\n"
        "[auth-hyperv-127.0.0.1]\ncredentials=sim\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("LIBVIRT_AUTH_FILE", str(path))
    monkeypatch.setenv("AIOHYPERV_PASSWORD", "secret")
    return path


async def virsh(sim: SimulatorServer, auth_file: Path, *argv: str) -> tuple[int, str, str]:
    virsh_path = shutil.which("virsh")
    assert virsh_path is not None
    proc = await asyncio.create_subprocess_exec(
        virsh_path,
        "-c",
        sim.uris[0],
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={"LIBVIRT_AUTH_FILE": str(auth_file), "PATH": "/usr/bin:/bin"},
    )
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def ours(sim: SimulatorServer, *argv: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    code = await run(["-c", sim.uris[0], *argv], stdout=out, stderr=err)
    assert code == 0, err.getvalue()
    return out.getvalue()


async def test_list_all_is_identical(sim: SimulatorServer, auth_file: Path) -> None:
    code, out, err = await virsh(sim, auth_file, "list", "--all")
    assert code == 0, err
    assert out == await ours(sim, "list", "--all")


async def test_net_list_is_identical(sim: SimulatorServer, auth_file: Path) -> None:
    code, out, err = await virsh(sim, auth_file, "net-list")
    assert code == 0, err
    assert out == await ours(sim, "net-list")


async def test_dominfo_and_dumpxml_describe_the_same_vm(
    sim: SimulatorServer, auth_file: Path
) -> None:
    vm = next(iter(sim.hosts[0].vms.values()))
    code, out, err = await virsh(sim, auth_file, "dominfo", vm.name)
    assert code == 0, err
    lines = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
    assert lines["Name"].strip() == vm.name
    assert lines["UUID"].strip() == str(uuid.UUID(vm.guid))
    code, out, err = await virsh(sim, auth_file, "dumpxml", vm.name)
    assert code == 0, err
    theirs = etree.fromstring(out.encode())
    mine = etree.fromstring((await ours(sim, "dumpxml", vm.name)).encode())
    for path in ("name", "uuid", "memory", "currentMemory", "vcpu", "on_reboot"):
        assert theirs.findtext(path) == mine.findtext(path), path
    assert [d.get("dev") for d in theirs.iterfind("devices/disk/target")] == [
        d.get("dev") for d in mine.iterfind("devices/disk/target")
    ]
    assert [m.get("address") for m in theirs.iterfind("devices/interface/mac")] == [
        m.get("address") for m in mine.iterfind("devices/interface/mac")
    ]
