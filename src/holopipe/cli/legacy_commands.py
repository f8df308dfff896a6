"""``holopipe import-legacy``."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from holopipe.cli.run_commands import Experiment, RunsDir, _usage


def _file_progress():
    """``classified n/total files`` on a terminal; silent in logs and CI."""
    if not sys.stderr.isatty() or os.environ.get("CI"):
        return None

    def show(done: int, total: int) -> None:
        if done == total or done % 25 == 0:
            end = "\n" if done == total else ""
            sys.stderr.write(f"\r  classified {done}/{total} files{end}")
            sys.stderr.flush()

    return show


def import_legacy(
    legacy_dir: Annotated[Path, typer.Argument(help="The legacy folder (never written).")],
    experiment: Experiment,
    force: Annotated[
        bool, typer.Option("--force", help="Re-import into an existing experiment.")
    ] = False,
    runs_dir: RunsDir = None,
) -> None:
    """Import a legacy folder as runs/<experiment>/: links, converted artifacts, a manifest
    with resolved_from_legacy: true, and legacy_import/import_report.json.

    Exits 0 (clean), 1 (imported with findings), 2 (refused: not a folder, or the
    experiment exists and is not this unchanged import; --force re-imports).
    """
    from holopipe.legacy import ImportRefused
    from holopipe.legacy import import_legacy as run_import
    from holopipe.run.layout import LayoutError
    from holopipe.run.locking import LockHeldError

    try:
        report = run_import(legacy_dir, experiment, runs_dir, force, _file_progress())
    except (ImportRefused, LayoutError, LockHeldError) as exc:
        raise _usage(str(exc)) from None
    for line in report.lines():
        typer.echo(line)
    raise typer.Exit(report.exit_code)
