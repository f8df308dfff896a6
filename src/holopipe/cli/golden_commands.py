"""``holopipe golden update`` and ``holopipe golden check``: golden runs and their references."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from holopipe.cli.run_commands import Jobs, RunsDir

if TYPE_CHECKING:
    from holopipe.golden import GoldenRun

golden_app = typer.Typer(
    help="Golden runs: small committed experiments compared with a reference by hash and "
    "metrics (configs/golden/NAME.json, tests/golden/NAME.json).",
    no_args_is_help=True,
)

Name = Annotated[str, typer.Argument(help="Golden run name, e.g. ads_control.")]
ConfigsDir = Annotated[Path, typer.Option("--configs-dir", help="Folder of the golden configs.")]
ReferencesDir = Annotated[
    Path, typer.Option("--references-dir", help="Folder of the golden references.")
]


def _progress(line: str) -> None:
    """The run's stage lines go to stderr, so that stdout holds the differences only."""
    typer.echo(line, err=True)


def _guarded(fn):
    from holopipe.run.golden import GoldenError
    from holopipe.run.locking import LockHeldError

    try:
        return fn()
    except (GoldenError, LockHeldError) as exc:
        typer.echo(f"holopipe: {exc}", err=True)
        raise typer.Exit(2) from None


def _golden_command(command: str):
    """Register ``holopipe golden <command>``: the options every golden command takes, then
    the decorated action on the :class:`~holopipe.golden.GoldenRun` they describe (the
    command's help is the action's docstring)."""

    def register(action: Callable[[GoldenRun], None]) -> Callable[[GoldenRun], None]:
        @golden_app.command(command, help=inspect.getdoc(action))
        def options(
            name: Name,
            runs_dir: RunsDir = None,
            configs_dir: ConfigsDir = Path("configs/golden"),
            references_dir: ReferencesDir = Path("tests/golden"),
            jobs: Jobs = 1,
        ) -> None:
            from holopipe.golden import GoldenRun

            action(GoldenRun(name, runs_dir, configs_dir, references_dir, jobs, _progress))

        return action

    return register


@_golden_command("check")
def check(golden: GoldenRun) -> None:
    """Run golden experiment NAME (in --runs-dir, else a temporary folder) and print every
    difference from its reference: artifact or metric, expected, got, tolerance.

    Exits 0 when nothing differs, 1 when only warnings (a hash changed or a metric appeared,
    every metric inside its tolerance), 2 when a metric is outside its tolerance or missing,
    an artifact is missing or added, or the reference cannot be read.
    """
    result = _guarded(golden.check)
    for difference in result.differences:
        typer.echo(difference.line())
    typer.echo(result.verdict())
    raise typer.Exit(result.exit_code)


@_golden_command("update")
def update(golden: GoldenRun) -> None:
    """Run golden experiment NAME and write its reference (tolerance rules are kept).

    Exits 0 when the reference was written; 2 when the run did not end OK or WARNING (the
    reference is still written, so that the failing run can be inspected, and says so).
    """
    path, code = _guarded(golden.update)
    typer.echo(f"golden {golden.name}: reference written to {path} (the run exited {code})")
    raise typer.Exit(0 if code <= 1 else 2)
