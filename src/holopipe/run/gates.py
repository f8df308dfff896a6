"""Gates: what must hold before a stage runs, and what a stage must not have done.

- :func:`check_inputs` is ``holopipe assert-artifacts``: existence, integrity (sha256
  against the manifest) and schema of what a stage needs, as ``missing_artifact:`` and
  ``invalid_artifact:`` lines; :func:`check_resolved` does the same for inputs already
  resolved (the orchestrator resolves once and hands the result to the gate).
- :func:`same_content` is the one "is this file still the recorded one" test (stat, then
  sha256 when the stat changed) shared by the gate, ``holopipe status`` and ``run``.
- :func:`writes_outside` is the "no writes outside the run" gate.
- :func:`undeclared_files` enforces "no output without registering it".
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

from holopipe.artifacts.io import loads_json, sha256_file
from holopipe.artifacts.records import FileRecord, RunManifest, StageRecord
from holopipe.artifacts.registry import get_type
from holopipe.artifacts.report import Finding
from holopipe.run.layout import BOOKKEEPING_FILES, RunLayout, publish_problem
from holopipe.run.publish import broken_aliases
from holopipe.run.resolution import ResolvedInput, resolve_inputs

#: ``(schema, path) -> gate lines`` for a file resolved from a legacy root.
LegacyCheck = Callable[[str, Path], list[str]]

__all__ = [
    "check_inputs",
    "check_resolved",
    "gate_verdict",
    "invalid_artifact",
    "same_content",
    "summary_problem",
    "undeclared_files",
    "writes_outside",
]

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


def invalid_artifact(path: str | os.PathLike, problem: Finding | str, context: str = "") -> str:
    """The one ``invalid_artifact:`` line (the gate, the runner and the stages' input gate).

    ``problem`` is a validation finding (shown ``code [location]: message``) or a problem in
    words; ``context`` says what was expected of the file (the input gate's ``input 'x'
    expects T, found U``), between the path and the problem.

    Examples
    --------
    >>> print(invalid_artifact("predictions/a.npz", Finding("missing_key", "A", "no array")))
    invalid_artifact: predictions/a.npz: missing_key [A]: no array
    >>> print(invalid_artifact("d.json", "wrong artifact type", "input 'd' expects Dictionary"))
    invalid_artifact: d.json: input 'd' expects Dictionary: wrong artifact type
    """
    if isinstance(problem, Finding):
        problem = f"{problem.code} [{problem.location}]: {problem.message}"
    where = f"{os.fspath(path)}: {context}" if context else os.fspath(path)
    return f"invalid_artifact: {where}: {problem}"


def gate_verdict(problems: list[str]) -> str:
    """``"2 artifacts missing or invalid (5 findings)"``: artifacts counted once each, however
    many findings a file has (the lines start ``missing_artifact: PATH`` or
    ``invalid_artifact: PATH: ...``).

    Examples
    --------
    >>> gate_verdict(["invalid_artifact: a.npz: x [A]: bad", "invalid_artifact: a.npz: y [f]: bad",
    ...               "missing_artifact: b/ (no stage of this run produced B)"])
    '2 artifacts missing or invalid (3 findings)'
    """
    artifacts = set()
    for line in problems:
        rest = line.split(": ", 1)[1] if ": " in line else line
        artifacts.add(rest.split(": ", 1)[0].split(" (", 1)[0])
    noun = "artifact" if len(artifacts) == 1 else "artifacts"
    found = "finding" if len(problems) == 1 else "findings"
    return f"{len(artifacts)} {noun} missing or invalid ({len(problems)} {found})"


def check_inputs(
    layout: RunLayout,
    manifest: RunManifest | None,
    inputs: list[tuple[str, str, bool]],
    legacy_roots: tuple[Path, ...] = (),
    revalidate: bool = True,
    legacy_check: LegacyCheck | None = None,
) -> list[str]:
    """Problems with the inputs ``(alias, schema, required)`` of a stage; empty when all is well.

    Resolution is :func:`holopipe.run.resolution.resolve_inputs` (the manifest, then the
    configured legacy roots); what it finds is checked by :func:`check_resolved`.
    """
    resolved, problems = resolve_inputs(layout, manifest, inputs, None, legacy_roots)
    return problems + check_resolved(layout, resolved, revalidate, legacy_check)


def check_resolved(
    layout: RunLayout,
    resolved: list[ResolvedInput],
    revalidate: bool = True,
    legacy_check: LegacyCheck | None = None,
) -> list[str]:
    """Existence, integrity and schema of inputs already resolved.

    A manifest input must come from a stage that ended OK or WARNING, and each recorded
    file (sidecars included) must still hold its recorded bytes. With ``revalidate=False``
    (the orchestrator) such a file is not schema-checked again: it is byte for byte the
    output its producer validated before publishing it, and the stage validates it again
    as it reads it. Files from a legacy root or the command line are always schema-checked;
    ``legacy_check(schema, path)`` (the legacy importer's conversions, given by the caller:
    this layer knows no legacy formats) replaces the schema check for legacy files.
    """
    problems: list[str] = []
    for item in resolved:
        if item.source == "legacy" and legacy_check is not None:
            problems += [line for path in item.paths for line in legacy_check(item.schema, path)]
        elif item.source != "manifest":
            problems += _schema_problems(item.schema, item.paths, os.fspath)
        elif item.producer_status not in ("OK", "WARNING"):
            problems.append(
                f"missing_artifact: {item.alias}/ "
                f"(its producer {item.producer} ended {item.producer_status})"
            )
        elif not item.records:
            problems.append(
                f"missing_artifact: {item.alias}/ ({item.producer} recorded no {item.schema})"
            )
        elif (unpublished := _publish_problem(layout, item.producer_record)) is not None:
            problems.append(f"invalid_artifact: {item.alias}/ ({unpublished})")
        elif (failed := summary_problem(layout, item.producer_record)) is not None:
            problems.append(f"missing_artifact: {item.alias}/ ({failed})")
        elif item.alias in broken_aliases(layout, {item.alias: _alias_target(item)}, item.producer):
            problems.append(
                f"missing_artifact: {item.alias}/ (the alias is deleted or retargeted: "
                f"holopipe run -e {layout.experiment} repairs it from run_manifest.json)"
            )
        else:
            damaged = [p for p in map(lambda e: _integrity(layout, e), item.records) if p]
            problems += damaged
            if revalidate and not damaged:
                problems += _schema_problems(item.schema, item.paths, layout.relative)
    return problems


def _publish_problem(layout: RunLayout, record: StageRecord | None) -> str | None:
    """An interrupted publication of the producer's folder (see ``publish_problem``)."""
    if record is None:
        return None
    recorded_run = (record.finished_at, record.duration_s)
    return publish_problem(layout.root, record.stage, record.summary_sha256, recorded_run)


def summary_problem(layout: RunLayout, record: StageRecord | None) -> str | None:
    """Why the stage of ``record`` counts as failed although the manifest says it ran
    (the plan's section 2.1: no readable ``stage_summary.json`` means a failed stage), or
    ``None`` when its summary is readable and matches the record.

    The summary matches when it names the same stage, status, exit code and finish time.
    """
    if record is None:
        return None
    path = layout.root / record.stage / "stage_summary.json"
    recovery = f"it counts as failed: rerun it (holopipe run -e {layout.experiment})"
    where = layout.relative(path)
    if not path.is_file():
        return f"{where} is missing: {recovery}"
    try:  # a plain read, not a full validation: this runs for every stage of every no-op run
        document = loads_json(path.read_text(encoding="utf-8"))
        meta = document["meta"]
        seen = (document["stage"], document["status"], document["exit_code"], meta["created_at"])
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        why = f"{type(exc).__name__}: {exc}" if not isinstance(exc, KeyError) else f"no {exc}"
        return f"{where} is unreadable ({why}): {recovery}"
    recorded = (record.stage, record.status, record.exit_code, record.finished_at)
    if seen != recorded:
        return f"{where} does not match run_manifest.json (status {seen[1]}): {recovery}"
    return None


def _alias_target(item: ResolvedInput) -> str:
    return f"{item.producer}/{item.alias}"


def _integrity(layout: RunLayout, entry: FileRecord) -> str | None:
    """``None`` when the file still holds the recorded bytes, else the gate's line."""
    try:
        if same_content(os.path.join(os.fspath(layout.root), entry.path), entry):
            return None
    except OSError:
        return f"missing_artifact: {entry.path}"
    return invalid_artifact(
        entry.path, "sha256 differs from run_manifest.json (modified after it was written)"
    )


def _schema_problems(
    schema: str, paths: tuple[Path, ...], show: Callable[[Path], str]
) -> list[str]:
    cls = get_type(schema)
    return [invalid_artifact(show(p), f) for p in paths for f in cls.validate_file(p).errors]


def same_content(path: str | os.PathLike, entry: FileRecord) -> bool:
    """Whether ``path`` holds the bytes ``entry`` recorded.

    Decided by content: the sha256 is recomputed whenever the file's stat differs from the
    recorded one; an unchanged stat is trusted (the cheap path of a no-op rerun). Raises
    ``OSError`` when the path is missing or not a regular file.
    """
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):
        raise IsADirectoryError(path)
    if st.st_size != entry.size:
        return False
    if _stat_matches(st, entry):
        return True
    return sha256_file(path) == entry.sha256


def _stat_matches(st: os.stat_result, entry: FileRecord) -> bool:
    """The recorded stat signature still holds (a record without one never matches)."""
    return bool(entry.ctime_ns) and (st.st_mtime_ns, st.st_ctime_ns, st.st_ino) == (
        entry.mtime_ns,
        entry.ctime_ns,
        entry.inode,
    )


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
