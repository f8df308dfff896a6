"""Stage 03's work: what :class:`~holopipe.stages.s03_bulk_equations.DiscoverBulkEquations` runs
(the module docstring of :mod:`holopipe.stages.s03_bulk_equations` describes it).

Imported by the stage's ``run`` only: planning a run reads the declaration alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs
import numpy as np

from holopipe.artifacts.prediction import GeometryPrediction
from holopipe.run.context import StageContext
from holopipe.science.geometry import constant_ricci_scalar, einstein_residuals, ricci_scalar
from holopipe.stages.base import StageInputs
from holopipe.stages.s03_bulk_equations import BulkEquationsParams
from holopipe.stages.work.geometry_contracts import geometry_arrays

if TYPE_CHECKING:
    from holopipe.artifacts.equations import SystemEquations
    from holopipe.science.analysis import ModelComparison

__all__ = ["discover_equations", "EquationsResult", "run", "system_params"]

OUTPUT_FILE = "bulk_equations.json"


def system_params(geometry: GeometryPrediction) -> dict[str, float]:
    """Family parameters from the meta (never from names), with ``z_h`` when thermal."""
    params = {key: float(value) for key, value in geometry.meta.params.items()}
    if geometry.meta.z_h is not None:
        params["z_h"] = float(geometry.meta.z_h)
    return params


def _polynomial_text(coefficients: tuple[float, ...]) -> str:
    terms = [f"{coefficients[0]:.6g}"]
    for power, c in enumerate(coefficients[1:], start=1):
        monomial = "z" if power == 1 else f"z^{power}"
        terms.append(f"{'-' if c < 0 else '+'} {abs(c):.6g} {monomial}")
    return " ".join(terms)


@attrs.frozen
class EquationsResult:
    """What one system contributes: its equations, and a physics finding worth a warning."""

    system: SystemEquations
    finding: str | None = None


@attrs.frozen
class _Verdict:
    verdict: str
    equations: list[str]


def _verdict(
    z: np.ndarray, R: np.ndarray, max_residual: float, d: int, params: BulkEquationsParams
) -> tuple[_Verdict, ModelComparison]:
    """einstein, constant or z-dependent curvature, from the arrays (never the family name)."""
    from holopipe.science.analysis import compare_constant_vs_z, fit_polynomial_trend

    comparison = compare_constant_vs_z(
        z, R, degree=params.model_degree, relative_floor=params.relative_floor,
        criterion=params.criterion,
    )  # fmt: skip
    if max_residual / d < params.einstein_tolerance:
        einstein_value = constant_ricci_scalar("ads", d, None, {})
        equations = [
            f"R_mn = -{d} g_mn (max |E^m_n| = {max_residual:.3e})",
            f"R = {comparison.mean:.8g} (Einstein value {einstein_value:g})",
        ]
        return _Verdict("einstein", equations), comparison
    if comparison.constant_preferred:
        equations = [
            f"R = {comparison.mean:.8g} +- {comparison.std:.2e} (constant, by {params.criterion})"
        ]
        return _Verdict("constant_curvature", equations), comparison
    fit = fit_polynomial_trend(z, R, degree=params.model_degree)
    equations = [
        f"R(z) = {_polynomial_text(fit.coefficients)} "
        f"(least squares in z, rms residual {fit.residual_rms:.2e}; "
        f"preferred by {params.criterion})"
    ]
    return _Verdict("z_dependent_curvature", equations), comparison


def discover_equations(
    geometry: GeometryPrediction, params: BulkEquationsParams
) -> EquationsResult:
    """The bulk equations of one geometry, and a physics finding worth a warning (or None)."""
    from holopipe.artifacts.equations import CurvatureModelComparison, SystemEquations
    from holopipe.science.analysis import uv_mean

    meta = geometry.meta
    d = meta.d
    arrays = geometry_arrays(geometry)
    R = ricci_scalar(*arrays, d=d)
    residuals = einstein_residuals(*arrays, d=d)
    if not (np.all(np.isfinite(R)) and all(np.all(np.isfinite(c)) for c in residuals)):
        raise ValueError("the curvature is not finite on the stored grid")
    max_residual = float(max(np.max(np.abs(c)) for c in residuals))
    found, comparison = _verdict(arrays.z, R, max_residual, d, params)
    finding = None
    if meta.family == "ads" and found.verdict != "einstein":
        finding = (
            f"{meta.system_id}: family ads but not Einstein "
            f"(max |E^m_n| / d = {max_residual / d:.3e})"
        )
    system = SystemEquations(
        system_id=meta.system_id,
        family=meta.family,
        d=d,
        n_points=int(arrays.z.size),
        R_mean=comparison.mean,
        R_std=comparison.std,
        max_abs_einstein_residual=max_residual,
        model_comparison=CurvatureModelComparison(
            aic_constant=comparison.aic_constant,
            aic_z_dependent=comparison.aic_z,
            bic_constant=comparison.bic_constant,
            bic_z_dependent=comparison.bic_z,
            preferred="constant" if comparison.constant_preferred else "z_dependent",
        ),
        verdict=found.verdict,
        equations=found.equations,
        params=system_params(geometry),
        # The closed-form R of the claimed family where it is a constant (ads for every z_h,
        # lifshitz at T = 0), decided by science.geometry, not by the name.
        R_expected=constant_ricci_scalar(meta.family, d, meta.z_h, meta.params),
        R_uv=uv_mean(arrays.z, R),
    )
    return EquationsResult(system, finding)


def _check_ads_is_einstein(
    ctx: StageContext, system: SystemEquations, params: BulkEquationsParams
) -> None:
    """The value the status depends on: an ``ads`` system's max |E^m_n| / d against
    ``einstein_tolerance`` (a failure is the warning of :func:`discover_equations`; other
    families' verdicts are results, not checks)."""
    if system.family == "ads":
        ctx.check(
            f"{system.system_id}.einstein_residual",
            system.max_abs_einstein_residual / system.d,
            params.einstein_tolerance,
            system.verdict == "einstein",
            group=system.family,
        )


def run(ctx: StageContext, inputs: StageInputs) -> None:
    """Run the stage on ``inputs`` (see :mod:`holopipe.stages.s03_bulk_equations`)."""
    # The code of the work, imported once here: ctx.map's forked workers inherit it.
    import holopipe.science.analysis  # noqa: F401
    from holopipe.artifacts.equations import BulkEquations

    params: BulkEquationsParams = ctx.params
    geometries = inputs["predictions"]
    results = ctx.map(
        lambda g: discover_equations(g, params), geometries, key=lambda g: g.meta.system_id
    )
    systems = []
    for result in results:
        if not result.ok:
            continue
        found: EquationsResult = result.value
        systems.append(found.system)
        _check_ads_is_einstein(ctx, found.system, params)
        if found.finding:
            ctx.warn(found.finding)
    if not systems:
        ctx.incomplete("no geometry could be analysed: nothing to write")
        return
    artifact = BulkEquations(systems=systems, **ctx.provenance.as_fields())
    ctx.write("bulk_equations", artifact, OUTPUT_FILE)
    ctx.rows = len(systems)
    ctx.metrics["n_systems"] = float(len(systems))
    for verdict in ("einstein", "constant_curvature", "z_dependent_curvature"):
        ctx.metrics[f"n_{verdict}"] = float(sum(s.verdict == verdict for s in systems))
    deviations = [abs(s.R_mean - s.R_expected) / abs(s.R_expected) for s in systems if s.R_expected]
    if deviations:
        ctx.metrics["max_rel_deviation_from_R_expected"] = float(max(deviations))
