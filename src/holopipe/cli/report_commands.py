"""``holopipe dag``, ``diff``, ``report`` and ``export-crate``: looking at, comparing and
handing on a run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from holopipe.cli.run_commands import (
    ConfigFile,
    Experiment,
    FirstStage,
    Inputs,
    LastStage,
    Overrides,
    RunsDir,
    Seed,
    _guard,
    _request,
    _usage,
)


def dag(
    experiment: Experiment,
    format_: Annotated[
        str, typer.Option("--format", help="ascii, mermaid or dot.", case_sensitive=False)
    ] = "ascii",
    config: ConfigFile = None,
    set_: Overrides = None,
    seed: Seed = None,
    from_: FirstStage = None,
    to: LastStage = None,
    input_: Inputs = None,
    runs_dir: RunsDir = None,
) -> None:
    """Print the stage graph: which stage feeds which alias, each stage's status, duration
    and whether it would run and why.

    The plan is the one `holopipe run --dry-run` prints for the same options: give the
    --config/--set/--seed/--from/--to/--input you would run with. Writes nothing.
    """
    from holopipe.pipeline import plan_run
    from holopipe.report.dag import FORMATS, StageGraph

    if format_.lower() not in FORMATS:
        raise _usage(f"--format {format_!r}: expected one of {', '.join(FORMATS)}")
    request = dict(config_path=config, overrides=set_, seed=seed, first=from_, last=to)
    plans = _guard(lambda: plan_run(_request(experiment, runs_dir, input_, **request)))
    typer.echo(StageGraph.build(plans).render(format_.lower()))


def diff(
    a: Annotated[str, typer.Argument(help="Experiment A.")],
    b: Annotated[str, typer.Argument(help="Experiment B.")],
    runs_dir: RunsDir = None,
    runs_dir_b: Annotated[
        Path | None,
        typer.Option("--runs-dir-b", help="Root of B's runs [default: the same as A's]."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Compare two runs: config keys, code and packages, artifact hashes, re-run stages, metrics.

    Exits 0 when the runs are identical, 1 when they differ, 2 when a run is missing.
    """
    from holopipe.run.layout import RunLayout, default_runs_dir
    from holopipe.rundiff import DiffError, diff_runs

    root_a = default_runs_dir(runs_dir)
    root_b = runs_dir_b if runs_dir_b is not None else root_a
    try:
        result = _guard(lambda: diff_runs(RunLayout.create(root_a, a), RunLayout.create(root_b, b)))
    except DiffError as exc:
        raise _usage(str(exc)) from None
    typer.echo(result.to_json() if as_json else "\n".join(result.lines()))
    raise typer.Exit(0 if result.identical else 1)


def report(experiment: Experiment, runs_dir: RunsDir = None) -> None:
    """Write runs/<experiment>/report.html again: stages, physics plots, config, environment.

    One self-contained file (inline SVG, no scripts, works offline). Exits 1 when the plots
    had to be left out (matplotlib missing: pip install 'holopipe[report]').
    """
    from holopipe.pipeline import RunRequest, plan_run
    from holopipe.report import write_report
    from holopipe.run.layout import RunLayout, default_runs_dir

    layout = _guard(lambda: RunLayout.create(default_runs_dir(runs_dir), experiment))
    if not layout.manifest_path.is_file():
        raise _usage(f"no run {experiment!r} under {layout.root.parent} (nothing to report)")
    path, left_out = write_report(
        layout, _guard(lambda: plan_run(RunRequest(layout.runs_dir, experiment)))
    )
    typer.echo(f"report: {path}")
    for line in left_out:
        typer.echo(f"report: left out {line}", err=True)
    raise typer.Exit(1 if left_out else 0)


def export_crate(
    experiment: Experiment,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="A new folder, or a file ending in .zip [default: ./<experiment>.crate.zip].",
        ),
    ] = None,
    runs_dir: RunsDir = None,
) -> None:
    """Export the run as a Workflow Run RO-Crate (Provenance Run Crate profile).

    One CreateAction per stage run (instrument: the stage; object: its inputs and the config;
    result: its outputs, each with its sha256). Needs pip install 'holopipe[crate]'.
    """
    from holopipe.crate import CrateError
    from holopipe.crate import export_crate as export
    from holopipe.pipeline import stage_classes
    from holopipe.run.layout import RunLayout, default_runs_dir

    layout = _guard(lambda: RunLayout.create(default_runs_dir(runs_dir), experiment))
    stages = _guard(lambda: stage_classes(layout))
    target = output if output is not None else Path(f"{experiment}.crate.zip")
    try:
        written = export(layout, stages, target)
    except CrateError as exc:
        raise _usage(str(exc)) from None
    typer.echo(f"crate: {written}")
