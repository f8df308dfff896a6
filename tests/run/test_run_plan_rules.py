"""The plan's rules enforced by the runner (issue 13), one test per rule, named after the
plan's section it enforces."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from holo_run_helpers import chain, file_stats, load_json, write_config

from holopipe.artifacts.base import JSONArtifact
from holopipe.artifacts.registry import UnknownSchemaError, get_type, register
from holopipe.pipeline import RunRequest, run_pipeline, stage_states
from holopipe.run.gates import check_inputs
from holopipe.run.layout import RunLayout
from holopipe.run.publish import last_attempt_dir


def test_plan_4_1_a_skipped_stage_keeps_its_last_status_and_exit_code(in_tmp: Path):
    config = write_config(in_tmp / "c.json", chain(2), stages={"02": {"fail_system": 1}})
    code = run_pipeline(RunRequest(Path("runs"), "x", config), echo=lambda line: None)
    assert code == 1  # 02: WARNING
    lines: list[str] = []
    assert run_pipeline(RunRequest(Path("runs"), "x"), echo=lines.append) == 1
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
    code = run_pipeline(RunRequest(Path("runs"), "x", config), echo=lambda line: None)
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
    assert run_pipeline(RunRequest(Path("runs"), "x", config), echo=lambda line: None) == 0
    root = in_tmp / "runs" / "x"
    artifacts = load_json(root / "02_chain_step" / "stage_summary.json")["artifacts"]
    assert artifacts["chain_02"] == "02_chain_step/chain_02"  # the folder, kept
    files = {k: v for k, v in artifacts.items() if k != "chain_02"}
    assert files == {f"sys_d3_000{i}.json": f"chain_02/sys_d3_000{i}.json" for i in range(3)}
    assert all((root / path).is_file() for path in files.values())  # through the alias


def test_plan_1_3_a_deleted_or_retargeted_alias_is_detected_and_repaired(in_tmp: Path):
    config = write_config(in_tmp / "c.json", chain(3))
    assert run_pipeline(RunRequest(Path("runs"), "x", config), echo=lambda line: None) == 0
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
    assert run_pipeline(RunRequest(Path("runs"), "x"), echo=lines.append) == 0
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


# Sections 3.2, 7.1, 8.1 and 11: no writes outside the run, no unregistered output.
LEAKS = ["holo_run_test_stages:Leaks", "holopipe.testing:Chain02"]


def _leak_run(in_tmp: Path, runs: Path, **leak) -> tuple[int, dict, Path]:
    """Run ``Leaks`` (with ``leak`` as its params) then Chain02; the code, Leaks' summary
    and the run root."""
    config = write_config(in_tmp / "c.json", LEAKS, stages={"01": leak})
    code = run_pipeline(RunRequest(runs, "x", config), echo=lambda line: None)
    root = runs.absolute() / "x"
    folder = last_attempt_dir(RunLayout.create(runs, "x"), "01_leaks")
    return code, load_json(folder / "stage_summary.json"), root


def _ended_error_and_stopped(code: int, summary: dict, root: Path, leaked: str) -> None:
    assert (code, summary["status"], summary["exit_code"]) == (3, "ERROR", 3)
    assert f"file written outside the run: {leaked}" in summary["errors"]
    assert any('opt out with "strict": false' in e for e in summary["errors"])
    assert not (root / "02_chain_step").exists()  # the run stopped at the bug
    assert not (root / "chain_01").exists()  # nothing of the stage was published


@pytest.mark.parametrize("how", ["write", "copy", "symlink", "folder"])
def test_plan_3_2_a_write_to_outputs_ends_error_by_default(in_tmp: Path, how: str):
    old = in_tmp / "old.txt"
    old.write_text("an old file\n")
    os.utime(old, (1_000_000_000, 1_000_000_000))  # copy2 keeps this mtime: the ctime tells
    path = "outputs/leak" if how == "folder" else "outputs/leak.txt"
    code, summary, root = _leak_run(in_tmp, Path("runs"), path=path, how=how, source=str(old))
    _ended_error_and_stopped(code, summary, root, path + ("/" if how == "folder" else ""))
    assert load_json(root / "config.resolved.json")["strict"] is True  # the default, recorded


def test_plan_3_2_an_absolute_write_beside_the_runs_root_ends_error(in_tmp: Path):
    (in_tmp / "work").mkdir()
    os.chdir(in_tmp / "work")  # the cwd is not the runs root's parent: both are watched
    leaked = in_tmp / "elsewhere" / "leak.txt"
    runs = in_tmp / "elsewhere" / "runs"
    code, summary, root = _leak_run(in_tmp, runs, path=str(leaked))
    _ended_error_and_stopped(code, summary, root, str(leaked))


def test_plan_7_1_a_write_into_a_legacy_root_ends_error(in_tmp: Path, tmp_path_factory):
    legacy = tmp_path_factory.mktemp("fase11_legacy")  # outside the cwd
    (legacy / "outputs").mkdir()
    (legacy / "outputs" / "frozen.csv").write_text("a,b\n")
    config = write_config(
        in_tmp / "c.json",
        LEAKS,
        stages={"01": {"path": str(legacy / "outputs" / "new.csv")}},
        legacy={"roots": [str(legacy)]},
    )
    code = run_pipeline(RunRequest(Path("runs"), "x", config), echo=lambda line: None)
    summary = load_json(in_tmp / "runs" / "x" / "01_leaks.failed" / "stage_summary.json")
    _ended_error_and_stopped(code, summary, in_tmp / "runs" / "x", str(legacy / "outputs/new.csv"))
    assert not any("frozen.csv" in e for e in summary["errors"])  # read or not, it is unchanged


def test_plan_11_an_undeclared_file_in_the_stage_folder_ends_error_by_default(in_tmp: Path):
    config = write_config(
        in_tmp / "c.json", ["holo_run_test_stages:StrayFile", "holopipe.testing:Chain02"]
    )
    code = run_pipeline(RunRequest(Path("runs"), "x", config), echo=lambda line: None)
    root = in_tmp / "runs" / "x"
    summary = load_json(root / "01_stray_file.failed" / "stage_summary.json")
    assert (code, summary["status"], summary["exit_code"]) == (3, "ERROR", 3)
    assert "undeclared file in the stage dir: scratch.tmp" in summary["errors"]
    assert not (root / "01_stray_file").exists() and not (root / "02_chain_step").exists()


def test_plan_3_2_strict_false_is_the_explicit_recorded_opt_out(in_tmp: Path):
    config = write_config(in_tmp / "c.json", LEAKS, strict=False)
    code = run_pipeline(RunRequest(Path("runs"), "x", config), echo=lambda line: None)
    assert code == 1  # went on
    root = in_tmp / "runs" / "x"
    leaks, step = summary_of(root, "01_leaks"), summary_of(root, "02_chain_step")
    assert (leaks["status"], leaks["warnings"]) == (
        "WARNING",
        ["file written outside the run: outputs/leak.txt"],
    )
    assert step["status"] == "OK"
    assert load_json(root / "config.resolved.json")["strict"] is False
    for summary in (leaks, step):  # every stage of the run says it opted out
        assert any(n.startswith("strict: false (config)") for n in summary["notes"])


def test_plan_3_2_strict_is_part_of_the_fingerprint(in_tmp: Path):
    config = write_config(in_tmp / "c.json", chain(2), strict=False)
    assert run_pipeline(RunRequest(Path("runs"), "x", config), echo=lambda line: None) == 0
    lines: list[str] = []
    code = run_pipeline(
        RunRequest(Path("runs"), "x", overrides=["strict=true"], force=True), echo=lines.append
    )
    assert code == 0
    assert "01_chain_source: running (params changed)" in lines
    assert "02_chain_step: running (params changed)" in lines
    root = in_tmp / "runs" / "x"
    assert not any(
        n.startswith("strict: false") for n in summary_of(root, "02_chain_step")["notes"]
    )
    again: list[str] = []
    assert run_pipeline(RunRequest(Path("runs"), "x"), echo=again.append) == 0
    assert sum("up to date" in line for line in again) == 2


def test_caches_in_the_watched_places_are_not_outside_writes(in_tmp: Path):
    config = write_config(
        in_tmp / "c.json", ["holo_run_test_stages:WritesCaches"], caches=["my_cache"]
    )
    assert run_pipeline(RunRequest(Path("runs"), "x", config), echo=lambda line: None) == 0
    summary = summary_of(in_tmp / "runs" / "x", "01_writes_caches")
    assert (summary["status"], summary["warnings"], summary["errors"]) == ("OK", [], [])


def test_plan_3_2_a_watch_stopped_at_its_bound_says_so(in_tmp: Path, monkeypatch):
    from holopipe.run import discipline

    for i in range(12):
        (in_tmp / f"old_{i}.txt").write_text("here before the run\n")
    monkeypatch.setattr(discipline, "MAX_WATCHED_ENTRIES", 5)  # the forked stage inherits it
    config = write_config(in_tmp / "c.json", chain(1))
    assert run_pipeline(RunRequest(Path("runs"), "x", config), echo=lambda line: None) == 1
    summary = summary_of(in_tmp / "runs" / "x", "01_chain_source")
    assert summary["status"] == "WARNING"  # nothing found against the stage, but not all seen
    assert summary["warnings"] == [
        f"outside-writes gate incomplete: stopped after 5 entries in {in_tmp.resolve()} "
        "(list big folders in the config's caches)"
    ]


def summary_of(root: Path, key: str) -> dict:
    return load_json(root / key / "stage_summary.json")
