"""``holopipe dag``: the stage graph from the declarations, with each stage's state."""

from __future__ import annotations

import re

from report_helpers import holopipe

from holopipe.report.dag import StageGraph
from holopipe.stages.registry import pipeline_stages

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


def test_edges_follow_the_declared_aliases():
    graph = StageGraph.build(pipeline_stages([], {}), states=[])
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
