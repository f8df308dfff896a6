"""Atomic, byte-deterministic file writing and safe reading.

Every artifact write goes through :func:`atomic_write`: a temporary file in the target's
folder, fsync, then ``os.replace``, so a reader sees the old file or the new one, never a
partial one; in a folder that is published whole by a rename (a stage's ``.partial``
folder, :func:`unpublished_folder`) each new file is written once in place instead. JSON
is written with sorted keys and ``repr`` floats, NPZ with fixed zip timestamps, so the same
content always gives the same bytes.

This is the public I/O seam of the artifacts layer: run records (``holopipe.run``), the
stage runner, the pipeline and the CLI write and hash through it too.
"""

from __future__ import annotations

import contextlib
import contextvars
import errno
import fnmatch
import functools
import io
import json
import math
import os
import signal
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import attrs

from holopipe.artifacts.json_text import dumps_indented
from holopipe.artifacts.spare_files import SpareFiles

if TYPE_CHECKING:  # numpy is imported where arrays are written (start-up time)
    import numpy as np

__all__ = [
    "JSONDecodeIssue",
    "atomic_write",
    "deferred_fsync",
    "atomic_write_bytes",
    "dumps_json",
    "loads_json",
    "npz_bytes",
    "recorded_key",
    "recorded_writes",
    "sha256_file",
    "unpublished_folder",
]

# The zip format cannot store dates before 1980; a fixed date keeps NPZ bytes stable.
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


#: Fault injection for the crash-consistency tests: ``enospc:<glob>`` makes every
#: :func:`atomic_write` whose target path matches the ``fnmatch`` pattern fail with ENOSPC
#: after its bytes were written (as a disk filling up mid-write would); ``kill:<glob>``
#: SIGKILLs the process at that point: before the write's rename, or, for a file written in
#: place (:func:`unpublished_folder`), before it is closed.
INJECT_FAULT_ENV = "HOLOPIPE_INJECT_FAULT"
_NO_SPACE = (errno.ENOSPC, errno.EDQUOT)


def _injected_fault(target: str | os.PathLike) -> OSError | None:
    spec = os.environ.get(INJECT_FAULT_ENV)
    if not spec:
        return None
    kind, _, pattern = spec.partition(":")
    if not fnmatch.fnmatchcase(Path(target).as_posix(), pattern):
        return None
    if kind == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    return (
        OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(target)) if kind == "enospc" else None
    )


# True inside deferred_fsync(): the caller makes the whole batch durable at once.
_FSYNC_DEFERRED = contextvars.ContextVar("holopipe_fsync_deferred", default=False)


@contextlib.contextmanager
def deferred_fsync() -> Iterator[None]:
    """Skip the per-file fsyncs of :func:`atomic_write`; ``os.sync()`` once on exit.

    For many small files written where no reader looks yet (a stage's ``.partial`` folder):
    each write is still atomic (rename), and the batch is made durable with one sync
    instead of two fsyncs per file.
    """
    token = _FSYNC_DEFERRED.set(True)
    try:
        yield
    finally:
        _FSYNC_DEFERRED.reset(token)
        os.sync()


@attrs.define
class _Unpublished:
    """The folder :func:`unpublished_folder` writes into, and its sub-folders made so far."""

    given: str = attrs.field(metadata={"doc": "the folder as given, ending in a separator"})
    absolute: str = attrs.field(metadata={"doc": "the same, absolute"})
    folders: set[str] = attrs.field(factory=set)
    spares: SpareFiles | None = attrs.field(
        default=None, metadata={"doc": "files a new file may take over instead of being created"}
    )


# Set inside unpublished_folder(): files below that folder are written in place.
_UNPUBLISHED: contextvars.ContextVar[_Unpublished | None] = contextvars.ContextVar(
    "holopipe_unpublished", default=None
)


@contextlib.contextmanager
def unpublished_folder(
    folder: str | os.PathLike, spares: SpareFiles | None = None
) -> Iterator[None]:
    """Write each new file below ``folder`` once, in place; ``os.sync()`` once on exit.

    For a folder no reader looks into until it is renamed into place as a whole (a stage's
    ``.partial`` folder, see :mod:`holopipe.run.publish`): the folder's rename is the atomic
    step, so a file inside needs no temporary name and rename of its own (creating a file
    is what costs on most disks; this creates each once). A write that fails removes its
    file, so the folder never holds a half-written one either; a killed process leaves a
    half-written file only inside the unpublished folder, which is never published and is
    removed by the next command (``RunLayout.remove_leftovers``). A file that exists
    already, or any path outside ``folder``, is written by the usual temporary file and
    rename. Every fsync inside is deferred to the one ``os.sync()`` (see
    :func:`deferred_fsync`). With ``spares`` (the files of a folder just replaced), a new
    file of :func:`atomic_write_bytes` takes over a spare file, renamed in, overwritten and
    truncated to its bytes, before any file is created (see
    :mod:`holopipe.artifacts.spare_files`); the spares' folders are released on exit.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> work = pathlib.Path(tempfile.mkdtemp()) / ".stage.partial"
    >>> with unpublished_folder(work):
    ...     atomic_write_bytes(work / "out" / "a.json", b"{}")
    >>> sorted(p.name for p in (work / "out").iterdir())
    ['a.json']
    """
    given = os.fspath(folder)
    state = _Unpublished(
        os.path.join(given, ""), os.path.join(os.path.abspath(given), ""), spares=spares
    )
    token = _UNPUBLISHED.set(state)
    try:
        with deferred_fsync():
            yield
    finally:
        _UNPUBLISHED.reset(token)
        if spares is not None:
            spares.close()


def _written_in_place(target: str | os.PathLike) -> str | None:
    """The absolute path of ``target`` when it is to be written in place (see
    :func:`unpublished_folder`), else ``None``."""
    state = _UNPUBLISHED.get()
    if state is None:
        return None
    text = os.fspath(target)
    if text.startswith(state.given):  # as the stage's context builds it: no getcwd()
        return text
    where = os.path.abspath(text)
    return where if where.startswith(state.absolute) else None


def recorded_key(path: str | os.PathLike) -> str:
    """The key of ``path`` in :func:`recorded_writes`: ``os.path.abspath(path)``. A
    normalised path below the unpublished folder, spelt as that folder was given (as a
    stage's context builds its outputs' paths), is joined to the folder's absolute path
    taken once, without a ``getcwd`` per file: the same text, as no component of what
    follows the folder is empty, ``.`` or ``..`` (a name starting with a dot is left to
    ``abspath``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> work = pathlib.Path(tempfile.mkdtemp()) / ".stage.partial"
    >>> with unpublished_folder(work):
    ...     recorded_key(work / "a" / "b.json") == os.path.abspath(work / "a" / "b.json")
    True
    """
    text = os.fspath(path)
    state = _UNPUBLISHED.get()
    if state is not None and text.startswith(state.given):
        rest = text[len(state.given) :]
        if rest and "/" not in (rest[0], rest[-1]) and "//" not in rest and "/." not in "/" + rest:
            return state.absolute + rest
    return os.path.abspath(text)


def _create_in_place(where: str, size: int | None) -> tuple[int, int | None] | None:
    """Create ``where`` (below the unpublished folder) for writing: its descriptor and,
    for a spare file taken over (only for a write of known ``size``), the spare's size to
    truncate; ``None`` when something is there already (then the usual temporary file and
    rename)."""
    state = _UNPUBLISHED.get()
    assert state is not None
    parent = os.path.dirname(where)
    if parent not in state.folders:
        os.makedirs(parent, exist_ok=True)
        state.folders.add(parent)
    spares = state.spares
    if spares is not None and size is not None and spares.left and not os.path.lexists(where):
        taken = spares.take(where)
        if taken is not None:
            fd, old_size = taken
            try:
                os.fchmod(fd, 0o644)
            except BaseException:
                os.close(fd)
                os.unlink(where)
                raise
            return fd, old_size
    try:
        # O_EXCL: never through a symlink, never over a file that is there already.
        fd = os.open(where, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
    except FileExistsError:
        return None
    try:
        os.fchmod(fd, 0o644)  # whatever the umask, as a temporary file and rename give
    except BaseException:
        os.close(fd)
        os.unlink(where)
        raise
    return fd, None


def _open(fd: int, mode: str) -> IO[Any]:
    return os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8"}))


def _finish(fd: int, end: int, target: str | os.PathLike, old_size: int | None) -> None:
    """The end of a write of ``end`` bytes to ``fd``: cut to them (a file taken over,
    ``old_size`` bytes long) and the fault a test injected for ``target`` raised."""
    if old_size is not None:
        if end < old_size:
            os.ftruncate(fd, end)
        elif end == 0:  # nothing written: still a new file's modification time
            os.utime(fd)
    fault = _injected_fault(target)
    if fault is not None:
        raise fault


@contextlib.contextmanager
def _filled(
    fd: int, mode: str, target: Path, fsync: bool, old_size: int | None = None
) -> Iterator[IO[Any]]:
    """``fd`` opened as ``mode`` for the caller to fill; then flushed, finished
    (:func:`_finish`) and (``fsync``) its bytes made durable, before it is closed."""
    with _open(fd, mode) as fh:
        yield fh
        fh.flush()
        _finish(fd, os.lseek(fd, 0, os.SEEK_CUR) if old_size is not None else -1, target, old_size)
        if fsync:
            os.fsync(fh.fileno())


@contextlib.contextmanager
def atomic_write(
    path: str | os.PathLike, mode: str = "wb", durable: bool = True
) -> Iterator[IO[Any]]:
    """Open a temporary file next to ``path``; on success fsync and rename it over ``path``.

    On an exception the temporary file is removed and ``path`` is left untouched. Inside
    :func:`deferred_fsync` the fsyncs are left to the end of the batch; inside
    :func:`unpublished_folder` a new file below that folder is written in place (and
    removed on an exception). ``durable=False`` renames without any fsync: for a record
    that is worthless after a crash (the experiment lock's holder), still never seen
    half-written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.txt"
    >>> with atomic_write(p, "w") as fh:
    ...     _ = fh.write("hello")
    >>> p.read_text()
    'hello'
    """
    target = Path(path)
    where = _written_in_place(target)
    opened = None if where is None else _create_in_place(where, None)
    if opened is None:
        with _replaced(target, mode, durable) as fh:
            yield fh
        return
    assert where is not None
    fd, old_size = opened
    try:
        with _filled(fd, mode, target, fsync=False, old_size=old_size) as fh:
            yield fh
    except BaseException as exc:
        _forget_in_place(where, exc, target)
        raise


def _forget_in_place(where: str, exc: BaseException, target: str | os.PathLike) -> None:
    """After ``exc`` while writing ``where`` in place: the file removed, a full disk's
    error raised again naming ``target``."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(where)
    _raise_named(exc, target)


@contextlib.contextmanager
def _replaced(target: Path, mode: str, durable: bool) -> Iterator[IO[Any]]:
    """A temporary file next to ``target`` for the caller to fill, renamed over it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with _filled(fd, mode, target, fsync=durable and not _FSYNC_DEFERRED.get()) as fh:
            yield fh
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        _raise_named(exc, target)
        raise
    if durable and not _FSYNC_DEFERRED.get():
        _fsync_dir(target.parent)


def _raise_named(exc: BaseException, target: str | os.PathLike) -> None:
    """Raise a full disk's error again naming ``target`` (a write to an open file names no
    path); return for any other exception."""
    if isinstance(exc, OSError) and exc.errno in _NO_SPACE and exc.filename is None:
        raise OSError(exc.errno, exc.strerror, str(target)) from exc


def _fsync_dir(folder: Path) -> None:
    # Makes the rename itself durable; not every platform allows opening a directory.
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# Inside recorded_writes(): absolute path -> (sha256, size) of each file written.
_RECORDED: contextvars.ContextVar[dict[str, tuple[str, int]] | None] = contextvars.ContextVar(
    "holopipe_recorded_writes", default=None
)


class recorded_writes:
    """Record ``(sha256, size)`` of every file :func:`atomic_write_bytes` writes inside.

    The digest is taken from the bytes as they are written, so a caller that needs the
    sha256 of what it wrote (the stage runner, for the manifest) never reads the file back.
    Keys are absolute paths (``os.path.abspath``, as :func:`recorded_key` gives them). A
    class, not a generator: a stage enters one per file it writes.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.txt"
    >>> with recorded_writes() as written:
    ...     atomic_write_bytes(p, b"hello")
    >>> written[os.path.abspath(p)] == (sha256_file(p), 5)
    True
    """

    __slots__ = ("_token", "written")

    def __enter__(self) -> dict[str, tuple[str, int]]:
        self.written: dict[str, tuple[str, int]] = {}
        self._token = _RECORDED.set(self.written)
        return self.written

    def __exit__(self, *exc: object) -> None:
        _RECORDED.reset(self._token)


def atomic_write_bytes(path: str | os.PathLike, data: bytes, durable: bool = True) -> None:
    """Write ``data`` to ``path`` atomically (hashed as written inside :func:`recorded_writes`;
    ``durable``: see :func:`atomic_write`)."""
    where = _written_in_place(path)
    # a new file below an unpublished folder: written in place (over a spare file where
    # one is left) with one write on the descriptor, no file object
    opened = None if where is None else _create_in_place(where, len(data))
    if opened is None:
        with _replaced(Path(path), "wb", durable) as fh:
            fh.write(data)
    else:
        assert where is not None
        fd, old_size = opened
        try:
            try:
                done = os.write(fd, data)
                while done < len(data):  # a short write (a signal, a nearly full disk)
                    done += os.write(fd, memoryview(data)[done:])
                _finish(fd, done, path, old_size)
            finally:
                os.close(fd)
        except BaseException as exc:
            _forget_in_place(where, exc, path)
            raise
    written = _RECORDED.get()
    if written is not None:
        import hashlib

        written[recorded_key(path)] = (hashlib.sha256(data).hexdigest(), len(data))


def _json_ready(value: Any) -> Any:
    """Convert numpy scalars/arrays and non-finite floats into JSON-safe values.

    JSON has no NaN or infinity; they are written as ``null`` so that every file we write
    parses with a strict reader.
    """
    import numpy as np

    if isinstance(value, Mapping):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    if isinstance(value, np.ndarray):
        return _json_ready(value.tolist())
    if isinstance(value, np.generic):
        return _json_ready(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def dumps_json(
    obj: Any, compact: bool = False, indented: Callable[..., str] = dumps_indented
) -> str:
    """Serialise ``obj`` deterministically: sorted keys, ``repr`` floats, trailing newline.

    ``compact`` drops the indentation, which lets Python use its C encoder: for large
    documents (a run manifest with thousands of files) it is several times faster.
    ``indented`` writes the indented text: :func:`~holopipe.artifacts.json_text.dumps_indented`
    or an encoder of the same text generated for one artifact type's documents
    (:func:`~holopipe.artifacts.json_layout.layout_encoder`).

    Examples
    --------
    >>> dumps_json({"b": 1, "a": 0.1})
    '{\\n  "a": 0.1,\\n  "b": 1\\n}\\n'
    >>> dumps_json({"b": 1, "a": 0.1}, compact=True)
    '{"a":0.1,"b":1}\\n'
    """
    if compact:
        encode = functools.partial(
            json.dumps, sort_keys=True, allow_nan=False, separators=(",", ":")
        )
    else:  # the stdlib's indented text, its flat parts by the C encoder
        encode = indented
    try:  # most documents have no NaN and no numpy object: no need to walk them first
        text = encode(obj, default=_numpy_value)
    except (ValueError, TypeError):
        text = encode(_json_ready(obj))
    return text + "\n"


def _numpy_value(value: Any) -> Any:
    """``json.dumps`` hook for the numpy objects the plain encoder does not know."""
    import numpy as np

    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


class JSONDecodeIssue(ValueError):
    """Raised by :func:`loads_json` with a message naming the line and column."""


def _reject_constant(token: str) -> float:
    raise JSONDecodeIssue(f"bare {token} token (not valid JSON; write null or a number)")


#: The one decoder :func:`loads_json` parses with: ``json.loads`` with a keyword builds a
#: decoder and its scanner per call (a stage parses thousands of small documents).
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def loads_json(text: str) -> Any:
    """Parse strict JSON: bare ``NaN``/``Infinity`` tokens are errors, not floats.

    Every failure is a :class:`JSONDecodeIssue` naming the line and the problem, a document
    nested deeper than the parser can follow included (never a ``RecursionError``).

    Examples
    --------
    >>> loads_json('{"a": [1, 2]}')
    {'a': [1, 2]}
    >>> loads_json('{"a": NaN}')
    Traceback (most recent call last):
    ...
    holopipe.artifacts.io.JSONDecodeIssue: bare NaN token (not valid JSON; write null or a number)
    """
    try:
        if isinstance(text, str) and not text.startswith("\ufeff"):  # else as json.loads says
            return _DECODER.decode(text)
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        raise JSONDecodeIssue(f"malformed JSON at {where}: {exc.msg}") from None
    except RecursionError:
        # The parser recurses once per level: a hostile document nested 100 000 deep.
        raise JSONDecodeIssue(
            "malformed JSON: nested too deeply (more levels than the parser allows)"
        ) from None


def npz_bytes(arrays: Mapping[str, np.ndarray]) -> bytes:
    """Serialise arrays as an uncompressed NPZ with sorted members and fixed timestamps.

    ``numpy.savez`` stamps the current time into each zip entry; this does not.
    """
    import numpy as np

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name in sorted(arrays):
            member = io.BytesIO()
            np.lib.format.write_array(member, np.asanyarray(arrays[name]), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_EPOCH)
            info.external_attr = 0o644 << 16
            archive.writestr(info, member.getvalue())
    return buffer.getvalue()


def sha256_file(path: str | os.PathLike, chunk_size: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes, read in chunks."""
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()
