"""Version packing: every Windows Server release in the seed table, and the refusals."""

from __future__ import annotations

import pytest

from aiohyperv import InvalidVersion, format_version, pack_version

SEED = [
    # release, Win32_OperatingSystem.Version, packed, as virsh prints it
    ("Windows Server 2008", "6.0.6001", 600006001, "600.6.1"),
    ("Windows Server 2008 R2", "6.1.7600", 601007600, "601.7.600"),
    ("Windows Server 2008 R2 SP1", "6.1.7601", 601007601, "601.7.601"),
    ("Windows Server 2012", "6.2.9200", 602009200, "602.9.200"),
    ("Windows Server 2012 R2", "6.3.9600", 603009600, "603.9.600"),
    ("Windows Server 2016", "10.0.14393", 1000014393, "1000.14.393"),
    ("Windows Server 2019", "10.0.17763", 1000017763, "1000.17.763"),
    ("Windows Server 2022", "10.0.20348", 1000020348, "1000.20.348"),
    ("Windows Server 2025", "10.0.26100", 1000026100, "1000.26.100"),
]


@pytest.mark.parametrize(("release", "text", "packed", "printed"), SEED)
def test_seed_table(release: str, text: str, packed: int, printed: str) -> None:
    assert pack_version(text) == packed, release
    assert format_version(packed) == printed, release


def test_brief_formula() -> None:
    assert pack_version("10.0.17763") == 10 * 100000000 + 0 * 1000000 + 17763
    assert pack_version("6.1") == 601000000
    assert pack_version(" 99.99.999999 ") == 9999999999


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("100.0.1", "major 100 exceeds 99"),
        ("10.100.1", "minor 100 exceeds 99"),
        ("10.0.1000000", "micro 1000000 exceeds 999999"),
        ("10.x.1", "'x' is not a number"),
        ("10.0.-1", "'-1' is not a number"),
        ("10", "expected major.minor.micro"),
        ("10.0.17763.1", "expected major.minor.micro"),
        ("", "expected major.minor.micro"),
        ("10..1", "'' is not a number"),
        ("１０.0.1", "is not a number"),
    ],
)
def test_refused(text: str, fragment: str) -> None:
    with pytest.raises(InvalidVersion) as info:
        pack_version(text)
    assert fragment in str(info.value)
    assert isinstance(info.value, ValueError)


def test_format_negative() -> None:
    with pytest.raises(InvalidVersion):
        format_version(-1)
