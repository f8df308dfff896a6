"""Running one stage under the Definition of Done (the plan's section 9).

A :class:`StageExecution` is one execution of one stage, one method per phase:

1. :meth:`~StageExecution.resolve`: params, inputs resolved (CLI, manifest, legacy) and
   fingerprinted, once (the orchestrator hands the result to its gate and to the forked
   stage process);
2. :meth:`~StageExecution.load_inputs`: every input file read and validated. A stage whose
   inputs are missing or invalid stops here with exit 2 and touches nothing: no stage
   folder, no alias, no manifest change;
3. :meth:`~StageExecution.run_stage`: the stage's ``run`` in ``.<NN>_<slug>.partial/``
   with its output captured at the file-descriptor level;
4. :meth:`~StageExecution.check_outputs`: declared outputs produced, the discipline rules
   (no undeclared file, no write outside the run); an output ``Artifact.write`` validated
   in memory and hashed as it wrote it is trusted, any other is re-read and validated;
5. :meth:`~StageExecution.summarise`: ``stage_summary.json``;
6. :meth:`~StageExecution.publish`: OK or WARNING replaces ``<NN>_<slug>/``, its aliases
   and its manifest record (the previous folder goes to the run's trash, removed in the
   background: :mod:`holopipe.run.trash`); INCOMPLETE or ERROR is kept aside in
   ``<NN>_<slug>.failed/`` and the previous successful outputs, aliases and record stay
   exactly as they were (:mod:`holopipe.run.publish`).

Every run that gets past phase 2 leaves ``stage_summary.json``, ``cmd.txt``,
``meta_env.json`` and ``logs/{stdout,stderr}.log`` (in the stage folder or the ``.failed``
one).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shlex
import shutil
import sys
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs

from holopipe.artifacts.exit_codes import ExitCode
from holopipe.artifacts.io import (
    atomic_write_bytes,
    dumps_json,
    recorded_writes,
    sha256_file,
    unpublished_folder,
)
from holopipe.artifacts.records import (
    Counts,
    FileRecord,
    StageRecord,
    StageSummary,
    SummaryMeta,
    SystemStatus,
)
from holopipe.artifacts.registry import get_type
from holopipe.artifacts.spare_files import SpareFiles
from holopipe.artifacts.structure import converter
from holopipe.run.capture import Progress, capture_output
from holopipe.run.config import structure_section
from holopipe.run.context import RunContext, StageContext
from holopipe.run.layout import RunLayout
from holopipe.run.manifest import file_record
from holopipe.run.provenance import (
    code_version,
    environment_info,
    stage_code_info,
    typed_argv,
    utc_now,
)
from holopipe.run.publish import (
    failed_attempt_dir,
    forget_failed_attempt,
    keep_failed_attempt,
    partial_dir,
    publish_aliases,
    swap_back,
    swap_into_place,
)
from holopipe.run.resolution import (
    ResolvedInput,
    check_input_aliases,
    resolve_inputs,
    sidecars_of,
)
from holopipe.run.storage import disk_refusal
from holopipe.run.trash import TRASH_DIR, discard
from holopipe.stages.base import LoadedInput, Stage, StageInputs
from holopipe.stages.input_gate import read_input

__all__ = [
    "StageExecution",
    "execute_stage",
    "input_hashes",
    "resolve_stage_inputs",
    "stage_fingerprint",
    "stage_params",
]


def stage_params(stage: type[Stage], config: dict[str, Any]) -> Any:
    """The stage's Params, structured from ``config["stages"][ID]`` (unknown keys are errors)."""
    raw = config.get("stages", {}).get(stage.ID, {})
    return structure_section(stage.Params, raw, f"stages.{stage.ID}", "config")


def resolve_stage_inputs(
    run: RunContext, stage: type[Stage], cli_inputs: dict[str, Path]
) -> tuple[list[ResolvedInput], list[str]]:
    """Resolve every declared input; returns the resolved ones and ``missing_artifact`` lines."""
    needs = [(s.alias, s.schema, s.required) for s in stage.INPUTS]
    manifest = run.manifest.load_producers([alias for alias, _, _ in needs])
    return resolve_inputs(run.layout, manifest, needs, cli_inputs, run.legacy_roots)


def input_hashes(layout: RunLayout, resolved: list[ResolvedInput]) -> list[tuple[str, str, str]]:
    """(alias, path, sha256) of every input file: manifest inputs carry their producer's
    recorded sha256 (the gate checks the files still hold it), the others are hashed."""
    rows = []
    for item in resolved:
        if item.source == "manifest" and len(item.paths) == len(item.records):
            # no sidecars: every record is one of the paths (run-relative strings already)
            rows += [(item.alias, e.path, e.sha256) for e in item.records]
            continue
        known = {e.path: e.sha256 for e in item.records}  # run-relative strings: no Path objects
        for path in item.paths:
            if item.source == "manifest":
                rel = layout.relative(path)
                rows.append((item.alias, rel, known[rel]))
            else:
                rows.append((item.alias, str(path), sha256_file(path)))
    return rows


def stage_fingerprint(
    stage: type[Stage],
    params: Any,
    seed: int,
    hashes: list[tuple[str, str, str]],
    strict: bool = True,
) -> tuple[str, dict[str, str]]:
    """sha256 over the stage code version, its resolved params, seed and ``strict`` (whether
    a discipline finding fails the stage decides its status), and its input hashes."""

    def digest(obj: Any) -> str:
        return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()

    code = [f"{stage.__module__}:{stage.__qualname__}", stage.VERSION]
    parts = {
        "code": digest([*code, code_version().holopipe_version]),
        "params": digest({"params": converter.unstructure(params), "seed": seed, "strict": strict}),
        "inputs": digest(sorted(hashes)),
    }
    return digest(parts), parts


def _status(ctx: StageContext, crashed: bool, output_problems: list[str]) -> str:
    if crashed or output_problems:
        return "ERROR"
    if ctx.incomplete_reason:
        return "INCOMPLETE"
    statuses = [status for status, _ in ctx.systems.values()]
    if statuses and all(status == "ERROR" for status in statuses):
        return "ERROR"
    if any(status != "OK" for status in statuses) or ctx.warnings or ctx.errors:
        return "WARNING"
    return "OK"


@contextmanager
def _stage_logging() -> Iterator[None]:
    """holopipe's log records to stderr (captured into the stage's ``logs/stderr.log``)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root_logger = logging.getLogger("holopipe")
    root_logger.addHandler(handler)
    root_logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        root_logger.removeHandler(handler)


@attrs.define
class StageExecution:
    """One execution of one stage (see the module docstring for its phases).

    Examples
    --------
    >>> from holopipe.run.layout import RunLayout
    >>> from holopipe.testing import Chain01
    >>> run = RunContext(RunLayout.create("runs", "x"), {"seed": 1})
    >>> StageExecution(run, Chain01).work.as_posix()
    'runs/x/.01_chain_source.partial'
    """

    run: RunContext
    stage: type[Stage]
    cli_inputs: dict[str, Path] = attrs.field(factory=dict, converter=dict)
    params: Any = None
    resolved: list[ResolvedInput] = attrs.field(factory=list)
    problems: list[str] = attrs.field(factory=list)
    hashes: list[tuple[str, str, str]] = attrs.field(factory=list)
    fingerprint: str = ""
    fingerprint_parts: dict[str, str] = attrs.field(factory=dict)
    loaded: dict[str, list[LoadedInput]] = attrs.field(factory=dict)
    counts: Counts = attrs.field(factory=Counts)
    timings: dict[str, float] = attrs.field(factory=dict)
    is_resolved: bool = False
    legacy_warnings: list[str] = attrs.field(factory=list)
    summary_sha256: str = attrs.field(
        default="", metadata={"doc": "of stage_summary.json, taken as it was written"}
    )
    spare_entries: tuple[str, ...] = attrs.field(
        default=(),
        metadata={"doc": "trash entries whose files the new ones take over (SpareFiles)"},
    )
    published: tuple[str, StageRecord] | None = attrs.field(
        default=None,
        metadata={"doc": "the record published into the manifest and its file's sha256"},
    )

    @property
    def key(self) -> str:
        return self.stage.key()

    @property
    def final(self) -> Path:
        return self.run.layout.stage_dir(self.stage.ID, self.stage.SLUG)

    @property
    def work(self) -> Path:
        return partial_dir(self.run.layout, self.key)

    @property
    def failed(self) -> Path:
        return failed_attempt_dir(self.run.layout, self.key)

    def resolve(self) -> list[str]:
        """Phase 1: params, inputs resolved and fingerprinted; the ``missing_artifact`` lines.

        Raises :class:`~holopipe.run.resolution.InputError` for an ``--input`` alias the
        stage does not declare.
        """
        if self.is_resolved:
            return self.problems
        declared = [s.alias for s in self.stage.INPUTS]
        check_input_aliases(self.cli_inputs, declared, f"stage {self.key}")
        self.params = stage_params(self.stage, self.run.config)
        self.resolved, self.problems = resolve_stage_inputs(self.run, self.stage, self.cli_inputs)
        if not self.problems:
            self.hashes = input_hashes(self.run.layout, self.resolved)
            self.fingerprint, self.fingerprint_parts = stage_fingerprint(
                self.stage, self.params, self.run.seed, self.hashes, self.run.strict
            )
        self.is_resolved = True
        return self.problems

    def load_inputs(self) -> list[str]:
        """Phase 2: read and validate every input file through the stage's input gate
        (:func:`holopipe.stages.input_gate.read_input`); the ``invalid_artifact`` lines.

        Read in this process whatever ``--jobs`` says: forked readers were measured slower
        here at 200, 1 000 and 4 000 files (each file cost them more CPU than it costs
        this process, and the artifacts have to be pickled back to it)."""
        t0 = time.perf_counter()
        problems: list[str] = []
        specs = {spec.alias: spec for spec in self.stage.INPUTS}
        for item in self.resolved:
            self.loaded[item.alias] = []
            for path in item.paths:
                if item.resolved_from_legacy:
                    from holopipe.legacy.resolver import read_legacy_input  # legacy runs only

                    served = read_legacy_input(item.schema, path, self.run.legacy_roots)
                    self.legacy_warnings += served.warnings
                    if served.skipped:
                        continue
                    obj, lines = served.artifact, served.gate_lines()
                else:
                    obj, lines = read_input(specs[item.alias], path)  # types, versions
                self.counts.inputs_total += 1
                if obj is None:
                    self.counts.inputs_failed += 1
                    problems += lines
                    continue
                self.counts.inputs_ok += 1
                self.loaded[item.alias].append(LoadedInput(path, obj))
        self.timings["inputs_s"] = time.perf_counter() - t0
        return problems

    def run_stage(self, ctx: StageContext) -> bool:
        """Phase 3: the stage's own work; ``False`` when it raised (traceback to the log)."""
        t1 = time.perf_counter()
        try:
            self.stage().run(ctx, StageInputs(self.loaded))
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - any crash (sys.exit too) is ERROR
            if disk_refusal(exc) is not None:
                raise  # the storage's refusal, not the stage's fault: nothing is published
            traceback.print_exc()
            return False
        finally:
            self.timings["run_s"] = time.perf_counter() - t1
        return True

    def check_outputs(self, ctx: StageContext, ran: bool, start_ns: int) -> list[str]:
        """Phase 4: the problems that make the stage ERROR. A discipline finding (an
        undeclared file, a write outside the run) is one of them, a bug of the stage like a
        ``ctx.write`` to an undeclared alias; with ``"strict": false`` (the explicit opt-out,
        noted in the summary) it is a warning. A watch that could not be complete is a
        warning either way: it found nothing against the stage."""
        t2 = time.perf_counter()
        problems = _output_problems(ctx, self.work)
        if ran and not ctx.incomplete_reason:  # INCOMPLETE already: no outputs expected
            for line in _missing_outputs(self.stage, ctx):  # the minimum is missing: exit 2
                ctx.incomplete(line)
        self.timings["outputs_s"] = time.perf_counter() - t2
        t3 = time.perf_counter()
        discipline, partial = _discipline_findings(self.run, self.work, ctx, start_ns)
        self.timings["discipline_s"] = time.perf_counter() - t3
        if self.run.strict:
            problems += discipline + ([DISCIPLINE_HINT] if discipline else [])
        else:
            ctx.note(STRICT_OFF_NOTE)
            partial = discipline + partial
        for message in partial:
            ctx.warn(message)
        for line in problems:
            ctx.error(line)
        return problems

    def summarise(self, ctx: StageContext, status: str, finished_at: str) -> StageSummary:
        """Phase 5: ``stage_summary.json`` (written into the work folder)."""
        version = code_version()
        destination = self.final if ExitCode.of_status(status).published else self.failed
        summary = StageSummary(
            stage=self.key,
            experiment=self.run.layout.experiment,
            status=status,
            exit_code=int(ExitCode.of_status(status)),
            meta=SummaryMeta(
                version.git_sha,
                finished_at,
                version.holopipe_version,
                version.git_dirty,
                self.run.seed,
            ),
            counts=attrs.evolve(self.counts, outputs_rows=ctx.rows),
            errors=ctx.errors,
            warnings=ctx.warnings,
            notes=ctx.notes,
            artifacts=_artifact_index(self.run.layout, destination, self.work, ctx),
            systems=[SystemStatus(sid, s, e) for sid, (s, e) in sorted(ctx.systems.items())],
            timings={k: round(v, 6) for k, v in self.timings.items()},
            metrics=ctx.metrics,
            checks=ctx.checks,
        )
        if ctx.storage_refusal is not None:  # the stage caught it, but its output is incomplete
            raise ctx.storage_refusal
        path = self.work / "stage_summary.json"
        with recorded_writes() as written:
            summary.write(path)
        self.summary_sha256 = written[os.path.abspath(path)][0]
        return summary

    def publish(self, ctx: StageContext, summary: StageSummary, started_at: str) -> None:
        """Phase 6: publish a successful run, or keep a failed one aside."""
        if not ExitCode.of_status(summary.status).published:
            keep_failed_attempt(self.work, self.failed)
            kept = "; the previous outputs and aliases are unchanged" if self.final.exists() else ""
            print(
                f"{self.key}: {summary.status}; this attempt is kept in "
                f"{self.failed} (stage_summary.json, logs/){kept}",
                file=sys.stderr,
            )
            return
        layout, final = self.run.layout, self.final
        previous = swap_into_place(self.work, final, keep_old=True)
        try:
            outputs = []
            in_final = os.path.join(os.fspath(final), "")
            for alias, path, schema in ctx.outputs:
                sha256, size = ctx.recorded_output(path) or (None, None)
                where = in_final + _below(self.work, path)
                outputs.append(file_record(layout, alias, where, schema, False, sha256, size))
            declared = [o.alias for o in self.stage.OUTPUTS]
            aliases = publish_aliases(layout, self.key, final, declared)
            record = attrs.evolve(
                self._record(summary, started_at, outputs), lost_systems=len(ctx.lost)
            )
            sha256 = self.run.manifest.update(record, aliases, self._legacy_sources())
            self.published = (sha256, record)
        except BaseException as exc:
            if disk_refusal(exc) is not None:  # the old folder stays the recorded one
                swap_back(self.work, final, previous)
            raise
        if previous is not None:
            discard(previous)  # removed in the background by the lock's holder
        forget_failed_attempt(self.failed)

    def _legacy_sources(self) -> list[dict[str, Any]] | None:
        """The manifest's top-level ``legacy_sources`` entries of this run's legacy inputs."""
        known = {path: sha for _, path, sha in self.hashes}
        sources = [
            {"via": f"stage {self.key}", "alias": item.alias, "schema": item.schema,
             "path": str(path), "sha256": known.get(str(path), "")}
            for item in self.resolved
            if item.source == "legacy"
            for path in item.paths
        ]  # fmt: skip
        return sources or None

    def _record(
        self, summary: StageSummary, started_at: str, outputs: list[FileRecord]
    ) -> StageRecord:
        version = code_version()
        return StageRecord(
            stage=self.key,
            status=summary.status,
            exit_code=summary.exit_code,
            command=list(sys.argv),
            git_sha=version.git_sha,
            started_at=started_at,
            finished_at=summary.meta.created_at,
            fingerprint=self.fingerprint,
            fingerprint_parts=self.fingerprint_parts,
            git_dirty=version.git_dirty,
            environment_sha256=environment_info()["packages_sha256"],
            duration_s=summary.timings["total_s"],
            inputs=_input_records(self.run.layout, self.resolved, self.hashes),
            outputs=outputs,
            summary_sha256=self.summary_sha256 or sha256_file(self.final / "stage_summary.json"),
            argv=list(typed_argv()),
        )

    def execute(self) -> ExitCode:
        """All phases; the exit code (0 OK, 1 WARNING, 2 INCOMPLETE, 3 ERROR).

        Missing or invalid inputs: the ``missing_artifact:`` / ``invalid_artifact:`` lines
        go to stderr and the exit code is 2, with nothing written. A write the storage
        refuses (full disk, read-only) raises :class:`~holopipe.run.storage.StorageError`
        after removing the unpublished work folder: the previous outputs stay as they were.
        """
        try:
            return self._execute()
        except BaseException as exc:
            refused = disk_refusal(exc, self.work)
            if refused is None:
                raise
            shutil.rmtree(self.work, ignore_errors=True)
            raise refused from None

    def _execute(self) -> int:
        t0 = time.perf_counter()
        problems = self.resolve() or self.load_inputs()
        if problems:
            for line in problems:
                print(line, file=sys.stderr)
            print(f"{self.key}: refused (invalid inputs); nothing was written", file=sys.stderr)
            return ExitCode.INCOMPLETE
        started_at = utc_now()
        self._prepare_work()
        # Nothing reads .partial before it is swapped in whole: each file is written once
        # in place (taking over a spare file of the trash where it can), and one sync
        # makes them all durable before the swap.
        spares = (
            SpareFiles(self.run.layout.root / TRASH_DIR, self.spare_entries)
            if self.spare_entries
            else None
        )
        with unpublished_folder(self.work, spares):
            self._write_bookkeeping()
            ctx, status = self._run_captured()
            self.timings["total_s"] = time.perf_counter() - t0
            summary = self.summarise(ctx, status, utc_now())
        self.publish(ctx, summary, started_at)
        return ExitCode(summary.exit_code)

    def _prepare_work(self) -> None:
        work = self.work
        if work.exists():
            shutil.rmtree(work)
        (work / "logs").mkdir(parents=True)

    def _write_bookkeeping(self) -> None:
        """``cmd.txt`` and ``meta_env.json`` of the run (into the work folder)."""
        work = self.work
        atomic_write_bytes(work / "cmd.txt", _rerun_command(self.run, self.stage, self.cli_inputs))
        meta = {
            **environment_info(),
            "stage_code": stage_code_info(self.stage.__module__),
            "argv": list(typed_argv()),
        }
        atomic_write_bytes(work / "meta_env.json", dumps_json(meta).encode())

    def _run_captured(self) -> tuple[StageContext, str]:
        """Phases 3 and 4 with the output captured; the context and the status."""
        from holopipe.run.discipline import filesystem_now

        work = self.work
        with capture_output(work / "logs" / "stdout.log", work / "logs" / "stderr.log") as fd:
            with _stage_logging():
                ctx = StageContext(
                    self.run, self.stage.ID, self.key, work, self.params, Progress(self.key, fd)
                )
                ctx.declared_outputs = tuple(o.alias for o in self.stage.OUTPUTS)
                for item in self.resolved:
                    item.log_origin()
                for line in self.legacy_warnings:  # each legacy file served: in the summary
                    ctx.warn(line)
                start_ns = filesystem_now(work)
                ran = self.run_stage(ctx)
                try:
                    problems = self.check_outputs(ctx, ran, start_ns)
                except Exception:  # noqa: BLE001 - a failing check is ERROR, never a lost summary
                    traceback.print_exc()
                    ran, problems = False, []
        if not ran:
            ctx.errors.append("uncaught exception: traceback in logs/stderr.log")
        return ctx, _status(ctx, not ran, problems)


def execute_stage(
    run: RunContext, stage: type[Stage], cli_inputs: dict[str, Path] | None = None
) -> int:
    """Run ``stage`` in ``run`` and return its exit code (see :meth:`StageExecution.execute`)."""
    return StageExecution(run, stage, cli_inputs or {}).execute()


def _rerun_command(run: RunContext, stage: type[Stage], cli_inputs: dict[str, Path]) -> bytes:
    args = [sys.executable, "-m", "holopipe", "stage", stage.ID]
    args += ["--experiment", run.layout.experiment]
    args += ["--runs-dir", str(run.layout.runs_dir.absolute()), "--jobs", str(run.jobs)]
    for alias, path in sorted(cli_inputs.items()):
        args += ["--input", f"{alias}={Path(path).absolute()}"]
    return f"cd {shlex.quote(os.getcwd())} && {shlex.join(args)}\n".encode()


def _output_problems(ctx: StageContext, work: Path) -> list[str]:
    """Every output not validated in memory before it was written, re-read from disk and
    validated (sidecars with their artifact). ``Artifact.write`` validates the object and
    writes those bytes atomically: such an output is trusted, not read back."""
    unchecked = [o for o in ctx.outputs if ctx.recorded_output(o[1]) is None]
    by_schema: dict[str, list[Path]] = {}
    for _, path, schema in unchecked:
        by_schema.setdefault(schema, []).append(path)
    sidecars = {
        (p, schema) for schema, paths in by_schema.items() for p in sidecars_of(schema, paths)
    }
    problems = []
    for _, path, schema in unchecked:
        if (path, schema) in sidecars:
            continue
        report = get_type(schema).validate_file(path)
        where = f"{work.name}/{path.relative_to(work)}"
        for finding, line in zip(report.findings, report.lines(), strict=True):
            if finding.severity == "error":
                problems.append(f"invalid output {where}: {line}")
    return problems


def _missing_outputs(stage: type[Stage], ctx: StageContext) -> list[str]:
    produced = {alias for alias, _, _ in ctx.outputs}
    return [
        f"declared output {o.alias} ({o.schema}) was not produced"
        for o in stage.OUTPUTS
        if o.required and o.alias not in produced
    ]


def _discipline_findings(
    run: RunContext, work: Path, ctx: StageContext, start_ns: int
) -> tuple[list[str], list[str]]:
    """The plan's discipline rules (:mod:`holopipe.run.discipline`): the findings (an
    undeclared file in the stage dir, a write outside the run) and the reasons the watch
    was partial (the entry limit, nothing watchable)."""
    from holopipe.run.discipline import (
        OUTSIDE,
        PARTIAL,
        UNDECLARED,
        undeclared_files,
        watched_places,
        writes_outside,
    )

    extra = undeclared_files(work, {path for _, path, _ in ctx.outputs})
    cwd = Path.cwd()
    places = watched_places(cwd, run.layout.runs_dir, run.legacy_roots)
    allowed = [run.layout.runs_dir, *map(Path, run.config.get("caches", []))]
    job_files = run.executor.slurm.folder  # holopipe's executor writes its job files there
    allowed += [Path(job_files)] if job_files else []
    watch = writes_outside(places, start_ns, allowed, cwd)
    findings = [UNDECLARED + e for e in extra] + [OUTSIDE + o for o in watch.found]
    partial = []
    if not watch.complete:
        partial.append(
            f"{PARTIAL} incomplete: stopped after {watch.entries} entries in "
            f"{', '.join(map(str, watch.watched))} (list big folders in the config's caches)"
        )
    if not places:
        partial.append(
            f"{PARTIAL}: nothing watched (the current directory and the runs "
            "root's parent are the home directory or the temp dir); run from a project folder"
        )
    return findings, partial


#: The one line after the discipline findings of a strict run (the default).
DISCIPLINE_HINT = (
    "a stage writes only through ctx.write into its own folder (plan 3.2, 11); allow a "
    'cache folder with the config\'s "caches", or opt out with "strict": false'
)
#: The note of every stage of a run that opted out of the discipline rules.
STRICT_OFF_NOTE = (
    "strict: false (config): undeclared files and writes outside the run are warnings, not errors"
)


def _input_records(
    layout: RunLayout, resolved: list[ResolvedInput], hashes: list[tuple[str, str, str]]
) -> list[FileRecord]:
    """Manifest entries of the inputs: run-relative for manifest inputs, absolute otherwise,
    with the sha256 already known (the producer's, or hashed for the fingerprint). A
    manifest input whose file still has the stat its producer recorded is that producer's
    entry itself (same name, path, sha256, schema and stat: what a new entry would hold)."""
    known_sha = {rel: sha for _, rel, sha in hashes}
    records = []
    for item in resolved:
        inside = item.source == "manifest"
        produced = {e.path: e for e in item.records} if inside else {}
        for path in item.paths:
            recorded = layout.relative(path) if inside else str(Path(path).absolute())
            same = produced.get(recorded)
            if same is not None and same.name == item.alias and same.schema == item.schema:
                st = os.stat(path)
                if (same.size, same.mtime_ns, same.ctime_ns, same.inode) == (
                    st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino
                ) and same.sha256 == known_sha.get(recorded):  # fmt: skip
                    records.append(same)
                    continue
            entry = file_record(
                layout,
                item.alias,
                path,
                item.schema,
                item.resolved_from_legacy,
                sha256=known_sha.get(recorded if inside else str(path)),
            )
            records.append(attrs.evolve(entry, path=recorded))
    return records


def _below(folder: Path, path: Path) -> str:
    """``path`` relative to ``folder`` as a POSIX string: by string slicing when it is a
    plain path below it, as the stage's context builds them (thousands per stage)."""
    text, prefix = os.fspath(path), os.path.join(os.fspath(folder), "")
    if os.sep == "/" and text.startswith(prefix):
        rest = text[len(prefix) :]
        if _plain(rest):
            return rest
    return path.relative_to(folder).as_posix()


def _plain(relative: str) -> bool:
    """No ``.``/``..`` part and no empty one: ``os.path.normpath`` would leave it as it is."""
    return "/." not in "/" + relative and "//" not in relative and not relative.endswith("/")


def _artifact_index(
    layout: RunLayout, destination: Path, work: Path, ctx: StageContext
) -> dict[str, str]:
    """The summary's ``artifacts``: each alias -> its file (one file) or folder (several),
    relative to the run root, and each file -> its path relative to the run root through its
    alias, as in the plan's example (``"bulk_modes_dataset.csv":
    "bulk_eigenmodes/bulk_modes_dataset.csv"``; a name two aliases share is keyed
    ``<alias>/<name>``)."""
    folder = layout.relative(destination)
    by_alias: dict[str, list[str]] = {}  # alias -> its files' paths relative to work/alias
    for alias, path, _ in ctx.outputs:
        by_alias.setdefault(alias, []).append(_below(work / alias, path))

    def where(alias: str, name: str) -> str:
        plain = _plain(name)
        return f"{folder}/{alias}/{name}" if plain else layout.relative(destination / alias / name)

    index = {
        alias: where(alias, names[0]) if len(names) == 1 else f"{folder}/{alias}"
        for alias, names in sorted(by_alias.items())
    }
    counts: dict[str, int] = {}
    for names in by_alias.values():
        for name in names:
            counts[name] = counts.get(name, 0) + 1
    for alias, names in sorted(by_alias.items()):
        for name in names:
            key = name if counts[name] == 1 and name not in index else f"{alias}/{name}"
            index[key] = f"{alias}/{name}"
    return index
