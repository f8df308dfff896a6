"""Measured scaling dimensions: ``Delta`` of an operator from its two-point function, with an
uncertainty.

A conformal two-point function at short distance is ``G2(x) = C x^(-2 Delta)`` times analytic
corrections, so ``ln G2 = c - 2 Delta ln x + sum_k b_k t^k`` with ``t = x / x_hi``. The
measurement is a weighted linear least-squares fit of that model over a window of
separations (the first ``window_decades`` decades above the smallest ``x``; ``n_corrections``
power corrections, 0 for a pure power law), with two parts of the uncertainty:

- statistical: the standard error of the slope. With per-point errors ``G2_err`` the weights
  are ``1 / sigma^2`` with ``sigma = G2_err / G2`` (the error of ``ln G2``), and the covariance
  ``(X^T W X)^-1`` is scaled by the Birge ratio ``max(1, chi2 / dof)`` so that a model that
  does not describe the data cannot claim the precision of the data; without errors the
  scatter of the residuals sets ``sigma`` (``s^2 = RSS / dof``).
- window: the same fit on the lower and on the upper two thirds of the window (in ``ln x``).
  For nested windows ``Var(Delta_sub - Delta_full) = sigma_sub^2 - sigma_full^2`` under the
  statistical model alone, so only the excess, ``max(0, diff^2 - (sigma_sub^2 -
  sigma_full^2))``, is systematic (a drift of the local slope: a correction the model lacks).
  The largest excess over the two sub-windows is the window part.

``Delta_err = sqrt(stat^2 + window^2)``.

Examples
--------
>>> import numpy as np
>>> x = np.geomspace(0.01, 1.0, 200)
>>> m = measure_dimension(x, x ** (-2 * 0.518))
>>> round(m.delta, 12), m.delta_err < 1e-10
(0.518, True)
>>> noisy = x ** (-2 * 1.41) * np.exp(np.random.default_rng(0).normal(0, 1e-3, x.size))
>>> m = measure_dimension(x, noisy, G2_err=1e-3 * noisy)
>>> abs(m.delta - 1.41) < 4 * m.delta_err, 5e-5 < m.delta_err < 5e-4
(True, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["METHOD", "DimensionMeasurement", "measure_dimension"]

#: Name of the method, recorded with every measurement.
METHOD = "weighted log-log fit of G2 ~ x^(-2 Delta), window variation"
#: Fraction of the window (in ln x) covered by each sub-window of the window-variation part.
SUB_WINDOW_FRACTION = 2.0 / 3.0


@dataclass(frozen=True)
class DimensionMeasurement:
    """A measured dimension and the parts of its uncertainty.

    Attributes
    ----------
    delta : float
        Fitted ``Delta`` over the full window.
    delta_err : float
        ``sqrt(stat_err^2 + window_err^2)``.
    stat_err : float
        Standard error of ``delta`` (Birge-scaled when errors were given).
    window_err : float
        Systematic part from the sub-window fits (0 when they agree within statistics).
    chi2_dof : float
        Reduced chi-square with the given errors; NaN without errors.
    window : tuple of float
        ``(x_min, x_max)`` of the points used.
    n_points : int
        Points in the window.
    n_corrections : int
        Power corrections fitted with the power law.
    """

    delta: float
    delta_err: float
    stat_err: float
    window_err: float
    chi2_dof: float
    window: tuple[float, float]
    n_points: int
    n_corrections: int


def _validated(x: ArrayLike, g2: ArrayLike, g2_err: ArrayLike | None):
    x_arr = np.asarray(x, dtype=float)
    g_arr = np.asarray(g2, dtype=float)
    if x_arr.ndim != 1 or g_arr.shape != x_arr.shape:
        raise ValueError(f"G2: must be 1-D like x {x_arr.shape}, got shape {g_arr.shape}")
    if not (np.isfinite(x_arr).all() and (x_arr > 0).all() and (np.diff(x_arr) > 0).all()):
        raise ValueError("x: separations must be finite, positive and strictly increasing")
    if not (np.isfinite(g_arr).all() and (g_arr > 0).all()):
        raise ValueError("G2: values must be finite and positive")
    if g2_err is None:
        return x_arr, g_arr, None
    e_arr = np.asarray(g2_err, dtype=float)
    if e_arr.shape != x_arr.shape or not (np.isfinite(e_arr).all() and (e_arr > 0).all()):
        raise ValueError("G2_err: must have the shape of x, finite and positive")
    return x_arr, g_arr, e_arr / g_arr


def _fit(
    log_x: np.ndarray, log_g: np.ndarray, sigma: np.ndarray | None, n_corrections: int
) -> tuple[float, float, float]:
    """(Delta, its standard error, chi2/dof) of one window."""
    t = np.exp(log_x - log_x[-1])
    design = np.column_stack(
        [-2.0 * log_x, np.ones_like(log_x)] + [t**k for k in range(1, n_corrections + 1)]
    )
    weights = np.ones_like(log_g) if sigma is None else 1.0 / sigma
    coefficients, *_ = np.linalg.lstsq(design * weights[:, None], log_g * weights, rcond=None)
    residuals = (log_g - design @ coefficients) * weights
    dof = log_g.size - design.shape[1]
    chi2_dof = float(residuals @ residuals) / dof
    # Covariance from the normal equations of the weighted problem; without errors the
    # residual scatter is the noise level, with errors the Birge ratio only ever inflates it.
    scale = chi2_dof if sigma is None else max(1.0, chi2_dof)
    normal = (design * weights[:, None]).T @ (design * weights[:, None])
    variance = float(np.linalg.pinv(normal)[0, 0]) * scale
    return float(coefficients[0]), math.sqrt(max(variance, 0.0)), chi2_dof


def measure_dimension(
    x: ArrayLike,
    G2: ArrayLike,
    *,
    G2_err: ArrayLike | None = None,
    window_decades: float = 1.0,
    n_corrections: int = 0,
) -> DimensionMeasurement:
    """``Delta`` of an operator from ``G2(x) ~ x^(-2 Delta)`` with its uncertainty (module doc).

    Parameters
    ----------
    x : array_like
        Separations, finite, positive, strictly increasing.
    G2 : array_like
        Two-point function at ``x``, finite and positive.
    G2_err : array_like, optional
        One-sigma errors of ``G2``; without them the residual scatter sets the noise level.
    window_decades : float
        Width of the window in decades above ``x.min()`` (clipped to the data).
    n_corrections : int
        Power corrections ``(x / x_hi)^k``, ``k = 1..n``, fitted with the power law.

    Raises
    ------
    ValueError
        Naming the argument: bad shapes or values, or too few points in a sub-window
        (each needs ``n_corrections + 4``).
    """
    x_arr, g_arr, sigma = _validated(x, G2, G2_err)
    if not (math.isfinite(window_decades) and window_decades > 0):
        raise ValueError(f"window_decades: must be finite and positive, got {window_decades!r}")
    if isinstance(n_corrections, bool) or not isinstance(n_corrections, int) or n_corrections < 0:
        raise ValueError(f"n_corrections: must be an integer >= 0, got {n_corrections!r}")
    inside = x_arr <= x_arr[0] * 10.0**window_decades * (1 + 1e-12)
    log_x, log_g = np.log(x_arr[inside]), np.log(g_arr[inside])
    sig = None if sigma is None else sigma[inside]
    span = log_x[-1] - log_x[0]
    lower = log_x <= log_x[0] + SUB_WINDOW_FRACTION * span
    upper = log_x >= log_x[-1] - SUB_WINDOW_FRACTION * span
    needed = n_corrections + 4
    if min(lower.sum(), upper.sum()) < needed:
        raise ValueError(
            f"x: each sub-window needs {needed} separations; the window "
            f"[{x_arr[0]:.3g}, {math.exp(log_x[-1]):.3g}] has {log_x.size} in all"
        )
    delta, stat, chi2_dof = _fit(log_x, log_g, sig, n_corrections)
    excess = 0.0
    for part in (lower, upper):
        sub_delta, sub_stat, _ = _fit(
            log_x[part], log_g[part], None if sig is None else sig[part], n_corrections
        )
        excess = max(excess, (sub_delta - delta) ** 2 - max(sub_stat**2 - stat**2, 0.0))
    window_err = math.sqrt(excess)
    return DimensionMeasurement(
        delta=delta,
        delta_err=math.hypot(stat, window_err),
        stat_err=stat,
        window_err=window_err,
        chi2_dof=chi2_dof if sig is not None else float("nan"),
        window=(float(math.exp(log_x[0])), float(math.exp(log_x[-1]))),
        n_points=int(log_x.size),
        n_corrections=n_corrections,
    )
