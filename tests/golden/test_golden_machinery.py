"""Golden-run comparison: canonical hashes, tolerances, readable diffs and exit codes, on a
tiny run of the test chain stages (fast lane)."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from pathlib import Path

import netCDF4
import numpy as np
import pytest

from holopipe.artifacts.prediction import GeometryPrediction
from holopipe.artifacts.sandbox import SandboxGeometry
from holopipe.golden import check_golden, update_golden
from holopipe.run.golden import (
    Difference,
    GoldenError,
    GoldenReference,
    Tolerance,
    canonical_sha256,
    compare,
    exit_code,
    snapshot,
)

CHAIN = ["holopipe.testing:Chain01", "holopipe.testing:Chain02", "holopipe.testing:Chain03"]
METRIC = "02_chain_step:counts.outputs_rows"


@pytest.fixture
def golden(tmp_path):
    """A golden setup in tmp_path: configs/golden/tiny.json and its fresh reference."""
    configs = tmp_path / "configs" / "golden"
    configs.mkdir(parents=True)
    (configs / "tiny.json").write_text(
        json.dumps({"seed": 1, "pipeline": CHAIN, "stages": {"01": {"n_systems": 3}}})
    )
    references = tmp_path / "tests" / "golden"
    with contextlib.chdir(tmp_path):
        path, code = update_golden(
            "tiny", tmp_path / "runs", configs_dir=configs, references_dir=references
        )
    assert code == 0
    return tmp_path, configs, references, path


def _check(root: Path, configs: Path, references: Path, runs: str = "runs"):
    with contextlib.chdir(root):
        return check_golden("tiny", root / runs, configs_dir=configs, references_dir=references)


def test_a_fresh_reference_has_every_artifact_and_the_stage_metrics(golden):
    _, _, _, path = golden
    reference = GoldenReference.read(path)
    assert len(reference.artifacts) == 9  # three stages x three systems
    assert all(a["method"] == "json-canonical" for a in reference.artifacts.values())
    assert reference.metrics["03_chain_step:status"] == "OK"
    assert reference.metrics[METRIC] == 3
    # numeric leaves of the artifacts themselves
    assert any(k.endswith(":systems[0].R_mean") for k in reference.metrics)


def test_nothing_changed_passes_in_the_same_and_in_a_new_runs_dir(golden):
    root, configs, references, _ = golden
    for runs in ("runs", "runs_fresh"):
        result = _check(root, configs, references, runs)
        assert result.differences == []
        assert result.exit_code == 0
        assert result.verdict().startswith("golden tiny: OK")


def test_a_metric_pushed_outside_its_tolerance_fails_with_a_readable_line(golden):
    root, configs, references, path = golden
    doc = json.loads(path.read_text())
    key = next(k for k in doc["metrics"] if k.endswith(":systems[0].R_mean"))
    doc["metrics"][key] += 1e-3  # -12 +- 1.2e-5 allowed by the default tolerance
    path.write_text(json.dumps(doc))
    result = _check(root, configs, references)
    assert result.exit_code == 2
    [difference] = result.differences
    assert difference.line() == (
        f"error: metric {key}: expected {doc['metrics'][key]:.12g}, got -12, "
        f"tolerance 1.0e-09 + 1.0e-06*|expected| = {1e-9 + 1e-6 * abs(doc['metrics'][key]):.3g}"
    )


def test_a_change_inside_the_tolerance_passes(golden):
    root, configs, references, path = golden
    doc = json.loads(path.read_text())
    key = next(k for k in doc["metrics"] if k.endswith(":systems[0].R_mean"))
    doc["metrics"][key] += 1e-7
    path.write_text(json.dumps(doc))
    assert _check(root, configs, references).exit_code == 0


def test_a_changed_hash_alone_is_a_warning(golden):
    root, configs, references, path = golden
    doc = json.loads(path.read_text())
    artifact = sorted(doc["artifacts"])[0]
    doc["artifacts"][artifact]["sha256"] = "0" * 64
    path.write_text(json.dumps(doc))
    result = _check(root, configs, references)
    assert result.exit_code == 1
    [difference] = result.differences
    assert difference.severity == "warning" and difference.kind == "artifact"
    assert difference.line().startswith(f"warning: artifact {artifact}: expected sha256 0000")


def test_missing_artifacts_and_metrics_and_status_changes_are_errors(golden):
    root, configs, references, path = golden
    doc = json.loads(path.read_text())
    doc["artifacts"]["02_chain_step/chain_02/gone.json"] = {"sha256": "1" * 64, "method": "x"}
    doc["metrics"]["01_chain_source:metrics.vanished"] = 1.0
    doc["metrics"]["02_chain_step:status"] = "WARNING"
    path.write_text(json.dumps(doc))
    result = _check(root, configs, references)
    assert result.exit_code == 2
    keys = {(d.kind, d.key, d.severity) for d in result.differences}
    assert keys == {
        ("artifact", "02_chain_step/chain_02/gone.json", "error"),
        ("metric", "01_chain_source:metrics.vanished", "error"),
        ("metric", "02_chain_step:status", "error"),
    }


def test_update_keeps_hand_tuned_tolerances(golden):
    root, configs, references, path = golden
    doc = json.loads(path.read_text())
    doc["tolerances"] = [{"match": "*R_mean", "abs": 0.01, "rel": 0.0}, *doc["tolerances"]]
    doc["metrics"] = {}
    path.write_text(json.dumps(doc))
    with contextlib.chdir(root):
        update_golden("tiny", root / "runs", configs_dir=configs, references_dir=references)
    reference = GoldenReference.read(path)
    assert reference.tolerances[0].match == "*R_mean"
    assert reference.tolerance("03_chain_step/x.json:systems[0].R_mean") == Tolerance(0.01, 0.0)
    assert reference.metrics  # rewritten from the run


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "not valid JSON"),
        ('{"format": "other"}', "format: expected"),
        ('{"format": "holopipe-golden-reference/1", "name": "tiny"}', "config: expected"),
    ],
)
def test_a_bad_reference_is_one_line(golden, content, message):
    root, configs, references, path = golden
    path.write_text(content)
    with pytest.raises(GoldenError, match=message):
        _check(root, configs, references)


def test_unknown_golden_name_lists_the_known_ones(golden):
    root, configs, references, _ = golden
    with pytest.raises(GoldenError, match=r"no such golden config \(known: tiny\)"):
        check_golden("nope", root / "runs", configs_dir=configs, references_dir=references)
    with pytest.raises(GoldenError, match="must match"):
        check_golden("../x", root / "runs", configs_dir=configs, references_dir=references)


def test_cli_check_prints_the_diff_and_exits_with_its_code(golden):
    root, configs, references, path = golden
    command = [
        sys.executable, "-m", "holopipe", "golden", "check", "tiny",
        "--runs-dir", str(root / "runs"),
        "--configs-dir", str(configs), "--references-dir", str(references),
    ]  # fmt: skip
    ok = subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip().splitlines()[-1].startswith("golden tiny: OK")
    doc = json.loads(path.read_text())
    doc["metrics"][METRIC] = 4
    path.write_text(json.dumps(doc))
    bad = subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2
    assert f"error: metric {METRIC}: expected 4, got 3, tolerance exact" in bad.stdout
    assert "Traceback" not in bad.stderr


# -- canonical hashes -----------------------------------------------------------------------
def test_json_hash_ignores_provenance_keys_and_key_order(tmp_path):
    a, b, c = (tmp_path / f"{n}.json" for n in "abc")
    a.write_text('{"x": [1, 2.5], "git_sha": "aaa", "meta": {"created_at": "t1"}}')
    b.write_text('{"meta": {"created_at": "t2"}, "git_sha": "bbb", "x": [1, 2.5]}')
    c.write_text('{"x": [1, 2.6]}')
    assert canonical_sha256(a) == canonical_sha256(b)
    assert canonical_sha256(a)[0] != canonical_sha256(c)[0]


def test_npz_hash_ignores_the_git_sha_in_meta_json_only(tmp_path):
    g = GeometryPrediction.example()
    first = canonical_sha256(g.write(tmp_path / "a_geometry.npz"))
    g.meta.git_sha = "another"
    assert canonical_sha256(g.write(tmp_path / "b_geometry.npz")) == first
    g.A = g.A + 1e-12
    assert canonical_sha256(g.write(tmp_path / "c_geometry.npz"))[0] != first[0]
    assert first[1] == "npz-content"


def test_netcdf_hash_is_of_content_not_bytes(tmp_path):
    universe = SandboxGeometry.example()
    path = universe.write(tmp_path / "a.nc")
    sha, method = canonical_sha256(path)
    assert method == "netcdf-content"
    # Same content written with other storage settings (chunking, compression): other
    # bytes, same content hash, as between two HDF5 library versions.
    other = tmp_path / "b.nc"
    with netCDF4.Dataset(path) as src, netCDF4.Dataset(other, "w") as dst:
        dst.setncatts({k: src.getncattr(k) for k in src.ncattrs()})
        for name, group in src.groups.items():
            out = dst.createGroup(name)
            out.setncatts({k: group.getncattr(k) for k in group.ncattrs()})
            for dim, size in group.dimensions.items():
                out.createDimension(dim, len(size))
            for var_name, var in group.variables.items():
                new = out.createVariable(var_name, var.dtype, var.dimensions, zlib=True)
                new[...] = var[...]
    assert other.read_bytes() != path.read_bytes()
    assert canonical_sha256(other) == (sha, method)
    universe.boundary.G2["O1"] = universe.boundary.G2["O1"] * (1 + 1e-15)
    assert canonical_sha256(universe.write(tmp_path / "c.nc"))[0] != sha


def test_tolerance_rules():
    t = Tolerance(abs=1e-9, rel=1e-6)
    assert t.allows(3, 3) and not t.allows(3, 4)  # integers exactly
    assert t.allows(True, True) and not t.allows(True, 1)
    assert t.allows(float("nan"), float("nan")) and not t.allows(1.0, float("nan"))
    assert t.allows("OK", "OK") and not t.allows("OK", "WARNING")
    assert t.describe(3) == "exact"
    assert exit_code([]) == 0
    warning = Difference("artifact", "a", None, None, "exact", "warning")
    error = Difference("metric", "m", 1.0, 2.0, "x", "error")
    assert exit_code([warning]) == 1 and exit_code([warning, error]) == 2


def test_snapshot_of_a_folder_without_manifest_is_a_clear_error(tmp_path):
    with pytest.raises(GoldenError, match="no readable run manifest"):
        snapshot(tmp_path)


def test_compare_is_symmetric_in_what_it_reports(golden):
    root, _, _, path = golden
    reference = GoldenReference.read(path)
    run = snapshot(root / "runs" / "tiny")
    assert compare(reference, run) == []
    extra = type(run)(run.artifacts, run.metrics | {"new:metric": np.float64(1.0).item()})
    [difference] = compare(reference, extra)
    assert (difference.key, difference.severity) == ("new:metric", "warning")


def test_non_finite_numbers_survive_the_reference_as_exact_strings(tmp_path):
    run = tmp_path / "run"
    (run / "06_x" / "data").mkdir(parents=True)
    (run / "06_x" / "data" / "rows.csv").write_text("m2,M2,note\n0.0,nan,a\n1.0,2.5,b\n")
    (run / "06_x" / "stage_summary.json").write_text(
        json.dumps({"status": "OK", "exit_code": 0, "metrics": {"x": 1.5}, "counts": {}})
    )
    (run / "run_manifest.json").write_text(
        json.dumps({"stages": {"06_x": {"outputs": [{"path": "06_x/data/rows.csv"}]}}})
    )
    seen = snapshot(run)
    assert seen.metrics["06_x/data/rows.csv:[0].M2"] == "nan"
    assert seen.metrics["06_x/data/rows.csv:[1].M2"] == 2.5
    assert "06_x/data/rows.csv:[0].note" not in seen.metrics
    reference = GoldenReference("x", "c.json", seen.artifacts, seen.metrics)
    back = GoldenReference.read(reference.write(tmp_path / "ref.json"))
    assert compare(back, seen) == []
    (run / "06_x" / "data" / "rows.csv").write_text("m2,M2,note\n0.0,1.0,a\n1.0,2.5,b\n")
    keys = {d.key for d in compare(back, snapshot(run))}
    assert keys == {"06_x/data/rows.csv", "06_x/data/rows.csv:[0].M2"}
