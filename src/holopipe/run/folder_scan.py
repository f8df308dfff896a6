"""The stat scan that shows a rerun changed nothing, and its early start by ``holopipe run``.

A no-op rerun costs one ``stat`` per recorded file (an edit in place changes only the
file's own stat): :func:`folder_signature` digests the stat signatures of the files of one
folder, :func:`folder_signatures` those of many, in two forked processes when they are
many, the folder that evens their shares split between them by name (the digests of
:mod:`holopipe.run.stage_digest` are compared with them).

A plain ``holopipe run`` starts this scan before it imports the pipeline
(:meth:`EarlyScan.start`): two forked processes scan every folder the run's manifest index
records while the command imports the rest of holopipe (~0.15 s) and takes the lock. What
they found of a folder is used (:meth:`EarlyScan.take`) only while nothing written since
can have changed it: the index file has the stat it had when the folders were chosen
(another command that published since rewrote it), and the folder has the stat it had just
before it was listed and had not changed for :data:`SETTLED_NS` before (a file created,
removed or renamed in it changes that stat, and holopipe writes by rename; a change within
the clock tick of the listing could leave it equal). Any other folder is scanned again
under the lock. An edit in place between the early scan and the lock is missed as one just
after the scan under the lock is: the stat of a file is read once either way.

Only the standard library and :mod:`holopipe.run.forked` (which imports nothing more) are
imported here: the module is loaded before the rest of holopipe (``holopipe.run`` imports
its modules on first use).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import stat
import time
from typing import Any

from holopipe.run.forked import fork_helper, read_frame, send_frame

__all__ = [
    "PARALLEL_SCAN_FILES",
    "SETTLED_NS",
    "EarlyScan",
    "folder_signature",
    "folder_signatures",
]

#: Recorded files from which :func:`folder_signatures` shares the scan with a second
#: process (below, the fork costs more than it saves).
PARALLEL_SCAN_FILES = 30_000

#: How long a folder must have been left as it is for its early scan to be trusted: far
#: above the clock tick of file timestamps (at most 10 ms on Linux).
SETTLED_NS = 100_000_000

#: The largest index file the early scan reads (a larger one is the pipeline's to judge).
_INDEX_BYTES = 16 << 20

Signature = tuple[int, str] | None

#: What listing a folder costs, as a share of what scanning it costs (listdir against the
#: stat and the row of each file): both scanners list a folder they split.
_LISTING_SHARE = 1 / 6

#: A folder scanned whole (``None``), or the half of its names whose ``hash`` has this
#: parity: two processes forked from one parent hash a name alike.
Half = int | None


def _signature_of_rows(rows: list[str]) -> str:
    rows.sort()
    return hashlib.sha256("\n".join(rows).encode("utf-8", "surrogateescape")).hexdigest()


def folder_signature(folder: str) -> Signature:
    """``(count, digest)`` of the files directly in ``folder`` (subfolders are not
    entered; each file's stat follows symbolic links, as ``os.stat``), or ``None`` when
    the folder cannot be read or holds something that is not a regular file or folder.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = (pathlib.Path(tmp) / "a.json").write_text("{}")
    ...     count, digest = folder_signature(tmp)
    >>> count, len(digest)
    (1, 64)
    """
    rows = _folder_rows(folder)
    return None if rows is None else (len(rows), _signature_of_rows(rows))


def _folder_rows(folder: str, half: Half = None) -> list[str] | None:
    """The stat rows of the files directly in ``folder`` (of those whose name's ``hash``
    has the parity ``half``, when given), unsorted, or ``None`` as :func:`folder_signature`."""
    # One stat per name, relative to the open folder: what a no-op rerun costs per file
    # (a DirEntry per file and a call per row cost a fifth more).
    try:
        names = os.listdir(folder)
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return None
    if half is not None:
        names = [name for name in names if hash(name) & 1 == half]
    rows: list[str] = []
    add, stat_at, regular = rows.append, os.stat, stat.S_ISREG
    try:
        for name in names:
            st = stat_at(name, dir_fd=fd)
            if not regular(st.st_mode):
                if stat.S_ISDIR(stat_at(name, dir_fd=fd, follow_symlinks=False).st_mode):
                    continue  # a subfolder (a link to one is not)
                return None
            add(f"{name}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ctime_ns}\0{st.st_ino}")
    except OSError:
        return None
    finally:
        os.close(fd)
    return rows


def folder_signatures(folders: dict[str, int]) -> dict[str, Signature]:
    """:func:`folder_signature` of each of ``folders`` (path -> the number of files it
    is expected to hold). With :data:`PARALLEL_SCAN_FILES` or more in all and two CPUs,
    two forked processes scan them (a stat is a system call: the scan of 100 000 files
    is most of a no-op rerun); a folder whose scanning process died is ``None``.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     folder_signatures({tmp: 0})[tmp][0]
    0
    """
    if not folders or sum(folders.values()) < PARALLEL_SCAN_FILES or _cpus() < 2:
        return {path: folder_signature(path) for path in folders}
    return _Scanners(folders).results()


#: Between the rows of a half in its frame: no row holds it (a name holds no NUL and the
#: fields around each NUL of a row are never empty).
_ROW_BREAK = "\0\0"


def _send_share(fd: int, share: list[tuple[str, Half]]) -> None:
    """Scan ``share`` and send what a scanner found: one frame of JSON listing each unit
    (a whole folder's signature; a half's row count, ``None`` when it cannot be
    confirmed), then one frame per half of its sorted rows (JSON would escape each NUL
    and cost the parent several times more to read)."""
    listed, halves = [], []
    for path, half in share:
        if half is None:
            listed.append([path, None, folder_signature(path)])
            continue
        rows = _folder_rows(path, half)
        listed.append([path, half, None if rows is None else len(rows)])
        halves.append(_ROW_BREAK.join(sorted(rows or ())))
    send_frame(fd, json.dumps(listed).encode("utf-8", "surrogateescape"))
    for rows_text in halves:
        send_frame(fd, rows_text.encode("utf-8", "surrogateescape"))


def _receive_share(fd: int) -> list[tuple[str, Half, Any]] | None:
    """What :func:`_send_share` sent: ``(path, None, signature)`` of each whole folder,
    ``(path, half, rows or None)`` of each half; ``None`` when it was cut short."""
    data = read_frame(fd)
    if data is None:
        return None
    found: list[tuple[str, Half, Any]] = []
    for path, half, scanned in json.loads(data.decode("utf-8", "surrogateescape")):
        if half is None:
            found.append((path, None, None if scanned is None else tuple(scanned)))
            continue
        rows_data = read_frame(fd)
        if rows_data is None:
            return None
        rows = rows_data.decode("utf-8", "surrogateescape").split(_ROW_BREAK) if scanned else []
        found.append((path, half, None if scanned is None else rows))
    return found


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _shares(folders: dict[str, int]) -> list[list[tuple[str, Half]]]:
    """The two scanners' shares of ``folders`` (path -> file count): whole folders, the
    largest first, each to the share with fewer files so far; then the folder of the
    heavier share that evens them best is split between both, when that shortens the
    heavier share by more than the second listing costs (nine equal folders: 4.5 each
    instead of 5 and 4)."""
    shares: list[list[tuple[str, Half]]] = [[], []]
    files = [0.0, 0.0]
    for path in sorted(folders, key=lambda path: -folders[path]):
        lighter = files.index(min(files))
        shares[lighter].append((path, None))
        files[lighter] += folders[path]
    heavy = files.index(max(files))

    def heavier_after_split(path: str) -> float:
        count = folders[path]
        each = count * ((1 - _LISTING_SHARE) / 2 + _LISTING_SHARE)  # half the stats, all names
        return max(files[heavy] - count + each, files[1 - heavy] + each)

    candidates = [path for path, _ in shares[heavy]]
    best = min(candidates, key=heavier_after_split) if candidates else None
    if best is not None and heavier_after_split(best) < files[heavy]:
        shares[heavy][shares[heavy].index((best, None))] = (best, 0)
        shares[1 - heavy].append((best, 1))
    return shares


class _Scanners:
    """Two forked processes, each scanning its share of the folders (:func:`_shares`) and
    sending back what it found when done (:func:`_send_share`): the signature of each whole
    folder, the sorted rows of each half, which the parent merges into the signature."""

    def __init__(self, folders: dict[str, int]) -> None:
        self.folders = list(folders)
        self._found: dict[str, Signature] | None = None
        self._pids: dict[int, int] = {}  # the read end of a scanner's pipe -> its pid
        try:
            for share in _shares(folders):
                if share:
                    self._fork(share)
        except BaseException:
            self.close()
            raise

    def _fork(self, share: list[tuple[str, Half]]) -> None:
        read_fd, write_fd = os.pipe()
        inherited = list(self._pids)  # the read ends of the scanners forked before

        def scan() -> None:
            for fd in (read_fd, *inherited):
                os.close(fd)
            _send_share(write_fd, share)

        pid = fork_helper(scan, "folder scanner")
        os.close(write_fd)
        self._pids[read_fd] = pid

    def results(self) -> dict[str, Signature]:
        """Every folder's signature (``None`` for those of a scanner that died), once the
        scanners have finished."""
        if self._found is None:
            found: dict[str, Signature] = dict.fromkeys(self.folders)
            halves: dict[str, list[list[str] | None]] = {}
            try:
                for fd in list(self._pids):
                    sent = _receive_share(fd)
                    if os.waitstatus_to_exitcode(self._reap(fd)) != 0 or sent is None:
                        continue
                    for path, half, scanned in sent:
                        if half is None:
                            found[path] = scanned
                        else:
                            halves.setdefault(path, []).append(scanned)
            finally:
                self.close()
            for path, parts in halves.items():
                if len(parts) == 2 and None not in parts:
                    rows = [row for part in parts for row in part]  # two sorted runs
                    found[path] = len(rows), _signature_of_rows(rows)
            self._found = found
        return self._found

    def _reap(self, fd: int) -> int:
        os.close(fd)
        return os.waitpid(self._pids.pop(fd), 0)[1]

    def close(self) -> None:
        """Stop and reap the scanners still running (their results are not needed)."""
        for fd, pid in list(self._pids.items()):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            self._reap(fd)


def _folder_stat(path: str) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_ctime_ns) if stat.S_ISDIR(st.st_mode) else None


def _index_stat(path: str) -> tuple[int, int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino


def _recorded_folders(index_path: str) -> dict[str, int] | None:
    """Run-relative folder -> file count, of every stage digest in the index file, or
    ``None`` when it cannot be read as one (the pipeline then says what is wrong)."""
    try:
        fd = os.open(index_path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO must not block
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or st.st_size > _INDEX_BYTES:
                return None
            document = json.loads(os.read(fd, st.st_size + 1))
        finally:
            os.close(fd)
    except (OSError, ValueError, RecursionError):
        return None
    stages = document.get("stages") if type(document) is dict else None
    folders: dict[str, int] = {}
    for entry in stages.values() if type(stages) is dict else ():
        digest = entry.get("digest") if type(entry) is dict else None
        recorded = digest.get("folders") if type(digest) is dict else None
        for folder, value in recorded.items() if type(recorded) is dict else ():
            parts = folder.split("/")
            if folder.startswith("/") or ".." in parts or type(value) is not list or not value:
                continue  # never outside the run (the pipeline refuses such a digest)
            if type(value[0]) is int:
                folders[folder] = value[0]
    return folders


class EarlyScan:
    """The scan of a run's recorded folders started before ``holopipe run`` imports the
    pipeline (see the module docstring): :meth:`start`, then :meth:`take` under the lock,
    and :meth:`close` in the end."""

    def __init__(
        self,
        index_path: str,
        index_stat: tuple[int, int, int, int],
        before: dict[str, tuple[int, int, int]],
        scanners: _Scanners,
    ) -> None:
        self._index_path = index_path
        self._index_stat = index_stat
        self._before = before
        self._scanners = scanners

    @classmethod
    def start(cls, run_root: str) -> EarlyScan | None:
        """Fork the scanners of the folders the index of the run at ``run_root`` records,
        or ``None`` when there is nothing to scan early (no index, one CPU)."""
        if _cpus() < 2:
            return None  # no second CPU: nothing to overlap with
        index_path = os.path.join(run_root, "run_manifest.json")
        index_stat = _index_stat(index_path)
        recorded = _recorded_folders(index_path) if index_stat is not None else None
        if not recorded or _index_stat(index_path) != index_stat:
            return None
        settled = time.time_ns() - SETTLED_NS
        before, folders = {}, {}
        for folder, count in recorded.items():
            path = os.path.join(run_root, folder)
            found = _folder_stat(path)
            if found is not None and max(found[1:]) < settled:
                before[path] = found
                folders[path] = count
        return cls(index_path, index_stat, before, _Scanners(folders)) if folders else None

    def take(self, paths: list[str]) -> dict[str, Signature]:
        """The signatures of those of ``paths`` the early scan found and that nothing can
        have changed since (waits for the scanners the first time)."""
        found = self._scanners.results()
        if _index_stat(self._index_path) != self._index_stat:
            return {}
        return {
            path: found[path]
            for path in paths
            if path in self._before and _folder_stat(path) == self._before[path]
        }

    def close(self) -> None:
        """Stop and reap the scanners if their results were never taken."""
        self._scanners.close()
