r"""Scalar Sturm-Liouville problem in the conformal ansatz: boundary masses and UV dimensions.

A bulk scalar of mass ``m2`` (an *input*, units L = 1) in
``ds^2 = e^{2A(z)} (-f dt^2 + dx^2 + dz^2 / f)``, with modes ``e^{-i w t + i k x} psi(z)``, obeys

    -(e^{(d-1)A} f psi')' + m2 e^{(d+1)A} psi = (w^2 / f - k^2) e^{(d-1)A} psi.

The eigenvalues returned are boundary masses ``M2`` (``w^2 - k^2`` for f = 1), never ``m2``.
The operator dimension Delta is read off the UV falloff ``psi ~ z^Delta``.

Numerical analysis (why the solver looks the way it does)
--------------------------------------------------------
*UV end.* Near z = 0 (A = -ln z + B, B -> B0) the coefficients are ``p ~ z^{1-d}``,
``q ~ m2 z^{-1-d}``: a regular singular point with exponents ``Delta_+-`` (Delta(Delta - d) = m2).
Discretising psi directly is inaccurate: for nu < 1 both solutions are square integrable and a
Dirichlet cutoff at z_uv only selects Delta_+ up to O(z_uv^{2 nu}) (linear in z_uv at nu = 1/2),
and the singular coefficients spoil the convergence order for every nu. We factor out the exact UV
behaviour, ``psi = z^Delta chi`` (a Frobenius / ground-state transform). Since
``g L (g chi) = -(p g^2 chi')' + g (L g) chi`` for ``g = z^Delta``, chi solves the symmetric problem

    -(P chi')' + Q chi = lambda Wt chi,   P = z^s F,  Wt = z^s E,  Q = z^{s-2} R,

with ``s = 2 Delta - d + 1 = 1 +- 2 nu``, ``F = e^{(d-1)B} f``, E the weight factor and
``R = m2 e^{(d+1)B} - m2_uv F - Delta z F'`` a smooth remainder that vanishes at z = 0
(``m2_uv = m2 e^{2 B0} / f0``, equal to m2 for unit AdS radius). chi is regular (a series in z),
the second solution ``chi ~ z^{-2 nu}`` (log at nu = 0) has infinite energy ``int P chi'^2``, so the
finite-energy (Friedrichs) condition "zero flux ``P chi' -> 0``" selects the normalisable Delta_+
mode; it is the natural condition of a cell-centred scheme whose first face sits at z = 0. For
alternative quantisation (0 < nu < 1, Delta = Delta_-, s = 1 - 2 nu) the other solution
``chi ~ z^{2 nu}`` has non-zero flux ``P chi' -> 2 nu``, so the same zero-flux face selects Delta_-.
With the power weights integrated exactly over each cell the scheme is O(h^2) uniformly in nu with
a clean h^2 error expansion; two grids (N/2, N) and Richardson extrapolation give O(h^4), and the
size of the Richardson correction is returned as an error estimate.

*Matrix.* Cell-centred finite volumes on a uniform z grid: chi at cell centres, P at faces (half
nodes), Q and the weight integrated over cells. The stiffness matrix K is symmetric tridiagonal,
the weight matrix Wd diagonal and positive, and ``Wd^{-1/2} K Wd^{-1/2}`` goes to
``scipy.linalg.eigh_tridiagonal`` (lowest n_modes only).

*IR end.* A wall at z_ir with Dirichlet (psi = 0) or Neumann (psi' = 0; a Robin condition for chi)
conditions, or a horizon. Normal modes (fixed k, eigenvalue w^2, weight ``e^{(d-1)A} / f``) form a
Hermitian problem with a discrete spectrum only if the interval ends at a wall *before* the horizon:
at a horizon the weight ``~ 1/(z_h - z)`` puts the horizon at infinite tortoise distance
(continuous spectrum; the quasinormal problem with ingoing conditions is not Hermitian). At a
horizon we therefore solve the *static screening* problem: w = 0, eigenvalue ``M2 = -k^2``
(static correlators decay as ``e^{-M |x|}``), weight ``e^{(d-1)A}``. There ``p ~ (z_h - z)`` gives
exponents (0, 0): the log solution has infinite energy, and regularity is again the zero-flux
condition, automatic because P vanishes at the horizon face. For f = 1 both problems coincide
(M2 = w^2 - k^2). Exact check: d = 2 BTZ screening masses are ``M_n z_h = Delta + 2 n``.

*Delta.* The dimensions read off the falloff of integrated solutions (an independent check of
the exponent imposed here) are :mod:`holopipe.science.uv_falloff`'s job.

*UV end of array data.* Below the first data point :meth:`ConformalGeometry.from_arrays` follows
the UV expansions ``B = B0 + b2 z^2`` and ``f = f0 + f_d z^d`` fitted to the first points, never
an extrapolated spline: B0 sets the imposed exponent, and an error dB0 shifts it by
``~ m2 dB0 / nu``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Literal

import numpy as np

from holopipe.science.defaults import bf_bound
from holopipe.science.defaults import check_boundary_dimension as _check_d

if TYPE_CHECKING:
    from scipy.interpolate import PPoly

__all__ = [
    "HORIZON_F_TOL",
    "UV_SLOPE_TOL",
    "ConformalGeometry",
    "ScalarProblem",
    "ScalarSpectrum",
    "bf_bound",
    "delta_minus",
    "delta_plus",
    "nu",
    "solve_scalar_modes",
    "solve_scalar_modes_exact",
    "solve_scalar_modes_on",
]

UV_SLOPE_TOL = 0.02
"""Allowed ``|dA/d ln z + 1|`` at the smallest probed z (same as the UV-asymptotics contract)."""

HORIZON_F_TOL = 1e-4
"""``|f(z_ir)|`` below which an IR end may be declared a horizon (``bc_ir="horizon"``)."""

_RICHARDSON_ORDER = 2  # leading error of the scheme is O(h^2)
_LOG_STEP = 1e-3  # step in ln z for derivatives of callable geometries (4th order: error ~1e-12)
_UV_PROBE_CALLABLE = 1e-4  # smallest z probed for callable geometries (units L = 1)
_UV_LIMIT_CALLABLE = 1e-9  # where callable geometries are evaluated for their z -> 0 limits
_UV_FIT_SPAN = 2.0  # UV series of array data are fitted on z[0] <= z <= _UV_FIT_SPAN z[0] ...
_UV_FIT_MIN_POINTS = 8  # ... or on the first _UV_FIT_MIN_POINTS points if that range holds fewer


# --------------------------------------------------------------------------------------------
# Mass / dimension helpers
# --------------------------------------------------------------------------------------------


def nu(d: int, m2: float) -> float:
    """``nu = sqrt(d^2/4 + m2)``; raises ValueError (naming ``m2``) below the BF bound.

    Examples
    --------
    >>> nu(3, -2.0)
    0.5
    """
    bound = bf_bound(d)
    m2 = float(m2)
    if not np.isfinite(m2) or m2 < bound:
        raise ValueError(f"m2 = {m2!r} is below the BF bound {bound} for d = {d}")
    return float(np.sqrt(m2 - bound))


def delta_plus(d: int, m2: float) -> float:
    """Standard-quantisation dimension ``Delta_+ = d/2 + nu``.

    Examples
    --------
    >>> delta_plus(4, -3.0)
    3.0
    """
    return d / 2.0 + nu(d, m2)


def delta_minus(d: int, m2: float) -> float:
    """Exponent ``Delta_- = d/2 - nu``: an operator dimension only for nu < 1 (alt. quantisation).

    Examples
    --------
    >>> delta_minus(4, -3.0)
    1.0
    """
    return d / 2.0 - nu(d, m2)


# --------------------------------------------------------------------------------------------
# Geometry
# --------------------------------------------------------------------------------------------


def _log_derivative(func: Callable[[np.ndarray], np.ndarray]) -> Callable[[np.ndarray], np.ndarray]:
    """z d func/dz by 4th-order central differences in ln z (stays at z > 0)."""
    step = _LOG_STEP

    def z_dfunc_dz(z: np.ndarray) -> np.ndarray:
        z = np.asarray(z, dtype=float)
        up1, up2 = np.exp(step), np.exp(2 * step)
        return (func(z / up2) - 8 * func(z / up1) + 8 * func(z * up1) - func(z * up2)) / (12 * step)

    return z_dfunc_dz


@dataclass(frozen=True)
class _SplineWithUVSeries:
    """Cubic spline of samples on ``[z[0], ...)``, continued below ``z[0]`` by a power series.

    The series ``sum_k c_k z^k`` (``powers`` k, 0 included) is fitted by least squares to the
    samples at the smallest z (:func:`_uv_fit_size`), so the limit ``z -> 0`` comes from the
    physical UV expansion instead of an extrapolated cubic. Series and spline are one piecewise
    polynomial (the series is its piece on ``[0, z[0]]``), as cheap to evaluate as the spline.
    """

    profile: PPoly
    slope: PPoly
    powers: tuple[int, ...]
    coefficients: np.ndarray
    fit_points: int
    fit_rms: float

    @classmethod
    def fit(cls, z: np.ndarray, values: np.ndarray, powers: tuple[int, ...]) -> _SplineWithUVSeries:
        from scipy.interpolate import CubicSpline, PPoly

        spline = CubicSpline(z, values)
        n_fit = _uv_fit_size(z)
        z_fit, values_fit = z[:n_fit], values[:n_fit]
        scale = z_fit[-1]  # columns (z / scale)^k stay O(1): a well-conditioned fit
        design = np.stack([(z_fit / scale) ** k for k in powers], axis=1)
        scaled, *_ = np.linalg.lstsq(design, values_fit, rcond=None)
        residual = values_fit - design @ scaled
        coefficients = scaled / scale ** np.array(powers, dtype=float)
        # PPoly rows: row m multiplies (z - break)^(degree - m); the first break is z = 0.
        degree = max(3, *powers)
        pieces = np.zeros((degree + 1, z.size))
        pieces[degree - 3 :, 1:] = spline.c
        pieces[[degree - k for k in powers], 0] = coefficients
        profile = PPoly(pieces, np.concatenate([[0.0], z]))
        return cls(
            profile=profile,
            slope=profile.derivative(),
            powers=powers,
            coefficients=coefficients,
            fit_points=n_fit,
            fit_rms=float(np.sqrt(np.mean(residual**2))),
        )

    def __call__(self, z: np.ndarray) -> np.ndarray:
        return self.profile(np.asarray(z, dtype=float))

    def log_derivative(self, z: np.ndarray) -> np.ndarray:
        """``z d/dz`` of the profile."""
        z = np.asarray(z, dtype=float)
        return z * self.slope(z)

    def describe(self, name: str) -> str:
        terms = " + ".join(f"c{k} z^{k}" if k else "c0" for k in self.powers)
        values = ", ".join(f"{c:.6g}" for c in self.coefficients)
        return f"{name} = {terms} with c = ({values}), rms residual {self.fit_rms:.1e}"


def _uv_fit_size(z: np.ndarray) -> int:
    """Number of leading samples the UV series are fitted on (see ``_UV_FIT_SPAN``)."""
    return max(_UV_FIT_MIN_POINTS, int(np.count_nonzero(z <= _UV_FIT_SPAN * z[0])))


@dataclass(frozen=True)
class ConformalGeometry:
    """Background ``A(z), f(z)`` of the conformal ansatz, evaluable on ``[0, z_max]``.

    Stored through the regular warp offset ``B(z) = A(z) + ln z`` (B -> B0, 0 for unit AdS radius),
    so that nothing singular is ever interpolated or differentiated. Build it with
    :meth:`from_arrays` (data on a grid: cubic splines in z, fitted UV series below the data) or
    :meth:`from_callables` (exact formulas, for tests).

    Attributes
    ----------
    d : int
        Boundary spacetime dimension.
    warp_offset, blackening : callable
        ``B(z)`` and ``f(z)`` on arrays of z.
    warp_offset_log_derivative, blackening_log_derivative : callable
        ``z dB/dz`` and ``z df/dz``.
    z_max : float
        End of the data (``inf`` for callables); the default IR end.
    z_reach : float
        Largest z the geometry may be evaluated at (``z_max`` plus one grid spacing for arrays).
    uv_probe : float
        Smallest z where the data are trusted (first grid point; 1e-4 for callables).
    source : str
        How the geometry was given (recorded with results).

    Examples
    --------
    >>> import numpy as np
    >>> z = np.geomspace(1e-4, 1.0, 300)
    >>> geo = ConformalGeometry.from_arrays(z, -np.log(z), 1 - z**3, d=3)
    >>> round(float(geo.blackening(np.array([0.5]))[0]), 6)
    0.875
    """

    d: int
    warp_offset: Callable[[np.ndarray], np.ndarray]
    blackening: Callable[[np.ndarray], np.ndarray]
    warp_offset_log_derivative: Callable[[np.ndarray], np.ndarray]
    blackening_log_derivative: Callable[[np.ndarray], np.ndarray]
    z_max: float
    z_reach: float
    uv_probe: float
    source: str

    @classmethod
    def from_arrays(cls, z: np.ndarray, A: np.ndarray, f: np.ndarray, d: int) -> ConformalGeometry:
        """Geometry from samples on a grid (e.g. a stage's file), cubic splines in z.

        ``B = A + ln z`` and ``f`` are splined (not-a-knot) on the data and extrapolated by at
        most one grid spacing past ``z[-1]`` (so a grid on the open interval (0, z_h) can reach
        the horizon). Below ``z[0]`` they follow their UV expansions, fitted by least squares to
        the samples with ``z <= 2 z[0]`` (at least the first 8):

        - ``B = B0 + b2 z^2``. This assumes ``A + ln z`` even in z near the boundary, as for the
          ``ads`` (B = 0) and ``deformed`` (B = a z^2) families and Fefferman-Graham expansions
          up to order z^d; the z^4 term changes B0 by ``O(b4 z[0]^4)``. A spline extrapolated
          over the tens of grid spacings down to z = 0 would instead amplify the last digits of
          the data into B0 (and hence into the imposed Delta). Data that are not even (a term
          linear in z) shift B0 by ``O(z[0] dB/dz)``; nothing fails, and the disagreement
          between the imposed and the measured Delta
          (:func:`holopipe.science.uv_falloff.deltas_from_uv_falloff`) shows it.
        - ``f = f0 + f_d z^d`` (``f - f0 = O(z^d)``: the z^d term carries the temperature).

        The fits and their residuals are recorded in ``source``. Raises ValueError naming the
        offending argument.
        """
        d = _check_d(d)
        z = np.asarray(z, dtype=float)
        A = np.asarray(A, dtype=float)
        f = np.asarray(f, dtype=float)
        if z.ndim != 1 or z.size < 8:
            raise ValueError(f"z: need a 1-d grid of at least 8 points, got shape {z.shape}")
        for name, arr in (("A", A), ("f", f)):
            if arr.shape != z.shape:
                raise ValueError(f"{name}: shape {arr.shape} differs from z {z.shape}")
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"{name}: contains non-finite values")
        if not (np.all(np.isfinite(z)) and z[0] > 0 and np.all(np.diff(z) > 0)):
            raise ValueError("z: must be finite, positive and strictly increasing")
        warp = _SplineWithUVSeries.fit(z, A + np.log(z), (0, 2))
        blackening = _SplineWithUVSeries.fit(z, f, (0, d))
        geometry = cls(
            d=d,
            warp_offset=warp,
            blackening=blackening,
            warp_offset_log_derivative=warp.log_derivative,
            blackening_log_derivative=blackening.log_derivative,
            z_max=float(z[-1]),
            z_reach=float(z[-1] + (z[-1] - z[-2])),
            uv_probe=float(z[0]),
            source=f"arrays: cubic splines of A + ln z and f on {z.size} points "
            f"[{z[0]:.3g}, {z[-1]:.6g}]; below z[0] UV series fitted on the first "
            f"{warp.fit_points}: {warp.describe('A + ln z')}, {blackening.describe('f')}",
        )
        geometry._check_asymptotically_ads("A")
        return geometry

    @classmethod
    def from_callables(
        cls,
        A: Callable[[np.ndarray], np.ndarray],
        f: Callable[[np.ndarray], np.ndarray],
        d: int,
    ) -> ConformalGeometry:
        """Geometry from vectorised callables ``A(z)``, ``f(z)`` (exact formulas, for tests).

        Derivatives are taken by 4th-order differences in ln z (error ~1e-12); the callables must
        accept arrays of z > 0, slightly past the horizon included.
        """
        d = _check_d(d)
        if not (callable(A) and callable(f)):
            raise ValueError("A, f: both must be callables of z")

        def warp(z: np.ndarray) -> np.ndarray:
            z = np.asarray(z, dtype=float)
            return np.asarray(A(z), dtype=float) + np.log(z)

        def blackening(z: np.ndarray) -> np.ndarray:
            return np.asarray(f(np.asarray(z, dtype=float)), dtype=float) * np.ones(np.shape(z))

        geometry = cls(
            d=d,
            warp_offset=warp,
            blackening=blackening,
            warp_offset_log_derivative=_log_derivative(warp),
            blackening_log_derivative=_log_derivative(blackening),
            z_max=np.inf,
            z_reach=np.inf,
            uv_probe=_UV_PROBE_CALLABLE,
            source="callables (exact)",
        )
        geometry._check_asymptotically_ads("A")
        return geometry

    def uv_limits(self) -> tuple[float, float]:
        """``(B0, f0)``: the z -> 0 limits of ``A + ln z`` and ``f``."""
        z0 = np.array([0.0 if np.isfinite(self.z_max) else _UV_LIMIT_CALLABLE])
        return float(self.warp_offset(z0)[0]), float(self.blackening(z0)[0])

    def _check_asymptotically_ads(self, name: str) -> None:
        # The transform psi = z^Delta chi and the dictionary assume dA/d ln z -> -1.
        z0 = np.array([self.uv_probe])
        slope = -1.0 + float(self.warp_offset_log_derivative(z0)[0])
        b0, f0 = self.uv_limits()
        if not (abs(slope + 1.0) <= UV_SLOPE_TOL and np.isfinite(b0) and f0 > 0):
            raise ValueError(
                f"{name}: geometry is not asymptotically AdS: dA/d ln z = {slope:.4g} at "
                f"z = {self.uv_probe:.3g} (need -1 +- {UV_SLOPE_TOL}), f(0) = {f0:.4g}"
            )

    def horizon(self) -> float:
        """Zero of f at (or one grid spacing past) the end of the data, e.g. for f on (0, z_h)."""
        from scipy.optimize import brentq

        def f_at(z: float) -> float:
            return float(self.blackening(np.array([z]))[0])

        if abs(f_at(self.z_max)) <= HORIZON_F_TOL:
            return self.z_max
        if not (np.isfinite(self.z_reach) and f_at(self.z_max) > 0 > f_at(self.z_reach)):
            raise ValueError(f"z_ir: f has no zero near the end of the data (z = {self.z_max})")
        return float(brentq(f_at, self.z_max, self.z_reach, xtol=1e-14))

    def uv_mass(self, m2: float) -> float:
        """Mass that sets the UV exponents, ``m2 e^{2 B0} / f0`` (equal to m2 for unit radius)."""
        b0, f0 = self.uv_limits()
        return float(m2) * np.exp(2 * b0) / f0


# --------------------------------------------------------------------------------------------
# Spectrum
# --------------------------------------------------------------------------------------------

Eigenproblem = Literal["normal", "screening"]
Quantization = Literal["standard", "alternative"]
BoundaryIR = Literal["dirichlet", "neumann", "horizon"]


@dataclass(frozen=True)
class ScalarSpectrum:
    """Lowest boundary masses of a bulk scalar, with everything needed to reproduce them.

    Attributes
    ----------
    M2 : ndarray
        Boundary masses squared, ascending (``w^2 - k^2`` for ``normal``, ``-k^2`` at w = 0 for
        ``screening``), Richardson-extrapolated.
    M2_error : ndarray
        Estimated absolute error of ``M2``: difference from the same Richardson extrapolation on
        grids twice as coarse (conservative by about 2^4 when the O(h^4) term dominates).
    m2, d, delta, quantization : input mass, dimension, UV exponent of the kept solution
        (``psi ~ z^delta``) and which branch it is (``standard`` = Delta_+).
    eigenproblem, k : ``normal`` (eigenvalue w^2 at fixed k) or ``screening`` (w = 0).
    bc_uv, bc_ir, ir_end : boundary conditions in words; ``ir_end`` is ``wall`` or ``horizon``.
    z_uv, z_ir, n_grid, method : interval, number of cells of the finer grid, method name.
    geometry_source : how the background was given.
    z, eigenvectors : cell centres and ``psi_n(z)`` (rows, weight-normalised, positive near the
        boundary) of the finer grid, or None when not requested.
    """

    M2: np.ndarray
    M2_error: np.ndarray
    m2: float
    d: int
    delta: float
    quantization: str
    eigenproblem: str
    k: float
    bc_uv: str
    bc_ir: str
    ir_end: str
    z_uv: float
    z_ir: float
    n_grid: int
    method: str
    geometry_source: str
    z: np.ndarray | None = None
    eigenvectors: np.ndarray | None = None

    def record(self) -> dict[str, object]:
        """JSON-serialisable provenance (everything except the arrays of modes)."""
        return {
            "m2": self.m2,
            "d": self.d,
            "delta": self.delta,
            "quantization": self.quantization,
            "eigenproblem": self.eigenproblem,
            "k": self.k,
            "bc_uv": self.bc_uv,
            "bc_ir": self.bc_ir,
            "ir_end": self.ir_end,
            "z_uv": self.z_uv,
            "z_ir": self.z_ir,
            "n_grid": self.n_grid,
            "method": self.method,
            "geometry_source": self.geometry_source,
            "M2": self.M2.tolist(),
            "M2_error": self.M2_error.tolist(),
        }


def _power_integral(a: np.ndarray, b: np.ndarray, s: float) -> np.ndarray:
    """Exact ``int_a^b z^s dz`` for s > -1."""
    return (b ** (s + 1) - a ** (s + 1)) / (s + 1)


@dataclass(frozen=True)
class ScalarProblem:
    """A validated scalar eigenproblem: what :func:`solve_scalar_modes_on` solves.

    Built from the arguments of :func:`solve_scalar_modes_on` (see there), checked on
    construction (ValueError naming the offending argument), with the defaults resolved
    (``z_ir``, ``n_grid``) and the UV exponent it imposes derived: ``m2_uv`` (the mass that
    sets the exponents, ``m2 e^{2 B0} / f0``), ``delta`` (Delta_+ or Delta_-) and the power
    ``s = 2 delta - d + 1`` of the transformed problem. A frozen dataclass, not attrs: the
    science layer depends on numpy and scipy only.

    Examples
    --------
    >>> import numpy as np
    >>> geo = ConformalGeometry.from_callables(lambda z: -np.log(z), lambda z: 1 + 0 * z, d=3)
    >>> ScalarProblem(geo, -2.0, n_modes=2, z_ir=1.0, quantization="alternative").delta
    1.0
    >>> ScalarProblem(geo, -2.0, n_modes=2, z_ir=1.0, k=1.0, eigenproblem="screening")
    Traceback (most recent call last):
    ...
    ValueError: k: the screening problem has w = 0 and -k^2 as eigenvalue; pass k = 0
    """

    geometry: ConformalGeometry
    m2: float
    n_modes: int
    z_uv: float | None = None
    z_ir: float | None = None
    bc_ir: BoundaryIR = "dirichlet"
    k: float = 0.0
    eigenproblem: Eigenproblem = "normal"
    quantization: Quantization = "standard"
    n_grid: int | None = None
    m2_uv: float = field(init=False)
    delta: float = field(init=False)
    s: float = field(init=False)

    def __post_init__(self) -> None:
        set_ = partial(object.__setattr__, self)
        set_("m2", float(self.m2))
        set_("m2_uv", self._uv_mass())
        set_("delta", self._imposed_exponent())
        self._check_choices()
        set_("n_modes", self._checked_n_modes())
        set_("z_uv", 0.0 if self.z_uv is None else float(self.z_uv))
        set_("z_ir", self._checked_z_ir())
        set_("n_grid", self._checked_n_grid())
        set_("s", 2 * self.delta - self.geometry.d + 1)

    def _uv_mass(self) -> float:
        d = self.geometry.d
        nu(d, self.m2)  # BF bound of the input mass
        m2_uv = self.geometry.uv_mass(self.m2)
        if m2_uv < bf_bound(d):  # only the geometry's UV radius can take an allowed m2 below it
            raise ValueError(
                f"m2: the UV mass m2 e^(2 B0) / f0 = {m2_uv!r} of this geometry (m2 = "
                f"{self.m2!r}) is below the BF bound {bf_bound(d)}; B0, f0 = "
                f"{self.geometry.uv_limits()}"
            )
        return m2_uv

    def _imposed_exponent(self) -> float:
        d, nu_uv = self.geometry.d, nu(self.geometry.d, self.m2_uv)
        if self.quantization == "standard":
            return d / 2.0 + nu_uv
        if self.quantization == "alternative":
            if not 0.0 < nu_uv < 1.0:
                raise ValueError(
                    f"quantization: 'alternative' needs 0 < nu < 1, got nu = {nu_uv:.6g}"
                )
            return d / 2.0 - nu_uv
        raise ValueError(
            f"quantization: expected 'standard' or 'alternative', got {self.quantization!r}"
        )

    def _check_choices(self) -> None:
        if self.eigenproblem not in ("normal", "screening"):
            raise ValueError(
                f"eigenproblem: expected 'normal' or 'screening', got {self.eigenproblem!r}"
            )
        if self.bc_ir not in ("dirichlet", "neumann", "horizon"):
            raise ValueError(
                f"bc_ir: expected 'dirichlet', 'neumann' or 'horizon', got {self.bc_ir!r}"
            )
        if self.eigenproblem == "screening" and self.k != 0.0:
            raise ValueError(
                "k: the screening problem has w = 0 and -k^2 as eigenvalue; pass k = 0"
            )
        if not np.isfinite(self.k):
            raise ValueError(f"k: must be finite, got {self.k!r}")

    def _checked_n_modes(self) -> int:
        if int(self.n_modes) != self.n_modes or self.n_modes < 1:
            raise ValueError(f"n_modes: must be a positive integer, got {self.n_modes!r}")
        return int(self.n_modes)

    def _checked_z_ir(self) -> float:
        geometry, z_ir = self.geometry, self.z_ir
        if z_ir is None:
            if not np.isfinite(geometry.z_max):
                raise ValueError("z_ir: required for a geometry given by callables")
            z_ir = geometry.horizon() if self.bc_ir == "horizon" else geometry.z_max
        z_ir = float(z_ir)
        if not (0.0 <= self.z_uv < z_ir):
            raise ValueError(f"z_uv: need 0 <= z_uv < z_ir, got z_uv = {self.z_uv}, z_ir = {z_ir}")
        if z_ir > geometry.z_reach:
            raise ValueError(f"z_ir: {z_ir} lies beyond the data (which end at {geometry.z_max})")
        f_ir = float(geometry.blackening(np.array([z_ir]))[0])
        if self.bc_ir == "horizon":
            if abs(f_ir) > HORIZON_F_TOL:
                raise ValueError(
                    f"z_ir: f(z_ir) = {f_ir:.3g} is not a horizon (|f| <= {HORIZON_F_TOL})"
                )
            if self.eigenproblem == "normal":
                raise ValueError(
                    "eigenproblem: normal modes are not a discrete Hermitian problem at a "
                    "horizon (continuum / quasinormal modes); use eigenproblem='screening'"
                )
        elif f_ir <= HORIZON_F_TOL:
            raise ValueError(
                f"bc_ir: f(z_ir) = {f_ir:.3g}; a wall must lie before the horizon (or use "
                "'horizon')"
            )
        return z_ir

    def _checked_n_grid(self) -> int:
        n_grid = _default_n_grid(self.n_modes) if self.n_grid is None else int(self.n_grid)
        if n_grid % 4 or n_grid < 16 * self.n_modes:
            raise ValueError(f"n_grid: must be a multiple of 4 and >= 16 n_modes, got {n_grid}")
        return n_grid


def _discretise(setup: ScalarProblem, n_cells: int) -> tuple[np.ndarray, ...]:
    """Symmetric tridiagonal stiffness (diag, off) and diagonal weight for chi on n_cells cells."""
    geo, d, s, delta = setup.geometry, setup.geometry.d, setup.s, setup.delta
    faces = np.linspace(setup.z_uv, setup.z_ir, n_cells + 1)
    h = faces[1] - faces[0]
    centres = 0.5 * (faces[:-1] + faces[1:])
    cell_power = _power_integral(faces[:-1], faces[1:], s)  # exact int z^s over each cell

    def flux_coefficient(z: np.ndarray) -> np.ndarray:  # P = z^s e^{(d-1)B} f
        return z**s * np.exp((d - 1) * geo.warp_offset(z)) * geo.blackening(z)

    b, f = geo.warp_offset(centres), geo.blackening(centres)
    b_t, f_t = geo.warp_offset_log_derivative(centres), geo.blackening_log_derivative(centres)
    if np.any(f <= 0):
        raise ValueError(f"z_ir: f <= 0 inside (z_uv, z_ir = {setup.z_ir}); the horizon is earlier")
    big_f = np.exp((d - 1) * b) * f
    big_f_t = np.exp((d - 1) * b) * ((d - 1) * b_t * f + f_t)  # z dF/dz
    remainder = setup.m2 * np.exp((d + 1) * b) - setup.m2_uv * big_f - delta * big_f_t
    potential = remainder / centres**2 * cell_power  # int z^{s-2} R over the cell
    static_weight = np.exp((d - 1) * b) * cell_power
    if setup.eigenproblem == "normal":
        weight = static_weight / f
        potential = potential + setup.k**2 * static_weight
    else:
        weight = static_weight

    inner = flux_coefficient(faces[1:-1]) / h
    diag = potential.copy()
    diag[1:] += inner
    diag[:-1] += inner
    # UV face: zero flux of chi (selects psi ~ z^delta); nothing to add.
    if setup.bc_ir != "horizon":  # horizon face: P = 0, zero flux is automatic
        p_ir = float(flux_coefficient(np.array([setup.z_ir]))[0])
        if setup.bc_ir == "dirichlet":  # chi(z_ir) = 0 half a cell away
            diag[-1] += p_ir / (0.5 * h)
        else:  # psi' = 0  <=>  P chi' = -P (delta / z) chi; chi at the face from the ghost value
            rate = delta / setup.z_ir
            diag[-1] += p_ir * rate / (1.0 + 0.5 * h * rate)
    return diag, -inner, weight, centres


def _lowest_modes(
    setup: ScalarProblem, n_cells: int, n_modes: int, vectors: bool
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    from scipy.linalg import eigh_tridiagonal

    diag, off, weight, centres = _discretise(setup, n_cells)
    scale = 1.0 / np.sqrt(weight)  # Wd^{-1/2} K Wd^{-1/2} keeps the problem symmetric
    result = eigh_tridiagonal(
        diag * scale**2,
        off * scale[:-1] * scale[1:],
        eigvals_only=not vectors,
        select="i",
        select_range=(0, n_modes - 1),
    )
    if not vectors:
        return np.asarray(result), None, centres
    values, vecs = result
    chi = (vecs * scale[:, None]).T  # rows: chi_n, normalised sum(weight chi^2) = 1
    chi *= np.sign(chi[:, :1])  # deterministic sign: positive next to the boundary
    psi = chi * centres[None, :] ** setup.delta
    return values, psi, centres


def _default_n_grid(n_modes: int) -> int:
    # The extrapolated relative error of M2 is ~ 0.1-0.5 (n / N_coarse)^4 on mode n (nu <= 3), so
    # N_coarse = 32 n_modes gives ~1e-7 on the highest requested mode.
    return 2 * max(96, 32 * n_modes)


def _richardson(coarse: np.ndarray, fine: np.ndarray) -> np.ndarray:
    """Remove the O(h^2) term from eigenvalues on grids of h and h/2."""
    gain = 2.0**_RICHARDSON_ORDER
    return (gain * fine - coarse) / (gain - 1.0)


def solve_scalar_modes_on(
    geometry: ConformalGeometry,
    m2: float,
    *,
    n_modes: int,
    z_uv: float | None = None,
    z_ir: float | None = None,
    bc_ir: BoundaryIR = "dirichlet",
    k: float = 0.0,
    eigenproblem: Eigenproblem = "normal",
    quantization: Quantization = "standard",
    n_grid: int | None = None,
    return_eigenvectors: bool = False,
) -> ScalarSpectrum:
    """Lowest boundary masses of a scalar of bulk mass ``m2`` in a :class:`ConformalGeometry`.

    Parameters
    ----------
    geometry : ConformalGeometry
        Background (asymptotically AdS_{d+1}).
    m2 : float
        Bulk mass squared (input; must satisfy the BF bound).
    n_modes : int
        Number of lowest eigenvalues.
    z_uv : float, optional
        UV end. None (default) is the boundary z = 0 itself; a cutoff z_uv > 0 imposes the
        normalisable log-derivative ``z psi' / psi = delta`` there (error O(z_uv^{2 + 2 nu})).
    z_ir : float, optional
        IR end (a wall, or the horizon for ``bc_ir="horizon"``). Defaults to the end of the data,
        or for ``bc_ir="horizon"`` to the zero of f there (:meth:`ConformalGeometry.horizon`).
    bc_ir : {"dirichlet", "neumann", "horizon"}
        psi = 0, psi' = 0 at a wall, or regularity at a horizon (requires ``|f(z_ir)|`` below
        ``HORIZON_F_TOL`` and ``eigenproblem="screening"``).
    k : float
        Momentum for ``normal`` (the reported M2 is ``w^2 - k^2``); must be 0 for ``screening``.
    eigenproblem : {"normal", "screening"}
        ``normal``: eigenvalue w^2 at fixed k, weight ``e^{(d-1)A} / f`` (walls only).
        ``screening``: w = 0, eigenvalue ``M2 = -k^2``, weight ``e^{(d-1)A}``.
    quantization : {"standard", "alternative"}
        Keep ``psi ~ z^{Delta_+}`` (standard) or ``z^{Delta_-}`` (alternative, 0 < nu < 1 only).
    n_grid : int, optional
        Cells of the finest grid (a multiple of 4; grids of n_grid/2 and n_grid/4 cells give the
        extrapolation and its error estimate). Default ``2 max(96, 32 n_modes)``.
    return_eigenvectors : bool
        Also return ``psi_n`` on the cell centres of the finer grid.

    Returns
    -------
    ScalarSpectrum

    Examples
    --------
    >>> import numpy as np
    >>> geo = ConformalGeometry.from_callables(lambda z: -np.log(z), lambda z: 1 + 0 * z, d=4)
    >>> spec = solve_scalar_modes_on(geo, -3.0, n_modes=2, z_ir=1.0)
    >>> np.round(np.sqrt(spec.M2), 5)  # zeros of J_1
    array([3.83171, 7.01559])
    """
    setup = ScalarProblem(
        geometry, m2, n_modes, z_uv, z_ir, bc_ir, k, eigenproblem, quantization, n_grid
    )
    return _solve(setup, return_eigenvectors)


def _solve(setup: ScalarProblem, return_eigenvectors: bool) -> ScalarSpectrum:
    """The spectrum of a validated problem: three grids, Richardson, error estimate."""
    n_grid, n_modes, z_uv, z_ir, k = (
        setup.n_grid, setup.n_modes, setup.z_uv, setup.z_ir, setup.k
    )  # fmt: skip
    eigenproblem, bc_ir = setup.eigenproblem, setup.bc_ir
    coarsest, _, _ = _lowest_modes(setup, n_grid // 4, n_modes, vectors=False)
    coarse, _, _ = _lowest_modes(setup, n_grid // 2, n_modes, vectors=False)
    fine, psi, centres = _lowest_modes(setup, n_grid, n_modes, vectors=return_eigenvectors)
    extrapolated = _richardson(coarse, fine)
    # The same extrapolation one level coarser is O(16) times less accurate: their difference
    # bounds the error of the returned values in the asymptotic regime.
    error = np.abs(extrapolated - _richardson(coarsest, coarse))
    shift = -(k**2) if eigenproblem == "normal" else 0.0

    bc_uv = (
        "boundary z = 0: finite energy (zero flux of chi = psi z^-delta), keeps psi ~ z^delta"
        if z_uv == 0.0
        else f"cutoff z_uv = {z_uv:.6g}: z psi'/psi = delta (zero flux of chi = psi z^-delta)"
    )
    bc_ir_words = {
        "dirichlet": f"wall z_ir = {z_ir:.6g}: psi = 0",
        "neumann": f"wall z_ir = {z_ir:.6g}: psi' = 0",
        "horizon": f"horizon z_h = {z_ir:.6g}: regular (zero flux, f = 0)",
    }[bc_ir]
    frozen = _frozen_array
    return ScalarSpectrum(
        M2=frozen(extrapolated + shift),
        M2_error=frozen(error),
        m2=setup.m2,
        d=setup.geometry.d,
        delta=setup.delta,
        quantization=setup.quantization,
        eigenproblem=eigenproblem,
        k=float(k),
        bc_uv=bc_uv,
        bc_ir=bc_ir_words,
        ir_end="horizon" if bc_ir == "horizon" else "wall",
        z_uv=z_uv,
        z_ir=z_ir,
        n_grid=n_grid,
        method="cell-centred FV for chi = psi z^-delta, eigh_tridiagonal, Richardson (N/2, N)",
        geometry_source=setup.geometry.source,
        z=frozen(centres) if return_eigenvectors else None,
        eigenvectors=frozen(psi) if psi is not None else None,
    )


def _frozen_array(values: np.ndarray) -> np.ndarray:
    out = np.array(values, dtype=float)
    out.flags.writeable = False
    return out


def solve_scalar_modes(
    z: np.ndarray,
    A: np.ndarray,
    f: np.ndarray,
    d: int,
    m2: float,
    *,
    n_modes: int,
    z_uv: float | None = None,
    z_ir: float | None = None,
    bc_ir: BoundaryIR = "dirichlet",
    k: float = 0.0,
    eigenproblem: Eigenproblem = "normal",
    quantization: Quantization = "standard",
    n_grid: int | None = None,
    return_eigenvectors: bool = False,
) -> ScalarSpectrum:
    """Boundary masses for a geometry given as arrays ``A(z), f(z)`` (e.g. from a file).

    Splines the data (:meth:`ConformalGeometry.from_arrays`) and calls
    :func:`solve_scalar_modes_on`; see there for the parameters.

    Examples
    --------
    >>> import numpy as np
    >>> z = np.geomspace(1e-4, 1.0, 400)
    >>> spec = solve_scalar_modes(z, -np.log(z), np.ones_like(z), 3, 0.0, n_modes=1)
    >>> round(float(np.sqrt(spec.M2[0])), 5)  # first zero of J_{3/2}
    4.49341
    """
    geometry = ConformalGeometry.from_arrays(z, A, f, d)
    return solve_scalar_modes_on(
        geometry,
        m2,
        n_modes=n_modes,
        z_uv=z_uv,
        z_ir=z_ir,
        bc_ir=bc_ir,
        k=k,
        eigenproblem=eigenproblem,
        quantization=quantization,
        n_grid=n_grid,
        return_eigenvectors=return_eigenvectors,
    )


def solve_scalar_modes_exact(
    A: Callable[[np.ndarray], np.ndarray],
    f: Callable[[np.ndarray], np.ndarray],
    d: int,
    m2: float,
    *,
    n_modes: int,
    z_ir: float,
    z_uv: float | None = None,
    bc_ir: BoundaryIR = "dirichlet",
    k: float = 0.0,
    eigenproblem: Eigenproblem = "normal",
    quantization: Quantization = "standard",
    n_grid: int | None = None,
    return_eigenvectors: bool = False,
) -> ScalarSpectrum:
    """Boundary masses for a geometry given by exact callables (for analytic tests).

    Examples
    --------
    >>> import numpy as np
    >>> spec = solve_scalar_modes_exact(
    ...     lambda z: -np.log(z), lambda z: 1 - z**2, 2, 0.0,
    ...     n_modes=2, z_ir=1.0, bc_ir="horizon", eigenproblem="screening")
    >>> np.round(np.sqrt(spec.M2), 5)  # BTZ: M_n z_h = Delta + 2 n with Delta = 2
    array([2., 4.])
    """
    geometry = ConformalGeometry.from_callables(A, f, d)
    return solve_scalar_modes_on(
        geometry,
        m2,
        n_modes=n_modes,
        z_uv=z_uv,
        z_ir=z_ir,
        bc_ir=bc_ir,
        k=k,
        eigenproblem=eigenproblem,
        quantization=quantization,
        n_grid=n_grid,
        return_eigenvectors=return_eigenvectors,
    )
