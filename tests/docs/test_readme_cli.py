"""Every ``$ aiohyperv ...`` line of the README runs, against a simulator where it names one.

The README's example assumes ``aiohyperv simulate --port 15985 --password secret`` in another
terminal; here a simulated host with that password stands in, and its address replaces
``127.0.0.1:15985``.  A hosts file the example names is written with that host's URI.
"""

from __future__ import annotations

import io
import re
import shlex
from pathlib import Path

import pytest

from aiohyperv.cli import run
from aiohyperv.testing import HostSpec, run_simulator

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_commands() -> list[str]:
    """The ``$ aiohyperv ...`` lines of the README's shell examples, comments dropped."""
    text = README.read_text(encoding="utf-8")
    lines: list[str] = []
    for block in re.findall(r"```[a-z]*\n(.*?)```", text, re.DOTALL):
        for line in block.splitlines():
            if line.startswith("$ aiohyperv "):
                lines.append(line.removeprefix("$ ").split("  #", 1)[0].strip())
    return lines


def test_the_readme_has_cli_examples() -> None:
    commands = readme_commands()
    assert any(" list " in f" {c} " for c in commands)
    assert any(c.startswith("aiohyperv inventory") for c in commands)


@pytest.mark.parametrize("command", readme_commands())
async def test_readme_cli_example_runs(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIOHYPERV_PASSWORD", "secret")  # the README's `export` line
    monkeypatch.chdir(tmp_path)
    async with run_simulator(HostSpec(name="hv001", vms=4, seed=3, password="secret")) as sim:
        host = sim.uris[0].split("//", 1)[1].split("/", 1)[0].split("@")[-1]
        argv = shlex.split(command.replace("127.0.0.1:15985", host))[1:]
        if "--hosts-file" in argv:
            name = argv[argv.index("--hosts-file") + 1]
            (tmp_path / name).write_text(sim.uris[0] + "\n", encoding="utf-8")
        out, err = io.StringIO(), io.StringIO()
        code = await run(argv, stdout=out, stderr=err)
    assert code == 0, err.getvalue()
    if "list" in argv:
        names = {vm.name for vm in sim.hosts[0].vms.values()}
        assert names <= set(out.getvalue().split())
    if "-o" in argv:
        written = (tmp_path / argv[argv.index("-o") + 1]).read_text(encoding="utf-8")
        assert '"hostname": "hv001"' in written or '"hostname":"hv001"' in written
