"""Geometry contracts of stage 04 (PHYSICS.md, "04 geometry contracts").

Each contract is a pure function of one geometry's arrays (and its own ``d``, never a
global) returning a :class:`ContractResult`. A contract that cannot be evaluated says so
(``evaluated=False``, ``passed=None``); it is never a pass.

| contract | rule |
|---|---|
| regularity | all finite; f(0) = 1 +- 1e-3 (f at the first grid point); f > 0 on (0, z_h) |
| horizon | simple zero f(z_h) = 0 with f'(z_h) < 0 (thermal systems) |
| temperature | boundary T vs \\|f'(z_h)\\| e^{A_t - A_z} / (4 pi), relative 1e-3 |
| uv_asymptotics | dA_x/d ln z = -1 +- 0.02 over the first decade of the grid |
| einstein | \\|R + d(d+1)\\| / (d(d+1)) < 1e-2, and every \\|E^m_m\\| / d < 1e-2 (ads family) |
| null_energy | e^{-2A_z} N <= 1e-6 where f > 0; N = A'' - A'^2 for the conformal ansatz |
| d_consistency | file name, attributes and operator metadata agree with d |

Examples
--------
>>> import numpy as np
>>> from holopipe.science.geometry import FamilyParams, metric_functions, uv_grid
>>> z = uv_grid(1e-3, 1.0, 300)
>>> m = metric_functions(FamilyParams("ads", 3, 1.0), z)
>>> results = evaluate_contracts(z, *m, d=3, family="ads", T=3 / (4 * np.pi), z_h=1.0, name_d=3)
>>> [(r.name, r.passed) for r in results if r.evaluated and not r.passed]
[]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from holopipe.science._derivatives import DEFAULT_STENCIL, derivatives, local_derivatives
from holopipe.science.defaults import ContractTolerances
from holopipe.science.geometry import (
    horizon_temperature,
    locate_horizon,
    mixed_ricci,
    null_energy_combination,
)

__all__ = [
    "CONTRACT_NAMES",
    "ContractResult",
    "ContractTolerances",
    "check_d_consistency",
    "check_einstein",
    "check_horizon",
    "check_null_energy",
    "check_regularity",
    "check_temperature",
    "check_uv_asymptotics",
    "evaluate_contracts",
]

CONTRACT_NAMES = (
    "regularity",
    "horizon",
    "temperature",
    "uv_asymptotics",
    "einstein",
    "null_energy",
    "d_consistency",
)


@dataclass(frozen=True)
class ContractResult:
    """Outcome of one contract on one geometry.

    ``passed`` is ``None`` exactly when ``evaluated`` is False; ``value`` is the measured
    quantity compared with ``tolerance`` (``None`` when it could not be measured).

    Examples
    --------
    >>> ContractResult("horizon", False, None, None, 1e-6, "zero temperature").passed is None
    True
    """

    name: str
    evaluated: bool
    passed: bool | None
    value: float | None
    tolerance: float
    message: str

    def __post_init__(self) -> None:
        if self.evaluated and not isinstance(self.passed, bool):
            raise ValueError(f"{self.name}: an evaluated contract needs passed True or False")
        if not self.evaluated and self.passed is not None:
            raise ValueError(f"{self.name}: a contract not evaluated cannot pass or fail")


_DEFAULT_TOLERANCES = ContractTolerances()


def _not_evaluated(name: str, tolerance: float, message: str) -> ContractResult:
    return ContractResult(name, False, None, None, tolerance, message)


def _arrays(z: ArrayLike, *profiles: ArrayLike) -> tuple[np.ndarray, ...]:
    arrays = tuple(np.asarray(a, dtype=float) for a in (z, *profiles))
    if arrays[0].ndim != 1 or any(a.shape != arrays[0].shape for a in arrays):
        raise ValueError(
            f"z and profiles must be 1-D of one length, got {[a.shape for a in arrays]}"
        )
    return arrays


def _grid_problem(arrays: Sequence[np.ndarray], stencil: int) -> str | None:
    """Why derivatives cannot be taken on these arrays, or None."""
    z = arrays[0]
    if z.size < stencil:
        return f"{z.size} grid points, fewer than the {stencil}-point stencil"
    if not all(np.all(np.isfinite(a)) for a in arrays):
        return "non-finite values in the arrays"
    if not (np.all(z > 0) and np.all(np.diff(z) > 0)):
        return "z is not positive and strictly increasing"
    return None


def _is_thermal(T: float | None, z_h: float | None) -> bool:
    return z_h is not None or (T is not None and T > 0)


def check_regularity(
    z: ArrayLike,
    A_t: ArrayLike,
    A_x: ArrayLike,
    A_z: ArrayLike,
    f: ArrayLike,
    z_h: float | None = None,
    T: float | None = None,
    *,
    tolerance: float = _DEFAULT_TOLERANCES.f_boundary,
) -> ContractResult:
    """All arrays finite, z > 0 strictly increasing, f(0) = 1 within ``tolerance``
    (f at the first grid point), f > 0 on (0, z_h).

    Without a claimed z_h, f > 0 is required on the whole grid at zero temperature; at
    T > 0 it holds up to the first zero of f by definition (the horizon contract checks
    that zero).

    Examples
    --------
    >>> import numpy as np
    >>> z = np.geomspace(1e-3, 1.0, 50)
    >>> check_regularity(z, -np.log(z), -np.log(z), -np.log(z), 1 - z**3, 1.0).passed
    True
    """
    z, A_t, A_x, A_z, f = _arrays(z, A_t, A_x, A_z, f)
    problems = [
        f"{int(np.sum(~np.isfinite(a)))} non-finite values in {label}"
        for label, a in (("z", z), ("A_t", A_t), ("A_x", A_x), ("A_z", A_z), ("f", f))
        if not np.all(np.isfinite(a))
    ]
    if not (np.all(z > 0) and np.all(np.diff(z) > 0)):
        problems.append("z is not positive and strictly increasing")
    value = float(abs(f[0] - 1)) if np.isfinite(f[0]) else None
    if value is None or value > tolerance:
        problems.append(f"f at z = {z[0]:.3g} is {f[0]!r}, not 1 +- {tolerance:g}")
    if z_h is not None:
        interior, where = z < z_h, f"(0, z_h = {z_h:g})"
    else:
        interior, where = np.full(z.shape, not _is_thermal(T, z_h)), "the grid (zero temperature)"
    non_positive = interior & ~(f > 0)
    if np.any(non_positive):
        first = int(np.flatnonzero(non_positive)[0])
        problems.append(
            f"f <= 0 at {int(non_positive.sum())} points of {where}, first at z = {z[first]:.6g}"
        )
    if problems:
        return ContractResult("regularity", True, False, value, tolerance, "; ".join(problems))
    return ContractResult(
        "regularity", True, True, value, tolerance, f"finite, f(z={z[0]:.3g}) - 1 = {f[0] - 1:.2e}"
    )


def check_horizon(
    z: ArrayLike,
    f: ArrayLike,
    z_h: float | None = None,
    T: float | None = None,
    *,
    tolerance: float = _DEFAULT_TOLERANCES.horizon,
    stencil: int = DEFAULT_STENCIL,
) -> ContractResult:
    """Simple zero of f at the horizon: |f(z_h)| <= tol and z_h f'(z_h) < -tol.

    Thermal means a claimed ``z_h`` or a boundary ``T > 0``; with ``z_h=None`` the first
    zero of f is located. Zero temperature: not evaluated. ``value`` is |f(z_h)|.

    Examples
    --------
    >>> import numpy as np
    >>> z = np.geomspace(1e-3, 1.0, 100)
    >>> check_horizon(z, 1 - z**4, z_h=1.0).passed
    True
    >>> check_horizon(z, np.ones_like(z)).evaluated
    False
    """
    z, f = _arrays(z, f)
    name = "horizon"
    if not _is_thermal(T, z_h):
        return _not_evaluated(name, tolerance, "zero temperature: no horizon to check")
    problem = _grid_problem((z, f), stencil)
    if problem:
        return _not_evaluated(name, tolerance, problem)
    if z_h is None:
        z_h = locate_horizon(z, f, stencil=stencil)
        if z_h is None:
            message = f"boundary T = {T!r} > 0 but f has no zero on (0, {z[-1]:.6g}]"
            return ContractResult(name, True, False, None, tolerance, message)
        found = "located"
    else:
        found = "claimed"
        reach = z[-1] + (z[-1] - z[-2])
        if not z[0] <= z_h <= reach:
            message = f"claimed z_h = {z_h!r} outside the grid [{z[0]:.6g}, {z[-1]:.6g}]"
            return _not_evaluated(name, tolerance, message)
    f_value, f_slope = local_derivatives(z, f, z_h, max_order=1, stencil=stencil)
    value = float(abs(f_value))
    passed = value <= tolerance and z_h * f_slope < -tolerance
    message = f"{found} z_h = {z_h:.9g}: f(z_h) = {f_value:.2e}, z_h f'(z_h) = {z_h * f_slope:.6g}"
    if not passed:
        message += " (need |f| <= tol and z_h f' < -tol: a simple zero with f decreasing)"
    return ContractResult(name, True, bool(passed), value, tolerance, message)


def check_temperature(
    z: ArrayLike,
    A_t: ArrayLike,
    A_z: ArrayLike,
    f: ArrayLike,
    T: float | None,
    z_h: float | None = None,
    *,
    tolerance: float = _DEFAULT_TOLERANCES.temperature,
    stencil: int = DEFAULT_STENCIL,
) -> ContractResult:
    """Boundary temperature against |f'(z_h)| e^{A_t - A_z} / (4 pi) from the arrays;
    ``value`` is the relative difference.

    Examples
    --------
    >>> import numpy as np
    >>> z = np.geomspace(1e-3, 2.0, 300)
    >>> A = -np.log(z)
    >>> check_temperature(z, A, A, 1 - (z / 2) ** 3, T=3 / (8 * np.pi), z_h=2.0).passed
    True
    """
    z, A_t, A_z, f = _arrays(z, A_t, A_z, f)
    name = "temperature"
    if T is None:
        return _not_evaluated(name, tolerance, "no boundary temperature given")
    if not (math.isfinite(T) and T >= 0):
        return ContractResult(name, True, False, None, tolerance, f"invalid boundary T = {T!r}")
    if T == 0 and z_h is None:
        return _not_evaluated(name, tolerance, "T = 0 and no horizon: nothing to compare")
    problem = _grid_problem((z, A_t, A_z, f), stencil)
    if problem:
        return _not_evaluated(name, tolerance, problem)
    horizon = horizon_temperature(z, A_t, A_z, f, z_h, stencil=stencil)
    if horizon is None:
        return _not_evaluated(name, tolerance, "no horizon on the grid (see the horizon contract)")
    if T == 0:
        message = f"boundary T = 0 but the geometry has T = {horizon.temperature:.9g}"
        return ContractResult(name, True, False, None, tolerance, message)
    value = abs(horizon.temperature - T) / T
    message = (
        f"T(horizon z_h = {horizon.z_h:.9g}) = {horizon.temperature:.9g}, boundary T = {T:.9g}"
    )
    return ContractResult(name, True, bool(value <= tolerance), float(value), tolerance, message)


def check_uv_asymptotics(
    z: ArrayLike,
    A_x: ArrayLike,
    *,
    tolerance: float = _DEFAULT_TOLERANCES.uv_slope,
    stencil: int = DEFAULT_STENCIL,
) -> ContractResult:
    """dA_x/d ln z = -1 within ``tolerance`` on the first decade of the grid, z in
    [z_0, 10 z_0]; ``value`` is the largest |dA_x/d ln z + 1| there.

    Examples
    --------
    >>> import numpy as np
    >>> z = np.geomspace(1e-3, 1.0, 100)
    >>> check_uv_asymptotics(z, -1.1 * np.log(z)).passed
    False
    """
    z, A_x = _arrays(z, A_x)
    name = "uv_asymptotics"
    problem = _grid_problem((z, A_x), stencil)
    if problem:
        return _not_evaluated(name, tolerance, problem)
    slope = derivatives(np.log(z), A_x, max_order=1, stencil=stencil)[1]
    decade = z <= 10 * z[0]
    deviation = np.abs(slope[decade] + 1)
    value = float(deviation.max())
    span = f"z in [{z[0]:.3g}, {z[decade][-1]:.3g}]"
    if z[-1] < 10 * z[0]:
        span += " (the grid spans less than a decade)"
    worst = slope[decade][int(np.argmax(deviation))]
    message = f"dA_x/d ln z on {span}: worst {worst:.6g} (AdS: -1)"
    return ContractResult(name, True, bool(value <= tolerance), value, tolerance, message)


def check_einstein(
    z: ArrayLike,
    A_t: ArrayLike,
    A_x: ArrayLike,
    A_z: ArrayLike,
    f: ArrayLike,
    d: int,
    *,
    tolerance: float = _DEFAULT_TOLERANCES.einstein,
    stencil: int = DEFAULT_STENCIL,
) -> ContractResult:
    """Vacuum Einstein R_mn = -d g_mn on the whole grid.

    ``value`` is max |R + d(d+1)| / (d(d+1)) (PHYSICS.md's rule); passing also needs every
    mixed residual max |E^m_m| / d below ``tolerance``, since a constant R alone does not
    make a geometry Einstein.

    Examples
    --------
    >>> import numpy as np
    >>> z = np.geomspace(1e-3, 1.0, 300)
    >>> A = -np.log(z)
    >>> check_einstein(z, A, A, A, 1 - z**3, 3).passed
    True
    """
    z, A_t, A_x, A_z, f = _arrays(z, A_t, A_x, A_z, f)
    name = "einstein"
    problem = _grid_problem((z, A_t, A_x, A_z, f), stencil)
    if problem:
        return _not_evaluated(name, tolerance, problem)
    ricci = mixed_ricci(z, A_t, A_x, A_z, f, d, stencil=stencil)
    scalar = ricci.trace(d)
    value = float(np.max(np.abs(scalar + d * (d + 1))) / (d * (d + 1)))
    components = float(max(np.max(np.abs(c + d)) for c in ricci) / d)
    passed = value < tolerance and components < tolerance
    message = f"max |R + d(d+1)|/(d(d+1)) = {value:.3e}, max |E^m_m|/d = {components:.3e} (d = {d})"
    return ContractResult(name, True, bool(passed), value, tolerance, message)


def check_null_energy(
    z: ArrayLike,
    A_t: ArrayLike,
    A_x: ArrayLike,
    A_z: ArrayLike,
    f: ArrayLike,
    *,
    tolerance: float = _DEFAULT_TOLERANCES.null_energy,
    stencil: int = DEFAULT_STENCIL,
) -> ContractResult:
    """Null energy condition (t-z null direction) / c-theorem where f > 0.

    The measured quantity is e^{-2A_z} N with N = A_x'' + A_x'^2 - A_x'(A_t' + A_z')
    (N = A'' - A'^2 for the conformal ansatz, equivalent to a non-increasing c-function
    at f = 1). The factor e^{-2A_z} makes it the frame quantity (R^t_t - R^z_z)/((d-1) f),
    free of the 1/z^2 growth of A'' and A'^2 near the boundary; its sign is that of N.

    Examples
    --------
    >>> import numpy as np
    >>> z = np.geomspace(1e-3, 1.0, 200)
    >>> A = -np.log(z) + 0.3 * z**2
    >>> check_null_energy(z, A, A, A, np.ones_like(z)).passed
    False
    """
    z, A_t, A_x, A_z, f = _arrays(z, A_t, A_x, A_z, f)
    name = "null_energy"
    problem = _grid_problem((z, A_t, A_x, A_z, f), stencil)
    if problem:
        return _not_evaluated(name, tolerance, problem)
    outside = f > 0
    if not np.any(outside):
        return _not_evaluated(name, tolerance, "f > 0 nowhere on the grid")
    frame_value = np.exp(-2 * A_z) * null_energy_combination(z, A_t, A_x, A_z, stencil=stencil)
    worst = int(np.argmax(np.where(outside, frame_value, -np.inf)))
    value = float(frame_value[worst])
    message = f"max e^(-2A_z) N = {value:.3e} at z = {z[worst]:.6g} (need <= {tolerance:g})"
    return ContractResult(name, True, bool(value <= tolerance), value, tolerance, message)


def check_d_consistency(
    d: int,
    name_d: int | None = None,
    attrs_d: int | None = None,
    operator_ds: Sequence[int | None] = (),
) -> ContractResult:
    """The file name token, the attributes and every operator's metadata agree with d.

    ``value`` is the number of disagreeing sources; not evaluated when none is given.

    Examples
    --------
    >>> check_d_consistency(3, name_d=3, attrs_d=4).message
    'disagree with d = 3: attributes (4)'
    """
    sources = {"file name": name_d, "attributes": attrs_d}
    sources.update({f"operator[{i}]": op_d for i, op_d in enumerate(operator_ds)})
    given = {label: v for label, v in sources.items() if v is not None}
    if not given:
        return _not_evaluated("d_consistency", 0.0, "no file name, attribute or operator d given")
    disagree = [f"{label} ({v!r})" for label, v in given.items() if not _same_int(v, d)]
    if disagree:
        message = f"disagree with d = {d}: " + ", ".join(disagree)
        return ContractResult("d_consistency", True, False, float(len(disagree)), 0.0, message)
    message = f"d = {d} in " + ", ".join(given)
    return ContractResult("d_consistency", True, True, 0.0, 0.0, message)


def _same_int(value: object, d: int) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | np.integer) and value == d


def evaluate_contracts(
    z: ArrayLike,
    A_t: ArrayLike,
    A_x: ArrayLike,
    A_z: ArrayLike,
    f: ArrayLike,
    d: int,
    family: str,
    T: float | None = None,
    z_h: float | None = None,
    name_d: int | None = None,
    attrs_d: int | None = None,
    operator_ds: Sequence[int | None] = (),
    *,
    tolerances: ContractTolerances = _DEFAULT_TOLERANCES,
    stencil: int = DEFAULT_STENCIL,
) -> list[ContractResult]:
    """Every contract of :data:`CONTRACT_NAMES`, in that order, for one geometry.

    Parameters
    ----------
    z, A_t, A_x, A_z, f : array_like
        The geometry (for the conformal ansatz pass A three times).
    d : int
        This geometry's boundary dimension.
    family : str
        Family label; the vacuum Einstein contract applies to ``"ads"`` only (other
        families carry matter, so it is reported as not evaluated for them).
    T : float, optional
        Temperature of the boundary data.
    z_h : float, optional
        Claimed horizon (``None``: none claimed).
    name_d, attrs_d, operator_ds : optional
        d as read from the file name token, the attributes and each operator's metadata.

    Examples
    --------
    >>> import numpy as np
    >>> z = np.geomspace(1e-3, 1.0, 100)
    >>> A = -np.log(z)
    >>> results = evaluate_contracts(z, A, A, A, np.ones_like(z), d=4, family="lifshitz")
    >>> [r.name for r in results if not r.evaluated]
    ['horizon', 'temperature', 'einstein', 'd_consistency']
    """
    if isinstance(d, bool) or not isinstance(d, int | np.integer) or d < 2:
        raise ValueError(f"d must be an integer >= 2, got {d!r}")
    d = int(d)
    tol = tolerances
    if family == "ads":
        einstein = check_einstein(z, A_t, A_x, A_z, f, d, tolerance=tol.einstein, stencil=stencil)
    else:
        einstein = _not_evaluated(
            "einstein", tol.einstein, f"vacuum Einstein applies to the ads family, not {family!r}"
        )
    return [
        check_regularity(z, A_t, A_x, A_z, f, z_h, T, tolerance=tol.f_boundary),
        check_horizon(z, f, z_h, T, tolerance=tol.horizon, stencil=stencil),
        check_temperature(z, A_t, A_z, f, T, z_h, tolerance=tol.temperature, stencil=stencil),
        check_uv_asymptotics(z, A_x, tolerance=tol.uv_slope, stencil=stencil),
        einstein,
        check_null_energy(z, A_t, A_x, A_z, f, tolerance=tol.null_energy, stencil=stencil),
        check_d_consistency(d, name_d, attrs_d, operator_ds),
    ]
