"""``holopipe validate`` and ``holopipe schema``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from holopipe.artifacts.exit_codes import ExitCode

schema_app = typer.Typer(help="List, show and export the artifact schemas.", no_args_is_help=True)


def validate(
    paths: Annotated[
        list[Path],
        typer.Argument(help="Artifact files, or folders of them, to validate.", show_default=False),
    ],
    schema: Annotated[
        str | None, typer.Option(help="Validate as this type instead of detecting it.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON report per file.")
    ] = False,
    recursive: Annotated[
        bool, typer.Option(help="Search folders' sub-folders too (to --max-depth levels).")
    ] = True,
    max_depth: Annotated[
        int, typer.Option(min=1, help="How many levels of sub-folders a folder is searched.")
    ] = 32,
) -> None:
    """Validate artifact files (a folder: every file under it): one line per finding.

    Files are recognised by content, not name. A folder is searched recursively without
    following links out of it; links that dangle, loop or lead outside, and FIFOs, sockets
    and devices are reported (warnings) and never opened. holopipe's own run records
    (config.resolved.json, cmd.txt, meta_env.json, logs, locks) are recognised. A file may
    hold or declare at most HOLOPIPE_MAX_ARRAY_BYTES bytes (default 256 MiB): more is the
    finding too_large.

    Exit code 0 when every file is valid, 1 when there are only warnings, 2 when a file is
    invalid or missing, 3 on an internal error.
    """
    from holopipe.artifacts.registry import UnknownSchemaError, validate_paths
    from holopipe.artifacts.safety import max_array_bytes

    try:
        max_array_bytes()
        reports = validate_paths(paths, schema, recursive=recursive, max_depth=max_depth)
    except (UnknownSchemaError, ValueError) as exc:
        typer.echo(f"holopipe validate: {exc}", err=True)
        raise typer.Exit(ExitCode.INCOMPLETE) from None
    if as_json:
        typer.echo(json.dumps([r.to_dict() for r in reports], indent=2))
    else:
        for report in reports:
            for line in report.lines():
                typer.echo(line)
            if report.ok and report.schema is not None:  # a skipped entry has no schema
                typer.echo(f"{report.path}: valid {report.schema}")
    raise typer.Exit(max(r.exit_code for r in reports))


@schema_app.command("list")
def schema_list() -> None:
    """List the known artifact types with their version and format."""
    from holopipe.artifacts.registry import available_types

    for name, cls in sorted(available_types().items()):
        typer.echo(f"{name:20s} {cls.SCHEMA_VERSION:8s} {cls.FORMAT:10s} {cls.SUFFIXES[0]}")


@schema_app.command("show")
def schema_show(name: Annotated[str, typer.Argument(help="Artifact type name.")]) -> None:
    """Describe one artifact type: fields, types, required or optional."""
    from holopipe.artifacts.docs import describe_type
    from holopipe.artifacts.registry import UnknownSchemaError, get_type

    try:
        cls = get_type(name)
    except UnknownSchemaError as exc:
        typer.echo(f"holopipe schema show: {exc}", err=True)
        raise typer.Exit(ExitCode.INCOMPLETE) from None
    typer.echo(describe_type(cls))


@schema_app.command("json-schema")
def schema_json(
    name: Annotated[str, typer.Argument(help="Artifact type name (a JSON type).")],
) -> None:
    """Print the JSON Schema of a JSON-based artifact type."""
    from holopipe.artifacts.registry import UnknownSchemaError, json_schema

    try:
        typer.echo(json.dumps(json_schema(name), indent=2, sort_keys=True))
    except UnknownSchemaError as exc:
        typer.echo(f"holopipe schema json-schema: {exc}", err=True)
        raise typer.Exit(ExitCode.INCOMPLETE) from None


def docs(
    output: Annotated[Path | None, typer.Option(help="Write here instead of printing.")] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Exit 1 if OUTPUT differs from what would be generated.")
    ] = False,
) -> None:
    """Generate the Artifact API reference (docs/ARTIFACT_API.md) from the code."""
    from holopipe.artifacts.io import atomic_write_bytes
    from holopipe.docgen import artifact_api_markdown

    text = artifact_api_markdown()
    if check:
        if output is None:
            typer.echo(
                "holopipe: docs --check compares a file: give it with --output, "
                "e.g. holopipe docs --check --output docs/ARTIFACT_API.md",
                err=True,
            )
            raise typer.Exit(2)
        if not output.is_file():
            typer.echo(f"{output} does not exist: run holopipe docs --output {output}", err=True)
            raise typer.Exit(1)
        if output.read_text(encoding="utf-8", errors="replace") != text:
            typer.echo(f"{output} is stale: run holopipe docs --output {output}", err=True)
            raise typer.Exit(ExitCode.WARNING)
        typer.echo(f"{output} is up to date")
    elif output is not None:
        atomic_write_bytes(output, text.encode("utf-8"))
    else:
        typer.echo(text, nl=False)
