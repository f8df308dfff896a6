"""A stage's inputs read by forked readers (``--jobs 2``, enough files): the same artifacts,
the same ``invalid_artifact`` lines and counts, in the same order as read in the stage
process; a file a reader could not send back is read by the stage process itself."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from test_input_gate_lines import broken_prediction

from holopipe.artifacts.prediction import GeometryPrediction
from holopipe.run.context import RunContext
from holopipe.run.layout import RunLayout
from holopipe.stages import runner
from holopipe.stages.runner import StageExecution
from holopipe.stages.s06_eigenmodes import BuildBulkEigenmodesDataset


@pytest.fixture
def predictions(tmp_path: Path) -> Path:
    folder = tmp_path / "predictions"
    folder.mkdir()
    for i in range(7):
        GeometryPrediction.example().write(folder / f"ads_{i}_geometry.npz")
    broken_prediction(tmp_path).rename(folder / "ads_3b_geometry.npz")
    return folder


def loaded(tmp_path: Path, folder: Path, jobs: int, executor: str | None = None):
    run = RunContext(RunLayout.create(tmp_path / f"runs{jobs}", "x"), {"seed": 1}, jobs, executor)
    execution = StageExecution(run, BuildBulkEigenmodesDataset, {"predictions": folder})
    assert execution.resolve() == []
    problems = execution.load_inputs()
    inputs = [(i.path.name, i.artifact) for i in execution.loaded["predictions"]]
    return problems, inputs, execution.counts


@pytest.fixture
def readers(monkeypatch) -> list[int]:
    """The number of readers of each parallel read (and a threshold this test reaches)."""
    calls: list[int] = []
    real = runner.fork_map

    def spy(task, n, workers, on_done=None):
        calls.append(workers)
        return real(task, n, workers, on_done)

    monkeypatch.setattr(runner, "fork_map", spy)
    monkeypatch.setattr(runner, "PARALLEL_READ_MIN", 4)
    return calls


def test_parallel_readers_give_what_the_stage_process_reads(tmp_path, predictions, readers):
    serial = loaded(tmp_path, predictions, 1)
    assert readers == []  # one job: read in the stage process
    parallel = loaded(tmp_path, predictions, 2)
    assert readers == [2]
    assert parallel == serial
    problems, inputs, counts = parallel
    assert len(inputs) == 7 and [name for name, _ in inputs] == sorted(n for n, _ in inputs)
    assert len(problems) == 2 and all("ads_3b_geometry.npz" in line for line in problems)
    assert (counts.inputs_total, counts.inputs_ok, counts.inputs_failed) == (8, 7, 1)


def test_the_serial_executor_and_few_files_read_in_the_stage_process(
    tmp_path, predictions, readers, monkeypatch
):
    loaded(tmp_path, predictions, 2, executor="serial")
    monkeypatch.setattr(runner, "PARALLEL_READ_MIN", 100)
    loaded(tmp_path / "few", predictions, 2)
    assert readers == []


def test_a_file_whose_reader_died_is_read_by_the_stage_process(
    tmp_path, predictions, readers, monkeypatch
):
    parent, real = os.getpid(), runner.read_input

    def dies_on_one(spec, path):
        if path.name == "ads_5_geometry.npz" and os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(spec, path)

    serial = loaded(tmp_path, predictions, 1)
    monkeypatch.setattr(runner, "read_input", dies_on_one)
    assert loaded(tmp_path / "killed", predictions, 2) == serial
    assert readers == [2]
