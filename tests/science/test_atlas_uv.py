"""Stage 08's UV exponent against the closed forms of PHYSICS.md's metric table.

hvlf(zeta, theta): A_x = A_z = -(1 - theta/(d-1)) ln z, A_t = -(zeta - theta/(d-1)) ln z;
deformed(a): A = -ln z + a z^2 (alpha_UV = 1); AdS of radius L: A = ln L - ln z.
"""

from __future__ import annotations

import numpy as np
import pytest

from holopipe.science.atlas import dictionary_applicability, expected_alpha_uv, uv_exponent

Z = np.geomspace(1e-3, 0.9, 300)


@pytest.mark.parametrize(("d", "theta"), [(3, 0.5), (3, 1.0), (4, 1.5), (5, 2.9)])
def test_hvlf_exponent_is_one_minus_theta_over_d_minus_one(d, theta):
    alpha = 1 - theta / (d - 1)
    fit = uv_exponent(Z, -alpha * np.log(Z))
    assert abs(fit.alpha - alpha) < 1e-9
    assert abs(fit.effective_radius - 1) < 1e-9
    verdict = dictionary_applicability(fit.alpha, None)
    assert not verdict.applicable and f"{alpha:.6g}"[:5] in verdict.reason


@pytest.mark.parametrize("a", [-0.3, 0.2, 1.0])
def test_deformation_does_not_change_the_uv_exponent(a):
    fit = uv_exponent(Z, -np.log(Z) + a * Z**2)
    assert abs(fit.alpha - 1) < 1e-9
    assert dictionary_applicability(fit.alpha, None).applicable


def test_effective_radius_is_the_ads_radius():
    L = 2.5
    assert abs(uv_exponent(Z, np.log(L) - np.log(Z)).effective_radius - L) < 1e-9


def test_noisy_warp_gives_an_honest_error_bar():
    rng = np.random.default_rng(3)
    A = -0.8 * np.log(Z) + rng.normal(0, 1e-4, Z.size)
    fit = uv_exponent(Z, A)
    assert abs(fit.alpha - 0.8) < 5 * fit.alpha_err and 0 < fit.alpha_err < 1e-2


def test_lifshitz_time_exponent_makes_it_not_applicable():
    verdict = dictionary_applicability(1.0, 2.0)
    assert not verdict.applicable and "alpha_t = 2" in verdict.reason


def test_applicability_edge():
    assert dictionary_applicability(1.019, None).applicable
    assert not dictionary_applicability(1.02, None).applicable
    assert not dictionary_applicability(0.97, None, tolerance=0.02).applicable


def test_closed_forms():
    assert expected_alpha_uv("hvlf", 3, {"zeta": 1.5, "theta": 1.0}) == pytest.approx(0.5)
    assert expected_alpha_uv("lifshitz", 4, {"zeta": 2.0}) == 1.0
    assert expected_alpha_uv("deformed", 2, {"a": 0.3}) == 1.0
    assert expected_alpha_uv("unknown", 3, {}) is None
    assert expected_alpha_uv("hvlf", 3, {"theta": 5.0}) is None  # outside 0 <= theta < d - 1


@pytest.mark.parametrize(
    ("z", "A", "match"),
    [
        (np.array([1e-3, 2e-3]), np.array([1.0, 2.0]), "grid points"),
        (Z, np.full(Z.size, np.nan), "finite"),
        (Z[::-1], -np.log(Z), "increasing"),
    ],
)
def test_bad_input_is_refused(z, A, match):
    with pytest.raises(ValueError, match=match):
        uv_exponent(z, A)
