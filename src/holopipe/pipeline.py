"""The orchestrator: one entry point for every serious run (the plan's section 4).

:func:`run_pipeline` creates the run, resolves and freezes the config, then for each stage
in order: asserts the artifacts it needs, skips it when its fingerprint matches its last
successful run, otherwise runs it in its own (forked) process, reads its summary, stops on
INCOMPLETE or ERROR and goes on past WARNING. It holds the experiment lock throughout and
writes ``pipeline_summary.json`` at the end.
"""

from __future__ import annotations

import gc
import os
import shutil
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from holopipe.artifacts.exit_codes import ExitCode
from holopipe.artifacts.records import (
    FileRecord,
    PipelineSummary,
    StageOutcome,
    StageRecord,
    StageSummary,
)
from holopipe.artifacts.structure import converter
from holopipe.run.capture import PROGRESS_FD_ENV
from holopipe.run.config import (
    CONFIG_FILE_KEY,
    ConfigError,
    RunConfig,
    apply_overrides,
    config_diff,
    config_file_record,
    freeze_config,
    load_config_file,
    lost_config_error,
    read_frozen_config,
    structure_section,
)
from holopipe.run.context import RunContext
from holopipe.run.folder_scan import EarlyScan, folder_signatures
from holopipe.run.forked import die_with_parent, read_frame, send_frame
from holopipe.run.gates import (
    check_inputs,
    check_resolved,
    gate_verdict,
    same_content,
    summary_problem,
)
from holopipe.run.layout import RunLayout, publish_problem
from holopipe.run.locking import ExperimentLock
from holopipe.run.manifest import ManifestIndex, ManifestStore, hand_over, rebuild_records
from holopipe.run.provenance import (
    code_version,
    environment_info,
    stage_code_info,
    typed_argv,
    utc_now,
)
from holopipe.run.publish import broken_aliases, failed_attempt_dir, repair_aliases
from holopipe.run.request import RunRequest
from holopipe.run.resolution import InputError, check_input_aliases
from holopipe.run.stage_digest import StageDigest, rows_digest, summary_unchanged
from holopipe.run.storage import EXIT_STORAGE_REFUSED, StorageError
from holopipe.run.trash import TrashCollector
from holopipe.stages.base import Stage
from holopipe.stages.registry import pipeline_stages
from holopipe.stages.runner import (
    StageExecution,
    resolve_stage_inputs,
    stage_fingerprint,
    stage_params,
)

if TYPE_CHECKING:
    from holopipe.report.worker import ReportWorker
    from holopipe.run.dask_cluster import RunCluster

__all__ = [
    "DEFAULT_CONFIG",
    "RunRequest",
    "StagePlan",
    "StageState",
    "assert_artifacts",
    "check_run",
    "plan_run",
    "resolve_config",
    "run_pipeline",
    "repair_manifest",
    "run_stage",
    "stage_classes",
    "stage_states",
]


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
        raw = {k: v for k, v in base.items() if k not in ("overrides", CONFIG_FILE_KEY)}
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
    if config_path:  # which file it came from (a record, not a setting: never compared)
        resolved[CONFIG_FILE_KEY] = config_file_record(config_path)
    elif base is not None and CONFIG_FILE_KEY in base:
        resolved[CONFIG_FILE_KEY] = base[CONFIG_FILE_KEY]
    return resolved, stages


def _frozen_config(layout: RunLayout) -> dict[str, Any] | None:
    """The config frozen in an existing run, or ``None``."""
    return read_frozen_config(layout.config_path)


def _refuse_a_lost_config(
    layout: RunLayout, frozen: dict[str, Any] | None, config_path: Path | None
) -> None:
    """A run that has stages but lost its frozen config needs ``--config`` (never the default)."""
    if frozen is None and config_path is None and layout.has_runs():
        raise lost_config_error(layout.config_path, layout.numbered_configs())


def _changes_config(request: RunRequest) -> bool:
    """Whether the request gives a config of its own (``--config``, ``--set`` or ``--seed``)."""
    return bool(request.config_path or request.overrides or request.seed is not None)


def _frozen_or_new_config(
    layout: RunLayout,
    request: RunRequest,
    check: Callable[[list[type[Stage]]], Any] = lambda stages: None,
) -> tuple[dict[str, Any], list[type[Stage]]]:
    """The run's config: the frozen one; ``--config``/``--set``/``--seed`` checked against it.

    ``check(stages)`` runs before anything is frozen (it raises to refuse the command).
    """
    config_path = request.config_path
    try:
        frozen = _frozen_config(layout)
    except ConfigError:
        if not (config_path and request.force):
            raise
        frozen = None  # corrupt, replaced by the given config (kept numbered)
    _refuse_a_lost_config(layout, frozen, config_path)
    if frozen is not None and not _changes_config(request):
        stages = pipeline_stages(frozen.get("pipeline", []), frozen.get("impl", {}))
        check(stages)
        return frozen, stages
    resolved, stages = resolve_config(
        config_path, list(request.overrides), request.seed, base=frozen
    )
    check(stages)
    freeze_config(layout.config_path, resolved, request.force)
    return resolved, stages


def _select(stages: list[type[Stage]], first: str | None, last: str | None) -> list[type[Stage]]:
    """The stages from ``first`` to ``last``; an unknown id or an empty range is refused."""
    ids = [s.ID for s in stages]
    for value, flag in ((first, "--from"), (last, "--to")):
        if value is not None and value not in ids:
            raise ConfigError(f"{flag} {value}: no such stage (stages: {', '.join(ids)})")
    selected = [
        s for s in stages if (first is None or s.ID >= first) and (last is None or s.ID <= last)
    ]
    if not selected:
        raise ConfigError(
            f"--from {first} --to {last}: an empty range, no stage to run "
            f"(stages in order: {', '.join(ids)})"
        )
    return selected


@attrs.frozen
class StageState:
    """Whether a stage's last run is still valid, and why not."""

    stage: str
    status: str
    duration_s: float
    up_to_date: bool
    reason: str


def _failed_attempt(layout: RunLayout, key: str) -> str | None:
    """The status of the stage's last attempt when it failed (its ``.failed`` folder exists:
    a successful run removes it), else ``None``."""
    folder = failed_attempt_dir(layout, key)
    if not folder.is_dir():
        return None
    _, summary = StageSummary.read_with_report(folder / "stage_summary.json")
    return summary.status if summary is not None else "ERROR"


@attrs.define
class _Checked:
    """What this command already found unchanged: file entries (:func:`_entry_key`) and
    the stat signatures of folders (:func:`~holopipe.run.folder_scan.folder_signature`).
    A stage's input is its producer's output: checked once, not twice."""

    entries: set[tuple] = attrs.field(factory=set)
    folders: dict[str, tuple[int, str] | None] = attrs.field(factory=dict)
    #: The stages this command goes on to assess: their recorded folders are scanned
    #: together with the first one asked (in two processes when they are many).
    ahead: frozenset[str] = frozenset()
    #: The scan the command started before it took the lock, if any: what it found of a
    #: folder nothing can have changed since is taken instead of scanning it again.
    early: EarlyScan | None = None

    def scan(self, root: str, index: ManifestIndex, key: str) -> None:
        """Scan the recorded folders of stage ``key``'s digest, and those of the stages
        ahead, that are not scanned yet."""
        wanted: dict[str, int] = {}
        for stage in (key, *sorted(self.ahead)):
            digest = index.digests.get(stage)
            for folder, (count, _) in digest.folders.items() if digest is not None else ():
                if folder not in self.folders:
                    wanted[folder] = count
        if wanted:
            paths = {os.path.join(root, f): n for f, n in wanted.items()}
            found = self.early.take(list(paths)) if self.early is not None else {}
            found.update(folder_signatures({p: n for p, n in paths.items() if p not in found}))
            self.folders.update({f: found[os.path.join(root, f)] for f in wanted})

    def forget_folders(self) -> None:
        """A stage ran: the folders it rewrote are scanned again when asked (the early
        scan saw them before)."""
        self.folders.clear()
        self.early = None


def _assess(execution: StageExecution, verified: _Checked | None = None) -> StageState:
    """Up to date or why not: the one decision ``run`` and ``status`` share. Resolves and
    fingerprints the execution's inputs (once) on the way, unless the stage's digest in
    the manifest index already shows it up to date (:func:`_up_to_date_by_digest`).

    ``verified`` holds what this command already found unchanged (:class:`_Checked`);
    what this assessment finds unchanged is added to it.
    """
    verified = _Checked() if verified is None else verified
    by_digest = _state_by_digest(execution, verified)
    if by_digest is not None:
        return by_digest
    run, key = execution.run, execution.key
    manifest = run.manifest.load_for(key, [s.alias for s in execution.stage.INPUTS])
    record = manifest.stages.get(key) if manifest else None
    failed = _failed_attempt(run.layout, key)
    if record is None:
        if failed:
            kept = f"{failed_attempt_dir(run.layout, key).name}/"
            return StageState(key, failed, 0.0, False, f"last run ended {failed}, kept in {kept}")
        return StageState(key, "NOT_RUN", 0.0, False, "never run")
    status, duration = record.status, record.duration_s
    unpublished = publish_problem(
        run.layout.root,
        record.stage,
        record.summary_sha256,
        (record.finished_at, record.duration_s),
    )
    if unpublished is not None:
        return StageState(key, status, duration, False, unpublished)
    if failed:
        kept = f"{failed_attempt_dir(run.layout, key).name}/"
        reason = f"last run ended {failed}, kept in {kept}; published: its last {status} run"
        return StageState(key, failed, duration, False, reason)
    if record.status not in ("OK", "WARNING"):
        return StageState(key, status, duration, False, f"last run ended {record.status}")
    if record.lost_systems:
        reason = f"{record.lost_systems} systems lost to the executor in the last run"
        return StageState(key, status, duration, False, reason)
    broken = summary_problem(run.layout, record)
    if broken is not None:
        return StageState(key, "FAILED", duration, False, f"failed: {broken}")
    aliases = broken_aliases(run.layout, manifest.aliases, key)
    if aliases:
        reason = f"alias {aliases[0]}/ deleted or retargeted (holopipe run repairs it)"
        return StageState(key, status, duration, False, reason)
    if execution.resolve():
        return StageState(key, status, duration, False, "inputs missing")
    parts = execution.fingerprint_parts
    changed = [name for name, value in parts.items() if record.fingerprint_parts.get(name) != value]
    if not record.fingerprint:
        return StageState(key, status, duration, False, "no fingerprint (manifest rebuilt)")
    if changed:
        return StageState(key, status, duration, False, f"{', '.join(changed)} changed")
    changed = _changed_file(run.layout, record, verified.entries)
    if changed is not None:
        return StageState(key, status, duration, False, f"{changed} missing or modified")
    return StageState(key, status, duration, True, "up to date")


def _up_to_date_by_digest(
    execution: StageExecution, checked: _Checked, usable: tuple[ManifestIndex, StageDigest]
) -> StageDigest | None:
    """The stage's digest (:mod:`holopipe.run.stage_digest`) when it shows the stage up to
    date as its manifest record would, without reading any record: the same fingerprint
    (code, params, and each input alias holding the rows its producer's record lists
    now) and every recorded file's folder with the recorded stat signatures. ``None``
    means "ask the record" (:func:`_assess` goes on), never "stale"."""
    run, stage, key = execution.run, execution.stage, execution.key
    index, digest = usable
    layout = run.layout
    declared = {spec.alias for spec in stage.INPUTS}
    if not digest.inputs.keys() <= declared:
        return None
    for spec in stage.INPUTS:
        target = index.aliases.get(spec.alias)
        if target is None:  # unresolved: fine only for an optional input unread last time
            if spec.required or run.legacy_roots or spec.alias in digest.inputs:
                return None
            continue
        producer = index.digests.get(target.split("/", 1)[0])
        made = producer.outputs.get(spec.alias) if producer is not None else None
        # The rows this stage read were taken with the sidecars left out: equal to all the
        # producer's rows of the alias, there are none among these paths to leave out.
        if made is None or made[0] != spec.schema or digest.inputs.get(spec.alias) != made[1]:
            return None
    params = stage_params(stage, run.config)
    _, parts = stage_fingerprint(stage, params, run.seed, [], run.strict)
    if (parts["code"], parts["params"]) != (digest.code, digest.params):
        return None
    checked.scan(os.fspath(layout.root), index, key)
    for folder, recorded in digest.folders.items():
        if checked.folders[folder] != tuple(recorded):
            return None
    return digest


def _state_by_digest(execution: StageExecution, verified: _Checked) -> StageState | None:
    """The state the stage's digest alone shows (up to date, or stale and why), or ``None``
    when only its record can tell."""
    usable = _usable_digest(execution)  # checked once for both questions
    if usable is None:
        return None
    digest = _up_to_date_by_digest(execution, verified, usable)
    if digest is not None:
        return StageState(execution.key, digest.status, digest.duration_s, True, "up to date")
    return _stale_by_digest(execution, usable[1])


def _usable_digest(execution: StageExecution) -> tuple[ManifestIndex, StageDigest] | None:
    """The index and the stage's digest when the digest stands for its record as the
    record's own checks would (a successful run, no systems lost, no failed attempt since,
    its summary the one checked when the digest was made, its aliases intact), else
    ``None``. An ``--input`` given on the command line is the record's to judge."""
    run, key = execution.run, execution.key
    if execution.cli_inputs:
        return None
    index = run.manifest.index()
    digest = index.digests.get(key) if index is not None else None
    if digest is None or digest.status not in ("OK", "WARNING") or digest.lost_systems:
        return None
    layout = run.layout
    if failed_attempt_dir(layout, key).is_dir() or not summary_unchanged(layout, key, digest):
        return None
    if broken_aliases(layout, index.aliases, key):
        return None
    return index, digest


def _stale_by_digest(execution: StageExecution, digest: StageDigest) -> StageState | None:
    """The stale state :func:`_assess` would find in the stage's record when its digest
    already shows the fingerprint changed (code, params, or the rows of an input alias):
    the same state and reason without reading the record (~0.1 s a record of 10 000
    systems, for every stage a change reruns); ``digest`` is :func:`_usable_digest`'s.
    ``None`` means "ask the record": inputs missing, or the same fingerprint (then the
    files decide)."""
    if execution.resolve():
        return None
    parts = execution.fingerprint_parts
    if parts.keys() != {"code", "params", "inputs"}:
        return None
    by_alias: dict[str, list[tuple[str, str, str]]] = {}
    for row in execution.hashes:
        by_alias.setdefault(row[0], []).append(row)
    # The digest's rows per alias are those its record's "inputs" part was taken of
    # (checked when the digest was made): the same rows per alias, the same part.
    inputs = {alias: rows_digest(rows) for alias, rows in by_alias.items()}
    recorded = {"code": digest.code, "params": digest.params}
    changed = [
        name
        for name, value in parts.items()
        if (inputs != digest.inputs if name == "inputs" else recorded[name] != value)
    ]
    if not changed:
        return None
    reason = f"{', '.join(changed)} changed"
    return StageState(execution.key, digest.status, digest.duration_s, False, reason)


def _changed_file(layout: RunLayout, record: StageRecord, verified: set[tuple]) -> str | None:
    """``"output PATH"`` or ``"input PATH"``: the first recorded file that no longer holds
    its recorded bytes, or ``None``; the entries of a record found unchanged join
    ``verified`` (and those already in it are not checked again)."""
    root = os.fspath(layout.root)
    found = []
    for kind, entries in (("output", record.outputs), ("input", record.inputs)):
        for entry in entries:
            entry_key = _entry_key(entry)
            if entry_key in verified:
                continue
            if not _unchanged(os.path.join(root, entry.path), entry):
                return f"{kind} {entry.path}"
            found.append(entry_key)
    verified.update(found)  # only a stage found up to date vouches for its files
    return None


def _entry_key(entry: FileRecord) -> tuple:
    """What makes two manifest entries the same file with the same content: the run-relative
    path, sha256 and stat signature (an input entry repeats its producer's output entry)."""
    return (entry.path, entry.sha256, entry.size, entry.mtime_ns, entry.ctime_ns, entry.inode)


def _legacy_gate(roots: tuple[Path, ...]) -> Callable[[str, Path], list[str]] | None:
    """The gate's check of legacy-resolved files; a run without legacy roots has none (and
    does not import the legacy package: start-up time)."""
    if not roots:
        return None
    from holopipe.legacy.resolver import legacy_gate

    return legacy_gate(roots)


def _unchanged(path: str, entry: FileRecord) -> bool:
    try:
        return same_content(path, entry)
    except OSError:
        return False


def _state(
    run: RunContext,
    stage: type[Stage],
    cli_inputs: dict[str, Path],
    verified: _Checked | None = None,
) -> StageState:
    return _assess(StageExecution(run, stage, cli_inputs), verified)


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
    # resolved as the stage resolves them: its producers' records, not every record
    resolved, problems = resolve_stage_inputs(run, matches[0], {})
    return problems + check_resolved(layout, resolved, legacy_check=_legacy_gate(run.legacy_roots))


def check_run(runs_dir: Path, experiment: str) -> tuple[list[str], int]:
    """``holopipe check-run`` (the legacy ``00_validate_io_contracts``): the IO contracts of
    a whole run. Every stage's declared inputs and outputs: present, with the recorded
    sha256, valid for their schema, from a producer that ended OK or WARNING.

    Returns the problem lines and the number of files checked; a run with no recorded
    output raises :class:`ConfigError` (nothing checked is not a pass).
    """
    layout = RunLayout.create(runs_dir, experiment)
    if not layout.config_path.exists() and not layout.has_runs():
        raise ConfigError(f"no run {experiment!r} under {runs_dir} (no {layout.config_path.name})")
    stages = stage_classes(layout)
    run = RunContext(layout, _frozen_config(layout) or {})
    manifest = run.manifest.load()
    recorded = [manifest.stages[s.key()] for s in stages if manifest and s.key() in manifest.stages]
    checked = sum(len(record.outputs) for record in recorded)
    if not checked:
        raise ConfigError(f"run {experiment!r} has no recorded output: nothing to check")
    problems: list[str] = []
    for stage in stages:
        ran = manifest is not None and stage.key() in manifest.stages
        needs = [(s.alias, s.schema, s.required) for s in stage.INPUTS]
        needs += [(o.alias, o.schema, o.required) for o in stage.OUTPUTS] if ran else []
        for line in check_inputs(layout, manifest, needs, run.legacy_roots):
            if line not in problems:
                problems.append(line)
    return problems, checked


def repair_manifest(runs_dir: Path, experiment: str) -> list[str]:
    """``holopipe repair-manifest``: rebuild ``run_manifest.json`` from the stage folders.

    For a manifest that is unreadable or breaks its rules (see
    :func:`holopipe.run.manifest.rebuild_records`); returns one line per stage recorded or
    skipped. The rebuilt records have no fingerprint, so the next run reruns each once.
    """
    layout = RunLayout.create(runs_dir, experiment)
    if not layout.root.is_dir():
        raise ConfigError(f"no run {experiment!r} under {runs_dir}")
    with ExperimentLock.of_run(layout):
        stages = stage_classes(layout)
        outputs = {s.key(): [(o.alias, o.schema) for o in s.OUTPUTS] for s in stages}
        records, aliases, skipped = rebuild_records(layout, outputs)
        kept = ManifestStore(layout).replace(records, aliases)
    lines = [f"{r.stage}: {r.status}, {len(r.outputs)} outputs recorded" for r in records]
    if kept is not None:
        lines.append(f"the previous manifest is kept as {kept}")
    return lines + skipped


def stage_states(runs_dir: Path, experiment: str) -> list[StageState]:
    """``holopipe status``: every stage of the run with its status and freshness."""
    layout = RunLayout.create(runs_dir, experiment)
    if not layout.config_path.exists() and not layout.has_runs():
        raise ConfigError(f"no run {experiment!r} under {runs_dir} (no {layout.config_path.name})")
    config, stages = _frozen_or_new_config(layout, RunRequest(runs_dir, experiment))
    run = RunContext(layout, config)
    verified = _Checked(ahead=frozenset(s.key() for s in stages))
    return [_state(run, s, {}, verified) for s in stages]


def _stage_child(
    execution: StageExecution,
    lock_fd: int | None,
    progress_fd: int,
    handover_fd: int,
    argv: list[str],
) -> None:
    die_with_parent()
    # What the orchestrator built (manifest records, plans, configs) is alive in it: frozen
    # here, no collection of the stage process traverses those objects (nor copies the
    # memory pages they sit on); what the stage allocates is collected as usual.
    gc.freeze()
    if lock_fd is not None:
        os.close(lock_fd)  # only the orchestrator holds the experiment lock
    os.environ[PROGRESS_FD_ENV] = str(progress_fd)
    sys.argv = argv
    code = ExitCode.ERROR
    packed = b""  # nothing published: an empty hand-over (no wait for the pipe's end)
    try:
        code = execution.execute()
        if execution.published is not None:
            packed = hand_over(*execution.published)
    except StorageError as exc:  # said here; the orchestrator reports the stage INCOMPLETE
        print(f"holopipe: {exc}", file=sys.stderr)
        code = EXIT_STORAGE_REFUSED
    except KeyboardInterrupt:  # Ctrl-C: the orchestrator reports it; the next run resumes
        code = ExitCode.INTERRUPTED
    except (ConfigError, InputError) as exc:  # bad input found in the stage process
        print(f"holopipe: {exc}", file=sys.stderr)
        code = ExitCode.INCOMPLETE
    except BaseException:  # noqa: BLE001 - whatever escapes, the exit code must say ERROR
        traceback.print_exc()
    finally:
        _send_handover(handover_fd, packed)
        os._exit(code)


def _send_handover(fd: int, packed: bytes) -> None:
    """``packed`` as one frame through the hand-over pipe (see :class:`_Handover`); an
    orchestrator no longer reading it misses nothing it needs (it reads the record)."""
    with suppress(OSError):
        try:
            send_frame(fd, packed)
        finally:
            os.close(fd)


@attrs.define
class _Handover:
    """What a stage process sends its orchestrator when it has published: its record as it
    wrote it (:func:`~holopipe.run.manifest.hand_over`), read here as it arrives (it is
    larger than a pipe holds). A message cut short (the stage process died while sending)
    is none; its length comes first, so a worker the stage forked that still holds the
    pipe open delays nothing."""

    read_fd: int
    packed: bytes | None = None

    def receive(self) -> None:
        try:
            packed = read_frame(self.read_fd)
        finally:
            os.close(self.read_fd)
        if packed:  # empty: nothing published; None: cut short
            self.packed = packed


def _run_in_child(
    execution: StageExecution, lock_fd: int | None, on_progress: Callable[[str], None]
) -> int:
    """Fork a process for the stage: its own fds and state, no interpreter start-up cost.
    The execution arrives resolved and fingerprinted (inherited, not recomputed)."""
    code_version()  # computed once, before the first fork: inherited by every stage
    environment_info()
    typed_argv()  # the user's command line, before the child replaces sys.argv
    stage = execution.stage
    stage_code_info(stage.__module__)  # once per module (0.2 s), not in every stage process
    read_fd, write_fd = os.pipe()
    handover_read, handover_write = os.pipe()
    argv = [sys.argv[0], "stage", stage.ID, "--experiment", execution.run.layout.experiment]
    import multiprocessing

    context = multiprocessing.get_context("fork")
    child = context.Process(
        target=_stage_child, args=(execution, lock_fd, write_fd, handover_write, argv)
    )
    child.start()
    os.close(write_fd)
    os.close(handover_write)
    handover = _Handover(handover_read)
    receiver = threading.Thread(target=handover.receive, daemon=True)
    receiver.start()

    def pump() -> None:
        with os.fdopen(read_fd, "r") as pipe:
            for line in pipe:
                on_progress(line.strip())

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    child.join()
    reader.join(timeout=1)
    receiver.join(timeout=1)
    if handover.packed is not None and not receiver.is_alive():
        execution.run.manifest.take_over(execution.key, handover.packed)
    if child.exitcode is None:
        return ExitCode.ERROR
    if child.exitcode == EXIT_STORAGE_REFUSED:  # not an exit code of holopipe's: see execute
        return EXIT_STORAGE_REFUSED
    return ExitCode.from_code(child.exitcode)  # killed by a signal (< 0): ERROR


def _summary_path(execution: StageExecution, code: ExitCode) -> Path:
    """Where the stage process that ended with ``code`` left its summary."""
    folder = execution.final if code.published else execution.failed
    return folder / "stage_summary.json"


def _completed(execution: StageExecution, code: ExitCode, since_ns: int) -> bool:
    """Whether the stage process left the summary of this run (written after ``since_ns``),
    or refused its inputs (exit 2, nothing written: it said why on stderr)."""
    try:
        return os.stat(_summary_path(execution, code)).st_mtime_ns >= since_ns
    except OSError:
        return code is ExitCode.INCOMPLETE


def _reasons(path: Path, most: int = 3) -> list[str]:
    """The first errors and warnings of a stage's summary, for the terminal."""
    if not path.exists():
        return []
    report, summary = StageSummary.read_with_report(path)
    if summary is None:
        return [f"(cannot read {path}: {'; '.join(report.lines()[:1])})"]
    lines = [f"error: {e}" for e in summary.errors] + [f"warning: {w}" for w in summary.warnings]
    more = f"... {len(lines) - most} more in {path}" if len(lines) > most else None
    return lines[:most] + ([more] if more else [])


#: What a command writes into an experiment folder before any stage has run.
_BOOKKEEPING_ONLY = frozenset(
    {
        "config.resolved.json",
        ".lock",
        "pipeline_summary.json",
        "run_manifest.json.lock",
        "report.html",
    }
)


@contextmanager
def _no_trace_if_refused(layout: RunLayout) -> Iterator[None]:
    """A command that created the experiment folder and ran no stage in it (refused inputs,
    a failed gate, a bad option) removes it again: ``holopipe stage 06 -e fresh`` with
    nothing upstream leaves no half-made ``fresh/``. A folder holding a stage's folder or
    its failed attempt is kept."""
    created = [p for p in (layout.runs_dir, layout.root) if not p.exists()]
    try:
        yield
    finally:
        root = layout.root
        if created and root.is_dir() and {p.name for p in root.iterdir()} <= _BOOKKEEPING_ONLY:
            shutil.rmtree(root)
            if created[0] != root and not any(created[0].iterdir()):
                created[0].rmdir()


def run_stage(request: RunRequest, stage_id: str) -> int:
    """``holopipe stage NN``: run one stage in this process (under the experiment lock).

    Missing or invalid inputs: exit 2, nothing written (a new experiment folder is removed
    again). An ``--input`` alias the stage does not declare raises ``InputError``. The
    request's ``first``/``last`` do not apply (one stage runs, up to date or not).
    """
    if request.first is not None or request.last is not None:
        raise ValueError("run_stage runs one stage: the request's first/last do not apply")
    layout = RunLayout.create(request.runs_dir, request.experiment)
    with _no_trace_if_refused(layout), ExperimentLock.of_run(layout) as lock:
        for line in lock.repairs:
            print(f"holopipe: {line}", file=sys.stderr)
        config, stages = _frozen_or_new_config(layout, request)
        matches = [s for s in stages if s.ID == stage_id]
        if not matches:
            raise ConfigError(f"no stage {stage_id} (stages: {', '.join(s.ID for s in stages)})")
        run = RunContext(layout, config, request.jobs, request.executor)
        run.executor  # noqa: B018 - a bad executor setting is refused before anything runs
        # So is a corrupt manifest (ManifestError), before the stage starts. The index
        # reads only the records its digests do not vouch for, as `holopipe run` does
        # (every record: ~1 s and ~100 MiB at 10 000 systems).
        run.manifest.index()
        return StageExecution(run, matches[0], request.cli_inputs).execute()


@attrs.define
class _PipelineRun:
    """One ``holopipe run``: the stages in order, their outcomes and the worst exit code."""

    run: RunContext
    cli_inputs: dict[str, Path]
    lock_fd: int | None
    echo: Callable[[str], None]
    on_progress: Callable[[str], None]
    outcomes: list[StageOutcome] = attrs.field(factory=list)
    worst: ExitCode = ExitCode.OK
    #: The states of the stages found up to date (nothing after them changes them: the
    #: closing report shows them as assessed).
    up_to_date: dict[str, StageState] = attrs.field(factory=dict)
    #: What this command found unchanged (see :func:`_assess`).
    verified: _Checked = attrs.field(factory=_Checked)
    #: Whether a stage ran in this command (then report.html is drawn again).
    ran: bool = False
    #: The lock holder's trash collector: a published stage discarded its previous folder.
    trash: TrashCollector | None = None
    #: The process drawing report.html, forked as the first stage starts (see
    #: :mod:`holopipe.report.worker`); ``None`` before, or where it would not help.
    report_worker: ReportWorker | None = None
    _report_worker_tried: bool = False
    #: The run's own Dask LocalCluster (:mod:`holopipe.run.dask_cluster`), started as the
    #: first stage runs when the executor is dask with no address; ``None`` otherwise.
    cluster: RunCluster | None = None
    _cluster_tried: bool = False

    def execution(self, stage: type[Stage]) -> StageExecution:
        declared = {s.alias for s in stage.INPUTS}
        given = {a: p for a, p in self.cli_inputs.items() if a in declared}
        return StageExecution(self.run, stage, given)

    def run_stages(self, selected: list[type[Stage]]) -> None:
        """Each stage in order until one stops the pipeline (the rest: not reached)."""
        for index, stage in enumerate(selected):
            if not self.step(stage):
                self.outcomes += [
                    StageOutcome(s.key(), "NOT_RUN", 0, "not_reached")
                    for s in selected[index + 1 :]
                ]
                return

    def step(self, stage: type[Stage]) -> bool:
        """Skip, gate or run one stage; ``False`` when the pipeline must stop."""
        # What the orchestrator holds as a stage begins (imports, config, the manifest's
        # records: 20 000 objects a record at 10 000 systems) lives until the command ends:
        # frozen, no full collection traverses it again (0.2-0.3 s of a change rerun's 9
        # stages). Garbage without cycles is still freed by its reference count.
        gc.freeze()
        execution = self.execution(stage)
        key = stage.key()
        index = self.run.manifest.index()
        if index is not None:  # aliases are a view of the manifest: repaired, not rerun
            for alias in repair_aliases(self.run.layout, index.aliases, key):
                self.echo(f"{key}: alias {alias}/ repaired from run_manifest.json")
        # Up to date (same fingerprint, outputs and inputs with the recorded content):
        # nothing runs, so its inputs need no gate; a stage about to run gets the gate.
        state = _assess(execution, self.verified)
        if state.up_to_date:
            # A skipped stage keeps the status and exit code of its last run (plan 4.1).
            self.up_to_date[key] = state
            code = ExitCode.of_status(state.status)
            self.echo(f"{key}: up to date ({state.status}), skipped")
            self.outcomes.append(
                StageOutcome(
                    key, state.status, int(code), "up_to_date", reason="fingerprint unchanged"
                )
            )
            self.worst = max(self.worst, code)
            return True
        problems = self.gate(execution)
        if problems:
            for line in problems:
                print(line, file=sys.stderr)
            self.echo(f"{key}: INCOMPLETE (gate: {gate_verdict(problems)})")
            code = ExitCode.INCOMPLETE
            self.outcomes.append(
                StageOutcome(key, code.status, int(code), "gate_failed", reason=problems[0])
            )
            self.worst = max(self.worst, code)
            return False
        self.echo(f"{key}: running ({state.reason})")
        self.ran = True
        self.verified.forget_folders()
        done = self.execute(execution)
        if done and "interrupted while publishing" in state.reason:
            self.echo(f"{key}: repaired (the interrupted publication is replaced by this run)")
        return done

    def gate(self, execution: StageExecution) -> list[str]:
        """The gate on the inputs resolved once by :func:`_assess` (CLI inputs are validated
        by the stage itself as it reads them)."""
        problems = execution.resolve()
        checked = [r for r in execution.resolved if r.source != "cli"]
        legacy = _legacy_gate(self.run.legacy_roots)
        return problems + check_resolved(self.run.layout, checked, False, legacy)

    def execute(self, execution: StageExecution) -> bool:
        key = execution.key
        t0, since_ns = time.perf_counter(), time.time_ns()
        if self.trash is not None:  # what the previous stage replaced: its files are reused
            execution.spare_entries = self.trash.kept
        if not self._report_worker_tried:  # its imports run on the core the stages leave
            from holopipe.report.worker import ReportWorker

            self._report_worker_tried = True
            self.report_worker = ReportWorker.start([] if self.lock_fd is None else [self.lock_fd])
        if not self._cluster_tried:
            self._cluster_tried = True
            self.start_cluster()
        code = _run_in_child(execution, self.lock_fd, self.on_progress)
        if self.trash is not None:  # kept for the next stage; the rest removed meanwhile
            self.trash.collect(keep_new=True)
        if code is ExitCode.INTERRUPTED:
            raise KeyboardInterrupt
        if code == EXIT_STORAGE_REFUSED:  # the stage process said which write failed
            self.echo(f"{key}: INCOMPLETE (the storage refused a write; nothing was published)")
            reason = "the storage refused a write"
            code = ExitCode.INCOMPLETE
            self.outcomes.append(StageOutcome(key, code.status, int(code), "ran", reason=reason))
            self.worst = max(self.worst, code)
            return False
        if not _completed(execution, code, since_ns):  # no stage_summary.json: the stage failed
            print(
                f"{key}: the stage process ended (exit {code}) "
                "without writing its stage_summary.json",
                file=sys.stderr,
            )
            code = ExitCode.ERROR
        status = code.status
        duration = time.perf_counter() - t0
        self.echo(f"{key}: {status} in {duration:.2f} s")
        if code:
            for line in _reasons(_summary_path(execution, code)):
                self.echo(f"    {line}")
        self.outcomes.append(StageOutcome(key, status, int(code), "ran", round(duration, 6)))
        self.worst = max(self.worst, code)
        return code.published

    def start_cluster(self) -> None:
        """One LocalCluster for the run's stages, for a dask executor that names no
        scheduler; where it does not start, each stage starts its own (and says so)."""
        config = self.run.executor
        if config.name != "dask" or config.address:
            return
        from holopipe.run.dask_cluster import ClusterUnavailable, RunCluster
        from holopipe.run.executors import worker_count

        folder = self.run.layout.executor_dir / "cluster"
        try:
            self.cluster = RunCluster.start(worker_count(config, self.run.jobs), folder)
        except ClusterUnavailable as exc:
            self.echo(f"{self.run.layout.experiment}: {exc}; each stage starts its own")
            return
        import distributed  # noqa: F401 - once here, inherited by every forked stage

        self.run.cluster_address = self.cluster.address


@contextmanager
def _thawed_after() -> Iterator[None]:
    """What :meth:`_PipelineRun.step` froze for the garbage collector is collectable again
    once the run ends (a caller in the same process, e.g. a test session, goes on)."""
    try:
        yield
    finally:
        gc.unfreeze()


def run_pipeline(
    request: RunRequest,
    echo: Callable[[str], None] = print,
    on_progress: Callable[[str], None] = lambda line: None,
    early_scan: EarlyScan | None = None,
) -> int:
    """Run stages ``request.first``..``request.last``; returns the worst exit code.

    An empty or inverted range, or an ``--input`` alias no selected stage declares, is
    refused before anything is written. ``echo`` gets the run's lines, ``on_progress`` the
    ``<stage> <done> <total>`` lines of the stage processes. ``early_scan``: the scan of
    the run's recorded folders started before this was called
    (:meth:`~holopipe.run.folder_scan.EarlyScan.start`); the caller closes it.
    """
    experiment = request.experiment
    layout = RunLayout.create(request.runs_dir, experiment)
    started_at = utc_now()
    with _no_trace_if_refused(layout), ExperimentLock.of_run(layout) as lock, _thawed_after():
        for line in lock.repairs:
            echo(f"{experiment}: {line}")
        selected: list[type[Stage]] = []

        def check(stages: list[type[Stage]]) -> None:
            selected[:] = _select(stages, request.first, request.last)
            declared = [s.alias for stage in selected for s in stage.INPUTS]
            check_input_aliases(request.cli_inputs, declared, "the selected stages")

        config, stages = _frozen_or_new_config(layout, request, check)
        run = RunContext(layout, config, request.jobs, request.executor)
        run.executor  # noqa: B018 - a bad executor setting is refused before anything runs
        pipeline = _PipelineRun(
            run, request.cli_inputs, lock.fd, echo, on_progress, trash=lock.trash
        )
        pipeline.verified.ahead = frozenset(stage.key() for stage in selected)
        pipeline.verified.early = early_scan
        try:
            pipeline.run_stages(selected)
            if lock.trash is not None:  # no stage takes over spare files now: removed meanwhile
                lock.trash.collect()
            summary = PipelineSummary(
                experiment,
                int(pipeline.worst),
                started_at,
                utc_now(),
                list(sys.argv),
                pipeline.outcomes,
            )
            summary.write(layout.pipeline_summary_path)
            _close_with_report(run, stages, pipeline, echo)
        finally:
            if pipeline.report_worker is not None:  # not asked (an error, Ctrl-C): ended
                pipeline.report_worker.close()
            if pipeline.cluster is not None:
                pipeline.cluster.close()
    worst = pipeline.worst
    echo(f"{experiment}: {worst.status} (exit {int(worst)}); {layout.pipeline_summary_path}")
    return worst


def _close_with_report(
    run: RunContext,
    stages: list[type[Stage]],
    pipeline: _PipelineRun,
    echo: Callable[[str], None],
) -> None:
    """The closing lines: failed checks per stage and group, then ``report.html``.

    A report that already shows the run as it is now (same manifest, config, states and
    exit code: a rerun that changed nothing) is kept, not drawn again. The stage summaries
    the report reads give the failed-check lines too (each read once: ~40 ms a summary of
    10 000 systems).
    """
    from holopipe.report import report_key_of, write_report
    from holopipe.report.collect import RunView

    view = None
    failed_checks: dict[str, str | None] | None = None  # by the report worker, per stage
    ran = [outcome.stage for outcome in pipeline.outcomes if outcome.action == "ran"]
    try:
        plans = _plan(run, stages, {}, run.config, pipeline.up_to_date, pipeline.verified)
        key = _report_key(run.layout, plans, pipeline.worst)
        existing = run.layout.root / "report.html"
        worker, pipeline.report_worker = pipeline.report_worker, None
        drawn = None
        if not pipeline.ran and report_key_of(existing) == key:
            closing = [f"report: {existing}"]
        elif worker is not None and (drawn := worker.write(run.layout, plans, key, ran)):
            report, left_out, failed_checks = drawn
        else:  # no worker, or it failed: drawn here
            view = RunView.load(run.layout)
            report, left_out = write_report(run.layout, plans, key, view)
        if worker is not None:  # reaped (a no-op if it answered)
            worker.close()
        if drawn is not None or view is not None:
            closing = [f"report: {report}", *(f"report: left out {line}" for line in left_out)]
    except Exception as exc:  # noqa: BLE001 - the run's results stand; the report is a view
        if os.environ.get("HOLOPIPE_DEBUG"):
            raise
        again = f"holopipe report -e {run.layout.experiment}"
        closing = [f"report: not written ({type(exc).__name__}: {exc}); try {again}"]
    for stage in ran:
        if failed_checks is not None:
            line = failed_checks.get(stage)
        else:
            if view is not None:
                stage_summary = view.summaries.get(stage)
            else:
                path = run.layout.root / stage / "stage_summary.json"
                stage_summary = StageSummary.read_with_report(path)[1]
            line = stage_summary.failed_checks_line() if stage_summary else None
        if line:
            echo(line)
    for line in closing:
        echo(line)


def _report_key(layout: RunLayout, plans: list[StagePlan], worst: ExitCode) -> str:
    """What ``report.html`` shows, in one sha256: the manifest and frozen config (their
    bytes), every stage's plan, the run's exit code, holopipe's version and the source of
    what draws the page (:func:`~holopipe.report.drawing_code_digest`, not the git sha: the
    page shows the recorded environments, not the current one) and whether plots can be
    drawn. Only the time of the last ``holopipe run`` is left out."""
    import hashlib
    import importlib.util
    import json

    def digest(path: Path) -> str:
        try:
            return hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            return ""

    from holopipe import __version__
    from holopipe.report import drawing_code_digest

    parts = {
        "manifest": digest(layout.manifest_path),
        "config": digest(layout.config_path),
        "plans": [attrs.astuple(plan) for plan in plans],
        "exit_code": int(worst),
        "code": [__version__, drawing_code_digest()],
        "plots": importlib.util.find_spec("matplotlib") is not None,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


@attrs.frozen
class StagePlan:
    """What ``holopipe run`` would do with one stage, and exactly why.

    ``reasons`` is empty when the stage is up to date; otherwise each names a cause:
    ``never run``, ``params changed: stages.03.n_grid: 400 -> 800``, ``input content
    changed: 02_.../predictions/a.npz``, ``code version changed``, ``output ... missing or
    modified``, ``upstream 03_... would run (input bulk_equations)``, ...
    """

    stage: str
    would_run: bool
    reasons: tuple[str, ...] = ()
    #: The recorded state of the stage's last run (as ``holopipe status`` shows it).
    status: str = "NOT_RUN"
    duration_s: float = 0.0
    #: The aliases the stage reads and writes (the edges of ``holopipe dag``).
    input_aliases: tuple[str, ...] = ()
    output_aliases: tuple[str, ...] = ()

    @property
    def verdict(self) -> str:
        """``up to date`` or ``would run: <reason>; <reason>`` (the dry run's and dag's words)."""
        return "would run: " + "; ".join(self.reasons) if self.would_run else "up to date"


def plan_run(request: RunRequest) -> list[StagePlan]:
    """``holopipe run --dry-run``: per stage, whether it would run and why; writes nothing.

    The same decision as :func:`run_pipeline` (content-based: a touched but unchanged file
    is not a reason). A stage downstream of one that would run is listed as would-run with
    the upstream stage as its reason: its inputs may change. A config that differs from the
    frozen one is planned as if ``--force`` were given.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     plans = plan_run(RunRequest(Path(tmp), "new"))
    >>> plans[0].would_run, plans[0].reasons
    (True, ('never run',))
    """
    layout = RunLayout.create(request.runs_dir, request.experiment)
    frozen = _frozen_config(layout)
    _refuse_a_lost_config(layout, frozen, request.config_path)  # as run_pipeline does
    if frozen is not None and not _changes_config(request):
        config, stages = frozen, pipeline_stages(frozen.get("pipeline", []), frozen.get("impl", {}))
    else:
        config, stages = resolve_config(
            request.config_path, list(request.overrides), request.seed, base=frozen
        )
    selected = _select(stages, request.first, request.last)
    declared = [s.alias for st in selected for s in st.INPUTS]
    check_input_aliases(request.cli_inputs, declared, "the stages")
    return _plan(RunContext(layout, config), selected, request.cli_inputs, frozen)


def _plan(
    run: RunContext,
    selected: list[type[Stage]],
    cli_inputs: dict[str, Path],
    frozen: dict[str, Any] | None,
    assessed: dict[str, StageState] | None = None,
    verified: _Checked | None = None,
) -> list[StagePlan]:
    """:func:`plan_run` once the config is resolved (``frozen``: the run's frozen config;
    ``assessed``: states already known, e.g. of the stages a run found up to date;
    ``verified``: the file entries this command found unchanged)."""
    rerun: dict[str, str] = {}  # alias -> the stage that would rewrite it
    plans = []
    verified = _Checked() if verified is None else verified
    verified.ahead = frozenset(stage.key() for stage in selected)
    for stage in selected:
        given = {a: p for a, p in cli_inputs.items() if a in {s.alias for s in stage.INPUTS}}
        execution = StageExecution(run, stage, given)
        state = (assessed or {}).get(stage.key()) or _assess(execution, verified)
        reasons = [] if state.up_to_date else _why(execution, state, frozen)
        reasons += [
            f"upstream {rerun[s.alias]} would run (input {s.alias})"
            for s in stage.INPUTS
            if s.alias in rerun and s.alias not in given
        ]
        if reasons:
            rerun.update({o.alias: stage.key() for o in stage.OUTPUTS})
        plans.append(
            StagePlan(
                stage.key(),
                bool(reasons),
                tuple(dict.fromkeys(reasons)),
                state.status,
                state.duration_s,
                tuple(s.alias for s in stage.INPUTS),
                tuple(o.alias for o in stage.OUTPUTS),
            )
        )
    return plans


def _why(execution: StageExecution, state: StageState, frozen: dict[str, Any] | None) -> list[str]:
    """The precise causes behind a stale state (which params, which input files)."""
    manifest = execution.run.manifest.load_stages([execution.key])
    record = manifest.stages.get(execution.key) if manifest else None
    if record is None or not state.reason.endswith(" changed") or not execution.is_resolved:
        return [state.reason]
    parts, old = execution.fingerprint_parts, record.fingerprint_parts
    reasons = []
    if parts["code"] != old.get("code"):
        reasons.append("code version changed (stage class, its VERSION or holopipe's version)")
    if parts["params"] != old.get("params"):
        reasons += _param_changes(execution, frozen)
    if parts["inputs"] != old.get("inputs"):
        before = {entry.path: entry.sha256 for entry in record.inputs}
        now = {path: sha for _, path, sha in execution.hashes}
        changed = sorted(p for p in set(before) | set(now) if before.get(p) != now.get(p))
        reasons += [
            f"input content changed: {p}"
            if p in before and p in now
            else f"input {'added' if p in now else 'removed'}: {p}"
            for p in changed
        ] or ["input content changed"]
    return reasons or [state.reason]


def _param_changes(execution: StageExecution, frozen: dict[str, Any] | None) -> list[str]:
    stage_id, config = execution.stage.ID, execution.run.config
    old = {
        "seed": (frozen or {}).get("seed"),
        "strict": (frozen or {}).get("strict", True),
        "stages": {stage_id: (frozen or {}).get("stages", {}).get(stage_id, {})},
    }
    new = {
        "seed": config.get("seed"),
        "strict": execution.run.strict,
        "stages": {stage_id: config.get("stages", {}).get(stage_id, {})},
    }
    lines = [line.strip() for line in config_diff(old, new)]
    if lines:
        return [f"params changed: {line}" for line in lines]
    return ["params changed (the frozen config already holds them: changed with --force)"]
