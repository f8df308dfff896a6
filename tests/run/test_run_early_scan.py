"""The early scan of a plain ``holopipe run`` (:mod:`holopipe.run.folder_scan`): what it
found is taken only while nothing can have changed since, and a no-op takes all of it.

The changes made before the early scan starts are tests/run/test_run_stage_digest.py's
(each of its cases runs once with the early scan); here, what happens between the early
scan and the lock.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from holo_run_helpers import chain, forget_read_manifests, write_config

from holopipe import pipeline
from holopipe.cli import main
from holopipe.pipeline import RunRequest, run_pipeline
from holopipe.run import folder_scan
from holopipe.run.folder_scan import EarlyScan

KEYS = ["01_chain_source", "02_chain_step", "03_chain_step"]
OLD_NS = 1_000_000_000_000_000_000  # 2001


@pytest.fixture
def run_root(in_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    config = write_config(in_tmp / "c.json", chain(3), stages={"01": {"n_systems": 5}})
    assert run_pipeline(RunRequest(Path("runs"), "x", config), echo=lambda line: None) == 0
    forget_read_manifests()
    root = in_tmp / "runs" / "x"
    for key in KEYS:  # an old mtime: the next change of a folder cannot leave it equal
        os.utime(root / key / f"chain_{key[:2]}", ns=(OLD_NS, OLD_NS))
    monkeypatch.setattr(folder_scan, "SETTLED_NS", 0)  # the run was made just now
    monkeypatch.setattr(folder_scan, "_cpus", lambda: 2)
    return root


@pytest.fixture
def late_scans(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The folders scanned under the lock (not taken from the early scan)."""
    scanned: list[str] = []
    original = pipeline.folder_signatures

    def counting(folders: dict[str, int]) -> dict:
        scanned.extend(sorted(Path(f).name for f in folders))
        return original(folders)

    monkeypatch.setattr(pipeline, "folder_signatures", counting)
    return scanned


def _rerun(early: EarlyScan | None) -> list[str]:
    lines: list[str] = []
    try:
        assert run_pipeline(RunRequest(Path("runs"), "x"), echo=lines.append, early_scan=early) == 0
    finally:
        if early is not None:
            early.close()
    return [line.split(":")[0] for line in lines if ": running" in line]


def test_a_no_op_takes_every_folder_from_the_early_scan(run_root: Path, late_scans: list[str]):
    early = EarlyScan.start("runs/x")
    assert early is not None
    assert _rerun(early) == []
    assert late_scans == []


def test_the_plain_run_command_starts_the_early_scan(
    run_root: Path, late_scans: list[str], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(sys, "argv", ["holopipe", "run", "-e", "x"])
    with pytest.raises(SystemExit) as done:
        main()
    assert done.value.code == 0
    assert late_scans == []
    monkeypatch.setattr(sys, "argv", ["holopipe", "run", "-e", "x", "--to", "03"])
    with pytest.raises(SystemExit):  # an option that selects: no early scan
        main()
    assert late_scans == ["chain_01", "chain_02", "chain_03"]


def test_an_output_replaced_after_the_early_scan_reruns_its_stage(
    run_root: Path, late_scans: list[str]
):
    early = EarlyScan.start("runs/x")
    folder = run_root / KEYS[1] / "chain_02"
    path = sorted(folder.iterdir())[0]
    new = folder / "new.tmp"
    new.write_bytes(path.read_bytes().replace(b"-", b"+", 1))
    new.replace(path)  # as holopipe writes: a new file renamed over the old one
    assert _rerun(early) == [KEYS[1]]
    assert late_scans[0] == "chain_02"  # the folder changed: scanned again under the lock


def test_folders_changed_just_before_are_not_scanned_early(
    run_root: Path, late_scans: list[str], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(folder_scan, "SETTLED_NS", 10**9 * 3600)  # changed in the last hour
    assert EarlyScan.start("runs/x") is None  # every folder: nothing to scan early
    assert _rerun(None) == []
    assert late_scans == ["chain_01", "chain_02", "chain_03"]


def test_nothing_is_taken_once_the_index_was_replaced(run_root: Path):
    early = EarlyScan.start("runs/x")
    assert early is not None
    index = run_root / "run_manifest.json"
    copy = run_root / "copy.tmp"
    copy.write_bytes(index.read_bytes())
    copy.replace(index)  # another command published meanwhile: the same bytes, a new file
    paths = [str(Path("runs/x") / key / f"chain_{key[:2]}") for key in KEYS]
    try:
        assert early.take(paths) == {}
    finally:
        early.close()


def test_a_run_without_an_index_or_a_second_cpu_has_no_early_scan(
    run_root: Path, monkeypatch: pytest.MonkeyPatch
):
    assert EarlyScan.start("runs/none") is None
    (run_root / "run_manifest.json").write_text("{")  # unreadable: the pipeline says why
    assert EarlyScan.start("runs/x") is None
    monkeypatch.setattr(folder_scan, "_cpus", lambda: 1)
    assert EarlyScan.start("runs/x") is None


def test_closed_scanners_are_reaped(tmp_path: Path):
    scanners = folder_scan._Scanners({str(tmp_path): 0, "/": 1})
    pids = list(scanners._pids.values())
    scanners.close()
    for pid in pids:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
