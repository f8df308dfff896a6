"""Outlines of legacy containers: names, attributes, shapes and dtypes, never the data.

An outline is what classification looks at: for HDF5 the attributes and variables of the
root and of each group (read through netCDF4, which loads metadata only); for NPZ the
``.npy`` headers of the members (dtype, shape, whether it is an object array), read without
loading any array; for CSV the header row. Declared sizes are compared with
:data:`~holopipe.legacy.probe.ARRAY_LIMIT` before anything is loaded.

Examples
--------
>>> import io, pathlib, tempfile, numpy as np
>>> p = pathlib.Path(tempfile.mkdtemp()) / "x.npz"
>>> np.savez(p, z=np.arange(3.0), names=np.array(["a", None], dtype=object))
>>> o = npz_outline(p)
>>> sorted(o.members), o.members["z"].shape, o.members["names"].is_object
(['names', 'z'], (3,), True)
"""

from __future__ import annotations

import math
import os
import zipfile
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from holopipe.artifacts.npy_header import CorruptNpy, NotNpy, read_npy_header
from holopipe.artifacts.report import ValidationReport
from holopipe.artifacts.safety import (
    UnsafeFile,
    netcdf_attributes,
    open_netcdf,
    open_regular,
    read_npz_members,
    zip_member_count,
)
from holopipe.legacy.probe import ARRAY_LIMIT, ZIP_MAX_MEMBERS

__all__ = ["ArrayInfo", "GroupOutline", "Hdf5Outline", "NpzOutline", "hdf5_outline", "npz_outline"]


@attrs.frozen
class ArrayInfo:
    """Declared dtype and shape of a stored array."""

    dtype: str
    shape: tuple[int, ...]
    itemsize: int
    is_object: bool = False

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * self.itemsize

    @property
    def loadable(self) -> bool:
        """Small enough to load and not an object array."""
        return not self.is_object and self.nbytes <= ARRAY_LIMIT


@attrs.frozen
class GroupOutline:
    attrs: dict[str, Any]
    variables: dict[str, ArrayInfo]


@attrs.frozen
class Hdf5Outline:
    """Root attributes and variables, and the same for each (top-level) group."""

    root: GroupOutline
    groups: dict[str, GroupOutline]

    def has(self, group: str, *variables: str) -> bool:
        g = self.groups.get(group)
        return g is not None and all(v in g.variables for v in variables)

    def oversized(self) -> list[str]:
        """Variables declared larger than the array limit (``group/name``)."""
        found = [f"{n}" for n, v in self.root.variables.items() if not v.loadable]
        for gname, g in self.groups.items():
            found += [f"{gname}/{n}" for n, v in g.variables.items() if not v.loadable]
        return found


def _group_outline(node: Any) -> GroupOutline:
    variables = {}
    for name, var in node.variables.items():
        dtype = var.dtype
        if isinstance(dtype, np.dtype):
            variables[name] = ArrayInfo(str(dtype), tuple(var.shape), dtype.itemsize)
        else:  # variable-length strings and other non-numeric types
            variables[name] = ArrayInfo(str(dtype), tuple(var.shape), 8, is_object=True)
    return GroupOutline(attrs=netcdf_attributes(node), variables=variables)


def hdf5_outline(path: str | os.PathLike) -> Hdf5Outline:
    """The outline of an HDF5/netCDF4 file; ``ValueError`` naming the problem if unreadable."""
    try:
        ds = open_netcdf(path)
    except UnsafeFile as exc:
        raise ValueError(exc.message) from None
    except (OSError, RuntimeError, ValueError) as exc:
        raise ValueError(f"not a readable HDF5 file (truncated or damaged?): {exc}") from None
    try:
        ds.set_auto_mask(False)
        return Hdf5Outline(
            root=_group_outline(ds),
            groups={name: _group_outline(g) for name, g in sorted(ds.groups.items())},
        )
    except (OSError, RuntimeError, ValueError, KeyError) as exc:
        raise ValueError(f"HDF5 metadata cannot be read (damaged file?): {exc}") from None
    finally:
        ds.close()


@attrs.frozen
class NpzOutline:
    members: dict[str, ArrayInfo]
    problems: dict[str, str] = attrs.field(
        factory=dict, metadata={"doc": "member -> why unreadable"}
    )


def npz_outline(path: str | os.PathLike) -> NpzOutline:
    """Headers of the ``.npy`` members of an NPZ; ``ValueError`` if it is not an NPZ.

    Read through the artifacts layer's safe readers: a regular file only, the member count
    from the zip's end record before the member table is parsed, each header parsed by
    :func:`~holopipe.artifacts.npy_header.read_npy_header` (no data read).
    """
    try:
        fh = open_regular(path)
    except UnsafeFile as exc:
        raise ValueError(exc.message) from None
    with fh:
        try:
            count = zip_member_count(fh)
            if count is not None and count > ZIP_MAX_MEMBERS:
                raise ValueError(f"zip with {count} members (more than {ZIP_MAX_MEMBERS})")
            archive = zipfile.ZipFile(fh)
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as exc:
            raise ValueError(f"not a readable zip archive (truncated?): {exc}") from None
        with archive:
            infos = archive.infolist()
            if not infos or not all(i.filename.endswith(".npy") for i in infos):
                raise ValueError("a zip archive that is not an NPZ (members other than .npy)")
            members: dict[str, ArrayInfo] = {}
            problems: dict[str, str] = {}
            for info in infos:
                _outline_member(archive, info, members, problems)
    return NpzOutline(members, problems)


def _outline_member(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    members: dict[str, ArrayInfo],
    problems: dict[str, str],
) -> None:
    key = info.filename[: -len(".npy")]
    try:
        with archive.open(info) as fh:
            header = read_npy_header(fh)
    except (NotNpy, CorruptNpy, OSError, EOFError, zipfile.BadZipFile, NotImplementedError) as exc:
        problems[key] = f"unreadable .npy header: {exc}"
        return
    found = ArrayInfo(
        str(header.dtype), header.shape, header.dtype.itemsize, header.dtype.hasobject
    )
    if not found.is_object and info.compress_type == zipfile.ZIP_STORED:
        if found.nbytes > info.file_size:
            problems[key] = f"declares {found.nbytes} bytes of data but stores {info.file_size}"
    members[key] = found


def csv_header(head: bytes) -> list[str]:
    """The header row of a CSV from its first bytes."""
    line = head.split(b"\n", 1)[0].decode("utf-8", "replace").strip().lstrip("\ufeff")
    return [cell.strip().strip('"') for cell in line.split(",")]


def members_loadable(outline: NpzOutline, keys: list[str]) -> bool:
    return all(k in outline.members and outline.members[k].loadable for k in keys)


def read_members(path: Path, outline: NpzOutline) -> dict[str, np.ndarray]:
    """The loadable members (numeric/string, within the limit), ``allow_pickle=False``."""
    keep = {k for k, v in outline.members.items() if v.loadable and k not in outline.problems}
    # The outline has reported every member it refuses; the reader's own findings repeat them.
    arrays = read_npz_members(path, ValidationReport(), limit=ARRAY_LIMIT) or {}
    return {k: arrays[k] for k in sorted(keep) if k in arrays}
