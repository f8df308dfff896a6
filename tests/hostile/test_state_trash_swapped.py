"""A ``.trash`` swapped for a symlink while the collector works (after its remover process
checked the folder, before it removed the entries) never makes it remove anything outside
the run: every removal is relative to the real folder it opened, never through a link."""

from __future__ import annotations

import os
from pathlib import Path

from holopipe.run.trash import TRASH_DIR, TrashCollector, discard


def test_a_trash_swapped_for_a_link_mid_collection_removes_nothing_outside(
    tmp_path: Path, monkeypatch
):
    root = tmp_path / "run"
    root.mkdir()
    old = root / ".01_a.old"
    (old / "out").mkdir(parents=True)
    (old / "out" / "x.json").write_text("{}")
    discard(old)
    (entry,) = os.listdir(root / TRASH_DIR)
    # outside the run, a folder laid out like the trash: what a link swapped in points to
    precious = tmp_path / "precious"
    (precious / entry / "out").mkdir(parents=True)
    (precious / entry / "out" / "x.json").write_text("mine")
    trash = str(root / TRASH_DIR)
    parent = os.getpid()

    def swap() -> None:
        if not os.path.lexists(root / "real-trash"):
            os.rename(trash, str(root / "real-trash"))
            os.symlink(precious, trash)

    def after_touching_trash(real):
        def call(path, *args, **kwargs):
            result = real(path, *args, **kwargs)
            in_remover = os.getpid() != parent
            if in_remover and isinstance(path, (str, os.PathLike)) and os.fspath(path) == trash:
                swap()  # the remover's check (whatever it is) is done: now the name is a link
            return result

        return call

    for name in ("open", "listdir", "scandir", "lstat", "stat"):
        monkeypatch.setattr(os, name, after_touching_trash(getattr(os, name)))
    collector = TrashCollector(root)
    collector.collect()
    collector.wait()
    monkeypatch.undo()
    assert (root / "real-trash").is_dir()  # swapped, in the remover process
    assert (precious / entry / "out" / "x.json").read_text() == "mine"
    assert (root / TRASH_DIR).is_symlink()  # not ours: left as it is
