"""Stage 06's work: what :class:`~holopipe.stages.s06_eigenmodes.BuildBulkEigenmodesDataset` runs
(the module docstring of :mod:`holopipe.stages.s06_eigenmodes` describes it).

Imported by the stage's ``run`` only: planning a run reads the declaration alone.
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
from holopipe.science.sturm_liouville import (
    ConformalGeometry,
    ScalarSpectrum,
    nu,
    solve_scalar_modes_on,
)
from holopipe.stages.base import StageInputs
from holopipe.stages.s06_eigenmodes import DEFAULT_MASSES_KEY, EigenmodesParams

if TYPE_CHECKING:
    from holopipe.artifacts.eigenmodes import EigenmodeBlock, EigenmodeRow
    from holopipe.run.executors import ItemResult
    from holopipe.science.uv_falloff import UVFalloff

__all__ = ["run", "system_block", "system_modes", "SystemModes"]

#: Families outside the conformal ansatz A_t = A_x = A_z (PHYSICS.md).
NON_CONFORMAL_FAMILIES = ("lifshitz", "hvlf")
#: Largest |A_t - A| or |A_z - A| still read as the conformal ansatz (stored round-off).
ANSATZ_TOLERANCE = 1e-9
#: Relative disagreement between ``meta.z_h`` and the zero of the stored f that is reported.
HORIZON_MISMATCH = 1e-3
#: nu this close to 0 or 1 counts as the end of the alternative-quantisation window (nu = 1 with
#: round-off in the fitted UV warp must not produce a Delta_- row at the unitarity bound).
NU_WINDOW_MARGIN = 1e-6
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


def run(ctx: StageContext, inputs: StageInputs) -> None:
    """Run the stage on ``inputs`` (see :mod:`holopipe.stages.s06_eigenmodes`)."""
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
