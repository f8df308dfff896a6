"""The experiment lock: a second ``holopipe run`` of the same experiment is refused naming the
holder; a stale lock is taken over; different experiments run side by side undisturbed."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from holo_run_helpers import cli, cli_popen, load_json, output_hashes, sleepy, summary, write_config

from holopipe.run.locking import ExperimentLock

SLOW = {f"{i:02d}": {"n_systems": 20, "sleep_s": 0.1} for i in range(1, 4)}


def _wait_for_lock_holder(lock: Path, pid: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if json.loads(lock.read_text() or "{}").get("pid") == pid:
                return
        except (OSError, ValueError):
            pass
        time.sleep(0.01)
    raise AssertionError(f"pid {pid} never took {lock}")


def test_second_run_of_the_same_experiment_is_refused_naming_the_holder(tmp_path: Path):
    config = write_config(tmp_path / "c.json", sleepy(3), stages=SLOW)
    first = cli_popen("run", "-e", "x", "--config", config, cwd=tmp_path)
    try:
        _wait_for_lock_holder(tmp_path / "runs" / "x" / ".lock.holder", first.pid)
        second = cli("run", "-e", "x", "--config", config, cwd=tmp_path)
        still_running = first.poll() is None
        assert second.returncode == 2
        assert f"experiment 'x' is locked by pid {first.pid}" in second.stderr
        assert "Traceback" not in second.stderr and second.stdout == ""
        assert still_running  # the refusal happened while the first run held the lock
        # holopipe stage is refused the same way
        third = cli("stage", "02", "-e", "x", cwd=tmp_path)
        assert third.returncode == 2 and f"pid {first.pid}" in third.stderr
    finally:
        out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    assert out.count(": OK in") == 3
    assert load_json(tmp_path / "runs" / "x" / "pipeline_summary.json")["exit_code"] == 0


def test_the_holder_record_is_written_without_fsync(tmp_path: Path, monkeypatch):
    # Worthless after a crash (the kernel releases the lock): renamed into place, not synced.
    calls = []
    monkeypatch.setattr(os, "fsync", calls.append)
    with ExperimentLock(tmp_path / ".lock", "x") as lock:
        assert json.loads(lock.holder_path.read_text())["pid"] == os.getpid()
    assert calls == [] and not lock.holder_path.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".lock"]  # no temporary file left


def test_stale_lock_of_a_dead_process_is_taken_over(tmp_path: Path):
    config = write_config(tmp_path / "c.json", sleepy(1))
    lock = tmp_path / "runs" / "x" / ".lock"
    lock.parent.mkdir(parents=True)
    lock.touch()
    holder = lock.with_name(".lock.holder")
    holder.write_text(json.dumps({"pid": 999999, "host": "gone", "command": "holopipe run"}))
    done = cli("run", "-e", "x", "--config", config, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert not holder.exists()  # the new holder replaced the stale record and removed it


def test_two_experiments_run_concurrently_without_interference(tmp_path: Path):
    procs = {}
    for name, n_stages in (("alpha", 2), ("beta", 3)):
        stages = {f"{i:02d}": {"n_systems": 12, "sleep_s": 0.02} for i in range(1, n_stages + 1)}
        config = write_config(tmp_path / f"{name}.json", sleepy(n_stages), stages=stages)
        procs[name] = cli_popen("run", "-e", name, "--config", config, cwd=tmp_path)
    results = {name: (p.communicate(timeout=120), p.returncode) for name, p in procs.items()}
    for name, ((_out, err), code) in results.items():
        assert code == 0, (name, err)
    alpha, beta = tmp_path / "runs" / "alpha", tmp_path / "runs" / "beta"
    # stages 01-02 have the same config in both: identical bytes; each run has only its own stages
    a, b = output_hashes(alpha), output_hashes(beta)
    assert {p: h for p, h in b.items() if not p.startswith("03_")} == a
    assert len(b) == 36 and len(a) == 24
    for root, last in ((alpha, "02_sleepy"), (beta, "03_sleepy")):
        s = summary(root, last)
        assert (s["status"], s["warnings"], s["errors"]) == ("OK", [], [])
    r = load_json(beta / "03_sleepy" / "sleepy_03" / "sys_d3_0011.json")["systems"][0]["R_mean"]
    assert r == -9.0
    assert not (tmp_path / "runs" / "alpha" / "03_sleepy").exists()
    assert sorted(os.listdir(tmp_path / "runs")) == ["alpha", "beta"]
