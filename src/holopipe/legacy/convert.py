"""Conversions of legacy files into current artifact types, every assumption recorded.

- :func:`convert_sandbox`: a legacy sandbox universe (HDF5) -> :class:`SandboxGeometry`.
- :func:`convert_prediction`: a training-mode prediction NPZ -> :class:`GeometryPrediction`,
  its meta (d, family, system_id, name, T, params) taken from the sandbox file it is bound
  to by *equal truth arrays* (``z``/``A_truth``/``f_truth`` against ``z_grid``/``A_truth``/
  ``f_truth``), never by folder or name.
- :func:`convert_eigenmodes`: a ``bulk_modes`` JSON (``systems[{geometry_name, d, family,
  Delta_bulk_uv[], lambda_sl_bulk[]}]``) -> :class:`EigenmodesDataset`.

Reconciliation rule for a sandbox (also in the README):

1. ``d``, ``family``, ``z_h``, ``theta``, ``z_dyn``, ``deformation``: the root attribute
   wins. The same quantity stated elsewhere (group attributes ``bulk_truth.*``,
   ``boundary.*``, the ``boundary/d`` dataset) must agree; every disagreement is a finding.
   The ``_d<k>_`` token of the name is a name, not data: when it disagrees with ``d`` the
   finding ``d_name_mismatch`` is reported and the converted ``system_name`` carries the
   data's ``d`` (``ads_d3_x`` -> ``ads_d4_x``); the legacy name is kept in the provenance.
   ``system_id`` is the one the legacy reader computes (original name + hash of the
   defining physics and truth arrays, LEGACY.md), so twins share it.
2. Family ``hyperscaling`` is ``hvlf`` (reported).
3. The truth grid keeps the points strictly inside the horizon (``z < z_h``): legacy files
   run the grid past it with ``f`` clipped to 0 (reported as ``f_clipped``); the number of
   points dropped is in the provenance. Arrays are never otherwise changed.
4. Variables outside the schema (``G_R_*``, ``k_grid``, ``central_charge_eff``, ...) are not
   converted; the provenance lists them. They stay available through the linked original.

A prediction's ``A_pred`` is taken as stored, ``A(z)`` on its grid ``z`` (never rescaled
or re-gridded). Its UV slope ``dA/d ln z`` over the first decade of the grid is measured
(:func:`uv_slope`) and compared with its ``A_truth``'s on the same points (or with -1):
off by more than :data:`UV_SLOPE_TOLERANCE` is ``not_asymptotically_ads``, for families
whose A has UV exponent 1 (the measurement is the provenance's ``uv_slope``).

Every finding has a code, a location and a message; a conversion that cannot produce a valid
artifact returns ``None`` with findings saying why.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from holopipe.artifacts.checks import name_d_token
from holopipe.artifacts.eigenmodes import (
    ConversionProvenance,
    EigenmodeRow,
    EigenmodesDataset,
)
from holopipe.artifacts.identity import system_id as make_system_id
from holopipe.artifacts.prediction import GeometryMeta, GeometryPrediction
from holopipe.artifacts.report import Finding
from holopipe.artifacts.safety import open_netcdf
from holopipe.artifacts.sandbox import BulkTruth, SandboxGeometry
from holopipe.legacy.outline import Hdf5Outline, NpzOutline, read_members

__all__ = [
    "CONVERTER_VERSION",
    "FAMILY_CODES",
    "Conversion",
    "SandboxIndex",
    "convert_eigenmodes",
    "convert_prediction",
    "convert_sandbox",
    "truth_key",
    "uv_slope",
]

#: Bumped when a conversion changes what it writes (part of the import fingerprint).
CONVERTER_VERSION = "2"
#: Integer family codes of the legacy training engine (LEGACY.md).
FAMILY_CODES = {0: "ads", 1: "lifshitz", 2: "hvlf", 3: "deformed", 4: "unknown"}
_LEGACY_FAMILY_NAMES = {"hyperscaling": "hvlf"}
#: Families whose warp A (= A_x) has UV exponent 1, dA/d ln z -> -1 (PHYSICS.md's table).
UV_EXPONENT_ONE_FAMILIES = ("ads", "deformed", "lifshitz")
#: Allowed |dA/d ln z - reference| over the first decade (the UV-asymptotics contract's).
UV_SLOPE_TOLERANCE = 0.02
_RECONCILED = ("family", "d", "z_h", "theta", "z_dyn", "deformation")
# Findings of the legacy reader that describe the legacy layout itself, not a data problem:
# the conversion resolves them (and says so in the provenance).
_LAYOUT_CODES = {"missing_schema", "legacy_layout", "unknown_variable", "unknown_key"}
# Data problems the conversion handles by the documented rule (reported, then converted).
_HANDLED_CODES = {
    "d_name_mismatch",
    "grid_beyond_horizon",
    "f_clipped",
    "bad_family",
    "d_inconsistent",
}


@attrs.define
class Conversion:
    """The outcome of one conversion: the artifact (or None) and what was found/assumed."""

    artifact: Any = None
    findings: list[Finding] = attrs.field(factory=list)
    system_id: str | None = None
    bindable: Any = attrs.field(
        default=None, metadata={"doc": "a sandbox good enough to bind predictions to, valid or not"}
    )

    def add(self, code: str, location: str, message: str, severity: str = "warning") -> None:
        self.findings.append(Finding(code, location, message, severity))


def truth_key(z: np.ndarray, A: np.ndarray, f: np.ndarray) -> bytes:
    """Exact binding key of a truth geometry (float64 bytes of z, A, f)."""
    parts = [np.ascontiguousarray(np.asarray(a, dtype="<f8")).tobytes() for a in (z, A, f)]
    return b"|".join(len(p).to_bytes(8, "little") + p for p in parts)


@attrs.define
class SandboxIndex:
    """Converted sandboxes by truth arrays (for binding predictions) and by legacy name."""

    by_truth: dict[bytes, list[tuple[str, SandboxGeometry]]] = attrs.field(factory=dict)
    by_name: dict[str, list[tuple[str, SandboxGeometry]]] = attrs.field(factory=dict)

    def add(self, rel: str, key: bytes, legacy_name: str, sandbox: SandboxGeometry) -> None:
        self.by_truth.setdefault(key, []).append((rel, sandbox))
        self.by_name.setdefault(legacy_name, []).append((rel, sandbox))


def _differences(outline: Hdf5Outline) -> list[tuple[str, dict[str, Any]]]:
    """Quantities stated in several places of one file with different values."""
    found = []
    for name in _RECONCILED:
        places: dict[str, Any] = {}
        if name in outline.root.attrs:
            places[name] = outline.root.attrs[name]
        for gname, group in outline.groups.items():
            if name in group.attrs:
                places[f"{gname}.{name}"] = group.attrs[name]
        if len({repr(_plain(v)) for v in places.values()}) > 1:
            found.append((name, places))
    return found


def _plain(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list) and len(value) == 1:
        return _plain(value[0])
    return value


def _renamed_for_d(name: str, d: int) -> str:
    return re.sub(r"(?:(?<=^)|(?<=_))d\d+(?=_|$)", f"d{d}", name)


def convert_sandbox(
    path: Path, rel: str, outline: Hdf5Outline, sha256: str
) -> tuple[Conversion, bytes | None, str | None]:
    """Legacy sandbox HDF5 -> SandboxGeometry; also its truth binding key and legacy name."""
    out = Conversion()
    oversized = outline.oversized()
    if oversized:
        out.add(
            "oversized_array",
            oversized[0],
            f"declared larger than the array limit ({', '.join(oversized[:3])}): not loaded",
            "error",
        )
        return out, None, None
    report, legacy = SandboxGeometry.read_with_report(path)
    if legacy is None:
        for f in report.findings:
            if f.code not in _LAYOUT_CODES:
                out.findings.append(f)
        out.add("not_converted", "<file>", "the legacy sandbox could not be read", "error")
        return out, None, None
    meta = legacy.meta
    key = truth_key(legacy.truth.z_grid, legacy.truth.A_truth, legacy.truth.f_truth)
    assumptions = [
        "root attributes win over group attributes (every disagreement is a finding)",
        "boundary data: exact = false, method = 'legacy' (the legacy files do not record it)",
        "system_id: legacy name + hash of the root physics attributes and truth arrays",
    ]
    family = _LEGACY_FAMILY_NAMES.get(meta.family, meta.family)
    for f in report.findings:
        if f.code in _LAYOUT_CODES or (f.code == "bad_family" and family != meta.family):
            continue
        # d_inconsistent of the reader is reported below with every place that states it.
        if f.code != "d_inconsistent":
            out.findings.append(Finding(f.code, f.location, f.message, "warning"))
    for name, places in _differences(outline):
        detail = ", ".join(f"{k}={_plain(v)!r}" for k, v in places.items())
        code = "d_inconsistent" if name == "d" else "attribute_inconsistent"
        out.add(
            code,
            name,
            f"{name} differs between the places that state it: {detail}; "
            "the root attribute is used",
        )
    boundary = outline.groups.get("boundary")
    if boundary and "d" in boundary.variables and "d" in outline.root.attrs:
        with open_netcdf(path) as ds:
            stated = np.asarray(ds["boundary"].variables["d"][...]).ravel().tolist()
        if stated and any(int(v) != int(outline.root.attrs["d"]) for v in stated):
            out.add(
                "d_inconsistent",
                "boundary/d",
                f"boundary/d = {stated} but the root attribute d = {outline.root.attrs['d']}; "
                "the root attribute is used",
            )
    if family != meta.family:
        out.add("family_renamed", "family", f"legacy family {meta.family!r} is {family!r}")
        assumptions.append(f"family {meta.family!r} read as {family!r}")
    system_name = meta.system_name
    token = name_d_token(system_name)
    if token is not None and token != meta.d:
        system_name = _renamed_for_d(system_name, meta.d)
        assumptions.append(
            f"the name says d{token} but every attribute says d = {meta.d}: the data win, "
            f"system_name {meta.system_name!r} -> {system_name!r}"
        )
    # The id keeps the legacy hash of the physics; its readable prefix is the converted name
    # (a prefix contradicting d would fail every downstream artifact's d check).
    prefix = make_system_id({}, name=system_name).rsplit("-", 1)[0]
    sid = f"{prefix}-{meta.system_id.rsplit('-', 1)[1]}"
    out.system_id = sid
    if sid != meta.system_id:
        assumptions.append(f"system_id {meta.system_id!r} -> {sid!r} (same physics hash)")
    truth = legacy.truth
    kept = len(truth.z_grid)
    if meta.z_h is not None:
        inside = truth.z_grid < meta.z_h
        kept = int(inside.sum())
        if kept < len(truth.z_grid):
            truth = BulkTruth(
                **{n: a[inside] for n, a in truth.arrays().items()}, operators=truth.operators
            )
            assumptions.append(
                f"truth grid cut to z < z_h = {meta.z_h!r}: {len(legacy.truth.z_grid) - kept} "
                "of the legacy points lie at or past the horizon"
            )
    for i, op in enumerate(truth.operators):
        if not op.Delta > 0:
            out.add(
                "negative_delta",
                f"operators[{i}]",
                f"operator {op.name!r} has Delta = {op.Delta!r}",
            )
    dropped = sorted(
        [
            f"bulk_truth/{v}"
            for v in outline.groups["bulk_truth"].variables
            if v not in truth.arrays()
        ]
        + [
            f"boundary/{v}"
            for v in (boundary.variables if boundary else {})
            if v not in ("x_grid", "temperature") and not v.startswith("G2_")
        ]
    )
    provenance = {
        "legacy_path": rel,
        "legacy_sha256": sha256,
        "legacy_kind": "sandbox_universe",
        "legacy_name": meta.system_name,
        "converter": f"holopipe.legacy.convert_sandbox v{CONVERTER_VERSION}",
        "assumptions": assumptions,
        "not_converted": dropped,
        "findings": sorted({f.code for f in out.findings}),
    }
    converted = SandboxGeometry(
        meta=attrs.evolve(
            meta, system_id=sid, family=family, system_name=system_name, provenance=provenance
        ),
        truth=truth,
        boundary=legacy.boundary,
    )
    out.bindable = converted
    check = converted.validate()
    if kept < 3:
        out.add(
            "not_converted",
            "bulk_truth/z_grid",
            f"only {kept} grid points inside the horizon",
            "error",
        )
    elif not check.ok:
        why = "; ".join(f"{f.code} [{f.location}]" for f in check.errors[:5])
        out.add(
            "not_converted", "<file>", f"the converted sandbox would be invalid: {why}", "error"
        )
    else:
        out.artifact = converted
    return out, key, meta.system_name


def uv_slope(z: np.ndarray, A: np.ndarray) -> tuple[float, float, int] | None:
    """Least-squares ``dA/d ln z`` over the first decade of the grid (``z <= 10 z[0]``).

    ``(slope, z_end, points)``, or None when the grid is not positive and increasing or
    the first decade holds fewer than 2 points. It measures the data, with no model of
    the UV: a warp that is flat near the boundary has slope 0, AdS has -1.

    >>> z = np.geomspace(0.01, 1.0, 50)
    >>> round(uv_slope(z, -np.log(z))[0], 12), round(uv_slope(z, np.zeros_like(z))[0], 12)
    (-1.0, 0.0)
    """
    z = np.asarray(z, dtype=float)
    A = np.asarray(A, dtype=float)
    if z.ndim != 1 or z.shape != A.shape or z.size < 2 or not z[0] > 0:
        return None
    if not (np.all(np.diff(z) > 0) and np.all(np.isfinite(A))):
        return None
    window = z <= 10 * z[0]
    if window.sum() < 2:
        return None
    slope = float(np.polyfit(np.log(z[window]), A[window], 1)[0])
    return slope, float(z[window][-1]), int(window.sum())


def _uv_record(
    members: dict[str, np.ndarray], family: str, out: Conversion
) -> dict[str, Any] | None:
    """The UV slope of A_pred, compared with A_truth's on the same points (or -1), as a
    provenance entry; a ``not_asymptotically_ads`` finding when they disagree.

    Only for families whose A has UV exponent 1: their A_truth is asymptotically AdS, and
    stages that need the AdS boundary (06's scalar solver, 08's dictionary) refuse a
    prediction that is not. Reported at import time, so nobody learns it at stage 06.
    """
    measured = uv_slope(members["z"], members["A_pred"])
    if family not in UV_EXPONENT_ONE_FAMILIES or measured is None:
        return None
    slope, z_end, points = measured
    truth = uv_slope(members["z"], members["A_truth"]) if "A_truth" in members else None
    reference = truth[0] if truth is not None else -1.0
    record = {
        "window": [float(members["z"][0]), z_end],
        "points": points,
        "dA_dlnz": slope,
        "truth_dA_dlnz": None if truth is None else truth[0],
        "tolerance": UV_SLOPE_TOLERANCE,
    }
    if abs(slope - reference) > UV_SLOPE_TOLERANCE:
        against = "A_truth's" if truth is not None else "AdS's"
        out.add(
            "not_asymptotically_ads",
            "A_pred",
            f"dA/d ln z = {slope:.4f} over the first decade z in [{record['window'][0]:.4g}, "
            f"{z_end:.4g}] ({points} points), {against} on the same points is "
            f"{reference:.4f} (family {family!r}): the predicted warp is not asymptotically "
            "AdS: stage 06's scalar solver refuses it (not_applicable rows)",
        )
    return record


def _scalar(members: dict[str, np.ndarray], key: str) -> Any:
    value = members.get(key)
    if value is None or value.size != 1:
        return None
    return value.item()


def _ancestor_folder(sandbox_rel: str, npz_rel: str) -> bool:
    """Whether the sandbox's folder contains the prediction (its own experiment folder)."""
    folder = os.path.dirname(sandbox_rel)
    return folder == "" or npz_rel.startswith(folder + "/")


def _bind(
    members: dict[str, np.ndarray], rel: str, index: SandboxIndex, out: Conversion
) -> tuple[str, SandboxGeometry] | None:
    if not all(k in members for k in ("z", "A_truth", "f_truth")):
        out.add(
            "unbound_prediction",
            "<file>",
            "no truth arrays (z, A_truth, f_truth) to bind it by",
            "error",
        )
        return None
    candidates = index.by_truth.get(
        truth_key(members["z"], members["A_truth"], members["f_truth"]), []
    )
    if not candidates:
        out.add(
            "unbound_prediction",
            "<file>",
            "no sandbox universe in the imported tree has these truth arrays: d, family and "
            "system_id cannot be recovered",
            "error",
        )
        return None
    own = [c for c in candidates if _ancestor_folder(c[0], rel)]
    chosen = sorted(own or candidates, key=lambda c: (c[0].count("/"), c[0]))[0]
    if len({c[1].meta.system_id for c in candidates}) > 1:
        out.add(
            "ambiguous_binding",
            "<file>",
            f"{len(candidates)} sandboxes share these truth arrays with different ids: "
            f"bound to {chosen[0]}",
        )
    if not own:
        out.add(
            "bound_to_other_folder",
            "<file>",
            f"the sandbox with these truth arrays is {chosen[0]}, outside this prediction's folder",
        )
    return chosen


def convert_prediction(
    path: Path, rel: str, outline: NpzOutline, sha256: str, index: SandboxIndex
) -> Conversion:
    """Training-mode prediction NPZ -> GeometryPrediction, bound to its sandbox by truth arrays."""
    out = Conversion()
    for key, problem in sorted(outline.problems.items()):
        out.add("unreadable_member", key, problem, "error")
    for key, info in sorted(outline.members.items()):
        if info.is_object:
            out.add("object_array", key, "stored as an object array (needs pickle): not loaded")
        elif not info.loadable:
            out.add("oversized_array", key, f"declares {info.nbytes} bytes: not loaded", "error")
    members = read_members(path, outline)
    missing = [k for k in ("z", "A_pred", "f_pred") if k not in members]
    if missing or outline.problems:
        out.add(
            "not_converted",
            missing[0] if missing else "<file>",
            "required members unreadable",
            "error",
        )
        return out
    bound = _bind(members, rel, index, out)
    if bound is None:
        return out
    sandbox_rel, sandbox = bound
    smeta = sandbox.meta
    legacy_name = smeta.provenance.get("legacy_name", smeta.system_name)
    stem = Path(rel).name.removesuffix(".npz").removesuffix("_geometry")
    if stem != legacy_name:
        out.add(
            "name_mismatch",
            "<file>",
            f"file stem {stem!r} but the bound sandbox is {legacy_name!r}",
        )
    token = name_d_token(stem)
    if token is not None and token != smeta.d:
        out.add(
            "d_name_mismatch",
            "<file>",
            f"the file name says d{token}, the bound sandbox says d = {smeta.d}",
        )
    family_truth = _scalar(members, "family_truth")
    if family_truth is not None and FAMILY_CODES.get(int(family_truth)) != smeta.family:
        out.add(
            "family_mismatch",
            "family_truth",
            f"family code {family_truth} ({FAMILY_CODES.get(int(family_truth), '?')}) but the "
            f"bound sandbox is {smeta.family!r}",
        )
    family_pred = _scalar(members, "family_pred")
    zh_pred = _scalar(members, "zh_pred")
    zh_truth = _scalar(members, "zh_truth")
    z_h = float(zh_pred) if zh_pred is not None and math.isfinite(zh_pred) and zh_pred > 0 else None
    assumptions = [
        f"bound to {sandbox_rel} by equal truth arrays (z, A_truth, f_truth)",
        "d, family, system_id, system_name, temperature and params are the bound sandbox's",
        "z_h is the engine's zh_pred" if z_h is not None else "no usable zh_pred: z_h = null",
        "A = A_pred, f = f_pred, R = R_pred as stored (float32 widened to float64)",
    ]
    f_pred = np.asarray(members["f_pred"], dtype=np.float64)
    z = np.asarray(members["z"], dtype=np.float64)
    if z_h is not None:
        past = z >= z_h
        if past.any() and np.all(f_pred[past] == 0.0):
            out.add(
                "f_clipped",
                "f_pred",
                f"f_pred is exactly 0 at all {int(past.sum())} points past zh_pred",
            )
    uv = _uv_record(members, smeta.family, out)
    if uv is not None:
        assumptions.append(
            "A_pred read as A(z) on the grid z as stored (not de-normalised, no change of "
            "coordinate); its UV slope is in uv_slope"
        )
    R = members.get("R_pred")
    if R is not None and np.isfinite(R).all() and np.abs(R).max() > 1e6:
        out.add("huge_curvature", "R_pred", f"max |R_pred| = {np.abs(R).max():.3g}")
    provenance = {
        "legacy_path": rel,
        "legacy_sha256": sha256,
        "legacy_kind": "prediction_training",
        "bound_sandbox": sandbox_rel,
        "bound_by": "equal truth arrays",
        "converter": f"holopipe.legacy.convert_prediction v{CONVERTER_VERSION}",
        "assumptions": assumptions,
        "legacy_family_pred": FAMILY_CODES.get(int(family_pred), f"code {family_pred}")
        if family_pred is not None
        else None,
        "legacy_zh_truth": zh_truth,
        "legacy_category": str(members["category"]) if "category" in members else None,
        "uv_slope": uv,
        "not_converted": sorted(
            k for k in outline.members if k not in ("z", "A_pred", "f_pred", "R_pred")
        ),
        "findings": sorted({f.code for f in out.findings}),
    }
    meta = GeometryMeta(
        system_id=smeta.system_id,
        family=smeta.family,
        d=smeta.d,
        z_h=z_h,
        source_stage="02_emergent_geometry_engine (legacy)",
        git_sha="unknown (legacy)",
        system_name=smeta.system_name,
        temperature=smeta.temperature,
        params=dict(smeta.params),
        provenance=provenance,
    )
    prediction = GeometryPrediction(
        z=z,
        A=np.asarray(members["A_pred"], dtype=np.float64),
        f=f_pred,
        R=None if R is None else np.asarray(R, dtype=np.float64),
        meta=meta,
    )
    check = prediction.validate()
    if not check.ok:
        for f in check.errors:
            out.add(f.code, f.location, f"converted prediction invalid: {f.message}", "error")
        return out
    out.artifact = prediction
    out.system_id = smeta.system_id
    return out


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    return [] if value is None else [value]


def convert_eigenmodes(doc: Any, rel: str, sha256: str, index: SandboxIndex) -> Conversion:
    """``bulk_modes`` JSON -> EigenmodesDataset (one row per listed mode).

    ``M2`` is the legacy ``lambda_sl_bulk`` (the Sturm-Liouville eigenvalue), ``Delta`` the
    legacy ``Delta_bulk_uv``; the bulk mass ``m2`` is not stored by the legacy solver and is
    derived as ``Delta (Delta - d)`` (branch ``+``). A system is converted only when a
    sandbox of its ``geometry_name`` is in the imported tree (its system_id, family, d and
    horizon are taken from it); the interval is assumed to be ``(0, z_h)`` on the sandbox's
    grid (``n_grid`` = its points) and the boundary conditions, not recorded, are
    ``unknown``; ``method`` is ``legacy:<solver>``. Rows with a non-positive or non-finite
    Delta get the quality ``error`` (a finding, the reason in ``method``), the others ``ok``.
    All of this is written into the dataset's ``meta.provenance`` (source path and sha256,
    solver, :data:`EIGENMODES_INFERRED` per column, the sandbox of each system, findings).
    """
    out = Conversion()
    systems = doc.get("systems") if isinstance(doc, dict) else None
    if not isinstance(systems, list) or not systems:
        out.add("empty_artifact", "systems", "no systems: nothing to convert", "error")
        return out
    rows: list[EigenmodeRow] = []
    solver = doc.get("solver_module", doc.get("source", "unknown"))
    solver = solver if isinstance(solver, str) and solver.strip() else "unknown"
    unbound: list[str] = []
    bound_sandboxes: dict[str, str] = {}
    negative = 0
    for i, system in enumerate(systems):
        where = f"systems[{i}]"
        if not isinstance(system, dict):
            out.add("wrong_type", where, "not an object: skipped", "error")
            continue
        name = system.get("geometry_name") or system.get("system_name") or system.get("name")
        deltas = _as_list(system.get("Delta_bulk_uv", system.get("Delta_UV")))
        lambdas = _as_list(system.get("lambda_sl_bulk", system.get("lambda_sl")))
        if not isinstance(name, str) or not deltas:
            out.add("missing_key", where, "no geometry_name or no Delta_bulk_uv: skipped", "error")
            continue
        bound = index.by_name.get(name, [])
        if len({s.meta.system_id for _, s in bound}) != 1:
            unbound.append(name)
            continue
        sandbox_rel, sandbox = bound[0]
        smeta = sandbox.meta
        sid, family, d = smeta.system_id, smeta.family, smeta.d
        if system.get("d") not in (None, d):
            out.add(
                "d_mismatch",
                f"{where}.d",
                f"d = {system.get('d')} but the sandbox {name!r} says {d}",
            )
        if smeta.z_h is None:
            unbound.append(name)
            continue
        bound_sandboxes[sid] = sandbox_rel
        for mode, delta in enumerate(deltas):
            lam = lambdas[mode] if mode < len(lambdas) else float("nan")
            delta = float(delta) if isinstance(delta, (int, float)) else float("nan")
            lam = float(lam) if isinstance(lam, (int, float)) else float("nan")
            method = f"legacy:{solver}"
            if not (math.isfinite(delta) and math.isfinite(lam)):
                quality, method = "error", f"{method} (non-finite Delta or lambda_sl)"
            elif delta <= 0:
                quality, method = "error", f"{method} (Delta <= 0: a legacy solver bug)"
                negative += 1
            else:
                quality = "ok"
            rows.append(
                EigenmodeRow(
                    system_id=sid,
                    family=family,
                    d=d,
                    m2=delta * (delta - d) if math.isfinite(delta) else float("nan"),
                    Delta=delta,
                    branch="+",
                    mode_id=mode,
                    M2=lam,
                    quality=quality,
                    bc_uv="unknown",
                    bc_ir="unknown",
                    z_uv=0.0,
                    z_ir=float(smeta.z_h),
                    n_grid=len(sandbox.truth.z_grid),
                    method=method,
                    z_h=float(smeta.z_h),
                )
            )
    if negative:
        out.add(
            "negative_delta",
            "systems",
            f"{negative} modes with Delta <= 0 (a solver bug, not physics): "
            "rows with quality error",
        )
    if unbound:
        out.add(
            "unbound_system",
            "systems",
            f"{len(unbound)} systems with no (unique) sandbox of that name and a horizon in the "
            f"imported tree: not converted ({', '.join(unbound[:3])})",
        )
    if not rows:
        out.add("not_converted", "systems", "no convertible rows", "error")
        return out
    try:
        provenance = _eigenmodes_provenance(rel, sha256, solver, bound_sandboxes, out)
    except ValueError as exc:  # e.g. no sha256: the file could not be hashed
        out.add("not_converted", "<file>", f"provenance incomplete: {exc}", "error")
        return out
    dataset = EigenmodesDataset.from_rows(
        rows,
        source_stage="06_build_bulk_eigenmodes_dataset (legacy)",
        git_sha="unknown (legacy)",
        provenance=provenance,
    )
    check = dataset.validate()
    if not check.ok:
        for f in check.errors[:10]:
            out.add(f.code, f.location, f"converted dataset invalid: {f.message}", "error")
        return out
    out.artifact = dataset
    return out


#: How the columns a bulk_modes JSON does not store are filled in (the provenance's
#: ``inferred``; the docstring of :func:`convert_eigenmodes` says why).
EIGENMODES_INFERRED = {
    "m2": "Delta (Delta - d): the legacy solver does not store the bulk mass; the AdS "
    "dictionary itself, so a dictionary fit on these rows is a round trip, not evidence "
    "(and for lifshitz/hvlf, whose UV is not AdS, not even the bulk mass)",
    "branch": "'+' (Delta_+ assumed: the legacy solver records no quantisation)",
    "M2": "lambda_sl_bulk, the legacy Sturm-Liouville eigenvalue, as stored",
    "Delta": "Delta_bulk_uv, as stored",
    "family": "the bound sandbox's (by geometry_name)",
    "d": "the bound sandbox's (by geometry_name)",
    "z_h": "the bound sandbox's (by geometry_name)",
    "z_uv": "0: the boundary (not recorded)",
    "z_ir": "z_h of the bound sandbox (interval (0, z_h) assumed, not recorded)",
    "n_grid": "points of the bound sandbox's truth grid (not recorded)",
    "bc_uv": "'unknown' (not recorded)",
    "bc_ir": "'unknown' (not recorded)",
    "quality": "'ok', or 'error' for a non-finite or non-positive Delta (a solver bug)",
}


def _eigenmodes_provenance(
    rel: str, sha256: str, solver: str, bound_sandboxes: dict[str, str], out: Conversion
) -> ConversionProvenance:
    return ConversionProvenance(
        source_path=rel,
        source_sha256=sha256,
        source_kind="eigenmodes_json",
        converter=f"holopipe.legacy.convert_eigenmodes v{CONVERTER_VERSION}",
        solver=solver,
        inferred=dict(EIGENMODES_INFERRED),
        assumptions=[
            "a system is converted only when exactly one sandbox of its geometry_name, with "
            "a horizon, is in the imported tree",
            f"method = 'legacy:{solver}' on every row",
        ],
        bound_sandboxes=dict(sorted(bound_sandboxes.items())),
        findings=sorted({f.code for f in out.findings}),
    )


def stub_findings(doc: Any) -> Iterable[Finding]:
    """Empty or stub artifacts: ``{}``/``[]``, empty ``systems``/``entries``, autofilled marks."""
    if doc in ({}, [], None):
        yield Finding("empty_artifact", "<file>", "an empty document", "warning")
        return
    if not isinstance(doc, dict):
        return
    for key in ("systems", "entries", "geometries", "contracts", "results", "processed"):
        if key in doc and doc[key] in ([], {}, None):
            yield Finding("empty_artifact", key, f"{key} is empty: a stub", "warning")
    for key, value in doc.items():
        if "autofill" in key.lower() and value not in (False, "False", None, 0):
            yield Finding(
                "stub_artifact", key, f"marked {key} = {value!r}: not real results", "warning"
            )
