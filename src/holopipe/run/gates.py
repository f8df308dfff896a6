"""Gates: what must hold before a stage runs, and what a stage must not have done.

- :func:`check_inputs` is ``holopipe assert-artifacts``: existence, integrity (sha256
  against the manifest) and schema of what a stage needs, as ``missing_artifact:`` and
  ``invalid_artifact:`` lines.
- :func:`writes_outside` is the "no writes outside the run" gate.
- :func:`undeclared_files` enforces "no output without registering it".
"""

from __future__ import annotations

import os
from pathlib import Path

from holopipe.artifacts.io import sha256_file
from holopipe.artifacts.records import RunManifest
from holopipe.artifacts.registry import get_type
from holopipe.run.layout import BOOKKEEPING_FILES, RunLayout
from holopipe.run.resolution import UnresolvedInput, resolve_input, sidecars_of

__all__ = ["check_inputs", "undeclared_files", "writes_outside"]

# Folders never watched by the outside-writes gate: VCS data and tool caches.
IGNORED_DIRS = frozenset(
    {
        ".git",
        ".nox",
        ".venv",
        "__pycache__",
        ".pytest_cache",
        ".hypothesis",
        ".mypy_cache",
        ".ruff_cache",
    }
)
# A watch tree larger than this is not walked completely; the gate says so.
MAX_WATCHED_ENTRIES = 50_000


def check_inputs(
    layout: RunLayout,
    manifest: RunManifest | None,
    inputs: list[tuple[str, str, bool]],
    legacy_roots: tuple[Path, ...] = (),
    revalidate: bool = True,
) -> list[str]:
    """Problems with the inputs ``(alias, schema, required)`` of a stage; empty when all is well.

    An input no stage of this run produced may come from the configured legacy roots (the
    resolution order of :mod:`holopipe.run.resolution`); its files are then schema-checked.
    With ``revalidate=False`` (the orchestrator) a file whose sha256 matches the manifest is
    not schema-checked again: it is byte for byte the output its producer validated before
    recording it (a producer whose outputs fail validation ends ERROR, never recorded OK),
    and the stage validates it again as it reads it.
    """
    problems: list[str] = []
    for alias, schema, required in inputs:
        target = manifest.aliases.get(alias) if manifest else None
        record = manifest.stages.get(target.split("/", 1)[0]) if (manifest and target) else None
        if record is None:
            legacy = _legacy_problems(layout, alias, schema, legacy_roots)
            if legacy is not None:
                problems += legacy
            elif required:
                problems.append(
                    f"missing_artifact: {alias}/ (no stage of this run produced {schema})"
                )
            continue
        if record.status not in ("OK", "WARNING"):
            problems.append(
                f"missing_artifact: {alias}/ (its producer {record.stage} ended {record.status})"
            )
            continue
        files = [o for o in record.outputs if o.name == alias and o.schema in (schema, None)]
        if not files and required:
            problems.append(f"missing_artifact: {alias}/ ({record.stage} recorded no {schema})")
        cls = get_type(schema)
        root = os.fspath(layout.root)
        sidecars = {
            os.fspath(p) for p in sidecars_of(schema, (layout.root / entry.path for entry in files))
        }
        for entry in files:
            path = os.path.join(root, entry.path)
            try:
                digest = sha256_file(path)
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                problems.append(f"missing_artifact: {entry.path}")
                continue
            if digest != entry.sha256:
                problems.append(
                    f"invalid_artifact: {entry.path}: sha256 differs from run_manifest.json "
                    "(modified after it was written)"
                )
                continue
            if path in sidecars or not revalidate:  # validated with its artifact / by its producer
                continue
            report = cls.validate_file(path)
            problems += [
                f"invalid_artifact: {entry.path}: {f.code} [{f.location}]: {f.message}"
                for f in report.errors
            ]
    return problems


def _legacy_problems(
    layout: RunLayout, alias: str, schema: str, legacy_roots: tuple[Path, ...]
) -> list[str] | None:
    """``None`` when no legacy root provides ``alias``; else the schema problems of its files."""
    if not legacy_roots:
        return None
    try:
        found = resolve_input(alias, schema, layout, None, None, legacy_roots)
    except UnresolvedInput:
        return None
    cls = get_type(schema)
    return [
        f"invalid_artifact: {path}: {f.code} [{f.location}]: {f.message}"
        for path in found.paths
        for f in cls.validate_file(path).errors
    ]


def writes_outside(watch_root: Path, since_ns: int, allowed: list[Path]) -> tuple[list[str], bool]:
    """Files under ``watch_root`` created or modified since ``since_ns``, outside ``allowed``.

    Returns the relative paths found and whether the walk was complete.
    """
    allowed_abs = [p.resolve() for p in allowed]
    found: list[str] = []
    seen = 0
    for folder, dirs, files in os.walk(watch_root):
        here = Path(folder).resolve()
        dirs[:] = sorted(
            d
            for d in dirs
            if d not in IGNORED_DIRS and not any((here / d) == a for a in allowed_abs)
        )
        for name in sorted(files):
            seen += 1
            if seen > MAX_WATCHED_ENTRIES:
                return found, False
            path = here / name
            try:
                if path.stat().st_mtime_ns >= since_ns:
                    found.append(os.path.relpath(path, watch_root.resolve()))
            except OSError:
                continue
    return found, True


def undeclared_files(stage_dir: Path, declared: set[Path]) -> list[str]:
    """Files in a stage dir that are neither declared outputs nor bookkeeping."""
    bookkeeping = {stage_dir / b for b in BOOKKEEPING_FILES}
    extra = []
    for folder, _dirs, files in os.walk(stage_dir):
        for name in files:
            path = Path(folder) / name
            if path not in declared and path not in bookkeeping:
                extra.append(path.relative_to(stage_dir).as_posix())
    return sorted(extra)
