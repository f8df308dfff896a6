"""Stage 08 ``build_holographic_dictionary``: the holographic atlas per system and (family, d).

Reads the reconstructed geometries (alias ``predictions/``) and, when stage 07 produced one,
the Dictionary (alias ``dictionary/``); writes a HolographicAtlas (alias ``atlas/``). The
measurements are :mod:`holopipe.science.atlas`; this stage records, per system:

- ``alpha_uv = -dA/d ln z`` measured from the stored A on the first ``uv_decades`` of its grid
  (and ``alpha_t`` from a stored A_t that differs from A), with the effective radius;
- whether m^2 = Delta (Delta - d) applies: only where |alpha - 1| < ``tolerance`` (0.02,
  PHYSICS.md); otherwise "not applicable" with the measured exponent in the reason;
- the operators: the dimensions stage 02 measured from the boundary data
  (``GeometryPrediction.meta.operators``: name, Delta, Delta_err, method) and the stage-07
  entries of the system. Where the dictionary applies each gets m^2 (``Delta (Delta - d)`` for
  a measured dimension, the entry's own m2 for a 07 entry), the branch and nu, with the branch
  rule of PHYSICS.md (Delta_- only for nu < 1); elsewhere m^2 is null.

Per (family, d): the counts, the range of alpha_uv and the stage-07 fit of that d.

The exponent is also compared with the closed form of the family read from the prediction's
meta (``1 - theta/(d-1)`` for hvlf, 1 otherwise: PHYSICS.md's metric table, the same expression
as :attr:`holopipe.science.geometry.FamilyParams.warp_exponents`); the largest deviation is a
metric and a deviation above ``closed_form_tolerance`` is a warning. Systems where the
dictionary does not apply are one note (a physics result, not a problem). A system whose
exponent cannot be measured (too few UV points) is a warning; none measurable is INCOMPLETE.

Checks in the stage summary, per system: ``alpha_uv_minus_1`` = max |alpha - 1| against
``tolerance`` (a failure is expected where the family's closed-form exponents are not AdS
either) and ``alpha_uv_vs_closed_form`` against ``closed_form_tolerance`` (not expected).

Examples
--------
>>> BuildHolographicDictionary.key()
'08_build_holographic_dictionary'
>>> AtlasParams().tolerance
0.02
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

import attrs

from holopipe.science.atlas import APPLICABILITY_TOLERANCE
from holopipe.stages.base import InputSpec, OutputSpec, Stage, StageInputs
from holopipe.stages.validators import positive_finite

if TYPE_CHECKING:
    from holopipe.artifacts.atlas import AtlasGroup, AtlasSystem
    from holopipe.artifacts.dictionary import Dictionary, DictionaryEntry
    from holopipe.artifacts.prediction import GeometryPrediction
    from holopipe.run.context import StageContext

__all__ = ["AtlasParams", "BuildHolographicDictionary", "atlas_system"]

OUTPUT_FILE = "atlas.json"
#: Largest |A_t - A| still read as "A_t is A" (stored round-off).
SAME_WARP = 1e-9


@attrs.define
class AtlasParams:
    """Config section ``stages.08``."""

    tolerance: float = attrs.field(
        default=APPLICABILITY_TOLERANCE,
        validator=positive_finite,
        metadata={"doc": "m2 = Delta(Delta - d) applies only where |alpha_UV - 1| < this"},
    )
    uv_decades: float = attrs.field(
        default=1.0,
        validator=positive_finite,
        metadata={"doc": "width of the UV window of the alpha_UV fit, in decades of z"},
    )
    closed_form_tolerance: float = attrs.field(
        default=1e-3,
        validator=positive_finite,
        metadata={"doc": "largest |alpha_UV - closed form of the family| before a warning"},
    )


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


class BuildHolographicDictionary(Stage):
    """Stage 08: the holographic atlas (see the module docstring)."""

    ID, SLUG = "08", "build_holographic_dictionary"
    VERSION = "1"
    INPUTS = (
        InputSpec("predictions", "GeometryPrediction", versions=("0.1",)),
        InputSpec("dictionary", "Dictionary", required=False, versions=("0.1", "0.2")),
    )
    OUTPUTS = (OutputSpec("atlas", "HolographicAtlas"),)
    Params = AtlasParams

    def run(self, ctx: StageContext, inputs: StageInputs) -> None:
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
