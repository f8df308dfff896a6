"""Stage 05 analyze_bulk_equations.

The end-to-end tests run 03 -> 04 -> 05 on EXACT geometries written into tmp_path and check
the analytic expectations (PHYSICS.md, "05 analysis"): the zero-temperature Lifshitz mean R
against zeta is -2 zeta^2 - 2(d-1) zeta - d(d-1), and AdS-Schwarzschild has R = -d(d+1)
whatever z_h (a flat trend). The glue tests feed hand-written BulkEquations files, to show
that parameters come from ``params`` and never from names, and that a check without
enough systems is recorded as not evaluated, never as a pass.
"""

from __future__ import annotations

import json

import attrs
import pytest

from holopipe.artifacts.analysis import BulkAnalysis
from holopipe.artifacts.equations import BulkEquations, CurvatureModelComparison, SystemEquations
from holopipe.artifacts.identity import system_id
from holopipe.artifacts.prediction import GeometryMeta, GeometryPrediction
from holopipe.artifacts.records import StageSummary
from holopipe.pipeline import RunRequest, run_pipeline, run_stage
from holopipe.run.config import ConfigError
from holopipe.science.geometry import FamilyParams, metric_functions, temperature, uv_grid

STAGES = [
    "holopipe.stages.s03_bulk_equations:DiscoverBulkEquations",
    "holopipe.stages.s04_contracts:GeometryPhysicsContracts",
    "holopipe.stages.s05_analysis:AnalyzeBulkEquations",
]
STAGE_DIR = "05_analyze_bulk_equations"


def write_prediction(folder, family, d, z_h=None, **family_params):
    params = FamilyParams(family, d, z_h, **family_params)
    top = z_h or 1.0
    z = uv_grid(1e-3 * top, top, 300)
    m = metric_functions(params, z)
    name = f"{family}_d{d}_test"
    sid = system_id({"family": family, "d": d, "z_h": z_h, "params": family_params}, name=name)
    meta = GeometryMeta(
        system_id=sid, family=family, d=d, z_h=z_h, source_stage="test", git_sha="test",
        system_name=name, temperature=temperature(params), params=dict(family_params),
    )  # fmt: skip
    extra = {} if family in ("ads", "deformed") else {"A_t": m.A_t, "A_z": m.A_z}
    GeometryPrediction(z=z, A=m.A_x, f=m.f, meta=meta, **extra).write(
        folder / f"{sid}_geometry.npz"
    )
    return sid


def config(tmp_path, stage_params=None, name="config.json"):
    path = tmp_path / name
    stages = {"05": stage_params} if stage_params else {}
    path.write_text(json.dumps({"seed": 1, "pipeline": STAGES, "stages": stages}))
    return path


def read_outputs(tmp_path, experiment):
    stage_dir = tmp_path / "runs" / experiment / STAGE_DIR
    summary = json.loads((stage_dir / "stage_summary.json").read_text())
    output = stage_dir / "bulk_analysis" / "bulk_analysis.json"
    return summary, (BulkAnalysis.read(output) if output.exists() else None)


def run_chain(tmp_path, folder, stage_params=None, experiment="t"):
    """03 -> 04 -> 05 with the orchestrator; 05 reads both aliases from the manifest."""
    path = config(tmp_path, stage_params, f"config_{experiment}.json")
    code = run_pipeline(
        RunRequest(
            tmp_path / "runs", experiment, config_path=path, cli_inputs={"predictions": folder}
        ),
        echo=lambda line: None,
    )
    return (code, *read_outputs(tmp_path, experiment))


def run_05(tmp_path, equations: BulkEquations, stage_params=None, experiment="t"):
    """Stage 05 alone on a hand-written BulkEquations file."""
    path = tmp_path / f"{experiment}_in" / "bulk_equations.json"
    path.parent.mkdir()
    equations.write(path)
    code = run_stage(
        RunRequest(
            tmp_path / "runs",
            experiment,
            config_path=config(tmp_path, stage_params),
            cli_inputs={"bulk_equations": path},
        ),
        "05",
    )
    return (code, *read_outputs(tmp_path, experiment))


def lifshitz_r(zeta, d):
    return -2 * zeta**2 - 2 * (d - 1) * zeta - d * (d - 1)


def system(name, family, d, params, R_mean, verdict="constant_curvature"):
    comparison = CurvatureModelComparison(0.0, 1.0, 0.0, 1.0, "constant")
    sid = system_id({"family": family, "d": d, "params": params}, name=name)
    return SystemEquations(
        sid, family, d, 300, R_mean, 0.0, 1.0, comparison, verdict, params=params
    )


def equations(*systems):
    return BulkEquations(source_stage="test", git_sha="test", systems=list(systems))


def test_lifshitz_curvature_follows_the_analytic_trend_in_zeta(tmp_path, folder):
    zetas = (1.0, 1.5, 2.0, 3.0)
    for d in (3, 4):
        for zeta in zetas:
            write_prediction(folder, "lifshitz", d, zeta=zeta)
    write_prediction(folder, "lifshitz", 3, 1.0, zeta=2.0)  # thermal: left out of the check
    for z_h in (0.5, 1.0, 2.0):
        write_prediction(folder, "ads", 3, z_h)
    code, summary, analysis = run_chain(tmp_path, folder)
    assert code == 0 and summary["status"] == "OK", summary["warnings"]
    assert analysis.inputs == ["bulk_equations", "geometry_contracts"]
    checks = {c.d: c for c in analysis.checks if c.name == "lifshitz_ricci_vs_zeta"}
    assert set(checks) == {3, 4}
    for d, check in checks.items():
        assert check.evaluated and check.passed is True
        assert len(check.system_ids) == len(zetas)
        assert check.expected_coefficients == [-d * (d - 1), -2 * (d - 1), -2]
        assert check.fitted_coefficients == pytest.approx(check.expected_coefficients, abs=1e-6)
    key = ("lifshitz", 3, False, "zeta", "R_mean")
    trend = next(
        t for t in analysis.trends if (t.family, t.d, t.thermal, t.parameter, t.quantity) == key
    )
    assert trend.evaluated and trend.degree == 2
    assert trend.coefficients == pytest.approx([-6, -4, -2], abs=1e-6)
    flat = next(
        t for t in analysis.trends
        if (t.family, t.d, t.parameter, t.quantity) == ("ads", 3, "z_h", "R_mean")
    )  # fmt: skip
    assert flat.thermal and flat.coefficients == pytest.approx([-12, 0, 0], abs=1e-6)
    groups = {(g.family, g.d): g for g in analysis.groups}
    lifshitz = groups[("lifshitz", 3)]
    assert lifshitz.parameters == {"z_h": [1.0], "zeta": list(zetas)}
    assert lifshitz.verdicts == {"constant_curvature": 3, "einstein": 1, "z_dependent_curvature": 1}
    assert groups[("ads", 3)].contracts["einstein"].passed == 3  # joined from stage 04
    assert summary["metrics"]["n_checks_passed"] == 2


def test_parameters_come_from_params_never_from_names(tmp_path):
    # The names claim zeta 9; the params say otherwise, and they decide.
    systems = [
        system(f"lifshitz_zeta9_d3_{i}", "lifshitz", 3, {"zeta": zeta}, lifshitz_r(zeta, 3))
        for i, zeta in enumerate((1.5, 2.0, 2.5))
    ]
    code, summary, analysis = run_05(tmp_path, equations(*systems))
    (check,) = analysis.checks
    assert check.evaluated and check.passed is True
    assert analysis.groups[0].parameters == {"zeta": [1.5, 2.0, 2.5]}
    assert analysis.inputs == ["bulk_equations"]  # the contracts are optional
    assert code == 0


def test_a_wrong_lifshitz_curvature_fails_the_check(tmp_path):
    systems = [
        system(f"lifshitz_d4_{i}", "lifshitz", 4, {"zeta": zeta}, lifshitz_r(zeta, 4) + 0.5 * zeta)
        for i, zeta in enumerate((1.0, 2.0, 3.0))
    ]
    code, summary, analysis = run_05(tmp_path, equations(*systems))
    assert analysis.checks[0].evaluated and analysis.checks[0].passed is False
    assert code == 1 and any("failed" in w for w in summary["warnings"])


@pytest.mark.parametrize(
    "systems, reason",
    [
        # two distinct zeta: a quadratic trend needs three
        ([("lifshitz", 3, {"zeta": 1.5}), ("lifshitz", 3, {"zeta": 2.0})], "2 distinct zeta"),
        # thermal only: R is not constant, the formula does not apply
        (
            [("lifshitz", 3, {"zeta": z, "z_h": 1.0}) for z in (1.5, 2.0, 3.0)],
            "none at zero temperature",
        ),
    ],
)
def test_too_few_lifshitz_systems_is_not_evaluated_never_a_pass(tmp_path, systems, reason):
    items = [
        system(f"lifshitz_d{d}_{i}", family, d, params, lifshitz_r(params["zeta"], d))
        for i, (family, d, params) in enumerate(systems)
    ]
    code, summary, analysis = run_05(tmp_path, equations(*items))
    (check,) = analysis.checks
    assert check.evaluated is False and check.passed is None and reason in check.message
    assert any("not evaluated" in n for n in summary["notes"])
    assert not any("not evaluated" in w for w in summary["warnings"])
    assert summary["metrics"]["n_checks_passed"] == 0


def test_thermal_lifshitz_systems_are_checked_on_their_uv_curvature(tmp_path, folder):
    # Only T > 0 Lifshitz geometries (as stage 01 draws them): their mean R is off the law,
    # R in the UV follows it.
    for zeta in (1.3, 1.7, 2.2):
        write_prediction(folder, "lifshitz", 3, 1.0, zeta=zeta)
    code, summary, analysis = run_chain(tmp_path, folder)
    (check,) = analysis.checks
    assert check.evaluated and check.passed is True, check.message
    assert "thermal system(s), R in the UV" in check.message
    assert check.fitted_coefficients == pytest.approx([-6, -4, -2], abs=1e-4)
    assert code == 0 and summary["metrics"]["n_checks_passed"] == 1


def test_a_wrong_uv_curvature_fails_the_check(tmp_path):
    items = [
        attrs.evolve(
            system(f"lifshitz_d3_{i}", "lifshitz", 3, {"zeta": z, "z_h": 1.0}, 0.0),
            R_uv=lifshitz_r(z, 3) + 0.3 * z,
        )
        for i, z in enumerate((1.3, 1.7, 2.2))
    ]
    code, summary, analysis = run_05(tmp_path, equations(*items))
    (check,) = analysis.checks
    assert check.evaluated and check.passed is False
    assert code == 1 and any("failed" in w for w in summary["warnings"])


def test_without_lifshitz_the_check_is_recorded_as_not_evaluated(tmp_path):
    items = [
        system(f"ads_d3_{i}", "ads", 3, {"z_h": z_h}, -12.0, "einstein")
        for i, z_h in enumerate((1.0, 2.0))
    ]
    code, summary, analysis = run_05(tmp_path, equations(*items))
    (check,) = analysis.checks
    assert check.evaluated is False and check.passed is None and check.d is None
    (trend,) = [t for t in analysis.trends if t.quantity == "R_mean"]
    assert trend.evaluated and trend.degree == 1 and trend.stderr is None  # 2 points, no dof
    assert code == 0


def test_nothing_evaluated_is_a_warning(tmp_path):
    items = [system("ads_d3_0", "ads", 3, {"z_h": 1.0}, -12.0, "einstein")]
    code, summary, analysis = run_05(tmp_path, equations(*items))
    assert not any(t.evaluated for t in analysis.trends)
    assert code == 1 and any("nothing evaluated" in w for w in summary["warnings"])


@pytest.mark.parametrize(
    "bad, key", [({"max_degree": 0}, "max_degree"), ({"lifshitz_rtol": 0.0}, "lifshitz_rtol")]
)
def test_invalid_params_fail_at_config_time(tmp_path, bad, key):
    items = [system("ads_d3_0", "ads", 3, {}, -12.0, "einstein")]
    with pytest.raises(ConfigError, match=key):
        run_05(tmp_path, equations(*items), bad)


def test_the_lifshitz_check_is_recorded_with_its_deviation_and_tolerance(tmp_path):
    """R = law + 0.5 zeta at zeta = 1, 2, 3 (d = 4): the largest miss is 0.5 * 3 = 1.5 against
    the largest law coefficient d(d-1) = 12, so the deviation is 1.5 / 12 (> 1e-2: fails)."""
    exact = [
        system(f"lifshitz_d3_{i}", "lifshitz", 3, {"zeta": zeta}, lifshitz_r(zeta, 3))
        for i, zeta in enumerate((1.5, 2.0, 2.5))
    ]
    wrong = [
        system(f"lifshitz_d4_{i}", "lifshitz", 4, {"zeta": zeta}, lifshitz_r(zeta, 4) + 0.5 * zeta)
        for i, zeta in enumerate((1.0, 2.0, 3.0))
    ]
    code, _, _ = run_05(tmp_path, equations(*exact, *wrong))
    summary = StageSummary.read(tmp_path / "runs" / "t" / STAGE_DIR / "stage_summary.json")
    checks = {c.name: c for c in summary.checks}
    assert set(checks) == {"d3.lifshitz_ricci_vs_zeta", "d4.lifshitz_ricci_vs_zeta"}
    good, bad = checks["d3.lifshitz_ricci_vs_zeta"], checks["d4.lifshitz_ricci_vs_zeta"]
    assert good.passed and good.value < 1e-9 and good.tolerance == 1e-2
    assert bad.value == pytest.approx(1.5 / 12, rel=1e-9) and bad.tolerance == 1e-2
    assert not bad.passed and not bad.expected_failure and bad.group == "lifshitz"
    assert code == 1
    assert summary.failed_checks_line() == (
        "05: 1 checks failed, NOT expected: lifshitz lifshitz_ricci_vs_zeta (1)"
    )
