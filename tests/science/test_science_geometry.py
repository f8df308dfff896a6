"""Families, grid, temperature and finite differences (holopipe.science.geometry, _derivatives).

Expected values are PHYSICS.md's closed forms (metric table, T column) or elementary
calculus (derivatives of polynomials), never numbers produced by the code under test.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from holopipe.science._derivatives import derivatives, fornberg_weights, local_derivatives
from holopipe.science.geometry import (
    FAMILIES,
    FamilyParams,
    horizon_from_temperature,
    horizon_temperature,
    locate_horizon,
    metric_functions,
    temperature,
    uv_grid,
)

FAST = settings(max_examples=25, deadline=None)
DIMS = st.integers(min_value=2, max_value=5)
HORIZONS = st.floats(min_value=-2.0, max_value=2.0).map(lambda e: 10.0**e)
ZETAS = st.floats(min_value=1.0, max_value=4.0)


# --- FamilyParams validation -------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "kwargs", "field"),
    [
        (("sphere", 3, 1.0), {}, "family"),
        (("hyperscaling", 3, 1.0), {}, "family"),
        (("ads", 1, 1.0), {}, "d"),
        (("ads", 3.0, 1.0), {}, "d"),
        (("ads", True, 1.0), {}, "d"),
        (("ads", 3, 0.0), {}, "z_h"),
        (("ads", 3, -1.0), {}, "z_h"),
        (("ads", 3, float("nan")), {}, "z_h"),
        (("ads", 3, -math.inf), {}, "z_h"),
        (("lifshitz", 3, 1.0), {"zeta": 0.5}, "zeta"),
        (("ads", 3, 1.0), {"zeta": 2.0}, "zeta"),
        (("hvlf", 3, 1.0), {"theta": 2.0}, "theta"),
        (("hvlf", 3, 1.0), {"theta": -0.1}, "theta"),
        (("lifshitz", 3, 1.0), {"theta": 0.5}, "theta"),
        (("ads", 3, 1.0), {"a": 0.1}, "a"),
        (("deformed", 3, 1.0), {"a": math.inf}, "a"),
    ],
)
def test_family_params_rejects_bad_field_by_name(args, kwargs, field):
    with pytest.raises(ValueError, match=rf"^{field} "):
        FamilyParams(*args, **kwargs)


def test_family_params_zero_temperature_and_normalisation():
    assert FamilyParams("ads", 3, math.inf).z_h is None
    assert FamilyParams("ads", 3, None).is_thermal is False
    assert FamilyParams("ads", 3, 2) == FamilyParams("ads", 3, 2.0)
    assert hash(FamilyParams("ads", np.int64(3), 2)) == hash(FamilyParams("ads", 3, 2.0))
    assert FAMILIES == ("ads", "lifshitz", "hvlf", "deformed")


# --- metric table ------------------------------------------------------------------------


@given(d=DIMS, z_h=HORIZONS, zeta=ZETAS, theta_frac=st.floats(0.0, 0.95), a=st.floats(-1, 1))
@FAST
def test_metric_functions_follow_the_table(d, z_h, zeta, theta_frac, a):
    z = uv_grid(1e-3 * z_h, 1.5 * z_h, 50)  # past the horizon on purpose: f is never clipped
    ln = np.log(z)
    theta = theta_frac * (d - 1)
    table = {
        FamilyParams("ads", d, z_h): (-ln, -ln, 1 - (z / z_h) ** d),
        FamilyParams("lifshitz", d, z_h, zeta=zeta): (
            -zeta * ln,
            -ln,
            1 - (z / z_h) ** (d + zeta - 1),
        ),
        FamilyParams("hvlf", d, z_h, zeta=zeta, theta=theta): (
            -zeta * ln + theta / (d - 1) * ln,
            -ln + theta / (d - 1) * ln,
            1 - (z / z_h) ** (d - 1 + zeta - theta),
        ),
        FamilyParams("deformed", d, z_h, a=a): (-ln + a * z**2, -ln + a * z**2, 1 - (z / z_h) ** d),
    }
    for params, (A_t, A_x, f) in table.items():
        m = metric_functions(params, z)
        np.testing.assert_allclose(m.A_t, A_t, rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(m.A_x, A_x, rtol=1e-13, atol=1e-13)
        np.testing.assert_array_equal(m.A_z, m.A_x)
        np.testing.assert_allclose(m.f, f, rtol=1e-13, atol=1e-13)
        assert np.all(m.f[z > z_h] < 0)


def test_zero_temperature_means_f_one():
    z = uv_grid(1e-3, 10.0, 40)
    for params in (FamilyParams("ads", 3, None), FamilyParams("lifshitz", 4, None, zeta=2.0)):
        np.testing.assert_array_equal(metric_functions(params, z).f, 1.0)
        assert temperature(params) == 0.0


@given(d=DIMS, z_h=HORIZONS, zeta=ZETAS, theta_frac=st.floats(0.0, 0.95))
@FAST
def test_temperature_closed_forms(d, z_h, zeta, theta_frac):
    theta = theta_frac * (d - 1)
    expected = {
        FamilyParams("ads", d, z_h): d / (4 * math.pi * z_h),
        FamilyParams("deformed", d, z_h, a=0.3): d / (4 * math.pi * z_h),
        FamilyParams("lifshitz", d, z_h, zeta=zeta): (d + zeta - 1) / (4 * math.pi * z_h**zeta),
        FamilyParams("hvlf", d, z_h, zeta=zeta, theta=theta): (d - 1 + zeta - theta)
        / (4 * math.pi * z_h**zeta),
    }
    for params, T in expected.items():
        assert temperature(params) == pytest.approx(T, rel=1e-13)
        z_back = horizon_from_temperature(params.family, T, d, zeta=params.zeta, theta=params.theta)
        assert z_back == pytest.approx(z_h, rel=1e-12)


def test_horizon_from_temperature_edges():
    assert horizon_from_temperature("ads", 0.0, 3) is None
    # PHYSICS.md 02: z_h = ((d + zeta - 1)/(4 pi T))^(1/zeta) for lifshitz
    assert horizon_from_temperature("lifshitz", 0.5, 3, zeta=2.0) == pytest.approx(
        math.sqrt(4 / (2 * math.pi))
    )
    for bad in (-1.0, math.nan, math.inf):
        with pytest.raises(ValueError, match="^T "):
            horizon_from_temperature("ads", bad, 3)


# --- UV grid -----------------------------------------------------------------------------


@given(lo=st.floats(-6, 0), span=st.floats(0.5, 6), n=st.integers(2, 500))
@FAST
def test_uv_grid_is_log_uniform_and_strictly_increasing(lo, span, n):
    z_min, z_max = 10.0**lo, 10.0 ** (lo + span)
    z = uv_grid(z_min, z_max, n)
    assert z.size == n and z[0] == z_min and z[-1] == z_max
    assert np.all(np.diff(z) > 0)
    np.testing.assert_allclose(np.diff(np.log(z)), math.log(z_max / z_min) / (n - 1), rtol=1e-9)


@pytest.mark.parametrize(
    ("args"), [(0.0, 1.0, 10), (1.0, 1.0, 10), (1e-3, 1.0, 1), (1e-3, math.inf, 9)]
)
def test_uv_grid_rejects_bad_arguments(args):
    with pytest.raises(ValueError):
        uv_grid(*args)


# --- finite differences ------------------------------------------------------------------


@given(
    gaps=st.lists(st.floats(0.05, 1.0), min_size=30, max_size=80),
    coefficients=st.lists(st.floats(-2.0, 2.0), min_size=7, max_size=7),
)
@FAST
def test_derivatives_exact_on_polynomials_below_stencil_degree(gaps, coefficients):
    x = np.cumsum(gaps) - 5.0  # any non-uniform, strictly increasing grid
    poly = np.polynomial.Polynomial(coefficients)  # degree 6 < 7-point stencil
    d = derivatives(x, poly(x))
    scale = np.max(np.abs(poly.deriv(2)(x))) + 1.0
    np.testing.assert_allclose(d[1], poly.deriv(1)(x), atol=1e-7 * scale)
    np.testing.assert_allclose(d[2], poly.deriv(2)(x), atol=1e-6 * scale)


def test_derivative_error_converges_at_high_order():
    errors = []
    for n in (100, 200):
        u = np.linspace(-7.0, 0.0, n)
        d = derivatives(u, np.exp(3 * u))
        errors.append(np.max(np.abs(d[2] - 9 * np.exp(3 * u))))
    assert errors[0] / errors[1] > 2**4.5  # >= 5th order at the one-sided ends


def test_fornberg_weights_classic_stencils():
    np.testing.assert_allclose(fornberg_weights(0.0, [-1, 0, 1], 2)[2], [1, -2, 1], atol=1e-14)
    np.testing.assert_allclose(
        fornberg_weights(0.0, [-2, -1, 0, 1, 2], 1)[1],
        [1 / 12, -2 / 3, 0, 2 / 3, -1 / 12],
        atol=1e-14,
    )


def test_local_derivatives_between_nodes_and_input_checks():
    x = np.geomspace(0.1, 2.0, 40)
    value, slope = local_derivatives(x, 1 - x**4, 1.234)
    assert value == pytest.approx(1 - 1.234**4, abs=1e-12)
    assert slope == pytest.approx(-4 * 1.234**3, abs=1e-10)
    with pytest.raises(ValueError, match="strictly increasing"):
        derivatives(x[::-1], x)
    with pytest.raises(ValueError, match="fewer than the stencil"):
        derivatives(x[:5], x[:5])


# --- horizon and temperature from the arrays ---------------------------------------------


def _family_cases(d, z_h, zeta):
    theta = 0.5 * (d - 1)
    return [
        FamilyParams("ads", d, z_h),
        FamilyParams("lifshitz", d, z_h, zeta=zeta),
        FamilyParams("hvlf", d, z_h, zeta=zeta, theta=theta),
        FamilyParams("deformed", d, z_h, a=-0.4 / z_h**2),
    ]


@given(d=DIMS, z_h=HORIZONS, zeta=ZETAS, beyond=st.sampled_from([1.0, 1.2]))
@FAST
def test_horizon_temperature_from_arrays_matches_closed_forms(d, z_h, zeta, beyond):
    """T = |f'(z_h)| e^{A_t - A_z} / (4 pi) from the arrays against PHYSICS.md's T column
    (written out here, not taken from ``temperature``)."""
    z = uv_grid(1e-3 * z_h, beyond * z_h, 300)  # ends at z_h, or 20% past it
    closed_form = {
        "ads": d / (4 * math.pi * z_h),
        "deformed": d / (4 * math.pi * z_h),
        "lifshitz": (d + zeta - 1) / (4 * math.pi * z_h**zeta),
        "hvlf": (d - 1 + zeta - 0.5 * (d - 1)) / (4 * math.pi * z_h**zeta),
    }
    for params in _family_cases(d, z_h, zeta):
        m = metric_functions(params, z)
        for claimed in (None, z_h):
            horizon = horizon_temperature(z, m.A_t, m.A_z, m.f, claimed)
            assert horizon.z_h == pytest.approx(z_h, rel=1e-10)
            assert horizon.temperature == pytest.approx(closed_form[params.family], rel=1e-6)


def test_locate_horizon_extrapolates_one_step_and_no_further():
    z_h = 1.0
    z = uv_grid(1e-3, 0.995, 300)  # the open interval (0, z_h): the grid stops just short
    assert locate_horizon(z, 1 - (z / z_h) ** 3) == pytest.approx(z_h, rel=1e-9)
    z_short = uv_grid(1e-3, 0.8, 300)
    assert locate_horizon(z_short, 1 - (z_short / z_h) ** 3) is None
    assert locate_horizon(z, np.ones_like(z)) is None
