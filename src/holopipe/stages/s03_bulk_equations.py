"""Stage 03 ``discover_bulk_equations``: curvature and Einstein residuals of every
predicted geometry, and which equation it satisfies (PHYSICS.md, "03 bulk equations").

Per system, from the stored arrays A (= A_x), f and, when present, A_t and A_z, on the
stored grid (:func:`holopipe.science.geometry.ricci_scalar`, high-order differences):

- the Ricci scalar R(z) and the mixed Einstein residuals E^m_m = R^m_m + d (vacuum
  Einstein with Lambda = -d(d-1)/2, L = 1);
- "R constant" against "R polynomial in z" by an information criterion
  (:func:`holopipe.science.analysis.compare_constant_vs_z`). R is compared with z only:
  it is never regressed on A, f or their derivatives, the quantities it was computed from;
- the verdict: ``einstein`` when max |E^m_m| / d < ``einstein_tolerance`` (then R is
  -d(d+1) to that tolerance), otherwise ``constant_curvature`` or ``z_dependent_curvature``
  as the criterion prefers. The verdict comes from the arrays, never from the family label;
- the equations found, as strings, and ``R_expected``: the closed-form constant R of the
  claimed family where that family has one (ads for every z_h, lifshitz at T = 0).

``params`` of each system are the family parameters of the prediction's meta (zeta,
theta, a), plus ``z_h`` for thermal systems; a system without ``z_h`` is at T = 0.
Stage 05 reads them from here, never from names.

Physics findings (an ``ads`` prediction that is not Einstein) are stage warnings, not
errors: the system was analysed, and its result is the finding.

Checks in the stage summary (``ctx.check``): ``<system>.einstein_residual`` = max |E^m_n| / d
of every ``ads`` system against ``einstein_tolerance`` (the value its warning depends on).

Examples
--------
>>> DiscoverBulkEquations.key()
'03_discover_bulk_equations'
>>> BulkEquationsParams().criterion
'bic'
"""

from __future__ import annotations

import attrs

from holopipe.run.context import StageContext
from holopipe.stages.base import InputSpec, OutputSpec, Stage, StageInputs

__all__ = ["BulkEquationsParams", "DiscoverBulkEquations"]


@attrs.define
class BulkEquationsParams:
    """Config section ``stages.03``."""

    model_degree: int = attrs.field(
        default=2,
        validator=attrs.validators.ge(1),
        metadata={"doc": "degree of the polynomial in z of the 'R depends on z' model"},
    )
    criterion: str = attrs.field(
        default="bic",
        validator=attrs.validators.in_(("aic", "bic")),
        metadata={
            "doc": "information criterion deciding 'R constant' vs 'R depends on z': aic | bic"
        },
    )
    relative_floor: float = attrs.field(
        default=1e-4,
        validator=[attrs.validators.gt(0.0), attrs.validators.lt(1.0)],
        metadata={
            "doc": "resolution of R relative to max(|mean R|, 1): "
            "residuals below it count as discretisation error"
        },
    )
    einstein_tolerance: float = attrs.field(
        default=1e-2,
        validator=[attrs.validators.gt(0.0), attrs.validators.lt(1.0)],
        metadata={"doc": "verdict einstein when max |E^m_m| / d is below this (PHYSICS.md: 1e-2)"},
    )


class DiscoverBulkEquations(Stage):
    """R, Einstein residuals and the curvature model comparison of every prediction."""

    ID, SLUG = "03", "discover_bulk_equations"
    VERSION = "2"  # 2: R_uv
    INPUTS = (InputSpec("predictions", "GeometryPrediction"),)
    OUTPUTS = (OutputSpec("bulk_equations", "BulkEquations"),)
    Params = BulkEquationsParams

    def run(self, ctx: StageContext, inputs: StageInputs) -> None:
        from holopipe.stages.work import s03_bulk_equations as work

        work.run(ctx, inputs)
