"""Two toy runs (every stage) shared by the report tests: ``toy`` (configs/toy.json, the
suite's ``toy_run_every_stage``) and, beside it, ``toy_n4``, the same config with one
parameter changed (``stages.06.n_modes`` 3 -> 4)."""

from __future__ import annotations

import pytest
from report_helpers import TOY, ToyRuns, holopipe


@pytest.fixture(scope="session")
def toy_runs(toy_run_every_stage, build_once) -> ToyRuns:
    cwd, first = toy_run_every_stage
    assert "Traceback" not in first.stderr, first.stderr
    changed = build_once(
        "toy_n4",
        lambda: holopipe(
            "run", "--experiment", "toy_n4", "--config", str(TOY), "--set",
            "stages.06.n_modes=4", cwd=cwd,
        ),
    )  # fmt: skip
    assert first.returncode in (0, 1), first.stdout + first.stderr
    assert changed.returncode in (0, 1), changed.stdout + changed.stderr
    return ToyRuns(cwd, first, changed)
