"""Stage 07's statistics: the holographic dictionary m^2(Delta) fitted per boundary dimension d.

Two models of the (Delta, m^2) pairs measured in one d:

* ``free``: least squares of m^2 on {Delta^2, Delta, 1} (3 parameters), with the classical
  standard errors ``s^2 (X^T X)^-1``;
* ``constrained``: m^2 = c Delta (Delta - d) (1 parameter), the AdS relation up to a scale.

They are compared by AIC and BIC (Gaussian errors of unknown variance, the same form as
:func:`holopipe.science.analysis.information_criteria`) and by k-fold cross-validation. A
*resolution* of m^2 sets a noise floor: stage 06 measures Delta to ~1e-5, so differences of
m^2 below that are numerical error, not structure, and without a floor exact AdS data (RSS at
the 1e-25 level for both models) would be decided by round-off. Below the floor both models
fit equally well and the criteria prefer the simpler one by their parameter penalty; ties in
cross-validation (RMS errors within the resolution) also go to the simpler model.

The branch policy (PHYSICS.md) of one entry is :func:`branch_policy`: Delta_+ = d/2 + nu is
always an operator dimension, Delta_- = d/2 - nu only for nu < 1 (alternative quantisation),
and no mass below the Breitenlohner-Freedman bound -d^2/4 is an entry.

Examples
--------
>>> import numpy as np
>>> delta = np.array([0.5, 1.5, 2.0, 1.0, 2.0, 3.0])
>>> d = np.array([2, 2, 2, 3, 3, 3])
>>> fit = fit_dictionary(delta[d == 3], delta[d == 3] * (delta[d == 3] - 3), d=3)
>>> [round(float(c), 9) + 0.0 for c in fit.coefficients]
[1.0, -3.0, 0.0]
>>> fit.preferred
{'aic': 'constrained', 'bic': 'constrained', 'cv': 'constrained'}
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from holopipe.science.defaults import DEFAULT_FOLDS, DEFAULT_M2_RESOLUTION, bf_bound

__all__ = [
    "DEFAULT_FOLDS",
    "DEFAULT_M2_RESOLUTION",
    "BranchDecision",
    "DictionaryFit",
    "branch_policy",
    "fit_dictionary",
    "infer_mass",
]

Model = Literal["free", "constrained"]

#: Fewest distinct Delta values that identify a quadratic.
MIN_DISTINCT_DELTAS = 3


@dataclass(frozen=True)
class DictionaryFit:
    """Both models fitted to one d, their criteria and which model each criterion prefers.

    ``coefficients`` and ``standard_errors`` are (Delta^2, Delta, 1) of the free model (AdS:
    (1, -d, 0)); ``aic``, ``bic``, ``cv_rmse`` map a model name to its score (lower is better).
    """

    d: int
    n_points: int
    n_distinct: int
    coefficients: tuple[float, float, float]
    standard_errors: tuple[float, float, float]
    c_constrained: float
    c_standard_error: float
    rss: dict[str, float]
    aic: dict[str, float]
    bic: dict[str, float]
    folds: int
    cv_rmse: dict[str, float]
    resolution: float
    preferred: dict[str, str] = field(default_factory=dict)

    def deviation_from_ads(self) -> float:
        """max |coefficient - (1, -d, 0)|: how far the free fit is from the AdS relation."""
        target = (1.0, -float(self.d), 0.0)
        return max(abs(c - t) for c, t in zip(self.coefficients, target, strict=True))


def _design(delta: np.ndarray) -> np.ndarray:
    return np.column_stack([delta**2, delta, np.ones_like(delta)])


def _constrained_c(delta: np.ndarray, m2: np.ndarray, d: int) -> float:
    g = delta * (delta - d)
    norm = float(g @ g)
    return float(g @ m2) / norm if norm > 0 else 0.0


def _interleaved_folds(delta: np.ndarray, k: int) -> list[np.ndarray]:
    """Held-out index sets: points sorted by Delta, dealt round-robin, so every fold spans the
    whole range of Delta and repeated Delta values (several systems) land in different folds."""
    order = np.argsort(delta, kind="stable")
    return [order[i::k] for i in range(k)]


def _cv_rmse(delta: np.ndarray, m2: np.ndarray, d: int, k: int) -> dict[str, float]:
    squared = {"free": 0.0, "constrained": 0.0}
    for held in _interleaved_folds(delta, k):
        train = np.ones(delta.size, dtype=bool)
        train[held] = False
        # A training set with fewer than 3 distinct Delta leaves the quadratic undetermined: the
        # minimum-norm solution predicts badly there, which is what cross-validation should see.
        coef, *_ = np.linalg.lstsq(_design(delta[train]), m2[train], rcond=None)
        c = _constrained_c(delta[train], m2[train], d)
        squared["free"] += float(np.sum((m2[held] - _design(delta[held]) @ coef) ** 2))
        squared["constrained"] += float(
            np.sum((m2[held] - c * delta[held] * (delta[held] - d)) ** 2)
        )
    return {name: math.sqrt(total / delta.size) for name, total in squared.items()}


def fit_dictionary(
    delta: ArrayLike,
    m2: ArrayLike,
    d: int,
    *,
    folds: int = DEFAULT_FOLDS,
    resolution: float = DEFAULT_M2_RESOLUTION,
) -> DictionaryFit:
    """Fit m^2(Delta) for one d with both models and compare them (module docstring).

    Parameters
    ----------
    delta, m2 : array_like
        Measured dimensions and the bulk masses they belong to (1-D, finite, same length).
    d : int
        Boundary spacetime dimension.
    folds : int
        k of the k-fold cross-validation (at most the number of points, at least 2).
    resolution : float
        m^2 resolution (noise floor of the criteria, tie margin of cross-validation).

    Raises
    ------
    ValueError
        Fewer than 3 distinct Delta values (the quadratic is not identifiable), non-finite
        input, or a non-positive resolution.

    Examples
    --------
    >>> import numpy as np
    >>> delta = np.array([1.2, 1.6, 2.0, 2.5, 3.0, 3.5])
    >>> fit = fit_dictionary(delta, 1.3 * delta**2 - 3 * delta + 0.4, d=3)
    >>> fit.preferred["bic"], round(fit.coefficients[0], 6)
    ('free', 1.3)
    """
    from holopipe.science.analysis import information_criteria

    x = np.asarray(delta, dtype=float)
    y = np.asarray(m2, dtype=float)
    if x.ndim != 1 or x.shape != y.shape:
        raise ValueError(f"Delta and m2 must be 1-D of one length, got {x.shape} and {y.shape}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("Delta and m2 must be finite")
    if not (math.isfinite(resolution) and resolution > 0):
        raise ValueError(f"resolution must be positive, got {resolution!r}")
    n_distinct = int(np.unique(np.round(x, 6)).size)
    if n_distinct < MIN_DISTINCT_DELTAS:
        raise ValueError(
            f"d = {d}: {n_distinct} distinct Delta values; a quadratic needs "
            f"{MIN_DISTINCT_DELTAS} (give stage 06 more masses for this d)"
        )
    n = x.size
    design = _design(x)
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    c = _constrained_c(x, y, d)
    rss = {
        "free": float(np.sum((y - design @ coef) ** 2)),
        "constrained": float(np.sum((y - c * x * (x - d)) ** 2)),
    }
    params = {"free": 3, "constrained": 1}
    floor_rss = n * resolution**2
    criteria = {
        name: information_criteria(max(rss[name], floor_rss), n, k) for name, k in params.items()
    }
    aic = {name: value[0] for name, value in criteria.items()}
    bic = {name: value[1] for name, value in criteria.items()}

    # Standard errors with the residual variance, never below the resolution.
    s2_free = max(rss["free"] / (n - 3), resolution**2) if n > 3 else resolution**2
    cov = s2_free * np.linalg.inv(design.T @ design)
    g = x * (x - d)
    s2_c = max(rss["constrained"] / (n - 1), resolution**2) if n > 1 else resolution**2
    c_err = math.sqrt(s2_c / float(g @ g)) if float(g @ g) > 0 else math.inf

    k = max(2, min(folds, n))
    cv = _cv_rmse(x, y, d, k)

    def simpler_unless_worse(scores: dict[str, float], margin: float) -> str:
        return "constrained" if scores["constrained"] <= scores["free"] + margin else "free"

    preferred = {
        "aic": simpler_unless_worse(aic, 0.0),
        "bic": simpler_unless_worse(bic, 0.0),
        "cv": simpler_unless_worse(cv, resolution),
    }
    return DictionaryFit(
        d=int(d),
        n_points=n,
        n_distinct=n_distinct,
        coefficients=(float(coef[0]), float(coef[1]), float(coef[2])),
        standard_errors=tuple(float(math.sqrt(v)) for v in np.diag(cov)),
        c_constrained=c,
        c_standard_error=c_err,
        rss=rss,
        aic=aic,
        bic=bic,
        folds=k,
        cv_rmse=cv,
        resolution=float(resolution),
        preferred=preferred,
    )


@dataclass(frozen=True)
class BranchDecision:
    """Whether (d, m^2, branch) is an operator of the dictionary, and why (or why not)."""

    allowed: bool
    nu: float | None
    rule: str


def branch_policy(d: int, m2: float, branch: str) -> BranchDecision:
    """PHYSICS.md's branch policy for one entry.

    Examples
    --------
    >>> branch_policy(3, -2.0, "-").rule
    'alternative quantisation: Delta_- = d/2 - nu allowed for nu = 0.5 < 1'
    >>> branch_policy(4, 5.0, "-").allowed
    False
    >>> branch_policy(3, -3.0, "+").rule
    'below the BF bound: m2 = -3.0 < -d^2/4 = -2.25'
    """
    bound = bf_bound(d)
    if not (math.isfinite(m2) and m2 >= bound):
        return BranchDecision(False, None, f"below the BF bound: m2 = {m2!r} < -d^2/4 = {bound}")
    order = math.sqrt(m2 - bound)
    if branch == "+":
        return BranchDecision(True, order, "standard quantisation: Delta_+ = d/2 + nu")
    if branch == "-":
        if order < 1:
            return BranchDecision(
                True,
                order,
                f"alternative quantisation: Delta_- = d/2 - nu allowed for nu = {order:.6g} < 1",
            )
        return BranchDecision(
            False, order, f"Delta_- needs nu < 1 (alternative quantisation), nu = {order:.6g}"
        )
    return BranchDecision(False, order, f"unknown branch {branch!r} (expected '+' or '-')")


def infer_mass(d: int, delta: float) -> tuple[float, Literal["+", "-"], float]:
    """The inverse dictionary: (m^2 = Delta (Delta - d), branch, nu = |Delta - d/2|).

    The branch is ``-`` below d/2 (Delta = d/2 - nu), ``+`` at or above it.

    Examples
    --------
    >>> infer_mass(3, 1.0)
    (-2.0, '-', 0.5)
    """
    m2 = float(delta * (delta - d))
    branch: Literal["+", "-"] = "-" if delta < d / 2 else "+"
    return m2, branch, abs(float(delta) - d / 2)
