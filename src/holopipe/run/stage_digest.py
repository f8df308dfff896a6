"""A stage's digest: what a no-op rerun needs of its manifest record, in a few hundred bytes.

A stage record lists every file the stage read and wrote: thousands of entries at
thousands of systems, megabytes to read and structure on every ``holopipe run`` just to
find that nothing changed. Deciding "nothing changed" needs far less. The index entry
of each stage (``run_manifest.json``, ``stages.<key>.digest``) carries, next to the
record's path and sha256:

- the stat signature of the record file and of the stage's ``stage_summary.json`` (both
  checked against the record when the digest was made): while they hold, the record and
  the summary are the ones the digest describes;
- the record's status, duration, lost systems and fingerprint parts (code, params);
- per input alias, a digest of the ``(alias, path, sha256)`` rows the fingerprint's
  ``inputs`` part was taken of, and per output alias the same rows of its outputs (the
  consumer compares its inputs with its producer's outputs without reading either list);
- per folder holding the record's files, their count and a digest of their stat
  signatures (name, size, mtime_ns, ctime_ns, inode):
  :func:`~holopipe.run.folder_scan.folder_signature` scans the folder once and compares.

A digest only ever confirms "up to date". Whenever it cannot (no digest, a stat
differs, a folder holds other files, an input comes from ``--input`` or a legacy root),
the full record decides exactly as before: a touched file with unchanged bytes is hashed
again and is not a reason to rerun, only a changed sha256 is. ``run``, ``status``,
``--dry-run`` and the gate therefore still agree.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

import attrs

from holopipe.artifacts.records import FileRecord, StageRecord, stat_signature
from holopipe.run.folder_scan import _signature_of_rows
from holopipe.run.layout import RunLayout

__all__ = [
    "StageDigest",
    "record_unchanged",
    "rows_digest",
    "stage_digest",
    "summary_unchanged",
]


def rows_digest(rows: list[tuple[str, str, str]]) -> str:
    """sha256 of sorted ``(alias, path, sha256)`` rows, as the stage fingerprint digests
    its input hashes (:func:`holopipe.stages.runner.stage_fingerprint`).

    Examples
    --------
    >>> rows_digest([("b", "p2", "h2"), ("a", "p1", "h1")]) == rows_digest(
    ...     [("a", "p1", "h1"), ("b", "p2", "h2")])
    True
    """
    return hashlib.sha256(json.dumps(sorted(rows), sort_keys=True).encode()).hexdigest()


def _recorded_folders(entries: list[FileRecord]) -> dict[str, list[Any]] | None:
    """``folder -> [count, digest]`` of the stat signatures ``entries`` recorded, as
    :func:`~holopipe.run.folder_scan.folder_signature` computes them from the files;
    ``None`` when an entry has no full signature or lies directly in the run root (which
    holds other files)."""
    rows: dict[str, list[str]] = {}
    for entry in entries:
        folder, _, name = entry.path.rpartition("/")
        if not folder or not entry.ctime_ns or not entry.inode:
            return None
        row = f"{name}\0{entry.size}\0{entry.mtime_ns}\0{entry.ctime_ns}\0{entry.inode}"
        rows.setdefault(folder, []).append(row)
    return {folder: [len(found), _signature_of_rows(found)] for folder, found in rows.items()}


@attrs.frozen
class StageDigest:
    """One stage's digest in the manifest index (see the module docstring)."""

    #: sha256 of the record file it was made of (the index entry's ``sha256``).
    record_sha256: str
    #: ``[size, mtime_ns, ctime_ns, inode]`` of the record file and of stage_summary.json.
    record_stat: list[int]
    summary_stat: list[int]
    status: str
    duration_s: float
    lost_systems: int
    code: str
    params: str
    #: alias -> :func:`rows_digest` of the rows the fingerprint's ``inputs`` part took.
    inputs: dict[str, str]
    #: alias -> ``[schema, rows_digest]`` of the outputs of that alias (one schema only).
    outputs: dict[str, list[str]]
    #: run-relative folder -> ``[count, digest]`` of the recorded files in it.
    folders: dict[str, list[Any]]

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self)

    @classmethod
    def from_json(cls, value: Any) -> StageDigest | None:
        """The digest of an index entry, or ``None`` when it is missing or not exactly of
        this shape (then the stage's full record decides)."""
        if type(value) is not dict or set(value) != _FIELDS:
            return None
        v = value
        try:
            ok = (
                all(type(v[k]) is str for k in ("record_sha256", "status", "code", "params"))
                and type(v["duration_s"]) in (int, float)
                and type(v["lost_systems"]) is int
                and _ints(v["record_stat"])
                and _ints(v["summary_stat"])
                and type(v["inputs"]) is dict
                and all(type(d) is str for d in v["inputs"].values())
                and type(v["outputs"]) is dict
                and all(_strs(o) for o in v["outputs"].values())
                and type(v["folders"]) is dict
                and all(_count_and_digest(f) for f in v["folders"].values())
            )
        except (KeyError, TypeError):
            return None
        return cls(**v) if ok else None


_FIELDS = frozenset(attrs.fields_dict(StageDigest))


def _ints(value: Any) -> bool:
    return type(value) is list and len(value) == 4 and all(type(i) is int for i in value)


def _strs(value: Any) -> bool:
    return type(value) is list and len(value) == 2 and all(type(s) is str for s in value)


def _count_and_digest(value: Any) -> bool:
    return (
        type(value) is list and len(value) == 2 and type(value[0]) is int and type(value[1]) is str
    )


def stage_digest(
    layout: RunLayout, record: StageRecord, record_path: str, record_sha256: str
) -> StageDigest | None:
    """The digest of ``record`` (written to ``record_path`` with ``record_sha256``), or
    ``None`` when a no-op cannot be decided from one: a stage that did not succeed, has
    no fingerprint, read an input from outside the run, or whose published summary does
    not match the record (the slow path then reports what is wrong)."""
    from holopipe.run.gates import summary_problem
    from holopipe.run.layout import publish_problem

    parts = record.fingerprint_parts
    if record.status not in ("OK", "WARNING") or not record.fingerprint:
        return None
    if not {"code", "params", "inputs"} <= parts.keys():
        return None
    by_alias: dict[str, list[tuple[str, str, str]]] = {}
    for entry in record.inputs:
        if entry.resolved_from_legacy or entry.path.startswith("/"):
            return None
        by_alias.setdefault(entry.name, []).append((entry.name, entry.path, entry.sha256))
    if rows_digest([row for rows in by_alias.values() for row in rows]) != parts["inputs"]:
        return None  # the fingerprint was taken of other rows: only the record can tell
    outputs: dict[str, list[tuple[str, str, str]]] = {}
    schemas: dict[str, set[str | None]] = {}
    for entry in record.outputs:
        outputs.setdefault(entry.name, []).append((entry.name, entry.path, entry.sha256))
        schemas.setdefault(entry.name, set()).add(entry.schema)
    folders = _recorded_folders([*record.outputs, *record.inputs])
    summary = os.path.join(layout.root, record.stage, "stage_summary.json")
    record_stat, summary_stat = stat_signature(record_path), stat_signature(summary)
    if folders is None or record_stat is None or summary_stat is None:
        return None
    published = (record.finished_at, record.duration_s)
    if not record.summary_sha256 or publish_problem(
        layout.root, record.stage, record.summary_sha256, published
    ):
        return None
    if summary_problem(layout, record) is not None or stat_signature(summary) != summary_stat:
        return None
    return StageDigest(
        record_sha256=record_sha256,
        record_stat=list(record_stat),
        summary_stat=list(summary_stat),
        status=record.status,
        duration_s=record.duration_s,
        lost_systems=record.lost_systems,
        code=parts["code"],
        params=parts["params"],
        inputs={alias: rows_digest(rows) for alias, rows in by_alias.items()},
        outputs={
            alias: [next(iter(schemas[alias])), rows_digest(rows)]
            for alias, rows in outputs.items()
            if len(schemas[alias]) == 1 and None not in schemas[alias]
        },
        folders=folders,
    )


def record_unchanged(path: str, digest: StageDigest) -> bool:
    """The record file at ``path`` still has the stat signature ``digest`` recorded."""
    return stat_signature(path) == tuple(digest.record_stat)


def summary_unchanged(layout: RunLayout, stage: str, digest: StageDigest) -> bool:
    """The stage's ``stage_summary.json`` still has the stat signature ``digest`` recorded."""
    summary = os.path.join(layout.root, stage, "stage_summary.json")
    return stat_signature(summary) == tuple(digest.summary_stat)
