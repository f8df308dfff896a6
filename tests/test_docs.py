"""docs/ARTIFACT_API.md is generated from the code and must not go stale."""

import subprocess
import sys
from pathlib import Path

from holopipe.docgen import artifact_api_markdown

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "ARTIFACT_API.md"


def test_committed_artifact_api_doc_is_current():
    assert DOC.read_text(encoding="utf-8") == artifact_api_markdown(), (
        "docs/ARTIFACT_API.md is stale: run `holopipe docs --output docs/ARTIFACT_API.md`"
    )


def test_doc_lists_every_type_and_stage():
    text = DOC.read_text(encoding="utf-8")
    for name in (
        "GeometryPrediction",
        "SandboxGeometry",
        "BulkEquations",
        "GeometryContracts",
        "EigenmodesDataset",
        "Dictionary",
        "HolographicAtlas",
        "RealDataContracts",
        "StageSummary",
        "RunManifest",
    ):
        assert f"### {name} (schema version" in text
    for key in (
        "01_generate_sandbox_geometries",
        "02_emergent_geometry_engine",
        "06_build_bulk_eigenmodes_dataset",
        "07_emergent_lambda_sl_dictionary",
        "08_build_holographic_dictionary",
        "09_real_data_and_dictionary_contracts",
    ):
        assert f"`{key}`" in text


def test_check_flag_reports_staleness(tmp_path):
    stale = tmp_path / "ARTIFACT_API.md"
    stale.write_text("# old\n", encoding="utf-8")
    cmd = [sys.executable, "-m", "holopipe", "docs", "--output"]
    assert subprocess.run([*cmd, str(stale), "--check"], capture_output=True).returncode == 1
    assert subprocess.run([*cmd, str(DOC), "--check"], capture_output=True).returncode == 0
