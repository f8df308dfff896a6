"""Developer and CI sessions. ``nox -s tests`` is the fast lane (the README's test command).

- ``tests``: unit tests, doctests, the layer contract and the toy end-to-end run (fast lane)
- ``lint``: ruff
- ``smoke``: the toy pipeline 01 -> 06 from the command line, then every gate
- ``nightly``: the slow tests (``-m slow``), heavier smoke and golden-run comparison
- ``bench``: the benchmarks in ``benchmarks/``
"""

from pathlib import Path

import nox

nox.options.sessions = ["lint", "tests"]
nox.options.reuse_existing_virtualenvs = True

PYTHON = "3.11"


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
    """Slow tests, then the smoke run."""
    session.install("-e", ".[test]")
    session.run("pytest", "-m", "slow", "-p", "no:cacheprovider", *session.posargs)
    session.notify("smoke")


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
