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
- :func:`read_npy_header`, :func:`read_npz_members`: NPZ members checked member by member
  (declared shape and dtype) before their data are read, never unpickled;
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
import re
import stat
import struct
import zipfile
from typing import IO, Any

import numpy as np

from holopipe.artifacts.report import ValidationReport

__all__ = [
    "DEFAULT_MAX_ARRAY_BYTES",
    "MAX_ARRAY_BYTES_ENV",
    "MAX_ZIP_MEMBERS",
    "NpyHeader",
    "UnsafeFile",
    "file_problem",
    "forget_sniffed_zip",
    "max_array_bytes",
    "netcdf_attributes",
    "netcdf_declared_bytes",
    "netcdf_value",
    "open_netcdf",
    "open_regular",
    "open_zip",
    "read_all_bounded",
    "read_bytes_bounded",
    "read_npy_header",
    "read_npz_members",
    "read_text_bounded",
    "stat_regular",
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
    problem = file_problem(path)
    if problem is not None:
        raise UnsafeFile(*problem)
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | os.O_CLOEXEC
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise UnsafeFile("unreadable", f"cannot be opened: {exc.strerror}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise UnsafeFile("not_regular_file", f"{_kind(mode)}, not a regular file: not read")
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


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
    """The bytes of a regular file no larger than ``limit`` (default :func:`max_array_bytes`)."""
    with open_regular(path) as fh:
        return read_all_bounded(fh, limit)


def read_text_bounded(path: str | os.PathLike, limit: int | None = None) -> str:
    """:func:`read_bytes_bounded` decoded as UTF-8 (``UnicodeDecodeError`` when it is not)."""
    return read_bytes_bounded(path, limit).decode("utf-8")


class NpyHeader:
    """What a ``.npy`` header declares: shape, dtype and memory order."""

    __slots__ = ("dtype", "fortran_order", "shape")

    def __init__(self, shape: tuple[int, ...], dtype: np.dtype, fortran_order: bool) -> None:
        self.shape = shape
        self.dtype = dtype
        self.fortran_order = fortran_order

    @property
    def count(self) -> int:
        return math.prod(self.shape)

    @property
    def nbytes(self) -> int:
        """Bytes the data would take (exact integers: no overflow for absurd shapes)."""
        return self.count * self.dtype.itemsize

    def describe(self) -> str:
        return f"shape {self.shape} {self.dtype}"


class NotNpy(ValueError):
    """The stream does not start with the ``.npy`` magic string."""


class CorruptNpy(ValueError):
    """The ``.npy`` header cannot be parsed."""


#: The header numpy writes (``numpy.lib.format.write_array_header``): a dict literal in
#: exactly this form, padded with spaces. It is read with this expression; any other header
#: (structured dtypes, Python 2 files, hand-made ones) goes to numpy's own parser.
_CANONICAL_HEADER = re.compile(
    r"\{'descr': '([<>|=][a-zA-Z][0-9]*)', 'fortran_order': (True|False), "
    r"'shape': \((|[0-9]+,|[0-9]+(?:, [0-9]+)+)\), \} *\n"
)
#: numpy refuses longer headers as unsafe to parse (``max_header_size``); so does this.
_MAX_HEADER_SIZE = 10_000
#: Per ``.npy`` format version: the size of its header length field, its header encoding.
_VERSIONS = {(1, 0): (2, "latin-1"), (2, 0): (4, "latin-1"), (3, 0): (4, "utf-8")}


def read_npy_header(fh: IO[bytes]) -> NpyHeader:
    """Parse a ``.npy`` header from ``fh`` (left at the start of the data).

    The header numpy writes is read by a regular expression (numpy's parser compiles it as
    Python code: most of the time of reading a small array); any other is parsed by numpy,
    whose parser raises a different exception for the same damage on each Python
    (``ValueError``, ``SyntaxError``, ``tokenize.TokenError`` on 3.12+, ...): every failure
    becomes :class:`CorruptNpy`; a stream that is not ``.npy`` at all is :class:`NotNpy`.

    Examples
    --------
    >>> import io
    >>> buffer = io.BytesIO()
    >>> np.save(buffer, np.zeros((2, 3)))
    >>> _ = buffer.seek(0)
    >>> read_npy_header(buffer).describe()
    'shape (2, 3) float64'
    """
    magic = fh.read(6)
    if magic != b"\x93NUMPY":
        raise NotNpy("not a .npy array")
    version = tuple(fh.read(2))
    if version not in _VERSIONS:
        raise CorruptNpy(f"corrupt .npy header (format version {version!r})")
    length_bytes, encoding = _VERSIONS[version]
    raw_length = fh.read(length_bytes)
    length = int.from_bytes(raw_length, "little")
    if length > _MAX_HEADER_SIZE:
        raise CorruptNpy(f"corrupt .npy header (declares a {length}-byte header)")
    raw = fh.read(length)
    if len(raw_length) != length_bytes or len(raw) != length:
        raise CorruptNpy("corrupt .npy header (cut short)")
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError:
        raise CorruptNpy("corrupt .npy header (not utf-8)") from None
    match = _CANONICAL_HEADER.fullmatch(text)
    if match is None:
        return _numpy_header(text)
    descr, fortran, dims = match.groups()
    try:
        dtype = np.dtype(descr)
    except TypeError as exc:
        raise CorruptNpy(f"corrupt .npy header (descr {descr!r}: {exc})") from None
    shape = tuple(int(n) for n in dims.split(",") if n.strip())
    return NpyHeader(shape, dtype, fortran == "True")


def _numpy_header(text: str) -> NpyHeader:
    """numpy's parser on a header text that is not in numpy's own form."""
    try:
        body = text.encode("latin-1")  # a 1.0 header (at most 10 000 bytes: it fits)
        stream = io.BytesIO(len(body).to_bytes(2, "little") + body)
        shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(stream)
    except Exception as exc:  # noqa: BLE001 - any parser failure is damage, see read_npy_header
        raise CorruptNpy(f"corrupt .npy header ({type(exc).__name__}: {exc})") from None
    if not all(isinstance(n, int) and n >= 0 for n in shape):
        raise CorruptNpy(f"corrupt .npy header (shape {shape!r})")
    return NpyHeader(tuple(shape), np.dtype(dtype), bool(fortran_order))


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


def _read_data(member: IO[bytes], header: NpyHeader) -> np.ndarray:
    """The array data after a parsed header, read straight into a preallocated array (from
    memory: copied out of the member's bytes)."""
    if isinstance(member, io.BytesIO):
        at = member.tell()
        if len(member.getbuffer()) - at < header.nbytes:
            raise EOFError(
                f"data cut short: {len(member.getbuffer()) - at} of {header.nbytes} bytes"
            )
        flat = np.frombuffer(member.getbuffer(), header.dtype, header.count, at).copy()
        order = "F" if header.fortran_order else "C"
        return flat.reshape(header.shape, order=order)
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


#: A zip up to this size is read into memory at once: zipfile seeks and reads in small
#: pieces (local headers, names, data), which from memory cost little; larger ones are read
#: where they are.
_IN_MEMORY_ZIP_BYTES = 1 << 20

#: The last small zip parsed by the sniff, by file identity (device, inode, size, mtime,
#: ctime): the reader that follows takes it, so a file is read and parsed once per command.
_SNIFFED_ZIP: dict[tuple[int, ...], tuple[int | None, zipfile.ZipFile | None]] = {}


def open_zip(fh: IO[bytes], *, keep: bool = False) -> tuple[int | None, zipfile.ZipFile | None]:
    """The member count a zip declares (:func:`zip_member_count`) and the archive, ``None``
    when it declares more than :data:`MAX_ZIP_MEMBERS` (the table is then not parsed).

    A small zip is read whole into memory. ``keep=True`` (the sniff) keeps it parsed for the
    next call about the same file, which takes it. Raises zipfile's and the OS's errors.
    """
    st = os.fstat(fh.fileno())
    identity = _identity(st)
    kept = _SNIFFED_ZIP.pop(identity, None)
    if kept is not None:
        return kept
    source = fh
    if st.st_size <= _IN_MEMORY_ZIP_BYTES:
        fh.seek(0)
        source = io.BytesIO(fh.read(_IN_MEMORY_ZIP_BYTES + 1))
    count = zip_member_count(source)
    archive = None if count is not None and count > MAX_ZIP_MEMBERS else zipfile.ZipFile(source)
    if keep and source is not fh:
        _SNIFFED_ZIP.clear()
        _SNIFFED_ZIP[identity] = (count, archive)
    return count, archive


def _identity(st: os.stat_result) -> tuple[int, ...]:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _sniffed_zip_of(path: str | os.PathLike) -> tuple[int | None, zipfile.ZipFile | None] | None:
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
    count: int | None, archive: zipfile.ZipFile | None, report: ValidationReport, limit: int
) -> dict[str, np.ndarray] | None:
    if archive is None:
        report.error("too_large", "<file>", f"declares {count} members, over {MAX_ZIP_MEMBERS}")
        return None
    members: dict[str, np.ndarray] = {}
    budget = limit
    with archive:
        for info in sorted(archive.infolist(), key=lambda i: i.filename):
            key = info.filename.removesuffix(".npy")
            value = _read_member(archive, info, key, budget, limit, report)
            if value is not None:
                members[key] = value
                budget -= value.nbytes
    return members


#: A member whose declared size is at most this is read in one call (header and data
#: parsed from memory: zipfile's reads cost more than the bytes); larger ones stream.
_WHOLE_MEMBER_BYTES = 1 << 20


def _read_member(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    key: str,
    budget: int,
    limit: int,
    report: ValidationReport,
) -> np.ndarray | None:
    try:
        with archive.open(info) as opened:
            # Read whole (past its declared end, so the zip CRC is checked) or streamed.
            small = info.file_size <= _WHOLE_MEMBER_BYTES
            member = io.BytesIO(opened.read(info.file_size + 1)) if small else opened
            header = read_npy_header(member)
            if header.dtype.hasobject:
                report.error(
                    "object_array",
                    key,
                    "stored as an object array, which needs pickle: not loaded (never unpickled)",
                )
                return None
            if header.nbytes > budget:
                report.error(
                    "too_large",
                    key,
                    f"declares {header.describe()} = {header.nbytes} bytes, over the limit of "
                    f"{limit} bytes per file ({MAX_ARRAY_BYTES_ENV})",
                )
                return None
            return _read_data(member, header)
    except NotNpy:
        report.error("wrong_type", key, "member is not a .npy array (raw bytes)")
    except CorruptNpy as exc:
        report.error("unreadable", key, f"member cannot be read: {exc}")
    except (ValueError, TypeError) as exc:
        report.error("unreadable", key, f"member cannot be read (corrupt .npy?): {exc}")
    except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError) as exc:
        report.error("unreadable", key, f"member cannot be read (truncated?): {exc}")
    return None


def netcdf_declared_bytes(ds: Any) -> list[tuple[str, int, str]]:
    """Every variable of an open netCDF4 dataset (all groups) with the bytes it declares.

    Only metadata is read (dimensions, dtype): ``(path, bytes, description)``, largest
    first. A variable-length type counts 16 bytes per element (its table of pointers).
    """
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

    >>> netcdf_value(np.array([3], dtype=np.int32)), netcdf_value(b"ads")
    (3, 'ads')
    """
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
