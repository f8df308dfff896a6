"""The supported Pythons are stated once in each place that states them, and agree (issue 15)."""

import ast
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _noxfile_supported() -> tuple[str, ...]:
    tree = ast.parse((ROOT / "noxfile.py").read_text(encoding="utf-8"))
    for node in tree.body:
        target = getattr(node, "target", None) or (getattr(node, "targets", [None]) or [None])[0]
        if getattr(target, "id", None) == "SUPPORTED_PYTHONS":
            return tuple(ast.literal_eval(node.value))
    raise AssertionError("noxfile.py has no SUPPORTED_PYTHONS")


def test_classifiers_noxfile_and_readme_agree():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    prefix = "Programming Language :: Python :: "
    classified = tuple(
        c.removeprefix(prefix)
        for c in project["classifiers"]
        if re.fullmatch(re.escape(prefix) + r"3\.\d+", c)
    )
    supported = _noxfile_supported()
    assert classified == supported == ("3.11", "3.12", "3.13")
    assert project["requires-python"] == f">={supported[0]}"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "supports CPython 3.11, 3.12 and 3.13" in readme
    assert f"{sys.version_info.major}.{sys.version_info.minor}" in supported
