"""Run layout: names, the runs root, aliases (symlink or real-folder fallback) and progress."""

import os
from pathlib import Path

import pytest

from holopipe.run.capture import PROGRESS_FD_ENV, Progress
from holopipe.run.layout import (
    ALIAS_MARKER,
    RUNS_DIR_ENV,
    LayoutError,
    RunLayout,
    default_runs_dir,
    make_alias,
    stage_key,
)


@pytest.mark.parametrize("stage_id", ["01", "06", "04c"])
def test_stage_keys(stage_id):
    assert stage_key(stage_id, "some_stage") == f"{stage_id}_some_stage"


@pytest.mark.parametrize(
    ("stage_id", "slug"), [("1", "x"), ("001", "x"), ("04C", "x"), ("02", "Bad-Slug")]
)
def test_bad_stage_ids_and_slugs_are_refused(stage_id, slug):
    with pytest.raises(LayoutError):
        stage_key(stage_id, slug)


@pytest.mark.parametrize("name", ["../escape", "a/b", "", ".hidden", "with space"])
def test_experiment_names_cannot_leave_the_runs_root(name):
    with pytest.raises(LayoutError, match="experiment name"):
        RunLayout.create("runs", name)


def test_runs_root_precedence(monkeypatch):
    monkeypatch.delenv(RUNS_DIR_ENV, raising=False)
    assert default_runs_dir() == Path("runs")
    monkeypatch.setenv(RUNS_DIR_ENV, "/data/runs")
    assert default_runs_dir() == Path("/data/runs")
    assert default_runs_dir("elsewhere") == Path("elsewhere")


def _stage_output(root: Path, name: str, text: str) -> Path:
    target = root / "02_stage" / "predictions"
    target.mkdir(parents=True, exist_ok=True)
    (target / name).write_text(text)
    return target


def test_alias_is_a_relative_symlink_and_is_replaced_atomically(tmp_path):
    root = tmp_path / "runs" / "x"
    first = _stage_output(root, "a.npz", "one")
    link = make_alias(root, "predictions", first)
    assert link.is_symlink() and os.readlink(link) == "02_stage/predictions"
    assert (link / "a.npz").read_text() == "one"
    other = root / "02_other" / "predictions"
    other.mkdir(parents=True)
    (other / "b.npz").write_text("two")
    make_alias(root, "predictions", other)
    assert os.readlink(link) == "02_other/predictions"
    assert sorted(p.name for p in link.iterdir()) == ["b.npz"]
    assert not list(root.glob(".predictions.alias-tmp"))


def test_alias_falls_back_to_a_real_folder_naming_its_target(tmp_path, monkeypatch):
    root = tmp_path / "runs" / "x"
    target = _stage_output(root, "a.npz", "one")

    def no_symlinks(*args, **kwargs):
        raise OSError("symlinks not supported here")

    monkeypatch.setattr(os, "symlink", no_symlinks)
    alias = make_alias(root, "predictions", target)
    assert alias.is_dir() and not alias.is_symlink()
    assert (alias / "a.npz").read_text() == "one"
    assert (alias / ALIAS_MARKER).read_text().strip() == "02_stage/predictions"
    (target / "a.npz").write_text("changed")
    make_alias(root, "predictions", target)  # a later stage run refreshes the copy
    assert (alias / "a.npz").read_text() == "changed"


def test_progress_goes_to_the_orchestrator_pipe(monkeypatch):
    read_fd, write_fd = os.pipe()
    monkeypatch.setenv(PROGRESS_FD_ENV, str(write_fd))
    progress = Progress("06_stage")
    progress.update(3, 3)
    os.close(write_fd)
    assert os.read(read_fd, 100).decode() == "06_stage 3 3\n"
    os.close(read_fd)


def test_progress_draws_on_a_terminal_and_is_silent_otherwise(monkeypatch):
    monkeypatch.delenv(PROGRESS_FD_ENV, raising=False)
    monkeypatch.delenv("CI", raising=False)
    primary, secondary = os.openpty()
    Progress("06_stage", terminal_fd=secondary).update(2, 2)
    assert os.read(primary, 100).decode().replace("\r\n", "\n") == "\r06_stage: 2/2 systems\n"
    read_fd, write_fd = os.pipe()  # a pipe, as in CI or a log: not a terminal
    Progress("06_stage", terminal_fd=write_fd).update(2, 2)
    os.close(write_fd)
    assert os.read(read_fd, 100) == b""
    for fd in (primary, secondary, read_fd):
        os.close(fd)


def test_a_bad_experiment_name_is_a_clear_error_from_the_cli(tmp_path):
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "holopipe", "run", "--experiment", "../x"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert "experiment name '../x'" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "runs").exists()
