"""``python -m aiohyperv``: the ``aiohyperv`` command line."""

from __future__ import annotations

import sys

from aiohyperv.cli import main

if __name__ == "__main__":
    sys.exit(main())
