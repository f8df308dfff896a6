"""Importing the real legacy samples: success, idempotence, read-only, the known findings."""

from __future__ import annotations

import hashlib
import json
import os
import re

import legacy_helpers
import netCDF4
import numpy as np
import pytest
from legacy_helpers import SAMPLE_FOLDERS, copy_tree, tree_state
from typer.testing import CliRunner

from holopipe.artifacts import GeometryPrediction, SandboxGeometry
from holopipe.artifacts.records import RunManifest
from holopipe.cli.app import app
from holopipe.legacy import ImportRefused, import_legacy

samples = legacy_helpers.samples  # the session fixture of the real samples


def _run_state(run_root):
    return tree_state(run_root)


@pytest.mark.parametrize("folder", SAMPLE_FOLDERS)
def test_each_sample_imports_idempotently_and_leaves_the_tree_bit_identical(
    samples, tmp_path, folder
):
    source = samples / folder
    before = tree_state(source)
    report = import_legacy(source, "imp", runs_dir=tmp_path / "runs")
    assert report.action == "imported"
    assert len(report.files) == sum(
        1 for k in before if os.path.isfile(os.path.join(source, os.fsdecode(k)))
    )
    run_root = tmp_path / "runs" / "imp"
    manifest = RunManifest.read(run_root / "run_manifest.json")
    assert manifest.resolved_from_legacy is True
    assert len(manifest.legacy_sources) == len(report.files)
    first = _run_state(run_root)

    again = import_legacy(source, "imp", runs_dir=tmp_path / "runs")
    assert again.action == "up_to_date"
    assert _run_state(run_root) == first  # not one byte, mode or mtime changed
    assert again.counts == report.counts
    assert tree_state(source) == before


def _d_mismatched_by_attributes(folder):
    """Files whose root ``d`` contradicts the ``_d<k>_`` name token, read independently."""
    found = set()
    for path in folder.glob("*.h5"):
        with netCDF4.Dataset(path) as ds:
            token = re.search(r"_d(\d+)_", ds.getncattr("name"))
            if token and int(token.group(1)) != int(ds.getncattr("d")):
                found.add(path.name)
    return found


@pytest.mark.parametrize(
    ("folder", "expected", "total"),
    [("fase11_ads_control_geometry", 11, 30), ("smoke_fase11_v3", 3, 9)],
)
def test_d_mismatches_are_reported_per_file(samples, tmp_path, folder, expected, total):
    report = import_legacy(samples / folder, "imp", runs_dir=tmp_path / "runs")
    sandboxes = [f for f in report.files if f.kind == "sandbox_universe"]
    assert len(sandboxes) == total
    flagged = {f.path for f in sandboxes if any(x.code == "d_name_mismatch" for x in f.findings)}
    assert len(flagged) == expected
    assert flagged == _d_mismatched_by_attributes(samples / folder)
    doc = json.loads((tmp_path / "runs/imp/legacy_import/import_report.json").read_text())
    per_file = {f["path"]: {x["code"] for x in f["findings"]} for f in doc["files"]}
    assert all("d_name_mismatch" in per_file[name] for name in flagged)
    # Reported, and the converted universe says what the data say (root attrs and T):
    for f in sandboxes:
        if f.converted and f.path in flagged:
            converted = SandboxGeometry.read(tmp_path / "runs/imp" / f.converted)
            with netCDF4.Dataset(samples / folder / f.path) as ds:
                assert converted.meta.d == int(ds.getncattr("d"))
            assert converted.meta.provenance["legacy_name"] == f.path.removesuffix(".h5")
            assert any("the data win" in a for a in converted.meta.provenance["assumptions"])


def test_clipped_horizon_and_huge_curvature_are_findings_not_fixes(samples, tmp_path):
    folder = samples / "fase11_ads_control_geometry"
    report = import_legacy(folder, "imp", runs_dir=tmp_path / "runs")
    sandbox = next(f for f in report.files if f.path == "ads_d3_Tfinite_known_008.h5")
    codes = {x.code for x in sandbox.findings}
    assert {"f_clipped", "grid_beyond_horizon", "huge_curvature"} <= codes
    converted = SandboxGeometry.read(tmp_path / "runs/imp" / sandbox.converted)
    with netCDF4.Dataset(folder / sandbox.path) as ds:
        z_h = float(ds.getncattr("z_h"))
        z = ds["bulk_truth"]["z_grid"][...]
        f_truth = ds["bulk_truth"]["f_truth"][...]
    inside = z < z_h
    assert np.array_equal(converted.truth.z_grid, z[inside])
    assert np.array_equal(converted.truth.f_truth, f_truth[inside])  # unchanged values
    # 1 - (z/z_h)^d for AdS-Schwarzschild: the data are the exact f inside the horizon
    assert np.allclose(converted.truth.f_truth, 1 - (z[inside] / z_h) ** converted.meta.d)
    dropped = int((~inside).sum())
    assert any(
        f"{dropped} of the legacy points" in a for a in converted.meta.provenance["assumptions"]
    )


def test_predictions_convert_bound_to_their_sandbox_by_truth_arrays(samples, tmp_path):
    folder = samples / "fase11_ads_control_geometry"
    report = import_legacy(folder, "imp", runs_dir=tmp_path / "runs")
    predictions = [f for f in report.files if f.kind == "prediction_training"]
    assert len(predictions) == 10 and all(f.converted for f in predictions)
    sandbox_ids = {f.path: f.system_id for f in report.files if f.kind == "sandbox_universe"}
    for f in predictions:
        path = tmp_path / "runs/imp" / f.converted
        assert GeometryPrediction.validate_file(path).ok
        g = GeometryPrediction.read(path)
        stem = os.path.basename(f.path).removesuffix("_geometry.npz")
        with netCDF4.Dataset(folder / f"{stem}.h5") as ds:
            assert g.meta.d == int(ds.getncattr("d"))
            assert g.meta.family == ds.getncattr("family")
        with np.load(folder / f.path) as legacy:
            assert np.array_equal(g.A, legacy["A_pred"].astype(np.float64))
            assert g.meta.z_h == pytest.approx(float(legacy["zh_pred"]))
        assert g.meta.system_id == sandbox_ids[f"{stem}.h5"]
        assert g.meta.provenance["bound_sandbox"] == f"{stem}.h5"
        assert g.meta.provenance["legacy_sha256"] == f.sha256
    # The alias downstream stages read:
    assert len(list((tmp_path / "runs/imp/predictions").glob("*_geometry.npz"))) == 10


def test_prediction_bound_to_another_folders_sandbox_is_reported(samples, tmp_path):
    tree = tmp_path / "tree"
    tree.mkdir()
    copy_tree(samples / "fase11_ads_control_geometry", tree / "fase11")
    (tree / "elsewhere").mkdir()
    moved = (
        tree
        / "fase11/emergent_geometry_engine/predictions/ads_d3_Tfinite_test_test_005_geometry.npz"
    )
    os.replace(moved, tree / "elsewhere" / moved.name)
    report = import_legacy(tree, "imp", runs_dir=tmp_path / "runs")
    item = next(f for f in report.files if f.path == f"elsewhere/{moved.name}")
    assert "bound_to_other_folder" in {x.code for x in item.findings}
    assert item.converted  # still converted: the truth arrays identify the system


def test_manifest_records_every_legacy_source(samples, tmp_path):
    folder = samples / "fase11_ads_control_geometry"
    import_legacy(folder, "imp", runs_dir=tmp_path / "runs")
    run_root = tmp_path / "runs/imp"
    doc = RunManifest.read_document(run_root / "run_manifest.json")
    assert doc["resolved_from_legacy"] is True
    assert doc["aliases"]["predictions"] == "legacy_import/predictions"
    entry = next(e for e in doc["legacy_sources"] if e["path"].endswith("known_000.h5"))
    assert entry["kind"] == "sandbox_universe" and entry["schema"] == "SandboxGeometry"
    assert entry["system_id"].startswith("ads_d5_Tfinite_known_000-")
    assert any(f.startswith("d_name_mismatch") for f in entry["findings"])
    link = run_root / entry["link"]
    assert link.is_symlink() and not os.path.isabs(os.readlink(link))
    assert os.path.samefile(link, folder / "ads_d3_Tfinite_known_000.h5")
    for e in doc["legacy_sources"]:  # every original is reachable through its link
        assert os.path.samefile(run_root / e["link"], e["path"])
    record = doc["stages"]["legacy_import"]
    assert all(i["resolved_from_legacy"] for i in record["inputs"])
    assert len(record["inputs"]) == 42


def test_existing_experiment_is_refused_unless_forced(samples, tmp_path):
    source = copy_tree(samples / "smoke_fase11_v3", tmp_path / "smoke")
    runs = tmp_path / "runs"
    import_legacy(source, "imp", runs_dir=runs)
    with pytest.raises(ImportRefused, match="--force"):
        import_legacy(samples / "fase12_data_boundary", "imp", runs_dir=runs)
    (source / "notes.txt").write_text("added later\n")
    with pytest.raises(ImportRefused, match="differs"):
        import_legacy(source, "imp", runs_dir=runs)
    forced = import_legacy(source, "imp", runs_dir=runs, force=True)
    assert forced.action == "imported" and "text" in forced.counts
    assert RunManifest.read(runs / "imp/run_manifest.json").resolved_from_legacy


def test_cli_prints_a_summary_and_exits_with_the_documented_codes(samples, tmp_path):
    runner = CliRunner()
    args = [
        "import-legacy",
        str(samples / "smoke_fase11_v3"),
        "-e",
        "imp",
        "--runs-dir",
        str(tmp_path),
    ]
    done = runner.invoke(app, args)
    assert done.exit_code == 1, done.output  # imported, with findings
    assert "kinds: 9 sandbox_universe, 1 sandbox_manifest" in done.output
    assert "converted: 9 SandboxGeometry" in done.output
    assert runner.invoke(app, args).exit_code == 1  # up to date: the same verdict
    other = [
        "import-legacy",
        str(samples / "fase12_data_boundary"),
        "-e",
        "imp",
        "--runs-dir",
        str(tmp_path),
    ]
    refused = runner.invoke(app, other)
    assert refused.exit_code == 2 and "use --force" in refused.output
    missing = runner.invoke(
        app, ["import-legacy", str(tmp_path / "nope"), "-e", "x", "--runs-dir", str(tmp_path)]
    )
    assert missing.exit_code == 2 and "not a folder" in missing.output


def test_eigenmodes_json_converts_bound_to_the_sandboxes_by_name(samples, tmp_path):
    tree = tmp_path / "tree"
    tree.mkdir()
    copy_tree(samples / "smoke_fase11_v3", tree / "smoke_fase11_v3")
    copy_tree(samples / "smoke_fase12c_v2", tree / "smoke_fase12c_v2")
    report = import_legacy(tree, "imp", runs_dir=tmp_path / "runs")
    item = next(f for f in report.files if f.kind == "eigenmodes_json")
    assert item.schema == "EigenmodesDataset", item.findings
    from holopipe.artifacts import EigenmodesDataset

    dataset = EigenmodesDataset.read(tmp_path / "runs/imp" / item.converted)
    legacy = json.loads((tree / "smoke_fase12c_v2" / item.path.split("/", 1)[1]).read_text())
    expected = [
        (s["d"], delta, lam)
        for s in legacy["systems"]
        for delta, lam in zip(s["Delta_bulk_uv"], s["lambda_sl_bulk"], strict=True)
    ]
    got = sorted((r.d, r.Delta, r.M2) for r in dataset.rows)
    assert got == sorted(expected)
    negative = sum(1 for _, delta, _ in expected if delta <= 0)
    assert sum(r.quality == "error" for r in dataset.rows) == negative
    sandbox_ids = {f.system_id for f in report.files if f.kind == "sandbox_universe"}
    assert {r.system_id for r in dataset.rows} <= sandbox_ids
    # What the conversion assumed travels in the artifact, not only in the import report.
    provenance = dataset.meta.provenance
    source = tree / "smoke_fase12c_v2" / item.path.split("/", 1)[1]
    assert provenance.source_path == item.path
    assert provenance.source_sha256 == hashlib.sha256(source.read_bytes()).hexdigest()
    assert provenance.solver == legacy["solver_module"]
    assert {"m2", "branch", "z_ir", "bc_uv"} <= set(provenance.inferred)
    assert set(provenance.bound_sandboxes) == {r.system_id for r in dataset.rows}
    by_id = {f.system_id: f.path for f in report.files if f.kind == "sandbox_universe"}
    assert all(by_id[sid] == rel for sid, rel in provenance.bound_sandboxes.items())
