"""Spare files: the files of discarded folders, whose inodes new files take over.

Creating a file and removing one are the expensive part of writing thousands of small
files on many disks (ext4 without a journal scans past every inode freed in the last
minutes on each create; ``-o discard`` makes each freed block wait for the device). A stage
that is rerun writes as many files as the folder its predecessor just replaced held, so
:func:`~holopipe.artifacts.io.unpublished_folder` can be given that folder's files
(:class:`SpareFiles`): each new file then *takes over* a spare one, renamed into place and
overwritten, instead of being created, and the spare is not unlinked either.

A file is taken over only when nothing outside can tell it from a new one and nobody can
see its bytes change: a regular file (never through a symlink), with one link, owned by
this process's user and the group a new file would get, without extended attributes beyond
``security.*``, on a local filesystem (a lease only sees this machine's processes), and
that **nobody has open or mapped**: the probe takes a write lease (``F_SETLEASE``), which
the kernel grants only when no other descriptor, mapping or running program holds the
file. Anything else stays where it is, for the trash to remove.

Examples
--------
>>> import tempfile, pathlib
>>> base = pathlib.Path(tempfile.mkdtemp())
>>> (base / "old").mkdir()
>>> _ = (base / "old" / "a.json").write_text("an old, longer content")
>>> spares = SpareFiles(base, ["old"])
>>> fd, old_size = spares.take(str(base / "new.json"))
>>> os.write(fd, b"{}"), old_size
(2, 22)
>>> os.ftruncate(fd, 2); os.close(fd); spares.close()
>>> (base / "new.json").read_text(), sorted(p.name for p in (base / "old").iterdir())
('{}', [])
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import signal
import stat
from collections.abc import Sequence
from pathlib import Path

__all__ = ["LOCAL_FILESYSTEMS", "SpareFiles"]

#: Filesystems where a lease sees every process that has a file open (no other host can).
LOCAL_FILESYSTEMS = frozenset(
    {"ext2", "ext3", "ext4", "xfs", "btrfs", "f2fs", "jfs", "reiserfs", "bcachefs", "tmpfs"}
)

_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: a FIFO put there fails instead of waiting, and so does an open that would
# break somebody's lease; O_NOCTTY: a terminal never becomes ours.
_WRITE = os.O_WRONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
# Refusals that concern one spare (busy, gone meanwhile); any other (leases disabled, no
# permission, another device) would refuse every spare alike: the rest are created.
_THIS_FILE_ONLY = (errno.EAGAIN, errno.ENOENT)


def _filesystem_type(fd: int) -> str | None:
    """The type of the filesystem holding the open ``fd`` (``/proc/self/mountinfo``)."""
    device = os.fstat(fd).st_dev
    wanted = f"{os.major(device)}:{os.minor(device)}"
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as mounts:
            for line in mounts:
                fields, _, rest = line.partition(" - ")
                if fields.split()[2:3] == [wanted]:
                    return rest.split()[0]
    except (OSError, IndexError):
        return None
    return None


class SpareFiles:
    """The files below the folders ``entries`` of ``folder``, for new files to take over.

    Found lazily (at the first :meth:`take`), walked through descriptors without ever
    following a link. :meth:`close` releases the folders' descriptors.
    """

    def __init__(self, folder: str | os.PathLike, entries: Sequence[str]):
        self.folder = Path(folder)
        self.entries = tuple(entries)
        self._fds: list[int] = []
        self._files: list[tuple[int, str]] | None = None
        self._owner = (os.geteuid(), os.getegid())
        self._targets: dict[str, tuple[int, int] | None] = {}  # folder -> (device, group)

    def _scan(self) -> list[tuple[int, str]]:
        files: list[tuple[int, str]] = []
        try:
            top = os.open(self.folder, _DIRECTORY)
        except OSError:
            return files
        self._fds.append(top)
        if _filesystem_type(top) not in LOCAL_FILESYSTEMS:
            return files
        folders = [(top, name) for name in self.entries]
        while folders:
            parent, name = folders.pop()
            try:
                fd = os.open(name, _DIRECTORY, dir_fd=parent)
            except OSError:  # gone, a file, a link: not ours to walk
                continue
            self._fds.append(fd)
            with contextlib.suppress(OSError), os.scandir(fd) as listing:
                for entry in listing:
                    if entry.is_dir(follow_symlinks=False):
                        folders.append((fd, entry.name))
                    elif entry.is_file(follow_symlinks=False):
                        files.append((fd, entry.name))
        return files

    def _target(self, folder: str) -> tuple[int, int] | None:
        """The device of ``folder`` and the group a new file there gets; ``None`` where a
        new file would get more (a default ACL)."""
        if folder not in self._targets:
            try:
                info = os.stat(folder)
                acl = "system.posix_acl_default" in os.listxattr(folder)
            except OSError:
                self._targets[folder] = None
            else:
                group = info.st_gid if info.st_mode & stat.S_ISGID else self._owner[1]
                self._targets[folder] = None if acl else (info.st_dev, group)
        return self._targets[folder]

    def _unseen(self, fd: int, device: int, group: int) -> int | None:
        """The size of the spare open as ``fd`` when it may be taken over, else ``None``."""
        info = os.fstat(fd)
        if not (
            stat.S_ISREG(info.st_mode)
            and info.st_nlink == 1
            and (info.st_uid, info.st_gid) == (self._owner[0], group)
            and info.st_dev == device
        ):
            return None
        if any(not name.startswith("security.") for name in os.listxattr(fd)):
            return None
        # A lease breaker is signalled to the lease holder (SIGIO, which would end this
        # process): SIGURG, ignored unless handled, for the instant the lease is held.
        fcntl.fcntl(fd, fcntl.F_SETSIG, signal.SIGURG)
        fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_WRLCK)  # EAGAIN: open or mapped elsewhere
        fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_UNLCK)
        return info.st_size

    @property
    def left(self) -> bool:
        """Whether a spare may be left (before the first :meth:`take`: not known yet)."""
        return self._files is None or bool(self._files)

    def take(self, where: str) -> tuple[int, int] | None:
        """Rename a spare file to ``where`` (which must not exist; its folder must) and
        return ``(descriptor open for writing at offset 0, its old size)``: the caller
        overwrites it and truncates it to what it wrote. ``None`` when no spare is left."""
        if self._files is None:
            self._files = self._scan()
        if not self._files:
            return None
        target = self._target(os.path.dirname(where) or ".")
        if target is None:
            return None
        while self._files:
            parent, name = self._files.pop()
            try:
                fd = os.open(name, _WRITE, dir_fd=parent)
            except OSError:
                continue
            try:
                size = self._unseen(fd, *target)
                if size is not None:
                    os.rename(name, where, src_dir_fd=parent)
                    return fd, size
            except OSError as exc:
                if exc.errno not in _THIS_FILE_ONLY:
                    self._files = []
            os.close(fd)
        return None

    def close(self) -> None:
        """Release the descriptors of the spare folders."""
        for fd in self._fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        self._fds.clear()
        self._files = []
