"""Boundary two-point functions computed from a bulk geometry.

The equal-time two-point function of an operator of dimension ``Delta`` is taken in the geodesic
approximation, ``G2(x) = exp(-Delta * L_reg(x))``, where ``L_reg`` is the regularised length of the
spacelike geodesic anchored at boundary separation ``x`` on the constant-time slice

    ds^2 = e^{2 A(z)} (dx^2 + dz^2 / f(z)),

which is the spatial part of every family of PHYSICS.md (``A`` is ``A_x = A_z``; ``A_t`` never
enters an equal-time geodesic). With ``w = e^{-A}`` and the turning point ``z*``, ``w* = w(z*)``:

    x(z*)   = 2 int_0^{z*} w dz / sqrt(f (w*^2 - w^2)),
    L(z*)   = 2 int_eps^{z*} w* dz / (w sqrt(f (w*^2 - w^2))),
    dL/dx   = 1 / w*            (the conserved momentum; exact, used for interpolation).

Regularisation (minimal subtraction). Near the boundary ``A = -alpha ln z + o(1)`` with
``alpha = uv_exponent`` (1 for asymptotically AdS families, ``1 - theta/(d-1)`` for hvlf). The UV
piece ``2 int_eps^1 z^{-alpha} dz`` is removed, i.e. ``2 ln(1/eps)`` when ``alpha = 1``, so that

    L_reg = 2 [ R(z*) + int_0^{z*} (integrand - z^{-alpha}) dz ],
    R(z)  = (z^{1-alpha} - 1) / (1 - alpha)          (R = ln z at alpha = 1).

Pure AdS then gives ``L_reg = 2 ln x`` and ``G2 = x^{-2 Delta}`` exactly, and ``L_reg`` is
continuous in ``alpha``.

Numerics. Each turning point is integrated in ``s`` with ``z = z* (1 - s^2)``, which removes the
inverse-square-root turning-point singularity, by Gauss-Legendre on panels graded geometrically
towards ``s = 0`` (a horizon or a wall just behind ``z*`` makes the integrand nearly singular
there) and towards ``s = 1`` (non-integer powers of ``z`` at the boundary). ``A(z) - A(z*)`` is
taken from a second-order Taylor expansion where direct differencing would cancel. The lengths are
computed on a grid of turning points and interpolated in ``ln x`` with cubic Hermite polynomials
that use the exact slope ``dL/dx = 1/w*``. Past the deepest turning point next to a horizon or
wall (1e-10 away), ``L`` is continued linearly with slope ``1/w*``; the neglected terms are of
relative size 1e-10.

Exactness. The geodesic approximation is itself exact only where it reproduces the CFT
correlator: pure AdS at T = 0 (``x^{-2 Delta}``, any d) and BTZ (d = 2, T > 0), see
:func:`geodesic_is_exact`. Everything else is the large-``Delta`` approximation (``exact:
false``). :func:`btz_two_point` is exact. Numerical accuracy of :func:`geodesic_lengths` is a few
1e-9 in ``L_reg`` on analytic inputs (cubic-spline interpolation of array inputs adds its own
error).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "GeodesicLengths",
    "btz_two_point",
    "geodesic_is_exact",
    "geodesic_lengths",
    "geodesic_two_point",
]

RadialFunction = Callable[[np.ndarray], np.ndarray]

# Quadrature in s on [0, 1]: panels 0 | 4^-10 ... 4^-1 | 0.5 | 1 - 0.5*4^-1 ... | 1.
_PANEL_RATIO = 4.0
_PANEL_LEVELS = 10
_NODES_PER_PANEL = 8
# Panels towards the boundary: deep for alpha < 1 (integrand ~ z^alpha there); shallow otherwise,
# where the subtraction e^A - z^-alpha would only amplify the rounding of A at tiny z.
_BOUNDARY_LEVELS_SOFT_UV = 10
_BOUNDARY_LEVELS = 4
# Below this |ln(z/z*)| the warp difference A(z) - A(z*) comes from its Taylor expansion.
_TAYLOR_BELOW = 1e-6
# Relative step of the central differences for derivatives of a callable A in ln z.
_LOG_STEP = 1e-4
# Turning points: uniform in v = logit(z*/z_ir) (or ln z* without an IR end), this spacing.
_KNOT_SPACING = 0.05
# Deepest turning point next to a horizon or wall: z_ir - z* = e^{-_V_CAP} z*.
_V_CAP = 23.0
# Deepest turning point at a grid end that is neither horizon nor wall.
_V_CAP_GRID_END = 8.0
_CHUNK = 64
# A grid that stops this close below the horizon (relative) is continued to it.
_HORIZON_REACH = 0.05


def _graded_rule(boundary_levels: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nodes s, weights and ln(z/z*) = ln(1 - s^2) of the graded Gauss-Legendre rule."""
    near_turn = _PANEL_RATIO ** -np.arange(_PANEL_LEVELS, 0, -1, dtype=float)
    near_bdy = 1.0 - 0.5 * _PANEL_RATIO ** -np.arange(1, boundary_levels + 1, dtype=float)
    breaks = np.concatenate([[0.0], near_turn, [0.5], near_bdy, [1.0]])
    t, wt = np.polynomial.legendre.leggauss(_NODES_PER_PANEL)
    lo, hi = breaks[:-1, None], breaks[1:, None]
    nodes = (0.5 * (hi - lo) * t[None, :] + 0.5 * (hi + lo)).ravel()
    weights = (0.5 * (hi - lo) * wt[None, :]).ravel()
    return nodes, weights, np.log1p(-(nodes**2))


_RULE_SOFT_UV = _graded_rule(_BOUNDARY_LEVELS_SOFT_UV)
_RULE = _graded_rule(_BOUNDARY_LEVELS)


@dataclass(frozen=True)
class GeodesicLengths:
    """Regularised geodesic lengths at boundary separations.

    Attributes
    ----------
    x : ndarray
        Boundary separations, as given.
    length_reg : ndarray
        Regularised length ``L_reg(x)`` (module docstring for the subtraction).
    z_turn : ndarray
        Turning point (deepest point) of each geodesic.
    """

    x: np.ndarray
    length_reg: np.ndarray
    z_turn: np.ndarray


@dataclass(frozen=True)
class _Slice:
    """Constant-time slice e^{2A}(dx^2 + dz^2/f) prepared for the geodesic integrals."""

    warp: RadialFunction
    warp_log_derivatives: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
    blackening: RadialFunction | None
    uv_exponent: float
    z_ir: float | None  # deepest admissible turning point (horizon, wall or grid end)
    ir_diverges: bool  # x(z*) -> infinity at z_ir (horizon or wall)


def _finite_difference_log_derivatives(
    warp: RadialFunction,
) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]:
    def derivatives(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        up, mid, down = warp(z * np.exp(_LOG_STEP)), warp(z), warp(z * np.exp(-_LOG_STEP))
        return (up - down) / (2 * _LOG_STEP), (up - 2 * mid + down) / _LOG_STEP**2

    return derivatives


def _as_radial_arrays(z: ArrayLike, values: ArrayLike, name: str) -> tuple[np.ndarray, np.ndarray]:
    z_arr = np.asarray(z, dtype=float)
    v_arr = np.asarray(values, dtype=float)
    if z_arr.ndim != 1 or z_arr.size < 8:
        raise ValueError("z: need a 1-D grid of at least 8 points")
    if not (np.all(np.isfinite(z_arr)) and z_arr[0] > 0 and np.all(np.diff(z_arr) > 0)):
        raise ValueError("z: must be finite, positive and strictly increasing")
    if v_arr.shape != z_arr.shape or not np.all(np.isfinite(v_arr)):
        raise ValueError(f"{name}: must be finite and have the shape of z")
    return z_arr, v_arr


def _warp_from_arrays(
    z: np.ndarray, warp: np.ndarray, uv_exponent: float
) -> tuple[RadialFunction, Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]]:
    from scipy.interpolate import CubicSpline

    spline = CubicSpline(np.log(z), warp)
    d1, d2 = spline.derivative(1), spline.derivative(2)
    log_z0 = np.log(z[0])
    # Below the grid A = -alpha ln z + c (z/z0)^2: the UV power law, with the remainder c at z0
    # decaying to 0 as the regularisation assumes (a constant c would shift L_reg by ~c ln z0).
    remainder = warp[0] + uv_exponent * log_z0

    def warp_fn(zz: np.ndarray) -> np.ndarray:
        lz = np.log(zz)
        below = -uv_exponent * lz + remainder * np.exp(2.0 * (lz - log_z0))
        return np.where(lz < log_z0, below, spline(np.maximum(lz, log_z0)))

    def derivatives(zz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lz = np.log(zz)
        decay = remainder * np.exp(2.0 * (np.minimum(lz, log_z0) - log_z0))
        inside = np.maximum(lz, log_z0)
        return (
            np.where(lz < log_z0, -uv_exponent + 2.0 * decay, d1(inside)),
            np.where(lz < log_z0, 4.0 * decay, d2(inside)),
        )

    return warp_fn, derivatives


def _blackening_from_arrays(z: np.ndarray, f: np.ndarray, z_h: float | None) -> RadialFunction:
    from scipy.interpolate import CubicSpline

    if z_h is None:
        if np.any(f <= 0):
            raise ValueError("z_h: f changes sign on the grid; pass the horizon z_h")
        z_in, regular = z, f
    else:
        # f = (1 - z/z_h) h(z), h smooth and positive: interpolate h, keep the simple zero exact.
        below = z < z_h
        if np.count_nonzero(below) < 8:
            raise ValueError("z_h: fewer than 8 grid points below the horizon")
        z_in = z[below]
        regular = f[below] / (1.0 - z_in / z_h)
        if np.any(regular <= 0):
            raise ValueError("f: must be positive below the horizon z_h")
    spline = CubicSpline(np.log(z_in), regular)
    z0 = z_in[0]
    f0 = regular[0] * (1.0 if z_h is None else 1.0 - z0 / z_h)

    def blackening(zz: np.ndarray) -> np.ndarray:
        inside = spline(np.log(np.maximum(zz, z0)))
        if z_h is not None:
            inside = inside * (1.0 - zz / z_h)
        # Below the grid f returns to f(0) = 1 as (z/z0)^2; a constant f != 1 would leave a
        # log-divergent remainder in the regularised length.
        return np.where(zz < z0, 1.0 + (f0 - 1.0) * (zz / z0) ** 2, inside)

    return blackening


def _first_root(fn: RadialFunction, grid: np.ndarray) -> float | None:
    """First point of ``grid`` where fn >= 0 is bracketed and refined; None if fn < 0 throughout."""
    from scipy.optimize import brentq

    values = fn(grid)
    hit = np.flatnonzero(~(values < 0))
    if hit.size == 0:
        return None
    i = int(hit[0])
    if i == 0:
        return float(grid[0])

    def scalar(t: float) -> float:
        return float(fn(np.array([t]))[0])

    return float(brentq(scalar, grid[i - 1], grid[i], xtol=1e-14 * grid[i]))


def _prepare_slice(
    A: RadialFunction | ArrayLike,
    f: RadialFunction | ArrayLike | None,
    z: ArrayLike | None,
    z_h: float | None,
    uv_exponent: float,
    z_scan: tuple[float, float],
) -> _Slice:
    if not (np.isfinite(uv_exponent) and uv_exponent > 0):
        raise ValueError("uv_exponent: must be finite and positive")
    if z_h is not None and not (np.isfinite(z_h) and z_h > 0):
        raise ValueError("z_h: must be finite and positive")
    grid_end = None
    if callable(A):
        warp = A
        derivatives = _finite_difference_log_derivatives(A)
    else:
        if z is None:
            raise ValueError("z: required when A is given as an array")
        z_arr, a_arr = _as_radial_arrays(z, A, "A")
        warp, derivatives = _warp_from_arrays(z_arr, a_arr, uv_exponent)
        grid_end = float(z_arr[-1])
        if z_h is not None and z_h <= grid_end * (1 + _HORIZON_REACH):
            grid_end = max(grid_end, z_h)
    if f is None or callable(f):
        blackening = f
    else:
        if z is None:
            raise ValueError("z: required when f is given as an array")
        blackening = _blackening_from_arrays(*_as_radial_arrays(z, f, "f"), z_h)

    scan_hi = z_scan[1] if grid_end is None else grid_end
    scan = np.geomspace(z_scan[0], scan_hi, 512)
    candidates: list[tuple[float, bool]] = []
    # A wall is where w = e^{-A} stops growing: dA/dln z reaches zero.
    z_wall = _first_root(lambda t: derivatives(t)[0], scan)
    if z_wall is not None:
        if z_wall == scan[0]:
            raise ValueError("A: the warp factor must decrease away from the boundary")
        candidates.append((z_wall, True))
    if z_h is not None:
        candidates.append((z_h, True))
    elif callable(blackening):
        root = _first_root(lambda t: -blackening(t), scan)
        if root is not None:
            if root == scan[0]:
                raise ValueError("f: must be positive near the boundary")
            candidates.append((root, True))
    if grid_end is not None:
        candidates.append((grid_end, False))
    if candidates:
        z_ir, diverges = min(candidates, key=lambda c: (c[0], not c[1]))
    else:
        z_ir, diverges = None, False
    return _Slice(warp, derivatives, blackening, float(uv_exponent), z_ir, diverges)


def _uv_counterterm(z: np.ndarray, alpha: float) -> np.ndarray:
    """R(z) = int_1^z t^{-alpha} dt, written so that alpha -> 1 is smooth."""
    log_z = np.log(z)
    if alpha == 1.0:
        return log_z
    return np.expm1((1.0 - alpha) * log_z) / (1.0 - alpha)


def _turning_point_integrals(
    sl: _Slice, z_turn: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Separation x, regularised length and w* = e^{-A(z*)} for each turning point."""
    nodes, weights, log_ratio = _RULE_SOFT_UV if sl.uv_exponent < 1 else _RULE
    zt = z_turn[:, None]
    z = zt * np.exp(log_ratio)[None, :]
    warp_z = sl.warp(z)
    warp_turn = sl.warp(z_turn)
    d1, d2 = sl.warp_log_derivatives(z_turn)
    lam = log_ratio[None, :]
    taylor = d1[:, None] * lam + 0.5 * d2[:, None] * lam**2
    delta_warp = np.where(-lam < _TAYLOR_BELOW, taylor, warp_z - warp_turn[:, None])
    with np.errstate(invalid="ignore", divide="ignore"):
        factor = -np.expm1(-2.0 * delta_warp)  # 1 - w^2/w*^2
        if sl.blackening is not None:
            factor = factor * sl.blackening(z)
        inv_root = 1.0 / np.sqrt(factor)
        jac = 2.0 * zt * (nodes * weights)[None, :]
        x = 2.0 * np.sum(jac * np.exp(-delta_warp) * inv_root, axis=1)
        finite_part = np.sum(jac * (np.exp(warp_z) * inv_root - z ** (-sl.uv_exponent)), axis=1)
    length = 2.0 * (_uv_counterterm(z_turn, sl.uv_exponent) + finite_part)
    bad = ~(np.all(factor > 0, axis=1) & np.isfinite(x) & np.isfinite(length))
    x[bad] = np.nan
    length[bad] = np.nan
    return x, length, np.exp(-warp_turn)


def _to_turning_point(sl: _Slice, v: np.ndarray) -> np.ndarray:
    if sl.z_ir is None:
        return np.exp(v)
    return sl.z_ir / (1.0 + np.exp(-v))


def _from_turning_point(sl: _Slice, z_turn: float) -> float:
    if sl.z_ir is None:
        return float(np.log(z_turn))
    return float(np.log(z_turn / (sl.z_ir - z_turn)))


@dataclass(frozen=True)
class _Knots:
    x: np.ndarray
    length: np.ndarray
    w_turn: np.ndarray
    z_turn: np.ndarray
    extends_to_infinity: bool  # the last knot sits next to a horizon or wall


def _knots(sl: _Slice, x_min: float, x_max: float) -> _Knots:
    z_start = 0.25 * x_min if sl.z_ir is None else min(0.25 * x_min, 0.5 * sl.z_ir)
    for _ in range(40):
        x0 = _turning_point_integrals(sl, np.array([z_start]))[0][0]
        if np.isfinite(x0) and x0 <= x_min:
            break
        z_start *= 0.25
    else:
        raise ValueError(
            "x: no geodesic reaches the smallest separation; check A near the boundary"
        )
    v_start = _from_turning_point(sl, z_start)
    if sl.z_ir is None:
        v_stop = v_start + 60.0
    else:
        v_stop = _V_CAP if sl.ir_diverges else _V_CAP_GRID_END
    v_all = v_start + _KNOT_SPACING * np.arange(int((v_stop - v_start) / _KNOT_SPACING) + 1)
    chunks: list[tuple[np.ndarray, ...]] = []
    for begin in range(0, v_all.size, _CHUNK):
        z_turn = _to_turning_point(sl, v_all[begin : begin + _CHUNK])
        chunks.append((*_turning_point_integrals(sl, z_turn), z_turn))
        x = np.concatenate([c[0] for c in chunks])
        # Stop once past x_max, or when x(z*) stops growing (no connected geodesic further in).
        if not np.all(np.isfinite(x)) or np.any(np.diff(x) <= 0) or x[-1] >= x_max:
            break
    x, length, w, z_turn = (np.concatenate(parts) for parts in zip(*chunks, strict=True))
    valid = np.isfinite(x) & np.isfinite(length) & np.concatenate([[True], np.diff(x) > 0])
    keep = x.size if np.all(valid) else int(np.argmin(valid))
    if keep < 4:
        raise ValueError(
            "A: geodesics are not well defined in this geometry (w = e^-A not increasing)"
        )
    reached_cap = sl.ir_diverges and keep == v_all.size
    return _Knots(x[:keep], length[:keep], w[:keep], z_turn[:keep], bool(reached_cap))


def _validated_separations(x: ArrayLike) -> np.ndarray:
    x_arr = np.asarray(x, dtype=float)
    if x_arr.ndim != 1 or x_arr.size == 0:
        raise ValueError("x: need a non-empty 1-D array of separations")
    if not (np.all(np.isfinite(x_arr)) and np.all(x_arr > 0)):
        raise ValueError("x: separations must be finite and positive")
    return x_arr


def geodesic_lengths(
    x: ArrayLike,
    A: RadialFunction | ArrayLike,
    f: RadialFunction | ArrayLike | None = None,
    *,
    z: ArrayLike | None = None,
    z_h: float | None = None,
    uv_exponent: float = 1.0,
) -> GeodesicLengths:
    """Regularised lengths of the equal-time geodesics anchored at separations ``x``.

    Parameters
    ----------
    x : array_like
        Boundary separations, finite and positive (any order).
    A : callable or array_like
        Warp factor ``A(z)`` of the spatial slice (``A_x``), a vectorised callable or values on
        ``z`` (interpolated by a cubic spline in ``ln z``; below the grid
        ``A + uv_exponent ln z`` decays to 0 as ``z^2``). ``A + uv_exponent ln z -> 0`` at the
        boundary is assumed: it fixes the normalisation of ``L_reg``. ``w = e^{-A}`` must
        increase from the boundary; the first maximum of ``w`` (a wall) bounds the turning
        points.
    f : callable or array_like, optional
        Blackening factor (default 1), ``f(0) = 1``. With a horizon the turning points stay
        before it. Array values are continued below the grid as ``1 + (f(z0) - 1)(z/z0)^2``.
    z : array_like, optional
        Radial grid for array inputs (strictly increasing, positive).
    z_h : float, optional
        Horizon. Found as the first zero of a callable ``f`` if omitted; required for an array
        ``f`` that changes sign. Array ``f`` is interpolated as ``(1 - z/z_h) h(z)``.
    uv_exponent : float
        ``alpha`` in ``A ~ -alpha ln z`` at the boundary (1 unless hyperscaling-violating).

    Returns
    -------
    GeodesicLengths

    Raises
    ------
    ValueError
        On bad input, or when a separation exceeds the largest one a connected geodesic reaches.

    Examples
    --------
    >>> import numpy as np
    >>> out = geodesic_lengths([0.5, 2.0], lambda z: -np.log(z))
    >>> bool(np.allclose(out.length_reg, 2 * np.log([0.5, 2.0]), atol=1e-9))
    True
    """
    from scipy.interpolate import CubicHermiteSpline, PchipInterpolator

    x_arr = _validated_separations(x)
    x_min, x_max = float(x_arr.min()), float(x_arr.max())
    sl = _prepare_slice(A, f, z, z_h, uv_exponent, (1e-3 * x_min, 8.0 * x_max))
    knots = _knots(sl, x_min, x_max)
    log_x = np.log(knots.x)
    # dL/d(ln x) = x dL/dx = x / w*: the exact slope makes the Hermite interpolant fourth order.
    length_of_log_x = CubicHermiteSpline(log_x, knots.length, knots.x / knots.w_turn)
    beyond = x_arr > knots.x[-1]
    if np.any(beyond) and not knots.extends_to_infinity:
        raise ValueError(
            f"x: separations above {knots.x[-1]:.6g} are not reached by connected geodesics"
        )
    inside = np.log(np.minimum(x_arr, knots.x[-1]))
    length = np.where(
        beyond,
        knots.length[-1] + (x_arr - knots.x[-1]) / knots.w_turn[-1],
        length_of_log_x(inside),
    )
    z_turn = np.exp(PchipInterpolator(log_x, np.log(knots.z_turn))(inside))
    return GeodesicLengths(x=x_arr, length_reg=length, z_turn=z_turn)


def geodesic_two_point(
    x: ArrayLike,
    A: RadialFunction | ArrayLike,
    f: RadialFunction | ArrayLike | None = None,
    *,
    delta: float,
    z: ArrayLike | None = None,
    z_h: float | None = None,
    uv_exponent: float = 1.0,
) -> np.ndarray:
    """Two-point function ``G2(x) = exp(-delta * L_reg(x))`` in the geodesic approximation.

    Arguments as in :func:`geodesic_lengths`; ``delta`` is the operator dimension (> 0).
    Exact for pure AdS at T = 0 and for BTZ (see :func:`geodesic_is_exact`), otherwise the
    large-``delta`` approximation.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([0.1, 1.0, 3.0])
    >>> g2 = geodesic_two_point(x, lambda z: -np.log(z), delta=1.5)
    >>> bool(np.allclose(g2, x ** -3.0, rtol=1e-8))
    True
    """
    if not (np.isfinite(delta) and delta > 0):
        raise ValueError("delta: must be finite and positive")
    lengths = geodesic_lengths(x, A, f, z=z, z_h=z_h, uv_exponent=uv_exponent)
    return np.exp(-delta * lengths.length_reg)


def btz_two_point(x: ArrayLike, T: float, delta: float) -> np.ndarray:
    """Exact thermal two-point function of a CFT_2 (BTZ): ``(pi T / sinh(pi T x))^(2 delta)``.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([1e-4, np.arcsinh(1.0) / (0.3 * np.pi)])  # sinh(pi T x) = 1 at the second
    >>> bool(np.allclose(btz_two_point(x, 0.3, 1.0), [1e8, (0.3 * np.pi) ** 2], rtol=1e-8))
    True
    """
    x_arr = _validated_separations(x)
    if not (np.isfinite(T) and T > 0):
        raise ValueError("T: must be finite and positive")
    if not (np.isfinite(delta) and delta > 0):
        raise ValueError("delta: must be finite and positive")
    # Written through logs so that large pi T x does not overflow sinh.
    u = np.pi * T * x_arr
    log_sinh = u + np.log1p(-np.exp(-2.0 * u)) - np.log(2.0)
    return np.exp(2.0 * delta * (np.log(np.pi * T) - log_sinh))


def geodesic_is_exact(family: str, d: int, T: float) -> bool:
    """Whether the geodesic two-point function is the exact CFT correlator.

    True for pure AdS at T = 0 (any d: ``x^{-2 Delta}``) and for AdS at d = 2, T > 0 (BTZ);
    False otherwise (large-Delta approximation, to be marked ``exact: false``).

    Examples
    --------
    >>> geodesic_is_exact("ads", 2, 0.1), geodesic_is_exact("ads", 4, 0.1)
    (True, False)
    """
    return family == "ads" and (T == 0 or d == 2)
