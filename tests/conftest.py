"""Suite-wide fixtures.

The whole test session runs under the "no writes outside the run" gate: the repository is
snapshotted (paths, mtimes, sizes) before the first test and compared after the last; a
file that the tests created or modified fails the session with the list of culprits.
Tests write into ``tmp_path``, never into the checkout. (Editing the checkout while the
suite runs is reported the same way: the gate cannot tell who wrote.)
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from collections.abc import Callable
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


def shared_temp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's temp folder that every pytest-xdist worker of it shares (each worker's
    own ``basetemp`` is a folder in it; without xdist, ``basetemp`` itself)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def built_once(
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    build: Callable[[], subprocess.CompletedProcess],
) -> subprocess.CompletedProcess:
    """``build()`` once a test session, however many xdist workers need it: the first
    builds under a lock in :func:`shared_temp`, the others wait for it and get its
    completed process back (each worker building the suite's shared runs cost ~50 s of
    CPU on 2 cores). What it built must be read or copied, never changed."""
    shared = shared_temp(tmp_path_factory)
    record = shared / f"{name}.built.json"
    with open(shared / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released as the file closes
        if record.exists():
            doc = json.loads(record.read_text())
            return subprocess.CompletedProcess(**doc)
        done = build()
        fields = ("args", "returncode", "stdout", "stderr")
        record.write_text(json.dumps({key: getattr(done, key) for key in fields}))
    return done


@pytest.fixture(scope="session")
def shared_tmp(tmp_path_factory) -> Path:
    """:func:`shared_temp`, for a run built with :func:`build_once` in a folder of its own."""
    return shared_temp(tmp_path_factory)


@pytest.fixture(scope="session")
def build_once(
    tmp_path_factory,
) -> Callable[[str, Callable[[], subprocess.CompletedProcess]], subprocess.CompletedProcess]:
    """:func:`built_once` for a test module's own shared run: ``build_once(name, build)``."""
    return lambda name, build: built_once(tmp_path_factory, name, build)


def _run_in(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """``python -m holopipe ARGS`` in the new folder ``cwd`` (no runs root from the env)."""
    cwd.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("HOLOPIPE_RUNS_DIR", "HOLOPIPE_DEBUG")}
    return subprocess.run(
        [sys.executable, "-m", "holopipe", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def _shared_run(
    tmp_path_factory, name: str, *args: str
) -> tuple[Path, subprocess.CompletedProcess]:
    cwd = shared_temp(tmp_path_factory) / name
    return cwd, built_once(tmp_path_factory, name, lambda: _run_in(cwd, *args))


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """``holopipe run --experiment demo`` (no config, one worker) in its own folder, built
    once a session: ``(cwd, completed process)``; the tests read ``cwd/runs/demo``."""
    return _shared_run(tmp_path_factory, "demo1", "run", "--experiment", "demo", "--jobs", "1")


@pytest.fixture(scope="session")
def demo_run_two_workers(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """The same with ``--jobs 2`` (the slow lane's determinism check; the fast lane
    compares one and two workers on the toy run)."""
    return _shared_run(tmp_path_factory, "demo2", "run", "--experiment", "demo", "--jobs", "2")


@pytest.fixture(scope="session")
def toy_run_every_stage(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """``holopipe run --experiment toy --config configs/toy.json`` (01 -> 09) in its own
    folder, built once a session: ``(cwd, completed process)``. The tests read
    ``cwd/runs/toy`` or copy it and never change it; a test module may add a run of its own
    beside it with :func:`built_once` (the report tests' ``runs/toy_n4``)."""
    config = str(REPO / "configs" / "toy.json")
    return _shared_run(
        tmp_path_factory, "toy_every_stage", "run", "--experiment", "toy", "--config", config
    )


@pytest.fixture(scope="session")
def toy_run_template(toy_run_every_stage) -> Path:
    """``runs/toy`` of :func:`toy_run_every_stage`, for the tests that copy a whole run and
    change their copy (the template is never changed)."""
    cwd, done = toy_run_every_stage
    assert done.returncode in (0, 1), done.stdout + done.stderr
    return cwd / "runs" / "toy"
