"""layout_encoder (the indented text of one artifact type's documents, by code generated for
its fields) writes exactly the stdlib's ``json.dumps(indent=2, sort_keys=True)`` text, errors
included, whatever the document holds: the values its fields declare (floats -0.0, 1e-300,
the largest and the smallest, unicode text, nested objects and lists), any other value in
their place, keys left out or added; and dumps_json through it keeps the NaN policy."""

from __future__ import annotations

import json
import math
import typing
from typing import Any, Literal

import attrs
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_structure_fast_paths import odd

from holopipe.artifacts.base import HEADER, JSONArtifact
from holopipe.artifacts.equations import BulkEquations
from holopipe.artifacts.io import _numpy_value, dumps_json
from holopipe.artifacts.json_layout import layout_encoder
from holopipe.artifacts.registry import available_types

JSON_TYPES = [cls for cls in available_types().values() if issubclass(cls, JSONArtifact)]


def stdlib(doc: Any) -> str | type:
    """The stdlib's text, or the type of the error it raises."""
    try:
        return json.dumps(doc, indent=2, sort_keys=True, allow_nan=False, default=_numpy_value)
    except (ValueError, TypeError) as exc:
        return type(exc)


def generated(cls: type, doc: Any) -> str | type:
    try:
        return layout_encoder(cls, HEADER)(doc, _numpy_value)
    except (ValueError, TypeError) as exc:
        return type(exc)


floats = st.floats() | st.sampled_from([-0.0, 1e-300, 5e-324, -1e308, 1.7976931348623157e308])
# quotes, escapes, control characters, non-ASCII, surrogates' neighbours: escaped as the stdlib does
texts = st.text(alphabet=st.sampled_from(list('ab"\\\n\t\x00\x1f é€😀\u2028{}')), max_size=8)
unusual = odd | st.sampled_from([np.float64(0.5), np.int64(2), np.arange(2), (1, 2), {1: "k"}])
SCALARS = {float: floats, int: st.integers(), str: texts, bool: st.booleans()}


def values(tp: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values of annotation ``tp`` (as unstructured), and now and then anything else."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if depth > 3:
        return unusual
    if tp in SCALARS:
        declared = SCALARS[tp]
    elif tp is type(None):
        declared = st.none()
    elif origin is Literal:
        declared = st.sampled_from(args)
    elif origin in (typing.Union, __import__("types").UnionType):
        declared = st.one_of([values(arg, depth) for arg in args])
    elif origin is list:
        declared = st.lists(values(args[0], depth + 1), max_size=3)
    elif origin is dict:
        declared = st.dictionaries(texts, values(args[1], depth + 1), max_size=3)
    elif attrs.has(tp):
        declared = documents(tp, depth + 1)
    else:  # Any, arrays: nested JSON-like values
        declared = st.recursive(
            st.none() | floats | texts, lambda c: st.lists(c, max_size=2), max_leaves=4
        )
    return st.one_of(declared, declared, declared, unusual)  # mostly what is declared


def documents(cls: type, depth: int = 0, header: tuple[str, ...] = ()) -> st.SearchStrategy:
    """Unstructured documents of ``cls``: every field (now and then one left out), sometimes
    a key more."""
    hints = typing.get_type_hints(cls)
    fields = {field.name: values(hints[field.name], depth) for field in attrs.fields(cls)}
    fields.update(dict.fromkeys(header, texts))
    complete = st.fixed_dictionaries(fields)
    odd_keys = st.fixed_dictionaries({}, optional={**fields, "zz_extra": unusual})
    return st.one_of(complete, complete, complete, odd_keys)


@pytest.mark.parametrize("cls", JSON_TYPES, ids=lambda cls: cls.SCHEMA_NAME)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_every_json_type_gives_the_stdlib_text_whatever_its_documents_hold(cls, data):
    doc = data.draw(documents(cls, header=HEADER))
    assert generated(cls, doc) == stdlib(doc)
    # the NaN policy of a write (null) and its retry through the same encoder
    assert dumps_json(doc, indented=layout_encoder(cls, HEADER)) == dumps_json(doc)


@pytest.mark.parametrize("cls", JSON_TYPES, ids=lambda cls: cls.SCHEMA_NAME)
def test_every_json_type_writes_its_example_as_before(cls):
    doc = cls.example().to_document()
    assert layout_encoder(cls, HEADER)(doc, _numpy_value) == stdlib(doc)


@attrs.define
class Node:
    """A class that holds itself, optional containers, values it has no code for."""

    name: str
    weight: float | int
    kind: Literal["a", 2] | None
    child: Node | None
    children: list[Node]
    pairs: tuple[int, int]
    table: dict[str, list[float]]
    counts: dict[str, int]
    flags: list[bool]
    anything: Any


def test_odd_layouts_give_the_stdlib_text():
    leaf = {
        "name": "é", "weight": -0.0, "kind": 2, "child": None, "children": [], "pairs": [1, 2],
        "table": {"x": [1e-300, -0.0]}, "counts": {"b": 1, "a": 2}, "flags": [True, False],
        "anything": {"k": [None, {"z": 1}]},
    }  # fmt: skip
    tree = {**leaf, "kind": "a", "weight": 3, "child": leaf, "children": [leaf, leaf, 7]}
    for doc in (leaf, tree, {**tree, "children": [{**leaf, "counts": {"n": True}}]}):
        assert generated(Node, doc) == stdlib(doc)
    assert generated(Node, {**leaf, "weight": math.nan}) is ValueError
    assert generated(Node, {**leaf, "anything": object()}) is TypeError


def test_the_values_asked_for_give_the_stdlib_text():
    doc = BulkEquations.example().to_document()
    system = doc["systems"][0]
    cases = [
        {**system, "R_mean": -0.0, "R_std": 1e-300, "R_expected": 5e-324},
        {**system, "family": 'ünïcødé 😀 "quoted" \\ \n', "equations": ["é", "\u2028"]},
        {**system, "params": {"b": 1e-300, "a": -0.0, "é": 1.7976931348623157e308}},
        {**system, "params": {"nan": math.nan}},  # no text: ValueError, as the stdlib
        {**system, "R_uv": math.inf},
        {**system, "equations": [["nested"], ["lists", [1]]]},
        {**system, "d": True, "n_points": 2**70, "R_mean": 3},  # bool, big int, int for float
        {**system, "model_comparison": {**system["model_comparison"], "extra": 1}},
    ]
    for case in cases:
        full = {**doc, "systems": [case, system]}
        assert generated(BulkEquations, full) == stdlib(full)
        assert dumps_json(full, indented=layout_encoder(BulkEquations, HEADER)) == dumps_json(full)
    assert generated(BulkEquations, {**doc, "systems": [{**system, "R_mean": math.nan}]}) is (
        ValueError
    )
