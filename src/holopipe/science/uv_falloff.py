r"""Operator dimensions Delta_+- read off the UV falloff of integrated scalar solutions.

The static radial equation of a bulk scalar of mass ``m2`` in a :class:`ConformalGeometry`
(t = ln z, ``y = (psi, z psi')``) is the linear system ``y_t = G(t) y`` with

    G = [[0, 1], [m2 e^{2B} / f, d - (d-1) B_t - f_t / f]],   B = A + ln z.

At the boundary G tends to a constant matrix whose eigenvalues are Delta_- and Delta_+
(``Delta (Delta - d) = m2 e^{2 B0} / f0``); the corrections are powers of z (z^2 from the warp,
z^d from f).

Numerical analysis (why it looks the way it does)
------------------------------------------------
The ODE is integrated across a few short consecutive windows ``[z_k, z_k e^w]`` near the
boundary (4th-order Magnus, exact for constant coefficients, closed-form 2x2 exponentials,
every step evaluated at once; steps doubled from 8 until the result changes by at most 1e-10).
Each window's transfer matrix T has two invariants that are *analytic* in the mass and in z:

- ``s = ln det T / w`` (Liouville: the window average of tr G), which tends to
  ``Delta_+ + Delta_- = d``;
- ``q = arccosh(c)^2 / w^2`` with ``c = tr T / (2 sqrt(det T))``, which tends to ``nu^2`` (for
  constant G, ``c = cosh(nu w)``; ``c < 1`` continues it to ``q = -arccos(c)^2 / w^2``).

Both approach their limits as a power series in the window position, ``z_k^2``, ``z_k^4``,
``z_k^d``, ..., with coefficients that stay finite at the BF bound. A Richardson extrapolation
across the windows removes the leading powers; then ``nu = sqrt(q)`` and
``Delta_+- = s/2 +- nu``. Extrapolating the eigenvalues themselves instead (the exponents
``d/2 +- sqrt(q)``) would not work near the bound: ``sqrt(nu^2 + c z^2)`` has corrections of
order ``(c z^2)^2 / nu^3``, so the error grew as nu^-3 (1.5e-4 at nu = 0.05 from data starting
at z = 0.005), and where ``nu^2 + c z^2 < 0`` the local exponents turn complex although the mass
is above the bound. Near nu = 0 the square root amplifies an error dq of q to ``dq / (2 nu)``
(``sqrt(dq)`` at the bound): the error estimate says so, and the caller decides.

Examples
--------
>>> import numpy as np
>>> from holopipe.science.sturm_liouville import ConformalGeometry
>>> z = np.geomspace(5e-3, 1.0, 400)
>>> geo = ConformalGeometry.from_arrays(z, -np.log(z) - 0.3 * z**2, 1 - z**4, d=4)
>>> both = deltas_from_uv_falloff(geo, -4.0 + 0.05**2)  # nu = 0.05, next to the BF bound
>>> abs(both.minus.delta - 1.95) < 1e-5, both.minus.delta_error < 1e-5
(True, True)
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal, NamedTuple

import numpy as np

from holopipe.science.sturm_liouville import ConformalGeometry, bf_bound, nu

__all__ = [
    "UVFalloff",
    "UVFalloffBranches",
    "UnphysicalDimensionError",
    "delta_from_uv_falloff",
    "deltas_from_uv_falloff",
]

_FALLOFF_LOG_WIDTH = 0.5  # width in ln z of a falloff window, divided by max(1, nu)
_MAGNUS_MIN_STEPS = 8  # Magnus steps per falloff window of the first pass (then doubled) ...
_MAGNUS_MAX_STEPS = 1024  # ... up to this many,
_MAGNUS_TOL = 1e-10  # until the window invariants change by at most this
_LARGEST_REMOVED_POWER = 4  # powers z^p removed by the extrapolation: 2, 4 and d when d <= 4


class UnphysicalDimensionError(ValueError):
    """A measured exponent that must not be used as an operator dimension (e.g. negative)."""


@dataclass(frozen=True)
class UVFalloff:
    """UV exponent measured from integrated solutions, with its branch and admissibility.

    Attributes
    ----------
    delta : float
        Measured exponent (``psi ~ z^delta``) of the requested branch.
    delta_error : float
        Estimated error: size of the last Richardson correction and of the last step doubling,
        propagated through ``nu = sqrt(q)`` (so it grows as the BF bound is approached).
    branch : str
        ``plus`` (Delta_+, normalisable, standard quantisation) or ``minus`` (Delta_-).
    m2, d : float, int
        Input mass and dimension.
    z_window : tuple of float
        Range of z the exponent was read from.
    physical : bool
        False when ``delta`` cannot be an operator dimension: negative, or Delta_- at or below the
        scalar unitarity bound ``(d - 2)/2`` (i.e. nu >= 1, outside alternative quantisation).
    issue : str or None
        Why it is not physical.
    accuracy_issue : str or None
        Why the measurement is not trustworthy although the mass is fine (e.g. the data do not
        resolve nu^2 next to the BF bound); ``delta_error`` is then large.
    """

    delta: float
    delta_error: float
    branch: str
    m2: float
    d: int
    z_window: tuple[float, float]
    physical: bool
    issue: str | None
    accuracy_issue: str | None = None

    @property
    def operator_dimension(self) -> float:
        """``delta`` if it is a physical operator dimension; raises UnphysicalDimensionError."""
        if not self.physical:
            raise UnphysicalDimensionError(
                f"Delta = {self.delta:.6g} ({self.branch}): {self.issue}"
            )
        return self.delta


class UVFalloffBranches(NamedTuple):
    """Both UV exponents of one (geometry, m2), from one integration."""

    plus: UVFalloff
    minus: UVFalloff


def _radial_generators(geometry: ConformalGeometry, m2: float, t: np.ndarray) -> np.ndarray:
    """Matrices ``G(t)`` (shape ``t.shape + (2, 2)``) of the static radial ODE ``y_t = G y``.

    For ``y = (u, v) = (psi, z psi')`` and t = ln z:
    ``u_t = v``,  ``v_t = (m2 e^{2B} / f) u + (d - (d-1) B_t - f_t / f) v``.
    """
    z = np.exp(t)
    b, f = geometry.warp_offset(z), geometry.blackening(z)
    b_t, f_t = geometry.warp_offset_log_derivative(z), geometry.blackening_log_derivative(z)
    generators = np.zeros(t.shape + (2, 2))
    generators[..., 0, 1] = 1.0
    generators[..., 1, 0] = m2 * np.exp(2 * b) / f
    generators[..., 1, 1] = geometry.d - (geometry.d - 1) * b_t - f_t / f
    return generators


def _expm_2x2(matrices: np.ndarray) -> np.ndarray:
    """Exponentials of a stack of real 2x2 matrices, in closed form.

    ``M = tau I + K`` with K traceless, so ``K^2 = kappa I`` (``kappa = -det K``) and
    ``exp(M) = e^tau (cosh(sqrt kappa) I + sinh(sqrt kappa) / sqrt(kappa) K)`` (cos / sin for
    kappa < 0).
    """
    identity = np.eye(2)
    tau = 0.5 * (matrices[..., 0, 0] + matrices[..., 1, 1])
    traceless = matrices - tau[..., None, None] * identity
    kappa = traceless[..., 0, 0] ** 2 + traceless[..., 0, 1] * traceless[..., 1, 0]
    root = np.sqrt(np.abs(kappa))
    hyperbolic = kappa >= 0
    even = np.where(hyperbolic, np.cosh(root), np.cos(root))
    odd_numerator = np.where(hyperbolic, np.sinh(root), np.sin(root))
    odd = np.where(root > 0, odd_numerator / np.where(root > 0, root, 1.0), 1.0)
    return np.exp(tau)[..., None, None] * (
        even[..., None, None] * identity + odd[..., None, None] * traceless
    )


def _ordered_product(steps: np.ndarray) -> np.ndarray:
    """``steps[..., n-1, :, :] @ ... @ steps[..., 0, :, :]`` (n a power of 2), pairwise."""
    while steps.shape[-3] > 1:
        steps = steps[..., 1::2, :, :] @ steps[..., 0::2, :, :]
    return steps[..., 0, :, :]


def _window_transfers(
    geometry: ConformalGeometry, m2: float, t_starts: np.ndarray, log_width: float, n_steps: int
) -> np.ndarray:
    """Transfer matrices of ``(psi, z psi')`` across ``[t, t + log_width]`` for each start t.

    Fourth-order Magnus integrator with ``n_steps`` equal steps h (two Gauss-Legendre nodes
    each): ``Omega = h (G1 + G2) / 2 + sqrt(3) h^2 [G2, G1] / 12``, step ``exp(Omega)``. It is
    exact for constant G, and near the boundary G is constant up to O(z^2); all the geometry
    is evaluated in one vectorised call.
    """
    h = log_width / n_steps
    midpoints = t_starts[:, None] + h * (np.arange(n_steps) + 0.5)
    node_offset = h / (2.0 * np.sqrt(3.0))
    early, late = _radial_generators(
        geometry, m2, np.stack([midpoints - node_offset, midpoints + node_offset])
    )
    commutator = late @ early - early @ late
    magnus = 0.5 * h * (early + late) + (np.sqrt(3.0) / 12.0) * h**2 * commutator
    return _ordered_product(_expm_2x2(magnus))


def _window_invariants(transfers: np.ndarray, log_width: float) -> np.ndarray:
    """``(s, q)`` per window (shape ``(n_windows, 2)``): the exponent sum and nu^2 (docstring).

    Raises ValueError when a window's solutions oscillate by more than half a period
    (``c < -1``): no falloff exponent exists there.
    """
    det = np.linalg.det(transfers)
    if np.any(det <= 0):
        raise ValueError("m2: the falloff integration lost its orientation (det T <= 0)")
    c = np.trace(transfers, axis1=-2, axis2=-1) / (2.0 * np.sqrt(det))
    if np.any(c < -1.0):
        raise ValueError(
            "m2: the solutions oscillate by more than half a period across one falloff window: "
            "no real UV exponents there"
        )
    angle_sq = np.where(
        c >= 1.0, np.arccosh(np.maximum(c, 1.0)) ** 2, -(np.arccos(np.clip(c, -1.0, 1.0)) ** 2)
    )
    return np.stack([np.log(det) / log_width, angle_sq / log_width**2], axis=-1)


def _converged_invariants(
    geometry: ConformalGeometry, m2: float, t_starts: np.ndarray, log_width: float
) -> tuple[np.ndarray, float]:
    """Window invariants with the Magnus steps doubled until they change by at most
    ``_MAGNUS_TOL``, and the last change (it bounds the error: the method is 4th order)."""
    n_steps = _MAGNUS_MIN_STEPS
    coarse = _window_invariants(
        _window_transfers(geometry, m2, t_starts, log_width, n_steps), log_width
    )
    while True:
        n_steps *= 2
        fine = _window_invariants(
            _window_transfers(geometry, m2, t_starts, log_width, n_steps), log_width
        )
        change = float(np.max(np.abs(fine - coarse)))
        if change <= _MAGNUS_TOL or n_steps >= _MAGNUS_MAX_STEPS:
            return fine, change
        coarse = fine


def _removed_powers(d: int) -> tuple[int, ...]:
    """Powers of z the extrapolation removes: the warp's z^2, z^4 and f's z^d."""
    return tuple(sorted({2, 4} | ({d} if d <= _LARGEST_REMOVED_POWER else set())))


def _extrapolate(values: np.ndarray, gain: float, powers: tuple[int, ...]) -> np.ndarray:
    """Limit z -> 0 of window values ``v_k = v + sum_p c_p gain^(k p)`` (rows k), exact for
    those powers: solve the small Vandermonde-like system for v (per column)."""
    k = np.arange(len(powers) + 1)[:, None]
    design = np.hstack([np.ones((k.size, 1)), gain ** (k * np.array(powers, dtype=float))])
    return np.linalg.solve(design, values[: k.size])[0]


def _nu_with_error(q: float, q_error: float) -> tuple[float, float]:
    """``sqrt(q)`` and the error that ``q_error`` makes in it (``q < 0`` within error: 0)."""
    root = np.sqrt(max(q, 0.0))
    low = np.sqrt(max(q - q_error, 0.0))
    high = np.sqrt(max(q, 0.0) + q_error)
    return float(root), float(max(root - low, high - root))


def deltas_from_uv_falloff(
    geometry: ConformalGeometry, m2: float, *, z_probe: float | None = None
) -> UVFalloffBranches:
    """Measure both UV exponents, Delta_+ and Delta_-, from the falloff of integrated solutions.

    Consecutive windows of width ``w = 1 / (2 max(1, nu))`` in ln z from ``z_probe`` on (one
    per removed power of z, plus one) are integrated; the invariants ``s`` and ``q`` of each
    window's transfer matrix (module docstring) are extrapolated to z = 0, which removes the
    z^2, z^4 and z^d (d <= 4) corrections, and ``Delta_+- = s/2 +- sqrt(q)``. From data
    starting at z = 0.005 the error is below 1e-7 for nu >= 0.01 on the ads and deformed
    families of PHYSICS.md (d = 2, 3, 4, thermal or not); at the BF bound itself the square
    root limits it to ~1e-5 (``delta_error`` says by how much). Independent of any eigenvalue
    (M2 enters at O(z^2)) and of the geometry below ``z_probe``.

    Parameters
    ----------
    geometry : ConformalGeometry
    m2 : float
        Bulk mass squared (BF bound enforced, ValueError naming ``m2``).
    z_probe : float, optional
        Smallest z probed; default the first data point (arrays) or 1e-4 (callables).

    Returns
    -------
    UVFalloffBranches
        ``plus`` (larger, normalisable exponent) and ``minus``. Negative or sub-unitarity
        exponents come back flagged ``physical=False``; use ``operator_dimension`` to read a
        value that is safe to store as data. A measured nu^2 that is negative beyond its error
        although the mass is above the bound comes back with nu = 0, a large ``delta_error``
        and ``accuracy_issue`` saying so (never "below the BF bound").

    Examples
    --------
    >>> import numpy as np
    >>> geo = ConformalGeometry.from_callables(lambda z: -np.log(z) + 0.2 * z**2,
    ...                                        lambda z: 1 + 0 * z, d=3)
    >>> both = deltas_from_uv_falloff(geo, -2.0)
    >>> round(both.plus.delta, 8), round(both.minus.delta, 8), both.minus.physical
    (2.0, 1.0, True)
    """
    d = geometry.d
    m2 = float(m2)
    nu_input = nu(d, m2)  # BF bound of the input mass
    z_probe = geometry.uv_probe if z_probe is None else float(z_probe)
    powers = _removed_powers(d)
    log_width = _FALLOFF_LOG_WIDTH / max(1.0, nu_input)
    z_end = z_probe * np.exp((len(powers) + 1) * log_width)
    if not (z_probe > 0 and z_end <= geometry.z_max):
        raise ValueError(f"z_probe: windows [{z_probe}, {z_end:.3g}] must lie in (0, z_max]")
    t_starts = np.log(z_probe) + log_width * np.arange(len(powers) + 1)
    invariants, integration_change = _converged_invariants(geometry, m2, t_starts, log_width)
    gain = np.exp(log_width)  # window k sits at z_probe gain^k
    s, q = _extrapolate(invariants, gain, powers)
    # The size of the last correction: the same extrapolation without the highest power.
    s_less, q_less = _extrapolate(invariants, gain, powers[:-1])
    s_error = abs(s - s_less) + integration_change
    q_error = abs(q - q_less) + integration_change
    order, nu_error = _nu_with_error(q, q_error)
    accuracy_issue = _unresolved_bound(geometry, m2, q, q_error, z_probe)
    if accuracy_issue is not None:
        nu_error = max(nu_error, float(np.sqrt(abs(q) + q_error)))
    window = (z_probe, float(z_end))
    minus, plus = (
        _falloff(s / 2 + sign * order, s_error / 2 + nu_error, branch, m2, d, window)
        for sign, branch in ((-1.0, "minus"), (1.0, "plus"))
    )
    if accuracy_issue is None:
        return UVFalloffBranches(plus=plus, minus=minus)
    return UVFalloffBranches(
        plus=replace(plus, accuracy_issue=accuracy_issue),
        minus=replace(minus, accuracy_issue=accuracy_issue),
    )


def _unresolved_bound(
    geometry: ConformalGeometry, m2: float, q: float, q_error: float, z_probe: float
) -> str | None:
    """Why a measured nu^2 < 0 (beyond its error) is not trusted; ValueError when the
    geometry's own UV mass ``m2 e^{2 B0} / f0`` is below the BF bound (then it truly is)."""
    if q + q_error >= 0:
        return None
    uv_mass = geometry.uv_mass(m2)
    if uv_mass < bf_bound(geometry.d):
        raise ValueError(
            f"m2: the UV mass m2 e^(2 B0) / f0 = {uv_mass:.6g} of this geometry (m2 = {m2:.6g}) "
            f"is below the BF bound {bf_bound(geometry.d)}: complex UV exponents"
        )
    return (
        f"measured nu^2 = {q:.3g} +- {q_error:.1g} < 0 although m2 = {m2!r} is above the BF "
        f"bound (UV mass {uv_mass!r}): the falloff from z = {z_probe:.3g} does not resolve nu "
        "this close to the bound"
    )


def _falloff(
    delta: float, error: float, branch: str, m2: float, d: int, window: tuple[float, float]
) -> UVFalloff:
    """A measured exponent with its admissibility as an operator dimension."""
    issue = None
    if delta < 0:
        issue = "negative Delta: a source exponent, not an operator dimension"
    elif branch == "minus" and delta <= (d - 2) / 2.0:
        issue = (
            "Delta_- at or below the unitarity bound (d-2)/2: alternative quantisation needs nu < 1"
        )
    return UVFalloff(
        delta=float(delta),
        delta_error=float(error),
        branch=branch,
        m2=m2,
        d=d,
        z_window=window,
        physical=issue is None,
        issue=issue,
    )


def delta_from_uv_falloff(
    geometry: ConformalGeometry,
    m2: float,
    *,
    branch: Literal["plus", "minus"] = "plus",
    z_probe: float | None = None,
) -> UVFalloff:
    """One branch of :func:`deltas_from_uv_falloff` (which measures both in one integration:
    call that when both are needed).

    Parameters
    ----------
    geometry, m2, z_probe
        As for :func:`deltas_from_uv_falloff`.
    branch : {"plus", "minus"}
        Larger (normalisable) or smaller exponent.

    Returns
    -------
    UVFalloff

    Examples
    --------
    >>> import numpy as np
    >>> geo = ConformalGeometry.from_callables(lambda z: -np.log(z) + 0.2 * z**2,
    ...                                        lambda z: 1 + 0 * z, d=3)
    >>> out = delta_from_uv_falloff(geo, -2.0, branch="minus")
    >>> round(out.delta, 8), out.physical
    (1.0, True)
    """
    if branch not in ("plus", "minus"):
        raise ValueError(f"branch: expected 'plus' or 'minus', got {branch!r}")
    return getattr(deltas_from_uv_falloff(geometry, m2, z_probe=z_probe), branch)
