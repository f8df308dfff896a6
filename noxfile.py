"""Developer and CI sessions. ``nox -s tests`` is the fast lane (the README's test command).

- ``tests``: unit tests, doctests, the layer contract and the toy end-to-end run (fast lane)
- ``lint``: ruff
- ``smoke``: the toy pipeline 01 -> 06 from the command line, then every gate
- ``nightly``: the slow tests (``-m slow``), heavier smoke and golden-run comparison
- ``bench``: the benchmarks in ``benchmarks/``
"""

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
def nightly(session: nox.Session) -> None:
    session.install("-e", ".[test]")
    session.run("pytest", "-m", "slow", "-p", "no:cacheprovider", *session.posargs)


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    session.install("-e", ".")
    for script in ("bench_orchestrator.py", "bench_sturm_liouville.py"):
        session.run("python", f"benchmarks/{script}")
