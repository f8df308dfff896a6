"""Stage 07 ``emergent_lambda_sl_dictionary``: the dictionary m^2(Delta) fitted per d.

Reads the EigenmodesDataset of stage 06 (alias ``bulk_eigenmodes/``) and writes a Dictionary
(alias ``dictionary/``). The statistics are :mod:`holopipe.science.dictionary_fit`; this stage
chooses the points and records what it did:

- points: one (Delta, m2) per (system, m2, branch) among rows of quality ``ok`` (every mode row
  of a field repeats its Delta). Rows of any other quality (``not_applicable``, ``inaccurate``,
  ``error``, ``unstable``, ...) never enter the fit: they are counted by quality in
  ``excluded`` and in the metrics;
- the branch policy of PHYSICS.md is applied to every point before the fit (Delta_+ always,
  Delta_- only for nu < 1, nothing below the BF bound -d^2/4); a point it refuses is counted
  in ``excluded`` with the rule and is a warning (stage 06 should not have produced it);
- per d with at least 3 distinct Delta values: the free quadratic with standard errors against
  m^2 = c Delta (Delta - d) by AIC, BIC and k-fold cross-validation. A d with fewer distinct
  values is listed in ``unfitted`` with the reason and a note (more masses for that d in stage
  06 would fix it); no fitted d at all is INCOMPLETE.

A fit whose criteria prefer the free model, or whose coefficients are further than
``ads_tolerance`` from (1, -d, 0), is a physics finding reported as a note (the data do not
follow the AdS relation), never a silent pass.

Checks in the stage summary: ``points_refused_by_branch_policy`` (0 allowed: a refusal is a
warning) and per fitted d the physics checks whose failure is expected on non-AdS data:
``d<d>.deviation_from_ads`` against ``ads_tolerance`` and, per criterion,
``d<d>.<aic|bic|cv>_constrained_minus_free`` against its tie margin.

Examples
--------
>>> EmergentLambdaSLDictionary.key()
'07_emergent_lambda_sl_dictionary'
>>> DictionaryParams().folds
5
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

import attrs

from holopipe.science.dictionary_fit import DEFAULT_FOLDS, DEFAULT_M2_RESOLUTION
from holopipe.stages.base import InputSpec, OutputSpec, Stage, StageInputs
from holopipe.stages.validators import positive_finite

if TYPE_CHECKING:
    from holopipe.artifacts.dictionary import Dictionary, DictionaryEntry, DimensionFit
    from holopipe.artifacts.eigenmodes import EigenmodeRow
    from holopipe.run.context import Provenance, StageContext
    from holopipe.science.dictionary_fit import DictionaryFit

__all__ = ["DictionaryParams", "EmergentLambdaSLDictionary", "dictionary_from_rows"]

OUTPUT_FILE = "dictionary.json"


@attrs.define
class DictionaryParams:
    """Config section ``stages.07``."""

    folds: int = attrs.field(
        default=DEFAULT_FOLDS,
        validator=attrs.validators.ge(2),
        metadata={"doc": "k of the k-fold cross-validation (fewer when there are fewer points)"},
    )
    m2_resolution: float = attrs.field(
        default=DEFAULT_M2_RESOLUTION,
        validator=positive_finite,
        metadata={
            "doc": "m^2 differences below this are numerical error: noise floor of AIC/BIC "
            "and tie margin of cross-validation (stage 06 Delta is good to ~1e-5)"
        },
    )
    ads_tolerance: float = attrs.field(
        default=1e-4,
        validator=positive_finite,
        metadata={"doc": "largest |coefficient - (1, -d, 0)| reported as the AdS relation"},
    )


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


class EmergentLambdaSLDictionary(Stage):
    """Stage 07: the holographic dictionary fitted per d (see the module docstring)."""

    ID, SLUG = "07", "emergent_lambda_sl_dictionary"
    VERSION = "1"
    INPUTS = (InputSpec("bulk_eigenmodes", "EigenmodesDataset", versions=("0.1", "0.2", "0.3")),)
    OUTPUTS = (OutputSpec("dictionary", "Dictionary"),)
    Params = DictionaryParams

    def run(self, ctx: StageContext, inputs: StageInputs) -> None:
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
