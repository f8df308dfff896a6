"""Developer and CI sessions. ``nox -s tests`` is the fast lane (the README's test command).

- ``tests``: unit tests, doctests, the layer contract and the toy end-to-end run (fast lane,
  one interpreter: Python 3.11)
- ``tests_all_pythons``: the same suite on every supported Python that is installed (3.11,
  3.12, 3.13; nightly lane)
- ``lint``: ruff
- ``smoke``: the toy pipeline 01 -> 06 from the command line, then every gate
- ``nightly``: the slow tests (``-m slow``), then ``smoke``, ``golden`` and ``tests_all_pythons``
- ``golden``: the golden runs 01 -> 09 (configs/golden/) and ``holopipe golden check`` on each
- ``bench``: the benchmarks in ``benchmarks/``
"""

import os
import shutil
import subprocess
from pathlib import Path

import nox

nox.options.sessions = ["lint", "tests"]
nox.options.reuse_existing_virtualenvs = True

#: The fast lane's interpreter.
PYTHON = "3.11"
#: Every Python the package supports (pyproject's classifiers and the README say the same).
SUPPORTED_PYTHONS = ("3.11", "3.12", "3.13")
#: pytest-xdist workers for the suite: one per core, at most 4 (each builds the session's
#: toy and demo runs once). Most tests wait on a CLI subprocess, so one process leaves a
#: core idle: on 2 cores the suite takes 8 min with two workers, 12.8 min with one.
#: ``nox -s tests -- -n 0`` runs it in one process (pdb, print debugging).
PARALLEL = ("--numprocesses", "auto", "--maxprocesses", "4", "--dist", "worksteal")
#: The fast lane's pytest command (``tests``, and ``tests_all_pythons`` on each Python).
FAST_LANE = ("pytest", "-m", "not slow", "-p", "no:cacheprovider", *PARALLEL)


def _runnable(name: str) -> bool:
    exe = shutil.which(name)
    done = exe and subprocess.run([exe, "-c", ""], capture_output=True, check=False)
    return bool(done) and done.returncode == 0


def _installed_pythons(versions: tuple[str, ...]) -> list[str]:
    """The versions whose ``pythonX.Y`` runs, after exposing pyenv's installs on PATH.

    pyenv's shims only run the globally selected versions; the others are linked into
    ``.nox/_pythons`` (put first on PATH) so that nox finds them by version.
    """
    links = Path(".nox") / "_pythons"
    versions_dir = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    for version in versions:
        if _runnable(f"python{version}"):
            continue
        found = sorted(versions_dir.glob(f"{version}.*/bin/python{version}"))
        if found:
            links.mkdir(parents=True, exist_ok=True)
            link = links / f"python{version}"
            link.unlink(missing_ok=True)
            link.symlink_to(found[-1])
    if links.is_dir():
        os.environ["PATH"] = f"{links.resolve()}{os.pathsep}{os.environ.get('PATH', '')}"
    return [v for v in versions if _runnable(f"python{v}")]


#: The committed golden runs (configs/golden/NAME.json, references tests/golden/NAME.json).
GOLDEN_RUNS = sorted(p.stem for p in Path("configs/golden").glob("*.json"))


def _scratch(name: str) -> Path:
    """A new, empty ``.nox/NAME`` for a session's runs. Not ``session.create_tmp()``: that
    makes the folder the session's TMPDIR, and holopipe's outside-writes gate never
    watches the temp dir nor a folder holding it (every stage would end WARNING)."""
    folder = Path(".nox") / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder.resolve()


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    session.install("-e", ".[test]")
    # The plan's section 8.1 (py_compile of the entry points): every module compiles.
    session.run("python", "-m", "compileall", "-q", "src")
    session.run(*FAST_LANE, *session.posargs)


#: The supported Pythons installed here (``tests_all_pythons`` runs on each).
INSTALLED_PYTHONS = _installed_pythons(SUPPORTED_PYTHONS)


@nox.session(python=INSTALLED_PYTHONS)
def tests_all_pythons(session: nox.Session) -> None:
    """The fast-lane suite on each supported Python that is installed (nightly lane)."""
    session.install("-e", ".[test]")
    session.run(*FAST_LANE, *session.posargs)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    session.install("ruff>=0.5")
    session.run("ruff", "check", "src", "tests", "benchmarks")


@nox.session(python=PYTHON)
def smoke(session: nox.Session) -> None:
    """The toy pipeline 01 -> 06 from the shell, then every stage's gate, in .nox/smoke-runs."""
    toy = Path("configs/toy.json").resolve()
    session.install("-e", ".")
    session.chdir(_scratch("smoke-runs"))
    session.run(
        "holopipe",
        "run",
        "--experiment",
        "toy",
        "--config",
        str(toy),
        "--to",
        "06",
        success_codes=[0, 1],
    )
    for stage in ("02", "03", "04", "04c", "05", "06"):
        session.run("holopipe", "assert-artifacts", "--experiment", "toy", "--for-stage", stage)
    session.run("holopipe", "status", "--experiment", "toy")


@nox.session(python=PYTHON)
def nightly(session: nox.Session) -> None:
    """Slow tests, then the smoke run, the golden runs and the suite on every supported Python."""
    session.install("-e", ".[test]")
    # On the suite's workers, as the fast lane (most slow tests wait on a subprocess).
    session.run("pytest", "-m", "slow", "-p", "no:cacheprovider", *PARALLEL, *session.posargs)
    session.notify("smoke")
    session.notify("golden")
    for version in INSTALLED_PYTHONS:  # notify queues one session: the first that matches
        session.notify(f"tests_all_pythons-{version}")


@nox.session(python=PYTHON)
def golden(session: nox.Session) -> None:
    """Each golden run 01 -> 09 (negative controls included: stage 04c and 09's FPR gate),
    compared with its reference. Exit 1 (only hashes changed, every metric inside its
    tolerance, e.g. other library versions) passes with the differences printed; exit 2 fails.
    """
    session.install("-e", ".")
    runs = _scratch("golden-runs") / "runs"
    for name in GOLDEN_RUNS:
        session.run(
            "holopipe", "golden", "check", name, "--runs-dir", str(runs), success_codes=[0, 1]
        )


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    session.install("-e", ".[report,dask]")
    for script in (
        "bench_startup.py",
        "bench_orchestrator.py",
        "bench_sturm_liouville.py",
        "bench_stage06.py",
        "bench_report.py",
        "bench_executors.py",
    ):
        session.run("python", f"benchmarks/{script}")
