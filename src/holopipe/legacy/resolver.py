"""Serving legacy files to stages: the legacy resolver's conversions (the importer's own).

When an input is resolved from a legacy root (config ``legacy.roots``), the runner reads
each file through :func:`read_legacy_input`: a current artifact is read as it is; a legacy
file whose kind converts to the wanted type goes through the same conversion as
``holopipe import-legacy`` (predictions are bound to the sandbox universes found anywhere
under the legacy roots, by equal truth arrays); any other file is skipped with a warning.
Every use is a warning in the stage summary, naming the file and what the conversion found.

Examples
--------
>>> import pathlib, tempfile
>>> from holopipe.artifacts import GeometryPrediction
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> path = GeometryPrediction.example().write(folder / "ads_geometry.npz")
>>> served = read_legacy_input("GeometryPrediction", path, (folder,))
>>> served.artifact is not None, served.warnings
(True, ['resolved_from_legacy: ads_geometry.npz read as GeometryPrediction'])
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

from holopipe.artifacts.registry import get_type
from holopipe.artifacts.report import ValidationReport
from holopipe.legacy.convert import (
    SandboxIndex,
    convert_eigenmodes,
    convert_prediction,
    convert_sandbox,
)
from holopipe.legacy.kinds import classify, inspect_file
from holopipe.legacy.walk import walk_tree

__all__ = ["ServedInput", "legacy_gate", "read_legacy_input", "sandbox_index"]

_CURRENT_KINDS = ("holopipe_hdf5", "holopipe_npz", "holopipe_json")


@attrs.define
class ServedInput:
    """One legacy file as a stage input: the artifact (or None), the report, the warnings."""

    report: ValidationReport
    artifact: Any = None
    warnings: list[str] = attrs.field(factory=list)
    skipped: bool = attrs.field(default=False, metadata={"doc": "not of the wanted kind"})

    def gate_lines(self) -> list[str]:
        """The gate's ``invalid_artifact:`` lines (empty when served or skipped)."""
        if self.skipped or self.artifact is not None:
            return []
        prefix = f"invalid_artifact: {self.report.path}: legacy file as {self.report.schema}"
        return [f"{prefix}: {f.code} [{f.location}]: {f.message}" for f in self.report.errors] or [
            f"{prefix}: not convertible"
        ]


@functools.cache
def _index_for(roots: tuple[str, ...], signature: tuple) -> SandboxIndex:
    index = SandboxIndex()
    for root in roots:
        for entry in walk_tree(root).entries:
            if entry.kind not in ("file", "file_link"):
                continue
            path = Path(root) / entry.rel
            item = inspect_file(path, entry.rel)
            if classify(item).name != "sandbox_universe":
                continue
            conv, key, name = convert_sandbox(path, entry.rel, item.hdf5, item.probe.sha256 or "")
            if conv.bindable is not None and key is not None:
                index.add(os.path.join(root, entry.rel), key, name, conv.bindable)
    return index


def sandbox_index(roots: tuple[Path, ...]) -> SandboxIndex:
    """Every legacy sandbox universe under ``roots`` (cached while the roots are unchanged)."""
    names = tuple(os.path.abspath(r) for r in roots)
    signature = tuple(os.stat(r).st_mtime_ns if os.path.isdir(r) else 0 for r in names)
    return _index_for(names, signature)


def read_legacy_input(schema: str, path: Path, roots: tuple[Path, ...]) -> ServedInput:
    """Read the legacy file ``path`` as an artifact of type ``schema``."""
    path = Path(path)
    cls = get_type(schema)
    item = inspect_file(path, path.name)
    kind = classify(item)
    shown = path.name
    if kind.name in _CURRENT_KINDS:
        report, obj = cls.read_with_report(path)
        ok = obj is not None and report.ok
        return ServedInput(
            report, obj if ok else None, [f"resolved_from_legacy: {shown} read as {schema}"]
        )
    report = ValidationReport(str(path), schema)
    if kind.role == "problem":  # a damaged file where the input was expected: refused
        why = item.probe.problem or item.problem or kind.description
        report.error(kind.name, "<file>", why)
        return ServedInput(report)
    if kind.converts_to != schema:
        return ServedInput(
            report,
            warnings=[f"legacy file {shown} skipped: a {kind.name}, not convertible to {schema}"],
            skipped=True,
        )
    sha = item.probe.sha256 or ""
    if kind.name == "sandbox_universe":
        conv = convert_sandbox(path, str(path), item.hdf5, sha)[0]
    elif kind.name == "prediction_training":
        conv = convert_prediction(path, str(path), item.npz, sha, sandbox_index(roots))
    else:
        conv = convert_eigenmodes(item.document, str(path), sha, sandbox_index(roots))
    for f in conv.findings:
        if f.severity == "error":
            report.error(f.code, f.location, f.message)
    warnings = [f"resolved_from_legacy: {shown} converted from {kind.name} to {schema}"]
    warnings += [
        f"legacy {shown}: {f.code} [{f.location}]: {f.message}"
        for f in conv.findings
        if f.severity == "warning"
    ]
    return ServedInput(report, conv.artifact, warnings)


def legacy_gate(roots: tuple[Path, ...]) -> Callable[[str, Path], list[str]]:
    """The gate's check of legacy-resolved files (for :func:`holopipe.run.gates.check_resolved`)."""
    return lambda schema, path: read_legacy_input(schema, path, roots).gate_lines()
