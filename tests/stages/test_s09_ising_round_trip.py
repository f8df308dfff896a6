"""3D Ising through stages 02 -> 08 -> 09 (with 04c's controls): boundary data G2 = x^(-2 Delta)
synthesised from the shipped reference table (a round trip), the dimensions measured by stage
02, the branches and pulls checked by stage 09. Moving one synthesised dimension by 5 of its
reference uncertainties must fail that operator's pull contract.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from holopipe.artifacts.real_data import RealDataContracts
from holopipe.data.cft import reference_table
from holopipe.data.theory import reference_boundary
from holopipe.pipeline import RunRequest, run_stage


def round_trip(tmp_path: Path, moved: dict[str, float] | None = None) -> RealDataContracts:
    table = reference_table("ising3d")
    moved = moved or {}
    dims = {op.name: op.Delta + moved.get(op.name, 0.0) * op.Delta_err for op in table.operators}
    sandbox = tmp_path / "in"
    reference_boundary("ising3d", table.d, dims).write(sandbox / "ising3d.h5")
    runs = tmp_path / "runs"
    assert run_stage(RunRequest(runs, "x", cli_inputs={"sandbox": sandbox}), "02") == 0
    assert run_stage(RunRequest(runs, "x"), "08") == 0
    assert run_stage(RunRequest(runs, "x"), "04c") == 0
    code = run_stage(RunRequest(runs, "x"), "09")
    assert code == (1 if moved else 0)
    return RealDataContracts.read(runs / "x" / "real_data_contracts" / "real_data_contracts.json")


def test_ising_round_trip_branches_pulls_and_the_round_trip_flag(tmp_path):
    result = round_trip(tmp_path)
    assert result.verdict == "PASS" and result.theories == ["ising3d"]
    assert result.round_trip and "synthesised from the reference table" in result.round_trip_note
    by_name = {c.operator: c for c in result.comparisons}
    assert {n: c.branch for n, c in by_name.items()} == {
        "sigma": "-",
        "epsilon": "-",
        "epsilon_prime": "+",
    }
    for c in by_name.values():
        assert c.pull is not None and c.pull < 1e-3 and c.round_trip
    quantisation = [c for c in result.checks if c.name == "quantisation"]
    assert len(quantisation) == 3 and all(c.passed for c in quantisation)


def test_a_dimension_moved_by_five_sigma_fails_its_pull(tmp_path):
    result = round_trip(tmp_path, {"epsilon": 5.0})
    assert result.verdict == "FAIL"
    pulls = {c.subject.rsplit("/", 1)[1]: c for c in result.checks if c.name == "pull"}
    assert not pulls["epsilon"].passed and pulls["epsilon"].value == pytest.approx(5.0, rel=1e-3)
    assert pulls["sigma"].passed and pulls["epsilon_prime"].passed


def test_o3_round_trip_chooses_each_branch_from_the_measured_dimension(tmp_path):
    """The second verified theory through the same path: phi and t (below d/2) need Delta_-,
    s (above d/2) Delta_+; every pull is evaluated and passes."""
    table = reference_table("o3_3d")
    sandbox = tmp_path / "in"
    dims = {op.name: op.Delta for op in table.operators}
    reference_boundary("o3_3d", table.d, dims).write(sandbox / "o3_3d.h5")
    runs = tmp_path / "runs"
    for key, inputs in (("02", {"sandbox": sandbox}), ("08", None), ("04c", None)):
        assert run_stage(RunRequest(runs, "x", cli_inputs=inputs), key) == 0
    assert run_stage(RunRequest(runs, "x"), "09") == 0
    result = RealDataContracts.read(runs / "x" / "real_data_contracts" / "real_data_contracts.json")
    assert result.verdict == "PASS" and result.theories == ["o3_3d"]
    assert {c.operator: c.branch for c in result.comparisons} == {"phi": "-", "s": "+", "t": "-"}
    pulls = [c for c in result.checks if c.name == "pull"]
    assert len(pulls) == 3 and all(c.passed for c in pulls)
