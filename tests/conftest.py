"""Suite-wide fixtures.

The whole test session runs under the "no writes outside the run" gate: the repository is
snapshotted (paths, mtimes, sizes) before the first test and compared after the last; a
file that the tests created or modified fails the session with the list of culprits.
Tests write into ``tmp_path``, never into the checkout. (Editing the checkout while the
suite runs is reported the same way: the gate cannot tell who wrote.)
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# This checkout's sources come first, in this process and in every Python process the tests
# start (the CLI runs in subprocesses): an environment whose editable install points at
# another checkout (a git worktree beside it, say) would otherwise test that checkout's code,
# and the doctests of this one's src/ would not even collect ("import file mismatch").
SRC = str(REPO / "src")
if sys.path[:1] != [SRC]:
    sys.path.insert(0, SRC)
os.environ["PYTHONPATH"] = os.pathsep.join([SRC, *filter(None, [os.environ.get("PYTHONPATH")])])

#: Folders of VCS data, environments and tool caches: never part of the gate.
UNWATCHED_DIRS = frozenset(
    {
        ".git",
        ".nox",
        ".venv",
        ".hypothesis",
        ".pytest_cache",
        "__pycache__",
        ".mypy_cache",
        ".ruff_cache",
        ".import_linter_cache",
        ".benchmarks",
        "build",
        "dist",
    }
)


def _unwatched(name: str) -> bool:
    return name in UNWATCHED_DIRS or name.endswith((".egg-info", "_cache", ".cache"))


def repository_snapshot(root: Path = REPO) -> dict[str, tuple[int, int]]:
    """relative path -> (mtime_ns, size) of every watched file under ``root``."""
    snapshot: dict[str, tuple[int, int]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not _unwatched(d)]
        for name in filenames:
            if name.startswith(".coverage"):
                continue
            path = os.path.join(dirpath, name)
            try:
                st = os.lstat(path)
            except FileNotFoundError:
                continue
            snapshot[os.path.relpath(path, root)] = (st.st_mtime_ns, st.st_size)
    return snapshot


def snapshot_changes(
    before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]]
) -> list[str]:
    """``created: path`` and ``modified: path`` lines, sorted."""
    created = [f"created: {p}" for p in sorted(set(after) - set(before))]
    modified = [f"modified: {p}" for p in sorted(set(after) & set(before)) if after[p] != before[p]]
    return created + modified


@pytest.fixture(scope="session", autouse=True)
def no_writes_into_the_repository():
    """Fail the session if the tests created or modified a file in the checkout."""
    before = repository_snapshot()
    yield
    changes = snapshot_changes(before, repository_snapshot())
    if changes:
        pytest.fail(
            f"the test session wrote into the repository {REPO} "
            "(tests must write under tmp_path; or the checkout was edited during the session):\n  "
            + "\n  ".join(changes),
            pytrace=False,
        )


@pytest.fixture
def taking(tmp_path: Path) -> None:
    """Skip where this machine never lets a spare file be taken over (not a local filesystem,
    leases disabled): the tests asserting a take-over need one (artifacts/spare_files.py)."""
    import shutil

    from holopipe.artifacts.spare_files import SpareFiles

    probe = tmp_path / "probe"
    (probe / "trash" / "old").mkdir(parents=True)
    (probe / "trash" / "old" / "a").write_bytes(b"x")
    spares = SpareFiles(probe / "trash", ["old"])
    taken = spares.take(str(probe / "b"))
    spares.close()
    if taken is None:
        pytest.skip(f"no spare file is ever taken over on {tmp_path} (filesystem, leases)")
    os.close(taken[0])
    shutil.rmtree(probe)


def _demo(cwd: Path, jobs: int) -> tuple[Path, subprocess.CompletedProcess]:
    done = subprocess.run(
        [sys.executable, "-m", "holopipe", "run", "--experiment", "demo", "--jobs", str(jobs)],
        cwd=cwd, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    return cwd, done


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """``holopipe run --experiment demo`` (no config, one worker) in its own folder, built
    once a session: ``(cwd, completed process)``; the tests read ``cwd/runs/demo``."""
    return _demo(tmp_path_factory.mktemp("demo1"), jobs=1)


@pytest.fixture(scope="session")
def demo_run_two_workers(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """The same with ``--jobs 2`` (the slow lane's determinism check; the fast lane
    compares one and two workers on the toy run)."""
    return _demo(tmp_path_factory.mktemp("demo2"), jobs=2)


@pytest.fixture(scope="session")
def toy_run_every_stage(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """``holopipe run --experiment toy --config configs/toy.json`` (01 -> 09) in its own
    folder, built once a session: ``(cwd, completed process)``. The tests read
    ``cwd/runs/toy`` or copy it and never change it; a test module may add a run of its own
    beside it (the report tests' ``runs/toy_n4``)."""
    cwd = tmp_path_factory.mktemp("toy_every_stage")
    env = {k: v for k, v in os.environ.items() if k not in ("HOLOPIPE_RUNS_DIR", "HOLOPIPE_DEBUG")}
    config = str(REPO / "configs" / "toy.json")
    done = subprocess.run(
        [sys.executable, "-m", "holopipe", "run", "--experiment", "toy", "--config", config],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    return cwd, done


@pytest.fixture(scope="session")
def toy_run_template(toy_run_every_stage) -> Path:
    """``runs/toy`` of :func:`toy_run_every_stage`, for the tests that copy a whole run and
    change their copy (the template is never changed)."""
    cwd, done = toy_run_every_stage
    assert done.returncode in (0, 1), done.stdout + done.stderr
    return cwd / "runs" / "toy"
