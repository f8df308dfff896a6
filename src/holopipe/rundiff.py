"""``holopipe diff``: what differs between two runs, from their records alone.

Compares the frozen configs (key by key), the code (git sha, holopipe version), the installed
packages, every recorded artifact's sha256, which stages would re-run (fingerprint parts
that differ) and every stage metric (absolute and relative difference). Nothing is
recomputed and no artifact is opened: the manifests, summaries and ``meta_env.json`` say it all.

Examples
--------
>>> flatten({"stages": {"06": {"n_modes": 3}}, "seed": 1})
{'seed': 1, 'stages.06.n_modes': 3}
>>> MetricChange("06.rows_ok", 51.0, 68.0).relative
0.3333333333333333
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import attrs

from holopipe.artifacts.io import loads_json
from holopipe.artifacts.records import RunManifest, StageSummary
from holopipe.run.layout import RunLayout

__all__ = [
    "DiffError",
    "MetricChange",
    "RunDiff",
    "StageChange",
    "ValueChange",
    "diff_runs",
    "flatten",
]


class DiffError(ValueError):
    """A run to compare is missing or its records are unreadable (bad input, exit 2)."""


def flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts as ``{"a.b.c": leaf}``, keys sorted; lists are leaves."""
    if not isinstance(tree, dict) or (prefix and not tree):
        return {prefix: tree}
    flat: dict[str, Any] = {}
    for key in sorted(tree):
        flat.update(flatten(tree[key], f"{prefix}.{key}" if prefix else str(key)))
    return flat


@attrs.frozen
class ValueChange:
    """One key whose value differs; ``None`` on a side that lacks the key."""

    key: str
    a: Any
    b: Any


@attrs.frozen
class StageChange:
    """A stage whose run differs: only in one run, or a different fingerprint (and why)."""

    key: str
    why: str = attrs.field(metadata={"doc": "e.g. 'params changed', 'only in B'"})


@attrs.frozen
class MetricChange:
    """A stage metric in both runs (``None`` where one lacks it)."""

    key: str = attrs.field(metadata={"doc": "<stage id>.<metric name>"})
    a: float | None
    b: float | None

    @property
    def absolute(self) -> float | None:
        """``b - a``."""
        return None if self.a is None or self.b is None else self.b - self.a

    @property
    def relative(self) -> float | None:
        """``(b - a) / |a|``; ``None`` when a is 0 or missing."""
        if self.absolute is None or self.a == 0:
            return None
        return self.absolute / abs(self.a)


@attrs.frozen
class RunDiff:
    """Everything that differs between run A and run B (empty lists: identical)."""

    a: str
    b: str
    config: list[ValueChange]
    code: list[ValueChange]
    packages: list[ValueChange]
    artifacts: list[ValueChange] = attrs.field(metadata={"doc": "relative path, sha256 a / b"})
    stages: list[StageChange] = attrs.field(
        metadata={"doc": "stages that ran differently: which fingerprint parts changed"}
    )
    metrics: list[MetricChange]

    @property
    def identical(self) -> bool:
        return not any(
            (self.config, self.code, self.packages, self.artifacts, self.stages, self.metrics)
        )

    def to_json(self) -> str:
        """Machine-readable form (``holopipe diff --json``)."""

        def rows(changes: list[ValueChange]) -> list[dict[str, Any]]:
            return [{"key": c.key, "a": c.a, "b": c.b} for c in changes]

        doc = {
            "a": self.a,
            "b": self.b,
            "identical": self.identical,
            "config": rows(self.config),
            "code": rows(self.code),
            "packages": rows(self.packages),
            "artifacts": rows(self.artifacts),
            "stages": [{"key": c.key, "why": c.why} for c in self.stages],
            "metrics": [
                {"key": m.key, "a": m.a, "b": m.b, "absolute": m.absolute, "relative": m.relative}
                for m in self.metrics
            ],
        }
        return json.dumps(doc, indent=2, sort_keys=True, allow_nan=True)

    def lines(self) -> list[str]:
        """The difference in words, one line per change."""
        if self.identical:
            return [f"{self.a} and {self.b}: identical"]
        out = [f"{self.a} -> {self.b}"]
        sections = (
            ("config", self.config),
            ("code", self.code),
            ("package", self.packages),
            ("artifact", self.artifacts),
        )
        for title, changes in sections:
            for c in changes:
                out.append(f"{title}: {c.key}: {_show(c.a)} -> {_show(c.b)}")
        out += [f"stage re-ran: {c.key}: {c.why}" for c in self.stages]
        for m in self.metrics:
            change = ""
            if m.absolute is not None:
                rel = "" if m.relative is None else f", {m.relative:+.3g} relative"
                change = f" ({m.absolute:+.6g} absolute{rel})"
            out.append(f"metric: {m.key}: {_show(m.a)} -> {_show(m.b)}{change}")
        return out


def _show(value: Any) -> str:
    if value is None:
        return "(absent)"
    if isinstance(value, str) and len(value) == 64:
        return value[:12]  # a sha256
    return json.dumps(value) if not isinstance(value, str) else value


def _changes(a: dict[str, Any], b: dict[str, Any]) -> list[ValueChange]:
    return [
        ValueChange(key, a.get(key), b.get(key))
        for key in sorted(set(a) | set(b))
        if a.get(key) != b.get(key)
    ]


def _same_number(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return a == b or (math.isnan(a) and math.isnan(b))


class _RunRecords:
    """The records of one run that a diff reads."""

    def __init__(self, layout: RunLayout):
        self.label = str(layout.root)
        if not layout.manifest_path.is_file():
            raise DiffError(f"{layout.root}: no run here (no {layout.manifest_path.name})")
        report, manifest = RunManifest.read_with_report(layout.manifest_path)
        if manifest is None:
            raise DiffError(f"{layout.manifest_path}: {'; '.join(report.lines()[:1])}")
        self.manifest = manifest
        self.config = self._json(layout.config_path) if layout.config_path.is_file() else {}
        self.config.pop("overrides", None)  # how a value was set is not a difference in it
        self.env: dict[str, Any] = {}
        self.metrics: dict[str, float] = {}
        for key in sorted(manifest.stages):
            stage_dir = layout.root / key
            if (stage_dir / "meta_env.json").is_file():
                self.env = self._json(stage_dir / "meta_env.json")
            _, summary = StageSummary.read_with_report(stage_dir / "stage_summary.json")
            if summary is not None:
                stage_id = key.split("_", 1)[0]
                self.metrics.update({f"{stage_id}.{k}": v for k, v in summary.metrics.items()})

    @staticmethod
    def _json(path: Path) -> dict[str, Any]:
        try:
            doc = loads_json(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            raise DiffError(f"{path}: unreadable: {exc}") from None
        if not isinstance(doc, dict):
            raise DiffError(f"{path}: not a JSON object")
        return doc

    def code(self) -> dict[str, Any]:
        shas = sorted({r.git_sha for r in self.manifest.stages.values()})
        dirty = any(r.git_dirty for r in self.manifest.stages.values())
        return {
            "git_sha": ",".join(shas),
            "git_dirty": dirty,
            "holopipe_version": self.manifest.holopipe_version,
            "python": self.env.get("python"),
        }

    def outputs(self) -> dict[str, str]:
        return {o.path: o.sha256 for r in self.manifest.stages.values() for o in r.outputs}


def diff_runs(a: RunLayout, b: RunLayout) -> RunDiff:
    """Compare two runs (see the module docstring); raises :class:`DiffError` on bad input."""
    ra, rb = _RunRecords(a), _RunRecords(b)
    stages = []
    for key in sorted(set(ra.manifest.stages) | set(rb.manifest.stages)):
        sa, sb = ra.manifest.stages.get(key), rb.manifest.stages.get(key)
        if sa is None or sb is None:
            stages.append(StageChange(key, "only in A" if sb is None else "only in B"))
        elif sa.fingerprint != sb.fingerprint:
            parts = sorted(
                p
                for p in set(sa.fingerprint_parts) | set(sb.fingerprint_parts)
                if sa.fingerprint_parts.get(p) != sb.fingerprint_parts.get(p)
            )
            stages.append(StageChange(key, f"{', '.join(parts) or 'fingerprint'} changed"))
    metrics = [
        MetricChange(key, ra.metrics.get(key), rb.metrics.get(key))
        for key in sorted(set(ra.metrics) | set(rb.metrics))
        if not _same_number(ra.metrics.get(key), rb.metrics.get(key))
    ]
    packages = ra.env.get("packages"), rb.env.get("packages")
    if isinstance(packages[0], dict) and isinstance(packages[1], dict):
        package_changes = _changes(packages[0], packages[1])
    else:  # records of an older holopipe: only the hash of the package set
        package_changes = _changes(
            {"packages_sha256": ra.env.get("packages_sha256")},
            {"packages_sha256": rb.env.get("packages_sha256")},
        )
    return RunDiff(
        a=ra.label,
        b=rb.label,
        config=_changes(flatten(ra.config), flatten(rb.config)),
        code=_changes(ra.code(), rb.code()),
        packages=package_changes,
        artifacts=_changes(ra.outputs(), rb.outputs()),
        stages=stages,
        metrics=metrics,
    )
