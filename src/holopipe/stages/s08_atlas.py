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

from typing import TYPE_CHECKING

import attrs

from holopipe.science.defaults import APPLICABILITY_TOLERANCE
from holopipe.stages.base import InputSpec, OutputSpec, Stage, StageInputs
from holopipe.stages.validators import positive_finite

if TYPE_CHECKING:
    from holopipe.run.context import StageContext

__all__ = ["AtlasParams", "BuildHolographicDictionary"]


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
        from holopipe.stages.work import s08_atlas as work

        work.run(ctx, inputs)
