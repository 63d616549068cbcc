"""``aiohyperv.fleet`` exports exactly its public names, and they resolve."""

from __future__ import annotations

import types

import aiohyperv.fleet


def test_all_equals_public_names() -> None:
    # The re-exports load on first use (PEP 562): resolve them all, then nothing else may appear.
    for name in aiohyperv.fleet.__all__:
        getattr(aiohyperv.fleet, name)
    public = {
        name
        for name, value in vars(aiohyperv.fleet).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert aiohyperv.fleet.__all__ == sorted(aiohyperv.fleet.__all__)
    assert set(aiohyperv.fleet.__all__) == public
    for name in aiohyperv.fleet.__all__:
        assert getattr(aiohyperv.fleet, name) is not None, name
