"""Reading and updating ``run_manifest.json`` safely.

The manifest is an index (``run_manifest.json``) naming one record file per stage
(``run_manifest.d/<stage>.<sha>.json``) with its sha256. Writers take a short ``flock`` on
``run_manifest.json.lock``, write the stage's record file, then replace the index
atomically, so concurrent writers (the orchestrator and a stage run by hand) serialise and
a reader never sees a half-written manifest: a kill between the two writes leaves the old
index, naming the old record, and an unreferenced file removed by the next update. A stage
writes only its own record and the index; a reader reads only the records it does not
already know.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import operator
import os
import pickle
from collections.abc import Iterable, Iterator
from pathlib import Path
from sys import intern
from typing import Any

import attrs

from holopipe.artifacts.io import atomic_write_bytes, dumps_json, loads_json
from holopipe.artifacts.records import (
    FileRecord,
    RunManifest,
    StageRecord,
    is_record_reference,
    read_stage_record,
    stat_signature,
)
from holopipe.artifacts.report import ArtifactError, ValidationReport
from holopipe.artifacts.run_records import MANIFEST_RECORDS_DIR
from holopipe.artifacts.safety import UnsafeFile, read_bytes_bounded
from holopipe.artifacts.structure import check_structure, converter, structure_checked
from holopipe.run.layout import RunLayout
from holopipe.run.provenance import code_version, utc_now
from holopipe.run.stage_digest import StageDigest, record_unchanged, stage_digest

__all__ = [
    "ManifestError",
    "ManifestIndex",
    "ManifestStore",
    "file_record",
    "hand_over",
    "rebuild_records",
]


class ManifestError(ValueError):
    """``run_manifest.json`` is unreadable or breaks its rules; the message says how to
    rebuild it (``holopipe repair-manifest``)."""

    def __init__(self, report: ValidationReport, experiment: str):
        first = report.errors[0] if report.errors else None
        finding = f"{first.code} [{first.location}]: {first.message}" if first else "invalid"
        more = f" (+{len(report.errors) - 1} more)" if len(report.errors) > 1 else ""
        super().__init__(
            f"{report.path}: corrupt run manifest: {finding}{more}; rebuild it from the stage "
            f"folders with: holopipe repair-manifest -e {experiment} (the corrupt file is kept "
            "beside it; the rebuilt stages rerun once)"
        )
        self.report = report


def file_record(
    layout: RunLayout,
    name: str,
    path: Path,
    schema: str | None,
    resolved_from_legacy: bool = False,
    sha256: str | None = None,
    hashed_size: int | None = None,
) -> FileRecord:
    """A manifest entry for ``path`` with its size and sha256 (hashed unless given).

    ``hashed_size`` is the size of the bytes ``sha256`` was taken of: a file of another
    size now is hashed again.
    """
    from holopipe.artifacts.io import sha256_file

    st = os.stat(path)
    if hashed_size is not None and hashed_size != st.st_size:
        sha256 = None
    return FileRecord(
        name=name,
        path=layout.relative(path),
        sha256=sha256 or sha256_file(path),
        schema=schema,
        size=st.st_size,
        mtime_ns=st.st_mtime_ns,
        ctime_ns=st.st_ctime_ns,
        inode=st.st_ino,
        resolved_from_legacy=resolved_from_legacy,
    )


# The last manifest read or written per file: its stat signature, the validated object and
# its index document. The index is only ever replaced by an atomic rename (a new inode),
# so an unchanged signature means unchanged content: the orchestrator and the stages
# consult the manifest many times per stage.
_LOADED: dict[str, tuple[tuple[int, int, int, int], RunManifest, dict[str, Any]]] = {}
# Stage records read or written, by (run root, sha256 of the record file): a record file
# is named by its content, so one already validated is never read again.
_RECORDS: dict[tuple[str, str], StageRecord] = {}
# The last index read without its records per file: its stat signature, its manifest
# without the records (header, aliases, ...), its document and per stage the record
# file's path and digest (see ManifestStore.index).
_INDEXES: dict[str, _IndexFile] = {}
# How many stage records a process keeps once read (a stage's own and its producers'):
# each holds an entry per file, thousands of them; one evicted is read again when asked.
_RECORDS_KEPT = 6
# And how many file entries they may hold together (~0.5 KiB each in memory): a stage's
# record and its producer's up to 60 000 systems, the newest one beyond (100 000 systems:
# 200 000 entries, ~110 MiB); the oldest go first, the newest always stays.
_RECORD_ENTRIES_KEPT = 250_000
# How often a lock-free reader re-reads an index replaced while it read its records.
_INDEX_READ_ATTEMPTS = 5


@attrs.define
class _IndexFile:
    signature: tuple[int, int, int, int]
    shell: RunManifest
    document: dict[str, Any]
    entries: dict[str, tuple[str, StageDigest | None]]
    #: Whether every record it names was read and found valid (once per index file).
    validated: bool = False


def _entries(record: StageRecord) -> int:
    return len(record.inputs) + len(record.outputs)


def _remember(cache_key: tuple[str, str], record: StageRecord) -> None:
    _RECORDS.pop(cache_key, None)
    _RECORDS[cache_key] = record  # the newest last: the oldest is evicted first
    held = sum(map(_entries, _RECORDS.values()))
    while len(_RECORDS) > 1 and (len(_RECORDS) > _RECORDS_KEPT or held > _RECORD_ENTRIES_KEPT):
        held -= _entries(_RECORDS.pop(next(iter(_RECORDS))))


# FileRecord's fields in its constructor's order: a record handed over by a stage process
# travels as rows of values (a fifth of the cost of pickling 10 000 objects each way).
_FILE_FIELDS = tuple(field.name for field in attrs.fields(FileRecord))
_FILE_ROW = operator.attrgetter(*_FILE_FIELDS)


def hand_over(sha256: str, record: StageRecord) -> bytes:
    """The record a stage process has just written (``sha256``: of the bytes it wrote),
    packed for the orchestrator that forked it (:meth:`ManifestStore.take_over`)."""
    shell = attrs.evolve(record, inputs=[], outputs=[])
    rows = [list(map(_FILE_ROW, record.inputs)), list(map(_FILE_ROW, record.outputs))]
    return pickle.dumps((sha256, shell, rows), protocol=pickle.HIGHEST_PROTOCOL)


def _record_bytes(raw_record: dict[str, Any]) -> bytes:
    return dumps_json(raw_record, compact=True).encode("utf-8")


def _record_name(key: str, sha256: str) -> str:
    return f"{MANIFEST_RECORDS_DIR}/{key}.{sha256[:16]}.json"


# FileRecord's keys and the JSON types of their values (a bool is not an integer here).
_FILE_RECORD_TYPES: dict[str, tuple[type, ...]] = {
    "name": (str,),
    "path": (str,),
    "sha256": (str,),
    "schema": (str, type(None)),
    "size": (int,),
    "mtime_ns": (int,),
    "ctime_ns": (int,),
    "inode": (int,),
    "resolved_from_legacy": (bool,),
}
_FILE_RECORD_REQUIRED = frozenset({"name", "path", "sha256"})
_INT_LIMIT = 2**63
_WRITTEN_KEYS = tuple(sorted(_FILE_RECORD_TYPES))
_WRITTEN_TYPES = frozenset(
    tuple(schema if key == "schema" else _FILE_RECORD_TYPES[key][0] for key in _WRITTEN_KEYS)
    for schema in (str, type(None))
)


def _file_records(items: Any) -> list[FileRecord] | None:
    """``items`` structured as FileRecords when every entry is plainly well-formed (known
    keys, the required ones, values of their JSON types), else ``None``: a record holds
    thousands of them, and this loop costs a fraction of the generic check."""
    if type(items) is not list:
        return None
    records = []
    types, required = _FILE_RECORD_TYPES, _FILE_RECORD_REQUIRED
    for item in items:
        if type(item) is not dict:
            return None
        # holopipe writes every key in sorted order: one comparison checks all the types
        if not _plain_entry(item):
            if not required <= item.keys() <= types.keys():
                return None
            if any(type(value) not in types[name] for name, value in item.items()):
                return None
        get = item.get
        if not (
            -_INT_LIMIT <= get("size", 0) < _INT_LIMIT
            and -_INT_LIMIT <= get("mtime_ns", 0) < _INT_LIMIT
            and -_INT_LIMIT <= get("ctime_ns", 0) < _INT_LIMIT
            and -_INT_LIMIT <= get("inode", 0) < _INT_LIMIT
        ):
            return None
        record = FileRecord(**item)
        # thousands of entries share a few roles and schemas: one string each, not one per entry
        record.name = intern(record.name)
        if record.schema is not None:
            record.schema = intern(record.schema)
        records.append(record)
    return records


def _plain_entry(item: Any) -> bool:
    """An entry of a file list exactly as holopipe writes one (every key, sorted, of its
    JSON type)."""
    return (
        type(item) is dict
        and tuple(item) == _WRITTEN_KEYS
        and tuple(map(type, item.values())) in _WRITTEN_TYPES
    )


def _structure_stage_record(raw: Any, report: ValidationReport, where: str) -> StageRecord | None:
    """``raw`` checked and structured as a StageRecord: its file lists by
    :func:`_file_records`, the rest by the generic check; anything doubtful by the generic
    check as a whole (its findings name the key and the problem)."""
    if type(raw) is dict:
        lists = {kind: _file_records(raw.get(kind, [])) for kind in ("inputs", "outputs")}
        if all(found is not None for found in lists.values()):
            rest = {**raw, "inputs": [], "outputs": []}
            record = structure_checked(StageRecord, rest, report, where)
            return None if record is None else attrs.evolve(record, **lists)
    return structure_checked(StageRecord, raw, report, where)


def _known_record(root: str | Path, key: str, sha256: str) -> StageRecord | None:
    """The record of stage ``key`` this process keeps by its file's ``sha256`` (read and
    validated here, or handed over by the stage process that wrote it), if any."""
    known = _RECORDS.get((os.path.abspath(root), sha256))
    return known if known is not None and known.stage == key else None


def _stage_record(
    root: Path, key: str, value: Any, report: ValidationReport, remember: bool = True
) -> StageRecord | None:
    """One entry of the index's ``stages``: the record it names, read and validated unless
    this process already knows that file (by its sha256), or an inline 0.1 record.
    ``remember``: keep a record read here among the few a process keeps."""
    where = f"stages.{key}"
    if is_record_reference(value):
        known = _known_record(root, key, value["sha256"])
        if known is not None:
            return known
        cache_key = (os.path.abspath(root), value["sha256"])
        value = read_stage_record(root, key, value, report)
        if value is None:
            return None
    else:
        cache_key = None
    record = _structure_stage_record(value, report, where)
    if record is None:
        return None
    RunManifest.check_record(key, record, report)
    if cache_key is not None and report.ok and remember:
        _remember(cache_key, record)
    return record


def _read_index(root: Path, document: Any, report: ValidationReport) -> RunManifest | None:
    """The manifest of an index document, each stage record read (or known) on its own."""
    if not isinstance(document, dict) or not isinstance(document.get("stages"), dict):
        return RunManifest.from_document(document, report)  # the findings of a bad shape
    shell = RunManifest.from_document({**document, "stages": {}}, report)
    if shell is None:
        return None
    stages: dict[str, StageRecord] = {}
    for key, value in document["stages"].items():
        record = _stage_record(root, str(key), value, report)
        if record is None:
            return None
        stages[str(key)] = record
    manifest = attrs.evolve(shell, stages=stages)
    for alias, target in manifest.aliases.items():
        if target.split("/", 1)[0] not in stages:
            report.error(
                "dangling_alias",
                f"aliases.{alias}",
                f"points at {target!r}, a stage with no record",
            )
    return manifest


def _inside_run(path: Any) -> bool:
    return isinstance(path, str) and not path.startswith("/") and ".." not in path.split("/")


def _config_sha256(layout: RunLayout) -> str | None:
    """sha256 of the run's ``config.resolved.json`` (``None`` when there is none)."""
    from holopipe.artifacts.io import sha256_file

    try:
        return sha256_file(layout.config_path)
    except OSError:
        return None


@attrs.frozen
class ManifestIndex:
    """A run's manifest as its index says it, without reading the stage records: the
    aliases, the stages it names and the digests of the records unchanged since written
    (:mod:`holopipe.run.stage_digest`). What a no-op rerun needs."""

    aliases: dict[str, str]
    stages: frozenset[str]
    #: stage key -> its digest, for the stages whose record file and digest still agree.
    digests: dict[str, StageDigest]


class ManifestStore:
    """The manifest of one run: the index ``run_manifest.json`` and one record file per
    stage in ``run_manifest.d/`` (see :class:`~holopipe.artifacts.records.RunManifest`)."""

    def __init__(self, layout: RunLayout):
        self.layout = layout

    @property
    def path(self) -> Path:
        return self.layout.manifest_path

    def _cached(self) -> tuple[RunManifest, dict[str, Any]] | None:
        signature = stat_signature(self.path)
        if signature is None:
            return None
        key = str(self.path.absolute())
        cached = _LOADED.get(key)
        if cached is not None and cached[0] == signature:
            return cached[1], cached[2]
        for _ in range(_INDEX_READ_ATTEMPTS):
            document = self._index_document()
            report = ValidationReport(str(self.path), RunManifest.SCHEMA_NAME)
            manifest = _read_index(self.layout.root, document, report)
            if manifest is not None and report.ok:
                _LOADED[key] = (signature, manifest, document)  # a newer file: a new signature
                return manifest, document
            now = stat_signature(self.path)
            if now == signature:  # not replaced while its records were read: corrupt
                break
            signature = now  # a writer replaced it meanwhile (this reader holds no lock)
        raise ManifestError(report, self.layout.experiment)

    def index(self) -> ManifestIndex | None:
        """The manifest's index, or ``None`` if the run has none yet.

        When every stage entry carries a digest whose record file is unchanged since it
        was written (its stat signature), nothing else is read: the records were
        validated when written. Otherwise every record is read and validated once per
        index file, one at a time (a corrupt manifest raises :class:`ManifestError`), and
        the digests that still hold are kept.
        """
        found = self._index_file()
        return None if found is None else found[0]

    def _index_file(self) -> tuple[ManifestIndex, _IndexFile] | None:
        """:meth:`index`, and the index file it was read from (its records validated when
        the digests do not vouch for them all)."""
        key = str(self.path.absolute())
        report = ValidationReport(str(self.path), RunManifest.SCHEMA_NAME)
        for _ in range(_INDEX_READ_ATTEMPTS):
            signature = stat_signature(self.path)
            if signature is None:
                return None
            cached = _INDEXES.get(key)
            if cached is None or cached.signature != signature:
                cached = self._read_index_entries(signature)
                _INDEXES[key] = cached
            digests = {}
            for stage, (record_path, digest) in cached.entries.items():
                if digest is not None and record_unchanged(record_path, digest):
                    digests[stage] = digest
            index = ManifestIndex(dict(cached.shell.aliases), frozenset(cached.entries), digests)
            dangling = any(t.split("/", 1)[0] not in cached.entries for t in index.aliases.values())
            if (len(digests) == len(cached.entries) or cached.validated) and not dangling:
                return index, cached
            report = self._validate(cached)
            if report.ok:
                cached.validated = True
                return index, cached
            if stat_signature(self.path) == signature:  # not replaced while it was read: corrupt
                break
            # a writer replaced it meanwhile (this reader holds no lock): read the new one
        raise ManifestError(report, self.layout.experiment)

    def _validate(self, cached: _IndexFile) -> ValidationReport:
        """The findings of every record ``cached`` names (each read unless known, kept
        among the few a process keeps) and of its aliases."""
        report = ValidationReport(str(self.path), RunManifest.SCHEMA_NAME)
        for key, value in cached.document["stages"].items():
            if _stage_record(self.layout.root, str(key), value, report) is None:
                return report
        for alias, target in cached.shell.aliases.items():
            if target.split("/", 1)[0] not in cached.entries:
                report.error(
                    "dangling_alias",
                    f"aliases.{alias}",
                    f"points at {target!r}, a stage with no record",
                )
        return report

    def load_stages(self, keys: Iterable[str]) -> RunManifest | None:
        """The manifest with the records of stages ``keys`` only (those it has), or
        ``None`` if the run has none yet: what one stage's assessment and resolution
        need. The other records are not read when the index vouches for them
        (:meth:`index`), else once to validate them."""
        found = self._index_file()
        if found is None:
            return None
        _, lazy = found
        report = ValidationReport(str(self.path), RunManifest.SCHEMA_NAME)
        stages = {}
        for key in dict.fromkeys(keys):
            if key in lazy.entries:
                record = _stage_record(self.layout.root, key, lazy.document["stages"][key], report)
                if record is None:
                    raise ManifestError(report, self.layout.experiment)
                stages[key] = record
        return attrs.evolve(lazy.shell, stages=stages)

    def records(self) -> Iterator[StageRecord]:
        """Every stage record in stage order, each read as it is reached and not kept (nor
        the ones this process kept before): a reader of every record (the report) holds
        one at a time, whatever the size of the run. Raises :class:`ManifestError` as
        :meth:`index` does."""
        found = self._index_file()
        if found is None:
            return
        _, lazy = found
        # What a process keeps serves one stage's assessment; a reader of every record
        # needs none of it (two records of 60 000 systems are 130 MiB).
        _RECORDS.clear()
        report = ValidationReport(str(self.path), RunManifest.SCHEMA_NAME)
        for key in sorted(lazy.entries):
            value = lazy.document["stages"][key]
            record = _stage_record(self.layout.root, key, value, report, remember=False)
            if record is None or not report.ok:
                raise ManifestError(report, self.layout.experiment)
            yield record
            del record  # not held while the next one is read

    def output_entries(self) -> Iterator[tuple[str, list[dict[str, Any]]]]:
        """Per stage record in stage order, its key and its ``outputs`` entries as JSON
        objects (FileRecord's keys): what the report takes of every record. A record its
        digest vouches for (validated when written, its stat unchanged since) is read and
        checked against the index's sha256 (the bytes validated when written) but not
        structured again (half the CPU at 10 000 files) when its entries are exactly as
        holopipe writes them; any other is read and validated as :meth:`records` does. A
        record this process already knows by the sha256 the index names (read, or handed
        over by the stage process that wrote it: the stages this command ran) is not read at
        all. Each is dropped before the next one is read. Raises :class:`ManifestError` as
        :meth:`index` does."""
        found = self._index_file()
        if found is None:
            return
        index, lazy = found
        known = self._known_outputs(lazy)
        _RECORDS.clear()  # as records(): a reader of every record needs none of them kept
        report = ValidationReport(str(self.path), RunManifest.SCHEMA_NAME)
        for key in sorted(lazy.entries):
            value = lazy.document["stages"][key]
            outputs = None
            if key in known:  # structured (validated) already
                outputs = converter.unstructure(known.pop(key))
            elif key in index.digests:
                raw = read_stage_record(self.layout.root, key, value, report)
                if raw is None:
                    raise ManifestError(report, self.layout.experiment)
                # Entries as holopipe writes them are taken as they are; anything else (a
                # record edited by hand, its index made to match) is validated below.
                outputs = raw.get("outputs") if type(raw) is dict else None
                if type(outputs) is not list or not all(map(_plain_entry, outputs)):
                    outputs = None
                del raw
            if outputs is None:
                record = _stage_record(self.layout.root, key, value, report, remember=False)
                if record is None or not report.ok:
                    raise ManifestError(report, self.layout.experiment)
                outputs = converter.unstructure(record.outputs)
                del record
            yield key, outputs
            del outputs  # not held while the next one is read

    def _known_outputs(self, lazy: _IndexFile) -> dict[str, list[FileRecord]]:
        """The ``outputs`` of the records this process knows by the sha256 the index names
        (only those: the rest of each record is not held while the others are read)."""
        known = {}
        for key, value in lazy.document["stages"].items():
            if is_record_reference(value):
                record = _known_record(self.layout.root, key, value["sha256"])
                if record is not None:
                    known[key] = record.outputs
        return known

    def load_for(self, key: str, aliases: Iterable[str]) -> RunManifest | None:
        """:meth:`load_stages` of stage ``key`` and of the stages the index names as the
        producers of ``aliases`` (what assessing that stage from its record reads)."""
        producers = self._producers(aliases)
        return None if producers is None else self.load_stages([key, *producers])

    def load_producers(self, aliases: Iterable[str]) -> RunManifest | None:
        """:meth:`load_stages` of the stages the index names as the producers of
        ``aliases``: what resolving a stage's inputs reads (not the stage's own record)."""
        producers = self._producers(aliases)
        return None if producers is None else self.load_stages(producers)

    def take_over(self, stage: str, packed: bytes) -> None:
        """Keep the record stage ``stage``'s process wrote into this run (packed by
        :func:`hand_over` in that forked process, as it wrote it) as if this process had
        read and validated it: the next reader of it (the next stage's resolution) takes it
        instead of parsing the file again. It is taken only where the index names a record
        by that sha256, as any record this process knows (a record written but never named,
        a kill before the index was replaced, is never used)."""
        sha256, shell, (inputs, outputs) = pickle.loads(packed)  # noqa: S301 - our own child
        if shell.stage != stage:
            return
        record = attrs.evolve(
            shell,
            inputs=[FileRecord(*row) for row in inputs],
            outputs=[FileRecord(*row) for row in outputs],
        )
        _remember((os.path.abspath(self.layout.root), sha256), record)

    def _producers(self, aliases: Iterable[str]) -> list[str] | None:
        index = self.index()
        if index is None:
            return None
        return [index.aliases[a].split("/", 1)[0] for a in aliases if a in index.aliases]

    def _index_document(self) -> Any:
        """The index file's JSON document. A file that is not regular (a FIFO would block
        for ever), too large, not UTF-8 or not JSON is a corrupt manifest."""
        report = ValidationReport(str(self.path), RunManifest.SCHEMA_NAME)
        try:
            return loads_json(read_bytes_bounded(self.path).decode("utf-8"))
        except UnsafeFile as exc:
            exc.record(report)
        except ValueError as exc:  # UnicodeDecodeError included
            report.error("malformed_json", "<file>", str(exc))
        raise ManifestError(report, self.layout.experiment)

    def _read_index_entries(self, signature: tuple[int, int, int, int]) -> _IndexFile:
        """The index file without its records: its header, aliases and, per stage, its
        record's path and digest (``None`` for an entry that names no record file or
        carries no usable digest)."""
        document = self._index_document()
        report = ValidationReport(str(self.path), RunManifest.SCHEMA_NAME)
        stages = document.get("stages") if isinstance(document, dict) else None
        if not isinstance(stages, dict):
            self.load()  # raises with the findings of a bad shape
            raise ManifestError(report, self.layout.experiment)
        shell = RunManifest.from_document({**document, "stages": {}}, report)
        if shell is None or not report.ok:
            raise ManifestError(report, self.layout.experiment)
        root = os.fspath(self.layout.root)
        entries: dict[str, Any] = {}
        for stage, value in stages.items():
            digest = None
            if is_record_reference(value) and _inside_run(value["record"]):
                digest = StageDigest.from_json(value.get("digest"))
                if digest is not None and digest.record_sha256 != value["sha256"]:
                    digest = None
            path = os.path.join(root, value["record"]) if digest is not None else ""
            entries[str(stage)] = (path, digest)
        return _IndexFile(signature, shell, document, entries)

    def load(self) -> RunManifest | None:
        """The validated manifest, or ``None`` if the run has none yet.

        Read again only when the index changed since this process last read or wrote it,
        and then only the stage records it does not know yet; the object returned is
        shared, treat it as read-only.
        """
        cached = self._cached()
        return cached[0] if cached else None

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path.with_name(self.path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _write_record(
        self, record: StageRecord, raw_record: dict[str, Any], created: list[Path]
    ) -> dict[str, str]:
        """Write one stage record file (named by its content; appended to ``created`` when
        new); the index entry naming it."""
        data = _record_bytes(raw_record)
        sha256 = hashlib.sha256(data).hexdigest()
        name = _record_name(record.stage, sha256)
        path = self.layout.root / name
        if not path.is_file():  # the same record already written: same name, same bytes
            atomic_write_bytes(path, data)
            created.append(path)
        _remember((os.path.abspath(self.layout.root), sha256), record)
        entry: dict[str, Any] = {"record": name, "sha256": sha256}
        digest = stage_digest(self.layout, record, os.fspath(path), sha256)
        if digest is not None:  # what a no-op rerun reads instead of the record
            entry["digest"] = digest.to_json()
        return entry

    def _write_index(
        self, document: dict[str, Any], manifest: RunManifest | None, created: list[Path]
    ) -> None:
        """Replace the index; when that fails, the record files just ``created`` for it are
        removed again (the old index and its records stay exactly as they were).
        ``manifest``: the whole manifest written, kept for :meth:`load` (``None``: not
        known whole, read again when asked)."""
        document = {
            **document,
            "schema_name": RunManifest.SCHEMA_NAME,
            "schema_version": RunManifest.SCHEMA_VERSION,
        }
        try:
            atomic_write_bytes(self.path, dumps_json(document, compact=True).encode("utf-8"))
        except BaseException:
            for path in created:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
            raise
        signature = stat_signature(self.path)
        if signature is not None and manifest is not None:
            _LOADED[str(self.path.absolute())] = (signature, manifest, document)

    def _forget_unreferenced(self, document: dict[str, Any], stages: set[str] | None) -> None:
        """Remove the record files the index no longer names (of ``stages``; all if None):
        the previous record of a stage, or one a kill left before its index was written."""
        folder = self.layout.root / MANIFEST_RECORDS_DIR
        named = {v["record"].rsplit("/", 1)[-1] for v in document["stages"].values()}
        try:
            entries = list(os.scandir(folder))
        except FileNotFoundError:
            return
        for entry in entries:
            stage = entry.name.split(".", 1)[0]
            if entry.name.endswith(".json") and entry.name not in named:
                if stages is None or stage in stages:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(entry.path)

    def replace(self, records: list[StageRecord], aliases: dict[str, str]) -> Path | None:
        """Write a new manifest of ``records`` (see :func:`rebuild_records`); the index it
        replaces is kept as ``run_manifest.json.corrupt[.<n>]``, whose path is returned."""
        with self._locked():
            kept = None
            if self.path.exists():
                kept = self.path.with_name(self.path.name + ".corrupt")
                n = 1
                while kept.exists():
                    kept, n = self.path.with_name(f"{self.path.name}.corrupt.{n}"), n + 1
                os.link(self.path, kept)
            now = utc_now()
            manifest = RunManifest(
                experiment=self.layout.experiment,
                created_at=now,
                updated_at=now,
                holopipe_version=code_version().holopipe_version,
                stages={r.stage: r for r in records},
                aliases=aliases,
                config_sha256=_config_sha256(self.layout),
            )
            report = ValidationReport(str(self.path), RunManifest.SCHEMA_NAME)
            manifest._check(report)
            if not report.ok:
                raise ArtifactError(report)
            document = manifest.to_document()
            created: list[Path] = []
            document["stages"] = {
                r.stage: self._write_record(r, converter.unstructure(r), created) for r in records
            }
            self._write_index(document, manifest, created)
            self._forget_unreferenced(document, None)
            return kept

    def update(
        self,
        record: StageRecord,
        aliases: dict[str, str] | None = None,
        legacy_sources: list[dict[str, Any]] | None = None,
    ) -> str:
        """Add or replace one stage record and aliases, under the lock: the stage's record
        file, then the index naming it, each written atomically. Returns the sha256 of the
        record file's bytes (what the index names it by).

        ``legacy_sources`` (entries with a ``via`` key) replace the earlier entries of the
        same ``via`` and set the top-level ``resolved_from_legacy``.

        The cost is that of the changed record and the small index: the other records are
        neither read (when the index vouches for them, see :meth:`index`) nor rewritten.
        """
        with self._locked():
            now = utc_now()
            found = self._index_file()
            whole = found is None  # a new manifest: its one record is all of it
            if found is None:
                manifest = RunManifest(
                    experiment=self.layout.experiment,
                    created_at=now,
                    updated_at=now,
                    holopipe_version=code_version().holopipe_version,
                )
                document = manifest.to_document()
            else:
                manifest, document = found[1].shell, found[1].document
            raw_record = converter.unstructure(record)
            report = ValidationReport(str(self.path), RunManifest.SCHEMA_NAME)
            check_structure(StageRecord, raw_record, report, f"stages.{record.stage}")
            RunManifest.check_record(record.stage, record, report)
            if not report.ok:
                raise ArtifactError(report)
            aliases = {**manifest.aliases, **(aliases or {})}
            top: dict[str, Any] = {"aliases": aliases, "updated_at": now}
            config_sha256 = _config_sha256(self.layout)
            if config_sha256 is not None:  # the config the recorded stage ran with
                top["config_sha256"] = config_sha256
            if legacy_sources:
                replaced = {entry.get("via") for entry in legacy_sources}
                kept = [e for e in manifest.legacy_sources if e.get("via") not in replaced]
                top["legacy_sources"] = kept + list(legacy_sources)
                top["resolved_from_legacy"] = True
            manifest = attrs.evolve(
                manifest, stages={**manifest.stages, record.stage: record}, **top
            )
            stages, created = {}, []
            for key, value in document["stages"].items():
                if key == record.stage:
                    continue
                if not is_record_reference(value):  # a 0.1 manifest's inline record: a file now
                    old = _stage_record(self.layout.root, key, value, report)
                    if old is None:
                        raise ManifestError(report, self.layout.experiment)
                    value = self._write_record(old, converter.unstructure(old), created)
                stages[key] = value
            stages[record.stage] = self._write_record(record, raw_record, created)
            document = {**document, "stages": stages, **converter.unstructure(top)}
            self._write_index(document, manifest if whole else None, created)
            self._forget_unreferenced(document, {record.stage})
            return stages[record.stage]["sha256"]


def rebuild_records(
    layout: RunLayout, stage_outputs: dict[str, list[tuple[str, str]]]
) -> tuple[list[StageRecord], dict[str, str], list[str]]:
    """Stage records rebuilt from the stage folders' own files, for a lost manifest.

    ``stage_outputs`` maps each stage key of the run to its declared ``(alias, schema)``
    outputs. A folder counts only with a readable ``stage_summary.json`` (its status,
    exit code, git sha and time); its outputs are the files under its alias folders, hashed
    now. The fingerprint is unknown (empty), so the next run reruns each stage once.
    Returns the records, the aliases and one line per stage skipped and why.
    """
    from holopipe.artifacts.io import sha256_file
    from holopipe.artifacts.records import StageSummary
    from holopipe.artifacts.registry import detect_type

    records, aliases, skipped = [], {}, []
    for key, outputs in stage_outputs.items():
        folder = layout.root / key
        report, summary = StageSummary.read_with_report(folder / "stage_summary.json")
        if summary is None:
            if folder.exists():
                skipped.append(f"{key}: no readable stage_summary.json (it will rerun)")
            continue
        files = []
        for alias, schema in outputs:
            for path in sorted((folder / alias).rglob("*")) if (folder / alias).is_dir() else []:
                if path.is_file() and not path.is_symlink():
                    found = detect_type(path)
                    files.append(
                        file_record(layout, alias, path, found.SCHEMA_NAME if found else schema)
                    )
            if summary.status in ("OK", "WARNING") and (folder / alias).is_dir():
                aliases[alias] = f"{key}/{alias}"
        records.append(
            StageRecord(
                stage=key,
                status=summary.status,
                exit_code=summary.exit_code,
                command=["holopipe", "repair-manifest", "-e", layout.experiment],
                git_sha=summary.meta.git_sha,
                started_at=summary.meta.created_at,
                finished_at=summary.meta.created_at,
                fingerprint="",
                outputs=files,
                summary_sha256=sha256_file(folder / "stage_summary.json"),
            )
        )
    return records, aliases, skipped
