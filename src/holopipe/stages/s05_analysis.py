"""Stage 05 ``analyze_bulk_equations``: per (family, d), trends of the stage 03 results
(and the stage 04 contract values, when given) against the family parameters, and the
analytic checks (PHYSICS.md, "05 analysis").

Family parameters (zeta, theta, a, z_h) are read from the ``params`` of the bulk equations
artifact, which stage 03 copies from the predictions' meta; they are never parsed from
names. A system without ``z_h`` is at zero temperature; zero-temperature and thermal
systems are analysed apart (their curvature differs qualitatively). Contract results are
joined to the systems by ``system_id``; controls (roles other than ``prediction``) are left out.

Trends: for each group, parameter and per-system quantity (``R_mean``,
``max_abs_einstein_residual``, ``contract:<name>`` values), a polynomial of degree
min(``max_degree``, distinct values - 1) in the parameter
(:func:`holopipe.science.analysis.fit_polynomial_trend`); fewer than two distinct values
is recorded as not evaluated.

Check: for each d with Lifshitz systems, R against zeta follows -2 zeta^2 - 2(d-1) zeta - d(d-1)
(:func:`holopipe.science.analysis.check_lifshitz_ricci_trend`, which needs three distinct zeta):
the mean R of the zero-temperature systems when there are any, else the UV value ``R_uv`` of
the thermal ones (stage 03: R on the first decade of the grid, where the horizon's correction
``-(d-1)(zeta-1)(z/z_h)^(d+zeta-1)`` vanishes; at T > 0 R is not constant, so its mean does not
follow the law). With too few, or no Lifshitz system at all, the check is recorded as not
evaluated, never as a pass.

Status policy: a failed check, or nothing evaluated at all, is a warning (exit 1): the
analysis is descriptive and 06 does not depend on it, so it does not stop the pipeline. A
check that cannot be evaluated on these data (e.g. the Lifshitz check with no Lifshitz
system at zero temperature) is a note in the summary and ``passed: null`` in the artifact.

Checks in the stage summary: ``d<d>.lifshitz_ricci_vs_zeta`` per evaluated Lifshitz check,
its largest relative deviation against ``lifshitz_rtol`` (a failure is the warning above).

Examples
--------
>>> AnalyzeBulkEquations.key()
'05_analyze_bulk_equations'
"""

from __future__ import annotations

import attrs

from holopipe.run.context import StageContext
from holopipe.stages.base import InputSpec, OutputSpec, Stage, StageInputs

__all__ = ["AnalyzeBulkEquations", "AnalysisParams"]


@attrs.define
class AnalysisParams:
    """Config section ``stages.05``."""

    max_degree: int = attrs.field(
        default=2,
        validator=attrs.validators.ge(1),
        metadata={"doc": "largest polynomial degree of a trend"},
    )
    lifshitz_rtol: float = attrs.field(
        default=1e-2,
        validator=[attrs.validators.gt(0.0), attrs.validators.lt(1.0)],
        metadata={
            "doc": "Lifshitz R(zeta) check: deviation allowed, "
            "relative to the largest expected coefficient"
        },
    )


class AnalyzeBulkEquations(Stage):
    """Per (family, d) trends against the family parameters, and the analytic checks."""

    ID, SLUG = "05", "analyze_bulk_equations"
    VERSION = "2"  # 2: the Lifshitz check uses R_uv at T > 0
    INPUTS = (
        InputSpec("bulk_equations", "BulkEquations"),
        InputSpec("geometry_contracts", "GeometryContracts", required=False),
    )
    OUTPUTS = (OutputSpec("bulk_analysis", "BulkAnalysis"),)
    Params = AnalysisParams

    def run(self, ctx: StageContext, inputs: StageInputs) -> None:
        from holopipe.stages.work import s05_analysis as work

        work.run(ctx, inputs)
