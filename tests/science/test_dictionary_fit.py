"""Stage 07's statistics against the analytic AdS relation m^2 = Delta (Delta - d).

Every data set is built from the closed form Delta_+- = d/2 +- nu, nu = sqrt(d^2/4 + m^2)
(PHYSICS.md), never from the code's own output.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from holopipe.science.dictionary_fit import branch_policy, fit_dictionary, infer_mass

MASSES = {2: [-0.75, 0.0, 1.0], 3: [-2.0, 0.0, 4.0], 4: [-3.75, -3.0, 5.0], 5: [-6.0, 0.0, 6.0]}


def closed_form_points(d: int, masses: list[float], copies: int = 3, jitter: float = 1e-10):
    """(Delta, m2) of every allowed branch, a few 'systems' each with a tiny deterministic
    measurement error on Delta (a solver is never exact)."""
    delta, m2 = [], []
    for copy in range(copies):
        for i, mass in enumerate(masses):
            nu = math.sqrt(d * d / 4 + mass)
            branches = [d / 2 + nu] + ([d / 2 - nu] if 0 < nu < 1 else [])
            for j, value in enumerate(branches):
                delta.append(value + jitter * math.sin(1 + copy + 3 * i + 7 * j))
                m2.append(mass)
    return np.array(delta), np.array(m2)


@pytest.mark.parametrize("d", sorted(MASSES))
def test_ads_data_give_one_minus_d_zero_and_prefer_the_ads_model(d):
    delta, m2 = closed_form_points(d, MASSES[d])
    fit = fit_dictionary(delta, m2, d)
    assert np.allclose(fit.coefficients, (1.0, -d, 0.0), atol=1e-4, rtol=0)
    assert fit.deviation_from_ads() < 1e-4
    assert fit.preferred == {"aic": "constrained", "bic": "constrained", "cv": "constrained"}
    assert fit.aic["constrained"] < fit.aic["free"] and fit.bic["constrained"] < fit.bic["free"]
    assert abs(fit.c_constrained - 1) < 1e-6
    assert all(0 < s < 1e-3 for s in fit.standard_errors)


def test_data_off_the_ads_relation_prefer_the_free_quadratic():
    d = 3
    delta = np.linspace(1.1, 4.5, 12)
    m2 = 1.2 * delta**2 - 3.0 * delta + 0.5  # not c Delta (Delta - 3) for any c
    fit = fit_dictionary(delta, m2, d)
    assert np.allclose(fit.coefficients, (1.2, -3.0, 0.5), atol=1e-9)
    assert fit.preferred == {"aic": "free", "bic": "free", "cv": "free"}


def test_rescaled_ads_relation_is_still_the_one_parameter_model():
    d = 4
    delta, m2 = closed_form_points(d, MASSES[d])
    fit = fit_dictionary(delta, 0.5 * m2, d)
    assert fit.preferred["bic"] == "constrained"
    assert abs(fit.c_constrained - 0.5) < 1e-6


def test_standard_errors_follow_the_noise():
    rng = np.random.default_rng(7)
    d = 3
    delta = np.repeat(np.linspace(1.0, 4.0, 7), 20)
    m2 = delta * (delta - d) + rng.normal(0, 0.01, delta.size)
    fit = fit_dictionary(delta, m2, d)
    # the coefficients are within a few standard errors of the truth, and the errors are ~noise
    for value, target, err in zip(fit.coefficients, (1, -d, 0), fit.standard_errors, strict=True):
        assert abs(value - target) < 5 * err
        assert 1e-4 < err < 0.1


def test_too_few_distinct_deltas_is_refused_with_the_reason():
    with pytest.raises(ValueError, match="2 distinct Delta values; a quadratic needs 3"):
        fit_dictionary([3.0, 3.0, 5.0, 5.0], [-3.0, -3.0, 5.0, 5.0], 4)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="finite"):
        fit_dictionary([1.0, 2.0, float("nan")], [0.0, 1.0, 2.0], 3)
    with pytest.raises(ValueError, match="resolution"):
        fit_dictionary([1.0, 2.0, 3.0], [-2.0, -2.0, 0.0], 3, resolution=0.0)


@pytest.mark.parametrize(
    ("d", "m2", "branch", "allowed"),
    [
        (3, -2.0, "+", True),
        (3, -2.0, "-", True),  # nu = 1/2 < 1: alternative quantisation
        (3, 0.0, "-", False),  # nu = 3/2
        (4, -3.0, "-", False),  # nu = 1 exactly: not < 1
        (4, -4.0, "+", True),  # at the BF bound
        (4, -4.01, "+", False),  # below the BF bound
        (2, float("nan"), "+", False),
    ],
)
def test_branch_policy(d, m2, branch, allowed):
    decision = branch_policy(d, m2, branch)
    assert decision.allowed is allowed
    if math.isfinite(m2) and m2 >= -(d * d) / 4:
        assert decision.nu == pytest.approx(math.sqrt(d * d / 4 + m2))


def test_inverse_dictionary_picks_the_branch_by_side_of_d_over_2():
    assert infer_mass(3, 0.5181489)[1] == "-"
    assert infer_mass(3, 3.82968)[1] == "+"
    m2, _, nu = infer_mass(3, 1.412625)
    assert m2 == pytest.approx(1.412625 * (1.412625 - 3)) and nu == pytest.approx(1.5 - 1.412625)
