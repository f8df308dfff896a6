"""Stage 04c's work: what :class:`~holopipe.stages.s04c_negative_controls.NegativeControls` runs
(the module docstring of :mod:`holopipe.stages.s04c_negative_controls` describes it).

Imported by the stage's ``run`` only: planning a run reads the declaration alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import attrs
import numpy as np

from holopipe.artifacts.identity import system_id
from holopipe.artifacts.prediction import GeometryMeta, GeometryPrediction
from holopipe.artifacts.sandbox import BoundaryData
from holopipe.run.context import StageContext
from holopipe.science.defaults import ContractTolerances
from holopipe.science.geometry import FamilyParams, metric_functions, temperature, uv_grid
from holopipe.stages.base import StageInputs
from holopipe.stages.s04c_negative_controls import NegativeControls, NegativeControlsParams
from holopipe.stages.work.geometry_contracts import prediction_contracts

if TYPE_CHECKING:
    from holopipe.artifacts.contracts import ContractOutcome, SystemContracts
    from holopipe.science.negative_controls import BrokenGeometry, ControlOutcome, ControlStatistics

__all__ = ["Control", "ControlResult", "run", "run_control"]

OUTPUT_FILE = "negative_controls.json"
_UV_FRACTION = 1e-3  # geometry grids start at 1e-3 z_h (1e-3 at T = 0), as in the broken ones


@attrs.frozen
class Control:
    """One control to run: what it is, its id, and whether it should pass."""

    system_id: str
    kind: str = attrs.field(metadata={"doc": "massive_propagator, exact_ads or a broken kind"})
    d: int
    expected_pass: bool
    mass: float | None = None
    z_h: float | None = None


def _controls(params: NegativeControlsParams) -> list[Control]:
    controls = []
    for d in params.d_values:
        grid = {"r_min": params.r_min, "r_max": params.r_max, "n_r": params.n_r}
        for mass in [0.0, *params.masses]:
            name = f"control_d{d}_massive_propagator_m{mass:g}"
            defining = {
                "control": "massive_propagator",
                "family": "unknown",
                "d": d,
                "m": mass,
                **grid,
            }
            controls.append(
                Control(
                    system_id(defining, name=name), "massive_propagator", d, mass == 0.0, mass=mass
                )
            )
        for z_h in [None, *params.z_h_values]:
            name = f"control_d{d}_exact_ads_" + ("T0" if z_h is None else f"zh{z_h:g}")
            defining = {
                "control": "exact_ads",
                "family": "ads",
                "d": d,
                "z_h": z_h,
                "n": params.n_grid,
            }
            controls.append(Control(system_id(defining, name=name), "exact_ads", d, True, z_h=z_h))
        for kind in params.broken_kinds:
            name = f"control_d{d}_broken_{kind}"
            defining = {
                "control": kind, "family": "ads", "d": d, "z_h": params.broken_z_h,
                "n": params.n_grid, "noise_level": params.noise_level,
            }  # fmt: skip
            controls.append(
                Control(system_id(defining, name=name), kind, d, False, z_h=params.broken_z_h)
            )
    return controls


def _as_prediction(control: Control, g: BrokenGeometry) -> GeometryPrediction:
    """A geometry control as the stage 04 input type (in memory only: a broken one is
    invalid on purpose)."""
    meta = GeometryMeta(
        system_id=control.system_id, family=g.family, d=g.d, z_h=g.z_h,
        source_stage=NegativeControls.key(), git_sha="",
        system_name=control.system_id.rsplit("-", 1)[0], temperature=g.T,
        provenance={"control": control.kind, "description": g.description},
    )  # fmt: skip
    return GeometryPrediction(z=g.z, A=g.A_x, f=g.f, meta=meta, A_t=g.A_t, A_z=g.A_z)


def _exact_ads(control: Control, n: int) -> BrokenGeometry:
    """Exact AdS (z_h None) or AdS-Schwarzschild on (0, z_h], as a geometry with no defect."""
    from holopipe.science.negative_controls import BrokenGeometry

    family = FamilyParams("ads", control.d, control.z_h)
    top = control.z_h or 1.0
    z = uv_grid(_UV_FRACTION * top, top, n)
    m = metric_functions(family, z)
    description = (
        "exact AdS" if control.z_h is None else f"exact AdS-Schwarzschild, z_h = {control.z_h:g}"
    )
    return BrokenGeometry(
        "exact_ads",
        description,
        z,
        m.A_t,
        m.A_x,
        m.A_z,
        m.f,
        control.d,
        "ads",
        temperature(family),
        control.z_h,
        (),
    )


def _propagator_result(
    control: Control, params: NegativeControlsParams
) -> tuple[list[ContractOutcome], ControlOutcome]:
    from holopipe.artifacts.contracts import ContractOutcome
    from holopipe.science.negative_controls import (
        ControlOutcome,
        conformality_test,
        massive_propagator,
    )

    r = np.geomspace(params.r_min, params.r_max, params.n_r)
    boundary = BoundaryData(
        x_grid=r, G2={"O": massive_propagator(r, control.mass, control.d)}, temperature=0.0,
        exact=True, method="massive_free_field",
    )  # fmt: skip
    test = conformality_test(
        boundary.x_grid, boundary.G2["O"], tolerance=params.conformality_tolerance
    )
    outcome = ContractOutcome(
        "conformality", test.evaluated, test.conformal, test.tolerance, test.message, test.spread
    )
    return [outcome], ControlOutcome(control.system_id, test.evaluated, test.conformal)


def _geometry_result(
    control: Control, geometry: BrokenGeometry, tolerances: ContractTolerances
) -> tuple[list[ContractOutcome], ControlOutcome, list[str]]:
    from holopipe.science.negative_controls import ControlOutcome

    prediction = _as_prediction(control, geometry)
    checked = prediction_contracts(
        prediction, Path(f"{prediction.meta.system_name}_geometry.npz"), tolerances
    )
    evaluated = [c for c in checked.contracts if c.evaluated]
    outcome = ControlOutcome(
        control.system_id, bool(evaluated), all(c.passed for c in evaluated) if evaluated else None
    )
    failed = {c.name for c in evaluated if not c.passed}
    missed = [name for name in geometry.expected_failures if name not in failed]
    return checked.contracts, outcome, missed


@attrs.frozen
class ControlResult:
    """What one control contributes: its checks, its outcome, and the contracts expected to
    catch it that did not."""

    system: SystemContracts
    outcome: ControlOutcome
    missed: list[str] = attrs.field(factory=list)


def run_control(
    control: Control, params: NegativeControlsParams, rng: np.random.Generator
) -> ControlResult:
    """Run one control: its checks, its outcome, and the expected contracts that missed it."""
    from holopipe.artifacts.contracts import SystemContracts
    from holopipe.science.negative_controls import broken_geometry

    missed: list[str] = []
    if control.kind == "massive_propagator":
        contracts, outcome = _propagator_result(control, params)
        family = "unknown"
    else:
        if control.kind == "exact_ads":
            geometry = _exact_ads(control, params.n_grid)
        else:
            geometry = broken_geometry(
                control.kind,
                rng,
                d=control.d,
                z_h=control.z_h,
                n=params.n_grid,
                noise_level=params.noise_level,
            )
        contracts, outcome, missed = _geometry_result(control, geometry, params.tolerances())
        family = geometry.family
    role = "positive_control" if control.expected_pass else "negative_control"
    system = SystemContracts(
        control.system_id,
        family,
        control.d,
        contracts,
        role=role,
        expected_pass=control.expected_pass,
    )
    return ControlResult(system, outcome, missed)


def _record_checks(
    ctx: StageContext, statistics: ControlStatistics, params: NegativeControlsParams
) -> None:
    """Coverage and false-positive rate with their thresholds, in the stage summary."""
    coverage_ok = statistics.coverage >= params.min_coverage
    ctx.check("coverage", statistics.coverage, params.min_coverage, coverage_ok)
    rate = statistics.false_positive_rate
    if rate is not None:
        limit = params.max_false_positive_rate
        ctx.check("false_positive_rate", rate, limit, rate <= limit)


def run(ctx: StageContext, inputs: StageInputs) -> None:
    """Run the stage on ``inputs`` (see :mod:`holopipe.stages.s04c_negative_controls`)."""
    from holopipe.artifacts.contracts import GeometryContracts
    from holopipe.science.negative_controls import ControlOutcome, control_statistics

    params: NegativeControlsParams = ctx.params
    controls = {c.system_id: c for c in _controls(params)}
    results = ctx.map(
        lambda c: run_control(c, params, ctx.rng(c.system_id)),
        controls.values(),
        key=lambda c: c.system_id,
    )
    done = [r for r in results if r.ok]
    # A control whose run raised could not be evaluated: it counts against the coverage.
    outcomes = {
        r.key: r.value.outcome if r.ok else ControlOutcome(r.key, False, None) for r in results
    }
    negative = [o for key, o in outcomes.items() if not controls[key].expected_pass]
    positive = [o for key, o in outcomes.items() if controls[key].expected_pass]
    statistics = control_statistics(
        negative,
        min_coverage=params.min_coverage,
        max_false_positive_rate=params.max_false_positive_rate,
    )
    positive_passed = [o for o in positive if o.passed]
    ctx.metrics.update(
        n_negative_controls=float(statistics.n_controls),
        n_negative_evaluated=float(statistics.n_evaluated),
        n_false_positives=float(statistics.n_false_positives),
        coverage=float(statistics.coverage),
        n_positive_controls=float(len(positive)),
        n_positive_passed=float(len(positive_passed)),
    )
    _record_checks(ctx, statistics, params)
    if done:
        systems = [r.value.system for r in done]
        artifact = GeometryContracts(systems=systems, **ctx.provenance.as_fields())
        ctx.write("negative_controls", artifact, OUTPUT_FILE)
        ctx.rows = len(systems)
    if statistics.verdict == "INCOMPLETE":
        ctx.incomplete(f"negative controls INCOMPLETE: {statistics.message}")
        return
    ctx.log.info("negative controls %s: %s", statistics.verdict, statistics.message)
    if statistics.verdict == "FAIL":
        passed = sorted(o.name for o in negative if o.passed)
        ctx.error(f"negative controls FAIL: {statistics.message}: {', '.join(passed)}")
    for outcome in positive:
        if not outcome.passed:
            state = "was not evaluated" if not outcome.evaluated else "failed"
            ctx.error(f"positive control {outcome.name} {state}: the checks reject a valid case")
    for found in (r.value for r in done):
        if found.missed:
            ctx.error(
                f"{found.system.system_id}: not caught by {', '.join(found.missed)}, "
                "which must catch it"
            )
