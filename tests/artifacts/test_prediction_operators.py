"""GeometryPrediction meta ``operators``: the measured dimensions read by stages 08 and 09."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import FAST, codes

from holopipe.artifacts.io import npz_bytes
from holopipe.artifacts.prediction import GeometryPrediction, MeasuredDimension

names = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,8}", fullmatch=True)
measured = st.builds(
    MeasuredDimension,
    name=names,
    Delta=st.floats(0.01, 20),
    Delta_err=st.floats(0, 1),
    method=st.text(min_size=1, max_size=20),
)


def _with(operators):
    g = GeometryPrediction.example()
    g.meta.operators = operators
    return g


@FAST
@given(ops=st.lists(measured, max_size=4, unique_by=lambda op: op.name))
def test_operators_round_trip_byte_deterministically(ops, tmp_path_factory):
    folder = tmp_path_factory.mktemp("ops")
    first = _with(ops).write(folder / "a_geometry.npz")
    back = GeometryPrediction.read(first)
    assert back.meta.operators == ops
    assert back.write(folder / "b_geometry.npz").read_bytes() == first.read_bytes()


def test_a_file_without_operators_reads_as_none(tmp_path):
    # A 0.1 file written before the field existed: same schema version, no key.
    g = GeometryPrediction.example()
    path = g.write(tmp_path / "old_geometry.npz")
    with np.load(path, allow_pickle=False) as archive:
        members = {k: archive[k] for k in archive.files}
    meta = json.loads(str(members["meta_json"]))
    assert "operators" in meta and meta["operators"] is None
    del meta["operators"]
    members["meta_json"] = np.array(json.dumps(meta))
    path.write_bytes(npz_bytes(members))
    report = GeometryPrediction.validate_file(path)
    assert report.exit_code == 0, report.findings
    assert GeometryPrediction.read(path).meta.operators is None


@pytest.mark.parametrize(
    ("operator", "code", "where"),
    [
        (MeasuredDimension("bad name", 1.0, 0.1, "fit"), "bad_value", ".name"),
        (MeasuredDimension("O", float("nan"), 0.1, "fit"), "nonfinite", ".Delta"),
        (MeasuredDimension("O", 1.0, -0.1, "fit"), "bad_value", ".Delta_err"),
        (MeasuredDimension("O", 1.0, float("inf"), "fit"), "bad_value", ".Delta_err"),
        (MeasuredDimension("O", 1.0, 0.1, ""), "bad_value", ".method"),
    ],
)
def test_bad_operator_entries_are_findings(operator, code, where):
    report = _with([operator]).validate()
    assert (code, f"meta_json.operators[0]{where}") in codes(report)


def test_duplicate_operator_names_are_a_finding():
    op = MeasuredDimension("sigma", 0.518, 1e-3, "fit")
    report = _with([op, op]).validate()
    assert ("duplicate_operator", "meta_json.operators[1].name") in codes(report)


def test_a_wrongly_typed_operator_field_is_a_finding(tmp_path):
    path = _with([MeasuredDimension("sigma", 0.518, 1e-3, "fit")]).write(tmp_path / "x.npz")
    with np.load(path, allow_pickle=False) as archive:
        members = {k: archive[k] for k in archive.files}
    meta = json.loads(str(members["meta_json"]))
    meta["operators"][0]["Delta"] = "0.518"
    members["meta_json"] = np.array(json.dumps(meta))
    path.write_bytes(npz_bytes(members))
    report = GeometryPrediction.validate_file(path)
    assert report.exit_code == 2
    assert ("wrong_type", "meta_json.operators") in codes(report)
