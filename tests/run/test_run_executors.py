"""Executors behind ctx.map: serial, processes, a real Dask LocalCluster, a real Slurm.

The reference toy pipeline gives byte-identical artifacts whatever the executor, a lost
Dask worker fails only the items it held (recorded), and the rerun finishes the stage.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest
from holo_run_helpers import cli, manifest, write_config

from holopipe.run import dask_cluster
from holopipe.run.config import ConfigError
from holopipe.run.dask_cluster import ClusterUnavailable, RunCluster
from holopipe.run.executors import (
    DaskExecutor,
    ExecutorConfig,
    ItemResult,
    ProcessExecutor,
    SerialExecutor,
    available_executors,
    chunked,
    make_executor,
)

ROOT = Path(__file__).resolve().parents[2]
TOY = ROOT / "configs" / "toy.json"
SLURM_SETUP = ROOT / "scripts" / "slurm-single-node.sh"


def square(x: int) -> int:
    if x == 5:
        raise ValueError("five is not allowed")
    return x * x


def keyed(n: int) -> list[tuple[str, int]]:
    return [(f"{i:03d}", i) for i in range(n)]


def test_chunks_cover_every_item_in_order():
    items = keyed(10)
    chunks = chunked(items, 3)
    assert [len(c) for c in chunks] == [3, 3, 3, 1]
    assert [pair for chunk in chunks for pair in chunk] == items


def test_every_builtin_executor_is_listed_once():
    assert {"serial", "processes", "dask", "slurm"} <= set(available_executors())
    assert available_executors() is available_executors()  # listed once, cached


def test_unknown_executor_name_is_a_config_error_naming_the_known_ones():
    with pytest.raises(ValueError, match="unknown executor 'kubernetes'.*dask.*processes"):
        ExecutorConfig(name="kubernetes")


def test_processes_with_one_job_is_serial():
    assert isinstance(make_executor(ExecutorConfig(name="processes"), 1), SerialExecutor)
    assert isinstance(make_executor(ExecutorConfig(name="processes"), 2), ProcessExecutor)


@pytest.mark.parametrize("name", ["serial", "processes"])
def test_local_executors_keep_order_and_record_failures_per_item(name):
    results = make_executor(ExecutorConfig(name=name), 2).map(square, keyed(8))
    assert [r.key for r in results] == [f"{i:03d}" for i in range(8)]
    assert [r.value for r in results if r.ok] == [i * i for i in range(8) if i != 5]
    failed = [r for r in results if not r.ok]
    assert [(r.key, r.error, r.lost) for r in failed] == [
        ("005", "ValueError: five is not allowed", False)
    ]


def test_dask_local_cluster_pickles_closures_keeps_order_and_reports_progress(tmp_path):
    offset = 100  # a closure over a local: travels by cloudpickle, not by fork

    def shifted(x: int) -> int:
        return square(x) + offset

    done: list[int] = []
    config = ExecutorConfig(name="dask", chunk_size=3)
    results = DaskExecutor(config, 2, tmp_path / "scratch").map(shifted, keyed(10), done.append)
    assert [r.key for r in results] == [f"{i:03d}" for i in range(10)]
    assert [r.value for r in results if r.ok] == [i * i + 100 for i in range(10) if i != 5]
    assert [r.key for r in results if not r.ok] == ["005"]
    assert done[-1] == 10 and done == sorted(done)
    assert not (tmp_path / "scratch").exists()  # the workers' scratch space is removed


def test_an_unreachable_scheduler_loses_every_item_to_be_rerun(tmp_path):
    import dask

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = ExecutorConfig(name="dask", address=f"tcp://127.0.0.1:{port}")
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        results = DaskExecutor(config, 2, tmp_path / "scratch").map(square, keyed(3))
    assert [r.key for r in results] == ["000", "001", "002"]
    assert all(r.lost and not r.ok for r in results)
    assert all(r.error.startswith("dask scheduler unreachable: ") for r in results)


def test_the_run_cluster_serves_every_stage_and_stops_with_its_folder(tmp_path):
    cluster = RunCluster.start(2, tmp_path / ".executor" / "cluster")
    try:
        config = ExecutorConfig(name="dask", chunk_size=4, address=cluster.address)
        for stage in ("01", "02"):  # a stage's client leaves the cluster running
            results = DaskExecutor(config, 2, tmp_path / ".executor" / stage).map(square, keyed(9))
            assert [r.value for r in results if r.ok] == [i * i for i in range(9) if i != 5]
        assert cluster.process.poll() is None
    finally:
        cluster.close()
    assert cluster.process.returncode is not None
    assert not (tmp_path / ".executor").exists()


def test_a_run_cluster_with_no_address_in_time_is_unavailable_and_stopped(tmp_path, monkeypatch):
    started: list[subprocess.Popen] = []

    class RecordedPopen(subprocess.Popen):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            started.append(self)

    monkeypatch.setattr(dask_cluster.subprocess, "Popen", RecordedPopen)
    with pytest.raises(ClusterUnavailable, match="did not start: no address within 0 s"):
        RunCluster.start(1, tmp_path / "cluster", timeout=0.01)
    assert len(started) == 1 and started[0].returncode is not None
    assert not (tmp_path / "cluster").exists()


def output_hashes(root: Path) -> dict[str, str]:
    stages = manifest(root)["stages"].values()
    return {o["path"]: o["sha256"] for record in stages for o in record["outputs"]}


def toy_run(cwd: Path, executor: str, *options: str, timeout: float = 600) -> Path:
    """The toy pipeline run as experiment ``executor`` with that executor; its run folder."""
    done = cli(
        "run", "-e", executor, "--config", TOY, "--executor", executor, *options,
        cwd=cwd, timeout=timeout,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return cwd / "runs" / executor


@pytest.fixture(scope="module")
def serial_toy_hashes(toy_run_every_stage) -> dict[str, str]:
    """The artifacts of the toy run with the serial executor (the suite's shared run: one
    job, so ``processes`` runs serially): what every executor must give."""
    cwd, done = toy_run_every_stage
    assert done.returncode == 0, done.stdout + done.stderr
    return output_hashes(cwd / "runs" / "toy")


def test_toy_run_with_dask_gives_the_serial_artifacts(tmp_path, serial_toy_hashes):
    # Generous time bounds: CI machines may be loaded.
    dask = toy_run(tmp_path, "dask", "--jobs", "2")
    assert len(serial_toy_hashes) > 20
    assert output_hashes(dask) == serial_toy_hashes
    assert not (dask / ".executor").exists()
    # One LocalCluster for the run (the orchestrator's), not one per stage.
    scheduler_lines = [
        line
        for log in sorted(dask.glob("*/logs/stderr.log"))
        for line in log.read_text().splitlines()
        if "on the scheduler at" in line
    ]
    assert len(scheduler_lines) >= 2
    assert len({line.rsplit(" ", 1)[-1] for line in scheduler_lines}) == 1, scheduler_lines
    # The executor is how, not what: switching it reruns nothing and is not a config change.
    again = cli("run", "-e", "dask", "--executor", "serial", cwd=tmp_path, timeout=600)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "running" not in again.stdout


def test_bad_executor_on_the_command_line_is_exit_2_with_the_known_names(tmp_path):
    done = cli("run", "-e", "x", "--config", TOY, "--executor", "kubernetes", cwd=tmp_path)
    assert done.returncode == 2
    assert "unknown executor 'kubernetes'" in done.stderr
    assert "Traceback" not in done.stderr


def test_config_executor_section_is_validated_up_front():
    from holopipe.pipeline import resolve_config

    with pytest.raises(ConfigError, match="chunk_size"):
        resolve_config(None, ["executor.chunk_size=-1"])


def test_an_executor_whose_packages_are_missing_is_refused_before_anything_runs(
    tmp_path, monkeypatch
):
    from typer.testing import CliRunner

    from holopipe.cli import app
    from holopipe.run import executors

    monkeypatch.setattr(executors, "_importable", lambda module: module != "distributed")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["run", "-e", "x", "--config", str(TOY), "--executor", "dask"])
    assert result.exit_code == 2, result.output
    assert (
        "executor 'dask' needs distributed, not installed here "
        '(pip install "holopipe[dask]")' in result.stderr
    )
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "runs" / "x").exists()


def test_a_killed_dask_worker_fails_only_its_items_and_the_rerun_finishes(tmp_path):
    marker = tmp_path / "kill-system-3"
    marker.touch()
    config = write_config(
        tmp_path / "killer.json",
        ["holo_executor_stages:WorkerKiller"],
        stages={"01": {"kill_marker": str(marker)}},
        executor={"name": "dask", "chunk_size": 2},
    )
    env = {"DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "0"}
    os.environ.update(env)
    try:
        first = cli("run", "-e", "k", "--config", config, "--jobs", "2", cwd=tmp_path, timeout=600)
    finally:
        for key in env:
            os.environ.pop(key)
    root = tmp_path / "runs" / "k"
    assert first.returncode == 1, first.stdout + first.stderr
    summary = json.loads(next(root.glob("01_*/stage_summary.json")).read_text())
    failed = {s["system_id"]: s["error"] for s in summary["systems"] if s["status"] == "ERROR"}
    # chunk_size 2: system 3 loses its task partner 2 with it, and any chunk queued on the
    # same worker is lost too; whole chunks only, and the rest are written.
    assert {"0002", "0003"} <= set(failed) and len(failed) < 8
    assert {int(sid) // 2 for sid in failed} == {int(sid) // 2 for sid in failed if int(sid) % 2}
    assert all("dask task lost" in error for error in failed.values())
    record = manifest(root)["stages"]["01_worker_killer"]
    assert record["lost_systems"] == len(failed)
    assert len(record["outputs"]) == 8 - len(failed)

    marker.unlink()  # the node is back
    second = cli("run", "-e", "k", "--jobs", "2", cwd=tmp_path, timeout=600)
    assert second.returncode == 0, second.stdout + second.stderr
    assert f"{len(failed)} systems lost to the executor in the last run" in second.stdout
    record = manifest(root)["stages"]["01_worker_killer"]
    assert record["lost_systems"] == 0 and len(record["outputs"]) == 8


def _slurm_available() -> str | None:
    """Why the real Slurm test cannot run here, or None when a cluster is up."""
    if os.geteuid() != 0:
        return "the single-node Slurm set-up needs root"
    if shutil.which("apt-get") is None and shutil.which("slurmctld") is None:
        return "slurm-wlm is not installed and there is no apt-get to install it"
    done = subprocess.run(["bash", str(SLURM_SETUP)], capture_output=True, text=True)
    if done.returncode != 0:
        return f"scripts/slurm-single-node.sh failed: {done.stderr.strip()[-300:]}"
    return None


@pytest.mark.slow
def test_toy_run_on_a_real_single_node_slurm_gives_the_serial_artifacts(tmp_path, request):
    reason = _slurm_available()
    if reason:
        pytest.skip(reason)
    serial_toy_hashes = request.getfixturevalue("serial_toy_hashes")  # only once Slurm is up
    slurm = toy_run(tmp_path, "slurm", "--jobs", "2", timeout=900)
    assert output_hashes(slurm) == serial_toy_hashes
    assert not (slurm / ".executor").exists()


def test_item_result_lost_defaults_to_false():
    assert ItemResult("a", 1).lost is False
