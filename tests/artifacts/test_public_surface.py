"""The artifacts layer's public surface: one list of names, public seams, declared behaviour."""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pytest

import holopipe.artifacts as artifacts
from holopipe.artifacts import registry
from holopipe.artifacts.base import Artifact, JSONArtifact

INIT = Path(artifacts.__file__)


def _type_checking_imports() -> dict[str, str]:
    """Name -> module of every import in the ``if TYPE_CHECKING:`` block of ``__init__``."""
    tree = ast.parse(INIT.read_text(encoding="utf-8"))
    names = {}
    for node in tree.body:
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            for stmt in node.body:
                assert isinstance(stmt, ast.ImportFrom), ast.dump(stmt)
                for alias in stmt.names:
                    names[alias.asname or alias.name] = stmt.module
    return names


def test_the_three_name_lists_of_the_package_agree():
    lazy = {name: f"holopipe.artifacts.{module}" for name, module in artifacts._WHERE.items()}
    checked = _type_checking_imports()
    assert set(artifacts.__all__) == set(lazy), "__all__ vs the lazy table"
    assert checked == lazy, "the TYPE_CHECKING imports vs the lazy table"
    assert len(artifacts.__all__) == len(set(artifacts.__all__)), "a name listed twice"
    for name, module in lazy.items():
        assert getattr(importlib.import_module(module), name) is getattr(artifacts, name)


@pytest.mark.parametrize(
    "module",
    ["io", "structure", "safety", "npy_header", "stored_zip", "sniff", "walk", "run_records"],
)
def test_public_modules_export_what_they_list(module):
    mod = importlib.import_module(f"holopipe.artifacts.{module}")
    for name in mod.__all__:
        assert not name.startswith("_")
        value = getattr(mod, name)
        if inspect.isfunction(value) or inspect.isclass(value):
            assert value.__module__ == mod.__name__, name  # defined there, not re-exported


#: Types whose own ``_load`` runs every check of their ``_check_fields`` (said in the class).
LOADS_WITH_FIELD_CHECKS = {"GeometryPrediction"}


def _builtin_types() -> list[type[Artifact]]:
    return list(registry.refresh([]).values())


@pytest.mark.parametrize("cls", _builtin_types(), ids=lambda c: c.SCHEMA_NAME)
def test_declared_behaviour_matches_the_code(cls):
    # The flags replace identity checks on methods; the built-ins must declare them truly.
    own = [c for c in cls.__mro__ if c not in (JSONArtifact, Artifact, object)]
    overrides_load = any("_load" in vars(c) for c in own)
    expected = (issubclass(cls, JSONArtifact) and not overrides_load) or (
        cls.SCHEMA_NAME in LOADS_WITH_FIELD_CHECKS
    )
    assert cls.LOAD_CHECKS_FIELDS is expected
    assert cls.HAS_SIDECARS is any("files" in vars(c) for c in own)
    if any("primary_of" in vars(c) for c in own):  # asked only of types with sidecars
        assert cls.HAS_SIDECARS


def test_read_with_report_is_public_and_returns_the_object(tmp_path):
    from holopipe.artifacts import StageSummary

    path = StageSummary.example().write(tmp_path / "stage_summary.json")
    report, obj = StageSummary.read_with_report(path)
    assert report.ok and obj == StageSummary.example()
    report, obj = StageSummary.read_with_report(tmp_path / "missing.json")
    assert obj is None and [f.code for f in report.errors] == ["missing_file"]
