"""Gates: missing or corrupted artifacts stop the next stage with ``missing_artifact:`` /
``invalid_artifact:`` (exit 2); a stage never reads an input that failed validation; the
"no writes outside the run" and "no undeclared files" rules are reported: they fail the
stage under ``strict`` (the default), they are warnings with ``"strict": false``."""

from __future__ import annotations

from pathlib import Path

import pytest
from holo_run_helpers import chain, cli, file_stats, load_json, manifest, summary, write_config

from holopipe.pipeline import RunRequest, run_pipeline, run_stage

VICTIM = "02_chain_step/chain_02/sys_d3_0001.json"


@pytest.fixture
def chain_run(in_tmp: Path) -> Path:
    config = write_config(in_tmp / "c.json", chain(3))
    assert run_pipeline(RunRequest(Path("runs"), "x", config), echo=lambda line: None) == 0
    return in_tmp / "runs" / "x"


def _error_lines(text: str, prefix: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(prefix)]


def test_deleted_output_fails_the_gate_with_missing_artifact(chain_run: Path, in_tmp: Path):
    (chain_run / VICTIM).unlink()
    done = cli("assert-artifacts", "--experiment", "x", "--for-stage", "03", cwd=in_tmp)
    assert done.returncode == 2
    assert _error_lines(done.stderr, "missing_artifact:") == [f"missing_artifact: {VICTIM}"]
    # stage 02 itself still has what it needs
    assert (
        cli("assert-artifacts", "--experiment", "x", "--for-stage", "02", cwd=in_tmp).returncode
        == 0
    )

    before = file_stats(chain_run / "03_chain_step")
    done = cli("run", "--experiment", "x", "--from", "03", cwd=in_tmp)
    assert done.returncode == 2
    assert f"missing_artifact: {VICTIM}" in _error_lines(done.stderr, "missing_artifact:")
    assert "03_chain_step: INCOMPLETE (gate" in done.stdout
    assert file_stats(chain_run / "03_chain_step") == before  # 03 did not run
    outcome = load_json(chain_run / "pipeline_summary.json")
    assert outcome["exit_code"] == 2
    assert [(s["stage"], s["action"]) for s in outcome["stages"]] == [
        ("03_chain_step", "gate_failed")
    ]


def test_a_full_run_rebuilds_the_deleted_output(chain_run: Path, in_tmp: Path):
    (chain_run / VICTIM).unlink()
    done = cli("run", "--experiment", "x", cwd=in_tmp)
    assert done.returncode == 0, done.stderr
    assert "01_chain_source: up to date" in done.stdout
    assert f"02_chain_step: running (output {VICTIM} missing or modified)" in done.stdout
    assert (chain_run / VICTIM).is_file()


def test_corrupted_output_fails_the_gate_with_invalid_artifact(chain_run: Path, in_tmp: Path):
    (chain_run / VICTIM).write_text('{"schema_name": "BulkEquations", "schema_version": "0.1"}')
    done = cli("assert-artifacts", "--experiment", "x", "--for-stage", "03", cwd=in_tmp)
    assert done.returncode == 2
    [line] = _error_lines(done.stderr, "invalid_artifact:")
    assert line.startswith(f"invalid_artifact: {VICTIM}: sha256 differs")
    done = cli("run", "--experiment", "x", "--from", "03", cwd=in_tmp)
    assert done.returncode == 2
    assert any(line.startswith(f"invalid_artifact: {VICTIM}") for line in done.stderr.splitlines())


def test_a_stage_never_reads_an_input_that_fails_validation(
    chain_run: Path, in_tmp: Path, capsys: pytest.CaptureFixture
):
    """Run by hand (no orchestrator gate), stage 03 still refuses a schema-invalid input,
    with exit 2 and before it touches anything (issue 7: no data loss)."""
    (chain_run / VICTIM).write_text(
        '{"schema_name": "BulkEquations", "schema_version": "0.1", "systems": []}'
    )
    before = file_stats(chain_run / "03_chain_step")
    record = manifest(chain_run)["stages"]["03_chain_step"]
    code = run_stage(RunRequest(Path("runs"), "x"), "03")
    assert code == 2
    err = capsys.readouterr().err
    assert any(
        line.startswith("invalid_artifact:") and "sys_d3_0001.json" in line
        for line in err.splitlines()
    )
    assert file_stats(chain_run / "03_chain_step") == before  # run() was not called
    assert manifest(chain_run)["stages"]["03_chain_step"] == record
    assert not (chain_run / "03_chain_step.failed").exists()
    assert not (chain_run / ".03_chain_step.partial").exists()
    # the modified 02 output is still refused for whoever comes next
    assert cli("assert-artifacts", "-e", "x", "--for-stage", "03", cwd=in_tmp).returncode == 2


def test_unknown_stage_for_the_gate_is_a_usage_error(chain_run: Path, in_tmp: Path):
    done = cli("assert-artifacts", "--experiment", "x", "--for-stage", "07", cwd=in_tmp)
    assert done.returncode == 2 and "no stage 07" in done.stderr


@pytest.mark.parametrize("strict", [False, True])
def test_writes_outside_the_run_are_reported(in_tmp: Path, strict: bool):
    config = write_config(
        in_tmp / "c.json",
        ["holo_run_test_stages:CwdWriter", "holopipe.testing:Chain02"],
        strict=strict,
    )
    code = run_pipeline(RunRequest(Path("runs"), "x", config), echo=lambda line: None)
    failed = in_tmp / "runs" / "x" / ("01_cwd_writer.failed" if strict else "01_cwd_writer")
    s = load_json(failed / "stage_summary.json")
    message = "file written outside the run: stray_outside.txt"
    if strict:
        assert code == 3 and s["status"] == "ERROR" and s["exit_code"] == 3
        assert message in s["errors"]
        assert not (in_tmp / "runs" / "x" / "02_chain_step").exists()  # pipeline stopped
    else:
        assert code == 1 and s["status"] == "WARNING" and s["exit_code"] == 1
        assert s["warnings"] == [message]
        assert summary(in_tmp / "runs" / "x", "02_chain_step")["status"] == "OK"  # went on
    # writes under the runs root, and the config written before the run, are not reported
    assert not any("c.json" in m or "runs/" in m for m in s["warnings"] + s["errors"])


@pytest.mark.parametrize("strict", [False, True])
def test_undeclared_files_in_the_stage_dir_are_reported(in_tmp: Path, strict: bool):
    config = write_config(in_tmp / "c.json", ["holo_run_test_stages:StrayFile"], strict=strict)
    code = run_pipeline(RunRequest(Path("runs"), "x", config), echo=lambda line: None)
    key = "01_stray_file.failed" if strict else "01_stray_file"
    s = summary(in_tmp / "runs" / "x", key)
    message = "undeclared file in the stage dir: scratch.tmp"
    if strict:
        assert (code, s["status"]) == (3, "ERROR") and message in s["errors"]
        assert not (in_tmp / "runs" / "x" / "run_manifest.json").exists()  # nothing published
        assert not (in_tmp / "runs" / "x" / "chain_01").exists()
    else:
        assert (code, s["status"]) == (1, "WARNING") and s["warnings"] == [message]


def test_clean_stages_report_nothing(chain_run: Path):
    for key in ("01_chain_source", "02_chain_step", "03_chain_step"):
        s = summary(chain_run, key)
        assert (s["warnings"], s["errors"]) == ([], [])
