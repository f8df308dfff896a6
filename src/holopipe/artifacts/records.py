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

from typing import Any, ClassVar, Literal, Self

import attrs

from holopipe.artifacts.base import JSONArtifact
from holopipe.artifacts.exit_codes import ExitCode
from holopipe.artifacts.report import ValidationReport

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


@attrs.define
class RunManifest(JSONArtifact):
    """``run_manifest.json``: the source of truth of a run (plan, section 1.4)."""

    SCHEMA_NAME: ClassVar[str] = "RunManifest"
    SCHEMA_VERSION: ClassVar[str] = "0.1"
    SUFFIXES: ClassVar[tuple[str, ...]] = ("run_manifest.json",)
    # Thousands of file records: the C encoder (no indent) keeps a stage's update cheap.
    COMPACT_JSON: ClassVar[bool] = True

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
            if item.path.startswith("/") or ".." in item.path.split("/"):
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
