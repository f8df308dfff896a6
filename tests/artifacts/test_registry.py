"""The schema registry: listing, lookup, detection, JSON Schema export, plugins."""

from __future__ import annotations

import json
import types
import warnings
from typing import ClassVar

import attrs
import numpy as np
import pytest
from hypothesis import given
from strategies import ALL_TYPES, FAST, codes

from holopipe.artifacts import registry
from holopipe.artifacts.base import JSONArtifact
from holopipe.artifacts.prediction import GeometryPrediction
from holopipe.artifacts.report import ValidationReport

#: The types this suite covers; SandboxGeometry, EigenmodesDataset and Dictionary have their
#: own tests, written alongside their modules.
COVERED = tuple(ALL_TYPES)
JSON_COVERED = tuple(n for n in COVERED if n != "GeometryPrediction")
V01_TYPES = (
    "SandboxGeometry",
    "GeometryPrediction",
    "BulkEquations",
    "GeometryContracts",
    "ContractsSummary",
    "EigenmodesDataset",
    "Dictionary",
    "StageSummary",
    "RunManifest",
)


@pytest.fixture(autouse=True)
def fresh_registry():
    """Types discovered afresh from the installed entry points, before and after each test."""
    registry.refresh()
    yield
    registry.refresh()


# -- listing and lookup --------------------------------------------------------------------
def test_available_types_lists_the_builtins():
    found = registry.available_types()
    assert set(COVERED) <= set(found)
    for name, cls in found.items():
        assert cls.SCHEMA_NAME == name
        assert isinstance(cls.SCHEMA_VERSION, str) and cls.SUFFIXES


def test_get_type_imports_a_builtin_module_once(monkeypatch):
    cls = registry.get_type("BulkEquations")
    loads = []
    real = registry._load
    monkeypatch.setattr(registry, "_load", lambda target: loads.append(target) or real(target))
    for _ in range(3):
        assert registry.get_type("BulkEquations") is cls
        assert registry.get_type("BulkEquations", "0.1") is cls
    assert loads == []  # looked up once (every call imported its module again)
    registry.refresh()  # discovery again: the built-ins are imported afresh
    loads.clear()
    assert registry.get_type("BulkEquations") is cls
    assert loads == ["holopipe.artifacts.equations:BulkEquations"]


def test_builtin_table_names_every_v01_type():
    # The import strings themselves, whether or not each module exists yet.
    assert set(V01_TYPES) <= set(registry._BUILTIN_TYPES)
    for name, target in registry._BUILTIN_TYPES.items():
        module, _, attr = target.partition(":")
        assert module.startswith("holopipe.artifacts.") and attr == name


def test_has_sidecars_agrees_with_every_builtin_class():
    # has_sidecars answers for built-ins from a table, without importing them: the table
    # must say what each class declares.
    for name in registry._BUILTIN_TYPES:
        assert registry.has_sidecars(name) is registry.get_type(name).HAS_SIDECARS, name
    assert {n for n in registry._BUILTIN_TYPES if registry.has_sidecars(n)} == {
        "GeometryContracts",
        "EigenmodesDataset",
        "Dictionary",
    }


def test_has_sidecars_asks_a_registered_type():
    @attrs.define
    class Bundle(JSONArtifact):
        SCHEMA_NAME: ClassVar[str] = "TestBundleWithSidecars"
        SCHEMA_VERSION: ClassVar[str] = "0.1"
        SUFFIXES: ClassVar[tuple[str, ...]] = (".bundle.json",)
        HAS_SIDECARS: ClassVar[bool] = True

    registry.register(Bundle)
    try:
        assert registry.has_sidecars("TestBundleWithSidecars")
    finally:
        registry.unregister("TestBundleWithSidecars")


def test_get_type_returns_the_class():
    assert registry.get_type("GeometryPrediction") is GeometryPrediction
    assert registry.get_type("GeometryPrediction", "0.1") is GeometryPrediction


@pytest.mark.parametrize(
    ("typo", "suggestion"),
    [
        ("GeometryPredicton", "GeometryPrediction"),
        ("geometryprediction", "GeometryPrediction"),
        ("StageSumary", "StageSummary"),
        ("BulkEquation", "BulkEquations"),
    ],
)
def test_get_type_unknown_name_suggests_the_closest(typo, suggestion):
    with pytest.raises(registry.UnknownSchemaError, match=f"did you mean '{suggestion}'"):
        registry.get_type(typo)


def test_get_type_unrelated_name_lists_the_known_types():
    with pytest.raises(registry.UnknownSchemaError) as info:
        registry.get_type("qqqqqqqqqqqq")
    message = str(info.value)
    assert "'qqqqqqqqqqqq'" in message
    assert all(name in message for name in COVERED)


@pytest.mark.parametrize("version", ["0.2", "1.0", "0.1.1"])
def test_get_type_refuses_newer_versions(version):
    with pytest.raises(registry.UnknownSchemaError, match="newer than this holopipe supports"):
        registry.get_type("StageSummary", version)


@pytest.mark.parametrize("version", ["0.1", "0.0", "0.0.9"])
def test_get_type_accepts_current_and_older_versions(version):
    assert registry.get_type("StageSummary", version).SCHEMA_NAME == "StageSummary"


# -- detection -----------------------------------------------------------------------------
@pytest.mark.parametrize("name", COVERED)
def test_detect_type_of_written_files(tmp_path, name):
    cls = registry.get_type(name)
    path = cls.example().write(tmp_path / ALL_TYPES[name][1])
    assert registry.detect_type(path) is cls
    report = registry.validate_path(path)
    assert report.schema == name and report.ok, report.lines()


@pytest.mark.parametrize("name", COVERED)
def test_detect_type_by_declared_schema_not_file_name(tmp_path, name):
    cls = registry.get_type(name)
    neutral = "artifact.npz" if cls.FORMAT == "npz" else "artifact.json"
    path = cls.example().write(tmp_path / neutral)
    assert registry.detect_type(path) is cls


@FAST
@given(
    obj=ALL_TYPES["BulkEquations"][0]
    | ALL_TYPES["StageSummary"][0]
    | ALL_TYPES["GeometryPrediction"][0]
)
def test_detect_type_of_random_instances(obj, tmp_path_factory):
    folder = tmp_path_factory.mktemp("detect")
    path = obj.write(folder / ("thing.npz" if obj.FORMAT == "npz" else "thing.json"))
    assert registry.detect_type(path) is type(obj)


def test_detect_legacy_prediction_by_content(tmp_path):
    path = tmp_path / "ads_d3_000_geometry.npz"
    np.savez(path, z=np.linspace(0.1, 1, 5), A_pred=np.zeros(5, dtype=np.float32))
    assert registry.detect_type(path) is GeometryPrediction


@pytest.mark.parametrize(
    ("file_name", "content"),
    [
        ("notes.txt", b"hello\n"),
        ("data.bin", b"\x00\x01\x02"),
        ("pickle.npz", b"\x80\x04\x95"),
        ("other.json", b'{"schema_name": "SomethingElse", "x": 1}'),
    ],
)
def test_unrecognised_files(tmp_path, file_name, content):
    path = tmp_path / file_name
    path.write_bytes(content)
    assert registry.detect_type(path) is None
    report = registry.validate_path(path)
    assert codes(report) == [("unknown_schema", "<file>")]
    assert "--schema" in report.findings[0].message and report.exit_code == 2


def test_validate_path_missing_file(tmp_path):
    report = registry.validate_path(tmp_path / "nope.npz")
    assert codes(report) == [("missing_file", "<file>")] and report.exit_code == 2
    forced = registry.validate_path(tmp_path / "nope.npz", schema="GeometryPrediction")
    assert codes(forced) == [("missing_file", "<file>")]


def test_validate_path_forced_schema(tmp_path):
    path = GeometryPrediction.example().write(tmp_path / "g_geometry.npz")
    report = registry.validate_path(path, schema="StageSummary")
    assert report.schema == "StageSummary" and report.exit_code == 2
    with pytest.raises(registry.UnknownSchemaError):
        registry.validate_path(path, schema="NoSuchType")


# -- JSON Schema ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", JSON_COVERED)
def test_json_schema_has_header_and_required_fields(name):
    cls = registry.get_type(name)
    schema = registry.json_schema(name)
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert schema["type"] == "object" and schema["title"] == name
    assert schema["properties"]["schema_name"] == {"const": name}
    assert schema["properties"]["schema_version"] == {"type": "string"}
    required = [f.name for f in attrs.fields(cls) if f.default is attrs.NOTHING]
    assert schema["required"] == ["schema_name", "schema_version", *required]
    assert set(schema["properties"]) == {
        "schema_name",
        "schema_version",
        *(f.name for f in attrs.fields(cls)),
    }
    json.dumps(schema)  # serialisable


def test_json_schema_required_fields_of_stage_summary():
    schema = registry.json_schema("StageSummary")
    assert {"stage", "experiment", "status", "exit_code", "meta"} <= set(schema["required"])
    assert schema["properties"]["status"]["enum"] == ["OK", "WARNING", "INCOMPLETE", "ERROR"]
    assert schema["properties"]["exit_code"]["type"] == "integer"
    assert "git_sha" in schema["properties"]["meta"]["required"]


def test_json_schema_refused_for_npz_types():
    with pytest.raises(registry.UnknownSchemaError, match="npz"):
        registry.json_schema("GeometryPrediction")
    with pytest.raises(registry.UnknownSchemaError, match="did you mean"):
        registry.json_schema("StageSumary")


@pytest.mark.parametrize("name", JSON_COVERED)
def test_written_documents_satisfy_their_json_schema(tmp_path, name):
    jsonschema = pytest.importorskip("jsonschema")
    cls = registry.get_type(name)
    path = cls.example().write(tmp_path / ALL_TYPES[name][1])
    schema = registry.json_schema(name)
    jsonschema.validate(json.loads(path.read_text()), schema)
    bad = {**json.loads(path.read_text()), "schema_name": "Other"}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)


# -- third-party types ---------------------------------------------------------------------
@attrs.define
class ThirdPartyNote(JSONArtifact):
    """A plugin artifact type, as another package would ship it."""

    SCHEMA_NAME: ClassVar[str] = "ThirdPartyNote"
    SCHEMA_VERSION: ClassVar[str] = "1.0"
    SUFFIXES: ClassVar[tuple[str, ...]] = ("note.json",)

    text: str

    def _check(self, report: ValidationReport) -> None:
        if not self.text:
            report.error("empty", "text", "a note needs text")

    @classmethod
    def example(cls) -> ThirdPartyNote:
        return cls(text="hello")


def _entry_point(name, value, load):
    return types.SimpleNamespace(
        name=name, value=value, group=registry.ENTRY_POINT_GROUP, load=load
    )


def _broken():
    raise ImportError("plugin dependency missing")


PLUGINS = (
    _entry_point("ThirdPartyNote", "notes_pkg:ThirdPartyNote", lambda: ThirdPartyNote),
    _entry_point("Broken", "broken_pkg:Broken", _broken),
    _entry_point("StageSummary", "evil_pkg:StageSummary", lambda: ThirdPartyNote),
)


@pytest.fixture
def plugins():
    """Three plugins as entry points would provide them: a good one, a broken one, an impostor."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        registry.refresh(PLUGINS)
    yield caught
    registry.refresh()


def test_third_party_type_through_entry_points(tmp_path, plugins):
    caught = plugins
    found = registry.available_types()
    assert found["ThirdPartyNote"] is ThirdPartyNote
    # A plugin cannot replace a built-in, and a broken one is skipped with a warning.
    assert found["StageSummary"].__module__ == "holopipe.artifacts.records"
    assert "Broken" not in found
    messages = [str(w.message) for w in caught]
    assert any("Broken" in m and "failed to load" in m for m in messages)
    assert any("'StageSummary' is built in" in m for m in messages)

    assert registry.get_type("ThirdPartyNote") is ThirdPartyNote
    path = ThirdPartyNote.example().write(tmp_path / "my.note.json")
    assert registry.detect_type(path) is ThirdPartyNote
    assert registry.validate_path(path).ok
    assert registry.json_schema("ThirdPartyNote")["required"] == [
        "schema_name",
        "schema_version",
        "text",
    ]
    with pytest.raises(registry.UnknownSchemaError, match="newer"):
        registry.get_type("ThirdPartyNote", "2.0")


def test_plugins_disappear_after_refresh(plugins):
    assert "ThirdPartyNote" in registry.available_types()
    assert "ThirdPartyNote" in registry.available_types()  # cached, not rediscovered
    registry.refresh([])
    assert "ThirdPartyNote" not in registry.available_types()


def test_refresh_keeps_run_time_registrations():
    @attrs.define
    class KeptNote(ThirdPartyNote):
        SCHEMA_NAME: ClassVar[str] = "KeptNote"

    registry.register(KeptNote)
    try:
        assert registry.refresh([])["KeptNote"] is KeptNote
    finally:
        registry.unregister("KeptNote")
    assert "KeptNote" not in registry.available_types()


@attrs.define
class CrashingNote(ThirdPartyNote):
    """A plugin whose sniffing raises on every file (a bug in someone else's package)."""

    SCHEMA_NAME: ClassVar[str] = "CrashingNote"
    HAS_SIDECARS: ClassVar[bool] = True  # so the registry asks its primary_of too

    @classmethod
    def guess_can_open(cls, path):
        raise RuntimeError("plugin bug")

    @classmethod
    def primary_of(cls, sidecar):
        raise KeyError("plugin bug")


def test_broken_plugin_guess_can_open_is_warned_and_skipped(tmp_path):
    crashing = _entry_point("CrashingNote", "crash_pkg:CrashingNote", lambda: CrashingNote)
    registry.refresh([crashing])
    good = GeometryPrediction.example().write(tmp_path / "geometry_prediction.npz")
    other = tmp_path / "notes.json"
    other.write_text('{"schema_name": "SomethingElse"}')
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report = registry.validate_path(good)
        unknown = registry.validate_path(other)
    assert report.ok and report.schema == "GeometryPrediction"
    assert [f.code for f in unknown.errors] == ["unknown_schema"]
    messages = [str(w.message) for w in caught]
    assert any("CrashingNote" in m and "guess_can_open failed" in m for m in messages)
    assert any("CrashingNote" in m and "primary_of failed" in m for m in messages)


def test_a_builtin_type_that_raises_is_not_hidden(tmp_path, monkeypatch):
    # holopipe's own bug must surface (exit 3), not become a warning.
    def crash(path):
        raise RuntimeError("holopipe bug")

    path = GeometryPrediction.example().write(tmp_path / "x.npz")  # a zip: the type is asked
    monkeypatch.setattr(GeometryPrediction, "guess_can_open", crash)
    with pytest.raises(RuntimeError, match="holopipe bug"):
        registry.detect_type(path)


def test_register_at_run_time(tmp_path):
    @attrs.define
    class RuntimeNote(ThirdPartyNote):
        SCHEMA_NAME: ClassVar[str] = "RuntimeNote"

    try:
        assert registry.register(RuntimeNote) is RuntimeNote
        assert registry.get_type("RuntimeNote") is RuntimeNote
        path = RuntimeNote(text="x").write(tmp_path / "r.json")
        assert registry.detect_type(path) is RuntimeNote
        bad = tmp_path / "bad.json"
        bad.write_text(path.read_text().replace('"x"', '""'))
        assert codes(registry.validate_path(bad)) == [("empty", "text")]
    finally:
        registry.unregister("RuntimeNote")
    with pytest.raises(registry.UnknownSchemaError):
        registry.get_type("RuntimeNote")
