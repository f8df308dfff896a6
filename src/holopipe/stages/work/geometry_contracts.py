"""What stages 03, 04 and 04c share about a prediction: its metric arrays and its contracts.

No stage imports another stage: the helpers several of them need live here (their tolerances,
:class:`~holopipe.stages.geometry_contracts.ContractParams`, are part of the declarations).

- :func:`geometry_arrays`: the metric functions of a GeometryPrediction in the general
  diagonal ansatz (A is A_x; A_t and A_z default to A, the conformal ansatz).
- :func:`prediction_contracts`: every contract of one prediction, with d, family, T and z_h
  from its own meta.

Examples
--------
>>> from holopipe.artifacts.prediction import GeometryPrediction
>>> arrays = geometry_arrays(GeometryPrediction.example())
>>> arrays.A_t is arrays.A_x      # no A_t stored: the conformal ansatz
True
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from holopipe.artifacts.checks import name_d_token
from holopipe.artifacts.prediction import GeometryPrediction
from holopipe.science.contracts import ContractResult, ContractTolerances, evaluate_contracts

if TYPE_CHECKING:
    from holopipe.artifacts.contracts import ContractOutcome, SystemContracts

__all__ = ["GeometryArrays", "contract_outcomes", "geometry_arrays", "prediction_contracts"]


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
