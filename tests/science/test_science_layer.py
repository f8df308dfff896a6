"""Layer rule for the geometry science modules (stdlib, numpy, scipy and holopipe.science
only), their declared public names, and their runnable docstring examples."""

from __future__ import annotations

import ast
import doctest
import importlib
import sys
from pathlib import Path

import pytest

import holopipe.science

SCIENCE = Path(holopipe.science.__file__).parent
MODULES = ["_derivatives", "defaults", "geometry", "contracts", "negative_controls", "analysis"]


def _imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path.name}: use absolute imports"
            roots.add(node.module)
    return roots


@pytest.mark.parametrize("module", MODULES)
def test_imports_stay_inside_the_science_layer(module):
    for name in _imported_roots(SCIENCE / f"{module}.py"):
        top = name.split(".")[0]
        allowed = top in sys.stdlib_module_names or top in {"numpy", "scipy"}
        assert allowed or name.startswith("holopipe.science"), f"{module} imports {name}"


@pytest.mark.parametrize("module", MODULES)
def test_public_names_exist_and_examples_run(module):
    namespace = importlib.import_module(f"holopipe.science.{module}")
    missing = [name for name in namespace.__all__ if not hasattr(namespace, name)]
    assert not missing
    outcome = doctest.testmod(namespace, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert outcome.attempted > 0 and outcome.failed == 0
