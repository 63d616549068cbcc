"""Windows build numbers packed the way libvirt packs hypervisor versions.

``major * 100000000 + minor * 1000000 + micro``; ``virsh version`` prints the packed number
as ``v // 1000000 . (v % 1000000) // 1000 . v % 1000``, so 10.0.17763 reads ``1000.17.763``.
"""

from __future__ import annotations

from ._exceptions import InvalidVersion

__all__ = ["format_version", "pack_version"]

_MAJOR_MAX = 99
_MINOR_MAX = 99
_MICRO_MAX = 999_999


def pack_version(text: str) -> int:
    """Pack ``"major.minor[.micro]"`` (Win32_OperatingSystem.Version) into one integer.

    Args:
        text: A Windows version such as ``"10.0.17763"``.

    Returns:
        ``major * 100000000 + minor * 1000000 + micro``.

    Raises:
        InvalidVersion: A component is not a number or too large to pack without loss
            (major > 99, minor > 99, micro > 999999), as libvirt refuses them.
    """
    parts = text.strip().split(".")
    if not 2 <= len(parts) <= 3:
        raise InvalidVersion(f"version {text!r}: expected major.minor.micro")
    numbers: list[int] = []
    for part in parts:
        if not part.isascii() or not part.isdigit():
            raise InvalidVersion(f"version {text!r}: component {part!r} is not a number")
        numbers.append(int(part))
    major, minor = numbers[0], numbers[1]
    micro = numbers[2] if len(numbers) == 3 else 0
    for name, value, limit in (
        ("major", major, _MAJOR_MAX),
        ("minor", minor, _MINOR_MAX),
        ("micro", micro, _MICRO_MAX),
    ):
        if value > limit:
            raise InvalidVersion(
                f"version {text!r}: {name} {value} exceeds {limit} and cannot be packed"
            )
    return major * 100_000_000 + minor * 1_000_000 + micro


def format_version(packed: int) -> str:
    """Format a packed version as ``virsh version`` does: ``1000017763`` -> ``1000.17.763``."""
    if packed < 0:
        raise InvalidVersion(f"packed version {packed} is negative")
    return f"{packed // 1_000_000}.{(packed % 1_000_000) // 1000}.{packed % 1000}"
