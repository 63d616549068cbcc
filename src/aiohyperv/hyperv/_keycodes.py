"""Translate libvirt key codes into the Win32 virtual-key codes ``Msvm_Keyboard.PressKey`` takes.

libvirt's ``virsh send-key`` names keys in one of several *codesets*; Hyper-V only understands
Win32 virtual keys.  The table below is one row per physical key with its code in each codeset
aiohyperv supports (the facts come from QEMU's keycodemapdb, which libvirt's ``virkeycode`` is
generated from).  Keypad Enter has no virtual key of its own; it is sent as ``VK_RETURN``.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal, get_args

from aiohyperv._exceptions import ConfigError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

__all__ = ["CODESETS", "Codeset", "KeyRow", "parse_keycode", "to_win32"]

Codeset = Literal["linux", "xt", "atset1", "xt_kbd", "usb", "win32", "qnum", "rfb"]
CODESETS: tuple[str, ...] = get_args(Codeset)


@dataclass(frozen=True, slots=True)
class KeyRow:
    """One physical key; ``None`` where a codeset has no code for it."""

    linux_name: str
    linux: int
    atset1: int | None
    xt: int | None
    xt_kbd: int | None
    usb: int | None
    win32_name: str
    win32: int

    @property
    def qnum(self) -> int | None:
        """QEMU's "qnum"/RFB number: set-1 code, with 0xE0-prefixed codes as 0x80 | low byte."""
        if self.atset1 is None:
            return None
        if self.atset1 > 0xFF:
            return 0x80 | (self.atset1 & 0x7F)
        return self.atset1


def _base(name: str, code: int, usb: int, vk_name: str, vk: int) -> KeyRow:
    # Keys 1..83 share one number in linux, AT set 1, XT and the Linux XT kbd driver.
    return KeyRow(name, code, code, code, code, usb, vk_name, vk)


_LETTERS_ROW_Q = "QWERTYUIOP"
_LETTERS_ROW_A = "ASDFGHJKL"
_LETTERS_ROW_Z = "ZXCVBNM"


def _build() -> tuple[KeyRow, ...]:
    rows: list[KeyRow] = [_base("KEY_ESC", 1, 41, "VK_ESCAPE", 0x1B)]
    for i, digit in enumerate("1234567890"):
        usb = 30 + i
        rows.append(_base(f"KEY_{digit}", 2 + i, usb, f"VK_{digit}", ord(digit)))
    rows += [
        _base("KEY_MINUS", 12, 45, "VK_OEM_MINUS", 0xBD),
        _base("KEY_EQUAL", 13, 46, "VK_OEM_PLUS", 0xBB),
        _base("KEY_BACKSPACE", 14, 42, "VK_BACK", 0x08),
        _base("KEY_TAB", 15, 43, "VK_TAB", 0x09),
    ]
    for i, letter in enumerate(_LETTERS_ROW_Q):
        rows.append(
            _base(f"KEY_{letter}", 16 + i, 4 + ord(letter) - 65, f"VK_{letter}", ord(letter))
        )
    rows += [
        _base("KEY_LEFTBRACE", 26, 47, "VK_OEM_4", 0xDB),
        _base("KEY_RIGHTBRACE", 27, 48, "VK_OEM_6", 0xDD),
        _base("KEY_ENTER", 28, 40, "VK_RETURN", 0x0D),
        _base("KEY_LEFTCTRL", 29, 224, "VK_LCONTROL", 0xA2),
    ]
    for i, letter in enumerate(_LETTERS_ROW_A):
        rows.append(
            _base(f"KEY_{letter}", 30 + i, 4 + ord(letter) - 65, f"VK_{letter}", ord(letter))
        )
    rows += [
        _base("KEY_SEMICOLON", 39, 51, "VK_OEM_1", 0xBA),
        _base("KEY_APOSTROPHE", 40, 52, "VK_OEM_7", 0xDE),
        _base("KEY_GRAVE", 41, 53, "VK_OEM_3", 0xC0),
        _base("KEY_LEFTSHIFT", 42, 225, "VK_LSHIFT", 0xA0),
        _base("KEY_BACKSLASH", 43, 50, "VK_OEM_5", 0xDC),
    ]
    for i, letter in enumerate(_LETTERS_ROW_Z):
        rows.append(
            _base(f"KEY_{letter}", 44 + i, 4 + ord(letter) - 65, f"VK_{letter}", ord(letter))
        )
    rows += [
        _base("KEY_COMMA", 51, 54, "VK_OEM_COMMA", 0xBC),
        _base("KEY_DOT", 52, 55, "VK_OEM_PERIOD", 0xBE),
        _base("KEY_SLASH", 53, 56, "VK_OEM_2", 0xBF),
        _base("KEY_RIGHTSHIFT", 54, 229, "VK_RSHIFT", 0xA1),
        _base("KEY_KPASTERISK", 55, 85, "VK_MULTIPLY", 0x6A),
        _base("KEY_LEFTALT", 56, 226, "VK_LMENU", 0xA4),
        _base("KEY_SPACE", 57, 44, "VK_SPACE", 0x20),
        _base("KEY_CAPSLOCK", 58, 57, "VK_CAPITAL", 0x14),
    ]
    for i in range(10):
        rows.append(_base(f"KEY_F{i + 1}", 59 + i, 58 + i, f"VK_F{i + 1}", 0x70 + i))
    rows += [
        _base("KEY_NUMLOCK", 69, 83, "VK_NUMLOCK", 0x90),
        _base("KEY_SCROLLLOCK", 70, 71, "VK_SCROLL", 0x91),
        _base("KEY_KP7", 71, 95, "VK_NUMPAD7", 0x67),
        _base("KEY_KP8", 72, 96, "VK_NUMPAD8", 0x68),
        _base("KEY_KP9", 73, 97, "VK_NUMPAD9", 0x69),
        _base("KEY_KPMINUS", 74, 86, "VK_SUBTRACT", 0x6D),
        _base("KEY_KP4", 75, 92, "VK_NUMPAD4", 0x64),
        _base("KEY_KP5", 76, 93, "VK_NUMPAD5", 0x65),
        _base("KEY_KP6", 77, 94, "VK_NUMPAD6", 0x66),
        _base("KEY_KPPLUS", 78, 87, "VK_ADD", 0x6B),
        _base("KEY_KP1", 79, 89, "VK_NUMPAD1", 0x61),
        _base("KEY_KP2", 80, 90, "VK_NUMPAD2", 0x62),
        _base("KEY_KP3", 81, 91, "VK_NUMPAD3", 0x63),
        _base("KEY_KP0", 82, 98, "VK_NUMPAD0", 0x60),
        _base("KEY_KPDOT", 83, 99, "VK_DECIMAL", 0x6E),
        #       name            linux set1   xt    xt_kbd usb  win32 name     win32
        KeyRow("KEY_102ND", 86, 0x56, None, 86, 100, "VK_OEM_102", 0xE2),
        KeyRow("KEY_F11", 87, 0x57, 101, 87, 68, "VK_F11", 0x7A),
        KeyRow("KEY_F12", 88, 0x58, 102, 88, 69, "VK_F12", 0x7B),
        KeyRow("KEY_KPENTER", 96, 0xE01C, None, 284, 88, "VK_RETURN", 0x0D),
        KeyRow("KEY_RIGHTCTRL", 97, 0xE01D, None, 285, 228, "VK_RCONTROL", 0xA3),
        KeyRow("KEY_KPSLASH", 98, 0xE035, None, 309, 84, "VK_DIVIDE", 0x6F),
        KeyRow("KEY_SYSRQ", 99, 0x54, None, 84, 70, "VK_SNAPSHOT", 0x2C),
        KeyRow("KEY_RIGHTALT", 100, 0xE038, None, 312, 230, "VK_RMENU", 0xA5),
        KeyRow("KEY_HOME", 102, 0xE047, None, 327, 74, "VK_HOME", 0x24),
        KeyRow("KEY_UP", 103, 0xE048, 109, 328, 82, "VK_UP", 0x26),
        KeyRow("KEY_PAGEUP", 104, 0xE049, None, 329, 75, "VK_PRIOR", 0x21),
        KeyRow("KEY_LEFT", 105, 0xE04B, 111, 331, 80, "VK_LEFT", 0x25),
        KeyRow("KEY_RIGHT", 106, 0xE04D, 112, 333, 79, "VK_RIGHT", 0x27),
        KeyRow("KEY_END", 107, 0xE04F, None, 335, 77, "VK_END", 0x23),
        KeyRow("KEY_DOWN", 108, 0xE050, 110, 336, 81, "VK_DOWN", 0x28),
        KeyRow("KEY_PAGEDOWN", 109, 0xE051, None, 337, 78, "VK_NEXT", 0x22),
        KeyRow("KEY_INSERT", 110, 0xE052, 107, 338, 73, "VK_INSERT", 0x2D),
        KeyRow("KEY_DELETE", 111, 0xE053, 108, 339, 76, "VK_DELETE", 0x2E),
        KeyRow("KEY_PAUSE", 119, 0xE046, None, 326, 72, "VK_PAUSE", 0x13),
        KeyRow("KEY_LEFTMETA", 125, 0xE05B, None, 347, 227, "VK_LWIN", 0x5B),
        KeyRow("KEY_RIGHTMETA", 126, 0xE05C, None, 348, 231, "VK_RWIN", 0x5C),
        KeyRow("KEY_COMPOSE", 127, 0xE05D, None, 349, 101, "VK_APPS", 0x5D),
    ]
    return tuple(rows)


KEY_ROWS: tuple[KeyRow, ...] = _build()


def _index(codes: Iterable[tuple[int | None, KeyRow]]) -> Mapping[int, KeyRow]:
    table: dict[int, KeyRow] = {}
    for code, row in codes:
        if code is not None:
            table.setdefault(code, row)
    return MappingProxyType(table)


_BY_CODE: dict[str, Mapping[int, KeyRow]] = {
    "linux": _index((r.linux, r) for r in KEY_ROWS),
    "atset1": _index((r.atset1, r) for r in KEY_ROWS),
    "xt": _index((r.xt, r) for r in KEY_ROWS),
    "xt_kbd": _index((r.xt_kbd, r) for r in KEY_ROWS),
    "usb": _index((r.usb, r) for r in KEY_ROWS),
    "win32": _index((r.win32, r) for r in KEY_ROWS),
    "qnum": _index((r.qnum, r) for r in KEY_ROWS),
}
_BY_CODE["rfb"] = _BY_CODE["qnum"]

_BY_NAME: dict[str, Mapping[str, int]] = {
    "linux": MappingProxyType({r.linux_name: r.linux for r in KEY_ROWS}),
    "win32": MappingProxyType({r.win32_name: r.win32 for r in KEY_ROWS}),
}
# Generic modifier names virsh users type for win32.
_WIN32_EXTRA = {"VK_SHIFT": 0x10, "VK_CONTROL": 0x11, "VK_MENU": 0x12}


def _check_codeset(codeset: str) -> None:
    if codeset not in CODESETS:
        raise ConfigError(
            f"unknown or unsupported codeset {codeset!r}; use one of {', '.join(CODESETS)}"
        )


def parse_keycode(codeset: str, text: str) -> int:
    """A key given on the command line: a number (decimal or 0x hex) or a name (KEY_A, VK_A).

    Raises:
        ConfigError: unknown codeset, or a name the codeset does not have.
    """
    _check_codeset(codeset)
    text = text.strip()
    try:
        return int(text, 0)
    except ValueError:
        pass
    names = _BY_NAME.get(codeset)
    key = text.upper()
    if names is not None and key in names:
        return names[key]
    if codeset == "win32" and key in _WIN32_EXTRA:
        return _WIN32_EXTRA[key]
    raise ConfigError(f"invalid keycode {text!r} for codeset {codeset}")


def to_win32(codeset: str, keycodes: Iterable[int]) -> list[int]:
    """Translate ``keycodes`` from ``codeset`` to Win32 virtual keys.

    Win32 codes pass through unchanged (as libvirt does), so ``VK_SHIFT`` and friends work.

    Raises:
        ConfigError: unknown codeset, or a code with no Win32 equivalent.
    """
    _check_codeset(codeset)
    codes = list(keycodes)
    if codeset == "win32":
        for code in codes:
            if not 0 < code < 0x100:
                raise ConfigError(f"win32 virtual-key code {code} out of range 1-255")
        return codes
    table = _BY_CODE[codeset]
    result: list[int] = []
    for code in codes:
        row = table.get(code)
        if row is None:
            raise ConfigError(f"cannot translate keycode {code} of codeset {codeset} to win32")
        result.append(row.win32)
    return result
