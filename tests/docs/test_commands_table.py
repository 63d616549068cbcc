"""docs/COMMANDS.md's table names every CLI command with its WMI class, libvirt's or beyond."""

from __future__ import annotations

import re
from pathlib import Path

from aiohyperv.cli._commands import COMMANDS

TABLE = Path(__file__).resolve().parents[2] / "docs" / "COMMANDS.md"


def table_rows() -> list[str]:
    text = TABLE.read_text(encoding="utf-8")
    section = text.split("# Commands and APIs, with their WMI classes", 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("| `")]


def test_every_command_is_in_the_table() -> None:
    rows = table_rows()
    listed = {name for row in rows for name in re.findall(r"`([a-z][a-z-]*)", row.split("|")[1])}
    missing = {c.name for c in COMMANDS} - listed
    assert not missing, f"commands missing from docs/COMMANDS.md: {sorted(missing)}"


def test_every_row_says_whose_it_is() -> None:
    for row in table_rows():
        marker = row.rstrip(" |").rsplit("|", 1)[1].strip()
        assert marker in ("libvirt has it", "beyond libvirt"), row
        assert "Msvm_" in row or "Win32_" in row or "none" in row or "WQL" in row, row
