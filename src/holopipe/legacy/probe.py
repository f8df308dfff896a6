"""Safe first look at one legacy file: never blocks, never loads much.

This is the thin interface the importer classifies on. Every read goes through the artifacts
layer's safe readers (:mod:`holopipe.artifacts.safety`): only regular files are opened, with
``O_NONBLOCK`` and a re-check on the open descriptor (a FIFO or a device is never read, even
one swapped in after the walk); only the first :data:`HEAD_BYTES` bytes are kept; files larger
than :data:`PARSE_LIMIT` are hashed (in 1 MiB reads) and linked but their content is not
parsed. JSON is parsed with a depth limit and bare ``NaN`` tokens become findings, not crashes
(the legacy writers produced them; :func:`holopipe.artifacts.io.loads_json`, for current
artifacts, refuses them).

Examples
--------
>>> import pathlib, tempfile
>>> p = pathlib.Path(tempfile.mkdtemp()) / "x.json"
>>> _ = p.write_text('{"a": NaN}')
>>> probe = probe_file(p)
>>> probe.container, probe.size
('json', 10)
>>> doc, issues = load_json_bounded(p)
>>> issues
['bare NaN token (not valid JSON): read as NaN']
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import attrs

from holopipe.artifacts.safety import MAX_ZIP_MEMBERS, UnsafeFile, open_regular, read_bytes_bounded
from holopipe.artifacts.sniff import sniff

__all__ = [
    "HEAD_BYTES",
    "JSON_MAX_DEPTH",
    "PARSE_LIMIT",
    "FileProbe",
    "load_json_bounded",
    "probe_file",
    "zip_member_names",
]

#: Bytes read to recognise a file's container.
HEAD_BYTES = 4096
#: Files above this many bytes are linked and hashed but never parsed (a finding says so).
PARSE_LIMIT = 64 * 1024 * 1024
#: Arrays declared larger than this (bytes) are not loaded (HDF5 variables, NPZ members).
ARRAY_LIMIT = 64 * 1024 * 1024
#: JSON nested deeper than this is refused (a finding), never a RecursionError.
JSON_MAX_DEPTH = 64
#: Zip archives with more members than this are not listed (the artifacts layer's limit).
ZIP_MAX_MEMBERS = MAX_ZIP_MEMBERS
#: Bytes per read while hashing.
HASH_CHUNK = 1 << 20

_MAGIC = (
    (b"\x89HDF\r\n\x1a\n", "hdf5"),
    (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"),  # an empty zip
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"%PDF", "pdf"),
    (b"\x93NUMPY", "npy"),
    (b"CDF\x01", "netcdf3"),
    (b"CDF\x02", "netcdf3"),
)


@attrs.frozen
class FileProbe:
    """What a first look at a file found."""

    path: Path
    size: int
    mode: int = attrs.field(metadata={"doc": "st_mode of the file (lstat of the entry)"})
    mtime_ns: int
    head: bytes = attrs.field(repr=False)
    container: str | None = attrs.field(
        metadata={"doc": "hdf5 | zip | pickle | png | json | csv | text | ... | None (unknown)"}
    )
    sha256: str | None = attrs.field(metadata={"doc": "None when the file could not be read"})
    problem: str | None = attrs.field(
        default=None, metadata={"doc": "why the file could not be read, if it could not"}
    )

    @property
    def oversized(self) -> bool:
        return self.size > PARSE_LIMIT


def _container(head: bytes) -> str | None:
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    # Pickle protocol 2+ starts with PROTO (0x80) and the protocol number.
    if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5:
        return "pickle"
    text = head.lstrip()
    if text[:1] in (b"{", b"["):
        first = text.split(b"\n", 1)
        if (
            len(first) == 2
            and first[0].rstrip().endswith((b"}", b"]"))
            and first[1].strip()[:1] in (b"{", b"[")
        ):
            return "jsonl"
        return "json"
    try:
        decoded = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the head boundary is still text.
        if exc.start < len(head) - 4:
            return None
        decoded = head[: exc.start].decode("utf-8")
    if "\x00" in decoded:
        return None
    if "," in decoded.split("\n", 1)[0]:
        return "csv"
    return "text"


def probe_file(path: str | os.PathLike, hash_contents: bool = True) -> FileProbe:
    """A first, safe look at ``path`` (a regular file, or a symlink to one).

    Never raises for a bad file: ``problem`` says what went wrong (missing, dangling link,
    not a regular file, unreadable), in the words of :class:`~holopipe.artifacts.safety.UnsafeFile`.
    """
    path = Path(path)
    try:
        fh = open_regular(path)
    except UnsafeFile as exc:
        return FileProbe(path, 0, _mode_of(path), 0, b"", None, None, exc.message)
    with fh:
        st = os.fstat(fh.fileno())
        digest = hashlib.sha256()
        head = b""
        problem = None
        try:
            head = fh.read(HEAD_BYTES)
            digest.update(head)
            if hash_contents:
                while chunk := fh.read(HASH_CHUNK):
                    digest.update(chunk)
        except OSError as exc:
            problem = f"read failed: {exc.strerror}"
    return FileProbe(
        path,
        st.st_size,
        st.st_mode,
        st.st_mtime_ns,
        head,
        _container(head) if head else None,
        digest.hexdigest() if hash_contents and problem is None else None,
        problem,
    )


def _mode_of(path: Path) -> int:
    try:
        return os.stat(path).st_mode
    except OSError:
        return 0


class _DepthExceeded(ValueError):
    pass


def _bracket_depth(text: str, limit: int) -> None:
    """Refuse deep nesting before parsing (the parser itself would recurse)."""
    depth, in_string, escaped = 0, False, False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > limit:
                raise _DepthExceeded(f"nested deeper than {limit} levels")
        elif ch in "]}":
            depth -= 1


def load_json_bounded(
    path: str | os.PathLike, max_depth: int = JSON_MAX_DEPTH
) -> tuple[Any, list[str]]:
    """Parse a JSON file of at most :data:`PARSE_LIMIT` bytes; ``(document, issues)``.

    Raises ``ValueError`` (with a one-line message) when the file is not JSON, too deep,
    too large or not UTF-8. Bare ``NaN``/``Infinity`` tokens are read as floats and listed
    in ``issues`` (the legacy writers produced them; they are findings, not fatal).
    """
    try:
        raw = read_bytes_bounded(path, limit=PARSE_LIMIT)
    except UnsafeFile as exc:
        if exc.code == "too_large":
            raise ValueError(f"larger than the parse limit of {PARSE_LIMIT} bytes") from None
        raise ValueError(exc.message) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text (byte {exc.start})") from None
    _bracket_depth(text, max_depth)
    issues: set[str] = set()

    def constant(token: str) -> float:
        issues.add(f"bare {token} token (not valid JSON): read as {token}")
        return float(token.replace("Infinity", "inf"))

    try:
        doc = json.loads(text, parse_constant=constant)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    except RecursionError:
        raise ValueError(f"nested deeper than {max_depth} levels") from None
    return doc, sorted(issues)


def zip_member_names(path: str | os.PathLike) -> list[str]:
    """Names in a zip's central directory (at most :data:`ZIP_MAX_MEMBERS`); never extracts.

    Read by :func:`holopipe.artifacts.sniff.sniff` (which counts the members from the end
    record before listing them). Raises ``ValueError`` for a file that is not a readable zip.
    """
    found = sniff(path)
    if found.problem is not None:
        raise ValueError(found.problem[1])
    if found.container not in ("zip", "pickle") or found.damaged:
        raise ValueError(
            f"not a readable zip archive (truncated, or more than {ZIP_MAX_MEMBERS} members?)"
        )
    return list(found.signature)
