"""Stage 04c negative_controls, run through holopipe.pipeline.run_stage.

Analytic facts (PHYSICS.md, "04c negative controls"): in d = 3 the massive propagator is
e^{-m r} / (4 pi r), so Delta_eff(r) = (1 + m r) / 2 runs with r and a conformality test
must reject it; at m = 0, Delta_eff = (d-2)/2 is flat and must be accepted. Broken
geometries must fail the stage 04 contracts; exact AdS(-Schwarzschild) must pass them.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from holopipe.artifacts.contracts import GeometryContracts
from holopipe.pipeline import RunRequest, run_stage
from holopipe.run.config import ConfigError
from holopipe.run.layout import RunLayout
from holopipe.run.publish import last_attempt_dir
from holopipe.science.negative_controls import BROKEN_KINDS

STAGE = "holopipe.stages.s04c_negative_controls:NegativeControls"
STAGE_DIR = "04c_negative_controls"


def run(tmp_path, stage_params=None, experiment="t", seed=1, jobs=1):
    config = tmp_path / f"config_{experiment}.json"
    stages = {"04c": stage_params} if stage_params else {}
    config.write_text(json.dumps({"seed": seed, "pipeline": [STAGE], "stages": stages}))
    code = run_stage(
        RunRequest(tmp_path / "runs", experiment, config_path=config, jobs=jobs), "04c"
    )
    # a failed attempt is kept aside in <key>.failed/, never published
    stage_dir = last_attempt_dir(RunLayout.create(tmp_path / "runs", experiment), STAGE_DIR)
    summary = json.loads((stage_dir / "stage_summary.json").read_text())
    output = stage_dir / "negative_controls" / "negative_controls.json"
    systems = GeometryContracts.read(output).systems if output.exists() else []
    return code, summary, systems, output


def by_kind(systems):
    """Controls keyed by their readable name (the system id without its hash)."""
    return {s.system_id.rsplit("-", 1)[0]: s for s in systems}


def test_default_controls_reject_every_negative_and_accept_every_positive(tmp_path):
    code, summary, systems, _ = run(tmp_path)
    assert code == 0 and summary["status"] == "OK", summary["errors"]
    metrics = summary["metrics"]
    assert metrics["coverage"] == 1.0 and metrics["false_positive_rate"] == 0.0
    assert metrics["n_positive_passed"] == metrics["n_positive_controls"] > 0
    controls = by_kind(systems)
    for d in (3, 4):
        for kind in BROKEN_KINDS:
            broken = controls[f"control_d{d}_broken_{kind}"]
            assert broken.role == "negative_control" and broken.expected_pass is False
            assert broken.d == d
            assert any(c.evaluated and c.passed is False for c in broken.contracts)
        for tag in ("T0", "zh0.5", "zh1", "zh2"):
            exact = controls[f"control_d{d}_exact_ads_{tag}"]
            assert exact.role == "positive_control" and exact.expected_pass is True
            evaluated = [c for c in exact.contracts if c.evaluated]
            assert len(evaluated) >= 5 and all(c.passed for c in evaluated)
    assert metrics["n_negative_controls"] == 2 * (len(BROKEN_KINDS) + 3)


@pytest.mark.parametrize("d", [3, 4, 5])
def test_massive_propagator_rejected_and_massless_accepted(tmp_path, d):
    masses = [0.3, 1.0, 4.0]
    code, summary, systems, _ = run(tmp_path, {"d_values": [d], "masses": masses})
    controls = by_kind(systems)
    massless = controls[f"control_d{d}_massive_propagator_m0"].contracts[0]
    assert massless.name == "conformality" and massless.passed is True
    assert massless.value < 1e-6  # Delta_eff flat at (d-2)/2
    assert f"Delta_eff = {(d - 2) / 2:.6g}" in massless.message
    for m in masses:
        test = controls[f"control_d{d}_massive_propagator_m{m:g}"].contracts[0]
        assert test.evaluated and test.passed is False
        if d == 3:  # Delta_eff = (1 + m r)/2 exactly; the spread is about its median
            r = np.geomspace(0.05, 5.0, 200)
            delta = (1 + m * r) / 2
            assert test.value == pytest.approx(np.max(np.abs(delta - np.median(delta))), rel=1e-6)
    assert code == 0


def test_starved_controls_are_incomplete_never_a_pass(tmp_path):
    # 5 separations: fewer than a derivative stencil, so no propagator can be tested;
    # only one broken geometry can: coverage 1/4 < 0.7.
    params = {"d_values": [3], "n_r": 5, "broken_kinds": ["nan"]}
    code, summary, _, _ = run(tmp_path, params)
    assert code == 2 and summary["status"] == "INCOMPLETE"
    assert summary["metrics"]["coverage"] == pytest.approx(0.25)
    assert any("coverage 0.25 below 0.7" in e for e in summary["errors"])


def test_a_lax_contract_shows_as_false_positives(tmp_path):
    params = {"d_values": [3], "broken_kinds": ["wrong_temperature"], "temperature_tolerance": 10.0}
    code, summary, systems, _ = run(tmp_path, params)
    metrics = summary["metrics"]
    assert metrics["n_false_positives"] == 1
    assert metrics["false_positive_rate"] == pytest.approx(1 / 4)  # 3 masses + 1 geometry
    assert code == 1 and summary["status"] == "WARNING"
    assert any("FAIL" in e and "broken_wrong_temperature" in e for e in summary["errors"])
    assert any("not caught by temperature" in e for e in summary["errors"])


def test_random_defects_follow_the_seed_not_the_workers(tmp_path):
    params = {"d_values": [3], "broken_kinds": ["negative_f", "wrong_uv_slope", "noise"]}
    outputs = []
    for experiment, seed, jobs in (("a", 1, 1), ("b", 1, 2), ("c", 2, 1)):
        outputs.append(
            run(tmp_path, params, experiment=experiment, seed=seed, jobs=jobs)[3].read_bytes()
        )
    assert outputs[0] == outputs[1]
    assert outputs[0] != outputs[2]


@pytest.mark.parametrize(
    "bad, key",
    [
        ({"d_values": [2]}, "d_values"),
        ({"d_values": []}, "d_values"),
        ({"masses": [1.0, -1.0]}, "masses"),
        ({"r_min": 1.0, "r_max": 0.5}, "r_max"),
        ({"broken_kinds": ["bent"]}, "broken_kinds"),
        ({"min_coverage": 0.0}, "min_coverage"),
        ({"z_h_values": [0.0]}, "z_h_values"),
    ],
)
def test_invalid_params_fail_at_config_time(tmp_path, bad, key):
    with pytest.raises(ConfigError, match=key):
        run(tmp_path, bad)
