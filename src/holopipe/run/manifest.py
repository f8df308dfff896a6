"""Reading and updating ``run_manifest.json`` safely.

Writers take a short ``flock`` on ``run_manifest.json.lock`` and replace the file
atomically, so concurrent writers (the orchestrator and a stage run by hand) serialise and
a reader never sees a half-written manifest. A stage updates it once, with all its
records, not once per file.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

import attrs

from holopipe.artifacts.records import FileRecord, RunManifest, StageRecord
from holopipe.run.layout import RunLayout
from holopipe.run.provenance import code_version, utc_now

__all__ = ["ManifestStore", "file_record"]


def file_record(
    layout: RunLayout, name: str, path: Path, schema: str | None, resolved_from_legacy: bool = False
) -> FileRecord:
    """A manifest entry for ``path`` with its sha256 and size."""
    from holopipe.artifacts._io import sha256_file

    return FileRecord(
        name=name,
        path=layout.relative(path),
        sha256=sha256_file(path),
        schema=schema,
        size=path.stat().st_size,
        resolved_from_legacy=resolved_from_legacy,
    )


# The last manifest read or written per file, with the stat signature of that file version.
# The manifest is only ever replaced by an atomic rename (a new inode), so an unchanged
# signature means unchanged content: the orchestrator and the stages consult the manifest
# many times per stage, and parsing and validating it is O(size of the run).
_LOADED: dict[str, tuple[tuple[int, int, int], RunManifest]] = {}


def _signature(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


class ManifestStore:
    """The manifest of one run."""

    def __init__(self, layout: RunLayout):
        self.layout = layout

    @property
    def path(self) -> Path:
        return self.layout.manifest_path

    def load(self) -> RunManifest | None:
        """The validated manifest, or ``None`` if the run has none yet.

        Read and validated again only when the file changed since this process last read
        or wrote it; the object returned is shared, treat it as read-only.
        """
        signature = _signature(self.path)
        if signature is None:
            return None
        key = str(self.path.absolute())
        cached = _LOADED.get(key)
        if cached is not None and cached[0] == signature:
            return cached[1]
        manifest = RunManifest.read(self.path)
        _LOADED[key] = (signature, manifest)  # a newer file has a new signature: never stale
        return manifest

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path.with_name(self.path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def update(
        self,
        record: StageRecord | None = None,
        aliases: dict[str, str] | None = None,
        **fields: object,
    ) -> RunManifest:
        """Add or replace one stage record and aliases, under the lock, in one write."""
        with self._locked():
            now = utc_now()
            manifest = self.load() or RunManifest(
                experiment=self.layout.experiment,
                created_at=now,
                updated_at=now,
                holopipe_version=code_version().holopipe_version,
            )
            stages = dict(manifest.stages)
            if record is not None:
                stages[record.stage] = record
            manifest = attrs.evolve(
                manifest,
                stages=stages,
                aliases={**manifest.aliases, **(aliases or {})},
                updated_at=now,
                **fields,
            )
            manifest.write(self.path)
            signature = _signature(self.path)
            if signature is not None:
                _LOADED[str(self.path.absolute())] = (signature, manifest)
            return manifest
