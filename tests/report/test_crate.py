"""``holopipe export-crate``: the Workflow Run RO-Crate of the toy run, read back with rocrate."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest
from report_helpers import holopipe

from holopipe.artifacts.records import RunManifest

rocrate = pytest.importorskip("rocrate.rocrate", reason="pip install 'holopipe[crate]'")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def manifest_outputs(run: Path) -> dict[str, str]:
    doc = RunManifest.read_document(run / "run_manifest.json")
    return {o["path"]: o["sha256"] for r in doc["stages"].values() for o in r["outputs"]}


def entities(crate, kind: str) -> list:
    return [e for e in crate.get_entities() if kind in e.type or e.type == kind]


@pytest.fixture(scope="module")
def crate_dir(toy_runs, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("crate") / "toy.crate"
    done = holopipe("export-crate", "-e", "toy", "--output", str(out), cwd=toy_runs.cwd)
    assert done.returncode == 0, done.stderr
    return out


def test_every_output_is_listed_with_a_hash_that_matches_the_manifest(toy_runs, crate_dir):
    crate = rocrate.ROCrate(crate_dir)
    listed = {e.id: e.get("sha256") for e in entities(crate, "File") if e.get("sha256")}
    recorded = manifest_outputs(toy_runs.runs / "toy")
    assert set(recorded) <= set(listed)
    for path, digest in listed.items():
        file = crate_dir / path
        assert file.is_file(), path
        assert sha256(file) == digest, path
        if path in recorded:
            assert digest == recorded[path]


def test_one_create_action_per_stage_run(toy_runs, crate_dir):
    crate = rocrate.ROCrate(crate_dir)
    stages = RunManifest.read_document(toy_runs.runs / "toy" / "run_manifest.json")["stages"]
    actions = {e.id: e for e in entities(crate, "CreateAction")}
    for key, record in stages.items():
        action = actions[f"#run-{key}"]
        assert action["instrument"].id == f"#stage-{key}"
        objects = {o.id for o in action["object"]}
        assert "config.resolved.json" in objects
        assert {i["path"] for i in record["inputs"]} <= objects
        results = {r.id for r in action["result"]}
        assert {o["path"] for o in record["outputs"]} <= results
        assert action["startTime"] == record["started_at"]
    assert "#run-toy" in actions  # the whole run, instrument the workflow
    workflow = crate.mainEntity
    assert "ComputationalWorkflow" in workflow.type
    assert actions["#run-toy"]["instrument"].id == workflow.id
    organize = entities(crate, "OrganizeAction")
    assert len(organize) == 1 and organize[0]["result"].id == "#run-toy"
    conforms = {c if isinstance(c, str) else c.id for c in crate.root_dataset["conformsTo"]}
    assert "https://w3id.org/ro/wfrun/provenance/0.5" in conforms


def test_a_zip_crate_reads_back(toy_runs, tmp_path):
    out = tmp_path / "toy.zip"
    done = holopipe("export-crate", "-e", "toy", "-o", str(out), cwd=toy_runs.cwd)
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(out) as archive:
        names = set(archive.namelist())
        assert "ro-crate-metadata.json" in names
        for path, digest in manifest_outputs(toy_runs.runs / "toy").items():
            assert hashlib.sha256(archive.read(path)).hexdigest() == digest
    crate = rocrate.ROCrate(out)
    assert crate.mainEntity is not None


def test_an_existing_output_is_refused(toy_runs, tmp_path):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "x").write_text("keep me")
    done = holopipe("export-crate", "-e", "toy", "-o", str(tmp_path / "taken"), cwd=toy_runs.cwd)
    assert done.returncode == 2 and "already exists" in done.stderr
    assert (tmp_path / "taken" / "x").read_text() == "keep me"
