"""The outside-writes gate on hostile places (issue 13 item 2): odd names stay one printable
line, FIFOs are reported and never opened, links are reported and never followed, the
walk is bounded, and the places a stage shares with every other process are not watched."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from holopipe.run.discipline import (
    filesystem_now,
    unwatched_places,
    watched_places,
    writes_outside,
)


@pytest.fixture
def place(tmp_path: Path) -> tuple[Path, int]:
    """A watched place with an old file, and a start time after it."""
    (tmp_path / "old.txt").write_text("here before\n")
    time.sleep(0.02)  # past the filesystem clock's tick
    return tmp_path, filesystem_now(tmp_path)


def test_odd_names_are_one_printable_line_each(place):
    root, since = place
    (root / "new\nline.txt").write_text("x")
    (root / os.fsdecode(b"bad_\xff.txt")).write_text("x")
    found = writes_outside([root], since, [], cwd=root).found
    assert sorted(found) == ["bad_\\xff.txt", "new\\nline.txt"]
    assert all(name.isprintable() for name in found)


def test_a_fifo_is_reported_and_never_opened(place):
    root, since = place
    os.mkfifo(root / "pipe")  # opening it for reading would block forever
    assert writes_outside([root], since, [], cwd=root).found == ("pipe",)


def test_a_link_is_reported_and_never_followed(place, tmp_path_factory):
    root, since = place
    outside = tmp_path_factory.mktemp("outside")
    (outside / "many").mkdir()
    (root / "to_folder").symlink_to(outside)
    (root / "dangling").symlink_to(root / "nowhere")
    found = writes_outside([root], since, [], cwd=root).found
    assert sorted(found) == ["dangling", "to_folder"]


def test_the_walk_is_bounded_and_says_so(place):
    root, since = place
    for i in range(20):
        (root / f"f{i:02d}").write_text("x")
    watch = writes_outside([root], since, [], cwd=root, limit=10)
    assert (watch.complete, watch.entries) == (False, 10)
    assert len(watch.found) <= 10


def test_allowed_and_ignored_folders_are_not_walked(place):
    root, since = place
    for folder in ("runs/x", "my_cache", "__pycache__", ".git/objects", "pkg/__pycache__"):
        (root / folder).mkdir(parents=True)
        (root / folder / "f").write_text("x")
    watch = writes_outside([root], since, [root / "runs", root / "my_cache"], cwd=root)
    assert watch.found == ()
    (root / "pkg" / "leak.txt").write_text("x")
    assert writes_outside([root], since, [root / "runs"], cwd=root).found[-1] == "pkg/leak.txt"


def test_home_and_temp_dir_are_never_watched(tmp_path: Path, monkeypatch):
    home = tmp_path / "home"
    (home / "project").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    assert home.resolve() in unwatched_places()
    assert watched_places(home, home / "runs", []) == []  # the home directory itself
    assert watched_places(tmp_path, tmp_path / "runs", []) == []  # holds the home directory
    project = home / "project"
    assert watched_places(project, project / "runs", []) == [project.resolve()]


def test_places_are_walked_once(tmp_path: Path):
    cwd = tmp_path / "work"
    (cwd / "legacy").mkdir(parents=True)
    (tmp_path / "other_legacy").mkdir()
    places = watched_places(cwd, cwd / "runs", [Path("legacy"), tmp_path / "other_legacy"])
    assert places == [cwd.resolve(), (tmp_path / "other_legacy").resolve()]
    # the runs root's parent holds the cwd: the parent is walked, the cwd not twice
    assert watched_places(cwd, tmp_path / "runs", []) == [tmp_path.resolve()]
    assert watched_places(cwd, cwd / "runs", [Path("missing")]) == [cwd.resolve()]
