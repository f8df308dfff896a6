"""The stage digests of the manifest index (issue 11: a no-op rerun costs O(what changed)).

A no-op decided from the digests reads no stage record; whenever a digest cannot confirm
"up to date" the full record decides as before: a touched file with the same bytes is
not a reason to rerun, changed bytes are, and ``run``, ``status`` and ``--dry-run`` agree.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from holo_run_helpers import chain, forget_read_manifests, manifest_index, write_config

from holopipe.pipeline import RunRequest, plan_run, run_pipeline, run_stage, stage_states
from holopipe.run import folder_scan
from holopipe.run.folder_scan import EarlyScan, folder_signature
from holopipe.run.layout import RunLayout
from holopipe.run.manifest import ManifestError, ManifestStore
from holopipe.run.publish import failed_attempt_dir
from holopipe.run.stage_digest import StageDigest

KEYS = ["01_chain_source", "02_chain_step", "03_chain_step"]


#: Whether :func:`_rerun` starts the early scan of a plain ``holopipe run``.
_EARLY = False


@pytest.fixture(autouse=True, params=["one process", "two processes", "early scan"])
def scanning(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every decision is the same whether the folders are scanned in this process,
    shared with a forked one (what a run of many files does), or scanned before the
    pipeline takes the lock (a plain ``holopipe run``: the changes below are made before)."""
    if request.param != "one process":
        monkeypatch.setattr(folder_scan, "PARALLEL_SCAN_FILES", 0)
        monkeypatch.setattr(folder_scan, "_cpus", lambda: 2)
    if request.param == "early scan":
        monkeypatch.setattr(folder_scan, "SETTLED_NS", 0)  # the run was made just now
        monkeypatch.setitem(globals(), "_EARLY", True)


@pytest.fixture
def run_root(in_tmp: Path) -> Path:
    config = write_config(in_tmp / "c.json", chain(3), stages={"01": {"n_systems": 5}})
    assert run_pipeline(RunRequest(Path("runs"), "x", config), echo=lambda line: None) == 0
    forget_read_manifests()
    return in_tmp / "runs" / "x"


def _rerun(lines: list[str] | None = None) -> int:
    forget_read_manifests()
    request = RunRequest(Path("runs"), "x")
    early = EarlyScan.start("runs/x") if _EARLY else None  # None: the index has no digests
    try:
        echo = (lines if lines is not None else []).append
        return run_pipeline(request, echo=echo, early_scan=early)
    finally:
        if early is not None:
            early.close()


def _running(lines: list[str]) -> list[str]:
    return [line.split(":")[0] for line in lines if ": running" in line]


def _first_output(root: Path, key: str) -> Path:
    return sorted((root / key / f"chain_{key[:2]}").iterdir())[0]


def test_each_stage_entry_carries_a_digest_of_its_record(run_root: Path):
    for key, entry in manifest_index(run_root)["stages"].items():
        digest = StageDigest.from_json(entry["digest"])
        assert digest is not None and digest.record_sha256 == entry["sha256"]
        assert digest.status == "OK"
        folder = f"{key}/chain_{key[:2]}"
        assert folder_signature(str(run_root / folder)) == tuple(digest.folders[folder])
        assert digest.folders[folder][0] == 5


def test_a_no_op_rerun_reads_no_stage_record(run_root: Path, records_read: list[tuple[str, str]]):
    lines: list[str] = []
    assert _rerun(lines) == 0
    assert [line for line in lines if "up to date" in line] == [
        f"{key}: up to date (OK), skipped" for key in KEYS
    ]
    assert records_read == []
    assert all(s.up_to_date for s in stage_states(Path("runs"), "x"))
    assert records_read == []


def test_a_touched_output_with_the_same_bytes_is_rehashed_not_rerun(run_root: Path):
    path = _first_output(run_root, KEYS[1])
    path.write_bytes(path.read_bytes())  # new mtime and ctime, same content
    lines: list[str] = []
    assert _rerun(lines) == 0
    assert _running(lines) == []
    assert all(s.up_to_date for s in stage_states(Path("runs"), "x"))


def test_changed_bytes_of_the_same_size_rerun_the_stage(run_root: Path):
    path = _first_output(run_root, KEYS[1])
    data = path.read_bytes()
    st = os.stat(path)
    path.write_bytes(data.replace(b"-", b"+", 1))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # the mtime put back: ctime differs
    assert len(path.read_bytes()) == len(data)
    states = {s.stage: s for s in stage_states(Path("runs"), "x")}
    assert not states[KEYS[1]].up_to_date and "modified" in states[KEYS[1]].reason
    plans = {p.stage: p for p in plan_run(RunRequest(Path("runs"), "x"))}
    assert [k for k in KEYS if plans[k].would_run] == KEYS[1:]
    lines: list[str] = []
    assert _rerun(lines) == 0
    # 02 writes its outputs again with the bytes it wrote first: 03 reads new files
    # (another stat) holding the recorded bytes, rehashes them and stays up to date
    assert _running(lines) == [KEYS[1]]
    assert "03_chain_step: up to date (OK), skipped" in lines
    assert all(s.up_to_date for s in stage_states(Path("runs"), "x"))


def test_a_stray_file_in_an_output_folder_is_no_reason_to_rerun(run_root: Path):
    (run_root / KEYS[0] / "chain_01" / "notes.txt").write_text("mine")
    lines: list[str] = []
    assert _rerun(lines) == 0
    assert _running(lines) == []


def test_a_deleted_output_reruns_its_stage(run_root: Path):
    _first_output(run_root, KEYS[2]).unlink()
    lines: list[str] = []
    assert _rerun(lines) == 0
    assert _running(lines) == [KEYS[2]]


def test_a_changed_param_reruns_from_that_stage(run_root: Path):
    config = write_config(Path("c2.json"), chain(3), stages={"01": {"n_systems": 5}})
    lines: list[str] = []
    forget_read_manifests()
    request = RunRequest(Path("runs"), "x", config, ["stages.02.offset=2"], force=True)
    code = run_pipeline(request, echo=lines.append)
    assert code == 0
    assert _running(lines) == KEYS[1:]


def test_a_digest_that_does_not_describe_its_record_is_ignored(
    run_root: Path, records_read: list[tuple[str, str]]
):
    index = manifest_index(run_root)
    entry = index["stages"][KEYS[2]]
    entry["digest"]["record_sha256"] = "0" * 64
    entry["digest"]["params"] = "forged"
    (run_root / "run_manifest.json").write_text(json.dumps(index))
    lines: list[str] = []
    assert _rerun(lines) == 0
    assert _running(lines) == []  # the record decided: up to date
    assert sorted({key for key, _ in records_read}) == KEYS  # the whole manifest validated


def test_a_record_rewritten_in_place_is_validated_as_a_whole(run_root: Path):
    entry = manifest_index(run_root)["stages"][KEYS[0]]
    path = run_root / entry["record"]
    path.write_text(path.read_text().replace('"OK"', '"ER"', 1))  # same size, other bytes
    with pytest.raises(ManifestError, match="record_hash_mismatch"):
        _rerun()
    forget_read_manifests()
    with pytest.raises(ManifestError, match="record_hash_mismatch"):
        ManifestStore(RunLayout.create(Path("runs"), "x")).index()


def test_a_version_0_2_index_without_digests_is_a_no_op_and_gains_them_at_the_next_update(
    run_root: Path, records_read: list[tuple[str, str]]
):
    index = manifest_index(run_root)
    index["schema_version"] = "0.2"  # what the session-3 code wrote: no digest per entry
    for entry in index["stages"].values():
        del entry["digest"]
    (run_root / "run_manifest.json").write_text(json.dumps(index))
    lines: list[str] = []
    assert _rerun(lines) == 0
    assert _running(lines) == []
    assert sorted({key for key, _ in records_read}) == KEYS  # decided by records
    assert manifest_index(run_root)["schema_version"] == "0.2"  # a no-op writes no manifest
    forget_read_manifests()
    assert run_stage(RunRequest(Path("runs"), "x"), "03") == 0  # a stage update writes the index
    updated = manifest_index(run_root)
    assert updated["schema_version"] == "0.3"
    assert "digest" in updated["stages"]["03_chain_step"]


def test_an_index_of_a_newer_version_is_refused_as_newer_not_as_corrupt(run_root: Path):
    index = manifest_index(run_root)
    index["schema_version"] = "9.0"
    (run_root / "run_manifest.json").write_text(json.dumps(index))
    forget_read_manifests()
    with pytest.raises(ManifestError, match="newer than this holopipe supports"):
        ManifestStore(RunLayout.create(Path("runs"), "x")).load()


def _strip_digests(root: Path) -> None:
    index = manifest_index(root)
    for entry in index["stages"].values():
        del entry["digest"]
    (root / "run_manifest.json").write_text(json.dumps(index))


@pytest.mark.parametrize("digests", ["kept", "stripped"])
def test_a_stale_stage_is_told_stale_by_its_digest_as_by_its_record_without_reading_it(
    run_root: Path, records_read: list[tuple[str, str]], digests: str
):
    """A changed param (02) and the inputs that change with it (03): the same reasons
    whether the digests tell them or the records do; with the digests, the records of
    the stale stages are not read before they run (only their producers', to resolve)."""
    old = {key: entry["sha256"] for key, entry in manifest_index(run_root)["stages"].items()}
    if digests == "stripped":
        _strip_digests(run_root)
    config = write_config(Path("c2.json"), chain(3), stages={"01": {"n_systems": 5}})
    forget_read_manifests()
    lines: list[str] = []
    request = RunRequest(Path("runs"), "x", config, ["stages.02.offset=2"], force=True)
    assert run_pipeline(request, echo=lines.append) == 0
    assert [line for line in lines if ": running" in line] == [
        "02_chain_step: running (params changed)",
        "03_chain_step: running (inputs changed)",
    ]
    stale_records_read = {(key, old[key]) for key in KEYS[1:]} & set(records_read)
    assert bool(stale_records_read) == (digests == "stripped")


def test_a_failed_attempt_is_the_reason_even_when_the_digest_shows_a_changed_param(
    run_root: Path,
):
    failed = failed_attempt_dir(RunLayout.create(Path("runs"), "x"), KEYS[1])
    failed.mkdir()
    (failed / "stage_summary.json").write_text("{}")
    config = write_config(Path("c2.json"), chain(3), stages={"01": {"n_systems": 5}})
    forget_read_manifests()
    request = RunRequest(Path("runs"), "x", config, ["stages.02.offset=2"], force=True)
    states = {s.stage: s for s in stage_states(Path("runs"), "x")}
    assert states[KEYS[1]].up_to_date is False and "last run ended" in states[KEYS[1]].reason
    lines: list[str] = []
    assert run_pipeline(request, echo=lines.append) == 0
    assert any(line.startswith("02_chain_step: running (last run ended") for line in lines)
