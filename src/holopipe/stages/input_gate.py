"""The stage-to-stage contract at the input gate: exactly the declared types and versions.

A consumer declares, per input, the artifact type and the schema versions it accepts
(:class:`~holopipe.stages.base.InputSpec`). :func:`read_input` reads one input file and either
returns the artifact or the lines that stop the stage before it runs (INCOMPLETE, exit 2):
each names the file, the alias, the schema expected and the schema found, e.g. ::

    invalid_artifact: runs/x/dictionary/dictionary.json: input 'dictionary' expects Dictionary
    (versions 0.2), found Dictionary 9.0: newer_schema_version [schema_version]: ...

The found schema is what the file declares (its header, before any migration), or, when the
file is not of the expected type at all, the type the registry detects for it.

Examples
--------
>>> from holopipe.stages.base import InputSpec
>>> expected_schema(InputSpec("dictionary", "Dictionary", versions=("0.2",)))
'Dictionary (versions 0.2)'
"""

from __future__ import annotations

from pathlib import Path

from holopipe.artifacts.base import Artifact
from holopipe.artifacts.registry import detect_type, get_type
from holopipe.artifacts.report import ValidationReport
from holopipe.run.gates import invalid_artifact
from holopipe.stages.base import InputSpec

__all__ = ["UNRECOGNISED", "expected_schema", "found_schema", "read_input"]

#: What a file that declares no schema and matches no known type is called in the gate's lines.
UNRECOGNISED = "no recognisable artifact"


def expected_schema(spec: InputSpec) -> str:
    """``"Dictionary (versions 0.1, 0.2)"``: what ``spec`` accepts, in words."""
    if spec.versions:
        return f"{spec.schema} (versions {', '.join(spec.versions)})"
    cls = get_type(spec.schema)
    return f"{spec.schema} (version {cls.SCHEMA_VERSION} or older with a migration)"


def found_schema(path: Path, report: ValidationReport) -> str:
    """What ``path`` declares itself to be: ``"Name version"``, or the best guess."""
    if report.declared is not None:
        return " ".join(report.declared)
    try:
        detected = detect_type(path)
    except Exception:  # noqa: BLE001 - a guess for a message; any failure is "unknown"
        detected = None
    if detected is None:
        return UNRECOGNISED
    declared = detected.validate_file(path).declared
    return " ".join(declared) if declared else f"{detected.SCHEMA_NAME} (version not declared)"


def _expected_and_found(spec: InputSpec, found: str) -> str:
    return f"input {spec.alias!r} expects {expected_schema(spec)}, found {found}"


def read_input(spec: InputSpec, path: Path) -> tuple[Artifact | None, list[str]]:
    """Read one input of ``spec``: (artifact, []) or (None, the gate's lines, written by the
    gate's own :func:`~holopipe.run.gates.invalid_artifact`)."""
    report, obj = get_type(spec.schema).read_with_report(path)
    if not report.ok or obj is None:
        found = found_schema(path, report)
        where = _expected_and_found(spec, found)
        if found != UNRECOGNISED and found.split(" ", 1)[0] != spec.schema:  # another type
            return None, [invalid_artifact(path, "wrong artifact type", where)]
        lines = [invalid_artifact(path, finding, where) for finding in report.errors]
        return None, lines or [invalid_artifact(path, "unreadable", where)]
    if spec.versions and (report.declared is None or report.declared[1] not in spec.versions):
        where = _expected_and_found(spec, found_schema(path, report))
        return None, [invalid_artifact(path, "version not accepted by this stage", where)]
    return obj, []
