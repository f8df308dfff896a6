"""Walking a legacy tree: bounded depth, sorted, links never followed, loops detected.

:func:`walk_tree` lists every entry under a root without following any symbolic link:
a link to a file inside the root is an entry whose content is read through the link; a
link to a directory is never descended (its target is walked under its own path when it
is inside the root), a link leaving the root or forming a loop is a finding. Special files
(FIFOs, sockets, devices) are listed from ``lstat`` only and never opened.

Examples
--------
>>> import pathlib, tempfile
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> _ = (root / "a").mkdir(); _ = (root / "a" / "x.json").write_text("{}")
>>> (root / "loop").symlink_to(".")
>>> walk = walk_tree(root)
>>> [(e.rel, e.kind) for e in walk.entries]
[('a/x.json', 'file'), ('loop', 'dir_link')]
>>> [f.code for f in walk.findings]
['symlink_loop']
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import attrs

from holopipe.artifacts.report import Finding

__all__ = ["MAX_DEPTH", "MAX_ENTRIES", "Entry", "Walk", "display_name", "walk_tree"]

#: Folders deeper than this below the root are not descended (a finding says so).
MAX_DEPTH = 32
#: Entries beyond this many are not listed (a finding says so): bounded memory.
MAX_ENTRIES = 200_000


def display_name(rel: str) -> str:
    """A printable, JSON-safe form of a path (undecodable bytes as ``\\xNN``).

    Examples
    --------
    >>> display_name(os.fsdecode(b"bad_\\xff.h5"))
    'bad_\\\\xff.h5'
    """
    return os.fsencode(rel).decode("utf-8", "backslashreplace")


@attrs.frozen
class Entry:
    """One entry under the root."""

    rel: str = attrs.field(
        metadata={"doc": "path relative to the root (os string, may hold surrogates)"}
    )
    kind: str = attrs.field(
        metadata={"doc": "file | file_link | dir_link | special | dangling_link | link_outside"}
    )
    mode: int = 0
    target: str | None = attrs.field(default=None, metadata={"doc": "link target as stored"})

    @property
    def name(self) -> str:
        return display_name(self.rel)


@attrs.define
class Walk:
    root: Path
    entries: list[Entry] = attrs.field(factory=list)
    findings: list[Finding] = attrs.field(factory=list)
    dirs: int = 0


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def walk_tree(root: str | os.PathLike, max_depth: int = MAX_DEPTH) -> Walk:
    """Every entry under ``root`` in sorted order (by bytes of the relative path)."""
    root = Path(root)
    real_root = os.path.realpath(root)
    walk = Walk(root)
    seen_dirs: set[tuple[int, int]] = set()

    def add_finding(code: str, rel: str, message: str, severity: str = "warning") -> None:
        walk.findings.append(Finding(code, display_name(rel) or ".", message, severity))

    def visit(folder: str, rel: str, depth: int) -> None:
        try:
            st = os.stat(folder)
        except OSError as exc:
            add_finding("unreadable_dir", rel, f"cannot stat folder: {exc.strerror}")
            return
        key = (st.st_dev, st.st_ino)
        if key in seen_dirs:
            add_finding("dir_loop", rel, "folder already visited (a bind mount or hard link loop)")
            return
        seen_dirs.add(key)
        walk.dirs += 1
        try:
            with os.scandir(folder) as it:
                children = sorted(it, key=lambda e: os.fsencode(e.name))
        except OSError as exc:
            add_finding("unreadable_dir", rel, f"cannot list folder: {exc.strerror}")
            return
        for child in children:
            if len(walk.entries) >= MAX_ENTRIES:
                add_finding(
                    "too_many_entries",
                    rel,
                    f"more than {MAX_ENTRIES} entries: the rest is not listed",
                )
                return
            child_rel = f"{rel}/{child.name}" if rel else child.name
            _visit_entry(child, child_rel, depth)

    def _visit_entry(child: os.DirEntry, child_rel: str, depth: int) -> None:
        try:
            lst = child.stat(follow_symlinks=False)
        except OSError as exc:
            add_finding("unreadable", child_rel, f"cannot stat: {exc.strerror}")
            return
        if stat.S_ISDIR(lst.st_mode):
            if depth + 1 > max_depth:
                add_finding(
                    "depth_limit", child_rel, f"deeper than {max_depth} levels: not descended"
                )
                return
            visit(child.path, child_rel, depth + 1)
            return
        if stat.S_ISLNK(lst.st_mode):
            _visit_link(child, child_rel, lst)
            return
        if stat.S_ISREG(lst.st_mode):
            walk.entries.append(Entry(child_rel, "file", lst.st_mode))
            return
        walk.entries.append(Entry(child_rel, "special", lst.st_mode))
        add_finding(
            "special_file",
            child_rel,
            f"{_special_name(lst.st_mode)}: never opened, not linked",
        )

    def _visit_link(child: os.DirEntry, child_rel: str, lst: os.stat_result) -> None:
        target = os.readlink(child.path)
        resolved = os.path.realpath(child.path)
        try:
            st = os.stat(child.path)
        except OSError as exc:
            if exc.errno == 40:  # ELOOP
                walk.entries.append(Entry(child_rel, "dangling_link", lst.st_mode, target))
                add_finding("symlink_loop", child_rel, f"link {target!r} loops on itself")
            else:
                walk.entries.append(Entry(child_rel, "dangling_link", lst.st_mode, target))
                add_finding(
                    "dangling_link",
                    child_rel,
                    f"link to {display_name(target)!r}, which does not exist",
                )
            return
        if not _inside(resolved, real_root):
            walk.entries.append(Entry(child_rel, "link_outside", lst.st_mode, target))
            add_finding(
                "link_outside_root",
                child_rel,
                f"link to {display_name(resolved)!r}, outside the legacy root: not followed",
            )
            return
        if stat.S_ISDIR(st.st_mode):
            walk.entries.append(Entry(child_rel, "dir_link", lst.st_mode, target))
            link_dir = os.path.realpath(os.path.dirname(child.path))
            if _inside(link_dir, resolved):
                add_finding(
                    "symlink_loop",
                    child_rel,
                    f"link to {display_name(target)!r}, an ancestor folder: not followed",
                )
            else:
                add_finding(
                    "dir_link",
                    child_rel,
                    f"link to folder {display_name(target)!r} inside the root: not followed "
                    "(its files are imported under their own path)",
                )
            return
        if stat.S_ISREG(st.st_mode):
            walk.entries.append(Entry(child_rel, "file_link", lst.st_mode, target))
            return
        walk.entries.append(Entry(child_rel, "special", st.st_mode, target))
        add_finding(
            "special_file", child_rel, f"link to a {_special_name(st.st_mode)}: never opened"
        )

    visit(os.fspath(root), "", 0)
    return walk


def _special_name(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device file"
    return "special file"
