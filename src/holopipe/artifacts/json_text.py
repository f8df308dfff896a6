"""Indented JSON text, the stdlib's very bytes, with the C encoder doing most of the work.

``json.dumps(obj, indent=2)`` runs Python's pure-Python encoder over every value: the C
encoder cannot indent. A stage summary holds thousands of small flat objects (one per
metric check) and a flat ``metrics`` object of as many numbers, and the pure-Python walk is
most of the cost of writing it. Here the walk stays in Python only down to the *flat*
containers (objects with string keys and lists whose values are all plain scalars); each
flat container is written in one call of the C encoder whose item separator carries the
newline and the indentation of its level. Anything else (a subclass, a numpy value, an
object with non-string keys) is left to the stdlib encoder itself, re-indented to its
level (JSON text has no raw newline but its layout's). The text is the same as
``json.dumps(obj, indent=2, sort_keys=True, allow_nan=False, default=default)``, errors
included (a NaN raises ValueError, an unknown type TypeError).

Examples
--------
>>> doc = {"b": [1, 2.5, None], "a": {"x": "y", "n": []}, "c": [{"k": True}]}
>>> dumps_indented(doc) == json.dumps(doc, indent=2, sort_keys=True)
True
>>> print(dumps_indented({"a": [1, 2]}))
{
  "a": [
    1,
    2
  ]
}
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from json.encoder import c_make_encoder, encode_basestring_ascii
from typing import Any

__all__ = ["dumps_indented"]

INDENT = "  "
#: Values the C encoder writes exactly as the pure-Python one does (exact types only: a
#: subclass may have a repr of its own, which the stdlib honours or refuses).
_SCALARS = frozenset({str, int, float, bool, type(None)})
_STRINGS = frozenset({str})


@functools.cache
def _flat_encoder(level: int) -> Callable[[Any], str]:
    """The C encoder of a flat container whose items sit at ``level`` (no indentation of
    its own: the item separator carries the newline and the indentation)."""
    separator = ",\n" + INDENT * level
    if c_make_encoder is None:  # an interpreter without the C accelerator: the same text
        return json.JSONEncoder(
            sort_keys=True, allow_nan=False, separators=(separator, ": ")
        ).encode
    # What JSONEncoder.encode builds on every call, built once: flat values hold no
    # container, so no circular-reference markers are needed.
    chunks = c_make_encoder(
        None, None, encode_basestring_ascii, None, ": ", separator, True, False, False
    )
    return lambda value: "".join(chunks(value, 0))


_scalar = _flat_encoder(0)


def dumps_indented(obj: Any, default: Callable[[Any], Any] | None = None, level: int = 0) -> str:
    """``json.dumps(obj, indent=2, sort_keys=True, allow_nan=False, default=default)``;
    with ``level``, the text of ``obj`` as it stands nested that deep in such a text (its
    lines after the first indented by ``level`` steps)."""
    parts: list[str] = []
    _encode(obj, level, parts, default)
    return "".join(parts)


def _encode(value: Any, level: int, out: list[str], default: Callable[[Any], Any] | None) -> None:
    kind = type(value)
    if kind in _SCALARS:
        out.append(_scalar(value))
    elif kind is dict and _STRINGS.issuperset(map(type, value)):
        _encode_object(value, level, out, default)
    elif kind is list:
        _encode_array(value, level, out, default)
    else:  # tuples, subclasses, numpy values, non-string keys: the stdlib's own text
        text = json.dumps(value, indent=2, sort_keys=True, allow_nan=False, default=default)
        out.append(text.replace("\n", "\n" + INDENT * level))


def _encode_object(
    value: dict[str, Any], level: int, out: list[str], default: Callable[[Any], Any] | None
) -> None:
    if not value:
        out.append("{}")
        return
    inner = INDENT * (level + 1)
    if _SCALARS.issuperset(map(type, value.values())):
        text = _flat_encoder(level + 1)(value)  # '{"a": 1,\n<inner>"b": 2}'
        out.append(f"{{\n{inner}{text[1:-1]}\n{INDENT * level}}}")
        return
    out.append("{")
    separator = "\n"
    run: dict[str, Any] = {}  # consecutive keys whose values the C encoder writes as is
    for key in sorted(value):
        item = value[key]
        kind = type(item)
        if kind in _SCALARS or ((kind is list or kind is dict) and not item):  # [] and {}
            run[key] = item
            continue
        if run:
            out.append(f"{separator}{inner}{_flat_encoder(level + 1)(run)[1:-1]}")
            run, separator = {}, ",\n"
        out.append(f"{separator}{inner}{_scalar(key)}: ")
        _encode(item, level + 1, out, default)
        separator = ",\n"
    if run:
        out.append(f"{separator}{inner}{_flat_encoder(level + 1)(run)[1:-1]}")
    out.append(f"\n{INDENT * level}}}")


def _encode_array(
    value: list[Any], level: int, out: list[str], default: Callable[[Any], Any] | None
) -> None:
    if not value:
        out.append("[]")
        return
    inner = INDENT * (level + 1)
    if _SCALARS.issuperset(map(type, value)):
        text = _flat_encoder(level + 1)(value)
        out.append(f"[\n{inner}{text[1:-1]}\n{INDENT * level}]")
        return
    if all(type(v) is dict and v and _flat_object(v) for v in value):
        out.append(_flat_objects(value, level))
        return
    out.append("[")
    separator = "\n"
    for item in value:
        out.append(f"{separator}{inner}")
        _encode(item, level + 1, out, default)
        separator = ",\n"
    out.append(f"\n{INDENT * level}]")


def _flat_object(value: dict[Any, Any]) -> bool:
    """String keys and plain scalar values only (the type tests run in C: no generator)."""
    return _STRINGS.issuperset(map(type, value)) and _SCALARS.issuperset(map(type, value.values()))


def _flat_objects(value: list[dict[str, Any]], level: int) -> str:
    """A list of non-empty flat objects (the checks of a summary) in one C encoder call:
    written with the separator of the objects' items, then each boundary between two
    objects laid out as the stdlib lays it out. A raw newline only ever comes from a
    separator, and a separator inside an object is followed by a key (a quote), so
    ``},<newline><indent>{`` is a boundary and nothing else."""
    outer, inner, items = (INDENT * n for n in (level, level + 1, level + 2))
    text = _flat_encoder(level + 2)(value)[1:-1]  # '{"a": 1,\n<items>"b": 2},\n<items>{...}'
    text = text.replace(f"}},\n{items}{{", f"\n{inner}}},\n{inner}{{\n{items}")
    return f"[\n{inner}{{\n{items}{text[1:-1]}\n{inner}}}\n{outer}]"
