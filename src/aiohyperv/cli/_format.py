"""The CLI's plain-text layouts: virsh's ``vshTable`` tables and ``%-Ns`` key/value lines, and
the inventory's aligned columns.

``vshTable`` (libvirt ``tools/vsh-table.c``) prints each cell with one leading space, pads every
column but the last to its widest cell plus two spaces, and draws a dashed line of
``sum(width + 3)`` characters under the header.  The inventory table (:func:`format_columns`)
separates columns by two spaces, right-aligns the numeric ones and dashes each column under its
header.  Both measure cells in terminal columns (East Asian wide characters count two, combining
marks none) and replace control characters, as vshTableSafeEncode does, so a host or VM name
can neither break the alignment nor send escape sequences to the terminal.
"""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Collection, Sequence

__all__ = ["format_columns", "format_kv", "format_table", "safe_line", "scaled_kib"]


def _safe(text: str) -> str:
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def safe_line(text: str) -> str:
    """Host-supplied text made fit for one terminal line.

    Line breaks of any kind (``\\n``, ``\\r``, NEL, U+2028...) become spaces, so a parser
    message that spans lines still reads; every other character that is not printable (C0 and
    C1 controls, bidirectional overrides and other format characters) becomes ``?``, as in a
    table cell.  A host then cannot forge a line of output or drive the terminal.
    """
    return _safe(" ".join(text.splitlines()))


def _width(text: str) -> int:
    width = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


def format_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A table exactly as ``vshTablePrintToStdout`` prints it (with its header)."""
    cells = [[safe_line(str(c)) for c in header]] + [
        [safe_line(str(c)) for c in row] for row in rows
    ]
    ncols = len(header)
    widths = [max(_width(r[i]) for r in cells) for i in range(ncols)]
    lines: list[str] = []

    def line(row: list[str]) -> str:
        parts = []
        for i, cell in enumerate(row):
            parts.append(" " + cell)
            if i < ncols - 1:
                parts.append(" " * (widths[i] - _width(cell) + 2))
        return "".join(parts)

    lines.append(line(cells[0]))
    lines.append("-" * sum(w + 3 for w in widths))
    lines.extend(line(r) for r in cells[1:])
    return "\n".join(lines) + "\n"


def format_columns(
    header: Sequence[str], rows: Sequence[Sequence[object]], *, right: Collection[int] = ()
) -> str:
    """Columns two spaces apart, each as wide as its widest cell, dashes under the header.

    Args:
        header: The column titles.
        rows: The cells, converted with ``str``.
        right: Indexes of the columns to right-align (numbers).

    Returns:
        The lines, without a final newline; trailing blanks are stripped.
    """
    cells = [[safe_line(str(c)) for c in header]] + [
        [safe_line(str(c)) for c in row] for row in rows
    ]
    widths = [max(_width(r[i]) for r in cells) for i in range(len(header))]

    def line(row: Sequence[str]) -> str:
        parts = []
        for i, cell in enumerate(row):
            pad = " " * (widths[i] - _width(cell))
            parts.append(pad + cell if i in right else cell + pad)
        return "  ".join(parts).rstrip()

    lines = [line(cells[0]), line(["-" * w for w in widths])]
    lines.extend(line(r) for r in cells[1:])
    return "\n".join(lines)


def format_kv(pairs: Sequence[tuple[str, object]], *, width: int) -> str:
    """Lines of ``"%-<width>s %s"``, as virsh's dominfo (15) and nodeinfo (20) print them."""
    return "".join(f"{key:<{width}} {value}\n" for key, value in pairs)


_UNITS = {
    "": 1024,
    "b": 1,
    "byte": 1,
    "bytes": 1,
    "k": 1024,
    "kib": 1024,
    "kb": 1000,
    "m": 1024**2,
    "mib": 1024**2,
    "mb": 1000**2,
    "g": 1024**3,
    "gib": 1024**3,
    "gb": 1000**3,
    "t": 1024**4,
    "tib": 1024**4,
    "tb": 1000**4,
}


def scaled_kib(text: str) -> int:
    """virsh's scaled integer for memory sizes: plain numbers are KiB; ``512M``, ``2GiB``...

    Raises:
        ValueError: not a size.
    """
    raw = text.strip()
    digits = raw
    suffix = ""
    for i, ch in enumerate(raw):
        if not ch.isdigit():
            digits, suffix = raw[:i], raw[i:].strip().lower()
            break
    if not digits or suffix not in _UNITS:
        raise ValueError(f"invalid size {text!r}")
    value = int(digits) * _UNITS[suffix]
    return -(-value // 1024)
