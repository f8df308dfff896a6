"""GeometryPrediction (NPZ): round trips, one bad file per finding class, legacy samples."""

from __future__ import annotations

import io
import json
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import FAST, LEGACY_SAMPLES, codes, geometry_predictions, stray_files

from holopipe.artifacts import versions
from holopipe.artifacts.io import npz_bytes
from holopipe.artifacts.prediction import GeometryPrediction
from holopipe.artifacts.report import ArtifactError


# -- round trips ---------------------------------------------------------------------------
@FAST
@given(g=geometry_predictions())
def test_round_trip_equal_and_byte_deterministic(g, tmp_path_factory):
    folder = tmp_path_factory.mktemp("rt")
    first = g.write(folder / "a_geometry.npz")
    again = g.write(folder / "b_geometry.npz")
    assert first.read_bytes() == again.read_bytes()

    back = GeometryPrediction.read(first)
    assert back == g
    assert back.A.dtype == np.float64
    # Reading and writing again gives the very same bytes (the encoding is canonical).
    assert back.write(folder / "c_geometry.npz").read_bytes() == first.read_bytes()
    assert GeometryPrediction.validate_file(first).exit_code == 0
    assert stray_files(folder) == []


@FAST
@given(g=geometry_predictions(), which=st.sampled_from("zAf"))
def test_invalid_write_raises_and_leaves_old_file(g, which, tmp_path_factory):
    folder = tmp_path_factory.mktemp("bad")
    path = GeometryPrediction.example().write(folder / "x_geometry.npz")
    before = path.read_bytes()
    getattr(g, which)[-1] = np.nan
    with pytest.raises(ArtifactError) as info:
        g.write(path)
    assert ("nonfinite", which) in codes(info.value.report)
    assert path.read_bytes() == before
    assert stray_files(folder) == []


def test_invalid_write_to_new_path_creates_nothing(tmp_path):
    g = GeometryPrediction.example()
    g.meta.family = "hyperscaling"
    with pytest.raises(ArtifactError, match="bad_family"):
        g.write(tmp_path / "new_geometry.npz")
    assert list(tmp_path.iterdir()) == []


def test_example_is_valid_and_documented_members():
    g = GeometryPrediction.example()
    report = g.validate()
    assert report.ok and report.findings == []
    assert set(g.arrays()) == {"z", "A", "f"}


def test_file_holds_exactly_the_documented_members(tmp_path):
    g = GeometryPrediction.example()
    g.R = np.zeros_like(g.z)
    path = g.write(tmp_path / "x_geometry.npz")
    with np.load(path, allow_pickle=False) as archive:
        assert sorted(archive.files) == ["A", "R", "f", "meta_json", "z"]
        meta = json.loads(str(archive["meta_json"]))
    assert meta["schema_name"] == "GeometryPrediction"
    assert meta["schema_version"] == GeometryPrediction.SCHEMA_VERSION
    for key in ("system_id", "family", "d", "z_h", "source_stage", "git_sha"):
        assert key in meta


def test_to_xarray_has_z_coordinate_and_meta():
    pytest.importorskip("xarray")
    g = GeometryPrediction.example()
    ds = g.to_xarray()
    np.testing.assert_array_equal(ds["z"].values, g.z)
    np.testing.assert_array_equal(ds["A"].values, g.A)
    assert ds.attrs["family"] == "ads" and ds.attrs["d"] == 3


# -- one bad file per finding class --------------------------------------------------------
@pytest.fixture
def members(tmp_path) -> dict[str, np.ndarray]:
    path = GeometryPrediction.example().write(tmp_path / "good_geometry.npz")
    with np.load(path, allow_pickle=False) as archive:
        return {k: archive[k] for k in archive.files}


@pytest.fixture
def meta(members) -> dict:
    return json.loads(str(members["meta_json"]))


def _save(folder: Path, members: dict, name: str = "bad_geometry.npz") -> Path:
    path = folder / name
    path.write_bytes(npz_bytes(members))
    return path


def _findings(path: Path) -> list[tuple[str, str]]:
    report = GeometryPrediction.validate_file(path)
    assert report.exit_code == 2, report.lines()
    with pytest.raises(ArtifactError):
        GeometryPrediction.read(path)
    return codes(report)


def _with(members, **changes):
    return {**members, **changes}


def _with_meta(members, meta, **changes):
    return {**members, "meta_json": np.array(json.dumps({**meta, **changes}))}


def test_nan(tmp_path, members):
    A = members["A"].copy()
    A[[3, 7]] = np.nan
    found = _findings(_save(tmp_path, _with(members, A=A)))
    assert found == [("nonfinite", "A")]
    report = GeometryPrediction.validate_file(tmp_path / "bad_geometry.npz")
    assert "2 non-finite" in report.findings[0].message and "index 3" in report.findings[0].message


def test_inf(tmp_path, members):
    f = members["f"].copy()
    f[-1] = -np.inf
    assert _findings(_save(tmp_path, _with(members, f=f))) == [("nonfinite", "f")]


def test_nan_in_z_is_reported_once(tmp_path, members):
    z = members["z"].copy()
    z[10] = np.nan
    assert _findings(_save(tmp_path, _with(members, z=z))) == [("nonfinite", "z")]


@pytest.mark.parametrize("kind", ["decreasing", "repeated"])
def test_non_monotonic_z(tmp_path, members, kind):
    z = members["z"].copy()
    z[20] = z[18] if kind == "decreasing" else z[19]
    report = GeometryPrediction.validate_file(_save(tmp_path, _with(members, z=z)))
    assert codes(report) == [("not_increasing", "z")]
    assert "index 20" in report.findings[0].message


def test_z_must_be_positive(tmp_path, members):
    z = members["z"].copy()
    z[0] = 0.0
    assert _findings(_save(tmp_path, _with(members, z=z))) == [("bad_value", "z")]


def test_length_mismatch(tmp_path, members):
    found = _findings(_save(tmp_path, _with(members, A=members["A"][:-1])))
    assert len(found) == 1
    code, location = found[0]
    assert code == "length_mismatch"
    assert set(location.split(",")) == {"z", "A", "f"}


def test_length_mismatch_optional_member(tmp_path, members):
    found = _findings(_save(tmp_path, _with(members, R=np.zeros(5))))
    assert found[0][0] == "length_mismatch" and "R" in found[0][1].split(",")


@pytest.mark.parametrize("key", ["z", "A", "f", "meta_json"])
def test_missing_key(tmp_path, members, key):
    del members[key]
    assert _findings(_save(tmp_path, members)) == [("missing_key", key)]


@pytest.mark.parametrize(
    "bad",
    [np.arange(64), np.arange(64, dtype=np.int8), np.array(["x"] * 64), np.ones(64, dtype=bool)],
    ids=["int64", "int8", "string", "bool"],
)
def test_wrong_dtype(tmp_path, members, bad):
    assert _findings(_save(tmp_path, _with(members, A=bad))) == [("wrong_dtype", "A")]


def test_wrong_shape_and_too_short(tmp_path, members):
    two_d = members["f"].reshape(8, 8)
    assert _findings(_save(tmp_path, _with(members, f=two_d))) == [("wrong_shape", "f")]
    short = {**members, "z": np.array([0.5]), "A": np.array([1.0]), "f": np.array([0.0])}
    assert ("too_short", "z") in _findings(_save(tmp_path, short, "short_geometry.npz"))


def test_meta_json_not_a_string(tmp_path, members):
    found = _findings(_save(tmp_path, _with(members, meta_json=np.zeros(3))))
    assert found == [("wrong_dtype", "meta_json")]


@pytest.mark.parametrize("keep", [0.5, 0.95, 30])
def test_truncated_npz(tmp_path, members, keep):
    data = npz_bytes(members)
    size = int(len(data) * keep) if keep < 1 else keep
    path = tmp_path / "cut_geometry.npz"
    path.write_bytes(data[:size])
    assert _findings(path) == [("unreadable", "<file>")]


def _zip_of(folder: Path, members: dict, raw: dict[str, bytes]) -> Path:
    """An NPZ whose ``raw`` members are stored byte for byte (possibly not .npy at all)."""
    path = folder / "raw_geometry.npz"
    with zipfile.ZipFile(path, "w") as archive:
        for key, value in members.items():
            buffer = io.BytesIO()
            np.save(buffer, value)
            archive.writestr(f"{key}.npy", buffer.getvalue())
        for name, data in raw.items():
            archive.writestr(name, data)
    return path


def test_member_that_is_not_npy_is_reported_not_crashing(tmp_path, members):
    # Regression: np.load returns raw bytes for such a member; meta_json then crashed.
    text = str(members.pop("meta_json")).encode()
    path = _zip_of(tmp_path, members, {"meta_json.npy": text})
    assert _findings(path) == [("wrong_type", "meta_json")]


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


@pytest.mark.parametrize("damage", ["header", "short_data"])
def test_corrupt_npy_member_is_not_called_an_object_array(tmp_path, members, damage):
    # Regression: every ValueError used to be reported as object_array.
    data = bytearray(_npy(members.pop("A")))
    if damage == "header":
        data[12:20] = b"garbage!"
    else:
        data = data[:-40]
    path = _zip_of(tmp_path, members, {"A.npy": bytes(data)})
    assert _findings(path) == [("unreadable", "A")]


def test_corrupt_member_crc(tmp_path, members):
    data = bytearray(npz_bytes(members))
    data[data.find(b"\x93NUMPY") + 200] ^= 0xFF
    path = tmp_path / "crc_geometry.npz"
    path.write_bytes(bytes(data))
    assert _findings(path) == [("unreadable", "A")]


def test_empty_file(tmp_path):
    path = tmp_path / "empty_geometry.npz"
    path.write_bytes(b"")
    assert _findings(path) == [("unreadable", "<file>")]


def test_missing_file(tmp_path):
    assert _findings(tmp_path / "absent_geometry.npz") == [("missing_file", "<file>")]


# An object whose unpickling leaves a trace: proves the validator never unpickles.
_UNPICKLED: list[str] = []


def _record_unpickle(tag: str) -> str:
    _UNPICKLED.append(tag)
    return tag


class _Tripwire:
    def __reduce__(self):
        return (_record_unpickle, ("tripwire",))


def test_object_array_is_reported_never_unpickled(tmp_path, members):
    path = tmp_path / "obj_geometry.npz"
    objects = np.array([_Tripwire(), 1.0, "x"], dtype=object)
    np.savez(path, **_with(members, A=objects), allow_pickle=True)

    _UNPICKLED.clear()
    assert _findings(path) == [("object_array", "A")]
    assert _UNPICKLED == []
    # Sanity check of the tripwire itself: loading with pickle does fire it.
    with np.load(path, allow_pickle=True) as archive:
        archive["A"]
    assert _UNPICKLED == ["tripwire"]
    assert pickle.loads(pickle.dumps(_Tripwire())) == "tripwire"


def test_object_array_meta_json(tmp_path, members):
    path = tmp_path / "obj_geometry.npz"
    np.savez(
        path, **_with(members, meta_json=np.array([{"a": 1}], dtype=object)), allow_pickle=True
    )
    found = _findings(path)
    assert ("object_array", "meta_json") in found
    assert ("missing_key", "meta_json") not in found


def test_malformed_meta_json(tmp_path, members):
    text = str(members["meta_json"])[:-4]
    found = _findings(_save(tmp_path, _with(members, meta_json=np.array(text))))
    assert found == [("malformed_json", "meta_json")]


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_bare_nan_token_in_meta_json(tmp_path, members, meta, token):
    text = json.dumps({**meta, "z_h": 1.0}).replace("1.0", token, 1)
    assert token in text
    report = GeometryPrediction.validate_file(
        _save(tmp_path, _with(members, meta_json=np.array(text)))
    )
    assert codes(report) == [("malformed_json", "meta_json")]
    assert token.lstrip("-") in report.findings[0].message


def test_meta_json_not_an_object(tmp_path, members):
    found = _findings(_save(tmp_path, _with(members, meta_json=np.array("[1, 2]"))))
    assert found == [("wrong_type", "meta_json")]


@pytest.mark.parametrize(
    ("key", "value"),
    [("d", "3"), ("d", 3.0), ("d", True), ("z_h", "1.0"), ("family", 0), ("git_sha", None)],
)
def test_wrong_type_in_meta(tmp_path, members, meta, key, value):
    report = GeometryPrediction.validate_file(
        _save(tmp_path, _with_meta(members, meta, **{key: value}))
    )
    assert codes(report) == [("wrong_type", f"meta_json.{key}")]
    assert report.exit_code == 2


@pytest.mark.parametrize("key", ["system_id", "family", "d", "z_h", "source_stage", "git_sha"])
def test_missing_meta_key(tmp_path, members, meta, key):
    del meta[key]
    found = _findings(_save(tmp_path, _with_meta(members, meta)))
    assert found == [("missing_key", f"meta_json.{key}")]


def test_wrong_schema_name_in_meta(tmp_path, members, meta):
    found = _findings(_save(tmp_path, _with_meta(members, meta, schema_name="BulkEquations")))
    assert found == [("wrong_schema", "meta_json.schema_name")]


def test_newer_schema_version(tmp_path, members, meta):
    report = GeometryPrediction.validate_file(
        _save(tmp_path, _with_meta(members, meta, schema_version="99.0"))
    )
    assert codes(report) == [("newer_schema_version", "meta_json.schema_version")]
    assert "upgrade holopipe" in report.findings[0].message


def test_unknown_older_version_without_migration(tmp_path, members, meta):
    found = _findings(_save(tmp_path, _with_meta(members, meta, schema_version="0.0.3")))
    assert found == [("unknown_schema_version", "meta_json.schema_version")]


def test_unparseable_schema_version(tmp_path, members, meta):
    found = _findings(_save(tmp_path, _with_meta(members, meta, schema_version="v1")))
    assert found == [("bad_schema_version", "meta_json.schema_version")]


@pytest.fixture
def test_migrations():
    """Register test-only migrations; remove them afterwards."""
    added: list[tuple[str, str]] = []

    def register(name, old, new, fn):
        versions.register_migration(name, old, new)(fn)
        added.append((name, old))

    yield register
    for key in added:
        versions._MIGRATIONS.pop(key, None)


def test_registered_migration_chain_upgrades(tmp_path, members, meta, test_migrations):
    def rename_zh(doc):
        doc = dict(doc)
        doc["z_h"] = doc.pop("zh")
        return doc

    def add_git_sha(doc):
        return {**doc, "git_sha": "legacy"}

    test_migrations("GeometryPrediction", "0.0.8", "0.0.9", add_git_sha)
    test_migrations("GeometryPrediction", "0.0.9", "0.1", rename_zh)
    old = {k: v for k, v in meta.items() if k not in ("z_h", "git_sha")}
    old.update(zh=0.5, schema_version="0.0.8")
    path = _save(tmp_path, _with_meta(members, old))

    report = GeometryPrediction.validate_file(path)
    assert codes(report) == [("migrated", "meta_json.schema_version")]
    assert report.findings[0].severity == "warning" and report.exit_code == 1
    g = GeometryPrediction.read(path)
    assert g.meta.z_h == 0.5 and g.meta.git_sha == "legacy"


def test_migration_registration_is_cleaned_up():
    assert not any(v.startswith("0.0.") for (_, v) in versions._MIGRATIONS)


def test_bad_family_with_legacy_hint(tmp_path, members, meta):
    report = GeometryPrediction.validate_file(
        _save(tmp_path, _with_meta(members, meta, family="hyperscaling"))
    )
    assert codes(report) == [("bad_family", "meta_json.family")]
    assert "hvlf" in report.findings[0].message
    report = GeometryPrediction.validate_file(
        _save(tmp_path, _with_meta(members, meta, family="AdS"))
    )
    assert codes(report) == [("bad_family", "meta_json.family")]
    assert "hvlf" not in report.findings[0].message.split("not in")[0]


def test_d_mismatch_with_name_token(tmp_path, members, meta):
    assert meta["system_name"] == "ads_d3_example"
    report = GeometryPrediction.validate_file(_save(tmp_path, _with_meta(members, meta, d=4)))
    assert codes(report) == [("d_name_mismatch", "meta_json.d")]
    assert "d3" in report.findings[0].message


def test_d_checked_against_system_id_without_name(tmp_path, members, meta):
    changed = _with_meta(members, meta, d=5, system_name=None, system_id="lif_d4_x-0123456789ab")
    assert _findings(_save(tmp_path, changed)) == [("d_name_mismatch", "meta_json.d")]


@pytest.mark.parametrize("d", [0, -3])
def test_d_must_be_positive(tmp_path, members, meta, d):
    changed = _with_meta(members, meta, d=d, system_name="plain")
    assert _findings(_save(tmp_path, changed)) == [("bad_d", "meta_json.d")]


def test_nonpositive_horizon(tmp_path, members, meta):
    assert _findings(_save(tmp_path, _with_meta(members, meta, z_h=-1.0))) == [
        ("bad_value", "meta_json.z_h")
    ]


def test_unknown_meta_key_is_a_warning(tmp_path, members, meta):
    report = GeometryPrediction.validate_file(
        _save(tmp_path, _with_meta(members, meta, sytem_name="x"))
    )
    assert codes(report) == [("unknown_key", "meta_json.sytem_name")]
    assert report.exit_code == 1
    assert "system_name" in report.findings[0].message


def test_every_problem_is_listed(tmp_path, members, meta):
    A = members["A"].copy()
    A[0] = np.nan
    changed = {**_with_meta(members, meta, family="hyperscaling"), "A": A, "R": np.ones(3)}
    with pytest.raises(ArtifactError) as info:
        GeometryPrediction.read(_save(tmp_path, changed))
    found = {c for c, _ in codes(info.value.report)}
    assert {"nonfinite", "bad_family", "length_mismatch"} <= found
    message = str(info.value)
    assert "bad_family" in message and "nonfinite" in message and "bad_geometry.npz" in message


# -- legacy samples ------------------------------------------------------------------------
_LEGACY = (
    sorted((LEGACY_SAMPLES / "fase11_ads_control_geometry").rglob("*_geometry.npz"))
    if LEGACY_SAMPLES
    else []
)


@pytest.mark.skipif(not _LEGACY, reason="legacy samples not found beside the repo")
@pytest.mark.parametrize("path", _LEGACY, ids=lambda p: p.name)
def test_legacy_prediction_files(path):
    report = GeometryPrediction.validate_file(path)
    assert report.exit_code == 2
    found = codes(report)
    assert ("missing_key", "A") in found and ("missing_key", "f") in found
    assert ("missing_key", "meta_json") in found
    messages = {f.location: f.message for f in report.findings}
    assert "legacy member 'A_pred'" in messages["A"]
    assert "legacy member 'f_pred'" in messages["f"]
    with pytest.raises(ArtifactError):
        GeometryPrediction.read(path)


@pytest.mark.skipif(not _LEGACY, reason="legacy samples not found beside the repo")
def test_legacy_samples_all_found():
    assert len(_LEGACY) == 10
