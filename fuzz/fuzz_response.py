"""Fuzz the response parser: parse_response, every body parser, the enumeration state machine
and every typed getter.

Run from the repository root for a fixed time::

    python fuzz/fuzz_response.py -max_total_time=60

atheris (coverage-guided libFuzzer) is used when installed, else a pure-Python mutation
fuzzer (``--pure`` forces it).  Crashes land in ``tests/reliability/corpus/response-crash-*``,
which the test suite replays.  See ``fuzz/_harness.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import main

if __name__ == "__main__":
    sys.exit(main("response"))
