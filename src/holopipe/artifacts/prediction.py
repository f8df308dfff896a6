"""GeometryPrediction: a reconstructed bulk geometry (output of stage 02), stored as NPZ.

Members: ``z``, ``A``, ``f`` (1-D float, same length, finite, ``z`` strictly increasing,
``z > 0``), optionally ``R``, ``A_t``, ``A_z``, and ``meta_json``, a JSON string holding
the header (``schema_name``, ``schema_version``) and :class:`GeometryMeta`.

``meta.operators`` (optional) lists the operator dimensions the producing stage *measured*
from the boundary data, each :class:`MeasuredDimension` ``{name, Delta, Delta_err, method}``;
stages 08 and 09 read them. It was added without a schema version bump: it is optional (a
0.1 file without it is still a valid 0.1 file and means "nothing measured"), no required
field changed, and an older reader meets it as an unknown key (a warning, the file still
reads), which is the registry's rule for gaining fields.

Examples
--------
>>> import tempfile, pathlib
>>> g = GeometryPrediction.example()
>>> path = g.write(pathlib.Path(tempfile.mkdtemp()) / "ads_geometry.npz")
>>> GeometryPrediction.read(path) == g
True
>>> GeometryPrediction.validate_file(path).exit_code
0
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Self

import attrs
import numpy as np

from holopipe.artifacts._arrays import array_field, optional_array_field
from holopipe.artifacts.base import Artifact, structure_versioned
from holopipe.artifacts.checks import (
    check_d_against_name,
    check_equal_lengths,
    check_family,
    check_finite,
    check_float_array,
    check_strictly_increasing,
)
from holopipe.artifacts.io import atomic_write_bytes, dumps_json, npz_bytes
from holopipe.artifacts.report import ValidationReport
from holopipe.artifacts.safety import read_npz_members
from holopipe.artifacts.structure import check_structure, converter

if TYPE_CHECKING:
    from holopipe.artifacts.sniff import Sniffed


__all__ = ["GeometryMeta", "GeometryPrediction", "MeasuredDimension"]

# Legacy member names seen in old prediction files (LEGACY.md), used for hints only.
_LEGACY_NAMES = {
    "z": ("z_grid",),
    "A": ("A_pred", "A_of_z", "A_emergent"),
    "f": ("f_pred", "f_of_z", "f_emergent"),
}

_OPERATOR_NAME = re.compile(r"^[A-Za-z0-9_]+$")


@attrs.define
class MeasuredDimension:
    """A scaling dimension measured from an operator's two-point function."""

    name: str = attrs.field(metadata={"doc": "operator name (the G2_<name> it was read from)"})
    Delta: float = attrs.field(metadata={"doc": "measured scaling dimension"})
    Delta_err: float = attrs.field(metadata={"doc": "one-sigma uncertainty of Delta, >= 0"})
    method: str = attrs.field(metadata={"doc": "how it was measured (fit and window)"})


@attrs.define
class GeometryMeta:
    """Metadata of a geometry prediction (the ``meta_json`` member)."""

    system_id: str = attrs.field(metadata={"doc": "stable id, see holopipe.artifacts.identity"})
    family: str = attrs.field(metadata={"doc": "ads | lifshitz | hvlf | deformed | unknown"})
    d: int = attrs.field(metadata={"doc": "boundary spacetime dimension (CFT_d)"})
    z_h: float | None = attrs.field(metadata={"doc": "horizon position; null at zero temperature"})
    source_stage: str = attrs.field(
        metadata={"doc": "stage that produced it, e.g. 02_emergent_geometry_engine"}
    )
    git_sha: str = attrs.field(metadata={"doc": "code version that produced it"})
    system_name: str | None = attrs.field(default=None, metadata={"doc": "human name"})
    temperature: float | None = attrs.field(
        default=None, metadata={"doc": "T of the boundary theory"}
    )
    params: dict[str, float] = attrs.field(
        factory=dict, metadata={"doc": "family parameters (zeta, theta, a)"}
    )
    provenance: dict[str, Any] = attrs.field(
        factory=dict, metadata={"doc": "method, inputs, legacy origin"}
    )
    operators: list[MeasuredDimension] | None = attrs.field(
        default=None,
        metadata={"doc": "dimensions measured from the boundary data (null: none measured)"},
    )


@attrs.define
class GeometryPrediction(Artifact):
    """A reconstructed geometry in the metric ansatz of PHYSICS.md."""

    SCHEMA_NAME: ClassVar[str] = "GeometryPrediction"
    SCHEMA_VERSION: ClassVar[str] = "0.1"
    FORMAT: ClassVar[str] = "npz"
    CONTAINERS: ClassVar[tuple[str, ...]] = ("zip",)
    SUFFIXES: ClassVar[tuple[str, ...]] = ("_geometry.npz", ".npz")
    REQUIRED: ClassVar[tuple[str, ...]] = ("z", "A", "f")
    OPTIONAL: ClassVar[tuple[str, ...]] = ("R", "A_t", "A_z")
    # _load checks every array member (check_float_array) and the meta as read
    # (structure_versioned): the walk of _check_fields would repeat both.
    LOAD_CHECKS_FIELDS: ClassVar[bool] = True

    z: np.ndarray = array_field("radial coordinate, boundary at z -> 0, strictly increasing")
    A: np.ndarray = array_field("warp factor A(z) (A_x; all three when conformal)")
    f: np.ndarray = array_field("blackening factor f(z), exact (never clipped)")
    meta: GeometryMeta = attrs.field(metadata={"doc": "stored as the meta_json member"})
    R: np.ndarray | None = optional_array_field("Ricci scalar, if computed")
    A_t: np.ndarray | None = optional_array_field("A_t(z) when it differs from A")
    A_z: np.ndarray | None = optional_array_field("A_z(z) when it differs from A")

    def arrays(self) -> dict[str, np.ndarray]:
        """The array members that are present."""
        names = self.REQUIRED + self.OPTIONAL
        return {n: getattr(self, n) for n in names if getattr(self, n) is not None}

    @classmethod
    def matches_content(cls, found: Sniffed) -> bool:
        """An NPZ without ``meta_json`` is ours if it has a ``z`` and an ``A`` (or the legacy
        ``A_pred``) member."""
        names = set(found.signature)
        return "z.npy" in names and bool({"A.npy", "A_pred.npy"} & names)

    @classmethod
    def _load(cls, path: Path, report: ValidationReport) -> Self | None:
        members = read_npz_members(path, report)
        if members is None:
            return None
        for key in (*cls.REQUIRED, "meta_json"):
            if key not in members and not any(f.location == key for f in report.findings):
                legacy = [n for n in _LEGACY_NAMES.get(key, ()) if n in members]
                hint = (
                    f" (legacy member {legacy[0]!r} present: this is a legacy prediction file)"
                    if legacy
                    else ""
                )
                report.error("missing_key", key, f"required member is missing{hint}")
        arrays_ok = all(
            check_float_array(members[k], k, report)
            for k in cls.REQUIRED + cls.OPTIONAL
            if k in members
        )
        meta = cls._load_meta(members.get("meta_json"), report)
        if not report.ok or meta is None or not arrays_ok:
            return None
        return cls(
            meta=meta, **{k: members[k] for k in cls.REQUIRED + cls.OPTIONAL if k in members}
        )

    @classmethod
    def _load_meta(cls, raw: np.ndarray | None, report: ValidationReport) -> GeometryMeta | None:
        if raw is None:
            return None
        if raw.dtype.kind != "U" or raw.ndim != 0:
            report.error(
                "wrong_dtype", "meta_json", f"expected a 0-d string, got {raw.dtype} {raw.shape}"
            )
            return None
        try:
            doc = json.loads(str(raw), parse_constant=_reject_constant)
        except ValueError as exc:
            report.error("malformed_json", "meta_json", str(exc))
            return None
        return structure_versioned(
            doc, cls.SCHEMA_NAME, cls.SCHEMA_VERSION, GeometryMeta, report, "meta_json"
        )

    def _check_fields(self, report: ValidationReport) -> None:
        for name, array in self.arrays().items():
            check_float_array(array, name, report)
        check_structure(GeometryMeta, converter.unstructure(self.meta), report, "meta_json")

    def _check(self, report: ValidationReport) -> None:
        arrays = self.arrays()
        if not all(
            isinstance(a, np.ndarray) and a.ndim == 1 and a.dtype.kind == "f"
            for a in arrays.values()
        ):
            return  # structure findings already say why
        check_equal_lengths(arrays, report)
        for name, array in arrays.items():
            check_finite(array, name, report)
        if np.isfinite(self.z).all():
            check_strictly_increasing(self.z, "z", report)
            if self.z[0] <= 0:
                report.error(
                    "bad_value",
                    "z",
                    f"z must be > 0 (boundary at z -> 0), got z[0] = {self.z[0]!r}",
                )
        meta = self.meta
        check_family(meta.family, "meta_json.family", report)
        check_d_against_name(meta.d, meta.system_name or meta.system_id, "meta_json.d", report)
        if meta.z_h is not None and not meta.z_h > 0:
            report.error("bad_value", "meta_json.z_h", f"z_h must be positive, got {meta.z_h!r}")
        _check_operators(meta.operators or [], report)

    def _dump(self, path: Path) -> None:
        header = {"schema_name": self.SCHEMA_NAME, "schema_version": self.SCHEMA_VERSION}
        meta_json = dumps_json({**header, **converter.unstructure(self.meta)})
        arrays = {**self.arrays(), "meta_json": np.array(meta_json)}
        atomic_write_bytes(path, npz_bytes(arrays))

    def to_xarray(self):
        """An ``xarray.Dataset`` on the ``z`` coordinate; meta in ``attrs``; CF ``units`` and
        ``long_name`` on every variable (:mod:`holopipe.artifacts.cf`)."""
        import xarray as xr

        data = {n: ("z", a) for n, a in self.arrays().items() if n != "z"}
        attrs_ = {
            k: json.dumps(v) if isinstance(v, dict) else v
            for k, v in converter.unstructure(self.meta).items()
            if v is not None
        }
        ds = xr.Dataset(
            data,
            coords={"z": self.z},
            attrs={
                "schema_name": self.SCHEMA_NAME,
                "schema_version": self.SCHEMA_VERSION,
                **attrs_,
            },
        )
        from holopipe.artifacts.cf import field_docs, with_cf_attributes

        return with_cf_attributes(ds, field_docs(type(self)))

    @classmethod
    def example(cls) -> Self:
        """AdS-Schwarzschild in d = 3 with z_h = 1 on 64 points."""
        z = np.geomspace(1e-3, 0.99, 64)
        from holopipe.artifacts.identity import system_id

        ident = {"family": "ads", "d": 3, "z_h": 1.0, "params": {}}
        meta = GeometryMeta(
            system_id=system_id(ident),
            family="ads",
            d=3,
            z_h=1.0,
            source_stage="example",
            git_sha="0000000",
            system_name="ads_d3_example",
            temperature=3 / (4 * np.pi),
        )
        return cls(z=z, A=-np.log(z), f=1 - z**3, meta=meta)


def _check_operators(operators: list[MeasuredDimension], report: ValidationReport) -> None:
    seen: set[str] = set()
    for i, op in enumerate(operators):
        where = f"meta_json.operators[{i}]"
        if not isinstance(op.name, str) or not _OPERATOR_NAME.match(op.name):
            report.error("bad_value", f"{where}.name", f"{op.name!r} must match [A-Za-z0-9_]+")
        elif op.name in seen:
            report.error("duplicate_operator", f"{where}.name", f"{op.name!r} listed twice")
        seen.add(op.name)
        if isinstance(op.Delta, (int, float)) and not math.isfinite(op.Delta):
            report.error("nonfinite", f"{where}.Delta", f"Delta must be finite, got {op.Delta!r}")
        err = op.Delta_err
        if isinstance(err, (int, float)) and not (math.isfinite(err) and err >= 0):
            report.error("bad_value", f"{where}.Delta_err", f"must be finite and >= 0, got {err!r}")
        if isinstance(op.method, str) and not op.method:
            report.error("bad_value", f"{where}.method", "must be a non-empty string")


def _reject_constant(token: str) -> float:
    raise ValueError(f"bare {token} token (not valid JSON)")
