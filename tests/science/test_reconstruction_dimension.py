"""Operator dimensions read from boundary data: UV power law at T = 0, profiled fit at T > 0.

PHYSICS.md keeps operator dimensions in the truth part of a sandbox universe, so the reference
engine must estimate them from G2 itself.
"""

from __future__ import annotations

import numpy as np
import pytest

from holopipe.science.boundary import btz_two_point, geodesic_two_point
from holopipe.science.geometry import FamilyParams, horizon_from_temperature, metric_functions
from holopipe.science.reconstruction import (
    estimate_uv_dimension,
    fit_thermal_geometry,
    fit_zero_temperature_family,
    reconstruct_warp_factor,
)

# The sandbox's separations; a = -0.3 at T = 0 has no connected geodesic beyond x = 1.86.
X = np.geomspace(0.01, 1.5, 400)


def family_two_point(params: FamilyParams, x: np.ndarray, delta: float) -> np.ndarray:
    """Geodesic G2 of a family geometry (the stage 01 route)."""

    def warp(z):
        return metric_functions(params, z.ravel()).A_x.reshape(z.shape)

    def blackening(z):
        return metric_functions(params, z.ravel()).f.reshape(z.shape)

    return geodesic_two_point(
        x, warp, blackening, z_h=params.z_h, uv_exponent=params.warp_exponents[1], delta=delta
    )


# --- T = 0 and conformal UV: the power law -----------------------------------------------------


@pytest.mark.parametrize("delta", [0.4, 1.5, 2.7, 5.0])
def test_exact_power_law_gives_its_dimension(delta):
    est = estimate_uv_dimension(X, X ** (-2 * delta))
    assert est.delta == pytest.approx(delta, rel=1e-12)
    assert est.conformal
    assert est.window == pytest.approx((0.01, 0.1), rel=0.05)


@pytest.mark.parametrize(("T", "delta"), [(0.2, 1.0), (0.5, 2.3)])
def test_exact_btz_correlator_gives_its_dimension(T, delta):
    """Independent data: (pi T / sinh(pi T x))^(2 delta), no geodesic code involved."""
    est = estimate_uv_dimension(X, btz_two_point(X, T, delta))
    assert est.delta == pytest.approx(delta, rel=1e-9)
    assert est.conformal


@pytest.mark.parametrize("mass", [0.0, 0.5, 3.0])
def test_massive_free_field_has_the_free_uv_dimension(mass):
    """d = 3: G = e^{-m r} / r; the UV dimension is (d - 2)/2 = 1/2 for every mass."""
    est = estimate_uv_dimension(X, np.exp(-mass * X) / X)
    assert est.delta == pytest.approx(0.5, rel=1e-9)
    assert est.conformal


@pytest.mark.parametrize("a", [0.0, -0.3, 0.3])
def test_deformed_geodesic_data_give_the_dimension(a):
    delta = 1.7
    g2 = family_two_point(FamilyParams("deformed", 3, None, a=a), X, delta)
    est = estimate_uv_dimension(X, g2)
    # A relative error eps in delta shifts the Abel-inverted A by ~eps: keep it far below 5e-4.
    assert est.delta == pytest.approx(delta, rel=1e-6)
    assert est.conformal


def test_hyperscaling_violating_uv_is_not_conformal():
    params = FamilyParams("hvlf", 3, 1.0, zeta=1.4, theta=0.6)
    est = estimate_uv_dimension(X, family_two_point(params, X, 1.7))
    assert not est.conformal
    assert est.max_residual > 100 * 1e-6
    assert not estimate_uv_dimension(X, np.exp(-np.sqrt(X))).conformal


def test_too_few_points_in_the_window_is_named():
    x = np.geomspace(0.01, 100.0, 20)  # 4 points in the first decade
    with pytest.raises(ValueError, match="^x:"):
        estimate_uv_dimension(x, x**-2.0)


def test_abel_round_trip_with_the_estimated_dimension():
    """The stage 02 route at T = 0: dimension from the UV, then the Abel inversion."""
    a, delta = -0.3, 2.2
    g2 = family_two_point(FamilyParams("deformed", 3, None, a=a), X, delta)
    rec = reconstruct_warp_factor(X, g2, estimate_uv_dimension(X, g2).delta)
    assert np.max(np.abs(rec.A - (-np.log(rec.z) + a * rec.z**2))) <= 5e-4


# --- T > 0: the dimension fitted with each template -------------------------------------------


def test_profiled_dimension_on_exact_btz_data():
    T, delta = 0.3, 1.3
    x = np.geomspace(0.05, 4.0, 200)
    fit = fit_thermal_geometry(x, btz_two_point(x, T, delta), None, T, d=2)
    assert fit.family == "ads"
    assert fit.delta == pytest.approx(delta, rel=1e-9)
    assert fit.z_h == pytest.approx(1 / (2 * np.pi * T), rel=1e-12)
    assert all(c.delta is not None and c.delta > 0 for c in fit.candidates)


@pytest.mark.parametrize(
    ("family", "truth"),
    [("hvlf", {"zeta": 1.4, "theta": 0.6}), ("lifshitz", {"zeta": 1.6}), ("deformed", {"a": -0.2})],
)
def test_profiled_dimension_identifies_family_and_dimension(family, truth):
    d, T, delta = 3, 0.25, 1.7
    z_h = horizon_from_temperature(
        family, T, d, zeta=truth.get("zeta", 1.0), theta=truth.get("theta", 0.0)
    )
    g2 = family_two_point(FamilyParams(family, d, z_h, **truth), X, delta)
    fit = fit_thermal_geometry(X, g2, None, T, d)
    assert fit.family == family
    assert fit.delta == pytest.approx(delta, rel=1e-5)
    for name, value in truth.items():
        assert fit.params[name] == pytest.approx(value, abs=1e-5)


def test_a_given_dimension_is_recorded_unchanged():
    x = np.geomspace(0.05, 4.0, 60)
    fit = fit_thermal_geometry(x, btz_two_point(x, 0.3, 1.0), 1.0, 0.3, 2, families=["ads"])
    assert fit.delta == 1.0
    assert fit.candidates[0].delta == 1.0


# --- T = 0 family -----------------------------------------------------------------------------


@pytest.mark.parametrize("a", [-0.3, 0.05, 0.2])
def test_zero_temperature_family_of_a_deformed_warp_factor(a):
    z = np.geomspace(0.005, 0.9, 300)
    fit = fit_zero_temperature_family(z, -np.log(z) + a * z**2)
    assert fit.family == "deformed"
    assert fit.params["a"] == pytest.approx(a, rel=1e-12)
    assert fit.residuals["ads"] > fit.residuals["deformed"]


def test_zero_temperature_family_prefers_ads_within_the_tolerance():
    z = np.geomspace(0.005, 0.9, 300)
    noise = 1e-5 * np.cos(40 * np.log(z))  # reconstruction-error level
    fit = fit_zero_temperature_family(z, -np.log(z) + noise)
    assert fit.family == "ads"
    assert dict(fit.params) == {}
    assert fit.rms_residual < 1e-5


def test_zero_temperature_family_rejects_bad_input():
    with pytest.raises(ValueError, match="^A:"):
        fit_zero_temperature_family([0.1, 0.2, 0.3], [1.0, np.nan, 0.0])
    with pytest.raises(ValueError, match="^z:"):
        fit_zero_temperature_family([-0.1, 0.2], [1.0, 0.0])
