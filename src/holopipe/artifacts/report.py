"""Validation findings and reports.

A validator never raises on bad content: it records :class:`Finding` objects in a
:class:`ValidationReport`, each with a machine-readable code, the place in the file
(``location``) and a human message. ``read`` raises :class:`ArtifactError` carrying the
report when it holds errors.

Examples
--------
>>> report = ValidationReport(path="g.npz", schema="GeometryPrediction")
>>> report.error("nonfinite", "z", "2 NaN values (first at index 3)")
>>> report.ok
False
>>> print(report.lines()[0])
g.npz: error nonfinite [z]: 2 NaN values (first at index 3)
"""

from __future__ import annotations

from typing import Literal

import attrs

from holopipe.artifacts.exit_codes import ExitCode

__all__ = ["ArtifactError", "Finding", "Severity", "ValidationReport"]

Severity = Literal["error", "warning"]


@attrs.frozen
class Finding:
    """One problem found in an artifact.

    Parameters
    ----------
    code : str
        Stable, machine-readable class of problem, e.g. ``"missing_key"``.
    location : str
        Where in the artifact: a key, column, group path or JSON path.
    message : str
        What is wrong, for a person.
    severity : {"error", "warning"}
    """

    code: str
    location: str
    message: str
    severity: Severity = attrs.field(
        default="error", validator=attrs.validators.in_(("error", "warning"))
    )


@attrs.define
class ValidationReport:
    """Findings for one artifact (a file or an in-memory object)."""

    path: str = "<memory>"
    schema: str | None = None
    findings: list[Finding] = attrs.field(factory=list)
    #: (schema_name, schema_version) as the file declared them, before any upgrade; set by the
    #: reader of versioned documents, None when the header could not be read.
    declared: tuple[str, str] | None = attrs.field(default=None, eq=False)

    def error(self, code: str, location: str, message: str) -> None:
        self.findings.append(Finding(code, location, message, "error"))

    def warning(self, code: str, location: str, message: str) -> None:
        self.findings.append(Finding(code, location, message, "warning"))

    def extend(self, other: ValidationReport) -> None:
        self.findings.extend(other.findings)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return not self.errors

    @property
    def exit_code(self) -> int:
        """0 valid, 1 warnings only, 2 invalid (the plan's exit-code contract)."""
        if self.errors:
            return int(ExitCode.INCOMPLETE)
        return int(ExitCode.WARNING if self.warnings else ExitCode.OK)

    def lines(self) -> list[str]:
        """One line per finding: ``path: severity code [location]: message``."""
        return [
            f"{self.path}: {f.severity} {f.code} [{f.location}]: {f.message}" for f in self.findings
        ]

    def to_dict(self) -> dict:
        return {
            "path": self.path,
            "schema": self.schema,
            "valid": self.ok,
            "exit_code": self.exit_code,
            "findings": [attrs.asdict(f) for f in self.findings],
        }


class ArtifactError(Exception):
    """An artifact could not be read or written because it is invalid.

    The full :class:`ValidationReport` is in ``.report``; the message lists every error.
    """

    def __init__(self, report: ValidationReport):
        self.report = report
        body = "\n".join(
            line
            for line, f in zip(report.lines(), report.findings, strict=True)
            if f.severity == "error"
        )
        super().__init__(f"invalid {report.schema or 'artifact'} {report.path}:\n{body}")
