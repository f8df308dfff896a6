"""Sandbox universes: bulk geometries with known truth and the boundary data they imply.

Each universe is deterministic from ``(seed, index)`` alone (never from worker, order or
clock): its family is fixed by the index (``n_per_family`` consecutive indices per family, in
the order of :attr:`SandboxSpec.families`), and a generator seeded by ``(seed, index)`` draws,
always in the same order, d, z_h, zeta, theta, a and the operator dimensions from the ranges
of :class:`SandboxSpec` (the family uses the ones it needs).

Bulk truth (PHYSICS.md, "01 sandbox universes"): ``A = A_x``, ``A_t`` (when it differs), the
exact ``f`` and the closed-form Ricci scalar from :func:`holopipe.science.geometry
.metric_functions` on a grid uniform in ``ln z`` (:func:`~holopipe.science.geometry.uv_grid`),
inside ``(0, z_h)`` for thermal universes; the c-function ``1 / |e^-A A'|^(d-1)``; the operators
with ``m^2 = Delta (Delta - d)``, which appear in the truth group only.

Boundary data are computed *from the geometry*: the equal-time two-point function of every
operator in the geodesic approximation, ``G2 = exp(-Delta L_reg(x))``
(:mod:`holopipe.science.boundary`), or the exact BTZ form for ads at d = 2, T > 0; the
``exact`` flag says whether G2 is the exact CFT correlator
(:func:`~holopipe.science.boundary.geodesic_is_exact`). The temperature is the closed form of
the family.

Zero temperature is drawn only for ads and deformed (the first
``zero_temperature_per_family`` universes of each): there the metric is conformal and
equal-time data determine all of it. Lifshitz and hvlf universes are always thermal: at
T = 0 their equal-time data would not see ``A_t`` at all.

Examples
--------
>>> spec = SandboxSpec(families=["deformed"], n_per_family=1, n_z=64, n_x=64)
>>> [plan] = plan_universes(spec, seed=7)
>>> plan.system_name, plan.geometry.is_thermal      # the first deformed universe is at T = 0
('deformed_d3_000', False)
>>> universe = generate_universe(plan, spec)
>>> universe.boundary.method, sorted(universe.boundary.G2)
('geodesic', ['O1', 'O2'])
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import numpy as np

from holopipe.artifacts.identity import system_id
from holopipe.artifacts.prediction import GeometryPrediction
from holopipe.artifacts.sandbox import (
    BoundaryData,
    BulkTruth,
    Operator,
    SandboxGeometry,
    SandboxMeta,
)
from holopipe.data.sandbox_spec import SandboxSpec, _doc, _is_int
from holopipe.science.boundary import btz_two_point, geodesic_is_exact, geodesic_two_point
from holopipe.science.geometry import (
    FamilyParams,
    c_function,
    exact_ricci_scalar,
    metric_functions,
    temperature,
    uv_grid,
)

__all__ = [
    "HORIZON_MARGIN",
    "ZERO_TEMPERATURE_FAMILIES",
    "SandboxSpec",
    "TruthComparison",
    "UniversePlan",
    "compare_with_truth",
    "generate_universe",
    "plan_universes",
    "radial_grid",
]

#: Families drawn at T = 0 (conformal ansatz: equal-time data determine the whole metric).
ZERO_TEMPERATURE_FAMILIES = ("ads", "deformed")
#: A thermal grid ends at z_h (1 - HORIZON_MARGIN): inside (0, z_h), within one grid step of
#: the horizon so that f'(z_h) can be read off the stored arrays.
HORIZON_MARGIN = 1e-3
#: Family parameters of each family, in :class:`FamilyParams` names.
_FAMILY_PARAMETERS = {
    "ads": (),
    "lifshitz": ("zeta",),
    "hvlf": ("zeta", "theta"),
    "deformed": ("a",),
}


# -- drawing -------------------------------------------------------------------------------
@attrs.frozen
class UniversePlan:
    """The drawn definition of one universe; generating it from the plan is deterministic."""

    index: int
    seed: int
    system_name: str
    system_id: str
    geometry: FamilyParams
    deltas: tuple[float, ...]

    @property
    def params(self) -> dict[str, float]:
        """The family's own parameters (zeta, theta, a)."""
        return {
            name: getattr(self.geometry, name) for name in _FAMILY_PARAMETERS[self.geometry.family]
        }


def _generator(seed: int, index: int) -> np.random.Generator:
    if not (_is_int(seed) and 0 <= seed < 2**63):
        raise ValueError(f"seed: must be an integer in [0, 2**63) for the sandbox, got {seed!r}")
    return np.random.default_rng(np.random.SeedSequence([int(seed), int(index)]))


def _plan(spec: SandboxSpec, seed: int, index: int) -> UniversePlan:
    family = spec.families[index // spec.n_per_family]
    rank = index % spec.n_per_family
    rng = _generator(seed, index)
    # Every draw happens for every universe, in this order, so that each value depends on
    # (seed, index) only and not on which parameters the family uses.
    d = int(spec.d_values[int(rng.integers(len(spec.d_values)))])
    z_h = float(rng.uniform(*spec.z_h_range))
    zeta = float(rng.uniform(*spec.zeta_range))
    theta = float(rng.uniform(*spec.theta_range))
    a = float(rng.uniform(*spec.a_range))
    deltas = tuple(sorted(float(v) for v in rng.uniform(*spec.delta_range, size=spec.n_operators)))
    drawn = {"zeta": zeta, "theta": theta, "a": a}
    at_zero_temperature = (
        family in ZERO_TEMPERATURE_FAMILIES and rank < spec.zero_temperature_per_family
    )
    geometry = FamilyParams(
        family,
        d,
        None if at_zero_temperature else z_h,
        **{name: drawn[name] for name in _FAMILY_PARAMETERS[family]},
    )
    name = f"{family}_d{d}_{index:03d}"
    params = {p: drawn[p] for p in _FAMILY_PARAMETERS[family]}
    defining = {
        "family": family,
        "d": d,
        "z_h": geometry.z_h,
        "params": params,
        "operator_dimensions": list(deltas),
    }
    return UniversePlan(index, int(seed), name, system_id(defining, name=name), geometry, deltas)


def plan_universes(spec: SandboxSpec, seed: int) -> list[UniversePlan]:
    """Every universe of ``spec``, drawn from ``(seed, index)``, in index order.

    Examples
    --------
    >>> spec = SandboxSpec(n_per_family=1)
    >>> [p.system_name.split("_")[0] for p in plan_universes(spec, seed=1)]
    ['ads', 'lifshitz', 'hvlf', 'deformed']
    >>> plan_universes(spec, 1) == plan_universes(spec, 1)
    True
    """
    return [_plan(spec, seed, i) for i in range(len(spec.families) * spec.n_per_family)]


# -- generating ----------------------------------------------------------------------------
def radial_grid(
    z_min: float, n: int, *, z_h: float | None = None, z_max: float | None = None
) -> np.ndarray:
    """A radial grid uniform in ln z from ``z_min`` to ``z_h (1 - HORIZON_MARGIN)`` when there
    is a horizon, else to ``z_max``.

    Examples
    --------
    >>> z = radial_grid(1e-3, 100, z_h=1.0)
    >>> float(z[0]), float(z[-1])
    (0.001, 0.999)
    """
    if z_h is None and z_max is None:
        raise ValueError("z_max: required without a horizon z_h")
    z_end = z_max if z_h is None else z_h * (1.0 - HORIZON_MARGIN)
    return uv_grid(z_min, z_end, n)


def _radial_function(geometry: FamilyParams, part: str):
    """``A_x`` or ``f`` of the family as a vectorised callable for the geodesic integrals."""

    def evaluate(z: np.ndarray) -> np.ndarray:
        z = np.asarray(z, dtype=float)
        return getattr(metric_functions(geometry, z.ravel()), part).reshape(z.shape)

    return evaluate


def _boundary(plan: UniversePlan, spec: SandboxSpec, operators: Sequence[Operator]) -> BoundaryData:
    geometry = plan.geometry
    T = temperature(geometry)
    x = np.geomspace(spec.x_range[0], spec.x_range[1], spec.n_x)
    if geometry.family == "ads" and geometry.d == 2 and geometry.is_thermal:
        g2 = {op.name: btz_two_point(x, T, op.Delta) for op in operators}
        return BoundaryData(x_grid=x, G2=g2, temperature=T, exact=True, method="btz_exact")
    warp = _radial_function(geometry, "A_x")
    blackening = _radial_function(geometry, "f") if geometry.is_thermal else None
    g2 = {
        op.name: geodesic_two_point(
            x,
            warp,
            blackening,
            delta=op.Delta,
            z_h=geometry.z_h,
            uv_exponent=geometry.warp_exponents[1],
        )
        for op in operators
    }
    exact = geodesic_is_exact(geometry.family, geometry.d, T)
    return BoundaryData(x_grid=x, G2=g2, temperature=T, exact=exact, method="geodesic")


def generate_universe(plan: UniversePlan, spec: SandboxSpec) -> SandboxGeometry:
    """The SandboxGeometry of a planned universe: bulk truth and boundary data.

    Raises ``ValueError`` when the geometry admits no connected geodesic at some separation
    of ``spec.x_range`` (e.g. strongly negative ``a`` at T = 0).
    """
    geometry = plan.geometry
    d = geometry.d
    z = radial_grid(spec.z_min, spec.n_z, z_h=geometry.z_h, z_max=spec.z_max_zero_temperature)
    metric = metric_functions(geometry, z)
    operators = [
        Operator(f"O{i}", delta, delta * (delta - d)) for i, delta in enumerate(plan.deltas, 1)
    ]
    truth = BulkTruth(
        z_grid=z,
        A_truth=metric.A_x,
        f_truth=metric.f,
        operators=operators,
        A_t_truth=None if np.array_equal(metric.A_t, metric.A_x) else metric.A_t,
        A_z_truth=None if np.array_equal(metric.A_z, metric.A_x) else metric.A_z,
        c_function=c_function(z, metric.A_x, d),
        R_truth=exact_ricci_scalar(geometry, z),
    )
    boundary = _boundary(plan, spec, operators)
    meta = SandboxMeta(
        system_id=plan.system_id,
        system_name=plan.system_name,
        family=geometry.family,
        d=d,
        z_h=geometry.z_h,
        temperature=boundary.temperature,
        category="sandbox",
        params=plan.params,
        seed=plan.seed,
        index=plan.index,
    )
    return SandboxGeometry(meta=meta, truth=truth, boundary=boundary)


# -- scoring a reconstruction ------------------------------------------------------------------
@attrs.frozen
class TruthComparison:
    """How far a reconstructed geometry is from the universe's truth (None: not comparable)."""

    family_correct: bool
    A_max_abs_error: float | None = attrs.field(metadata=_doc("max |A_pred - A_true|"))
    f_max_abs_error: float | None = attrs.field(metadata=_doc("max |f_pred - f_true|"))
    compared_range: tuple[float, float] | None = attrs.field(
        metadata=_doc("z range where prediction and truth grid overlap")
    )
    z_h_rel_error: float | None = attrs.field(metadata=_doc("|z_h_pred / z_h_true - 1|"))
    params_max_abs_error: float | None = attrs.field(
        metadata=_doc("max |p_pred - p_true| over the family parameters (right family only)")
    )
    delta_max_rel_error: float | None = attrs.field(
        metadata=_doc("max |Delta_est / Delta_true - 1| over the estimated operators")
    )


def _max_abs_difference(z_true: np.ndarray, true: np.ndarray, z: np.ndarray, values: np.ndarray):
    from scipy.interpolate import CubicSpline

    inside = (z >= z_true[0]) & (z <= z_true[-1])
    if not inside.any():
        return None
    # The truth is smooth in ln z (power laws near the boundary): a cubic spline there is exact
    # to far below any reconstruction error.
    reference = CubicSpline(np.log(z_true), true)(np.log(z[inside]))
    return float(np.max(np.abs(values[inside] - reference)))


def compare_with_truth(
    universe: SandboxGeometry,
    prediction: GeometryPrediction,
    dimensions: dict[str, float | None],
) -> TruthComparison:
    """Score ``prediction`` against the truth group of ``universe``.

    Meant to run *after* a reconstruction that read the boundary group only; ``dimensions``
    are the operator dimensions the reconstruction estimated, by operator name.
    """
    truth, meta = universe.truth, universe.meta
    z = prediction.z
    inside = (z >= truth.z_grid[0]) & (z <= truth.z_grid[-1])
    compared = (float(z[inside][0]), float(z[inside][-1])) if inside.any() else None
    family_correct = prediction.meta.family == meta.family
    z_h_error = None
    if meta.z_h is not None and prediction.meta.z_h is not None:
        z_h_error = abs(prediction.meta.z_h / meta.z_h - 1.0)
    params_error = None
    if family_correct and meta.params and meta.params.keys() <= prediction.meta.params.keys():
        params_error = max(abs(prediction.meta.params[k] - v) for k, v in meta.params.items())
    true_dimensions = {op.name: op.Delta for op in truth.operators}
    delta_errors = [
        abs(value / true_dimensions[name] - 1.0)
        for name, value in dimensions.items()
        if value is not None and name in true_dimensions
    ]
    return TruthComparison(
        family_correct=family_correct,
        A_max_abs_error=_max_abs_difference(truth.z_grid, truth.A_truth, z, prediction.A),
        f_max_abs_error=_max_abs_difference(truth.z_grid, truth.f_truth, z, prediction.f),
        compared_range=compared,
        z_h_rel_error=z_h_error,
        params_max_abs_error=params_error,
        delta_max_rel_error=max(delta_errors) if delta_errors else None,
    )
