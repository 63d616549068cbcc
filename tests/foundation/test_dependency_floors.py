"""pyproject.toml's dependency bounds and constraints-oldest.txt say the same thing.

``make test`` runs the suite a second time with constraints-oldest.txt pinned, so that file is
the proof that the floors pyproject.toml declares work.  It proves nothing if the two drift:
every runtime dependency must be pinned there at exactly its ``>=`` floor, and must have an
upper bound (the next major release) here.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_REQUIREMENT = re.compile(r"^(?P<name>[A-Za-z0-9._-]+)(?:\[[^\]]*\])?\s*(?P<spec>.*)$")


def _bounds(requirement: str) -> tuple[str, str | None, str | None]:
    match = _REQUIREMENT.match(requirement)
    assert match is not None, requirement
    floor = cap = None
    for clause in match.group("spec").split(","):
        clause = clause.strip()
        if clause.startswith(">="):
            floor = clause[2:].strip()
        elif clause.startswith("<") and not clause.startswith("<="):
            cap = clause[1:].strip()
    return match.group("name").lower(), floor, cap


def _declared() -> dict[str, tuple[str | None, str | None]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {name: (floor, cap) for name, floor, cap in map(_bounds, project["dependencies"])}


def _pinned() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (ROOT / "constraints-oldest.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, sep, version = line.partition("==")
            assert sep, f"constraints-oldest.txt: {line!r} is not an exact pin"
            pins[name.strip().lower()] = version.strip()
    return pins


def test_every_dependency_has_a_floor_and_a_cap() -> None:
    declared = _declared()
    assert declared
    for name, (floor, cap) in declared.items():
        assert floor is not None, f"{name} has no >= floor"
        assert cap is not None, f"{name} has no < cap"
        assert int(cap.split(".")[0]) > int(floor.split(".")[0]), f"{name}: cap below floor"


def test_constraints_pin_exactly_the_floors() -> None:
    declared = _declared()
    assert _pinned() == {name: floor for name, (floor, _cap) in declared.items()}


def test_the_kerberos_extra_has_a_floor_and_a_cap() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    # The environment marker (``; sys_platform != 'win32'``) is not part of the bounds.
    extras = [_bounds(r.split(";")[0]) for r in project["optional-dependencies"]["kerberos"]]
    assert extras, "the kerberos extra names no package"
    for name, floor, cap in extras:
        assert floor is not None and cap is not None, f"{name} needs a >= floor and a < cap"
        assert int(cap.split(".")[0]) > int(floor.split(".")[0]), f"{name}: cap below floor"
