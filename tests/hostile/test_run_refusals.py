"""Hostile commands against a good run (issue 7, items 1, 2 and 6): a refused or failed
command exits with its documented code, says why in one line, and the good outputs,
aliases and manifest of the run are byte-identical afterwards.

One toy run (configs/toy.json, 01 -> 06) is built per module and copied for each test.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from holopipe.pipeline import RunRequest, run_stage
from holopipe.stages.s03_bulk_equations import DiscoverBulkEquations

REPO = Path(__file__).resolve().parents[2]
TOY = REPO / "configs" / "toy.json"


def holopipe(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("HOLOPIPE_RUNS_DIR", "HOLOPIPE_DEBUG")}
    return subprocess.run(
        [sys.executable, "-m", "holopipe", *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def snapshot(root: Path) -> dict[str, str]:
    """Every entry below the run root -> its sha256 (files) or its target (links); the
    experiment lock, rewritten by every command that takes it, is left out."""
    entries: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if rel == ".lock":
            continue
        if path.is_symlink():
            entries[rel] = "-> " + os.readlink(path)
        elif path.is_file():
            entries[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            entries[rel] = "dir"
    return entries


@pytest.fixture
def toy(toy_run_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the toy run; the test works in its folder (runs/toy inside)."""
    shutil.copytree(toy_run_template, tmp_path / "runs" / "toy", symlinks=True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HOLOPIPE_RUNS_DIR", raising=False)
    return tmp_path


def test_stage_given_a_folder_of_the_wrong_type_is_refused_and_loses_nothing(toy: Path):
    root = toy / "runs" / "toy"
    before = snapshot(root)
    done = holopipe(
        "stage", "03", "-e", "toy", "--input", "predictions=runs/toy/bulk_eigenmodes", cwd=toy
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "missing_artifact: runs/toy/bulk_eigenmodes (given with --input predictions=...)" in (
        done.stderr
    )
    assert "no GeometryPrediction file (" in done.stderr
    assert snapshot(root) == before


def test_stage_given_files_that_fail_validation_is_refused_and_loses_nothing(toy: Path):
    root = toy / "runs" / "toy"
    bogus = toy / "not_predictions"
    bogus.mkdir()
    (bogus / "a_geometry.npz").write_bytes(b"this is not a zip archive")
    before = snapshot(root)
    done = holopipe("stage", "03", "-e", "toy", "--input", f"predictions={bogus}", cwd=toy)
    assert done.returncode == 2, done.stdout + done.stderr
    [line] = [x for x in done.stderr.splitlines() if x.startswith("invalid_artifact:")][:1]
    assert str(bogus / "a_geometry.npz") in line
    assert (
        "03_discover_bulk_equations: refused (invalid inputs); nothing was written" in done.stderr
    )
    assert snapshot(root) == before


def test_a_failing_stage_keeps_the_previous_outputs_and_aliases(
    toy: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
):
    root = toy / "runs" / "toy"
    before = snapshot(root)

    def crash(self, ctx, inputs):
        ctx.write("bulk_equations", *_half_written(inputs))
        raise RuntimeError("boom in stage 03")

    with monkeypatch.context() as patched:
        patched.setattr(DiscoverBulkEquations, "run", crash)
        assert run_stage(RunRequest(Path("runs"), "toy"), "03") == 3
    err = capsys.readouterr().err
    failed = root / "03_discover_bulk_equations.failed"
    assert f"this attempt is kept in {failed.relative_to(toy)}" in err
    assert "the previous outputs and aliases are unchanged" in err
    after = snapshot(root)
    kept = {k: v for k, v in after.items() if not k.startswith(failed.name)}
    assert kept == before
    assert "RuntimeError: boom in stage 03" in (failed / "logs" / "stderr.log").read_text()
    # the gate still accepts the published 03 outputs for the next stage
    done = holopipe("assert-artifacts", "-e", "toy", "--for-stage", "04", cwd=toy)
    assert done.returncode == 0, done.stderr
    # status says what happened, and the next run retries the stage
    done = holopipe("status", "-e", "toy", cwd=toy)
    assert "last run ended ERROR, kept in 03_discover_bulk_equations.failed/" in done.stdout
    # a successful rerun publishes again and forgets the failed attempt
    assert run_stage(RunRequest(Path("runs"), "toy"), "03") == 0
    assert not failed.exists()
    outputs = {k: v for k, v in before.items() if k.startswith("03_discover_bulk_equations/bulk")}
    assert {k: v for k, v in snapshot(root).items() if k in outputs} == outputs


def _half_written(inputs):
    from holopipe.artifacts import BulkEquations

    return BulkEquations.example(), "partial_equations.json"


@pytest.mark.parametrize("command", ["stage", "run"])
def test_an_unknown_input_alias_is_refused_naming_the_valid_ones(toy: Path, command: str):
    root = toy / "runs" / "toy"
    before = snapshot(root)
    args = ["stage", "03"] if command == "stage" else ["run", "--from", "03", "--to", "03"]
    done = holopipe(*args, "-e", "toy", "--input", "nosuch=/tmp/x", cwd=toy)
    assert done.returncode == 2, done.stdout + done.stderr
    [line] = done.stderr.splitlines()
    assert "--input nosuch=..." in line and "has no input 'nosuch'" in line
    assert "(its inputs: predictions)" in line
    assert snapshot(root) == before


@pytest.mark.parametrize(
    "args",
    [
        ("stage", "06"),
        ("run", "--config", TOY, "--from", "06"),
        ("run", "--from", "05", "--to", "02"),
    ],
    ids=["stage-nothing-upstream", "run-gate-fails", "run-inverted-range"],
)
def test_a_refused_command_on_a_new_experiment_leaves_no_trace(tmp_path: Path, args):
    done = holopipe(*args, "-e", "fresh", cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "runs").exists(), sorted(p.name for p in (tmp_path / "runs").rglob("*"))


@pytest.mark.parametrize("bounds", [("05", "02"), ("04c", "04")], ids=["inverted", "empty"])
def test_an_empty_or_inverted_range_is_refused_and_changes_nothing(toy: Path, bounds):
    root = toy / "runs" / "toy"
    before = snapshot(root)
    done = holopipe("run", "-e", "toy", "--from", bounds[0], "--to", bounds[1], cwd=toy)
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"--from {bounds[0]} --to {bounds[1]}: an empty range" in done.stderr
    assert snapshot(root) == before
