"""Where everything of a run lives: ``runs/<experiment>/`` and its parts.

Examples
--------
>>> layout = RunLayout.create("runs", "debug_Tfinite")
>>> layout.stage_dir("02", "emergent_geometry_engine").as_posix()
'runs/debug_Tfinite/02_emergent_geometry_engine'
>>> stage_key("04c", "negative_controls")
'04c_negative_controls'
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import attrs

__all__ = [
    "ALIAS_MARKER",
    "BOOKKEEPING_FILES",
    "RUNS_DIR_ENV",
    "LayoutError",
    "RunLayout",
    "default_runs_dir",
    "make_alias",
    "publish_problem",
    "stage_key",
]

#: Environment variable choosing the runs root when ``--runs-dir`` is not given.
RUNS_DIR_ENV = "HOLOPIPE_RUNS_DIR"
#: Written inside a real-folder alias (where a symlink could not be made) naming its target.
ALIAS_MARKER = ".alias_of"
#: Files every stage dir holds besides its declared outputs.
BOOKKEEPING_FILES = (
    "stage_summary.json",
    "cmd.txt",
    "meta_env.json",
    "logs/stdout.log",
    "logs/stderr.log",
)

_EXPERIMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_STAGE_ID = re.compile(r"^\d{2}[a-z]?$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_]*$")
# What an interrupted command can leave in a run root: the temporary file of an atomic
# write (``.<name>.<8 random chars>.tmp``, tempfile.mkstemp), a stage's work folder or the
# previous folder it was swapping out, and the staging link of an alias.
_TEMP_FILE = re.compile(r"^\..+\.[A-Za-z0-9_]{8}\.tmp$")
_STAGE_WORK = re.compile(r"^\.(\d{2}[a-z]?_[a-z0-9_]+(?:\.failed)?)\.(partial|old)$")
_STAGE_KEY = re.compile(r"^\d{2}[a-z]?_[a-z0-9_]+$")
_ALIAS_STAGING = re.compile(r"^\..+\.alias-tmp$")


class LayoutError(ValueError):
    """A bad experiment name, stage id or slug."""


def stage_key(stage_id: str, slug: str) -> str:
    """``<NN>_<slug>``; ids are two digits with an optional letter (``04c``)."""
    if not _STAGE_ID.match(stage_id):
        raise LayoutError(
            f"stage id {stage_id!r} must be two digits and an optional letter, e.g. '06' or '04c'"
        )
    if not _SLUG.match(slug):
        raise LayoutError(f"stage slug {slug!r} must be lower-case letters, digits and underscores")
    return f"{stage_id}_{slug}"


def default_runs_dir(cli_value: str | os.PathLike | None = None) -> Path:
    """The runs root: ``--runs-dir``, else ``$HOLOPIPE_RUNS_DIR``, else ``./runs``."""
    if cli_value is not None:
        return Path(cli_value)
    return Path(os.environ.get(RUNS_DIR_ENV) or "runs")


@attrs.frozen
class RunLayout:
    """Paths of one experiment's run."""

    runs_dir: Path
    experiment: str
    # The run root and its path with a trailing separator, made once: every file record
    # asks for them (thousands per stage).
    _root: Path = attrs.field(init=False, eq=False, repr=False)
    _root_prefix: str = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        root = self.runs_dir / self.experiment
        object.__setattr__(self, "_root", root)
        object.__setattr__(self, "_root_prefix", os.path.join(os.fspath(root), ""))

    @classmethod
    def create(cls, runs_dir: str | os.PathLike, experiment: str) -> RunLayout:
        if not _EXPERIMENT.match(experiment):
            raise LayoutError(
                f"experiment name {experiment!r} must start with a letter or digit and use only "
                "letters, digits, '_', '-' and '.'"
            )
        return cls(Path(runs_dir), experiment)

    @property
    def root(self) -> Path:
        return self._root

    @property
    def manifest_path(self) -> Path:
        return self.root / "run_manifest.json"

    @property
    def config_path(self) -> Path:
        return self.root / "config.resolved.json"

    @property
    def lock_path(self) -> Path:
        return self.root / ".lock"

    @property
    def pipeline_summary_path(self) -> Path:
        return self.root / "pipeline_summary.json"

    @property
    def executor_dir(self) -> Path:
        """Where executors keep what lives only while a command runs: each stage's job
        files (``<stage>/``) and the run's Dask cluster scratch space (``cluster/``)."""
        return self.root / ".executor"

    def stage_dir(self, stage_id: str, slug: str) -> Path:
        return self.root / stage_key(stage_id, slug)

    def numbered_configs(self) -> list[Path]:
        """The configs a forced change replaced (``config.resolved.<n>.json``), oldest first."""
        found = []
        for path in self.root.glob("config.resolved.*.json"):
            number = path.name.split(".")[2]
            if number.isdigit():
                found.append((int(number), path))
        return [path for _, path in sorted(found)]

    def has_runs(self) -> bool:
        """Whether a stage has run here (a stage folder, or a config a forced change
        replaced). A run made only by ``import-legacy`` has a manifest and no config yet."""
        if self.numbered_configs():
            return True
        return self.root.is_dir() and any(
            _STAGE_KEY.match(p.name) and p.is_dir() for p in self.root.iterdir()
        )

    def remove_leftovers(self) -> list[str]:
        """Undo what an interrupted command left in the run root; one line per repair.

        Called by whoever takes the experiment lock, so no other writer is at work:
        temporary files of atomic writes and alias staging links are removed, a stage's
        ``.partial`` work folder is removed, and the ``.old`` folder a stage was swapping
        out is removed, or put back when the kill came before the new folder took its
        place (the manifest still records the old one). So is :attr:`executor_dir` (job
        files and cluster scratch of a command that did not end in order).
        """
        if not self.root.is_dir():
            return []
        lines = []
        for path in sorted(self.root.iterdir()):
            name = path.name
            work = _STAGE_WORK.match(name)
            final = self.root / work.group(1) if work else None
            if work and work.group(2) == "old" and not final.exists() and path.is_dir():
                os.replace(path, final)
                lines.append(f"restored {final.name}/ (a publication was interrupted)")
            elif (
                work
                or _ALIAS_STAGING.match(name)
                or (_TEMP_FILE.match(name) and path.is_file())
                or (path == self.executor_dir and path.is_dir())
            ):
                _remove(path)
                lines.append(f"removed {name} (left by an interrupted command)")
        from holopipe.artifacts.run_records import MANIFEST_RECORDS_DIR

        records = self.root / MANIFEST_RECORDS_DIR
        for path in sorted(records.iterdir()) if records.is_dir() else ():
            if _TEMP_FILE.match(path.name) and path.is_file():  # a stage record's write
                _remove(path)
                where = f"{MANIFEST_RECORDS_DIR}/{path.name}"
                lines.append(f"removed {where} (left by an interrupted command)")
        return lines

    def relative(self, path: str | os.PathLike) -> str:
        """``path`` relative to the run root, as a POSIX string."""
        text, prefix = os.fspath(path), self._root_prefix
        if text.startswith(prefix):  # built from the root (thousands per stage): no syscall
            return os.path.normpath(text[len(prefix) :]).replace(os.sep, "/")
        return Path(os.path.relpath(Path(path).absolute(), self.root.absolute())).as_posix()


def make_alias(root: Path, alias: str, target: Path) -> Path:
    """Point ``root/alias`` at ``target`` (a folder inside ``root``).

    A relative symlink where the platform allows it; otherwise a real folder holding copies
    of the target's files and an ``.alias_of`` marker naming the target. Replaces an
    existing alias atomically (the new link is renamed over the old one).
    """
    link = root / alias
    relative_target = os.path.relpath(target, root)
    staging = root / f".{alias}.alias-tmp"
    _remove(staging)
    try:
        os.symlink(relative_target, staging, target_is_directory=True)
        if link.is_dir() and not link.is_symlink():
            shutil.rmtree(link)
        os.replace(staging, link)
    except OSError:
        _remove(staging)
        shutil.copytree(target, staging)
        (staging / ALIAS_MARKER).write_text(relative_target + "\n", encoding="utf-8")
        _remove(link)
        os.replace(staging, link)
    return link


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)


def publish_problem(
    root: Path, stage: str, summary_sha256: str, recorded_run: tuple[str, float] = ("", 0.0)
) -> str | None:
    """Why the stage folder ``root/stage`` is not the one its manifest record describes.

    ``None`` when its ``stage_summary.json`` is there with the recorded sha256 (an empty
    ``summary_sha256``, from a record written before it was recorded, checks presence
    only). A kill between swapping the new folder in and recording it leaves no folder at
    all, or a folder whose summary is a complete record of a later run than the manifest
    knows. A summary that is missing, unreadable or edited by hand in place is not a
    publication problem: the stage counts as failed (``gates.summary_problem`` says so).
    """
    folder = root / stage
    summary = folder / "stage_summary.json"
    interrupted = "interrupted while publishing; rerun"
    if not folder.is_dir():
        leftover = any((root / f".{stage}.{kind}").exists() for kind in ("old", "partial"))
        return f"{stage}/ {interrupted}" if leftover else f"{stage}/ is missing; rerun"
    if not summary.is_file() or not summary_sha256:
        return None
    from holopipe.artifacts.io import sha256_file

    if sha256_file(summary) != summary_sha256 and _is_other_run(summary, recorded_run):
        return f"{stage}/ does not match run_manifest.json: {interrupted}"
    return None


def _is_other_run(summary: Path, recorded_run: tuple[str, float]) -> bool:
    """The summary is a readable record of another run than the manifest's: its finish
    time or its duration (recorded to the microsecond) differs from ``recorded_run``, the
    record's ``(finished_at, duration_s)``. A hand edit keeps both."""
    import json

    try:
        document = json.loads(summary.read_text(encoding="utf-8"))
        seen = (document["meta"]["created_at"], float(document["timings"]["total_s"]))
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError):
        return False
    return seen != (recorded_run[0], float(recorded_run[1]))
