"""The stages' input gate writes its ``invalid_artifact`` lines with the gate's one formatter
(holopipe.run.gates.invalid_artifact): the same head, the same finding text, counted by the
same verdict, so the wording of the two cannot drift apart."""

from __future__ import annotations

import zipfile

import numpy as np

from holopipe.artifacts.eigenmodes import EigenmodesDataset
from holopipe.artifacts.prediction import GeometryPrediction
from holopipe.artifacts.report import Finding
from holopipe.run import gates
from holopipe.run.resolution import ResolvedInput
from holopipe.stages import input_gate
from holopipe.stages.base import InputSpec

SPEC = InputSpec("predictions", "GeometryPrediction")


def broken_prediction(tmp_path):
    """A GeometryPrediction NPZ without its ``f`` member and with an integer ``A``."""
    good = GeometryPrediction.example().write(tmp_path / "good_geometry.npz")
    path = tmp_path / "bad_geometry.npz"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(path, "w") as dst:
        for name in src.namelist():
            if name == "A.npy":
                with dst.open("A.npy", "w") as member:
                    np.lib.format.write_array(member, np.arange(64))
            elif name != "f.npy":
                dst.writestr(name, src.read(name))
    return path


def test_the_input_gate_lines_are_the_gate_s_own(tmp_path):
    path = broken_prediction(tmp_path)
    obj, lines = input_gate.read_input(SPEC, path)
    findings = GeometryPrediction.validate_file(path).errors
    assert obj is None and len(findings) == 2 and len(lines) == 2
    expects = (
        "input 'predictions' expects GeometryPrediction (version 0.1 or older with a "
        "migration), found GeometryPrediction 0.1"
    )
    assert lines == [gates.invalid_artifact(path, f, expects) for f in findings]
    # The finding reads the same in both gates: the orchestrator's line ends the input
    # gate's one.
    for line, finding in zip(lines, findings, strict=True):
        head, tail = gates.invalid_artifact(path, finding).split(f"{path}: ", 1)
        assert line.startswith(head + f"{path}: {expects}: ") and line.endswith(tail)
    assert gates.gate_verdict(lines) == "1 artifact missing or invalid (2 findings)"


def test_the_orchestrator_gate_and_the_input_gate_report_the_same_findings(tmp_path):
    path = broken_prediction(tmp_path)
    resolved = ResolvedInput("predictions", "GeometryPrediction", (path,), "cli")
    orchestrator = gates.check_resolved(None, [resolved])
    _, stage = input_gate.read_input(SPEC, path)
    assert [line.rsplit(": ", 2)[-2:] for line in orchestrator] == [
        line.rsplit(": ", 2)[-2:] for line in stage
    ]


def test_a_wrong_type_and_a_refused_version_are_one_line_each(tmp_path):
    path = GeometryPrediction.example().write(tmp_path / "g_geometry.npz")
    _, wrong = input_gate.read_input(InputSpec("modes", "EigenmodesDataset"), path)
    assert wrong == [
        gates.invalid_artifact(
            path,
            "wrong artifact type",
            f"input 'modes' expects EigenmodesDataset (version {EigenmodesDataset.SCHEMA_VERSION} "
            "or older with a migration), "
            "found GeometryPrediction 0.1",
        )
    ]
    old = InputSpec("predictions", "GeometryPrediction", versions=("0.0",))
    _, refused = input_gate.read_input(old, path)
    assert refused == [
        gates.invalid_artifact(
            path,
            "version not accepted by this stage",
            "input 'predictions' expects GeometryPrediction (versions 0.0), "
            "found GeometryPrediction 0.1",
        )
    ]


def test_the_formatter_words_a_finding_and_a_problem():
    finding = Finding("missing_key", "f", "required member is missing")
    assert gates.invalid_artifact("p.npz", finding) == (
        "invalid_artifact: p.npz: missing_key [f]: required member is missing"
    )
    assert gates.invalid_artifact("p.npz", "unreadable", "input 'x' expects T, found U") == (
        "invalid_artifact: p.npz: input 'x' expects T, found U: unreadable"
    )
