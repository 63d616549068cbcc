"""Shared helpers for the protocol-core tests: where the data files are, and loaders."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data"
SAMPLES = DATA / "wsman-samples"
GOLDEN = DATA / "golden"
RESPONSES = DATA / "responses"


def sample(name: str) -> bytes:
    """A recorded Windows sample (``tests/data/wsman-samples/``)."""
    return (SAMPLES / name).read_bytes()


def response(name: str) -> bytes:
    """A hand-written response fixture in Windows' shape."""
    return (RESPONSES / name).read_bytes()
