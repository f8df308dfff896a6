"""Stage-to-stage contracts: each consumer reads exactly the artifact types and schema
versions it declares; anything else stops at the input gate with exit 2 and one line naming
the file, the schema expected and the schema found. Each contract's example runs here too.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from holopipe.artifacts.atlas import HolographicAtlas
from holopipe.artifacts.dictionary import Dictionary
from holopipe.artifacts.eigenmodes import EigenmodesDataset
from holopipe.artifacts.prediction import GeometryPrediction
from holopipe.stages.registry import available_stages

ROOT = Path(__file__).resolve().parents[2]


def holopipe(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "holopipe", *args], cwd=cwd, capture_output=True, text=True
    )


def gate_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("invalid_artifact:")]


def test_every_consumer_of_07_to_09_declares_the_versions_it_accepts():
    stages = available_stages()
    for sid in ("07", "08", "09"):
        for spec in stages[sid].INPUTS:
            assert spec.versions, (sid, spec.alias)


# -- 06 -> 07 ------------------------------------------------------------------------------


def eigenmodes(folder: Path) -> Path:
    return EigenmodesDataset.example().write(folder / "bulk_modes_dataset.csv")


def newer_eigenmodes(folder: Path) -> Path:
    path = eigenmodes(folder)
    meta = EigenmodesDataset.meta_path(path)
    current = f'"schema_version": "{EigenmodesDataset.SCHEMA_VERSION}"'
    meta.write_text(meta.read_text().replace(current, '"schema_version": "0.9"'))
    return path


def eigenmodes_missing_field(folder: Path) -> Path:
    path = eigenmodes(folder)
    meta = EigenmodesDataset.meta_path(path)
    doc = json.loads(meta.read_text())
    del doc["git_sha"]
    meta.write_text(json.dumps(doc))
    return path


def dictionary_as_eigenmodes(folder: Path) -> Path:
    return Dictionary.example().write(folder / "dictionary.json")


CASES_06_07 = [
    (newer_eigenmodes, "found EigenmodesDataset 0.9: newer_schema_version"),
    (
        eigenmodes_missing_field,
        f"found EigenmodesDataset {EigenmodesDataset.SCHEMA_VERSION}: missing_key [meta.git_sha]",
    ),
    (dictionary_as_eigenmodes, "found Dictionary 0.2: wrong artifact type"),
]


@pytest.mark.parametrize(("make", "found"), CASES_06_07, ids=lambda v: getattr(v, "__name__", ""))
def test_contract_06_07_mismatch_stops_at_the_gate(tmp_path, make, found):
    path = make(tmp_path / "in")
    done = holopipe("stage", "07", "-e", "x", "--input", f"bulk_eigenmodes={path}", cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    lines = gate_lines(done.stderr)
    assert lines, done.stderr
    expected = "input 'bulk_eigenmodes' expects EigenmodesDataset (versions 0.1, 0.2, 0.3)"
    assert all(str(path) in line and expected in line for line in lines)
    assert any(found in line for line in lines), lines


def test_contract_06_07_example_runs(tmp_path):
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "contract_06_07.py"), str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "m2 = 1.000000 Delta^2 + -3.000000 Delta" in done.stdout
    assert len(gate_lines(done.stderr)) >= 3


# -- 07 -> 08 and 08 -> 09 (JSON artifacts: the same three mismatches) ----------------------


def json_edit(path: Path, edit) -> Path:
    doc = json.loads(path.read_text())
    edit(doc)
    path.write_text(json.dumps(doc))
    return path


def mismatches(cls, other, required_key):
    name = cls.SCHEMA_NAME
    return [
        (
            lambda folder: json_edit(
                cls.example().write(folder / "x.json"), lambda d: d.update(schema_version="0.9")
            ),
            f"found {name} 0.9: newer_schema_version",
        ),
        (
            lambda folder: json_edit(
                cls.example().write(folder / "x.json"), lambda d: d.pop(required_key)
            ),
            f"found {name} {cls.SCHEMA_VERSION}: missing_key [{required_key}]",
        ),
        (
            lambda folder: other.example().write(folder / "x.json"),
            f"found {other.SCHEMA_NAME} {other.SCHEMA_VERSION}: wrong artifact type",
        ),
    ]


@pytest.mark.parametrize(
    ("make", "found"),
    mismatches(Dictionary, HolographicAtlas, "fits"),
    ids=["newer", "missing", "type"],
)
def test_contract_07_08_mismatch_stops_at_the_gate(tmp_path, make, found):
    predictions = tmp_path / "predictions"
    GeometryPrediction.example().write(predictions / "ads_d3_example_geometry.npz")
    path = make(tmp_path)
    done = holopipe(
        "stage",
        "08",
        "-e",
        "x",
        "--input",
        f"predictions={predictions}",
        "--input",
        f"dictionary={path}",
        cwd=tmp_path,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    [line] = gate_lines(done.stderr)
    assert str(path) in line and "expects Dictionary (versions 0.1, 0.2)" in line
    assert found in line


@pytest.mark.parametrize(
    ("make", "found"),
    mismatches(HolographicAtlas, Dictionary, "systems"),
    ids=["newer", "missing", "type"],
)
def test_contract_08_09_mismatch_stops_at_the_gate(tmp_path, make, found):
    path = make(tmp_path)
    done = holopipe("stage", "09", "-e", "x", "--input", f"atlas={path}", cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    [line] = gate_lines(done.stderr)
    assert str(path) in line and "expects HolographicAtlas (versions 0.1)" in line
    assert found in line


def test_an_older_dictionary_is_accepted_through_its_migration(tmp_path):
    predictions = tmp_path / "predictions"
    GeometryPrediction.example().write(predictions / "ads_d3_example_geometry.npz")
    old = json_edit(
        Dictionary.example().write(tmp_path / "old" / "dictionary.json"),
        lambda d: d.update(schema_version="0.1"),
    )
    done = holopipe(
        "stage",
        "08",
        "-e",
        "x",
        "--input",
        f"predictions={predictions}",
        "--input",
        f"dictionary={old}",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("name", ["contract_07_08", "contract_08_09"])
def test_contract_examples_run(tmp_path, name):
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / f"{name}.py"), str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(gate_lines(done.stderr)) == 3


def test_an_unrecognisable_file_shows_its_findings(tmp_path):
    garbage = tmp_path / "atlas.json"
    garbage.write_text('{"systems": [')
    done = holopipe("stage", "09", "-e", "x", "--input", f"atlas={garbage}", cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    [line] = gate_lines(done.stderr)
    assert "expects HolographicAtlas (versions 0.1), found no recognisable artifact" in line
    assert "malformed_json" in line
