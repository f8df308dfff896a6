"""Curvature, Einstein residuals, null energy and c-function from arrays
(holopipe.science.geometry).

Every expected value is analytic: PHYSICS.md's statements, or closed forms derived by hand
from the metric (the derivations are summarised next to each test).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from holopipe.science.geometry import (
    FamilyParams,
    c_function,
    einstein_residuals,
    exact_mixed_ricci,
    exact_ricci_scalar,
    metric_functions,
    mixed_ricci,
    null_energy_combination,
    ricci_scalar,
    uv_grid,
)

FAST = settings(max_examples=20, deadline=None)
HORIZONS = st.floats(min_value=-2.0, max_value=2.0).map(lambda e: 10.0**e)
ZETAS = st.floats(min_value=1.0, max_value=4.0)
N_POINTS = 300


def _relative(values, target):
    return np.max(np.abs(values - target)) / abs(target)


@given(d=st.sampled_from([2, 3, 4]), z_h=HORIZONS, past=st.sampled_from([1.0, 1.25]))
@FAST
def test_ads_schwarzschild_is_einstein_for_every_horizon(d, z_h, past):
    """PHYSICS.md: R = -d(d+1) exactly and E_mn = 0 for every z_h.

    The grid runs from 1e-3 z_h up to the horizon itself (last point z = z_h, f = 0) or
    25% past it (f < 0, exact, never clipped), so the near-horizon region is included.
    The spec asks for 1e-2 relative; 1e-4 is asserted to catch a loss of order.
    """
    z = uv_grid(1e-3 * z_h, past * z_h, N_POINTS)
    m = metric_functions(FamilyParams("ads", d, z_h), z)
    assert _relative(ricci_scalar(z, *m, d=d), -d * (d + 1)) < 1e-4
    for component in einstein_residuals(z, *m, d=d):
        assert np.max(np.abs(component)) / d < 1e-4


@pytest.mark.parametrize("d", [2, 3, 4, 5])
def test_pure_ads_is_einstein_at_zero_temperature(d):
    z = uv_grid(1e-4, 10.0, N_POINTS)
    m = metric_functions(FamilyParams("ads", d, None), z)
    assert _relative(ricci_scalar(z, *m, d=d), -d * (d + 1)) < 1e-8
    np.testing.assert_allclose(exact_ricci_scalar(FamilyParams("ads", d, 2.0), z), -d * (d + 1))


@given(d=st.integers(2, 5), zeta=ZETAS)
@FAST
def test_lifshitz_zero_temperature_curvature(d, zeta):
    """PHYSICS.md: R + d(d+1) = -2(zeta-1)(zeta+d).

    By hand (A_t = -zeta ln z, A_x = A_z = -ln z, f = 1): R^t_t = -zeta(zeta+d-1),
    R^x_x = -(zeta+d-1), R^z_z = -(zeta^2+d-1); E^t_t = d - zeta(zeta+d-1) = -(zeta-1)(zeta+d).
    """
    z = uv_grid(1e-3, 10.0, N_POINTS)
    params = FamilyParams("lifshitz", d, None, zeta=zeta)
    m = metric_functions(params, z)
    R = ricci_scalar(z, *m, d=d)
    np.testing.assert_allclose(R + d * (d + 1), -2 * (zeta - 1) * (zeta + d), atol=1e-6 * d * d)
    r = mixed_ricci(z, *m, d=d)
    expected = (-zeta * (zeta + d - 1), -(zeta + d - 1), -(zeta**2 + d - 1))
    for component, value in zip(r, expected, strict=True):
        np.testing.assert_allclose(component, value, atol=1e-6 * d * d)
    for component, value in zip(exact_mixed_ricci(params, z), expected, strict=True):
        np.testing.assert_allclose(component, value, rtol=1e-12)
    E = einstein_residuals(z, *m, d=d)
    np.testing.assert_allclose(E.tt, -(zeta - 1) * (zeta + d), atol=1e-6 * d * d)


@given(d=st.integers(2, 5), zeta=ZETAS, z_h=HORIZONS)
@FAST
def test_lifshitz_black_brane_curvature(d, zeta, z_h):
    """With f = 1 - y, y = (z/z_h)^(d+zeta-1), R is not constant (derived by hand from the
    mixed components; R^t_t and R^x_x keep their T = 0 values, R^z_z does not):
    R = -2 zeta^2 - 2(d-1) zeta - d(d-1) - (d-1)(zeta-1) y. PHYSICS.md's offset
    -2(zeta-1)(zeta+d) is its boundary limit y -> 0."""
    z = uv_grid(1e-3 * z_h, z_h, N_POINTS)
    m = metric_functions(FamilyParams("lifshitz", d, z_h, zeta=zeta), z)
    y = (z / z_h) ** (d + zeta - 1)
    expected = -2 * zeta**2 - 2 * (d - 1) * zeta - d * (d - 1) - (d - 1) * (zeta - 1) * y
    R = ricci_scalar(z, *m, d=d)
    np.testing.assert_allclose(R, expected, atol=1e-4 * abs(expected).max())
    uv = z < 1e-2 * z_h
    np.testing.assert_allclose(R[uv] + d * (d + 1), -2 * (zeta - 1) * (zeta + d), atol=1e-4 * d * d)


@given(d=st.integers(2, 5), zeta=ZETAS, theta_frac=st.floats(0.0, 0.95))
@FAST
def test_hvlf_zero_temperature_components(d, zeta, theta_frac):
    """A_t = -(zeta - s) ln z, A_x = A_z = -(1 - s) ln z, s = theta/(d-1), f = 1. By hand:
    R^t_t = -z^(-2s) (zeta(d-1) - theta)(d-1+zeta-theta)/(d-1),
    R^x_x = -z^(-2s) (d-1-theta)(d-1+zeta-theta)/(d-1),
    R^z_z = -z^(-2s) (d-1 + zeta^2 - theta - theta zeta/(d-1))."""
    theta = theta_frac * (d - 1)
    s = theta / (d - 1)
    z = uv_grid(1e-2, 10.0, N_POINTS)
    scale = z ** (-2 * s)
    expected = (
        -scale * (zeta * (d - 1) - theta) * (d - 1 + zeta - theta) / (d - 1),
        -scale * (d - 1 - theta) * (d - 1 + zeta - theta) / (d - 1),
        -scale * (d - 1 + zeta**2 - theta - theta * zeta / (d - 1)),
    )
    r = mixed_ricci(
        z, *metric_functions(FamilyParams("hvlf", d, None, zeta=zeta, theta=theta), z), d=d
    )
    for component, value in zip(r, expected, strict=True):
        np.testing.assert_allclose(component, value, rtol=1e-5, atol=1e-8)


@given(d=st.integers(2, 5), a=st.floats(-1.0, 1.0).filter(lambda v: abs(v) > 1e-3))
@FAST
def test_deformed_curvature_near_the_boundary(d, a):
    """PHYSICS.md: R + d(d+1) = 6 a d (d-1) z^2 + O(z^4).

    By hand, for A = -ln z + a z^2 and f = 1:
    R = e^{-2 a z^2} [-d(d+1) + 4 a d (d-2) z^2 - 4 a^2 d (d-1) z^4], whose z^4 term is
    a^2 (18 d - 14 d^2) z^4.
    """
    z = uv_grid(1e-3, 1.0, N_POINTS)
    R = ricci_scalar(z, *metric_functions(FamilyParams("deformed", d, None, a=a), z), d=d)
    exact = np.exp(-2 * a * z**2) * (
        -d * (d + 1) + 4 * a * d * (d - 2) * z**2 - 4 * a**2 * d * (d - 1) * z**4
    )
    np.testing.assert_allclose(R, exact, atol=1e-5 * d * d)
    uv = z < 0.05
    remainder = R[uv] + d * (d + 1) - 6 * a * d * (d - 1) * z[uv] ** 2
    # O(z^4): bounded by twice the leading z^4 coefficient, plus the differencing error
    assert np.all(np.abs(remainder) <= 2 * a**2 * (14 * d**2) * z[uv] ** 4 + 1e-6 * d * d)


@given(
    d=st.integers(2, 5),
    b=st.floats(-1.0, 1.0),
    c=st.floats(-1.0, 1.0),
    z_h=st.floats(0.5, 3.0),
)
@FAST
def test_general_ansatz_reduces_to_the_conformal_formula(d, b, c, z_h):
    """For A_t = A_x = A_z = A the trace equals PHYSICS.md's
    R = e^{-2A} [-f'' - 2d (f A')' - d(d-1) f A'^2], evaluated here with analytic
    derivatives of A = -ln z + b z^2 + c z^3 and f = 1 - (z/z_h)^d."""
    z = uv_grid(1e-3 * z_h, z_h, N_POINTS)
    A = -np.log(z) + b * z**2 + c * z**3
    dA = -1 / z + 2 * b * z + 3 * c * z**2
    d2A = 1 / z**2 + 2 * b + 6 * c * z
    f = 1 - (z / z_h) ** d
    df = -d * z ** (d - 1) / z_h**d
    d2f = -d * (d - 1) * z ** (d - 2) / z_h**d
    formula = np.exp(-2 * A) * (-d2f - 2 * d * (df * dA + f * d2A) - d * (d - 1) * f * dA**2)
    R = ricci_scalar(z, A, A, A, f, d=d)
    np.testing.assert_allclose(R, formula, rtol=1e-5, atol=1e-5 * np.max(np.abs(formula)))


@given(a=st.floats(-1.0, 1.0), d=st.integers(2, 5))
@FAST
def test_null_energy_combination_of_deformed(a, d):
    """PHYSICS.md: A'' - A'^2 = 2a(3 - 2 a z^2) for A = -ln z + a z^2 (independent of f).

    A'' and A'^2 each grow like 1/z^2, so the absolute precision of their difference
    degrades like 1/z^2 towards the boundary: z^2 N is compared everywhere, N itself
    from z = 0.01 on."""
    z = uv_grid(1e-3, 1.0, N_POINTS)
    m = metric_functions(FamilyParams("deformed", d, 1.0, a=a), z)
    N = null_energy_combination(z, m.A_t, m.A_x, m.A_z)
    expected = 2 * a * (3 - 2 * a * z**2)
    np.testing.assert_allclose(z**2 * N, z**2 * expected, rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(N[z >= 0.01], expected[z >= 0.01], atol=1e-5)


def test_null_energy_of_lifshitz_matches_frame_components():
    """Lifshitz T = 0: N = A_x'' + A_x'^2 - A_x'(A_t' + A_z') = (1 - zeta)/z^2, and
    R^z_z - R^t_t = -(d-1) f e^{-2A_z} N = (d-1)(zeta-1) >= 0."""
    zeta, d = 2.5, 4
    z = uv_grid(1e-3, 1.0, N_POINTS)
    m = metric_functions(FamilyParams("lifshitz", d, None, zeta=zeta), z)
    np.testing.assert_allclose(
        null_energy_combination(z, m.A_t, m.A_x, m.A_z) * z**2, 1 - zeta, atol=1e-9
    )
    r = mixed_ricci(z, *m, d=d)
    np.testing.assert_allclose(r.zz - r.tt, (d - 1) * (zeta - 1), atol=1e-6)


@given(a=st.floats(-0.4, 0.4), d=st.integers(2, 5))
@FAST
def test_c_function(a, d):
    """c = 1/|e^{-A} A'|^{d-1}; for A = -ln z + a z^2, e^{-A} A' = -e^{-a z^2}(1 - 2 a z^2),
    so c = e^{a (d-1) z^2} / |1 - 2 a z^2|^{d-1} (1 for AdS)."""
    z = uv_grid(1e-3, 1.0, N_POINTS)
    A = -np.log(z) + a * z**2
    expected = np.exp(a * (d - 1) * z**2) / np.abs(1 - 2 * a * z**2) ** (d - 1)
    np.testing.assert_allclose(c_function(z, A, d), expected, rtol=1e-6)
    np.testing.assert_allclose(c_function(z, -np.log(z), d), 1.0, rtol=1e-10)


def test_curvature_input_checks():
    z = uv_grid(1e-3, 1.0, 50)
    A = -np.log(z)
    with pytest.raises(ValueError, match="d must"):
        ricci_scalar(z, A, A, A, np.ones_like(z), d=1)
    with pytest.raises(ValueError, match="shape"):
        ricci_scalar(z, A, A, A[:-1], np.ones_like(z), d=3)
    with pytest.raises(ValueError, match="z must"):
        ricci_scalar(np.r_[0.0, z[1:]], A, A, A, np.ones_like(z), d=3)
    nan_f = np.ones_like(z)
    nan_f[10] = math.nan
    assert np.isnan(ricci_scalar(z, A, A, A, nan_f, d=3)).any()  # propagated, never hidden
