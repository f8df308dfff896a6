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


def _attr_value(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.item() if value.size == 1 else value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def _group_outline(node: Any) -> GroupOutline:
    variables = {}
    for name, var in node.variables.items():
        dtype = var.dtype
        if isinstance(dtype, np.dtype):
            variables[name] = ArrayInfo(str(dtype), tuple(var.shape), dtype.itemsize)
        else:  # variable-length strings and other non-numeric types
            variables[name] = ArrayInfo(str(dtype), tuple(var.shape), 8, is_object=True)
    return GroupOutline(
        attrs={name: _attr_value(node.getncattr(name)) for name in node.ncattrs()},
        variables=variables,
    )


def hdf5_outline(path: str | os.PathLike) -> Hdf5Outline:
    """The outline of an HDF5/netCDF4 file; ``ValueError`` naming the problem if unreadable."""
    import netCDF4

    try:
        ds = netCDF4.Dataset(os.fspath(path), "r")
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
    """Headers of the ``.npy`` members of an NPZ; ``ValueError`` if it is not an NPZ."""
    members: dict[str, ArrayInfo] = {}
    problems: dict[str, str] = {}
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise ValueError(f"not a readable zip archive (truncated?): {exc}") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > ZIP_MAX_MEMBERS:
            raise ValueError(f"zip with {len(infos)} members (more than {ZIP_MAX_MEMBERS})")
        if not infos or not all(i.filename.endswith(".npy") for i in infos):
            raise ValueError("a zip archive that is not an NPZ (members other than .npy)")
        for info in infos:
            key = info.filename[: -len(".npy")]
            try:
                with archive.open(info) as fh:
                    version = np.lib.format.read_magic(fh)
                    read_header = (
                        np.lib.format.read_array_header_1_0
                        if version == (1, 0)
                        else np.lib.format.read_array_header_2_0
                    )
                    shape, _fortran, dtype = read_header(fh, max_header_size=10_000)
            except (ValueError, OSError, EOFError, zipfile.BadZipFile, RuntimeError) as exc:
                problems[key] = f"unreadable .npy header: {exc}"
                continue
            info_ = ArrayInfo(
                str(dtype), tuple(int(s) for s in shape), dtype.itemsize, dtype.hasobject
            )
            if not info_.is_object and info.compress_type == zipfile.ZIP_STORED:
                if info_.nbytes > info.file_size:
                    problems[key] = (
                        f"declares {info_.nbytes} bytes of data but stores {info.file_size}"
                    )
            members[key] = info_
    return NpzOutline(members, problems)


def csv_header(head: bytes) -> list[str]:
    """The header row of a CSV from its first bytes."""
    line = head.split(b"\n", 1)[0].decode("utf-8", "replace").strip().lstrip("\ufeff")
    return [cell.strip().strip('"') for cell in line.split(",")]


def members_loadable(outline: NpzOutline, keys: list[str]) -> bool:
    return all(k in outline.members and outline.members[k].loadable for k in keys)


def read_members(path: Path, outline: NpzOutline) -> dict[str, np.ndarray]:
    """The loadable members (numeric/string, within the limit), ``allow_pickle=False``."""
    keep = [k for k, v in outline.members.items() if v.loadable and k not in outline.problems]
    out: dict[str, np.ndarray] = {}
    with np.load(path, allow_pickle=False) as archive:
        for key in sorted(keep):
            out[key] = archive[key]
    return out
