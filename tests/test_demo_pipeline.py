"""``holopipe run --experiment demo`` with no config: the first thing a new user sees.

It must end OK (exit 0) with every stage OK, every check evaluated or declared not
applicable with its reason as a note, every stage's gate passing, and (slow lane) the same
artifacts with one and with two workers. The runs are the session fixtures ``demo_run`` and
``demo_run_two_workers`` (tests/conftest.py; the report tests open the first one's
report.html in a browser).
"""

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from holopipe.artifacts.records import RunManifest


def holopipe(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "holopipe", *args],
        cwd=cwd, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def _stages(cwd: Path) -> dict:
    return RunManifest.read_document(cwd / "runs" / "demo" / "run_manifest.json")["stages"]


def _summary(cwd: Path, stage: str) -> dict:
    return json.loads((cwd / "runs" / "demo" / stage / "stage_summary.json").read_text())


def _assert_ended_ok(cwd: Path, done: subprocess.CompletedProcess) -> None:
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().splitlines()[-1].startswith("demo: OK (exit 0)")
    stages = _stages(cwd)
    assert len(stages) >= 8
    config = json.loads((cwd / "runs" / "demo" / "config.resolved.json").read_text())
    assert config["strict"] is True  # OK below: no discipline finding in any stage
    for stage in stages:
        summary = _summary(cwd, stage)
        assert summary["status"] == "OK", (stage, summary["warnings"], summary["errors"])
        assert not any("nothing evaluated" in w for w in summary["warnings"])


def test_the_demo_ends_ok_with_every_stage_ok(demo_run):
    _assert_ended_ok(*demo_run)


def test_stage_05_evaluates_trends_and_says_why_the_lifshitz_check_does_not_apply(demo_run):
    cwd, _ = demo_run
    summary = _summary(cwd, "05_analyze_bulk_equations")
    assert summary["metrics"]["n_trends_evaluated"] > 0
    # The check that cannot apply to these data is declared so, with the reason, as a note.
    if summary["metrics"]["n_checks_evaluated"] == 0:
        assert any(
            "lifshitz_ricci_vs_zeta" in note and "T > 0" in note for note in summary["notes"]
        )


def test_every_stage_from_02_passes_assert_artifacts(demo_run):
    cwd, _ = demo_run
    for stage in sorted(_stages(cwd))[1:]:
        stage_id = stage.split("_", 1)[0]
        done = holopipe(
            "assert-artifacts", "--experiment", "demo", "--for-stage", stage_id, cwd=cwd
        )
        assert done.returncode == 0, (stage_id, done.stdout, done.stderr)


@pytest.mark.slow
def test_one_and_two_workers_give_identical_artifacts(demo_run, demo_run_two_workers):
    (one, _), (two, done) = demo_run, demo_run_two_workers
    _assert_ended_ok(two, done)

    def hashes(cwd: Path) -> dict[str, str]:
        root = cwd / "runs" / "demo"
        return {
            o["path"]: hashlib.sha256((root / o["path"]).read_bytes()).hexdigest()
            for record in _stages(cwd).values()
            for o in record["outputs"]
        }

    first = hashes(one)
    assert len(first) > 20
    assert hashes(two) == first
