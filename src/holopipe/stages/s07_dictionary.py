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

from typing import TYPE_CHECKING

import attrs

from holopipe.science.defaults import DEFAULT_FOLDS, DEFAULT_M2_RESOLUTION
from holopipe.stages.base import InputSpec, OutputSpec, Stage, StageInputs
from holopipe.stages.validators import positive_finite

if TYPE_CHECKING:
    from holopipe.run.context import StageContext

__all__ = ["DictionaryParams", "EmergentLambdaSLDictionary"]


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


class EmergentLambdaSLDictionary(Stage):
    """Stage 07: the holographic dictionary fitted per d (see the module docstring)."""

    ID, SLUG = "07", "emergent_lambda_sl_dictionary"
    VERSION = "1"
    INPUTS = (InputSpec("bulk_eigenmodes", "EigenmodesDataset", versions=("0.1", "0.2", "0.3")),)
    OUTPUTS = (OutputSpec("dictionary", "Dictionary"),)
    Params = DictionaryParams

    def run(self, ctx: StageContext, inputs: StageInputs) -> None:
        from holopipe.stages.work import s07_dictionary as work

        work.run(ctx, inputs)
