"""Stage 02 measures each operator's Delta with an uncertainty (meta.operators), for sandbox
universes (checked against their truth) and for boundary-only real-theory data; stage 01
adds a theory's boundary data to the universes."""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path

import pytest

from holopipe.artifacts.prediction import GeometryPrediction
from holopipe.artifacts.sandbox import SandboxGeometry
from holopipe.data.sandbox import SandboxSpec, generate_universe
from holopipe.data.theory import reference_boundary
from holopipe.pipeline import RunRequest, run_pipeline, run_stage
from holopipe.run.config import ConfigError

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "data"))
from test_s02_reconstruction import plan  # noqa: E402
from test_theory import write_legacy  # noqa: E402

S01 = "holopipe.stages.s01_sandbox:GenerateSandboxGeometries"
S02 = "holopipe.stages.s02_reconstruction:EmergentGeometryEngine"
ISING = {"sigma": 0.5181489, "epsilon": 1.412625, "epsilon_prime": 3.82968}
UNIVERSES = [
    plan("ads", 3, None, 0),
    plan("deformed", 3, None, 1, a=0.2),
    plan("deformed", 2, None, 2, a=-0.3),
    plan("ads", 4, 1.1, 3),
    plan("lifshitz", 3, 0.9, 4, zeta=1.5),
    plan("hvlf", 3, 1.0, 5, zeta=1.3, theta=0.4),
]


@pytest.fixture(scope="module")
def stage02(tmp_path_factory):
    root = tmp_path_factory.mktemp("s02dims")
    sandbox = root / "sandbox"
    sandbox.mkdir()
    spec = SandboxSpec()
    for p in UNIVERSES:
        generate_universe(p, spec).write(sandbox / f"{p.system_name}.nc")
    reference_boundary("ising3d", 3, ISING).write(sandbox / "ising3d.nc")
    config = root / "config.json"
    config.write_text(json.dumps({"seed": 1, "pipeline": [S01, S02]}))
    with contextlib.chdir(root):
        code = run_stage(
            RunRequest(root / "runs", "t", config_path=config, cli_inputs={"sandbox": sandbox}),
            "02",
        )
    stage_dir = root / "runs" / "t" / "02_emergent_geometry_engine"
    predictions = {
        p.meta.system_name: p
        for p in map(GeometryPrediction.read, sorted((stage_dir / "predictions").iterdir()))
    }
    summary = json.loads((stage_dir / "stage_summary.json").read_text())
    return code, predictions, summary, sandbox


def test_measured_dimensions_agree_with_the_truth_within_their_uncertainty(stage02):
    code, predictions, _, sandbox = stage02
    assert code == 0
    checked = 0
    for p in UNIVERSES:
        if p.geometry.family == "hvlf":
            continue
        truth = SandboxGeometry.read(sandbox / f"{p.system_name}.nc").truth
        expected = {op.name: op.Delta for op in truth.operators}
        operators = predictions[p.system_name].meta.operators
        assert sorted(op.name for op in operators) == sorted(expected)
        for op in operators:
            assert 0 <= op.Delta_err < 1e-3
            # An honest uncertainty: the true value within 3 sigma (plus rounding).
            assert abs(op.Delta - expected[op.name]) <= 3 * op.Delta_err + 1e-12
            assert "log-log fit" in op.method
            checked += 1
    assert checked == 10


def test_hvlf_has_no_conformal_uv_and_no_measured_dimension(stage02):
    _, predictions, _, _ = stage02
    assert predictions["hvlf_d3_005"].meta.operators == []


def test_boundary_only_data_give_the_table_back_and_say_it_is_a_round_trip(stage02):
    _, predictions, summary, _ = stage02
    ising = predictions["ising3d"]
    measured = {op.name: op for op in ising.meta.operators}
    assert sorted(measured) == sorted(ISING)
    for name, delta in ISING.items():
        assert measured[name].Delta == pytest.approx(delta, abs=1e-10)
        assert measured[name].Delta_err < 1e-10
    assert ising.meta.provenance["boundary_method"] == "reference_table"
    assert ising.meta.provenance["theory"] == "ising3d"
    assert ising.meta.family == "ads"  # G2 = x^(-2 Delta) is pure AdS in the geodesic picture
    assert summary["metrics"]["boundary_only.systems"] == 1.0
    assert summary["metrics"]["ising3d.Delta.sigma"] == pytest.approx(ISING["sigma"], abs=1e-10)
    assert any("boundary-only" in note for note in summary["notes"])


def _run_01(tmp_path, stage01):
    config = tmp_path / "config.json"
    # The legacy grid is linear in [0.1, 10]: one decade holds 10 points, so fit two.
    stages = {"01": stage01, "02": {"dimension_window_decades": 2.0}}
    config.write_text(json.dumps({"seed": 3, "pipeline": [S01, S02], "stages": stages}))
    with contextlib.chdir(tmp_path):
        code = run_pipeline(
            RunRequest(tmp_path / "runs", "t", config_path=config, last="02"),
            echo=lambda line: None,
        )
    return code, tmp_path / "runs" / "t"


def test_stage_01_adds_the_theory_from_a_legacy_boundary_file(tmp_path):
    legacy = write_legacy(tmp_path / "ising_3d.h5")
    code, run = _run_01(
        tmp_path,
        {"families": [], "theory": "ising3d", "theory_file": str(legacy)},
    )
    assert code == 0
    index = json.loads((run / "sandbox_index" / "sandbox_index.json").read_text())
    assert [(e["system_name"], e["family"]) for e in index["systems"]] == [("ising3d", "unknown")]
    universe = SandboxGeometry.read(run / "sandbox" / "ising3d.nc")
    assert universe.truth is None and universe.meta.category == "legacy_boundary"
    prediction = GeometryPrediction.read(run / "predictions" / "ising3d_geometry.npz")
    assert prediction.meta.provenance["boundary_method"] == "legacy"


@pytest.mark.parametrize(
    ("stage01", "message"),
    [
        ({"families": []}, "families"),
        ({"theory_file": "x.h5"}, "theory_file"),
        ({"theory": "bad name"}, "theory"),
        ({"theory": "no_such_theory"}, "theory"),
    ],
)
def test_theory_config_errors_name_the_key(tmp_path, stage01, message):
    with pytest.raises(ConfigError, match=f"stages.01: {message}: "):
        _run_01(tmp_path, stage01)


def test_stage_01_synthesises_the_theory_from_its_reference_table(tmp_path):
    code, run = _run_01(tmp_path, {"families": [], "theory": "ising3d"})
    assert code == 0
    universe = SandboxGeometry.read(run / "sandbox" / "ising3d.nc")
    assert universe.truth is None and universe.meta.category == "round_trip"
    assert sorted(universe.boundary.G2) == sorted(ISING)
    summary = json.loads(
        (run / "01_generate_sandbox_geometries" / "stage_summary.json").read_text()
    )
    assert any("round trip" in note for note in summary["notes"])
    prediction = GeometryPrediction.read(run / "predictions" / "ising3d_geometry.npz")
    measured = {op.name: op.Delta for op in prediction.meta.operators}
    assert measured == pytest.approx(ISING, abs=1e-10)


def test_an_unreadable_theory_file_stops_stage_01_as_incomplete(tmp_path):
    code, run = _run_01(
        tmp_path, {"families": ["ads"], "n_per_family": 1, "theory": "ising3d",
                   "theory_file": str(tmp_path / "absent.h5")},
    )  # fmt: skip
    assert code == 2
    summary = json.loads(
        (run / "01_generate_sandbox_geometries.failed" / "stage_summary.json").read_text()
    )
    assert summary["status"] == "INCOMPLETE"
    assert any("absent.h5: cannot be read" in line for line in summary["errors"])
