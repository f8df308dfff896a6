"""Golden runs: a finished run compared with a committed reference, by hash and by metrics.

A reference (``tests/golden/<name>.json``) records, for one small committed experiment:

- ``artifacts``: the canonical sha256 of every artifact the run's manifest lists (path
  relative to the run). *Canonical* because raw bytes are not comparable everywhere:
  JSON documents are re-encoded with sorted keys after dropping the provenance keys of
  :data:`VOLATILE_KEYS` (``git_sha`` changes with every commit); NPZ members are hashed by
  name, dtype, shape and data (``meta_json`` as canonical JSON); netCDF/HDF5 files by
  their content (groups, attributes, variables' dtype, dimensions and data), never their
  bytes, which depend on the netCDF-C/HDF5 versions that wrote them; anything else by its
  raw bytes.
- ``metrics``: numbers and flags of the run, each compared within a tolerance: every
  stage's ``status``, ``exit_code``, ``counts`` and ``metrics`` from its
  ``stage_summary.json`` (reconstruction errors, contract pass counts, dictionary
  coefficients, pulls, ...), and the numeric and boolean leaves of the run's JSON and CSV
  artifacts (spectra, dictionary entries, contract values), keyed
  ``<artifact path>:<JSON path>``. Strings other than statuses are not compared (their
  formatted numbers are covered by the hashes); NaN and infinities are stored as the
  strings ``'nan'``, ``'inf'``, ``'-inf'`` (JSON has no such numbers) and compared exactly.
- ``tolerances``: rules ``{"match": glob, "abs": a, "rel": r}``, first match wins; a float
  passes when ``|got - expected| <= a + r |expected|``; integers, flags and strings must be
  equal. Hand-edited rules are kept by ``holopipe golden update``.

:func:`compare` lists every difference; :func:`exit_code` maps them to 0 (none), 1 (only
warnings: a hash changed, or a metric appeared, with every metric inside its tolerance) or 2
(a metric outside its tolerance or missing, an artifact missing or added).

Examples
--------
>>> Tolerance(abs=1e-9, rel=1e-6).allows(1.0, 1.0 + 5e-7)
True
>>> Tolerance(abs=1e-9, rel=1e-6).allows(1.0, 1.01)
False
"""

from __future__ import annotations

import csv
import fnmatch
import hashlib
import json
import math
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from holopipe.artifacts.io import atomic_write_bytes, dumps_json, loads_json
from holopipe.artifacts.records import RunManifest

__all__ = [
    "DEFAULT_TOLERANCES",
    "REFERENCE_FORMAT",
    "VOLATILE_KEYS",
    "Difference",
    "GoldenError",
    "GoldenReference",
    "Snapshot",
    "Tolerance",
    "ToleranceRule",
    "canonical_sha256",
    "compare",
    "exit_code",
    "snapshot",
]

#: Format tag of a reference file.
REFERENCE_FORMAT = "holopipe-golden-reference/1"
#: Keys dropped from JSON documents before hashing: provenance that changes with every
#: commit or clock, not with the results.
VOLATILE_KEYS = frozenset({"git_sha", "git_dirty", "created_at", "updated_at"})
#: Largest number of leaves taken from one artifact (a bound, not a target).
MAX_LEAVES_PER_ARTIFACT = 5000
_SUMMARY = "stage_summary.json"


class GoldenError(Exception):
    """A reference or run that cannot be compared; the message is one line for the user."""


@attrs.frozen
class Tolerance:
    """``|got - expected| <= abs + rel * |expected|`` for floats; equality otherwise."""

    abs: float = 1e-9
    rel: float = 1e-6

    def allows(self, expected: Any, got: Any) -> bool:
        if isinstance(expected, bool) or isinstance(got, bool):
            return type(expected) is type(got) and expected == got
        if not _is_number(expected):
            return expected == got
        if not _is_number(got):
            return False
        if isinstance(expected, int) and isinstance(got, int):
            return expected == got
        if math.isnan(expected) or math.isnan(got):
            return math.isnan(expected) and math.isnan(got)
        if math.isinf(expected) or math.isinf(got):
            return expected == got
        return abs(got - expected) <= self.abs + self.rel * abs(expected)

    def describe(self, expected: Any) -> str:
        if isinstance(expected, bool) or not _is_number(expected) or isinstance(expected, int):
            return "exact"
        allowed = self.abs + self.rel * abs(expected)
        return f"{self.abs:.1e} + {self.rel:.1e}*|expected| = {allowed:.3g}"


@attrs.frozen
class ToleranceRule:
    """A tolerance for the metrics whose key matches the glob ``match``."""

    match: str
    abs: float = 1e-9
    rel: float = 1e-6

    @property
    def tolerance(self) -> Tolerance:
        return Tolerance(self.abs, self.rel)


#: Written into a new reference; the catch-all rule comes last.
DEFAULT_TOLERANCES = (ToleranceRule("*", 1e-9, 1e-6),)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# -- canonical hashes --------------------------------------------------------------------------
def _strip_volatile(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_volatile(v) for k, v in value.items() if k not in VOLATILE_KEYS}
    if isinstance(value, list):
        return [_strip_volatile(v) for v in value]
    return value


def _canonical_json(text: str) -> bytes:
    return dumps_json(_strip_volatile(loads_json(text))).encode()


def _hash_array(digest: Any, name: str, array: np.ndarray) -> None:
    digest.update(f"{name}|{array.dtype.str}|{array.shape}|".encode())
    if array.dtype.kind in "OV":
        raise GoldenError(f"{name}: object or void arrays cannot be hashed canonically")
    digest.update(np.ascontiguousarray(array).tobytes())


def _npz_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with np.load(path, allow_pickle=False) as archive:
        for name in sorted(archive.files):
            value = archive[name]
            if name == "meta_json" and value.dtype.kind == "U" and value.ndim == 0:
                digest.update(b"meta_json|" + _canonical_json(str(value)))
            else:
                _hash_array(digest, name, value)
    return digest.hexdigest()


def _netcdf_digest(path: Path) -> str:
    import netCDF4

    digest = hashlib.sha256()

    def attribute_text(node: Any) -> bytes:
        attrs_ = {}
        for name in sorted(node.ncattrs()):
            value = node.getncattr(name)
            attrs_[name] = value.tolist() if isinstance(value, (np.ndarray, np.generic)) else value
        return json.dumps(_strip_volatile(attrs_), sort_keys=True, default=str).encode()

    def walk(group: Any, where: str) -> None:
        digest.update(f"group {where}|".encode() + attribute_text(group))
        for name, dim in sorted(group.dimensions.items()):
            digest.update(f"dim {where}/{name}={len(dim)}|".encode())
        for name in sorted(group.variables):
            variable = group.variables[name]
            variable.set_auto_mask(False)
            digest.update(f"var {where}/{name}{variable.dimensions}|".encode())
            digest.update(attribute_text(variable))
            _hash_array(digest, f"{where}/{name}", np.asarray(variable[...]))
        for name in sorted(group.groups):
            walk(group.groups[name], f"{where}/{name}")

    with netCDF4.Dataset(path, "r") as ds:
        walk(ds, "")
    return digest.hexdigest()


def canonical_sha256(path: Path) -> tuple[str, str]:
    """``(sha256, method)`` of a file's canonical content (module docstring).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> (folder / "a.json").write_text('{"x": 1, "git_sha": "abc"}')
    26
    >>> (folder / "b.json").write_text('{"git_sha": "def",  "x": 1}')
    27
    >>> canonical_sha256(folder / "a.json") == canonical_sha256(folder / "b.json")
    True
    """
    suffix = path.suffix.lower()
    try:
        if suffix == ".json":
            return hashlib.sha256(_canonical_json(path.read_text())).hexdigest(), "json-canonical"
        if suffix == ".npz":
            return _npz_digest(path), "npz-content"
        if suffix in (".nc", ".h5"):
            return _netcdf_digest(path), "netcdf-content"
        return hashlib.sha256(path.read_bytes()).hexdigest(), "bytes"
    except (OSError, ValueError, RuntimeError) as exc:
        raise GoldenError(f"{path}: cannot be hashed: {exc}") from None


# -- what a run shows --------------------------------------------------------------------------
@attrs.frozen
class Snapshot:
    """A finished run, seen as golden compares it."""

    artifacts: dict[str, dict[str, str]]
    metrics: dict[str, Any]


def _leaves(value: Any, where: str) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key in sorted(value):
            if key not in VOLATILE_KEYS:
                yield from _leaves(value[key], f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _leaves(item, f"{where}[{i}]")
    elif isinstance(value, bool) or _is_number(value):
        yield where, _storable(value)


def _storable(value: Any) -> Any:
    """A metric as the reference stores it: JSON has no NaN or infinity, so they are text."""
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)  # 'nan', 'inf', '-inf': compared exactly, like statuses
    return value


def _csv_leaves(path: Path) -> Iterator[tuple[str, Any]]:
    with open(path, newline="") as handle:
        for i, row in enumerate(csv.DictReader(handle)):
            for column, text in row.items():
                try:
                    yield f"[{i}].{column}", _storable(float(text))
                except (TypeError, ValueError):
                    continue  # text columns are covered by the hash


def _artifact_leaves(path: Path) -> list[tuple[str, Any]]:
    if path.suffix == ".json":
        found = _leaves(loads_json(path.read_text()), "")
    elif path.suffix == ".csv":
        found = _csv_leaves(path)
    else:
        return []
    leaves = []
    for leaf in found:
        if len(leaves) == MAX_LEAVES_PER_ARTIFACT:
            break
        leaves.append(leaf)
    return leaves


def snapshot(run_dir: Path) -> Snapshot:
    """Hashes and metrics of the finished run in ``run_dir`` (``runs/<experiment>``).

    Raises
    ------
    GoldenError
        No readable manifest, or a listed artifact that cannot be read.
    """
    manifest_path = run_dir / "run_manifest.json"
    try:
        manifest = RunManifest.read_document(manifest_path)
        stages = manifest["stages"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise GoldenError(f"{manifest_path}: no readable run manifest ({exc})") from None
    artifacts: dict[str, dict[str, str]] = {}
    metrics: dict[str, Any] = {}
    for stage in sorted(stages):
        summary_path = run_dir / stage / _SUMMARY
        try:
            summary = loads_json(summary_path.read_text())
        except (OSError, ValueError) as exc:
            raise GoldenError(f"{summary_path}: unreadable stage summary ({exc})") from None
        metrics[f"{stage}:status"] = summary.get("status")
        metrics[f"{stage}:exit_code"] = summary.get("exit_code")
        for group in ("counts", "metrics"):
            for key, value in _leaves(summary.get(group, {}), ""):
                metrics[f"{stage}:{group}.{key}"] = value
        for output in stages[stage].get("outputs", []):
            relative = output["path"]
            path = run_dir / relative
            if not path.is_file():
                raise GoldenError(f"{path}: listed in the manifest but missing")
            sha, method = canonical_sha256(path)
            artifacts[relative] = {"sha256": sha, "method": method}
            for key, value in _artifact_leaves(path):
                metrics[f"{relative}:{key}"] = value
    return Snapshot(artifacts=artifacts, metrics=metrics)


# -- the reference -----------------------------------------------------------------------------
@attrs.define
class GoldenReference:
    """The committed reference of one golden run (``tests/golden/<name>.json``)."""

    name: str
    config: str
    artifacts: dict[str, dict[str, str]]
    metrics: dict[str, Any]
    tolerances: list[ToleranceRule] = attrs.field(factory=lambda: list(DEFAULT_TOLERANCES))

    def tolerance(self, key: str) -> Tolerance:
        for rule in self.tolerances:
            if fnmatch.fnmatchcase(key, rule.match):
                return rule.tolerance
        return Tolerance()

    def to_json(self) -> str:
        return dumps_json(
            {
                "format": REFERENCE_FORMAT,
                "name": self.name,
                "config": self.config,
                "tolerances": [attrs.asdict(rule) for rule in self.tolerances],
                "artifacts": self.artifacts,
                "metrics": self.metrics,
            }
        )

    def write(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, (self.to_json() + "\n").encode())
        return path

    @classmethod
    def read(cls, path: Path) -> GoldenReference:
        """Read a reference; any problem is a :class:`GoldenError` naming file and field."""
        try:
            doc = loads_json(path.read_text())
        except OSError as exc:
            raise GoldenError(f"{path}: cannot be read: {exc.strerror}") from None
        except ValueError as exc:
            raise GoldenError(f"{path}: not valid JSON: {exc}") from None
        if not isinstance(doc, dict) or doc.get("format") != REFERENCE_FORMAT:
            found = doc.get("format") if isinstance(doc, dict) else type(doc).__name__
            raise GoldenError(f"{path}: format: expected {REFERENCE_FORMAT!r}, found {found!r}")
        for key, kind in (("name", str), ("config", str), ("artifacts", dict), ("metrics", dict)):
            if not isinstance(doc.get(key), kind):
                raise GoldenError(f"{path}: {key}: expected a {kind.__name__}")
        rules = []
        for i, rule in enumerate(doc.get("tolerances", [])):
            try:
                rules.append(ToleranceRule(**rule))
            except TypeError as exc:
                raise GoldenError(f"{path}: tolerances[{i}]: {exc}") from None
            if not (isinstance(rules[-1].match, str) and _nonnegative(rules[-1])):
                raise GoldenError(
                    f"{path}: tolerances[{i}]: match must be a string and abs, rel finite >= 0"
                )
        for where, entry in doc["artifacts"].items():
            if not (isinstance(entry, dict) and isinstance(entry.get("sha256"), str)):
                raise GoldenError(f"{path}: artifacts.{where}: expected {{sha256, method}}")
        return cls(doc["name"], doc["config"], doc["artifacts"], doc["metrics"], rules)


def _nonnegative(rule: ToleranceRule) -> bool:
    return all(_is_number(v) and math.isfinite(v) and v >= 0 for v in (rule.abs, rule.rel))


# -- comparing ---------------------------------------------------------------------------------
@attrs.frozen
class Difference:
    """One difference between a reference and a run."""

    kind: str  # "artifact" | "metric"
    key: str
    expected: Any
    got: Any
    tolerance: str
    severity: str  # "warning" | "error"

    def line(self) -> str:
        return (
            f"{self.severity}: {self.kind} {self.key}: expected {_show(self.expected)}, "
            f"got {_show(self.got)}, tolerance {self.tolerance}"
        )


def _show(value: Any) -> str:
    if value is None:
        return "(absent)"
    if isinstance(value, float):
        return f"{value:.12g}"
    if isinstance(value, dict) and "sha256" in value:
        return f"sha256 {value['sha256'][:16]} ({value.get('method', '?')})"
    return repr(value)


def compare(reference: GoldenReference, run: Snapshot) -> list[Difference]:
    """Every difference between ``reference`` and ``run``, artifacts first, in key order."""
    differences = []
    for key in sorted(reference.artifacts.keys() | run.artifacts.keys()):
        expected, got = reference.artifacts.get(key), run.artifacts.get(key)
        if expected is not None and got is not None and expected["sha256"] == got["sha256"]:
            continue
        severity = "error" if expected is None or got is None else "warning"
        differences.append(Difference("artifact", key, expected, got, "exact", severity))
    for key in sorted(reference.metrics.keys() | run.metrics.keys()):
        if key not in run.metrics:
            differences.append(
                Difference("metric", key, reference.metrics[key], None, "present", "error")
            )
            continue
        if key not in reference.metrics:
            differences.append(
                Difference("metric", key, None, run.metrics[key], "new metric", "warning")
            )
            continue
        expected, got = reference.metrics[key], run.metrics[key]
        tolerance = reference.tolerance(key)
        if not tolerance.allows(expected, got):
            differences.append(
                Difference("metric", key, expected, got, tolerance.describe(expected), "error")
            )
    return differences


def exit_code(differences: Iterable[Difference]) -> int:
    """0 with no difference, 1 with warnings only, 2 with any error."""
    severities = {d.severity for d in differences}
    return 2 if "error" in severities else 1 if severities else 0
