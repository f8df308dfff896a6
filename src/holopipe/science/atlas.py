"""Stage 08's measurements: the UV exponent and effective radius of a reconstructed geometry,
and the rule that says where the AdS dictionary m^2 = Delta (Delta - d) applies.

Near the boundary the warp factor of a scale-covariant geometry is ``A = -alpha ln z + ln L``
(plus corrections in z^2): AdS of radius L has alpha = 1, hyperscaling-violating Lifshitz
(hvlf) has ``A_x = -(1 - theta/(d-1)) ln z`` on all three of A_t/A_x/A_z shifts, i.e.
``alpha_UV = 1 - theta/(d-1)`` (PHYSICS.md's metric table; the same exponent as
:attr:`holopipe.science.geometry.FamilyParams.warp_exponents`). :func:`uv_exponent` measures
alpha and L by least squares of A on {ln z, 1, z^2} over the first ``decades`` of the stored
grid; the z^2 column absorbs the leading deformation (A = -ln z + a z^2 has alpha = 1
exactly), so a deformed geometry is not mistaken for a different exponent.

The dictionary m^2 = Delta (Delta - d) is derived for an asymptotically AdS boundary. It is
applied only where |alpha_UV - 1| < tolerance (PHYSICS.md: 0.02), and, when the geometry stores
its own A_t, also |alpha_t - 1| < tolerance (Lifshitz has alpha_x = 1 but alpha_t = zeta).

Examples
--------
>>> import numpy as np
>>> z = np.geomspace(1e-3, 1.0, 200)
>>> fit = uv_exponent(z, -(1 - 1.0 / 2) * np.log(z))   # hvlf, d = 3, theta = 1
>>> round(fit.alpha, 9), round(fit.effective_radius, 9)
(0.5, 1.0)
>>> dictionary_applicability(fit.alpha, None).applicable
False
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from holopipe.science.defaults import APPLICABILITY_TOLERANCE
from holopipe.science.geometry import FAMILIES, FamilyParams

__all__ = [
    "APPLICABILITY_TOLERANCE",
    "Applicability",
    "UVExponent",
    "dictionary_applicability",
    "expected_alpha_uv",
    "expected_warp_exponents",
    "uv_exponent",
]

#: Fewest grid points of the UV window (the fit has 3 parameters).
MIN_UV_POINTS = 6


@dataclass(frozen=True)
class UVExponent:
    """``A ~ -alpha ln z + ln(effective_radius)`` on the UV window, with its uncertainty."""

    alpha: float
    alpha_err: float
    effective_radius: float
    z_min: float
    z_max: float
    n_points: int
    rms_residual: float


def uv_exponent(z: ArrayLike, A: ArrayLike, *, decades: float = 1.0) -> UVExponent:
    """alpha = -dA/d ln z at the boundary and the effective radius exp(A + alpha ln z).

    Parameters
    ----------
    z, A : array_like
        Increasing radial grid (z > 0, boundary at z -> 0) and a warp factor on it.
    decades : float
        Width of the UV window: the points with z <= z[0] 10^decades.

    Raises
    ------
    ValueError
        Bad grid, non-finite A, or fewer than 6 points in the window.

    Examples
    --------
    >>> import numpy as np
    >>> z = np.geomspace(1e-3, 0.5, 100)
    >>> round(uv_exponent(z, -np.log(z) + 0.3 * z**2).alpha, 9)
    1.0
    """
    grid = np.asarray(z, dtype=float)
    warp = np.asarray(A, dtype=float)
    if grid.ndim != 1 or grid.shape != warp.shape:
        raise ValueError(f"z and A must be 1-D of one length, got {grid.shape} and {warp.shape}")
    if not (np.all(np.isfinite(grid)) and np.all(grid > 0) and np.all(np.diff(grid) > 0)):
        raise ValueError("z must be finite, positive and strictly increasing")
    if not np.all(np.isfinite(warp)):
        raise ValueError("A must be finite")
    if not (math.isfinite(decades) and decades > 0):
        raise ValueError(f"decades must be positive, got {decades!r}")
    window = grid <= grid[0] * 10.0**decades
    n = int(np.count_nonzero(window))
    if n < MIN_UV_POINTS:
        raise ValueError(
            f"{n} grid points in the first {decades:g} decade(s) above z = {grid[0]:.3g}; "
            f"the UV fit needs {MIN_UV_POINTS}"
        )
    zw, aw = grid[window], warp[window]
    # Columns scaled to O(1) so the normal equations stay well conditioned.
    scale = zw[-1] ** 2
    design = np.column_stack([-np.log(zw), np.ones_like(zw), zw**2 / scale])
    coef, *_ = np.linalg.lstsq(design, aw, rcond=None)
    residual = aw - design @ coef
    dof = n - 3
    s2 = float(residual @ residual) / dof if dof > 0 else 0.0
    cov = s2 * np.linalg.pinv(design.T @ design)
    return UVExponent(
        alpha=float(coef[0]),
        alpha_err=float(math.sqrt(max(cov[0, 0], 0.0))),
        effective_radius=float(math.exp(coef[1])),
        z_min=float(zw[0]),
        z_max=float(zw[-1]),
        n_points=n,
        rms_residual=float(math.sqrt(np.mean(residual**2))),
    )


@dataclass(frozen=True)
class Applicability:
    """Whether m^2 = Delta (Delta - d) applies, and the reason in words."""

    applicable: bool
    reason: str


def dictionary_applicability(
    alpha_uv: float, alpha_t: float | None, tolerance: float = APPLICABILITY_TOLERANCE
) -> Applicability:
    """The stage 08 rule (module docstring).

    Examples
    --------
    >>> dictionary_applicability(1.0005, None).applicable
    True
    >>> print(dictionary_applicability(1.0, 2.0).reason)
    not applicable: alpha_t = 2 (|alpha_t - 1| = 1 >= 0.02): the boundary is not AdS
    """
    for name, value in (("alpha_UV", alpha_uv), ("alpha_t", alpha_t)):
        if value is None:
            continue
        gap = abs(value - 1.0)
        if not gap < tolerance:
            return Applicability(
                False,
                f"not applicable: {name} = {value:.6g} (|{name} - 1| = {gap:.3g} >= "
                f"{tolerance:g}): the boundary is not AdS",
            )
    shown = f"alpha_UV = {alpha_uv:.6g}" + ("" if alpha_t is None else f", alpha_t = {alpha_t:.6g}")
    return Applicability(True, f"applicable: {shown} within {tolerance:g} of 1")


def expected_warp_exponents(
    family: str, d: int, params: dict[str, float]
) -> tuple[float, float] | None:
    """The closed-form UV exponents ``(alpha_t, alpha_x)`` of a family of PHYSICS.md's metric
    table (:attr:`~holopipe.science.geometry.FamilyParams.warp_exponents`), or None for an
    unknown family or parameters outside the family's range.

    Examples
    --------
    >>> expected_warp_exponents("lifshitz", 3, {"zeta": 2.0})
    (2.0, 1.0)
    >>> expected_warp_exponents("unknown", 3, {}) is None
    True
    """
    if family not in FAMILIES:
        return None
    try:
        family_params = FamilyParams(
            family,
            d,
            None,
            zeta=float(params.get("zeta", 1.0)),
            theta=float(params.get("theta", 0.0)),
            a=float(params.get("a", 0.0)),
        )
    except (TypeError, ValueError):
        return None
    alpha_t, alpha_x = family_params.warp_exponents
    return float(alpha_t), float(alpha_x)


def expected_alpha_uv(family: str, d: int, params: dict[str, float]) -> float | None:
    """The closed-form alpha_UV of a family of PHYSICS.md's metric table, or None.

    ``1 - theta/(d-1)`` for hvlf and 1 for ads, lifshitz and deformed (the A_x exponent of
    :func:`expected_warp_exponents`); None for an unknown family or parameters outside the
    family's range.

    Examples
    --------
    >>> expected_alpha_uv("hvlf", 4, {"zeta": 2.0, "theta": 1.5})
    0.5
    >>> expected_alpha_uv("unknown", 3, {}) is None
    True
    """
    exponents = expected_warp_exponents(family, d, params)
    return None if exponents is None else exponents[1]
