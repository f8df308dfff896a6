"""Stage 05's work: what :class:`~holopipe.stages.s05_analysis.AnalyzeBulkEquations` runs
(the module docstring of :mod:`holopipe.stages.s05_analysis` describes it).

Imported by the stage's ``run`` only: planning a run reads the declaration alone.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np

from holopipe.run.context import StageContext
from holopipe.stages.base import StageInputs
from holopipe.stages.s05_analysis import AnalysisParams

if TYPE_CHECKING:
    from holopipe.artifacts.analysis import AnalyticCheck, FamilyGroup, ParameterTrend
    from holopipe.artifacts.contracts import ContractCounts, GeometryContracts, SystemContracts
    from holopipe.artifacts.equations import BulkEquations, SystemEquations

__all__ = ["analyse", "run"]

OUTPUT_FILE = "bulk_analysis.json"
LIFSHITZ_CHECK = "lifshitz_ricci_vs_zeta"
_EQUATION_QUANTITIES = ("R_mean", "max_abs_einstein_residual")


def _thermal(system: SystemEquations) -> bool:
    return "z_h" in system.params


def _trend(
    family: str,
    d: int,
    thermal: bool,
    parameter: str,
    quantity: str,
    points: list[tuple[float, float]],
    max_degree: int,
) -> ParameterTrend:
    """A polynomial trend of ``quantity`` against ``parameter`` over (x, y) points."""
    from holopipe.artifacts.analysis import ParameterTrend
    from holopipe.science.analysis import fit_polynomial_trend

    x = np.array([p[0] for p in points])
    y = np.array([p[1] for p in points])
    distinct = len(np.unique(x))
    head = (family, d, thermal, parameter, quantity, len(points))
    if distinct < 2:
        return ParameterTrend(
            *head, False, f"{distinct} distinct {parameter} value(s): a trend needs 2"
        )
    fit = fit_polynomial_trend(x, y, degree=min(max_degree, distinct - 1))
    stderr = list(fit.stderr) if all(math.isfinite(s) for s in fit.stderr) else None
    message = (
        f"degree {fit.degree} in {parameter} over {len(points)} systems, "
        f"rms residual {fit.residual_rms:.3e}"
    )
    if stderr is None:
        message += " (no degree of freedom left: no standard errors)"
    return ParameterTrend(
        *head, True, message, fit.degree, list(fit.coefficients), stderr, fit.residual_rms
    )


def _group_trends(
    family: str,
    d: int,
    systems: list[SystemEquations],
    contracts: dict[str, SystemContracts],
    max_degree: int,
) -> list[ParameterTrend]:
    trends = []
    for thermal in (False, True):
        subset = [s for s in systems if _thermal(s) == thermal]
        for parameter in sorted({k for s in subset for k in s.params}):
            with_parameter = [s for s in subset if parameter in s.params]
            series: dict[str, list[tuple[float, float]]] = defaultdict(list)
            for s in with_parameter:
                x = s.params[parameter]
                for quantity in _EQUATION_QUANTITIES:
                    series[quantity].append((x, getattr(s, quantity)))
                for c in contracts[s.system_id].contracts if s.system_id in contracts else ():
                    if c.evaluated and c.value is not None:
                        series[f"contract:{c.name}"].append((x, c.value))
            trends += [
                _trend(family, d, thermal, parameter, quantity, points, max_degree)
                for quantity, points in sorted(series.items())
            ]
    return trends


def _lifshitz_checks(
    groups: dict[tuple[str, int], list[SystemEquations]], rtol: float
) -> list[AnalyticCheck]:
    """The Lifshitz R(zeta) check per d; one record, not evaluated, without Lifshitz systems."""
    from holopipe.artifacts.analysis import AnalyticCheck
    from holopipe.science.analysis import check_lifshitz_ricci_trend

    dims = sorted(d for family, d in groups if family == "lifshitz")
    if not dims:
        return [
            AnalyticCheck(
                LIFSHITZ_CHECK,
                "lifshitz",
                None,
                False,
                None,
                rtol,
                "no lifshitz system in the input",
            )
        ]
    checks = []
    for d in dims:
        with_zeta = [s for s in groups[("lifshitz", d)] if "zeta" in s.params]
        systems = [s for s in with_zeta if not _thermal(s)]
        curvature, where = [s.R_mean for s in systems], "zero-temperature system(s), mean R"
        if not systems:
            systems = [s for s in with_zeta if s.R_uv is not None]
            curvature, where = [s.R_uv for s in systems], "thermal system(s), R in the UV"
        ids = [s.system_id for s in systems]
        if not systems:
            message = (
                f"{len(groups[('lifshitz', d)])} lifshitz systems, none at zero temperature "
                "and none with a UV curvature: at T > 0 R is not constant and its mean does "
                "not follow the formula"
            )
            checks.append(AnalyticCheck(LIFSHITZ_CHECK, "lifshitz", d, False, None, rtol, message))
            continue
        result = check_lifshitz_ricci_trend(
            [s.params["zeta"] for s in systems], curvature, d, rtol=rtol
        )
        checks.append(
            AnalyticCheck(
                LIFSHITZ_CHECK,
                "lifshitz",
                d,
                result.evaluated,
                result.passed,
                rtol,
                f"{len(systems)} {where}: {result.message}",
                ids,
                list(result.expected_coefficients),
                list(result.fit.coefficients) if result.fit else [],
                result.max_relative_deviation,
            )  # fmt: skip
        )
    return checks


def _contract_counts(systems: Iterable[SystemContracts]) -> dict[str, ContractCounts]:
    from holopipe.artifacts.contracts import count_contracts

    return dict(sorted(count_contracts(systems)[1].items()))


def analyse(
    equations: list[SystemEquations], contracts: list[SystemContracts], params: AnalysisParams
) -> tuple[list[FamilyGroup], list[ParameterTrend], list[AnalyticCheck]]:
    """Groups, trends and checks of the systems (one system id each)."""
    from holopipe.artifacts.analysis import FamilyGroup

    by_group: dict[tuple[str, int], list[SystemEquations]] = defaultdict(list)
    for s in equations:
        by_group[(s.family, s.d)].append(s)
    contracts_by_id = {c.system_id: c for c in contracts}
    contracts_by_group: dict[tuple[str, int], list[SystemContracts]] = defaultdict(list)
    for c in contracts:
        contracts_by_group[(c.family, c.d)].append(c)
    groups, trends = [], []
    for family, d in sorted(set(by_group) | set(contracts_by_group)):
        systems = sorted(by_group.get((family, d), []), key=lambda s: s.system_id)
        checked = contracts_by_group.get((family, d), [])
        verdicts: dict[str, int] = defaultdict(int)
        values: dict[str, set[float]] = defaultdict(set)
        for s in systems:
            verdicts[s.verdict] += 1
            for key, value in s.params.items():
                values[key].add(value)
        groups.append(
            FamilyGroup(
                family=family,
                d=d,
                system_ids=sorted({s.system_id for s in systems} | {c.system_id for c in checked}),
                parameters={key: sorted(v) for key, v in sorted(values.items())},
                verdicts=dict(sorted(verdicts.items())),
                contracts=_contract_counts(checked),
            )
        )
        trends += _group_trends(family, d, systems, contracts_by_id, params.max_degree)
    return groups, trends, _lifshitz_checks(by_group, params.lifshitz_rtol)


def _unique_by_id(items: Iterable, ctx: StageContext, what: str) -> list:
    seen: dict[str, object] = {}
    for item in items:
        if item.system_id in seen:
            ctx.warn(f"{what}: system {item.system_id} appears twice; the first is kept")
            continue
        seen[item.system_id] = item
    return list(seen.values())


def run(ctx: StageContext, inputs: StageInputs) -> None:
    """Run the stage on ``inputs`` (see :mod:`holopipe.stages.s05_analysis`)."""
    from holopipe.artifacts.analysis import BulkAnalysis

    params: AnalysisParams = ctx.params
    equation_files: list[BulkEquations] = inputs["bulk_equations"]
    contract_files: list[GeometryContracts] = inputs.get("geometry_contracts", [])
    equations = _unique_by_id((s for f in equation_files for s in f.systems), ctx, "bulk_equations")
    contracts = _unique_by_id(
        (s for f in contract_files for s in f.systems if s.role == "prediction"),
        ctx,
        "geometry_contracts",
    )
    if not equations:
        ctx.incomplete("no system in the bulk equations: nothing to analyse")
        return
    groups, trends, checks = analyse(equations, contracts, params)
    used = ["bulk_equations"] + (["geometry_contracts"] if "geometry_contracts" in inputs else [])
    artifact = BulkAnalysis(
        inputs=used, **ctx.provenance.as_fields(),
        groups=groups, trends=trends, checks=checks,
    )  # fmt: skip
    ctx.write("bulk_analysis", artifact, OUTPUT_FILE)
    ctx.rows = len(trends)
    evaluated_checks = [c for c in checks if c.evaluated]
    ctx.metrics.update(
        n_groups=float(len(groups)),
        n_trends=float(len(trends)),
        n_trends_evaluated=float(sum(t.evaluated for t in trends)),
        n_checks_evaluated=float(len(evaluated_checks)),
        n_checks_passed=float(sum(bool(c.passed) for c in evaluated_checks)),
    )
    for check in evaluated_checks:  # a failure is a warning: not expected
        ctx.check(
            f"d{check.d}.{check.name}",
            check.max_relative_deviation,
            check.tolerance,
            bool(check.passed),
            group=check.family,
        )
    for check in checks:
        if check.evaluated and not check.passed:
            ctx.warn(f"check {check.name} (d = {check.d}) failed: {check.message}")
        elif not check.evaluated and check.d is not None:
            ctx.note(f"check {check.name} (d = {check.d}) not evaluated: {check.message}")
    if not evaluated_checks and not any(t.evaluated for t in trends):
        ctx.warn(
            "nothing evaluated: no trend (every parameter has one value per group) and no check"
        )
