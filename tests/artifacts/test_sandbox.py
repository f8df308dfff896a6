"""SandboxGeometry (netCDF4/HDF5): round trips, one bad file per finding class, legacy samples."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from pathlib import Path

import netCDF4
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from strategies import FAST, LEGACY_SAMPLES, codes, stray_files

from holopipe.artifacts import versions
from holopipe.artifacts.checks import FAMILIES, name_d_token
from holopipe.artifacts.report import ArtifactError
from holopipe.artifacts.sandbox import (
    BoundaryData,
    BulkTruth,
    Operator,
    SandboxGeometry,
    SandboxMeta,
)

# -- strategies ----------------------------------------------------------------------------
finite = st.floats(allow_nan=False, allow_infinity=False)
# Attribute text: any printable character (netCDF attributes are UTF-8), no controls.
attr_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=10)
operator_names = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcxyz0123456789_", min_size=1, max_size=6
)


def _grid(n, low, high):
    return hnp.arrays(np.float64, n, elements=st.floats(low, high), unique=True).map(np.sort)


@st.composite
def sandboxes(draw):
    family = draw(st.sampled_from(FAMILIES))
    d = draw(st.integers(1, 8))
    name = draw(
        attr_text.map(lambda t, f=family, d=d: f"{f}_d{d}_{t}").filter(
            lambda n, d=d: name_d_token(n) == d
        )
    )
    z_h = draw(st.none() | st.floats(1e-3, 1e3))
    n = draw(st.integers(2, 20))
    z = draw(_grid(n, 1e-6, 0.999)) * (z_h if z_h is not None else 1.0)
    assume(np.all(np.diff(z) > 0))  # scaling by z_h can merge neighbouring floats
    column = hnp.arrays(np.float64, n, elements=finite)
    optional = st.none() | column
    ops = draw(st.lists(operator_names, max_size=3, unique=True))
    nx = draw(st.integers(2, 16))
    temperature = draw(st.floats(0, 1e3))
    meta = SandboxMeta(
        system_id=f"{name}-{draw(st.text('0123456789abcdef', min_size=12, max_size=12))}",
        system_name=name,
        family=family,
        d=d,
        z_h=z_h,
        temperature=temperature,
        category=draw(attr_text),
        params=draw(st.dictionaries(attr_text, finite, max_size=3)),
        seed=draw(st.none() | st.integers(0, 2**63 - 1)),
        index=draw(st.none() | st.integers(0, 2**63 - 1)),
    )
    truth = BulkTruth(
        z_grid=z,
        A_truth=draw(column),
        f_truth=draw(hnp.arrays(np.float64, n, elements=st.floats(1e-300, 1e300))),
        operators=[Operator(o, draw(finite), draw(finite)) for o in ops],
        A_t_truth=draw(optional),
        A_z_truth=draw(optional),
        c_function=draw(optional),
        R_truth=draw(st.none() | hnp.arrays(np.float64, n, elements=st.floats(-1e6, 1e6))),
    )
    boundary = BoundaryData(
        x_grid=draw(_grid(nx, 1e-6, 1e6)),
        G2={o: draw(hnp.arrays(np.float64, nx, elements=st.floats(1e-300, 1e300))) for o in ops},
        temperature=temperature,
        exact=draw(st.booleans()),
        method=draw(attr_text.filter(bool)),
    )
    return SandboxGeometry(meta=meta, truth=truth, boundary=boundary)


# -- round trips ---------------------------------------------------------------------------
@FAST
@given(s=sandboxes())
def test_round_trip_equal_and_byte_deterministic(s, tmp_path_factory):
    folder = tmp_path_factory.mktemp("rt")
    first = s.write(folder / "a.nc")
    again = s.write(folder / "b.nc")
    assert first.read_bytes() == again.read_bytes()
    back = SandboxGeometry.read(first)
    assert back == s
    assert back.write(folder / "c.nc").read_bytes() == first.read_bytes()
    assert SandboxGeometry.validate_file(first).exit_code == 0
    assert stray_files(folder) == []


def test_bytes_do_not_depend_on_process(tmp_path):
    """The same universe written by a fresh interpreter gives the same bytes."""
    here = SandboxGeometry.example().write(tmp_path / "here.nc")
    there = tmp_path / "there.nc"
    code = (
        "from holopipe.artifacts.sandbox import SandboxGeometry as S; "
        f"S.example().write({str(there)!r})"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    assert here.read_bytes() == there.read_bytes()


def test_example_is_valid():
    report = SandboxGeometry.example().validate()
    assert report.ok and report.findings == []


def test_file_layout(tmp_path):
    s = SandboxGeometry.example()
    path = s.write(tmp_path / "u.nc")
    with netCDF4.Dataset(path) as ds:
        assert ds.getncattr("schema_name") == "SandboxGeometry"
        assert ds.getncattr("schema_version") == SandboxGeometry.SCHEMA_VERSION
        for key in (
            "system_id",
            "system_name",
            "family",
            "d",
            "z_h",
            "temperature",
            "params",
            "category",
        ):
            assert key in ds.ncattrs()
        assert sorted(ds.groups) == ["boundary", "bulk_truth"]
        truth, boundary = ds["bulk_truth"], ds["boundary"]
        assert sorted(truth.variables) == ["A_truth", "f_truth", "z_grid"]
        assert "operators" in truth.ncattrs() and "operators" not in ds.ncattrs()
        assert sorted(boundary.variables) == ["G2_O1", "G2_O2", "temperature", "x_grid"]
        assert boundary.getncattr("exact") == 1 and boundary.getncattr("method") == "btz_exact"
        # Operator dimensions and masses are truth only.
        assert not any("Delta" in str(boundary.getncattr(a)) for a in boundary.ncattrs())


def test_zero_temperature_has_no_horizon_attribute(tmp_path):
    s = SandboxGeometry.example()
    s.meta.z_h = None
    s.meta.temperature = s.boundary.temperature = 0.0
    path = s.write(tmp_path / "t0.nc")
    with netCDF4.Dataset(path) as ds:
        assert "z_h" not in ds.ncattrs()
    assert SandboxGeometry.read(path).meta.z_h is None


def test_nan_horizon_attribute_reads_as_none(tmp_path):
    path = SandboxGeometry.example().write(tmp_path / "nan_zh.nc")
    with netCDF4.Dataset(path, "a") as ds:
        ds.setncattr("z_h", np.nan)
    assert SandboxGeometry.read(path).meta.z_h is None


def test_to_xarray_is_a_datatree():
    pytest.importorskip("xarray")
    s = SandboxGeometry.example()
    tree = s.to_xarray()
    assert set(tree.children) == {"boundary", "bulk_truth"}
    np.testing.assert_array_equal(tree["bulk_truth"]["f_truth"].values, s.truth.f_truth)
    np.testing.assert_array_equal(tree["boundary"]["x_grid"].values, s.boundary.x_grid)
    np.testing.assert_array_equal(tree["boundary"]["G2_O1"].values, s.boundary.G2["O1"])
    assert tree.attrs["d"] == 2 and tree.attrs["family"] == "ads"


def test_guess_can_open(tmp_path):
    path = SandboxGeometry.example().write(tmp_path / "u.nc")
    assert SandboxGeometry.guess_can_open(path)
    (tmp_path / "x.nc").write_text("{}")
    assert not SandboxGeometry.guess_can_open(tmp_path / "x.nc")


def test_invalid_write_raises_and_leaves_old_file(tmp_path):
    path = SandboxGeometry.example().write(tmp_path / "u.nc")
    before = path.read_bytes()
    bad = SandboxGeometry.example()
    bad.truth.A_truth[3] = np.nan
    with pytest.raises(ArtifactError, match="nonfinite"):
        bad.write(path)
    assert path.read_bytes() == before
    assert stray_files(tmp_path) == []


def test_import_is_light():
    code = (
        "import sys, holopipe.artifacts.sandbox; "
        "print([m for m in ('netCDF4', 'xarray', 'scipy') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == "[]"


# -- one bad file per finding class --------------------------------------------------------
def _bad_file(folder: Path, change, name: str = "bad.nc") -> Path:
    """The example, changed in memory by ``change`` and written without validation."""
    s = SandboxGeometry.example()
    change(s)
    path = folder / name
    s._dump(path)  # write() would refuse: this makes the bad file on purpose
    return path


def _edited_file(folder: Path, edit, name: str = "edited.nc") -> Path:
    """The example written validly, then edited in place with netCDF4."""
    path = SandboxGeometry.example().write(folder / name)
    with netCDF4.Dataset(path, "a") as ds:
        edit(ds)
    return path


def _findings(path: Path) -> list[tuple[str, str]]:
    report = SandboxGeometry.validate_file(path)
    assert report.exit_code == 2, report.lines()
    with pytest.raises(ArtifactError):
        SandboxGeometry.read(path)
    return codes(report)


def _set(array, index, value):
    array[index] = value


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda s: _set(s.truth.A_truth, 3, np.nan), ("nonfinite", "bulk_truth/A_truth")),
        (lambda s: _set(s.boundary.G2["O1"], 0, np.inf), ("nonfinite", "boundary/G2_O1")),
        (
            lambda s: _set(s.truth.z_grid, 5, s.truth.z_grid[3]),
            ("not_increasing", "bulk_truth/z_grid"),
        ),
        (
            lambda s: _set(s.boundary.x_grid, 5, s.boundary.x_grid[5 - 1]),
            ("not_increasing", "boundary/x_grid"),
        ),
        (lambda s: _set(s.truth.z_grid, 0, -1e-3), ("bad_value", "bulk_truth/z_grid")),
        (lambda s: _set(s.boundary.x_grid, 0, 0.0), ("bad_value", "boundary/x_grid")),
        (lambda s: _set(s.boundary.G2["O2"], 7, 0.0), ("nonpositive", "boundary/G2_O2")),
        (lambda s: _set(s.truth.f_truth, 10, -0.5), ("f_nonpositive", "bulk_truth/f_truth")),
        (lambda s: setattr(s.meta, "family", "hyperscaling"), ("bad_family", "family")),
        (lambda s: setattr(s.meta, "d", 3), ("d_name_mismatch", "d")),
        (lambda s: setattr(s.meta, "z_h", -1.0), ("bad_value", "z_h")),
        (
            lambda s: setattr(s.meta, "temperature", 0.5),
            ("temperature_mismatch", "boundary/temperature"),
        ),
        (lambda s: s.boundary.G2.pop("O2"), ("missing_g2", "boundary/G2_O2")),
        (lambda s: s.truth.operators.pop(), ("unknown_operator", "boundary/G2_O2")),
        (
            lambda s: s.truth.operators.append(Operator("O1", 2.0, 0.0)),
            ("duplicate_operator", "bulk_truth.operators[2].name"),
        ),
    ],
    ids=[
        "nan",
        "inf",
        "z_not_increasing",
        "x_not_increasing",
        "z_nonpositive",
        "x_nonpositive",
        "g2_nonpositive",
        "f_nonpositive",
        "family",
        "d_name",
        "z_h",
        "temperature_mismatch",
        "missing_g2",
        "unknown_operator",
        "duplicate_operator",
    ],
)
def test_content_finding(tmp_path, change, expected):
    assert _findings(_bad_file(tmp_path, change)) == [expected]


def test_grid_past_horizon_and_clipped_f(tmp_path):
    def clip(s):
        s.truth.z_grid = np.linspace(0.01, 2.0, 48)
        s.truth.A_truth = -np.log(s.truth.z_grid)
        s.truth.f_truth = np.clip(1 - s.truth.z_grid**2, 0, None)

    assert _findings(_bad_file(tmp_path, clip)) == [
        ("grid_beyond_horizon", "bulk_truth/z_grid"),
        ("f_clipped", "bulk_truth/f_truth"),
    ]


def test_huge_curvature_is_a_warning(tmp_path):
    path = _bad_file(tmp_path, lambda s: setattr(s.truth, "R_truth", np.full(48, -1e10)))
    report = SandboxGeometry.validate_file(path)
    assert codes(report) == [("huge_curvature", "bulk_truth/R_truth")] and report.exit_code == 1


def test_length_mismatch(tmp_path):
    def longer_A(ds):
        truth = ds["bulk_truth"]
        truth.renameVariable("A_truth", "A_old")
        truth.createDimension("z_other", 50)
        truth.createVariable("A_truth", "f8", ("z_other",))[:] = np.ones(50)

    found = _findings(_edited_file(tmp_path, longer_A))
    assert ("unknown_variable", "bulk_truth") in found
    code, location = next(f for f in found if f[0] != "unknown_variable")
    assert code == "length_mismatch" and "bulk_truth/A_truth" in location.split(",")


def test_g2_length_differs_from_x_grid(tmp_path):
    def short_g2(ds):
        boundary = ds["boundary"]
        boundary.renameVariable("G2_O1", "old_O1")
        boundary.createDimension("x_other", 5)
        boundary.createVariable("G2_O1", "f8", ("x_other",))[:] = np.ones(5)

    found = _findings(_edited_file(tmp_path, short_g2))
    assert ("length_mismatch", "boundary/x_grid,boundary/G2_O1") in found


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda ds: ds.delncattr("family"), ("missing_key", "family")),
        (lambda ds: ds.delncattr("system_id"), ("missing_key", "system_id")),
        (
            lambda ds: ds["bulk_truth"].renameVariable("f_truth", "f_old"),
            ("missing_key", "bulk_truth/f_truth"),
        ),
        (
            lambda ds: ds["boundary"].renameVariable("x_grid", "x_old"),
            ("missing_key", "boundary/x_grid"),
        ),
        (lambda ds: ds.renameGroup("boundary", "boundary_old"), ("missing_key", "boundary")),
        (
            lambda ds: ds["bulk_truth"].delncattr("operators"),
            ("missing_key", "bulk_truth.operators"),
        ),
        (lambda ds: ds["boundary"].delncattr("method"), ("missing_key", "boundary.method")),
    ],
    ids=["family", "system_id", "f_truth", "x_grid", "boundary_group", "operators", "method"],
)
def test_missing_key(tmp_path, edit, expected):
    assert expected in _findings(_edited_file(tmp_path, edit))


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda ds: ds.setncattr("d", "2"), ("wrong_type", "d")),
        (lambda ds: ds.setncattr("d", 2.0), ("wrong_type", "d")),
        (lambda ds: ds.setncattr("family", np.int64(0)), ("wrong_type", "family")),
        (lambda ds: ds["boundary"].setncattr("exact", 2), ("wrong_type", "boundary.exact")),
        (lambda ds: ds["boundary"].setncattr("exact", "True"), ("wrong_type", "boundary.exact")),
        (
            lambda ds: ds["bulk_truth"].setncattr(
                "operators", '[{"name": "O1", "Delta": "1.5", "m2": -0.75}]'
            ),
            ("wrong_type", "bulk_truth.operators[0].Delta"),
        ),
        (lambda ds: ds.setncattr("params", '{"a": "x"}'), ("wrong_type", "params.a")),
    ],
    ids=[
        "d_str",
        "d_float",
        "family_int",
        "exact_2",
        "exact_str",
        "operator_delta_str",
        "params_value",
    ],
)
def test_wrong_type(tmp_path, edit, expected):
    assert expected in _findings(_edited_file(tmp_path, edit))


@pytest.mark.parametrize("dtype", ["i8", "i4", "u1"])
def test_wrong_dtype(tmp_path, dtype):
    def int_grid(ds):
        truth = ds["bulk_truth"]
        truth.renameVariable("z_grid", "z_old")
        truth.createVariable("z_grid", dtype, ("z_grid",))[:] = np.arange(48)

    assert ("wrong_dtype", "bulk_truth/z_grid") in _findings(_edited_file(tmp_path, int_grid))


def test_string_variable_is_wrong_dtype(tmp_path):
    def text_temperature(ds):
        boundary = ds["boundary"]
        boundary.renameVariable("temperature", "t_old")
        var = boundary.createVariable("temperature", str, ())
        var[...] = "hot"

    assert ("wrong_dtype", "boundary/temperature") in _findings(
        _edited_file(tmp_path, text_temperature)
    )


@pytest.mark.parametrize("keep", [0.3, 0.9, 0.999, 7])
def test_truncated_file(tmp_path, keep):
    data = SandboxGeometry.example().write(tmp_path / "whole.nc").read_bytes()
    size = int(len(data) * keep) if keep < 1 else keep
    path = tmp_path / "cut.nc"
    path.write_bytes(data[:size])
    assert _findings(path) == [("unreadable", "<file>")]


def test_not_netcdf_and_missing_file(tmp_path):
    (tmp_path / "text.nc").write_text("hello")
    assert _findings(tmp_path / "text.nc") == [("unreadable", "<file>")]
    assert _findings(tmp_path / "absent.nc") == [("missing_file", "<file>")]


def test_malformed_operators_json(tmp_path):
    edit = lambda ds: ds["bulk_truth"].setncattr("operators", '[{"name": "O1",')  # noqa: E731
    assert _findings(_edited_file(tmp_path, edit)) == [("malformed_json", "bulk_truth.operators")]


@pytest.mark.parametrize("token", ["NaN", "Infinity"])
def test_bare_nan_token_in_json_attribute(tmp_path, token):
    edit = lambda ds: ds.setncattr("params", f'{{"a": {token}}}')  # noqa: E731
    report = SandboxGeometry.validate_file(_edited_file(tmp_path, edit))
    assert codes(report) == [("malformed_json", "params")]
    assert f"bare {token}" in report.findings[0].message


def test_unknown_newer_schema_version(tmp_path):
    report = SandboxGeometry.validate_file(
        _edited_file(tmp_path, lambda ds: ds.setncattr("schema_version", "9.0"))
    )
    assert codes(report) == [("newer_schema_version", "schema_version")]
    assert "upgrade holopipe" in report.findings[0].message


def test_unknown_older_version_and_migration(tmp_path, monkeypatch):
    path = _edited_file(
        tmp_path,
        lambda ds: (ds.setncattr("schema_version", "0.0"), ds.renameAttribute("category", "kind")),
    )
    assert _findings(path) == [("unknown_schema_version", "schema_version")]

    def rename_kind(doc):
        doc = dict(doc)
        doc["category"] = doc.pop("kind")
        return doc

    monkeypatch.setitem(versions._MIGRATIONS, ("SandboxGeometry", "0.0"), ("0.1", rename_kind))
    report = SandboxGeometry.validate_file(path)
    assert codes(report) == [("migrated", "schema_version")]
    assert SandboxGeometry.read(path) == SandboxGeometry.example()


def test_wrong_and_missing_schema(tmp_path):
    wrong = _edited_file(
        tmp_path, lambda ds: ds.setncattr("schema_name", "GeometryPrediction"), "wrong.nc"
    )
    assert _findings(wrong) == [("wrong_schema", "schema_name")]
    missing = _edited_file(tmp_path, lambda ds: ds.delncattr("schema_name"), "missing.nc")
    assert ("missing_schema", "schema_name") in _findings(missing)


def test_unknown_variable_and_attribute_are_warnings(tmp_path):
    def extra(ds):
        ds.setncattr("comment", "hello")
        ds["boundary"].createVariable("G_R_real", "f8", ("x_grid",))[:] = np.zeros(40)

    report = SandboxGeometry.validate_file(_edited_file(tmp_path, extra))
    assert codes(report) == [("unknown_variable", "boundary"), ("unknown_key", "comment")]
    assert report.exit_code == 1


def test_every_problem_is_listed(tmp_path):
    def many(s):
        s.truth.A_truth[0] = np.nan
        s.meta.family = "hyperscaling"
        s.boundary.G2["O1"][2] = -1.0

    with pytest.raises(ArtifactError) as info:
        SandboxGeometry.read(_bad_file(tmp_path, many))
    found = codes(info.value.report)
    assert {
        ("nonfinite", "bulk_truth/A_truth"),
        ("bad_family", "family"),
        ("nonpositive", "boundary/G2_O1"),
    } <= set(found)


# -- legacy samples (read-only: corrupted copies go to tmp_path) ---------------------------
LEGACY_DIRS = {"fase11_ads_control_geometry": (30, 11), "smoke_fase11_v3": (9, 3)}
needs_legacy = pytest.mark.skipif(LEGACY_SAMPLES is None, reason="legacy samples not available")


def _legacy_files(folder: str) -> list[Path]:
    return sorted((LEGACY_SAMPLES / folder).glob("*.h5"))


def _expected_d_mismatch(path: Path) -> bool:
    """Independent of holopipe: the root ``d`` against every ``_d<k>_`` token of the file name."""
    with netCDF4.Dataset(path) as ds:
        d = int(ds.getncattr("d"))
    tokens = {int(k) for k in re.findall(r"(?:^|_)d(\d+)(?:_|$)", path.stem)}
    return bool(tokens) and tokens != {d}


@needs_legacy
@pytest.mark.parametrize("folder", sorted(LEGACY_DIRS))
def test_legacy_d_name_mismatch_in_exactly_the_right_files(folder):
    files = _legacy_files(folder)
    n_files, n_mismatched = LEGACY_DIRS[folder]
    assert len(files) == n_files
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in files}

    expected = {p.name for p in files if _expected_d_mismatch(p)}
    reported = set()
    for path in files:
        report = SandboxGeometry.validate_file(path)
        found = codes(report)
        assert ("missing_schema", "schema_name") in found
        # The clipped blackening factor and its curvature blow-up are in every sample.
        assert ("f_clipped", "bulk_truth/f_truth") in found
        assert ("grid_beyond_horizon", "bulk_truth/z_grid") in found
        assert ("huge_curvature", "bulk_truth/R_truth") in found
        assert ("d_inconsistent", "boundary/d") not in found
        if ("d_name_mismatch", "d") in found:
            reported.add(path.name)
        with pytest.raises(ArtifactError):
            SandboxGeometry.read(path)

    assert reported == expected
    assert len(reported) == n_mismatched  # the README's count
    assert before == {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


@needs_legacy
def test_legacy_operators_and_names_are_understood():
    path = LEGACY_SAMPLES / "smoke_fase11_v3" / "hvlf_d3_theta1_known_000.h5"
    report = SandboxGeometry.validate_file(path)
    found = codes(report)
    assert ("bad_family", "family") in found  # 'hyperscaling', with the hint to say 'hvlf'
    assert ("legacy_layout", "<file>") in found
    assert not any(code == "missing_key" for code, _ in found)


def _copy_netcdf(source: Path, target: Path, edit) -> Path:
    """Copy every group, variable and attribute of ``source`` (netCDF-C cannot append to the
    h5py-written legacy files), then apply ``edit`` to the copy."""

    def copy(src, dst):
        dst.setncatts({a: src.getncattr(a) for a in src.ncattrs()})
        for name, dim in src.dimensions.items():
            dst.createDimension(name, len(dim))
        for name, var in src.variables.items():
            dst.createVariable(name, var.dtype, var.dimensions)[...] = var[...]
        for name, group in src.groups.items():
            copy(group, dst.createGroup(name))

    with netCDF4.Dataset(source) as src, netCDF4.Dataset(target, "w") as dst:
        src.set_auto_mask(False)
        copy(src, dst)
        edit(dst)
    return target


@needs_legacy
def test_legacy_copy_keeps_the_findings(tmp_path):
    source = LEGACY_SAMPLES / "fase11_ads_control_geometry" / "ads_d3_Tfinite_known_001.h5"
    copied = _copy_netcdf(source, tmp_path / source.name, lambda ds: None)
    assert codes(SandboxGeometry.validate_file(copied)) == codes(
        SandboxGeometry.validate_file(source)
    )


@needs_legacy
@pytest.mark.parametrize(
    ("edit", "location"),
    [
        (lambda ds: ds["boundary"]["d"].__setitem__(slice(None), 4), "boundary/d"),
        (lambda ds: ds["bulk_truth"].setncattr("d", np.int64(4)), "bulk_truth.d"),
    ],
    ids=["dataset", "group_attribute"],
)
def test_legacy_d_inconsistent(tmp_path, edit, location):
    source = LEGACY_SAMPLES / "fase11_ads_control_geometry" / "ads_d3_Tfinite_known_001.h5"
    path = _copy_netcdf(source, tmp_path / source.name, edit)
    found = codes(SandboxGeometry.validate_file(path))
    assert ("d_inconsistent", location) in found
    assert ("d_name_mismatch", "d") not in found


@needs_legacy
def test_legacy_boundary_only_file_does_not_crash():
    path = LEGACY_SAMPLES / "fase12_data_boundary" / "ising_3d.h5"
    found = codes(SandboxGeometry.validate_file(path))
    assert ("missing_schema", "schema_name") in found
    assert ("missing_key", "bulk_truth") in found
