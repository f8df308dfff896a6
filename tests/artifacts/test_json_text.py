"""dumps_indented writes exactly the stdlib's indented JSON (the text every record and
summary has always had), errors included, whatever the document's shape."""

from __future__ import annotations

import enum
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from holopipe.artifacts.io import _numpy_value, dumps_json
from holopipe.artifacts.json_text import dumps_indented


def stdlib(obj, default=None):
    return json.dumps(obj, indent=2, sort_keys=True, allow_nan=False, default=default)


scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    # text with quotes, braces, commas, escapes and non-ASCII: the layout must not care
    | st.text(alphabet=st.sampled_from(list('ab{}[],:"\\\n\t é€😀 ')), max_size=12)
)
flat_objects = st.dictionaries(st.text(max_size=6), scalars, max_size=6)
documents = st.recursive(
    scalars | flat_objects,
    lambda children: (
        st.lists(children, max_size=5)
        | st.lists(flat_objects, max_size=5)  # the checks of a summary
        | st.dictionaries(st.text(max_size=6), children, max_size=5)
        | st.tuples(children, children)
    ),
    max_leaves=40,
)


@settings(max_examples=400, deadline=None)
@given(documents)
def test_any_document_gives_the_stdlib_text(doc):
    assert dumps_indented(doc) == stdlib(doc)


class Level(enum.IntEnum):
    LOW = 1


class Named(str):
    pass


@pytest.mark.parametrize(
    "doc",
    [
        {},
        [],
        [{}],
        [{}, {"a": 1}],
        {"a": [{"k": "},\n    {"}, {"k": 2}]},  # a boundary look-alike inside a string
        [{"a": 1}, [1, 2], {"b": [3]}],
        {1: "int key", 2.5: [{"a": 1}]},  # non-string keys: the stdlib's own conversion
        {"a": {"b": {"c": [[], [{}], [[1]]]}}},
        [Level.LOW, Named("x"), {"e": Level.LOW}],  # subclasses: the stdlib's reprs
        {"arr": np.arange(3), "x": np.float64(0.5), "rows": [{"n": np.int64(2)}]},
    ],
)
def test_odd_shapes_and_types_give_the_stdlib_text(doc):
    assert dumps_indented(doc, default=_numpy_value) == stdlib(doc, default=_numpy_value)


def test_errors_are_the_stdlib_errors():
    for bad in ({"a": math.nan}, [{"a": 1.0, "b": math.inf}], [1, -math.inf]):
        with pytest.raises(ValueError, match="Out of range float"):
            dumps_indented(bad)
    with pytest.raises(TypeError, match="not JSON serializable"):
        dumps_indented({"a": [object()]})


def test_dumps_json_still_writes_nan_as_null_with_the_same_layout():
    doc = {"checks": [{"value": math.nan, "name": "x"}], "n": np.float32(1.5)}
    expected = stdlib({"checks": [{"name": "x", "value": None}], "n": 1.5}) + "\n"
    assert dumps_json(doc) == expected
