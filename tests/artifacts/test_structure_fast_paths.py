"""check_structure's fast paths (a flat record, a list or map of plain scalars told valid
without walking each value) never change a finding: a document gives the very findings of
the full walk, element by element, whatever is wrong in it."""

from __future__ import annotations

import math
from typing import Literal

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from holopipe.artifacts.records import MetricCheck, StageSummary
from holopipe.artifacts.report import ValidationReport
from holopipe.artifacts.structure import _checker, _plain_record, check_structure, converter


@attrs.define
class Flat:
    name: str
    value: float | None
    count: int
    flag: bool
    kind: Literal["a", "b"] = "a"


@attrs.define
class Holder:
    items: list[Flat]
    numbers: dict[str, float]
    words: list[str]


class Text(str):
    pass


odd = st.sampled_from(
    [None, True, False, 0, 1, -1, 2**63, -(2**63) - 1, 1.5, -0.0, math.nan, math.inf,
     -math.inf, 1e308, "a", "b", "c", "", Text("a"), [], {}, [1], {"x": 1}]
)  # fmt: skip
flat_dicts = st.fixed_dictionaries(
    {},
    optional={
        "name": odd | st.text(max_size=3),
        "value": odd | st.floats(),
        "count": odd | st.integers(),
        "flag": odd,
        "kind": odd,
        "extra": odd,
    },
)
holders = st.fixed_dictionaries(
    {
        "items": st.lists(flat_dicts, max_size=6),
        "numbers": st.dictionaries(st.text(max_size=3), odd | st.floats(), max_size=6),
        "words": st.lists(odd | st.text(max_size=3), max_size=6),
    }
)


def lines(report: ValidationReport) -> list[str]:
    return report.lines()


def element_by_element(doc: dict) -> list[str]:
    """The full walk's findings: every element checked on its own, with no fast path."""
    report = ValidationReport()
    for i, item in enumerate(doc["items"]):
        check_structure(Flat, item, report, f"items[{i}]")
    for key, value in doc["numbers"].items():
        _checker(float)(value, f"numbers.{key}", report, "warning")
    for i, word in enumerate(doc["words"]):
        _checker(str)(word, f"words[{i}]", report, "warning")
    return lines(report)


@settings(max_examples=600, deadline=None)
@given(holders)
def test_the_fast_paths_give_the_findings_of_the_full_walk(doc):
    report = ValidationReport()
    check_structure(Holder, doc, report)
    assert lines(report) == element_by_element(doc)


def test_a_plain_record_is_told_in_one_test_and_any_doubt_takes_the_full_check():
    plain = _plain_record(Flat)
    good = {"name": "x", "value": 0.5, "count": 3, "flag": True, "kind": "b"}
    assert plain(good) and plain({**good, "value": None})
    for doubt in (
        {**good, "value": math.nan},
        {**good, "value": 1},  # an int in a float field: the full check decides
        {**good, "count": 2**63},
        {**good, "flag": 1},
        {**good, "kind": "c"},
        {**good, "name": Text("x")},
        {k: v for k, v in good.items() if k != "kind"},  # an optional key missing
        {**good, "extra": 1},
    ):
        assert not plain(doubt), doubt
    assert _plain_record(Holder) is None  # not flat: always the full walk


def test_a_summary_with_a_bad_check_among_many_names_it():
    summary = StageSummary.example()
    summary.checks = [MetricCheck(f"s{i}.x", 1e-9, 1e-6, True) for i in range(500)]
    doc = converter.unstructure(summary)
    doc["checks"][321]["value"] = "0.1"
    doc["checks"][7]["passed"] = "True"
    report = ValidationReport()
    check_structure(StageSummary, doc, report)
    assert [f.location for f in report.findings] == ["checks[7].passed", "checks[321].value"]
