"""Stage 04c negative controls (holopipe.science.negative_controls).

Analytic facts used: K_{1/2}(x) = sqrt(pi/(2x)) e^{-x}, so in d = 3 the massive propagator
is e^{-m r}/(4 pi r) and Delta_eff = (1 + m r)/2 exactly; at m = 0 the propagator is
r^{-(d-2)}, flat at Delta_eff = (d-2)/2.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from holopipe.science.contracts import ContractResult, evaluate_contracts
from holopipe.science.negative_controls import (
    BROKEN_KINDS,
    ControlOutcome,
    broken_geometries,
    broken_geometry,
    conformality_test,
    control_outcome,
    control_statistics,
    effective_dimension,
    massive_propagator,
)

FAST = settings(max_examples=25, deadline=None)
R = np.geomspace(0.05, 5.0, 200)  # probed separations


@given(m=st.floats(0.01, 50.0))
@FAST
def test_d3_effective_dimension_is_exactly_one_plus_mr_over_two(m):
    np.testing.assert_allclose(
        effective_dimension(R, massive_propagator(R, m, 3)), (1 + m * R) / 2, rtol=1e-8
    )


def test_d3_propagator_closed_form_and_massless_limit():
    m = 1.7
    np.testing.assert_allclose(
        massive_propagator(R, m, 3), np.exp(-m * R) / (4 * np.pi * R), rtol=1e-12
    )
    for d in (3, 4, 6):
        # Gamma(d/2 - 1) / (4 pi^{d/2} r^{d-2}) as m -> 0
        massless = math.gamma(d / 2 - 1) / (4 * math.pi ** (d / 2) * R ** (d - 2))
        np.testing.assert_allclose(massive_propagator(R, 0.0, d), massless, rtol=1e-12)
        np.testing.assert_allclose(massive_propagator(R, 1e-7, d), massless, rtol=1e-5)


@given(m=st.floats(0.05, 20.0), d=st.integers(2, 6))
@FAST
def test_massive_propagator_is_rejected(m, d):
    result = conformality_test(R, massive_propagator(R, m, d))
    assert result.evaluated and result.conformal is False


@pytest.mark.parametrize("d", [3, 4, 5, 6])
def test_massless_propagator_is_accepted_at_the_free_dimension(d):
    result = conformality_test(R, massive_propagator(R, 0.0, d))
    assert result.conformal is True
    assert result.delta == pytest.approx((d - 2) / 2, abs=1e-10)


def test_massless_two_dimensional_propagator_is_refused():
    with pytest.raises(ValueError, match="logarithmic"):
        massive_propagator(R, 0.0, 2)


def test_unusable_correlator_is_not_evaluated():
    G = massive_propagator(R, 1.0, 3)
    for bad in (-G, np.where(R > 1, np.nan, G), G[:-1]):
        result = conformality_test(R, bad)
        assert result.evaluated is False and result.conformal is None


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("d", [2, 3, 4])
def test_every_broken_geometry_is_caught_by_its_contract(seed, d):
    rng = np.random.default_rng(seed)
    outcomes = []
    for g in broken_geometries(rng, d=d, z_h=0.5 + seed):
        results = evaluate_contracts(g.z, g.A_t, g.A_x, g.A_z, g.f, g.d, g.family, T=g.T, z_h=g.z_h)
        failed = {r.name for r in results if r.evaluated and not r.passed}
        assert set(g.expected_failures) <= failed, (g.kind, g.description, failed)
        outcomes.append(control_outcome(g.kind, results))
    stats = control_statistics(outcomes)
    assert (stats.verdict, stats.false_positive_rate, stats.coverage) == ("PASS", 0.0, 1.0)


def test_broken_geometries_are_deterministic_in_the_generator():
    first = broken_geometries(np.random.default_rng(7))
    second = broken_geometries(np.random.default_rng(7))
    assert [g.kind for g in first] == list(BROKEN_KINDS)
    for a, b in zip(first, second, strict=True):
        for field in ("z", "A_t", "A_x", "A_z", "f"):
            np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
        assert (a.T, a.description) == (b.T, b.description)
    with pytest.raises(ValueError):
        broken_geometry("wormhole", np.random.default_rng(0))


def test_control_outcome_from_contracts():
    ok = ContractResult("regularity", True, True, 0.0, 1e-3, "")
    bad = ContractResult("einstein", True, False, 1.0, 1e-2, "")
    skipped = ContractResult("horizon", False, None, None, 1e-6, "")
    assert control_outcome("x", [ok, skipped]) == ControlOutcome("x", True, True)
    assert control_outcome("x", [ok, bad]) == ControlOutcome("x", True, False)
    assert control_outcome("x", [skipped]) == ControlOutcome("x", False, None)


def _outcomes(n_rejected, n_false_positive, n_unevaluated):
    return (
        [ControlOutcome(f"r{i}", True, False) for i in range(n_rejected)]
        + [ControlOutcome(f"p{i}", True, True) for i in range(n_false_positive)]
        + [ControlOutcome(f"u{i}", False, None) for i in range(n_unevaluated)]
    )


def test_statistics_incomplete_when_coverage_is_low_or_nothing_evaluated():
    assert control_statistics([]).verdict == "INCOMPLETE"
    nothing = control_statistics(_outcomes(0, 0, 5))
    assert nothing.verdict == "INCOMPLETE" and nothing.false_positive_rate is None
    low = control_statistics(_outcomes(6, 0, 4))  # coverage 0.6
    assert low.verdict == "INCOMPLETE" and low.coverage == pytest.approx(0.6)
    assert control_statistics(_outcomes(7, 0, 3)).verdict == "PASS"  # coverage exactly 0.7


@given(rejected=st.integers(0, 20), false_pos=st.integers(0, 20), unevaluated=st.integers(0, 20))
@FAST
def test_statistics_rates_and_never_pass_below_coverage(rejected, false_pos, unevaluated):
    stats = control_statistics(_outcomes(rejected, false_pos, unevaluated))
    total = rejected + false_pos + unevaluated
    evaluated = rejected + false_pos
    assert stats.n_controls == total and stats.n_evaluated == evaluated
    if evaluated:
        assert stats.false_positive_rate == pytest.approx(false_pos / evaluated)
    if total == 0 or evaluated == 0 or evaluated / total < 0.7:
        assert stats.verdict == "INCOMPLETE"
    elif false_pos:
        assert stats.verdict == "FAIL"
    else:
        assert stats.verdict == "PASS"


def test_control_outcome_invariant():
    with pytest.raises(ValueError):
        ControlOutcome("x", False, True)


def test_every_declared_broken_kind_has_its_defect_and_no_other():
    # science.defaults lists the kinds for stage 04c's Params without importing this module.
    from holopipe.science import negative_controls

    assert tuple(negative_controls._DEFECTS) == BROKEN_KINDS
