"""Reading untrusted files safely: regular files only, never blocking, in bounded memory.

A file handed to ``holopipe validate``, to an artifact reader or to the legacy importer may
be hostile: a FIFO that blocks the first ``open`` forever, a 34 KB HDF5 file whose dataset
declares 2e9 elements, an NPZ member whose header claims 1e11 float64, a zip with millions
of members. Every reader goes through these helpers, which turn each case into an
:class:`UnsafeFile` (an ``OSError`` carrying a finding code) before anything large is
allocated:

- :func:`file_problem` and :func:`open_regular`: only regular files are opened, and with
  ``O_NONBLOCK``, so a FIFO swapped in after the check cannot block either;
- :func:`max_array_bytes`: the limit on the bytes one file may hold or declare, from the
  setting ``HOLOPIPE_MAX_ARRAY_BYTES`` (default :data:`DEFAULT_MAX_ARRAY_BYTES`, 256 MiB);
- :func:`read_bytes_bounded` / :func:`read_text_bounded`: whole-file reads under the limit;
- :func:`read_npz_members`: NPZ members checked member by member
  (declared shape and dtype, :mod:`~holopipe.artifacts.npy_header`) before their data
  are read, never unpickled; a small NPZ is
  read in one call and, when its members are stored (as holopipe and ``numpy.savez`` write
  them), parsed from that buffer without zipfile (:mod:`~holopipe.artifacts.stored_zip`);
- :func:`netcdf_declared_bytes`: the bytes a netCDF4/HDF5 file's variables declare, to
  compare with the limit before reading any of them.

Examples
--------
>>> import os, tempfile
>>> folder = tempfile.mkdtemp()
>>> fifo = os.path.join(folder, "pipe")
>>> os.mkfifo(fifo)
>>> file_problem(fifo)
('not_regular_file', 'a FIFO (named pipe), not a regular file: not read')
>>> with open(os.path.join(folder, "x.json"), "w") as fh:
...     _ = fh.write('{"a": 1}')
>>> read_text_bounded(os.path.join(folder, "x.json"), limit=100)
'{"a": 1}'
>>> read_text_bounded(os.path.join(folder, "x.json"), limit=4)
Traceback (most recent call last):
...
holopipe.artifacts.safety.UnsafeFile: 8 bytes, over the limit of 4 bytes (HOLOPIPE_MAX_ARRAY_BYTES)
"""

from __future__ import annotations

import fcntl
import io
import math
import os
import stat
import struct
import zipfile
from typing import IO, TYPE_CHECKING, Any

from holopipe.artifacts.npy_header import (
    CorruptNpy,
    NotNpy,
    NpyHeader,
    npy_header_at,
    read_npy_header,
)
from holopipe.artifacts.report import ValidationReport
from holopipe.artifacts.stored_zip import StoredZip, parse_stored_zip

if TYPE_CHECKING:  # numpy is imported where arrays are read (start-up time)
    import numpy as np

__all__ = [
    "DEFAULT_MAX_ARRAY_BYTES",
    "MAX_ARRAY_BYTES_ENV",
    "MAX_ZIP_MEMBERS",
    "OpenedZip",
    "UnsafeFile",
    "file_problem",
    "forget_sniffed_zip",
    "keep_sniffed_zip",
    "max_array_bytes",
    "netcdf_attributes",
    "netcdf_declared_bytes",
    "netcdf_value",
    "open_netcdf",
    "open_regular",
    "open_zip",
    "read_all_bounded",
    "read_bytes_bounded",
    "read_npz_members",
    "read_text_bounded",
    "stat_regular",
    "zip_in_memory",
    "zip_member_count",
]

#: The setting that bounds the bytes one file may hold or declare (an integer, in bytes).
MAX_ARRAY_BYTES_ENV = "HOLOPIPE_MAX_ARRAY_BYTES"
#: Its default: 256 MiB, far above any artifact holopipe writes, far below the machine.
DEFAULT_MAX_ARRAY_BYTES = 256 * 1024**2
#: More members than this in one zip (NPZ) is ``too_large``: the member table alone would
#: cost memory in proportion.
MAX_ZIP_MEMBERS = 4096

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


class UnsafeFile(OSError):
    """A file refused before it is read; ``code`` is the finding code, ``message`` why.

    Codes: ``missing_file``, ``dangling_link``, ``not_regular_file``, ``too_large``,
    ``unreadable``.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return self.message

    def record(self, report: ValidationReport, location: str = "<file>") -> None:
        """Add this refusal to ``report`` as an error at ``location``."""
        report.error(self.code, location, self.message)


def max_array_bytes() -> int:
    """The limit on the bytes one file may hold or declare: ``HOLOPIPE_MAX_ARRAY_BYTES``.

    Raises
    ------
    ValueError
        The setting is not a positive whole number of bytes (``2e8`` is accepted).

    Examples
    --------
    >>> max_array_bytes() == DEFAULT_MAX_ARRAY_BYTES or MAX_ARRAY_BYTES_ENV in os.environ
    True
    """
    raw = os.environ.get(MAX_ARRAY_BYTES_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_ARRAY_BYTES
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 1 or value != int(value):
        raise ValueError(
            f"{MAX_ARRAY_BYTES_ENV}={raw!r}: expected a positive whole number of bytes"
        )
    return int(value)


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def file_problem(path: str | os.PathLike) -> tuple[str, str] | None:
    """Why ``path`` must not be opened as a file (code, message), or ``None`` if it is one.

    Links are followed (a link to a regular file is fine); nothing is opened.
    """
    return stat_regular(path)[1]


def stat_regular(path: str | os.PathLike) -> tuple[os.stat_result | None, tuple[str, str] | None]:
    """``(stat, None)`` of a regular file, else ``(stat or None, problem)`` as
    :func:`file_problem` says it: one ``stat`` for the check and the file's identity."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            target = os.readlink(path)
            return None, ("dangling_link", f"symbolic link to {target!r}, which does not exist")
        return None, ("missing_file", "file does not exist")
    except OSError as exc:
        reason = "symbolic link loop" if exc.errno == 40 else exc.strerror
        return None, ("unreadable", f"cannot be examined: {reason}")
    if stat.S_ISREG(st.st_mode):
        return st, None
    return st, ("not_regular_file", f"{_kind(st.st_mode)}, not a regular file: not read")


def open_regular(path: str | os.PathLike) -> IO[bytes]:
    """Open a regular file for binary reading; anything else is an :class:`UnsafeFile`.

    The file is opened with ``O_NONBLOCK`` and checked again on the open descriptor, so a
    FIFO put in its place after :func:`file_problem` cannot block the open.
    """
    fd, _ = _open_regular_fd(path)
    try:
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _open_regular_fd(path: str | os.PathLike) -> tuple[int, os.stat_result]:
    """A descriptor (``O_NONBLOCK``) of a regular file and its fstat; else :class:`UnsafeFile`.

    The path is checked before the open and the descriptor after it, so a FIFO put in its
    place after :func:`file_problem` cannot block the open.
    """
    problem = file_problem(path)
    if problem is not None:
        raise UnsafeFile(*problem)
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | os.O_CLOEXEC
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise UnsafeFile("unreadable", f"cannot be opened: {exc.strerror}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UnsafeFile(
                "not_regular_file", f"{_kind(st.st_mode)}, not a regular file: not read"
            )
    except BaseException:
        os.close(fd)
        raise
    return fd, st


def _too_large(size: int, limit: int) -> UnsafeFile:
    return UnsafeFile(
        "too_large", f"{size} bytes, over the limit of {limit} bytes ({MAX_ARRAY_BYTES_ENV})"
    )


def read_all_bounded(fh: IO[bytes], limit: int | None = None) -> bytes:
    """All bytes of an open file (from the start), refused when over ``limit``."""
    limit = max_array_bytes() if limit is None else limit
    size = os.fstat(fh.fileno()).st_size
    if size > limit:
        raise _too_large(size, limit)
    fh.seek(0)
    # read(n) allocates n bytes up front: ask for what is there (and one more, to see growth).
    data = fh.read(size + 1)
    if len(data) > size:  # it grew while we read: read on, never past the limit
        data += fh.read(limit + 1 - len(data))
    if len(data) > limit:
        raise _too_large(len(data), limit)
    return data


def read_bytes_bounded(path: str | os.PathLike, limit: int | None = None) -> bytes:
    """The bytes of a regular file no larger than ``limit`` (default :func:`max_array_bytes`).

    As :func:`open_regular` then :func:`read_all_bounded`, on the descriptor itself (stat,
    open, fstat, read to the end, close): a stage reads thousands of small files this way.
    ``O_NONBLOCK`` stays set: it changes nothing for the regular file this reads.
    """
    fd, st = _open_regular_fd(path)
    try:
        limit = max_array_bytes() if limit is None else limit
        if st.st_size > limit:
            raise _too_large(st.st_size, limit)
        chunks = []
        size = 0
        while chunk := os.read(fd, max(st.st_size + 1 - size, 1 << 16)):  # to the end
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:  # it grew while we read: never past the limit
                raise _too_large(size, limit)
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)
    finally:
        os.close(fd)


def read_text_bounded(path: str | os.PathLike, limit: int | None = None) -> str:
    """:func:`read_bytes_bounded` decoded as UTF-8 (``UnicodeDecodeError`` when it is not)."""
    return read_bytes_bounded(path, limit).decode("utf-8")


def zip_member_count(fh: IO[bytes]) -> int | None:
    """Members a zip declares in its end record, read without parsing the member table.

    ``None`` when no end record is found (not a zip, or damaged); a zip64 archive reports
    its 64-bit count.
    """
    size = fh.seek(0, os.SEEK_END)
    tail_len = min(size, 22 + 65535)
    fh.seek(size - tail_len)
    tail = fh.read(tail_len)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        return None
    count = struct.unpack("<H", tail[at + 10 : at + 12])[0]
    if count == 0xFFFF:
        locator = tail.rfind(b"PK\x06\x07", 0, at)
        if locator < 0:
            return None
        offset = struct.unpack("<Q", tail[locator + 8 : locator + 16])[0]
        fh.seek(offset)
        record = fh.read(56)
        if record[:4] != b"PK\x06\x06" or len(record) < 56:
            return None
        count = struct.unpack("<Q", record[32:40])[0]
    fh.seek(0)
    return count


def _read_streamed(member: IO[bytes], header: NpyHeader) -> np.ndarray:
    """The array data after a parsed header, read straight from the member into a
    preallocated array (a member too large to be read whole)."""
    import numpy as np

    flat = np.empty(header.count, dtype=header.dtype)
    view = memoryview(flat.view(np.uint8))
    done = 0
    while done < header.nbytes:
        got = member.readinto(view[done:])
        if not got:
            raise EOFError(f"data cut short: {done} of {header.nbytes} bytes")
        done += got
    member.read(1)  # reach the end of the member: the zip CRC is checked there
    order = "F" if header.fortran_order else "C"
    return flat.reshape(header.shape, order=order)


#: A zip up to this size is read into memory at once and parsed there (without zipfile when
#: its members are stored: :mod:`~holopipe.artifacts.stored_zip`); larger ones are read
#: where they are.
_IN_MEMORY_ZIP_BYTES = 1 << 20

#: An open zip: the member count its end record declares and the archive, ``None`` when it
#: declares more than :data:`MAX_ZIP_MEMBERS`.
OpenedZip = tuple[int | None, zipfile.ZipFile | StoredZip | None]

#: The last small zip parsed by the sniff, by file identity (device, inode, size, mtime,
#: ctime): the reader that follows takes it, so a file is read and parsed once per command.
_SNIFFED_ZIP: dict[tuple[int, ...], OpenedZip] = {}


def open_zip(fh: IO[bytes]) -> OpenedZip:
    """The member count a zip declares (:func:`zip_member_count`) and the archive, ``None``
    when it declares more than :data:`MAX_ZIP_MEMBERS` (the table is then not parsed).

    A small zip is read whole into memory (:func:`zip_in_memory`); the one the sniff kept
    for this file (:func:`keep_sniffed_zip`) is taken instead. Raises zipfile's and the
    OS's errors.
    """
    st = os.fstat(fh.fileno())
    kept = _SNIFFED_ZIP.pop(_identity(st), None)
    if kept is not None:
        return kept
    if st.st_size <= _IN_MEMORY_ZIP_BYTES:
        fh.seek(0)
        data = fh.read(st.st_size + 1)
        if len(data) <= st.st_size:  # else it grew while read: read it where it is
            return zip_in_memory(data)
    count = zip_member_count(fh)
    return count, None if count is not None and count > MAX_ZIP_MEMBERS else zipfile.ZipFile(fh)


def zip_in_memory(data: bytes) -> OpenedZip:
    """:func:`open_zip` of a whole zip's bytes: parsed directly when every member is stored
    and the archive is plain (:func:`~holopipe.artifacts.stored_zip.parse_stored_zip`),
    by zipfile otherwise."""
    stored = parse_stored_zip(data, MAX_ZIP_MEMBERS)
    if stored is not None:
        return len(stored.namelist()), stored
    source = io.BytesIO(data)
    count = zip_member_count(source)
    if count is not None and count > MAX_ZIP_MEMBERS:
        return count, None
    return count, zipfile.ZipFile(source)


def keep_sniffed_zip(fh: IO[bytes], opened: OpenedZip) -> None:
    """Keep the zip the sniff parsed from ``fh`` for the reader of the same file, which
    takes it (one zip kept at a time)."""
    _SNIFFED_ZIP.clear()
    _SNIFFED_ZIP[_identity(os.fstat(fh.fileno()))] = opened


def _identity(st: os.stat_result) -> tuple[int, ...]:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _sniffed_zip_of(path: str | os.PathLike) -> OpenedZip | None:
    """The zip the sniff kept for ``path`` (taken: used once), if it is still that file."""
    if not _SNIFFED_ZIP:
        return None
    st, problem = stat_regular(path)
    return None if st is None or problem else _SNIFFED_ZIP.pop(_identity(st), None)


def forget_sniffed_zip() -> None:
    """Forget the zip kept by the sniff (``sniff.clear_cache`` calls it)."""
    _SNIFFED_ZIP.clear()


def read_npz_members(
    path: str | os.PathLike, report: ValidationReport, limit: int | None = None
) -> dict[str, np.ndarray] | None:
    """Every member of an NPZ file as an array, never unpickled, in bounded memory.

    Each member's header is read and checked first: an object array (which would need
    pickle) is ``object_array``; a corrupt header ``unreadable``; a member that is not
    ``.npy`` ``wrong_type``; declared data beyond what is left of ``limit`` (default
    :func:`max_array_bytes`, for the whole file) ``too_large``. Such members are skipped.
    ``None`` when the file is not a readable zip at all.
    """
    limit = max_array_bytes() if limit is None else limit
    kept = _sniffed_zip_of(path)  # the file as the sniff just read it
    if kept is not None:
        return _npz_members(*kept, report, limit)
    try:
        fh = open_regular(path)
    except UnsafeFile as exc:
        exc.record(report)
        return None
    with fh:
        try:
            count, archive = open_zip(fh)
        except (zipfile.BadZipFile, EOFError, ValueError, OSError, NotImplementedError) as exc:
            report.error("unreadable", "<file>", f"not a readable NPZ archive (truncated?): {exc}")
            return None
        return _npz_members(count, archive, report, limit)


def _npz_members(
    count: int | None,
    archive: zipfile.ZipFile | StoredZip | None,
    report: ValidationReport,
    limit: int,
) -> dict[str, np.ndarray] | None:
    if archive is None:
        report.error("too_large", "<file>", f"declares {count} members, over {MAX_ZIP_MEMBERS}")
        return None
    members: dict[str, np.ndarray] = {}
    budget = limit
    if isinstance(archive, StoredZip):  # every member's bytes already checked (CRC)
        for name, data in sorted(archive.entries(), key=_entry_name):
            key = name.removesuffix(".npy")
            value = _member_array(data, key, budget, limit, report)
            if value is not None:
                members[key] = value
                budget -= value.nbytes
        return members
    with archive:
        for info in sorted(archive.infolist(), key=lambda i: i.filename):
            key = info.filename.removesuffix(".npy")
            value = _read_member(archive, info, key, budget, limit, report)
            if value is not None:
                members[key] = value
                budget -= value.nbytes
    return members


def _entry_name(entry: tuple[str, memoryview]) -> str:
    return entry[0]


#: A member whose declared size is at most this is read in one call (header and data
#: parsed from memory: zipfile's reads cost more than the bytes); larger ones stream.
_WHOLE_MEMBER_BYTES = 1 << 20

#: The flag bit of an encrypted zip member (zipfile would ask for a password).
_ENCRYPTED = 0x1

#: What reading a member may raise, each a finding about that member (_member_problem).
_MEMBER_ERRORS = (
    NotNpy,
    CorruptNpy,
    ValueError,
    TypeError,
    zipfile.BadZipFile,
    EOFError,
    OSError,
    NotImplementedError,
)


def _read_member(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    key: str,
    budget: int,
    limit: int,
    report: ValidationReport,
) -> np.ndarray | None:
    """A member read through zipfile: whole (past its declared end, so that the zip CRC is
    checked) and parsed from memory like a stored zip's, or streamed when large."""
    if info.flag_bits & _ENCRYPTED:
        report.error("unreadable", key, "member is encrypted: not read (no password is asked)")
        return None
    try:
        with archive.open(info) as opened:
            if info.file_size <= _WHOLE_MEMBER_BYTES:
                data = opened.read(info.file_size + 1)
            else:
                header = read_npy_header(opened)
                if not _admitted(header, key, budget, limit, report):
                    return None
                return _read_streamed(opened, header)
    except _MEMBER_ERRORS as exc:
        _member_problem(exc, key, report)
        return None
    return _member_array(data, key, budget, limit, report)


def _member_array(
    data: bytes | memoryview, key: str, budget: int, limit: int, report: ValidationReport
) -> np.ndarray | None:
    """The array a whole member's bytes hold (copied out of them), or ``None`` with the
    finding that says why not."""
    import numpy as np

    try:
        header, at = npy_header_at(data)
        if not _admitted(header, key, budget, limit, report):
            return None
        if len(data) - at < header.nbytes:
            raise EOFError(f"data cut short: {len(data) - at} of {header.nbytes} bytes")
        flat = np.frombuffer(data, header.dtype, header.count, at).copy()
        return flat.reshape(header.shape, order="F" if header.fortran_order else "C")
    except _MEMBER_ERRORS as exc:
        _member_problem(exc, key, report)
        return None


def _admitted(
    header: NpyHeader, key: str, budget: int, limit: int, report: ValidationReport
) -> bool:
    """Whether a member's data may be read: not an object array (never unpickled), and
    within what is left of the file's byte ``budget``."""
    if header.dtype.hasobject:
        report.error(
            "object_array",
            key,
            "stored as an object array, which needs pickle: not loaded (never unpickled)",
        )
        return False
    if header.nbytes > budget:
        report.error(
            "too_large",
            key,
            f"declares {header.describe()} = {header.nbytes} bytes, over the limit of "
            f"{limit} bytes per file ({MAX_ARRAY_BYTES_ENV})",
        )
        return False
    return True


def _member_problem(exc: Exception, key: str, report: ValidationReport) -> None:
    """The finding for a member that could not be read."""
    if isinstance(exc, NotNpy):
        report.error("wrong_type", key, "member is not a .npy array (raw bytes)")
    elif isinstance(exc, CorruptNpy):
        report.error("unreadable", key, f"member cannot be read: {exc}")
    elif isinstance(exc, (ValueError, TypeError)):
        report.error("unreadable", key, f"member cannot be read (corrupt .npy?): {exc}")
    else:
        report.error("unreadable", key, f"member cannot be read (truncated?): {exc}")


def netcdf_declared_bytes(ds: Any) -> list[tuple[str, int, str]]:
    """Every variable of an open netCDF4 dataset (all groups) with the bytes it declares.

    Only metadata is read (dimensions, dtype): ``(path, bytes, description)``, largest
    first. A variable-length type counts 16 bytes per element (its table of pointers).
    """
    import numpy as np

    found = []
    groups = [("", ds)]
    while groups:
        prefix, group = groups.pop()
        for name, var in group.variables.items():
            dtype = var.dtype
            itemsize = dtype.itemsize if isinstance(dtype, np.dtype) else 16
            shape = tuple(int(n) for n in var.shape)
            found.append((f"{prefix}{name}", math.prod(shape) * itemsize, f"shape {shape} {dtype}"))
        groups.extend((f"{prefix}{name}/", child) for name, child in group.groups.items())
    return sorted(found, key=lambda item: -item[1])


def netcdf_value(value: Any) -> Any:
    """A netCDF attribute or scalar as plain Python (numpy scalars and 1-element arrays
    unwrapped, bytes decoded).

    >>> import numpy as np
    >>> netcdf_value(np.array([3], dtype=np.int32)), netcdf_value(b"ads")
    (3, 'ads')
    """
    import numpy as np

    if isinstance(value, np.ndarray):
        return value.item() if value.size == 1 else value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def netcdf_attributes(node: Any) -> dict[str, Any]:
    """Every attribute of an open netCDF4 group or variable, as plain Python."""
    return {name: netcdf_value(node.getncattr(name)) for name in node.ncattrs()}


def open_netcdf(path: str | os.PathLike) -> Any:
    """Open a netCDF4/HDF5 file read-only, after the regular-file check of :func:`open_regular`.

    A name that is not valid UTF-8 cannot be handed to the C library: such a file is opened
    through its descriptor (``/proc/self/fd``) instead. The caller closes the dataset.
    """
    import netCDF4

    with open_regular(path) as fh:
        name = os.fspath(path)
        try:
            name.encode("utf-8")
        except UnicodeEncodeError:
            name = f"/proc/self/fd/{fh.fileno()}"
        return netCDF4.Dataset(name, "r")
