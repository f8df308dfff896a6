"""``holopipe diff``: a run against itself, and against a run with one changed parameter."""

from __future__ import annotations

import json

from report_helpers import holopipe

from holopipe.rundiff import flatten


def test_a_run_against_itself_is_identical(toy_runs):
    done = holopipe("diff", "toy", "toy", cwd=toy_runs.cwd)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().endswith("identical")
    doc = json.loads(holopipe("diff", "toy", "toy", "--json", cwd=toy_runs.cwd).stdout)
    assert doc["identical"] is True
    assert all(
        doc[k] == [] for k in ("config", "code", "packages", "artifacts", "stages", "metrics")
    )


def test_one_changed_param_names_it_the_rerun_stage_and_the_metrics(toy_runs):
    done = holopipe("diff", "toy", "toy_n4", cwd=toy_runs.cwd)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "config: stages.06.n_modes: 3 -> 4" in done.stdout
    doc = json.loads(holopipe("diff", "toy", "toy_n4", "--json", cwd=toy_runs.cwd).stdout)
    assert doc["config"] == [{"key": "stages.06.n_modes", "a": 3, "b": 4}]
    # 06 re-ran for its params; the stages downstream of it (07, ...) because their inputs
    # changed; the stages upstream not at all.
    assert doc["stages"][0] == {"key": "06_build_bulk_eigenmodes_dataset", "why": "params changed"}
    downstream = doc["stages"][1:]
    assert downstream and downstream[0]["key"] == "07_emergent_lambda_sl_dictionary"
    assert all(s["why"] == "inputs changed" and s["key"] > "07" for s in downstream)
    assert "stage re-ran: 06_build_bulk_eigenmodes_dataset: params changed" in done.stdout
    assert doc["code"] == [] and doc["packages"] == []
    rerun = {s["key"] for s in doc["stages"]}
    # Only the outputs of the re-run stages changed: every other artifact is byte-identical.
    assert doc["artifacts"] and all(a["key"].split("/")[0] in rerun for a in doc["artifacts"])
    metrics = {m["key"]: m for m in doc["metrics"]}
    assert metrics and all(key.split(".")[0] >= "06" for key in metrics)
    # More modes per system: more rows. The differences are computed from the two values.
    rows = metrics["06.rows_ok"]
    assert rows["b"] > rows["a"]
    assert rows["absolute"] == rows["b"] - rows["a"]
    assert abs(rows["relative"] - (rows["b"] - rows["a"]) / rows["a"]) < 1e-12
    assert f"metric: 06.rows_ok: {rows['a']} -> {rows['b']}" in done.stdout


def test_a_missing_run_is_bad_input(toy_runs):
    done = holopipe("diff", "toy", "nothing_here", cwd=toy_runs.cwd)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
    assert "nothing_here: no run here (no run_manifest.json)" in done.stderr


def test_two_runs_roots(toy_runs, tmp_path):
    done = holopipe(
        "diff",
        "toy",
        "toy",
        "--runs-dir",
        str(toy_runs.runs),
        "--runs-dir-b",
        str(tmp_path),
        cwd=tmp_path,
    )
    assert done.returncode == 2 and str(tmp_path / "toy") in done.stderr


def test_flatten_keeps_lists_and_empty_sections_as_leaves():
    assert flatten({"a": {"b": [1, 2], "c": {}}, "d": 1}) == {"a.b": [1, 2], "a.c": {}, "d": 1}
