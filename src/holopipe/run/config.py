"""Run configuration: JSON files, ``--set`` overrides, strict structuring, freezing.

A config is a JSON object::

    {"seed": 1234,
     "stages": {"01": {"n_per_family": 2}, "06": {"n_modes": 4}},
     "impl": {"02": "mypkg.engine:NeuralEngine"},
     "legacy": {"roots": ["../old_outputs"]}}

``--set stages.06.n_modes=5`` overrides a value (parsed as JSON, else taken as a string).
Each section is structured into an attrs class with cattrs; an unknown or misspelt key is
an error naming the key and the closest valid one. The resolved config is frozen in
``runs/<experiment>/config.resolved.json``; a later run with a different resolved config is
refused with the difference unless forced.

Examples
--------
>>> apply_overrides({"seed": 1}, ["stages.06.n_modes=5", "seed=7"])
{'seed': 7, 'stages': {'06': {'n_modes': 5}}}
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import attrs
import cattrs

from holopipe.artifacts.io import JSONDecodeIssue, atomic_write_bytes, dumps_json, loads_json
from holopipe.artifacts.report import ValidationReport
from holopipe.artifacts.structure import check_structure, converter
from holopipe.run.executors import ExecutorConfig

__all__ = [
    "ConfigError",
    "ConfigMismatchError",
    "LegacyConfig",
    "RunConfig",
    "apply_overrides",
    "config_diff",
    "freeze_config",
    "load_config_file",
    "structure_section",
]


class ConfigError(ValueError):
    """A config file or override is invalid; the message names every bad key."""


class ConfigMismatchError(ConfigError):
    """The resolved config differs from the one frozen in the run."""


@attrs.define
class LegacyConfig:
    """Where the legacy resolver may look (explicit list; nothing else is searched)."""

    roots: list[str] = attrs.field(
        factory=list, metadata={"doc": "legacy folders, e.g. fase11_* outputs"}
    )


@attrs.define
class RunConfig:
    """Top level of a config file. Stage sections are structured by each stage's Params."""

    seed: int = attrs.field(
        metadata={"doc": "seeds every random stream (with stage and system_id)"}
    )
    stages: dict[str, dict[str, Any]] = attrs.field(
        factory=dict, metadata={"doc": "stage id -> params"}
    )
    impl: dict[str, str] = attrs.field(
        factory=dict, metadata={"doc": "stage id -> 'pkg.module:Class'"}
    )
    legacy: LegacyConfig = attrs.field(factory=LegacyConfig)
    pipeline: list[str] = attrs.field(
        factory=list,
        metadata={"doc": "custom stage list ('pkg.module:Class'); default: the registered stages"},
    )
    strict: bool = attrs.field(
        default=False, metadata={"doc": "undeclared files and outside writes are errors"}
    )
    caches: list[str] = attrs.field(
        factory=list, metadata={"doc": "folders stages may write outside the run"}
    )
    executor: ExecutorConfig = attrs.field(
        factory=ExecutorConfig,
        metadata={"doc": "how ctx.map runs items (serial, processes, dask, slurm); never a rerun"},
    )


def load_config_file(path: str | os.PathLike) -> dict[str, Any]:
    """Read a JSON config file; errors name the file and the position."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"config file {path}: cannot read: {exc.strerror}") from None
    try:
        raw = loads_json(text)
    except JSONDecodeIssue as exc:
        raise ConfigError(f"config file {path}: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"config file {path}: the top level must be a JSON object")
    return raw


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def apply_overrides(raw: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply ``dotted.key=value`` overrides to a copy of ``raw``."""
    result = json.loads(json.dumps(raw))
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"override {item!r} must look like section.key=value")
        parts = key.split(".")
        node = result
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"override {item!r}: {part!r} is a value, not a section")
            node = child
        node[parts[-1]] = _parse_value(value)
    return result


def structure_section(cls: type, raw: Any, where: str, source: str) -> Any:
    """Structure ``raw`` into ``cls``; unknown keys and bad types raise :class:`ConfigError`."""
    report = ValidationReport(path=source)
    check_structure(cls, raw if raw is not None else {}, report, where, unknown="error")
    if not report.ok:
        lines = "\n".join(f"  {f.location}: {f.message}" for f in report.errors)
        raise ConfigError(f"invalid config {source}:\n{lines}")
    try:
        value = converter.structure(raw or {}, cls)  # runs the field validators
        attrs.validate(value)
    except cattrs.ClassValidationError as exc:
        raise ConfigError(
            f"invalid config {source}: {where}: {'; '.join(_leaf_messages(exc))}"
        ) from None
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"invalid config {source}: {where}: {exc}") from None
    return value


def _leaf_messages(group: BaseExceptionGroup) -> list[str]:
    """The messages of the validators that failed inside a cattrs exception group."""
    messages = []
    for exc in group.exceptions:
        messages += _leaf_messages(exc) if isinstance(exc, BaseExceptionGroup) else [str(exc)]
    return messages


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: value}


def config_diff(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Lines ``key: old -> new`` for every leaf that differs."""
    a, b = _flatten(old), _flatten(new)
    lines = []
    for key in sorted(set(a) | set(b)):
        if a.get(key, "<absent>") != b.get(key, "<absent>"):
            before, after = json.dumps(a.get(key, "<absent>")), json.dumps(b.get(key, "<absent>"))
            lines.append(f"  {key}: {before} -> {after}")
    return lines


#: Top-level keys a later run may change without ``--force``.
UNFROZEN_KEYS = frozenset({"overrides", "executor"})


def freeze_config(path: Path, resolved: dict[str, Any], force: bool = False) -> bool:
    """Write the resolved config once; refuse a different one later unless ``force``.

    The comparison ignores the ``overrides`` record (how a value was set is not a
    difference in the value). Returns True when the file was (re)written. A forced change
    keeps the previous config as ``config.resolved.<n>.json``.
    """
    if path.exists():
        frozen = loads_json(path.read_text(encoding="utf-8"))
        # How a value was set (overrides) and how items are run (executor: results are
        # identical whatever it is) are not differences in what the run computes.
        strip = lambda c: {k: v for k, v in c.items() if k not in UNFROZEN_KEYS}  # noqa: E731
        diff = config_diff(strip(frozen), strip(resolved))
        if not diff:
            return False
        if not force:
            raise ConfigMismatchError(
                f"the resolved config differs from the one frozen in {path}:\n"
                + "\n".join(diff)
                + "\nuse a new --experiment name, or --force to replace the frozen config "
                "(the stages it affects will rerun)"
            )
        n = 1
        while path.with_name(f"config.resolved.{n}.json").exists():
            n += 1
        os.replace(path, path.with_name(f"config.resolved.{n}.json"))
    atomic_write_bytes(path, dumps_json(resolved).encode("utf-8"))
    return True
