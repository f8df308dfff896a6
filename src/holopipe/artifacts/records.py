"""The run's own records: StageSummary (``stage_summary.json``) and RunManifest
(``run_manifest.json``), validated like any other artifact.

The stage summary carries the fields of the plan's section 2.1 (stage, experiment, status,
exit_code, counts, errors, warnings, artifacts, meta with git_sha and created_at), plus
per-system rows, timings and metrics.

Examples
--------
>>> s = StageSummary.example()
>>> s.status, s.exit_code
('OK', 0)
>>> StageSummary.from_document(s.to_document(), ValidationReport()) == s
True
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any, ClassVar, Literal, Self

import attrs

from holopipe.artifacts.base import DocumentUnreadable, JSONArtifact, read_json_document
from holopipe.artifacts.exit_codes import ExitCode
from holopipe.artifacts.io import JSONDecodeIssue, loads_json
from holopipe.artifacts.report import ValidationReport
from holopipe.artifacts.safety import UnsafeFile, read_bytes_bounded, read_text_bounded
from holopipe.artifacts.versions import register_migration

__all__ = [
    "EXIT_CODES",
    "Counts",
    "FileRecord",
    "MetricCheck",
    "RunManifest",
    "StageRecord",
    "PipelineSummary",
    "StageOutcome",
    "StageSummary",
    "SummaryMeta",
    "SystemStatus",
    "is_record_reference",
    "read_stage_record",
    "stat_signature",
    "status_of",
]

Status = Literal["OK", "WARNING", "INCOMPLETE", "ERROR"]

#: Status word -> exit code, the plan's contract (section 2.1); see :class:`ExitCode`.
EXIT_CODES: dict[str, int] = {
    code.name: int(code) for code in ExitCode if code is not ExitCode.INTERRUPTED
}


def status_of(exit_code: int) -> str:
    """The status an exit code stands for; anything unknown is ERROR.

    Examples
    --------
    >>> status_of(1), status_of(-9)
    ('WARNING', 'ERROR')
    """
    code = ExitCode.from_code(exit_code)
    return "ERROR" if code is ExitCode.INTERRUPTED else code.status


@attrs.define
class Counts:
    inputs_total: int = 0
    inputs_ok: int = 0
    inputs_failed: int = 0
    outputs_rows: int = 0


@attrs.define
class SummaryMeta:
    git_sha: str
    created_at: str = attrs.field(metadata={"doc": "ISO 8601 UTC"})
    holopipe_version: str = ""
    git_dirty: bool = False
    seed: int | None = None


@attrs.define
class SystemStatus:
    system_id: str
    status: Status
    error: str | None = None


@attrs.define
class MetricCheck:
    """A metric that a status depends on, with the tolerance it was held to and the outcome.

    Examples
    --------
    >>> MetricCheck("ads_d3_000.z_h_rel_error", 2e-9, 1e-6, True).words()
    'ads_d3_000.z_h_rel_error = 2e-09 (tolerance 1e-06): pass'
    """

    name: str = attrs.field(metadata={"doc": "metric name, e.g. <system>.<quantity>"})
    value: float | None = attrs.field(metadata={"doc": "null when it could not be computed"})
    tolerance: float = attrs.field(metadata={"doc": "the threshold the value is held to"})
    passed: bool
    expected_failure: bool = attrs.field(
        default=False,
        metadata={"doc": "a failure that is a physics result (e.g. deformed null_energy)"},
    )
    group: str = attrs.field(default="", metadata={"doc": "what it is grouped by, e.g. family"})

    def words(self) -> str:
        """One line: name, value, tolerance, outcome."""
        outcome = (
            "pass" if self.passed else ("fail (expected)" if self.expected_failure else "FAIL")
        )
        value = "not computed" if self.value is None else f"{self.value:.3g}"
        return f"{self.name} = {value} (tolerance {self.tolerance:.3g}): {outcome}"


@attrs.define
class StageSummary(JSONArtifact):
    """Machine-readable outcome of one stage run (``stage_summary.json``)."""

    SCHEMA_NAME: ClassVar[str] = "StageSummary"
    SCHEMA_VERSION: ClassVar[str] = "0.1"
    SUFFIXES: ClassVar[tuple[str, ...]] = ("stage_summary.json",)

    stage: str = attrs.field(metadata={"doc": "<NN>_<slug>, e.g. 06_build_bulk_eigenmodes_dataset"})
    experiment: str
    status: Status
    exit_code: int
    meta: SummaryMeta
    counts: Counts = attrs.field(factory=Counts)
    errors: list[str] = attrs.field(factory=list)
    warnings: list[str] = attrs.field(factory=list)
    notes: list[str] = attrs.field(
        factory=list,
        metadata={"doc": "findings that leave the status as is (physics results, not applicable)"},
    )
    artifacts: dict[str, str] = attrs.field(
        factory=dict,
        metadata={
            "doc": "alias -> its file or folder relative to the run root; file name -> "
            "<alias>/<file> (relative to the run root through the alias)"
        },
    )
    systems: list[SystemStatus] = attrs.field(factory=list)
    timings: dict[str, float] = attrs.field(factory=dict, metadata={"doc": "seconds"})
    metrics: dict[str, float] = attrs.field(factory=dict)
    checks: list[MetricCheck] = attrs.field(
        factory=list,
        metadata={"doc": "metrics a status depends on, each with its tolerance and pass/fail"},
    )

    def failed_checks_line(self) -> str | None:
        """The failed checks in one line, grouped; ``None`` when every check passed.

        Examples
        --------
        >>> s = StageSummary.example()
        >>> s.checks = [
        ...     MetricCheck("a.null_energy", 0.7, 1e-6, False, True, "deformed"),
        ...     MetricCheck("b.null_energy", 0.1, 1e-6, False, True, "deformed"),
        ...     MetricCheck("c.horizon", 0.0, 1e-6, True, False, "ads"),
        ... ]
        >>> s.failed_checks_line()
        '06: 2 checks failed, expected for: deformed null_energy (2)'
        """
        failed = [c for c in self.checks if not c.passed]
        if not failed:
            return None

        def grouped(checks: list[MetricCheck]) -> str:
            counts: dict[str, int] = {}
            for c in checks:
                what = f"{c.group} {c.name.rsplit('.', 1)[-1]}".strip()
                counts[what] = counts.get(what, 0) + 1
            return ", ".join(f"{what} ({n})" for what, n in sorted(counts.items()))

        expected = [c for c in failed if c.expected_failure]
        unexpected = [c for c in failed if not c.expected_failure]
        parts = [f"{self.stage.split('_', 1)[0]}: {len(failed)} checks failed"]
        if expected:
            parts.append(f"expected for: {grouped(expected)}")
        if unexpected:
            parts.append(f"NOT expected: {grouped(unexpected)}")
        return ", ".join(parts[:2]) + ("; " + parts[2] if len(parts) > 2 else "")

    def _check(self, report: ValidationReport) -> None:
        expected = EXIT_CODES.get(self.status)
        if expected is not None and self.exit_code != expected:
            report.error(
                "status_mismatch",
                "exit_code",
                f"status {self.status} means exit code {expected}, got {self.exit_code}",
            )
        c = self.counts
        if c.inputs_ok + c.inputs_failed > c.inputs_total:
            report.error("bad_counts", "counts", "inputs_ok + inputs_failed exceeds inputs_total")
        if self.status in ("INCOMPLETE", "ERROR") and not self.errors:
            report.warning("no_reason", "errors", f"status {self.status} without any error message")

    @classmethod
    def example(cls) -> Self:
        return cls(
            stage="06_build_bulk_eigenmodes_dataset",
            experiment="test_v3",
            status="OK",
            exit_code=0,
            meta=SummaryMeta(git_sha="0000000", created_at="2026-01-01T00:00:00Z"),
            counts=Counts(inputs_total=2, inputs_ok=2, outputs_rows=12),
            artifacts={"dataset_csv": "bulk_eigenmodes/bulk_modes_dataset.csv"},
        )


@attrs.define
class FileRecord:
    """One input or output file of a stage, relative to the run root."""

    name: str = attrs.field(metadata={"doc": "role of the file, e.g. the alias it was read from"})
    path: str = attrs.field(metadata={"doc": "relative to runs/<experiment>/"})
    sha256: str
    schema: str | None = None
    size: int = attrs.field(
        default=0,
        metadata={
            "doc": "bytes; with mtime_ns, ctime_ns and inode the stat signature: a file whose "
            "signature differs is hashed again, only a different sha256 counts as changed"
        },
    )
    mtime_ns: int = attrs.field(default=0, metadata={"doc": "modification time when recorded (ns)"})
    ctime_ns: int = attrs.field(
        default=0, metadata={"doc": "inode change time when recorded (ns); 0: not recorded"}
    )
    inode: int = attrs.field(
        default=0, metadata={"doc": "inode number when recorded; 0: not recorded"}
    )
    resolved_from_legacy: bool = False


@attrs.define
class StageRecord:
    """What the manifest remembers of the last run of one stage."""

    stage: str
    status: Status
    exit_code: int
    command: list[str]
    git_sha: str
    started_at: str
    finished_at: str
    fingerprint: str = attrs.field(
        metadata={"doc": "sha256 of code version, params and input hashes"}
    )
    fingerprint_parts: dict[str, str] = attrs.field(
        factory=dict, metadata={"doc": "code, params, inputs: each hashed"}
    )
    git_dirty: bool = False
    environment_sha256: str = ""
    duration_s: float = 0.0
    inputs: list[FileRecord] = attrs.field(factory=list)
    outputs: list[FileRecord] = attrs.field(factory=list)
    lost_systems: int = attrs.field(
        default=0,
        metadata={"doc": "systems whose worker or job died: the stage is rerun to finish them"},
    )
    argv: list[str] = attrs.field(
        factory=list,
        metadata={"doc": "the command line as typed (command: the stage's own rerun command)"},
    )
    summary_sha256: str = attrs.field(
        default="",
        metadata={"doc": "sha256 of the stage folder's stage_summary.json (publication check)"},
    )


def is_record_reference(value: Any) -> bool:
    """Whether a ``stages`` entry of ``run_manifest.json`` names a record file (version
    0.2 and later: ``{"record": path, "sha256": hex}``; from 0.3 optionally with the
    record's ``digest``, see :mod:`holopipe.run.stage_digest`) instead of holding the record
    itself.

    Examples
    --------
    >>> is_record_reference({"record": "run_manifest.d/01_x.0123.json", "sha256": "ab"})
    True
    >>> is_record_reference({"stage": "01_x", "status": "OK"})
    False
    """
    return isinstance(value, dict) and set(value) in _RECORD_REFERENCE_KEYS


_RECORD_REFERENCE_KEYS = ({"record", "sha256"}, {"record", "sha256", "digest"})


def read_stage_record(
    folder: Path, key: str, reference: dict[str, Any], report: ValidationReport
) -> Any | None:
    """The JSON document of stage ``key``'s record file, named by ``reference`` (relative
    to ``folder``, the run root) and checked against its sha256; ``None`` with a finding
    in ``report`` when it is missing, elsewhere, altered or not JSON."""
    where = f"stages.{key}.record"
    path = reference["record"]
    if not isinstance(path, str) or path.startswith("/") or ".." in path.split("/"):
        report.error("outside_run", where, f"a record file inside the run root, got {path!r}")
        return None
    try:
        data = read_bytes_bounded(folder / path)
    except FileNotFoundError:
        report.error("missing_record", where, f"{path} is missing")
        return None
    except UnsafeFile as exc:
        exc.record(report)
        return None
    except OSError as exc:
        report.error("unreadable", where, f"cannot read {path}: {exc}")
        return None
    if hashlib.sha256(data).hexdigest() != reference["sha256"]:
        report.error("record_hash_mismatch", where, f"{path} does not hold the recorded sha256")
        return None
    try:
        return loads_json(data.decode("utf-8"))
    except (UnicodeDecodeError, JSONDecodeIssue) as exc:
        report.error("malformed_json", where, f"{path}: {exc}")
        return None


# How often a lock-free reader re-reads an index replaced while it read its records.
_INDEX_READ_ATTEMPTS = 5


def stat_signature(path: str | os.PathLike) -> tuple[int, int, int, int] | None:
    """``(size, mtime_ns, ctime_ns, inode)`` of the file at ``path`` (links followed), or
    ``None`` when it cannot be stat'ed: what a :class:`FileRecord` records of a file. While
    it is unchanged the file is trusted to hold the same bytes (holopipe replaces a file by
    renaming a new one over it: a new inode); a file whose signature differs is hashed again.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile() as fh:
    ...     _ = fh.write(b"abc"); fh.flush()
    ...     stat_signature(fh.name)[0]
    3
    >>> stat_signature("/no/such/file") is None
    True
    """
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino


@register_migration("RunManifest", "0.1", "0.2")
def _records_in_files(document: dict[str, Any]) -> dict[str, Any]:
    # 0.2 keeps each stage record in a file of its own; a document whose records are
    # read into it (what 0.1 held inline) is the same.
    return document


@register_migration("RunManifest", "0.2", "0.3")
def _digests_optional(document: dict[str, Any]) -> dict[str, Any]:
    # 0.3 lets an index entry carry its record's digest; a 0.2 entry has none, so a no-op
    # rerun reads that stage's record until the stage's next update adds one.
    return document


@attrs.define
class RunManifest(JSONArtifact):
    """``run_manifest.json``: the source of truth of a run (plan, section 1.4).

    On disk (version 0.2 and later) the file is an index: each entry of ``stages`` names the stage's
    record file (``run_manifest.d/<stage>.<sha>.json``) and its sha256, so a stage writes
    only its own record and a small index. Reading follows the entries and checks each
    sha256; the object holds the records themselves. A 0.1 file (records inline) reads too.
    From version 0.3 an entry may also carry the record's ``digest``
    (:mod:`holopipe.run.stage_digest`): what a no-op rerun reads instead of the record; never
    part of the record itself. (A holopipe that knows only 0.2 refuses a 0.3 index as newer
    than it supports, instead of calling the unknown key a corrupt manifest.)
    """

    SCHEMA_NAME: ClassVar[str] = "RunManifest"
    SCHEMA_VERSION: ClassVar[str] = "0.3"
    SUFFIXES: ClassVar[tuple[str, ...]] = ("run_manifest.json",)
    # Thousands of file records: the C encoder (no indent) keeps a stage's update cheap.
    COMPACT_JSON: ClassVar[bool] = True
    # LOAD_CHECKS_FIELDS stays True: _document reads the stage records into the index, so
    # from_document checks the whole manifest before structuring it.

    experiment: str
    created_at: str
    updated_at: str
    holopipe_version: str = ""
    config_sha256: str | None = None
    stages: dict[str, StageRecord] = attrs.field(
        factory=dict, metadata={"doc": "keyed by <NN>_<slug>"}
    )
    aliases: dict[str, str] = attrs.field(
        factory=dict, metadata={"doc": "alias -> stage dir path it points at"}
    )
    resolved_from_legacy: bool = False
    legacy_sources: list[dict[str, Any]] = attrs.field(factory=list)

    def _check(self, report: ValidationReport) -> None:
        for alias, target in self.aliases.items():
            if target.split("/", 1)[0] not in self.stages:
                report.error(
                    "dangling_alias",
                    f"aliases.{alias}",
                    f"points at {target!r}, a stage with no record",
                )
        for key, record in self.stages.items():
            self.check_record(key, record, report)

    @staticmethod
    def check_record(key: str, record: StageRecord, report: ValidationReport) -> None:
        """The manifest's rules for one stage record (also used for incremental updates)."""
        if record.stage != key:
            report.error("key_mismatch", f"stages.{key}.stage", f"record says {record.stage!r}")
        for i, item in enumerate(record.outputs):
            # Inputs may come from outside the run (CLI, legacy); outputs never do.
            if item.path.startswith("/") or (".." in item.path and ".." in item.path.split("/")):
                report.error(
                    "outside_run",
                    f"stages.{key}.outputs[{i}].path",
                    f"outputs are relative paths inside the run root, got {item.path!r}",
                )
        for kind in ("inputs", "outputs"):
            for i, item in enumerate(getattr(record, kind)):
                if len(item.sha256) != 64:
                    report.error(
                        "bad_hash", f"stages.{key}.{kind}[{i}].sha256", "not a sha256 hex digest"
                    )

    @classmethod
    def example(cls) -> Self:
        return cls(
            experiment="demo", created_at="2026-01-01T00:00:00Z", updated_at="2026-01-01T00:00:00Z"
        )

    @classmethod
    def _document(cls, path: Path, report: ValidationReport) -> Any:
        return read_json_document(path, report, lambda index: cls.read_index(index, report))

    @classmethod
    def read_index(cls, path: Path, report: ValidationReport) -> Any:
        """The index at ``path`` with its records read into it (:meth:`with_records`); an
        index that is not an object is returned as it is (validation judges it). Raises
        :class:`~holopipe.artifacts.base.DocumentUnreadable` when a record cannot be read
        (the finding in ``report``).

        A reader that holds no lock may read an index whose writer replaces it, and
        removes the record it named, meanwhile: then the new index is read (a record
        missing from an index that did not change is a finding).
        """
        for _ in range(_INDEX_READ_ATTEMPTS):
            before = stat_signature(path)
            attempt = ValidationReport(report.path, report.schema)
            index = loads_json(read_text_bounded(path))
            if not isinstance(index, dict):
                return index
            document = cls.with_records(path.parent, index, attempt)
            if document is not None or stat_signature(path) == before:
                report.extend(attempt)
                if document is None:
                    raise DocumentUnreadable(str(path))
                return document
        report.extend(attempt)
        raise DocumentUnreadable(str(path))

    @classmethod
    def with_records(
        cls, folder: Path, document: Any, report: ValidationReport
    ) -> dict[str, Any] | None:
        """``document`` (an index) with each stage record read from its file in ``folder``
        (:func:`read_stage_record`); ``None`` when one cannot be read (findings in
        ``report``). Anything else is returned as is, for validation to judge."""
        stages = document.get("stages") if isinstance(document, dict) else None
        if not isinstance(stages, dict):
            return document
        records = {}
        for key, value in stages.items():
            if is_record_reference(value):
                value = read_stage_record(folder, str(key), value, report)
                if value is None:
                    return None
            records[key] = value
        return {**document, "stages": records}

    @classmethod
    def read_document(cls, path: str | Path) -> dict[str, Any]:
        """The whole manifest at ``path`` as one JSON document (records read into it), not
        validated: for tools that look at its raw fields. Raises ``ValueError`` or
        ``OSError`` when it cannot be read."""
        path = Path(path)
        report = ValidationReport(str(path), cls.SCHEMA_NAME)
        if not path.exists():
            raise FileNotFoundError(f"{path}: no run manifest")
        try:
            document = cls.read_index(path, report)
        except UnsafeFile as exc:
            raise ValueError(f"{path}: {exc}") from None
        except DocumentUnreadable:
            raise ValueError("; ".join(report.lines()[:1])) from None
        if not isinstance(document, dict):
            raise ValueError(f"{path}: not a JSON object")
        return document


@attrs.define
class StageOutcome:
    """One stage's line in the pipeline summary."""

    stage: str
    status: Literal["OK", "WARNING", "INCOMPLETE", "ERROR", "SKIPPED", "NOT_RUN"] = attrs.field(
        metadata={"doc": "an up-to-date stage keeps the status of its last run (SKIPPED: older)"}
    )
    exit_code: int
    action: Literal["ran", "up_to_date", "gate_failed", "not_reached"]
    duration_s: float = 0.0
    reason: str = ""


@attrs.define
class PipelineSummary(JSONArtifact):
    """``pipeline_summary.json``: the consolidated outcome of one ``holopipe run``."""

    SCHEMA_NAME: ClassVar[str] = "PipelineSummary"
    SCHEMA_VERSION: ClassVar[str] = "0.1"
    SUFFIXES: ClassVar[tuple[str, ...]] = ("pipeline_summary.json",)

    experiment: str
    exit_code: int
    started_at: str
    finished_at: str
    command: list[str]
    stages: list[StageOutcome]

    def _check(self, report: ValidationReport) -> None:
        # Skipped (up-to-date) stages keep their last exit code and count too (plan 4.1).
        ran = [s.exit_code for s in self.stages if s.action != "not_reached"]
        if max(ran, default=0) != self.exit_code:
            report.error(
                "status_mismatch",
                "exit_code",
                "must be the worst exit code of the stages that ran or were up to date",
            )

    @classmethod
    def example(cls) -> Self:
        return cls(
            experiment="demo",
            exit_code=0,
            started_at="2026-01-01T00:00:00Z",
            finished_at="2026-01-01T00:00:01Z",
            command=["holopipe", "run", "--experiment", "demo"],
            stages=[StageOutcome("01_generate_sandbox_geometries", "OK", 0, "ran", 0.5)],
        )
