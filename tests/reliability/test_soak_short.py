"""A six-second run of ``benchmarks/soak.py`` (the full one runs for minutes, on its own).

Checks what the soak checks, minus memory flatness (six seconds are too short to judge RSS):
every operation is accounted for (ok, failed by type, or cancelled), nothing outside
``HyperVError`` escaped, nothing hung, the faults were hit, and every file descriptor and task
the run opened is gone afterwards.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from types import ModuleType

SOAK = Path(__file__).resolve().parents[2] / "benchmarks" / "soak.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("aiohyperv_soak", SOAK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


async def test_short_soak() -> None:
    soak = _load()
    report = await soak.soak(
        [
            "--seconds",
            "6",
            "--sample",
            "2",
            "--hosts",
            "8",
            "--workers",
            "12",
            "--rotate",
            "2",
            "--warmup",
            "1",
            "--rss-slack-mb",
            "1000",
            "--fleet-rate",
            "0.01",
            "--seed",
            "3",
        ]
    )
    counts = report.counts
    assert counts.reconciles(), counts
    assert not counts.unexpected, counts.unexpected
    assert counts.hung == 0
    assert counts.ok > 0 and counts.failed, counts
    assert report.fds_after <= report.fds_before
    assert report.tasks_after <= report.tasks_before
    assert report.ok, report.problems
    assert len(report.samples) >= 3
