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
    "CONFIG_FILE_KEY",
    "ConfigError",
    "ConfigMismatchError",
    "LegacyConfig",
    "RunConfig",
    "apply_overrides",
    "config_diff",
    "config_file_record",
    "freeze_config",
    "load_config_file",
    "lost_config_error",
    "read_frozen_config",
    "structure_section",
]


class ConfigError(ValueError):
    """A config file or override is invalid; the message names every bad key."""


class ConfigMismatchError(ConfigError):
    """The resolved config differs from the one frozen in the run."""


#: Seeds are 63-bit: every random generator of the stages (numpy, the sandbox) accepts them.
SEED_LIMIT = 2**63


def _check_seed(value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < SEED_LIMIT:
        raise ValueError(f"seed: must be an integer in [0, 2**63), got {value!r}")


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
        validator=lambda _self, _attr, value: _check_seed(value),
        metadata={"doc": "seeds every random stream (with stage and system_id); 0 <= seed < 2**63"},
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
            f"invalid config {source}: {where + ': ' if where else ''}"
            f"{'; '.join(_leaf_messages(exc))}"
        ) from None
    except (ValueError, TypeError) as exc:
        raise ConfigError(
            f"invalid config {source}: {where + ': ' if where else ''}{exc}"
        ) from None
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
UNFROZEN_KEYS = frozenset({"overrides", "executor", "config_file"})
#: Key of ``config.resolved.json`` naming the ``--config`` file it came from.
CONFIG_FILE_KEY = "config_file"


def config_file_record(path: str | os.PathLike) -> dict[str, str]:
    """``{"path": <absolute path>, "sha256": <of its bytes>}`` of a ``--config`` file."""
    import hashlib

    path = Path(path)
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        digest = "unknown"
    return {"path": str(path.absolute()), "sha256": digest}


def read_frozen_config(path: Path) -> dict[str, Any] | None:
    """The config frozen in a run (``config.resolved.json``), or ``None`` if there is none.

    A file that is not a readable JSON object raises :class:`ConfigError` naming it and the
    way out.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        problem = getattr(exc, "strerror", None) or str(exc)
        raise ConfigError(f"{path}: cannot read: {problem}") from None
    try:
        frozen = loads_json(text)
    except JSONDecodeIssue as exc:
        frozen, problem = None, str(exc)
    else:
        problem = "the top level must be a JSON object"
    if not isinstance(frozen, dict):
        raise ConfigError(
            f"{path}: corrupt frozen config ({problem}); restore it from a backup or a "
            "numbered config.resolved.<n>.json, or replace it with --config FILE --force"
        )
    return frozen


def lost_config_error(config_path: Path, numbered: list[Path]) -> ConfigError:
    """The refusal for a run that has stages but no frozen config (never the default one)."""
    found = ", ".join(p.name for p in numbered) or "no numbered config"
    restore = f"restore the latest with: mv {numbered[-1]} {config_path}; or " if numbered else ""
    return ConfigError(
        f"{config_path} is missing in a run that has stages (an interrupted config switch?); "
        f"found {found}: {restore}give the config with --config FILE --force"
    )


def freeze_config(path: Path, resolved: dict[str, Any], force: bool = False) -> bool:
    """Write the resolved config once; refuse a different one later unless ``force``.

    The comparison ignores the ``overrides`` record (how a value was set is not a
    difference in the value). Returns True when the file was (re)written. A forced change
    keeps the previous config as ``config.resolved.<n>.json``: that copy is written first
    and the new config then replaces the old one in one rename, so a kill at any point
    leaves a frozen config (the old or the new), never none.
    """
    try:
        frozen_bytes = path.read_bytes()
    except FileNotFoundError:
        frozen_bytes = None
    if frozen_bytes is not None:
        try:
            frozen = read_frozen_config(path)
        except ConfigError:
            if not force:
                raise
            frozen = {}  # corrupt: replaced by the given config, and kept numbered
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
        _keep_numbered_copy(path, frozen_bytes)
    atomic_write_bytes(path, dumps_json(resolved).encode("utf-8"))
    return True


def _keep_numbered_copy(path: Path, content: bytes) -> None:
    """``config.resolved.<n>.json`` with ``content``; the last copy is reused when it is
    already that content (a switch interrupted after the copy)."""
    numbers = [
        int(p.name.split(".")[2])
        for p in path.parent.glob("config.resolved.*.json")
        if p.name.split(".")[2].isdigit()
    ]
    last = max(numbers, default=0)
    latest = path.with_name(f"config.resolved.{last}.json")
    if last and latest.read_bytes() == content:
        return
    atomic_write_bytes(path.with_name(f"config.resolved.{last + 1}.json"), content)
