"""Stage 04 geometry_physics_contracts, run through holopipe.pipeline.run_stage.

Inputs are GeometryPrediction files of EXACT geometries; expectations are analytic
(PHYSICS.md, "04 geometry contracts"):

- exact AdS and AdS-Schwarzschild pass every contract for every z_h and d (positive control);
- deformed A = -ln z + a z^2 at f = 1: e^{-2A} (A'' - A'^2) = z^2 e^{-2a z^2} 2a (3 - 2a z^2),
  positive for a > 0 (null energy violated), negative for a < 0;
- Lifshitz: R + d(d+1) = -2(zeta-1)(zeta+d), so as an Einstein space it misses by
  2(zeta-1)(zeta+d) / (d(d+1)); as family lifshitz the vacuum Einstein contract does not apply.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from holopipe.artifacts.contracts import ContractsSummary, GeometryContracts
from holopipe.artifacts.identity import system_id
from holopipe.artifacts.prediction import GeometryMeta, GeometryPrediction
from holopipe.pipeline import RunRequest, run_stage
from holopipe.run.config import ConfigError
from holopipe.run.layout import RunLayout
from holopipe.run.publish import last_attempt_dir
from holopipe.science.contracts import CONTRACT_NAMES, ContractResult
from holopipe.science.geometry import FamilyParams, metric_functions, temperature, uv_grid
from holopipe.stages.work import geometry_contracts

STAGE = "holopipe.stages.s04_contracts:GeometryPhysicsContracts"
STAGE_DIR = "04_geometry_physics_contracts"
N = 300


def write_prediction(folder, family, d, z_h=None, label=None, file_d=None, **family_params):
    """An exact geometry, claiming family ``label`` (default: its own) in the meta."""
    params = FamilyParams(family, d, z_h, **family_params)
    top = z_h or 1.0
    z = uv_grid(1e-3 * top, top, N)
    m = metric_functions(params, z)
    label = label or family
    name = f"{label}_d{d}_test"
    defining = {"family": label, "d": d, "z_h": z_h, "params": family_params, "truth": family}
    sid = system_id(defining, name=name)
    meta = GeometryMeta(
        system_id=sid, family=label, d=d, z_h=z_h, source_stage="test", git_sha="test",
        system_name=name, temperature=temperature(params), params=dict(family_params),
    )  # fmt: skip
    extra = {} if family in ("ads", "deformed") else {"A_t": m.A_t, "A_z": m.A_z}
    file_name = f"{label}_d{file_d or d}_{sid.rsplit('-', 1)[1]}_geometry.npz"
    GeometryPrediction(z=z, A=m.A_x, f=m.f, meta=meta, **extra).write(folder / file_name)
    return sid


def run(tmp_path, folder, stage_params=None, experiment="t"):
    config = tmp_path / f"config_{experiment}.json"
    stages = {"04": stage_params} if stage_params else {}
    config.write_text(json.dumps({"seed": 1, "pipeline": [STAGE], "stages": stages}))
    code = run_stage(
        RunRequest(
            tmp_path / "runs", experiment, config_path=config, cli_inputs={"predictions": folder}
        ),
        "04",
    )
    # a failed attempt is kept aside in <key>.failed/, never published
    stage_dir = last_attempt_dir(RunLayout.create(tmp_path / "runs", experiment), STAGE_DIR)
    summary = json.loads((stage_dir / "stage_summary.json").read_text())
    output = stage_dir / "geometry_contracts" / "geometry_contracts.json"
    systems = {}
    if output.exists():
        systems = {s.system_id: s for s in GeometryContracts.read(output).systems}
    return code, summary, systems


def contracts(system):
    return {c.name: c for c in system.contracts}


def test_exact_ads_passes_every_contract_for_every_z_h(tmp_path, folder):
    cases = [(d, z_h) for d in (2, 3, 4) for z_h in (None, 0.3, 1.0, 2.5)]
    ids = {case: write_prediction(folder, "ads", *case) for case in cases}
    code, summary, systems = run(tmp_path, folder)
    assert code == 0 and summary["status"] == "OK" and not summary["warnings"]
    for (d, z_h), sid in ids.items():
        system = systems[sid]
        assert system.d == d and system.role == "prediction"
        results = contracts(system)
        assert list(results) == list(CONTRACT_NAMES)
        assert all(c.passed for c in results.values() if c.evaluated)
        expected = {"regularity", "uv_asymptotics", "einstein", "null_energy", "d_consistency"}
        if z_h is not None:
            expected |= {"horizon", "temperature"}
        assert {name for name, c in results.items() if c.evaluated} == expected
    summary_file = tmp_path / "runs/t" / STAGE_DIR / "geometry_contracts" / "contracts_summary.json"
    totals = ContractsSummary.read(summary_file)
    assert totals.verdict == "PASS" and totals.n_systems == len(cases) and totals.totals.failed == 0
    assert summary["metrics"]["n_failed"] == 0


@pytest.mark.parametrize("d, a", [(3, 0.2), (4, 0.05), (2, 1.0)])
def test_deformed_with_positive_a_violates_null_energy(tmp_path, folder, d, a):
    sid = write_prediction(folder, "deformed", d, a=a)
    code, summary, systems = run(tmp_path, folder)
    null_energy = contracts(systems[sid])["null_energy"]
    z = uv_grid(1e-3, 1.0, N)
    exact = z**2 * np.exp(-2 * a * z**2) * 2 * a * (3 - 2 * a * z**2)
    assert null_energy.evaluated and null_energy.passed is False
    assert null_energy.value == pytest.approx(exact.max(), rel=1e-6)
    # A physics finding: recorded and noted (which system and contract); the stage did its job.
    assert code == 0 and summary["status"] == "OK" and not summary["warnings"]
    assert any(sid in n and "null_energy" in n for n in summary["notes"])
    assert summary["metrics"]["n_systems_failing"] == 1
    assert all(s["status"] == "OK" for s in summary["systems"])


def test_deformed_with_negative_a_satisfies_null_energy(tmp_path, folder):
    sid = write_prediction(folder, "deformed", 3, 1.0, a=-0.3)
    code, _, systems = run(tmp_path, folder)
    results = contracts(systems[sid])
    assert results["null_energy"].passed is True
    assert results["einstein"].evaluated is False  # vacuum Einstein: ads family only
    assert code == 0


@pytest.mark.parametrize("d, zeta", [(3, 2.0), (4, 1.5)])
def test_lifshitz_fails_einstein_by_the_analytic_amount(tmp_path, folder, d, zeta):
    as_ads = write_prediction(folder, "lifshitz", d, label="ads", zeta=zeta)
    as_lifshitz = write_prediction(folder, "lifshitz", d, zeta=zeta)
    code, summary, systems = run(tmp_path, folder)
    einstein = contracts(systems[as_ads])["einstein"]
    assert einstein.evaluated and einstein.passed is False
    assert einstein.value == pytest.approx(2 * (zeta - 1) * (zeta + d) / (d * (d + 1)), rel=1e-6)
    # Claimed as lifshitz, the vacuum Einstein contract is not evaluated: never a pass.
    own = contracts(systems[as_lifshitz])
    assert own["einstein"].evaluated is False and own["einstein"].passed is None
    assert own["null_energy"].passed is True  # e^{-2A} N = 1 - zeta <= 0
    assert code == 0 and any(as_ads in n and "einstein" in n for n in summary["notes"])


def test_d_is_read_per_geometry_and_checked_against_the_file_name(tmp_path, folder):
    right = write_prediction(folder, "ads", 3, 1.0)
    wrong = write_prediction(folder, "ads", 2, 1.0, file_d=4)  # file name says d4
    code, summary, systems = run(tmp_path, folder)
    assert contracts(systems[right])["d_consistency"].passed is True
    bad = contracts(systems[wrong])
    assert bad["d_consistency"].passed is False and "file name (4)" in bad["d_consistency"].message
    assert bad["einstein"].passed is True  # computed with the geometry's own d = 2
    assert systems[wrong].d == 2
    assert code == 1


def test_tolerances_are_configurable(tmp_path, folder):
    sid = write_prediction(folder, "deformed", 3, a=0.2)
    code, _, systems = run(tmp_path, folder, {"null_energy_tolerance": 1.0})
    null_energy = contracts(systems[sid])["null_energy"]
    assert null_energy.tolerance == 1.0 and null_energy.passed is True
    assert code == 0


@pytest.mark.parametrize("bad", [{"einstein_tolerance": 0.0}, {"uv_slope_tolerance": -1.0}])
def test_invalid_tolerances_fail_at_config_time(tmp_path, folder, bad):
    write_prediction(folder, "ads", 3)
    with pytest.raises(ConfigError, match=next(iter(bad))):
        run(tmp_path, folder, bad)


def test_zero_evaluated_contracts_is_incomplete(tmp_path, folder, monkeypatch):
    def nothing_evaluated(*args, **kwargs):
        return [ContractResult(n, False, None, None, 0.0, "starved") for n in CONTRACT_NAMES]

    monkeypatch.setattr(geometry_contracts, "evaluate_contracts", nothing_evaluated)
    write_prediction(folder, "ads", 3, 1.0)
    code, summary, systems = run(tmp_path, folder)
    assert code == 2 and summary["status"] == "INCOMPLETE"
    assert any("zero contracts evaluated" in e for e in summary["errors"])
    assert summary["metrics"]["n_evaluated"] == 0
