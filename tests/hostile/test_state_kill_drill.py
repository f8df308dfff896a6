"""The kill drill of issue 14 (slow lane): random SIGKILLs of ``holopipe run``, and a SIGKILL
at every rename (``rename``, ``renameat``) of a stage rerun that also switches the config
(strace fault injection), each followed by the next command. Counted: partial artifacts, differing
resumes, wrong configs and leftover temporary files after the next command, all zero.

A real full disk: a 512 KiB tmpfs as the runs root (root only)."""

from __future__ import annotations

import json
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from holo_state_helpers import (
    cli,
    env,
    half_written,
    have_strace,
    kill_at_rename,
    leftovers,
    outputs,
    strace_renames,
    write_config,
)

pytestmark = pytest.mark.slow


def _partial_artifacts(root: Path) -> list[str]:
    """Visible JSON files that do not parse, and manifest-listed files not as recorded."""
    bad = []
    for path in root.rglob("*.json"):
        if any(part.startswith(".") for part in path.relative_to(root).parts):
            continue  # work folders, not visible results
        try:
            json.loads(path.read_text())
        except (ValueError, OSError):
            bad.append(str(path.relative_to(root)))
    return bad


def _frozen_offset(root: Path) -> float | None:
    try:
        return json.loads((root / "config.resolved.json").read_text())["stages"]["02"]["offset"]
    except (OSError, ValueError, KeyError):
        return None


def _reference(cwd: Path, offset: float) -> dict[str, str]:
    """An uninterrupted run ``cwd/runs/x`` (config ``cwd/c.json``); its outputs."""
    cwd.mkdir(parents=True, exist_ok=True)
    stages = {"01": {"n_systems": 12}, "02": {"offset": offset}}
    config = write_config(cwd / "c.json", stages=stages)
    assert cli("run", "-e", "x", "--config", config, cwd=cwd).returncode == 0
    return outputs(cwd / "runs" / "x")


def test_random_kills_of_holopipe_run_then_resume(tmp_path: Path):
    started = time.monotonic()
    expected = _reference(tmp_path / "ref", 0.0)
    # Kill times as fractions of how long a whole run takes on this machine, so that most
    # kills land inside a run however fast holopipe and the machine are.
    duration = time.monotonic() - started
    config = tmp_path / "ref" / "c.json"
    rng = random.Random(14)
    figures = {"kills": 0, "partial": 0, "differing": 0, "leftovers": 0}
    for episode in range(12):
        name = f"k{episode}"
        proc = subprocess.Popen(
            [sys.executable, "-m", "holopipe", "run", "-e", name, "--config", str(config)],
            cwd=tmp_path, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(rng.uniform(0.05, 0.9) * duration)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            figures["kills"] += 1
        proc.wait()
        root = tmp_path / "runs" / name
        if root.exists():
            figures["partial"] += len(_partial_artifacts(root))
        done = cli("run", "-e", name, "--config", config, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        figures["leftovers"] += len(leftovers(root)) + len(half_written(root))
        figures["differing"] += outputs(root) != expected
    print(f"random kills: {figures}")
    assert figures["kills"] >= 6
    assert (figures["partial"], figures["differing"], figures["leftovers"]) == (0, 0, 0)


@pytest.mark.skipif(not have_strace(), reason="strace is not installed")
def test_a_kill_at_every_rename_of_a_stage_rerun_with_a_config_switch(tmp_path: Path):
    old = _reference(tmp_path / "old", 0.0)
    new = _reference(tmp_path / "new", 2.5)
    base = tmp_path / "old" / "runs" / "x"
    switch = ("stage", "02", "-e", "x", "--set", "stages.02.offset=2.5", "--force")
    probe = tmp_path / "probe"
    shutil.copytree(base, probe / "runs" / "x", symlinks=True)
    renames = strace_renames(switch, probe, tmp_path / "strace.log")
    traced = "\n".join(line for _, _, line in renames)
    # The publication points are among them: the config switch, the stage folder swap, its
    # manifest record and index, and the old folder's move into the run trash.
    for point in (
        'config.resolved.json")',
        '.02_chain_step.partial", "runs/x/02_chain_step"',
        'run_manifest.json")',
        '"02_chain_step.old.',
    ):
        assert point in traced, (point, traced)
    figures = {"renames": len(renames), "killed": 0, "partial": 0, "wrong_config": 0,
               "differing": 0, "leftovers": 0}  # fmt: skip
    for n, (call, nth, line) in enumerate(renames, start=1):
        cwd = tmp_path / f"at{n}"
        root = cwd / "runs" / "x"
        shutil.copytree(base, root, symlinks=True)
        done = kill_at_rename(switch, cwd, call, nth)
        figures["killed"] += done.returncode in (-9, 137)
        figures["partial"] += len(_partial_artifacts(root))
        frozen = _frozen_offset(root)
        figures["wrong_config"] += frozen not in (0.0, 2.5)
        resume = cli("run", "-e", "x", cwd=cwd)  # the next command: no --config
        assert resume.returncode == 0, (n, line, resume.stdout, resume.stderr)
        figures["leftovers"] += len(leftovers(root)) + len(half_written(root))
        figures["differing"] += outputs(root) != (new if _frozen_offset(root) == 2.5 else old)
        finish = cli(*switch, cwd=cwd)  # and the interrupted command itself completes
        assert finish.returncode == 0, finish.stderr
        assert cli("run", "-e", "x", cwd=cwd).returncode == 0
        figures["differing"] += outputs(root) != new
        shutil.rmtree(cwd)
    print(f"kill at every rename: {figures}")
    assert figures["killed"] == figures["renames"]
    assert {k: v for k, v in figures.items() if k not in ("renames", "killed")} == {
        "partial": 0, "wrong_config": 0, "differing": 0, "leftovers": 0
    }  # fmt: skip


def test_a_real_full_disk_is_exit_2_naming_the_file_and_resumes_once_space_is_freed(
    tmp_path: Path,
):
    disk = tmp_path / "disk"
    disk.mkdir()
    mount = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(disk)],
                           capture_output=True, text=True)  # fmt: skip
    if mount.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mount.stderr.strip()}")
    try:
        expected = _reference(tmp_path / "ref", 0.0)
        config = tmp_path / "ref" / "c.json"
        ballast = disk / "ballast"
        codes = []
        for free_kib in (64, 128, 200, 300, 400):
            ballast.unlink(missing_ok=True)
            shutil.rmtree(disk / "runs", ignore_errors=True)
            ballast.write_bytes(b"\0" * ((512 - free_kib) * 1024))
            done = cli("run", "-e", "x", "--config", config, "--runs-dir", disk / "runs",
                       cwd=tmp_path)  # fmt: skip
            codes.append(done.returncode)
            assert done.returncode in (0, 2), (free_kib, done.stdout, done.stderr)
            assert "Traceback" not in done.stderr and "internal error" not in done.stderr
            root = disk / "runs" / "x"
            if done.returncode == 2:
                assert "no space left on device while writing" in done.stderr, done.stderr
                if root.exists():
                    assert half_written(root) == [] and _partial_artifacts(root) == []
                ballast.unlink()  # space freed: the same command completes
                again = cli("run", "-e", "x", "--config", config, "--runs-dir",
                            disk / "runs", cwd=tmp_path)  # fmt: skip
                assert again.returncode == 0, again.stderr
            assert outputs(root) == expected
        print(f"full disk exit codes at 64/128/200/300/400 KiB free: {codes}")
        assert 2 in codes  # the disk really filled up at least once
    finally:
        subprocess.run(["umount", str(disk)], check=False)
