"""The gate counts artifacts, then lists findings (issue 7 item 13): one file with several
findings is one artifact missing or invalid."""

from __future__ import annotations

from pathlib import Path

from holopipe.run.gates import check_resolved, gate_verdict
from holopipe.run.layout import RunLayout
from holopipe.run.resolution import ResolvedInput


def test_three_findings_in_two_files_are_two_artifacts(tmp_path: Path):
    bad = tmp_path / "given"
    bad.mkdir()
    for name in ("a.json", "b.json"):
        (bad / name).write_text('{"schema_name": "BulkEquations", "schema_version": "0.1"}')
    item = ResolvedInput("bulk_equations", "BulkEquations", (bad / "a.json", bad / "b.json"), "cli")
    problems = check_resolved(RunLayout.create(tmp_path / "runs", "x"), [item])
    assert len(problems) > 2  # several findings per file
    assert all(line.startswith("invalid_artifact: ") for line in problems)
    assert gate_verdict(problems) == f"2 artifacts missing or invalid ({len(problems)} findings)"


def test_missing_and_invalid_are_counted_once_each():
    lines = [
        "missing_artifact: chain_01/ (no stage of this run produced BulkEquations)",
        "invalid_artifact: 02_x/chain_02/a.json: sha256 differs from run_manifest.json (...)",
        "missing_artifact: 02_x/chain_02/b.json",
    ]
    assert gate_verdict(lines) == "3 artifacts missing or invalid (3 findings)"
    assert gate_verdict(lines[:1]) == "1 artifact missing or invalid (1 finding)"
