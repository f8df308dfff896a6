"""The plan's fast-lane toy end-to-end run: 01 -> 09 on configs/toy.json, from the CLI.

The suite's toy run (``toy_run_every_stage``, shared with the report tests, read only) and a
second one with two workers in a folder of this module's own serve every assertion.
"""

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from holopipe.artifacts.records import RunManifest

ROOT = Path(__file__).resolve().parents[1]
TOY = ROOT / "configs" / "toy.json"
#: The stage folders' id prefixes of the default pipeline, in order.
STAGE_PREFIXES = ["01_", "02_", "03_", "04_", "04c", "05_", "06_", "07_", "08_", "09_"]


def holopipe(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "holopipe", *args], cwd=cwd, capture_output=True, text=True
    )


@pytest.fixture(scope="module")
def toy_runs(toy_run_every_stage, shared_tmp, build_once):
    """Two runs of the toy config: ``(cwd, serial, cwd2, parallel)``, ``cwd/runs/toy`` with
    one worker (the suite's, not to be changed) and ``cwd2/runs/toy2`` with two workers
    (built once a session, shared by the xdist workers like the suite's)."""
    cwd, serial = toy_run_every_stage
    cwd2 = shared_tmp / "toy2"

    def run_with_two_workers() -> subprocess.CompletedProcess:
        cwd2.mkdir()
        return holopipe(
            "run", "--experiment", "toy2", "--config", str(TOY), "--jobs", "2", cwd=cwd2
        )  # fmt: skip

    return cwd, serial, cwd2, build_once("toy2", run_with_two_workers)


def manifest(cwd: Path, experiment: str) -> dict:
    return RunManifest.read_document(cwd / "runs" / experiment / "run_manifest.json")


def test_toy_run_succeeds_with_reasons_for_every_warning(toy_runs):
    cwd, serial, _, _ = toy_runs
    assert serial.returncode in (0, 1), serial.stdout + serial.stderr
    assert "Traceback" not in serial.stderr
    stages = manifest(cwd, "toy")["stages"]
    assert [k[:3] for k in sorted(stages)] == STAGE_PREFIXES
    for key in stages:
        summary = json.loads((cwd / "runs" / "toy" / key / "stage_summary.json").read_text())
        assert summary["status"] in ("OK", "WARNING"), (key, summary["errors"])
        if summary["status"] == "WARNING":
            assert (
                summary["warnings"]
                or summary["errors"]
                or any(s["status"] != "OK" for s in summary["systems"])
            )


def test_plan_8_1_the_toy_run_is_strict_and_has_no_discipline_finding(toy_runs):
    """The fast lane's "no writes outside run" gate: the toy run checks every stage under the
    default ``strict`` and no stage leaves an undeclared file or writes outside the run."""
    from holopipe.run.discipline import FINDING_PREFIXES

    cwd, _, cwd2, _ = toy_runs
    for where, experiment in ((cwd, "toy"), (cwd2, "toy2")):
        root = where / "runs" / experiment
        assert json.loads((root / "config.resolved.json").read_text())["strict"] is True
        for key in manifest(where, experiment)["stages"]:
            summary = json.loads((root / key / "stage_summary.json").read_text())
            lines = summary["warnings"] + summary["errors"] + summary["notes"]
            assert not [line for line in lines if line.startswith(FINDING_PREFIXES)], key
            assert not any(line.startswith("strict: false") for line in summary["notes"]), key
        assert sorted(p.name for p in where.iterdir()) == ["runs"]  # nothing else in the cwd


def test_every_artifact_is_valid(toy_runs):
    cwd, _, _, _ = toy_runs
    outputs = [o for record in manifest(cwd, "toy")["stages"].values() for o in record["outputs"]]
    assert len(outputs) > 20
    files = [str(cwd / "runs" / "toy" / o["path"]) for o in outputs]
    done = holopipe("validate", *files, "--json", cwd=cwd)
    reports = json.loads(done.stdout)
    assert len(reports) == len(files)
    invalid = [(r["path"], r["findings"]) for r in reports if not r["valid"]]
    assert not invalid


def test_no_negative_delta_rows(toy_runs):
    cwd, _, _, _ = toy_runs
    with open(
        cwd / "runs" / "toy" / "bulk_eigenmodes" / "bulk_modes_dataset.csv", newline=""
    ) as fh:
        rows = list(csv.DictReader(fh))
    ok_rows = [r for r in rows if r["quality"] == "ok"]
    assert ok_rows, "the dataset has no usable row"
    assert all(float(r["Delta"]) > 0 for r in ok_rows)


def test_every_stage_passes_its_gate(toy_runs):
    cwd, _, _, _ = toy_runs
    for stage_id in ("02", "03", "04", "04c", "05", "06"):
        done = holopipe("assert-artifacts", "--experiment", "toy", "--for-stage", stage_id, cwd=cwd)
        assert done.returncode == 0, (stage_id, done.stderr)


def test_artifact_hashes_do_not_depend_on_workers(toy_runs):
    cwd, _, cwd2, parallel = toy_runs
    assert parallel.returncode in (0, 1), parallel.stderr

    def hashes(where: Path, experiment: str) -> dict[str, str]:
        stages = manifest(where, experiment)["stages"]
        return {o["path"]: o["sha256"] for r in stages.values() for o in r["outputs"]}

    assert hashes(cwd, "toy") == hashes(cwd2, "toy2")


def test_second_run_is_a_no_op(toy_runs):
    _, _, cwd2, _ = toy_runs  # the run of this module's own: the shared one is not run again
    again = holopipe("run", "--experiment", "toy2", cwd=cwd2)
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("up to date") == len(STAGE_PREFIXES)


def test_examples_run(toy_runs, tmp_path):
    cwd, _, _, _ = toy_runs
    explore = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "explore_run.py"), str(cwd / "runs" / "toy")],
        capture_output=True,
        text=True,
    )
    assert explore.returncode == 0, explore.stderr
    assert "usable eigenmode rows" in explore.stdout
    quickstart = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "artifacts_quickstart.py"), str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert quickstart.returncode == 0, quickstart.stderr
    assert "refused to write" in quickstart.stdout
    assert (tmp_path / "ads_d3_example_geometry.npz").is_file()
    custom = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "custom_stage.py"), str(tmp_path / "custom")],
        capture_output=True,
        text=True,
    )
    assert custom.returncode == 0, custom.stdout + custom.stderr
    assert "07_temperature_table: OK" in custom.stdout
    table = tmp_path / "custom" / "runs" / "custom" / "temperature_table" / "temperature_table.json"
    assert json.loads(table.read_text())["schema_name"] == "TemperatureTable"
