"""Stage 04 geometry contracts (holopipe.science.contracts).

Positive control: exact AdS and AdS-Schwarzschild pass every contract for every z_h.
Negative ones use PHYSICS.md's analytic statements: deformed a > 0 violates the null
energy condition, Lifshitz fails Einstein by 2(zeta-1)(zeta+d), hvlf has UV slope
-(1 - theta/(d-1)).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from holopipe.science.contracts import (
    CONTRACT_NAMES,
    ContractResult,
    ContractTolerances,
    check_d_consistency,
    check_einstein,
    check_horizon,
    check_null_energy,
    check_regularity,
    check_temperature,
    check_uv_asymptotics,
    evaluate_contracts,
)
from holopipe.science.geometry import FamilyParams, metric_functions, uv_grid

FAST = settings(max_examples=20, deadline=None)
HORIZONS = st.floats(min_value=-2.0, max_value=2.0).map(lambda e: 10.0**e)


def _geometry(params: FamilyParams, n: int = 300, past: float = 1.0):
    top = params.z_h * past if params.z_h is not None else 1.0
    z = uv_grid(1e-3 * top / past, top, n)
    return z, metric_functions(params, z)


def _ads_temperature(d, z_h):
    return d / (4 * math.pi * z_h)  # PHYSICS.md table


def _by_name(results):
    return {r.name: r for r in results}


@given(
    d=st.integers(2, 5),
    z_h=st.one_of(st.none(), HORIZONS),
    past=st.sampled_from([1.0, 1.2]),
)
@FAST
def test_positive_control_ads_passes_everything(d, z_h, past):
    params = FamilyParams("ads", d, z_h)
    z, m = _geometry(params, past=past)
    T = 0.0 if z_h is None else _ads_temperature(d, z_h)
    results = evaluate_contracts(z, *m, d=d, family="ads", T=T, z_h=z_h, name_d=d, attrs_d=d)
    assert [r.name for r in results] == list(CONTRACT_NAMES)
    assert all(r.passed for r in results if r.evaluated), [r for r in results if not r.passed]
    not_evaluated = {r.name for r in results if not r.evaluated}
    assert not_evaluated == (set() if z_h is not None else {"horizon", "temperature"})


def test_positive_control_with_horizon_located_from_temperature():
    """No z_h claimed, grid on the open interval (0, z_h): the horizon is found by a
    one-step extrapolation and T agrees."""
    d, z_h = 4, 0.7
    z = uv_grid(1e-3 * z_h, 0.995 * z_h, 300)
    m = metric_functions(FamilyParams("ads", d, z_h), z)
    results = _by_name(evaluate_contracts(z, *m, d=d, family="ads", T=_ads_temperature(d, z_h)))
    for name in ("regularity", "horizon", "temperature", "einstein", "null_energy"):
        assert results[name].evaluated and results[name].passed, results[name]


@given(a=st.floats(0.05, 1.0), d=st.integers(2, 5), thermal=st.booleans())
@FAST
def test_deformed_positive_a_violates_null_energy(a, d, thermal):
    params = FamilyParams("deformed", d, 1.0 if thermal else None, a=a)
    z, m = _geometry(params)
    results = _by_name(evaluate_contracts(z, *m, d=d, family="deformed"))
    nec = results["null_energy"]
    assert nec.evaluated and nec.passed is False
    # e^{-2A} (A'' - A'^2) = z^2 e^{-2 a z^2} 2a (3 - 2 a z^2), maximised over the grid
    # points where f > 0 (written out analytically, not taken from the code)
    where = z < 1.0 if thermal else np.ones(z.shape, dtype=bool)
    frame = z**2 * np.exp(-2 * a * z**2) * 2 * a * (3 - 2 * a * z**2)
    assert nec.value == pytest.approx(np.max(frame[where]), rel=1e-5)
    assert results["einstein"].evaluated is False  # matter-supported: not a vacuum check


@given(a=st.floats(-1.0, 0.0), d=st.integers(2, 5))
@FAST
def test_deformed_negative_a_satisfies_null_energy(a, d):
    z, m = _geometry(FamilyParams("deformed", d, None, a=a))
    assert check_null_energy(z, *m).passed


@given(zeta=st.floats(1.2, 4.0), d=st.integers(2, 5))
@FAST
def test_lifshitz_fails_einstein_by_the_analytic_offset(zeta, d):
    z, m = _geometry(FamilyParams("lifshitz", d, None, zeta=zeta))
    result = check_einstein(z, *m, d=d)
    assert result.evaluated and result.passed is False
    assert result.value == pytest.approx(2 * (zeta - 1) * (zeta + d) / (d * (d + 1)), rel=1e-5)
    by_family = _by_name(evaluate_contracts(z, *m, d=d, family="lifshitz"))
    assert by_family["einstein"].evaluated is False
    assert by_family["null_energy"].passed  # Lifshitz satisfies the NEC for zeta >= 1


@given(theta_frac=st.floats(0.1, 0.9), d=st.integers(2, 5))
@FAST
def test_hvlf_is_not_asymptotically_ads(theta_frac, d):
    theta = theta_frac * (d - 1)
    z, m = _geometry(FamilyParams("hvlf", d, None, zeta=1.5, theta=theta))
    result = check_uv_asymptotics(z, m.A_x)
    assert result.passed is False
    assert result.value == pytest.approx(theta / (d - 1), rel=1e-8)  # slope -(1 - theta/(d-1))


def test_contract_result_never_passes_unevaluated():
    with pytest.raises(ValueError):
        ContractResult("horizon", False, True, None, 1e-6, "")
    with pytest.raises(ValueError):
        ContractResult("horizon", True, None, None, 1e-6, "")


def test_horizon_and_temperature_at_zero_temperature_are_not_evaluated():
    z, m = _geometry(FamilyParams("ads", 3, None))
    assert check_horizon(z, m.f, None, T=0.0).evaluated is False
    assert check_temperature(z, m.A_t, m.A_z, m.f, T=0.0).evaluated is False
    assert check_temperature(z, m.A_t, m.A_z, m.f, T=None).evaluated is False


def test_thermal_claim_without_horizon_fails():
    z, m = _geometry(FamilyParams("ads", 3, None))
    result = check_horizon(z, m.f, None, T=0.2)
    assert result.evaluated and result.passed is False


def test_horizon_beyond_the_grid_is_not_evaluated():
    z = uv_grid(1e-3, 0.5, 200)
    f = 1 - z**3
    assert check_horizon(z, f, z_h=1.0).evaluated is False


def test_double_zero_is_not_a_simple_horizon():
    z = uv_grid(1e-3, 1.0, 300)
    assert check_horizon(z, (1 - z) ** 2, z_h=1.0).passed is False


def test_temperature_mismatch_fails():
    d, z_h = 3, 1.0
    z, m = _geometry(FamilyParams("ads", d, z_h))
    T = _ads_temperature(d, z_h)
    assert check_temperature(z, m.A_t, m.A_z, m.f, T * 1.01, z_h).passed is False
    assert check_temperature(z, m.A_t, m.A_z, m.f, T * 1.0005, z_h).passed is True
    assert check_temperature(z, m.A_t, m.A_z, m.f, 0.0, z_h).passed is False


def test_regularity_failures():
    z, m = _geometry(FamilyParams("ads", 3, 1.0))
    assert check_regularity(z, *m, z_h=1.0).passed
    with_nan = m.f.copy()
    with_nan[5] = np.nan
    assert check_regularity(z, m.A_t, m.A_x, m.A_z, with_nan, z_h=1.0).passed is False
    assert check_regularity(z, m.A_t, m.A_x, m.A_z, m.f * 1.01, z_h=1.0).passed is False
    dipped = m.f - 0.9 * np.exp(-(((z - 0.5) / 0.05) ** 2))
    assert check_regularity(z, m.A_t, m.A_x, m.A_z, dipped, z_h=1.0).passed is False
    # without a claimed z_h at zero temperature, a zero of f anywhere is a failure
    assert check_regularity(z, *m, z_h=None, T=None).passed is False
    assert check_regularity(z, *m, z_h=None, T=0.25).passed is True


def test_d_consistency():
    assert check_d_consistency(3).evaluated is False
    assert check_d_consistency(3, name_d=3, attrs_d=3, operator_ds=[3, 3]).passed
    mismatch = check_d_consistency(3, name_d=4, operator_ds=[3, 2])
    assert mismatch.passed is False and mismatch.value == 2.0
    assert check_d_consistency(3, attrs_d="3").passed is False


def test_d_is_per_geometry():
    """Two geometries of different d evaluated side by side each use their own d."""
    outcomes = []
    for d in (2, 4):
        z, m = _geometry(FamilyParams("ads", d, 1.0))
        results = evaluate_contracts(
            z, *m, d=d, family="ads", T=_ads_temperature(d, 1.0), z_h=1.0, name_d=d
        )
        outcomes.append(all(r.passed for r in results if r.evaluated))
    assert outcomes == [True, True]
    z, m = _geometry(FamilyParams("ads", 4, 1.0))
    wrong_d = _by_name(evaluate_contracts(z, *m, d=3, family="ads", T=_ads_temperature(4, 1.0)))
    assert wrong_d["einstein"].passed is False


def test_nan_geometry_is_caught_and_other_checks_say_why_not_evaluated():
    z, m = _geometry(FamilyParams("ads", 3, 1.0))
    A = m.A_t.copy()
    A[17] = np.nan
    results = _by_name(evaluate_contracts(z, A, A, A, m.f, 3, "ads", T=0.2387, z_h=1.0))
    assert results["regularity"].passed is False
    for name in ("temperature", "uv_asymptotics", "einstein", "null_energy"):
        assert results[name].evaluated is False and "non-finite" in results[name].message
    assert results["horizon"].passed  # needs f only, which is intact


def test_input_errors_raise():
    z, m = _geometry(FamilyParams("ads", 3, 1.0))
    with pytest.raises(ValueError):
        evaluate_contracts(z, m.A_t, m.A_x, m.A_z[:-1], m.f, 3, "ads")
    with pytest.raises(ValueError):
        evaluate_contracts(z, *m, d=1, family="ads")


def test_tolerances_are_honoured():
    z, m = _geometry(FamilyParams("lifshitz", 3, None, zeta=1.005))
    # |R + 12|/12 = 2 (0.005)(4.005)/12 = 3.3e-3 and |E^t_t|/3 = 6.7e-3: pass 1e-2, fail 1e-3
    assert check_einstein(z, *m, d=3).passed
    loose = ContractTolerances(einstein=1e-3)
    results = _by_name(evaluate_contracts(z, *m, d=3, family="ads", tolerances=loose))
    assert results["einstein"].passed is False
