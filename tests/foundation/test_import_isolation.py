"""The client library loads none of its test infrastructure: no simulator, no accepting side of
authentication, no server codec, no command line, no ``aiohttp.web``.

Each check runs in a fresh interpreter, since this test process has long since imported all of it.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# Prefixes of modules that only the simulator, the CLI or a server need.
FORBIDDEN = (
    "aiohyperv.simulator",
    "aiohyperv.cli",
    "aiohyperv.testing",
    "aiohttp.web",
    "argparse",
)


def loaded_modules(code: str) -> list[str]:
    """The module names loaded after running ``code`` in a fresh interpreter."""
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", script], check=True, capture_output=True, text=True, timeout=120
    ).stdout
    names: list[str] = json.loads(out.splitlines()[-1])
    return names


def forbidden(names: list[str]) -> list[str]:
    return [n for n in names if any(n == p or n.startswith(p + ".") for p in FORBIDDEN)]


@pytest.mark.parametrize(
    "code",
    [
        "import aiohyperv",
        # Everything a library user touches, including the lazily imported client auth.
        "import aiohyperv, aiohyperv.hyperv, aiohyperv.fleet, aiohyperv.wsman, aiohyperv.cim\n"
        "import aiohyperv._auth, aiohyperv._transport",
    ],
)
def test_client_library_loads_no_test_infrastructure(code: str) -> None:
    assert forbidden(loaded_modules(code)) == []


def test_the_check_sees_the_simulator_when_it_is_loaded() -> None:
    """The same check does see those modules once the simulator is imported (it can fail)."""
    found = forbidden(loaded_modules("import aiohyperv.simulator"))
    assert "aiohyperv.simulator._auth" in found
    assert "aiohyperv.simulator._codec" in found
    assert "aiohttp.web" in found


@pytest.mark.parametrize("package", ["aiohyperv", "aiohyperv.hyperv", "aiohyperv.fleet"])
def test_importing_a_package_loads_no_http_client(package: str) -> None:
    """The re-exports load on first use: importing the package alone loads no aiohttp."""
    names = loaded_modules(f"import {package}")
    assert [n for n in names if n == "aiohttp" or n.startswith("aiohttp.")] == []


def test_the_http_client_loads_on_first_use() -> None:
    names = loaded_modules("import aiohyperv\naiohyperv.SessionPool")
    assert "aiohttp" in names


def test_version_answers_before_the_command_line_loads(capsys: pytest.CaptureFixture[str]) -> None:
    """``aiohyperv --version`` prints what the full parser prints, without loading it."""
    names = loaded_modules(
        "import contextlib, io\nfrom aiohyperv.cli.__main__ import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n    assert main(['--version']) == 0"
    )
    assert "aiohyperv.cli._main" not in names
    assert "asyncio" not in names
    from aiohyperv.cli import build_parser
    from aiohyperv.cli.__main__ import main

    assert main(["-v"]) == 0
    fast = capsys.readouterr().out
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--version"])
    assert capsys.readouterr().out == fast
    # Anything more than the flag goes through the whole parser.
    names = loaded_modules(
        "import contextlib, io\nfrom aiohyperv.cli.__main__ import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n    main(['help', 'list'])"
    )
    assert "aiohyperv.cli._main" in names
