"""The run's trash: folders a command replaced, removed off the critical path or reused.

Publishing a stage replaces its folder (:mod:`holopipe.run.publish`). Removing the old one
means unlinking each of its files, which on many disks costs more than writing them did
(thousands of per-system files: seconds), and on some (ext4 without a journal) makes every
file created in the next minutes slower too. So the old folder is *discarded*: renamed
into ``<run>/.trash/`` (one rename: it leaves the run's visible tree at once), and the
command holding the experiment lock owns a :class:`TrashCollector`. In ``holopipe run`` the
entries the last stage discarded are *kept* for the next stage, whose new files take over
their inodes (:class:`~holopipe.artifacts.spare_files.SpareFiles`: renamed, overwritten,
never created); everything else is removed in a background process while the next stage
works. The command waits for the collector before it releases the lock, so a finished
command leaves no trash behind.

Nothing reads ``.trash/``: it is no stage's output, no alias points into it, the manifest
never records it. Every removal is relative to a descriptor of the real ``.trash`` folder
opened without following links (``O_NOFOLLOW``), and descends the same way: a ``.trash``
that is a symlink or a file is never followed nor emptied (a replaced folder is then
removed on the spot), and one swapped for a link while the collector works cannot make it
remove anything outside the run. The walk is iterative and holds a bounded number of
descriptors, however deep an entry is nested (:func:`_remove_entry`). A command killed
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
import threading
from collections.abc import Iterator
from pathlib import Path

from holopipe.run.forked import die_with_parent, fork_helper

__all__ = ["TRASH_DIR", "TrashCollector", "discard"]

#: The folder of a run root holding what is being removed.
TRASH_DIR = ".trash"

_NAMES = itertools.count()
_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC

#: Threads unlinking the files of one big folder together: on a disk that discards each
#: freed block synchronously (``-o discard``) an unlink waits for the device, and the waits
#: of several unlinks overlap (measured: 10 000 files 0.9-4.7 s in one thread, 0.3-0.55 s
#: in 8).
UNLINK_THREADS = 8
_PARALLEL_MIN = 64  # files in a folder below which one thread is as fast


@contextlib.contextmanager
def _opened(path: os.PathLike | str, dir_fd: int | None = None) -> Iterator[int | None]:
    """A descriptor of the real folder ``path`` (never through a link), or ``None``."""
    try:
        fd = os.open(path, _DIRECTORY, dir_fd=dir_fd)
    except OSError:
        yield None
        return
    try:
        yield fd
    finally:
        os.close(fd)


def discard(folder: Path) -> None:
    """Move ``folder`` (a folder of a run root) into the root's trash: one rename.

    The entry's name is unique (``<name>.<pid>.<n>``), so folders discarded by different
    commands or stages never collide. Where ``.trash`` is not a real folder (a file, a
    symlink) or the rename is refused, ``folder`` is removed here and now, as it was before
    there was a trash."""
    trash = folder.parent / TRASH_DIR
    with contextlib.suppress(OSError):
        os.mkdir(trash)
    with _opened(trash) as fd:
        if fd is not None:
            name = f"{folder.name.lstrip('.')}.{os.getpid()}.{next(_NAMES)}"
            with contextlib.suppress(OSError):
                os.rename(folder, name, dst_dir_fd=fd)  # into the folder opened, not a link
                return
    shutil.rmtree(folder)


def _unlink_all(dir_fd: int, names: list[str]) -> None:
    for name in names:
        with contextlib.suppress(OSError):
            os.unlink(name, dir_fd=dir_fd)


def _unlink_files(fd: int) -> list[str]:
    """Unlink every name of the folder open as ``fd`` that is not a folder (files, links,
    FIFOs: never followed nor opened), in :data:`UNLINK_THREADS` threads when there are
    many; return the names of its folders."""
    folders, files = [], []
    with os.scandir(fd) as listing:
        for entry in listing:
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_dir = False
            (folders if is_dir else files).append(entry.name)
    folders.sort(reverse=True)  # emptied in name order (popped from the end): reproducible
    if len(files) < _PARALLEL_MIN:
        _unlink_all(fd, files)
        return folders
    threads = [
        threading.Thread(target=_unlink_all, args=(fd, files[k::UNLINK_THREADS]), daemon=True)
        for k in range(UNLINK_THREADS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return folders


#: Descriptors of the folders being emptied that stay open at once (the deepest ones): an
#: entry nested thousands of levels deep is removed with as many descriptors as a flat one.
_OPEN_FOLDERS = 16


class _Folder:
    """A folder on the removal walk's stack: its name in its parent, its identity, the
    names of its subfolders still to empty, and its descriptor while it is among the
    :data:`_OPEN_FOLDERS` deepest (``None`` after)."""

    __slots__ = ("fd", "identity", "name", "pending")

    def __init__(self, name: str, fd: int):
        self.name = name
        self.fd: int | None = fd
        self.identity = _identity(fd)
        try:
            self.pending = _unlink_files(fd)
        except OSError:  # cannot be listed: left as it is (its removal then fails quietly)
            self.pending = []


def _identity(fd: int) -> tuple[int, int]:
    status = os.fstat(fd)
    return status.st_dev, status.st_ino


def _parent_fd(stack: list[_Folder], child_fd: int) -> int | None:
    """The descriptor of ``stack[-1]``, the parent of the folder open as ``child_fd``:
    reopened as ``..`` of the child where it was closed, and only if that is still the
    same folder (dev, inode); ``None`` when the child was moved out of it meanwhile."""
    parent = stack[-1]
    if parent.fd is None:
        try:
            fd = os.open("..", _DIRECTORY, dir_fd=child_fd)
        except OSError:
            return None
        if _identity(fd) != parent.identity:
            os.close(fd)
            return None
        parent.fd = fd
    return parent.fd


def _remove_entry(dir_fd: int, name: str) -> None:
    """Remove ``name`` of the folder open as ``dir_fd``: a folder with what it holds, or the
    name itself (a file; a symlink, never its target). What is gone already is no error.

    The walk is iterative (an explicit stack, whatever the depth) and every folder is opened
    relative to its parent without following links; at most :data:`_OPEN_FOLDERS`
    descriptors stay open, and a folder whose descriptor was closed is reached again as
    ``..`` of its child, checked to be the same folder: one moved away meanwhile stops the
    walk rather than make it remove anything where it now is."""
    try:
        fd = os.open(name, _DIRECTORY, dir_fd=dir_fd)
    except OSError:  # not a folder (or a link to one): the name itself
        with contextlib.suppress(OSError):
            os.unlink(name, dir_fd=dir_fd)
        return
    stack: list[_Folder] = []
    try:
        stack.append(_Folder(name, fd))
        while stack:
            folder = stack[-1]
            if folder.pending:
                child = folder.pending.pop()
                try:
                    child_fd = os.open(child, _DIRECTORY, dir_fd=folder.fd)
                except OSError:  # replaced by a file or a link since the listing
                    with contextlib.suppress(OSError):
                        os.unlink(child, dir_fd=folder.fd)
                    continue
                if len(stack) >= _OPEN_FOLDERS:
                    shallow = stack[-_OPEN_FOLDERS]
                    if shallow.fd is not None:
                        os.close(shallow.fd)
                        shallow.fd = None
                stack.append(_Folder(child, child_fd))
                continue
            stack.pop()
            parent_fd = _parent_fd(stack, folder.fd) if stack else dir_fd
            os.close(folder.fd)
            folder.fd = None
            if parent_fd is None:
                return
            with contextlib.suppress(OSError):
                os.rmdir(folder.name, dir_fd=parent_fd)
    finally:
        for folder in stack:
            if folder.fd is not None:
                os.close(folder.fd)


def _remove(trash: Path, name: str) -> None:
    """Remove the trash entry ``name`` (nothing when ``trash`` is not a real folder)."""
    with _opened(trash) as fd:
        if fd is not None:
            _remove_entry(fd, name)


class TrashCollector:
    """Removes the entries of ``root/.trash`` in background processes, or keeps the newest.

    :meth:`collect` forks a process that removes the entries there not handed to one yet,
    and returns at once; with ``keep_new`` the entries discarded since the previous call
    are kept instead (:attr:`kept`: for the next stage to reuse their files) and removed
    by a later call. :meth:`wait` waits for those processes, then removes whatever is left
    and the empty ``.trash`` itself. A process, not a thread: the orchestrator forks the
    next stage while the removal goes on, and a fork must not copy a process whose other
    threads are running (Python 3.12 warns of it). A remover dies with the command (a
    command killed leaves the rest to the next command that takes the lock) and ignores
    Ctrl-C, which the command handles: it waits for the removers before it ends.
    """

    def __init__(self, root: Path):
        self.trash = Path(root) / TRASH_DIR
        #: The entries kept by the last :meth:`collect` (``keep_new``), oldest first.
        self.kept: tuple[str, ...] = ()
        self._seen: set[str] = set()
        self._tried: set[str] = set()  # an entry that cannot be removed is tried once
        self._removers: list[int] = []  # the pids of the removing processes not reaped yet

    def _names(self) -> list[str]:
        with _opened(self.trash) as fd:  # never list what a link points to
            return sorted(os.listdir(fd)) if fd is not None else []

    def collect(self, keep_new: bool = False) -> None:
        """Remove the trash in the background (a no-op when it is empty); with
        ``keep_new``, all but the entries discarded since the previous call."""
        names = self._names()
        new = [name for name in names if name not in self._seen]
        self._seen.update(names)
        self.kept = tuple(new) if keep_new else ()
        queued = [n for n in names if n not in self.kept and n not in self._tried]
        self._tried.update(queued)
        if queued:
            self._removers.append(self._fork_remover(queued))

    def _fork_remover(self, names: list[str]) -> int:
        def remove() -> None:
            die_with_parent()
            for name in names:
                _remove(self.trash, name)

        return fork_helper(remove, "trash remover")

    def wait(self) -> None:
        """Wait until the trash is removed, ``.trash`` included."""
        while self._removers:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self._removers.pop(), 0)
        self.kept = ()
        for name in self._names():  # what was discarded after the last collect()
            if name not in self._tried:
                self._tried.add(name)
                _remove(self.trash, name)
        with contextlib.suppress(OSError):
            self.trash.rmdir()
