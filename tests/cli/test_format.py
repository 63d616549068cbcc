"""virsh layouts: vshTable, key/value lines, scaled sizes, and the argument parser."""

from __future__ import annotations

import pytest

from aiohyperv.cli import build_parser
from aiohyperv.cli._format import format_columns, format_kv, format_table, scaled_kib


def test_table_matches_vsh_table() -> None:
    # virsh list: one leading space per cell, columns padded to width + 2, dashes sum(width+3).
    text = format_table(
        ("Id", "Name", "State"), [("1", "web01", "running"), ("-", "db", "shut off")]
    )
    assert text == (
        " Id   Name    State\n"
        "------------------------\n"
        " 1    web01   running\n"
        " -    db      shut off\n"
    )


def test_table_empty_and_wide() -> None:
    # What 'virsh list' prints on a host without domains.
    assert format_table(("Id", "Name", "State"), []) == " Id   Name   State\n" + "-" * 20 + "\n"
    text = format_table(("Name", "State"), [("虚拟机", "active")])
    first, dashes, body = text.splitlines()
    assert first == " Name     State"  # wide characters count as two columns
    assert len(dashes) == (6 + 3) + (6 + 3)
    assert body == " 虚拟机   active"
    assert format_table(("A",), [("x\ty",)]).splitlines()[2] == " x?y"


def test_kv() -> None:
    assert format_kv([("Id:", 1), ("Name:", "web")], width=15) == (
        "Id:             1\nName:           web\n"
    )


@pytest.mark.parametrize(
    ("text", "kib"),
    [("1024", 1024), ("1M", 1024), ("2GiB", 2 * 1024 * 1024), ("1G", 1048576), ("1000KB", 977),
     ("512b", 1), ("3 MiB", 3072)],
)  # fmt: skip
def test_scaled(text: str, kib: int) -> None:
    assert scaled_kib(text) == kib


@pytest.mark.parametrize("text", ["", "M", "1X", "-1"])
def test_scaled_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        scaled_kib(text)


def test_parser_knows_virsh_commands() -> None:
    parser = build_parser()
    for argv in (
        ["list", "--all"],
        ["dominfo", "web"],
        ["nodeinfo"],
        ["version"],
        ["autostart", "--disable", "web"],
        ["send-key", "web", "--codeset", "linux", "KEY_LEFTCTRL", "KEY_LEFTALT", "KEY_DELETE"],
        ["setmem", "web", "2G"],
        ["screenshot", "web", "--file", "x.png"],
        ["attach-device", "web", "disk.xml"],
        ["net-list"],
        ["-r", "-c", "hyperv://a@h/", "list", "--json"],
    ):
        args = parser.parse_args(argv)
        assert args._command.name == argv[argv.index(args.command)]
    args = parser.parse_args(["--json", "-c", "hyperv://h/", "hostname"])
    assert args.json is True and args.connect == ["hyperv://h/"]
    args = parser.parse_args(["hostname", "--json"])
    assert args.json is True


def test_format_columns_aligns_by_display_width_and_right_aligns_numbers() -> None:
    text = format_columns(
        ("HOST", "VM", "GIB"), [("hv01", "数据库", "12"), ("hv02", "web\x1b[2J", "3")], right={2}
    )
    # The wide characters take two columns each; the escape sequence is defused.
    assert text.splitlines() == [
        "HOST  VM       GIB",
        "----  -------  ---",
        "hv01  数据库    12",
        "hv02  web?[2J    3",
    ]
