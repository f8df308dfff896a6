"""What a stage records of its files, built from the paths its context registered: the
summary's artifact index, the output entries (stat signature of the published file) and the
input entries (the producer's entry while the file is as it recorded it, else a fresh one)."""

from __future__ import annotations

import os
from pathlib import Path

from holo_run_helpers import chain, load_json, manifest, write_config

from holopipe.pipeline import RunRequest, run_pipeline
from holopipe.run.context import RunContext, StageContext
from holopipe.run.layout import RunLayout
from holopipe.stages.runner import _artifact_index


def test_the_artifact_index_names_files_through_their_alias(tmp_path: Path):
    layout = RunLayout.create(tmp_path / "runs", "x")
    work = layout.root / ".03_demo.partial"
    ctx = StageContext(RunContext(layout, {"seed": 1}), "03", "03_demo", work, None)
    ctx.outputs += [
        ("single", work / "single" / "only.json", "BulkEquations"),
        ("many", work / "many" / "a.json", "BulkEquations"),
        ("many", work / "many" / "sub" / "b.json", "BulkEquations"),
        ("other", work / "other" / "a.json", "BulkEquations"),  # a name two aliases share
        ("other", work / "other" / "c.json", "BulkEquations"),
    ]
    index = _artifact_index(layout, layout.root / "03_demo", work, ctx)
    assert index == {
        "single": "03_demo/single/only.json",
        "many": "03_demo/many",
        "other": "03_demo/other",
        "only.json": "single/only.json",
        "many/a.json": "many/a.json",
        "sub/b.json": "many/sub/b.json",
        "other/a.json": "other/a.json",
        "c.json": "other/c.json",
    }


def test_output_and_input_entries_carry_the_files_stat_signatures(in_tmp: Path):
    config = write_config(in_tmp / "c.json", chain(2), stages={"01": {"n_systems": 3}})
    assert run_pipeline(RunRequest(Path("runs"), "x", config), echo=lambda line: None) == 0
    root = in_tmp / "runs" / "x"
    produced = {e["path"]: e for e in manifest(root)["stages"]["01_chain_source"]["outputs"]}
    for entry in produced.values():  # each output entry: the published file's stat
        st = os.stat(root / entry["path"])
        assert (entry["size"], entry["mtime_ns"], entry["ctime_ns"], entry["inode"]) == (
            st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino
        )  # fmt: skip
    touched = root / "01_chain_source" / "chain_01" / "sys_d3_0001.json"
    os.utime(touched, ns=(1_000_000_000, 1_000_000_000))  # same bytes, another stat
    layout = RunLayout.create(Path("runs"), "x")
    request = RunRequest(Path("runs"), "x", overrides=["stages.02.offset=1.0"], force=True)
    assert run_pipeline(request, echo=lambda line: None) == 0
    consumed = {e["path"]: e for e in manifest(root)["stages"]["02_chain_step"]["inputs"]}
    assert sorted(consumed) == sorted(produced)
    for path, entry in consumed.items():
        st = os.stat(layout.root / path)
        assert (entry["size"], entry["mtime_ns"], entry["ctime_ns"], entry["inode"]) == (
            st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino
        ), path  # fmt: skip
        assert entry["sha256"] == produced[path]["sha256"] and entry["name"] == "chain_01"
    touched_entry = consumed["01_chain_source/chain_01/sys_d3_0001.json"]
    assert touched_entry["mtime_ns"] == 1_000_000_000 != produced[
        "01_chain_source/chain_01/sys_d3_0001.json"]["mtime_ns"]  # fmt: skip
    assert load_json(root / "02_chain_step" / "stage_summary.json")["status"] == "OK"


def test_undeclared_files_are_the_files_neither_declared_nor_bookkeeping(tmp_path: Path):
    from holopipe.run.discipline import undeclared_files

    work = tmp_path / ".01_x.partial"
    for rel in ("out/a.json", "out/sub/b.json", "stray.txt", "out/sub/c.tmp", "logs/stdout.log",
                "stage_summary.json", "cmd.txt"):  # fmt: skip
        (work / rel).parent.mkdir(parents=True, exist_ok=True)
        (work / rel).write_text("x")
    declared = {work / "out" / "a.json", Path(f"{work}/./out//sub/b.json")}  # spelt otherwise
    assert undeclared_files(work, declared) == ["out/sub/c.tmp", "stray.txt"]
    assert undeclared_files(work, set()) == ["out/a.json", "out/sub/b.json", "out/sub/c.tmp",
                                             "stray.txt"]  # fmt: skip
