"""Stage 04c ``negative_controls``: can the checks tell physics from non-physics?
(PHYSICS.md, "04c negative controls").

Controls, generated here (no inputs), for every d of ``d_values``:

- the massive free-field propagator G(r) ~ r^{-(d-2)/2} K_{(d-2)/2}(m r), for each mass of
  ``masses``, in the stage 01 boundary layout (:class:`~holopipe.artifacts.sandbox.BoundaryData`):
  non-conformal, a conformality test must reject it (negative control); m = 0, flat at
  Delta = (d-2)/2, must be accepted (positive control);
- broken AdS-Schwarzschild geometries (``broken_kinds``: negative f inside the horizon, wrong
  UV slope, NaN, noise, f clipped past the horizon, wrong temperature), their random
  defects drawn from ``ctx.rng(system_id)``: negative controls, fed through the very contract
  evaluation of stage 04 (:func:`~holopipe.stages.geometry_contracts.prediction_contracts`,
  with this stage's tolerances);
- exact AdS (T = 0) and AdS-Schwarzschild for each z_h of ``z_h_values``: positive
  controls, which must pass every evaluated contract.

A control is evaluated when at least one of its checks was; it passes when every
evaluated check passed. Metrics: ``false_positive_rate`` (negative controls that pass,
among those evaluated), ``coverage`` (negative controls evaluated, among all) and the
positive-control counts.

Status policy: coverage below ``min_coverage`` or nothing evaluated is INCOMPLETE (exit 2),
never a pass; a false-positive rate above ``max_false_positive_rate``, a positive control
failing or not evaluated, or a broken geometry missed by a contract that must catch it,
is an error line and the stage ends WARNING (exit 1) with it.

The artifact (alias ``negative_controls``) is a GeometryContracts with ``role``
negative_control / positive_control and ``expected_pass``. Its ``contracts_summary.json``
counts contract outcomes: it says FAIL when the negative controls are rejected, as they
must be; the control verdict is in the stage summary's metrics.

Examples
--------
>>> NegativeControls.key()
'04c_negative_controls'
>>> NegativeControlsParams().min_coverage
0.7
"""

from __future__ import annotations

import attrs

from holopipe.run.context import StageContext
from holopipe.science.defaults import BROKEN_KINDS
from holopipe.stages.base import OutputSpec, Stage, StageInputs
from holopipe.stages.geometry_contracts import ContractParams
from holopipe.stages.validators import positive_finite_each

__all__ = ["NegativeControls", "NegativeControlsParams"]


def _above_r_min(
    instance: NegativeControlsParams, attribute: attrs.Attribute, value: float
) -> None:
    if not value > instance.r_min:
        raise ValueError(
            f"'{attribute.name}' must exceed r_min = {instance.r_min!r}, got {value!r}"
        )


_NON_EMPTY = attrs.validators.min_len(1)


@attrs.define
class NegativeControlsParams(ContractParams):
    """Config section ``stages.04c`` (the contract tolerances of stage 04, plus these)."""

    d_values: list[int] = attrs.field(
        factory=lambda: [3, 4],
        validator=[_NON_EMPTY, attrs.validators.deep_iterable(attrs.validators.ge(3))],
        metadata={
            "doc": "boundary dimensions of the controls, >= 3 "
            "(the massless propagator in d = 2 is a logarithm)"
        },
    )
    masses: list[float] = attrs.field(
        factory=lambda: [0.5, 1.0, 2.0],
        validator=positive_finite_each,
        metadata={
            "doc": "masses m > 0 of the propagator negative controls "
            "(m = 0 is always added as a positive control)"
        },
    )
    r_min: float = attrs.field(
        default=0.05, validator=attrs.validators.gt(0.0), metadata={"doc": "smallest separation r"}
    )
    r_max: float = attrs.field(
        default=5.0, validator=_above_r_min, metadata={"doc": "largest separation r"}
    )
    n_r: int = attrs.field(
        default=200,
        validator=attrs.validators.ge(2),
        metadata={"doc": "separations, log-uniform in [r_min, r_max]"},
    )
    conformality_tolerance: float = attrs.field(
        default=1e-3,
        validator=attrs.validators.gt(0.0),
        metadata={"doc": "largest spread of Delta_eff(r) accepted as conformal"},
    )
    broken_kinds: list[str] = attrs.field(
        factory=lambda: list(BROKEN_KINDS),
        validator=attrs.validators.deep_iterable(attrs.validators.in_(BROKEN_KINDS)),
        metadata={
            "doc": "broken geometries to feed through the contracts: any of "
            + ", ".join(BROKEN_KINDS)
        },
    )
    broken_z_h: float = attrs.field(
        default=1.0,
        validator=attrs.validators.gt(0.0),
        metadata={"doc": "horizon of the broken AdS-Schwarzschild geometries"},
    )
    z_h_values: list[float] = attrs.field(
        factory=lambda: [0.5, 1.0, 2.0],
        validator=positive_finite_each,
        metadata={
            "doc": "horizons of the AdS-Schwarzschild positive controls "
            "(exact AdS at T = 0 is always added)"
        },
    )
    n_grid: int = attrs.field(
        default=300,
        validator=attrs.validators.ge(2),
        metadata={"doc": "radial points of the control geometries"},
    )
    noise_level: float = attrs.field(
        default=1e-3,
        validator=attrs.validators.gt(0.0),
        metadata={"doc": "standard deviation of the noise added to A"},
    )
    min_coverage: float = attrs.field(
        default=0.7,
        validator=[attrs.validators.gt(0.0), attrs.validators.le(1.0)],
        metadata={"doc": "coverage below this is INCOMPLETE (PHYSICS.md: 0.7)"},
    )
    max_false_positive_rate: float = attrs.field(
        default=0.0,
        validator=[attrs.validators.ge(0.0), attrs.validators.le(1.0)],
        metadata={"doc": "false-positive rate above this is reported as an error"},
    )


class NegativeControls(Stage):
    """Negative and positive controls of the checks (see the module docstring)."""

    ID, SLUG = "04c", "negative_controls"
    VERSION = "1"
    INPUTS = ()
    OUTPUTS = (OutputSpec("negative_controls", "GeometryContracts"),)
    Params = NegativeControlsParams

    def run(self, ctx: StageContext, inputs: StageInputs) -> None:
        from holopipe.stages.work import s04c_negative_controls as work

        work.run(ctx, inputs)
