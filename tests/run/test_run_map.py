"""``ctx.map``: sorted results independent of the executor; per-system failures recorded and
not fatal (stage WARNING, pipeline goes on); an uncaught exception is ERROR with its
traceback in the log and stops the pipeline; a stage that ends without its summary failed."""

from __future__ import annotations

import gc
import os
from pathlib import Path

import pytest
from holo_run_helpers import chain, cli, load_json, manifest, output_hashes, summary, write_config

from holopipe.pipeline import RunRequest, run_pipeline, run_stage
from holopipe.run.context import RunContext, StageContext
from holopipe.run.layout import RunLayout


def _stage_ctx(tmp_path: Path, jobs: int) -> StageContext:
    run = RunContext(RunLayout.create(tmp_path / "runs", "m"), {"seed": 1}, jobs)
    return StageContext(run, "01", "01_map", tmp_path, None)


@pytest.mark.parametrize("jobs", [1, 2])
def test_map_returns_sorted_results_and_collects_failures(tmp_path: Path, jobs: int):
    ctx = _stage_ctx(tmp_path, jobs)
    items = [5, 3, 9, 1, 7, 2]

    def work(item: int) -> tuple[int, int]:
        if item == 7:
            raise ValueError(f"bad item {item}")
        return item * item, os.getpid()

    results = ctx.map(work, items, key=lambda i: f"s{i:02d}")
    assert [r.key for r in results] == ["s01", "s02", "s03", "s05", "s07", "s09"]
    assert [r.value[0] for r in results if r.ok] == [1, 4, 9, 25, 81]
    [failed] = [r for r in results if not r.ok]
    assert (
        failed.key == "s07"
        and failed.error == "ValueError: bad item 7"
        and "Traceback" in failed.traceback
    )
    assert ctx.systems["s07"] == ("ERROR", "ValueError: bad item 7")
    assert all(ctx.systems[k] == ("OK", None) for k in ("s01", "s02", "s03", "s05", "s09"))
    pids = {r.value[1] for r in results if r.ok}
    if jobs == 1:
        assert pids == {os.getpid()}
    else:
        assert os.getpid() not in pids


def test_jobs_1_and_2_give_identical_artifacts(in_tmp: Path):
    config = write_config(
        in_tmp / "c.json",
        ["holo_run_test_stages:MapOrder", *chain(3)[1:]],
        stages={"01": {"n_items": 9, "sleep_s": 0.02}},
    )
    assert (
        run_pipeline(RunRequest(Path("runs"), "serial", config, jobs=1), echo=lambda line: None)
        == 0
    )
    assert (
        run_pipeline(RunRequest(Path("runs"), "parallel", config, jobs=2), echo=lambda line: None)
        == 0
    )
    serial, parallel = in_tmp / "runs" / "serial", in_tmp / "runs" / "parallel"
    assert output_hashes(serial) == output_hashes(parallel)
    notes = load_json(parallel / "01_map_order" / "chain_01" / "sys_d3_0000.json")["systems"][0][
        "equations"
    ]
    assert notes == [
        f"item_{i:03d}=ITEM_{i:03d}" for i in range(9)
    ]  # sorted, values paired with keys
    workers = {k for k in summary(parallel, "01_map_order")["metrics"] if k.startswith("pid_")}
    assert len(workers) == 2  # --jobs 2 really used two worker processes
    assert len({k for k in summary(serial, "01_map_order")["metrics"] if k.startswith("pid_")}) == 1
    for key in ("02_chain_step", "03_chain_step"):
        rows = summary(parallel, key)["systems"]
        assert rows == summary(serial, key)["systems"]


def test_failing_system_is_recorded_and_the_pipeline_continues(in_tmp: Path):
    config = write_config(
        in_tmp / "c.json", chain(3), stages={"01": {"n_systems": 4}, "02": {"fail_system": 1}}
    )
    done = cli("run", "--experiment", "x", "--config", config, "--jobs", "2", cwd=in_tmp)
    assert done.returncode == 1, done.stderr
    assert "02_chain_step: WARNING" in done.stdout and "03_chain_step: OK" in done.stdout
    root = in_tmp / "runs" / "x"
    s = summary(root, "02_chain_step")
    assert (s["status"], s["exit_code"]) == ("WARNING", 1)
    assert s["systems"] == [
        {"system_id": "sys_d3_0000", "status": "OK", "error": None},
        {"system_id": "sys_d3_0001", "status": "ERROR", "error": "RuntimeError: requested failure"},
        {"system_id": "sys_d3_0002", "status": "OK", "error": None},
        {"system_id": "sys_d3_0003", "status": "OK", "error": None},
    ]
    assert s["counts"]["outputs_rows"] == 3
    log = (root / "02_chain_step" / "logs" / "stderr.log").read_text()
    assert "sys_d3_0001 failed" in log and "Traceback" in log and "requested failure" in log
    # the others were not stopped, and 03 ran on what 02 produced
    assert sorted(p.name for p in (root / "02_chain_step" / "chain_02").iterdir()) == [
        "sys_d3_0000.json",
        "sys_d3_0002.json",
        "sys_d3_0003.json",
    ]
    assert summary(root, "03_chain_step")["counts"]["inputs_ok"] == 3
    assert load_json(root / "pipeline_summary.json")["exit_code"] == 1


def test_uncaught_exception_is_error_with_traceback_and_stops_the_pipeline(in_tmp: Path):
    config = write_config(
        in_tmp / "c.json",
        ["holopipe.testing:Chain01", "holo_run_test_stages:Crasher", "holopipe.testing:Chain03"],
    )
    done = cli("run", "--experiment", "x", "--config", config, cwd=in_tmp)
    assert done.returncode == 3
    assert "02_crasher: ERROR" in done.stdout and "03_chain_step" not in done.stdout
    assert "Traceback" not in done.stderr  # the traceback is in the stage's log, not the terminal
    root = in_tmp / "runs" / "x"
    # the failed attempt is kept aside, never published (no stage folder, record or alias)
    s = summary(root, "02_crasher.failed")
    assert (s["status"], s["exit_code"]) == ("ERROR", 3)
    assert any("uncaught exception" in e for e in s["errors"])
    log = (root / "02_crasher.failed" / "logs" / "stderr.log").read_text()
    assert "Traceback (most recent call last)" in log and "ValueError: boom-in-stage" in log
    assert not (root / "03_chain_step").exists() and not (root / "02_crasher").exists()
    assert "02_crasher" not in manifest(root)["stages"]
    assert "chain_02" not in manifest(root)["aliases"]
    outcome = load_json(root / "pipeline_summary.json")
    assert [(s["stage"], s["action"]) for s in outcome["stages"]] == [
        ("01_chain_source", "ran"),
        ("02_crasher", "ran"),
        ("03_chain_step", "not_reached"),
    ]
    assert outcome["exit_code"] == 3
    # a failed stage is never "up to date": the next run tries it again
    done = cli("run", "--experiment", "x", cwd=in_tmp)
    assert (
        done.returncode == 3
        and "02_crasher: running (last run ended ERROR, kept in 02_crasher.failed/)" in done.stdout
    )


def test_a_stage_exiting_without_its_summary_is_an_error(in_tmp: Path):
    config = write_config(
        in_tmp / "c.json", ["holo_run_test_stages:ExitsEarly", "holopipe.testing:Chain02"]
    )
    lines: list[str] = []
    assert run_pipeline(RunRequest(Path("runs"), "x", config), echo=lines.append) == 3
    assert any(line.startswith("01_exits_early: ERROR") for line in lines)
    assert lines[-1].startswith("x: ERROR (exit 3)")
    root = in_tmp / "runs" / "x"
    s = summary(root, "01_exits_early.failed")
    assert (
        s["status"] == "ERROR"
        and "SystemExit" in (root / "01_exits_early.failed" / "logs" / "stderr.log").read_text()
    )
    assert not (root / "02_chain_step").exists()


def test_params_errors_are_reported_before_anything_runs(in_tmp: Path):
    config = write_config(in_tmp / "c.json", chain(2), stages={"01": {"n_systems": 0}})
    done = cli("run", "--experiment", "x", "--config", config, cwd=in_tmp)
    assert done.returncode == 2 and "stages.01" in done.stderr and "Traceback" not in done.stderr
    assert not (in_tmp / "runs" / "x" / "01_chain_source").exists()


def _frozen_after_collect() -> int:
    """The freeze count as the probe stage reads it (after a collection: on Python 3.12 a
    collection puts a few hundred of the runtime's own objects there, 375 here)."""
    gc.collect()
    return gc.get_freeze_count()


def test_the_forked_stage_process_freezes_what_it_inherited_and_collects_its_own(in_tmp):
    """gc.freeze() in the forked stage process: the orchestrator's objects are never
    traversed there (no collection touches, and copies, their pages); the stage's own
    cyclic garbage is still freed; the orchestrator's collector is left as it was; a stage
    run in the command's own process (``holopipe stage``) freezes nothing."""
    config = write_config(in_tmp / "c.json", ["holo_run_test_stages:GcProbe"])
    before = _frozen_after_collect()
    assert run_pipeline(RunRequest(Path("runs"), "forked", config), echo=lambda line: None) == 0
    metrics = summary(in_tmp / "runs" / "forked", "01_gc_probe")["metrics"]
    assert metrics["frozen"] > 1000 and metrics["cycle_freed"] == 1.0
    assert _frozen_after_collect() == before
    assert run_stage(RunRequest(Path("runs"), "here", config), "01") == 0
    metrics = summary(in_tmp / "runs" / "here", "01_gc_probe")["metrics"]
    assert metrics["frozen"] == before and metrics["cycle_freed"] == 1.0
