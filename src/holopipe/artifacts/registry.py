"""The schema registry: artifact types by name and version, file-type detection,
JSON Schema export, and third-party types through the ``holopipe.artifacts`` entry points.

Like xarray's backends, each type is a class asked whether it can open a file
(:meth:`~holopipe.artifacts.base.Artifact.guess_can_open`); the list of types is built once
and cached.

Examples
--------
>>> sorted(available_types())[:3]
['BulkAnalysis', 'BulkEquations', 'ContractsSummary']
>>> get_type("GeometryPrediction").SCHEMA_VERSION
'0.1'
"""

from __future__ import annotations

import difflib
import importlib
import os
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from holopipe.artifacts.base import Artifact, JSONArtifact
from holopipe.artifacts.report import ValidationReport
from holopipe.artifacts.run_records import record_kind, validate_record
from holopipe.artifacts.safety import file_problem
from holopipe.artifacts.versions import parse_version
from holopipe.artifacts.walk import DEFAULT_MAX_DEPTH, walk_folder

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

__all__ = [
    "ENTRY_POINT_GROUP",
    "UnknownSchemaError",
    "available_types",
    "detect_type",
    "get_type",
    "has_sidecars",
    "json_schema",
    "refresh",
    "register",
    "unregister",
    "validate_path",
    "validate_paths",
]

ENTRY_POINT_GROUP = "holopipe.artifacts"

# Built-in types as import strings, so that listing them imports nothing heavy.
_BUILTIN_TYPES = {
    "SandboxGeometry": "holopipe.artifacts.sandbox:SandboxGeometry",
    "SandboxIndex": "holopipe.artifacts.sandbox_index:SandboxIndex",
    "GeometryPrediction": "holopipe.artifacts.prediction:GeometryPrediction",
    "BulkEquations": "holopipe.artifacts.equations:BulkEquations",
    "BulkAnalysis": "holopipe.artifacts.analysis:BulkAnalysis",
    "GeometryContracts": "holopipe.artifacts.contracts:GeometryContracts",
    "ContractsSummary": "holopipe.artifacts.contracts:ContractsSummary",
    "EigenmodesDataset": "holopipe.artifacts.eigenmodes:EigenmodesDataset",
    "Dictionary": "holopipe.artifacts.dictionary:Dictionary",
    "HolographicAtlas": "holopipe.artifacts.atlas:HolographicAtlas",
    "RealDataContracts": "holopipe.artifacts.real_data:RealDataContracts",
    "StageSummary": "holopipe.artifacts.records:StageSummary",
    "RunManifest": "holopipe.artifacts.records:RunManifest",
    "PipelineSummary": "holopipe.artifacts.records:PipelineSummary",
}

#: The built-in types whose artifacts span several files (``HAS_SIDECARS``), so that
#: :func:`has_sidecars` answers for them without importing them (a test holds this to the
#: classes).
_BUILTIN_WITH_SIDECARS = frozenset({"GeometryContracts", "EigenmodesDataset", "Dictionary"})

_registered: dict[str, type[Artifact]] = {}


class UnknownSchemaError(LookupError):
    """No artifact type of that name, or a version this holopipe cannot read."""


def _load(target: str) -> Any:
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


def _discover(plugins: Iterable[EntryPoint]) -> dict[str, type[Artifact]]:
    found = {name: _load(target) for name, target in _BUILTIN_TYPES.items()}
    for ep in plugins:
        if ep.name in found:
            warnings.warn(
                f"artifact plugin {ep.value} ignored: {ep.name!r} is built in", stacklevel=3
            )
            continue
        try:
            cls = ep.load()
        except Exception as exc:  # noqa: BLE001 - a broken plugin must not break holopipe
            warnings.warn(
                f"artifact plugin {ep.name} ({ep.value}) failed to load: {exc}", stacklevel=3
            )
            continue
        found[cls.SCHEMA_NAME] = cls
    return found


# Built once, on first use, by refresh(); a dict of types by schema name.
_discovered: dict[str, type[Artifact]] | None = None


def refresh(plugins: Iterable[EntryPoint] | None = None) -> dict[str, type[Artifact]]:
    """Discover the types again: the built-ins, then the plugins.

    Discovery runs once per process and is cached; call this after installing or removing
    a plugin package. ``plugins`` replaces the installed ``holopipe.artifacts`` entry points
    (objects with ``name``, ``value`` and ``load()``; tests pass their own). Types added
    with :func:`register` are kept.

    Examples
    --------
    >>> "StageSummary" in refresh()
    True
    """
    global _discovered
    if plugins is None:
        from importlib.metadata import entry_points  # ~40 ms (email, socket): only here

        plugins = entry_points(group=ENTRY_POINT_GROUP)
    _builtin_classes.clear()
    _discovered = _discover(plugins)
    return available_types()


def _discovered_types() -> dict[str, type[Artifact]]:
    if _discovered is None:
        refresh()
    assert _discovered is not None
    return _discovered


def available_types() -> dict[str, type[Artifact]]:
    """Every known type by schema name: built-ins, entry-point plugins, then :func:`register`."""
    return {**_discovered_types(), **_registered}


def register(cls: type[Artifact]) -> type[Artifact]:
    """Register a type at run time (a class decorator); entry points are preferred.

    A type without a ``SCHEMA_NAME`` or ``SCHEMA_VERSION`` string is refused here, with a
    ``TypeError`` naming what is missing, instead of failing later when a file is read.
    """
    for attribute in ("SCHEMA_NAME", "SCHEMA_VERSION"):
        value = getattr(cls, attribute, None)
        if not isinstance(value, str) or not value:
            raise TypeError(
                f"cannot register {cls.__module__}.{cls.__qualname__}: it declares no "
                f"{attribute} (a non-empty string class attribute, e.g. {attribute} = '0.1')"
            )
    _registered[cls.SCHEMA_NAME] = cls
    return cls


def unregister(name: str) -> None:
    """Forget a type added with :func:`register` (built-ins and plugins stay)."""
    _registered.pop(name, None)


def _is_builtin(cls: type[Artifact]) -> bool:
    return cls.SCHEMA_NAME in _BUILTIN_TYPES and cls.__module__.startswith("holopipe.")


def _ask(cls: type[Artifact], question: str, path: Path) -> Any:
    """``cls.<question>(path)``; a plugin that raises is warned about and answers ``None``.

    A built-in type's exception is holopipe's own bug and propagates.
    """
    try:
        return getattr(cls, question)(path)
    except Exception as exc:  # noqa: BLE001 - one broken plugin must not break validate
        if _is_builtin(cls):
            raise
        warnings.warn(
            f"artifact plugin {cls.SCHEMA_NAME} ({cls.__module__}): {question} failed on "
            f"{path}: {type(exc).__name__}: {exc}; type skipped",
            stacklevel=3,
        )
        return None


def _named_type(name: str) -> type[Artifact] | None:
    """The class of ``name``, importing only its own module when it is a built-in (a plugin
    never replaces a built-in name, a :func:`register`-ed type does); ``None``: unknown."""
    if name in _registered:
        return _registered[name]
    if name in _BUILTIN_TYPES:
        cls = _builtin_classes.get(name)
        if cls is None:
            cls = _builtin_classes[name] = _load(_BUILTIN_TYPES[name])
        return cls
    return available_types().get(name)


#: The built-in classes :func:`_named_type` has imported, by name: each is looked up once
#: (importing its module again on every call cost a stage ~1 import lookup per input file).
_builtin_classes: dict[str, type[Artifact]] = {}


def has_sidecars(name: str) -> bool:
    """Whether an artifact of type ``name`` spans several files (its ``HAS_SIDECARS``); a
    built-in type is answered without importing its module.

    Examples
    --------
    >>> has_sidecars("GeometryContracts"), has_sidecars("GeometryPrediction")
    (True, False)
    """
    if name in _BUILTIN_TYPES and name not in _registered:
        return name in _BUILTIN_WITH_SIDECARS
    return get_type(name).HAS_SIDECARS


def get_type(name: str, version: str | None = None) -> type[Artifact]:
    """The class for ``name``; with ``version``, refuse versions newer than supported."""
    cls = _named_type(name)
    if cls is None:
        types = available_types()
        close = difflib.get_close_matches(name, list(types), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(sorted(types))}"
        raise UnknownSchemaError(f"unknown artifact type {name!r}{hint}")
    try:
        requested = parse_version(version) if version is not None else None
    except ValueError as exc:
        raise UnknownSchemaError(f"{name}: {exc}") from None
    if requested is not None and requested > parse_version(cls.SCHEMA_VERSION):
        raise UnknownSchemaError(
            f"{name} version {version} is newer than this holopipe supports ({cls.SCHEMA_VERSION})"
        )
    return cls


def detect_type(path: str | os.PathLike) -> type[Artifact] | None:
    """The first type whose ``guess_can_open`` accepts ``path``, or ``None``.

    Only the types whose ``CONTAINERS`` hold the file's container (as sniffed, once) are
    asked; a type that declares no ``CONTAINERS`` is asked about every file.
    """
    from holopipe.artifacts.sniff import sniff

    path = path if isinstance(path, Path) else Path(path)
    container = sniff(path).container
    for cls in available_types().values():
        if container in getattr(cls, "CONTAINERS", (container,)):
            if _ask(cls, "guess_can_open", path):
                return cls
    return None


def _sidecar_owner(path: Path) -> tuple[type[Artifact], Path] | None:
    """The type and main file of the artifact ``path`` is a sidecar of, if its main file
    exists; only the types that declare sidecars (``HAS_SIDECARS``) are asked."""
    for cls in available_types().values():
        if not getattr(cls, "HAS_SIDECARS", False):
            continue
        primary = _ask(cls, "primary_of", path)
        if primary is not None and primary.is_file():
            return cls, primary
    return None


def validate_path(path: str | os.PathLike, schema: str | None = None) -> ValidationReport:
    """Validate a file as ``schema`` or as its detected type; never raises on bad content.

    A sidecar file (e.g. ``bulk_modes_dataset.meta.json``) is validated together with the
    artifact it belongs to; holopipe's own run records (:mod:`~holopipe.artifacts.run_records`)
    are recognised by name. A FIFO, socket or device is a finding and is never opened; a
    name that is not valid UTF-8 is a warning (shown with ``\\x`` escapes).
    """
    path = path if isinstance(path, Path) else Path(path)
    return _validate_as_found(path, schema, None if schema is not None else _sidecar_owner(path))


def _validate_as_found(
    path: Path, schema: str | None, owner: tuple[type[Artifact], Path] | None
) -> ValidationReport:
    """:func:`validate_path` of ``path``, whose sidecar owner (:func:`_sidecar_owner`) is
    already known (``validate_paths`` asks it of every file first)."""
    report = _validate_path(path, schema, owner)
    shown = _shown(path)
    if shown != os.fspath(path):
        report.path = report.path.replace(os.fspath(path), shown)
        report.warning(
            "undecodable_name", "<file>", "the file name is not valid UTF-8 (shown escaped)"
        )
    return report


def _shown(path: Path) -> str:
    """``path`` as text that can be printed: bytes that are not UTF-8 as ``\\xNN``."""
    text = os.fspath(path)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(path).decode("utf-8", "backslashreplace")
    return text


def _validate_path(
    path: Path, schema: str | None, owner: tuple[type[Artifact], Path] | None
) -> ValidationReport:
    from holopipe.artifacts.sniff import sniff

    if schema is not None:
        return get_type(schema).validate_file(path)
    problem = file_problem(path)
    if problem is not None:
        report = ValidationReport(str(path))
        report.error(problem[0], "<file>", problem[1])
        return report
    if record_kind(path) is not None:
        return validate_record(path)
    if owner is not None:
        cls, primary = owner
        report = cls.validate_file(primary)
        report.path = f"{path} (with {primary.name})"
        return report
    cls = detect_type(path)
    if cls is not None:
        return cls.validate_file(path)
    report = ValidationReport(str(path))
    found = sniff(path)
    if found.problem is not None:
        report.error(found.problem[0], "<file>", found.problem[1])
    elif found.json_error:
        report.error("malformed_json", "<file>", found.json_error)
    elif found.container == "pickle":
        report.error(
            "unknown_schema",
            "<file>",
            "a Python pickle: never unpickled; no artifact type is stored as one "
            "(name one with --schema to check the file as that type)",
        )
    else:
        report.error(
            "unknown_schema",
            "<file>",
            "no artifact type recognises this file; name one with --schema",
        )
    return report


def validate_paths(
    paths: list[str | os.PathLike],
    schema: str | None = None,
    *,
    recursive: bool = True,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> list[ValidationReport]:
    """:func:`validate_path` for each path; a folder stands for the files under it.

    A folder is searched to ``max_depth`` levels (only its own files when not
    ``recursive``), in sorted order, hidden entries left out, never following a directory
    link out of it (:func:`~holopipe.artifacts.walk.walk_folder`); every entry it skips is
    a warning. A sidecar is not reported twice when the artifact it belongs to is there too.
    """
    reports = []
    for given in map(Path, paths):
        if not given.is_dir():
            reports.append(validate_path(given, schema))
            continue
        files, skipped = walk_folder(given, max_depth if recursive else 0)
        if not files:
            report = ValidationReport(_shown(given))
            report.error("missing_file", "<folder>", "no file to validate in this folder")
            reports.append(report)
        for entry in skipped:
            report = ValidationReport(_shown(entry.path))
            report.warning(entry.code, "<entry>", entry.message)
            reports.append(report)
        members = set(files)
        for path in files:
            owner = _sidecar_owner(path)
            if owner is not None and owner[1] in members:
                continue  # validated with its main file
            reports.append(_validate_as_found(path, schema, owner))
    return reports


def json_schema(name: str) -> dict[str, Any]:
    """JSON Schema of a JSON-based type."""
    cls = get_type(name)
    if not issubclass(cls, JSONArtifact):
        raise UnknownSchemaError(
            f"{name} is stored as {cls.FORMAT}, not JSON: it has no JSON Schema"
        )
    return cls.json_schema()
