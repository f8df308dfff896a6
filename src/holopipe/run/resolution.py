"""Input resolution: explicit CLI path, then the run manifest, then the legacy resolver.

Nothing else is searched. The legacy resolver looks only in the documented locations of
:data:`LEGACY_LOCATIONS` under the configured legacy roots and marks the input
``resolved_from_legacy``; the stage that reads it logs the warning
(:meth:`ResolvedInput.log_origin`). Every input set is sorted.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

import attrs

from holopipe.artifacts.records import FileRecord, RunManifest, StageRecord
from holopipe.artifacts.registry import get_type, has_sidecars
from holopipe.run.layout import RunLayout

__all__ = [
    "LEGACY_LOCATIONS",
    "InputError",
    "ResolvedInput",
    "UnresolvedInput",
    "check_input_aliases",
    "resolve_input",
    "resolve_inputs",
    "sidecars_of",
]

log = logging.getLogger("holopipe.resolve")

#: alias -> folders (relative to a legacy root) where legacy pipelines left that artifact.
LEGACY_LOCATIONS: dict[str, tuple[str, ...]] = {
    "sandbox": (".", "sandbox"),
    "predictions": ("emergent_geometry_engine/predictions", "predictions"),
    "geometry_emergent": ("emergent_geometry_engine/predictions", "geometry_emergent"),
    "bulk_equations": ("bulk_equations",),
    "geometry_contracts": ("geometry_contracts",),
    "bulk_eigenmodes": ("bulk_eigenmodes",),
    "dictionary": ("dictionary",),
}


@attrs.frozen
class ResolvedInput:
    """The files of one declared input and where they were found."""

    alias: str
    schema: str
    paths: tuple[Path, ...]
    source: Literal["cli", "manifest", "legacy"]
    producer: str | None = None
    #: The producer's manifest entries of this alias (sidecars included): ``source ==
    #: "manifest"`` only. They carry the sha256 the fingerprint and the gate use.
    records: tuple[FileRecord, ...] = ()
    #: The producer's manifest record (``source == "manifest"`` only).
    producer_record: StageRecord | None = None

    @property
    def producer_status(self) -> str | None:
        return self.producer_record.status if self.producer_record else None

    @property
    def resolved_from_legacy(self) -> bool:
        return self.source == "legacy"

    def log_origin(self) -> None:
        """Log a legacy resolution as the warning the plan asks for (into the stage's log)."""
        if self.source == "legacy":
            log.warning(
                "input %r resolved from legacy folder %s (resolved_from_legacy=true)",
                self.alias,
                self.paths[0].parent,
            )


class UnresolvedInput(LookupError):
    """A required input could not be resolved; the message starts ``missing_artifact:``."""


class InputError(ValueError):
    """An ``--input`` the command cannot use (an alias no stage declares): bad usage, exit 2."""


def check_input_aliases(given: Iterable[str], declared: Iterable[str], where: str) -> None:
    """Refuse an ``--input`` alias that is not declared by ``where`` (a stage or a pipeline).

    Examples
    --------
    >>> try:
    ...     check_input_aliases(["nosuch"], ["predictions"], "stage 03")
    ... except InputError as exc:
    ...     print(exc)
    --input nosuch=...: stage 03 has no input 'nosuch' (its inputs: predictions)
    """
    declared = sorted(set(declared))
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise InputError(
            f"--input {unknown[0]}=...: {where} has no input {unknown[0]!r} "
            f"(its inputs: {', '.join(declared) or 'none'})"
        )


def sidecars_of(schema: str, paths: Iterable[Path]) -> set[Path]:
    """Files of ``paths`` that are sidecars of another artifact of type ``schema`` in ``paths``
    (e.g. ``contracts_summary.json``, or the ``<stem>.meta.json`` of an EigenmodesDataset CSV):
    part of that artifact, read and validated with it, never an input of their own."""
    if not has_sidecars(schema):  # one file per artifact
        return set()
    cls = get_type(schema)
    paths = list(paths)
    return {s for p in paths for s in cls.files(p) if s != p} & set(paths)


def _files_of_type(folder: Path, schema: str) -> tuple[Path, ...]:
    """Files directly in a folder the user or the documented legacy list named."""
    cls = get_type(schema)
    candidates = [p for p in folder.iterdir() if p.is_file() and p.name.endswith(cls.SUFFIXES)]
    sidecars = sidecars_of(schema, candidates)
    return tuple(sorted(p for p in candidates if p not in sidecars))


def resolve_input(
    alias: str,
    schema: str,
    layout: RunLayout,
    manifest: RunManifest | None,
    cli_path: Path | None = None,
    legacy_roots: tuple[Path, ...] = (),
) -> ResolvedInput:
    """Resolve one declared input; raise :class:`UnresolvedInput` when nothing provides it."""
    if cli_path is not None:
        if not cli_path.exists():
            raise UnresolvedInput(f"missing_artifact: {cli_path} (given with --input {alias}=...)")
        paths = _files_of_type(cli_path, schema) if cli_path.is_dir() else (cli_path,)
        if not paths:
            suffixes = ", ".join(f"*{s}" for s in get_type(schema).SUFFIXES)
            raise UnresolvedInput(
                f"missing_artifact: {cli_path} (given with --input {alias}=...): "
                f"no {schema} file ({suffixes}) in that folder"
            )
        return ResolvedInput(alias, schema, paths, "cli")
    if manifest is not None and alias in manifest.aliases:
        producer = manifest.aliases[alias].split("/", 1)[0]
        record = manifest.stages.get(producer)
        if record is not None:
            root = layout.root
            entries = tuple(
                o for o in record.outputs if o.name == alias and o.schema in (schema, None)
            )
            recorded = [root / o.path for o in entries]
            sidecars = sidecars_of(schema, recorded)
            if sidecars:  # else no Path is hashed (10 000 hashes: 15 ms of a stage's resolution)
                recorded = [p for p in recorded if p not in sidecars]
            paths = tuple(sorted(recorded))
            return ResolvedInput(alias, schema, paths, "manifest", producer, entries, record)
    for root in legacy_roots:
        for sub in LEGACY_LOCATIONS.get(alias, ()):
            folder = root / sub
            if folder.is_dir():
                paths = _files_of_type(folder, schema)
                if paths:
                    return ResolvedInput(alias, schema, paths, "legacy")
    raise UnresolvedInput(
        f"missing_artifact: {layout.relative(layout.root / alias)}/ "
        f"({schema}: not given with --input, not produced in this run's manifest, "
        "not in a legacy root)"
    )


def resolve_inputs(
    layout: RunLayout,
    manifest: RunManifest | None,
    needs: Iterable[tuple[str, str, bool]],
    cli_inputs: dict[str, Path] | None = None,
    legacy_roots: tuple[Path, ...] = (),
) -> tuple[list[ResolvedInput], list[str]]:
    """Resolve every ``(alias, schema, required)``; the resolved ones and ``missing_artifact``
    lines of the required ones that nothing provides (an optional one is simply left out)."""
    cli_inputs = cli_inputs or {}
    resolved, problems = [], []
    for alias, schema, required in needs:
        try:
            resolved.append(
                resolve_input(alias, schema, layout, manifest, cli_inputs.get(alias), legacy_roots)
            )
        except UnresolvedInput as exc:
            if required:
                problems.append(str(exc))
    return resolved, problems
