"""BulkEquations: the bulk equations found per system (output of stage 03), JSON.

Per system: the curvature statistics, the Einstein residuals E_mn = R_mn + d g_mn, the
model comparison "R constant" against "R depends on z" and a verdict.

Examples
--------
>>> eq = BulkEquations.example()
>>> eq.validate().ok
True
>>> eq.systems[0].verdict
'einstein'
"""

from __future__ import annotations

from typing import ClassVar, Literal, Self

import attrs

from holopipe.artifacts.base import JSONArtifact
from holopipe.artifacts.checks import check_d_against_name, check_family
from holopipe.artifacts.report import ValidationReport

__all__ = ["BulkEquations", "CurvatureModelComparison", "SystemEquations"]

Verdict = Literal["einstein", "constant_curvature", "z_dependent_curvature", "undetermined"]


@attrs.define
class CurvatureModelComparison:
    """Information criteria of the two curvature models (lower is better)."""

    aic_constant: float
    aic_z_dependent: float
    bic_constant: float
    bic_z_dependent: float
    preferred: Literal["constant", "z_dependent"]


@attrs.define
class SystemEquations:
    system_id: str
    family: str
    d: int
    n_points: int
    R_mean: float
    R_std: float
    max_abs_einstein_residual: float = attrs.field(
        metadata={"doc": "max over z and components of |E^m_n|"}
    )
    model_comparison: CurvatureModelComparison
    verdict: Verdict
    equations: list[str] = attrs.field(
        factory=list, metadata={"doc": "human-readable equations found"}
    )
    params: dict[str, float] = attrs.field(factory=dict)
    R_expected: float | None = attrs.field(
        default=None, metadata={"doc": "-d(d+1) for Einstein spaces"}
    )
    R_uv: float | None = attrs.field(
        default=None,
        metadata={
            "doc": "mean R over the first decade of the grid (z <= 10 z_min): the UV limit, "
            "where a horizon's corrections vanish (optional, added without a version bump)"
        },
    )


@attrs.define
class BulkEquations(JSONArtifact):
    """Bulk equations per system."""

    SCHEMA_NAME: ClassVar[str] = "BulkEquations"
    SCHEMA_VERSION: ClassVar[str] = "0.1"
    SUFFIXES: ClassVar[tuple[str, ...]] = ("bulk_equations.json", ".json")

    source_stage: str
    git_sha: str
    systems: list[SystemEquations]

    def _check(self, report: ValidationReport) -> None:
        if not self.systems:
            report.error("empty", "systems", "no system in the artifact")
        seen: set[str] = set()
        for i, s in enumerate(self.systems):
            where = f"systems[{i}]"
            if s.system_id in seen:
                report.error("duplicate", f"{where}.system_id", f"{s.system_id!r} appears twice")
            seen.add(s.system_id)
            check_family(s.family, f"{where}.family", report)
            check_d_against_name(s.d, s.system_id, f"{where}.d", report)
            if s.n_points < 3:
                report.error(
                    "too_short", f"{where}.n_points", f"need at least 3 points, got {s.n_points}"
                )
            if s.max_abs_einstein_residual < 0 or s.R_std < 0:
                report.error("bad_value", where, "residuals and spreads are non-negative")

    @classmethod
    def example(cls) -> Self:
        return cls(
            source_stage="03_discover_bulk_equations",
            git_sha="0000000",
            systems=[
                SystemEquations(
                    system_id="ads_d3-525ba9894eec",
                    family="ads",
                    d=3,
                    n_points=200,
                    R_mean=-12.0,
                    R_std=1e-9,
                    max_abs_einstein_residual=1e-8,
                    model_comparison=CurvatureModelComparison(
                        -4000.0, -3998.0, -3996.0, -3990.0, "constant"
                    ),
                    verdict="einstein",
                    equations=["R = -12", "R_mn = -3 g_mn"],
                    R_expected=-12.0,
                )
            ],
        )
