"""Human-readable descriptions of artifact types, generated from their attrs fields.

Used by ``holopipe schema show`` and by the generator of ``docs/ARTIFACT_API.md``, so the
documentation can never drift from the code.
"""

from __future__ import annotations

import json
import types
import typing

import attrs
import numpy as np

from holopipe.artifacts.base import Artifact
from holopipe.artifacts.structure import type_name

__all__ = ["describe_type", "field_table"]


def _nested_attrs(tp: typing.Any) -> list[type]:
    """attrs classes appearing inside a type annotation (list[X], X | None, dict[str, X])."""
    if attrs.has(tp):
        return [tp]
    found = []
    for arg in typing.get_args(tp):
        found.extend(_nested_attrs(arg))
    return found


def _display(tp: typing.Any) -> str:
    if tp is np.ndarray:
        return "float64[n]"
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        return " \\| ".join(_display(a) for a in args)
    if attrs.has(tp):
        return tp.__name__
    if origin in (list, dict):
        inner = ", ".join(_display(a) for a in args)
        return f"{origin.__name__}[{inner}]"
    return type_name(tp)


def _default_text(field: attrs.Attribute) -> str:
    default = field.default
    if default is attrs.NOTHING:
        return ""
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        default = default.factory()
    return f"`{json.dumps(default)}`" if not attrs.has(type(default)) else "see below"


def field_table(cls: type) -> list[str]:
    """Markdown table rows (field, type, required, default, description) of an attrs class."""
    hints = typing.get_type_hints(cls)
    rows = ["| field | type | required | default | description |", "|---|---|---|---|---|"]
    for field in attrs.fields(cls):
        required = "yes" if field.default is attrs.NOTHING else "no"
        doc = field.metadata.get("doc", "").replace("|", r"\|")
        cells = [
            f"`{field.name}`",
            _display(hints[field.name]),
            required,
            _default_text(field),
            doc,
        ]
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def describe_type(cls: type[Artifact], heading: str = "##") -> str:
    """Markdown description of an artifact type and every attrs class nested in it."""
    lines = [
        f"{heading} {cls.SCHEMA_NAME} (schema version {cls.SCHEMA_VERSION})",
        "",
        f"Format: {cls.FORMAT}; file names ending in {', '.join(f'`{s}`' for s in cls.SUFFIXES)}.",
        "",
        (cls.__doc__ or "").strip().splitlines()[0],
        "",
        *field_table(cls),
    ]
    seen: set[type] = {cls}
    queue = [
        t for f in attrs.fields(cls) for t in _nested_attrs(typing.get_type_hints(cls)[f.name])
    ]
    while queue:
        nested = queue.pop(0)
        if nested in seen:
            continue
        seen.add(nested)
        lines += ["", f"`{nested.__name__}`:", "", *field_table(nested)]
        hints = typing.get_type_hints(nested)
        queue += [t for f in attrs.fields(nested) for t in _nested_attrs(hints[f.name])]
    return "\n".join(lines) + "\n"
