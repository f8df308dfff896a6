"""The plan's rules enforced by the runner (issue 13), one test per rule, named after the
plan's section it enforces."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from holo_run_helpers import chain, file_stats, load_json, write_config

from holopipe.artifacts.base import JSONArtifact
from holopipe.artifacts.registry import UnknownSchemaError, get_type, register
from holopipe.pipeline import run_pipeline, stage_states
from holopipe.run.gates import check_inputs
from holopipe.run.layout import RunLayout
from holopipe.run.publish import last_attempt_dir


def test_plan_4_1_a_skipped_stage_keeps_its_last_status_and_exit_code(in_tmp: Path):
    config = write_config(in_tmp / "c.json", chain(2), stages={"02": {"fail_system": 1}})
    assert run_pipeline(Path("runs"), "x", config, echo=lambda line: None) == 1  # 02: WARNING
    lines: list[str] = []
    assert run_pipeline(Path("runs"), "x", echo=lines.append) == 1
    assert lines[1] == "02_chain_step: up to date (WARNING), skipped"
    assert lines[-1].startswith("x: WARNING (exit 1)")
    outcome = load_json(in_tmp / "runs" / "x" / "pipeline_summary.json")
    assert outcome["exit_code"] == 1
    assert [(s["stage"], s["status"], s["exit_code"], s["action"]) for s in outcome["stages"]] == [
        ("01_chain_source", "OK", 0, "up_to_date"),
        ("02_chain_step", "WARNING", 1, "up_to_date"),
    ]


def _single(in_tmp: Path, stage: str) -> tuple[int, dict]:
    config = write_config(in_tmp / "c.json", [f"holo_run_test_stages:{stage}"])
    code = run_pipeline(Path("runs"), "x", config, echo=lambda line: None)
    folder = last_attempt_dir(RunLayout.create(in_tmp / "runs", "x"), "01_" + SLUGS[stage])
    return code, load_json(folder / "stage_summary.json")


SLUGS = {"ProducesNothing": "produces_nothing", "WritesUndeclaredAlias": "writes_undeclared"}


def test_plan_3_3_a_declared_output_never_produced_is_incomplete(in_tmp: Path):
    code, summary = _single(in_tmp, "ProducesNothing")
    assert (code, summary["status"], summary["exit_code"]) == (2, "INCOMPLETE", 2)
    assert "declared output chain_01 (BulkEquations) was not produced" in summary["errors"]


def test_plan_3_3_ctx_write_to_an_undeclared_alias_is_refused(in_tmp: Path):
    code, summary = _single(in_tmp, "WritesUndeclaredAlias")
    assert (code, summary["status"]) == (3, "ERROR")  # a bug in the stage
    log = (
        in_tmp / "runs" / "x" / "01_writes_undeclared.failed" / "logs" / "stderr.log"
    ).read_text()
    assert "ctx.write('elsewhere', ...): 'elsewhere' is not a declared output of" in log
    assert not (in_tmp / "runs" / "x" / "elsewhere").exists()


def test_plan_3_3_register_refuses_a_type_without_schema_version():
    class Unversioned(JSONArtifact):
        SCHEMA_NAME = "Unversioned"

    with pytest.raises(TypeError, match="declares no SCHEMA_VERSION"):
        register(Unversioned)
    with pytest.raises(UnknownSchemaError):
        get_type("Unversioned")


def test_plan_2_1_summary_lists_files_relative_to_their_alias(in_tmp: Path):
    config = write_config(in_tmp / "c.json", chain(2))
    assert run_pipeline(Path("runs"), "x", config, echo=lambda line: None) == 0
    root = in_tmp / "runs" / "x"
    artifacts = load_json(root / "02_chain_step" / "stage_summary.json")["artifacts"]
    assert artifacts["chain_02"] == "02_chain_step/chain_02"  # the folder, kept
    files = {k: v for k, v in artifacts.items() if k != "chain_02"}
    assert files == {f"sys_d3_000{i}.json": f"chain_02/sys_d3_000{i}.json" for i in range(3)}
    assert all((root / path).is_file() for path in files.values())  # through the alias


def test_plan_1_3_a_deleted_or_retargeted_alias_is_detected_and_repaired(in_tmp: Path):
    config = write_config(in_tmp / "c.json", chain(3))
    assert run_pipeline(Path("runs"), "x", config, echo=lambda line: None) == 0
    root = in_tmp / "runs" / "x"
    before = file_stats(root / "02_chain_step")
    (root / "chain_02").unlink()  # deleted
    (root / "chain_01").unlink()
    (root / "chain_01").symlink_to("02_chain_step/chain_02")  # retargeted
    states = {s.stage: s for s in stage_states(Path("runs"), "x")}
    assert "alias chain_02/ deleted or retargeted" in states["02_chain_step"].reason
    assert "alias chain_01/ deleted or retargeted" in states["01_chain_source"].reason
    layout = RunLayout.create(in_tmp / "runs", "x")
    gate = check_inputs(layout, manifest_of(in_tmp), [("chain_02", "BulkEquations", True)])
    assert len(gate) == 1 and "the alias is deleted or retargeted: holopipe run -e x" in gate[0]
    lines: list[str] = []
    assert run_pipeline(Path("runs"), "x", echo=lines.append) == 0
    assert "01_chain_source: alias chain_01/ repaired from run_manifest.json" in lines
    assert "02_chain_step: alias chain_02/ repaired from run_manifest.json" in lines
    assert "running" not in "\n".join(lines)  # repaired, nothing rerun
    assert os.readlink(root / "chain_01") == "01_chain_source/chain_01"
    assert (root / "chain_02").resolve() == (root / "02_chain_step" / "chain_02").resolve()
    assert file_stats(root / "02_chain_step") == before
    assert all(s.up_to_date for s in stage_states(Path("runs"), "x"))


def manifest_of(in_tmp: Path):
    from holopipe.run.manifest import ManifestStore

    return ManifestStore(RunLayout.create(in_tmp / "runs", "x")).load()
