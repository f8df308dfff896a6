"""A trash entry nested deeper than Python's recursion limit (somebody writing inside the run
root can make one) is removed completely, by the same command and with the same exit code,
holding a bounded number of descriptors: the removal walk is iterative, every folder opened
relative to its parent without following links, and a folder reached again as ``..`` of its
child is checked to be the one it left (a folder moved away meanwhile stops the walk)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from holopipe.cli.app import main
from holopipe.run import trash as trash_module
from holopipe.run.trash import TRASH_DIR, TrashCollector

DEPTH = 1200  # > sys.getrecursionlimit() (1000); the recursive walk failed at ~300 levels
#: Descriptors the removal may hold over the process's others, whatever the depth.
FDS_MAX = 40


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _nest(parent: Path, depth: int, at_levels=lambda level, fd: None) -> None:
    """``parent/d/d/.../d`` (``depth`` folders), built relative to descriptors so that no
    path is ever longer than a name; ``at_levels(level, fd)`` adds what it likes at each."""
    fd = os.open(parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for level in range(depth):
            os.mkdir("d", dir_fd=fd)
            child = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = child
            at_levels(level, fd)
    finally:
        os.close(fd)


@pytest.fixture
def deep_tmp(tmp_path: Path):
    """``tmp_path``, emptied by ``rm -rf`` after the test: pytest's own clean-up recurses, and
    a deep tree left by a failing test would break it."""
    yield tmp_path
    subprocess.run(["rm", "-rf", str(tmp_path)], check=False)


def _precious(tmp_path: Path) -> Path:
    folder = tmp_path / "precious"
    (folder / "e").mkdir(parents=True)
    (folder / "e" / "keep.txt").write_text("mine")
    return folder


def _holopipe(*args: str, monkeypatch) -> int:
    monkeypatch.setattr(sys, "argv", ["holopipe", *args])
    with pytest.raises(SystemExit) as done:
        main()
    return done.value.code


def test_a_deep_trash_entry_is_removed_by_the_command_with_bounded_descriptors(
    deep_tmp: Path, monkeypatch, capfd
):
    monkeypatch.chdir(deep_tmp)
    config = deep_tmp / "c.json"
    config.write_text(json.dumps({"seed": 1, "pipeline": ["holopipe.testing:Chain01"]}))
    root = deep_tmp / "runs" / "x"
    (root / TRASH_DIR / "deep").mkdir(parents=True)  # left by somebody writing in the run
    _nest(root / TRASH_DIR / "deep", DEPTH)
    peak = [0]
    real_open = os.open

    def counting_open(*args, **kwargs):
        fd = real_open(*args, **kwargs)
        peak[0] = max(peak[0], _open_fds())
        return fd

    monkeypatch.setattr(os, "open", counting_open)
    monkeypatch.setattr(threading, "excepthook", threading.__excepthook__)  # to stderr, as bare
    baseline = _open_fds()
    code = _holopipe(
        "stage", "01", "-e", "x", "--config", str(config), "--runs-dir", "runs",
        monkeypatch=monkeypatch,
    )  # fmt: skip
    monkeypatch.setattr(os, "open", real_open)
    err = capfd.readouterr().err
    assert code == 0, err  # what the command exits with without the deep entry
    assert "Traceback" not in err and "RecursionError" not in err
    assert not (root / TRASH_DIR).exists()  # the entry and the emptied .trash are gone
    assert peak[0] - baseline <= FDS_MAX, (peak[0], baseline)


def test_deep_folders_with_links_and_a_fifo_are_unlinked_never_followed(tmp_path: Path):
    precious = _precious(tmp_path)
    root = tmp_path / "run"
    entry = root / TRASH_DIR / "mixed"
    entry.mkdir(parents=True)
    os.symlink(precious, entry / "to-precious")  # a link at the top of the entry

    def odds_and_ends(level: int, fd: int) -> None:
        if level % 50 == 0:
            os.symlink(precious, "link-to-folder", dir_fd=fd)
            os.symlink(precious / "e" / "keep.txt", "link-to-file", dir_fd=fd)
            os.mkfifo("fifo", dir_fd=fd)  # opened for reading, it would wait for a writer
            with open(os.open("file", os.O_WRONLY | os.O_CREAT, dir_fd=fd), "w") as f:
                f.write("x")
        if level == 150:  # a big folder: unlinked by several threads
            for k in range(trash_module._PARALLEL_MIN * 2):
                os.close(os.open(f"{k}.json", os.O_WRONLY | os.O_CREAT, dir_fd=fd))

    _nest(entry, 300, odds_and_ends)
    collector = TrashCollector(root)
    collected = threading.Thread(target=lambda: (collector.collect(), collector.wait()))
    collected.start()
    collected.join(timeout=30)
    assert not collected.is_alive(), "the removal waits (on the FIFO?)"
    assert os.listdir(root) == []  # entry and .trash gone: every name unlinked
    assert sorted(os.listdir(precious)) == ["e"]
    assert (precious / "e" / "keep.txt").read_text() == "mine"


def test_a_deep_folder_moved_away_mid_walk_stops_it_outside_nothing_removed(
    deep_tmp: Path, monkeypatch
):
    """The walk closes the descriptors of shallow folders and climbs back through ``..``: a
    folder moved out of the trash meanwhile has another parent, which is not emptied."""
    precious = _precious(deep_tmp)  # holds an ``e`` as the trash folder at level 10 does
    root = deep_tmp / "run"
    entry = root / TRASH_DIR / "deep"
    entry.mkdir(parents=True)

    def siblings(level: int, fd: int) -> None:
        if level == 9:  # the 10th folder: "d" (the rest of the chain) and "e", emptied after
            os.mkdir("e", dir_fd=fd)
            os.close(os.open("e/keep.txt", os.O_WRONLY | os.O_CREAT, dir_fd=fd))
        if level == 99:
            os.mkdir("leaf", dir_fd=fd)

    _nest(entry, 100, siblings)
    moved = entry.joinpath(*["d"] * 11)  # the 11th folder: its descriptor is closed by then
    real_open = os.open
    swapped = []

    def swap_at_the_leaf(path, *args, **kwargs):
        fd = real_open(path, *args, **kwargs)
        if path == "leaf" and not swapped:
            swapped.append(True)
            os.rename(moved, precious / "moved")
        return fd

    monkeypatch.setattr(os, "open", swap_at_the_leaf)
    collector = TrashCollector(root)
    collector.collect()
    collector.wait()
    monkeypatch.setattr(os, "open", real_open)
    assert (precious / "moved").is_dir()  # swapped, in the remover process
    assert (precious / "e" / "keep.txt").read_text() == "mine"
    assert sorted(os.listdir(precious)) == ["e", "moved"]
    # the walk stopped there: it climbed from the 11th folder into ``precious``, not the 10th
    assert (entry.joinpath(*["d"] * 10) / "e" / "keep.txt").exists()
