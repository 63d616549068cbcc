"""The package root exports exactly its public names (httpx's test_exported_members)."""

from __future__ import annotations

import types

import aiohyperv


def test_all_equals_public_names() -> None:
    public = {
        name
        for name, value in vars(aiohyperv).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    # Order is ruff's RUF022 (isort-style) sort, checked by `ruff check`.
    assert len(aiohyperv.__all__) == len(set(aiohyperv.__all__))
    assert set(aiohyperv.__all__) == public


def test_every_exported_name_resolves() -> None:
    for name in aiohyperv.__all__:
        assert getattr(aiohyperv, name) is not None, name
