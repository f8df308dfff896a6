"""Analytic checks of the scalar Sturm-Liouville solver (holopipe.science.sturm_liouville).

Every expected value below is independent of the solver: Bessel zeros (found with brentq on
scipy.special.jv), the BTZ screening spectrum M_n z_h = Delta + 2n (hypergeometric functions), and
min-max comparison theorems.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq
from scipy.special import jn_zeros, jv, jvp

from holopipe.science.sturm_liouville import (
    ConformalGeometry,
    bf_bound,
    delta_minus,
    delta_plus,
    nu,
    solve_scalar_modes,
    solve_scalar_modes_exact,
    solve_scalar_modes_on,
)
from holopipe.science.uv_falloff import deltas_from_uv_falloff

HARD_WALL_CASES = [(3, -2.0), (3, 0.0), (4, -3.0), (4, 5.0), (2, -0.75)]
N_MODES = 5
FAST = settings(max_examples=25, deadline=None)


def pure_ads(z):
    return -np.log(z)


def flat_f(z):
    return np.ones_like(z)


def deformed(a):
    return lambda z: -np.log(z) + a * z**2


def schwarzschild(d, z_h):
    return lambda z: 1.0 - (z / z_h) ** d


def positive_roots(func, count, start=1e-3, step=0.02):
    """First `count` sign changes of func on (start, inf), refined by brentq."""
    roots: list[float] = []
    x = start
    while len(roots) < count:
        grid = np.arange(x, x + 50.0, step)
        values = func(grid)
        for lo, hi, vlo, vhi in zip(grid[:-1], grid[1:], values[:-1], values[1:], strict=True):
            if vlo * vhi < 0:
                roots.append(brentq(func, lo, hi, xtol=1e-15))
                if len(roots) == count:
                    break
        x = grid[-1]
    return np.array(roots)


def bessel_zeros(order, count):
    return positive_roots(lambda x: jv(order, x), count)


def test_bessel_zero_oracle_matches_integer_order_table():
    for order in (0, 1, 3):
        np.testing.assert_allclose(bessel_zeros(order, 5), jn_zeros(order, 5), rtol=1e-13)


# ------------------------------------------------------------------ helpers


def test_bf_bound_and_dimensions_known_values():
    assert bf_bound(3) == -2.25
    assert nu(3, -2.0) == 0.5
    assert (delta_minus(3, -2.0), delta_plus(3, -2.0)) == (1.0, 2.0)
    assert (delta_minus(4, 5.0), delta_plus(4, 5.0)) == (-1.0, 5.0)
    assert nu(4, bf_bound(4)) == 0.0


@FAST
@given(d=st.sampled_from([2, 3, 4, 5]), excess=st.floats(0.0, 40.0))
def test_deltas_solve_the_mass_relation(d, excess):
    m2 = bf_bound(d) + excess
    for delta in (delta_plus(d, m2), delta_minus(d, m2)):
        assert delta * (delta - d) == pytest.approx(m2, abs=1e-9 * (1 + abs(m2)))
    assert delta_plus(d, m2) + delta_minus(d, m2) == pytest.approx(d)


@pytest.mark.parametrize("function", [nu, delta_plus, delta_minus])
def test_below_bf_bound_raises_naming_m2(function):
    with pytest.raises(ValueError, match="m2"):
        function(3, -2.3)
    with pytest.raises(ValueError, match="m2"):
        solve_scalar_modes_exact(pure_ads, flat_f, 3, -2.3, n_modes=1, z_ir=1.0)


def test_invalid_dimension_raises_naming_d():
    with pytest.raises(ValueError, match="d:"):
        bf_bound(2.5)
    with pytest.raises(ValueError, match="d:"):
        ConformalGeometry.from_callables(pure_ads, flat_f, d=1)


# ------------------------------------------------------------------ hard wall in pure AdS


@pytest.mark.parametrize(("d", "m2"), HARD_WALL_CASES)
@pytest.mark.parametrize("given_as", ["callables", "arrays"])
def test_hard_wall_masses_are_bessel_zeros(d, m2, given_as):
    """M_n z_IR = j_{nu,n}; the normalisable mode psi = z^{d/2} J_nu(M z) vanishes at z_IR."""
    z_ir = 1.0
    if given_as == "callables":
        spec = solve_scalar_modes_exact(pure_ads, flat_f, d, m2, n_modes=N_MODES, z_ir=z_ir)
    else:
        z = np.geomspace(1e-4, z_ir, 400)
        spec = solve_scalar_modes(z, -np.log(z), np.ones_like(z), d, m2, n_modes=N_MODES)
    exact = bessel_zeros(nu(d, m2), N_MODES) / z_ir
    np.testing.assert_allclose(np.sqrt(spec.M2), exact, rtol=1e-6)
    assert np.all(np.abs(spec.M2 - exact**2) <= spec.M2_error)  # the error estimate is honest
    assert spec.z_ir == z_ir and spec.z_uv == 0.0 and spec.ir_end == "wall"


@FAST
@given(
    case=st.sampled_from(HARD_WALL_CASES),
    z_ir=st.floats(0.2, 6.0),
)
def test_hard_wall_scales_with_wall_position(case, z_ir):
    d, m2 = case
    spec = solve_scalar_modes_exact(pure_ads, flat_f, d, m2, n_modes=3, z_ir=z_ir)
    np.testing.assert_allclose(np.sqrt(spec.M2) * z_ir, bessel_zeros(nu(d, m2), 3), rtol=1e-6)


@pytest.mark.parametrize(("d", "m2"), [(3, -2.0), (3, -2.2), (4, -3.5), (2, -0.5), (4, -3.99)])
def test_alternative_quantisation_gives_zeros_of_j_minus_nu(d, m2):
    """Keeping psi ~ z^{Delta_-} (0 < nu < 1) gives psi = z^{d/2} J_{-nu}(M z)."""
    spec = solve_scalar_modes_exact(
        pure_ads, flat_f, d, m2, n_modes=4, z_ir=1.0, quantization="alternative"
    )
    np.testing.assert_allclose(np.sqrt(spec.M2), bessel_zeros(-nu(d, m2), 4), rtol=2e-6)
    assert spec.delta == pytest.approx(delta_minus(d, m2))


def test_alternative_quantisation_refused_for_nu_at_least_one():
    with pytest.raises(ValueError, match="quantization"):
        solve_scalar_modes_exact(
            pure_ads, flat_f, 4, -3.0, n_modes=2, z_ir=1.0, quantization="alternative"
        )


@pytest.mark.parametrize(("d", "m2"), [(3, -2.0), (4, 5.0), (2, -0.75), (4, -3.9)])
def test_neumann_wall(d, m2):
    """psi'(z_IR) = 0 for psi = z^{d/2} J_nu(M z): (d/2) J_nu(x) + x J_nu'(x) = 0."""
    order = nu(d, m2)
    exact = positive_roots(lambda x: 0.5 * d * jv(order, x) + x * jvp(order, x), 4)
    spec = solve_scalar_modes_exact(pure_ads, flat_f, d, m2, n_modes=4, z_ir=1.0, bc_ir="neumann")
    np.testing.assert_allclose(np.sqrt(spec.M2), exact, rtol=2e-6)


@pytest.mark.parametrize(("d", "m2"), HARD_WALL_CASES)
def test_uv_cutoff_with_normalisable_log_derivative(d, m2):
    """A cutoff z_uv imposing z psi'/psi = Delta_+ misses only O((M z_uv)^2 z_uv^{2 nu})."""
    full = solve_scalar_modes_exact(pure_ads, flat_f, d, m2, n_modes=3, z_ir=1.0)
    cut = solve_scalar_modes_exact(pure_ads, flat_f, d, m2, n_modes=3, z_ir=1.0, z_uv=1e-3)
    np.testing.assert_allclose(cut.M2, full.M2, rtol=1e-6)
    assert "cutoff" in cut.bc_uv and cut.z_uv == 1e-3


@FAST
@given(k=st.floats(-5.0, 5.0))
def test_boundary_mass_is_independent_of_momentum_at_zero_temperature(k):
    """For f = 1 the normal-mode eigenvalue is w^2 = M^2 + k^2: the reported w^2 - k^2 is fixed."""
    spec = solve_scalar_modes_exact(pure_ads, flat_f, 3, 0.0, n_modes=3, z_ir=1.0, k=k)
    np.testing.assert_allclose(np.sqrt(spec.M2), bessel_zeros(1.5, 3), rtol=1e-6)


def test_eigenvectors_are_bessel_modes():
    d, m2 = 4, -3.0
    spec = solve_scalar_modes_exact(
        pure_ads, flat_f, d, m2, n_modes=4, z_ir=1.0, return_eigenvectors=True
    )
    zeros = bessel_zeros(1.0, 4)
    z = spec.z
    for n, psi in enumerate(spec.eigenvectors):
        exact = z ** (d / 2) * jv(1.0, zeros[n] * z)
        cosine = psi @ exact / np.linalg.norm(psi) / np.linalg.norm(exact)
        assert cosine > 1 - 1e-6
        assert psi[0] > 0  # deterministic sign
        assert np.count_nonzero(np.diff(np.sign(psi)) != 0) == n  # Sturm oscillation theorem
    # weight-orthonormal: int e^{(d-1)A} psi_m psi_n dz = delta_mn (midpoint rule, O(h^2))
    h = z[1] - z[0]
    gram = (spec.eigenvectors * z ** (1 - d)) @ spec.eigenvectors.T * h
    np.testing.assert_allclose(gram, np.eye(4), atol=1e-3)


def test_richardson_value_converges_at_fourth_order():
    exact = bessel_zeros(3.0, 3) ** 2
    errors = [
        np.max(
            np.abs(
                solve_scalar_modes_exact(pure_ads, flat_f, 4, 5.0, n_modes=3, z_ir=1.0, n_grid=n).M2
                / exact
                - 1
            )
        )
        for n in (64, 128, 256)
    ]
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(orders > 3.5)


def test_deformed_geometry_arrays_agree_with_callables():
    """The spline path (arrays from a file) reproduces the exact-callable spectrum."""
    a, d, m2 = 0.2, 3, -2.0
    z = np.geomspace(1e-4, 1.0, 400)
    f_exact = schwarzschild(d, 1.5)
    from_arrays = solve_scalar_modes(z, deformed(a)(z), f_exact(z), d, m2, n_modes=N_MODES)
    exact = solve_scalar_modes_exact(deformed(a), f_exact, d, m2, n_modes=N_MODES, z_ir=1.0)
    np.testing.assert_allclose(from_arrays.M2, exact.M2, rtol=1e-6)
    assert not np.allclose(exact.M2, bessel_zeros(0.5, N_MODES) ** 2, rtol=1e-3)


# ------------------------------------------------------------------ UV end of array data

UV_START = 5e-3  # first point of stage-02 grids: ~80 spacings of a 400-point log grid from z = 0


def arrays_from(z_start, a, f_of_z, d, n=400, z_end=1.0):
    z = np.geomspace(z_start, z_end, n)
    return ConformalGeometry.from_arrays(z, deformed(a)(z), f_of_z(z), d)


@pytest.mark.parametrize("a", [-0.3, -0.18, 0.0, 0.2])
@pytest.mark.parametrize("d", [2, 3, 4])
def test_uv_limits_of_arrays_come_from_the_uv_series(a, d):
    """A = -ln z + a z^2 from z = 0.005: B0 = 0 and f0 = 1 to 1e-8 (an extrapolated cubic
    spline gave B0 ~ 6e-4), and the imposed exponent is exact."""
    for f_of_z in (flat_f, schwarzschild(d, 1.2)):
        geometry = arrays_from(UV_START, a, f_of_z, d)
        b0, f0 = geometry.uv_limits()
        assert abs(b0) < 1e-8 and abs(f0 - 1) < 1e-8
        assert geometry.uv_mass(-2.0) == pytest.approx(-2.0, abs=1e-8)
        assert "UV series" in geometry.source
        # below z[0]: the even series, with its log-derivative z dB/dz = 2 a z^2
        below = np.array([0.0, 1e-3, 4e-3])
        np.testing.assert_allclose(geometry.warp_offset(below), a * below**2, atol=1e-12)
        np.testing.assert_allclose(
            geometry.warp_offset_log_derivative(below), 2 * a * below**2, atol=1e-12
        )


def test_uv_limit_is_robust_to_noise_in_the_data():
    """Round-off-level noise (1e-12) in a reconstructed A moves B0 by about as much; a cubic
    spline extrapolated to z = 0 amplified it ~4e4-fold and the Delta_- spectrum by 3e-4."""
    a, d, m2 = 0.2, 3, -2.0
    z = np.geomspace(UV_START, 1.0, 400)
    noise = 1e-12 * np.random.default_rng(7).standard_normal(z.size)
    geometry = ConformalGeometry.from_arrays(z, deformed(a)(z) + noise, np.ones_like(z), d)
    assert abs(geometry.uv_limits()[0]) < 1e-11
    for quantization in ("standard", "alternative"):
        exact = solve_scalar_modes_exact(
            deformed(a), flat_f, d, m2, n_modes=3, z_ir=1.0, quantization=quantization
        )
        noisy = solve_scalar_modes_on(geometry, m2, n_modes=3, z_ir=1.0, quantization=quantization)
        np.testing.assert_allclose(noisy.M2, exact.M2, rtol=1e-6)
        assert noisy.delta == pytest.approx(exact.delta, abs=1e-9)


def test_uv_series_of_data_that_are_not_even_degrades_gracefully():
    """A + ln z = b1 z breaks the even-series assumption: nothing fails, B0 is off by O(b1 z[0])."""
    b1 = 0.1
    z = np.geomspace(UV_START, 1.0, 400)
    geometry = ConformalGeometry.from_arrays(z, -np.log(z) + b1 * z, np.ones_like(z), 3)
    assert 0 < abs(geometry.uv_limits()[0]) < b1 * z[0]
    assert "rms residual" in geometry.source


@pytest.mark.parametrize(("d", "m2"), HARD_WALL_CASES)
def test_hard_wall_from_arrays_starting_at_z_0_005(d, m2):
    """Both quantisations reach the Bessel zeros to 1e-6 (j_{-nu} for Delta_-, nu < 1) from data
    that start at z = 0.005; the imposed Delta is exact and the measured one within 1e-5."""
    geometry = arrays_from(UV_START, 0.0, flat_f, d)
    order = nu(d, m2)
    branches = [("standard", order, delta_plus(d, m2), "plus")]
    if order < 1:
        branches.append(("alternative", -order, delta_minus(d, m2), "minus"))
    falloffs = deltas_from_uv_falloff(geometry, m2)
    for quantization, bessel_order, delta, branch in branches:
        spec = solve_scalar_modes_on(
            geometry, m2, n_modes=N_MODES, z_ir=1.0, quantization=quantization
        )
        np.testing.assert_allclose(np.sqrt(spec.M2), bessel_zeros(bessel_order, N_MODES), rtol=1e-6)
        assert spec.delta == pytest.approx(delta, abs=1e-8)
        assert abs(getattr(falloffs, branch).delta - delta) < 1e-5


@pytest.mark.parametrize("quantization", ["standard", "alternative"])
def test_deformed_arrays_starting_at_z_0_005_agree_with_callables(quantization):
    a, d, m2 = -0.18, 2, -0.75  # the stage-02 toy system whose Delta_- rows were inaccurate
    exact = solve_scalar_modes_exact(
        deformed(a), flat_f, d, m2, n_modes=N_MODES, z_ir=1.0, quantization=quantization
    )
    from_arrays = solve_scalar_modes_on(
        arrays_from(UV_START, a, flat_f, d),
        m2,
        n_modes=N_MODES,
        z_ir=1.0,
        quantization=quantization,
    )
    np.testing.assert_allclose(from_arrays.M2, exact.M2, rtol=1e-6)
    assert from_arrays.delta == pytest.approx(exact.delta, abs=1e-8)
    assert np.all(from_arrays.M2_error / from_arrays.M2 < 1e-5)


# ------------------------------------------------------------------ thermal geometries


@FAST
@given(m2=st.floats(-0.95, 6.0), z_h=st.floats(0.3, 4.0))
def test_btz_screening_masses_are_exact(m2, z_h):
    """d = 2 BTZ, w = 0, regular at the horizon: M_n z_h = Delta_+ + 2n (hypergeometric)."""
    spec = solve_scalar_modes_exact(
        pure_ads,
        schwarzschild(2, z_h),
        2,
        m2,
        n_modes=4,
        z_ir=z_h,
        bc_ir="horizon",
        eigenproblem="screening",
    )
    exact = delta_plus(2, m2) + 2 * np.arange(4)
    np.testing.assert_allclose(np.sqrt(spec.M2) * z_h, exact, rtol=1e-6)
    assert spec.ir_end == "horizon" and spec.eigenproblem == "screening"


@pytest.mark.parametrize("m2", [-0.95, -0.75, -0.3])
def test_btz_screening_alternative_quantisation(m2):
    spec = solve_scalar_modes_exact(
        pure_ads,
        schwarzschild(2, 1.0),
        2,
        m2,
        n_modes=4,
        z_ir=1.0,
        bc_ir="horizon",
        eigenproblem="screening",
        quantization="alternative",
    )
    np.testing.assert_allclose(np.sqrt(spec.M2), delta_minus(2, m2) + 2 * np.arange(4), rtol=2e-6)


def test_btz_from_arrays_on_the_open_interval_up_to_the_horizon():
    """Stored f lives on (0, z_h); the IR end is the horizon one short extrapolation away."""
    z_h, m2 = 1.3, 0.5
    z = np.geomspace(1e-4, z_h * (1 - 1e-3), 400)
    spec = solve_scalar_modes(
        z,
        -np.log(z),
        1 - (z / z_h) ** 2,
        2,
        m2,
        n_modes=4,
        z_ir=z_h,
        bc_ir="horizon",
        eigenproblem="screening",
    )
    exact = delta_plus(2, m2) + 2 * np.arange(4)
    np.testing.assert_allclose(np.sqrt(spec.M2) * z_h, exact, rtol=1e-6)
    located = solve_scalar_modes(  # z_ir omitted: the horizon is the zero of the splined f
        z,
        -np.log(z),
        1 - (z / z_h) ** 2,
        2,
        m2,
        n_modes=4,
        bc_ir="horizon",
        eigenproblem="screening",
    )
    assert located.z_ir == pytest.approx(z_h, rel=1e-12)
    np.testing.assert_allclose(located.M2, spec.M2, rtol=1e-12)


@pytest.mark.parametrize(("d", "m2"), [(3, -2.0), (4, 5.0), (4, -3.0)])
def test_thermal_screening_with_wall_approaches_hard_wall_from_below(d, m2):
    """Min-max: f <= 1 lowers the energy at fixed weight, so M2_n(z_h) <= j_n^2 and M2_n grows
    with z_h; first-order perturbation in f - 1 = -(z/z_h)^d makes the gap O(z_h^-d)."""
    hard = bessel_zeros(nu(d, m2), 3) ** 2
    horizons = np.array([2.0, 4.0, 8.0])
    spectra = np.array(
        [
            solve_scalar_modes_exact(
                pure_ads,
                schwarzschild(d, z_h),
                d,
                m2,
                n_modes=3,
                z_ir=1.0,
                eigenproblem="screening",
                n_grid=1024,
            ).M2
            for z_h in horizons
        ]
    )
    assert np.all(spectra < hard)
    assert np.all(np.diff(spectra, axis=0) > 0)
    scaled_gap = (1 - spectra / hard) * horizons[:, None] ** d
    np.testing.assert_allclose(scaled_gap[1], scaled_gap[2], rtol=0.01)


@pytest.mark.parametrize("d", [3, 4])
def test_thermal_normal_modes_with_wall_approach_hard_wall(d):
    m2 = 1.0  # m2 >= 0 keeps the energy positive, so the larger weight 1/f can only lower w^2
    hard = bessel_zeros(nu(d, m2), 3) ** 2
    horizons = np.array([2.0, 4.0, 8.0])
    spectra = np.array(
        [
            solve_scalar_modes_exact(pure_ads, schwarzschild(d, z_h), d, m2, n_modes=3, z_ir=1.0).M2
            for z_h in horizons
        ]
    )
    assert np.all(spectra < hard)
    gaps = 1 - spectra / hard
    np.testing.assert_allclose(gaps[1:] / gaps[:-1], 2.0**-d, rtol=0.05)


def test_horizon_problems_that_are_not_hermitian_are_refused():
    horizon = {"z_ir": 1.0, "n_modes": 2}
    f = schwarzschild(3, 1.0)
    with pytest.raises(ValueError, match="eigenproblem"):
        solve_scalar_modes_exact(pure_ads, f, 3, 0.0, bc_ir="horizon", **horizon)
    with pytest.raises(ValueError, match="bc_ir"):
        solve_scalar_modes_exact(pure_ads, f, 3, 0.0, eigenproblem="screening", **horizon)
    with pytest.raises(ValueError, match="z_ir"):
        solve_scalar_modes_exact(pure_ads, f, 3, 0.0, z_ir=1.2, n_modes=2)
    with pytest.raises(ValueError, match="z_ir"):
        solve_scalar_modes_exact(
            pure_ads, f, 3, 0.0, z_ir=0.9, n_modes=2, bc_ir="horizon", eigenproblem="screening"
        )
    with pytest.raises(ValueError, match="k:"):
        solve_scalar_modes_exact(
            pure_ads, f, 3, 0.0, k=1.0, bc_ir="horizon", eigenproblem="screening", **horizon
        )


def test_non_ads_ultraviolet_is_refused():
    theta, d = 0.5, 3  # hyperscaling violation: dA/d ln z = -(1 - theta/(d-1))
    with pytest.raises(ValueError, match="asymptotically AdS"):
        ConformalGeometry.from_callables(lambda z: -(1 - theta / (d - 1)) * np.log(z), flat_f, d)
    z = np.geomspace(1e-4, 1.0, 100)
    with pytest.raises(ValueError, match="asymptotically AdS"):
        ConformalGeometry.from_arrays(z, -(1 - theta / (d - 1)) * np.log(z), np.ones_like(z), d)


# ------------------------------------------------------------------ records and validation


def test_spectrum_records_its_problem_and_is_deterministic():
    kwargs = {"n_modes": 3, "z_ir": 1.0, "bc_ir": "horizon", "eigenproblem": "screening"}
    first = solve_scalar_modes_exact(pure_ads, schwarzschild(3, 1.0), 3, -2.0, **kwargs)
    second = solve_scalar_modes_exact(pure_ads, schwarzschild(3, 1.0), 3, -2.0, **kwargs)
    np.testing.assert_array_equal(first.M2, second.M2)
    record = json.loads(json.dumps(first.record()))
    assert record["m2"] == -2.0 and record["d"] == 3 and record["delta"] == 2.0
    assert record["ir_end"] == "horizon" and record["z_ir"] == 1.0 and record["z_uv"] == 0.0
    assert record["n_grid"] == first.n_grid and "eigh_tridiagonal" in record["method"]
    assert "Delta" not in record and "m2L2" not in record
    with pytest.raises(ValueError):
        first.M2[0] = 0.0  # read-only


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"n_modes": 0}, "n_modes"),
        ({"n_modes": 2, "n_grid": 30}, "n_grid"),
        ({"n_modes": 2, "bc_ir": "robin"}, "bc_ir"),
        ({"n_modes": 2, "eigenproblem": "quasinormal"}, "eigenproblem"),
        ({"n_modes": 2, "quantization": "both"}, "quantization"),
        ({"n_modes": 2, "z_ir": 2.0}, "z_ir"),
        ({"n_modes": 2, "z_uv": 1.5}, "z_uv"),
    ],
)
def test_invalid_arguments_are_named(kwargs, name):
    z = np.geomspace(1e-4, 1.0, 100)
    with pytest.raises(ValueError, match=name):
        solve_scalar_modes(z, -np.log(z), np.ones_like(z), 3, 0.0, **kwargs)


def test_geometry_arrays_are_validated():
    z = np.geomspace(1e-4, 1.0, 100)
    with pytest.raises(ValueError, match="f:"):
        ConformalGeometry.from_arrays(z, -np.log(z), np.full_like(z, np.nan), 3)
    with pytest.raises(ValueError, match="z:"):
        ConformalGeometry.from_arrays(z[::-1], -np.log(z), np.ones_like(z), 3)


@pytest.mark.slow
@settings(max_examples=1000, deadline=None)
@given(d=st.sampled_from([2, 3, 4, 5, 6]), excess=st.floats(0.0, 30.0), z_ir=st.floats(0.5, 3.0))
def test_hard_wall_sweep(d, excess, z_ir):
    m2 = bf_bound(d) + excess
    geometry = ConformalGeometry.from_callables(pure_ads, flat_f, d)
    spec = solve_scalar_modes_on(geometry, m2, n_modes=N_MODES, z_ir=z_ir)
    np.testing.assert_allclose(np.sqrt(spec.M2) * z_ir, bessel_zeros(nu(d, m2), N_MODES), rtol=1e-6)
