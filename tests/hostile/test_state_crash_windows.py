"""The crash windows of issue 14, each with a kill or fault injected exactly there.

The fault hook is ``HOLOPIPE_INJECT_FAULT`` (``kill:<glob>`` SIGKILLs a command just before
the rename of an atomic write whose target matches, ``enospc:<glob>`` fails that write as a
full disk would). The drill of every rename (strace) is in ``test_state_kill_drill.py``.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import time
from pathlib import Path

import pytest
from holo_state_helpers import (
    KEYS,
    cli,
    half_written,
    killed,
    leftovers,
    outputs,
    tree,
    write_config,
)

from holopipe.run.layout import RunLayout
from holopipe.run.locking import ExperimentLock, LockHeldError


def _first_run(tmp_path: Path, seed: int = 1) -> Path:
    """``holopipe run -e x`` of the chain with the config ``a.json`` (``seed``): its folder."""
    config = write_config(tmp_path / "a.json", seed)
    done = cli("run", "-e", "x", "--config", config, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    return tmp_path / "runs" / "x"


def _frozen_seed(root: Path) -> int:
    return json.loads((root / "config.resolved.json").read_text())["seed"]


# --- window 1: the config switch ---------------------------------------------------------


def test_a_kill_during_the_config_switch_leaves_a_frozen_config_never_the_default(
    tmp_path: Path,
):
    root = _first_run(tmp_path, seed=7)
    new = write_config(tmp_path / "b.json", 8)
    for target in ("config.resolved.1.json", "config.resolved.json"):  # copy first, then switch
        done = cli(
            "stage", "01", "-e", "x", "--config", new, "--force",
            cwd=tmp_path, fault=f"kill:*/{target}",
        )  # fmt: skip
        assert killed(done), done.stderr
        assert _frozen_seed(root) in (7, 8)  # the old config or the new one, never none
        again = cli("stage", "01", "-e", "x", cwd=tmp_path)
        assert again.returncode == 0, again.stderr
        assert _frozen_seed(root) in (7, 8)
        assert "20261128" not in (root / "config.resolved.json").read_text()  # not the default
    done = cli("stage", "01", "-e", "x", "--config", new, "--force", cwd=tmp_path)
    assert done.returncode == 0 and _frozen_seed(root) == 8
    numbered = sorted(p.name for p in root.glob("config.resolved.*.json"))
    assert numbered == ["config.resolved.1.json"]  # the old one kept once, not per attempt
    assert json.loads((root / "config.resolved.1.json").read_text())["seed"] == 7


def test_a_run_that_lost_its_frozen_config_is_refused_naming_the_numbered_ones(tmp_path: Path):
    root = _first_run(tmp_path, seed=7)
    cli("run", "-e", "x", "--config", write_config(tmp_path / "b.json", 8), "--force", cwd=tmp_path)
    (root / "config.resolved.json").unlink()  # what a kill in the old switch left
    before = tree(root)
    for args in (("run", "-e", "x"), ("stage", "02", "-e", "x"), ("status", "-e", "x")):
        done = cli(*args, cwd=tmp_path)
        assert done.returncode == 2, (args, done.stderr)
        assert "config.resolved.json is missing in a run that has stages" in done.stderr
        assert "config.resolved.1.json" in done.stderr and "Traceback" not in done.stderr
    assert tree(root) == before  # nothing frozen, nothing rerun
    # the recovery the message gives works
    os.replace(root / "config.resolved.1.json", root / "config.resolved.json")
    assert cli("run", "-e", "x", cwd=tmp_path).returncode == 0


# --- window 2: leftovers -------------------------------------------------------------------


def test_leftovers_of_a_killed_command_are_removed_by_the_next_command_that_locks(
    tmp_path: Path,
):
    root = _first_run(tmp_path)
    expected = outputs(root)
    # a kill during the manifest write leaves its temp file ...
    done = cli("stage", "02", "-e", "x", cwd=tmp_path, fault="kill:*/run_manifest.json")
    assert killed(done)
    manifest_tmp = r"^\.run_manifest\.json\.[A-Za-z0-9_]{8}\.tmp$"
    assert [n for n in leftovers(root) if re.match(manifest_tmp, n)], leftovers(root)
    # ... which the next command that takes the lock removes (and it is killed in turn
    # during the config write, leaving that temp file)
    b = write_config(tmp_path / "b.json", 2)
    done = cli("stage", "01", "-e", "x", "--config", b, "--force", cwd=tmp_path,
               fault="kill:*/config.resolved.json")  # fmt: skip
    assert killed(done)
    found = leftovers(root)
    assert not [n for n in found if re.match(manifest_tmp, n)], found
    assert [n for n in found if re.match(r"^\.config\.resolved\.json\..{8}\.tmp$", n)], found
    (root / ".03_chain_step.partial" / "logs").mkdir(parents=True)  # a killed stage's work dir
    found = leftovers(root)
    done = cli("run", "-e", "x", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert leftovers(root) == [] and half_written(root) == []
    assert done.stdout.count("(left by an interrupted command)") == len(found) == 2
    assert outputs(root) == expected


# --- window 3: a stage folder swapped in but not recorded ---------------------------------


def test_a_stage_folder_published_but_not_recorded_is_detected_and_repaired(tmp_path: Path):
    root = _first_run(tmp_path)
    expected = tree(root / "02_chain_step" / "chain_02")
    # the kill lands after the new 02 folder took its place, before its manifest record
    done = cli("stage", "02", "-e", "x", cwd=tmp_path, fault="kill:*/run_manifest.json")
    assert killed(done)
    status = cli("status", "-e", "x", cwd=tmp_path)
    assert status.returncode == 0
    line = next(row for row in status.stdout.splitlines() if row.startswith(KEYS[1]))
    assert "interrupted while publishing; rerun" in line
    gate = cli("assert-artifacts", "-e", "x", "--for-stage", "03", cwd=tmp_path)
    assert gate.returncode == 2 and "interrupted while publishing; rerun" in gate.stderr
    done = cli("run", "-e", "x", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"{KEYS[1]}: repaired" in done.stdout
    assert tree(root / "02_chain_step" / "chain_02") == expected
    assert cli("assert-artifacts", "-e", "x", "--for-stage", "03", cwd=tmp_path).returncode == 0
    assert "interrupted" not in cli("status", "-e", "x", cwd=tmp_path).stdout


def test_a_stage_folder_moved_away_but_not_replaced_is_put_back(tmp_path: Path):
    root = _first_run(tmp_path)
    expected = tree(root)
    # the kill between the two renames of the swap: the old folder is .old, the new .partial
    os.replace(root / "02_chain_step", root / ".02_chain_step.old")
    (root / ".02_chain_step.partial").mkdir()
    status = cli("status", "-e", "x", cwd=tmp_path)
    assert "02_chain_step/ interrupted while publishing; rerun" in status.stdout
    repairs = RunLayout.create(tmp_path / "runs", "x").remove_leftovers()
    assert repairs == [
        "restored 02_chain_step/ (a publication was interrupted)",
        "removed .02_chain_step.partial (left by an interrupted command)",
    ]
    assert tree(root) == expected
    assert "stale" not in cli("status", "-e", "x", cwd=tmp_path).stdout


def test_the_executor_files_of_a_killed_command_are_removed_by_the_next_one(tmp_path: Path):
    root = _first_run(tmp_path)
    expected = tree(root)
    # what a SIGKILLed `holopipe run --executor dask` (or slurm) leaves: cluster scratch, job files
    (root / ".executor" / "cluster" / "dask-scratch-space").mkdir(parents=True)
    (root / ".executor" / "01_chain_source").mkdir()
    (root / ".executor" / "01_chain_source" / "job_0.pkl").write_bytes(b"\x80\x04N.")
    repairs = RunLayout.create(tmp_path / "runs", "x").remove_leftovers()
    assert repairs == ["removed .executor (left by an interrupted command)"]
    assert tree(root) == expected


# --- window 4: the lock holder --------------------------------------------------------------


def _hold(path: str) -> None:
    while True:  # the test's own attempts may hold it for a moment
        try:
            with ExperimentLock(Path(path), "x"):
                time.sleep(0.05)
            return
        except LockHeldError:
            continue


def test_a_refused_lock_always_names_its_holder(tmp_path: Path):
    lock = tmp_path / "x" / ".lock"
    context = multiprocessing.get_context("fork")
    refusals = []
    for _ in range(40):
        holder = context.Process(target=_hold, args=(str(lock),))
        holder.start()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:  # race the holder from the moment it starts
            try:
                with ExperimentLock(lock, "x"):
                    pass
            except LockHeldError as exc:
                refusals.append((holder.pid, str(exc)))
                break
            time.sleep(0.0005)
        holder.join()
    assert len(refusals) >= 20  # the race was run
    for pid, message in refusals:
        assert f"locked by pid {pid} on " in message, message
        assert "?" not in message


# --- window 5: a full disk ------------------------------------------------------------------


def _full_disk_at_each(tmp_path: Path, points: tuple[str, ...]) -> None:
    """A rerun that changes stage 02 with the disk full at each of ``points`` in turn (a
    file pattern): exit 2 naming the file, nothing half-written, stage 02's published outputs
    and record the good ones byte for byte; then, space freed, the same command completes."""
    root = _first_run(tmp_path)
    good = tree(root)
    rerun = ("run", "-e", "x", "--set", "stages.02.offset=1.5", "--force")
    for where in points:
        done = cli(*rerun, cwd=tmp_path, fault=f"enospc:{where}")
        assert done.returncode == 2, (where, done.stdout, done.stderr)
        named = where.replace("*/", "")
        assert f"no space left on device while writing runs/x/{named}" in done.stderr, (
            where,
            done.stderr,
        )
        assert "Traceback" not in done.stderr and "internal error" not in done.stderr
        assert half_written(root) == [] and leftovers(root) == []
        now = tree(root)
        assert {p: h for p, h in now.items() if p.startswith("02_")} == {
            p: h for p, h in good.items() if p.startswith("02_")
        }, where
    done = cli(*rerun, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads((root / "config.resolved.json").read_text())["stages"]["02"]["offset"] == 1.5


def test_a_full_disk_anywhere_is_exit_2_naming_the_file_and_the_rerun_completes(
    tmp_path: Path,
):
    _full_disk_at_each(
        tmp_path,
        (
            "*/config.resolved.1.json",  # the config switch first: once done it is not redone
            "*/config.resolved.json",
            "*/.02_chain_step.partial/stage_summary.json",
            "*/.02_chain_step.partial/cmd.txt",
        ),
    )


@pytest.mark.slow
def test_a_full_disk_at_an_artifact_or_the_manifest_of_a_run_is_exit_2_and_the_rerun_completes(
    tmp_path: Path,
):
    # Nightly: the fast lane has a full disk at an artifact and at the manifest of
    # ``holopipe stage`` (below, and test_state_bad_input), and at a stage's own files above.
    _full_disk_at_each(
        tmp_path,
        ("*/.02_chain_step.partial/chain_02/sys_d3_0001.json", "*/run_manifest.json"),
    )


def test_a_full_disk_in_holopipe_stage_is_exit_2_and_keeps_the_old_outputs(tmp_path: Path):
    root = _first_run(tmp_path)
    good = tree(root)
    done = cli("stage", "03", "-e", "x", cwd=tmp_path, fault="enospc:*/chain_03/*")
    assert done.returncode == 2
    assert "no space left on device while writing runs/x/.03_chain_step.partial/chain_03/" in (
        done.stderr
    )
    assert tree(root) == good
    assert cli("stage", "03", "-e", "x", cwd=tmp_path).returncode == 0
