"""Current stages run on an imported legacy experiment (the plan's section 7.2).

The fase11 predictions of the legacy engine are not asymptotically AdS: its A_pred is nearly
constant (the engine predicted about the mean of A), so stage 06 has nothing to solve. The
tests establish that from the legacy files themselves (not from holopipe's numbers) and
check that holopipe says so, at import and at stage 06, without a pass.
"""

from __future__ import annotations

import csv
import json

import legacy_helpers
import numpy as np
import pytest

from holopipe.artifacts.records import RunManifest
from holopipe.legacy import import_legacy
from holopipe.pipeline import RunRequest, run_pipeline
from holopipe.run.layout import RunLayout
from holopipe.run.publish import last_attempt_dir

samples = legacy_helpers.samples  # the session fixture of the real samples
FASE11 = "fase11_ads_control_geometry"


def _summary(runs, key):
    return json.loads(
        (last_attempt_dir(RunLayout(runs, "fase11"), key) / "stage_summary.json").read_text()
    )


def _legacy_predictions(samples):
    folder = samples / FASE11 / "emergent_geometry_engine/predictions"
    found = []
    for path in sorted(folder.glob("*_geometry.npz")):
        with np.load(path, allow_pickle=False) as npz:
            found.append({k: npz[k] for k in ("z", "A_pred", "A_truth")})
    return found


@pytest.fixture(scope="module")
def imported(samples, tmp_path_factory):
    runs = tmp_path_factory.mktemp("fase11") / "runs"
    report = import_legacy(samples / FASE11, "fase11", runs_dir=runs)
    return runs, report


def test_the_conversion_reads_A_pred_as_the_legacy_engine_scored_it(samples, imported):
    # The legacy summary's test A_r2 is reproduced, to round-off, by A_pred as stored on z
    # (pooled over the 10 test files): the values, units and coordinate the conversion uses
    # are those the engine evaluated; a de-normalised reading gives another number.
    doc = json.loads(
        (samples / FASE11 / "emergent_geometry_engine/emergent_geometry_summary.json").read_text()
    )
    legacy_r2 = doc["test_metrics"]["A_r2"]
    preds = _legacy_predictions(samples)
    A_pred = np.array([p["A_pred"] for p in preds], dtype=float)
    A_truth = np.array([p["A_truth"] for p in preds])
    r2 = 1 - ((A_pred - A_truth) ** 2).sum() / ((A_truth - A_truth.mean()) ** 2).sum()
    assert r2 == pytest.approx(legacy_r2, abs=1e-9)
    stats = doc["normalizer_stats"]
    denormalised = A_pred * stats["A_std"] + stats["A_mean"]
    r2_denormalised = (
        1 - ((denormalised - A_truth) ** 2).sum() / ((A_truth - A_truth.mean()) ** 2).sum()
    )
    assert abs(r2_denormalised - legacy_r2) > 0.1
    # ... and the converted predictions carry exactly those values.
    from holopipe.artifacts.prediction import GeometryPrediction

    runs, _ = imported
    converted = sorted((runs / "fase11/legacy_import/predictions").glob("*.npz"))
    assert len(converted) == len(preds) == 10
    for path in converted:
        prediction = GeometryPrediction.read(path)
        source = samples / FASE11 / prediction.meta.provenance["legacy_path"]
        with np.load(source, allow_pickle=False) as npz:
            assert np.array_equal(prediction.A, npz["A_pred"].astype(float))
            assert np.array_equal(prediction.z, npz["z"])


def test_no_prediction_is_asymptotically_ads_and_the_import_says_so(samples, imported):
    # PHYSICS.md: AdS has A = -ln z, dA/d ln z = -1 near the boundary. On the same first
    # decade of the grid the truth has slope -1, the prediction about 0: no reading of a
    # flat warp (units shift A by a constant, z -> 1/z flips the sign) makes it AdS.
    for p in _legacy_predictions(samples):
        window = p["z"] <= 10 * p["z"][0]
        assert window.sum() >= 2
        truth = np.polyfit(np.log(p["z"][window]), p["A_truth"][window], 1)[0]
        predicted = np.polyfit(np.log(p["z"][window]), p["A_pred"][window].astype(float), 1)[0]
        assert truth == pytest.approx(-1.0, abs=1e-9)
        assert abs(predicted) < 0.01
    runs, report = imported
    flagged = report.files_with("not_asymptotically_ads")
    assert len(flagged) == 10 and all(p.endswith("_geometry.npz") for p in flagged)
    lines = report.lines()
    assert "  next: holopipe run --experiment fase11 --from 03 --to 05" in lines
    assert any("none of the 10 predictions is asymptotically AdS" in line for line in lines)
    # The measurement is in each converted artifact's provenance.
    from holopipe.artifacts.prediction import GeometryPrediction

    for path in sorted((runs / "fase11/legacy_import/predictions").glob("*.npz")):
        uv = GeometryPrediction.read(path).meta.provenance["uv_slope"]
        assert abs(uv["dA_dlnz"]) < 0.01 and uv["truth_dA_dlnz"] == pytest.approx(-1.0)
        assert "not_asymptotically_ads" in GeometryPrediction.read(path).meta.provenance["findings"]


def test_stages_03_to_05_run_to_ok_or_warning_with_reasons(imported):
    runs, _ = imported
    code = run_pipeline(RunRequest(runs, "fase11", first="03", last="05"), echo=lambda line: None)
    assert code <= 1
    manifest = RunManifest.read(runs / "fase11/run_manifest.json")
    assert manifest.resolved_from_legacy is True
    ran = {key.split("_", 1)[0]: record for key, record in manifest.stages.items()}
    for stage in ("03", "04", "04c", "05"):
        assert ran[stage].status in ("OK", "WARNING"), stage
    # 03 and 04 read the 10 imported predictions through the manifest (no legacy search):
    inputs = [i for k in ("03", "04") for i in ran[k].inputs]
    assert len(inputs) == 20
    assert all(i.path.startswith("legacy_import/predictions/") for i in inputs)
    s03 = _summary(runs, "03_discover_bulk_equations")
    assert s03["status"] == "WARNING" and len(s03["warnings"]) == 10  # not Einstein, per system


def test_stage_06_has_nothing_to_solve_and_is_incomplete_not_a_pass(imported):
    # Zero modes computed is zero checks evaluated: INCOMPLETE (exit 2), with the reason for
    # every system and every configured mass, never OK or WARNING.
    runs, _ = imported
    code = run_pipeline(RunRequest(runs, "fase11", first="06", last="06"), echo=lambda line: None)
    assert code == 2
    s06 = _summary(runs, "06_build_bulk_eigenmodes_dataset")
    assert s06["status"] == "INCOMPLETE" and s06["counts"]["inputs_ok"] == 10
    n_rows = s06["counts"]["outputs_rows"]
    assert s06["errors"] == [
        f"no eigenmode computed: zero 'ok' rows ({n_rows} 'not_applicable'; "
        "see the rows' quality and method)"
    ]
    assert "10 systems not of the conformal ansatz or not asymptotically AdS" in " ".join(
        s06["notes"]
    )
    folder = last_attempt_dir(RunLayout(runs, "fase11"), "06_build_bulk_eigenmodes_dataset")
    with open(folder / "bulk_eigenmodes/bulk_modes_dataset.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == n_rows and len({r["system_id"] for r in rows}) == 10
    assert all(r["quality"] == "not_applicable" and r["M2"] == "nan" for r in rows)
    assert all("not asymptotically AdS" in r["method"] for r in rows)
