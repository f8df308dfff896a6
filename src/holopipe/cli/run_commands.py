"""``holopipe run``, ``stage``, ``status`` and ``assert-artifacts``."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from holopipe.artifacts.exit_codes import ExitCode

if TYPE_CHECKING:
    from holopipe.run.request import RunRequest

RunsDir = Annotated[
    Path | None,
    typer.Option(
        "--runs-dir",
        help="Root of all runs [default: $HOLOPIPE_RUNS_DIR or ./runs].",
        show_default=False,
    ),
]
Experiment = Annotated[
    str, typer.Option("--experiment", "-e", help="Experiment name: runs/<experiment>/.")
]
ConfigFile = Annotated[
    Path | None, typer.Option("--config", help="JSON config file [default: built-in config].")
]


def _repeatable(flag: str, metavar: str, help: str) -> Any:
    """A ``FLAG METAVAR`` option given any number of times (a list, ``None`` when absent)."""
    return Annotated[list[str] | None, typer.Option(flag, metavar=metavar, help=help)]


Overrides = _repeatable(
    "--set", "KEY=VALUE", "Override a config value: section.key=value (repeat for more)."
)
Seed = Annotated[int | None, typer.Option("--seed", help="Seed of every random stream (recorded).")]
Jobs = Annotated[
    int, typer.Option("--jobs", "-j", min=0, help="Worker processes per stage (0: one per CPU).")
]
ExecutorName = Annotated[
    str | None,
    typer.Option(
        "--executor",
        help="How systems run: serial, processes, dask, slurm [default: the config's "
        "executor.name, else processes]. Results are identical whatever it is.",
        show_default=False,
    ),
]
Inputs = _repeatable(
    "--input", "ALIAS=PATH", "Explicit input: alias=path, a file or folder (repeat for more)."
)
FirstStage = Annotated[str | None, typer.Option("--from", help="First stage id (e.g. 01).")]
LastStage = Annotated[str | None, typer.Option("--to", help="Last stage id (e.g. 06).")]
Force = Annotated[
    bool, typer.Option("--force", help="Accept a changed config (the affected stages rerun).")
]


def _inputs(items: list[str] | None) -> dict[str, Path]:
    parsed = {}
    for item in items or []:
        alias, sep, path = item.partition("=")
        if not sep:
            raise _usage(f"--input {item!r} must look like alias=path")
        parsed[alias] = Path(path)
    return parsed


def _request(
    experiment: str, runs_dir: Path | None, input_: list[str] | None, **options: Any
) -> RunRequest:
    """The command's options as the library's one :class:`~holopipe.run.request.RunRequest`."""
    from holopipe.run.layout import default_runs_dir
    from holopipe.run.request import RunRequest

    return RunRequest(default_runs_dir(runs_dir), experiment, cli_inputs=_inputs(input_), **options)


def _usage(message: str) -> typer.Exit:
    typer.echo(f"holopipe: {message}", err=True)
    return typer.Exit(ExitCode.INCOMPLETE)


def _progress_printer():
    """Draws ``stage done/total`` on a terminal; silent when stderr is a log or CI."""
    if not sys.stderr.isatty() or os.environ.get("CI"):
        return lambda line: None

    def show(line: str) -> None:
        key, done, total = line.rsplit(" ", 2)
        end = "\n" if done == total else ""
        sys.stderr.write(f"\r  {key}: {done}/{total} systems{end}")
        sys.stderr.flush()

    return show


def _guard(fn):
    """Turn the library's user errors into one line and exit code 2."""
    from holopipe.run.config import ConfigError
    from holopipe.run.layout import LayoutError
    from holopipe.run.locking import LockHeldError
    from holopipe.run.manifest import ManifestError
    from holopipe.run.resolution import InputError
    from holopipe.run.storage import StorageError, storage_error
    from holopipe.stages.registry import StageLoadError

    try:
        return fn()
    except (
        ConfigError,
        InputError,
        LayoutError,
        LockHeldError,
        ManifestError,
        StageLoadError,
        StorageError,
    ) as exc:
        raise _usage(str(exc)) from None
    except OSError as exc:  # a full disk, a read-only runs root: the user's to fix
        refused = storage_error(exc)
        if refused is None:
            raise
        raise _usage(str(refused)) from None
    except KeyboardInterrupt:
        typer.echo(
            "holopipe: interrupted; finished stages are kept, run the same command to resume",
            err=True,
        )
        raise typer.Exit(ExitCode.INTERRUPTED) from None


def run(
    experiment: Experiment,
    config: ConfigFile = None,
    set_: Overrides = None,
    seed: Seed = None,
    from_: FirstStage = None,
    to: LastStage = None,
    force: Force = False,
    jobs: Jobs = 1,
    executor: ExecutorName = None,
    input_: Inputs = None,
    runs_dir: RunsDir = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Say which stages would run and exactly why; write nothing."
        ),
    ] = False,
) -> None:
    """Run the pipeline: stages in order, gates between them, up-to-date stages skipped.

    Exits with the worst stage exit code: 0 OK, 1 WARNING, 2 INCOMPLETE, 3 ERROR.
    """
    early = None
    # A plain rerun is most often a no-op, whose cost is the stat scan of the recorded
    # files: it starts now, in forked processes, while the pipeline is imported.
    if not (dry_run or config or set_ or seed is not None or from_ or to or force or input_):
        from holopipe.run.folder_scan import EarlyScan
        from holopipe.run.layout import default_runs_dir

        early = EarlyScan.start(os.fspath(default_runs_dir(runs_dir) / experiment))
    try:
        from holopipe.pipeline import plan_run, run_pipeline

        def request() -> RunRequest:
            return _request(
                experiment, runs_dir, input_, config_path=config, overrides=set_, seed=seed,
                first=from_, last=to, force=force, jobs=jobs, executor=executor,
            )  # fmt: skip

        if dry_run:
            for plan in _guard(lambda: plan_run(request())):
                typer.echo(f"{plan.stage}: {plan.verdict}")
            raise typer.Exit(ExitCode.OK)
        progress = _progress_printer()
        code = _guard(
            lambda: run_pipeline(request(), echo=typer.echo, on_progress=progress, early_scan=early)
        )
    finally:
        if early is not None:
            early.close()
    raise typer.Exit(code)


def stage(
    stage_id: Annotated[str, typer.Argument(help="Stage id, e.g. 06 or 04c.")],
    experiment: Experiment,
    config: ConfigFile = None,
    set_: Overrides = None,
    seed: Seed = None,
    force: Annotated[
        bool, typer.Option("--force", help="Accept a changed config (it is frozen anew).")
    ] = False,
    jobs: Jobs = 1,
    executor: ExecutorName = None,
    input_: Inputs = None,
    runs_dir: RunsDir = None,
) -> None:
    """Run one stage of an experiment (always runs, up to date or not).

    The run's frozen config is used; --config, --set and --seed change it only with --force.
    """
    from holopipe.pipeline import run_stage

    def request() -> RunRequest:
        return _request(
            experiment, runs_dir, input_, config_path=config, overrides=set_, seed=seed,
            force=force, jobs=jobs, executor=executor,
        )  # fmt: skip

    code = _guard(lambda: run_stage(request(), stage_id))
    typer.echo(f"{stage_id}: {ExitCode.from_code(code).status} (exit {int(code)})")
    raise typer.Exit(code)


def status(experiment: Experiment, runs_dir: RunsDir = None) -> None:
    """List the stages of a run: status, duration, up to date or why not."""
    from holopipe.pipeline import stage_states
    from holopipe.run.layout import default_runs_dir

    states = _guard(lambda: stage_states(default_runs_dir(runs_dir), experiment))
    for s in states:
        fresh = "up to date" if s.up_to_date else f"stale: {s.reason}"
        typer.echo(f"{s.stage:40s} {s.status:10s} {s.duration_s:8.2f} s  {fresh}")


def assert_artifacts(
    experiment: Experiment,
    for_stage: Annotated[
        str, typer.Option("--for-stage", help="Stage id whose inputs are checked.")
    ],
    runs_dir: RunsDir = None,
) -> None:
    """Gate: check that what stage NN needs exists, is intact and valid (exit 2 if not).

    Prints one ``missing_artifact: <path>`` or ``invalid_artifact: <path>: <finding>`` line
    per problem.
    """
    from holopipe.pipeline import assert_artifacts as check
    from holopipe.run.layout import default_runs_dir

    problems = _guard(lambda: check(default_runs_dir(runs_dir), experiment, for_stage))
    for line in problems:
        typer.echo(line, err=True)
    if not problems:
        typer.echo(f"{for_stage}: all required artifacts present and valid")
    raise typer.Exit(ExitCode.INCOMPLETE if problems else ExitCode.OK)


def repair_manifest(experiment: Experiment, runs_dir: RunsDir = None) -> None:
    """Rebuild a corrupt run_manifest.json from the stage folders' own records.

    Each stage folder with a readable stage_summary.json is recorded with its status and
    its output files (hashed now); the old file is kept as run_manifest.json.corrupt. The
    rebuilt stages carry no fingerprint: the next ``holopipe run`` reruns each once.
    """
    from holopipe.pipeline import repair_manifest as rebuild
    from holopipe.run.layout import default_runs_dir

    for line in _guard(lambda: rebuild(default_runs_dir(runs_dir), experiment)):
        typer.echo(line)


def check_run(experiment: Experiment, runs_dir: RunsDir = None) -> None:
    """Validate the IO contracts of a whole run (the legacy 00_validate_io_contracts).

    Every stage's declared inputs and outputs: present, intact (sha256 against the
    manifest), valid for their schema. One ``missing_artifact:`` / ``invalid_artifact:``
    line per problem and exit 2; exit 0 when every file checked holds.
    """
    from holopipe.pipeline import check_run as check
    from holopipe.run.layout import default_runs_dir

    problems, checked = _guard(lambda: check(default_runs_dir(runs_dir), experiment))
    for line in problems:
        typer.echo(line, err=True)
    verdict = f"{len(problems)} problems" if problems else "all valid"
    typer.echo(f"{experiment}: {checked} recorded files checked, {verdict}")
    raise typer.Exit(ExitCode.INCOMPLETE if problems else ExitCode.OK)
