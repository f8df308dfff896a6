"""The ``holopipe`` command: a thin Typer app over the library.

Commands parse arguments, call the library and print. Errors the user can fix are printed
as one clear line with the documented exit code; anything else is an internal error
(exit 3) whose traceback is shown only with ``HOLOPIPE_DEBUG=1``.
"""

from __future__ import annotations

import os
import sys
import traceback

import typer

from holopipe.cli import (
    artifact_commands,
    golden_commands,
    legacy_commands,
    report_commands,
    run_commands,
)

app = typer.Typer(
    name="holopipe",
    help="Auditable runs for holographic emergent-geometry pipelines.",
    no_args_is_help=True,
    invoke_without_command=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.command("run")(run_commands.run)
app.command("stage")(run_commands.stage)
app.command("status")(run_commands.status)
app.command("assert-artifacts")(run_commands.assert_artifacts)
app.command("check-run")(run_commands.check_run)
app.command("repair-manifest")(run_commands.repair_manifest)
app.command("import-legacy")(legacy_commands.import_legacy)
app.command("validate")(artifact_commands.validate)
app.add_typer(artifact_commands.schema_app, name="schema")
app.command("docs")(artifact_commands.docs)
app.command("dag")(report_commands.dag)
app.command("diff")(report_commands.diff)
app.command("report")(report_commands.report)
app.command("export-crate")(report_commands.export_crate)


@app.callback()
def _options(
    version: bool = typer.Option(
        False, "--version", help="Print holopipe's version and exit.", is_eager=True
    ),
) -> None:
    if version:
        from holopipe import __version__

        typer.echo(f"holopipe {__version__}")
        raise typer.Exit(0)


app.add_typer(golden_commands.golden_app, name="golden")

#: The plan's exit codes (section 2.1), shared by every command.
EXIT_INTERNAL_ERROR = 3

#: ``OPENBLAS_THREAD_TIMEOUT`` of the holopipe process and the stage processes it starts,
#: unless the environment sets it: OpenBLAS's idle worker threads then sleep at once instead
#: of busy-waiting 2**28 cycles (~0.1 s of CPU) after numpy loads and after every threaded
#: call, in every process, even a rerun that computes nothing. The same threads split the same
#: work: results are unchanged.
OPENBLAS_THREAD_TIMEOUT = "4"


def main() -> None:
    """Entry point of the ``holopipe`` console script."""
    os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", OPENBLAS_THREAD_TIMEOUT)  # before numpy
    try:
        app()
    except SystemExit:
        raise
    except Exception as exc:  # noqa: BLE001 - the last line of defence: no traceback for users
        if os.environ.get("HOLOPIPE_DEBUG"):  # the traceback, and still the documented code
            traceback.print_exc()
        print(f"holopipe: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        if not os.environ.get("HOLOPIPE_DEBUG"):
            print("holopipe: rerun with HOLOPIPE_DEBUG=1 for the traceback", file=sys.stderr)
        sys.exit(EXIT_INTERNAL_ERROR)
