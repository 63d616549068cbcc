"""Replay every saved fuzz crash (``corpus/<target>-*``) and every corpus body through the targets.

A file lands in ``corpus/`` when a fuzz run (``fuzz/fuzz_*.py``) finds an input that made a
parser raise something other than ``ProtocolError``/``WSManFault``.  Once the bug is fixed the
file stays, so the bug cannot come back unnoticed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ._corpus import CASES, Reply
from .fuzz_targets import TARGETS, check_response

CORPUS = Path(__file__).parent / "corpus"
SAVED = sorted(p for p in CORPUS.iterdir() if p.is_file() and p.name.split("-", 1)[0] in TARGETS)


def test_saved_crashes_exist() -> None:
    """At least the CIM-XML crash atheris found (a lone surrogate, fixed in ``cim._xml``)."""
    assert any(p.name.startswith("cimxml-crash-") for p in SAVED)


@pytest.mark.parametrize("path", SAVED, ids=[p.name for p in SAVED])
def test_saved_crash_is_handled(path: Path) -> None:
    TARGETS[path.name.split("-", 1)[0]](path.read_bytes())


BODIES = [
    pytest.param(c.answer.body, id=c.id)
    for c in CASES
    if isinstance(c.answer, Reply) and isinstance(c.answer.body, bytes)
]


@pytest.mark.parametrize("body", BODIES)
def test_corpus_bodies_through_the_response_target(body: bytes) -> None:
    check_response(body)
