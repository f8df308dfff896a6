"""Analytic checks of Delta_+- read off the UV falloff (holopipe.science.uv_falloff).

Every expected value is closed-form: Delta_+- = d/2 +- nu with nu = sqrt(d^2/4 + m2), unchanged
by a deformation A = -ln z + a z^2 or a blackening f = 1 - (z/z_h)^d (PHYSICS.md).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from holopipe.science.sturm_liouville import ConformalGeometry, bf_bound, delta_minus, delta_plus
from holopipe.science.uv_falloff import (
    UnphysicalDimensionError,
    delta_from_uv_falloff,
    deltas_from_uv_falloff,
)

FAST = settings(max_examples=25, deadline=None)


def pure_ads(z):
    return -np.log(z)


def flat_f(z):
    return np.ones_like(z)


def deformed(a):
    return lambda z: -np.log(z) + a * z**2


def schwarzschild(d, z_h):
    return lambda z: 1.0 - (z / z_h) ** d


# ------------------------------------------------------------------ Delta from the UV falloff


@FAST
@given(
    d=st.sampled_from([2, 3, 4]),
    excess=st.floats(0.01, 15.0),
    a=st.sampled_from([-0.3, 0.0, 0.2]),
)
def test_delta_from_falloff_recovers_both_branches_under_deformation(d, excess, a):
    m2 = bf_bound(d) + excess
    geometry = ConformalGeometry.from_callables(deformed(a), flat_f, d)
    plus, minus = deltas_from_uv_falloff(geometry, m2)
    assert abs(plus.delta - (d / 2 + np.sqrt(d * d / 4 + m2))) < 1e-5
    assert abs(minus.delta - (d / 2 - np.sqrt(d * d / 4 + m2))) < 1e-5
    assert (plus.branch, minus.branch) == ("plus", "minus")
    # the one-branch form is the same integration
    assert delta_from_uv_falloff(geometry, m2, branch="plus") == plus
    assert delta_from_uv_falloff(geometry, m2, branch="minus") == minus


@pytest.mark.parametrize("d", [2, 3, 4])
@pytest.mark.parametrize("a", [-0.3, 0.0, 0.2])
@pytest.mark.parametrize("thermal", [False, True])
def test_delta_from_arrays_starting_at_z_0_005(d, a, thermal):
    """Data that start far from the boundary (as stage 02 writes them) still give Delta to 1e-5
    over a range of m2, and the error estimate bounds the actual error."""
    z = np.geomspace(5e-3, 1.0, 400)
    f = schwarzschild(d, 1.0)(z) if thermal else np.ones_like(z)
    geometry = ConformalGeometry.from_arrays(z, deformed(a)(z), f, d)
    for excess in (0.05, 0.25, 0.5, 1.0, 3.0, 10.0, 20.0):
        m2 = bf_bound(d) + excess
        plus, minus = deltas_from_uv_falloff(geometry, m2)
        for out, exact in ((plus, delta_plus(d, m2)), (minus, delta_minus(d, m2))):
            assert abs(out.delta - exact) < 1e-5
            assert abs(out.delta - exact) <= out.delta_error + 1e-9
            assert out.z_window[0] == z[0]  # measured from the data, not the UV series


def test_falloff_branch_is_validated():
    geometry = ConformalGeometry.from_callables(pure_ads, flat_f, 3)
    with pytest.raises(ValueError, match="branch"):
        delta_from_uv_falloff(geometry, 0.0, branch="both")


@pytest.mark.parametrize("d", [2, 3, 4])
@pytest.mark.parametrize("a", [-0.3, 0.2])
def test_delta_from_arrays_of_a_deformed_black_hole(d, a):
    z = np.geomspace(1e-3, 1.0, 300)
    for m2 in (bf_bound(d) + 0.05, bf_bound(d) + 0.5, 0.5, 8.0):
        undeformed = ConformalGeometry.from_arrays(z, -np.log(z), np.ones_like(z), d)
        geometry = ConformalGeometry.from_arrays(z, deformed(a)(z), schwarzschild(d, 1.0)(z), d)
        for branch, exact in (("plus", delta_plus(d, m2)), ("minus", delta_minus(d, m2))):
            measured = delta_from_uv_falloff(geometry, m2, branch=branch).delta
            reference = delta_from_uv_falloff(undeformed, m2, branch=branch).delta
            assert abs(measured - exact) < 1e-5
            assert abs(measured - reference) < 1e-5


def test_delta_at_the_bf_bound_is_degenerate_but_close():
    geometry = ConformalGeometry.from_callables(deformed(0.2), flat_f, 3)
    out = delta_from_uv_falloff(geometry, bf_bound(3), branch="plus")
    assert abs(out.delta - 1.5) < 1e-3


def test_negative_delta_is_flagged_never_data():
    geometry = ConformalGeometry.from_callables(pure_ads, flat_f, 4)
    out = delta_from_uv_falloff(geometry, 5.0, branch="minus")
    assert out.delta == pytest.approx(-1.0, abs=1e-8)
    assert not out.physical and "negative" in out.issue
    with pytest.raises(UnphysicalDimensionError, match="negative"):
        _ = out.operator_dimension
    below_unitarity = delta_from_uv_falloff(geometry, -2.0, branch="minus")  # nu = sqrt 2 > 1
    assert 0 < below_unitarity.delta < 1 and not below_unitarity.physical
    good = delta_from_uv_falloff(geometry, -3.5, branch="minus")  # nu = 1/sqrt 2 < 1
    assert good.physical and good.operator_dimension == pytest.approx(2 - np.sqrt(0.5), abs=1e-8)


# ------------------------------------------------------------------ next to the BF bound


@pytest.mark.parametrize("d", [2, 3, 4])
@pytest.mark.parametrize("a", [-0.3, 0.0, 0.2])
@pytest.mark.parametrize("thermal", [False, True])
@pytest.mark.parametrize("z_start", [5e-3, 1e-3])
def test_delta_next_to_the_bf_bound_from_arrays(d, a, thermal, z_start):
    """nu <= 0.1 (Delta_- = d/2 - nu, issue 9 item 9): 1e-5 down to nu = 0.01 from data that
    start at z = 0.005, the error estimate bounds the error, and no mass above the bound is ever
    refused as 'below the BF bound' (it was at nu = 0.01, and the error grew as nu^-3)."""
    z = np.geomspace(z_start, 1.0, 400)
    f = schwarzschild(d, 1.0)(z) if thermal else np.ones_like(z)
    geometry = ConformalGeometry.from_arrays(z, deformed(a)(z), f, d)
    for order in (0.1, 0.07, 0.05, 0.03, 0.01):
        m2 = bf_bound(d) + order**2
        plus, minus = deltas_from_uv_falloff(geometry, m2)
        for out, exact in ((plus, d / 2 + order), (minus, d / 2 - order)):
            assert abs(out.delta - exact) < 1e-5, (order, out)
            assert abs(out.delta - exact) <= out.delta_error + 1e-9
            assert out.delta_error < 1e-5 and out.accuracy_issue is None


@pytest.mark.parametrize("d", [2, 3, 4])
@pytest.mark.parametrize("a", [-0.3, 0.2])
def test_delta_at_the_bf_bound_from_arrays_is_d_over_2_within_its_error(d, a):
    """nu = 0: the square root amplifies the extrapolation error, and the estimate says so."""
    z = np.geomspace(5e-3, 1.0, 400)
    geometry = ConformalGeometry.from_arrays(z, deformed(a)(z), schwarzschild(d, 1.0)(z), d)
    for out in deltas_from_uv_falloff(geometry, bf_bound(d)):
        assert abs(out.delta - d / 2) <= out.delta_error + 1e-9
        assert out.delta_error < 1e-3


def test_unresolved_falloff_is_an_accuracy_issue_never_below_the_bound():
    """A mass above the bound whose measured nu^2 comes out negative (here: read from z = 0.05
    in a strongly deformed geometry, where the unremoved z^6 terms dominate nu^2 = 1e-6) is
    flagged with the reason, nu = 0 and a large error; it is never called below the bound."""
    d, order = 4, 1e-3
    geometry = ConformalGeometry.from_callables(deformed(1.0), flat_f, d)
    both = deltas_from_uv_falloff(geometry, bf_bound(d) + order**2, z_probe=0.05)
    for out in both:
        assert "above the BF bound" in out.accuracy_issue and "z = 0.05" in out.accuracy_issue
        assert "below" not in out.accuracy_issue
        assert out.delta == pytest.approx(d / 2, abs=1e-12) and out.delta_error > 1e-3
        assert abs(out.delta - (d / 2 + (order if out.branch == "plus" else -order))) < (
            out.delta_error
        )


def test_a_geometry_whose_uv_mass_is_below_the_bound_says_so():
    """B0 = A + ln z at z -> 0 = 0.1 rescales the mass: m2 e^(2 B0) < -d^2/4 although m2 is not."""
    d = 3
    geometry = ConformalGeometry.from_callables(lambda z: -np.log(z) + 0.1, flat_f, d)
    with pytest.raises(ValueError, match="UV mass .* below the BF bound"):
        deltas_from_uv_falloff(geometry, bf_bound(d) + 1e-4)
