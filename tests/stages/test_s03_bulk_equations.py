"""Stage 03 discover_bulk_equations, run through holopipe.pipeline.run_stage.

Inputs are GeometryPrediction files of EXACT geometries written into tmp_path; expected
numbers are analytic (PHYSICS.md, and by hand from R = e^{-2A}[-f'' - 2d (f A')' - d(d-1) f A'^2]):

- AdS-Schwarzschild: R = -d(d+1) and E_mn = 0 for every z_h;
- Lifshitz at T = 0: R + d(d+1) = -2(zeta-1)(zeta+d), constant; with a horizon
  f = 1 - y, y = (z/z_h)^(d+zeta-1): R = R_0 - (d-1)(zeta-1) y;
- deformed A = -ln z + a z^2 at T = 0:
  R = e^{-2a z^2} [-d(d+1) + 4ad(d-2) z^2 - 4a^2 d(d-1) z^4], so R + d(d+1) = 6ad(d-1) z^2 + O(z^4).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from holopipe.artifacts.equations import BulkEquations
from holopipe.artifacts.identity import system_id
from holopipe.artifacts.prediction import GeometryMeta, GeometryPrediction
from holopipe.artifacts.records import StageSummary
from holopipe.pipeline import RunRequest, run_stage
from holopipe.run.config import ConfigError
from holopipe.science.geometry import FamilyParams, metric_functions, temperature, uv_grid

STAGE = "holopipe.stages.s03_bulk_equations:DiscoverBulkEquations"
STAGE_DIR = "03_discover_bulk_equations"
N = 300  # "a few hundred points"


def grid(z_h: float | None, z_max: float = 1.0) -> np.ndarray:
    """Log-uniform grid from 1e-3 z_top to z_top = z_h (or z_max at T = 0)."""
    top = z_h or z_max
    return uv_grid(1e-3 * top, top, N)


def write_prediction(folder, family, d, z_h=None, z_max=1.0, **family_params):
    """An exact geometry of the ansatz; A_t, A_z stored only where they differ from A."""
    params = FamilyParams(family, d, z_h, **family_params)
    z = grid(z_h, z_max)
    m = metric_functions(params, z)
    defining = {"family": family, "d": d, "z_h": z_h, "params": family_params, "z_max": z_max}
    name = f"{family}_d{d}_test"
    sid = system_id(defining, name=name)
    meta = GeometryMeta(
        system_id=sid, family=family, d=d, z_h=z_h, source_stage="test", git_sha="test",
        system_name=name, temperature=temperature(params), params=dict(family_params),
    )  # fmt: skip
    conformal = family in ("ads", "deformed")
    extra = {} if conformal else {"A_t": m.A_t, "A_z": m.A_z}
    GeometryPrediction(z=z, A=m.A_x, f=m.f, meta=meta, **extra).write(
        folder / f"{sid}_geometry.npz"
    )
    return sid


def write_mislabelled_lifshitz(folder, d, zeta):
    """An exact Lifshitz geometry whose meta calls it ads (the label must not decide)."""
    z = grid(None)
    m = metric_functions(FamilyParams("lifshitz", d, None, zeta=zeta), z)
    name = f"ads_d{d}_mislabelled"
    sid = system_id({"family": "ads", "d": d, "mislabelled": True}, name=name)
    meta = GeometryMeta(sid, "ads", d, None, "test", "test", system_name=name)
    GeometryPrediction(z=z, A=m.A_x, f=m.f, meta=meta, A_t=m.A_t, A_z=m.A_z).write(
        folder / f"{name}_geometry.npz"
    )
    return sid


def run(tmp_path, folder, stage_params=None, jobs=1, experiment="t", seed=1):
    config = tmp_path / f"config_{experiment}.json"
    stages = {"03": stage_params} if stage_params else {}
    config.write_text(json.dumps({"seed": seed, "pipeline": [STAGE], "stages": stages}))
    inputs = {"predictions": folder}
    request = RunRequest(tmp_path / "runs", experiment, config, cli_inputs=inputs, jobs=jobs)
    code = run_stage(request, "03")
    stage_dir = tmp_path / "runs" / experiment / STAGE_DIR
    summary = json.loads((stage_dir / "stage_summary.json").read_text())
    output = stage_dir / "bulk_equations" / "bulk_equations.json"
    systems = (
        {s.system_id: s for s in BulkEquations.read(output).systems} if output.exists() else {}
    )
    return code, summary, systems


def test_ads_schwarzschild_is_einstein_for_every_d_and_z_h(tmp_path, folder):
    ids = {
        (d, z_h): write_prediction(folder, "ads", d, z_h)
        for d in (2, 3, 4)
        for z_h in (None, 0.5, 1.0, 3.0)
    }
    code, summary, systems = run(tmp_path, folder)
    assert code == 0 and summary["status"] == "OK"
    assert len(systems) == len(ids)
    for (d, z_h), sid in ids.items():
        s = systems[sid]
        assert s.d == d  # the geometry's own d, from its meta
        assert s.verdict == "einstein"
        assert abs(s.R_mean + d * (d + 1)) / (d * (d + 1)) < 1e-6  # PHYSICS.md asks 1e-2
        assert s.max_abs_einstein_residual / d < 1e-4
        assert s.model_comparison.preferred == "constant"
        assert s.R_expected == -d * (d + 1)
        assert s.params == ({} if z_h is None else {"z_h": z_h})
        assert any(f"R_mn = -{d} g_mn" in e for e in s.equations)
    assert summary["metrics"]["n_einstein"] == len(ids)


@pytest.mark.parametrize("d", [2, 3, 4])
def test_zero_temperature_lifshitz_has_the_constant_offset(tmp_path, folder, d):
    zetas = (1.5, 2.0, 3.0)
    ids = {zeta: write_prediction(folder, "lifshitz", d, zeta=zeta) for zeta in zetas}
    code, summary, systems = run(tmp_path, folder)
    assert code == 0
    for zeta, sid in ids.items():
        s = systems[sid]
        offset = -2 * (zeta - 1) * (zeta + d)
        assert s.R_mean + d * (d + 1) == pytest.approx(offset, rel=1e-6)
        assert s.R_expected == pytest.approx(-d * (d + 1) + offset, rel=1e-12)
        # Not Einstein: R^t_t = -zeta(zeta+d-1), so E^t_t = -(zeta-1)(zeta+d), the largest.
        assert s.verdict == "constant_curvature"
        assert s.max_abs_einstein_residual == pytest.approx((zeta - 1) * (zeta + d), rel=1e-6)
        assert s.params == {"zeta": zeta}


def test_thermal_lifshitz_curvature_depends_on_z(tmp_path, folder):
    d, zeta, z_h = 3, 2.0, 1.5
    sid = write_prediction(folder, "lifshitz", d, z_h, zeta=zeta)
    code, summary, systems = run(tmp_path, folder)
    s = systems[sid]
    y = (grid(z_h) / z_h) ** (d + zeta - 1)
    exact = -2 * zeta**2 - 2 * (d - 1) * zeta - d * (d - 1) - (d - 1) * (zeta - 1) * y
    assert s.R_mean == pytest.approx(exact.mean(), rel=1e-6)
    assert s.R_std == pytest.approx(exact.std(), rel=1e-3)
    assert s.verdict == "z_dependent_curvature"
    assert s.R_expected is None  # R is not constant at T > 0
    # In the UV the horizon's correction vanishes: R -> the zero-temperature law.
    assert s.R_uv == pytest.approx(-2 * zeta**2 - 2 * (d - 1) * zeta - d * (d - 1), rel=1e-6)
    assert s.params == {"zeta": zeta, "z_h": z_h}
    assert code == 0


@pytest.mark.parametrize("d, a", [(3, 0.2), (4, -0.3), (2, 0.5)])
def test_deformed_curvature_offset(tmp_path, folder, d, a):
    sid = write_prediction(folder, "deformed", d, a=a)
    near = write_prediction(folder, "deformed", d, z_max=0.05, a=a)
    code, summary, systems = run(tmp_path, folder)
    z = grid(None)
    exact = np.exp(-2 * a * z**2) * (
        -d * (d + 1) + 4 * a * d * (d - 2) * z**2 - 4 * a**2 * d * (d - 1) * z**4
    )
    s = systems[sid]
    assert s.R_mean == pytest.approx(exact.mean(), rel=1e-6)
    assert s.verdict == "z_dependent_curvature"
    assert s.R_expected is None
    assert s.params == {"a": a}
    # Near the boundary the offset is the leading 6 a d (d-1) z^2 (next order: relative z^2).
    z_near = grid(None, z_max=0.05)
    leading = 6 * a * d * (d - 1) * np.mean(z_near**2)
    assert systems[near].R_mean + d * (d + 1) == pytest.approx(leading, rel=1e-2)
    assert code == 0


def test_family_label_does_not_decide_the_verdict(tmp_path, folder):
    """A Lifshitz geometry labelled ads: not Einstein, and a warning says so."""
    d, zeta = 3, 2.0
    sid = write_mislabelled_lifshitz(folder, d, zeta)
    code, summary, systems = run(tmp_path, folder)
    s = systems[sid]
    assert s.verdict == "constant_curvature"
    assert s.R_mean + d * (d + 1) == pytest.approx(-2 * (zeta - 1) * (zeta + d), rel=1e-6)
    assert code == 1 and summary["status"] == "WARNING"
    assert any(sid in w and "not Einstein" in w for w in summary["warnings"])
    assert summary["metrics"]["max_rel_deviation_from_R_expected"] == pytest.approx(
        10 / 12, rel=1e-6
    )


def test_aic_criterion_and_degree_are_configurable(tmp_path, folder):
    sid = write_prediction(folder, "deformed", 3, a=0.2)
    code, _, systems = run(tmp_path, folder, {"criterion": "aic", "model_degree": 3})
    s = systems[sid]
    assert code == 0 and s.verdict == "z_dependent_curvature"
    assert s.model_comparison.aic_z_dependent < s.model_comparison.aic_constant
    assert "z^3" in s.equations[0]


@pytest.mark.parametrize(
    "bad, key",
    [
        ({"criterion": "chi2"}, "criterion"),
        ({"model_degree": 0}, "model_degree"),
        ({"einstein_tolerance": 0.0}, "einstein_tolerance"),
        ({"relative_flor": 1e-4}, "relative_flor"),
    ],
)
def test_invalid_params_fail_at_config_time(tmp_path, folder, bad, key):
    write_prediction(folder, "ads", 3, 1.0)
    with pytest.raises(ConfigError, match=key):
        run(tmp_path, folder, bad)


def test_outputs_are_byte_deterministic_across_runs_and_workers(tmp_path, folder):
    for d, z_h in ((2, 1.0), (3, None), (4, 0.7)):
        write_prediction(folder, "ads", d, z_h)
    write_prediction(folder, "lifshitz", 3, 1.0, zeta=2.0)
    write_prediction(folder, "deformed", 3, a=0.2)
    payloads = []
    for experiment, jobs in (("one", 1), ("again", 1), ("two", 2)):
        run(tmp_path, folder, jobs=jobs, experiment=experiment)
        path = tmp_path / "runs" / experiment / STAGE_DIR / "bulk_equations" / "bulk_equations.json"
        payloads.append(path.read_bytes())
    assert payloads[0] == payloads[1] == payloads[2]


def checks_of(tmp_path, experiment="t"):
    summary = StageSummary.read(tmp_path / "runs" / experiment / STAGE_DIR / "stage_summary.json")
    return summary, {c.name: c for c in summary.checks}


def test_ads_systems_check_the_einstein_residual_with_its_tolerance(tmp_path, folder):
    """One check per ads system (the value its status depends on): exact AdS-Schwarzschild has
    E = 0; a Lifshitz geometry labelled ads has max |E^m_n| = (zeta-1)(zeta+d) (PHYSICS.md)."""
    d, zeta = 3, 2.0
    exact = {z_h: write_prediction(folder, "ads", d, z_h) for z_h in (None, 1.0)}
    wrong = write_mislabelled_lifshitz(folder, d, zeta)
    write_prediction(folder, "deformed", d, a=0.2)  # not ads: its verdict is a result, no check
    code, _, _ = run(tmp_path, folder)
    summary, checks = checks_of(tmp_path)
    assert set(checks) == {f"{sid}.einstein_residual" for sid in (*exact.values(), wrong)}
    for sid in exact.values():
        check = checks[f"{sid}.einstein_residual"]
        assert check.passed and check.value < 1e-4 and check.tolerance == 1e-2
    check = checks[f"{wrong}.einstein_residual"]
    assert check.value == pytest.approx((zeta - 1) * (zeta + d) / d, rel=1e-6)
    assert not check.passed and not check.expected_failure and check.group == "ads"
    assert code == 1
    assert (
        summary.failed_checks_line()
        == "03: 1 checks failed, NOT expected: ads einstein_residual (1)"
    )
