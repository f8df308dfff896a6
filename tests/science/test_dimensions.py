"""measure_dimension against exact power laws, analytic standard errors and known biases."""

import numpy as np
import pytest

from holopipe.science.dimensions import measure_dimension

X = np.geomspace(0.01, 1.0, 200)


def _analytic_slope_error(x: np.ndarray, sigma: float) -> float:
    """Standard error of Delta for ln G2 = c - 2 Delta ln x with iid noise sigma in ln G2."""
    u = np.log(x)
    return sigma / (2.0 * np.sqrt(np.sum((u - u.mean()) ** 2)))


@pytest.mark.parametrize("delta", [0.5181489, 1.412625, 3.82968, 3.0])
@pytest.mark.parametrize("n_corrections", [0, 2])
def test_exact_power_law_is_recovered_to_rounding(delta, n_corrections):
    m = measure_dimension(X, 0.7 * X ** (-2 * delta), n_corrections=n_corrections)
    assert abs(m.delta - delta) < 1e-10
    assert m.delta_err < 1e-9
    assert m.window == pytest.approx((0.01, X[X <= 0.1 * (1 + 1e-12)][-1]))


def test_analytic_corrections_are_removed_by_the_correction_terms():
    # A deformation a z^2 of A gives ln G2 = c - 2 Delta ln x + O(x^2): with two power
    # corrections the dimension comes back to rounding level.
    g2 = X ** (-2 * 1.7) * np.exp(0.4 * X**2 - 0.1 * X**4)
    assert abs(measure_dimension(X, g2, n_corrections=4).delta - 1.7) < 1e-9


def test_statistical_error_matches_the_analytic_slope_error():
    sigma, delta = 1e-3, 1.41
    window = X[X <= 0.1 * (1 + 1e-12)]
    expected = _analytic_slope_error(window, sigma)
    rng = np.random.default_rng(11)
    g2 = X ** (-2 * delta) * np.exp(rng.normal(0, sigma, X.size))
    with_errors = measure_dimension(X, g2, G2_err=sigma * g2)
    # (X^T W X)^-1 is the analytic variance; the Birge factor only inflates it (chi2/dof ~ 1).
    assert 1.0 <= with_errors.stat_err / expected < 1.15
    from_scatter = measure_dimension(X, g2)
    assert 0.85 < from_scatter.stat_err / expected < 1.15


@pytest.mark.parametrize("with_errors", [True, False])
def test_pulls_of_noisy_power_laws_are_standard_or_conservative(with_errors):
    sigma, delta = 1e-3, 0.518
    pulls = []
    for seed in range(300):
        rng = np.random.default_rng(seed)
        g2 = X ** (-2 * delta) * np.exp(rng.normal(0, sigma, X.size))
        m = measure_dimension(X, g2, G2_err=sigma * g2 if with_errors else None)
        pulls.append((m.delta - delta) / m.delta_err)
    pulls = np.array(pulls)
    assert abs(pulls.mean()) < 0.15
    # The window part can only add to the error: pulls no wider than standard, not much narrower.
    assert 0.7 < pulls.std() < 1.1
    assert np.mean(np.abs(pulls) < 2) > 0.93


def test_a_missing_correction_shows_up_as_window_error_that_covers_the_bias():
    delta = 1.41
    g2 = X ** (-2 * delta) * np.exp(0.5 * X**2)
    m = measure_dimension(X, g2)  # pure power law: the x^2 term biases the slope
    bias = abs(m.delta - delta)
    assert bias > 1e-4
    assert m.window_err > m.stat_err
    assert bias < 3 * m.delta_err


def test_a_larger_error_bar_on_the_data_gives_a_larger_error_on_delta():
    rng = np.random.default_rng(3)
    g2 = X ** (-2.0) * np.exp(rng.normal(0, 1e-4, X.size))
    small = measure_dimension(X, g2, G2_err=1e-4 * g2)
    large = measure_dimension(X, g2, G2_err=1e-2 * g2)
    assert large.stat_err == pytest.approx(100 * small.stat_err, rel=0.2)
    assert large.chi2_dof < 1e-2 < small.chi2_dof


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"x": X[::-1]}, "x: "),
        ({"G2": -np.ones_like(X)}, "G2: "),
        ({"G2": np.ones(3)}, "G2: "),
        ({"G2_err": np.zeros_like(X)}, "G2_err: "),
        ({"window_decades": 0.0}, "window_decades: "),
        ({"n_corrections": -1}, "n_corrections: "),
        ({"x": X[:5], "G2": X[:5] ** -1.0}, "sub-window"),
    ],
)
def test_bad_input_is_named(kwargs, message):
    args = {"x": X, "G2": X**-1.0} | kwargs
    with pytest.raises(ValueError, match=message):
        measure_dimension(args.pop("x"), args.pop("G2"), **args)
