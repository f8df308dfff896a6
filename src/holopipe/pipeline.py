"""The orchestrator: one entry point for every serious run (the plan's section 4).

:func:`run_pipeline` creates the run, resolves and freezes the config, then for each stage
in order: asserts the artifacts it needs, skips it when its fingerprint matches its last
successful run, otherwise runs it in its own (forked) process, reads its summary, stops on
INCOMPLETE or ERROR and goes on past WARNING. It holds the experiment lock throughout and
writes ``pipeline_summary.json`` at the end.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import stat
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

from holopipe.artifacts.io import loads_json
from holopipe.artifacts.records import (
    EXIT_CODES,
    FileRecord,
    PipelineSummary,
    StageOutcome,
    StageSummary,
    status_of,
)
from holopipe.artifacts.structure import converter
from holopipe.run.capture import PROGRESS_FD_ENV
from holopipe.run.config import (
    ConfigError,
    RunConfig,
    apply_overrides,
    freeze_config,
    load_config_file,
    structure_section,
)
from holopipe.run.context import RunContext
from holopipe.run.gates import check_inputs
from holopipe.run.layout import RunLayout
from holopipe.run.locking import ExperimentLock
from holopipe.run.provenance import code_version, environment_info, utc_now
from holopipe.stages.base import Stage
from holopipe.stages.registry import pipeline_stages
from holopipe.stages.runner import (
    _input_hashes,
    execute_stage,
    resolve_stage_inputs,
    stage_fingerprint,
    stage_params,
)

__all__ = [
    "DEFAULT_CONFIG",
    "StageState",
    "assert_artifacts",
    "resolve_config",
    "run_pipeline",
    "run_stage",
    "stage_classes",
    "stage_states",
]

#: Exit code of a stage process stopped by Ctrl-C (128 + SIGINT, the shell convention).
EXIT_INTERRUPTED = 130

#: The built-in config used when no ``--config`` is given (``holopipe run --experiment demo``).
DEFAULT_CONFIG: dict[str, Any] = {"seed": 20261128}


def resolve_config(
    config_path: Path | None = None,
    overrides: list[str] = (),
    seed: int | None = None,
    base: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], list[type[Stage]]]:
    """Read, override and structure a config; fill every stage's params with its defaults.

    The starting point is ``config_path``, else ``base`` (a run's frozen config), else the
    built-in :data:`DEFAULT_CONFIG`. Raises :class:`ConfigError` (or ``StageLoadError``)
    naming the bad key.
    """
    if config_path:
        raw, source = load_config_file(config_path), str(config_path)
    elif base is not None:
        raw = {k: v for k, v in base.items() if k != "overrides"}
        source = "the run's frozen config"
    else:
        raw, source = dict(DEFAULT_CONFIG), "built-in default config"
    overrides = list(overrides)
    if seed is not None:
        overrides.append(f"seed={seed}")
    raw = apply_overrides(raw, overrides)
    config = structure_section(RunConfig, raw, "", source)
    stages = pipeline_stages(config.pipeline, config.impl)
    known = {s.ID for s in stages}
    unknown = sorted(set(config.stages) - known)
    if unknown:
        raise ConfigError(
            f"invalid config {source}: stages.{unknown[0]}: no such stage "
            f"(known: {', '.join(sorted(known))})"
        )
    resolved = converter.unstructure(config)
    resolved["stages"] = {
        s.ID: converter.unstructure(
            structure_section(s.Params, config.stages.get(s.ID, {}), f"stages.{s.ID}", source)
        )
        for s in stages
    }
    resolved["overrides"] = overrides
    return resolved, stages


def _frozen_config(layout: RunLayout) -> dict[str, Any] | None:
    """The config frozen in an existing run, or ``None``."""
    if not layout.config_path.exists():
        return None
    return loads_json(layout.config_path.read_text(encoding="utf-8"))


def _frozen_or_new_config(
    layout: RunLayout, config_path: Path | None, overrides: list[str], seed: int | None, force: bool
) -> tuple[dict[str, Any], list[type[Stage]]]:
    """The run's config: the frozen one; ``--config``/``--set``/``--seed`` checked against it."""
    frozen = _frozen_config(layout)
    if frozen is not None and not (config_path or overrides or seed is not None):
        return frozen, pipeline_stages(frozen.get("pipeline", []), frozen.get("impl", {}))
    resolved, stages = resolve_config(config_path, overrides, seed, base=frozen)
    freeze_config(layout.config_path, resolved, force)
    return resolved, stages


def _select(stages: list[type[Stage]], first: str | None, last: str | None) -> list[type[Stage]]:
    ids = [s.ID for s in stages]
    for value, flag in ((first, "--from"), (last, "--to")):
        if value is not None and value not in ids:
            raise ConfigError(f"{flag} {value}: no such stage (stages: {', '.join(ids)})")
    return [
        s for s in stages if (first is None or s.ID >= first) and (last is None or s.ID <= last)
    ]


@attrs.frozen
class StageState:
    """Whether a stage's last run is still valid, and why not."""

    stage: str
    status: str
    duration_s: float
    up_to_date: bool
    reason: str


def _unchanged(path: str, entry: FileRecord) -> bool:
    """The file is still the one recorded: same size and modification time (make-style)."""
    try:
        st = os.stat(path)
    except OSError:
        return False
    return (
        stat.S_ISREG(st.st_mode)
        and st.st_size == entry.size
        and (not entry.mtime_ns or st.st_mtime_ns == entry.mtime_ns)
    )


def _state(run: RunContext, stage: type[Stage], cli_inputs: dict[str, Path]) -> StageState:
    manifest = run.manifest.load()
    record = manifest.stages.get(stage.key()) if manifest else None
    if record is None:
        return StageState(stage.key(), "NOT_RUN", 0.0, False, "never run")
    status, duration = record.status, record.duration_s
    if record.status not in ("OK", "WARNING"):
        return StageState(stage.key(), status, duration, False, f"last run ended {record.status}")
    if record.lost_systems:
        reason = f"{record.lost_systems} systems lost to the executor in the last run"
        return StageState(stage.key(), status, duration, False, reason)
    resolved, problems = resolve_stage_inputs(run, stage, cli_inputs)
    if problems:
        return StageState(stage.key(), status, duration, False, "inputs missing")
    _, parts = stage_fingerprint(
        stage, stage_params(stage, run.config), run.seed, _input_hashes(run, resolved)
    )
    changed = [name for name, value in parts.items() if record.fingerprint_parts.get(name) != value]
    if changed:
        return StageState(stage.key(), status, duration, False, f"{', '.join(changed)} changed")
    root = os.fspath(run.layout.root)
    for kind, entries in (("output", record.outputs), ("input", record.inputs)):
        for entry in entries:
            if not _unchanged(os.path.join(root, entry.path), entry):
                reason = f"{kind} {entry.path} missing or modified"
                return StageState(stage.key(), status, duration, False, reason)
    return StageState(stage.key(), status, duration, True, "up to date")


def stage_classes(layout: RunLayout) -> list[type[Stage]]:
    """The stages of an existing run (from its frozen config), or the default ones."""
    frozen = _frozen_config(layout) or {}
    return pipeline_stages(frozen.get("pipeline", []), frozen.get("impl", {}))


def assert_artifacts(runs_dir: Path, experiment: str, stage_id: str) -> list[str]:
    """``holopipe assert-artifacts``: what stage ``stage_id`` needs, fully checked.

    Returns one ``missing_artifact:`` / ``invalid_artifact:`` line per problem (existence,
    sha256 against the manifest, schema validation); empty when all is well.
    """
    layout = RunLayout.create(runs_dir, experiment)
    matches = [s for s in stage_classes(layout) if s.ID == stage_id]
    if not matches:
        raise ConfigError(f"no stage {stage_id} in experiment {experiment}")
    run = RunContext(layout, _frozen_config(layout) or {})
    needs = [(s.alias, s.schema, s.required) for s in matches[0].INPUTS]
    return check_inputs(layout, run.manifest.load(), needs, run.legacy_roots)


def stage_states(runs_dir: Path, experiment: str) -> list[StageState]:
    """``holopipe status``: every stage of the run with its status and freshness."""
    layout = RunLayout.create(runs_dir, experiment)
    if not layout.config_path.exists():
        raise ConfigError(f"no run {experiment!r} under {runs_dir} (no {layout.config_path.name})")
    config, stages = _frozen_or_new_config(layout, None, [], None, False)
    run = RunContext(layout, config)
    return [_state(run, s, {}) for s in stages]


def _die_with_parent() -> None:
    # Linux: a stage process must not outlive a SIGKILLed orchestrator (it would hold
    # files open and race the next run). prctl(PR_SET_PDEATHSIG, SIGKILL).
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


def _stage_child(
    run: RunContext,
    stage: type[Stage],
    cli_inputs: dict[str, Path],
    lock_fd: int | None,
    progress_fd: int,
    argv: list[str],
) -> None:
    _die_with_parent()
    if lock_fd is not None:
        os.close(lock_fd)  # only the orchestrator holds the experiment lock
    os.environ[PROGRESS_FD_ENV] = str(progress_fd)
    sys.argv = argv
    code = EXIT_CODES["ERROR"]
    try:
        code = execute_stage(run, stage, cli_inputs)
    except KeyboardInterrupt:  # Ctrl-C: the orchestrator reports it; the next run resumes
        code = EXIT_INTERRUPTED
    except BaseException:  # noqa: BLE001 - whatever escapes, the exit code must say ERROR
        traceback.print_exc()
    finally:
        os._exit(code)


def _run_in_child(
    run: RunContext,
    stage: type[Stage],
    cli_inputs: dict[str, Path],
    lock_fd: int | None,
    on_progress: Callable[[str], None],
) -> int:
    """Fork a process for the stage: its own fds and state, no interpreter start-up cost."""
    (
        code_version(),
        environment_info(),
    )  # computed once, before the first fork: inherited by every stage
    read_fd, write_fd = os.pipe()
    argv = [sys.argv[0], "stage", stage.ID, "--experiment", run.layout.experiment]
    context = multiprocessing.get_context("fork")
    child = context.Process(
        target=_stage_child, args=(run, stage, cli_inputs, lock_fd, write_fd, argv)
    )
    child.start()
    os.close(write_fd)

    def pump() -> None:
        with os.fdopen(read_fd, "r") as pipe:
            for line in pipe:
                on_progress(line.strip())

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    child.join()
    reader.join(timeout=1)
    if child.exitcode is None or child.exitcode < 0:
        return EXIT_CODES["ERROR"]
    return child.exitcode


def _completed(layout: RunLayout, stage: type[Stage]) -> bool:
    """Whether the stage's run left its summary: the work dir was swapped into place (only
    done after ``stage_summary.json`` is written) and the summary is there."""
    final = layout.stage_dir(stage.ID, stage.SLUG)
    return (
        not final.with_name(f".{final.name}.partial").exists()
        and (final / "stage_summary.json").is_file()
    )


def _reasons(layout: RunLayout, stage: type[Stage], most: int = 3) -> list[str]:
    """The first errors and warnings of a stage's summary, for the terminal."""
    path = layout.stage_dir(stage.ID, stage.SLUG) / "stage_summary.json"
    report, summary = StageSummary._read_with_report(path)
    if summary is None:
        return [f"(cannot read {path}: {'; '.join(report.lines()[:1])})"]
    lines = [f"error: {e}" for e in summary.errors] + [f"warning: {w}" for w in summary.warnings]
    more = f"... {len(lines) - most} more in {path}" if len(lines) > most else None
    return lines[:most] + ([more] if more else [])


def run_stage(
    runs_dir: Path,
    experiment: str,
    stage_id: str,
    config_path: Path | None = None,
    overrides: list[str] = (),
    seed: int | None = None,
    cli_inputs: dict[str, Path] | None = None,
    jobs: int = 1,
    force: bool = False,
    executor: str | None = None,
) -> int:
    """``holopipe stage NN``: run one stage in this process (under the experiment lock)."""
    layout = RunLayout.create(runs_dir, experiment)
    with ExperimentLock(layout.lock_path, experiment):
        config, stages = _frozen_or_new_config(layout, config_path, list(overrides), seed, force)
        matches = [s for s in stages if s.ID == stage_id]
        if not matches:
            raise ConfigError(f"no stage {stage_id} (stages: {', '.join(s.ID for s in stages)})")
        run = RunContext(layout, config, jobs, executor)
        run.executor  # noqa: B018 - a bad executor setting is refused before anything runs
        return execute_stage(run, matches[0], cli_inputs)


def run_pipeline(
    runs_dir: Path,
    experiment: str,
    config_path: Path | None = None,
    overrides: list[str] = (),
    seed: int | None = None,
    first: str | None = None,
    last: str | None = None,
    force: bool = False,
    jobs: int = 1,
    cli_inputs: dict[str, Path] | None = None,
    echo: Callable[[str], None] = print,
    on_progress: Callable[[str], None] = lambda line: None,
    executor: str | None = None,
) -> int:
    """Run stages ``first``..``last`` of an experiment; returns the worst exit code."""
    cli_inputs = dict(cli_inputs or {})
    layout = RunLayout.create(runs_dir, experiment)
    started_at = utc_now()
    with ExperimentLock(layout.lock_path, experiment) as lock:
        config, stages = _frozen_or_new_config(layout, config_path, list(overrides), seed, force)
        selected = _select(stages, first, last)
        run = RunContext(layout, config, jobs, executor)
        run.executor  # noqa: B018 - a bad executor setting is refused before anything runs
        outcomes: list[StageOutcome] = []
        worst = 0
        for index, stage in enumerate(selected):
            key = stage.key()
            # Up to date (fingerprint, and outputs unchanged by size and mtime): nothing runs,
            # so its inputs need no gate; a stage about to run gets the full gate.
            state = _state(run, stage, cli_inputs)
            if state.up_to_date:
                echo(f"{key}: up to date ({state.status}), skipped")
                outcomes.append(
                    StageOutcome(key, "SKIPPED", 0, "up_to_date", reason="fingerprint unchanged")
                )
                continue
            given = {s.alias for s in stage.INPUTS if s.alias in cli_inputs}
            needs = [(s.alias, s.schema, s.required) for s in stage.INPUTS if s.alias not in given]
            problems = check_inputs(
                layout, run.manifest.load(), needs, run.legacy_roots, revalidate=False
            )
            if problems:
                for line in problems:
                    print(line, file=sys.stderr)
                echo(f"{key}: INCOMPLETE (gate: {len(problems)} missing or invalid artifacts)")
                outcomes.append(
                    StageOutcome(key, "INCOMPLETE", 2, "gate_failed", reason=problems[0])
                )
                worst = 2
                break
            echo(f"{key}: running ({state.reason})")
            t0 = time.perf_counter()
            code = _run_in_child(run, stage, cli_inputs, lock.fd, on_progress)
            if code == EXIT_INTERRUPTED:
                raise KeyboardInterrupt
            if not _completed(layout, stage):  # no stage_summary.json: the stage failed
                print(
                    f"{key}: the stage process ended (exit {code}) "
                    "without writing its stage_summary.json",
                    file=sys.stderr,
                )
                code = EXIT_CODES["ERROR"]
            status = status_of(code)
            duration = time.perf_counter() - t0
            echo(f"{key}: {status} in {duration:.2f} s")
            if code:
                for line in _reasons(layout, stage):
                    echo(f"    {line}")
            outcomes.append(StageOutcome(key, status, code, "ran", round(duration, 6)))
            worst = max(worst, code)
            if code >= 2:
                outcomes += [
                    StageOutcome(s.key(), "NOT_RUN", 0, "not_reached")
                    for s in selected[index + 1 :]
                ]
                break
        summary = PipelineSummary(
            experiment, worst, started_at, utc_now(), list(sys.argv), outcomes
        )
        summary.write(layout.pipeline_summary_path)
        _close_with_report(run, stages, outcomes, echo)
    verdict = status_of(worst)
    echo(f"{experiment}: {verdict} (exit {worst}); {layout.pipeline_summary_path}")
    return worst


def _close_with_report(
    run: RunContext,
    stages: list[type[Stage]],
    outcomes: list[StageOutcome],
    echo: Callable[[str], None],
) -> None:
    """The closing lines: failed checks per stage and group, then ``report.html``."""
    from holopipe.report import write_report

    for outcome in outcomes:
        if outcome.action == "ran":
            path = run.layout.root / outcome.stage / "stage_summary.json"
            _, stage_summary = StageSummary.read_with_report(path)
            line = stage_summary.failed_checks_line() if stage_summary else None
            if line:
                echo(line)
    try:
        report, left_out = write_report(run.layout, stages, [_state(run, s, {}) for s in stages])
    except Exception as exc:  # noqa: BLE001 - the run's results stand; the report is a view
        if os.environ.get("HOLOPIPE_DEBUG"):
            raise
        again = f"holopipe report -e {run.layout.experiment}"
        echo(f"report: not written ({type(exc).__name__}: {exc}); try {again}")
        return
    echo(f"report: {report}")
    for line in left_out:
        echo(f"report: left out {line}")
