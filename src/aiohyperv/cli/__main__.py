"""`python -m aiohyperv.cli` and the `aiohyperv` console script.

``--version`` alone is answered here, before the parser of every command is built (which
imports asyncio, the command table and the fleet's options: most of the CLI's start-up).
"""

from __future__ import annotations

import sys

__all__ = ["main"]

_VERSION_FLAGS = (["--version"], ["-v"])


def main(argv: list[str] | None = None) -> int:
    """Run the command line (``aiohyperv.cli._main.main``); ``--version`` answered at once."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args in _VERSION_FLAGS:
        from aiohyperv import __version__

        sys.stdout.write(f"aiohyperv {__version__}\n")
        return 0
    from ._main import main as run_main

    return run_main(args)


if __name__ == "__main__":
    sys.exit(main())
