"""Stage 02 ``emergent_geometry_engine``: the reference engine, bulk geometry from boundary data.

Per universe, with ``ctx.map``, from the boundary group only (separations, two-point functions,
temperature; and d, the dimension of the boundary theory):

- the dimension of each operator from the UV power law of its G2
  (:func:`~holopipe.science.reconstruction.estimate_uv_dimension`): PHYSICS.md keeps operator
  dimensions in the truth group, so the engine must read them off the data;
- the *measured* dimension of each operator whose UV is conformal, with an uncertainty
  (:func:`~holopipe.science.dimensions.measure_dimension`: weighted log-log fit over the UV
  window, error from the residuals and the window variation), written to the prediction's
  ``meta.operators`` (``{name, Delta, Delta_err, method}``), which stages 08 and 09 read;
- T = 0: Abel inversion of G2 of the first operator into ``A(z)`` on the probed range
  (:func:`~holopipe.science.reconstruction.reconstruct_warp_factor`), then the family, ads or
  deformed, by least squares (:func:`~holopipe.science.reconstruction
  .fit_zero_temperature_family`); f = 1;
- T > 0: the family templates with z_h from T, fitted by least squares with the dimension
  fitted alongside (:func:`~holopipe.science.reconstruction.fit_thermal_geometry` with
  ``delta=None``: hvlf has no UV power law to read it from); the chosen geometry is written on a
  grid up to its horizon.

Method, chosen family, every candidate's residual and the boundary ``exact`` flag go into the
prediction's ``provenance``. Only then, and only for the stage summary, is each prediction
scored against the universe's truth group (:func:`holopipe.data.sandbox.compare_with_truth`):
the truth never reaches the reconstruction. Boundary-only universes (a real theory's data,
no truth) are reconstructed the same way and not scored; the summary counts them.
"""

from __future__ import annotations

from typing import Any

import attrs

from holopipe.run.context import StageContext
from holopipe.science.geometry import FAMILIES
from holopipe.stages.base import InputSpec, OutputSpec, Stage, StageInputs
from holopipe.stages.validators import int_at_least, positive_finite

__all__ = ["EmergentGeometryEngine", "ReconstructionParams"]


def _candidate_families(_: Any, attribute: attrs.Attribute, value: list[str]) -> None:
    if not value or len(set(value)) != len(value) or not set(value) <= set(FAMILIES):
        raise ValueError(
            f"{attribute.name}: must be a non-empty list of distinct families from "
            f"{list(FAMILIES)}, got {value!r}"
        )


@attrs.define
class ReconstructionParams:
    """Config section ``stages.02``."""

    families: list[str] = attrs.field(
        factory=lambda: list(FAMILIES),
        validator=_candidate_families,
        metadata={"doc": "candidate families of the thermal template fit"},
    )
    z_min: float = attrs.field(
        default=1e-3, validator=positive_finite, metadata={"doc": "first point of the thermal grid"}
    )
    n_z: int = attrs.field(
        default=200, validator=int_at_least(16), metadata={"doc": "points of the thermal grid"}
    )
    uv_tolerance: float = attrs.field(
        default=1e-6,
        validator=positive_finite,
        metadata={"doc": "largest UV residual of ln G2 read as a conformal power law"},
    )
    family_tolerance: float = attrs.field(
        default=1e-6,
        validator=positive_finite,
        metadata={"doc": "T > 0: RMS of ln G2 within which the simpler family is preferred"},
    )
    zero_temperature_tolerance: float = attrs.field(
        default=1e-4,
        validator=positive_finite,
        metadata={"doc": "T = 0: RMS of A within which ads is preferred to deformed"},
    )
    max_abs_A_error: float = attrs.field(
        default=5e-4,
        validator=positive_finite,
        metadata={"doc": "truth check (summary only): larger |A_rec - A_true| is a WARNING"},
    )
    dimension_window_decades: float = attrs.field(
        default=1.0,
        validator=positive_finite,
        metadata={"doc": "UV window of the dimension fits: decades of x above the smallest"},
    )
    dimension_corrections: int = attrs.field(
        default=2,
        validator=attrs.validators.and_(attrs.validators.instance_of(int), attrs.validators.ge(0)),
        metadata={"doc": "measured Delta: power corrections (x/x_hi)^k fitted with the law"},
    )


class EmergentGeometryEngine(Stage):
    """Reference geometry reconstruction (PHYSICS.md, "02 geometry reconstruction")."""

    ID, SLUG = "02", "emergent_geometry_engine"
    VERSION = "1"
    INPUTS = (InputSpec("sandbox", "SandboxGeometry"),)
    OUTPUTS = (OutputSpec("predictions", "GeometryPrediction"),)
    Params = ReconstructionParams

    def run(self, ctx: StageContext, inputs: StageInputs) -> None:
        from holopipe.stages.work import s02_reconstruction as work

        work.run(ctx, inputs)
