"""exact_structurer (the one-pass read of a document without findings) never changes what
is read: whatever a document holds, it either builds the very object the full path
(check_structure, then cattrs) builds from a document without any finding, or declines and
the full path runs; and every JSON artifact type written and read through it round-trips."""

from __future__ import annotations

import copy
import json
import math
from typing import Any, Literal

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_structure_fast_paths import Text, odd

from holopipe.artifacts.base import JSONArtifact
from holopipe.artifacts.equations import BulkEquations
from holopipe.artifacts.registry import available_types
from holopipe.artifacts.report import ValidationReport
from holopipe.artifacts.structure import (
    check_structure,
    converter,
    exact_check,
    exact_structurer,
)


@attrs.define
class Inner:
    kind: Literal["a", "b"]
    value: float | None = None


@attrs.define
class Outer:
    name: str
    count: int
    flag: bool
    inner: Inner
    items: list[Inner]
    numbers: dict[str, float]
    words: list[str]
    anything: Any = None
    size: int = attrs.field(default=0, validator=attrs.validators.ge(0))


inner_dicts = st.fixed_dictionaries(
    {}, optional={"kind": odd | st.sampled_from(["a", "b"]), "value": odd | st.floats()}
)
outer_dicts = st.fixed_dictionaries(
    {},
    optional={
        "name": odd | st.text(max_size=3),
        "count": odd | st.integers(),
        "flag": odd,
        "inner": odd | inner_dicts,
        "items": odd | st.lists(odd | inner_dicts, max_size=4),
        "numbers": odd | st.dictionaries(st.text(max_size=3), odd | st.floats(), max_size=4),
        "words": odd | st.lists(odd | st.text(max_size=3), max_size=4),
        "anything": odd,
        "size": odd | st.integers(min_value=-2, max_value=2),
        "extra": odd,
    },
)


def full_path(cls: type, raw: Any) -> Any:
    """What the reader built before: None when the check has any finding (a warning too:
    the one-pass build declines those), else cattrs' object (None if a validator refuses)."""
    report = ValidationReport()
    check_structure(cls, raw, report)
    if report.findings:
        return None
    try:
        return converter.structure(raw, cls)
    except Exception:  # noqa: BLE001 - a validator's refusal
        return None


@settings(max_examples=800, deadline=None)
@given(outer_dicts)
def test_it_builds_what_the_full_path_builds_or_declines(raw):
    built = exact_structurer(Outer)(raw)
    if built is not None:
        full = full_path(Outer, raw)
        assert built == full
        # equal and of the same types (1 == 1.0: the text tells an int from a float)
        assert json.dumps(converter.unstructure(built)) == json.dumps(converter.unstructure(full))
        assert type(built.inner) is Inner and all(type(i) is Inner for i in built.items)
    report = ValidationReport()
    check_structure(Outer, raw, report)
    if exact_check(Outer)(raw):  # the check of a write: no finding, whatever the validators
        assert not report.findings
        assert built is not None or raw.get("size", 0) < 0


def test_it_builds_a_complete_document_and_declines_every_doubt():
    good = {
        "name": "x", "count": 3, "flag": True, "inner": {"kind": "a", "value": 0.5},
        "items": [{"kind": "b", "value": None}], "numbers": {"n": 1.5}, "words": ["w"],
        "anything": [1, {"k": None}], "size": 2,
    }  # fmt: skip
    build = exact_structurer(Outer)
    assert build(good) == converter.structure(good, Outer)
    assert build(good).items is not good["items"]  # copied, as cattrs copies
    doubts = {
        "int in a float field": {**good, "inner": {"kind": "a", "value": 1}},
        "nan": {**good, "numbers": {"n": math.nan}},
        "bool as int": {**good, "count": True},
        "64-bit range": {**good, "count": 2**63},
        "literal": {**good, "items": [{"kind": "c", "value": None}]},
        "str subclass": {**good, "name": Text("x")},
        "unknown key": {**good, "extra": 1},
        "optional key left out": {k: v for k, v in good.items() if k != "size"},
        "validator": {**good, "size": -1},
        "not a dict": [good],
    }
    for why, raw in doubts.items():
        assert build(raw) is None, why
        assert exact_check(Outer)(raw) is (why == "validator"), why  # it runs no validator


def test_a_class_it_cannot_build_has_no_builder():
    @attrs.define
    class Tupled:
        pair: tuple[int, int]

    @attrs.define
    class Private:
        _hidden: int

    @attrs.define
    class Either:
        value: int | str

    for cls in (Tupled, Private, Either):
        assert exact_structurer(cls) is None and exact_check(cls) is None


JSON_TYPES = [cls for cls in available_types().values() if issubclass(cls, JSONArtifact)]


@pytest.mark.parametrize("cls", JSON_TYPES, ids=lambda cls: cls.SCHEMA_NAME)
def test_every_json_type_reads_back_what_it_wrote(cls, tmp_path):
    example = cls.example()
    path = example.write(tmp_path / f"x{cls.SUFFIXES[-1]}")
    report, read = cls.read_with_report(path)
    assert report.ok and read == example
    if not cls.HAS_SIDECARS:  # one document: the text of to_json, as it always was
        assert path.read_text(encoding="utf-8") == example.to_json()


def test_a_bad_value_in_a_written_file_is_still_named(tmp_path):
    doc = BulkEquations.example().to_document()
    bad = copy.deepcopy(doc)
    bad["systems"][0]["n_points"] = 2.5
    path = tmp_path / "x.json"
    path.write_text(json.dumps(bad))
    report, obj = BulkEquations.read_with_report(path)
    assert obj is None
    assert [f.location for f in report.errors] == ["systems[0].n_points"]
