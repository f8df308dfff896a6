"""Stage 06 ``build_bulk_eigenmodes_dataset``: scalar eigenmodes of every predicted geometry.

For every GeometryPrediction and every bulk mass ``m2`` configured for its dimension d, the
stage asks :mod:`holopipe.science.sturm_liouville` for the lowest ``n_modes`` boundary masses
``M2`` (eigenvalues, units L = 1; ``m2`` is the *input*) and for Delta read off the UV falloff of
the integrated solution, and writes one EigenmodesDataset (``bulk_modes_dataset.csv`` and its
``.meta.json``). No physics is computed here: the stage picks the eigenproblem, calls the solver
and records what it did.

Interval and eigenproblem of each row (recorded in ``bc_uv``, ``bc_ir``, ``z_uv``, ``z_ir``,
``n_grid`` and ``method``; ``method`` starts with the eigenproblem token):

- UV end: the boundary itself, ``z_uv = 0``, with the solver's finite-energy condition that
  keeps ``psi ~ z^Delta`` of the row's branch (exact for both branches; a cutoff at the first
  data point would shift the Delta_- modes by O(z[0]^(2 nu))). Below the first data point the
  solver follows the UV series ``A + ln z = B0 + b2 z^2`` and ``f = f0 + f_d z^d`` fitted to the
  first points (recorded in ``method``); ``B0`` and ``f0`` set the imposed exponent. Delta is
  measured from the data only (one integration per mass gives both branches, windows starting
  at ``z[0]``).
- T = 0 (``meta.z_h`` null): a Dirichlet hard wall at ``wall_z_ir`` (default: the end of the
  stored grid), ``normal`` modes: eigenvalue ``w^2`` at k = 0, i.e. ``M2 = w^2 - k^2``.
- thermal (``meta.z_h`` set), ``thermal_ir = "horizon"`` (default): the horizon, located as the
  zero of the stored f at the end of the data, is the natural end of the interval. Normal modes
  have a continuous spectrum there (the horizon is at infinite tortoise distance), so the rows
  are the Hermitian *static screening* problem: w = 0, eigenvalue ``M2 = -k^2`` (static
  correlators decay as ``exp(-M |x|)``), regular at the horizon. ``thermal_ir = "wall"`` puts a
  Dirichlet wall before the horizon instead and solves normal modes there.
- branches: ``+`` (Delta_+ = d/2 + nu, standard quantisation) always; ``-`` (Delta_-,
  alternative quantisation) where ``alternative_quantization`` is on and 0 < nu < 1, the only
  range where Delta_- is an operator dimension (nu within ``NU_WINDOW_MARGIN`` of 0 or 1 is
  treated as outside: there Delta_- is degenerate with Delta_+ or sits on the unitarity bound).

Quality flags (only ``ok`` rows are data; ``EigenmodesDataset``'s ``QUALITIES``):

- ``ok``: solved; the solver's error estimate of M2 is within ``max_rel_error_estimate`` and the
  measured Delta agrees with the exponent the solver imposed (from the UV limit of the fitted
  series) to ``max_delta_error``.
- ``unstable``: solved, but M2 < 0: a static normalisable mode at real momentum k^2 = -M2
  (thermal screening problem) or w^2 < 0 (normal modes), i.e. the geometry is unstable for that
  scalar (e.g. a deformed d = 2 black hole with a > 0 at m2 = -0.75 on the Delta_- branch).
  Listed in one stage note; the reason is in ``method``.
- ``inaccurate``: solved, but one of those checks failed (e.g. too few cells for the
  requested modes, a reconstructed geometry whose fitted UV limit disagrees with its
  measured falloff, or a falloff whose own error estimate exceeds ``max_delta_error``, as
  right at the BF bound where nu = sqrt(q) amplifies errors), with a stage warning; the reason
  is in ``method``.
- ``error``: not solved (M2 and Delta are NaN, the reason is in ``method``), with a stage warning.
  This includes a measured Delta that cannot be an operator dimension (negative, or Delta_- at
  or below the unitarity bound): that is a bug to surface, never data.
- ``not_applicable``: the geometry is not of the conformal ansatz the solver assumes
  (``lifshitz``/``hvlf`` families, stored ``A_t``/``A_z`` different from ``A``, or a UV exponent
  other than 1, which the solver itself refuses). One row per configured mass with M2 and Delta
  NaN and the reason in ``method``; one stage note (not a warning: this is the solver's
  documented domain, not a failure) lists them. Writing
  rows rather than dropping the system keeps every (system, m2) accounted for in the dataset.

Checks in the stage summary, per solved (system, m2, branch) (:class:`BranchAccuracy`):
``M2_rel_error_estimate`` against ``max_rel_error_estimate``, ``delta_error_estimate`` (the
falloff's own estimate) and ``delta_deviation`` against ``max_delta_error``: the values the
rows' quality, and so the stage's warnings, depend on.

A stage with no ``ok`` row at all is INCOMPLETE (nothing was computed), never a silent pass.

Examples
--------
A config section (``stages.06``)::

    {"masses": {"3": [-2.0, 0.0], "4": [-3.0, 5.0], "default": [0.0]}, "n_modes": 3}
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

import attrs
import numpy as np

from holopipe.artifacts.prediction import GeometryPrediction
from holopipe.run.context import StageContext
from holopipe.science.defaults import bf_bound
from holopipe.science.sturm_liouville import (
    ConformalGeometry,
    ScalarSpectrum,
    nu,
    solve_scalar_modes_on,
)
from holopipe.stages.base import InputSpec, OutputSpec, Stage, StageInputs
from holopipe.stages.validators import optional_positive_finite, positive_finite

if TYPE_CHECKING:
    from holopipe.artifacts.eigenmodes import EigenmodeBlock, EigenmodeRow
    from holopipe.run.executors import ItemResult
    from holopipe.science.uv_falloff import UVFalloff


__all__ = [
    "BuildBulkEigenmodesDataset",
    "EigenmodesParams",
    "SystemModes",
    "system_block",
    "system_modes",
]

#: Families outside the conformal ansatz A_t = A_x = A_z (PHYSICS.md).
NON_CONFORMAL_FAMILIES = ("lifshitz", "hvlf")
#: Largest |A_t - A| or |A_z - A| still read as the conformal ansatz (stored round-off).
ANSATZ_TOLERANCE = 1e-9
#: Relative disagreement between ``meta.z_h`` and the zero of the stored f that is reported.
HORIZON_MISMATCH = 1e-3
#: nu this close to 0 or 1 counts as the end of the alternative-quantisation window (nu = 1 with
#: round-off in the fitted UV warp must not produce a Delta_- row at the unitarity bound).
NU_WINDOW_MARGIN = 1e-6
#: The key of ``masses`` used for every d without its own entry.
DEFAULT_MASSES_KEY = "default"
#: Smallest boundary dimension of any system (sandbox rule d >= 2): the "default" masses must
#: respect its BF bound, which then holds for every d.
SMALLEST_D = 2

OUTPUT_FILE = "bulk_modes_dataset.csv"

#: Why a row with M2 < 0 is flagged ``unstable`` (recorded in its ``method``).
UNSTABLE_REASON = (
    "M2 < 0: a static normalisable mode at real momentum k^2 = -M2 (or w^2 < 0), an "
    "instability of this geometry for this scalar; not data"
)

_FALLOFF_BRANCH = {"+": "plus", "-": "minus"}  # row branch -> UVFalloffBranches field

_EIGENPROBLEM_WORDS = {
    "normal": "normal: eigenvalue w^2 at k = 0, M2 = w^2 - k^2",
    "screening": "screening: w = 0, eigenvalue M2 = -k^2 (static correlators ~ exp(-M |x|))",
}


def _default_masses() -> dict[str, list[float]]:
    # The (d, m2) pairs of PHYSICS.md (nu = 1/2, 3/2, 1, 3, 1/2) plus m2 = 0 for d = 2.
    return {"2": [-0.75, 0.0], "3": [-2.0, 0.0], "4": [-3.0, 5.0], DEFAULT_MASSES_KEY: [0.0]}


def _check_masses(
    instance: object, attribute: attrs.Attribute, value: dict[str, list[float]]
) -> None:
    name = attribute.name
    if not value:
        raise ValueError(
            f"{name}: give at least one list of masses (keys: d, or {DEFAULT_MASSES_KEY!r})"
        )
    for key, masses in value.items():
        if key == DEFAULT_MASSES_KEY:
            d = SMALLEST_D
        elif key.isdigit() and int(key) >= 2:
            d = int(key)
        else:
            raise ValueError(
                f"{name}.{key}: keys are a dimension d >= 2 ('3') or {DEFAULT_MASSES_KEY!r}"
            )
        if not masses:
            raise ValueError(f"{name}.{key}: empty list of masses")
        if len(set(masses)) != len(masses):
            raise ValueError(f"{name}.{key}: repeated masses {masses}")
        for i, m2 in enumerate(masses):
            if not (math.isfinite(m2) and m2 >= bf_bound(d)):
                scope = f"d = {d}" + (", the smallest d" if key == DEFAULT_MASSES_KEY else "")
                raise ValueError(
                    f"{name}.{key}[{i}]: m2 = {m2!r} is below the BF bound {bf_bound(d)} "
                    f"for {scope}"
                )


def _check_n_grid(instance: EigenmodesParams, attribute: attrs.Attribute, value: int) -> None:
    minimum = 16 * instance.n_modes
    if value % 4 or value < minimum:
        raise ValueError(
            f"{attribute.name}: must be a multiple of 4 and >= 16 n_modes = {minimum}, got {value}"
        )


@attrs.define
class EigenmodesParams:
    """Config section ``stages.06``."""

    masses: dict[str, list[float]] = attrs.field(
        factory=_default_masses,
        validator=_check_masses,
        metadata={
            "doc": "bulk masses m2 per boundary dimension: keys '2', '3', ... and 'default' "
            "for any other d; each m2 must respect the BF bound -d^2/4 of its d ('default': "
            "of d = 2)"
        },
    )
    n_modes: int = attrs.field(
        default=3, validator=attrs.validators.ge(1), metadata={"doc": "lowest modes per mass"}
    )
    alternative_quantization: bool = attrs.field(
        default=True, metadata={"doc": "also give the Delta_- branch where 0 < nu < 1"}
    )
    wall_z_ir: float | None = attrs.field(
        default=None,
        validator=optional_positive_finite,
        metadata={"doc": "hard-wall position of T = 0 systems; null: the end of each stored grid"},
    )
    thermal_ir: Literal["horizon", "wall"] = attrs.field(
        default="horizon",
        validator=attrs.validators.in_(("horizon", "wall")),
        metadata={
            "doc": "thermal systems: 'horizon' (static screening problem, regular at f = 0) "
            "or 'wall' (normal modes, Dirichlet wall at wall_z_ir or the end of the grid, "
            "which must lie before the horizon)"
        },
    )
    n_grid: int = attrs.field(
        default=192,
        validator=_check_n_grid,
        metadata={
            "doc": "cells of the finest solver grid (N/2 and N/4 give the Richardson "
            "extrapolation and its error estimate); 192 keeps M_1..M_3 of the hard wall "
            "within 1e-7 relative (benchmarks/bench_stage06.py)"
        },
    )
    max_rel_error_estimate: float = attrs.field(
        default=1e-5,
        validator=positive_finite,
        metadata={
            "doc": "rows whose estimated |dM2| / max(|M2|, z_ir^-2) exceeds this are "
            "'inaccurate' (the estimate is conservative by >= 16: M_n stays within ~1e-6)"
        },
    )
    max_delta_error: float = attrs.field(
        default=1e-5,
        validator=positive_finite,
        metadata={
            "doc": "rows whose measured Delta (UV falloff of the data) and the exponent the "
            "solver imposed (from the fitted UV limit) differ by more than this are 'inaccurate'"
        },
    )

    def masses_for(self, d: int) -> list[float] | None:
        """The masses of dimension d (its own entry, else ``default``), or None."""
        return self.masses.get(str(d), self.masses.get(DEFAULT_MASSES_KEY))


@attrs.frozen
class SystemModes:
    """What one system contributes: its rows, its status in the summary and messages for it."""

    system_id: str
    rows: list[EigenmodeRow]
    status: Literal["OK", "WARNING"] = "OK"
    reason: str | None = None
    warnings: list[str] = attrs.field(factory=list)
    max_rel_error_estimate: float = 0.0
    max_delta_deviation: float = 0.0
    accuracy: list[BranchAccuracy] = attrs.field(factory=list)
    block: EigenmodeBlock | None = attrs.field(
        default=None,
        metadata={"doc": "the rows checked and formatted as dataset lines (by the stage's work)"},
    )

    @property
    def not_applicable(self) -> bool:
        return bool(self.rows) and all(row.quality == "not_applicable" for row in self.rows)


@attrs.frozen
class _Interval:
    """The IR end chosen for one system and the eigenproblem it implies."""

    z_ir: float
    bc_ir: Literal["dirichlet", "horizon"]
    eigenproblem: Literal["normal", "screening"]


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _non_conformal_reason(prediction: GeometryPrediction) -> str | None:
    family = prediction.meta.family
    if family in NON_CONFORMAL_FAMILIES:
        return f"family {family!r} is not of the conformal ansatz (A_t != A_x or UV exponent != 1)"
    for name in ("A_t", "A_z"):
        warp = getattr(prediction, name)
        if warp is not None and np.max(np.abs(warp - prediction.A)) > ANSATZ_TOLERANCE:
            return f"stored {name} differs from A: not the conformal ansatz A_t = A_x = A_z"
    return None


def _row(prediction: GeometryPrediction, **fields: object) -> EigenmodeRow:
    """A row of ``prediction``'s system: its id, family, d and z_h (nan at T = 0) travel along."""
    from holopipe.artifacts.eigenmodes import EigenmodeRow

    meta = prediction.meta
    z_h = math.nan if meta.z_h is None else float(meta.z_h)
    return EigenmodeRow(system_id=meta.system_id, family=meta.family, d=meta.d, z_h=z_h, **fields)


def _placeholder_rows(
    prediction: GeometryPrediction,
    masses: list[float],
    params: EigenmodesParams,
    quality: str,
    why: str,
) -> list[EigenmodeRow]:
    """One unsolved row per mass on the data's range (M2, Delta NaN), the reason in ``method``."""
    z = prediction.z
    return [
        _row(
            prediction,
            m2=float(m2),
            Delta=math.nan,
            branch="+",
            mode_id=0,
            M2=math.nan,
            quality=quality,
            bc_uv="not solved",
            bc_ir="not solved",
            z_uv=float(z[0]),
            z_ir=float(z[-1]),
            n_grid=params.n_grid,
            method=f"{quality}: {_one_line(why)}",
        )
        for m2 in masses
    ]


def _interval(
    geometry: ConformalGeometry, prediction: GeometryPrediction, params: EigenmodesParams
) -> _Interval:
    wall = params.wall_z_ir if params.wall_z_ir is not None else float(prediction.z[-1])
    if prediction.meta.z_h is None or params.thermal_ir == "wall":
        return _Interval(wall, "dirichlet", "normal")
    return _Interval(geometry.horizon(), "horizon", "screening")


def _qualities(
    spectrum: ScalarSpectrum, falloff: UVFalloff, delta_deviation: float, params: EigenmodesParams
) -> list[tuple[str, str | None]]:
    """``(quality, reason)`` per mode: ``unstable`` where M2 < 0, else ``ok`` or ``inaccurate``
    from the solver's own error estimates (the reason is None for ``ok``)."""
    delta_problem = _delta_problem(falloff, delta_deviation, params)
    qualities: list[tuple[str, str | None]] = []
    for m2_boundary, relative in zip(spectrum.M2, _relative_errors(spectrum), strict=True):
        if m2_boundary < 0:
            qualities.append(("unstable", UNSTABLE_REASON))
        elif delta_problem is not None:
            qualities.append(("inaccurate", delta_problem))
        elif relative > params.max_rel_error_estimate:
            qualities.append(
                (
                    "inaccurate",
                    f"estimated relative error of M2 {relative:.2g} > max_rel_error_estimate "
                    f"{params.max_rel_error_estimate:g}",
                )
            )
        else:
            qualities.append(("ok", None))
    return qualities


def _delta_problem(
    falloff: UVFalloff, delta_deviation: float, params: EigenmodesParams
) -> str | None:
    """Why the row's Delta is not accurate enough to be data, or None."""
    if falloff.accuracy_issue is not None:
        return falloff.accuracy_issue
    if falloff.delta_error > params.max_delta_error:
        return (
            f"Delta from the UV falloff uncertain to {falloff.delta_error:.2g} > "
            f"max_delta_error {params.max_delta_error:g} (next to the BF bound nu = sqrt(nu^2) "
            "amplifies errors)"
        )
    if delta_deviation > params.max_delta_error:
        return (
            f"measured Delta and the exponent imposed from the fitted UV limit differ by "
            f"{delta_deviation:.2g} > max_delta_error {params.max_delta_error:g}"
        )
    return None


def _relative_errors(spectrum: ScalarSpectrum) -> np.ndarray:
    # Scale by |M2|, or by the IR scale z_ir^-2 where M2 is accidentally near zero.
    return spectrum.M2_error / np.maximum(np.abs(spectrum.M2), spectrum.z_ir**-2)


@attrs.frozen
class BranchAccuracy:
    """The accuracy figures of one solved (m2, branch): what its rows' quality depends on."""

    m2: float
    branch: Literal["+", "-"]
    rel_error_estimate: float = attrs.field(
        metadata={"doc": "largest estimated |dM2| / max(|M2|, z_ir^-2) over its modes"}
    )
    delta_error: float = attrs.field(metadata={"doc": "the UV falloff's own error estimate"})
    delta_deviation: float = attrs.field(
        metadata={"doc": "|measured Delta - exponent the solver imposed from the UV limit|"}
    )

    def record(
        self, ctx: StageContext, system_id: str, family: str, params: EigenmodesParams
    ) -> None:
        """The three checks of this (m2, branch) with their tolerances. A failure is what
        makes its rows `inaccurate` (or `unstable` where M2 < 0 decides first): not expected."""
        where = f"{system_id} m2={self.m2:g} branch {self.branch}"
        for quantity, value, tolerance in (
            ("M2_rel_error_estimate", self.rel_error_estimate, params.max_rel_error_estimate),
            ("delta_error_estimate", self.delta_error, params.max_delta_error),
            ("delta_deviation", self.delta_deviation, params.max_delta_error),
        ):
            ctx.check(f"{where}.{quantity}", value, tolerance, value <= tolerance, group=family)


@attrs.frozen
class _BranchResult:
    rows: list[EigenmodeRow]
    warning: str | None = None
    accuracy: BranchAccuracy | None = None

    @property
    def rel_error_estimate(self) -> float:
        return self.accuracy.rel_error_estimate if self.accuracy else 0.0

    @property
    def delta_deviation(self) -> float:
        return self.accuracy.delta_deviation if self.accuracy else 0.0


def _mass_rows(
    prediction: GeometryPrediction,
    geometry: ConformalGeometry,
    interval: _Interval,
    m2: float,
    params: EigenmodesParams,
) -> list[_BranchResult]:
    """The rows of one m2, per branch: Delta_+ and Delta_- come from one falloff integration."""
    from holopipe.science.uv_falloff import deltas_from_uv_falloff

    branches = _branches(geometry, m2, params)
    try:
        falloffs = deltas_from_uv_falloff(geometry, m2)
    except ValueError as exc:
        return [_error_result(prediction, interval, m2, branch, params, exc) for branch in branches]
    return [
        _branch_rows(
            prediction,
            geometry,
            interval,
            m2,
            branch,
            getattr(falloffs, _FALLOFF_BRANCH[branch]),
            params,
        )
        for branch in branches
    ]


def _error_result(
    prediction: GeometryPrediction,
    interval: _Interval,
    m2: float,
    branch: Literal["+", "-"],
    params: EigenmodesParams,
    exc: ValueError,
) -> _BranchResult:
    """One error row (M2, Delta NaN, the reason in ``method``) and its warning."""
    from holopipe.science.uv_falloff import UnphysicalDimensionError

    meta = prediction.meta
    kind = "unphysical Delta" if isinstance(exc, UnphysicalDimensionError) else "solver refused"
    why = f"{kind}: {_one_line(exc)}"
    row = _row(
        prediction,
        m2=float(m2),
        Delta=math.nan,
        branch=branch,
        mode_id=0,
        M2=math.nan,
        quality="error",
        bc_uv="not solved",
        bc_ir="not solved",
        z_uv=0.0,
        z_ir=interval.z_ir,
        n_grid=params.n_grid,
        method=f"error: {why}",
    )
    return _BranchResult([row], f"{meta.system_id} m2={m2} branch {branch}: {why} (error row)")


def _branch_rows(
    prediction: GeometryPrediction,
    geometry: ConformalGeometry,
    interval: _Interval,
    m2: float,
    branch: Literal["+", "-"],
    falloff: UVFalloff,
    params: EigenmodesParams,
) -> _BranchResult:
    """The rows of one (m2, branch) with its measured falloff: solved modes, or an error row."""
    try:
        delta = falloff.operator_dimension  # refuses negative / sub-unitarity exponents
        spectrum = solve_scalar_modes_on(
            geometry,
            m2,
            n_modes=params.n_modes,
            z_uv=None,
            z_ir=interval.z_ir,
            bc_ir=interval.bc_ir,
            eigenproblem=interval.eigenproblem,
            quantization="standard" if branch == "+" else "alternative",
            n_grid=params.n_grid,
        )
    except ValueError as exc:  # includes UnphysicalDimensionError
        return _error_result(prediction, interval, m2, branch, params, exc)
    method = "; ".join(
        (_EIGENPROBLEM_WORDS[interval.eigenproblem], spectrum.method, spectrum.geometry_source)
    )
    # Two independent determinations of Delta: the falloff of the data (written to the row) and
    # the exponent the solver imposed from the UV limit of the geometry (fitted UV series).
    delta_deviation = abs(delta - spectrum.delta)
    qualities = _qualities(spectrum, falloff, delta_deviation, params)
    rows = [
        _row(
            prediction,
            m2=float(m2),
            Delta=delta,
            branch=branch,
            mode_id=n,
            M2=float(spectrum.M2[n]),
            quality=qualities[n][0],
            bc_uv=spectrum.bc_uv,
            bc_ir=spectrum.bc_ir,
            z_uv=spectrum.z_uv,
            z_ir=spectrum.z_ir,
            n_grid=spectrum.n_grid,
            method=method
            if qualities[n][1] is None
            else f"{method}; {qualities[n][0]}: {_one_line(qualities[n][1])}",
        )
        for n in range(params.n_modes)
    ]
    accuracy = BranchAccuracy(
        float(m2),
        branch,
        float(np.max(_relative_errors(spectrum))),
        float(falloff.delta_error),
        float(delta_deviation),
    )
    return _BranchResult(rows, None, accuracy)


def system_modes(prediction: GeometryPrediction, params: EigenmodesParams) -> SystemModes:
    """All rows of one system (the per-system work of the stage; also used by the benchmark)."""
    meta = prediction.meta
    masses = params.masses_for(meta.d)
    if masses is None:
        why = f"no masses configured for d = {meta.d} (and no {DEFAULT_MASSES_KEY!r} entry)"
        return SystemModes(meta.system_id, [], "WARNING", why, [f"{meta.system_id}: {why}"])
    reason = _non_conformal_reason(prediction)
    if reason is None:
        try:
            geometry = ConformalGeometry.from_arrays(
                prediction.z, prediction.A, prediction.f, meta.d
            )
        except ValueError as exc:  # e.g. UV exponent != 1: outside the solver's domain
            reason = f"the conformal scalar solver refuses this geometry: {_one_line(exc)}"
    if reason is not None:
        rows = _placeholder_rows(prediction, masses, params, "not_applicable", reason)
        return SystemModes(meta.system_id, rows, reason=f"not applicable: {reason}")

    warnings: list[str] = []
    try:
        interval = _interval(geometry, prediction, params)
    except ValueError as exc:
        why = f"no IR end: {_one_line(exc)}"
        rows = _placeholder_rows(prediction, masses, params, "error", why)
        return SystemModes(
            meta.system_id, rows, "WARNING", why, [f"{meta.system_id}: {why} (error rows)"]
        )
    if interval.bc_ir == "horizon" and abs(interval.z_ir / meta.z_h - 1) > HORIZON_MISMATCH:
        warnings.append(
            f"{meta.system_id}: the zero of the stored f is at z = {interval.z_ir:.6g}, "
            f"meta.z_h = {meta.z_h:.6g}; the rows use the zero of f"
        )

    results = [
        result for m2 in masses for result in _mass_rows(prediction, geometry, interval, m2, params)
    ]
    return _collected(meta.system_id, results, warnings)


def _collected(system_id: str, results: list[_BranchResult], warnings: list[str]) -> SystemModes:
    """The rows of one system's (m2, branch) results, their warnings and the system's status."""
    warnings = warnings + [r.warning for r in results if r.warning is not None]
    rows = [row for r in results for row in r.rows]
    worst_error = max(r.rel_error_estimate for r in results)
    worst_delta = max(r.delta_deviation for r in results)
    inaccurate = sum(row.quality == "inaccurate" for row in rows)
    if inaccurate:
        warnings.append(
            f"{system_id}: {inaccurate} rows 'inaccurate' (estimated relative error of M2 up "
            f"to {worst_error:.2g}, Delta deviation up to {worst_delta:.2g})"
        )
    problems = [
        words
        for count, words in (
            (sum(row.quality == "error" for row in rows), "error rows"),
            (inaccurate, "inaccurate rows"),
        )
        if count
    ]
    return SystemModes(
        system_id,
        rows,
        "WARNING" if problems else "OK",
        f"{' and '.join(problems)} (see warnings)" if problems else None,
        warnings,
        worst_error,
        worst_delta,
        [r.accuracy for r in results if r.accuracy is not None],
    )


def _branches(
    geometry: ConformalGeometry, m2: float, params: EigenmodesParams
) -> list[Literal["+", "-"]]:
    """``+`` always; ``-`` too where alternative quantisation is on and 0 < nu < 1."""
    if not params.alternative_quantization:
        return ["+"]
    try:
        order = nu(geometry.d, geometry.uv_mass(m2))
    except ValueError:  # below the BF bound after rescaling: the '+' branch reports the error
        return ["+"]
    return ["+", "-"] if NU_WINDOW_MARGIN < order < 1.0 - NU_WINDOW_MARGIN else ["+"]


def system_block(prediction: GeometryPrediction, params: EigenmodesParams) -> SystemModes:
    """:func:`system_modes` with its rows as one checked, formatted
    :class:`~holopipe.artifacts.eigenmodes.EigenmodeBlock` of the dataset (the per-system
    work of the stage: in its workers, so the stage process only joins the blocks)."""
    from holopipe.artifacts.eigenmodes import EigenmodeBlock

    modes = system_modes(prediction, params)
    return attrs.evolve(modes, block=EigenmodeBlock.of_rows(modes.rows)) if modes.rows else modes


def _work(params: EigenmodesParams) -> Callable[[GeometryPrediction], SystemModes]:
    """:func:`system_block` with ``params``, what it imports lazily (0.3 s, scipy.interpolate
    above all) imported now, by the stage process before ``ctx.map`` forks its workers: once,
    not once per worker."""
    import scipy.interpolate  # noqa: F401
    import scipy.linalg  # noqa: F401

    import holopipe.artifacts.eigenmodes  # noqa: F401
    import holopipe.science.uv_falloff  # noqa: F401

    return functools.partial(system_block, params=params)


def _recorded(
    ctx: StageContext, results: list[ItemResult], by_id: dict[str, GeometryPrediction]
) -> list[EigenmodeBlock]:
    """Each system's checks, warnings and status recorded in ``ctx``; the blocks of rows
    (a crashed system's masses still accounted for, by error rows)."""
    from holopipe.artifacts.eigenmodes import EigenmodeBlock

    params: EigenmodesParams = ctx.params
    blocks: list[EigenmodeBlock] = []
    for result in results:
        if not result.ok:  # crashed: still account for its masses, flagged
            prediction = by_id[result.key]
            masses = params.masses_for(prediction.meta.d) or []
            crashed = _placeholder_rows(
                prediction, masses, params, "error", f"crashed: {result.error}"
            )
            blocks += [EigenmodeBlock.of_rows(crashed)] if crashed else []
            continue
        modes: SystemModes = result.value
        blocks += [modes.block] if modes.block is not None else []
        family = by_id[result.key].meta.family
        for accuracy in modes.accuracy:
            accuracy.record(ctx, modes.system_id, family, params)
        for message in modes.warnings:
            ctx.warn(message)
        if modes.status != "OK":
            ctx.mark_system(modes.system_id, modes.status, modes.reason)
    return blocks


class BuildBulkEigenmodesDataset(Stage):
    """Stage 06: boundary masses M2 and UV dimensions Delta of bulk scalars (module docstring)."""

    ID, SLUG = "06", "build_bulk_eigenmodes_dataset"
    VERSION = "1"
    INPUTS = (InputSpec("predictions", "GeometryPrediction"),)
    OUTPUTS = (OutputSpec("bulk_eigenmodes", "EigenmodesDataset"),)
    Params = EigenmodesParams

    def run(self, ctx: StageContext, inputs: StageInputs) -> None:
        from holopipe.artifacts.eigenmodes import QUALITIES, EigenmodesDataset

        params: EigenmodesParams = ctx.params
        predictions: list[GeometryPrediction] = inputs["predictions"]
        results = ctx.map(_work(params), predictions, key=lambda p: p.meta.system_id)
        blocks = _recorded(ctx, results, {p.meta.system_id: p for p in predictions})
        rows = [row for block in blocks for row in block.rows]

        skipped = sorted(r.key for r in results if r.ok and r.value.not_applicable)
        if skipped:
            ctx.note(
                f"{len(skipped)} systems not of the conformal ansatz or not asymptotically AdS "
                "(outside the solver's domain; the reason is in each row's method), rows "
                "'not_applicable': " + ", ".join(skipped)
            )

        unstable = sorted({(r.system_id, r.m2, r.branch) for r in rows if r.quality == "unstable"})
        if unstable:
            ctx.note(
                f"{len(unstable)} (system, m2, branch) with M2 < 0, rows 'unstable' (a static "
                "normalisable mode at real momentum: the geometry is unstable for that scalar; "
                "not data): " + ", ".join(f"{sid} m2={m2} branch {b}" for sid, m2, b in unstable)
            )

        dataset = EigenmodesDataset.from_blocks(blocks, **ctx.provenance.as_fields())
        ctx.write("bulk_eigenmodes", dataset, OUTPUT_FILE)
        ctx.rows = len(rows)
        found = Counter(row.quality for row in rows)
        counts = {q: found[q] for q in QUALITIES}
        ctx.metrics.update({f"rows_{q}": float(n) for q, n in counts.items()})
        ctx.metrics["systems"] = float(len(predictions))
        solved = [r.value for r in results if r.ok and r.value.rows and not r.value.not_applicable]
        if solved:
            ctx.metrics["max_rel_error_estimate_M2"] = max(m.max_rel_error_estimate for m in solved)
            ctx.metrics["max_delta_deviation"] = max(m.max_delta_deviation for m in solved)
        if counts["ok"] == 0:
            ctx.incomplete(
                "no eigenmode computed: zero 'ok' rows ("
                + (", ".join(f"{n} {q!r}" for q, n in counts.items() if n) or "no rows")
                + "; see the rows' quality and method)"
            )
