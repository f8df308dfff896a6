"""Stage 02's work: what :class:`~holopipe.stages.s02_reconstruction.EmergentGeometryEngine` runs
(the module docstring of :mod:`holopipe.stages.s02_reconstruction` describes it).

Imported by the stage's ``run`` only: planning a run reads the declaration alone.
"""

from __future__ import annotations

import math
from typing import Any

import attrs
import numpy as np

from holopipe.artifacts.prediction import GeometryMeta, GeometryPrediction, MeasuredDimension
from holopipe.artifacts.sandbox import SandboxGeometry
from holopipe.data.sandbox import TruthComparison, compare_with_truth, radial_grid
from holopipe.run.context import StageContext
from holopipe.science.geometry import FamilyParams, metric_functions
from holopipe.stages.base import StageInputs
from holopipe.stages.s02_reconstruction import ReconstructionParams

__all__ = ["run"]


@attrs.frozen
class BoundarySystem:
    """What the engine may see of a universe: its identity and its boundary data."""

    system_id: str
    system_name: str
    d: int
    temperature: float
    x: np.ndarray
    G2: dict[str, np.ndarray]
    exact: bool
    boundary_method: str
    theory: str | None


def _boundary_system(universe: SandboxGeometry) -> BoundarySystem:
    meta, boundary = universe.meta, universe.boundary
    return BoundarySystem(
        system_id=meta.system_id,
        system_name=meta.system_name,
        d=meta.d,
        temperature=boundary.temperature,
        x=boundary.x_grid,
        G2=dict(boundary.G2),
        exact=boundary.exact,
        boundary_method=boundary.method,
        theory=meta.theory,
    )


def _finite_or_none(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _measured_dimensions(
    system: BoundarySystem, conformal: list[str], params: ReconstructionParams
) -> list[MeasuredDimension]:
    """Delta with its uncertainty for each operator whose UV is a conformal power law."""
    from holopipe.science.dimensions import METHOD as DIMENSION_METHOD
    from holopipe.science.dimensions import measure_dimension

    method = (
        f"{DIMENSION_METHOD}; {params.dimension_window_decades:g} decade(s) above x_min, "
        f"{params.dimension_corrections} power correction(s)"
    )
    measured = []
    for name in conformal:
        m = measure_dimension(
            system.x,
            system.G2[name],
            window_decades=params.dimension_window_decades,
            n_corrections=params.dimension_corrections,
        )
        measured.append(MeasuredDimension(name, m.delta, m.delta_err, method))
    return measured


@attrs.frozen
class Reconstruction:
    """The prediction of one system: its arrays, its family and how it was found."""

    z: np.ndarray
    A: np.ndarray
    A_t: np.ndarray | None
    f: np.ndarray
    family: str
    params: dict[str, float]
    z_h: float | None
    provenance: dict[str, Any]
    operators: list[MeasuredDimension]

    def prediction(self, system: BoundarySystem, stamp: dict[str, str]) -> GeometryPrediction:
        """The GeometryPrediction of ``system`` (``stamp``: source_stage and git_sha)."""
        meta = GeometryMeta(
            system_id=system.system_id,
            family=self.family,
            d=system.d,
            z_h=self.z_h,
            system_name=system.system_name,
            temperature=system.temperature,
            params=self.params,
            provenance=self.provenance,
            operators=self.operators,
            **stamp,
        )
        return GeometryPrediction(z=self.z, A=self.A, f=self.f, A_t=self.A_t, meta=meta)


def _reconstruct(system: BoundarySystem, params: ReconstructionParams) -> Reconstruction:
    """The prediction of one system, from its boundary data only."""
    from holopipe.science.reconstruction import estimate_uv_dimension

    operator = sorted(system.G2)[0]
    uv = {
        name: estimate_uv_dimension(
            system.x,
            system.G2[name],
            window_decades=params.dimension_window_decades,
            tolerance=params.uv_tolerance,
        )
        for name in sorted(system.G2)
    }
    dimensions = {name: est.delta if est.conformal else None for name, est in uv.items()}
    provenance: dict[str, Any] = {
        "engine": "holopipe reference engine (science.reconstruction)",
        "operator": operator,
        "operator_dimensions": dimensions,
        "uv_residuals": {name: est.max_residual for name, est in uv.items()},
        "exact": system.exact,
        "boundary_method": system.boundary_method,
        "theory": system.theory,
        "inputs": "boundary/ only (x_grid, G2, temperature) and d",
    }
    operators = _measured_dimensions(
        system, [name for name, value in dimensions.items() if value is not None], params
    )
    if system.temperature == 0:
        if dimensions[operator] is None:
            raise ValueError(
                f"G2_{operator}: the UV is not a conformal power law (residual "
                f"{uv[operator].max_residual:.2e} > {params.uv_tolerance:.1e}); the T = 0 Abel "
                "inversion needs an asymptotically AdS geometry"
            )
        return _zero_temperature(
            system, operator, dimensions[operator], params, provenance, operators
        )
    return _thermal(system, operator, params, provenance, operators)


def _zero_temperature(
    system: BoundarySystem,
    operator: str,
    delta: float,
    params: ReconstructionParams,
    provenance: dict[str, Any],
    operators: list[MeasuredDimension],
) -> Reconstruction:
    """T = 0: Abel inversion of G2 for A(z), then the family by least squares on A."""
    from holopipe.science.reconstruction import fit_zero_temperature_family, reconstruct_warp_factor

    rec = reconstruct_warp_factor(system.x, system.G2[operator], delta)
    fit = fit_zero_temperature_family(rec.z, rec.A, tolerance=params.zero_temperature_tolerance)
    provenance = provenance | {
        "method": "abel_inversion",
        "delta": delta,
        "probed_range": list(rec.probed_range),
        "family_choice": "least squares of A(z) against -ln z (ads) and -ln z + a z^2 "
        "(deformed); ads unless deformed lowers the RMS by more than the tolerance",
        "tolerance": params.zero_temperature_tolerance,
        "residuals": dict(fit.residuals),
    }
    return Reconstruction(
        z=rec.z,
        A=rec.A,
        A_t=None,
        f=np.ones_like(rec.z),
        family=fit.family,
        params=dict(fit.params),
        z_h=None,
        provenance=provenance,
        operators=operators,
    )


def _thermal(
    system: BoundarySystem,
    operator: str,
    params: ReconstructionParams,
    provenance: dict[str, Any],
    operators: list[MeasuredDimension],
) -> Reconstruction:
    """T > 0: z_h from T, the family by least squares of ln G2 against the templates."""
    from holopipe.science.reconstruction import fit_thermal_geometry

    fit = fit_thermal_geometry(
        system.x,
        system.G2[operator],
        None,
        system.temperature,
        system.d,
        families=params.families,
        tolerance=params.family_tolerance,
    )
    geometry = FamilyParams(fit.family, system.d, fit.z_h, **fit.params)
    z = radial_grid(params.z_min, params.n_z, z_h=fit.z_h)
    metric = metric_functions(geometry, z)
    provenance = provenance | {
        "method": "thermal_template_fit",
        "delta": fit.delta,
        "family_choice": "least squares of ln G2 against each family template (z_h from T, "
        "delta fitted); the fewest parameters within the tolerance of the best RMS",
        "tolerance": params.family_tolerance,
        "residuals": {c.family: _finite_or_none(c.rms_residual) for c in fit.candidates},
        "candidates": {
            c.family: {
                "params": dict(c.params),
                "z_h": c.z_h,
                "delta": c.delta,
                "rms_residual": _finite_or_none(c.rms_residual),
            }
            for c in fit.candidates
        },
    }
    return Reconstruction(
        z=z,
        A=metric.A_x,
        A_t=None if np.array_equal(metric.A_t, metric.A_x) else metric.A_t,
        f=metric.f,
        family=fit.family,
        params=dict(fit.params),
        z_h=fit.z_h,
        provenance=provenance,
        operators=operators,
    )


def _report(ctx: StageContext, name: str, comparison: TruthComparison) -> list[str]:
    """Per-system metrics of the truth check; returns the reasons for a WARNING."""
    values = {
        "A_max_abs_error": comparison.A_max_abs_error,
        "f_max_abs_error": comparison.f_max_abs_error,
        "z_h_rel_error": comparison.z_h_rel_error,
        "params_max_abs_error": comparison.params_max_abs_error,
        "delta_max_rel_error": comparison.delta_max_rel_error,
        "family_correct": float(comparison.family_correct),
    }
    for key, value in values.items():
        if key != "family_correct" and value is not None and math.isfinite(value):
            ctx.metrics[f"{name}.{key}"] = float(value)
    # The one value the status depends on: a wrong family makes the stage WARNING.
    ctx.check(f"{name}.family_correct", values["family_correct"], 1.0, comparison.family_correct)
    reasons = []
    if not comparison.family_correct:
        reasons.append("family not identified")
    return reasons


def run(ctx: StageContext, inputs: StageInputs) -> None:
    """Run the stage on ``inputs`` (see :mod:`holopipe.stages.s02_reconstruction`)."""
    params: ReconstructionParams = ctx.params
    universes: list[SandboxGeometry] = inputs["sandbox"]
    # The science of the work, imported once here: ctx.map's forked workers inherit it.
    import holopipe.science.dimensions  # noqa: F401
    import holopipe.science.reconstruction  # noqa: F401

    stamp = ctx.provenance.as_fields()

    def work(system: BoundarySystem) -> GeometryPrediction:
        return _reconstruct(system, params).prediction(system, stamp)

    # The work sees boundary data only; the universes (with their truth) stay here.
    systems = [_boundary_system(u) for u in universes]
    results = ctx.map(work, systems, key=lambda s: s.system_id)
    by_id = {u.meta.system_id: u for u in universes}
    written: list[tuple[GeometryPrediction, TruthComparison]] = []
    boundary_only = 0
    for result in results:
        if not result.ok:
            continue
        prediction: GeometryPrediction = result.value
        ctx.write("predictions", prediction, f"{prediction.meta.system_name}_geometry.npz")
        _report_dimensions(ctx, prediction)
        if by_id[result.key].truth is None:
            boundary_only += 1
            continue
        provenance = prediction.meta.provenance
        # The UV estimates, and the dimension the reconstruction used for its operator.
        dimensions = provenance["operator_dimensions"] | {
            provenance["operator"]: provenance["delta"]
        }
        comparison = compare_with_truth(by_id[result.key], prediction, dimensions)
        written.append((prediction, comparison))
        reasons = _report(ctx, prediction.meta.system_name, comparison)
        error = comparison.A_max_abs_error
        if error is not None and error > params.max_abs_A_error:
            reasons.append(f"max |A_rec - A_true| = {error:.2e} > {params.max_abs_A_error}")
        if reasons:
            ctx.mark_system(result.key, "WARNING", "; ".join(reasons))
    ctx.rows = len(written) + boundary_only
    if boundary_only:
        ctx.metrics["boundary_only.systems"] = float(boundary_only)
        ctx.note(
            f"{boundary_only} boundary-only system(s) (real-theory data, no bulk truth): "
            "reconstructed and measured, not scored against a truth"
        )
    if not ctx.rows:
        ctx.incomplete("no geometry could be reconstructed")
        return
    _summarise(ctx, written)


def _report_dimensions(ctx: StageContext, prediction: GeometryPrediction) -> None:
    """Per-operator measured Delta and its uncertainty as summary metrics."""
    name = prediction.meta.system_name
    for op in prediction.meta.operators or []:
        ctx.metrics[f"{name}.Delta.{op.name}"] = op.Delta
        ctx.metrics[f"{name}.Delta_err.{op.name}"] = op.Delta_err


def _summarise(
    ctx: StageContext, written: list[tuple[GeometryPrediction, TruthComparison]]
) -> None:
    """Aggregate truth-check metrics per temperature regime."""
    regimes = {
        "zero_temperature": [c for p, c in written if p.meta.z_h is None],
        "thermal": [c for p, c in written if p.meta.z_h is not None],
    }
    for regime, comparisons in regimes.items():
        if not comparisons:
            continue
        ctx.metrics[f"{regime}.systems"] = float(len(comparisons))
        ctx.metrics[f"{regime}.family_accuracy"] = float(
            np.mean([c.family_correct for c in comparisons])
        )
        for key in (
            "A_max_abs_error",
            "f_max_abs_error",
            "z_h_rel_error",
            "params_max_abs_error",
            "delta_max_rel_error",
        ):
            values = [getattr(c, key) for c in comparisons if getattr(c, key) is not None]
            if values:
                ctx.metrics[f"{regime}.max_{key}"] = float(max(values))
