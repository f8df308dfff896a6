"""Stage 03/05 statistics (holopipe.science.analysis).

The curvature fed to the model comparison is computed from the geometry's arrays; the
expectations are analytic (R constant for AdS-Schwarzschild and T = 0 Lifshitz, z-dependent
for deformed and Lifshitz black branes; Lifshitz R(zeta) = -2 zeta^2 - 2(d-1) zeta - d(d-1)).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from holopipe.science.analysis import (
    check_lifshitz_ricci_trend,
    compare_constant_vs_z,
    fit_polynomial_trend,
    information_criteria,
    lifshitz_ricci_scalar,
)
from holopipe.science.geometry import FamilyParams, metric_functions, ricci_scalar, uv_grid

FAST = settings(max_examples=20, deadline=None)


def _ricci(params: FamilyParams, n: int = 300):
    z = uv_grid(1e-3, params.z_h or 1.0, n)
    return z, ricci_scalar(z, *metric_functions(params, z), d=params.d)


def test_information_criteria_by_hand():
    aic, bic = information_criteria(rss=8.0, n=4, k=3)
    assert aic == pytest.approx(4 * math.log(2.0) + 6)
    assert bic == pytest.approx(4 * math.log(2.0) + 3 * math.log(4))
    with pytest.raises(ValueError):
        information_criteria(0.0, 4, 1)


@given(d=st.integers(2, 6), z_h=st.one_of(st.none(), st.floats(0.1, 10.0)))
@FAST
def test_constant_curvature_wins_for_ads(d, z_h):
    z, R = _ricci(FamilyParams("ads", d, z_h))
    for criterion in ("aic", "bic"):
        result = compare_constant_vs_z(z, R, criterion=criterion)
        assert result.constant_preferred
        assert result.mean == pytest.approx(-d * (d + 1), rel=1e-6)


@pytest.mark.parametrize(
    "params",
    [
        FamilyParams("deformed", 3, None, a=0.2),
        FamilyParams("deformed", 4, 1.0, a=-0.3),
        FamilyParams("lifshitz", 3, 1.0, zeta=2.0),  # R gains -(d-1)(zeta-1)(z/z_h)^(d+zeta-1)
        FamilyParams("hvlf", 4, None, zeta=2.0, theta=1.0),  # R ~ z^(-2 theta/(d-1))
    ],
)
def test_z_dependent_curvature_wins_where_r_varies(params):
    z, R = _ricci(params)
    for criterion in ("aic", "bic"):
        assert not compare_constant_vs_z(z, R, criterion=criterion).constant_preferred


def test_zero_temperature_lifshitz_curvature_is_constant():
    z, R = _ricci(FamilyParams("lifshitz", 3, None, zeta=2.5))
    result = compare_constant_vs_z(z, R)
    assert result.constant_preferred
    assert result.mean == pytest.approx(-2 * 2.5**2 - 2 * 2 * 2.5 - 6, rel=1e-6)


@given(coefficients=st.lists(st.floats(-5, 5), min_size=3, max_size=3))
@FAST
def test_polynomial_trend_recovers_exact_coefficients(coefficients):
    x = np.linspace(1.0, 3.0, 7)
    y = np.polynomial.polynomial.polyval(x, coefficients)
    fit = fit_polynomial_trend(x, y, degree=2)
    np.testing.assert_allclose(fit.coefficients, coefficients, atol=1e-9)
    assert fit.residual_rms < 1e-9


def test_polynomial_trend_standard_errors_with_known_sigma():
    # two points x = (0, 1), sigma = 1: intercept = y0 (error 1), slope = y1 - y0 (error sqrt 2)
    fit = fit_polynomial_trend([0.0, 1.0], [1.0, 3.0], degree=1, sigma=[1.0, 1.0])
    np.testing.assert_allclose(fit.coefficients, [1.0, 2.0])
    np.testing.assert_allclose(fit.stderr, [1.0, math.sqrt(2.0)])
    with pytest.raises(ValueError, match="distinct"):
        fit_polynomial_trend([1.0, 1.0, 2.0], [1.0, 2.0, 3.0], degree=2)


@pytest.mark.parametrize("d", [2, 3, 4])
def test_lifshitz_mean_curvature_trend_from_geometries(d):
    """PHYSICS.md 05: mean R (computed from each geometry's arrays) against zeta follows
    -2 zeta^2 - 2(d-1) zeta - d(d-1)."""
    zetas = [1.0, 1.5, 2.0, 2.5, 3.0]
    means = [_ricci(FamilyParams("lifshitz", d, None, zeta=zeta))[1].mean() for zeta in zetas]
    check = check_lifshitz_ricci_trend(zetas, means, d)
    assert check.evaluated and check.passed, check.message
    assert check.expected_coefficients == (-d * (d - 1), -2 * (d - 1), -2)


def test_lifshitz_trend_rejects_a_different_law():
    zetas = np.array([1.0, 1.5, 2.0, 2.5, 3.0])
    d = 3
    assert (
        check_lifshitz_ricci_trend(zetas, lifshitz_ricci_scalar(zetas, d) + 0.5, d).passed is False
    )
    ads_only = -d * (d + 1) * np.ones_like(zetas)  # a "trend" that ignores zeta
    assert check_lifshitz_ricci_trend(zetas, ads_only, d).passed is False
    too_few = check_lifshitz_ricci_trend([1.0, 2.0, 2.0], [-12.0, -22.0, -22.0], d)
    assert too_few.evaluated is False and too_few.passed is None


def test_lifshitz_ricci_scalar_reduces_to_ads():
    for d in (2, 3, 4, 5):
        assert float(lifshitz_ricci_scalar(1.0, d)) == -d * (d + 1)
