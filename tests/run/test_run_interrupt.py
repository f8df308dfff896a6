"""Ctrl-C during a run: a clear message, exit 130, no traceback, and the same command resumes."""

import os
import signal
import time
from pathlib import Path

import pytest
from holo_run_helpers import cli, cli_popen, sleepy, write_config


def _default_sigint() -> None:
    # A suite started in the background by a non-interactive shell (`nox ... &`) inherits
    # SIGINT ignored, and Python keeps an ignored SIGINT ignored: give the run the terminal's.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("jobs", [1, 2])
def test_ctrl_c_stops_cleanly_and_the_run_resumes(tmp_path: Path, jobs: int):
    stages = {f"{i:02d}": {"n_systems": 40, "sleep_s": 0.05} for i in (1, 2)}
    config = write_config(tmp_path / "c.json", sleepy(2), stages=stages)
    proc = cli_popen(
        "run",
        "-e",
        "x",
        "--config",
        config,
        "--jobs",
        jobs,
        cwd=tmp_path,
        start_new_session=True,
        preexec_fn=_default_sigint,
    )
    partial = tmp_path / "runs" / "x" / ".01_sleepy.partial"
    t0 = time.monotonic()
    while not partial.exists() and proc.poll() is None and time.monotonic() < t0 + 60:
        time.sleep(0.01)
    seen = f"work folder seen after {time.monotonic() - t0:.2f} s: {partial.exists()}"
    time.sleep(0.2)  # inside stage 01's work (2 s of it)
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, f"{seen}\n{out}{err}"
    assert "interrupted" in err and "resume" in err
    assert "Traceback" not in out + err
    resumed = cli("run", "-e", "x", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "x: OK (exit 0)" in resumed.stdout
    assert not partial.exists()
