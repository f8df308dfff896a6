"""Indented JSON text of an attrs class's documents, by code generated once per class.

A stage writes thousands of documents of one artifact type, each the unstructured object
plus its header. Their layout is known before any of them is written: the keys (the
class's fields), their sorted order, and what each value should be (a float, a string, a
list of nested objects...). :func:`layout_encoder` writes that layout into Python code
once per class and level: constant text between the keys, one ``repr`` or string escape
per value, nested classes by their own generated code. Every value is tested for exactly
the type the code writes (an exact ``float`` that is finite, an exact ``str``...); any other
value, and a document whose keys are not exactly the fields, is written by
:func:`~holopipe.artifacts.json_text.dumps_indented` at its place, so the text is always
``dumps_indented``'s, i.e. the stdlib's ``json.dumps(doc, indent=2, sort_keys=True,
allow_nan=False, default=default)``, errors included.

Examples
--------
>>> import attrs, json
>>> @attrs.define
... class Point:
...     x: float
...     tags: list[str]
>>> encode = layout_encoder(Point, ("schema_name",))
>>> doc = {"schema_name": "Point", "x": -0.0, "tags": ["é", "b"]}
>>> encode(doc) == json.dumps(doc, indent=2, sort_keys=True)
True
>>> encode({"x": 1.5}) == json.dumps({"x": 1.5}, indent=2)  # not the layout: the general text
True
"""

from __future__ import annotations

import functools
import types
import typing
from collections.abc import Callable
from json.encoder import encode_basestring_ascii
from math import isfinite
from typing import Any, Literal

import attrs

from holopipe.artifacts.json_text import INDENT, dumps_indented

__all__ = ["layout_encoder"]

_Default = Callable[[Any], Any] | None
_Encoder = Callable[[Any, _Default], str]
_NONE_TYPE = type(None)

#: How the code writes a value of each exact scalar type: the test it passes first, the
#: text (as the stdlib writes it: ``float.__repr__``, ``int.__repr__``, the ASCII escape).
_SCALAR_CODE = {
    float: ("t is float and v - v == 0.0", "_float(v)"),  # inf - inf, nan - nan: nan
    str: ("t is str", "_str(v)"),
    int: ("t is int", "_int(v)"),
    bool: ("v is True", "'true'"),  # and the same for False, below
    _NONE_TYPE: ("v is None", "'null'"),
}
#: Items of a list or map written in one join (their exact type tested in C first).
_PLAIN_ITEMS: dict[type, Callable[[Any], str]] = {
    float: float.__repr__,
    str: encode_basestring_ascii,
    int: int.__repr__,
}
#: The classes whose code is being generated (a class that holds itself: general text).
_GENERATING: set[type] = set()


def layout_encoder(cls: type, header: tuple[str, ...] = ()) -> _Encoder:
    """``encode(document, default=None)``: the text of ``dumps_indented(document,
    default)`` for a document of the attrs class ``cls`` (its unstructured fields, plus the
    string-valued keys ``header``), by code generated for the class's layout."""
    return _generated(cls, tuple(sorted(header)), 0)


def _scalar_types(tp: Any) -> list[type] | None:
    """The scalar types of annotation ``tp`` (in the order written), or None."""
    if tp in _SCALAR_CODE:
        return [tp]
    origin = typing.get_origin(tp)
    if origin is Literal:
        found = list(dict.fromkeys(type(value) for value in typing.get_args(tp)))
        return found if all(kind in _SCALAR_CODE for kind in found) else None
    if origin in (typing.Union, types.UnionType):
        members = [_scalar_types(arg) for arg in typing.get_args(tp)]
        if any(member is None for member in members):
            return None
        return list(dict.fromkeys(kind for member in members for kind in member))
    return None


def _scalar_lines(kinds: list[type], out: str, level: int) -> list[str]:
    """Code writing the value ``v`` into ``out``: a branch per scalar type of ``kinds``,
    any other value as the general text at ``level``."""
    general = f"{out} = _general(v, default, {level})"
    if not kinds:
        return [f"    {general}"]
    lines = ["    t = type(v)"]
    for i, kind in enumerate(kinds):
        test, text = _SCALAR_CODE[kind]
        lines += [f"    {'elif' if i else 'if'} {test}:", f"        {out} = {text}"]
        if kind is bool:
            lines += ["    elif v is False:", f"        {out} = 'false'"]
    return [*lines, "    else:", f"        {general}"]


def _plain_joined(item: type, level: int, opening: str, closing: str, is_map: bool) -> _Encoder:
    """The text of a non-empty list (or map with string keys) at ``level`` whose items are
    all exact ``item`` values (finite, for floats); any other as the general text."""
    write = _PLAIN_ITEMS[item]
    only = frozenset({item})
    keys = frozenset({str})
    inner = INDENT * (level + 1)
    start, separator, end = f"{opening}\n{inner}", f",\n{inner}", f"\n{INDENT * level}{closing}"
    finite = item is float

    def plain(values: Any) -> bool:
        return only.issuperset(map(type, values)) and (not finite or all(map(isfinite, values)))

    if is_map:

        def encode_map(value: dict[str, Any], default: _Default) -> str:
            if not (keys.issuperset(map(type, value)) and plain(value.values())):
                return dumps_indented(value, default, level)
            return (
                start
                + separator.join(
                    [f"{encode_basestring_ascii(k)}: {write(value[k])}" for k in sorted(value)]
                )
                + end
            )

        return encode_map

    def encode_list(value: list[Any], default: _Default) -> str:
        if not plain(value):
            return dumps_indented(value, default, level)
        return start + separator.join(map(write, value)) + end

    return encode_list


def _objects_joined(item: _Encoder, level: int) -> _Encoder:
    """The text of a non-empty list at ``level`` of nested objects (``item``, at the next
    level, writes each or falls back to the general text itself)."""
    inner = INDENT * (level + 1)
    start, separator, end = f"[\n{inner}", f",\n{inner}", f"\n{INDENT * level}]"

    def encode_objects(value: list[Any], default: _Default) -> str:
        return start + separator.join([item(element, default) for element in value]) + end

    return encode_objects


def _optional_of(tp: Any) -> Any:
    """``X`` of an annotation ``X | None`` (one ``X``), else None."""
    if typing.get_origin(tp) not in (typing.Union, types.UnionType):
        return None
    others = [arg for arg in typing.get_args(tp) if arg is not _NONE_TYPE]
    return others[0] if len(others) == 1 and len(typing.get_args(tp)) == 2 else None


def _container_encoder(tp: Any, level: int) -> tuple[_Encoder, str, type] | None:
    """For a list, map or nested class annotation: (encoder of a non-empty value at
    ``level``, the text of an empty one, the exact type it takes), else None."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if attrs.has(tp):
        if tp in _GENERATING:
            return None
        return _generated(tp, (), level), "{}", dict
    if origin is list and len(args) == 1:
        if args[0] in _PLAIN_ITEMS:
            return _plain_joined(args[0], level, "[", "]", False), "[]", list
        if attrs.has(args[0]) and args[0] not in _GENERATING:
            return _objects_joined(_generated(args[0], (), level + 1), level), "[]", list
        return None
    if origin is dict and len(args) == 2 and args[0] is str and args[1] in _PLAIN_ITEMS:
        return _plain_joined(args[1], level, "{", "}", True), "{}", dict
    return None


@functools.cache
def _generated(cls: type, header: tuple[str, ...], level: int) -> _Encoder:
    """The generated encoder of a document of ``cls`` written at ``level``."""
    hints = typing.get_type_hints(cls)
    annotations = {field.name: hints[field.name] for field in attrs.fields(cls)}
    annotations.update(dict.fromkeys(header, str))
    keys = sorted(annotations)
    if not keys:
        return lambda value, default=None: dumps_indented(value, default, level)
    names: dict[str, Any] = {
        "_keys": frozenset(keys),
        "_general": dumps_indented,
        "_float": float.__repr__,
        "_int": int.__repr__,
        "_str": encode_basestring_ascii,
        "_level": level,
    }
    lines = [
        "def encode_layout(raw, default=None):",
        "    if type(raw) is not dict or raw.keys() != _keys:",
        "        return _general(raw, default, _level)",
    ]
    _GENERATING.add(cls)
    try:
        for i, key in enumerate(keys):
            tp, out = annotations[key], f"s{i}"
            lines.append(f"    v = raw[{key!r}]")
            scalars = _scalar_types(tp)
            optional = _optional_of(tp)
            container = (
                None if scalars is not None else _container_encoder(optional or tp, level + 1)
            )
            if container is None:
                lines += _scalar_lines(scalars or [], out, level + 1)
                continue
            encoder, empty, kind = container
            names[f"_encode{i}"] = encoder
            lines += [
                f"    if type(v) is {kind.__name__}:",
                f"        {out} = _encode{i}(v, default) if v else {empty!r}",
                *(["    elif v is None:", f"        {out} = 'null'"] if optional else []),
                "    else:",
                f"        {out} = _general(v, default, {level + 1})",
            ]
    finally:
        _GENERATING.discard(cls)
    # the text between the values: the opening brace and first key, "," and each next key
    inner = INDENT * (level + 1)
    pieces = [f"{{\n{inner}", *(f",\n{inner}" for _ in keys[1:])]
    parts = []
    for i, key in enumerate(keys):
        names[f"_before{i}"] = f"{pieces[i]}{encode_basestring_ascii(key)}: "
        parts += [f"_before{i}", f"s{i}"]
    names["_closing"] = f"\n{INDENT * level}}}"
    lines.append(f"    return ''.join(({', '.join(parts)}, _closing))")
    exec("\n".join(lines), names)  # noqa: S102 - code built above from the class's fields
    return names["encode_layout"]
