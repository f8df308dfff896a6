"""JSON artifact types: StageSummary, RunManifest, BulkEquations, GeometryContracts,
ContractsSummary. Round trips and one bad file per finding class."""

from __future__ import annotations

import json
from pathlib import Path

import attrs
import pytest
from hypothesis import given
from strategies import ALL_TYPES, FAST, codes, stray_files, write_json

from holopipe.artifacts import versions
from holopipe.artifacts.contracts import SUMMARY_NAME, ContractsSummary, GeometryContracts
from holopipe.artifacts.equations import BulkEquations
from holopipe.artifacts.io import loads_json
from holopipe.artifacts.records import FileRecord, RunManifest, StageRecord, StageSummary
from holopipe.artifacts.report import ArtifactError

CLASSES = {
    cls.SCHEMA_NAME: cls
    for cls in (StageSummary, RunManifest, BulkEquations, GeometryContracts, ContractsSummary)
}
JSON_TYPES = list(CLASSES)


def _all_bytes(cls, path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in cls.files(path)}


# -- round trips ---------------------------------------------------------------------------
def _round_trip(name, obj, folder):
    cls = type(obj)
    assert cls.SCHEMA_NAME == name
    file_name = ALL_TYPES[name][1]
    a = obj.write(folder / "a" / file_name)
    b = obj.write(folder / "b" / file_name)
    assert _all_bytes(cls, a) == _all_bytes(cls, b)

    back = cls.read(a)
    assert back == obj
    assert back.write(folder / "c" / file_name).read_bytes() == a.read_bytes()
    report = cls.validate_file(a)
    assert report.ok, report.lines()
    # Written files are strict JSON with sorted keys and the header.
    doc = loads_json(a.read_text(encoding="utf-8"))
    assert doc["schema_name"] == name and doc["schema_version"] == cls.SCHEMA_VERSION
    assert list(doc) == sorted(doc)
    for sub in ("a", "b", "c"):
        assert stray_files(folder / sub) == []


@FAST
@given(obj=ALL_TYPES["StageSummary"][0])
def test_round_trip_stage_summary(obj, tmp_path_factory):
    _round_trip("StageSummary", obj, tmp_path_factory.mktemp("rt"))


@FAST
@given(obj=ALL_TYPES["RunManifest"][0])
def test_round_trip_run_manifest(obj, tmp_path_factory):
    _round_trip("RunManifest", obj, tmp_path_factory.mktemp("rt"))


@FAST
@given(obj=ALL_TYPES["BulkEquations"][0])
def test_round_trip_bulk_equations(obj, tmp_path_factory):
    _round_trip("BulkEquations", obj, tmp_path_factory.mktemp("rt"))


@FAST
@given(obj=ALL_TYPES["GeometryContracts"][0])
def test_round_trip_geometry_contracts(obj, tmp_path_factory):
    folder = tmp_path_factory.mktemp("rt")
    _round_trip("GeometryContracts", obj, folder)
    # The summary beside it is a valid ContractsSummary equal to obj.summary().
    assert ContractsSummary.read(folder / "a" / SUMMARY_NAME) == obj.summary()


@FAST
@given(obj=ALL_TYPES["ContractsSummary"][0])
def test_round_trip_contracts_summary(obj, tmp_path_factory):
    _round_trip("ContractsSummary", obj, tmp_path_factory.mktemp("rt"))


@pytest.mark.parametrize("name", JSON_TYPES)
def test_example_is_valid(name):
    report = CLASSES[name].example().validate()
    assert report.ok, report.lines()


def test_contracts_summary_totals():
    c = GeometryContracts.example()
    extra = attrs.evolve(c.systems[0].contracts[0], name="null_energy", passed=False)
    skipped = attrs.evolve(extra, evaluated=False, passed=None)
    c.systems[0].contracts += [extra, skipped]
    s = c.summary()
    assert (s.totals.evaluated, s.totals.passed, s.totals.failed, s.totals.not_evaluated) == (
        2,
        1,
        1,
        1,
    )
    assert s.per_contract["null_energy"].failed == 1 and s.verdict == "FAIL"
    for outcome in c.systems[0].contracts:
        outcome.evaluated, outcome.passed = False, None
    assert c.summary().verdict == "INCOMPLETE"
    assert codes(c.validate()) == [("nothing_evaluated", "systems")]


# -- invalid objects are never written -----------------------------------------------------
def _invalid(name):
    obj = CLASSES[name].example()
    if name == "StageSummary":
        obj.exit_code = 3
        return obj, ("status_mismatch", "exit_code")
    if name == "RunManifest":
        obj.experiment = 7
        return obj, ("wrong_type", "experiment")
    if name == "BulkEquations":
        obj.systems[0].family = "hyperscaling"
        return obj, ("bad_family", "systems[0].family")
    if name == "GeometryContracts":
        obj.systems[0].contracts[0].passed = None
        return obj, ("bad_value", "systems[0].contracts[0].passed")
    obj.totals.passed = "1"
    return obj, ("wrong_type", "totals.passed")


@pytest.mark.parametrize("name", JSON_TYPES)
def test_invalid_write_raises_and_leaves_old_files(tmp_path, name):
    cls = CLASSES[name]
    path = cls.example().write(tmp_path / ALL_TYPES[name][1])
    before = _all_bytes(cls, path)
    bad, expected = _invalid(name)
    with pytest.raises(ArtifactError) as info:
        bad.write(path)
    assert expected in codes(info.value.report)
    assert _all_bytes(cls, path) == before
    assert stray_files(tmp_path) == []


@pytest.mark.parametrize("name", JSON_TYPES)
def test_invalid_write_to_new_path_creates_nothing(tmp_path, name):
    bad, _ = _invalid(name)
    with pytest.raises(ArtifactError):
        bad.write(tmp_path / "sub" / ALL_TYPES[name][1])
    assert not (tmp_path / "sub").exists() or list((tmp_path / "sub").iterdir()) == []


# -- one bad file per finding class --------------------------------------------------------
@pytest.fixture
def summary_doc(tmp_path) -> dict:
    path = StageSummary.example().write(tmp_path / "good" / "stage_summary.json")
    return json.loads(path.read_text())


def _check(cls, path) -> list[tuple[str, str]]:
    report = cls.validate_file(path)
    if not report.ok:
        with pytest.raises(ArtifactError):
            cls.read(path)
    return codes(report)


def test_status_exit_code_mismatch(tmp_path, summary_doc):
    path = write_json(tmp_path / "stage_summary.json", {**summary_doc, "exit_code": 2})
    report = StageSummary.validate_file(path)
    assert codes(report) == [("status_mismatch", "exit_code")]
    assert "OK" in report.findings[0].message and report.exit_code == 2


def test_error_status_without_reason_is_a_warning(tmp_path, summary_doc):
    path = write_json(
        tmp_path / "stage_summary.json", {**summary_doc, "status": "ERROR", "exit_code": 3}
    )
    report = StageSummary.validate_file(path)
    assert codes(report) == [("no_reason", "errors")]
    assert report.exit_code == 1
    assert StageSummary.read(path).status == "ERROR"


def test_bad_counts(tmp_path, summary_doc):
    summary_doc["counts"]["inputs_failed"] = 5
    assert _check(StageSummary, write_json(tmp_path / "s.json", summary_doc)) == [
        ("bad_counts", "counts")
    ]


def test_status_outside_the_literal(tmp_path, summary_doc):
    found = _check(StageSummary, write_json(tmp_path / "s.json", {**summary_doc, "status": "FINE"}))
    assert found == [("bad_value", "status")]


@pytest.mark.parametrize(
    ("mutate", "location"),
    [
        (lambda d: d.update(exit_code="0"), "exit_code"),
        (lambda d: d.update(exit_code=0.0), "exit_code"),
        (lambda d: d["counts"].update(outputs_rows="12"), "counts.outputs_rows"),
        (lambda d: d.update(timings={"total": "1.5"}), "timings.total"),
        (lambda d: d["meta"].update(git_dirty="False"), "meta.git_dirty"),
        (lambda d: d.update(errors="boom"), "errors"),
        (lambda d: d.update(errors=["ok", 3]), "errors[1]"),
        (lambda d: d.update(meta="abc"), "meta"),
    ],
    ids=[
        "str-int",
        "float-int",
        "nested",
        "str-number",
        "str-bool",
        "str-list",
        "list-item",
        "str-object",
    ],
)
def test_wrong_type(tmp_path, summary_doc, mutate, location):
    mutate(summary_doc)
    found = _check(StageSummary, write_json(tmp_path / "s.json", summary_doc))
    assert found == [("wrong_type", location)]


def test_string_where_number_in_bulk_equations(tmp_path):
    doc = BulkEquations.example().to_document()
    doc["systems"][0]["R_mean"] = "-12"
    found = _check(BulkEquations, write_json(tmp_path / "bulk_equations.json", doc))
    assert found == [("wrong_type", "systems[0].R_mean")]


@pytest.mark.parametrize(
    ("remove", "location"),
    [
        (("experiment",), "experiment"),
        (("meta", "created_at"), "meta.created_at"),
        (("status",), "status"),
    ],
)
def test_missing_key(tmp_path, summary_doc, remove, location):
    target = summary_doc
    for key in remove[:-1]:
        target = target[key]
    del target[remove[-1]]
    assert _check(StageSummary, write_json(tmp_path / "s.json", summary_doc)) == [
        ("missing_key", location)
    ]


@pytest.mark.parametrize("key", ["schema_name", "schema_version"])
def test_missing_header(tmp_path, summary_doc, key):
    del summary_doc[key]
    assert _check(StageSummary, write_json(tmp_path / "s.json", summary_doc)) == [
        ("missing_key", key)
    ]


def test_wrong_schema_name(tmp_path, summary_doc):
    path = write_json(tmp_path / "s.json", {**summary_doc, "schema_name": "RunManifest"})
    assert _check(StageSummary, path) == [("wrong_schema", "schema_name")]


def test_unknown_key_warns_with_suggestion(tmp_path, summary_doc):
    path = write_json(tmp_path / "s.json", {**summary_doc, "experimnt": "x"})
    report = StageSummary.validate_file(path)
    assert codes(report) == [("unknown_key", "experimnt")]
    assert "did you mean 'experiment'" in report.findings[0].message
    assert report.exit_code == 1


@pytest.mark.parametrize("text", ["[1, 2]", "3", '"x"', "null"])
def test_top_level_not_an_object(tmp_path, text):
    (tmp_path / "s.json").write_text(text)
    assert _check(StageSummary, tmp_path / "s.json") == [("wrong_type", "<root>")]


@pytest.mark.parametrize("cut", [1, 10, 200])
def test_truncated_json(tmp_path, summary_doc, cut):
    text = json.dumps(summary_doc, indent=2)
    (tmp_path / "s.json").write_text(text[:-cut])
    report = StageSummary.validate_file(tmp_path / "s.json")
    assert codes(report) == [("malformed_json", "<file>")]
    assert "line" in report.findings[0].message and "column" in report.findings[0].message


@pytest.mark.parametrize("text", ["", "{", "{'a': 1}", '{"a": 1,}', "{} extra"])
def test_malformed_json(tmp_path, text):
    (tmp_path / "s.json").write_text(text)
    assert _check(StageSummary, tmp_path / "s.json") == [("malformed_json", "<file>")]


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_bare_nan_token(tmp_path, summary_doc, token):
    text = json.dumps({**summary_doc, "metrics": {"loss": 0.25}}).replace("0.25", token)
    (tmp_path / "s.json").write_text(text)
    report = StageSummary.validate_file(tmp_path / "s.json")
    assert codes(report) == [("malformed_json", "<file>")]
    assert (
        f"bare {token.lstrip('-')}" in report.findings[0].message
        or f"bare {token}" in report.findings[0].message
    )


def test_overflowing_number_is_nonfinite(tmp_path, summary_doc):
    # 1e400 is valid JSON syntax but parses to inf.
    text = json.dumps({**summary_doc, "metrics": {"x": 0.5}}).replace("0.5", "1e400")
    (tmp_path / "s.json").write_text(text)
    assert _check(StageSummary, tmp_path / "s.json") == [("nonfinite", "metrics.x")]


def test_not_utf8(tmp_path):
    (tmp_path / "s.json").write_bytes(b'{"schema_name": "\xff\xfe"}')
    assert _check(StageSummary, tmp_path / "s.json") == [("unreadable", "<file>")]


def test_missing_file(tmp_path):
    for cls in (StageSummary, RunManifest, BulkEquations, GeometryContracts, ContractsSummary):
        assert _check(cls, tmp_path / "absent.json") == [("missing_file", "<file>")]


def test_newer_schema_version(tmp_path, summary_doc):
    path = write_json(tmp_path / "s.json", {**summary_doc, "schema_version": "0.2"})
    report = StageSummary.validate_file(path)
    assert codes(report) == [("newer_schema_version", "schema_version")]
    assert "0.2" in report.findings[0].message and "0.1" in report.findings[0].message


def test_unknown_older_version_without_migration(tmp_path, summary_doc):
    path = write_json(tmp_path / "s.json", {**summary_doc, "schema_version": "0.0.5"})
    assert _check(StageSummary, path) == [("unknown_schema_version", "schema_version")]


def test_registered_migration_upgrades_older_version(tmp_path, summary_doc):
    def rename(doc):
        doc = dict(doc)
        doc["experiment"] = doc.pop("exp")
        return doc

    key = ("StageSummary", "0.0.42")
    assert key not in versions._MIGRATIONS
    versions.register_migration(*key, "0.1")(rename)
    try:
        old = {k: v for k, v in summary_doc.items() if k != "experiment"}
        old.update(exp="legacy_run", schema_version="0.0.42")
        path = write_json(tmp_path / "stage_summary.json", old)
        report = StageSummary.validate_file(path)
        assert codes(report) == [("migrated", "schema_version")]
        assert report.exit_code == 1
        upgraded = StageSummary.read(path)
        assert upgraded.experiment == "legacy_run"
        # Writing it again stores the current version.
        out = upgraded.write(tmp_path / "new" / "stage_summary.json")
        assert json.loads(out.read_text())["schema_version"] == "0.1"
    finally:
        versions._MIGRATIONS.pop(key, None)
    assert key not in versions._MIGRATIONS
    assert _check(StageSummary, path) == [("unknown_schema_version", "schema_version")]


# -- RunManifest ---------------------------------------------------------------------------
def _manifest_with_stage(**file_changes):
    record = StageRecord(
        stage="02_emergent_geometry_engine",
        status="OK",
        exit_code=0,
        command=["holopipe", "stage", "02"],
        git_sha="abc",
        started_at="t0",
        finished_at="t1",
        fingerprint="0" * 64,
        outputs=[FileRecord("predictions", "02_x/a_geometry.npz", "f" * 64)],
    )
    for k, v in file_changes.items():
        setattr(record.outputs[0], k, v)
    m = RunManifest.example()
    m.stages[record.stage] = record
    return m


def test_run_manifest_valid_with_stage(tmp_path):
    m = _manifest_with_stage()
    assert RunManifest.read(m.write(tmp_path / "run_manifest.json")) == m


@pytest.mark.parametrize(
    ("change", "code", "location"),
    [
        (
            {"path": "/abs/a.npz"},
            "outside_run",
            "stages.02_emergent_geometry_engine.outputs[0].path",
        ),
        (
            {"path": "../up/a.npz"},
            "outside_run",
            "stages.02_emergent_geometry_engine.outputs[0].path",
        ),
        ({"sha256": "abc"}, "bad_hash", "stages.02_emergent_geometry_engine.outputs[0].sha256"),
    ],
)
def test_run_manifest_file_records(tmp_path, change, code, location):
    doc = _manifest_with_stage().to_document()
    doc["stages"]["02_emergent_geometry_engine"]["outputs"][0].update(change)
    assert _check(RunManifest, write_json(tmp_path / "run_manifest.json", doc)) == [
        (code, location)
    ]


def test_run_manifest_dangling_alias(tmp_path):
    doc = _manifest_with_stage().to_document()
    doc["aliases"] = {"predictions": "02_emergent_geometry_engine", "equations": "03_missing/x"}
    assert _check(RunManifest, write_json(tmp_path / "run_manifest.json", doc)) == [
        ("dangling_alias", "aliases.equations")
    ]


def test_run_manifest_key_mismatch(tmp_path):
    doc = _manifest_with_stage().to_document()
    doc["stages"]["03_other"] = doc["stages"].pop("02_emergent_geometry_engine")
    assert _check(RunManifest, write_json(tmp_path / "run_manifest.json", doc)) == [
        ("key_mismatch", "stages.03_other.stage")
    ]


# -- BulkEquations -------------------------------------------------------------------------
def _equations_doc(**changes):
    doc = BulkEquations.example().to_document()
    doc["systems"][0].update(changes)
    return doc


def test_bulk_equations_d_name_mismatch(tmp_path):
    doc = _equations_doc(system_id="ads_d4_Tfinite_known_000-0123456789ab")
    report = BulkEquations.validate_file(write_json(tmp_path / "bulk_equations.json", doc))
    assert codes(report) == [("d_name_mismatch", "systems[0].d")]
    assert "d4" in report.findings[0].message


def test_bulk_equations_bad_family_hint(tmp_path):
    doc = _equations_doc(family="hyperscaling")
    report = BulkEquations.validate_file(write_json(tmp_path / "bulk_equations.json", doc))
    assert codes(report) == [("bad_family", "systems[0].family")]
    assert "use 'hvlf'" in report.findings[0].message


def test_bulk_equations_duplicate_and_empty(tmp_path):
    doc = BulkEquations.example().to_document()
    doc["systems"].append(doc["systems"][0])
    assert _check(BulkEquations, write_json(tmp_path / "a.json", doc)) == [
        ("duplicate", "systems[1].system_id")
    ]
    doc["systems"] = []
    assert _check(BulkEquations, write_json(tmp_path / "b.json", doc)) == [("empty", "systems")]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"n_points": 2}, ("too_short", "systems[0].n_points")),
        ({"R_std": -1.0}, ("bad_value", "systems[0]")),
        ({"verdict": "maybe"}, ("bad_value", "systems[0].verdict")),
        ({"d": 0}, ("bad_d", "systems[0].d")),
    ],
)
def test_bulk_equations_values(tmp_path, changes, expected):
    path = write_json(tmp_path / "bulk_equations.json", _equations_doc(**changes))
    assert _check(BulkEquations, path) == [expected]


def test_bulk_equations_nested_wrong_type(tmp_path):
    doc = _equations_doc()
    doc["systems"][0]["model_comparison"]["aic_constant"] = None
    path = write_json(tmp_path / "bulk_equations.json", doc)
    assert _check(BulkEquations, path) == [
        ("wrong_type", "systems[0].model_comparison.aic_constant")
    ]


# -- GeometryContracts and its summary -----------------------------------------------------
@pytest.fixture
def contracts_path(tmp_path) -> Path:
    return GeometryContracts.example().write(tmp_path / "geometry_contracts.json")


def test_contracts_summary_missing(contracts_path):
    (contracts_path.parent / SUMMARY_NAME).unlink()
    report = GeometryContracts.validate_file(contracts_path)
    assert codes(report) == [("missing_file", SUMMARY_NAME)]
    assert report.exit_code == 2


def test_contracts_summary_stale(contracts_path):
    summary = contracts_path.parent / SUMMARY_NAME
    doc = json.loads(summary.read_text())
    doc["totals"]["passed"] = 0
    doc["verdict"] = "FAIL"
    write_json(summary, doc)
    assert _check(GeometryContracts, contracts_path) == [("stale_summary", SUMMARY_NAME)]
    # The summary on its own is still a valid ContractsSummary.
    assert ContractsSummary.validate_file(summary).ok


def test_contracts_stale_after_contract_changes(contracts_path):
    doc = json.loads(contracts_path.read_text())
    doc["systems"][0]["contracts"][0]["passed"] = False
    write_json(contracts_path, doc)
    assert _check(GeometryContracts, contracts_path) == [("stale_summary", SUMMARY_NAME)]


def test_contracts_summary_invalid_is_reported_with_its_file(contracts_path):
    summary = contracts_path.parent / SUMMARY_NAME
    summary.write_text(
        '{"schema_name": "ContractsSummary", "schema_version": "0.1", "n_systems": NaN}'
    )
    assert _check(GeometryContracts, contracts_path) == [
        ("malformed_json", f"{SUMMARY_NAME}:<file>")
    ]


def test_contracts_d_name_and_family(tmp_path):
    doc = GeometryContracts.example().to_document()
    doc["systems"][0].update(system_id="lifshitz_d4_z2_001-0123456789ab", family="hyperscaling")
    path = write_json(tmp_path / "geometry_contracts.json", doc)
    report = GeometryContracts.validate_file(path)
    assert ("d_name_mismatch", "systems[0].d") in codes(report)
    assert ("bad_family", "systems[0].family") in codes(report)
    assert "hvlf" in next(f.message for f in report.findings if f.code == "bad_family")


@pytest.mark.parametrize(("evaluated", "passed"), [(True, None), (False, True)])
def test_contracts_pass_requires_evaluation(tmp_path, evaluated, passed):
    c = GeometryContracts.example()
    c.systems[0].contracts[0].evaluated = evaluated
    c.systems[0].contracts[0].passed = passed
    errors = [(f.code, f.location) for f in c.validate().errors]
    assert errors == [("bad_value", "systems[0].contracts[0].passed")]


def test_examples_describe_the_same_system():
    from holopipe.artifacts.prediction import GeometryPrediction

    ident = GeometryPrediction.example().meta.system_id
    assert BulkEquations.example().systems[0].system_id == ident
    assert GeometryContracts.example().systems[0].system_id == ident


@pytest.mark.parametrize("kind", [StageSummary, RunManifest])
@pytest.mark.parametrize(
    "text, code", [("null", "wrong_type"), ("[1]", "wrong_type"), ("{", "malformed_json")]
)
def test_a_json_file_that_is_no_object_is_one_finding(tmp_path, kind, text, code):
    """Every JSON type reads through one reader: the run manifest (an index with its
    records) reports a ``null`` or a list as not an object, as a plain JSON type does."""
    path = tmp_path / kind.SUFFIXES[0].lstrip(".")
    path.write_text(text)
    report, value = kind.read_with_report(path)
    assert value is None
    assert [f.code for f in report.errors] == [code]


def test_a_manifest_whose_record_is_missing_is_unreadable(tmp_path):
    index = {"stages": {"01_x": {"record": "run_manifest.d/01_x.json", "sha256": "0" * 64}}}
    path = tmp_path / "run_manifest.json"
    path.write_text(json.dumps({"schema_name": "RunManifest", **index}))
    report, value = RunManifest.read_with_report(path)
    assert value is None
    assert [f.code for f in report.errors] == ["missing_file"]
    with pytest.raises(ValueError, match="missing_file"):
        RunManifest.read_document(path)
