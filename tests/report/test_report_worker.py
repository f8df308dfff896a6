"""report.html drawn by the worker forked as the first stage starts (holopipe.report.worker):
the same page as the orchestrator draws, no process left behind, and a worker that failed
leaves the report to the orchestrator."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from holopipe.pipeline import RunRequest, plan_run, run_pipeline
from holopipe.report import worker as worker_module
from holopipe.report import write_report
from holopipe.report.worker import ReportWorker
from holopipe.run.layout import RunLayout

pytest.importorskip("matplotlib")
if len(os.sched_getaffinity(0)) < 2:
    pytest.skip("the worker is only started with two CPUs or more", allow_module_level=True)


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the outside-writes gate watches the working directory


def _chain_run(root: Path, n: int = 4) -> RunLayout:
    root.mkdir(parents=True, exist_ok=True)
    config = root / "config.json"
    pipeline = [f"holopipe.testing:Chain{i:02d}" for i in range(1, 4)]
    config.write_text(
        json.dumps({"seed": 1, "pipeline": pipeline, "stages": {"01": {"n_systems": n}}})
    )
    request = RunRequest(root / "runs", "x", config)
    lines: list[str] = []
    assert run_pipeline(request, echo=lines.append) == 0, lines
    return RunLayout.create(root / "runs", "x")


def _gone(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def test_the_worker_draws_the_page_the_orchestrator_would(tmp_path: Path):
    layout = _chain_run(tmp_path)
    report = layout.root / "report.html"
    plans = plan_run(RunRequest(layout.root.parent, "x"))
    worker = ReportWorker.start()
    assert worker is not None
    pid = worker.pid
    answer = worker.write(layout, plans, "key", ["02_chain_step"])
    assert answer is not None and _gone(pid)
    path, left_out, failed_checks = answer
    drawn_by_worker = report.read_bytes()
    assert path == report and failed_checks == {"02_chain_step": None}
    assert b"<svg" in drawn_by_worker  # its plots too (the curvature of the chain's systems)
    report.unlink()  # else the page below would reuse the plots drawn above
    assert write_report(layout, plans, "key") == (report, left_out)
    assert report.read_bytes() == drawn_by_worker


def test_a_worker_that_died_leaves_the_report_to_the_caller(tmp_path: Path):
    layout = _chain_run(tmp_path)
    worker = ReportWorker.start()
    assert worker is not None
    pid = worker.pid
    os.kill(pid, signal.SIGKILL)
    assert worker.write(layout, [], "key", []) is None
    assert _gone(pid)


def test_a_worker_never_asked_is_ended_without_waiting_for_its_imports():
    worker = ReportWorker.start()
    assert worker is not None
    pid = worker.pid
    worker.close()
    assert _gone(pid) and worker.pid == 0
    worker.close()  # twice: nothing more


def test_a_run_has_its_report_drawn_by_the_worker_and_falls_back_when_it_fails(
    tmp_path: Path, monkeypatch
):
    answers = []
    real_write = ReportWorker.write

    def noted_write(self, *args):
        answers.append(real_write(self, *args))
        return answers[-1]

    monkeypatch.setattr(ReportWorker, "write", noted_write)
    layout = _chain_run(tmp_path / "a")
    assert len(answers) == 1 and answers[0] is not None
    assert b"<svg" in (layout.root / "report.html").read_bytes()

    def failing_serve(requests: int, answers_fd: int) -> None:
        os._exit(1)  # as a worker that crashed: no answer

    monkeypatch.setattr(worker_module, "_serve", failing_serve)
    layout = _chain_run(tmp_path / "b")
    assert len(answers) == 2 and answers[1] is None
    assert b"<svg" in (layout.root / "report.html").read_bytes()  # drawn by the orchestrator
