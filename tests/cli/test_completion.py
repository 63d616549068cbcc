"""``aiohyperv completion bash|zsh|fish``: every command in every script, and scripts that parse
and complete in the shells themselves (skipped where a shell is not installed)."""

from __future__ import annotations

import asyncio
import io
import shutil
from typing import TYPE_CHECKING

import pytest

from aiohyperv.cli import run

if TYPE_CHECKING:
    from pathlib import Path

SHELLS = ("bash", "zsh", "fish")


async def script(shell: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    assert await run(["completion", shell], stdout=out, stderr=err) == 0, err.getvalue()
    return out.getvalue()


def command_names() -> list[str]:
    """Every subcommand of the parser, as the completion command is handed them."""
    from aiohyperv.cli._main import build_parser

    choices: dict[str, object] = build_parser().parse_args(["completion", "bash"])._choices
    return sorted(choices)


async def execute(*argv: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        *argv, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def shell(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed")
    return path


@pytest.mark.parametrize("name", SHELLS)
async def test_script_names_every_command_and_option(name: str) -> None:
    text = await script(name)
    names = command_names()
    assert {"list", "inventory", "dominfo", "completion"} <= set(names)
    for command in names:
        assert command in text, command
    for option in ("--filter", "--hosts-file", "--ca-file", "--keep-partial"):
        assert option.lstrip("-") in text, option


@pytest.mark.parametrize(("name", "check"), [("zsh", ["-n"]), ("fish", ["-n"]), ("bash", ["-n"])])
async def test_script_parses(name: str, check: list[str], tmp_path: Path) -> None:
    binary = shell(name)
    path = tmp_path / f"completion.{name}"
    path.write_text(await script(name))
    code, _, err = await execute(binary, *check, str(path))
    assert code == 0, err


CASES = [
    ("aiohyperv dom", {"dominfo", "domstate", "domid", "domuuid", "domname"}),
    ("aiohyperv -c hyperv://hv01/ inv", {"inventory"}),
    ("aiohyperv --ca", {"--ca-file"}),
    ("aiohyperv inventory --hosts", {"--hosts-file"}),
    ("aiohyperv -c hyperv://hv01/ inventory --fil", {"--filter"}),
]


@pytest.mark.parametrize(("line", "expected"), CASES)
async def test_fish_completes(line: str, expected: set[str], tmp_path: Path) -> None:
    fish = shell("fish")
    path = tmp_path / "aiohyperv.fish"
    path.write_text(await script("fish"))
    code, out, err = await execute(
        fish, "--no-config", "-c", f"source {path}; complete -C {line!r}"
    )
    assert code == 0 and err == "", err
    words = {row.split("\t")[0] for row in out.splitlines()}
    assert words >= expected
    assert all(word.startswith(line.split(" ")[-1]) for word in words)


# compadd and _files stand in for zsh's completion system: they print what would be offered.
ZSH_PROBE = """
compadd() {
    while [[ $1 != -- ]]; do shift; done; shift
    local word
    for word in "$@"; do if [[ $word == ${words[CURRENT]}* ]]; then print -r -- $word; fi; done
}
_files() { print -r -- '<files>'; }
compdef() { :; }
source %s
words=(${(z)LINE}); CURRENT=${#words}
_aiohyperv
"""


@pytest.mark.parametrize(
    ("line", "expected"), [*CASES, ("aiohyperv inventory --ca-file ./x", {"<files>"})]
)
async def test_zsh_completes(line: str, expected: set[str], tmp_path: Path) -> None:
    zsh = shell("zsh")
    path = tmp_path / "_aiohyperv"
    path.write_text(await script("zsh"))
    probe = tmp_path / "probe.zsh"
    probe.write_text(ZSH_PROBE % path)
    code, out, err = await execute(zsh, "-f", str(probe), env={"LINE": line})
    assert code == 0, err
    words = set(out.split())
    assert words >= expected
    assert all(w == "<files>" or w.startswith(line.split(" ")[-1]) for w in words)
