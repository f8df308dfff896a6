"""A run root whose ``.trash`` is a symlink (or a file) is a hostile input: holopipe never
follows it, never empties what it points to, and still removes the folder a stage replaces."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from holopipe.pipeline import RunRequest, run_pipeline
from holopipe.run.trash import TRASH_DIR, TrashCollector, discard

CHAIN = [f"holopipe.testing:Chain{i:02d}" for i in (1, 2)]


def _precious(tmp_path: Path) -> Path:
    folder = tmp_path / "precious"
    (folder / "sub").mkdir(parents=True)
    (folder / "keep.txt").write_text("mine")
    (folder / "sub" / "also.txt").write_text("mine too")
    return folder


def _untouched(folder: Path) -> bool:
    return (folder / "keep.txt").read_text() == "mine" and (
        folder / "sub" / "also.txt"
    ).read_text() == "mine too"


def test_the_collector_never_empties_the_target_of_a_trash_symlink(tmp_path: Path):
    precious = _precious(tmp_path)
    root = tmp_path / "run"
    root.mkdir()
    (root / TRASH_DIR).symlink_to(precious)
    old = root / ".01_a.old"
    (old / "out").mkdir(parents=True)
    discard(old)  # not into the link's target: removed on the spot
    collector = TrashCollector(root)
    collector.collect()
    collector.wait()
    assert not old.exists() and _untouched(precious)
    assert sorted(p.name for p in precious.iterdir()) == ["keep.txt", "sub"]
    assert (root / TRASH_DIR).is_symlink()  # not ours: left as it is


@pytest.mark.parametrize("kind", ["symlink", "file"])
def test_a_stage_rerun_in_a_run_whose_trash_is_not_a_folder(tmp_path: Path, kind, monkeypatch):
    monkeypatch.chdir(tmp_path)
    precious = _precious(tmp_path)
    config = tmp_path / "c.json"
    stages = {"01": {"n_systems": 3}}
    config.write_text(json.dumps({"seed": 1, "pipeline": CHAIN, "stages": stages}))
    quiet = {"echo": lambda line: None}
    assert run_pipeline(RunRequest(Path("runs"), "x", config), **quiet) == 0
    root = tmp_path / "runs" / "x"
    if kind == "symlink":
        (root / TRASH_DIR).symlink_to(precious)
    else:
        (root / TRASH_DIR).write_text("not a folder")
    forced = RunRequest(Path("runs"), "x", None, force=True)
    assert run_pipeline(forced, **quiet) == 0  # every stage replaced
    assert _untouched(precious)
    assert not [p for p in os.listdir(root) if p.endswith(".old")]
