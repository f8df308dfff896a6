"""Golden runs end to end: run a committed golden experiment, then write or check its reference.

A golden run ``NAME`` is the config ``configs/golden/NAME.json`` (a small experiment that runs
01 -> 09 in well under a minute) and its reference ``tests/golden/NAME.json``
(:mod:`holopipe.run.golden`: canonical hashes of every artifact, metrics with tolerances).
:func:`check_golden` runs the experiment (in ``runs_dir``, or in a temporary folder that is
removed afterwards; an up-to-date run in ``runs_dir`` is not recomputed) and compares it;
:func:`update_golden` does the same run and writes the reference, keeping the tolerance
rules of the reference it replaces.

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

import attrs

from holopipe.pipeline import run_pipeline
from holopipe.run.golden import (
    Difference,
    GoldenError,
    GoldenReference,
    Snapshot,
    compare,
    exit_code,
    snapshot,
)

__all__ = ["CONFIGS_DIR", "REFERENCES_DIR", "GoldenCheck", "check_golden", "update_golden"]

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


def _run_and_snapshot(
    name: str, runs_dir: Path | None, configs_dir: Path, jobs: int, echo: Callable[[str], None]
) -> tuple[Path, int, Snapshot]:
    """(config, the run's exit code, what the run shows) of golden experiment ``name``."""
    config = _config_path(name, configs_dir)
    with _runs_root(runs_dir) as root:
        code = run_pipeline(root, name, config, jobs=jobs, echo=echo)
        return config, code, snapshot(root / name)


def check_golden(
    name: str,
    runs_dir: Path | None = None,
    *,
    configs_dir: Path = CONFIGS_DIR,
    references_dir: Path = REFERENCES_DIR,
    jobs: int = 1,
    echo: Callable[[str], None] = lambda line: None,
) -> GoldenCheck:
    """Run golden experiment ``name`` and compare it with its reference.

    Raises
    ------
    GoldenError
        Unknown name, missing or malformed reference, or a run without a manifest.
    """
    _config_path(name, configs_dir)  # an unknown name is refused before the reference
    reference = GoldenReference.read(references_dir / f"{name}.json")
    _, code, seen = _run_and_snapshot(name, runs_dir, configs_dir, jobs, echo)
    return GoldenCheck(name, code, compare(reference, seen))


def update_golden(
    name: str,
    runs_dir: Path | None = None,
    *,
    configs_dir: Path = CONFIGS_DIR,
    references_dir: Path = REFERENCES_DIR,
    jobs: int = 1,
    echo: Callable[[str], None] = lambda line: None,
) -> tuple[Path, int]:
    """Run golden experiment ``name`` and write its reference; returns (path, run exit code).

    The tolerance rules of an existing, readable reference are kept.
    """
    target = references_dir / f"{name}.json"
    tolerances = None
    if target.exists():
        tolerances = GoldenReference.read(target).tolerances
    config, code, seen = _run_and_snapshot(name, runs_dir, configs_dir, jobs, echo)
    reference = GoldenReference(name, config.as_posix(), seen.artifacts, seen.metrics)
    if tolerances is not None:
        reference.tolerances = tolerances
    return reference.write(target), code
