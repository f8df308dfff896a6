"""Small statistics for stages 03 and 05: model comparison and trend fits.

* "R constant" against "R depends on z" (a polynomial in z) by AIC and BIC, with a
  noise floor: R computed by finite differences carries a deterministic discretisation
  error, not noise, and without a floor an exactly constant R computed to 1e-9 would
  "depend on z" at the 1e-12 level.
* Weighted polynomial trends of a per-geometry result (e.g. mean R) against a family
  parameter, and PHYSICS.md's stage 05 check: at zero temperature the Lifshitz Ricci
  scalar is the constant -2 zeta^2 - 2(d-1) zeta - d(d-1).

Examples
--------
>>> import numpy as np
>>> z = np.geomspace(1e-3, 1.0, 200)
>>> compare_constant_vs_z(z, -12.0 + 1e-9 * np.sin(z)).constant_preferred
True
>>> compare_constant_vs_z(z, -12.0 + 7.2 * z**2).constant_preferred
False
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "ModelComparison",
    "TrendCheck",
    "TrendFit",
    "check_lifshitz_ricci_trend",
    "compare_constant_vs_z",
    "fit_polynomial_trend",
    "information_criteria",
    "lifshitz_ricci_scalar",
    "uv_mean",
]


def information_criteria(rss: float, n: int, k: int) -> tuple[float, float]:
    """(AIC, BIC) of a least-squares fit with Gaussian errors of unknown variance.

    AIC = n ln(RSS/n) + 2k, BIC = n ln(RSS/n) + k ln n, with k fitted parameters.

    Examples
    --------
    >>> [round(v, 6) for v in information_criteria(rss=2.0, n=20, k=2)]
    [-42.051702, -40.060237]
    """
    if not (rss > 0 and n > 0 and k >= 0):
        raise ValueError(f"need rss > 0, n > 0, k >= 0; got rss={rss!r}, n={n!r}, k={k!r}")
    log_likelihood_term = n * math.log(rss / n)
    return log_likelihood_term + 2 * k, log_likelihood_term + k * math.log(n)


def _finite_pair(x: ArrayLike, y: ArrayLike, labels: tuple[str, str]) -> tuple[np.ndarray, ...]:
    xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if xs.ndim != 1 or xs.shape != ys.shape:
        raise ValueError(f"{labels[0]} and {labels[1]} must be 1-D of one length")
    if not (np.all(np.isfinite(xs)) and np.all(np.isfinite(ys))):
        raise ValueError(f"{labels[0]} and {labels[1]} must be finite")
    return xs, ys


@dataclass(frozen=True)
class ModelComparison:
    """ "R constant" (1 parameter) against "R polynomial in z" (degree + 1 parameters).

    ``rss_*`` are the raw residual sums of squares; the criteria use
    max(RSS, n * noise_floor^2). ``constant_preferred`` follows ``criterion``.
    """

    n: int
    degree: int
    mean: float
    std: float
    rss_constant: float
    rss_z: float
    noise_floor: float
    aic_constant: float
    aic_z: float
    bic_constant: float
    bic_z: float
    criterion: str
    constant_preferred: bool


def compare_constant_vs_z(
    z: ArrayLike,
    R: ArrayLike,
    *,
    degree: int = 2,
    relative_floor: float = 1e-4,
    criterion: str = "bic",
) -> ModelComparison:
    """Does "R constant" beat "R depends on z" by an information criterion?

    Parameters
    ----------
    z, R : array_like
        Grid and the curvature on it (both finite).
    degree : int
        Degree of the z-dependent polynomial model (z scaled to [0, 1] for conditioning).
    relative_floor : float
        Resolution of R relative to max(|mean R|, 1). Residuals below it count as the
        discretisation error, not as structure. The default, 1e-4, sits well above the
        finite-difference error of R on a few hundred points (about 1e-6 RMS for
        AdS-Schwarzschild up to d = 6) and far below the stage 03 tolerance 1e-2.
    criterion : {"bic", "aic"}
        Which criterion decides ``constant_preferred`` (ties go to the constant).

    Examples
    --------
    >>> import numpy as np
    >>> z = np.linspace(0.01, 1.0, 50)
    >>> c = compare_constant_vs_z(z, -20.0 * np.ones(50))
    >>> c.constant_preferred, c.mean
    (True, -20.0)
    """
    grid, curvature = _finite_pair(z, R, ("z", "R"))
    if criterion not in ("aic", "bic"):
        raise ValueError(f"criterion must be 'aic' or 'bic', got {criterion!r}")
    n = grid.size
    if degree < 1 or n < degree + 3:
        raise ValueError(f"need degree >= 1 and at least degree + 3 points, got {degree}, {n}")
    mean = float(np.mean(curvature))
    rss_constant = float(np.sum((curvature - mean) ** 2))
    scaled = (grid - grid.min()) / (grid.max() - grid.min())
    design = np.vander(scaled, degree + 1)
    coefficients, *_ = np.linalg.lstsq(design, curvature, rcond=None)
    rss_z = float(np.sum((curvature - design @ coefficients) ** 2))
    noise_floor = relative_floor * max(abs(mean), 1.0)
    floor_rss = n * noise_floor**2
    aic_c, bic_c = information_criteria(max(rss_constant, floor_rss), n, 1)
    aic_z, bic_z = information_criteria(max(rss_z, floor_rss), n, degree + 1)
    preferred = aic_c <= aic_z if criterion == "aic" else bic_c <= bic_z
    return ModelComparison(
        n=n,
        degree=degree,
        mean=mean,
        std=float(np.std(curvature)),
        rss_constant=rss_constant,
        rss_z=rss_z,
        noise_floor=noise_floor,
        aic_constant=aic_c,
        aic_z=aic_z,
        bic_constant=bic_c,
        bic_z=bic_z,
        criterion=criterion,
        constant_preferred=bool(preferred),
    )


@dataclass(frozen=True)
class TrendFit:
    """Polynomial y(x) = sum_k coefficients[k] x^k (ascending powers) with standard errors.

    Without given uncertainties the errors are scaled by the residual variance
    (``inf`` when there are no degrees of freedom left).
    """

    degree: int
    coefficients: tuple[float, ...]
    stderr: tuple[float, ...]
    residual_rms: float
    n: int


def fit_polynomial_trend(
    x: ArrayLike, y: ArrayLike, degree: int = 2, sigma: ArrayLike | None = None
) -> TrendFit:
    """Weighted least-squares polynomial trend of ``y`` against a parameter ``x``.

    Examples
    --------
    >>> fit = fit_polynomial_trend([1.0, 2.0, 3.0, 4.0], [3.0, 5.0, 7.0, 9.0], degree=1)
    >>> [round(c, 9) for c in fit.coefficients]
    [1.0, 2.0]
    """
    xs, ys = _finite_pair(x, y, ("x", "y"))
    k = degree + 1
    if degree < 0 or len(np.unique(xs)) < k:
        raise ValueError(f"a degree-{degree} trend needs at least {k} distinct x values")
    weights = np.ones_like(ys) if sigma is None else 1.0 / np.asarray(sigma, dtype=float)
    if weights.shape != ys.shape or not np.all(np.isfinite(weights) & (weights > 0)):
        raise ValueError("sigma must be finite, > 0 and shaped like y")
    design = np.vander(xs, k, increasing=True)
    coefficients, *_ = np.linalg.lstsq(design * weights[:, None], ys * weights, rcond=None)
    residuals = ys - design @ coefficients
    covariance = np.linalg.inv((design * weights[:, None] ** 2).T @ design)
    if sigma is None:
        dof = xs.size - k
        scale = float(np.sum(residuals**2)) / dof if dof > 0 else math.inf
        covariance = covariance * scale
    stderr = np.sqrt(np.abs(np.diag(covariance)))
    return TrendFit(
        degree,
        tuple(float(c) for c in coefficients),
        tuple(float(s) for s in stderr),
        float(np.sqrt(np.mean(residuals**2))),
        xs.size,
    )


def lifshitz_ricci_scalar(zeta: ArrayLike, d: int) -> np.ndarray:
    """Ricci scalar of zero-temperature Lifshitz: -2 zeta^2 - 2(d-1) zeta - d(d-1).

    At finite temperature (f = 1 - (z/z_h)^(d+zeta-1)) R is not constant: it gains
    -(d-1)(zeta-1)(z/z_h)^(d+zeta-1), so a mean over a grid reaching the horizon sits
    below this value by (d-1)(zeta-1) times the grid mean of (z/z_h)^(d+zeta-1).

    Examples
    --------
    >>> lifshitz_ricci_scalar(1.0, 4).tolist()   # AdS: -d(d+1)
    -20.0
    """
    zetas = np.asarray(zeta, dtype=float)
    return -2 * zetas**2 - 2 * (d - 1) * zetas - d * (d - 1)


@dataclass(frozen=True)
class TrendCheck:
    """Outcome of comparing a fitted trend with its analytic expectation."""

    evaluated: bool
    passed: bool | None
    fit: TrendFit | None
    expected_coefficients: tuple[float, ...]
    max_relative_deviation: float | None
    tolerance: float
    message: str


def uv_mean(z: ArrayLike, values: ArrayLike, *, decades: float = 1.0) -> float:
    """Mean of ``values`` over the first ``decades`` decades of the grid ``z`` (the UV).

    Near the boundary a thermal geometry approaches its zero-temperature form: corrections
    go as ``(z / z_h)^n`` with ``n >= d``, so on ``z <= 10 z_min`` with ``z_min = 1e-3`` they
    are below ``1e-6`` for ``z_h ~ 1``.

    Examples
    --------
    >>> import numpy as np
    >>> z = np.geomspace(1e-3, 1.0, 301)
    >>> round(uv_mean(z, -12.0 - 2.0 * z**3), 6)
    -12.0
    """
    zs, vs = _finite_pair(z, values, ("z", "values"))
    inside = zs <= zs.min() * 10.0**decades
    return float(np.mean(vs[inside]))


def check_lifshitz_ricci_trend(
    zeta: ArrayLike, mean_R: ArrayLike, d: int, *, rtol: float = 1e-2
) -> TrendCheck:
    """Stage 05 check: Lifshitz mean R against zeta follows -2 zeta^2 - 2(d-1) zeta - d(d-1).

    A quadratic is fitted to (zeta, mean R); the check passes when every fitted
    coefficient and every point agree with the formula to ``rtol`` relative to the
    largest expected coefficient. Fewer than three distinct zeta values: not evaluated.

    Examples
    --------
    >>> zetas = [1.0, 1.5, 2.0, 3.0]
    >>> check_lifshitz_ricci_trend(zetas, [-12.0, -16.5, -22.0, -36.0], d=3).passed
    True
    """
    xs, ys = _finite_pair(zeta, mean_R, ("zeta", "mean_R"))
    expected = (-float(d * (d - 1)), -2.0 * (d - 1), -2.0)
    if len(np.unique(xs)) < 3:
        message = f"{len(np.unique(xs))} distinct zeta values; a quadratic trend needs 3"
        return TrendCheck(False, None, None, expected, None, rtol, message)
    fit = fit_polynomial_trend(xs, ys, degree=2)
    scale = max(abs(c) for c in expected)
    coefficient_error = max(abs(c - e) for c, e in zip(fit.coefficients, expected, strict=True))
    point_error = float(np.max(np.abs(ys - lifshitz_ricci_scalar(xs, d))))
    deviation = max(coefficient_error, point_error) / scale
    passed = deviation <= rtol
    fitted = ", ".join(f"{c:.6g}" for c in fit.coefficients)
    message = (
        f"fit (1, zeta, zeta^2) = ({fitted}), expected {expected}; "
        f"max deviation {deviation:.3e} relative to {scale:g}"
    )
    return TrendCheck(True, bool(passed), fit, expected, float(deviation), rtol, message)
