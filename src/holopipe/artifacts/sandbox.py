"""SandboxGeometry: one sandbox universe (output of stage 01), stored as netCDF4/HDF5.

A universe either has a bulk truth (a generated sandbox universe) or is boundary-only: the
boundary data of a real theory (e.g. the 3D Ising CFT, :mod:`holopipe.data.theory`) have no
bulk to compare with, so the file has no ``bulk_truth/`` group and ``truth`` is ``None``.

File layout
-----------
- root attributes: ``schema_name``, ``schema_version`` and the :class:`SandboxMeta`
  fields (``system_id``, ``system_name``, ``family``, ``d``, ``z_h`` (absent at T = 0),
  ``temperature``, ``params`` (a JSON string), ``category``, ``seed``, ``index``, ``theory``
  (absent unless the data are those of a named real theory), ``provenance`` (a JSON string,
  only when not empty: e.g. the legacy origin of an imported universe and what its
  conversion assumed);
- group ``bulk_truth/`` (absent for boundary-only data; dimension and coordinate variable
  ``z_grid``): ``z_grid``, ``A_truth``, ``f_truth`` and optionally ``A_t_truth``,
  ``A_z_truth``, ``c_function``, ``R_truth``; attribute ``operators``, a JSON list of
  ``{name, Delta, m2}``. Operator dimensions and bulk masses live here only, so that a
  reconstruction that reads ``boundary/`` cannot see them;
- group ``boundary/`` (dimension and coordinate variable ``x_grid``): ``x_grid``, one
  ``G2_<operator>`` per operator, the scalar ``temperature``; attributes ``exact`` (0/1)
  and ``method``.

Writes are byte-deterministic for a given netCDF-C/HDF5 build (HDF5 object timestamps are
off in netCDF-4 files); the library versions are stamped into the file, so bytes may differ
between machines with other library versions.

Schema versions: 0.2 made ``bulk_truth/`` optional and added ``theory``; a 0.1 file is a
valid 0.2 file (the registered migration changes nothing but the version).

Legacy sandbox files (LEGACY.md: root attributes ``name``, ``family``, ``d``, ``operators``
with ``m2L2``, no schema header) are validated too: they get ``missing_schema`` and their
real data problems as findings instead of a crash.

Examples
--------
>>> import tempfile, pathlib
>>> s = SandboxGeometry.example()
>>> path = s.write(pathlib.Path(tempfile.mkdtemp()) / "ads_d2_example.nc")
>>> SandboxGeometry.read(path) == s
True
>>> SandboxGeometry.validate_file(path).exit_code
0
"""

from __future__ import annotations

import math
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Self

import attrs
import numpy as np

from holopipe.artifacts._arrays import (
    array_dicts_equal,
    array_field,
    as_float_arrays,
    optional_array_field,
)
from holopipe.artifacts.base import HEADER, Artifact
from holopipe.artifacts.checks import (
    check_d_against_name,
    check_equal_lengths,
    check_family,
    check_finite,
    check_float_array,
    check_strictly_increasing,
)
from holopipe.artifacts.io import JSONDecodeIssue, atomic_write_bytes, dumps_json, loads_json
from holopipe.artifacts.report import ValidationReport
from holopipe.artifacts.safety import (
    MAX_ARRAY_BYTES_ENV,
    UnsafeFile,
    max_array_bytes,
    netcdf_attributes,
    netcdf_declared_bytes,
    netcdf_value,
    open_netcdf,
)
from holopipe.artifacts.structure import check_structure, converter, structure_checked
from holopipe.artifacts.versions import register_migration, upgrade_document

if TYPE_CHECKING:
    from holopipe.artifacts.sniff import Sniffed


__all__ = ["BoundaryData", "BulkTruth", "Operator", "SandboxGeometry", "SandboxMeta"]

#: |R_truth| above this is reported: no geometry of the ansatz on a grid with z >= 1e-3
#: comes near it, while f clipped to 0 at the horizon gives R ~ 1e10 (LEGACY.md).
HUGE_CURVATURE = 1e6

_OPERATOR_NAME = re.compile(r"^[A-Za-z0-9_]+$")
_TRUTH_REQUIRED = ("z_grid", "A_truth", "f_truth")
_TRUTH_OPTIONAL = ("A_t_truth", "A_z_truth", "c_function", "R_truth")
# Legacy root attributes that are family parameters (LEGACY.md), kept under their own names.
_LEGACY_PARAMS = ("theta", "z_dyn", "deformation")


@attrs.define
class SandboxMeta:
    """Metadata of a sandbox universe (root attributes of the file)."""

    system_id: str = attrs.field(metadata={"doc": "stable id, see holopipe.artifacts.system_id"})
    system_name: str = attrs.field(metadata={"doc": "human name, e.g. ads_d3_Tfinite_000"})
    family: str = attrs.field(metadata={"doc": "ads | lifshitz | hvlf | deformed | unknown"})
    d: int = attrs.field(metadata={"doc": "boundary spacetime dimension (CFT_d)"})
    z_h: float | None = attrs.field(metadata={"doc": "horizon; absent (null) at T = 0"})
    temperature: float = attrs.field(
        metadata={"doc": "T of the boundary theory (0 without horizon)"}
    )
    category: str = attrs.field(metadata={"doc": "split or role, e.g. known | test"})
    params: dict[str, float] = attrs.field(
        factory=dict, metadata={"doc": "family parameters (zeta, theta, a)"}
    )
    seed: int | None = attrs.field(
        default=None, metadata={"doc": "generator seed (stage 01); null when imported"}
    )
    index: int | None = attrs.field(
        default=None, metadata={"doc": "system index (stage 01); null when imported"}
    )
    theory: str | None = attrs.field(
        default=None,
        metadata={"doc": "real theory whose boundary data these are (CFT table name), else null"},
    )
    provenance: dict[str, Any] = attrs.field(
        factory=dict, metadata={"doc": "origin and assumptions (legacy imports); may be empty"}
    )


@attrs.define
class Operator:
    """A boundary operator and its bulk field (truth only)."""

    name: str = attrs.field(metadata={"doc": "operator name; its data are boundary/G2_<name>"})
    Delta: float = attrs.field(metadata={"doc": "scaling dimension"})
    m2: float = attrs.field(metadata={"doc": "bulk mass squared, units L = 1"})


@attrs.define
class BulkTruth:
    """The true bulk geometry and operator content (group ``bulk_truth/``)."""

    z_grid: np.ndarray = array_field("radial grid in (0, z_h), strictly increasing")
    A_truth: np.ndarray = array_field("warp factor A(z)")
    f_truth: np.ndarray = array_field("blackening factor f(z), exact (never clipped)")
    operators: list[Operator] = attrs.field(
        factory=list, metadata={"doc": "stored as the JSON attribute operators"}
    )
    A_t_truth: np.ndarray | None = optional_array_field("A_t(z) when it differs from A")
    A_z_truth: np.ndarray | None = optional_array_field("A_z(z) when it differs from A")
    c_function: np.ndarray | None = optional_array_field("c(z) = 1 / |e^-A A'|^(d-1)")
    R_truth: np.ndarray | None = optional_array_field("Ricci scalar of the truth geometry")

    def arrays(self) -> dict[str, np.ndarray]:
        """The array variables that are present, in file order."""
        names = _TRUTH_REQUIRED + _TRUTH_OPTIONAL
        return {n: getattr(self, n) for n in names if getattr(self, n) is not None}


@attrs.define
class BoundaryData:
    """What the boundary theory shows (group ``boundary/``): the input of reconstruction."""

    x_grid: np.ndarray = array_field("boundary separation, strictly increasing, > 0")
    G2: dict[str, np.ndarray] = attrs.field(
        converter=as_float_arrays,
        eq=attrs.cmp_using(eq=array_dicts_equal),
        metadata={"doc": "two-point function per operator name, stored as G2_<name>"},
    )
    temperature: float = attrs.field(metadata={"doc": "T seen by the boundary theory"})
    exact: bool = attrs.field(
        metadata={"doc": "True when G2 is exact (e.g. BTZ), False for approximations"}
    )
    method: str = attrs.field(metadata={"doc": "how G2 was computed: geodesic | btz_exact | ..."})


@attrs.define
class SandboxGeometry(Artifact):
    """A sandbox universe: bulk truth plus the boundary data computed from it."""

    SCHEMA_NAME: ClassVar[str] = "SandboxGeometry"
    SCHEMA_VERSION: ClassVar[str] = "0.2"
    FORMAT: ClassVar[str] = "netcdf4"
    CONTAINERS: ClassVar[tuple[str, ...]] = ("hdf5",)
    SUFFIXES: ClassVar[tuple[str, ...]] = (".nc", ".h5")

    meta: SandboxMeta = attrs.field(metadata={"doc": "root attributes"})
    truth: BulkTruth | None = attrs.field(
        metadata={"doc": "group bulk_truth/; None for boundary-only data (no bulk known)"}
    )
    boundary: BoundaryData = attrs.field(metadata={"doc": "group boundary/"})

    # -- reading ------------------------------------------------------------------------
    @classmethod
    def matches_content(cls, found: Sniffed) -> bool:
        """A netCDF4/HDF5 file without ``schema_name`` is ours (legacy) if it has our groups."""
        return bool({"bulk_truth", "boundary"} & set(found.signature))

    @classmethod
    def _load(cls, path: Path, report: ValidationReport) -> Self | None:
        try:
            ds = open_netcdf(path)
        except UnsafeFile:
            raise
        except OSError as exc:
            report.error(
                "unreadable", "<file>", f"not a readable netCDF4/HDF5 file (truncated?): {exc}"
            )
            return None
        try:
            if _declares_too_much(ds, report):
                return None
            ds.set_auto_mask(False)
            return cls._load_dataset(ds, path, report)
        except RuntimeError as exc:
            report.error("unreadable", "<file>", f"netCDF read failed (damaged file?): {exc}")
            return None
        except AttributeError as exc:
            # netCDF4 reports an attribute the HDF5 library cannot read as AttributeError
            # ("NetCDF: Can't open HDF5 attribute"): damage, not a bug of ours.
            if not str(exc).startswith("NetCDF:"):
                raise
            report.error("unreadable", "<file>", f"netCDF read failed (damaged file?): {exc}")
            return None
        finally:
            ds.close()

    @classmethod
    def _load_dataset(cls, ds: Any, path: Path, report: ValidationReport) -> Self | None:
        root = netcdf_attributes(ds)
        legacy = "schema_name" not in root
        if legacy:
            hint = " (a legacy, pre-schema sandbox file)" if "name" in root else ""
            report.error(
                "missing_schema", "schema_name", f"no schema_name/schema_version attributes{hint}"
            )
        elif root["schema_name"] != cls.SCHEMA_NAME:
            report.error(
                "wrong_schema",
                "schema_name",
                f"expected {cls.SCHEMA_NAME!r}, got {root['schema_name']!r}",
            )
            return None
        elif "schema_version" not in root:
            report.error("missing_key", "schema_version", "required attribute is missing")
            return None
        else:
            root = upgrade_document(
                cls.SCHEMA_NAME,
                root["schema_version"],
                cls.SCHEMA_VERSION,
                root,
                report,
                "schema_version",
            )
            if root is None:
                return None
        groups = {}
        for name in ("bulk_truth", "boundary"):
            if name in ds.groups:
                groups[name] = ds.groups[name]
            elif name == "boundary" or legacy:
                report.error("missing_key", name, "required group is missing")
        _check_d_sources(ds, report)
        truth = (
            _load_truth(groups["bulk_truth"], root, legacy, report)
            if "bulk_truth" in groups
            else None
        )
        boundary = (
            _load_boundary(groups["boundary"], legacy, report) if "boundary" in groups else None
        )
        if legacy:
            meta_raw = _legacy_meta_raw(root, truth, boundary, path, report)
        else:
            meta_raw = {k: v for k, v in root.items() if k not in HEADER}
            for name in ("params", "provenance"):
                if name in meta_raw:
                    value = _parse_json_attr(meta_raw.pop(name), name, report)
                    if value is not None:
                        meta_raw[name] = value
        # A zero-temperature universe has no horizon: z_h is absent (or NaN in old files).
        z_h = meta_raw.get("z_h")
        if z_h is None or (isinstance(z_h, float) and math.isnan(z_h)):
            meta_raw["z_h"] = None
        meta = structure_checked(SandboxMeta, meta_raw, report)
        truth_failed = "bulk_truth" in groups and truth is None
        if meta is None or truth_failed or boundary is None or (legacy and truth is None):
            return None
        return cls(meta=meta, truth=truth, boundary=boundary)

    # -- checking -----------------------------------------------------------------------
    def _check_fields(self, report: ValidationReport) -> None:
        check_structure(SandboxMeta, converter.unstructure(self.meta), report)
        if self.truth is not None:
            for i, op in enumerate(self.truth.operators):
                check_structure(
                    Operator, converter.unstructure(op), report, f"bulk_truth.operators[{i}]"
                )
            for name, array in self.truth.arrays().items():
                check_float_array(array, f"bulk_truth/{name}", report)
        check_float_array(self.boundary.x_grid, "boundary/x_grid", report)
        for name, array in self.boundary.G2.items():
            check_float_array(array, f"boundary/G2_{name}", report)
        temperature = self.boundary.temperature
        if isinstance(temperature, bool) or not isinstance(temperature, (int, float)):
            report.error(
                "wrong_type", "boundary/temperature", f"expected a number, got {temperature!r}"
            )
        if not isinstance(self.boundary.exact, bool):
            report.error(
                "wrong_type", "boundary.exact", f"expected a boolean, got {self.boundary.exact!r}"
            )
        if not isinstance(self.boundary.method, str) or not self.boundary.method:
            report.error(
                "wrong_type",
                "boundary.method",
                f"expected a non-empty string, got {self.boundary.method!r}",
            )

    def _check(self, report: ValidationReport) -> None:
        structural = ValidationReport()
        self._check_fields(structural)
        if not structural.ok:
            return  # _check_fields has recorded why; content rules need well-typed parts
        self._check_meta(report)
        if self.truth is not None:
            self._check_truth(report)
        self._check_boundary(report)

    def _check_meta(self, report: ValidationReport) -> None:
        meta = self.meta
        check_family(meta.family, "family", report)
        check_d_against_name(meta.d, meta.system_name, "d", report)
        if meta.z_h is not None and not meta.z_h > 0:
            report.error("bad_value", "z_h", f"z_h must be positive, got {meta.z_h!r}")
        if not meta.temperature >= 0:
            report.error(
                "bad_value", "temperature", f"temperature must be >= 0, got {meta.temperature!r}"
            )
        for name, value in (("seed", meta.seed), ("index", meta.index)):
            if value is not None and not 0 <= value < 2**63:
                report.error("bad_value", name, f"{name} must be in [0, 2**63), got {value}")
        if not math.isclose(meta.temperature, self.boundary.temperature, rel_tol=1e-12):
            report.error(
                "temperature_mismatch",
                "boundary/temperature",
                f"boundary T = {self.boundary.temperature!r} but the root attribute says "
                f"{meta.temperature!r}",
            )

    def _check_truth(self, report: ValidationReport) -> None:
        arrays = {f"bulk_truth/{n}": a for n, a in self.truth.arrays().items()}
        check_equal_lengths(arrays, report)
        for where, array in arrays.items():
            check_finite(array, where, report)
        z, f = self.truth.z_grid, self.truth.f_truth
        if np.isfinite(z).all():
            check_strictly_increasing(z, "bulk_truth/z_grid", report)
            if z[0] <= 0:
                report.error(
                    "bad_value",
                    "bulk_truth/z_grid",
                    f"z must be > 0 (boundary at z -> 0), got {z[0]!r}",
                )
        if len(z) == len(f):
            self._check_horizon(z, f, report)
        R = self.truth.R_truth
        if R is not None and np.isfinite(R).all() and np.abs(R).max() > HUGE_CURVATURE:
            report.warning(
                "huge_curvature",
                "bulk_truth/R_truth",
                f"max |R| = {np.abs(R).max():.3g} exceeds {HUGE_CURVATURE:.0e} "
                "(clipped f or a wrong curvature formula?)",
            )
        names = [op.name for op in self.truth.operators]
        for i, name in enumerate(names):
            if not _OPERATOR_NAME.match(name):
                report.error(
                    "bad_value",
                    f"bulk_truth.operators[{i}].name",
                    f"{name!r} must match [A-Za-z0-9_]+",
                )
            if names.index(name) != i:
                report.error(
                    "duplicate_operator",
                    f"bulk_truth.operators[{i}].name",
                    f"operator {name!r} listed twice",
                )

    def _check_horizon(self, z: np.ndarray, f: np.ndarray, report: ValidationReport) -> None:
        z_h = self.meta.z_h
        # A non-positive z_h is reported by _check_meta; it cannot bound the grid.
        has_horizon = z_h is not None and z_h > 0
        beyond = z >= z_h if has_horizon else np.zeros(z.shape, dtype=bool)
        if beyond.any():
            report.error(
                "grid_beyond_horizon",
                "bulk_truth/z_grid",
                f"{int(beyond.sum())} of {z.size} points at or past z_h = {z_h!r}; "
                "the grid must lie in (0, z_h)",
            )
        clipped = beyond & (f == 0)
        if clipped.any():
            report.error(
                "f_clipped",
                "bulk_truth/f_truth",
                f"f_truth is exactly 0 at {int(clipped.sum())} points past the horizon: clipped, "
                "not the exact f (store f on (0, z_h) only)",
            )
        nonpositive = ~(f > 0) & ~clipped & np.isfinite(f)
        if nonpositive.any():
            first = int(np.flatnonzero(nonpositive)[0])
            where = "inside the horizon" if has_horizon else "without a horizon"
            report.error(
                "f_nonpositive",
                "bulk_truth/f_truth",
                f"f <= 0 at {int(nonpositive.sum())} points {where} "
                f"(first at index {first}: {f[first]!r})",
            )

    def _check_boundary(self, report: ValidationReport) -> None:
        x = self.boundary.x_grid
        check_finite(x, "boundary/x_grid", report)
        if np.isfinite(x).all():
            check_strictly_increasing(x, "boundary/x_grid", report)
            if x[0] <= 0:
                report.error(
                    "bad_value", "boundary/x_grid", f"separations must be > 0, got x[0] = {x[0]!r}"
                )
        if not math.isfinite(self.boundary.temperature):
            report.error(
                "nonfinite", "boundary/temperature", f"non-finite {self.boundary.temperature!r}"
            )
        if self.truth is None:
            operators = set(self.boundary.G2)  # boundary-only: the G2 define the operators
            if not operators:
                report.error("missing_g2", "boundary", "boundary-only data with no G2_<operator>")
        else:
            operators = {op.name for op in self.truth.operators}
        for name in sorted(operators - self.boundary.G2.keys()):
            report.error(
                "missing_g2", f"boundary/G2_{name}", f"operator {name!r} has no two-point function"
            )
        for name in sorted(self.boundary.G2.keys() - operators):
            report.error(
                "unknown_operator",
                f"boundary/G2_{name}",
                f"G2 of {name!r}, which is not in bulk_truth.operators",
            )
        for name in sorted(self.boundary.G2):
            where = f"boundary/G2_{name}"
            g2 = self.boundary.G2[name]
            check_equal_lengths({"boundary/x_grid": x, where: g2}, report)
            check_finite(g2, where, report)
            nonpositive = ~(g2 > 0) & np.isfinite(g2)
            if nonpositive.any():
                first = int(np.flatnonzero(nonpositive)[0])
                report.error(
                    "nonpositive",
                    where,
                    f"G2 must be > 0; {int(nonpositive.sum())} values are not "
                    f"(first at index {first}: {g2[first]!r})",
                )

    # -- writing ------------------------------------------------------------------------
    def _dump(self, path: Path) -> None:
        import netCDF4

        # netCDF-C writes to a named file; build it in a scratch folder and move the bytes
        # atomically, so that a reader never sees a half-written universe.
        with tempfile.TemporaryDirectory() as scratch:
            build = Path(scratch) / "sandbox.nc"
            ds = netCDF4.Dataset(build, "w", format="NETCDF4")
            try:
                self._fill(ds)
            finally:
                ds.close()
            atomic_write_bytes(path, build.read_bytes())

    def _fill(self, ds: Any) -> None:
        meta = self.meta
        ds.setncattr("schema_name", self.SCHEMA_NAME)
        ds.setncattr("schema_version", self.SCHEMA_VERSION)
        for name in ("system_id", "system_name", "family", "category"):
            ds.setncattr(name, getattr(meta, name))
        ds.setncattr("d", np.int64(meta.d))
        if meta.z_h is not None:
            ds.setncattr("z_h", np.float64(meta.z_h))
        ds.setncattr("temperature", np.float64(meta.temperature))
        ds.setncattr("params", dumps_json(meta.params))
        if meta.provenance:
            ds.setncattr("provenance", dumps_json(meta.provenance))
        for name in ("seed", "index"):
            if getattr(meta, name) is not None:
                ds.setncattr(name, np.int64(getattr(meta, name)))
        if meta.theory is not None:
            ds.setncattr("theory", meta.theory)

        if self.truth is not None:
            truth = ds.createGroup("bulk_truth")
            truth.createDimension("z_grid", len(self.truth.z_grid))
            for name, array in self.truth.arrays().items():
                truth.createVariable(name, "f8", ("z_grid",))[:] = array
            truth.setncattr("operators", dumps_json(converter.unstructure(self.truth.operators)))

        boundary = ds.createGroup("boundary")
        boundary.createDimension("x_grid", len(self.boundary.x_grid))
        boundary.createVariable("x_grid", "f8", ("x_grid",))[:] = self.boundary.x_grid
        for name in sorted(self.boundary.G2):
            boundary.createVariable(f"G2_{name}", "f8", ("x_grid",))[:] = self.boundary.G2[name]
        boundary.createVariable("temperature", "f8", ())[...] = self.boundary.temperature
        boundary.setncattr("exact", np.int8(int(self.boundary.exact)))
        boundary.setncattr("method", self.boundary.method)

    # -- views --------------------------------------------------------------------------
    def to_xarray(self):
        """An ``xarray.DataTree``: children ``boundary`` and (if any) ``bulk_truth``, meta in
        root attrs, CF ``units`` and ``long_name`` on every variable."""
        import xarray as xr

        meta = {k: v for k, v in converter.unstructure(self.meta).items() if v is not None}
        meta["params"] = dumps_json(meta["params"])
        if meta["provenance"]:
            meta["provenance"] = dumps_json(meta["provenance"])
        else:
            del meta["provenance"]
        root = xr.Dataset(
            attrs={"schema_name": self.SCHEMA_NAME, "schema_version": self.SCHEMA_VERSION, **meta}
        )
        children = {}
        if self.truth is not None:
            children["bulk_truth"] = xr.Dataset(
                {n: ("z_grid", a) for n, a in self.truth.arrays().items() if n != "z_grid"},
                coords={"z_grid": self.truth.z_grid},
                attrs={"operators": dumps_json(converter.unstructure(self.truth.operators))},
            )
        boundary = xr.Dataset(
            {
                **{f"G2_{n}": ("x_grid", self.boundary.G2[n]) for n in sorted(self.boundary.G2)},
                "temperature": ((), self.boundary.temperature),
            },
            coords={"x_grid": self.boundary.x_grid},
            attrs={"exact": int(self.boundary.exact), "method": self.boundary.method},
        )
        from holopipe.artifacts.cf import field_docs, with_cf_attributes

        for child in children.values():
            with_cf_attributes(child, field_docs(BulkTruth))
        with_cf_attributes(boundary, field_docs(BoundaryData))
        return xr.DataTree.from_dict({"/": root, **children, "boundary": boundary})

    def to_flat_xarray(self):
        """One ``xarray.Dataset``: the ``bulk_truth`` variables (if any) on ``z_grid`` and the
        ``boundary`` ones on ``x_grid`` (the names do not collide), meta in ``attrs``; what
        ``xr.open_dataset(path, engine="holopipe")`` returns."""
        import xarray as xr

        tree = self.to_xarray()
        boundary = tree["boundary"].to_dataset()
        parts = [tree["bulk_truth"].to_dataset()] if "bulk_truth" in tree.children else []
        ds = xr.merge([*parts, boundary], combine_attrs="override")  # keeps variable attrs
        ds.attrs = {
            **tree.attrs,
            **({"operators": parts[0].attrs["operators"]} if parts else {}),
            "boundary_exact": boundary.attrs["exact"],
            "boundary_method": boundary.attrs["method"],
        }
        return ds

    @classmethod
    def example(cls) -> Self:
        """Thermal AdS in d = 2 (BTZ) with z_h = 1, two operators, exact boundary G2."""
        from holopipe.artifacts.identity import system_id

        d, z_h = 2, 1.0
        temperature = d / (4 * np.pi * z_h)
        operators = [Operator("O1", 1.5, 1.5 * (1.5 - d)), Operator("O2", 3.0, 3.0 * (3.0 - d))]
        z = np.geomspace(1e-3, 0.95, 48)
        x = np.linspace(0.05, 3.0, 40)
        btz = np.pi * temperature / np.sinh(np.pi * temperature * x)
        meta = SandboxMeta(
            system_id=system_id(
                {"family": "ads", "d": d, "z_h": z_h, "params": {}}, name="ads_d2_example"
            ),
            system_name="ads_d2_example",
            family="ads",
            d=d,
            z_h=z_h,
            temperature=temperature,
            category="example",
            seed=0,
            index=0,
        )
        truth = BulkTruth(
            z_grid=z, A_truth=-np.log(z), f_truth=1 - (z / z_h) ** d, operators=operators
        )
        boundary = BoundaryData(
            x_grid=x,
            G2={op.name: btz ** (2 * op.Delta) for op in operators},
            temperature=temperature,
            exact=True,
            method="btz_exact",
        )
        return cls(meta=meta, truth=truth, boundary=boundary)


@register_migration("SandboxGeometry", "0.1", "0.2")
def _bulk_truth_becomes_optional(document: dict[str, Any]) -> dict[str, Any]:
    """0.1 -> 0.2: every 0.1 file has bulk_truth/ and no theory, so nothing changes."""
    return document


# -- file-reading helpers ---------------------------------------------------------------
def _parse_json_attr(text: Any, where: str, report: ValidationReport) -> Any:
    if not isinstance(text, str):
        report.error(
            "wrong_type", where, f"expected a JSON string attribute, got {type(text).__name__}"
        )
        return None
    try:
        return loads_json(text)
    except JSONDecodeIssue as exc:
        report.error("malformed_json", where, str(exc))
        return None


def _declares_too_much(ds: Any, report: ValidationReport) -> bool:
    """Whether the variables declare more bytes than the limit (then nothing is read).

    A 34 KB HDF5 file can declare a 2e9-element dataset (chunks never written read as the
    fill value): the declared sizes are checked before any variable is read.
    """
    limit = max_array_bytes()
    declared = netcdf_declared_bytes(ds)
    total = sum(size for _, size, _ in declared)
    if total <= limit:
        return False
    where, size, description = declared[0]
    report.error(
        "too_large",
        where,
        f"declares {description} = {size} bytes ({total} bytes in all variables), over the "
        f"limit of {limit} bytes per file ({MAX_ARRAY_BYTES_ENV})",
    )
    return True


def _check_d_sources(ds: Any, report: ValidationReport) -> None:
    """``d`` must agree wherever a file states it: root and group attributes, ``boundary/d``."""
    sources = {}
    if "d" in ds.ncattrs():
        sources["d"] = netcdf_value(ds.getncattr("d"))
    for gname, group in ds.groups.items():
        if "d" in group.ncattrs():
            sources[f"{gname}.d"] = netcdf_value(group.getncattr("d"))
        if "d" in group.variables:
            sources[f"{gname}/d"] = netcdf_value(group.variables["d"][...])
    if len({repr(v) for v in sources.values()}) > 1:
        detail = ", ".join(f"{k}={v!r}" for k, v in sources.items())
        location = next(
            k for k, v in sources.items() if repr(v) != repr(next(iter(sources.values())))
        )
        report.error(
            "d_inconsistent", location, f"d differs between the places that state it: {detail}"
        )


def _read_arrays(
    group: Any,
    names: tuple[str, ...],
    required: tuple[str, ...],
    gname: str,
    report: ValidationReport,
) -> dict[str, np.ndarray] | None:
    arrays, ok = {}, True
    for name in names:
        where = f"{gname}/{name}"
        if name not in group.variables:
            if name in required:
                report.error("missing_key", where, "required variable is missing")
                ok = False
            continue
        value = np.asarray(group.variables[name][...])
        if not check_float_array(value, where, report):
            ok = False
            continue
        arrays[name] = value
    return arrays if ok else None


def _warn_unknown_variables(
    group: Any, known: set[str], gname: str, report: ValidationReport
) -> None:
    unknown = sorted(set(group.variables) - known)
    if unknown:
        report.warning(
            "unknown_variable",
            gname,
            f"variables not in the schema (ignored): {', '.join(unknown)}",
        )


def _load_truth(
    group: Any, root: dict[str, Any], legacy: bool, report: ValidationReport
) -> BulkTruth | None:
    names = _TRUTH_REQUIRED + _TRUTH_OPTIONAL
    _warn_unknown_variables(group, set(names), "bulk_truth", report)
    arrays = _read_arrays(group, names, _TRUTH_REQUIRED, "bulk_truth", report)
    group_attrs = netcdf_attributes(group)
    # Legacy files keep the operator list at the root, with the mass under ``m2L2``.
    source = root if legacy else group_attrs
    where = "operators" if legacy else "bulk_truth.operators"
    if "operators" not in source:
        report.error("missing_key", where, "required attribute is missing")
        return None
    raw = _parse_json_attr(source["operators"], where, report)
    if raw is None:
        return None
    if not isinstance(raw, list):
        report.error("wrong_type", where, f"expected a JSON list, got {type(raw).__name__}")
        return None
    operators = []
    for i, item in enumerate(raw):
        if legacy and isinstance(item, dict) and "m2L2" in item and "m2" not in item:
            item = {**{k: v for k, v in item.items() if k != "m2L2"}, "m2": item["m2L2"]}
        operators.append(structure_checked(Operator, item, report, f"{where}[{i}]"))
    if arrays is None or any(op is None for op in operators):
        return None
    return BulkTruth(operators=operators, **arrays)


def _load_boundary(group: Any, legacy: bool, report: ValidationReport) -> BoundaryData | None:
    g2_names = sorted(n for n in group.variables if n.startswith("G2_"))
    known = {"x_grid", "temperature", *g2_names}
    _warn_unknown_variables(group, known, "boundary", report)
    x = _read_arrays(group, ("x_grid",), ("x_grid",), "boundary", report)
    g2 = _read_arrays(group, tuple(g2_names), tuple(g2_names), "boundary", report)
    temperature = None
    if "temperature" not in group.variables:
        report.error("missing_key", "boundary/temperature", "required variable is missing")
    else:
        value = np.asarray(group.variables["temperature"][...])
        if value.size != 1 or value.dtype.kind not in "fiu":
            report.error(
                "wrong_dtype",
                "boundary/temperature",
                f"expected one number, got {value.dtype} {value.shape}",
            )
        else:
            temperature = float(value.item())
    group_attrs = netcdf_attributes(group)
    if legacy:
        # Legacy boundary data were approximations of unrecorded kind.
        group_attrs = {"exact": 0, "method": "legacy", **group_attrs}
    exact = method = None
    if "exact" not in group_attrs:
        report.error("missing_key", "boundary.exact", "required attribute is missing")
    elif group_attrs["exact"] not in (0, 1) or isinstance(group_attrs["exact"], (str, float)):
        report.error(
            "wrong_type", "boundary.exact", f"expected 0 or 1, got {group_attrs['exact']!r}"
        )
    else:
        exact = bool(group_attrs["exact"])
    if "method" not in group_attrs:
        report.error("missing_key", "boundary.method", "required attribute is missing")
    elif not isinstance(group_attrs["method"], str):
        report.error(
            "wrong_type", "boundary.method", f"expected a string, got {group_attrs['method']!r}"
        )
    else:
        method = group_attrs["method"]
    if x is None or g2 is None or temperature is None or exact is None or method is None:
        return None
    return BoundaryData(
        x_grid=x["x_grid"],
        G2={name.removeprefix("G2_"): array for name, array in g2.items()},
        temperature=temperature,
        exact=exact,
        method=method,
    )


def _legacy_meta_raw(
    root: dict[str, Any],
    truth: BulkTruth | None,
    boundary: BoundaryData | None,
    path: Path,
    report: ValidationReport,
) -> dict[str, Any]:
    """Meta of a legacy file, named as the schema names it; the renaming is reported once."""
    from holopipe.artifacts.identity import system_id

    name = root.get("name", path.stem)
    raw: dict[str, Any] = {k: root[k] for k in ("family", "d", "z_h", "category") if k in root}
    raw["system_name"] = name
    raw["params"] = {k: root[k] for k in _LEGACY_PARAMS if k in root}
    if boundary is not None:
        raw["temperature"] = boundary.temperature
    if truth is not None:
        # LEGACY.md: name plus a hash of the defining physics, truth arrays included, so
        # that twin files share an id and same-named different physics does not.
        defining = {
            k: root[k] for k in ("family", "category", "d", "z_h", *_LEGACY_PARAMS) if k in root
        }
        defining["operators"] = converter.unstructure(truth.operators)
        defining.update(z_grid=truth.z_grid, A_truth=truth.A_truth, f_truth=truth.f_truth)
        raw["system_id"] = system_id(defining, name=str(name))
    report.warning(
        "legacy_layout",
        "<file>",
        "read as a legacy sandbox: name -> system_name, operators (root, m2L2 -> m2) -> "
        "bulk_truth.operators, T from boundary/temperature, boundary exact = 0 and method = "
        "'legacy' when absent, system_id computed from the physics (LEGACY.md)",
    )
    return raw
