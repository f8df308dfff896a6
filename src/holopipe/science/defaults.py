"""The physics numbers and names that stage parameters default to or are checked against.

Contract tolerances, the Breitenlohner-Freedman bound, the kinds of broken geometry of the
negative controls, the cross-validation folds of the dictionary fit and the applicability
tolerance of the atlas. This module imports nothing (no numpy): a stage's declaration (its
``Params``, read on every command that plans a run) validates against these without loading
the solver that uses them. The science modules take them from here.

Examples
--------
>>> bf_bound(4)
-4.0
>>> ContractTolerances().einstein
0.01
>>> BROKEN_KINDS[:2]
('negative_f', 'wrong_uv_slope')
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "APPLICABILITY_TOLERANCE",
    "BROKEN_KINDS",
    "DEFAULT_FOLDS",
    "DEFAULT_M2_RESOLUTION",
    "ContractTolerances",
    "bf_bound",
    "check_boundary_dimension",
]


@dataclass(frozen=True)
class ContractTolerances:
    """Tolerances of the contracts (defaults from PHYSICS.md).

    ``horizon`` bounds both |f(z_h)| and, from the other side, z_h f'(z_h) (a simple zero).
    """

    f_boundary: float = 1e-3
    horizon: float = 1e-6
    temperature: float = 1e-3
    uv_slope: float = 0.02
    einstein: float = 1e-2
    null_energy: float = 1e-6


#: The kinds of broken geometry :func:`holopipe.science.negative_controls.broken_geometry`
#: makes, in its order (the keys of its defect table).
BROKEN_KINDS: tuple[str, ...] = (
    "negative_f",
    "wrong_uv_slope",
    "nan",
    "noise",
    "clipped_f",
    "wrong_temperature",
)

#: Folds of the cross-validation of the dictionary fit (fewer when there are fewer points).
DEFAULT_FOLDS = 5
#: m^2 differences below this (units L = 1) are numerical error: stage 06 ``ok`` rows carry
#: Delta to better than 1e-5, i.e. m^2 to ~|2 Delta - d| 1e-5.
DEFAULT_M2_RESOLUTION = 1e-5

#: |alpha_UV - 1| below which the AdS dictionary applies (PHYSICS.md, stage 08).
APPLICABILITY_TOLERANCE = 0.02


def check_boundary_dimension(d: int) -> int:
    """``d`` as an int; ``ValueError`` unless it is an integer >= 2.

    Examples
    --------
    >>> check_boundary_dimension(3.0)
    3
    """
    if isinstance(d, bool) or int(d) != d or d < 2:
        raise ValueError(f"d: boundary dimension must be an integer >= 2, got {d!r}")
    return int(d)


def bf_bound(d: int) -> float:
    """Breitenlohner-Freedman bound ``m2_BF = -d^2 / 4`` of AdS_{d+1} (L = 1).

    Examples
    --------
    >>> bf_bound(4)
    -4.0
    """
    d = check_boundary_dimension(d)
    return -(d**2) / 4.0
