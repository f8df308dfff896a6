"""Golden runs end to end: run a committed golden experiment, then write or check its reference.

A golden run ``NAME`` is the config ``configs/golden/NAME.json`` (a small experiment that runs
01 -> 09 in well under a minute) and its reference ``tests/golden/NAME.json``
(:mod:`holopipe.run.golden`: canonical hashes of every artifact, metrics with tolerances).
:meth:`GoldenRun.check` (:func:`check_golden`) runs the experiment (in ``runs_dir``, or in a
temporary folder that is removed afterwards; an up-to-date run in ``runs_dir`` is not
recomputed) and compares it; :meth:`GoldenRun.update` (:func:`update_golden`) does the same
run and writes the reference, keeping the tolerance rules of the reference it replaces.

Examples
--------
>>> CONFIGS_DIR.as_posix(), REFERENCES_DIR.as_posix()
('configs/golden', 'tests/golden')
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs

from holopipe.pipeline import RunRequest, run_pipeline
from holopipe.run.golden import (
    Difference,
    GoldenError,
    GoldenReference,
    Snapshot,
    compare,
    exit_code,
    snapshot,
)

__all__ = [
    "CONFIGS_DIR",
    "REFERENCES_DIR",
    "GoldenCheck",
    "GoldenRun",
    "check_golden",
    "update_golden",
]

#: Where golden configs and references live, relative to the repository root.
CONFIGS_DIR = Path("configs/golden")
REFERENCES_DIR = Path("tests/golden")
_NAME = re.compile(r"^[A-Za-z0-9_]+$")


@attrs.frozen
class GoldenCheck:
    """The outcome of :func:`check_golden`."""

    name: str
    run_exit_code: int
    differences: list[Difference]

    @property
    def exit_code(self) -> int:
        return exit_code(self.differences)

    def verdict(self) -> str:
        errors = sum(d.severity == "error" for d in self.differences)
        warnings = len(self.differences) - errors
        word = {0: "OK", 1: "WARNING", 2: "FAIL"}[self.exit_code]
        return (
            f"golden {self.name}: {word} ({errors} error(s), {warnings} warning(s); "
            f"the run exited {self.run_exit_code})"
        )


def _config_path(name: str, configs_dir: Path) -> Path:
    if not _NAME.match(name):
        raise GoldenError(f"golden run name {name!r}: must match [A-Za-z0-9_]+")
    path = configs_dir / f"{name}.json"
    if not path.is_file():
        known = sorted(p.stem for p in configs_dir.glob("*.json")) if configs_dir.is_dir() else []
        raise GoldenError(f"{path}: no such golden config (known: {', '.join(known) or 'none'})")
    return path


@contextmanager
def _runs_root(runs_dir: Path | None) -> Iterator[Path]:
    if runs_dir is not None:
        yield runs_dir
        return
    with tempfile.TemporaryDirectory(prefix="holopipe-golden-") as scratch:
        yield Path(scratch)


@attrs.frozen
class GoldenRun:
    """Golden experiment ``name`` as a command sees it: where it runs (``runs_dir``, else a
    temporary folder), where its config and reference live, and where its stage lines go.

    Examples
    --------
    >>> GoldenRun("ads_control").configs_dir.as_posix()
    'configs/golden'
    """

    name: str
    runs_dir: Path | None = None
    configs_dir: Path = CONFIGS_DIR
    references_dir: Path = REFERENCES_DIR
    jobs: int = 1
    echo: Callable[[str], None] = lambda line: None

    @property
    def reference_path(self) -> Path:
        return self.references_dir / f"{self.name}.json"

    def _run_and_snapshot(self) -> tuple[Path, int, Snapshot]:
        """(config, the run's exit code, what the run shows)."""
        config = _config_path(self.name, self.configs_dir)
        with _runs_root(self.runs_dir) as root:
            request = RunRequest(root, self.name, config, jobs=self.jobs)
            code = run_pipeline(request, echo=self.echo)
            return config, code, snapshot(root / self.name)

    def check(self) -> GoldenCheck:
        """Run the experiment and compare it with its reference.

        Raises
        ------
        GoldenError
            Unknown name, missing or malformed reference, or a run without a manifest.
        """
        _config_path(self.name, self.configs_dir)  # an unknown name is refused first
        reference = GoldenReference.read(self.reference_path)
        _, code, seen = self._run_and_snapshot()
        return GoldenCheck(self.name, code, compare(reference, seen))

    def update(self) -> tuple[Path, int]:
        """Run the experiment and write its reference; returns (path, run exit code).

        The tolerance rules of an existing, readable reference are kept.
        """
        target = self.reference_path
        tolerances = GoldenReference.read(target).tolerances if target.exists() else None
        config, code, seen = self._run_and_snapshot()
        reference = GoldenReference(self.name, config.as_posix(), seen.artifacts, seen.metrics)
        if tolerances is not None:
            reference.tolerances = tolerances
        return reference.write(target), code


def check_golden(name: str, runs_dir: Path | None = None, **options: Any) -> GoldenCheck:
    """:meth:`GoldenRun.check` of ``GoldenRun(name, runs_dir, **options)`` (``configs_dir``,
    ``references_dir``, ``jobs``, ``echo``)."""
    return GoldenRun(name, runs_dir, **options).check()


def update_golden(name: str, runs_dir: Path | None = None, **options: Any) -> tuple[Path, int]:
    """:meth:`GoldenRun.update` of ``GoldenRun(name, runs_dir, **options)``."""
    return GoldenRun(name, runs_dir, **options).update()
