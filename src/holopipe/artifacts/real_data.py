"""RealDataContracts: the contracts of stage 09 (real CFT data, dictionary entries, the
negative-controls gate), each evaluated or not, with a verdict, JSON.

``checks`` lists every contract on every subject: ``kind`` is ``real_data`` (a measured
dimension against a shipped reference value: pull, unitarity, bf_bound, quantisation),
``dictionary`` (an atlas operator with m^2: unitarity, bf_bound, branch_policy) or
``negative_controls`` (stage 04c's false-positive rate and coverage). ``comparisons`` reports
each real-data operator's measured and reference values, pull and branches. ``round_trip`` is
true when the measured values came from boundary data synthesised from the reference table
itself: then agreement tests the measurement, not the theory, and ``round_trip_note`` says so.

The verdict is INCOMPLETE when no contract was evaluated, FAIL when an evaluated one failed,
else PASS.

Examples
--------
>>> import tempfile, pathlib
>>> r = RealDataContracts.example()
>>> path = r.write(pathlib.Path(tempfile.mkdtemp()) / "real_data_contracts.json")
>>> RealDataContracts.read(path) == r, r.verdict
(True, 'PASS')
"""

from __future__ import annotations

from typing import ClassVar, Literal, Self

import attrs

from holopipe.artifacts.base import JSONArtifact
from holopipe.artifacts.report import ValidationReport

__all__ = ["ContractCheck", "OperatorComparison", "RealDataContracts", "verdict_of"]

Verdict = Literal["PASS", "FAIL", "INCOMPLETE"]


@attrs.define
class ContractCheck:
    """One contract on one subject."""

    kind: Literal["real_data", "dictionary", "negative_controls"]
    subject: str = attrs.field(metadata={"doc": "system_id/operator, or negative_controls"})
    name: str = attrs.field(metadata={"doc": "pull, unitarity, bf_bound, quantisation, ..."})
    evaluated: bool
    passed: bool | None = attrs.field(metadata={"doc": "null when not evaluated"})
    value: float | None
    tolerance: float
    message: str


@attrs.define
class OperatorComparison:
    """A measured dimension of a real theory against its reference value."""

    system_id: str
    theory: str
    operator: str
    d: int
    Delta: float = attrs.field(metadata={"doc": "measured (stage 02)"})
    Delta_err: float | None
    Delta_ref: float
    Delta_ref_err: float
    pull: float | None = attrs.field(metadata={"doc": "null without a measured uncertainty"})
    branch: Literal["+", "-"] = attrs.field(metadata={"doc": "the branch the measured Delta needs"})
    reference_branch: Literal["+", "-"]
    m2: float = attrs.field(metadata={"doc": "inferred Delta (Delta - d)"})
    citation: str
    round_trip: bool


def verdict_of(checks: list[ContractCheck]) -> Verdict:
    evaluated = [c for c in checks if c.evaluated]
    if not evaluated:
        return "INCOMPLETE"
    return "PASS" if all(c.passed for c in evaluated) else "FAIL"


@attrs.define
class RealDataContracts(JSONArtifact):
    """Stage 09's contracts: measured dimensions against shipped CFT reference tables (pull,
    unitarity, BF bound, quantisation), dictionary entries (unitarity, BF bound, branch rule)
    and stage 04c's negative-controls gate; ``round_trip`` says when the data came from the
    reference table itself. Verdict INCOMPLETE / FAIL / PASS."""

    SCHEMA_NAME: ClassVar[str] = "RealDataContracts"
    SCHEMA_VERSION: ClassVar[str] = "0.1"
    SUFFIXES: ClassVar[tuple[str, ...]] = ("real_data_contracts.json", ".json")

    source_stage: str = attrs.field(metadata={"doc": "stage that produced it"})
    git_sha: str = attrs.field(metadata={"doc": "code version that produced it"})
    theories: list[str] = attrs.field(metadata={"doc": "reference tables compared, by file"})
    round_trip: bool = attrs.field(
        metadata={"doc": "true when measured values came from data synthesised from the table"}
    )
    round_trip_note: str | None = attrs.field(metadata={"doc": "the round trip in words"})
    comparisons: list[OperatorComparison] = attrs.field(
        metadata={"doc": "per real-data operator: measured vs reference, pull, branches"}
    )
    checks: list[ContractCheck] = attrs.field(metadata={"doc": "every contract, evaluated or not"})
    verdict: Verdict = attrs.field(metadata={"doc": "INCOMPLETE (none evaluated), FAIL or PASS"})

    def _check(self, report: ValidationReport) -> None:
        for i, c in enumerate(self.checks):
            if c.evaluated != (c.passed is not None):
                report.error(
                    "bad_value",
                    f"checks[{i}].passed",
                    "passed is a bool exactly when the check was evaluated",
                )
        if report.ok and self.verdict != verdict_of(self.checks):
            report.error(
                "stale_verdict",
                "verdict",
                f"says {self.verdict} but the checks give {verdict_of(self.checks)}",
            )
        if self.round_trip != any(c.round_trip for c in self.comparisons):
            report.error(
                "bad_value",
                "round_trip",
                "must be true exactly when a comparison is a round trip",
            )
        if self.round_trip and not self.round_trip_note:
            report.error("missing_note", "round_trip_note", "a round trip must say so in words")
        if self.verdict == "INCOMPLETE":
            report.warning("nothing_evaluated", "checks", "zero contracts evaluated: INCOMPLETE")

    @classmethod
    def example(cls) -> Self:
        sid = "ising3d_d3_example-000000000000"
        comparison = OperatorComparison(
            sid,
            "ising3d",
            "sigma",
            3,
            0.51815,
            2e-5,
            0.5181489,
            1e-6,
            0.05,
            "-",
            "-",
            0.51815 * (0.51815 - 3),
            "Kos et al. (2016), arXiv:1603.04436, Section 3, eq. (3.1)",
            False,
        )
        checks = [
            ContractCheck("real_data", f"{sid}/sigma", "pull", True, True, 0.05, 3.0, "pull 0.05"),
            ContractCheck(
                "negative_controls",
                "negative_controls",
                "false_positive_rate",
                True,
                True,
                0.0,
                0.0,
                "0 of 10 controls passed wrongly",
            ),
        ]
        return cls(
            source_stage="example",
            git_sha="0000000",
            theories=["ising3d"],
            round_trip=False,
            round_trip_note=None,
            comparisons=[comparison],
            checks=checks,
            verdict="PASS",
        )
