"""``aiohyperv.service.__all__`` is exactly its sorted public names (as httpx checks its own)."""

from __future__ import annotations

import aiohyperv.service as service


def test_all_is_the_sorted_set_of_public_names() -> None:
    public = {
        name
        for name, value in vars(service).items()
        if not name.startswith("_")
        and getattr(value, "__module__", "").startswith(service.__name__)
    }
    assert service.__all__ == sorted(public)
