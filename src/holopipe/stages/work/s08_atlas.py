"""Stage 08's work: what :class:`~holopipe.stages.s08_atlas.BuildHolographicDictionary` runs
(the module docstring of :mod:`holopipe.stages.s08_atlas` describes it).

Imported by the stage's ``run`` only: planning a run reads the declaration alone.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from holopipe.stages.base import StageInputs
from holopipe.stages.s08_atlas import AtlasParams

if TYPE_CHECKING:
    from holopipe.artifacts.atlas import AtlasGroup, AtlasSystem
    from holopipe.artifacts.dictionary import Dictionary, DictionaryEntry
    from holopipe.artifacts.prediction import GeometryPrediction
    from holopipe.run.context import StageContext

__all__ = ["atlas_system", "run"]

OUTPUT_FILE = "atlas.json"
#: Largest |A_t - A| still read as "A_t is A" (stored round-off).
SAME_WARP = 1e-9


def _measured_operators(prediction: GeometryPrediction) -> list[tuple[str, float, float, str]]:
    """(name, Delta, Delta_err, method) of the dimensions stage 02 measured (may be none)."""
    return [
        (op.name, float(op.Delta), float(op.Delta_err), op.method)
        for op in prediction.meta.operators or []
    ]


def _mapped(d: int, delta: float, m2: float, branch: str, applicable: bool, why: str) -> dict:
    """m2, branch, nu and rule of one operator, or nulls with the reason."""
    from holopipe.science.dictionary_fit import branch_policy

    if not applicable:
        return {"m2": None, "branch": None, "nu": None, "rule": f"no m2: {why}"}
    decision = branch_policy(d, m2, branch)
    if not decision.allowed:
        return {"m2": None, "branch": None, "nu": None, "rule": f"no m2: {decision.rule}"}
    return {"m2": m2, "branch": branch, "nu": decision.nu, "rule": decision.rule}


def atlas_system(
    prediction: GeometryPrediction, entries: list[DictionaryEntry], params: AtlasParams
) -> AtlasSystem:
    """The atlas entry of one prediction (raises ValueError when alpha_UV cannot be measured)."""
    import numpy as np

    from holopipe.artifacts.atlas import AtlasOperator, AtlasSystem
    from holopipe.science.atlas import dictionary_applicability, uv_exponent
    from holopipe.science.dictionary_fit import infer_mass

    meta = prediction.meta
    uv = uv_exponent(prediction.z, prediction.A, decades=params.uv_decades)
    alpha_t = None
    if prediction.A_t is not None and np.max(np.abs(prediction.A_t - prediction.A)) > SAME_WARP:
        alpha_t = uv_exponent(prediction.z, prediction.A_t, decades=params.uv_decades).alpha
    verdict = dictionary_applicability(uv.alpha, alpha_t, params.tolerance)
    operators = []
    for name, delta, err, method in _measured_operators(prediction):
        m2, branch, _ = infer_mass(meta.d, delta)
        fields = _mapped(meta.d, delta, m2, branch, verdict.applicable, verdict.reason)
        operators.append(AtlasOperator(name, delta, err, "measured", method, **fields))
    for entry in entries:
        fields = _mapped(
            meta.d, entry.Delta, entry.m2, entry.branch, verdict.applicable, verdict.reason
        )
        operators.append(
            AtlasOperator(
                f"{entry.operator} ({entry.branch})",
                entry.Delta,
                None,
                "dictionary",
                "stage 07 entry (Delta from stage 06's UV falloff)",
                **fields,
            )
        )
    provenance = meta.provenance or {}
    return AtlasSystem(
        system_id=meta.system_id,
        family=meta.family,
        d=meta.d,
        alpha_uv=uv.alpha,
        alpha_uv_err=uv.alpha_err,
        effective_radius=uv.effective_radius,
        uv_window=[uv.z_min, uv.z_max],
        applicable=verdict.applicable,
        reason=verdict.reason,
        operators=operators,
        alpha_t=alpha_t,
        system_name=meta.system_name,
        theory=provenance.get("theory") if isinstance(provenance.get("theory"), str) else None,
        boundary_method=(
            provenance.get("boundary_method")
            if isinstance(provenance.get("boundary_method"), str)
            else None
        ),
    )


def _groups(systems: list[AtlasSystem], dictionary: Dictionary | None) -> list[AtlasGroup]:
    from holopipe.artifacts.atlas import AtlasGroup, GroupFit

    fits = {f.d: f for f in dictionary.fits} if dictionary is not None else {}
    by_key: dict[tuple[str, int], list[AtlasSystem]] = defaultdict(list)
    for s in systems:
        by_key[(s.family, s.d)].append(s)
    groups = []
    for (family, d), members in sorted(by_key.items()):
        fit = fits.get(d)
        group_fit = (
            GroupFit(
                fit.coefficients.delta2,
                fit.coefficients.delta,
                fit.coefficients.const,
                fit.preferred.bic if fit.preferred is not None else None,
            )
            if fit is not None
            else None
        )
        alphas = [s.alpha_uv for s in members]
        groups.append(
            AtlasGroup(
                family,
                d,
                len(members),
                sum(s.applicable for s in members),
                min(alphas),
                max(alphas),
                group_fit,
            )
        )
    return groups


def _the_dictionary(ctx: StageContext, dictionaries: list[Dictionary]) -> Dictionary | None:
    """The stage-07 dictionary (the first of several, with a warning), or None with a note."""
    if len(dictionaries) > 1:
        ctx.warn(f"{len(dictionaries)} dictionaries given; using the first")
    if not dictionaries:
        ctx.note("no stage-07 dictionary: operators are the measured ones only")
        return None
    return dictionaries[0]


def _entries_by_system(dictionary: Dictionary | None) -> dict[str, list[DictionaryEntry]]:
    entries: dict[str, list[DictionaryEntry]] = defaultdict(list)
    for entry in dictionary.entries if dictionary is not None else []:
        entries[entry.system_id].append(entry)
    return entries


def _measured_systems(
    ctx: StageContext,
    predictions: list[GeometryPrediction],
    entries: dict[str, list[DictionaryEntry]],
    params: AtlasParams,
) -> list[AtlasSystem]:
    """The atlas entry of every prediction whose alpha_UV can be measured (others: warned)."""
    systems: list[AtlasSystem] = []
    for prediction in predictions:
        sid = prediction.meta.system_id
        try:
            systems.append(atlas_system(prediction, entries.get(sid, []), params))
        except ValueError as exc:
            ctx.warn(f"{sid}: alpha_UV not measured: {exc}")
            ctx.mark_system(sid, "WARNING", f"alpha_UV not measured: {exc}")
    return systems


def _check_closed_forms(
    ctx: StageContext,
    systems: list[AtlasSystem],
    predictions: list[GeometryPrediction],
    params: AtlasParams,
) -> None:
    """Two checks per system: whether the dictionary applies (|alpha - 1| < tolerance; a
    failure is expected where the family's closed-form exponents are not AdS either), and
    alpha_UV against its family's closed form (a deviation above tolerance is a warning)."""
    from holopipe.science.atlas import dictionary_applicability, expected_warp_exponents

    by_id = {p.meta.system_id: p for p in predictions}
    deviations = {}
    for s in sorted(systems, key=lambda s: s.system_id):
        closed_form = expected_warp_exponents(s.family, s.d, by_id[s.system_id].meta.params)
        not_ads = closed_form is not None and not (
            dictionary_applicability(closed_form[1], closed_form[0], params.tolerance).applicable
        )
        exponents = [s.alpha_uv] + ([s.alpha_t] if s.alpha_t is not None else [])
        ctx.check(
            f"{s.system_id}.alpha_uv_minus_1",
            max(abs(alpha - 1.0) for alpha in exponents),
            params.tolerance,
            s.applicable,
            expected_failure=not_ads,  # the family itself is not asymptotically AdS
            group=s.family,
        )
        if closed_form is None:
            continue
        expected = closed_form[1]
        deviations[s.system_id] = dev = abs(s.alpha_uv - expected)
        close = ctx.check(
            f"{s.system_id}.alpha_uv_vs_closed_form",
            dev,
            params.closed_form_tolerance,
            dev <= params.closed_form_tolerance,
            group=s.family,
        )
        if not close:
            ctx.warn(
                f"{s.system_id}: alpha_UV differs from its family's closed form by {dev:.3g} "
                f"> {params.closed_form_tolerance:g}"
            )
    if deviations:
        ctx.metrics["alpha_uv_max_deviation_from_closed_form"] = max(deviations.values())


def run(ctx: StageContext, inputs: StageInputs) -> None:
    """Run the stage on ``inputs`` (see :mod:`holopipe.stages.s08_atlas`)."""
    params: AtlasParams = ctx.params
    from holopipe.artifacts.atlas import HolographicAtlas

    predictions: list[GeometryPrediction] = inputs["predictions"]
    dictionary = _the_dictionary(ctx, inputs.get("dictionary", []))
    systems = _measured_systems(ctx, predictions, _entries_by_system(dictionary), params)
    if not systems:
        ctx.incomplete("no geometry's UV exponent could be measured: empty atlas")
        return
    atlas = HolographicAtlas(
        **ctx.provenance.as_fields(),
        tolerance=params.tolerance,
        systems=systems,
        groups=_groups(systems, dictionary),
    )
    ctx.write("atlas", atlas, OUTPUT_FILE)
    ctx.rows = len(systems)
    not_applicable = [s for s in systems if not s.applicable]
    if not_applicable:
        ctx.note(
            f"{len(not_applicable)} systems outside the AdS dictionary: "
            + "; ".join(f"{s.system_id} ({s.reason})" for s in not_applicable)
        )
    _check_closed_forms(ctx, systems, predictions, params)
    ctx.metrics.update(
        n_systems=float(len(systems)),
        n_applicable=float(len(systems) - len(not_applicable)),
        n_not_applicable=float(len(not_applicable)),
        n_operators=float(sum(len(s.operators) for s in systems)),
        n_measured_operators=float(
            sum(op.source == "measured" for s in systems for op in s.operators)
        ),
    )
