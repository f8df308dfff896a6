"""``holopipe dag``: the stage graph of :func:`holopipe.pipeline.plan_run`'s plans (the
declared aliases, each stage's state, and whether it would run and why: the dry run's words)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from report_helpers import holopipe

from holopipe.pipeline import RunRequest, plan_run
from holopipe.report.dag import StageGraph

STAGES = [
    "01_generate_sandbox_geometries",
    "02_emergent_geometry_engine",
    "03_discover_bulk_equations",
    "04_geometry_physics_contracts",
    "04c_negative_controls",
    "05_analyze_bulk_equations",
    "06_build_bulk_eigenmodes_dataset",
    "07_emergent_lambda_sl_dictionary",
    "08_build_holographic_dictionary",
    "09_real_data_and_dictionary_contracts",
]


def test_edges_follow_the_declared_aliases(tmp_path):
    graph = StageGraph.build(plan_run(RunRequest(tmp_path, "new")))
    assert set(graph.edges) == {
        (STAGES[0], STAGES[1], "sandbox"),
        (STAGES[1], STAGES[2], "predictions"),
        (STAGES[1], STAGES[3], "predictions"),
        (STAGES[1], STAGES[6], "predictions"),
        (STAGES[2], STAGES[5], "bulk_equations"),
        (STAGES[3], STAGES[5], "geometry_contracts"),
        (STAGES[6], STAGES[7], "bulk_eigenmodes"),
        (STAGES[1], STAGES[8], "predictions"),
        (STAGES[7], STAGES[8], "dictionary"),
        (STAGES[8], STAGES[9], "atlas"),
        (STAGES[4], STAGES[9], "negative_controls"),
    }
    assert [n.key for n in graph.nodes] == STAGES
    assert all(n.status == "NOT_RUN" for n in graph.nodes)


def test_ascii_shows_status_duration_and_freshness(toy_runs):
    done = holopipe("dag", "-e", "toy", cwd=toy_runs.cwd)
    assert done.returncode == 0, done.stderr
    for key in STAGES:
        assert re.search(rf"^{key}  \[(OK|WARNING), \d+\.\d\d s, up to date\]$", done.stdout, re.M)
    assert "sandbox ──> 02_emergent_geometry_engine" in done.stdout


def test_mermaid_and_dot(toy_runs):
    mermaid = holopipe("dag", "-e", "toy", "--format", "mermaid", cwd=toy_runs.cwd).stdout
    assert mermaid.splitlines()[0] == "flowchart TD"
    assert "s01_generate_sandbox_geometries -->|sandbox| s02_emergent_geometry_engine" in mermaid
    assert mermaid.count("-->") == 11
    dot = holopipe("dag", "-e", "toy", "--format", "dot", cwd=toy_runs.cwd).stdout
    assert dot.startswith("digraph holopipe {") and dot.rstrip().endswith("}")
    assert (
        's01_generate_sandbox_geometries -> s02_emergent_geometry_engine [label="sandbox"];' in dot
    )
    assert dot.count(" -> ") == 11


def test_a_run_that_does_not_exist_shows_stages_never_run(tmp_path):
    done = holopipe("dag", "-e", "fresh", "--runs-dir", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 0
    assert f"{STAGES[0]}  [not run]" in done.stdout
    assert not (tmp_path / "fresh").exists()  # looking writes nothing


def test_an_unknown_format_is_bad_input(tmp_path):
    done = holopipe("dag", "-e", "toy", "--format", "svgz", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "holopipe: --format 'svgz': expected one of ascii, mermaid, dot"
    ]


def _dag_verdicts(stdout: str) -> dict[str, str]:
    """``key: verdict`` of every stage line of ``holopipe dag`` (ascii)."""
    found = {}
    for line in stdout.splitlines():
        match = re.fullmatch(r"(\S+)  \[(?:[A-Z_]+, \d+\.\d\d s|not run), (.*)\]", line)
        if match:
            found[match[1]] = match[2]
    return found


def test_dag_and_dry_run_agree_on_what_would_run_and_why(tmp_path: Path):
    """One param changed (05), one summary deleted (03), one alias retargeted (01)."""
    chain = [f"holopipe.testing:Chain{i:02d}" for i in range(1, 7)]
    (tmp_path / "c.json").write_text(json.dumps({"seed": 1, "pipeline": chain}))
    assert holopipe("run", "-e", "x", "--config", "c.json", cwd=tmp_path).returncode == 0
    root = tmp_path / "runs" / "x"
    (root / "03_chain_step" / "stage_summary.json").unlink()
    (root / "chain_01").unlink()
    (root / "chain_01").symlink_to("02_chain_step/chain_02")
    options = ("-e", "x", "--set", "stages.05.offset=0.5")

    dry = holopipe("run", *options, "--dry-run", cwd=tmp_path)
    dag = holopipe("dag", *options, cwd=tmp_path)

    assert dry.returncode == 0 and dag.returncode == 0, dry.stderr + dag.stderr
    dry_verdicts = dict(line.split(": ", 1) for line in dry.stdout.splitlines())
    assert _dag_verdicts(dag.stdout) == dry_verdicts
    keys = list(dry_verdicts)
    assert len(keys) == 6 and all(v.startswith("would run: ") for v in dry_verdicts.values())
    assert "alias chain_01/ deleted or retargeted" in dry_verdicts[keys[0]]
    assert "03_chain_step/stage_summary.json is missing" in dry_verdicts[keys[2]]
    assert "params changed: stages.05.offset: 0.0 -> 0.5" in dry_verdicts[keys[4]]
    assert dry_verdicts[keys[5]] == "would run: upstream 05_chain_step would run (input chain_05)"
    assert re.search(r"^03_chain_step  \[FAILED, ", dag.stdout, re.M)
    assert not (root / "03_chain_step" / "stage_summary.json").exists()  # both wrote nothing
    assert (root / "chain_01").readlink() == Path("02_chain_step/chain_02")


def test_a_run_that_lost_its_frozen_config_is_refused_by_dag_and_dry_run_as_by_run(
    tmp_path: Path,
):
    chain = [f"holopipe.testing:Chain{i:02d}" for i in range(1, 3)]
    (tmp_path / "c.json").write_text(json.dumps({"seed": 1, "pipeline": chain}))
    assert holopipe("run", "-e", "x", "--config", "c.json", cwd=tmp_path).returncode == 0
    (tmp_path / "runs" / "x" / "config.resolved.json").unlink()
    refusals = [
        holopipe(*args, cwd=tmp_path)
        for args in (("run", "-e", "x"), ("run", "-e", "x", "--dry-run"), ("dag", "-e", "x"))
    ]
    assert [done.returncode for done in refusals] == [2, 2, 2]
    assert refusals[0].stderr.strip() and all(
        done.stderr == refusals[0].stderr and done.stdout == "" for done in refusals[1:]
    )
    assert "config.resolved.json is missing in a run that has stages" in refusals[0].stderr
