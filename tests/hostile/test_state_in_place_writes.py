"""A stage writes its files in place inside ``.<key>.partial/`` (no temporary file and rename
per file): a kill in the middle of one of those writes never publishes the partial folder,
and the next command removes it; the trash of a kill after the swap is collected."""

from __future__ import annotations

from pathlib import Path

from holo_state_helpers import cli, half_written, killed, leftovers, outputs, tree, write_config

from holopipe.run.trash import TRASH_DIR


def _first_run(tmp_path: Path) -> Path:
    config = write_config(tmp_path / "a.json", stages={"01": {"n_systems": 4}})
    done = cli("run", "-e", "x", "--config", config, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    return tmp_path / "runs" / "x"


def test_a_kill_during_an_in_place_write_publishes_nothing_and_the_rerun_completes(
    tmp_path: Path,
):
    root = _first_run(tmp_path)
    good = tree(root)
    rerun = ("stage", "02", "-e", "x", "--set", "stages.02.offset=1.5", "--force")
    for where in ("chain_02/sys_d3_0002.json", "stage_summary.json", "meta_env.json"):
        done = cli(*rerun, cwd=tmp_path, fault=f"kill:*/.02_chain_step.partial/{where}")
        assert killed(done), (where, done.stderr)
        # the half-built folder stays unpublished: stage 02's outputs are the old ones
        assert (root / ".02_chain_step.partial").is_dir()
        assert {p: h for p, h in tree(root).items() if p.startswith("02_")} == {
            p: h for p, h in good.items() if p.startswith("02_")
        }, where
        status = cli("status", "-e", "x", cwd=tmp_path)
        assert "interrupted" not in status.stdout, status.stdout
    done = cli("run", *rerun[2:], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "removed .02_chain_step.partial (left by an interrupted command)" in done.stdout
    assert leftovers(root) == [] and half_written(root) == []
    assert not (root / TRASH_DIR).exists()
    reference = tmp_path / "ref"
    reference.mkdir()
    stages = {"01": {"n_systems": 4}, "02": {"offset": 1.5}}
    config = write_config(reference / "a.json", stages=stages)
    assert cli("run", "-e", "x", "--config", config, cwd=reference).returncode == 0
    assert outputs(root) == outputs(reference / "runs" / "x")
