"""Checking and structuring plain JSON data into attrs classes.

cattrs turns a valid dict into typed objects; before it runs, :func:`check_structure`
walks the attrs class's fields and the raw data side by side and records every problem
(missing key, wrong type, unknown key with the closest valid name) as a finding, so a bad
file yields a complete list of problems instead of the first exception. The same walk
exports a JSON Schema (:func:`json_schema_for`).
"""

from __future__ import annotations

import difflib
import functools
import math
import types
import typing
from typing import Any, Literal

import attrs
import cattrs

from holopipe.artifacts.report import ValidationReport

__all__ = ["check_structure", "converter", "json_schema_for", "structure_checked"]

converter = cattrs.Converter(forbid_extra_keys=False)


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is Literal:
        return " | ".join(repr(a) for a in typing.get_args(tp))
    if origin in (typing.Union, types.UnionType):
        return " | ".join(_type_name(a) for a in typing.get_args(tp))
    if tp is type(None):
        return "null"
    if attrs.has(tp):
        return "object"
    if origin is not None:
        return getattr(origin, "__name__", str(origin))
    return getattr(tp, "__name__", str(tp))


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    text = repr(value)
    return f"{type(value).__name__} {text[:40]}"


def _check_value(value: Any, tp: Any, where: str, report: ValidationReport, unknown: str = "warning") -> None:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return
    if origin in (typing.Union, types.UnionType):
        trial = [ValidationReport() for _ in args]
        for arg, sub in zip(args, trial):
            _check_value(value, arg, where, sub, unknown)
            if sub.ok:
                return
        report.error("wrong_type", where, f"expected {_type_name(tp)}, got {_describe(value)}")
        return
    if origin is Literal:
        if value not in args:
            report.error("bad_value", where, f"expected one of {list(args)}, got {value!r}")
        return
    if tp is type(None):
        if value is not None:
            report.error("wrong_type", where, f"expected null, got {_describe(value)}")
        return
    if attrs.has(tp):
        if not isinstance(value, dict):
            report.error("wrong_type", where, f"expected an object, got {_describe(value)}")
            return
        check_structure(tp, value, report, where, unknown=unknown)
        return
    if origin in (list, tuple):
        if not isinstance(value, list):
            report.error("wrong_type", where, f"expected a list, got {_describe(value)}")
            return
        item_type = args[0] if args else Any
        for i, item in enumerate(value):
            _check_value(item, item_type, f"{where}[{i}]", report, unknown)
        return
    if origin is dict:
        if not isinstance(value, dict):
            report.error("wrong_type", where, f"expected an object, got {_describe(value)}")
            return
        value_type = args[1] if len(args) == 2 else Any
        for key, item in value.items():
            _check_value(item, value_type, f"{where}.{key}", report, unknown)
        return
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            report.error("wrong_type", where, f"expected a number, got {_describe(value)}")
        elif not math.isfinite(value):
            report.error("nonfinite", where, f"non-finite number {value!r}")
        return
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            report.error("wrong_type", where, f"expected an integer, got {_describe(value)}")
        return
    if tp is bool:
        if not isinstance(value, bool):
            hint = " (a string 'True'/'False' is not a boolean)" if value in ("True", "False") else ""
            report.error("wrong_type", where, f"expected true/false, got {_describe(value)}{hint}")
        return
    if tp is str:
        if not isinstance(value, str):
            report.error("wrong_type", where, f"expected a string, got {_describe(value)}")
        return
    if isinstance(tp, type) and not isinstance(value, tp):
        report.error("wrong_type", where, f"expected {_type_name(tp)}, got {_describe(value)}")


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def check_structure(
    cls: type, raw: Any, report: ValidationReport, where: str = "", *, unknown: str = "warning"
) -> None:
    """Record every mismatch between ``raw`` and the attrs class ``cls``.

    Parameters
    ----------
    unknown : {"warning", "error"}
        How an unknown key is reported; configs use ``"error"`` (a misspelt key must not be
        silently ignored), artifacts ``"warning"`` (newer writers may add optional keys).
    """
    if not isinstance(raw, dict):
        report.error("wrong_type", where or "<root>", f"expected an object, got {_describe(raw)}")
        return
    hints = _hints(cls)
    names = [a.name for a in attrs.fields(cls)]
    for field in attrs.fields(cls):
        key = field.alias or field.name
        loc = _join(where, key)
        if key not in raw:
            if field.default is attrs.NOTHING:
                report.error("missing_key", loc, "required key is missing")
            continue
        _check_value(raw[key], hints[field.name], loc, report, unknown)
    for key in raw:
        if key not in names:
            close = difflib.get_close_matches(key, names, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; valid keys: {', '.join(names)}"
            msg = f"unknown key{hint}"
            (report.error if unknown == "error" else report.warning)("unknown_key", _join(where, key), msg)


def structure_checked(cls: type, raw: Any, report: ValidationReport, where: str = "", **kw):
    """Check ``raw`` against ``cls`` and structure it; ``None`` when it has errors."""
    before = len(report.errors)
    check_structure(cls, raw, report, where, **kw)
    if len(report.errors) > before:
        return None
    known = {a.name for a in attrs.fields(cls)}
    return converter.structure({k: v for k, v in raw.items() if k in known}, cls)


def _schema_for_type(tp: Any) -> dict:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        return {"anyOf": [_schema_for_type(a) for a in args]}
    if origin is Literal:
        return {"enum": list(args)}
    if tp is type(None):
        return {"type": "null"}
    if attrs.has(tp):
        return json_schema_for(tp, top=False)
    if origin in (list, tuple):
        return {"type": "array", "items": _schema_for_type(args[0]) if args else {}}
    if origin is dict:
        return {"type": "object", "additionalProperties": _schema_for_type(args[1]) if args else {}}
    simple = {float: "number", int: "integer", bool: "boolean", str: "string"}
    return {"type": simple[tp]} if tp in simple else {}


def json_schema_for(cls: type, *, top: bool = True) -> dict:
    """JSON Schema (draft 2020-12) for an attrs class, from its fields and annotations."""
    hints = _hints(cls)
    properties = {}
    required = []
    for field in attrs.fields(cls):
        entry = _schema_for_type(hints[field.name])
        doc = field.metadata.get("doc")
        if doc:
            entry = {**entry, "description": doc}
        properties[field.name] = entry
        if field.default is attrs.NOTHING:
            required.append(field.name)
    schema: dict[str, Any] = {"type": "object", "properties": properties, "required": required}
    if top:
        schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": cls.__name__, **schema}
    return schema
