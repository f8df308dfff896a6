"""Finding the files of a folder to validate, without leaving it and without looping.

:func:`walk_folder` lists the regular files under a folder (sorted, depth-first) and,
beside them, every entry it did not search, each with a reason:

- ``hidden``: a name starting with a dot, not searched: holopipe's own work in progress
  (a stage's ``.partial`` folder, an atomic write's temporary file) said as such, anything
  else as a hidden entry; holopipe's hidden records (``.lock``, ``.lock.holder``,
  ``.alias_of``) are listed as files, like its other records;

- ``dangling_link``: a symbolic link to nothing;
- ``link_loop``: a link that loops, or points at a folder containing it;
- ``link_outside``: a link to a folder outside the root (directory links are never
  followed out of the root; a link to a folder inside it is not followed either, since
  that folder is searched where it is);
- ``not_regular_file``: a FIFO, socket or device (never opened);
- ``too_deep``: a folder below ``max_depth`` levels;
- ``unreadable``: a folder that cannot be listed.

A link to a regular file is listed as a file, wherever it points (it is read like a file
named on the command line).

Examples
--------
>>> import os, tempfile, pathlib
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> (root / "sub").mkdir()
>>> _ = (root / "sub" / "a.json").write_text("{}")
>>> os.symlink("..", root / "sub" / "up")
>>> os.symlink("/", root / "outside")
>>> files, skipped = walk_folder(root)
>>> [p.relative_to(root).as_posix() for p in files]
['sub/a.json']
>>> [(s.path.relative_to(root).as_posix(), s.code) for s in skipped]
[('outside', 'link_outside'), ('sub/up', 'link_loop')]
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import attrs

from holopipe.artifacts.run_records import hidden_entry, record_kind

__all__ = ["DEFAULT_MAX_DEPTH", "Skipped", "walk_folder"]

#: Folders deeper than this below the root are not searched (reported as ``too_deep``).
DEFAULT_MAX_DEPTH = 32

_SPECIAL = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


@attrs.frozen
class Skipped:
    """An entry of the folder that was not searched, and why (a finding code and message)."""

    path: Path
    code: str
    message: str


def _special_kind(mode: int) -> str:
    return next((name for test, name in _SPECIAL if test(mode)), "not a regular file")


def _inside(real: str, real_root: str) -> bool:
    return real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)


def walk_folder(
    root: str | os.PathLike, max_depth: int = DEFAULT_MAX_DEPTH
) -> tuple[list[Path], list[Skipped]]:
    """The regular files under ``root`` and the entries skipped (see the module docstring).

    ``max_depth`` = 0 lists only the files directly in ``root`` (its sub-folders are left
    out silently: the caller asked for no recursion).
    """
    root = Path(root)
    real_root = os.path.realpath(root)
    files: list[Path] = []
    skipped: list[Skipped] = []
    searched: set[tuple[int, int]] = set()

    def visit(folder: Path, depth: int) -> None:
        try:
            st = os.stat(folder)
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            skipped.append(
                Skipped(folder, "unreadable", f"folder cannot be listed: {exc.strerror}")
            )
            return
        identity = (st.st_dev, st.st_ino)
        if identity in searched:  # a bind mount or similar brought us back
            skipped.append(Skipped(folder, "link_loop", "folder already searched (a loop)"))
            return
        searched.add(identity)
        for entry in entries:
            path = folder / entry.name
            if entry.name.startswith(".") and record_kind(path) is None:
                skipped.append(Skipped(path, "hidden", hidden_entry(entry.name)))
                continue
            try:
                if entry.is_symlink():
                    _link(path, folder)
                elif entry.is_dir(follow_symlinks=False):
                    _folder(path, depth)
                elif entry.is_file(follow_symlinks=False):
                    files.append(path)
                else:
                    mode = entry.stat(follow_symlinks=False).st_mode
                    skipped.append(_not_regular(path, mode))
            except OSError as exc:
                skipped.append(Skipped(path, "unreadable", f"cannot be examined: {exc.strerror}"))

    def _folder(path: Path, depth: int) -> None:
        if depth < max_depth:
            visit(path, depth + 1)
        elif max_depth > 0:
            message = f"folder more than {max_depth} levels deep: not searched"
            skipped.append(Skipped(path, "too_deep", message))

    def _link(path: Path, folder: Path) -> None:
        target = os.readlink(path)
        try:
            st = os.stat(path)
        except FileNotFoundError:
            message = f"symbolic link to {target!r}, which does not exist: skipped"
            skipped.append(Skipped(path, "dangling_link", message))
            return
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                message = f"symbolic link to {target!r} loops: not followed"
                skipped.append(Skipped(path, "link_loop", message))
                return
            raise
        if stat.S_ISREG(st.st_mode):
            files.append(path)
        elif not stat.S_ISDIR(st.st_mode):
            skipped.append(_not_regular(path, st.st_mode))
        else:
            real = os.path.realpath(path)
            if not _inside(real, real_root):
                message = f"link to a folder outside {root} ({target!r}): not followed"
                skipped.append(Skipped(path, "link_outside", message))
            elif _inside(os.path.realpath(folder), real):
                message = f"link to {target!r}, a folder that contains it: not followed (a loop)"
                skipped.append(Skipped(path, "link_loop", message))
            # else: a link to a folder inside the root, which is searched where it is

    visit(root, 0)
    return files, skipped


def _not_regular(path: Path, mode: int) -> Skipped:
    message = f"{_special_kind(mode)}, not a regular file: not read"
    return Skipped(path, "not_regular_file", message)
