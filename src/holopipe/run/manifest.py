"""Reading and updating ``run_manifest.json`` safely.

Writers take a short ``flock`` on ``run_manifest.json.lock`` and replace the file
atomically, so concurrent writers (the orchestrator and a stage run by hand) serialise and
a reader never sees a half-written manifest. A stage updates it once, with all its
records, not once per file, and only its own record is re-validated.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

from holopipe.artifacts.io import atomic_write_bytes, dumps_json, loads_json
from holopipe.artifacts.records import FileRecord, RunManifest, StageRecord
from holopipe.artifacts.report import ArtifactError, ValidationReport
from holopipe.artifacts.structure import check_structure, converter, structure_checked
from holopipe.run.layout import RunLayout
from holopipe.run.provenance import code_version, utc_now

__all__ = ["ManifestError", "ManifestStore", "file_record", "rebuild_records"]


class ManifestError(ValueError):
    """``run_manifest.json`` is unreadable or breaks its rules; the message says how to
    rebuild it (``holopipe repair-manifest``)."""

    def __init__(self, report: ValidationReport, experiment: str):
        first = report.errors[0] if report.errors else None
        finding = f"{first.code} [{first.location}]: {first.message}" if first else "invalid"
        more = f" (+{len(report.errors) - 1} more)" if len(report.errors) > 1 else ""
        super().__init__(
            f"{report.path}: corrupt run manifest: {finding}{more}; rebuild it from the stage "
            f"folders with: holopipe repair-manifest -e {experiment} (the corrupt file is kept "
            "beside it; the rebuilt stages rerun once)"
        )
        self.report = report


def file_record(
    layout: RunLayout,
    name: str,
    path: Path,
    schema: str | None,
    resolved_from_legacy: bool = False,
    sha256: str | None = None,
    hashed_size: int | None = None,
) -> FileRecord:
    """A manifest entry for ``path`` with its size and sha256 (hashed unless given).

    ``hashed_size`` is the size of the bytes ``sha256`` was taken of: a file of another
    size now is hashed again.
    """
    from holopipe.artifacts.io import sha256_file

    st = os.stat(path)
    if hashed_size is not None and hashed_size != st.st_size:
        sha256 = None
    return FileRecord(
        name=name,
        path=layout.relative(path),
        sha256=sha256 or sha256_file(path),
        schema=schema,
        size=st.st_size,
        mtime_ns=st.st_mtime_ns,
        ctime_ns=st.st_ctime_ns,
        inode=st.st_ino,
        resolved_from_legacy=resolved_from_legacy,
    )


# The last manifest read or written per file: its stat signature, the validated object and
# its JSON document. The manifest is only ever replaced by an atomic rename (a new inode),
# so an unchanged signature means unchanged content: the orchestrator and the stages
# consult the manifest many times per stage, and parsing and validating it is O(run size).
_LOADED: dict[str, tuple[tuple[int, int, int], RunManifest, dict[str, Any]]] = {}


def _signature(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


def _reuse_unchanged_records(
    previous: RunManifest,
    previous_document: dict[str, Any],
    document: dict[str, Any],
    report: ValidationReport,
) -> RunManifest | None:
    """The manifest of ``document``, re-validating only the stage records that changed.

    A record whose JSON equals the one already validated is reused as is; ``None`` when
    the document cannot be read this way (another version, or not the expected shape), in
    which case it is validated in full.
    """
    if not isinstance(document, dict) or not isinstance(document.get("stages"), dict):
        return None
    header = ("schema_name", "schema_version")
    if any(document.get(k) != previous_document.get(k) for k in header):
        return None
    stages: dict[str, StageRecord] = {}
    old_raw = previous_document.get("stages", {})
    for key, raw in document["stages"].items():
        if key in previous.stages and old_raw.get(key) == raw:
            stages[key] = previous.stages[key]
            continue
        record = structure_checked(StageRecord, raw, report, f"stages.{key}")
        if record is None:
            return None
        RunManifest.check_record(key, record, report)
        stages[key] = record
    top = {k: v for k, v in document.items() if k not in (*header, "stages")}
    shell = structure_checked(RunManifest, {**top, "stages": {}}, report)
    if shell is None:
        return None
    manifest = attrs.evolve(shell, stages=stages)
    for alias, target in manifest.aliases.items():
        if target.split("/", 1)[0] not in stages:
            report.error(
                "dangling_alias",
                f"aliases.{alias}",
                f"points at {target!r}, a stage with no record",
            )
    return manifest


def _config_sha256(layout: RunLayout) -> str | None:
    """sha256 of the run's ``config.resolved.json`` (``None`` when there is none)."""
    from holopipe.artifacts.io import sha256_file

    try:
        return sha256_file(layout.config_path)
    except OSError:
        return None


class ManifestStore:
    """The manifest of one run."""

    def __init__(self, layout: RunLayout):
        self.layout = layout

    @property
    def path(self) -> Path:
        return self.layout.manifest_path

    def _cached(self) -> tuple[RunManifest, dict[str, Any]] | None:
        signature = _signature(self.path)
        if signature is None:
            return None
        key = str(self.path.absolute())
        cached = _LOADED.get(key)
        if cached is not None and cached[0] == signature:
            return cached[1], cached[2]
        report = ValidationReport(str(self.path), RunManifest.SCHEMA_NAME)
        try:
            document = loads_json(self.path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            report.error("malformed_json", "<file>", str(exc))
            raise ManifestError(report, self.layout.experiment) from None
        manifest = None
        if cached is not None:
            manifest = _reuse_unchanged_records(cached[1], cached[2], document, report)
        if manifest is None and report.ok:
            manifest = RunManifest.from_document(document, report)
            if manifest is not None:
                manifest._check(report)
        if manifest is None or not report.ok:
            raise ManifestError(report, self.layout.experiment)
        _LOADED[key] = (signature, manifest, document)  # a newer file has a new signature
        return manifest, document

    def load(self) -> RunManifest | None:
        """The validated manifest, or ``None`` if the run has none yet.

        Read and validated again only when the file changed since this process last read
        or wrote it; the object returned is shared, treat it as read-only.
        """
        cached = self._cached()
        return cached[0] if cached else None

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path.with_name(self.path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def replace(self, records: list[StageRecord], aliases: dict[str, str]) -> Path | None:
        """Write a new manifest of ``records`` (see :func:`rebuild_records`); the file it
        replaces is kept as ``run_manifest.json.corrupt[.<n>]``, whose path is returned."""
        with self._locked():
            kept = None
            if self.path.exists():
                kept = self.path.with_name(self.path.name + ".corrupt")
                n = 1
                while kept.exists():
                    kept, n = self.path.with_name(f"{self.path.name}.corrupt.{n}"), n + 1
                os.link(self.path, kept)
            now = utc_now()
            manifest = RunManifest(
                experiment=self.layout.experiment,
                created_at=now,
                updated_at=now,
                holopipe_version=code_version().holopipe_version,
                stages={r.stage: r for r in records},
                aliases=aliases,
                config_sha256=_config_sha256(self.layout),
            )
            report = ValidationReport(str(self.path), RunManifest.SCHEMA_NAME)
            manifest._check(report)
            if not report.ok:
                raise ArtifactError(report)
            atomic_write_bytes(self.path, dumps_json(manifest.to_document(), compact=True).encode())
            return kept

    def update(
        self,
        record: StageRecord,
        aliases: dict[str, str] | None = None,
        legacy_sources: list[dict[str, Any]] | None = None,
    ) -> RunManifest:
        """Add or replace one stage record and aliases, under the lock, in one atomic write.

        ``legacy_sources`` (entries with a ``via`` key) replace the earlier entries of the
        same ``via`` and set the top-level ``resolved_from_legacy``.

        The cost in Python is that of the changed record: only it is unstructured and
        validated (the rest was validated when read), and the document is re-encoded by
        the C JSON encoder.
        """
        with self._locked():
            now = utc_now()
            cached = self._cached()
            if cached is None:
                manifest = RunManifest(
                    experiment=self.layout.experiment,
                    created_at=now,
                    updated_at=now,
                    holopipe_version=code_version().holopipe_version,
                )
                document = manifest.to_document()
            else:
                manifest, document = cached
            raw_record = converter.unstructure(record)
            report = ValidationReport(str(self.path), RunManifest.SCHEMA_NAME)
            check_structure(StageRecord, raw_record, report, f"stages.{record.stage}")
            RunManifest.check_record(record.stage, record, report)
            if not report.ok:
                raise ArtifactError(report)
            aliases = {**manifest.aliases, **(aliases or {})}
            top: dict[str, Any] = {"aliases": aliases, "updated_at": now}
            config_sha256 = _config_sha256(self.layout)
            if config_sha256 is not None:  # the config the recorded stage ran with
                top["config_sha256"] = config_sha256
            if legacy_sources:
                replaced = {entry.get("via") for entry in legacy_sources}
                kept = [e for e in manifest.legacy_sources if e.get("via") not in replaced]
                top["legacy_sources"] = kept + list(legacy_sources)
                top["resolved_from_legacy"] = True
            manifest = attrs.evolve(
                manifest, stages={**manifest.stages, record.stage: record}, **top
            )
            document = {
                **document,
                "stages": {**document["stages"], record.stage: raw_record},
                **converter.unstructure(top),
            }
            atomic_write_bytes(self.path, dumps_json(document, compact=True).encode("utf-8"))
            signature = _signature(self.path)
            if signature is not None:
                _LOADED[str(self.path.absolute())] = (signature, manifest, document)
            return manifest


def rebuild_records(
    layout: RunLayout, stage_outputs: dict[str, list[tuple[str, str]]]
) -> tuple[list[StageRecord], dict[str, str], list[str]]:
    """Stage records rebuilt from the stage folders' own files, for a lost manifest.

    ``stage_outputs`` maps each stage key of the run to its declared ``(alias, schema)``
    outputs. A folder counts only with a readable ``stage_summary.json`` (its status,
    exit code, git sha and time); its outputs are the files under its alias folders, hashed
    now. The fingerprint is unknown (empty), so the next run reruns each stage once.
    Returns the records, the aliases and one line per stage skipped and why.
    """
    from holopipe.artifacts.io import sha256_file
    from holopipe.artifacts.records import StageSummary
    from holopipe.artifacts.registry import detect_type

    records, aliases, skipped = [], {}, []
    for key, outputs in stage_outputs.items():
        folder = layout.root / key
        report, summary = StageSummary.read_with_report(folder / "stage_summary.json")
        if summary is None:
            if folder.exists():
                skipped.append(f"{key}: no readable stage_summary.json (it will rerun)")
            continue
        files = []
        for alias, schema in outputs:
            for path in sorted((folder / alias).rglob("*")) if (folder / alias).is_dir() else []:
                if path.is_file() and not path.is_symlink():
                    found = detect_type(path)
                    files.append(
                        file_record(layout, alias, path, found.SCHEMA_NAME if found else schema)
                    )
            if summary.status in ("OK", "WARNING") and (folder / alias).is_dir():
                aliases[alias] = f"{key}/{alias}"
        records.append(
            StageRecord(
                stage=key,
                status=summary.status,
                exit_code=summary.exit_code,
                command=["holopipe", "repair-manifest", "-e", layout.experiment],
                git_sha=summary.meta.git_sha,
                started_at=summary.meta.created_at,
                finished_at=summary.meta.created_at,
                fingerprint="",
                outputs=files,
                summary_sha256=sha256_file(folder / "stage_summary.json"),
            )
        )
    return records, aliases, skipped
