"""The sharded run manifest (issue 11, item 3): ``run_manifest.json`` is an index naming one
record file per stage with its sha256; a stage writes only its own record; outputs are
hashed as written; every damaged record is a corrupt manifest naming what is wrong."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from holo_run_helpers import (
    chain,
    forget_read_manifests,
    manifest_index,
    output_hashes,
    write_config,
)

from holopipe.artifacts.records import RunManifest
from holopipe.pipeline import RunRequest, assert_artifacts, run_pipeline, run_stage
from holopipe.run.layout import RunLayout
from holopipe.run.manifest import ManifestError, ManifestStore

KEYS = ["01_chain_source", "02_chain_step", "03_chain_step"]
quiet = lambda line: None  # noqa: E731


@pytest.fixture
def run_root(in_tmp: Path) -> Path:
    config = write_config(in_tmp / "c.json", chain(3), stages={"01": {"n_systems": 4}})
    assert run_pipeline(RunRequest(Path("runs"), "x", config), echo=quiet) == 0
    return in_tmp / "runs" / "x"


def test_the_index_names_each_stage_record_by_path_and_sha256(run_root: Path):
    index = manifest_index(run_root)
    assert index["schema_version"] == "0.3" and sorted(index["stages"]) == KEYS
    for key, entry in index["stages"].items():
        data = (run_root / entry["record"]).read_bytes()
        assert entry["record"].startswith(f"run_manifest.d/{key}.")
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        assert json.loads(data)["stage"] == key
    assert sorted(p.name for p in (run_root / "run_manifest.d").iterdir()) == sorted(
        Path(e["record"]).name for e in index["stages"].values()
    )
    # the whole manifest, read through the index, records every output with its sha256
    manifest = RunManifest.read(run_root / "run_manifest.json")
    recorded = {o.path: o.sha256 for r in manifest.stages.values() for o in r.outputs}
    assert {p: h for p, h in recorded.items() if "/chain_" in p} == {
        p: h for p, h in output_hashes(run_root).items() if "/chain_" in p
    }


def test_a_stage_writes_only_its_own_record(run_root: Path):
    before = {
        key: (run_root / entry["record"]).stat().st_ino
        for key, entry in manifest_index(run_root)["stages"].items()
    }
    config = write_config(Path("c2.json"), chain(3), stages={"01": {"n_systems": 4}})
    code = run_stage(
        RunRequest(Path("runs"), "x", config, overrides=["stages.02.offset=1"], force=True), "02"
    )
    assert code == 0
    index = manifest_index(run_root)
    after = {key: (run_root / e["record"]).stat().st_ino for key, e in index["stages"].items()}
    assert after["01_chain_source"] == before["01_chain_source"]
    assert after["03_chain_step"] == before["03_chain_step"]
    assert after["02_chain_step"] != before["02_chain_step"]
    names = sorted(p.name for p in (run_root / "run_manifest.d").iterdir())
    assert len(names) == 3  # the previous record of 02 is gone


def test_one_stage_and_its_gate_read_the_record_of_its_producer_only(
    run_root: Path, records_read: list[tuple[str, str]]
):
    """``holopipe stage 03`` and ``assert-artifacts --for-stage 03`` read 02's record (the
    producer of 03's inputs), never 01's: at 10 000 systems all the records cost ~1 s."""
    forget_read_manifests()
    assert run_stage(RunRequest(Path("runs"), "x"), "03") == 0
    assert {key for key, _ in records_read} == {KEYS[1]}
    records_read.clear()
    forget_read_manifests()
    assert assert_artifacts(Path("runs"), "x", "03") == []
    assert {key for key, _ in records_read} == {KEYS[1]}


def test_one_stage_still_refuses_a_corrupt_record_of_another_stage(run_root: Path):
    """The digests of the index no longer vouch for a record whose file changed: every
    record is validated, as by ``holopipe run``."""
    path = run_root / manifest_index(run_root)["stages"][KEYS[0]]["record"]
    path.write_text(path.read_text().replace('"OK"', '"WARNING"'))
    forget_read_manifests()
    with pytest.raises(ManifestError, match="record_hash_mismatch"):
        run_stage(RunRequest(Path("runs"), "x"), "03")


def _repoint(root: Path, key: str, edit) -> None:
    """Edit a record and point the index at the edited file: consistent, but invalid."""
    index = manifest_index(root)
    entry = index["stages"][key]
    record = json.loads((root / entry["record"]).read_text())
    edit(record)
    data = json.dumps(record).encode()
    entry["sha256"] = hashlib.sha256(data).hexdigest()
    entry["record"] = f"run_manifest.d/{key}.{entry['sha256'][:16]}.json"
    (root / entry["record"]).write_bytes(data)
    (root / "run_manifest.json").write_text(json.dumps(index))


@pytest.mark.parametrize(
    ("change", "finding"),
    [
        ({"size": "4"}, "stages.02_chain_step.outputs[0].size: expected an integer"),
        ({"size": True}, "stages.02_chain_step.outputs[0].size: expected an integer"),
        ({"size": 2**70}, "stages.02_chain_step.outputs[0].size: integer outside"),
        ({"sizes": 1}, "stages.02_chain_step.outputs[0].sizes: unknown key"),
        ({"path": None}, "stages.02_chain_step.outputs[0].path: expected a string"),
    ],
)
def test_a_damaged_file_entry_in_a_record_is_a_corrupt_manifest_naming_it(
    run_root: Path, change, finding
):
    _repoint(run_root, KEYS[1], lambda record: record["outputs"][0].update(change))
    forget_read_manifests()
    store = ManifestStore(RunLayout.create(Path("runs"), "x"))
    if "unknown key" in finding:  # a newer writer's key: a warning, the manifest reads
        assert store.load().stages[KEYS[1]].outputs[0].size > 0
        return
    with pytest.raises(ManifestError) as raised:
        store.load()
    location, message = finding.split(": ", 1)
    assert f"[{location}]: {message}" in str(raised.value)
    assert "holopipe repair-manifest -e x" in str(raised.value)


def test_a_record_whose_bytes_differ_from_the_index_is_refused(run_root: Path):
    entry = manifest_index(run_root)["stages"][KEYS[0]]
    path = run_root / entry["record"]
    path.write_text(path.read_text().replace('"OK"', '"WARNING"'))
    forget_read_manifests()
    with pytest.raises(ManifestError, match="record_hash_mismatch"):
        ManifestStore(RunLayout.create(Path("runs"), "x")).load()
    report = RunManifest.validate_file(run_root / "run_manifest.json")
    assert [f.code for f in report.errors] == ["record_hash_mismatch"]


def test_a_manifest_of_version_0_1_with_records_inline_reads_and_moves_them_out(
    run_root: Path,
):
    whole = RunManifest.read_document(run_root / "run_manifest.json")
    whole["schema_version"] = "0.1"
    (run_root / "run_manifest.json").write_text(json.dumps(whole))
    for path in (run_root / "run_manifest.d").iterdir():
        path.unlink()
    forget_read_manifests()
    layout = RunLayout.create(Path("runs"), "x")
    assert sorted(ManifestStore(layout).load().stages) == KEYS
    assert run_stage(RunRequest(Path("runs"), "x"), "03") == 0  # the next update writes the index
    index = manifest_index(run_root)
    assert index["schema_version"] == "0.3"
    assert all(set(e) - {"digest"} == {"record", "sha256"} for e in index["stages"].values())
    forget_read_manifests()
    assert RunManifest.read(run_root / "run_manifest.json").stages.keys() == set(KEYS)


def test_outputs_are_recorded_with_the_sha256_of_the_bytes_written(run_root: Path):
    manifest = RunManifest.read(run_root / "run_manifest.json")
    for record in manifest.stages.values():
        for entry in record.outputs:
            data = (run_root / entry.path).read_bytes()
            assert (entry.sha256, entry.size) == (hashlib.sha256(data).hexdigest(), len(data))
        summary = (run_root / record.stage / "stage_summary.json").read_bytes()
        assert record.summary_sha256 == hashlib.sha256(summary).hexdigest()
