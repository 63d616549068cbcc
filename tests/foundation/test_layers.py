"""The layers depend one way (docs/ARCHITECTURE.md): each client layer imports only the layers
below it, and no client layer imports the simulator, the CLI or the test helpers.

Every import counts, at module level, inside functions or for type annotations only: a lazy or
type-only import is still a dependency.  The top-level modules (``_exceptions``, ``_config``,
``_credentials``, ...) are shared by every layer.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "aiohyperv"
# Lowest first; a layer may import any layer before it.
CLIENT_LAYERS = ("cim", "wsman", "schema", "_auth", "_transport", "hyperv", "fleet")
TEST_INFRASTRUCTURE = ("simulator", "testing", "cli")


def _layer(module: str) -> str | None:
    """The layer of ``aiohyperv.<layer>...``; None for shared top-level modules."""
    parts = module.split(".")
    if parts[0] != "aiohyperv" or len(parts) < 2:
        return None
    name = parts[1]
    return name if name in CLIENT_LAYERS + TEST_INFRASTRUCTURE else None


def _imports(path: Path) -> set[str]:
    module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    package = package.removesuffix(".__init__")
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                found.add(".".join([*base, *([node.module] if node.module else [])]))
            elif node.module:
                found.add(node.module)
    return found


def _modules(layer: str) -> list[Path]:
    root = PACKAGE / layer
    return sorted(root.rglob("*.py")) if root.is_dir() else [root.with_suffix(".py")]


@pytest.mark.parametrize("layer", CLIENT_LAYERS)
def test_client_layers_import_only_layers_below(layer: str) -> None:
    allowed = set(CLIENT_LAYERS[: CLIENT_LAYERS.index(layer) + 1])
    wrong = {
        f"{path.relative_to(PACKAGE)} imports {target}"
        for path in _modules(layer)
        for target in _imports(path)
        if (other := _layer(target)) is not None and other not in allowed
    }
    assert not wrong, sorted(wrong)


def test_the_check_sees_a_violation() -> None:
    # The fleet imports the driver; the driver must not import the fleet.
    assert any(_layer(t) == "hyperv" for p in _modules("fleet") for t in _imports(p))
    assert "fleet" not in CLIENT_LAYERS[: CLIENT_LAYERS.index("hyperv") + 1]
