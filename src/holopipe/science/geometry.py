"""Geometry families, curvature and temperature of the diagonal holographic metric.

One metric ansatz everywhere (PHYSICS.md, "Metric ansatz"), boundary at z -> 0, L = 1::

    ds^2 = -e^{2 A_t} f dt^2 + e^{2 A_x} dx_{d-1}^2 + e^{2 A_z} dz^2 / f

with ``d`` the boundary spacetime dimension (bulk dimension d + 1). The families are
``ads``, ``lifshitz(zeta)``, ``hvlf(zeta, theta)`` and ``deformed(a)``; all of them have
warp factors ``A_i = -alpha_i ln z + a z^2`` and blackening ``f = 1 - (z/z_h)^n``.

Curvature is computed from the arrays with high-order finite differences in ``u = ln z``
(power laws, which dominate near the boundary, are smooth and slowly varying in ``u``).
The mixed Ricci components of the general diagonal ansatz, with primes d/dz and
``P = A_t' + (d-1) A_x' - A_z'``, are::

    R^t_t = -e^{-2A_z} [f A_t'' + f A_t' P + f''/2 + f' (A_t' + P/2)]
    R^x_x = -e^{-2A_z} [f A_x'' + f A_x' P + f' A_x']
    R^z_z = -e^{-2A_z} [f (A_t'' + A_t'^2 - A_z' A_t') + f''/2 + f' (3 A_t' - A_z')/2
                        + (d-1) (f (A_x'' + A_x'^2 - A_z' A_x') + f' A_x'/2)]

(derived from the Christoffel symbols of the metric; f enters polynomially, so they are
regular at and beyond the horizon). For A_t = A_x = A_z = A their trace is PHYSICS.md's
``R = e^{-2A} [-f'' - 2d (f A')' - d(d-1) f A'^2]``.

Examples
--------
>>> import numpy as np
>>> p = FamilyParams("ads", d=3, z_h=1.0)
>>> z = uv_grid(1e-3, 1.0, 300)
>>> m = metric_functions(p, z)
>>> bool(np.allclose(ricci_scalar(z, *m, d=3), -12.0))
True
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from holopipe.science._derivatives import (
    DEFAULT_STENCIL,
    derivatives,
    fornberg_weights,
    local_derivatives,
)

__all__ = [
    "FAMILIES",
    "FamilyParams",
    "HorizonData",
    "MetricFunctions",
    "MixedComponents",
    "c_function",
    "constant_ricci_scalar",
    "einstein_residuals",
    "exact_mixed_ricci",
    "exact_ricci_scalar",
    "horizon_from_temperature",
    "horizon_temperature",
    "locate_horizon",
    "metric_functions",
    "mixed_ricci",
    "null_energy_combination",
    "ricci_scalar",
    "temperature",
    "uv_grid",
]

FAMILIES = ("ads", "lifshitz", "hvlf", "deformed")

_USES_ZETA = ("lifshitz", "hvlf")


def _real(name: str, value: object, allow_inf: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    if math.isinf(value) and not allow_inf:
        raise ValueError(f"{name} must be finite, got {value!r}")
    return float(value)


def _check_d(d: object) -> int:
    if isinstance(d, bool) or not isinstance(d, numbers.Integral) or d < 2:
        raise ValueError(f"d must be an integer >= 2 (boundary spacetime dimension), got {d!r}")
    return int(d)


@dataclass(frozen=True)
class FamilyParams:
    """Parameters of one geometry of a family.

    Parameters
    ----------
    family : str
        One of :data:`FAMILIES`.
    d : int
        Boundary spacetime dimension, >= 2.
    z_h : float or None
        Horizon; ``None`` (or ``inf``, stored as ``None``) is zero temperature.
    zeta : float
        Dynamical exponent (lifshitz, hvlf), >= 1; must stay 1 for other families.
    theta : float
        Hyperscaling violation (hvlf), 0 <= theta < d - 1; must stay 0 for other families.
        (The null energy condition further needs theta <= (d-1)(zeta-1); that is left to
        the null_energy contract, not refused here.)
    a : float
        Deformation of ``A = -ln z + a z^2`` (deformed); must stay 0 for other families.

    Examples
    --------
    >>> FamilyParams("lifshitz", d=3, z_h=None, zeta=2.0).is_thermal
    False
    >>> FamilyParams("hvlf", d=4, z_h=1.0, zeta=2.0, theta=1.0).blackening_exponent
    4.0
    """

    family: str
    d: int
    z_h: float | None
    zeta: float = 1.0
    theta: float = 0.0
    a: float = 0.0

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            legacy = self.family == "hyperscaling"
            hint = " (the legacy name 'hyperscaling' is 'hvlf')" if legacy else ""
            raise ValueError(f"family must be one of {FAMILIES}, got {self.family!r}{hint}")
        d = _check_d(self.d)
        z_h = None if self.z_h is None else _real("z_h", self.z_h, allow_inf=True)
        if z_h is not None and not z_h > 0:
            raise ValueError(f"z_h must be > 0 (None or inf: zero temperature), got {self.z_h!r}")
        z_h = None if z_h == math.inf else z_h
        zeta, theta, a = (_real(name, getattr(self, name)) for name in ("zeta", "theta", "a"))
        if zeta < 1:
            raise ValueError(f"zeta must be >= 1 (null energy), got {self.zeta!r}")
        if self.family not in _USES_ZETA and zeta != 1:
            raise ValueError(f"zeta applies to {_USES_ZETA}; family {self.family!r} needs zeta = 1")
        if not 0 <= theta < d - 1:
            raise ValueError(f"theta must satisfy 0 <= theta < d - 1 = {d - 1}, got {self.theta!r}")
        if self.family != "hvlf" and theta != 0:
            raise ValueError(f"theta applies to 'hvlf'; family {self.family!r} needs theta = 0")
        if self.family != "deformed" and a != 0:
            raise ValueError(f"a applies to 'deformed'; family {self.family!r} needs a = 0")
        # Normalise types so that equal parameters compare and hash equal.
        for name, value in (("d", d), ("z_h", z_h), ("zeta", zeta), ("theta", theta), ("a", a)):
            object.__setattr__(self, name, value)

    @property
    def is_thermal(self) -> bool:
        """True when there is a horizon (finite z_h)."""
        return self.z_h is not None

    @property
    def blackening_exponent(self) -> float:
        """n in f = 1 - (z/z_h)^n: d for ads/deformed, d - 1 + zeta - theta otherwise."""
        return self.d - 1 + self.zeta - self.theta

    @property
    def warp_exponents(self) -> tuple[float, float]:
        """(alpha_t, alpha_x): A_t = -alpha_t ln z + a z^2, A_x = A_z = -alpha_x ln z + a z^2."""
        shift = self.theta / (self.d - 1)
        return self.zeta - shift, 1.0 - shift


class MetricFunctions(NamedTuple):
    """Warp factors and blackening function of the diagonal ansatz, on a grid."""

    A_t: np.ndarray
    A_x: np.ndarray
    A_z: np.ndarray
    f: np.ndarray


class MixedComponents(NamedTuple):
    """Diagonal mixed components (t, x, z) of a tensor, e.g. R^t_t, R^x_x, R^z_z."""

    tt: np.ndarray
    xx: np.ndarray
    zz: np.ndarray

    def trace(self, d: int) -> np.ndarray:
        """``T^t_t + (d-1) T^x_x + T^z_z`` (d-1 boundary space directions): for the Ricci
        components, the Ricci scalar R. The one place this sum is written.

        Examples
        --------
        >>> MixedComponents(-4.0, -4.0, -4.0).trace(4)
        -20.0
        """
        return self.tt + (d - 1) * self.xx + self.zz


class HorizonData(NamedTuple):
    """Blackening function at a horizon and the temperature it implies."""

    z_h: float
    f_value: float
    f_slope: float
    temperature: float


def _checked_z(z: ArrayLike) -> np.ndarray:
    grid = np.asarray(z, dtype=float)
    if grid.ndim != 1:
        raise ValueError(f"z must be 1-D, got shape {grid.shape}")
    if not (np.all(np.isfinite(grid)) and np.all(grid > 0)):
        raise ValueError("z must be finite and > 0 (the boundary z = 0 is excluded)")
    return grid


def _checked_profiles(z: ArrayLike, *profiles: ArrayLike) -> tuple[np.ndarray, ...]:
    grid = _checked_z(z)
    arrays = tuple(np.asarray(p, dtype=float) for p in profiles)
    for array in arrays:
        if array.shape != grid.shape:
            raise ValueError(f"profile shape {array.shape} differs from z shape {grid.shape}")
    return (grid, *arrays)


def metric_functions(params: FamilyParams, z: ArrayLike) -> MetricFunctions:
    """The family's A_t, A_x, A_z and f on ``z`` (PHYSICS.md "Metric ansatz" table).

    f is the exact ``1 - (z/z_h)^n`` everywhere, negative past the horizon (never clipped);
    at zero temperature f = 1.

    Examples
    --------
    >>> import numpy as np
    >>> m = metric_functions(FamilyParams("lifshitz", 3, 1.0, zeta=2.0), np.array([0.5]))
    >>> [round(float(v[0]), 6) for v in m]
    [1.386294, 0.693147, 0.693147, 0.9375]
    """
    grid = _checked_z(z)
    alpha_t, alpha_x = params.warp_exponents
    log_z = np.log(grid)
    deformation = params.a * grid**2
    A_x = -alpha_x * log_z + deformation
    if params.z_h is None:
        f = np.ones_like(grid)
    else:
        f = 1.0 - (grid / params.z_h) ** params.blackening_exponent
    return MetricFunctions(-alpha_t * log_z + deformation, A_x, A_x.copy(), f)


def temperature(params: FamilyParams) -> float:
    """Hawking temperature n / (4 pi z_h^zeta) of the family (0 without a horizon).

    Examples
    --------
    >>> round(temperature(FamilyParams("ads", 4, 1.0)), 12) == round(1 / math.pi, 12)
    True
    """
    if params.z_h is None:
        return 0.0
    return params.blackening_exponent / (4.0 * math.pi * params.z_h**params.zeta)


def horizon_from_temperature(
    family: str, T: float, d: int, zeta: float = 1.0, theta: float = 0.0
) -> float | None:
    """Inverse of :func:`temperature`: z_h = (n / (4 pi T))^(1/zeta); ``None`` for T = 0.

    Examples
    --------
    >>> round(horizon_from_temperature("ads", 3 / (4 * math.pi), 3), 12)
    1.0
    """
    if isinstance(T, bool) or not isinstance(T, numbers.Real) or not math.isfinite(T) or T < 0:
        raise ValueError(f"T must be a finite number >= 0, got {T!r}")
    params = FamilyParams(family, d, None, zeta=zeta, theta=theta)
    if T == 0:
        return None
    return (params.blackening_exponent / (4.0 * math.pi * T)) ** (1.0 / params.zeta)


def uv_grid(z_min: float, z_max: float, n: int) -> np.ndarray:
    """Geometric grid on [z_min, z_max]: uniform in ln z, so every decade near the
    boundary gets the same number of points.

    Examples
    --------
    >>> uv_grid(1e-3, 1.0, 4).round(12).tolist()
    [0.001, 0.01, 0.1, 1.0]
    """
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 2:
        raise ValueError(f"n must be an integer >= 2, got {n!r}")
    if not (math.isfinite(z_min) and math.isfinite(z_max) and 0 < z_min < z_max):
        raise ValueError(f"need 0 < z_min < z_max, finite; got z_min={z_min!r}, z_max={z_max!r}")
    grid = np.exp(np.linspace(math.log(z_min), math.log(z_max), int(n)))
    grid[0], grid[-1] = z_min, z_max
    return grid


def _log_derivatives(log_z: np.ndarray, *profiles: np.ndarray, stencil: int) -> np.ndarray:
    """First and second u-derivatives (u = ln z) of each profile: shape (2, len(profiles), n)."""
    return derivatives(log_z, np.stack(profiles), max_order=2, stencil=stencil)[1:]


def _mixed_ricci_from_log_derivatives(
    d: int,
    at: np.ndarray,
    at_u: np.ndarray,
    ax: np.ndarray,
    ax_u: np.ndarray,
    az: np.ndarray,
    f: np.ndarray,
    f_u: np.ndarray,
    f_uu: np.ndarray,
    log_prefactor: np.ndarray,
) -> MixedComponents:
    """Mixed Ricci components from u-derivatives (u = ln z).

    ``ai = dA_i/du = z A_i'``, ``ai_u = d^2A_i/du^2`` (so z^2 A_i'' = ai_u - ai),
    ``f_u = z f'``, ``f_uu - f_u = z^2 f''``; ``log_prefactor = -2 A_z - 2 ln z``.
    """
    p = at + (d - 1) * ax - az
    second_f = (f_uu - f_u) / 2
    bracket_t = f * (at_u - at) + f * at * p + second_f + f_u * (at + p / 2)
    bracket_x = f * (ax_u - ax) + f * ax * p + f_u * ax
    bracket_z = (
        f * (at_u - at + at**2 - az * at)
        + second_f
        + f_u * (3 * at - az) / 2
        + (d - 1) * (f * (ax_u - ax + ax**2 - az * ax) + f_u * ax / 2)
    )
    prefactor = -np.exp(log_prefactor)
    return MixedComponents(prefactor * bracket_t, prefactor * bracket_x, prefactor * bracket_z)


def mixed_ricci(
    z: ArrayLike,
    A_t: ArrayLike,
    A_x: ArrayLike,
    A_z: ArrayLike,
    f: ArrayLike,
    d: int,
    *,
    stencil: int = DEFAULT_STENCIL,
) -> MixedComponents:
    """Mixed Ricci components R^t_t, R^x_x, R^z_z of the diagonal ansatz, from arrays.

    Parameters
    ----------
    z : array_like
        Strictly increasing grid, z > 0.
    A_t, A_x, A_z, f : array_like
        Metric functions on ``z``.
    d : int
        Boundary spacetime dimension of this geometry.
    stencil : int
        Finite-difference stencil (nodes) in u = ln z.

    Examples
    --------
    >>> import numpy as np
    >>> z = uv_grid(1e-2, 1.0, 200)
    >>> r = mixed_ricci(z, *metric_functions(FamilyParams("ads", 4, 1.0), z), d=4)
    >>> bool(np.allclose(r.tt, -4) and np.allclose(r.zz, -4))
    True
    """
    d = _check_d(d)
    grid, a_t, a_x, a_z, blackening = _checked_profiles(z, A_t, A_x, A_z, f)
    log_z = np.log(grid)
    (at, ax, az, f_u), (at_u, ax_u, _, f_uu) = _log_derivatives(
        log_z, a_t, a_x, a_z, blackening, stencil=stencil
    )
    return _mixed_ricci_from_log_derivatives(
        d, at, at_u, ax, ax_u, az, blackening, f_u, f_uu, -2 * a_z - 2 * log_z
    )


def ricci_scalar(
    z: ArrayLike,
    A_t: ArrayLike,
    A_x: ArrayLike,
    A_z: ArrayLike,
    f: ArrayLike,
    d: int,
    *,
    stencil: int = DEFAULT_STENCIL,
) -> np.ndarray:
    """Ricci scalar R = R^t_t + (d-1) R^x_x + R^z_z of the diagonal ansatz, from arrays.

    Examples
    --------
    >>> import numpy as np
    >>> z = uv_grid(1e-3, 0.7, 300)
    >>> m = metric_functions(FamilyParams("ads", 2, 0.7), z)
    >>> bool(np.allclose(ricci_scalar(z, m.A_t, m.A_x, m.A_z, m.f, d=2), -6))
    True
    """
    return mixed_ricci(z, A_t, A_x, A_z, f, d, stencil=stencil).trace(d)


def einstein_residuals(
    z: ArrayLike,
    A_t: ArrayLike,
    A_x: ArrayLike,
    A_z: ArrayLike,
    f: ArrayLike,
    d: int,
    *,
    stencil: int = DEFAULT_STENCIL,
) -> MixedComponents:
    """Mixed components of E_mn = R_mn + d g_mn: E^t_t, E^x_x, E^z_z (0 for vacuum
    Einstein with Lambda = -d(d-1)/2, L = 1).

    Examples
    --------
    >>> import numpy as np
    >>> z = uv_grid(1e-3, 1.0, 300)
    >>> e = einstein_residuals(z, *metric_functions(FamilyParams("ads", 3, 1.0), z), d=3)
    >>> bool(max(np.abs(c).max() for c in e) < 1e-4)
    True
    """
    r = mixed_ricci(z, A_t, A_x, A_z, f, d, stencil=stencil)
    return MixedComponents(r.tt + d, r.xx + d, r.zz + d)


def null_energy_combination(
    z: ArrayLike,
    A_t: ArrayLike,
    A_x: ArrayLike,
    A_z: ArrayLike,
    *,
    stencil: int = DEFAULT_STENCIL,
) -> np.ndarray:
    """N = A_x'' + A_x'^2 - A_x' (A_t' + A_z'); the null energy condition is N <= 0.

    For the conformal ansatz N = A'' - A'^2. In general
    ``R^z_z - R^t_t = -(d-1) f e^{-2A_z} N`` (null vector in the t-z plane), so the sign
    of N does not depend on f and the test holds wherever f > 0.

    Examples
    --------
    >>> import numpy as np
    >>> z = uv_grid(1e-2, 0.5, 200)
    >>> m = metric_functions(FamilyParams("deformed", 3, None, a=0.2), z)
    >>> bool(np.allclose(null_energy_combination(z, m.A_t, m.A_x, m.A_z), 0.4 * (3 - 0.4 * z**2)))
    True
    """
    grid, a_t, a_x, a_z = _checked_profiles(z, A_t, A_x, A_z)
    return _null_energy_times_z2(np.log(grid), a_t, a_x, a_z, stencil) / grid**2


def _null_energy_times_z2(
    log_z: np.ndarray, A_t: np.ndarray, A_x: np.ndarray, A_z: np.ndarray, stencil: int
) -> np.ndarray:
    # z^2 N in u-derivatives: exact cancellation for AdS (A_u = -1, A_uu = 0).
    (at, ax, az), (_, ax_u, _) = _log_derivatives(log_z, A_t, A_x, A_z, stencil=stencil)
    return ax_u - ax + ax**2 - ax * (at + az)


def c_function(z: ArrayLike, A: ArrayLike, d: int, *, stencil: int = DEFAULT_STENCIL) -> np.ndarray:
    """Holographic c-function c(z) = 1 / |e^{-A} A'|^{d-1} (1 for AdS).

    Examples
    --------
    >>> import numpy as np
    >>> z = uv_grid(1e-3, 1.0, 100)
    >>> bool(np.allclose(c_function(z, -np.log(z), d=4), 1.0))
    True
    """
    d = _check_d(d)
    grid, warp = _checked_profiles(z, A)
    log_z = np.log(grid)
    slope = _log_derivatives(log_z, warp, stencil=stencil)[0, 0]
    # e^{-A} A' = e^{-A - u} dA/du
    with np.errstate(divide="ignore"):
        return np.abs(slope * np.exp(-warp - log_z)) ** (-(d - 1))


def _exact_log_derivatives(params: FamilyParams, z: np.ndarray) -> dict[str, np.ndarray]:
    alpha_t, alpha_x = params.warp_exponents
    deformation_u = 2 * params.a * z**2  # d/du of a z^2
    at = -alpha_t + deformation_u
    ax = -alpha_x + deformation_u
    if params.z_h is None:
        f, f_u, f_uu = np.ones_like(z), np.zeros_like(z), np.zeros_like(z)
    else:
        n = params.blackening_exponent
        y = (z / params.z_h) ** n
        f, f_u, f_uu = 1 - y, -n * y, -(n**2) * y
    return {
        "at": at,
        "at_u": 2 * deformation_u,
        "ax": ax,
        "ax_u": 2 * deformation_u,
        "az": ax,
        "f": f,
        "f_u": f_u,
        "f_uu": f_uu,
        # -2 A_z - 2 ln z
        "log_prefactor": 2 * (alpha_x - 1) * np.log(z) - 2 * params.a * z**2,
    }


def exact_mixed_ricci(params: FamilyParams, z: ArrayLike) -> MixedComponents:
    """Closed-form R^t_t, R^x_x, R^z_z of a family (analytic derivatives, no differencing).

    Examples
    --------
    >>> import numpy as np
    >>> r = exact_mixed_ricci(FamilyParams("lifshitz", 3, None, zeta=2.0), np.array([0.3]))
    >>> [float(c[0]) for c in r]   # -zeta(zeta+d-1), -(zeta+d-1), -(zeta^2+d-1)
    [-8.0, -4.0, -6.0]
    """
    return _mixed_ricci_from_log_derivatives(
        params.d, **_exact_log_derivatives(params, _checked_z(z))
    )


def exact_ricci_scalar(params: FamilyParams, z: ArrayLike) -> np.ndarray:
    """Closed-form Ricci scalar of a family.

    Examples
    --------
    >>> import numpy as np
    >>> exact_ricci_scalar(FamilyParams("ads", 4, 2.0), np.array([0.1, 1.9])).tolist()
    [-20.0, -20.0]
    """
    return exact_mixed_ricci(params, z).trace(params.d)


#: Relative spread of the closed-form R over the probe points still read as "constant".
_CONSTANT_R_SPREAD = 1e-9
#: Where the closed form is probed, as fractions of the horizon (or of z = 1 at T = 0).
_CONSTANT_R_PROBES = (0.05, 0.3, 0.6, 0.95)


def constant_ricci_scalar(
    family: str, d: int, z_h: float | None, params: Mapping[str, float]
) -> float | None:
    """The Ricci scalar a family's closed form gives when it is the same at every z, else None.

    Decided by the closed form itself (:func:`exact_ricci_scalar` at a few z across the
    geometry), never by the family's name: AdS-Schwarzschild is constant, -d(d+1), for every
    z_h; Lifshitz only at zero temperature, ``-d(d+1) - 2(zeta-1)(zeta+d)``; deformed and
    hyperscaling-violating geometries are not (unless their parameters make them AdS or
    Lifshitz). ``params`` are the family parameters (zeta, theta, a; other keys are ignored);
    parameters the family refuses, or an unknown family, give None (no expectation to offer).

    Examples
    --------
    >>> constant_ricci_scalar("ads", 3, 1.2, {})
    -12.0
    >>> constant_ricci_scalar("lifshitz", 3, None, {"zeta": 2.0})
    -22.0
    >>> constant_ricci_scalar("lifshitz", 3, 1.0, {"zeta": 2.0}) is None
    True
    """
    shape = {name: float(params[name]) for name in ("zeta", "theta", "a") if name in params}
    try:
        family_params = FamilyParams(family, d, z_h, **shape)
    except (TypeError, ValueError):
        return None
    end = 1.0 if family_params.z_h is None else family_params.z_h
    R = exact_ricci_scalar(family_params, end * np.array(_CONSTANT_R_PROBES))
    if not np.all(np.isfinite(R)):
        return None
    if np.ptp(R) > _CONSTANT_R_SPREAD * max(1.0, float(np.max(np.abs(R)))):
        return None
    return float(np.mean(R))


def locate_horizon(z: ArrayLike, f: ArrayLike, *, stencil: int = DEFAULT_STENCIL) -> float | None:
    """First zero of f after the boundary, or ``None`` when f stays positive.

    The zero is that of the local interpolant around the first sign change; if f is
    positive on the whole grid, one grid step of extrapolation past the last point is
    tried (a grid on the open interval (0, z_h) ends just before the horizon).

    Examples
    --------
    >>> import numpy as np
    >>> z = uv_grid(1e-3, 1.3, 300)
    >>> round(locate_horizon(z, 1 - (z / 1.2) ** 3), 12)
    1.2
    """
    from scipy.optimize import brentq

    grid, blackening = _checked_profiles(z, f)
    if grid.size < stencil or not np.all(np.isfinite(blackening)) or blackening[0] <= 0:
        return None
    non_positive = np.flatnonzero(blackening <= 0)
    if non_positive.size:
        right = int(non_positive[0])
        if blackening[right] == 0:
            return float(grid[right])
        low, high = grid[right - 1], grid[right]
    else:
        right = grid.size - 1
        low, high = grid[-1], grid[-1] + (grid[-1] - grid[-2])
    start = min(max(right - stencil // 2, 0), grid.size - stencil)
    nodes, values = grid[start : start + stencil], blackening[start : start + stencil]

    def interpolant(x: float) -> float:
        return float(fornberg_weights(x, nodes, 0)[0] @ values)

    if non_positive.size == 0 and interpolant(high) > 0:
        return None
    return float(brentq(interpolant, low, high, xtol=1e-15 * high, rtol=4 * np.finfo(float).eps))


def horizon_temperature(
    z: ArrayLike,
    A_t: ArrayLike,
    A_z: ArrayLike,
    f: ArrayLike,
    z_h: float | None = None,
    *,
    stencil: int = DEFAULT_STENCIL,
) -> HorizonData | None:
    """f and f' at the horizon and T = |f'(z_h)| e^{A_t - A_z} / (4 pi), from the arrays.

    ``z_h=None`` locates the horizon (:func:`locate_horizon`). Returns ``None`` when there
    is no horizon or it lies beyond one grid step past the last point.

    Examples
    --------
    >>> z = uv_grid(1e-3, 1.0, 300)
    >>> m = metric_functions(FamilyParams("ads", 3, 1.0), z)
    >>> round(horizon_temperature(z, m.A_t, m.A_z, m.f).temperature * 4 * math.pi, 9)
    3.0
    """
    grid, a_t, a_z, blackening = _checked_profiles(z, A_t, A_z, f)
    if z_h is None:
        z_h = locate_horizon(grid, blackening, stencil=stencil)
        if z_h is None:
            return None
    reach = grid[-1] + (grid[-1] - grid[-2])
    if not grid[0] <= z_h <= reach:
        return None
    f_value, f_slope = local_derivatives(grid, blackening, z_h, max_order=1, stencil=stencil)
    lapse = local_derivatives(grid, a_t - a_z, z_h, max_order=0, stencil=stencil)[0]
    return HorizonData(
        float(z_h),
        float(f_value),
        float(f_slope),
        float(abs(f_slope) * np.exp(lapse) / (4 * np.pi)),
    )
