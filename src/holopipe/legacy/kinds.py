"""Legacy kinds: content signatures, tried in order, names used as hints only.

Each :class:`LegacyKind` names one kind of file the legacy pipelines left (LEGACY.md) and
recognises it from an :class:`Inspected` file: its container (magic bytes), then its
structure (HDF5 groups and attributes, NPZ members, JSON keys, CSV header). The first kind
whose signature matches wins; :func:`register_kind` adds a kind (a plugin) ahead of the
generic fallbacks. Nothing here loads arrays or unpickles anything.

Examples
--------
>>> import pathlib, tempfile
>>> p = pathlib.Path(tempfile.mkdtemp()) / "hall_of_fame.csv"
>>> _ = p.write_text("Complexity,Loss,Equation\\n1,0.5,x0\\n")
>>> classify(inspect_file(p, "hall_of_fame.csv")).name
'symbolic_regression_hall_of_fame'
>>> _ = p.write_bytes(b"\\x80\\x04\\x95...")
>>> kind = classify(inspect_file(p, "x.csv")); kind.name, kind.role
('pickle', 'unsafe')
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

from holopipe.legacy.outline import (
    Hdf5Outline,
    NpzOutline,
    csv_header,
    hdf5_outline,
    npz_outline,
)
from holopipe.legacy.probe import FileProbe, load_json_bounded, probe_file, zip_member_names

__all__ = [
    "KINDS",
    "Inspected",
    "LegacyKind",
    "classify",
    "inspect_file",
    "kind_named",
    "register_kind",
]

_NOTHING = object()


@attrs.define
class Inspected:
    """A file with its probe and the outline of its container (filled by :func:`inspect_file`)."""

    rel: str
    probe: FileProbe
    hdf5: Hdf5Outline | None = None
    npz: NpzOutline | None = None
    zip_names: list[str] | None = None
    document: Any = _NOTHING
    json_issues: list[str] = attrs.field(factory=list)
    header: list[str] | None = None
    problem: str | None = attrs.field(default=None, metadata={"doc": "why the outline failed"})

    @property
    def container(self) -> str | None:
        return self.probe.container

    @property
    def name(self) -> str:
        return os.path.basename(self.rel)

    @property
    def suffix(self) -> str:
        return Path(self.name).suffix.lower()

    @property
    def has_document(self) -> bool:
        return self.document is not _NOTHING

    def keys(self) -> set[str]:
        return set(self.document) if isinstance(self.document, dict) else set()


def inspect_file(path: str | os.PathLike, rel: str, probe: FileProbe | None = None) -> Inspected:
    """Probe ``path`` and outline its container; problems are recorded, never raised."""
    probe = probe or probe_file(path)
    item = Inspected(rel, probe)
    if probe.problem or probe.size == 0:
        return item
    try:
        if probe.container == "hdf5":
            item.hdf5 = hdf5_outline(path)
        elif probe.container == "zip":
            item.zip_names = zip_member_names(path)
            if item.zip_names and all(n.endswith(".npy") for n in item.zip_names):
                item.npz = npz_outline(path)
        elif probe.container == "json" and not probe.oversized:
            item.document, item.json_issues = load_json_bounded(path)
        elif probe.container == "csv":
            item.header = csv_header(probe.head)
    except ValueError as exc:
        item.problem = str(exc)
    return item


@attrs.frozen
class LegacyKind:
    """One kind of legacy file and how to recognise it."""

    name: str
    description: str
    container: str | None = attrs.field(
        metadata={"doc": "the container it lives in (magic bytes); None: any"}
    )
    matches: Callable[[Inspected], bool] = attrs.field(repr=False)
    role: str = attrs.field(
        default="data",
        validator=attrs.validators.in_(
            ("data", "figure", "ignored", "unsafe", "unknown", "problem")
        ),
        metadata={"doc": "data | figure | ignored | unsafe | unknown | problem"},
    )
    converts_to: str | None = attrs.field(
        default=None, metadata={"doc": "the current artifact type it is converted into"}
    )


def _any(*names: str) -> Callable[[set[str]], bool]:
    return lambda keys: any(n in keys for n in names)


def _root_vars(i: Inspected) -> set[str]:
    return set(i.hdf5.root.variables) if i.hdf5 else set()


def _is_sandbox(i: Inspected) -> bool:
    o = i.hdf5
    return bool(
        o and o.has("bulk_truth", "z_grid", "A_truth", "f_truth") and "boundary" in o.groups
    )


def _is_emergent(i: Inspected) -> bool:
    v = _root_vars(i)
    return (
        "z_grid" in v and bool(v & {"A_of_z", "A_emergent"}) and bool(v & {"f_of_z", "f_emergent"})
    )


def _is_boundary(i: Inspected) -> bool:
    o = i.hdf5
    if not o or "bulk_truth" in o.groups or "boundary" not in o.groups:
        return False
    variables = o.groups["boundary"].variables
    return "x_grid" in variables and any(n.startswith("G2_") for n in variables)


def _is_tabular(i: Inspected) -> bool:
    o = i.hdf5
    return bool(o and not o.groups and o.root.variables) and all(
        len(v.shape) == 1 for v in o.root.variables.values()
    )


def _npz_keys(i: Inspected) -> set[str]:
    return set(i.npz.members) if i.npz else set()


def _list_of_dicts(value: Any, *keys: str) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(v, dict) for v in value)
        and all(k in value[0] for k in keys)
    )


def _name_hint(*patterns: str) -> Callable[[Inspected], bool]:
    regex = re.compile("|".join(patterns))
    return lambda i: bool(regex.search(i.name.lower()))


def _doc(i: Inspected) -> Any:
    return i.document if i.has_document else None


def _is_sandbox_manifest(i: Inspected) -> bool:
    doc = _doc(i)
    return isinstance(doc, dict) and _list_of_dicts(doc.get("geometries"), "name")


def _is_eigenmodes_json(i: Inspected) -> bool:
    doc = _doc(i)
    systems = doc.get("systems") if isinstance(doc, dict) else None
    return _list_of_dicts(systems, "geometry_name") and any(
        k in systems[0] for k in ("Delta_bulk_uv", "lambda_sl_bulk", "modes", "Delta_UV")
    )


def _is_contracts(i: Inspected) -> bool:
    doc = _doc(i)
    return (
        isinstance(doc, dict)
        and isinstance(doc.get("contracts"), list)
        or (isinstance(doc, dict) and _name_hint("contract")(i))
    )


def _is_emergent_summary(i: Inspected) -> bool:
    doc = _doc(i)
    keys = set(doc) if isinstance(doc, dict) else set()
    return bool(keys & {"train_metrics", "test_metrics", "metrics_by_family", "n_train"}) or (
        bool(keys) and _name_hint(r"emergent_geometry_summary")(i)
    )


def _is_discovery(i: Inspected) -> bool:
    return isinstance(_doc(i), dict) and _name_hint("einstein_discovery")(i)


def _is_dictionary(i: Inspected) -> bool:
    doc = _doc(i)
    keys = set(doc) if isinstance(doc, dict) else set()
    return bool(keys) and (
        _name_hint("dictionary", "lambda_sl", "fase12c")(i) or bool(keys & {"dictionary", "fits"})
    )


def _is_real_data_report(i: Inspected) -> bool:
    doc = _doc(i)
    return isinstance(doc, dict) and (
        _name_hint("fase12_report", "contracts_fase12", "manifest_fase12")(i)
        or _list_of_dicts(doc.get("operators"), "name", "Delta")
    )


def _is_current_hdf5(i: Inspected) -> bool:
    return bool(i.hdf5 and "schema_name" in i.hdf5.root.attrs)


def _is_current_json(i: Inspected) -> bool:
    doc = _doc(i)
    return isinstance(doc, dict) and isinstance(doc.get("schema_name"), str)


def _is_pickle_by_name(i: Inspected) -> bool:
    return i.suffix in (".pkl", ".pickle", ".pt", ".pth", ".ckpt", ".joblib")


#: The kinds, most specific first; the last ones of each container are its fallbacks.
KINDS: list[LegacyKind] = [
    LegacyKind("empty", "an empty file (0 bytes)", None, lambda i: i.probe.size == 0, "problem"),
    LegacyKind(
        "unreadable",
        "a file that could not be read",
        None,
        lambda i: bool(i.probe.problem),
        "problem",
    ),
    # -- never loaded: pickles and PyTorch checkpoints ------------------------------------
    LegacyKind("pickle", "a Python pickle (never unpickled)", "pickle", lambda i: True, "unsafe"),
    LegacyKind(
        "torch_checkpoint",
        "a PyTorch checkpoint: a zip with a data.pkl (never loaded)",
        "zip",
        lambda i: any(n.endswith("data.pkl") for n in i.zip_names or ()),
        "unsafe",
    ),
    # -- HDF5 ----------------------------------------------------------------------------
    LegacyKind(
        "hdf5_unreadable",
        "HDF5 magic but unreadable (truncated or damaged)",
        "hdf5",
        lambda i: i.hdf5 is None,
        "problem",
    ),
    LegacyKind(
        "holopipe_hdf5",
        "a current holopipe artifact (declares schema_name)",
        "hdf5",
        _is_current_hdf5,
    ),
    LegacyKind(
        "sandbox_universe",
        "sandbox universe (01 output): bulk_truth/{z_grid,A_truth,f_truth}, boundary/, root attrs",
        "hdf5",
        _is_sandbox,
        converts_to="SandboxGeometry",
    ),
    LegacyKind(
        "emergent_geometry_hdf5",
        "emergent geometry (02 inference output): root z_grid, A_of_z/A_emergent, "
        "f_of_z/f_emergent",
        "hdf5",
        _is_emergent,
    ),
    LegacyKind(
        "boundary_data",
        "real or bootstrap boundary data: boundary/x_grid and G2_*, no bulk truth",
        "hdf5",
        _is_boundary,
    ),
    LegacyKind("tabular_observable", "HDF5 with only root 1-D datasets", "hdf5", _is_tabular),
    LegacyKind("hdf5_other", "HDF5 of no known layout", "hdf5", lambda i: True, "unknown"),
    # -- zip / NPZ -----------------------------------------------------------------------
    LegacyKind(
        "zip_unreadable",
        "zip magic but unreadable (truncated?)",
        "zip",
        lambda i: (
            i.zip_names is None
            or (i.zip_names and all(n.endswith(".npy") for n in i.zip_names) and i.npz is None)
        ),
        "problem",
    ),
    LegacyKind(
        "holopipe_npz",
        "a current GeometryPrediction (has meta_json)",
        "zip",
        lambda i: "meta_json" in _npz_keys(i),
    ),
    LegacyKind(
        "prediction_training",
        "training-mode prediction NPZ: z, A_pred, f_pred, truth arrays, integer family codes",
        "zip",
        lambda i: {"z", "A_pred", "f_pred"} <= _npz_keys(i),
        converts_to="GeometryPrediction",
    ),
    LegacyKind(
        "prediction_inference",
        "inference-mode prediction NPZ: z_grid, A_of_z, f_of_z (object arrays not loaded)",
        "zip",
        lambda i: {"z_grid", "A_of_z", "f_of_z"} <= _npz_keys(i),
    ),
    LegacyKind(
        "npz_other", "NPZ of no known layout", "zip", lambda i: i.npz is not None, "unknown"
    ),
    LegacyKind("zip_other", "a zip archive of no known layout", "zip", lambda i: True, "unknown"),
    # -- JSON ----------------------------------------------------------------------------
    LegacyKind(
        "json_unreadable",
        "JSON that cannot be parsed (malformed, too deep, too large)",
        "json",
        lambda i: not i.has_document,
        "problem",
    ),
    LegacyKind(
        "holopipe_json",
        "a current holopipe artifact (declares schema_name)",
        "json",
        _is_current_json,
    ),
    LegacyKind(
        "sandbox_manifest",
        "sandbox manifest: geometries[{name, family, d, file, ...}]",
        "json",
        _is_sandbox_manifest,
    ),
    LegacyKind(
        "eigenmodes_json",
        "bulk eigenmodes (bulk_modes_json_v2): systems[{geometry_name, Delta_bulk_uv, ...}]",
        "json",
        _is_eigenmodes_json,
        converts_to="EigenmodesDataset",
    ),
    LegacyKind(
        "bulk_equation_discovery", "einstein_discovery JSON (bulk equations)", "json", _is_discovery
    ),
    LegacyKind(
        "emergent_summary",
        "training or inference summary of the geometry engine",
        "json",
        _is_emergent_summary,
    ),
    LegacyKind(
        "contracts_json",
        "geometry contracts: contracts[{regularity, causality, ...}]",
        "json",
        _is_contracts,
    ),
    LegacyKind(
        "real_data_report",
        "real-data report or descriptor with operators[]",
        "json",
        _is_real_data_report,
    ),
    LegacyKind(
        "dictionary_json", "holographic dictionary / lambda_sl reports", "json", _is_dictionary
    ),
    LegacyKind("json_other", "JSON of no known layout", "json", lambda i: True, "unknown"),
    LegacyKind("jsonl_corpus", "JSON lines (one document per line)", "jsonl", lambda i: True),
    # -- CSV -----------------------------------------------------------------------------
    LegacyKind(
        "symbolic_regression_hall_of_fame",
        "PySR hall of fame: Complexity,Loss,Equation",
        "csv",
        lambda i: {"Complexity", "Loss", "Equation"} <= set(i.header or ()),
    ),
    LegacyKind(
        "eigenmodes_csv",
        "bulk eigenmodes table (bulk_modes_dataset.csv)",
        "csv",
        lambda i: (
            bool(set(i.header or ()) & {"geometry_name", "system_name"})
            and bool(
                set(i.header or ()) & {"Delta_bulk_uv", "lambda_sl_bulk", "Delta", "M2", "m2L2"}
            )
        ),
    ),
    LegacyKind("csv_table", "a CSV table", "csv", lambda i: True),
    # -- figures and the rest ------------------------------------------------------------
    LegacyKind(
        "figure",
        "an image (PNG, JPEG) or PDF",
        None,
        lambda i: i.container in ("png", "jpeg", "pdf"),
        "figure",
    ),
    LegacyKind(
        "pickle_by_name",
        "named like a pickle/checkpoint (never loaded)",
        None,
        _is_pickle_by_name,
        "unsafe",
    ),
    LegacyKind(
        "python_bytecode",
        "Python bytecode (.pyc): ignored",
        None,
        lambda i: i.suffix == ".pyc",
        "ignored",
    ),
    LegacyKind(
        "backup",
        "a backup copy (.bak): ignored",
        None,
        lambda i: i.suffix == ".bak" or i.name.endswith("~"),
        "ignored",
    ),
    LegacyKind("text", "plain text (logs, notes)", "text", lambda i: True, "unknown"),
    LegacyKind("unknown", "no known signature", None, lambda i: True, "unknown"),
]


def register_kind(kind: LegacyKind) -> LegacyKind:
    """Add a kind ahead of the fallbacks of its container (a later kind of the same name
    replaces the earlier one)."""
    KINDS[:] = [k for k in KINDS if k.name != kind.name]
    fallback = next(
        i
        for i, k in enumerate(KINDS)
        if k.container in (kind.container, None)
        and k.role in ("unknown", "figure", "unsafe", "ignored")
        and k.name not in ("pickle", "torch_checkpoint")
    )
    KINDS.insert(fallback, kind)
    return kind


def kind_named(name: str) -> LegacyKind:
    return next(k for k in KINDS if k.name == name)


def classify(item: Inspected) -> LegacyKind:
    """The first kind whose container and signature match ``item``."""
    for kind in KINDS:
        if kind.container not in (None, item.container):
            continue
        try:
            if kind.matches(item):
                return kind
        except (TypeError, KeyError, AttributeError, IndexError):
            continue  # a malformed document is simply not this kind
    return kind_named("unknown")
