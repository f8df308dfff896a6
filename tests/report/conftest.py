"""Two toy runs (every stage) shared by the report tests: ``toy`` (configs/toy.json) and
``toy_n4``, the same config with one parameter changed (``stages.06.n_modes`` 3 -> 4)."""

from __future__ import annotations

import pytest
from report_helpers import TOY, ToyRuns, holopipe


@pytest.fixture(scope="session")
def toy_runs(tmp_path_factory) -> ToyRuns:
    cwd = tmp_path_factory.mktemp("report_toy")
    common = ("--config", str(TOY))
    first = holopipe("run", "--experiment", "toy", *common, cwd=cwd)
    changed = holopipe(
        "run", "--experiment", "toy_n4", *common, "--set", "stages.06.n_modes=4", cwd=cwd
    )
    assert first.returncode in (0, 1), first.stdout + first.stderr
    assert changed.returncode in (0, 1), changed.stdout + changed.stderr
    return ToyRuns(cwd, first, changed)
