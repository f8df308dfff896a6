"""``holopipe import-legacy``: a frozen legacy folder becomes a clean, auditable run.

:func:`import_legacy` walks the legacy tree (read-only, links never followed, bounded),
classifies every file by content (:mod:`holopipe.legacy.kinds`), converts what it can
(:mod:`holopipe.legacy.convert`) and writes::

    runs/<experiment>/
      legacy/<same relative paths>   relative symlinks to the originals (never copies)
      legacy_import/                 the import's own folder, recorded like a stage:
        sandbox/ predictions/ bulk_eigenmodes/   converted artifacts (with provenance)
        import_report.json           counts per kind, findings per file, unknown, unsafe,
                                     problem files, dangling references (no timestamps)
        stage_summary.json
      sandbox/ predictions/ bulk_eigenmodes/     aliases, as after stages 01/02/06
      run_manifest.json              record "legacy_import"; top level
                                     resolved_from_legacy: true and legacy_sources (one
                                     entry per legacy file: kind, schema, source path,
                                     sha256, system_id, findings)

Idempotence: the import's fingerprint hashes the source root, every entry's relative path,
kind, size and sha256, and the converter version. Importing a folder whose fingerprint
matches the experiment's recorded import writes nothing at all (the manifest keeps its
bytes). Any other existing experiment is refused unless ``force=True``, which replaces the
import's parts (``legacy/``, ``legacy_import/``, its aliases, its record) and keeps the
records of stages run since (they rerun when their inputs changed).

Examples
--------
>>> import pathlib, tempfile
>>> tmp = pathlib.Path(tempfile.mkdtemp())
>>> _ = (tmp / "old").mkdir(); _ = (tmp / "old" / "notes.txt").write_text("hello")
>>> report = import_legacy(tmp / "old", "old_import", runs_dir=tmp / "runs")
>>> report.action, report.counts
('imported', {'text': 1})
>>> import_legacy(tmp / "old", "old_import", runs_dir=tmp / "runs").action
'up_to_date'
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

from holopipe.artifacts.io import atomic_write_bytes, dumps_json
from holopipe.artifacts.records import (
    EXIT_CODES,
    Counts,
    FileRecord,
    StageRecord,
    StageSummary,
    SummaryMeta,
)
from holopipe.artifacts.report import ArtifactError, Finding
from holopipe.legacy.convert import (
    CONVERTER_VERSION,
    Conversion,
    SandboxIndex,
    convert_eigenmodes,
    convert_prediction,
    convert_sandbox,
    stub_findings,
)
from holopipe.legacy.kinds import Inspected, LegacyKind, classify, inspect_file
from holopipe.legacy.probe import PARSE_LIMIT, probe_file
from holopipe.legacy.references import dangling_references
from holopipe.legacy.walk import Entry, display_name, walk_tree
from holopipe.run.layout import RunLayout, default_runs_dir, make_alias
from holopipe.run.locking import ExperimentLock
from holopipe.run.manifest import ManifestStore
from holopipe.run.provenance import code_version, utc_now

__all__ = [
    "IMPORT_DIR",
    "IMPORT_RECORD",
    "LINKS_DIR",
    "FileImport",
    "ImportRefused",
    "ImportReport",
    "import_legacy",
]

#: The import's record key in run_manifest.json and its folder in the run.
IMPORT_RECORD = "legacy_import"
IMPORT_DIR = "legacy_import"
#: Where the links to the originals go.
LINKS_DIR = "legacy"
#: Converted artifact type -> the alias it is published under (as the producing stage does).
ALIAS_OF = {
    "SandboxGeometry": "sandbox",
    "GeometryPrediction": "predictions",
    "EigenmodesDataset": "bulk_eigenmodes",
}
REPORT_SCHEMA = ("LegacyImportReport", "0.1")


class ImportRefused(ValueError):
    """The import cannot start (bad legacy folder, existing experiment without --force)."""


@attrs.define
class FileImport:
    """What the import did with one legacy entry."""

    path: str = attrs.field(metadata={"doc": "relative to the legacy root (display form)"})
    kind: str
    role: str
    size: int = 0
    sha256: str | None = None
    link: str | None = attrs.field(default=None, metadata={"doc": "run-relative link path"})
    schema: str | None = attrs.field(default=None, metadata={"doc": "converted artifact type"})
    converted: str | None = attrs.field(default=None, metadata={"doc": "run-relative path"})
    system_id: str | None = None
    findings: list[Finding] = attrs.field(factory=list)


@attrs.define
class ImportReport:
    """The outcome of :func:`import_legacy` (also written as ``import_report.json``)."""

    experiment: str
    source: str
    run_root: str
    action: str = attrs.field(metadata={"doc": "imported | up_to_date"})
    fingerprint: str
    files: list[FileImport] = attrs.field(factory=list)
    tree_findings: list[Finding] = attrs.field(factory=list)
    duration_s: float = 0.0

    @property
    def counts(self) -> dict[str, int]:
        return dict(sorted(Counter(f.kind for f in self.files).items()))

    def paths_with_role(self, role: str) -> list[str]:
        return [f.path for f in self.files if f.role == role]

    def findings(self) -> list[tuple[str, Finding]]:
        """``(path, finding)`` for every finding: tree findings first, then per file."""
        return [(f.location, f) for f in self.tree_findings] + [
            (item.path, f) for item in self.files for f in item.findings
        ]

    def files_with(self, code: str) -> list[str]:
        return [f.path for f in self.files if any(x.code == code for x in f.findings)]

    @property
    def dangling_references(self) -> list[dict[str, str]]:
        return [
            {"file": item.path, "reference": f.location, "message": f.message}
            for item in self.files
            for f in item.findings
            if f.code == "dangling_reference"
        ]

    @property
    def exit_code(self) -> int:
        """0 clean, 1 imported with findings (the plan's WARNING)."""
        return 1 if self.findings() else 0

    def to_document(self) -> dict[str, Any]:
        """The ``import_report.json`` document (deterministic: no timestamps)."""

        def finding(f: Finding) -> dict[str, str]:
            return {
                "code": f.code,
                "severity": f.severity,
                "location": f.location,
                "message": f.message,
            }

        codes = Counter(f.code for _, f in self.findings())
        return {
            "schema_name": REPORT_SCHEMA[0],
            "schema_version": REPORT_SCHEMA[1],
            "experiment": self.experiment,
            "source": self.source,
            "fingerprint": self.fingerprint,
            "counts": self.counts,
            "converted": dict(sorted(Counter(f.schema for f in self.files if f.converted).items())),
            "finding_counts": dict(sorted(codes.items())),
            "tree_findings": [finding(f) for f in self.tree_findings],
            "files": [
                {
                    **attrs.asdict(item, filter=lambda a, v: a.name != "findings"),
                    "findings": [finding(f) for f in item.findings],
                }
                for item in self.files
            ],
            "unknown": self.paths_with_role("unknown"),
            "unsafe": self.paths_with_role("unsafe"),
            "problems": self.paths_with_role("problem"),
            "dangling_references": self.dangling_references,
        }

    def lines(self) -> list[str]:
        """A short human summary for the terminal."""
        converted = Counter(f.schema for f in self.files if f.converted)
        head = (
            f"{self.experiment}: already imported from {self.source} (up to date, nothing written)"
            if self.action == "up_to_date"
            else f"{self.experiment}: imported {len(self.files)} legacy files from {self.source} "
            f"into {self.run_root} in {self.duration_s:.1f} s"
        )
        out = [head]
        kinds = ", ".join(
            f"{n} {k}" for k, n in sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0]))
        )
        out.append(f"  kinds: {kinds or 'none'}")
        if converted:
            out.append(
                "  converted: " + ", ".join(f"{n} {s}" for s, n in sorted(converted.items()))
            )
        codes = Counter(f.code for _, f in self.findings())
        if codes:
            top = ", ".join(
                f"{n} {c}" for c, n in sorted(codes.items(), key=lambda kv: (-kv[1], kv[0]))[:8]
            )
            more = f" (+{len(codes) - 8} more kinds)" if len(codes) > 8 else ""
            out.append(f"  findings: {top}{more}")
        for role, label in (
            ("unsafe", "unsafe, linked, never loaded"),
            ("problem", "unreadable/empty/special"),
            ("unknown", "unknown"),
        ):
            paths = self.paths_with_role(role)
            if paths:
                shown = ", ".join(paths[:3]) + (f", ... ({len(paths)})" if len(paths) > 3 else "")
                out.append(f"  {label}: {shown}")
        out.append(f"  details: {self.run_root}/{IMPORT_DIR}/import_report.json")
        if converted.get("GeometryPrediction"):
            out += self._next_for_predictions(converted["GeometryPrediction"])
        elif converted.get("SandboxGeometry"):
            out.append(f"  next: holopipe run --experiment {self.experiment} --from 02")
        return out

    def _next_for_predictions(self, n_predictions: int) -> list[str]:
        """Where a run on the converted predictions can go: stage 06 (and what needs its
        dataset) has nothing to solve when no prediction is asymptotically AdS."""
        start = f"  next: holopipe run --experiment {self.experiment} --from 03"
        refused = len(self.files_with("not_asymptotically_ads"))
        if not refused:
            return [start]
        if refused < n_predictions:
            return [
                start,
                f"  note: {refused} of {n_predictions} predictions are not asymptotically AdS "
                "(not_asymptotically_ads): stage 06 lists them as not_applicable",
            ]
        return [
            f"{start} --to 05",
            f"  note: none of the {n_predictions} predictions is asymptotically AdS "
            "(not_asymptotically_ads): stage 06 would have nothing to solve (INCOMPLETE)",
        ]


# -- the import -------------------------------------------------------------------------
def _fingerprint(
    root: str, scanned: list[tuple[Entry, Inspected | None]], tree: list[Finding]
) -> str:
    digest = hashlib.sha256()
    digest.update(f"converter {CONVERTER_VERSION}\x00root {root}\x00".encode())
    for entry, item in scanned:
        probe = item.probe if item else None
        row = [
            os.fsencode(entry.rel).hex(),
            entry.kind,
            entry.target or "",
            probe.size if probe else 0,
            probe.sha256 if probe else "",
        ]
        digest.update(json.dumps(row).encode() + b"\n")
    for f in tree:
        digest.update(json.dumps([f.code, f.location]).encode() + b"\n")
    return digest.hexdigest()


def _existing_import(layout: RunLayout) -> tuple[str | None, bool]:
    """(fingerprint of the recorded import or None, whether the experiment has anything)."""
    if not layout.root.exists():
        return None, False
    if not any(layout.root.iterdir()):
        return None, False
    try:
        manifest = ManifestStore(layout).load()
    except ArtifactError:
        return None, True
    if manifest is None or IMPORT_RECORD not in manifest.stages:
        return None, True
    if not (layout.root / IMPORT_DIR / "import_report.json").is_file():
        return None, True
    return manifest.stages[IMPORT_RECORD].fingerprint, True


def _scan(
    root: Path, progress: Callable[[int, int], None] | None
) -> tuple[list[tuple[Entry, Inspected | None]], list[Finding]]:
    walk = walk_tree(root)
    scanned: list[tuple[Entry, Inspected | None]] = []
    total = len(walk.entries)
    for n, entry in enumerate(walk.entries, 1):
        item = None
        if entry.kind in ("file", "file_link"):
            path = root / entry.rel
            item = inspect_file(path, entry.rel, probe_file(path))
        scanned.append((entry, item))
        if progress:
            progress(n, total)
    return scanned, walk.findings


def _relative_link(link: Path, target: Path, final_parent: Path) -> None:
    """A link at ``link`` (in the staging folder) that resolves once moved to ``final_parent``."""
    link.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(os.path.relpath(target, os.path.abspath(final_parent)), link)


def _converted_name(schema: str, sid: str, taken: set[str], sha: str) -> str:
    stem = sid
    suffix = {
        "SandboxGeometry": ".nc",
        "GeometryPrediction": "_geometry.npz",
        "EigenmodesDataset": ".csv",
    }[schema]
    name = f"{stem}{suffix}"
    if name in taken:
        name = f"{stem}-{sha[:8]}{suffix}"
    taken.add(name)
    return name


def import_legacy(
    legacy_dir: str | os.PathLike,
    experiment: str,
    runs_dir: str | os.PathLike | None = None,
    force: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import the legacy folder ``legacy_dir`` as ``runs/<experiment>/``.

    Parameters
    ----------
    legacy_dir : path
        The legacy root. Never written, renamed, touched or chmodded.
    experiment : str
        The experiment to create.
    runs_dir : path, optional
        Root of all runs (default: ``$HOLOPIPE_RUNS_DIR`` or ``./runs``).
    force : bool
        Re-import into an existing experiment (its import parts are replaced).
    progress : callable, optional
        ``progress(done, total)`` while files are classified.

    Raises
    ------
    ImportRefused
        The folder is not a readable directory, the run would live inside the legacy tree,
        or the experiment exists (and is not this import, unchanged) without ``force``.
    """
    t0 = time.perf_counter()
    root = Path(legacy_dir)
    if not root.is_dir():
        raise ImportRefused(f"{root}: not a folder (give the legacy folder to import)")
    layout = RunLayout.create(default_runs_dir(runs_dir), experiment)
    real_root = os.path.realpath(root)
    real_run = os.path.realpath(layout.root)
    if real_run == real_root or real_run.startswith(real_root.rstrip(os.sep) + os.sep):
        raise ImportRefused(
            f"{layout.root}: inside the legacy tree {root}; the legacy tree is never written "
            "(choose another --runs-dir)"
        )
    source = os.path.abspath(root)
    scanned, tree_findings = _scan(root, progress)
    fingerprint = _fingerprint(source, scanned, tree_findings)
    recorded, exists = _existing_import(layout)
    if recorded == fingerprint and not force:
        report = _report_from_disk(layout, experiment, source, fingerprint)
        report.duration_s = time.perf_counter() - t0
        return report
    if exists and not force:
        why = (
            "its recorded import differs (the legacy folder changed or is another one)"
            if recorded
            else "it is not an import of this folder"
        )
        raise ImportRefused(
            f"experiment {experiment!r} exists in {layout.runs_dir} and {why}: "
            "use --force to re-import (its import parts are replaced)"
        )
    report = ImportReport(
        experiment, source, str(layout.root), "imported", fingerprint, tree_findings=tree_findings
    )
    layout.root.mkdir(parents=True, exist_ok=True)
    with ExperimentLock(layout.lock_path, experiment):
        _import_locked(root, layout, scanned, report)
    report.duration_s = time.perf_counter() - t0
    return report


def _classified(
    scanned: list[tuple[Entry, Inspected | None]], report: ImportReport
) -> list[tuple[Entry, Inspected | None, LegacyKind | None, FileImport]]:
    rows = []
    for entry, item in scanned:
        if item is None:
            kind_name = {
                "special": "special",
                "dir_link": "folder_link",
                "link_outside": "link_outside_root",
                "dangling_link": "dangling_link",
            }[entry.kind]
            role = "problem" if entry.kind in ("special", "dangling_link") else "ignored"
            rows.append((entry, None, None, FileImport(entry.name, kind_name, role)))
            continue
        kind = classify(item)
        fi = FileImport(entry.name, kind.name, kind.role, item.probe.size, item.probe.sha256)
        if item.probe.problem:
            fi.findings.append(Finding("unreadable", "<file>", item.probe.problem))
        elif item.probe.size == 0:
            fi.findings.append(Finding("empty_file", "<file>", "0 bytes", "warning"))
        if item.problem:
            fi.findings.append(Finding("unreadable", "<file>", item.problem))
        if item.probe.oversized and kind.role == "unknown":
            fi.findings.append(
                Finding(
                    "oversized",
                    "<file>",
                    f"{item.probe.size} bytes, above the parse limit of {PARSE_LIMIT}: "
                    "hashed and linked, content not parsed",
                    "warning",
                )
            )
        if kind.role == "unsafe":
            fi.findings.append(
                Finding(
                    "unsafe_file",
                    "<file>",
                    f"{kind.description}: linked as an opaque file, never loaded",
                    "warning",
                )
            )
        if entry.name != entry.rel:
            fi.findings.append(
                Finding(
                    "non_utf8_name",
                    "<file>",
                    "the file name is not valid UTF-8 (shown with \\x escapes)",
                    "warning",
                )
            )
        for issue in item.json_issues:
            fi.findings.append(Finding("nan_token", "<file>", issue, "warning"))
        if item.has_document:
            fi.findings.extend(stub_findings(item.document))
        rows.append((entry, item, kind, fi))
    return rows


def _import_locked(
    root: Path,
    layout: RunLayout,
    scanned: list[tuple[Entry, Inspected | None]],
    report: ImportReport,
) -> None:
    work = layout.root / f".{IMPORT_DIR}.partial"
    if work.exists():
        shutil.rmtree(work)
    links, out = work / LINKS_DIR, work / IMPORT_DIR
    links.mkdir(parents=True)
    out.mkdir()
    rows = _classified(scanned, report)
    by_rel = {os.fsencode(e.rel): fi for e, _, _, fi in rows}
    index = SandboxIndex()
    taken: set[str] = set()
    written: list[tuple[str, Path, str]] = []

    def store(fi: FileImport, conv: Conversion, schema: str) -> None:
        fi.findings.extend(conv.findings)
        fi.system_id = conv.system_id or fi.system_id
        if conv.artifact is None:
            return
        alias = ALIAS_OF[schema]
        name = _converted_name(schema, conv.system_id or Path(fi.path).stem, taken, fi.sha256 or "")
        path = out / alias / name
        conv.artifact.write(path)
        fi.schema, fi.converted = schema, f"{IMPORT_DIR}/{alias}/{name}"
        for part in type(conv.artifact).files(path):
            written.append((alias, part, schema))

    # Sandboxes first: predictions and eigenmodes bind to them.
    for entry, item, kind, fi in rows:
        if kind is not None and kind.name == "sandbox_universe":
            conv, key, legacy_name = convert_sandbox(
                root / entry.rel, fi.path, item.hdf5, fi.sha256 or ""
            )
            sid = conv.system_id
            twin = sid is not None and any(
                f.system_id == sid and f.converted for _, _, _, f in rows if f is not fi
            )
            if twin:
                fi.system_id = sid
                fi.findings.extend(conv.findings)
                fi.findings.append(
                    Finding(
                        "twin",
                        "<file>",
                        "same physics as another imported sandbox (same system_id): converted once",
                        "warning",
                    )
                )
                if conv.bindable is not None and key is not None:
                    index.add(fi.path, key, legacy_name, conv.bindable)
                continue
            store(fi, conv, "SandboxGeometry")
            if conv.bindable is not None and key is not None:
                index.add(fi.path, key, legacy_name, conv.bindable)
    for entry, item, kind, fi in rows:
        if kind is None:
            continue
        if kind.name == "prediction_training":
            store(
                fi,
                convert_prediction(root / entry.rel, fi.path, item.npz, fi.sha256 or "", index),
                "GeometryPrediction",
            )
        elif kind.name == "eigenmodes_json":
            store(
                fi,
                convert_eigenmodes(item.document, fi.path, fi.sha256 or "", index),
                "EigenmodesDataset",
            )
        elif kind.name == "prediction_inference" and item.npz:
            objects = sorted(k for k, v in item.npz.members.items() if v.is_object)
            if objects:
                fi.findings.append(
                    Finding(
                        "object_array",
                        ", ".join(objects),
                        "stored as object arrays (need pickle): not loaded",
                        "warning",
                    )
                )
        if item is not None and item.has_document:
            fi.findings.extend(dangling_references(item.document, entry.rel, root, by_rel))
    # Links to the originals (relative), in the tree's own layout.
    source = Path(report.source)
    for entry, _item, _kind, fi in rows:
        if entry.kind not in ("file", "file_link"):
            continue
        link = links / entry.rel
        final_parent = (layout.root / LINKS_DIR / entry.rel).parent
        try:
            _relative_link(link, source / entry.rel, final_parent)
        except OSError as exc:
            fi.findings.append(
                Finding(
                    "not_linked",
                    "<file>",
                    f"link cannot be made ({exc.strerror}): recorded by path only",
                    "warning",
                )
            )
            continue
        fi.link = f"{LINKS_DIR}/{display_name(entry.rel)}"
    report.files = [fi for _, _, _, fi in rows]
    _write_records(layout, work, out, report, written, scanned)


def _write_records(
    layout: RunLayout,
    work: Path,
    out: Path,
    report: ImportReport,
    written: list[tuple[str, Path, str]],
    scanned: list[tuple[Entry, Inspected | None]],
) -> None:
    atomic_write_bytes(out / "import_report.json", dumps_json(report.to_document()).encode())
    version = code_version()
    now = utc_now()
    status = "WARNING" if report.findings() else "OK"
    codes = Counter(f.code for _, f in report.findings())
    summary = StageSummary(
        stage=IMPORT_RECORD,
        experiment=report.experiment,
        status=status,
        exit_code=EXIT_CODES[status],
        meta=SummaryMeta(version.git_sha, now, version.holopipe_version, version.git_dirty),
        counts=Counts(
            inputs_total=len(report.files),
            inputs_ok=sum(1 for f in report.files if f.role not in ("problem",)),
            inputs_failed=sum(1 for f in report.files if f.role == "problem"),
            outputs_rows=sum(1 for f in report.files if f.converted),
        ),
        warnings=[f"{n} {code} (see import_report.json)" for code, n in sorted(codes.items())]
        + [f"resolved_from_legacy: imported from {report.source}"],
        artifacts={"import_report": f"{IMPORT_DIR}/import_report.json"},
    )
    summary.write(out / "stage_summary.json")
    # Swap the new parts into place (the old ones, if forced, are removed first).
    for name in (LINKS_DIR, IMPORT_DIR):
        final = layout.root / name
        if final.is_symlink() or final.is_file():
            final.unlink()
        elif final.exists():
            shutil.rmtree(final)
        os.replace(work / name, final)
    shutil.rmtree(work)
    final_out = layout.root / IMPORT_DIR
    aliases = {}
    for alias in sorted({a for a, _, _ in written}):
        make_alias(layout.root, alias, final_out / alias)
        aliases[alias] = f"{IMPORT_RECORD}/{alias}"
    from holopipe.run.manifest import file_record

    outputs = [
        file_record(layout, alias, final_out / p.relative_to(out), schema)
        for alias, p, schema in written
    ]
    outputs.append(file_record(layout, "import_report", final_out / "import_report.json", None))
    source = Path(report.source)
    inputs = []
    by_path = {f.path: f for f in report.files}
    for entry, item in scanned:
        if item is None or item.probe.sha256 is None:
            continue
        fi = by_path[entry.name]
        inputs.append(
            FileRecord(
                name=fi.kind,
                path=os.path.join(report.source, display_name(entry.rel)),
                sha256=item.probe.sha256,
                schema=fi.schema,
                size=item.probe.size,
                mtime_ns=item.probe.mtime_ns,
                resolved_from_legacy=True,
            )
        )
    record = StageRecord(
        stage=IMPORT_RECORD,
        status=status,
        exit_code=EXIT_CODES[status],
        command=list(sys.argv),
        git_sha=version.git_sha,
        started_at=now,
        finished_at=now,
        fingerprint=report.fingerprint,
        fingerprint_parts={
            "source": hashlib.sha256(str(source).encode()).hexdigest(),
            "converter": CONVERTER_VERSION,
        },
        git_dirty=version.git_dirty,
        inputs=inputs,
        outputs=outputs,
    )
    sources = [
        {
            "via": "import",
            "path": os.path.join(report.source, f.path),
            "link": f.link,
            "kind": f.kind,
            "schema": f.schema,
            "converted": f.converted,
            "sha256": f.sha256,
            "system_id": f.system_id,
            "findings": [f"{x.code} [{x.location}]: {x.message}" for x in f.findings],
        }
        for f in report.files
    ]
    ManifestStore(layout).update(record, aliases, legacy_sources=sources)


def _report_from_disk(
    layout: RunLayout, experiment: str, source: str, fingerprint: str
) -> ImportReport:
    """The recorded import, for the summary of an up-to-date (no-op) import."""
    doc = json.loads((layout.root / IMPORT_DIR / "import_report.json").read_text(encoding="utf-8"))

    def finding(raw: dict[str, str]) -> Finding:
        return Finding(raw["code"], raw["location"], raw["message"], raw["severity"])

    files = [
        FileImport(
            **{k: v for k, v in f.items() if k != "findings"},
            findings=[finding(x) for x in f["findings"]],
        )
        for f in doc["files"]
    ]
    return ImportReport(
        experiment,
        source,
        str(layout.root),
        "up_to_date",
        fingerprint,
        files,
        [finding(x) for x in doc["tree_findings"]],
    )
