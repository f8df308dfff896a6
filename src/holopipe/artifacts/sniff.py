"""What a file is, from its content: container format, declared schema, content signature.

Each artifact type's ``guess_can_open`` asks :func:`sniff`; the answer is cached per file
(path plus its stat identity: device, inode, size, mtime, ctime), so that asking every
registered type opens and reads the file once per command, and a file rewritten in between
is sniffed again. Sniffing reads through :mod:`holopipe.artifacts.safety`: only regular
files, in bounded memory; pickles are recognised by their magic bytes (``\\x80``, or a zip
holding ``data.pkl`` as PyTorch writes them) and never unpickled.

Examples
--------
>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "hall_of_fame.csv").write_text("Complexity,Loss,Equation\\n1,0.5,x0\\n")
>>> found = sniff(folder / "hall_of_fame.csv")
>>> found.container, found.signature, found.declared_schema
('csv', ('Complexity', 'Loss', 'Equation'), None)
>>> _ = (folder / "model.pt").write_bytes(b"\\x80\\x04\\x95...")
>>> sniff(folder / "model.pt").container
'pickle'
"""

from __future__ import annotations

import csv
import functools
import io
import os
import zipfile
from typing import Any

import attrs

from holopipe.artifacts.io import JSONDecodeIssue, loads_json
from holopipe.artifacts.npy_header import CorruptNpy, NotNpy, npy_header_at
from holopipe.artifacts.safety import (
    UnsafeFile,
    forget_sniffed_zip,
    keep_sniffed_zip,
    open_netcdf,
    open_regular,
    open_zip,
    read_all_bounded,
    stat_regular,
    zip_in_memory,
)
from holopipe.artifacts.stored_zip import StoredZip

__all__ = ["HDF5_MAGIC", "ZIP_MAGIC", "Sniffed", "clear_cache", "sniff", "sniff_format"]

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
ZIP_MAGIC = b"PK\x03\x04"
_PICKLE_MAGIC = b"\x80"
# The embedded meta of an NPZ artifact is a small JSON string; more than this is not ours.
_MAX_META_BYTES = 1 << 20
#: Magic, version, length field and the longest header numpy reads (10 000 bytes).
_MAX_NPY_HEADER_BYTES = 10_016
#: A file up to this size is read whole by its first read (what a small zip is parsed from).
_WHOLE_FILE_BYTES = 1 << 20


@attrs.frozen
class Sniffed:
    """What :func:`sniff` found out about one file."""

    #: ``hdf5``, ``zip``, ``pickle``, ``json``, ``csv`` or ``None`` (not a known container).
    container: str | None
    #: The ``schema_name`` the file itself declares (JSON document, NPZ ``meta_json``, netCDF
    #: root attribute), if any.
    declared_schema: str | None = None
    #: The content's shape, for types recognised without a declaration: a CSV's header
    #: columns, a zip's member names, an HDF5 file's root group names.
    signature: tuple[str, ...] = ()
    #: The container is recognised but its structure cannot be read (truncated, damaged).
    damaged: bool = False
    #: Why a JSON-looking file does not parse (``None`` when it parses or is not JSON).
    json_error: str | None = None
    #: ``(code, message)`` when the file was not read at all (FIFO, missing, too large...).
    problem: tuple[str, str] | None = None


def sniff_format(path: str | os.PathLike) -> str | None:
    """The container format of ``path`` (see :attr:`Sniffed.container`)."""
    return sniff(path).container


def sniff(path: str | os.PathLike) -> Sniffed:
    """Sniff ``path`` once (cached per file identity); never raises on bad content."""
    st, problem = stat_regular(path)
    if problem is not None:
        return Sniffed(container=None, problem=problem)
    return _sniff_cached(
        str(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns
    )


@functools.lru_cache(maxsize=1024)
def _sniff_cached(path: str, *identity: int) -> Sniffed:
    try:
        with open_regular(path) as fh:
            size = identity[2]
            # A small file is read whole at once (a zip is then parsed from these bytes).
            data = fh.read(size + 1) if size <= _WHOLE_FILE_BYTES else None
            head = data[:512] if data is not None else fh.read(512)
            if head.startswith(HDF5_MAGIC):
                return _sniff_hdf5(path)
            if head.startswith(ZIP_MAGIC):
                return _sniff_zip(fh, data if data is not None and len(data) <= size else None)
            if head.startswith(_PICKLE_MAGIC):
                return Sniffed(container="pickle")
            if head.lstrip()[:1] in (b"{", b"["):
                return _sniff_json(fh)
            first_line = head.split(b"\n", 1)[0]
            if b"," in first_line:
                return _sniff_csv(first_line)
            return Sniffed(container=None)
    except UnsafeFile as exc:
        return Sniffed(container=None, problem=(exc.code, exc.message))


def _sniff_json(fh: Any) -> Sniffed:
    try:
        data = read_all_bounded(fh)
    except UnsafeFile as exc:
        return Sniffed(container="json", problem=(exc.code, exc.message))
    try:
        doc = loads_json(data.decode("utf-8"))
    except UnicodeDecodeError:
        return Sniffed(container="json", damaged=True, json_error="not UTF-8 text")
    except JSONDecodeIssue as exc:
        return Sniffed(container="json", damaged=True, json_error=str(exc))
    if not isinstance(doc, dict):
        return Sniffed(container="json")
    declared = doc.get("schema_name")
    keys = tuple(sorted(str(k) for k in doc))[:64]
    return Sniffed(
        container="json",
        declared_schema=declared if isinstance(declared, str) else None,
        signature=keys,
    )


def _sniff_csv(first_line: bytes) -> Sniffed:
    try:
        header = next(csv.reader(io.StringIO(first_line.decode("utf-8").rstrip("\r"))), [])
    except (UnicodeDecodeError, csv.Error):
        return Sniffed(container="csv", damaged=True)
    return Sniffed(container="csv", signature=tuple(h.strip() for h in header))


def _sniff_zip(fh: Any, data: bytes | None) -> Sniffed:
    """What a zip holds, from its whole ``data`` when read already (the archive is then
    kept for the reader that follows: :func:`~holopipe.artifacts.safety.keep_sniffed_zip`)."""
    try:
        if data is None:
            opened = open_zip(fh)
        else:
            opened = zip_in_memory(data)
            keep_sniffed_zip(fh, opened)
        archive = opened[1]
        if archive is None:
            return Sniffed(container="zip", damaged=True)
        names = tuple(sorted(archive.namelist()))
        if any(n == "data.pkl" or n.endswith("/data.pkl") for n in names):
            return Sniffed(container="pickle", signature=names)
        declared = _npz_meta_schema(archive) if "meta_json.npy" in names else None
    except (zipfile.BadZipFile, EOFError, ValueError, OSError, NotImplementedError):
        return Sniffed(container="zip", damaged=True)
    return Sniffed(container="zip", declared_schema=declared, signature=names)


def _npz_meta_schema(archive: zipfile.ZipFile | StoredZip) -> str | None:
    """``schema_name`` of an NPZ's ``meta_json`` member (a 0-d string array), read safely."""
    try:
        if isinstance(archive, StoredZip):
            member = archive.member("meta_json.npy")
            if len(member) > _MAX_META_BYTES + _MAX_NPY_HEADER_BYTES:
                return None
        else:
            info = archive.getinfo("meta_json.npy")
            if info.file_size > _MAX_META_BYTES + _MAX_NPY_HEADER_BYTES or info.flag_bits & 0x1:
                return None  # larger than any meta of ours, or encrypted: not read
            with archive.open(info) as opened:  # in one read (zipfile's small reads cost more)
                member = memoryview(opened.read(info.file_size + 1))
        header, at = npy_header_at(member)
        if header.dtype.kind not in "US" or header.nbytes > _MAX_META_BYTES:
            return None
        raw = member[at : at + header.nbytes]
    except (NotNpy, CorruptNpy, zipfile.BadZipFile, EOFError, OSError, ValueError):
        return None
    import numpy as np

    if len(raw) != header.nbytes or header.count != 1:
        return None
    text = str(np.frombuffer(raw, dtype=header.dtype)[0])
    try:
        doc = loads_json(text)
    except JSONDecodeIssue:
        return None
    declared = doc.get("schema_name") if isinstance(doc, dict) else None
    return declared if isinstance(declared, str) else None


def _sniff_hdf5(path: str) -> Sniffed:
    try:
        with open_netcdf(path) as ds:
            names = ds.ncattrs()
            declared = str(ds.getncattr("schema_name")) if "schema_name" in names else None
            groups = tuple(sorted(ds.groups))
    except Exception:  # noqa: BLE001 - the C library raises OSError, RuntimeError, ... on damage
        return Sniffed(container="hdf5", damaged=True)
    return Sniffed(container="hdf5", declared_schema=declared, signature=groups)


def clear_cache() -> None:
    """Forget every sniffed file (tests that rewrite a file within one mtime tick), and the
    zip kept for its reader."""
    _sniff_cached.cache_clear()
    forget_sniffed_zip()
