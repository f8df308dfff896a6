"""Running one stage under the Definition of Done (the plan's section 9).

:func:`execute_stage` builds the stage in ``.<NN>_<slug>.partial/`` with its output
captured at the file-descriptor level, then swaps it into ``<NN>_<slug>/``, points the
aliases at it and records it in the manifest. Every run, whatever its outcome, leaves
``stage_summary.json``, ``cmd.txt``, ``meta_env.json`` and ``logs/{stdout,stderr}.log``.
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
from pathlib import Path
from typing import Any

import attrs

from holopipe.artifacts.io import atomic_write_bytes, deferred_fsync, dumps_json, sha256_file
from holopipe.artifacts.records import (
    EXIT_CODES,
    Counts,
    FileRecord,
    StageRecord,
    StageSummary,
    SummaryMeta,
    SystemStatus,
)
from holopipe.artifacts.registry import get_type
from holopipe.artifacts.structure import converter
from holopipe.run.capture import Progress, capture_output
from holopipe.run.config import structure_section
from holopipe.run.context import RunContext, StageContext
from holopipe.run.gates import undeclared_files, writes_outside
from holopipe.run.layout import RunLayout, make_alias
from holopipe.run.manifest import file_record
from holopipe.run.provenance import code_version, environment_info, utc_now
from holopipe.run.resolution import ResolvedInput, UnresolvedInput, resolve_input, sidecars_of
from holopipe.stages.base import LoadedInput, Stage, StageInputs
from holopipe.stages.input_gate import read_input

__all__ = ["execute_stage", "resolve_stage_inputs", "stage_fingerprint", "stage_params"]


def stage_params(stage: type[Stage], config: dict[str, Any]) -> Any:
    """The stage's Params, structured from ``config["stages"][ID]`` (unknown keys are errors)."""
    raw = config.get("stages", {}).get(stage.ID, {})
    return structure_section(stage.Params, raw, f"stages.{stage.ID}", "config")


def resolve_stage_inputs(
    run: RunContext, stage: type[Stage], cli_inputs: dict[str, Path]
) -> tuple[list[ResolvedInput], list[str]]:
    """Resolve every declared input; returns the resolved ones and ``missing_artifact`` lines."""
    manifest = run.manifest.load()
    resolved, problems = [], []
    for spec in stage.INPUTS:
        try:
            resolved.append(
                resolve_input(
                    spec.alias,
                    spec.schema,
                    run.layout,
                    manifest,
                    cli_inputs.get(spec.alias),
                    run.legacy_roots,
                )
            )
        except UnresolvedInput as exc:
            if spec.required:
                problems.append(str(exc))
    return resolved, problems


def _input_hashes(run: RunContext, resolved: list[ResolvedInput]) -> list[tuple[str, str, str]]:
    """(alias, path, sha256) of every input; manifest inputs reuse the producer's hashes."""
    manifest = run.manifest.load()
    known: dict[str, str] = {}
    if manifest is not None:
        for record in manifest.stages.values():
            known.update({o.path: o.sha256 for o in record.outputs})
    rows = []
    for item in resolved:
        for path in item.paths:
            rel = run.layout.relative(path) if item.source == "manifest" else str(path)
            sha = known.get(rel) if item.source == "manifest" else None
            rows.append((item.alias, rel, sha or sha256_file(path)))
    return rows


def stage_fingerprint(
    stage: type[Stage], params: Any, seed: int, input_hashes: list[tuple[str, str, str]]
) -> tuple[str, dict[str, str]]:
    """sha256 over the stage code version, its resolved params and seed, and its input hashes."""

    def digest(obj: Any) -> str:
        return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()

    parts = {
        "code": digest(
            [
                f"{stage.__module__}:{stage.__qualname__}",
                stage.VERSION,
                code_version().holopipe_version,
            ]
        ),
        "params": digest({"params": converter.unstructure(params), "seed": seed}),
        "inputs": digest(sorted(input_hashes)),
    }
    return digest(parts), parts


def _load_inputs(
    stage: type[Stage], resolved: list[ResolvedInput]
) -> tuple[dict[str, list[LoadedInput]], list[str], Counts]:
    """Every input through the stage's input gate (declared types and schema versions)."""
    specs = {spec.alias: spec for spec in stage.INPUTS}
    loaded: dict[str, list[LoadedInput]] = {}
    problems: list[str] = []
    counts = Counts()
    for item in resolved:
        loaded[item.alias] = []
        for path in item.paths:
            counts.inputs_total += 1
            obj, lines = read_input(specs[item.alias], path)
            if obj is None:
                counts.inputs_failed += 1
                problems += lines
                continue
            counts.inputs_ok += 1
            loaded[item.alias].append(LoadedInput(path, obj))
    return loaded, problems, counts


def _rerun_command(run: RunContext, stage: type[Stage], cli_inputs: dict[str, Path]) -> str:
    args = [
        sys.executable,
        "-m",
        "holopipe",
        "stage",
        stage.ID,
        "--experiment",
        run.layout.experiment,
        "--runs-dir",
        str(run.layout.runs_dir.absolute()),
        "--jobs",
        str(run.jobs),
    ]
    for alias, path in sorted(cli_inputs.items()):
        args += ["--input", f"{alias}={Path(path).absolute()}"]
    return f"cd {shlex.quote(os.getcwd())} && {shlex.join(args)}\n"


def _status(
    ctx: StageContext, crashed: bool, input_problems: list[str], output_problems: list[str]
) -> str:
    if crashed or output_problems:
        return "ERROR"
    if input_problems or ctx.incomplete_reason:
        return "INCOMPLETE"
    statuses = [status for status, _ in ctx.systems.values()]
    if statuses and all(status == "ERROR" for status in statuses):
        return "ERROR"
    if any(status != "OK" for status in statuses) or ctx.warnings or ctx.errors:
        return "WARNING"
    return "OK"


def _swap_into_place(work: Path, final: Path) -> None:
    """Replace ``final`` by ``work`` (the old dir is renamed away first, then removed)."""
    old = final.with_name(f".{final.name}.old")
    if old.exists():
        shutil.rmtree(old)
    if final.exists():
        os.replace(final, old)
    os.replace(work, final)
    if old.exists():
        shutil.rmtree(old)


def execute_stage(
    run: RunContext, stage: type[Stage], cli_inputs: dict[str, Path] | None = None
) -> int:
    """Run ``stage`` in ``run`` and return its exit code (0 OK, 1 WARNING, 2 INCOMPLETE, 3 ERROR).

    ``missing_artifact:`` / ``invalid_artifact:`` lines go to stderr as well as to the log.
    """
    cli_inputs = dict(cli_inputs or {})
    layout = run.layout
    key = stage.key()
    final = layout.stage_dir(stage.ID, stage.SLUG)
    work = final.with_name(f".{key}.partial")
    if work.exists():
        shutil.rmtree(work)
    (work / "logs").mkdir(parents=True)
    started_at, t0, start_ns = utc_now(), time.perf_counter(), time.time_ns()
    version = code_version()
    atomic_write_bytes(work / "cmd.txt", _rerun_command(run, stage, cli_inputs).encode())
    atomic_write_bytes(work / "meta_env.json", dumps_json(environment_info()).encode())

    ctx: StageContext | None = None
    input_problems: list[str] = []
    output_problems: list[str] = []
    crashed = False
    counts = Counts()
    resolved: list[ResolvedInput] = []
    fingerprint, parts = "", {}
    input_hashes: list[tuple[str, str, str]] = []
    timings: dict[str, float] = {}
    # Nothing in the .partial folder is visible yet: one sync before the swap, not 2 per file.
    with deferred_fsync():
        with capture_output(
            work / "logs" / "stdout.log", work / "logs" / "stderr.log"
        ) as terminal_fd:
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
            root_logger = logging.getLogger("holopipe")
            root_logger.addHandler(handler)
            root_logger.setLevel(logging.INFO)
            try:
                params = stage_params(stage, run.config)
                ctx = StageContext(run, stage.ID, key, work, params, Progress(key, terminal_fd))
                resolved, input_problems = resolve_stage_inputs(run, stage, cli_inputs)
                if not input_problems:
                    input_hashes = _input_hashes(run, resolved)
                    fingerprint, parts = stage_fingerprint(stage, params, run.seed, input_hashes)
                    loaded, input_problems, counts = _load_inputs(stage, resolved)
                    timings["inputs_s"] = time.perf_counter() - t0
                    if not input_problems:
                        t1 = time.perf_counter()
                        stage().run(ctx, StageInputs(loaded))
                        timings["run_s"] = time.perf_counter() - t1
                for line in input_problems:
                    print(line, file=sys.stderr)  # into logs/stderr.log
            except (Exception, SystemExit):  # noqa: BLE001 - any crash (sys.exit too) is ERROR, traceback in the log
                crashed = True
                traceback.print_exc()
            if ctx is None:  # the params themselves were invalid
                ctx = StageContext(run, stage.ID, key, work, None)
                ctx.errors.append("invalid stage parameters (see logs/stderr.log)")
            try:
                t2 = time.perf_counter()
                output_problems = _output_problems(stage, ctx, work)
                if not (
                    crashed or input_problems or ctx.incomplete_reason
                ):  # INCOMPLETE: no outputs expected
                    output_problems += _missing_outputs(stage, ctx)
                timings["outputs_s"] = time.perf_counter() - t2
                discipline = _discipline_findings(run, work, ctx, start_ns)
                if run.strict:  # strict mode fails the stage on them (ERROR), not just reports
                    output_problems += discipline
                else:
                    for message in discipline:
                        ctx.warn(message)
                for line in output_problems:
                    ctx.error(line)
                for line in input_problems:
                    ctx.errors.append(line)
            except Exception:  # noqa: BLE001 - a failing check is the stage's ERROR, never a lost summary
                crashed = True
                traceback.print_exc()
            finally:
                root_logger.removeHandler(handler)

        for line in input_problems:  # the gate's words, for the caller's terminal too
            print(line, file=sys.stderr)
        status = _status(ctx, crashed, input_problems, output_problems)
        if crashed:
            ctx.errors.append("uncaught exception: traceback in logs/stderr.log")
        timings["total_s"] = time.perf_counter() - t0
        finished_at = utc_now()
        summary = StageSummary(
            stage=key,
            experiment=layout.experiment,
            status=status,
            exit_code=EXIT_CODES[status],
            meta=SummaryMeta(
                version.git_sha, finished_at, version.holopipe_version, version.git_dirty, run.seed
            ),
            counts=attrs.evolve(counts, outputs_rows=ctx.rows),
            errors=ctx.errors,
            warnings=ctx.warnings,
            notes=ctx.notes,
            artifacts=_artifact_index(layout, final, work, ctx),
            systems=[SystemStatus(sid, s, e) for sid, (s, e) in sorted(ctx.systems.items())],
            timings={k: round(v, 6) for k, v in timings.items()},
            metrics=ctx.metrics,
            checks=ctx.checks,
        )
        summary.write(work / "stage_summary.json")
    _swap_into_place(work, final)

    outputs = [
        file_record(layout, alias, final / p.relative_to(work), schema)
        for alias, p, schema in ctx.outputs
    ]
    inputs = _input_records(layout, resolved, input_hashes)
    aliases = _publish_aliases(layout, stage, final) if status in ("OK", "WARNING") else {}
    record = StageRecord(
        stage=key,
        status=status,
        exit_code=EXIT_CODES[status],
        command=list(sys.argv),
        git_sha=version.git_sha,
        started_at=started_at,
        finished_at=finished_at,
        fingerprint=fingerprint,
        fingerprint_parts=parts,
        git_dirty=version.git_dirty,
        environment_sha256=environment_info()["packages_sha256"],
        duration_s=round(timings["total_s"], 6),
        inputs=inputs,
        outputs=outputs,
        lost_systems=len(ctx.lost),
    )
    run.manifest.update(record, aliases)
    return EXIT_CODES[status]


def _output_problems(stage: type[Stage], ctx: StageContext, work: Path) -> list[str]:
    """Every written output re-read from disk and validated (sidecars with their artifact)."""
    by_schema: dict[str, list[Path]] = {}
    for _, path, schema in ctx.outputs:
        by_schema.setdefault(schema, []).append(path)
    sidecars = {
        (p, schema) for schema, paths in by_schema.items() for p in sidecars_of(schema, paths)
    }
    problems = []
    for _, path, schema in ctx.outputs:
        if (path, schema) in sidecars:
            continue
        report = get_type(schema).validate_file(path)
        where = f"{work.name}/{path.relative_to(work)}"
        problems += [
            f"invalid output {where}: {line}" for line in report.lines() if ": error " in line
        ]
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
) -> list[str]:
    """The plan's discipline rules: no undeclared file in the stage dir, no write outside."""
    extra = undeclared_files(work, {path for _, path, _ in ctx.outputs})
    caches = [Path(p) for p in run.config.get("caches", [])]
    outside, complete = writes_outside(Path.cwd(), start_ns, [run.layout.runs_dir, *caches])
    return (
        [f"undeclared file in the stage dir: {e}" for e in extra]
        + [f"file written outside the run: {o}" for o in outside]
        + ([] if complete else ["outside-writes gate incomplete: watch tree too large"])
    )


def _input_records(
    layout: RunLayout, resolved: list[ResolvedInput], input_hashes: list[tuple[str, str, str]]
) -> list[FileRecord]:
    """Manifest entries of the inputs: run-relative for manifest inputs, absolute otherwise,
    with the sha256 already known (the producer's, or hashed for the fingerprint)."""
    known_sha = {rel: sha for _, rel, sha in input_hashes}
    records = []
    for item in resolved:
        for path in item.paths:
            inside = item.source == "manifest"
            recorded = layout.relative(path) if inside else str(Path(path).absolute())
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


def _publish_aliases(layout: RunLayout, stage: type[Stage], final: Path) -> dict[str, str]:
    """Point each declared output alias at the stage's folder for it."""
    aliases = {}
    for spec in stage.OUTPUTS:
        if (final / spec.alias).is_dir():
            make_alias(layout.root, spec.alias, final / spec.alias)
            aliases[spec.alias] = f"{stage.key()}/{spec.alias}"
    return aliases


def _artifact_index(
    layout: RunLayout, final: Path, work: Path, ctx: StageContext
) -> dict[str, str]:
    """alias -> its file (one file) or its folder (several), relative to the run root."""
    by_alias: dict[str, list[Path]] = {}
    for alias, path, _ in ctx.outputs:
        by_alias.setdefault(alias, []).append(final / path.relative_to(work))
    return {
        alias: layout.relative(paths[0] if len(paths) == 1 else final / alias)
        for alias, paths in sorted(by_alias.items())
    }
