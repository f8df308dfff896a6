"""A stage whose ``stage_summary.json`` is missing, unreadable or does not match its
manifest record is a failed stage (the plan's section 2.1; issue 13 item 1, issue 7 item 5):
``holopipe status`` names it, the gate refuses its outputs with exit 2 naming the file and
the recovery, and ``holopipe run`` reruns it. Never "up to date"."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from holopipe.pipeline import RunRequest, run_pipeline, stage_states


def holopipe(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("HOLOPIPE_RUNS_DIR", "HOLOPIPE_DEBUG")}
    return subprocess.run(
        [sys.executable, "-m", "holopipe", *args], cwd=cwd, env=env, capture_output=True, text=True
    )


@pytest.fixture
def chain_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HOLOPIPE_RUNS_DIR", raising=False)
    pipeline = [f"holopipe.testing:Chain{i:02d}" for i in (1, 2, 3)]
    (tmp_path / "c.json").write_text(json.dumps({"seed": 1, "pipeline": pipeline}))
    assert (
        run_pipeline(RunRequest(Path("runs"), "x", tmp_path / "c.json"), echo=lambda line: None)
        == 0
    )
    return tmp_path / "runs" / "x"


SUMMARY = "02_chain_step/stage_summary.json"


def _break(root: Path, how: str) -> None:
    path = root / SUMMARY
    if how == "missing":
        path.unlink()
    elif how == "truncated":
        path.write_text(path.read_text()[:40])
    else:  # hand-edited: valid JSON that no longer matches the manifest record
        doc = json.loads(path.read_text())
        doc["status"], doc["exit_code"] = "WARNING", 1
        path.write_text(json.dumps(doc))


@pytest.mark.parametrize("how", ["missing", "truncated", "edited"])
def test_plan_2_1_missing_summary_means_failed(chain_run: Path, how: str):
    _break(chain_run, how)
    states = {s.stage: s for s in stage_states(Path("runs"), "x")}
    broken = states["02_chain_step"]
    assert broken.status == "FAILED" and not broken.up_to_date
    assert SUMMARY in broken.reason and "rerun it (holopipe run -e x)" in broken.reason
    assert states["01_chain_source"].up_to_date

    gate = holopipe("assert-artifacts", "-e", "x", "--for-stage", "03", cwd=chain_run.parents[1])
    assert gate.returncode == 2, gate.stdout + gate.stderr
    [line] = gate.stderr.splitlines()
    assert line.startswith("missing_artifact: chain_02/ (") and SUMMARY in line
    assert "it counts as failed: rerun it (holopipe run -e x)" in line

    lines: list[str] = []
    assert run_pipeline(RunRequest(Path("runs"), "x"), echo=lines.append) == 0
    assert lines[0] == "01_chain_source: up to date (OK), skipped"
    assert lines[1].startswith("02_chain_step: running (failed: ")
    assert json.loads((chain_run / SUMMARY).read_text())["status"] == "OK"
    assert all(s.up_to_date for s in stage_states(Path("runs"), "x"))
