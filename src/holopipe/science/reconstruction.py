"""Reference engine of stage 02: bulk geometry from boundary two-point functions.

Input is boundary data only: separations ``x``, the two-point function ``G2(x)`` of an operator of
dimension ``delta``, and at T > 0 the temperature and ``d``. In the geodesic approximation
``L(x) = -ln G2(x) / delta`` is the regularised geodesic length on the slice
``e^{2A}(dx^2 + dz^2/f)`` (:mod:`holopipe.science.boundary`).

T = 0 (f = 1): Abel inversion. With ``w = e^{-A}`` and a geodesic turning at ``w*``,

    x(w*) = 2 int_0^{w*} w (dz/dw) dw / sqrt(w*^2 - w^2),    dL/dx = 1/w*,

so each separation gives its turning point ``w* = 1/L'(x)``. Multiplying by
``w* / sqrt(W^2 - w*^2)``, integrating over ``w*`` in (0, W) and using
``int_w^W w* dw* / sqrt((W^2 - w*^2)(w*^2 - w^2)) = pi/2`` gives
``pi int_0^W w z'(w) dw = int_0^W x(w*) w* dw* / sqrt(W^2 - w*^2)``; differentiating in ``W``,
integrating once more by parts and exchanging the order of integration leaves the closed form

    z(W) = (W / pi) int_0^{pi/2} r(W sin(phi)) dphi,     r(w*) = x / w* = dL/d(ln x),

(for AdS r = 2 and z = W). ``r`` is the slope of a least-squares quintic spline of L in
``ln x`` at the data points, interpolated in ``ln w*``, and continued below the data by its UV
series ``r0 + r2 w*^2`` fitted to the shortest geodesics (asymptotically AdS UV: r -> 2 with
corrections of order w*^2). The phi integral uses Gauss-Legendre panels graded towards
phi = pi/2, where a wall (or the end of the data) makes r steep. The result ``A(z) = -ln W`` is
given at the turning points of the data, i.e. on the probed range [z*(x_min), z*(x_max)].
Accuracy for 400 log-spaced points in [0.01, 1.5] on A = -ln z + a z^2, |a| <= 0.3: ~1e-9 in
A near the boundary, <= 1e-8 over the range for a >= 0; for a < 0, where r steepens at the deep
end, up to 3e-6 on the last points (a = -0.3). Holding r at its first value below the data
instead would leave an error ``~ a z_min^2 (z_min / z)`` near the boundary (5e-6 at
z_min = 0.005), a bump in ``A + ln z`` that spoils the UV of the scalar solver.

T > 0: the horizon follows from T for each family (``holopipe.science.geometry``); the family
and its parameters are chosen by least squares of ``ln G2`` against templates computed with the
same geodesic routine, every candidate's residual is kept, and the simplest family whose
residual is within ``tolerance`` of the best one is chosen (ads is nested in the other three,
lifshitz in hvlf).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
from numpy.typing import ArrayLike

from holopipe.science.boundary import geodesic_lengths
from holopipe.science.geometry import FAMILIES, FamilyParams, horizon_from_temperature

__all__ = [
    "FamilyFit",
    "ThermalGeometryFit",
    "UVDimensionEstimate",
    "WarpFactorReconstruction",
    "ZeroTemperatureFit",
    "default_parameter_bounds",
    "estimate_uv_dimension",
    "fit_thermal_geometry",
    "fit_zero_temperature_family",
    "reconstruct_warp_factor",
]

MIN_POINTS = 16

_PARAMETER_NAMES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"ads": (), "lifshitz": ("zeta",), "deformed": ("a",), "hvlf": ("zeta", "theta")}
)
# Points per axis of the coarse scan that seeds the least-squares search.
_SCAN_POINTS = 7
# Phi rule for the Abel integral: panels graded towards phi = pi/2.
_PHI_LEVELS = 12
_PHI_NODES_PER_PANEL = 8
# Relative w* decrease still read as saturation behind a wall (rounding and spline error).
_SATURATION = 1e-4
# The UV series of r is fitted on w*_min <= w* <= _UV_FIT_SPAN w*_min, or on the first
# _UV_FIT_MIN_POINTS points if that range holds fewer.
_UV_FIT_SPAN = 2.0
_UV_FIT_MIN_POINTS = 8
# Knots of the least-squares spline of L in ln x: about this far apart in ln x, ...
_SLOPE_KNOT_SPACING = 0.1
# ... with at least this many data points per knot interval.
_SLOPE_MIN_POINTS_PER_KNOT = 4


def _phi_rule() -> tuple[np.ndarray, np.ndarray]:
    """Nodes sin(phi) and weights of int_0^{pi/2} dphi, graded towards phi = pi/2."""
    gaps = 0.5 * np.pi * 4.0 ** -np.arange(_PHI_LEVELS, 0, -1, dtype=float)
    breaks = np.concatenate([[0.0], gaps, [0.5 * np.pi]])  # in psi = pi/2 - phi
    t, wt = np.polynomial.legendre.leggauss(_PHI_NODES_PER_PANEL)
    lo, hi = breaks[:-1, None], breaks[1:, None]
    psi = (0.5 * (hi - lo) * t[None, :] + 0.5 * (hi + lo)).ravel()
    weights = (0.5 * (hi - lo) * wt[None, :]).ravel()
    return np.cos(psi), weights


_SIN_PHI, _PHI_WEIGHTS = _phi_rule()


@dataclass(frozen=True)
class WarpFactorReconstruction:
    """Warp factor reconstructed at T = 0.

    Attributes
    ----------
    z : ndarray
        Turning points of the geodesics of the data, strictly increasing.
    A : ndarray
        Reconstructed ``A(z) = -ln w*`` at ``z``.
    x : ndarray
        Separation whose geodesic turns at each ``z``: the data's ``x``, without the largest
        separations when they lie where w* has saturated behind a wall.
    probed_range : tuple of float
        ``(z.min(), z.max())``: where the data determine A.
    """

    z: np.ndarray
    A: np.ndarray
    x: np.ndarray
    probed_range: tuple[float, float]


@dataclass(frozen=True)
class FamilyFit:
    """Best fit of one family template to thermal boundary data.

    Attributes
    ----------
    family : str
        Family name.
    params : Mapping[str, float]
        Fitted parameters (``zeta``, ``theta``, ``a``; empty for ads).
    z_h : float
        Horizon implied by T for these parameters.
    rms_residual : float
        Root mean square of ``ln G2_template - ln G2_data`` (inf when no template fits the data).
    delta : float or None
        Operator dimension of the template: the one given, or the one fitted with it when
        :func:`fit_thermal_geometry` was called with ``delta=None`` (None when no template fits).
    """

    family: str
    params: Mapping[str, float]
    z_h: float
    rms_residual: float
    delta: float | None = None

    @property
    def n_params(self) -> int:
        """Number of fitted parameters."""
        return len(self.params)


@dataclass(frozen=True)
class ThermalGeometryFit:
    """Family identification at T > 0.

    Attributes
    ----------
    family, params, z_h, rms_residual
        Those of the chosen candidate.
    candidates : tuple of FamilyFit
        Every family tried, in the order given.
    uv_exponent : float
        ``alpha`` of the chosen geometry's UV (``A ~ -alpha ln z``).
    delta : float or None
        Operator dimension of the chosen candidate (given, or fitted when ``delta=None``).
    """

    family: str
    params: Mapping[str, float]
    z_h: float
    rms_residual: float
    candidates: tuple[FamilyFit, ...] = field(repr=False)
    uv_exponent: float
    delta: float | None = None


def _validated_boundary_data(
    x: ArrayLike, G2: ArrayLike, delta: float | None, *, delta_may_be_fitted: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    x_arr = np.asarray(x, dtype=float)
    g_arr = np.asarray(G2, dtype=float)
    if x_arr.ndim != 1 or x_arr.size < MIN_POINTS:
        raise ValueError(f"x: need a 1-D array of at least {MIN_POINTS} separations")
    if not (np.all(np.isfinite(x_arr)) and x_arr[0] > 0 and np.all(np.diff(x_arr) > 0)):
        raise ValueError("x: separations must be finite, positive and strictly increasing")
    if g_arr.shape != x_arr.shape:
        raise ValueError(f"G2: shape {g_arr.shape} differs from x shape {x_arr.shape}")
    if not (np.all(np.isfinite(g_arr)) and np.all(g_arr > 0)):
        raise ValueError("G2: values must be finite and positive")
    if delta is None and delta_may_be_fitted:
        return x_arr, g_arr
    if isinstance(delta, bool) or not (
        isinstance(delta, int | float | np.number) and np.isfinite(delta) and delta > 0
    ):
        raise ValueError(f"delta: must be finite and positive, got {delta!r}")
    return x_arr, g_arr


def _increasing_prefix(w_turn: np.ndarray) -> int:
    """Length of the prefix on which w* increases.

    Behind a wall w* saturates exponentially fast in x, until its numerical derivative only
    carries rounding and spline error (relative changes below _SATURATION): those separations
    carry no more bulk information and are dropped. Any larger decrease is bad data.
    """
    steps = np.diff(w_turn) / w_turn[1:]
    bad = np.flatnonzero(~(steps > 0))
    if bad.size == 0:
        return w_turn.size
    first = int(bad[0])
    if np.all(steps[first:] > -_SATURATION) and w_turn[first] >= (1 - _SATURATION) * w_turn.max():
        return first + 1
    return 0


def _slope_in_log_x(log_x: np.ndarray, length: np.ndarray) -> np.ndarray:
    """``dL/d(ln x)`` at the data points, from a least-squares quintic spline of L in ln x.

    Interior knots sit at every m-th point, m such that knots are about ``_SLOPE_KNOT_SPACING``
    apart in ln x (at least ``_SLOPE_MIN_POINTS_PER_KNOT`` points per interval). Interpolating
    the data instead passes the spline through every rounding or interpolation error of the
    data and differentiates it: geodesic data tabulated by piecewise cubics (errors ~1e-8 in L)
    then give errors of a few 1e-6 in r, 1e-5 at the ends, which the Abel integral carries into
    A and its slope. The regression averages such errors over each knot interval, and its
    quintic pieces keep the bias of a smooth L at ~1e-9 (1e-7 at the ends). L = 2 ln x (AdS) is
    reproduced exactly.
    """
    from scipy.interpolate import make_lsq_spline

    step = float(np.median(np.diff(log_x)))
    m = max(_SLOPE_MIN_POINTS_PER_KNOT, math.ceil(_SLOPE_KNOT_SPACING / step))
    interior = log_x[m:-m:m]
    knots = np.concatenate([np.repeat(log_x[0], 6), interior, np.repeat(log_x[-1], 6)])
    return make_lsq_spline(log_x, length, knots, k=5).derivative()(log_x)


def _uv_series(w_turn: np.ndarray, r: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """UV expansion ``r = r0 + r2 w^2`` of ``r(w*)``, fitted to the shortest geodesics.

    Below the data the Abel integral needs r down to w = 0. For ``A = -ln z + B(z)`` with B even
    in z (ads, deformed, Fefferman-Graham up to order z^d), ``r = 2 + O(w^2)``. Holding r at its
    first value instead leaves an error ``~ r2 w_min^2`` in A that decays only like
    ``w_min / w`` away from the boundary: a bump of width ``~z_min`` in ``A + ln z`` that the
    scalar solver reads as a potential ``~ m2 dA / z^2`` and its UV fit as a shifted B0. The fit
    uses the points with ``w* <= _UV_FIT_SPAN w*_min`` (at least ``_UV_FIT_MIN_POINTS``).
    """
    n_fit = max(_UV_FIT_MIN_POINTS, int(np.count_nonzero(w_turn <= _UV_FIT_SPAN * w_turn[0])))
    scale = w_turn[n_fit - 1]  # columns (w / scale)^k stay O(1)
    design = np.stack([np.ones(n_fit), (w_turn[:n_fit] / scale) ** 2], axis=1)
    (r0, r2), *_ = np.linalg.lstsq(design, r[:n_fit], rcond=None)

    def series(w: np.ndarray) -> np.ndarray:
        return r0 + r2 * (w / scale) ** 2

    return series


def reconstruct_warp_factor(x: ArrayLike, G2: ArrayLike, delta: float) -> WarpFactorReconstruction:
    """Warp factor A(z) of a T = 0 geometry from its two-point function (Abel inversion).

    Parameters
    ----------
    x : array_like
        Separations, positive and strictly increasing; dense in ``ln x`` (the slope of
        ``ln G2`` in ``ln x`` is taken from a cubic spline). At least 16 points.
    G2 : array_like
        Two-point function at ``x`` (finite, positive), with ``G2 = exp(-delta L_reg)``.
    delta : float
        Operator dimension.

    Returns
    -------
    WarpFactorReconstruction
        A at the turning points of the data's geodesics (the probed range).

    Raises
    ------
    ValueError
        Naming the argument: bad shapes, non-finite or non-positive G2, non-monotonic x, too
        few points, or data whose geodesic length is not increasing and concave in x.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.geomspace(0.01, 2.0, 200)
    >>> rec = reconstruct_warp_factor(x, x ** -3.0, delta=1.5)   # pure AdS
    >>> bool(np.allclose(rec.A, -np.log(rec.z), atol=1e-6))
    True
    """
    from scipy.interpolate import CubicSpline

    x_arr, g_arr = _validated_boundary_data(x, G2, delta)
    length = -np.log(g_arr) / delta
    log_x = np.log(x_arr)
    # r = dL/d(ln x) = x / w*: the turning point of each geodesic.
    r = _slope_in_log_x(log_x, length)
    if not np.all(r > 0):
        raise ValueError("G2: geodesic length must increase with x (G2 must decrease)")
    w_turn = x_arr / r
    keep = _increasing_prefix(w_turn)
    if keep < MIN_POINTS:
        raise ValueError("G2: turning points w* = 1/L'(x) must increase with x (L concave in x)")
    x_arr, r, w_turn = x_arr[:keep], r[:keep], w_turn[:keep]
    log_w = np.log(w_turn)
    r_of_log_w = CubicSpline(log_w, r)

    omega = w_turn[:, None] * _SIN_PHI[None, :]
    log_omega = np.log(omega)
    r_nodes = np.where(
        log_omega < log_w[0],
        _uv_series(w_turn, r)(omega),
        r_of_log_w(np.maximum(log_omega, log_w[0])),
    )
    z_turn = w_turn / np.pi * (r_nodes @ _PHI_WEIGHTS)
    if not np.all(np.diff(z_turn) > 0):
        raise ValueError("G2: reconstructed turning points are not increasing in x")
    return WarpFactorReconstruction(
        z=z_turn,
        A=-log_w,
        x=x_arr,
        probed_range=(float(z_turn[0]), float(z_turn[-1])),
    )


def default_parameter_bounds(d: int) -> dict[str, tuple[float, float]]:
    """Search box of the family parameters at dimension ``d``.

    ``zeta`` in [1, 3], ``a`` in [-1, 1], ``theta`` in [0, 0.75 (d - 1)] (hvlf needs
    0 <= theta < d - 1).

    Examples
    --------
    >>> default_parameter_bounds(3)["theta"]
    (0.0, 1.5)
    """
    return {"zeta": (1.0, 3.0), "a": (-1.0, 1.0), "theta": (0.0, 0.75 * (d - 1))}


def _template_geometry(family: str, values: Iterable[float], d: int, T: float) -> FamilyParams:
    kwargs = dict(zip(_PARAMETER_NAMES[family], (float(v) for v in values), strict=True))
    z_h = horizon_from_temperature(
        family, T, d, zeta=kwargs.get("zeta", 1.0), theta=kwargs.get("theta", 0.0)
    )
    return FamilyParams(family, d, z_h, **kwargs)


def _template_log_g2(params: FamilyParams, x: np.ndarray, delta: float) -> np.ndarray | None:
    """ln G2 of a family geometry on x, or None when no connected geodesic spans x."""
    alpha = params.warp_exponents[1]
    n, z_h, a = params.blackening_exponent, params.z_h, params.a

    def warp(z: np.ndarray) -> np.ndarray:
        return -alpha * np.log(z) + a * z**2

    def blackening(z: np.ndarray) -> np.ndarray:
        return 1.0 - (z / z_h) ** n

    try:
        lengths = geodesic_lengths(x, warp, blackening, z_h=z_h, uv_exponent=alpha)
    except ValueError:
        return None
    return -delta * lengths.length_reg


def _profiled_dimension(unit_log_g2: np.ndarray, log_g2: np.ndarray) -> float | None:
    """Least-squares delta of ``log_g2 ~ delta * unit_log_g2`` (None unless finite and > 0)."""
    norm = float(unit_log_g2 @ unit_log_g2)
    dimension = float(unit_log_g2 @ log_g2) / norm if norm > 0 else math.nan
    return dimension if np.isfinite(dimension) and dimension > 0 else None


def _fit_family(
    family: str,
    x: np.ndarray,
    log_g2: np.ndarray,
    delta: float | None,
    T: float,
    d: int,
    bounds: Mapping[str, tuple[float, float]],
) -> FamilyFit:
    from scipy.optimize import least_squares

    names = _PARAMETER_NAMES[family]
    scale = 1.0 / math.sqrt(x.size)
    failed = np.full(x.size, 1e3 * scale)

    def template(values: np.ndarray) -> tuple[np.ndarray, float] | None:
        """(ln G2 of the template, its delta); ln G2 = -delta L_reg is linear in delta."""
        unit = _template_log_g2(_template_geometry(family, values, d, T), x, 1.0)
        if unit is None:
            return None
        dimension = delta if delta is not None else _profiled_dimension(unit, log_g2)
        return None if dimension is None else (dimension * unit, dimension)

    def residuals(values: np.ndarray) -> np.ndarray:
        fitted = template(values)
        return failed if fitted is None else scale * (fitted[0] - log_g2)

    def rms(values: np.ndarray) -> float:
        fitted = template(values)
        return math.inf if fitted is None else float(np.sqrt(np.mean((fitted[0] - log_g2) ** 2)))

    if not names:
        best, best_rms = np.array([]), rms(np.array([]))
    else:
        lower = np.array([bounds[name][0] for name in names])
        upper = np.array([bounds[name][1] for name in names])
        # A coarse scan seeds the local least-squares search away from other minima.
        axes = [np.linspace(lo, hi, _SCAN_POINTS) for lo, hi in zip(lower, upper, strict=True)]
        grid = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, len(names))
        start = grid[int(np.argmin([rms(point) for point in grid]))]
        solution = least_squares(
            residuals, start, bounds=(lower, upper), diff_step=1e-6, xtol=1e-12, ftol=1e-14
        )
        best, best_rms = solution.x, rms(solution.x)
    geometry = _template_geometry(family, best, d, T)
    params = MappingProxyType(dict(zip(names, (float(v) for v in best), strict=True)))
    fitted = template(best)
    dimension = None if fitted is None else float(fitted[1])
    return FamilyFit(family, params, float(geometry.z_h), best_rms, dimension)


def fit_thermal_geometry(
    x: ArrayLike,
    G2: ArrayLike,
    delta: float | None,
    T: float,
    d: int,
    families: Iterable[str] = FAMILIES,
    *,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    tolerance: float = 1e-6,
) -> ThermalGeometryFit:
    """Family, parameters and horizon of a thermal geometry from its two-point function.

    Each family's template ``ln G2`` (geodesic approximation, horizon from ``T``) is fitted to
    ``ln G2`` by least squares over its parameters; then, among the candidates whose RMS
    residual is within ``tolerance`` of the best one, the one with fewest parameters wins
    (ads is lifshitz at zeta = 1, deformed at a = 0 and hvlf at zeta = 1, theta = 0).

    Parameters
    ----------
    x, G2
        Boundary data as in :func:`reconstruct_warp_factor`.
    delta : float or None
        Operator dimension. ``None`` fits it with every template: ``ln G2 = -delta L_reg`` is
        linear in delta, so each template's best delta is exact linear least squares (profiled
        out). Needed when the UV is not conformal (hvlf), where G2 has no power law to read
        delta from (:func:`estimate_uv_dimension`).
    T : float
        Temperature, > 0.
    d : int
        Boundary spacetime dimension, >= 2.
    families : iterable of str
        Candidate families (default all of ``geometry.FAMILIES``).
    bounds : mapping, optional
        Search box per parameter name (``zeta``, ``theta``, ``a``); missing names take
        :func:`default_parameter_bounds`.
    tolerance : float
        Absolute RMS residual of ``ln G2`` within which a simpler family is preferred; set it to
        the noise level of noisy data (the default suits noise-free data).

    Returns
    -------
    ThermalGeometryFit
        The choice and every candidate's fit and residual.

    Raises
    ------
    ValueError
        Naming the argument, on bad input or when no template reproduces the data at all.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.geomspace(0.05, 4.0, 60)
    >>> T, d, delta = 0.3, 2, 1.0
    >>> from holopipe.science.boundary import btz_two_point
    >>> fit = fit_thermal_geometry(x, btz_two_point(x, T, delta), delta, T, d, families=["ads"])
    >>> fit.family, round(fit.z_h * 2 * np.pi * T, 12), fit.rms_residual < 1e-7
    ('ads', 1.0, True)
    >>> fit = fit_thermal_geometry(x, btz_two_point(x, T, delta), None, T, d, families=["ads"])
    >>> round(fit.delta, 9)
    1.0
    """
    x_arr, g_arr = _validated_boundary_data(x, G2, delta, delta_may_be_fitted=True)
    if isinstance(T, bool) or not (np.isfinite(T) and T > 0):
        raise ValueError(f"T: must be finite and positive, got {T!r}")
    if isinstance(d, bool) or not isinstance(d, int | np.integer) or d < 2:
        raise ValueError(f"d: must be an integer >= 2, got {d!r}")
    names = tuple(families)
    unknown = [name for name in names if name not in _PARAMETER_NAMES]
    if not names or unknown:
        raise ValueError(f"families: must be a non-empty subset of {FAMILIES}, got {names!r}")
    if not (np.isfinite(tolerance) and tolerance >= 0):
        raise ValueError(f"tolerance: must be finite and >= 0, got {tolerance!r}")
    box = default_parameter_bounds(int(d)) | dict(bounds or {})
    for name, (lo, hi) in box.items():
        if not (np.isfinite(lo) and np.isfinite(hi) and lo <= hi):
            raise ValueError(f"bounds: {name} needs finite lo <= hi, got {(lo, hi)!r}")
    log_g2 = np.log(g_arr)
    candidates = tuple(
        _fit_family(
            name, x_arr, log_g2, None if delta is None else float(delta), float(T), int(d), box
        )
        for name in names
    )
    best = min(c.rms_residual for c in candidates)
    if not np.isfinite(best):
        raise ValueError("G2: no family template spans the separations of the data")
    chosen = min(
        (c for c in candidates if c.rms_residual <= best + tolerance),
        key=lambda c: (c.n_params, c.rms_residual),
    )
    geometry = _template_geometry(chosen.family, chosen.params.values(), int(d), float(T))
    return ThermalGeometryFit(
        family=chosen.family,
        params=chosen.params,
        z_h=chosen.z_h,
        rms_residual=chosen.rms_residual,
        candidates=candidates,
        uv_exponent=geometry.warp_exponents[1],
        delta=chosen.delta,
    )


@dataclass(frozen=True)
class UVDimensionEstimate:
    """Operator dimension read off the short-distance power law ``G2 ~ x^(-2 delta)``.

    Attributes
    ----------
    delta : float
        Fitted dimension.
    max_residual : float
        Largest ``|ln G2 - model|`` in the window: rounding level when the UV is conformal.
    window : tuple of float
        ``(x_min, x_max)`` of the points used.
    conformal : bool
        Whether ``max_residual`` is within the tolerance: a power law with analytic
        corrections describes the data. False for a non-conformal UV (hvlf), where ``delta``
        is meaningless.
    """

    delta: float
    max_residual: float
    window: tuple[float, float]
    conformal: bool


def estimate_uv_dimension(
    x: ArrayLike,
    G2: ArrayLike,
    *,
    window_decades: float = 1.0,
    n_corrections: int = 4,
    tolerance: float = 1e-6,
) -> UVDimensionEstimate:
    """Dimension ``delta`` of an operator from the UV of its two-point function.

    A conformal UV gives ``ln G2 = -2 delta ln x + c + sum_k b_k x^k``: the power law of the
    dimension with the analytic corrections of the geometry (``a x^2`` of a deformation,
    ``(x/z_h)^n`` of a horizon) and of the theory (``m x`` of a massive free field). This is
    fitted by linear least squares over the first ``window_decades`` decades of ``x`` with
    ``k = 1 .. n_corrections``. Operator dimensions are boundary data (the short-distance
    behaviour of the correlator), so a reconstruction can read them here instead of from
    the bulk truth.

    Parameters
    ----------
    x : array_like
        Separations, positive and strictly increasing (dense near the smallest).
    G2 : array_like
        Two-point function at ``x``, finite and positive.
    window_decades : float
        Width of the fitting window in decades above ``x.min()``.
    n_corrections : int
        Number of power corrections ``x^k`` fitted with the power law (>= 0).
    tolerance : float
        Largest residual of ``ln G2`` still read as a conformal UV.

    Returns
    -------
    UVDimensionEstimate

    Raises
    ------
    ValueError
        Naming the argument: bad shapes or values, or fewer than ``2 (n_corrections + 2)``
        points in the window.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.geomspace(0.01, 2.0, 200)
    >>> est = estimate_uv_dimension(x, np.exp(-0.3 * x) / x)   # massive field in d = 3
    >>> round(est.delta, 9), est.conformal
    (0.5, True)
    >>> estimate_uv_dimension(x, np.exp(-np.sqrt(x))).conformal
    False
    """
    x_arr, g_arr = _validated_boundary_data(x, G2, None, delta_may_be_fitted=True)
    if not (np.isfinite(window_decades) and window_decades > 0):
        raise ValueError(f"window_decades: must be finite and positive, got {window_decades!r}")
    if isinstance(n_corrections, bool) or not isinstance(n_corrections, int) or n_corrections < 0:
        raise ValueError(f"n_corrections: must be an integer >= 0, got {n_corrections!r}")
    if not (np.isfinite(tolerance) and tolerance >= 0):
        raise ValueError(f"tolerance: must be finite and >= 0, got {tolerance!r}")
    x_hi = x_arr[0] * 10.0**window_decades
    inside = x_arr <= x_hi
    n_columns = n_corrections + 2
    if np.count_nonzero(inside) < 2 * n_columns:
        raise ValueError(
            f"x: need at least {2 * n_columns} separations in [{x_arr[0]:.3g}, {x_hi:.3g}]"
        )
    xs, log_g2 = x_arr[inside], np.log(g_arr[inside])
    # Corrections in t = x / x_hi (in (0, 1]) keep the columns of comparable size.
    t = xs / xs[-1]
    design = np.column_stack(
        [-2.0 * np.log(xs), np.ones_like(xs)] + [t**k for k in range(1, n_corrections + 1)]
    )
    coefficients, *_ = np.linalg.lstsq(design, log_g2, rcond=None)
    max_residual = float(np.max(np.abs(log_g2 - design @ coefficients)))
    return UVDimensionEstimate(
        delta=float(coefficients[0]),
        max_residual=max_residual,
        window=(float(xs[0]), float(xs[-1])),
        conformal=max_residual <= tolerance,
    )


@dataclass(frozen=True)
class ZeroTemperatureFit:
    """Family of a T = 0 warp factor, chosen among the conformal-UV templates.

    Attributes
    ----------
    family : str
        ``ads`` or ``deformed``.
    params : Mapping[str, float]
        ``{"a": ...}`` for deformed, empty for ads.
    rms_residual : float
        RMS of ``A - template`` of the chosen family.
    residuals : Mapping[str, float]
        RMS residual of every candidate.
    """

    family: str
    params: Mapping[str, float]
    rms_residual: float
    residuals: Mapping[str, float]


def fit_zero_temperature_family(
    z: ArrayLike, A: ArrayLike, *, tolerance: float = 1e-4
) -> ZeroTemperatureFit:
    """Family of a reconstructed T = 0 warp factor: ads (``-ln z``) or deformed (``+ a z^2``).

    At T = 0 equal-time boundary data determine the spatial warp factor ``A_x`` only; the
    templates with a conformal UV are ``-ln z`` (ads, and lifshitz, whose ``A_x`` is the
    same: equal-time data cannot tell them apart) and ``-ln z + a z^2`` (deformed, ``a`` by
    linear least squares). The deformed family is chosen only when it lowers the RMS
    residual by more than ``tolerance`` (ads is deformed at a = 0): set it above the
    reconstruction error.

    Examples
    --------
    >>> import numpy as np
    >>> z = np.geomspace(0.01, 0.8, 50)
    >>> fit = fit_zero_temperature_family(z, -np.log(z) - 0.3 * z**2)
    >>> fit.family, round(fit.params["a"], 12)
    ('deformed', -0.3)
    >>> fit_zero_temperature_family(z, -np.log(z) + 1e-6 * np.sin(z)).family
    'ads'
    """
    z_arr = np.asarray(z, dtype=float)
    a_arr = np.asarray(A, dtype=float)
    if z_arr.ndim != 1 or z_arr.size < 2 or not (np.all(np.isfinite(z_arr)) and np.all(z_arr > 0)):
        raise ValueError("z: need a 1-D array of at least 2 finite, positive points")
    if a_arr.shape != z_arr.shape or not np.all(np.isfinite(a_arr)):
        raise ValueError(f"A: must be finite with the shape of z {z_arr.shape}")
    if not (np.isfinite(tolerance) and tolerance >= 0):
        raise ValueError(f"tolerance: must be finite and >= 0, got {tolerance!r}")
    remainder = a_arr + np.log(z_arr)
    z2 = z_arr**2
    a_fit = float(z2 @ remainder / (z2 @ z2))
    residuals = {
        "ads": float(np.sqrt(np.mean(remainder**2))),
        "deformed": float(np.sqrt(np.mean((remainder - a_fit * z2) ** 2))),
    }
    if residuals["deformed"] < residuals["ads"] - tolerance:
        family, params = "deformed", {"a": a_fit}
    else:
        family, params = "ads", {}
    return ZeroTemperatureFit(
        family=family,
        params=MappingProxyType(params),
        rms_residual=residuals[family],
        residuals=MappingProxyType(residuals),
    )
