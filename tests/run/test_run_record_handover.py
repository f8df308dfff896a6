"""A stage process hands the record it wrote to the orchestrator (issue 11: the change rerun).

The orchestrator takes the record a stage process has just published (sent through a pipe,
as written) instead of reading and validating the record file again to resolve the next
stage's inputs and to draw the report; but only where the index names a record by the
sha256 the stage process computed over the bytes it wrote. A hand-over cut short, or one
for a record the index does not name, is never used: the file decides, as before.
"""

from __future__ import annotations

import os
from pathlib import Path

import attrs
import pytest
from holo_run_helpers import chain, forget_read_manifests, manifest_index, write_config

from holopipe import pipeline as pipeline_module
from holopipe.pipeline import RunRequest, run_pipeline
from holopipe.report.collect import RunView
from holopipe.run import manifest as manifest_module
from holopipe.run.layout import RunLayout
from holopipe.run.manifest import ManifestStore, hand_over

KEYS = ["01_chain_source", "02_chain_step", "03_chain_step", "04_chain_step"]


@pytest.fixture
def run_root(in_tmp: Path) -> Path:
    config = write_config(in_tmp / "c.json", chain(4), stages={"01": {"n_systems": 5}})
    assert run_pipeline(RunRequest(Path("runs"), "x", config), echo=lambda line: None) == 0
    forget_read_manifests()
    return in_tmp / "runs" / "x"


def _change_rerun() -> list[str]:
    """Stage 02's param changed: 02, 03 and 04 rerun; the command's lines."""
    forget_read_manifests()
    lines: list[str] = []
    request = RunRequest(Path("runs"), "x", None, ["stages.02.offset=2"], force=True)
    assert run_pipeline(request, echo=lines.append) == 0
    assert [line for line in lines if ": running" in line] == [
        "02_chain_step: running (params changed)",
        "03_chain_step: running (inputs changed)",
        "04_chain_step: running (inputs changed)",
    ]
    return lines


def test_the_records_the_stage_processes_wrote_are_not_read_again(
    run_root: Path, records_read: list[tuple[str, str]]
):
    """Neither to resolve the next stage nor for the report; what is taken is the record as
    written (structured from its file: equal)."""
    _change_rerun()
    written = {key: entry["sha256"] for key, entry in manifest_index(run_root)["stages"].items()}
    ran = {(key, written[key]) for key in KEYS[1:]}
    assert not ran & set(records_read)
    assert (KEYS[0], written[KEYS[0]]) in records_read  # 02's producer: it did not run here


def test_the_report_is_the_same_whether_the_records_were_handed_over_or_read(run_root: Path):
    """The report's view of the run (its plotted files and totals) from the records the
    stage processes handed over equals the one read from the files."""
    _change_rerun()
    layout = RunLayout.create(Path("runs"), "x")
    handed = RunView.load(layout)  # the records of 02-04 still known from the run
    forget_read_manifests()
    read = RunView.load(layout)
    assert handed.stages == read.stages == tuple(KEYS)
    assert {s: attrs.asdict(f) for s, f in handed.files.items()} == {
        s: attrs.asdict(f) for s, f in read.files.items()
    }
    assert handed.problems == read.problems == []


def test_a_hand_over_cut_short_is_none_and_the_record_is_read(
    run_root: Path, records_read: list[tuple[str, str]], monkeypatch: pytest.MonkeyPatch
):
    """A stage process that dies while sending (its record already published): the next
    stage resolves from the record file, and the run ends as without the hand-over."""
    send = pipeline_module._send_handover

    def cut_short(fd: int, packed: bytes) -> None:
        if packed:
            with os.fdopen(fd, "wb") as pipe:
                pipe.write(len(packed).to_bytes(8, "big") + packed[: len(packed) // 2])
            return
        send(fd, packed)

    monkeypatch.setattr(pipeline_module, "_send_handover", cut_short)
    _change_rerun()
    written = {key: entry["sha256"] for key, entry in manifest_index(run_root)["stages"].items()}
    assert {(key, written[key]) for key in KEYS[1:3]} <= set(records_read)


def test_a_handed_over_record_the_index_does_not_name_is_never_used(
    run_root: Path, records_read: list[tuple[str, str]]
):
    """A hand-over for a sha256 the index does not name (the stage process was killed
    before the index was replaced), or naming another stage, changes nothing read."""
    layout = RunLayout.create(Path("runs"), "x")
    store = ManifestStore(layout)
    real = store.load_stages([KEYS[0]]).stages[KEYS[0]]
    forged = attrs.evolve(real, outputs=real.outputs[:1], fingerprint="0" * 64)
    store.take_over(KEYS[0], hand_over("f" * 64, forged))  # not the sha256 the index names
    named = manifest_index(layout.root)["stages"][KEYS[0]]["sha256"]
    store.take_over(KEYS[1], hand_over(named, forged))  # another stage's hand-over
    forget_known = manifest_module._RECORDS.pop((os.path.abspath(layout.root), named))
    assert forget_known == real
    records_read.clear()
    assert store.load_stages([KEYS[0]]).stages[KEYS[0]] == real
    assert records_read == [(KEYS[0], named)]


def test_a_record_handed_over_equals_the_record_as_read_from_its_file(run_root: Path):
    layout = RunLayout.create(Path("runs"), "x")
    store = ManifestStore(layout)
    named = manifest_index(layout.root)["stages"][KEYS[1]]["sha256"]
    real = store.load_stages([KEYS[1]]).stages[KEYS[1]]
    forget_read_manifests()
    store.take_over(KEYS[1], hand_over(named, real))
    assert manifest_module._RECORDS[(os.path.abspath(layout.root), named)] == real
