"""Up to date means same content (issue 7 item 8) and ``holopipe run --dry-run`` /
:func:`holopipe.pipeline.plan_run` says what would run and exactly why (issue 12 item 4).

A touched (or copied) file with the same bytes reruns nothing; a same-size edit with the
modification time restored (``touch -r``) is seen by ``run``, ``status``, the gate and
the dry run alike."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from holo_run_helpers import chain, cli, file_stats, write_config

from holopipe.pipeline import RunRequest, plan_run, run_pipeline, stage_states

INPUT_OF_03 = "02_chain_step/chain_02/sys_d3_0001.json"


@pytest.fixture
def chain_run(in_tmp: Path) -> Path:
    config = write_config(in_tmp / "c.json", chain(3))
    assert run_pipeline(RunRequest(Path("runs"), "x", config), echo=lambda line: None) == 0
    return in_tmp / "runs" / "x"


def _quiet_run() -> list[str]:
    lines: list[str] = []
    run_pipeline(RunRequest(Path("runs"), "x"), echo=lines.append)
    return lines


def _same_size_edit_keeping_mtime(path: Path) -> None:
    """Change one byte, keep the size and restore the modification time (``touch -r``)."""
    st = path.stat()
    data = bytearray(path.read_bytes())
    at = data.index(b"0.", data.index(b"R_mean"))  # a digit of a number in the file
    data[at] = ord("1") if data[at] != ord("1") else ord("2")
    path.write_bytes(bytes(data))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def test_touch_of_an_input_reruns_nothing_and_the_dry_run_agrees(chain_run: Path):
    os.utime(chain_run / INPUT_OF_03)  # new mtime, same bytes
    plans = plan_run(RunRequest(Path("runs"), "x"))
    assert [(p.would_run, p.reasons) for p in plans] == [(False, ())] * 3
    assert all(s.up_to_date for s in stage_states(Path("runs"), "x"))
    before = file_stats(chain_run / "03_chain_step")
    lines = _quiet_run()
    assert [line.split(":")[1].strip() for line in lines[:3]] == ["up to date (OK), skipped"] * 3
    assert file_stats(chain_run / "03_chain_step") == before


def test_a_copy_without_preserved_times_reruns_nothing(chain_run: Path):
    victim = chain_run / INPUT_OF_03
    data = victim.read_bytes()
    victim.unlink()
    victim.write_bytes(data)  # new inode, new times, same content
    assert not any(p.would_run for p in plan_run(RunRequest(Path("runs"), "x")))
    assert "running" not in "\n".join(_quiet_run())


def test_a_same_size_edit_with_the_mtime_restored_is_seen_everywhere(chain_run: Path, in_tmp: Path):
    _same_size_edit_keeping_mtime(chain_run / INPUT_OF_03)
    [state] = [s for s in stage_states(Path("runs"), "x") if s.stage == "02_chain_step"]
    assert not state.up_to_date and INPUT_OF_03 in state.reason
    gate = cli("assert-artifacts", "-e", "x", "--for-stage", "03", cwd=in_tmp)
    assert (
        gate.returncode == 2 and f"invalid_artifact: {INPUT_OF_03}: sha256 differs" in gate.stderr
    )
    plans = {p.stage: p for p in plan_run(RunRequest(Path("runs"), "x"))}
    assert plans["02_chain_step"].reasons == (f"output {INPUT_OF_03} missing or modified",)
    assert plans["03_chain_step"].reasons == (
        f"input {INPUT_OF_03} missing or modified",
        "upstream 02_chain_step would run (input chain_02)",
    )
    assert not plans["01_chain_source"].would_run
    assert "02_chain_step: running (output" in "\n".join(_quiet_run())


def test_dry_run_after_a_param_change_names_the_param_and_exactly_the_affected_stages(
    chain_run: Path, in_tmp: Path
):
    before = {p.name: p.stat().st_mtime_ns for p in chain_run.iterdir()}
    plans = plan_run(RunRequest(Path("runs"), "x", overrides=["stages.02.offset=0.5"]))
    assert [(p.stage, p.would_run, p.reasons) for p in plans] == [
        ("01_chain_source", False, ()),
        ("02_chain_step", True, ("params changed: stages.02.offset: 0.0 -> 0.5",)),
        ("03_chain_step", True, ("upstream 02_chain_step would run (input chain_02)",)),
    ]
    done = cli("run", "-e", "x", "--set", "stages.02.offset=0.5", "--dry-run", cwd=in_tmp)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "01_chain_source: up to date",
        "02_chain_step: would run: params changed: stages.02.offset: 0.0 -> 0.5",
        "03_chain_step: would run: upstream 02_chain_step would run (input chain_02)",
    ]
    # the dry run wrote nothing (not the config, not the pipeline summary)
    assert {p.name: p.stat().st_mtime_ns for p in chain_run.iterdir()} == before


def test_dry_run_of_a_new_experiment_says_never_run_and_creates_nothing(in_tmp: Path):
    config = write_config(in_tmp / "c.json", chain(2))
    done = cli("run", "-e", "fresh", "--config", config, "--dry-run", cwd=in_tmp)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "01_chain_source: would run: never run",
        "02_chain_step: would run: never run; upstream 01_chain_source would run (input chain_01)",
    ]
    assert not (in_tmp / "runs").exists()
