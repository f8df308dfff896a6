"""Developer and CI sessions. ``nox -s tests`` is the fast lane (the README's test command).

- ``tests``: unit tests, doctests, the layer contract and the toy end-to-end run (fast lane)
- ``lint``: ruff
- ``smoke``: the toy pipeline 01 -> 06 from the command line, then every gate
- ``nightly``: the slow tests (``-m slow``), then ``smoke`` and ``golden``
- ``golden``: the golden runs 01 -> 09 (configs/golden/) and ``holopipe golden check`` on each
- ``bench``: the benchmarks in ``benchmarks/``
"""

from pathlib import Path

import nox

nox.options.sessions = ["lint", "tests"]
nox.options.reuse_existing_virtualenvs = True

PYTHON = "3.11"
#: The committed golden runs (configs/golden/NAME.json, references tests/golden/NAME.json).
GOLDEN_RUNS = sorted(p.stem for p in Path("configs/golden").glob("*.json"))


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    session.install("-e", ".[test]")
    session.run("pytest", "-m", "not slow", "-p", "no:cacheprovider", *session.posargs)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    session.install("ruff>=0.5")
    session.run("ruff", "check", "src", "tests", "benchmarks")


@nox.session(python=PYTHON)
def smoke(session: nox.Session) -> None:
    """The toy pipeline 01 -> 06 from the shell, then every stage's gate, in a temp dir."""
    toy = Path("configs/toy.json").resolve()
    session.install("-e", ".")
    session.chdir(session.create_tmp())
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
    """Slow tests, then the smoke run and the golden runs."""
    session.install("-e", ".[test]")
    session.run("pytest", "-m", "slow", "-p", "no:cacheprovider", *session.posargs)
    session.notify("smoke")
    session.notify("golden")


@nox.session(python=PYTHON)
def golden(session: nox.Session) -> None:
    """Each golden run 01 -> 09 (negative controls included: stage 04c and 09's FPR gate),
    compared with its reference. Exit 1 (only hashes changed, every metric inside its
    tolerance, e.g. other library versions) passes with the differences printed; exit 2 fails.
    """
    session.install("-e", ".")
    runs = Path(session.create_tmp()) / "golden-runs"
    for name in GOLDEN_RUNS:
        session.run(
            "holopipe", "golden", "check", name, "--runs-dir", str(runs), success_codes=[0, 1]
        )


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    session.install("-e", ".[report]")
    for script in (
        "bench_startup.py",
        "bench_orchestrator.py",
        "bench_sturm_liouville.py",
        "bench_stage06.py",
        "bench_report.py",
    ):
        session.run("python", f"benchmarks/{script}")
