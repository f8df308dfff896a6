"""The ``holopipe`` command: a thin Typer app over the library.

Commands parse arguments, call the library and print. Errors the user can fix are printed
as one clear line with the documented exit code; anything else is an internal error
(exit 3) whose traceback is shown only with ``HOLOPIPE_DEBUG=1``.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable, Iterable
from typing import Any

import typer

from holopipe.cli import (
    artifact_commands,
    golden_commands,
    legacy_commands,
    report_commands,
    run_commands,
)

__all__ = ["COMMANDS", "app", "app_for", "build_app", "main"]

#: Every command of ``holopipe`` by name, in the order of its help: a command's function,
#: or the Typer app of a group of sub-commands.
COMMANDS: dict[str, Callable[..., Any] | typer.Typer] = {
    "run": run_commands.run,
    "stage": run_commands.stage,
    "status": run_commands.status,
    "assert-artifacts": run_commands.assert_artifacts,
    "check-run": run_commands.check_run,
    "repair-manifest": run_commands.repair_manifest,
    "import-legacy": legacy_commands.import_legacy,
    "validate": artifact_commands.validate,
    "schema": artifact_commands.schema_app,
    "docs": artifact_commands.docs,
    "dag": report_commands.dag,
    "diff": report_commands.diff,
    "report": report_commands.report,
    "export-crate": report_commands.export_crate,
    "golden": golden_commands.golden_app,
}


def _options(
    version: bool = typer.Option(
        False, "--version", help="Print holopipe's version and exit.", is_eager=True
    ),
) -> None:
    if version:
        from holopipe import __version__

        typer.echo(f"holopipe {__version__}")
        raise typer.Exit(0)


def build_app(names: Iterable[str] = COMMANDS) -> typer.Typer:
    """The ``holopipe`` Typer app with the commands ``names`` (default: all of them).

    Examples
    --------
    >>> [c.name for c in build_app(["run", "status"]).registered_commands]
    ['run', 'status']
    """
    built = typer.Typer(
        name="holopipe",
        help="Auditable runs for holographic emergent-geometry pipelines.",
        no_args_is_help=True,
        invoke_without_command=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
    )
    built.callback()(_options)
    for name in names:
        command = COMMANDS[name]
        if isinstance(command, typer.Typer):
            built.add_typer(command, name=name)
        else:
            built.command(name)(command)
    return built


#: The whole command (``holopipe --help`` lists every command).
app = build_app()

#: The plan's exit codes (section 2.1), shared by every command.
EXIT_INTERNAL_ERROR = 3

#: ``OPENBLAS_THREAD_TIMEOUT`` of the holopipe process and the stage processes it starts,
#: unless the environment sets it: OpenBLAS's idle worker threads then sleep at once instead
#: of busy-waiting 2**28 cycles (~0.1 s of CPU) after numpy loads and after every threaded
#: call, in every process, even a rerun that computes nothing. The same threads split the same
#: work: results are unchanged.
OPENBLAS_THREAD_TIMEOUT = "4"


def app_for(argv: list[str]) -> typer.Typer:
    """The app to run ``argv`` with: one naming a command gets an app of that command alone,
    since Typer builds the click command of every registered command (their parameters,
    types and help) on each call, the one that runs or not; anything else (``--help``,
    ``--version``, an unknown name) gets the whole app.

    Examples
    --------
    >>> [c.name for c in app_for(["holopipe", "status", "-e", "toy"]).registered_commands]
    ['status']
    >>> app_for(["holopipe", "--help"]) is app
    True
    """
    name = argv[1] if len(argv) > 1 else ""
    return build_app([name]) if name in COMMANDS else app


def main() -> None:
    """Entry point of the ``holopipe`` console script."""
    os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", OPENBLAS_THREAD_TIMEOUT)  # before numpy
    try:
        app_for(sys.argv)()
    except SystemExit:
        raise
    except Exception as exc:  # noqa: BLE001 - the last line of defence: no traceback for users
        if os.environ.get("HOLOPIPE_DEBUG"):  # the traceback, and still the documented code
            traceback.print_exc()
        print(f"holopipe: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        if not os.environ.get("HOLOPIPE_DEBUG"):
            print("holopipe: rerun with HOLOPIPE_DEBUG=1 for the traceback", file=sys.stderr)
        sys.exit(EXIT_INTERNAL_ERROR)
