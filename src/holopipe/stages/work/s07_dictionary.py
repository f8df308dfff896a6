"""Stage 07's work: what :class:`~holopipe.stages.s07_dictionary.EmergentLambdaSLDictionary` runs
(the module docstring of :mod:`holopipe.stages.s07_dictionary` describes it).

Imported by the stage's ``run`` only: planning a run reads the declaration alone.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from holopipe.stages.base import StageInputs
from holopipe.stages.s07_dictionary import DictionaryParams

if TYPE_CHECKING:
    from holopipe.artifacts.dictionary import Dictionary, DictionaryEntry, DimensionFit
    from holopipe.artifacts.eigenmodes import EigenmodeRow
    from holopipe.run.context import Provenance, StageContext
    from holopipe.science.dictionary_fit import DictionaryFit

__all__ = ["dictionary_from_rows", "run"]

OUTPUT_FILE = "dictionary.json"


def _operator_name(m2: float) -> str:
    return f"scalar m2={m2:g}"


def _points(rows: list[EigenmodeRow]) -> tuple[list[DictionaryEntry], Counter[str], list[str]]:
    """The (Delta, m2) points of the ``ok`` rows the branch policy allows, sorted; the rows
    kept out, counted by reason; one warning per refused point."""
    from holopipe.artifacts.dictionary import DictionaryEntry
    from holopipe.science.dictionary_fit import branch_policy

    excluded: Counter[str] = Counter()
    warnings: list[str] = []
    points: dict[tuple[str, float, str], DictionaryEntry] = {}
    for row in rows:
        if row.quality != "ok":
            excluded[f"quality {row.quality}"] += 1
            continue
        key = (row.system_id, row.m2, row.branch)
        if key in points:
            continue  # another mode of the same field: same Delta
        decision = branch_policy(row.d, row.m2, row.branch)
        if not decision.allowed:
            excluded["branch policy"] += 1
            warnings.append(f"{row.system_id} m2={row.m2} branch {row.branch}: {decision.rule}")
            continue
        points[key] = DictionaryEntry(
            system_id=row.system_id,
            operator=_operator_name(row.m2),
            d=row.d,
            Delta=row.Delta,
            m2=row.m2,
            branch=row.branch,
            nu=float(decision.nu),
            rule=decision.rule,
        )
    entries = sorted(points.values(), key=lambda e: (e.d, e.system_id, e.m2, e.branch))
    return entries, excluded, warnings


def dictionary_from_rows(
    rows: list[EigenmodeRow], params: DictionaryParams, provenance: Provenance
) -> tuple[Dictionary, list[DictionaryFit], list[str]]:
    """The Dictionary of the ``ok`` rows (stamped with ``provenance``), the science fits, and
    one warning per refused point."""
    import numpy as np

    from holopipe.artifacts.dictionary import BRANCH_POLICY, Dictionary, UnfittedDimension
    from holopipe.science.dictionary_fit import fit_dictionary

    entries, excluded, warnings = _points(rows)
    fits: list[DictionaryFit] = []
    unfitted: list[UnfittedDimension] = []
    arrays: dict[str, np.ndarray] = {}
    for d in sorted({e.d for e in entries}):
        chosen = [e for e in entries if e.d == d]
        delta = np.array([e.Delta for e in chosen])
        m2 = np.array([e.m2 for e in chosen])
        try:
            fit = fit_dictionary(delta, m2, d, folds=params.folds, resolution=params.m2_resolution)
        except ValueError as exc:
            unfitted.append(UnfittedDimension(d, len(chosen), str(exc)))
            continue
        fits.append(fit)
        arrays[f"Delta_d{d}"], arrays[f"m2_d{d}"] = delta, m2
    dictionary = Dictionary(
        **provenance.as_fields(),
        branch_policy=BRANCH_POLICY,
        fits=[_artifact_fit(f) for f in fits],
        entries=entries,
        excluded=dict(sorted(excluded.items())),
        unfitted=unfitted,
        arrays=arrays,
    )
    return dictionary, fits, warnings


def _artifact_fit(fit: DictionaryFit) -> DimensionFit:
    from holopipe.artifacts.dictionary import (
        CrossValidation,
        DimensionFit,
        ModelComparison,
        ModelPreference,
        Quadratic,
    )

    return DimensionFit(
        d=fit.d,
        n_points=fit.n_points,
        coefficients=Quadratic(*fit.coefficients),
        uncertainties=Quadratic(*fit.standard_errors),
        comparison=ModelComparison(
            aic_free=fit.aic["free"],
            bic_free=fit.bic["free"],
            aic_constrained=fit.aic["constrained"],
            bic_constrained=fit.bic["constrained"],
            c_constrained=fit.c_constrained,
            c_uncertainty=fit.c_standard_error,
        ),
        cross_validation=CrossValidation(
            folds=fit.folds,
            rmse_free=fit.cv_rmse["free"],
            rmse_constrained=fit.cv_rmse["constrained"],
        ),
        preferred=ModelPreference(**fit.preferred),
        resolution=fit.resolution,
        n_distinct=fit.n_distinct,
    )


#: The tie margin of each criterion's preference, in units of the m^2 resolution (0: none).
_CRITERIA = {"aic": ("aic", 0.0), "bic": ("bic", 0.0), "cv": ("cv_rmse", 1.0)}


def _record_fit(ctx: StageContext, fit: DictionaryFit, params: DictionaryParams) -> None:
    """The metrics and checks of one fitted d, and a note where the data are not AdS.

    Checks (a failure is a physics result, expected: the data do not follow the AdS
    relation): ``d<d>.deviation_from_ads`` = max |coefficient - (1, -d, 0)| against
    ``ads_tolerance``, and per criterion ``d<d>.<criterion>_constrained_minus_free``, the
    score of m2 = c Delta (Delta - d) minus that of the free quadratic, against the tie margin
    (0 for AIC and BIC, the m^2 resolution for cross-validation).
    """
    d = fit.d
    ctx.metrics[f"d{d}_delta2"], ctx.metrics[f"d{d}_delta"], ctx.metrics[f"d{d}_const"] = (
        fit.coefficients
    )
    ctx.metrics[f"d{d}_deviation_from_ads"] = fit.deviation_from_ads()
    ctx.metrics[f"d{d}_c_constrained"] = fit.c_constrained
    group = f"d = {d}"
    for criterion, (scores_name, margin) in _CRITERIA.items():
        scores = getattr(fit, scores_name)
        ctx.check(
            f"d{d}.{criterion}_constrained_minus_free",
            scores["constrained"] - scores["free"],
            margin * fit.resolution,
            fit.preferred[criterion] == "constrained",
            expected_failure=True,
            group=group,
        )
    close = ctx.check(
        f"d{d}.deviation_from_ads",
        fit.deviation_from_ads(),
        params.ads_tolerance,
        fit.deviation_from_ads() <= params.ads_tolerance,
        expected_failure=True,
        group=group,
    )
    free = sorted(k for k, model in fit.preferred.items() if model == "free")
    if free:
        ctx.note(
            f"d = {d}: {', '.join(free)} prefer the free quadratic over "
            "m2 = c Delta (Delta - d): these data do not follow the AdS relation"
        )
    elif not close:
        ctx.note(
            f"d = {d}: coefficients {fit.coefficients} differ from (1, -{d}, 0) by "
            f"{fit.deviation_from_ads():.3g} > {params.ads_tolerance:g}"
        )


def run(ctx: StageContext, inputs: StageInputs) -> None:
    """Run the stage on ``inputs`` (see :mod:`holopipe.stages.s07_dictionary`)."""
    params: DictionaryParams = ctx.params
    rows = [row for dataset in inputs["bulk_eigenmodes"] for row in dataset.rows]
    dictionary, fits, refused = dictionary_from_rows(rows, params, ctx.provenance)
    ctx.check("points_refused_by_branch_policy", len(refused), 0.0, not refused)
    for message in refused:
        ctx.warn(f"refused by the branch policy: {message}")
    for u in dictionary.unfitted:
        ctx.note(f"d = {u.d} not fitted ({u.n_points} points): {u.reason}")
    ctx.metrics.update(
        n_rows=float(len(rows)),
        n_points=float(len(dictionary.entries)),
        n_fits=float(len(fits)),
        **{
            f"rows_excluded_{reason.replace(' ', '_')}": float(n)
            for reason, n in dictionary.excluded.items()
        },
    )
    if dictionary.excluded:
        ctx.note(
            "rows kept out of the fit: "
            + ", ".join(f"{n} {reason}" for reason, n in dictionary.excluded.items())
        )
    if not fits:
        ctx.incomplete(
            "no dimension could be fitted: "
            + (
                "; ".join(f"d = {u.d}: {u.reason}" for u in dictionary.unfitted)
                or "no 'ok' row in the eigenmodes dataset"
            )
        )
        return
    for fit in fits:
        _record_fit(ctx, fit, params)
    ctx.write("dictionary", dictionary, OUTPUT_FILE)
    ctx.rows = len(dictionary.entries)
