"""The run's trash: folders a command replaced, removed off the critical path.

Publishing a stage replaces its folder (:mod:`holopipe.run.publish`). Removing the old one
means unlinking each of its files, which on many disks costs more than writing them did
(thousands of per-system files: seconds). So the old folder is *discarded*: renamed into
``<run>/.trash/`` (one rename: it leaves the run's visible tree at once), and the command
holding the experiment lock removes the trash in a background thread
(:class:`TrashCollector`) while the next stage works; it waits for the collector before it
releases the lock, so a finished command leaves no trash behind.

Nothing reads ``.trash/``: it is no stage's output, no alias points into it, the manifest
never records it. A ``.trash`` that is not a real folder (a symlink, a file) is never
followed nor emptied: a replaced folder is then removed on the spot. A command killed
while the trash was not empty yet leaves it there; the next command that takes the lock
collects it.

Examples
--------
>>> import tempfile, pathlib
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> (root / ".01_a.old" / "out").mkdir(parents=True)
>>> discard(root / ".01_a.old")
>>> sorted(p.name for p in root.iterdir())
['.trash']
>>> collector = TrashCollector(root)
>>> collector.collect()
>>> collector.wait()
>>> sorted(p.name for p in root.iterdir())
[]
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import stat
import threading
from pathlib import Path

__all__ = ["TRASH_DIR", "TrashCollector", "discard"]

#: The folder of a run root holding what is being removed.
TRASH_DIR = ".trash"

_NAMES = itertools.count()


def _is_real_folder(path: Path) -> bool:
    """``path`` is a directory itself, not a link to one (whose target is not the run's)."""
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def discard(folder: Path) -> None:
    """Move ``folder`` (a folder of a run root) into the root's trash: one rename.

    The entry's name is unique (``<name>.<pid>.<n>``), so folders discarded by different
    commands or stages never collide. Where ``.trash`` is not a real folder (a file, a
    symlink) or the rename is refused, ``folder`` is removed here and now, as it was before
    there was a trash."""
    trash = folder.parent / TRASH_DIR
    try:
        trash.mkdir(exist_ok=True)
        if not _is_real_folder(trash):
            raise NotADirectoryError(trash)
        os.replace(folder, trash / f"{folder.name.lstrip('.')}.{os.getpid()}.{next(_NAMES)}")
    except OSError:
        shutil.rmtree(folder)


def _remove(entry: Path) -> None:
    """Remove one trash entry; what is already gone (another collector) is no error."""
    if entry.is_dir() and not entry.is_symlink():
        shutil.rmtree(entry, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            entry.unlink()


class TrashCollector:
    """Removes the entries of ``root/.trash`` in a background thread.

    :meth:`collect` starts the thread (if it is not running) and returns at once; the
    thread removes entries until it finds the trash empty. :meth:`wait` waits for it, then
    removes whatever was discarded after its last look and the empty ``.trash`` itself.
    The thread is a daemon: a process that exits without waiting (Ctrl-C) leaves the rest
    to the next command that takes the lock.
    """

    def __init__(self, root: Path):
        self.trash = Path(root) / TRASH_DIR
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def _entries(self) -> list[Path]:
        if not _is_real_folder(self.trash):  # never empty what a link points to
            return []
        try:
            return sorted(self.trash.iterdir())
        except (FileNotFoundError, NotADirectoryError):
            return []

    def _run(self) -> None:
        tried: set[Path] = set()  # an entry that cannot be removed is tried once
        while entries := [e for e in self._entries() if e not in tried]:
            for entry in entries:
                _remove(entry)
            tried.update(entries)

    def collect(self) -> None:
        """Remove the trash in the background (a no-op when it is empty)."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            if not self._entries():
                return
            self._thread = threading.Thread(target=self._run, name="holopipe-trash", daemon=True)
            self._thread.start()

    def wait(self) -> None:
        """Wait until the trash is removed, ``.trash`` included."""
        with self._lock:
            thread = self._thread
        if thread is not None:
            thread.join()
        self._run()  # what was discarded after the thread's last look
        with contextlib.suppress(OSError):
            self.trash.rmdir()
