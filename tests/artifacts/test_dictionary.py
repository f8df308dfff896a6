"""Dictionary (JSON + optional NPZ sidecar): round trips, one bad file per finding class."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from strategies import FAST, codes, stray_files

from holopipe.artifacts.dictionary import (
    CrossValidation,
    Dictionary,
    DictionaryEntry,
    DimensionFit,
    ModelComparison,
    Quadratic,
)
from holopipe.artifacts.io import npz_bytes
from holopipe.artifacts.report import ArtifactError

# -- strategies ----------------------------------------------------------------------------
finite = st.floats(allow_nan=False, allow_infinity=False)
nonneg = st.floats(0, 1e6)
text = st.text(max_size=12)
array_names = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABC0123456789_.-", min_size=1, max_size=10
)
quadratics = st.builds(Quadratic, finite, finite, finite)


@st.composite
def fits(draw, d):
    return DimensionFit(
        d=d,
        n_points=draw(st.integers(3, 10**6)),
        coefficients=draw(quadratics),
        uncertainties=draw(st.builds(Quadratic, nonneg, nonneg, nonneg)),
        comparison=draw(st.builds(ModelComparison, finite, finite, finite, finite, finite)),
        cross_validation=draw(st.builds(CrossValidation, st.integers(2, 100), nonneg, nonneg)),
    )


@st.composite
def entries(draw, d):
    # Physically consistent by construction: m2 from nu, Delta on the branch's side of d/2.
    nu = draw(st.floats(0, 50))
    branch = draw(st.sampled_from("+-")) if nu < 1 else "+"
    return DictionaryEntry(
        system_id=f"ads_d{d}-{draw(st.text('0123456789abcdef', min_size=12, max_size=12))}",
        operator=draw(text),
        d=d,
        Delta=d / 2 + nu if branch == "+" else d / 2 - nu,
        m2=nu * nu - d * d / 4,
        branch=branch,
        nu=nu,
    )


@st.composite
def dictionaries(draw):
    ds = draw(st.lists(st.integers(1, 10), min_size=1, max_size=4, unique=True))
    arrays = draw(
        st.dictionaries(
            array_names,
            hnp.arrays(
                np.float64, hnp.array_shapes(min_dims=0, max_dims=2, max_side=5), elements=finite
            ),
            max_size=3,
        )
    )
    return Dictionary(
        source_stage=draw(text),
        git_sha=draw(text),
        branch_policy=draw(text),
        fits=[draw(fits(d)) for d in ds],
        entries=draw(st.lists(st.sampled_from(ds).flatmap(entries), max_size=6)),
        arrays=arrays,
    )


# -- round trips ---------------------------------------------------------------------------
@FAST
@given(dic=dictionaries())
def test_round_trip_equal_and_byte_deterministic(dic, tmp_path_factory):
    folder = tmp_path_factory.mktemp("rt")
    first = dic.write(folder / "a.json")
    again = dic.write(folder / "b.json")
    assert len(Dictionary.files(first)) == (2 if dic.arrays else 1)
    for one, other in zip(Dictionary.files(first), Dictionary.files(again), strict=True):
        assert one.read_bytes() == other.read_bytes().replace(b"b.arrays.npz", b"a.arrays.npz")
    back = Dictionary.read(first)
    assert back == dic
    assert back.write(folder / "a.json").read_bytes() == first.read_bytes()
    assert Dictionary.validate_file(first).exit_code == (0 if dic.entries else 1)
    assert stray_files(folder) == []


def test_example_is_valid_with_sidecar(tmp_path):
    dic = Dictionary.example()
    assert dic.validate().findings == []
    path = dic.write(tmp_path / "dictionary.json")
    doc = json.loads(path.read_text())
    assert doc["schema_name"] == "Dictionary" and doc["arrays_file"] == "dictionary.arrays.npz"
    assert "arrays" not in doc
    assert doc["fits"][0]["coefficients"] == {"delta2": 1.0, "delta": -3.0, "const": 0.0}
    with np.load(tmp_path / "dictionary.arrays.npz", allow_pickle=False) as archive:
        assert sorted(archive.files) == ["Delta_d3", "m2_d3"]


def test_no_arrays_means_no_sidecar(tmp_path):
    dic = Dictionary.example()
    dic.arrays = {}
    path = dic.write(tmp_path / "dictionary.json")
    assert json.loads(path.read_text())["arrays_file"] is None
    assert Dictionary.files(path) == [path]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dictionary.json"]


def test_json_schema_describes_the_document():
    schema = Dictionary.json_schema()
    assert "arrays" not in schema["properties"] and "arrays_file" in schema["properties"]
    assert {"fits", "entries", "branch_policy"} <= set(schema["required"])


def test_invalid_write_raises_and_leaves_old_files(tmp_path):
    path = Dictionary.example().write(tmp_path / "dictionary.json")
    before = [p.read_bytes() for p in Dictionary.files(path)]
    bad = Dictionary.example()
    bad.entries[0].m2 = -3.0
    with pytest.raises(ArtifactError, match="bf_bound"):
        bad.write(path)
    assert [p.read_bytes() for p in Dictionary.files(path)] == before
    assert stray_files(tmp_path) == []


def test_import_is_light():
    code = (
        "import sys, holopipe.artifacts.dictionary; "
        "print([m for m in ('netCDF4', 'xarray', 'scipy') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == "[]"


# -- one bad file per finding class --------------------------------------------------------
@pytest.fixture
def good(tmp_path) -> Path:
    return Dictionary.example().write(tmp_path / "dictionary.json")


def _edit(path: Path, edit) -> Path:
    doc = json.loads(path.read_text())
    edit(doc)
    path.write_text(json.dumps(doc))
    return path


def _findings(path: Path) -> list[tuple[str, str]]:
    report = Dictionary.validate_file(path)
    assert report.exit_code == 2, report.lines()
    with pytest.raises(ArtifactError):
        Dictionary.read(path)
    return codes(report)


def test_empty_dictionary(good):
    assert _findings(_edit(good, lambda doc: doc.update(fits=[]))) == [("empty", "fits")]


def test_no_entries_is_a_warning(good):
    report = Dictionary.validate_file(_edit(good, lambda doc: doc.update(entries=[])))
    assert codes(report) == [("no_entries", "entries")] and report.exit_code == 1


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda doc: doc["entries"][0].update(m2=-2.3, nu=0.0), ("bf_bound", "entries[0].m2")),
        (
            lambda doc: doc["entries"][2].update(branch="-", Delta=0.0),
            ("bad_branch", "entries[2].branch"),
        ),
        (lambda doc: doc["entries"][0].update(nu=0.7), ("nu_mismatch", "entries[0].nu")),
        (lambda doc: doc["entries"][0].update(nu=-0.5), ("bad_value", "entries[0].nu")),
        (lambda doc: doc["entries"][0].update(Delta=1.0), ("branch_mismatch", "entries[0].branch")),
        (lambda doc: doc["entries"][0].update(d=4), ("d_name_mismatch", "entries[0].d")),
        (lambda doc: doc["entries"][0].update(branch="±"), ("bad_value", "entries[0].branch")),
        (lambda doc: doc["fits"].append(doc["fits"][0]), ("duplicate", "fits[1].d")),
        (lambda doc: doc["fits"][0].update(n_points=2), ("too_short", "fits[0].n_points")),
        (
            lambda doc: doc["fits"][0]["uncertainties"].update(delta=-1e-3),
            ("bad_value", "fits[0].uncertainties.delta"),
        ),
        (
            lambda doc: doc["fits"][0]["cross_validation"].update(folds=1),
            ("bad_value", "fits[0].cross_validation.folds"),
        ),
        (lambda doc: doc["fits"][0].update(d=0), ("bad_d", "fits[0].d")),
        (lambda doc: doc.update(arrays_file="../elsewhere.npz"), ("bad_value", "arrays_file")),
    ],
    ids=[
        "bf_bound",
        "minus_branch_nu_ge_1",
        "nu_mismatch",
        "negative_nu",
        "branch_side",
        "d_name",
        "branch_value",
        "duplicate_fit",
        "too_few_points",
        "negative_uncertainty",
        "one_fold",
        "d_zero",
        "arrays_file_outside",
    ],
)
def test_content_finding(good, edit, expected):
    assert expected in _findings(_edit(good, edit))


def test_entry_at_the_bf_bound_is_allowed(good):
    _edit(good, lambda doc: doc["entries"][0].update(m2=-2.25, nu=0.0, Delta=1.5, branch="+"))
    assert Dictionary.validate_file(good).findings == []


def test_entry_without_fit_for_its_d_is_a_warning(good):
    entry = {
        "system_id": "ads_d4-0",
        "operator": "O",
        "d": 4,
        "Delta": 4.0,
        "m2": 0.0,
        "branch": "+",
        "nu": 2.0,
    }
    report = Dictionary.validate_file(_edit(good, lambda doc: doc["entries"].append(entry)))
    assert codes(report) == [("no_fit_for_d", "entries")]


@pytest.mark.parametrize("key", ["fits", "entries", "branch_policy", "git_sha"])
def test_missing_key(good, key):
    assert _findings(_edit(good, lambda doc: doc.pop(key))) == [("missing_key", key)]


def test_missing_nested_key(good):
    assert _findings(_edit(good, lambda doc: doc["fits"][0]["coefficients"].pop("const"))) == [
        ("missing_key", "fits[0].coefficients.const")
    ]


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda doc: doc["fits"][0].update(d="3"), ("wrong_type", "fits[0].d")),
        (lambda doc: doc["fits"][0].update(d=3.0), ("wrong_type", "fits[0].d")),
        (lambda doc: doc["entries"][1].update(m2=None), ("wrong_type", "entries[1].m2")),
        (
            lambda doc: doc["fits"][0]["comparison"].update(aic_free="low"),
            ("wrong_type", "fits[0].comparison.aic_free"),
        ),
        (lambda doc: doc.update(fits={}), ("wrong_type", "fits")),
    ],
)
def test_wrong_type(good, edit, expected):
    assert _findings(_edit(good, edit)) == [expected]


def test_nonfinite_in_memory():
    dic = Dictionary.example()
    dic.fits[0].coefficients.delta2 = float("inf")
    dic.entries[1].Delta = float("nan")
    found = codes(dic.validate())
    assert ("nonfinite", "fits[0].coefficients.delta2") in found and (
        "nonfinite",
        "entries[1].Delta",
    ) in found


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_bare_nan_token(good, token):
    good.write_text(good.read_text().replace('"nu": 0.5', f'"nu": {token}', 1))
    report = Dictionary.validate_file(good)
    assert codes(report) == [("malformed_json", "<file>")]
    assert f"bare {token} token" in report.findings[0].message


@pytest.mark.parametrize("keep", [0.0, 0.5, 0.99])
def test_truncated_json(good, keep):
    text = good.read_text()
    good.write_text(text[: int(len(text) * keep)])
    assert _findings(good) == [("malformed_json", "<file>")]


def test_unknown_newer_schema_version(good):
    report = Dictionary.validate_file(_edit(good, lambda doc: doc.update(schema_version="1.0")))
    assert codes(report) == [("newer_schema_version", "schema_version")]
    assert "upgrade holopipe" in report.findings[0].message


def test_unknown_older_schema_version(good):
    assert _findings(_edit(good, lambda doc: doc.update(schema_version="0.0"))) == [
        ("unknown_schema_version", "schema_version")
    ]


def test_wrong_schema(good):
    assert _findings(_edit(good, lambda doc: doc.update(schema_name="EigenmodesDataset"))) == [
        ("wrong_schema", "schema_name")
    ]


# -- the sidecar ---------------------------------------------------------------------------
def _sidecar(path: Path) -> Path:
    return Dictionary.arrays_path(path)


def test_missing_sidecar(good):
    _sidecar(good).unlink()
    assert _findings(good) == [("missing_file", "arrays_file")]


@pytest.mark.parametrize("keep", [0.5, 0.9, 10])
def test_truncated_sidecar(good, keep):
    data = _sidecar(good).read_bytes()
    _sidecar(good).write_bytes(data[: int(len(data) * keep) if keep < 1 else keep])
    assert _findings(good) == [("unreadable", "<file>")]


def test_nan_in_sidecar(good):
    _sidecar(good).write_bytes(
        npz_bytes({"Delta_d3": np.array([1.0, np.nan]), "m2_d3": np.zeros(2)})
    )
    assert _findings(good) == [("nonfinite", "arrays.Delta_d3")]


def test_wrong_dtype_in_sidecar(good):
    _sidecar(good).write_bytes(npz_bytes({"Delta_d3": np.array(["a", "b"]), "m2_d3": np.zeros(2)}))
    assert _findings(good) == [("wrong_dtype", "arrays.Delta_d3")]


def test_object_array_in_sidecar_is_never_unpickled(good):
    np.savez(_sidecar(good), Delta_d3=np.array([{"a": 1}], dtype=object), allow_pickle=True)
    assert ("object_array", "Delta_d3") in _findings(good)
