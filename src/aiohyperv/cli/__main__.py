"""`python -m aiohyperv.cli` and the `aiohyperv` console script (points at `main` here)."""

from __future__ import annotations

import sys

from ._main import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
