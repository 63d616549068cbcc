"""``aiohyperv shell``: lines read from stdin run over one connection (the pty tests in
``test_terminal.py`` cover the prompt, readline and Ctrl-C on a real terminal)."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

import pytest

import aiohyperv.hyperv._connection as connection_module
from aiohyperv.cli import run
from aiohyperv.testing import HostSpec, run_simulator

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AIOHYPERV_USERNAME", "admin")
    monkeypatch.setenv("AIOHYPERV_PASSWORD", "secret")
    monkeypatch.setenv("LIBVIRT_AUTH_FILE", str(tmp_path / "missing-auth.conf"))


async def shell(
    monkeypatch: pytest.MonkeyPatch, uri: str, lines: str, *options: str
) -> tuple[int, str, str, int]:
    """Run the shell on ``lines``; also return how many connections it opened."""
    opened: list[Any] = []
    real = connection_module.connect

    def counting(*args: Any, **kwargs: Any) -> Any:
        opened.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(connection_module, "connect", counting)
    monkeypatch.setattr("sys.stdin", io.StringIO(lines))
    out, err = io.StringIO(), io.StringIO()
    code = await run(["-c", uri, *options, "shell"], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue(), len(opened)


async def test_commands_share_one_connection_and_errors_do_not_end_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with run_simulator(HostSpec(name="hv-sh", vms=2, seed=5)) as sim:
        lines = "hostname\n\ndominfo 'no such vm'\nlist --all --name\nnodeinfo --bogus\nuri\n"
        code, out, err, opened = await shell(monkeypatch, sim.uris[0], lines)
        one_shot = io.StringIO()
        assert await run(["-c", sim.uris[0], "list", "--all", "--name"], stdout=one_shot) == 0
    names = one_shot.getvalue().splitlines()
    assert len(names) == 2
    assert opened == 1
    assert code == 0  # EOF after a command that worked
    host, port = sim.endpoints[0]
    assert out.splitlines() == [
        f"Connected to {host}:{port}.",
        "Type 'help' for the commands, 'quit' or Ctrl-D to leave.",
        "",
        "hv-sh",
        *names,
        sim.uris[0],
        "",
    ]
    errors = err.splitlines()
    assert len(errors) == 2, err  # one line per error, no usage text
    assert "no such vm" in errors[0]
    assert "--bogus" in errors[1]


async def test_quit_help_and_a_read_only_session(monkeypatch: pytest.MonkeyPatch) -> None:
    async with run_simulator(HostSpec(name="hv-sh", vms=1, seed=5)) as sim:
        lines = "help\nstart x\nquit\nhostname\n"
        code, out, err, opened = await shell(monkeypatch, sim.uris[0], lines, "-r")
    assert opened == 1
    assert "In the shell: quit, exit or Ctrl-D leaves." in out
    assert "dominfo" in out  # help lists the commands
    assert "read-only" in err
    assert "hv-sh" not in out  # nothing ran after quit
    assert code == 1  # the last command run: start, refused


async def test_unreachable_host_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, err, _ = await shell(monkeypatch, "hyperv://127.0.0.1:9/?transport=http", "list\n")
    assert code == 1
    assert err.count("\n") == 1 and err.startswith("error: ")
