"""``aiohyperv._auth.__all__`` lists exactly its public names, sorted."""

from __future__ import annotations

import aiohyperv._auth as auth


def test_all_is_sorted_and_complete() -> None:
    public = {name for name in dir(auth) if not name.startswith("_")}
    public -= {"annotations"}
    assert set(auth.__all__) == public
    assert auth.__all__ == sorted(auth.__all__, key=lambda n: (not n.isupper(), n))
