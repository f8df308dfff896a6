"""Boundary data of a real theory, as boundary-only SandboxGeometry (no ``bulk_truth/``).

A real CFT has no bulk to compare with: what it offers are two-point functions of its
operators. Two sources, both written as a :class:`~holopipe.artifacts.sandbox.SandboxGeometry`
whose ``truth`` is ``None`` and whose ``meta.theory`` names the theory:

- :func:`reference_boundary`: synthesised from a reference table of scaling dimensions, the
  exact CFT form ``G2(x) = x^(-2 Delta)`` of a scalar's two-point function (boundary method
  ``reference_table``, category ``round_trip``). A pipeline that measures the dimensions
  from these data and compares them with the same table is a *round trip*: it tests the
  measurement, not the theory, and every consumer must say so.
- :func:`read_legacy_boundary`: the legacy ``fase12_data_boundary`` format (LEGACY.md: HDF5
  with ``boundary/x_grid`` and ``boundary/G2_<operator>``, no ``bulk_truth``, root attributes
  ``name``, ``d``, ``T``, ``operators``), read in bounded memory: a regular file no larger
  than :data:`MAX_FILE_BYTES`, HDF5 magic bytes, every variable 1-D float of at most
  :data:`MAX_POINTS` points checked from its declared shape before anything is read
  (boundary method ``legacy``, category ``legacy_boundary``). The legacy ``operators``
  attribute (dimensions the legacy adapter wrote beside the data) is not carried over: the
  pipeline measures the dimensions from ``G2`` itself.

Examples
--------
>>> universe = reference_boundary("ising3d", 3, {"sigma": 0.5181489, "epsilon": 1.412625})
>>> universe.truth is None, universe.meta.theory, universe.boundary.method
(True, 'ising3d', 'reference_table')
>>> sorted(universe.boundary.G2), universe.validate().ok
(['epsilon', 'sigma'], True)
"""

from __future__ import annotations

import math
import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from holopipe.artifacts.identity import system_id
from holopipe.artifacts.sandbox import BoundaryData, SandboxGeometry, SandboxMeta

__all__ = [
    "LEGACY_METHOD",
    "MAX_FILE_BYTES",
    "MAX_POINTS",
    "ROUND_TRIP_METHOD",
    "TheoryDataError",
    "read_legacy_boundary",
    "reference_boundary",
]

#: Boundary method of data synthesised from a reference table (a round trip).
ROUND_TRIP_METHOD = "reference_table"
#: Boundary method of data read from a legacy boundary file.
LEGACY_METHOD = "legacy"
#: Largest legacy boundary file read (a few G2 on a grid fit in far less).
MAX_FILE_BYTES = 64 * 1024 * 1024
#: Largest declared length of one boundary variable.
MAX_POINTS = 1_000_000
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_OPERATOR_NAME = re.compile(r"^[A-Za-z0-9_]+$")


class TheoryDataError(ValueError):
    """Boundary data of a theory that cannot be used; the message names file, field, problem."""


def _theory_id(theory: str, method: str, defining: Mapping) -> str:
    return system_id({"theory": theory, "boundary_method": method, **defining}, name=theory)


def reference_boundary(
    theory: str,
    d: int,
    dimensions: Mapping[str, float],
    *,
    x_range: tuple[float, float] = (0.01, 1.5),
    n_x: int = 400,
) -> SandboxGeometry:
    """Boundary-only data ``G2 = x^(-2 Delta)`` of the operators of a reference table.

    Parameters
    ----------
    theory : str
        Name of the theory (its reference table), e.g. ``"ising3d"``.
    d : int
        Boundary spacetime dimension of the theory.
    dimensions : mapping
        Operator name -> scaling dimension, from the reference table.
    x_range, n_x
        Log-spaced separations.

    Raises
    ------
    TheoryDataError
        Naming the bad argument.
    """
    if not dimensions:
        raise TheoryDataError(f"{theory}: dimensions: the reference table lists no operator")
    for name, delta in dimensions.items():
        if not _OPERATOR_NAME.match(name):
            raise TheoryDataError(f"{theory}: operator {name!r}: name must match [A-Za-z0-9_]+")
        if not (math.isfinite(delta) and delta > 0):
            raise TheoryDataError(f"{theory}: operator {name!r}: Delta must be > 0, got {delta}")
    x = np.geomspace(x_range[0], x_range[1], n_x)
    ordered = dict(sorted(dimensions.items()))
    g2 = {name: x ** (-2.0 * delta) for name, delta in ordered.items()}
    defining = {"d": d, "dimensions": ordered, "x_range": list(x_range), "n_x": n_x}
    meta = SandboxMeta(
        system_id=_theory_id(theory, ROUND_TRIP_METHOD, defining),
        system_name=theory,
        family="unknown",
        d=d,
        z_h=None,
        temperature=0.0,
        category="round_trip",
        theory=theory,
    )
    boundary = BoundaryData(x_grid=x, G2=g2, temperature=0.0, exact=True, method=ROUND_TRIP_METHOD)
    return SandboxGeometry(meta=meta, truth=None, boundary=boundary)


# -- legacy boundary files -------------------------------------------------------------------
def _open_checked(path: Path):
    """Stat and sniff before netCDF-C sees the file: no FIFO, no huge file, HDF5 only."""
    import netCDF4

    try:
        info = os.stat(path)
    except OSError as exc:
        raise TheoryDataError(f"{path}: cannot be read: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise TheoryDataError(f"{path}: not a regular file")
    if info.st_size > MAX_FILE_BYTES:
        raise TheoryDataError(
            f"{path}: {info.st_size} bytes, more than the {MAX_FILE_BYTES} read for boundary data"
        )
    with open(path, "rb") as handle:
        if handle.read(len(_HDF5_MAGIC)) != _HDF5_MAGIC:
            raise TheoryDataError(f"{path}: not an HDF5 file (no HDF5 signature)")
    try:
        return netCDF4.Dataset(path, "r")
    except OSError as exc:
        raise TheoryDataError(f"{path}: unreadable HDF5 (truncated?): {exc}") from None


def _variable(group, name: str, path: Path) -> np.ndarray:
    variable = group.variables[name]
    where = f"{path}: boundary/{name}"
    if len(variable.shape) != 1:
        raise TheoryDataError(f"{where}: expected a 1-D array, declared shape {variable.shape}")
    if variable.shape[0] > MAX_POINTS:
        raise TheoryDataError(
            f"{where}: declared length {variable.shape[0]} exceeds {MAX_POINTS} points"
        )
    if variable.dtype.kind != "f":
        raise TheoryDataError(f"{where}: expected floating point, got {variable.dtype}")
    variable.set_auto_mask(False)
    return np.asarray(variable[...], dtype=np.float64)


def _root_number(ds, name: str, path: Path, default: float | None = None) -> float:
    if name not in ds.ncattrs():
        if default is None:
            raise TheoryDataError(f"{path}: attribute {name!r} is missing")
        return default
    value = np.asarray(ds.getncattr(name))
    if value.size != 1 or value.dtype.kind not in "fiu" or not np.isfinite(value).all():
        raise TheoryDataError(f"{path}: attribute {name!r}: expected one finite number")
    return float(value.item())


def read_legacy_boundary(path: str | os.PathLike, theory: str | None = None) -> SandboxGeometry:
    """A legacy boundary file (``fase12_data_boundary/*.h5``) as a boundary-only universe.

    Parameters
    ----------
    path : path
        The HDF5 file; never written.
    theory : str, optional
        Name of the theory whose data these are (defaults to the file's ``name`` attribute).

    Raises
    ------
    TheoryDataError
        One line naming the file, the field and the problem.
    """
    path = Path(path)
    ds = _open_checked(path)
    try:
        if "boundary" not in ds.groups:
            raise TheoryDataError(f"{path}: group 'boundary' is missing")
        group = ds.groups["boundary"]
        if "x_grid" not in group.variables:
            raise TheoryDataError(f"{path}: boundary/x_grid is missing")
        names = sorted(n for n in group.variables if n.startswith("G2_"))
        if not names:
            raise TheoryDataError(f"{path}: boundary has no G2_<operator> variable")
        x = _variable(group, "x_grid", path)
        g2 = {n.removeprefix("G2_"): _variable(group, n, path) for n in names}
        d = _root_number(ds, "d", path)
        temperature = _root_number(ds, "T", path, default=0.0)
        name = str(ds.getncattr("name")) if "name" in ds.ncattrs() else path.stem
    except RuntimeError as exc:
        raise TheoryDataError(f"{path}: netCDF read failed (damaged file?): {exc}") from None
    finally:
        ds.close()
    if d != int(d) or d < 2:
        raise TheoryDataError(f"{path}: attribute 'd': expected an integer >= 2, got {d}")
    if temperature != 0:
        raise TheoryDataError(
            f"{path}: attribute 'T': {temperature}; only zero-temperature boundary data are read"
        )
    theory = theory or name
    defining = {"d": int(d), "x_grid": x, **{f"G2_{k}": v for k, v in g2.items()}}
    meta = SandboxMeta(
        system_id=_theory_id(theory, LEGACY_METHOD, defining),
        system_name=theory,
        family="unknown",
        d=int(d),
        z_h=None,
        temperature=0.0,
        category="legacy_boundary",
        theory=theory,
    )
    boundary = BoundaryData(x_grid=x, G2=g2, temperature=0.0, exact=False, method=LEGACY_METHOD)
    universe = SandboxGeometry(meta=meta, truth=None, boundary=boundary)
    problems = universe.validate()
    if not problems.ok:
        first = problems.errors[0]
        raise TheoryDataError(f"{path}: {first.location}: {first.message}")
    return universe


def theory_universe(spec) -> SandboxGeometry:
    """The boundary-only universe of ``spec.theory`` (a :class:`~holopipe.data.sandbox
    .SandboxSpec`): read from ``spec.theory_file``, else synthesised for the scalar operators
    of the theory's reference table (:func:`holopipe.data.cft.reference_table`) on the
    separations of the spec.

    Examples
    --------
    >>> from holopipe.data.sandbox import SandboxSpec
    >>> universe = theory_universe(SandboxSpec(families=[], theory="ising3d"))
    >>> universe.meta.category, sorted(universe.boundary.G2)
    ('round_trip', ['epsilon', 'epsilon_prime', 'sigma'])
    """
    if spec.theory_file is not None:
        return read_legacy_boundary(spec.theory_file, spec.theory)
    from holopipe.data.cft import CFTDataError, reference_table

    try:
        table = reference_table(spec.theory)
    except CFTDataError as exc:
        raise TheoryDataError(str(exc)) from None
    scalars = {op.name: op.Delta for op in table.operators if op.spin == 0}
    return reference_boundary(
        table.theory, table.d, scalars, x_range=tuple(spec.x_range), n_x=spec.n_x
    )
