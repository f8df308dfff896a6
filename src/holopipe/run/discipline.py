"""The plan's discipline rules checked after every stage (sections 3.2, 7.1 and 11).

- :func:`undeclared_files`: "no output without registering it": a file in the stage's
  folder that is neither a declared output nor holopipe's bookkeeping.
- :func:`writes_outside`: "no writes outside the run": files created, modified or renamed
  (mtime or ctime at or after the stage's start) in the :func:`watched_places`.

What is watched, and why not more: the current directory, the parent of the runs root
(where ``outputs/``, ``results/``, ``fase11_*`` used to appear) and the configured legacy
roots (frozen: section 7.1). The user's home directory and the temp dir are not watched
(nor a watched place that is one of them or holds one, such as ``/``): every other process
on the machine writes there, so a file appearing in them cannot be told from the stage's
without tracing its system calls. Inside a watched place these are skipped: the runs root
(holopipe's own; other experiments may be running in it), the folders named by the
config's ``caches`` and ``executor.slurm.folder``, and folders named in
:data:`IGNORED_DIRS` (version control, virtual environments, tool and bytecode caches,
wherever they are). A walk stops after :data:`MAX_WATCHED_ENTRIES` entries and says so.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

import attrs

from holopipe.run.layout import BOOKKEEPING_FILES

__all__ = [
    "FINDING_PREFIXES",
    "IGNORED_DIRS",
    "MAX_WATCHED_ENTRIES",
    "OutsideWrites",
    "filesystem_now",
    "undeclared_files",
    "unwatched_places",
    "watched_places",
    "writes_outside",
]

#: Folders never walked by the outside-writes gate, wherever they are: version control,
#: virtual environments, Python's bytecode caches (numba's cache files live there too) and
#: the caches of test and lint tools.
IGNORED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".nox",
        ".tox",
        ".venv",
        "__pycache__",
        ".pytest_cache",
        ".hypothesis",
        ".mypy_cache",
        ".ruff_cache",
        ".ipynb_checkpoints",
    }
)
#: How the discipline lines of a stage summary start: an undeclared file, a write outside
#: the run, a watch that could not be complete.
UNDECLARED, OUTSIDE, PARTIAL = (
    "undeclared file in the stage dir: ",
    "file written outside the run: ",
    "outside-writes gate",
)
FINDING_PREFIXES = (UNDECLARED, OUTSIDE, PARTIAL)
#: A walk stops after this many entries (files and folders, all places together).
MAX_WATCHED_ENTRIES = 50_000


@attrs.frozen
class OutsideWrites:
    """What the outside-writes gate found.

    ``found``: the paths written (relative to the current directory when inside it, else
    absolute; a new empty folder ends with ``/``); ``watched``: the places walked;
    ``entries``: how many entries were looked at; ``complete``: ``False`` when the walk
    stopped at the entry limit.
    """

    found: tuple[str, ...]
    watched: tuple[Path, ...]
    entries: int
    complete: bool


def unwatched_places() -> tuple[Path, ...]:
    """The home directory and the temp dir: shared with every process, never watched."""
    places = [Path(tempfile.gettempdir())]
    home = os.environ.get("HOME")
    if home:
        places.append(Path(home))
    return tuple(p.resolve() for p in places)


def watched_places(cwd: Path, runs_dir: Path, legacy_roots: Iterable[Path]) -> list[Path]:
    """The folders the outside-writes gate walks, resolved, without duplicates or nesting.

    The current directory, the runs root's parent and the existing legacy roots; a
    candidate that is the home directory or the temp dir, or holds one of them, is left out.

    Examples
    --------
    >>> import tempfile
    >>> watched_places(Path(tempfile.gettempdir()), Path(tempfile.gettempdir()) / "runs", [])
    []
    """
    shared = unwatched_places()
    candidates = [cwd, runs_dir.absolute().parent, *(cwd / r for r in legacy_roots)]
    places: list[Path] = []
    for candidate in (c.resolve() for c in candidates):
        if not candidate.is_dir() or any(s == candidate or candidate in s.parents for s in shared):
            continue
        if any(p == candidate or p in candidate.parents for p in places):
            continue  # inside a place already walked
        places = [p for p in places if candidate not in p.parents] + [candidate]
    return places


def filesystem_now(folder: Path) -> int:
    """The filesystem's current time in ns, read back from ``folder``'s mtime after a
    touch: files are stamped by the kernel's (coarser) clock, which may lag
    ``time.time_ns()``; comparing with it would miss a write made just after the start."""
    os.utime(folder)
    return os.stat(folder).st_mtime_ns


def writes_outside(
    places: Iterable[Path],
    since_ns: int,
    allowed: Iterable[Path],
    cwd: Path | None = None,
    limit: int | None = None,
) -> OutsideWrites:
    """Entries under ``places`` created, modified or renamed at or after ``since_ns``, outside
    ``allowed`` and :data:`IGNORED_DIRS` (symbolic links are reported, never followed); at
    most ``limit`` entries are looked at (default :data:`MAX_WATCHED_ENTRIES`).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     place = Path(tmp)
    ...     start = filesystem_now(place)
    ...     _ = (place / "leak.txt").write_text("x")
    ...     writes_outside([place], start, [], cwd=place).found
    ('leak.txt',)
    """
    limit = MAX_WATCHED_ENTRIES if limit is None else limit
    base = (cwd or Path.cwd()).resolve()
    skip = {os.fspath(Path(p).absolute().resolve()) for p in allowed}
    found: list[str] = []
    entries = 0
    places = tuple(places)
    roots = {os.fspath(p) for p in places}
    stack = [os.fspath(p) for p in reversed(places)]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                children = sorted(it, key=lambda e: e.name)
        except OSError:
            continue  # unreadable or gone: nothing the stage could have written there
        if not children and folder not in roots and _changed(folder, since_ns):
            found.append(_shown(folder, base) + "/")
        subfolders = []
        for entry in children:
            entries += 1
            if entries > limit:
                return OutsideWrites(tuple(found), places, entries - 1, False)
            if entry.is_dir(follow_symlinks=False):
                if entry.name not in IGNORED_DIRS and entry.path not in skip:
                    subfolders.append(entry.path)
            elif _changed(entry, since_ns):
                found.append(_shown(entry.path, base))
        stack += reversed(subfolders)
    return OutsideWrites(tuple(found), places, entries, True)


def _changed(entry: os.DirEntry | str, since_ns: int) -> bool:
    """mtime or ctime at or after ``since_ns`` (the ctime catches copies that keep the
    source's mtime, renames and ``os.utime`` into the past); links are not followed."""
    try:
        if isinstance(entry, os.DirEntry):
            st = entry.stat(follow_symlinks=False)
        else:
            st = os.lstat(entry)
    except OSError:
        return False
    return max(st.st_mtime_ns, st.st_ctime_ns) >= since_ns


def _shown(path: str, base: Path) -> str:
    """``path`` relative to ``base`` when inside it, else absolute; printable on one line."""
    shown = Path(path)
    if base in shown.parents:
        shown = shown.relative_to(base)
    text = os.fsencode(os.fspath(shown)).decode("utf-8", "backslashreplace")
    return text if text.isprintable() else repr(text)[1:-1]


def undeclared_files(stage_dir: Path, declared: set[Path]) -> list[str]:
    """Files in a stage dir that are neither declared outputs nor bookkeeping.

    Compared as path strings (``str`` of a ``Path`` is its normal form, as ``os.walk``
    builds them below ``stage_dir``): thousands of files per stage, no ``Path`` each."""
    known = {os.fspath(p) for p in declared}
    known.update(os.fspath(stage_dir / b) for b in BOOKKEEPING_FILES)
    extra = []
    for folder, _dirs, files in os.walk(stage_dir):
        for name in files:
            if os.path.join(folder, name) not in known:
                path = Path(folder) / name
                if path not in declared:  # the same file spelt otherwise: declared after all
                    extra.append(path.relative_to(stage_dir).as_posix())
    return sorted(extra)
