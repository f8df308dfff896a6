"""The legacy resolver (config ``legacy.roots``) serves real legacy folders to stages."""

from __future__ import annotations

import json

import legacy_helpers
from legacy_helpers import tree_state

from holopipe.artifacts.records import RunManifest
from holopipe.pipeline import RunRequest, assert_artifacts, run_pipeline

samples = legacy_helpers.samples  # the session fixture of the real samples


def _config(tmp_path, root):
    path = tmp_path / "legacy.json"
    path.write_text(json.dumps({"seed": 7, "legacy": {"roots": [str(root)]}}))
    return path


def test_stages_read_real_legacy_predictions_through_the_conversions(samples, tmp_path):
    root = samples / "fase11_ads_control_geometry"
    before = tree_state(root)
    runs = tmp_path / "runs"
    config = _config(tmp_path, root)
    code = run_pipeline(
        RunRequest(runs, "lg", config_path=config, first="03", last="04"), echo=lambda _: None
    )
    assert code in (0, 1)
    manifest = RunManifest.read(runs / "lg/run_manifest.json")
    record = manifest.stages["03_discover_bulk_equations"]
    assert record.status in ("OK", "WARNING")
    assert len(record.inputs) == 10
    assert all(i.resolved_from_legacy and i.path.startswith(str(root)) for i in record.inputs)
    summary = json.loads((runs / "lg/03_discover_bulk_equations/stage_summary.json").read_text())
    served = [w for w in summary["warnings"] if w.startswith("resolved_from_legacy:")]
    assert len(served) == 10
    assert all("converted from prediction_training to GeometryPrediction" in w for w in served)
    assert any("d_name_mismatch" in w for w in summary["warnings"])  # the findings, per use
    assert tree_state(root) == before


def test_the_gate_accepts_convertible_legacy_files_and_refuses_the_others(samples, tmp_path):
    runs = tmp_path / "runs"
    good = _config(tmp_path, samples / "fase11_ads_control_geometry")
    run_pipeline(
        RunRequest(runs, "lg", config_path=good, first="04c", last="04c"), echo=lambda _: None
    )
    assert assert_artifacts(runs, "lg", "03") == []
    # A root whose prediction files hold garbage: refused with one line per file.
    bad_root = tmp_path / "bad"
    (bad_root / "predictions").mkdir(parents=True)
    (bad_root / "predictions" / "x_geometry.npz").write_bytes(b"PK\x03\x04 not a zip")
    bad = _config(tmp_path, bad_root)
    run_pipeline(
        RunRequest(runs, "bad", config_path=bad, first="04c", last="04c"), echo=lambda _: None
    )
    problems = assert_artifacts(runs, "bad", "03")
    assert len(problems) == 1 and problems[0].startswith("invalid_artifact:")
    assert "x_geometry.npz" in problems[0]
