"""A zip of stored (uncompressed) members parsed from one in-memory buffer.

holopipe writes every NPZ artifact as such a zip (:func:`~holopipe.artifacts.io.npz_bytes`),
and ``numpy.savez`` does too. Opening one with :mod:`zipfile` costs more than its bytes: a
``ZipFile``, a ``ZipInfo`` per member, a shared file object and a decompressor per member,
each read in small pieces. :func:`parse_stored_zip` reads the same structure straight from
the buffer with :mod:`struct`, and checks each member's CRC with :func:`zlib.crc32`.

It accepts only what :mod:`zipfile` reads without any complaint, with the same names and the
same bytes: one end record at the very end (no comment, no zip64 locator, no data before
the archive), a central directory that parses exactly to its declared size and count,
members stored (no compression, no encryption, no extra fields in the directory), with
names in ASCII without NUL, each local header agreeing with its directory entry, members
laid out one after the other without overlapping, and every CRC right. Anything else is
``None``: the caller reads the archive with :mod:`zipfile`, whose findings are the
reference (tests/hostile/test_files_stored_zip.py holds the two to the same answers).

Examples
--------
>>> import io, zipfile
>>> buffer = io.BytesIO()
>>> with zipfile.ZipFile(buffer, "w") as archive:
...     archive.writestr("a.npy", b"abc")
...     archive.writestr("b.npy", b"de")
>>> parsed = parse_stored_zip(buffer.getvalue(), max_members=16)
>>> parsed.namelist(), bytes(parsed.member("b.npy"))
(['a.npy', 'b.npy'], b'de')
>>> with zipfile.ZipFile(buffer, "a", compression=zipfile.ZIP_DEFLATED) as archive:
...     archive.writestr("c.npy", b"fgh")
>>> parse_stored_zip(buffer.getvalue(), 16) is None  # a compressed member: zipfile reads it
True
"""

from __future__ import annotations

import struct
import zlib

__all__ = ["StoredZip", "parse_stored_zip"]

_END = struct.Struct("<4s4H2LH")  # end of central directory record, 22 bytes
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")  # central directory entry, 46 bytes
_LOCAL = struct.Struct("<4s2B4HL2L2H")  # local file header, 30 bytes
_END_MAGIC = b"PK\x05\x06"
_ZIP64_LOCATOR_MAGIC = b"PK\x06\x07"
_CENTRAL_MAGIC = b"PK\x01\x02"
_LOCAL_MAGIC = b"PK\x03\x04"
_ZIP64_LOCATOR_BYTES = 20
#: Flag bits zipfile refuses or needs a password for: encrypted, compressed patch data,
#: strong encryption.
_REFUSED_FLAGS = 0x1 | 0x20 | 0x40
#: The newest "version needed to extract" zipfile reads (``zipfile.MAX_EXTRACT_VERSION``).
_MAX_EXTRACT_VERSION = 63


class StoredZip:
    """The members of a parsed stored zip: names in directory order, bytes as views of the
    buffer (each CRC already checked)."""

    __slots__ = ("_by_name", "_entries")

    def __init__(self, entries: list[tuple[str, memoryview]]) -> None:
        self._entries = entries
        # A name listed twice means its last entry, as zipfile.getinfo says.
        self._by_name = dict(entries)

    def namelist(self) -> list[str]:
        """Every member name, in central directory order (duplicates kept)."""
        return [name for name, _ in self._entries]

    def entries(self) -> list[tuple[str, memoryview]]:
        """``(name, bytes)`` of every member, in central directory order."""
        return list(self._entries)

    def member(self, name: str) -> memoryview:
        """The bytes of member ``name`` (``KeyError`` when there is none)."""
        return self._by_name[name]


def parse_stored_zip(buffer: bytes, max_members: int) -> StoredZip | None:
    """The zip held in ``buffer`` if it is one zipfile reads without complaint and whose
    members are all stored, with at most ``max_members`` members; otherwise ``None``."""
    size = len(buffer)
    if size < _END.size + _ZIP64_LOCATOR_BYTES:
        return None
    end_at = size - _END.size
    magic, disk, cd_disk, on_disk, count, cd_size, cd_offset, comment = _END.unpack_from(
        buffer, end_at
    )
    if (
        magic != _END_MAGIC
        or comment
        or disk
        or cd_disk
        or on_disk != count
        or count > max_members
        or cd_offset + cd_size != end_at  # no bytes before the archive, none in between
        or buffer[end_at - _ZIP64_LOCATOR_BYTES : end_at - 16] == _ZIP64_LOCATOR_MAGIC
    ):
        return None
    directory = _central_directory(buffer, cd_offset, end_at, count)
    if directory is None:
        return None
    view = memoryview(buffer)
    located = sorted(directory, key=lambda entry: entry[1])
    ends = [entry[1] for entry in located[1:]] + [cd_offset]
    members = {}
    for (_, offset, length, crc, raw_name), end in zip(located, ends, strict=True):
        data = _member_data(buffer, offset, raw_name, length, end)
        if data is None or zlib.crc32(view[data:end]) != crc:
            return None
        members[offset] = view[data:end]
    return StoredZip([(entry[0], members[entry[1]]) for entry in directory])


def _central_directory(
    buffer: bytes, at: int, end: int, count: int
) -> list[tuple[str, int, int, int, bytes]] | None:
    """``(name, local header offset, size, crc, raw name)`` of each directory entry, or
    ``None`` unless the directory is exactly ``count`` plain stored entries up to ``end``."""
    entries = []
    while at < end and len(entries) < count:
        if end - at < _CENTRAL.size:
            return None
        fields = _CENTRAL.unpack_from(buffer, at)
        magic, _, _, needed, _, flags, method, _, _, crc, packed, length = fields[:12]
        name_length, extra_length, comment_length, _, _, _, offset = fields[12:]
        if (
            magic != _CENTRAL_MAGIC
            or needed > _MAX_EXTRACT_VERSION
            or flags & _REFUSED_FLAGS
            or method != 0
            or packed != length
            or extra_length
        ):
            return None
        raw_name = buffer[at + _CENTRAL.size : at + _CENTRAL.size + name_length]
        if len(raw_name) != name_length or not raw_name.isascii() or b"\0" in raw_name:
            return None
        entries.append((raw_name.decode("ascii"), offset, length, crc, raw_name))
        at += _CENTRAL.size + name_length + comment_length
    if at != end or len(entries) != count:
        return None
    if len({entry[1] for entry in entries}) != count:
        return None  # two entries on one local header: overlapping
    return entries


def _member_data(buffer: bytes, offset: int, raw_name: bytes, length: int, end: int) -> int | None:
    """Where member data start after the local header at ``offset``, if that header is
    one of a stored member named ``raw_name`` whose ``length`` bytes end at ``end``."""
    if end - offset < _LOCAL.size:
        return None
    magic, *_, name_length, extra_length = _LOCAL.unpack_from(buffer, offset)
    start = offset + _LOCAL.size
    if magic != _LOCAL_MAGIC or buffer[start : start + name_length] != raw_name:
        return None
    data = start + name_length + extra_length
    return data if data + length == end else None
