"""Boundary two-point functions from geometry, checked against closed forms only."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import beta

from holopipe.science.boundary import (
    btz_two_point,
    geodesic_is_exact,
    geodesic_lengths,
    geodesic_two_point,
)

DETERMINISTIC = settings(max_examples=25, deadline=None, derandomize=True)


def ads_warp(z: np.ndarray) -> np.ndarray:
    return -np.log(z)


def btz_blackening(z_h: float):
    return lambda z: 1.0 - (z / z_h) ** 2


def btz_length(x: np.ndarray, T: float) -> np.ndarray:
    """Known regularised geodesic length in BTZ: 2 ln(sinh(pi T x) / (pi T))."""
    return 2.0 * np.log(np.sinh(np.pi * T * x) / (np.pi * T))


# --- pure AdS: L_reg = 2 ln x, G2 = x^(-2 Delta) --------------------------------------------


def test_pure_ads_length_and_turning_point_are_exact():
    x = np.geomspace(1e-3, 1e2, 200)
    out = geodesic_lengths(x, ads_warp)
    np.testing.assert_allclose(out.length_reg, 2.0 * np.log(x), rtol=0, atol=1e-11)
    np.testing.assert_allclose(out.z_turn, x / 2.0, rtol=1e-10)  # semicircle of radius x/2


@DETERMINISTIC
@given(
    delta=st.floats(0.1, 6.0),
    x_min=st.floats(1e-3, 0.5),
    decades=st.floats(0.5, 4.0),
)
def test_pure_ads_two_point_is_power_law(delta, x_min, decades):
    x = np.geomspace(x_min, x_min * 10**decades, 50)
    g2 = geodesic_two_point(x, ads_warp, delta=delta)
    np.testing.assert_allclose(g2, x ** (-2.0 * delta), rtol=1e-9)


def test_pure_ads_from_arrays_is_exact():
    z = np.geomspace(1e-4, 10.0, 300)
    x = np.geomspace(0.01, 5.0, 100)
    g2 = geodesic_two_point(x, -np.log(z), np.ones_like(z), z=z, delta=2.5)
    np.testing.assert_allclose(g2, x**-5.0, rtol=1e-9)


# --- hyperscaling-violating UV at T = 0: closed form through Beta functions ----------------


@pytest.mark.parametrize("alpha", [0.4, 0.75, 1.0 - 1e-9])
def test_power_law_warp_matches_closed_form(alpha):
    # A = -alpha ln z: x = z* B((1+a)/2a, 1/2)/a, L_reg = 2 [z*^(1-a) B((1-a)/2a, 1/2)/2a - 1/(1-a)]
    z_turn = np.geomspace(1e-3, 3.0, 40)
    x = z_turn * beta((1 + alpha) / (2 * alpha), 0.5) / alpha
    exact = 2 * (z_turn ** (1 - alpha) * beta((1 - alpha) / (2 * alpha), 0.5) / (2 * alpha))
    exact -= 2 / (1 - alpha)
    out = geodesic_lengths(x, lambda z: -alpha * np.log(z), uv_exponent=alpha)
    np.testing.assert_allclose(out.length_reg, exact, rtol=0, atol=1e-7 * np.abs(exact).max())
    np.testing.assert_allclose(out.z_turn, z_turn, rtol=1e-8)


# --- BTZ: exact thermal correlator of a CFT_2 ----------------------------------------------


def test_btz_two_point_closed_form_limits():
    T, delta = 0.4, 1.3
    # sinh(pi T x) = 1 at pi T x = asinh(1): G2 = (pi T)^(2 delta)
    x_unit = np.array([np.arcsinh(1.0) / (np.pi * T)])
    np.testing.assert_allclose(btz_two_point(x_unit, T, delta), (np.pi * T) ** (2 * delta))
    # short distance: the vacuum x^(-2 delta)
    np.testing.assert_allclose(btz_two_point(np.array([1e-6]), T, delta), 1e-6 ** (-2 * delta))
    # long distance: (2 pi T)^(2 delta) e^(-2 pi delta T x), no overflow of sinh
    x_far = np.array([50.0, 400.0])
    log_g2 = np.log(btz_two_point(x_far, T, 0.05))
    np.testing.assert_allclose(log_g2, 0.1 * np.log(2 * np.pi * T) - 0.1 * np.pi * T * x_far)


@DETERMINISTIC
@given(T=st.floats(0.05, 5.0), delta=st.floats(0.2, 4.0))
def test_geodesic_in_btz_reproduces_exact_correlator(T, delta):
    z_h = 1.0 / (2.0 * np.pi * T)  # d = 2: z_h = d / (4 pi T)
    x = np.geomspace(1e-2 / T, 6.0 / T, 80)
    out = geodesic_lengths(x, ads_warp, btz_blackening(z_h), z_h=z_h)
    np.testing.assert_allclose(out.length_reg, btz_length(x, T), rtol=0, atol=2e-8)
    assert np.all(out.z_turn < z_h)
    g2 = geodesic_two_point(x, ads_warp, btz_blackening(z_h), z_h=z_h, delta=delta)
    np.testing.assert_allclose(np.log(g2), np.log(btz_two_point(x, T, delta)), atol=2e-8 * delta)


def test_btz_horizon_is_found_from_f_when_not_given():
    T = 0.7
    x = np.geomspace(0.01, 10.0, 60)
    out = geodesic_lengths(x, ads_warp, btz_blackening(1.0 / (2.0 * np.pi * T)))
    np.testing.assert_allclose(out.length_reg, btz_length(x, T), atol=2e-8)


@pytest.mark.parametrize("grid_end", [1.0, 1.0 - 1e-6, 0.99])
def test_btz_from_arrays_ending_at_or_before_the_horizon(grid_end):
    T = 0.3
    z_h = 1.0 / (2.0 * np.pi * T)
    z = np.geomspace(1e-4, grid_end * z_h, 800)
    x = np.geomspace(0.01, 4.0 / T, 120)
    out = geodesic_lengths(x, -np.log(z), 1.0 - (z / z_h) ** 2, z=z, z_h=z_h)
    np.testing.assert_allclose(out.length_reg, btz_length(x, T), atol=1e-8)


# --- confining wall and Hamilton-Jacobi ----------------------------------------------------


def test_wall_gives_area_law_with_string_tension_at_the_wall():
    a = 0.5  # A = -ln z + a z^2: w = e^-A peaks at z_w = 1/sqrt(2a) = 1
    out = geodesic_lengths(np.array([20.0, 30.0]), lambda z: -np.log(z) + a * z**2)
    tension = (out.length_reg[1] - out.length_reg[0]) / 10.0
    np.testing.assert_allclose(tension, np.exp(a), rtol=1e-9)  # e^{A(z_w)}
    assert np.all((out.z_turn < 1.0) & (out.z_turn > 1.0 - 1e-5))  # hugging the wall


@pytest.mark.parametrize("a", [-0.3, 0.2])
def test_length_slope_is_conserved_momentum(a):
    # dL/dx = e^{A(z*)} (Hamilton-Jacobi)
    def warp(z):
        return -np.log(z) + a * z**2

    x = np.geomspace(0.05, 1.5, 30)
    step = 1e-4 * x
    plus, minus = (geodesic_lengths(x + s, warp).length_reg for s in (step, -step))
    slope = (plus - minus) / (2 * step)
    np.testing.assert_allclose(slope, np.exp(warp(geodesic_lengths(x, warp).z_turn)), rtol=1e-5)


def test_separation_beyond_connected_geodesics_is_refused():
    # a < 0: x(z*) has a maximum; no connected geodesic spans a larger separation
    with pytest.raises(ValueError, match="^x: separations above"):
        geodesic_lengths(np.array([0.5, 3.0]), lambda z: -np.log(z) - 0.3 * z**2)


# --- exactness flags and input validation --------------------------------------------------


def test_exactness_flags():
    assert geodesic_is_exact("ads", 4, 0.0)
    assert geodesic_is_exact("ads", 2, 0.3)
    assert not geodesic_is_exact("ads", 3, 0.3)
    assert not geodesic_is_exact("deformed", 2, 0.0)
    assert not geodesic_is_exact("lifshitz", 2, 0.3)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"x": np.array([0.1, np.nan])}, "x"),
        ({"x": np.array([-1.0, 1.0])}, "x"),
        ({"delta": 0.0}, "delta"),
        ({"A": np.zeros(20)}, "z"),
        ({"uv_exponent": -1.0}, "uv_exponent"),
        ({"z_h": -1.0}, "z_h"),
    ],
)
def test_bad_input_names_the_argument(kwargs, name):
    call = {"x": np.array([0.1, 1.0]), "A": ads_warp, "delta": 1.0} | kwargs
    with pytest.raises(ValueError, match=f"^{name}:"):
        geodesic_two_point(call.pop("x"), call.pop("A"), **call)


def test_array_f_crossing_zero_needs_the_horizon():
    z = np.geomspace(1e-3, 2.0, 100)
    with pytest.raises(ValueError, match="^z_h:"):
        geodesic_lengths(np.array([0.1]), -np.log(z), 1.0 - z**2, z=z)


@pytest.mark.parametrize(("args", "name"), [((0.0, 1.0), "T"), ((1.0, -1.0), "delta")])
def test_btz_bad_input(args, name):
    with pytest.raises(ValueError, match=f"^{name}:"):
        btz_two_point(np.array([1.0]), *args)
