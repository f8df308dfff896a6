"""What the orchestrator holds of a run's manifest grows with what it needs at once, not with
the run (issue 11: peak memory at 100 000 systems): the report reads one stage record at a
time, a process keeps a bounded number of file entries, and a manifest whose digests do not
vouch for it is validated record by record without being held whole."""

from __future__ import annotations

import hashlib
import json
import os
import weakref
from pathlib import Path

import pytest
from holo_run_helpers import chain, forget_read_manifests, write_config

from holopipe.artifacts.records import stat_signature
from holopipe.pipeline import RunRequest, run_pipeline
from holopipe.report import collect
from holopipe.report.collect import RunView
from holopipe.run import manifest as manifest_module
from holopipe.run.layout import RunLayout
from holopipe.run.manifest import ManifestError, ManifestStore

KEYS = ["01_chain_source", "02_chain_step", "03_chain_step"]


@pytest.fixture
def layout(in_tmp: Path) -> RunLayout:
    config = write_config(in_tmp / "c.json", chain(3), stages={"01": {"n_systems": 5}})
    assert run_pipeline(RunRequest(Path("runs"), "x", config), echo=lambda line: None) == 0
    forget_read_manifests()
    return RunLayout.create(in_tmp / "runs", "x")


def test_records_are_read_one_at_a_time_each_freed_before_the_next(layout: RunLayout):
    whole = ManifestStore(layout).load()
    forget_read_manifests()
    ManifestStore(layout).load_stages(KEYS)  # kept for an assessment: not while reading all
    assert len(manifest_module._RECORDS) == len(KEYS)
    earlier: list[weakref.ref] = []
    for record in ManifestStore(layout).records():
        assert all(ref() is None for ref in earlier)  # nothing holds the previous record
        assert record == whole.stages[record.stage]
        earlier.append(weakref.ref(record))
        del record
    assert len(earlier) == len(KEYS)
    assert not manifest_module._RECORDS and not manifest_module._LOADED


@pytest.mark.parametrize("digests", ["kept", "stripped"])
def test_the_report_plots_the_same_files_as_the_whole_manifest_lists(
    layout: RunLayout, monkeypatch: pytest.MonkeyPatch, digests: str
):
    """Whether the digests vouch for the records (their file lists taken as written) or
    not (each record validated as a whole first)."""
    monkeypatch.setattr(collect, "MAX_ARTIFACTS_PER_TYPE", 4)
    if digests == "stripped":
        _strip_digests(layout)
    whole = ManifestStore(layout).load()
    recorded = [
        (key, layout.root / entry.path, entry.sha256)
        for key in sorted(whole.stages)
        for entry in whole.stages[key].outputs
        if entry.schema == "BulkEquations"
    ]
    forget_read_manifests()
    view = RunView.load(layout)
    chosen, total = view.plotted("BulkEquations")
    assert total == len(recorded) == 15
    assert [(key, path, entry.sha256) for key, path, entry in chosen] == recorded[:4]
    assert view.stages == tuple(KEYS) and sorted(view.summaries) == KEYS
    assert view.plotted("Dictionary") == ([], 0)
    assert not manifest_module._RECORDS and not manifest_module._LOADED


def test_a_corrupt_record_is_a_problem_of_the_report_not_a_crash(layout: RunLayout):
    index = json.loads(layout.manifest_path.read_text())
    record = layout.root / index["stages"][KEYS[1]]["record"]
    record.write_bytes(record.read_bytes().replace(b'"OK"', b'"NO"', 1))
    view = RunView.load(layout)
    assert view.stages == () and view.plotted("BulkEquations") == ([], 0)
    assert len(view.problems) == 1 and "run_manifest.json" in view.problems[0]


def test_the_records_a_process_keeps_are_bounded_by_their_file_entries(
    layout: RunLayout, monkeypatch: pytest.MonkeyPatch
):
    store = ManifestStore(layout)
    whole = {key: store.load_stages([key]).stages[key] for key in KEYS}
    kept = lambda: [record.stage for record in manifest_module._RECORDS.values()]  # noqa: E731
    # 01 lists 5 outputs, 02 and 03 5 inputs and 5 outputs each
    for budget, expected in ((25, KEYS), (24, KEYS[1:]), (12, KEYS[2:]), (1, KEYS[2:])):
        forget_read_manifests()
        monkeypatch.setattr(manifest_module, "_RECORD_ENTRIES_KEPT", budget)
        for key in KEYS:
            assert store.load_stages([key]).stages[key] == whole[key]
        assert kept() == expected  # the newest always, older ones while they fit
    # one evicted is read again, the same
    assert store.load_stages([KEYS[0]]).stages[KEYS[0]] == whole[KEYS[0]]


def _strip_digests(layout: RunLayout) -> None:
    index = json.loads(layout.manifest_path.read_text())
    for entry in index["stages"].values():
        entry.pop("digest")
    layout.manifest_path.write_text(json.dumps(index))


def test_an_index_without_digests_is_validated_once_record_by_record_not_held_whole(
    layout: RunLayout, monkeypatch: pytest.MonkeyPatch, records_read: list[tuple[str, str]]
):
    _strip_digests(layout)
    monkeypatch.setattr(manifest_module, "_RECORD_ENTRIES_KEPT", 1)
    store = ManifestStore(layout)
    index = store.index()
    assert index is not None and index.stages == frozenset(KEYS) and not index.digests
    assert sorted(key for key, _ in records_read) == KEYS  # every record validated ...
    assert not manifest_module._LOADED and len(manifest_module._RECORDS) == 1  # ... not held
    store.index()
    assert sorted(key for key, _ in records_read) == KEYS  # once per index file
    assert store.load_stages([KEYS[2]]).stages[KEYS[2]].stage == KEYS[2]


def test_an_index_without_digests_and_a_damaged_record_is_a_corrupt_manifest(
    layout: RunLayout,
):
    _strip_digests(layout)
    index = json.loads(layout.manifest_path.read_text())
    record = layout.root / index["stages"][KEYS[0]]["record"]
    record.write_bytes(record.read_bytes() + b" ")
    for read in (ManifestStore(layout).index, lambda: ManifestStore(layout).load_stages(KEYS)):
        forget_read_manifests()
        with pytest.raises(ManifestError, match="record_hash_mismatch|does not hold"):
            read()


def test_folders_scanned_in_two_processes_have_the_signatures_of_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from holopipe.run import folder_scan

    folders = {}
    for i in range(5):
        folder = tmp_path / f"f{i}"
        (folder / "sub").mkdir(parents=True)  # a subfolder is not entered
        for j in range(i * 3):
            (folder / f"{j}.json").write_text(str(j))
        folders[str(folder)] = i * 3
    (tmp_path / "f4" / "link").symlink_to(tmp_path / "f1")  # a link to a folder: no signature
    alone = folder_scan.folder_signatures(folders)
    assert alone == {f: folder_scan.folder_signature(f) for f in folders}
    assert [alone[str(tmp_path / f"f{i}")][0] for i in range(4)] == [0, 3, 6, 9]
    assert alone[str(tmp_path / "f4")] is None
    forked = []
    original = os.fork
    monkeypatch.setattr(os, "fork", lambda: forked.append(1) or original())
    monkeypatch.setattr(folder_scan, "PARALLEL_SCAN_FILES", 0)
    monkeypatch.setattr(folder_scan, "_cpus", lambda: 2)
    assert folder_scan.folder_signatures(folders) == alone
    assert forked == [1, 1]  # five folders, shared by two forked processes


def test_a_vouched_record_edited_to_lose_a_path_is_a_problem_of_the_report_not_a_crash(
    layout: RunLayout,
):
    """A record edited by hand, its index entry (sha256, digest) made to match: the digest
    still vouches for it, but an entry holopipe would not write is validated, not taken."""
    index = json.loads(layout.manifest_path.read_text())
    reference = index["stages"][KEYS[1]]
    record_path = layout.root / reference["record"]
    record = json.loads(record_path.read_bytes())
    del record["outputs"][0]["path"]
    record_path.write_text(json.dumps(record, indent=2, sort_keys=True))
    reference["sha256"] = hashlib.sha256(record_path.read_bytes()).hexdigest()
    reference["digest"]["record_sha256"] = reference["sha256"]
    reference["digest"]["record_stat"] = list(stat_signature(record_path))
    layout.manifest_path.write_text(json.dumps(index))
    forget_read_manifests()
    index_read = ManifestStore(layout).index()
    assert index_read is not None and KEYS[1] in index_read.digests  # still vouched for
    view = RunView.load(layout)
    assert view.stages == () and view.plotted("BulkEquations") == ([], 0)
    assert len(view.problems) == 1 and "run_manifest.json" in view.problems[0]
    assert f"stages.{KEYS[1]}.outputs[0].path" in view.problems[0]
