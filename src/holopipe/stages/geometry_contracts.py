"""The contract tolerances of stages 04 and 04c: :class:`ContractParams` (defaults from PHYSICS.md).

Stage 04's config section holds them; stage 04c measures its negative controls with the same
ones. What the stages share about evaluating a prediction (its metric arrays, its contracts) is
their work, in :mod:`holopipe.stages.work.geometry_contracts`.

Examples
--------
>>> ContractParams().tolerances().einstein
0.01
"""

from __future__ import annotations

import attrs

from holopipe.science.defaults import ContractTolerances

__all__ = ["ContractParams"]

_DEFAULTS = ContractTolerances()


def _tolerance(default: float, doc: str) -> attrs.Attribute:
    return attrs.field(default=default, validator=attrs.validators.gt(0.0), metadata={"doc": doc})


@attrs.define
class ContractParams:
    """Contract tolerances (defaults from PHYSICS.md); shared by stages 04 and 04c so that
    the negative controls measure the contracts as configured."""

    f_boundary_tolerance: float = _tolerance(
        _DEFAULTS.f_boundary, "regularity: |f(z_0) - 1| allowed"
    )
    horizon_tolerance: float = _tolerance(
        _DEFAULTS.horizon, "horizon: |f(z_h)| allowed; z_h f'(z_h) must be below minus this"
    )
    temperature_tolerance: float = _tolerance(
        _DEFAULTS.temperature, "temperature: relative difference allowed"
    )
    uv_slope_tolerance: float = _tolerance(
        _DEFAULTS.uv_slope, "UV asymptotics: |dA/d ln z + 1| allowed on the first decade"
    )
    einstein_tolerance: float = _tolerance(
        _DEFAULTS.einstein, "Einstein: |R + d(d+1)| / (d(d+1)) and |E^m_m| / d allowed"
    )
    null_energy_tolerance: float = _tolerance(
        _DEFAULTS.null_energy, "null energy: largest e^(-2A_z) (A'' - A'^2) allowed"
    )

    def tolerances(self) -> ContractTolerances:
        return ContractTolerances(
            f_boundary=self.f_boundary_tolerance,
            horizon=self.horizon_tolerance,
            temperature=self.temperature_tolerance,
            uv_slope=self.uv_slope_tolerance,
            einstein=self.einstein_tolerance,
            null_energy=self.null_energy_tolerance,
        )
