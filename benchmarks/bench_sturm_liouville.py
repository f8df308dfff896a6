"""Accuracy and speed of the scalar Sturm-Liouville solver on the hard wall in pure AdS.

Run: ``python benchmarks/bench_sturm_liouville.py``

For each (d, m2) of the spec, pure AdS is given as arrays on a 400-point log grid (as a stage reads
it from a file), with a Dirichlet wall at z_IR = 1. Exact boundary masses are Bessel zeros,
M_n = j_{nu,n}. Printed per pair: the relative error of M_n (n = 1..5) at the default grid, and for
one *system* (one geometry, three masses m2, m2 + 1, m2 + 2, five modes each; geometry spline
included) the smallest grid reaching 1e-6 relative accuracy on every M_n and its wall time.
Then Delta_+ and Delta_- from the UV falloff (one integration per mass gives both), and the UV
limit of data that start at z = 0.005 as stage 02 writes them (B0, imposed Delta, Delta_- modes).
"""

from __future__ import annotations

import statistics
import time

import numpy as np
from scipy.optimize import brentq
from scipy.special import jv

from holopipe.science.sturm_liouville import (
    ConformalGeometry,
    nu,
    solve_scalar_modes_exact,
    solve_scalar_modes_on,
)
from holopipe.science.uv_falloff import (
    deltas_from_uv_falloff,
)

CASES = [(3, -2.0), (3, 0.0), (4, -3.0), (4, 5.0), (2, -0.75)]
N_MODES = 5
TARGET = 1e-6
GRID_LADDER = [80, 96, 112, 128, 144, 160, 192, 224, 256, 320, 384, 512, 768, 1024]
REPEATS = 30
LEGACY_MS_PER_SYSTEM = 2.4


def bessel_zeros(order: float, count: int) -> np.ndarray:
    """First zeros of J_order by sign changes of scipy.special.jv refined with brentq."""
    grid = np.arange(1e-3, 60.0, 0.02)
    values = jv(order, grid)
    brackets = np.flatnonzero(values[:-1] * values[1:] < 0)[:count]
    return np.array(
        [brentq(lambda x: jv(order, x), grid[i], grid[i + 1], xtol=1e-15) for i in brackets]
    )


def system_arrays(d: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    z = np.geomspace(1e-4, 1.0, 400)
    return z, -np.log(z), np.ones_like(z)


def relative_errors(geometry: ConformalGeometry, m2: float, n_grid: int | None) -> np.ndarray:
    spec = solve_scalar_modes_on(geometry, m2, n_modes=N_MODES, z_ir=1.0, n_grid=n_grid)
    exact = bessel_zeros(nu(geometry.d, m2), N_MODES)
    return np.abs(np.sqrt(spec.M2) / exact - 1.0)


def solve_system(d: int, masses: list[float], n_grid: int) -> None:
    geometry = ConformalGeometry.from_arrays(*system_arrays(d), d)
    for m2 in masses:
        solve_scalar_modes_on(geometry, m2, n_modes=N_MODES, z_ir=1.0, n_grid=n_grid)


def median_ms(action, repeats: int = REPEATS) -> float:
    action()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def main() -> None:
    print(__doc__.split("\n\n")[0])
    print(
        f"target: max relative error of M_n <= {TARGET:g}; legacy: {LEGACY_MS_PER_SYSTEM} ms/system"
    )
    print()
    header = (
        f"{'d':>2} {'m2':>6} {'nu':>5} | rel. error of M_1..M_5 at the default grid"
        f"{'':>16} | grid  max err   ms/system  ms/solve"
    )
    print(header)
    print("-" * len(header))
    for d, m2 in CASES:
        geometry = ConformalGeometry.from_arrays(*system_arrays(d), d)
        default = relative_errors(geometry, m2, None)
        masses = [m2, m2 + 1.0, m2 + 2.0]
        for n_grid in GRID_LADDER:
            worst = max(relative_errors(geometry, mass, n_grid).max() for mass in masses)
            if worst <= TARGET:
                break
        ms_system = median_ms(lambda d=d, masses=masses, n=n_grid: solve_system(d, masses, n))
        ms_solve = median_ms(
            lambda g=geometry, m=m2, n=n_grid: solve_scalar_modes_on(
                g, m, n_modes=N_MODES, z_ir=1.0, n_grid=n
            )
        )
        errors = " ".join(f"{e:8.1e}" for e in default)
        print(
            f"{d:>2} {m2:>6.2f} {nu(d, m2):>5.2f} | {errors} | "
            f"{n_grid:>4}  {worst:7.1e}  {ms_system:9.2f}  {ms_solve:8.2f}"
        )

    print()
    print("Delta from the UV falloff (A = -ln z + 0.2 z^2, arrays from z[0]), both branches:")
    for z_start in (1e-3, 5e-3):
        z = np.geomspace(z_start, 1.0, 300)
        for d, m2 in CASES:
            geometry = ConformalGeometry.from_arrays(z, -np.log(z) + 0.2 * z**2, np.ones_like(z), d)
            falloffs = deltas_from_uv_falloff(geometry, m2)
            elapsed = median_ms(lambda g=geometry, m=m2: deltas_from_uv_falloff(g, m))
            exact = d / 2 + nu(d, m2)
            print(
                f"  z[0]={z_start:g} d={d} m2={m2:>5.2f}: "
                f"|Delta_+ err| = {abs(falloffs.plus.delta - exact):.1e}, "
                f"|Delta_- err| = {abs(falloffs.minus.delta - (d - exact)):.1e}, "
                f"Delta_- physical: {falloffs.minus.physical!s:5}  ({elapsed:.2f} ms per mass)"
            )

    print()
    print("UV limit of data starting at z = 0.005 (A = -ln z - 0.18 z^2 + noise 1e-12, d = 2):")
    a, d, m2 = -0.18, 2, -0.75
    z = np.geomspace(5e-3, 1.0, 400)
    noise = 1e-12 * np.random.default_rng(7).standard_normal(z.size)
    geometry = ConformalGeometry.from_arrays(z, -np.log(z) + a * z**2 + noise, np.ones_like(z), d)
    exact = solve_scalar_modes_exact(
        lambda x: -np.log(x) + a * x**2,
        lambda x: np.ones_like(x),
        d,
        m2,
        n_modes=3,
        z_ir=1.0,
        quantization="alternative",
    )
    spec = solve_scalar_modes_on(geometry, m2, n_modes=3, z_ir=1.0, quantization="alternative")
    print(
        f"  B0 = {geometry.uv_limits()[0]:.1e}, imposed Delta_- error "
        f"{abs(spec.delta - (d / 2 - nu(d, m2))):.1e}, max rel. error of M2 (Delta_- modes) "
        f"{np.max(np.abs(spec.M2 / exact.M2 - 1)):.1e}"
    )


if __name__ == "__main__":
    main()
