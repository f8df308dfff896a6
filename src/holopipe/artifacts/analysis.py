"""BulkAnalysis: per (family, d) trends of the bulk equations and contracts against the
family parameters, and the analytic checks of stage 05; JSON.

- ``groups``: one per (family, d): its systems, the distinct values of each family
  parameter, the count of each stage 03 verdict and, when stage 04 results were given,
  the contract counts;
- ``trends``: a polynomial fit of a per-system result (``quantity``, e.g. ``R_mean``)
  against one family parameter within a group, zero-temperature and thermal systems
  apart; not evaluated (and saying why) when the parameter takes too few distinct values;
- ``checks``: analytic expectations (e.g. the Lifshitz Ricci scalar against zeta); a check
  that could not be evaluated has ``passed`` null and is never a pass.

Examples
--------
>>> a = BulkAnalysis.example()
>>> a.validate().ok
True
>>> a.checks[0].passed
True
"""

from __future__ import annotations

from typing import ClassVar, Self

import attrs

from holopipe.artifacts.base import JSONArtifact
from holopipe.artifacts.checks import check_family
from holopipe.artifacts.contracts import ContractCounts
from holopipe.artifacts.report import ValidationReport

__all__ = ["AnalyticCheck", "BulkAnalysis", "FamilyGroup", "ParameterTrend"]


@attrs.define
class FamilyGroup:
    """The systems of one (family, d)."""

    family: str
    d: int
    system_ids: list[str]
    parameters: dict[str, list[float]] = attrs.field(
        factory=dict,
        metadata={"doc": "distinct values of each family parameter (zeta, theta, a, z_h), sorted"},
    )
    verdicts: dict[str, int] = attrs.field(
        factory=dict, metadata={"doc": "stage 03 verdict -> number of systems"}
    )
    contracts: dict[str, ContractCounts] = attrs.field(
        factory=dict,
        metadata={"doc": "stage 04 counts per contract (empty when 04 results were not given)"},
    )


@attrs.define
class ParameterTrend:
    """A polynomial trend of one per-system result against one family parameter."""

    family: str
    d: int
    thermal: bool = attrs.field(
        metadata={"doc": "systems with a horizon (true) or at zero temperature (false)"}
    )
    parameter: str = attrs.field(
        metadata={"doc": "family parameter from the artifacts' params, e.g. zeta"}
    )
    quantity: str = attrs.field(
        metadata={"doc": "per-system result, e.g. R_mean or contract:null_energy"}
    )
    n_systems: int
    evaluated: bool
    message: str
    degree: int | None = attrs.field(
        default=None, metadata={"doc": "polynomial degree; null when not evaluated"}
    )
    coefficients: list[float] = attrs.field(
        factory=list, metadata={"doc": "ascending powers of the parameter"}
    )
    stderr: list[float] | None = attrs.field(
        default=None, metadata={"doc": "standard errors; null when no degree of freedom is left"}
    )
    residual_rms: float | None = None


@attrs.define
class AnalyticCheck:
    """An analytic expectation tested on a group; never a pass when not evaluated."""

    name: str
    family: str
    d: int | None = attrs.field(metadata={"doc": "null when the run has no system of the family"})
    evaluated: bool
    passed: bool | None = attrs.field(metadata={"doc": "null when not evaluated"})
    tolerance: float
    message: str
    system_ids: list[str] = attrs.field(
        factory=list, metadata={"doc": "the systems the check used"}
    )
    expected_coefficients: list[float] = attrs.field(
        factory=list, metadata={"doc": "ascending powers"}
    )
    fitted_coefficients: list[float] = attrs.field(
        factory=list, metadata={"doc": "ascending powers"}
    )
    max_relative_deviation: float | None = None


@attrs.define
class BulkAnalysis(JSONArtifact):
    """Per (family, d) trends and analytic checks (output of stage 05)."""

    SCHEMA_NAME: ClassVar[str] = "BulkAnalysis"
    SCHEMA_VERSION: ClassVar[str] = "0.1"
    SUFFIXES: ClassVar[tuple[str, ...]] = ("bulk_analysis.json", ".json")

    source_stage: str
    git_sha: str
    inputs: list[str] = attrs.field(
        metadata={"doc": "aliases analysed, e.g. bulk_equations, geometry_contracts"}
    )
    groups: list[FamilyGroup]
    trends: list[ParameterTrend] = attrs.field(factory=list)
    checks: list[AnalyticCheck] = attrs.field(factory=list)

    def _check(self, report: ValidationReport) -> None:
        if not self.groups:
            report.error("empty", "groups", "no (family, d) group in the artifact")
        seen: set[tuple[str, int]] = set()
        for i, g in enumerate(self.groups):
            where = f"groups[{i}]"
            check_family(g.family, f"{where}.family", report)
            if (g.family, g.d) in seen:
                report.error("duplicate", where, f"group ({g.family}, d = {g.d}) appears twice")
            seen.add((g.family, g.d))
            if not g.system_ids:
                report.error("empty", f"{where}.system_ids", "a group has at least one system")
        for i, t in enumerate(self.trends):
            where = f"trends[{i}]"
            if t.evaluated and (t.degree is None or len(t.coefficients) != t.degree + 1):
                report.error("bad_value", where, "an evaluated trend has degree + 1 coefficients")
            if t.evaluated and t.stderr is not None and len(t.stderr) != len(t.coefficients):
                report.error("bad_value", f"{where}.stderr", "one standard error per coefficient")
            if not t.evaluated and (t.coefficients or t.degree is not None):
                report.error("bad_value", where, "a trend not evaluated has no fit")
        for i, c in enumerate(self.checks):
            where = f"checks[{i}].passed"
            if c.evaluated and c.passed is None:
                report.error("bad_value", where, "evaluated check without a result")
            if not c.evaluated and c.passed is not None:
                report.error("bad_value", where, "a check not evaluated cannot pass or fail")

    @classmethod
    def example(cls) -> Self:
        zetas = [1.5, 2.0, 3.0]
        return cls(
            source_stage="05_analyze_bulk_equations",
            git_sha="0000000",
            inputs=["bulk_equations"],
            groups=[
                FamilyGroup(
                    family="lifshitz",
                    d=3,
                    system_ids=[
                        "lifshitz_d3-000000000001",
                        "lifshitz_d3-000000000002",
                        "lifshitz_d3-000000000003",
                    ],
                    parameters={"zeta": zetas},
                    verdicts={"constant_curvature": 3},
                )
            ],
            trends=[
                ParameterTrend(
                    "lifshitz",
                    3,
                    False,
                    "zeta",
                    "R_mean",
                    3,
                    True,
                    "quadratic fit",
                    2,
                    [-6.0, -4.0, -2.0],
                    None,
                    0.0,
                )
            ],
            checks=[
                AnalyticCheck(
                    "lifshitz_ricci_vs_zeta",
                    "lifshitz",
                    3,
                    True,
                    True,
                    1e-2,
                    "fit (1, zeta, zeta^2) = (-6, -4, -2)",
                    ["lifshitz_d3-000000000001"],
                    [-6.0, -4.0, -2.0],
                    [-6.0, -4.0, -2.0],
                    0.0,
                )  # fmt: skip
            ],
        )
