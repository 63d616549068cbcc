"""The package root exports exactly its public names (httpx's test_exported_members)."""

from __future__ import annotations

import types

import aiohyperv


def test_all_equals_public_names() -> None:
    # The re-exports load on first use (PEP 562): resolve them all, then nothing else may appear.
    for name in aiohyperv.__all__:
        getattr(aiohyperv, name)
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


def test_dir_lists_every_exported_name_before_use() -> None:
    assert set(aiohyperv.__all__) <= set(dir(aiohyperv))


def test_an_unknown_name_raises_attribute_error() -> None:
    try:
        aiohyperv.NoSuchName  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as exc:
        assert "NoSuchName" in str(exc)
    else:
        raise AssertionError("no AttributeError")
