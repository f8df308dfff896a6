"""What stages 03, 04 and 04c share about a prediction: its metric arrays and its contracts.

No stage imports another stage: the helpers several of them need live here.

- :func:`geometry_arrays`: the metric functions of a GeometryPrediction in the general
  diagonal ansatz (A is A_x; A_t and A_z default to A, the conformal ansatz).
- :class:`ContractParams`: the contract tolerances of stage 04's config section (defaults from
  PHYSICS.md); stage 04c measures its negative controls with the same ones.
- :func:`prediction_contracts`: every contract of one prediction, with d, family, T and z_h
  from its own meta.

Examples
--------
>>> ContractParams().tolerances().einstein
0.01
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import attrs
import numpy as np

from holopipe.artifacts.checks import name_d_token
from holopipe.artifacts.prediction import GeometryPrediction
from holopipe.science.contracts import ContractResult, ContractTolerances, evaluate_contracts

if TYPE_CHECKING:
    from holopipe.artifacts.contracts import ContractOutcome, SystemContracts


__all__ = [
    "ContractParams",
    "GeometryArrays",
    "contract_outcomes",
    "geometry_arrays",
    "prediction_contracts",
]

_DEFAULTS = ContractTolerances()


class GeometryArrays(NamedTuple):
    """The metric functions of a prediction in the general diagonal ansatz."""

    z: np.ndarray
    A_t: np.ndarray
    A_x: np.ndarray
    A_z: np.ndarray
    f: np.ndarray


def geometry_arrays(geometry: GeometryPrediction) -> GeometryArrays:
    """z, A_t, A_x, A_z, f of a prediction: A is A_x, and A_t, A_z default to A
    (the conformal ansatz) when the prediction does not store them."""
    A = geometry.A
    A_t = A if geometry.A_t is None else geometry.A_t
    A_z = A if geometry.A_z is None else geometry.A_z
    return GeometryArrays(geometry.z, A_t, A, A_z, geometry.f)


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


def contract_outcomes(results: Sequence[ContractResult]) -> list[ContractOutcome]:
    """Science contract results as artifact records (same fields, same meaning)."""
    from holopipe.artifacts.contracts import ContractOutcome

    return [
        ContractOutcome(r.name, r.evaluated, r.passed, r.tolerance, r.message, r.value)
        for r in results
    ]


def prediction_contracts(
    geometry: GeometryPrediction, path: Path, tolerances: ContractTolerances
) -> SystemContracts:
    """Every contract of one prediction; d, family, T and z_h come from its own meta."""
    from holopipe.artifacts.contracts import SystemContracts

    meta = geometry.meta
    results = evaluate_contracts(
        *geometry_arrays(geometry),
        d=meta.d,
        family=meta.family,
        T=meta.temperature,
        z_h=meta.z_h,
        name_d=name_d_token(path.name.split(".", 1)[0]),
        attrs_d=name_d_token(meta.system_name or meta.system_id),
        tolerances=tolerances,
    )
    return SystemContracts(meta.system_id, meta.family, meta.d, contract_outcomes(results))
