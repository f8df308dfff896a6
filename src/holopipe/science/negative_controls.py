"""Negative controls of stage 04c (PHYSICS.md, "04c negative controls").

Two kinds of controls, each of which the checks must reject:

* non-conformal boundary data: the massive free-field propagator in d dimensions,
  ``G(r) = (2 pi)^{-d/2} (m/r)^{(d-2)/2} K_{(d-2)/2}(m r)``, whose effective dimension
  ``Delta_eff(r) = -1/2 d ln G / d ln r`` runs with r (for d = 3 exactly (1 + m r)/2);
  at m = 0 it is the conformal ``r^{-(d-2)}``, flat at (d-2)/2, which must be accepted;
* deliberately broken geometries (negative f inside the horizon, wrong UV slope, NaN,
  noise, f clipped to zero past the horizon, wrong temperature) fed through the
  stage 04 contracts.

The false-positive rate is the fraction of evaluated controls that pass; the coverage is
the fraction of controls that could be evaluated. Coverage below 0.7, or nothing
evaluated, is INCOMPLETE and never a pass.

Examples
--------
>>> import numpy as np
>>> r = np.geomspace(0.05, 5.0, 200)
>>> conformality_test(r, massive_propagator(r, m=1.0, d=3)).conformal
False
>>> conformality_test(r, massive_propagator(r, m=0.0, d=3)).conformal
True
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import ArrayLike

from holopipe.science._derivatives import DEFAULT_STENCIL, derivatives
from holopipe.science.contracts import ContractResult
from holopipe.science.defaults import BROKEN_KINDS
from holopipe.science.geometry import FamilyParams, metric_functions, temperature, uv_grid

__all__ = [
    "BROKEN_KINDS",
    "BrokenGeometry",
    "ConformalityResult",
    "ControlOutcome",
    "ControlStatistics",
    "broken_geometries",
    "broken_geometry",
    "conformality_test",
    "control_outcome",
    "control_statistics",
    "effective_dimension",
    "massive_propagator",
]


def _positive_grid(r: ArrayLike, label: str) -> np.ndarray:
    grid = np.asarray(r, dtype=float)
    if grid.ndim != 1 or not (np.all(np.isfinite(grid)) and np.all(grid > 0)):
        raise ValueError(f"{label} must be a 1-D array of finite positive values")
    return grid


def massive_propagator(r: ArrayLike, m: float, d: int) -> np.ndarray:
    """Euclidean free-field propagator of mass m in d dimensions.

    ``G(r) = (2 pi)^{-d/2} (m/r)^nu K_nu(m r)``, nu = (d-2)/2; at m = 0 the conformal
    ``Gamma(nu) / (4 pi^{d/2} r^{d-2})`` (d >= 3; in d = 2 the massless propagator is a
    logarithm, not a power, and is refused). Evaluated through logarithms with the
    exponentially scaled Bessel function, so large m r does not underflow before
    exp(-m r) itself does.

    Examples
    --------
    >>> import numpy as np
    >>> r = np.array([0.5, 2.0])
    >>> bool(np.allclose(massive_propagator(r, 1.0, 3), np.exp(-r) / (4 * np.pi * r)))
    True
    """
    from scipy.special import gammaln, kve

    grid = _positive_grid(r, "r")
    if isinstance(d, bool) or not isinstance(d, numbers.Integral) or d < 2:
        raise ValueError(f"d must be an integer >= 2, got {d!r}")
    if not (math.isfinite(m) and m >= 0):
        raise ValueError(f"m must be finite and >= 0, got {m!r}")
    nu = (d - 2) / 2
    if m == 0:
        if d == 2:
            raise ValueError("d = 2, m = 0: the massless propagator is logarithmic, not a power")
        log_g = gammaln(nu) - math.log(4) - (d / 2) * math.log(math.pi) - (d - 2) * np.log(grid)
    else:
        x = m * grid
        log_g = -(d / 2) * math.log(2 * math.pi) + nu * np.log(m / grid) + np.log(kve(nu, x)) - x
    return np.exp(log_g)


def effective_dimension(
    r: ArrayLike, G: ArrayLike, *, stencil: int = DEFAULT_STENCIL
) -> np.ndarray:
    """Delta_eff(r) = -1/2 d ln G / d ln r, differentiated in ln r.

    Examples
    --------
    >>> import numpy as np
    >>> r = np.geomspace(0.1, 10.0, 50)
    >>> bool(np.allclose(effective_dimension(r, r**-3.0), 1.5))
    True
    """
    grid = _positive_grid(r, "r")
    values = _positive_grid(G, "G")
    if values.shape != grid.shape:
        raise ValueError(f"G has shape {values.shape}, r has {grid.shape}")
    return -0.5 * derivatives(np.log(grid), np.log(values), max_order=1, stencil=stencil)[1]


@dataclass(frozen=True)
class ConformalityResult:
    """Whether a two-point function is a pure power law over the probed range.

    ``conformal`` is ``None`` when the test could not be evaluated; ``delta`` is the
    median effective dimension, ``spread`` the largest deviation from it.
    """

    evaluated: bool
    conformal: bool | None
    delta: float | None
    spread: float | None
    tolerance: float
    message: str


def conformality_test(
    r: ArrayLike, G: ArrayLike, *, tolerance: float = 1e-3, stencil: int = DEFAULT_STENCIL
) -> ConformalityResult:
    """Accept G(r) as conformal when Delta_eff(r) is constant within ``tolerance``
    (absolute, in units of the dimension) over the probed r.

    Not evaluated when r or G are unusable (non-finite, G <= 0, r not increasing, fewer
    points than the stencil).

    Examples
    --------
    >>> import numpy as np
    >>> r = np.geomspace(0.1, 10.0, 50)
    >>> res = conformality_test(r, 2.0 * r**-1.0)
    >>> res.conformal, round(res.delta, 9)
    (True, 0.5)
    """
    grid = np.asarray(r, dtype=float)
    values = np.asarray(G, dtype=float)
    usable = (
        grid.ndim == 1
        and values.shape == grid.shape
        and grid.size >= stencil
        and bool(np.all(np.isfinite(grid)) and np.all(np.isfinite(values)))
        and bool(np.all(grid > 0) and np.all(np.diff(grid) > 0) and np.all(values > 0))
    )
    if not usable:
        message = "need finite r > 0 strictly increasing, G > 0, at least one stencil of points"
        return ConformalityResult(False, None, None, None, tolerance, message)
    delta_eff = effective_dimension(grid, values, stencil=stencil)
    delta = float(np.median(delta_eff))
    spread = float(np.max(np.abs(delta_eff - delta)))
    conformal = spread <= tolerance
    message = (
        f"Delta_eff = {delta:.6g} +- {spread:.3g} over r in [{grid[0]:.3g}, {grid[-1]:.3g}]"
        f" ({'constant' if conformal else 'runs'} at tolerance {tolerance:g})"
    )
    return ConformalityResult(True, conformal, delta, spread, tolerance, message)


@dataclass(frozen=True, eq=False)
class BrokenGeometry:
    """A geometry broken on purpose, with the metadata it claims.

    ``expected_failures`` names the contracts that must catch the defect.
    """

    kind: str
    description: str
    z: np.ndarray
    A_t: np.ndarray
    A_x: np.ndarray
    A_z: np.ndarray
    f: np.ndarray
    d: int
    family: str
    T: float
    z_h: float
    expected_failures: tuple[str, ...]


def broken_geometry(
    kind: str,
    rng: np.random.Generator,
    d: int = 3,
    z_h: float = 1.0,
    n: int = 300,
    noise_level: float = 1e-3,
) -> BrokenGeometry:
    """An AdS-Schwarzschild geometry (claiming family ``ads``) with one defect.

    Parameters
    ----------
    kind : str
        One of :data:`BROKEN_KINDS`.
    rng : numpy.random.Generator
        Source of every random choice (defect location, size, slope).
    d, z_h, n : int, float, int
        Dimension, horizon and grid size of the underlying geometry.
    noise_level : float
        Standard deviation of the noise added to A for ``kind="noise"``.

    Examples
    --------
    >>> import numpy as np
    >>> g = broken_geometry("nan", np.random.default_rng(0))
    >>> bool(np.isnan(np.stack([g.A_t, g.A_x, g.A_z, g.f])).sum() == 1)
    True
    """
    defect = _DEFECTS.get(kind)
    if defect is None:
        raise ValueError(f"kind must be one of {BROKEN_KINDS}, got {kind!r}")
    params = FamilyParams("ads", d, z_h)
    z = uv_grid(1e-3 * z_h, defect.z_max_factor * z_h, n)
    exact = _Profiles(*(np.array(a) for a in metric_functions(params, z)), T=temperature(params))
    broken, description = defect.apply(exact, _DefectSite(z, z_h, n, noise_level, rng))
    return BrokenGeometry(
        kind, description, z, *broken.metric, d, "ads", broken.T, z_h, defect.expected_failures
    )


@dataclass(frozen=True)
class _Profiles:
    """The metric functions of a geometry and the temperature it claims."""

    A_t: np.ndarray
    A_x: np.ndarray
    A_z: np.ndarray
    f: np.ndarray
    T: float

    @property
    def metric(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        return self.A_t, self.A_x, self.A_z, self.f


@dataclass(frozen=True)
class _DefectSite:
    """Where a defect is applied: the grid, the horizon, and the source of random choices."""

    z: np.ndarray
    z_h: float
    n: int
    noise_level: float
    rng: np.random.Generator


def _negative_f(g: _Profiles, at: _DefectSite) -> tuple[_Profiles, str]:
    centre = at.rng.uniform(0.3, 0.7) * at.z_h
    depth = np.interp(centre, at.z, g.f) + at.rng.uniform(0.05, 0.5)
    f = g.f - depth * np.exp(-(((at.z - centre) / (0.05 * at.z_h)) ** 2))
    return replace(g, f=f), f"f pushed below zero around z = {centre:.4g} inside the horizon"


def _wrong_uv_slope(g: _Profiles, at: _DefectSite) -> tuple[_Profiles, str]:
    alpha = at.rng.choice([at.rng.uniform(0.5, 0.9), at.rng.uniform(1.1, 1.5)])
    A = -alpha * np.log(at.z)
    return replace(g, A_t=A, A_x=A, A_z=A), f"A = -{alpha:.4g} ln z instead of -ln z"


def _one_nan(g: _Profiles, at: _DefectSite) -> tuple[_Profiles, str]:
    profiles = list(g.metric)
    profiles[int(at.rng.integers(4))][int(at.rng.integers(at.n))] = np.nan
    A_t, A_x, A_z, f = profiles
    return replace(g, A_t=A_t, A_x=A_x, A_z=A_z, f=f), "one NaN in the metric functions"


def _noise(g: _Profiles, at: _DefectSite) -> tuple[_Profiles, str]:
    A_t = g.A_t + at.noise_level * at.rng.standard_normal(at.n)
    noisy = replace(g, A_t=A_t, A_x=A_t.copy(), A_z=A_t.copy())
    return noisy, f"Gaussian noise of standard deviation {at.noise_level:g} added to A"


def _clipped_f(g: _Profiles, at: _DefectSite) -> tuple[_Profiles, str]:
    return replace(g, f=np.maximum(g.f, 0.0)), "f clipped to 0 past the horizon (the legacy bug)"


def _wrong_temperature(g: _Profiles, at: _DefectSite) -> tuple[_Profiles, str]:
    factor = at.rng.choice([at.rng.uniform(0.5, 0.95), at.rng.uniform(1.05, 1.5)])
    description = f"boundary T claimed {factor:.4g} times the horizon temperature"
    return replace(g, T=g.T * factor), description


@dataclass(frozen=True)
class _Defect:
    """One kind of broken geometry: how to break an exact one, and what 04 must then fail."""

    apply: Callable[[_Profiles, _DefectSite], tuple[_Profiles, str]]
    expected_failures: tuple[str, ...]
    z_max_factor: float = 1.0  # the grid ends at z_max_factor * z_h


#: The defect of each kind, in the order of BROKEN_KINDS (science.defaults, which lists them
#: for stage 04c's parameters without importing this module).
_DEFECTS: dict[str, _Defect] = {
    "negative_f": _Defect(_negative_f, ("regularity",)),
    "wrong_uv_slope": _Defect(_wrong_uv_slope, ("uv_asymptotics", "einstein")),
    "nan": _Defect(_one_nan, ("regularity",)),
    "noise": _Defect(_noise, ("einstein",)),
    "clipped_f": _Defect(_clipped_f, ("einstein",), z_max_factor=1.5),
    "wrong_temperature": _Defect(_wrong_temperature, ("temperature",)),
}


def broken_geometries(
    rng: np.random.Generator, d: int = 3, z_h: float = 1.0, n: int = 300
) -> list[BrokenGeometry]:
    """One broken geometry of each kind in :data:`BROKEN_KINDS`, in that order.

    Examples
    --------
    >>> import numpy as np
    >>> [g.kind for g in broken_geometries(np.random.default_rng(1))][:2]
    ['negative_f', 'wrong_uv_slope']
    """
    return [broken_geometry(kind, rng, d=d, z_h=z_h, n=n) for kind in BROKEN_KINDS]


@dataclass(frozen=True)
class ControlOutcome:
    """One negative control: could it be evaluated, and did it (wrongly) pass?"""

    name: str
    evaluated: bool
    passed: bool | None

    def __post_init__(self) -> None:
        if self.evaluated != isinstance(self.passed, bool):
            raise ValueError(f"{self.name}: passed must be a bool exactly when evaluated")


def control_outcome(name: str, results: Sequence[ContractResult]) -> ControlOutcome:
    """A control fed through the contracts passes when every evaluated contract passed;
    it is evaluated when at least one contract was.

    Examples
    --------
    >>> ok = ContractResult("regularity", True, True, 0.0, 1e-3, "")
    >>> bad = ContractResult("einstein", True, False, 0.5, 1e-2, "")
    >>> control_outcome("noise", [ok, bad]).passed
    False
    """
    evaluated = [r for r in results if r.evaluated]
    if not evaluated:
        return ControlOutcome(name, False, None)
    return ControlOutcome(name, True, all(r.passed for r in evaluated))


@dataclass(frozen=True)
class ControlStatistics:
    """False-positive rate, coverage and verdict (PASS, FAIL or INCOMPLETE)."""

    n_controls: int
    n_evaluated: int
    n_false_positives: int
    coverage: float
    false_positive_rate: float | None
    verdict: str
    message: str


def control_statistics(
    outcomes: Sequence[ControlOutcome],
    *,
    min_coverage: float = 0.7,
    max_false_positive_rate: float = 0.0,
) -> ControlStatistics:
    """Summarise negative controls.

    INCOMPLETE when there are no controls, none was evaluated, or the coverage is below
    ``min_coverage``; otherwise FAIL when the false-positive rate exceeds
    ``max_false_positive_rate``, else PASS.

    Examples
    --------
    >>> outcomes = [ControlOutcome("a", True, False), ControlOutcome("b", False, None)]
    >>> control_statistics(outcomes).verdict   # coverage 0.5
    'INCOMPLETE'
    """
    n_controls = len(outcomes)
    evaluated = [o for o in outcomes if o.evaluated]
    n_false = sum(1 for o in evaluated if o.passed)
    coverage = len(evaluated) / n_controls if n_controls else 0.0
    rate = n_false / len(evaluated) if evaluated else None
    if not evaluated:
        verdict, why = "INCOMPLETE", "no control could be evaluated"
    elif coverage < min_coverage:
        verdict, why = "INCOMPLETE", f"coverage {coverage:.3g} below {min_coverage:g}"
    elif rate is not None and rate > max_false_positive_rate:
        verdict, why = "FAIL", f"false-positive rate {rate:.3g} above {max_false_positive_rate:g}"
    else:
        verdict, why = "PASS", "every evaluated control was rejected within the allowed rate"
    message = f"{n_controls} controls, {len(evaluated)} evaluated, {n_false} passed wrongly: {why}"
    return ControlStatistics(n_controls, len(evaluated), n_false, coverage, rate, verdict, message)
