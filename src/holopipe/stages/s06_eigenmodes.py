"""Stage 06 ``build_bulk_eigenmodes_dataset``: scalar eigenmodes of every predicted geometry.

For every GeometryPrediction and every bulk mass ``m2`` configured for its dimension d, the
stage asks :mod:`holopipe.science.sturm_liouville` for the lowest ``n_modes`` boundary masses
``M2`` (eigenvalues, units L = 1; ``m2`` is the *input*) and for Delta read off the UV falloff of
the integrated solution, and writes one EigenmodesDataset (``bulk_modes_dataset.csv`` and its
``.meta.json``). No physics is computed here: the stage picks the eigenproblem, calls the solver
and records what it did.

Interval and eigenproblem of each row (recorded in ``bc_uv``, ``bc_ir``, ``z_uv``, ``z_ir``,
``n_grid`` and ``method``; ``method`` starts with the eigenproblem token):

- UV end: the boundary itself, ``z_uv = 0``, with the solver's finite-energy condition that
  keeps ``psi ~ z^Delta`` of the row's branch (exact for both branches; a cutoff at the first
  data point would shift the Delta_- modes by O(z[0]^(2 nu))). Below the first data point the
  solver follows the UV series ``A + ln z = B0 + b2 z^2`` and ``f = f0 + f_d z^d`` fitted to the
  first points (recorded in ``method``); ``B0`` and ``f0`` set the imposed exponent. Delta is
  measured from the data only (one integration per mass gives both branches, windows starting
  at ``z[0]``).
- T = 0 (``meta.z_h`` null): a Dirichlet hard wall at ``wall_z_ir`` (default: the end of the
  stored grid), ``normal`` modes: eigenvalue ``w^2`` at k = 0, i.e. ``M2 = w^2 - k^2``.
- thermal (``meta.z_h`` set), ``thermal_ir = "horizon"`` (default): the horizon, located as the
  zero of the stored f at the end of the data, is the natural end of the interval. Normal modes
  have a continuous spectrum there (the horizon is at infinite tortoise distance), so the rows
  are the Hermitian *static screening* problem: w = 0, eigenvalue ``M2 = -k^2`` (static
  correlators decay as ``exp(-M |x|)``), regular at the horizon. ``thermal_ir = "wall"`` puts a
  Dirichlet wall before the horizon instead and solves normal modes there.
- branches: ``+`` (Delta_+ = d/2 + nu, standard quantisation) always; ``-`` (Delta_-,
  alternative quantisation) where ``alternative_quantization`` is on and 0 < nu < 1, the only
  range where Delta_- is an operator dimension (nu within ``NU_WINDOW_MARGIN`` of 0 or 1 is
  treated as outside: there Delta_- is degenerate with Delta_+ or sits on the unitarity bound).

Quality flags (only ``ok`` rows are data; ``EigenmodesDataset``'s ``QUALITIES``):

- ``ok``: solved; the solver's error estimate of M2 is within ``max_rel_error_estimate`` and the
  measured Delta agrees with the exponent the solver imposed (from the UV limit of the fitted
  series) to ``max_delta_error``.
- ``unstable``: solved, but M2 < 0: a static normalisable mode at real momentum k^2 = -M2
  (thermal screening problem) or w^2 < 0 (normal modes), i.e. the geometry is unstable for that
  scalar (e.g. a deformed d = 2 black hole with a > 0 at m2 = -0.75 on the Delta_- branch).
  Listed in one stage note; the reason is in ``method``.
- ``inaccurate``: solved, but one of those checks failed (e.g. too few cells for the
  requested modes, a reconstructed geometry whose fitted UV limit disagrees with its
  measured falloff, or a falloff whose own error estimate exceeds ``max_delta_error``, as
  right at the BF bound where nu = sqrt(q) amplifies errors), with a stage warning; the reason
  is in ``method``.
- ``error``: not solved (M2 and Delta are NaN, the reason is in ``method``), with a stage warning.
  This includes a measured Delta that cannot be an operator dimension (negative, or Delta_- at
  or below the unitarity bound): that is a bug to surface, never data.
- ``not_applicable``: the geometry is not of the conformal ansatz the solver assumes
  (``lifshitz``/``hvlf`` families, stored ``A_t``/``A_z`` different from ``A``, or a UV exponent
  other than 1, which the solver itself refuses). One row per configured mass with M2 and Delta
  NaN and the reason in ``method``; one stage note (not a warning: this is the solver's
  documented domain, not a failure) lists them. Writing
  rows rather than dropping the system keeps every (system, m2) accounted for in the dataset.

Checks in the stage summary, per solved (system, m2, branch) (:class:`BranchAccuracy`):
``M2_rel_error_estimate`` against ``max_rel_error_estimate``, ``delta_error_estimate`` (the
falloff's own estimate) and ``delta_deviation`` against ``max_delta_error``: the values the
rows' quality, and so the stage's warnings, depend on.

A stage with no ``ok`` row at all is INCOMPLETE (nothing was computed), never a silent pass.

Examples
--------
A config section (``stages.06``)::

    {"masses": {"3": [-2.0, 0.0], "4": [-3.0, 5.0], "default": [0.0]}, "n_modes": 3}
"""

from __future__ import annotations

import math
from typing import Literal

import attrs

from holopipe.run.context import StageContext
from holopipe.science.defaults import bf_bound
from holopipe.stages.base import InputSpec, OutputSpec, Stage, StageInputs
from holopipe.stages.validators import optional_positive_finite, positive_finite

__all__ = ["BuildBulkEigenmodesDataset", "EigenmodesParams"]


#: The key of ``masses`` used for every d without its own entry.
DEFAULT_MASSES_KEY = "default"
#: Smallest boundary dimension of any system (sandbox rule d >= 2): the "default" masses must
#: respect its BF bound, which then holds for every d.
SMALLEST_D = 2


def _default_masses() -> dict[str, list[float]]:
    # The (d, m2) pairs of PHYSICS.md (nu = 1/2, 3/2, 1, 3, 1/2) plus m2 = 0 for d = 2.
    return {"2": [-0.75, 0.0], "3": [-2.0, 0.0], "4": [-3.0, 5.0], DEFAULT_MASSES_KEY: [0.0]}


def _check_masses(
    instance: object, attribute: attrs.Attribute, value: dict[str, list[float]]
) -> None:
    name = attribute.name
    if not value:
        raise ValueError(
            f"{name}: give at least one list of masses (keys: d, or {DEFAULT_MASSES_KEY!r})"
        )
    for key, masses in value.items():
        if key == DEFAULT_MASSES_KEY:
            d = SMALLEST_D
        elif key.isdigit() and int(key) >= 2:
            d = int(key)
        else:
            raise ValueError(
                f"{name}.{key}: keys are a dimension d >= 2 ('3') or {DEFAULT_MASSES_KEY!r}"
            )
        if not masses:
            raise ValueError(f"{name}.{key}: empty list of masses")
        if len(set(masses)) != len(masses):
            raise ValueError(f"{name}.{key}: repeated masses {masses}")
        for i, m2 in enumerate(masses):
            if not (math.isfinite(m2) and m2 >= bf_bound(d)):
                scope = f"d = {d}" + (", the smallest d" if key == DEFAULT_MASSES_KEY else "")
                raise ValueError(
                    f"{name}.{key}[{i}]: m2 = {m2!r} is below the BF bound {bf_bound(d)} "
                    f"for {scope}"
                )


def _check_n_grid(instance: EigenmodesParams, attribute: attrs.Attribute, value: int) -> None:
    minimum = 16 * instance.n_modes
    if value % 4 or value < minimum:
        raise ValueError(
            f"{attribute.name}: must be a multiple of 4 and >= 16 n_modes = {minimum}, got {value}"
        )


@attrs.define
class EigenmodesParams:
    """Config section ``stages.06``."""

    masses: dict[str, list[float]] = attrs.field(
        factory=_default_masses,
        validator=_check_masses,
        metadata={
            "doc": "bulk masses m2 per boundary dimension: keys '2', '3', ... and 'default' "
            "for any other d; each m2 must respect the BF bound -d^2/4 of its d ('default': "
            "of d = 2)"
        },
    )
    n_modes: int = attrs.field(
        default=3, validator=attrs.validators.ge(1), metadata={"doc": "lowest modes per mass"}
    )
    alternative_quantization: bool = attrs.field(
        default=True, metadata={"doc": "also give the Delta_- branch where 0 < nu < 1"}
    )
    wall_z_ir: float | None = attrs.field(
        default=None,
        validator=optional_positive_finite,
        metadata={"doc": "hard-wall position of T = 0 systems; null: the end of each stored grid"},
    )
    thermal_ir: Literal["horizon", "wall"] = attrs.field(
        default="horizon",
        validator=attrs.validators.in_(("horizon", "wall")),
        metadata={
            "doc": "thermal systems: 'horizon' (static screening problem, regular at f = 0) "
            "or 'wall' (normal modes, Dirichlet wall at wall_z_ir or the end of the grid, "
            "which must lie before the horizon)"
        },
    )
    n_grid: int = attrs.field(
        default=192,
        validator=_check_n_grid,
        metadata={
            "doc": "cells of the finest solver grid (N/2 and N/4 give the Richardson "
            "extrapolation and its error estimate); 192 keeps M_1..M_3 of the hard wall "
            "within 1e-7 relative (benchmarks/bench_stage06.py)"
        },
    )
    max_rel_error_estimate: float = attrs.field(
        default=1e-5,
        validator=positive_finite,
        metadata={
            "doc": "rows whose estimated |dM2| / max(|M2|, z_ir^-2) exceeds this are "
            "'inaccurate' (the estimate is conservative by >= 16: M_n stays within ~1e-6)"
        },
    )
    max_delta_error: float = attrs.field(
        default=1e-5,
        validator=positive_finite,
        metadata={
            "doc": "rows whose measured Delta (UV falloff of the data) and the exponent the "
            "solver imposed (from the fitted UV limit) differ by more than this are 'inaccurate'"
        },
    )

    def masses_for(self, d: int) -> list[float] | None:
        """The masses of dimension d (its own entry, else ``default``), or None."""
        return self.masses.get(str(d), self.masses.get(DEFAULT_MASSES_KEY))


class BuildBulkEigenmodesDataset(Stage):
    """Stage 06: boundary masses M2 and UV dimensions Delta of bulk scalars (module docstring)."""

    ID, SLUG = "06", "build_bulk_eigenmodes_dataset"
    VERSION = "1"
    INPUTS = (InputSpec("predictions", "GeometryPrediction"),)
    OUTPUTS = (OutputSpec("bulk_eigenmodes", "EigenmodesDataset"),)
    Params = EigenmodesParams

    def run(self, ctx: StageContext, inputs: StageInputs) -> None:
        from holopipe.stages.work import s06_eigenmodes as work

        work.run(ctx, inputs)
