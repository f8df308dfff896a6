"""One system of a run in one call, whatever the layout (issue 11: per-system access from a
notebook stays one call): per-system files, one artifact of every system, chunked files."""

from __future__ import annotations

from pathlib import Path

import pytest
from holo_run_helpers import chain, write_config

from holopipe.artifacts import BulkEquations, EigenmodesDataset, GeometryPrediction, RunManifest
from holopipe.pipeline import RunRequest, run_pipeline
from holopipe.run.systems import open_system


@pytest.fixture(scope="module")
def demo(demo_run) -> Path:
    cwd, done = demo_run
    assert done.returncode in (0, 1), done.stderr
    return cwd / "runs" / "demo"


def _outputs(root: Path, alias: str) -> list[Path]:
    manifest = RunManifest.read(root / "run_manifest.json")
    producer = manifest.aliases[alias].split("/", 1)[0]
    return [root / e.path for e in manifest.stages[producer].outputs if e.name == alias]


def test_a_per_system_file_by_name_or_id_is_that_systems_artifact(demo: Path):
    expected = GeometryPrediction.read(_outputs(demo, "predictions")[-1])
    for system in (expected.meta.system_name, expected.meta.system_id):
        found = open_system(demo, "predictions", system)
        assert isinstance(found, GeometryPrediction)
        assert found.meta.system_id == expected.meta.system_id
        assert (found.f == expected.f).all()


def test_an_artifact_of_every_system_gives_that_systems_entries(demo: Path):
    system_id = GeometryPrediction.read(_outputs(demo, "predictions")[0]).meta.system_id
    equations = BulkEquations.read(_outputs(demo, "bulk_equations")[0])
    found = open_system(demo, "bulk_equations", system_id)
    assert found == {"systems": [s for s in equations.systems if s.system_id == system_id]}
    assert len(found["systems"]) == 1
    csv = [p for p in _outputs(demo, "bulk_eigenmodes") if p.suffix == ".csv"][0]
    dataset = EigenmodesDataset.read(csv)
    modes = open_system(demo, "bulk_eigenmodes", system_id.rsplit("-", 1)[0])
    assert modes["rows"] == [r for r in dataset.rows if r.system_id == system_id]
    assert modes["rows"] and len(modes["rows"]) < len(dataset.rows)
    assert [s.system_id for s in modes["meta.systems"]] == [system_id]


def test_chunked_files_are_searched_for_the_system(in_tmp: Path):
    stages = {"01": {"n_systems": 7, "systems_per_file": 3}}
    config = write_config(in_tmp / "c.json", chain(1), stages=stages)
    assert run_pipeline(RunRequest(Path("runs"), "x", config), echo=lambda line: None) == 0
    assert len(list((in_tmp / "runs/x/chain_01").iterdir())) == 3
    found = open_system("runs/x", "chain_01", "sys_d3_0005")
    assert [s.system_id for s in found["systems"]] == ["sys_d3_0005"]


def test_an_unknown_alias_or_system_is_a_key_error_naming_it(demo: Path):
    with pytest.raises(KeyError, match="no artifact 'nosuch' .*predictions"):
        open_system(demo, "nosuch", "ads_d2_000")
    with pytest.raises(KeyError, match="bulk_equations of demo has no system 'nosuch_d3_000'"):
        open_system(demo, "bulk_equations", "nosuch_d3_000")
    with pytest.raises(KeyError, match="bulk_analysis of demo holds no per-system entries"):
        open_system(demo, "bulk_analysis", "ads_d2_000")
