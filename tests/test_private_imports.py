"""No import of a private (``_``-prefixed) module or name across packages (issue 8's
acceptance), checked with ``ast`` like the layer test checks the layers.

A package is ``holopipe.<name>`` (``artifacts``, ``run``, ``stages``, ...; the top-level
modules such as ``pipeline`` count as their own). Inside a package anything goes; across
packages only public names: an import of a ``_module`` or a ``_name``, or an attribute
``_name`` read from something imported from another package (``cls._read_with_report``
on an imported class, ``module._helper``), is an offence. Dunders are public.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "holopipe"


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _package(module: str) -> str:
    return ".".join(module.split(".")[:2])


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def offences(source: str, module: str) -> list[str]:
    """``module: line: what`` for every cross-package private use in ``source``."""
    here = _package(module)
    found, foreign = [], set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("holopipe"):
            if _package(node.module) == here:
                continue
            if any(_private(part) for part in node.module.split(".")):
                found.append(f"{module}:{node.lineno}: imports {node.module}")
            for alias in node.names:
                if _private(alias.name):
                    found.append(f"{module}:{node.lineno}: imports {node.module}.{alias.name}")
                foreign.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("holopipe") and _package(alias.name) != here:
                    if any(_private(part) for part in alias.name.split(".")):
                        found.append(f"{module}:{node.lineno}: imports {alias.name}")
                    foreign.add(alias.asname or alias.name.split(".")[0])
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Attribute)
            and _private(node.attr)
            and isinstance(node.value, ast.Name)
            and node.value.id in foreign
        ):
            found.append(f"{module}:{node.lineno}: uses {node.value.id}.{node.attr}")
    return found


def test_the_check_sees_private_imports_and_attributes():
    source = (
        "from holopipe.artifacts._io import x\n"
        "from holopipe.artifacts.base import _helper, Artifact\n"
        "Artifact._read_with_report(1)\n"
        "from holopipe.run.layout import RunLayout\n"
        "RunLayout.__name__\n"
    )
    assert len(offences(source, "holopipe.stages.runner")) == 3
    assert offences(source, "holopipe.artifacts.other") == []  # same package


def test_no_private_module_or_name_is_used_across_packages():
    found = []
    for path in sorted(SRC.rglob("*.py")):
        found += offences(path.read_text(encoding="utf-8"), _module_name(path))
    assert not found, "\n".join(found)
