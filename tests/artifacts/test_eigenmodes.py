"""EigenmodesDataset (CSV + meta JSON): round trips, one bad file per finding class."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import attrs
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import FAST, codes, stray_files

from holopipe.artifacts import eigenmodes
from holopipe.artifacts.checks import FAMILIES
from holopipe.artifacts.eigenmodes import COLUMNS, EigenmodeRow, EigenmodesDataset
from holopipe.artifacts.report import ArtifactError

# -- strategies ----------------------------------------------------------------------------
finite = st.floats(allow_nan=False, allow_infinity=False)
# Any printable text, commas and quotes included; control characters are a finding.
cell_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=10)


@st.composite
def rows(draw, nan_outputs=False):
    family = draw(st.sampled_from(FAMILIES))
    d = draw(st.integers(1, 9))
    quality = draw(st.sampled_from(["ok", "ok", "error", "unconverged"]))
    z_uv = draw(st.floats(1e-9, 1.0))
    # Only rows flagged as failed may carry a negative Delta (the surfaced solver bug).
    delta = draw(st.floats(0, 1e3) if quality == "ok" else finite)
    # A failed solve may have no output at all (NaN); NaN never compares equal, hence the flag.
    outputs = st.floats(allow_infinity=False) if nan_outputs and quality != "ok" else finite
    return EigenmodeRow(
        system_id=f"{family}_d{d}-{draw(st.text('0123456789abcdef', min_size=12, max_size=12))}",
        family=family,
        d=d,
        m2=draw(finite),
        Delta=delta,
        branch=draw(st.sampled_from("+-")),
        mode_id=draw(st.integers(0, 10**6)),
        M2=draw(outputs),
        quality=quality,
        bc_uv=draw(cell_text.filter(bool)),
        bc_ir=draw(cell_text),
        z_uv=z_uv,
        z_ir=z_uv * draw(st.floats(1.0001, 1e6)),
        n_grid=draw(st.integers(2, 10**7)),
        method=draw(cell_text),
    )


datasets = st.builds(
    EigenmodesDataset.from_rows,
    st.lists(rows(), max_size=12),
    source_stage=cell_text,
    git_sha=cell_text,
)


# -- round trips ---------------------------------------------------------------------------
@FAST
@given(ds=datasets)
def test_round_trip_equal_and_byte_deterministic(ds, tmp_path_factory):
    folder = tmp_path_factory.mktemp("rt")
    first = ds.write(folder / "a.csv")
    again = ds.write(folder / "b.csv")
    for one, other in zip(
        EigenmodesDataset.files(first), EigenmodesDataset.files(again), strict=True
    ):
        assert one.read_bytes() == other.read_bytes()
    back = EigenmodesDataset.read(first)
    assert back == ds
    assert back.write(folder / "c.csv").read_bytes() == first.read_bytes()
    flagged = any(r.quality != "ok" for r in ds.rows)
    assert EigenmodesDataset.validate_file(first).exit_code == (1 if flagged else 0)
    assert stray_files(folder) == []


@FAST
@given(
    rows=st.lists(
        rows(nan_outputs=True) | st.just(EigenmodesDataset.example().rows[0]), max_size=12
    ),
    seed=st.randoms(),
)
def test_row_order_is_canonical(rows, seed):
    shuffled = list(rows)
    seed.shuffle(shuffled)
    one = EigenmodesDataset.from_rows(rows, "s", "g")
    assert EigenmodesDataset.from_rows(shuffled, "s", "g").to_csv() == one.to_csv()


def test_example_is_valid_and_files(tmp_path):
    ds = EigenmodesDataset.example()
    assert ds.validate().findings == []
    path = ds.write(tmp_path / "modes.csv")
    assert [p.name for p in EigenmodesDataset.files(path)] == ["modes.csv", "modes.meta.json"]
    text = path.read_bytes()
    assert b"\r" not in text and text.endswith(b"\n")
    assert text.decode().splitlines()[0] == ",".join(COLUMNS)
    meta = json.loads(EigenmodesDataset.meta_path(path).read_text())
    assert meta["schema_name"] == "EigenmodesDataset" and meta["n_rows"] == 4
    assert meta["columns"] == list(COLUMNS) and "L=1" in meta["units"]


def test_floats_round_trip_exactly(tmp_path):
    ds = EigenmodesDataset.example()
    ds.rows[0].M2 = 0.1 + 0.2
    ds.rows[0].z_uv = 1 / 3
    ds.rows[1].M2 = 5e-324
    back = EigenmodesDataset.read(ds.write(tmp_path / "f.csv"))
    assert (back.rows[0].M2, back.rows[0].z_uv, back.rows[1].M2) == (0.1 + 0.2, 1 / 3, 5e-324)
    assert back == ds


def test_to_xarray_indexed_by_row():
    pytest.importorskip("xarray")
    ds = EigenmodesDataset.example()
    xds = ds.to_xarray()
    assert xds.sizes == {"row": 4}
    assert list(xds.data_vars) == list(COLUMNS)
    np.testing.assert_array_equal(xds["M2"].values, [r.M2 for r in ds.rows])
    assert xds["d"].dtype == np.int64 and xds.attrs["n_rows"] == 4


def test_flagged_rows_may_hold_negative_delta_and_nan(tmp_path):
    ds = EigenmodesDataset.example()
    ds.rows[0] = attrs.evolve(ds.rows[0], Delta=-0.5, M2=float("nan"), quality="error")
    report = EigenmodesDataset.validate_file(ds.write(tmp_path / "flagged.csv"))
    assert codes(report) == [("nonfinite", "rows[0].M2"), ("flagged_rows", "rows")]
    assert all(f.severity == "warning" for f in report.findings)


@pytest.mark.parametrize("quality", ["not_applicable", "unstable"])
def test_physics_outcome_rows_are_not_findings(tmp_path, quality):
    # Stage 06 writes NaN outputs for a system its solver does not apply to: valid, no noise.
    ds = EigenmodesDataset.example()
    ds.rows[0] = attrs.evolve(
        ds.rows[0], M2=float("nan"), Delta=float("nan"), quality="not_applicable"
    )
    report = EigenmodesDataset.validate_file(ds.write(tmp_path / "outcome.csv"))
    assert report.findings == [] and report.exit_code == 0
    ds.rows[0] = attrs.evolve(ds.rows[0], m2=float("nan"))
    report = EigenmodesDataset.validate(ds)
    assert ("nonfinite", "rows[0].m2") in codes(report)  # its inputs must still be finite


def test_invalid_write_raises_and_leaves_old_files(tmp_path):
    path = EigenmodesDataset.example().write(tmp_path / "m.csv")
    before = [p.read_bytes() for p in EigenmodesDataset.files(path)]
    bad = EigenmodesDataset.example()
    bad.rows[2].Delta = -1.0
    with pytest.raises(ArtifactError, match="negative_delta"):
        bad.write(path)
    assert [p.read_bytes() for p in EigenmodesDataset.files(path)] == before
    assert stray_files(tmp_path) == []


def test_import_is_light():
    code = (
        "import sys, holopipe.artifacts.eigenmodes; "
        "print([m for m in ('netCDF4', 'xarray', 'scipy') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == "[]"


# -- one bad file per finding class --------------------------------------------------------
@pytest.fixture
def good(tmp_path) -> Path:
    return EigenmodesDataset.example().write(tmp_path / "good.csv")


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


def _save(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def _set_cell(path: Path, row: int, column: str, value: str) -> Path:
    lines = _lines(path)
    cells = lines[row + 1].split(",")
    cells[COLUMNS.index(column)] = value
    lines[row + 1] = ",".join(cells)
    return _save(path, lines)


def _edit_meta(path: Path, edit) -> Path:
    meta_path = EigenmodesDataset.meta_path(path)
    meta_path.write_text(edit(meta_path.read_text()))
    return path


def _findings(path: Path) -> list[tuple[str, str]]:
    report = EigenmodesDataset.validate_file(path)
    assert report.exit_code == 2, report.lines()
    with pytest.raises(ArtifactError):
        EigenmodesDataset.read(path)
    return codes(report)


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_nonfinite_output_in_ok_row(good, value):
    assert _findings(_set_cell(good, 3, "M2", value)) == [("nonfinite", "rows[3].M2")]


def test_nonfinite_input(good):
    # The last row: NaN sorts after every number, so the row keeps its place.
    assert _findings(_set_cell(good, 3, "m2", "nan")) == [("nonfinite", "rows[3].m2")]


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("d", "three"),
        ("d", "3.0"),
        ("mode_id", ""),
        ("n_grid", "1e3"),
        ("M2", "abc"),
        ("z_uv", "1_0"),
        ("Delta", " 2.0"),
    ],
)
def test_wrong_dtype_names_row_and_column(good, column, value):
    report = EigenmodesDataset.validate_file(_set_cell(good, 1, column, value))
    assert codes(report) == [("wrong_dtype", f"rows[1].{column}")]
    assert "CSV line 3" in report.findings[0].message and report.exit_code == 2


def test_missing_column(good):
    lines = [
        ",".join(c for i, c in enumerate(line.split(",")) if i != COLUMNS.index("M2"))
        for line in _lines(good)
    ]
    assert _findings(_save(good, lines)) == [("missing_column", "M2")]


def test_unknown_column_is_a_warning(good):
    lines = _lines(good)
    lines = [lines[0] + ",comment"] + [line + ",x" for line in lines[1:]]
    report = EigenmodesDataset.validate_file(_save(good, lines))
    assert codes(report) == [("unknown_column", "comment")] and report.exit_code == 1


def test_reordered_columns_are_a_warning(good):
    lines = [",".join(reversed(line.split(","))) for line in _lines(good)]
    report = EigenmodesDataset.validate_file(_save(good, lines))
    assert codes(report) == [("column_order", "<header>")]
    assert EigenmodesDataset.read(good) == EigenmodesDataset.example()


def test_duplicate_column(good):
    lines = _lines(good)
    lines = [lines[0] + ",d"] + [line + ",3" for line in lines[1:]]
    assert _findings(_save(good, lines)) == [("duplicate_column", "d")]


def test_negative_delta_in_ok_row(good):
    report = EigenmodesDataset.validate_file(_set_cell(good, 0, "Delta", "-0.25"))
    assert codes(report) == [("negative_delta", "rows[0].Delta")]
    assert "solver bug" in report.findings[0].message


def test_d_inconsistent_with_system_id(good):
    assert _findings(_set_cell(good, 2, "d", "4")) == [("d_name_mismatch", "rows[2].d")]


@pytest.mark.parametrize(
    ("column", "value", "code"),
    [
        ("branch", "x", "bad_value"),
        ("family", "hyperscaling", "bad_family"),
        ("mode_id", "-1", "bad_value"),
        ("n_grid", "1", "bad_value"),
        ("z_ir", "0.00001", "bad_value"),
    ],
)
def test_bad_values(good, column, value, code):
    # The last row, so that no change moves it in the sorted order.
    assert _findings(_set_cell(good, 3, column, value)) == [(code, f"rows[3].{column}")]


def test_control_character_in_text(good):
    lines = _lines(good)
    lines[1] = lines[1].rsplit(",", 1)[0] + ',"fd\rsolver"'
    assert _findings(_save(good, lines)) == [("bad_value", "rows[0].method")]


@pytest.mark.parametrize("keep", [0.2, 0.5, 0.9, -1])
def test_truncated_csv(good, keep):
    text = good.read_text()
    size = int(len(text) * keep) if keep > 0 else len(text) + keep
    good.write_text(text[:size])
    assert ("truncated", "<file>") in _findings(good)


def test_truncated_csv_drops_rows(good):
    _save(good, _lines(good)[:-1])
    assert _findings(good) == [("n_rows_mismatch", "meta.n_rows")]


def test_truncated_inside_quotes(good):
    good.write_text(good.read_text() + '"unterminated')
    assert _findings(good) == [("truncated", "<file>"), ("malformed_csv", "<file>")]


def test_empty_csv(good):
    good.write_text("")
    assert _findings(good) == [("missing_header", "<file>")]


def test_missing_files(tmp_path, good):
    EigenmodesDataset.meta_path(good).unlink()
    assert _findings(good) == [("missing_file", "<meta>")]
    assert _findings(tmp_path / "absent.csv") == [("missing_file", "<file>")]


def test_malformed_meta_json(good):
    assert _findings(_edit_meta(good, lambda t: t[:-10])) == [("malformed_json", "<meta>")]


@pytest.mark.parametrize("token", ["NaN", "Infinity"])
def test_bare_nan_token_in_meta(good, token):
    report = EigenmodesDataset.validate_file(
        _edit_meta(good, lambda t: t.replace('"n_rows": 4', f'"n_rows": {token}'))
    )
    assert codes(report) == [("malformed_json", "<meta>")]
    assert f"bare {token}" in report.findings[0].message


def _with_meta(**changes):
    def edit(text):
        return json.dumps({**json.loads(text), **changes})

    return edit


def test_unknown_newer_schema_version(good):
    report = EigenmodesDataset.validate_file(_edit_meta(good, _with_meta(schema_version="2.0")))
    assert codes(report) == [("newer_schema_version", "meta.schema_version")]


def test_unknown_older_schema_version(good):
    assert _findings(_edit_meta(good, _with_meta(schema_version="0.0"))) == [
        ("unknown_schema_version", "meta.schema_version")
    ]


def test_missing_meta_header(good):
    def drop(text):
        doc = json.loads(text)
        del doc["schema_version"]
        return json.dumps(doc)

    assert _findings(_edit_meta(good, drop)) == [("missing_key", "meta.schema_version")]


def test_wrong_schema_in_meta(good):
    assert _findings(_edit_meta(good, _with_meta(schema_name="Dictionary"))) == [
        ("wrong_schema", "meta.schema_name")
    ]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"n_rows": 5}, ("n_rows_mismatch", "meta.n_rows")),
        ({"n_rows": "4"}, ("wrong_type", "meta.n_rows")),
        ({"columns": list(COLUMNS)[:-1]}, ("columns_mismatch", "meta.columns")),
        ({"git_sha": None}, ("wrong_type", "meta.git_sha")),
    ],
)
def test_meta_content(good, changes, expected):
    assert _findings(_edit_meta(good, _with_meta(**changes))) == [expected]


def test_meta_not_an_object(good):
    assert _findings(_edit_meta(good, lambda t: "[1, 2]")) == [("wrong_type", "<meta>")]


def test_unsorted_rows_are_a_warning(good):
    lines = _lines(good)
    _save(good, [lines[0], *reversed(lines[1:])])
    report = EigenmodesDataset.validate_file(good)
    assert codes(report) == [("unsorted_rows", "rows")] and report.exit_code == 1
    assert EigenmodesDataset.read(good) == EigenmodesDataset.example()


def test_many_bad_rows_are_summarised(tmp_path):
    row = EigenmodesDataset.example().rows[0]
    bad = [
        attrs.evolve(row, mode_id=i, Delta=-1.0)
        for i in range(eigenmodes.MAX_FINDINGS_PER_CODE + 7)
    ]
    ds = EigenmodesDataset.from_rows(bad, "test", "0")
    path = tmp_path / "many.csv"
    ds._dump(path)  # write() would refuse: this makes the bad file on purpose
    report = EigenmodesDataset.validate_file(path)
    assert len(report.findings) == eigenmodes.MAX_FINDINGS_PER_CODE + 1
    assert report.findings[-1].location == "rows" and "7 more" in report.findings[-1].message


# -- z_h (schema 0.2, plan section 10 F.13: metadata propagation) ----------------------------
def _as_version_0_1(path: Path) -> Path:
    """Rewrite a dataset as holopipe wrote it before z_h: no CSV column, no meta systems."""
    lines = _lines(path)
    at = COLUMNS.index("z_h")
    _save(path, [",".join(c for i, c in enumerate(line.split(",")) if i != at) for line in lines])

    def downgrade(text):
        doc = json.loads(text)
        doc["columns"] = [c for c in doc["columns"] if c != "z_h"]
        del doc["systems"]
        return json.dumps({**doc, "schema_version": "0.1"})

    return _edit_meta(path, downgrade)


def test_plan_10_F13_version_0_1_datasets_are_migrated_with_z_h_unknown(good):
    report = EigenmodesDataset.validate_file(_as_version_0_1(good))
    assert codes(report) == [("migrated", "meta.schema_version")] and report.exit_code == 1
    back = EigenmodesDataset.read(good)
    assert all(math.isnan(row.z_h) for row in back.rows)
    assert [(s.system_id, s.family, s.d, s.z_h) for s in back.meta.systems] == [
        ("ads_d3_hardwall-000000000000", "ads", 3, None)
    ]


def test_plan_10_F13_meta_systems_must_match_the_rows(good):
    def thermal(text):
        doc = json.loads(text)
        doc["systems"][0]["z_h"] = 1.5
        return json.dumps(doc)

    assert _findings(_edit_meta(good, thermal)) == [("systems_mismatch", "meta.systems")]


def test_plan_10_F13_one_z_h_per_system(good):
    assert _findings(_set_cell(good, 3, "z_h", "2.0")) == [("systems_mismatch", "rows[3].z_h")]


@pytest.mark.parametrize("value", ["0.0", "-1.0", "inf"])
def test_z_h_must_be_positive_or_nan(good, value):
    found = _findings(_set_cell(good, 3, "z_h", value))
    assert ("bad_value", "rows[3].z_h") in found


# -- provenance of a converted dataset (schema 0.3) -------------------------------------------
def _provenance(**changes) -> eigenmodes.ConversionProvenance:
    fields = {
        "source_path": "fase11/bulk_modes_dataset.json",
        "source_sha256": "ab" * 32,
        "source_kind": "eigenmodes_json",
        "converter": "holopipe.legacy.convert_eigenmodes v2",
        "solver": "bulk_scalar_solver_v2",
        "inferred": {"m2": "Delta (Delta - d)"},
        "bound_sandboxes": {"ads_d3_hardwall-000000000000": "fase11/ads_d3.h5"},
        "findings": ["negative_delta"],
    }
    return eigenmodes.ConversionProvenance(**{**fields, **changes})


def _converted(tmp_path) -> Path:
    example = EigenmodesDataset.example()
    ds = EigenmodesDataset.from_rows(
        example.rows, source_stage="06 (legacy)", git_sha="unknown", provenance=_provenance()
    )
    return ds.write(tmp_path / "converted.csv")


def test_provenance_round_trips_and_computed_datasets_have_none(tmp_path, good):
    path = _converted(tmp_path)
    back = EigenmodesDataset.read(path)
    assert back.meta.provenance == _provenance()
    meta = json.loads(EigenmodesDataset.meta_path(path).read_text())
    assert meta["schema_version"] == "0.3"
    assert meta["provenance"]["source_sha256"] == "ab" * 32
    assert EigenmodesDataset.read(good).meta.provenance is None
    assert json.loads(EigenmodesDataset.meta_path(good).read_text())["provenance"] is None


def test_version_0_2_datasets_are_migrated_with_provenance_null(good):
    def as_0_2(text):
        doc = json.loads(text)
        del doc["provenance"]
        return json.dumps({**doc, "schema_version": "0.2"})

    report = EigenmodesDataset.validate_file(_edit_meta(good, as_0_2))
    assert codes(report) == [("migrated", "meta.schema_version")] and report.exit_code == 1
    assert EigenmodesDataset.read(good).meta.provenance is None


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("source_sha256", "not-a-sha", "64 lowercase hex digits"),
        ("source_path", " ", "non-empty string"),
        ("inferred", {"mass": "guessed"}, "not columns of the dataset"),
        ("findings", [""], "list of non-empty strings"),
    ],
)
def test_the_provenance_validators_refuse_in_code_and_in_files(tmp_path, field, value, words):
    with pytest.raises(ValueError, match=words):
        _provenance(**{field: value})
    path = _converted(tmp_path)

    def spoil(text):
        doc = json.loads(text)
        doc["provenance"][field] = value
        return json.dumps(doc)

    report = EigenmodesDataset.validate_file(_edit_meta(path, spoil))
    assert report.exit_code == 2
    [finding] = report.errors
    assert (finding.code, finding.location) == ("bad_value", "meta.provenance")
    assert words in finding.message and field in finding.message


def test_an_oversized_meta_sidecar_is_a_finding_not_a_crash(good, monkeypatch):
    size = EigenmodesDataset.meta_path(good).stat().st_size
    monkeypatch.setenv("HOLOPIPE_MAX_ARRAY_BYTES", str(size - 1))
    report = EigenmodesDataset.validate_file(good)
    assert ("too_large", "<meta>") in codes(report) and report.exit_code == 2
