"""Checking and structuring plain JSON data into attrs classes.

cattrs turns a valid dict into typed objects; before it runs, :func:`check_structure`
walks the attrs class's fields and the raw data side by side and records every problem
(missing key, wrong type, unknown key with the closest valid name) as a finding, so a bad
file yields a complete list of problems instead of the first exception. The same walk
exports a JSON Schema (:func:`json_schema_for`).

This is the public structuring seam of the artifacts layer: run records and configs
(``holopipe.run``), stage summaries and the pipeline use the same :data:`converter` and
:func:`check_structure` as the artifact types.
"""

from __future__ import annotations

import difflib
import functools
import math
import operator
import sys
import types
import typing
from typing import Any, Literal

import attrs
import cattrs

from holopipe.artifacts.report import ValidationReport

__all__ = [
    "KeepingConverter",
    "check_structure",
    "converter",
    "exact_check",
    "exact_structurer",
    "json_schema_for",
    "structure_checked",
    "type_name",
]


class KeepingConverter(cattrs.Converter):
    """A cattrs Converter that keeps the hook it made for each type it was asked about.

    cattrs empties its dispatch cache whenever a hook is registered, and it registers some
    itself while generating others (nested attrs classes, mappings): every hook generated
    before is then generated (compiled) again on its next use, about thirty times in one
    ``holopipe run``. The hooks are kept here per type, and forgotten only when a hook is
    registered through the public ``register_*`` methods.

    Examples
    --------
    >>> @attrs.define
    ... class Point:
    ...     x: int
    >>> kept = KeepingConverter()
    >>> kept.structure({"x": 1}, Point), kept.unstructure(Point(2))
    (Point(x=1), {'x': 2})
    """

    def __init__(self, **kwargs: Any) -> None:
        self._structure_hooks: dict[Any, Any] = {}
        self._unstructure_hooks: dict[Any, Any] = {}
        super().__init__(**kwargs)

    def structure(self, obj: Any, cl: Any) -> Any:
        hook = self._structure_hooks.get(cl)
        if hook is None:
            hook = self._structure_hooks[cl] = self.get_structure_hook(cl)
        return hook(obj, cl)

    def unstructure(self, obj: Any, unstructure_as: Any = None) -> Any:
        cl = obj.__class__ if unstructure_as is None else unstructure_as
        hook = self._unstructure_hooks.get(cl)
        if hook is None:
            hook = self._unstructure_hooks[cl] = self.get_unstructure_hook(cl)
        return hook(obj)

    def _forget(self) -> None:
        self._structure_hooks.clear()
        self._unstructure_hooks.clear()

    def register_structure_hook(self, *args: Any, **kwargs: Any) -> Any:
        self._forget()
        return super().register_structure_hook(*args, **kwargs)

    def register_structure_hook_func(self, *args: Any, **kwargs: Any) -> Any:
        self._forget()
        return super().register_structure_hook_func(*args, **kwargs)

    def register_structure_hook_factory(self, *args: Any, **kwargs: Any) -> Any:
        self._forget()
        return super().register_structure_hook_factory(*args, **kwargs)

    def register_unstructure_hook(self, *args: Any, **kwargs: Any) -> Any:
        self._forget()
        return super().register_unstructure_hook(*args, **kwargs)

    def register_unstructure_hook_func(self, *args: Any, **kwargs: Any) -> Any:
        self._forget()
        return super().register_unstructure_hook_func(*args, **kwargs)

    def register_unstructure_hook_factory(self, *args: Any, **kwargs: Any) -> Any:
        self._forget()
        return super().register_unstructure_hook_factory(*args, **kwargs)


#: The converter of every record, config and artifact (one, so hooks are made once).
converter = KeepingConverter(forbid_extra_keys=False)


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


#: Integer fields hold 64-bit quantities (counts, dimensions, indices).
INT_LIMIT = 2**63


def type_name(tp: Any) -> str:
    """How a field's annotation is shown to users (docs, findings).

    Examples
    --------
    >>> type_name(int | None)
    'int | null'
    """
    origin = typing.get_origin(tp)
    if origin is Literal:
        return " | ".join(repr(a) for a in typing.get_args(tp))
    if origin in (typing.Union, types.UnionType):
        return " | ".join(type_name(a) for a in typing.get_args(tp))
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


_NONE_TYPE = type(None)
_Checker = typing.Callable[[Any, str, ValidationReport, str], None]


def _checker(tp: Any) -> _Checker:
    """The check of one type, built once per type: the walk over a large document (a run
    manifest lists every file of the run) then costs a dict lookup per value, not a round
    of ``typing`` introspection."""
    try:
        return _cached_checker(tp)
    except TypeError:  # an unhashable annotation: build it each time
        return _build_checker(tp)


@functools.cache
def _cached_checker(tp: Any) -> _Checker:
    return _build_checker(tp)


def _check_nothing(value: Any, where: str, report: ValidationReport, unknown: str) -> None:
    return None


def _build_checker(tp: Any) -> _Checker:  # noqa: C901 - one branch per kind of type
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return _check_nothing
    if origin in (typing.Union, types.UnionType):
        members = tuple(_checker(a) for a in args)
        allows_none = _NONE_TYPE in args

        def check_union(value: Any, where: str, report: ValidationReport, unknown: str) -> None:
            if value is None and allows_none:
                return
            for member in members:
                trial = ValidationReport()
                member(value, where, trial, unknown)
                if trial.ok:
                    return
            report.error("wrong_type", where, f"expected {type_name(tp)}, got {_describe(value)}")

        return check_union
    if origin is Literal:

        def check_literal(value: Any, where: str, report: ValidationReport, unknown: str) -> None:
            if value not in args:
                report.error("bad_value", where, f"expected one of {list(args)}, got {value!r}")

        return check_literal
    if tp is _NONE_TYPE:

        def check_null(value: Any, where: str, report: ValidationReport, unknown: str) -> None:
            if value is not None:
                report.error("wrong_type", where, f"expected null, got {_describe(value)}")

        return check_null
    if attrs.has(tp):
        plain = _plain_record(tp)

        def check_object(value: Any, where: str, report: ValidationReport, unknown: str) -> None:
            if not isinstance(value, dict):
                report.error("wrong_type", where, f"expected an object, got {_describe(value)}")
                return
            if plain is not None and plain(value):
                return
            check_structure(tp, value, report, where, unknown=unknown)

        return check_object
    if origin in (list, tuple):
        item = _checker(args[0]) if args else _check_nothing
        plain_items = _plain_values(args[0]) if args else None

        def check_list(value: Any, where: str, report: ValidationReport, unknown: str) -> None:
            if not isinstance(value, list):
                report.error("wrong_type", where, f"expected a list, got {_describe(value)}")
                return
            if item is not _check_nothing and not (plain_items and plain_items(value)):
                for i, element in enumerate(value):
                    item(element, f"{where}[{i}]", report, unknown)

        return check_list
    if origin is dict:
        entry = _checker(args[1]) if len(args) == 2 else _check_nothing
        plain_entries = _plain_values(args[1]) if len(args) == 2 else None

        def check_dict(value: Any, where: str, report: ValidationReport, unknown: str) -> None:
            if not isinstance(value, dict):
                report.error("wrong_type", where, f"expected an object, got {_describe(value)}")
                return
            if entry is not _check_nothing and not (
                plain_entries and plain_entries(value.values())
            ):
                for key, element in value.items():
                    entry(element, f"{where}.{key}", report, unknown)

        return check_dict
    if tp is float:

        def check_float(value: Any, where: str, report: ValidationReport, unknown: str) -> None:
            kind = type(value)
            if kind is float:
                if not math.isfinite(value):
                    report.error("nonfinite", where, f"non-finite number {value!r}")
            elif kind is int:
                if abs(value) > sys.float_info.max:
                    report.error("out_of_range", where, "integer too large for a number field")
            elif isinstance(value, bool) or not isinstance(value, (int, float)):
                report.error("wrong_type", where, f"expected a number, got {_describe(value)}")
            elif not math.isfinite(value):
                report.error("nonfinite", where, f"non-finite number {value!r}")

        return check_float
    if tp is int:

        def check_int(value: Any, where: str, report: ValidationReport, unknown: str) -> None:
            if isinstance(value, bool) or not isinstance(value, int):
                report.error("wrong_type", where, f"expected an integer, got {_describe(value)}")
            elif not -INT_LIMIT <= value < INT_LIMIT:
                # JSON allows any integer; every integer field of ours is a 64-bit quantity.
                report.error("out_of_range", where, "integer outside the 64-bit range")

        return check_int
    if tp is bool:

        def check_bool(value: Any, where: str, report: ValidationReport, unknown: str) -> None:
            if not isinstance(value, bool):
                hint = (
                    " (a string 'True'/'False' is not a boolean)"
                    if value in ("True", "False")
                    else ""
                )
                report.error(
                    "wrong_type", where, f"expected true/false, got {_describe(value)}{hint}"
                )

        return check_bool
    if tp is str:

        def check_str(value: Any, where: str, report: ValidationReport, unknown: str) -> None:
            if not isinstance(value, str):
                report.error("wrong_type", where, f"expected a string, got {_describe(value)}")

        return check_str
    if isinstance(tp, type):

        def check_instance(value: Any, where: str, report: ValidationReport, unknown: str) -> None:
            if not isinstance(value, tp):
                report.error(
                    "wrong_type", where, f"expected {type_name(tp)}, got {_describe(value)}"
                )

        return check_instance
    return _check_nothing


# -- fast paths: a value that certainly has no finding is told without walking it ------
# Records hold thousands of small flat objects (a summary's metric checks, a manifest's
# files) and large flat maps (metrics). Each fast path below only ever answers "no finding
# here" when the full check would record none; on any doubt it answers False and the full
# check runs (and names the problem).

#: At most this many combinations of exact value types per flat record (else no fast path).
_MAX_TYPE_COMBINATIONS = 64


def _scalar_kind(tp: Any) -> tuple[frozenset[type], frozenset[Any] | None] | None:
    """``(exact value types, allowed values or None)`` that pass the check of a scalar
    annotation without a finding, or None when ``tp`` is not a scalar annotation. Stricter
    than the check: an int in a float field, a subclass, go through the full check."""
    origin = typing.get_origin(tp)
    if tp in (float, int, bool, str, _NONE_TYPE):
        return frozenset({tp}), None
    if origin is Literal:
        values = typing.get_args(tp)
        if all(type(v) in (str, int) for v in values):
            return frozenset(map(type, values)), frozenset(values)
        return None
    if origin in (typing.Union, types.UnionType):
        members = [_scalar_kind(a) for a in typing.get_args(tp)]
        if any(m is None or m[1] is not None for m in members):
            return None
        return frozenset().union(*(m[0] for m in members)), None
    return None


def _is_finite_float(value: Any) -> bool:
    return type(value) is not float or value - value == 0.0  # inf - inf, nan - nan: nan


def _in_int_range(value: Any) -> bool:
    return type(value) is not int or -INT_LIMIT <= value < INT_LIMIT


@functools.cache
def _plain_record(cls: type) -> typing.Callable[[dict], bool] | None:
    """For an attrs class whose fields are all scalars: a test that a dict has exactly its
    keys, each value of a type and (float) finiteness, (int) range and (Literal) value that
    its check passes. None for any other class."""
    hints = _hints(cls)
    fields = attrs.fields(cls)
    kinds = [_scalar_kind(hints[field.name]) for field in fields]
    if not kinds or any(kind is None for kind in kinds):
        return None
    names = [field.alias or field.name for field in fields]  # the keys check_structure reads
    combinations = [()]
    for allowed, _ in kinds:
        combinations = [(*c, t) for c in combinations for t in allowed]
        if len(combinations) > _MAX_TYPE_COMBINATIONS:
            return None
    accepted = frozenset(combinations)
    keys = frozenset(names)
    get = operator.itemgetter(*names)
    single = len(names) == 1
    floats = [i for i, (allowed, _) in enumerate(kinds) if float in allowed]
    ints = [i for i, (allowed, _) in enumerate(kinds) if int in allowed]
    literals = [(i, values) for i, (_, values) in enumerate(kinds) if values is not None]

    def plain(raw: dict) -> bool:
        if raw.keys() != keys:
            return False
        values = (get(raw),) if single else get(raw)
        return (
            tuple(map(type, values)) in accepted
            and all(_is_finite_float(values[i]) for i in floats)
            and all(_in_int_range(values[i]) for i in ints)
            and all(values[i] in allowed for i, allowed in literals)
        )

    return plain


def _plain_values(tp: Any) -> typing.Callable[[typing.Iterable], bool] | None:
    """For a scalar element annotation of plain type (str, bool, float): a test that every
    value of a list or map passes its check. None for any other annotation."""
    if tp is str or tp is bool:
        allowed = frozenset({tp})
        return lambda values: allowed.issuperset(map(type, values))
    if tp is float:
        only_floats = frozenset({float})

        def finite_floats(values: typing.Iterable) -> bool:
            values = list(values)
            return only_floats.issuperset(map(type, values)) and all(map(math.isfinite, values))

        return finite_floats
    return None


#: What a value builder of :func:`exact_structurer` returns for a value it does not take.
_REFUSED: Any = object()
_Builder = typing.Callable[[Any], Any]
#: The classes whose builder is being made (a class that holds itself gets none).
_BUILDING: set[type] = set()


def _scalar_test(tp: Any, var: str, names: dict[str, Any]) -> str | None:
    """Python source of a test that refuses the value ``var`` of a scalar annotation
    unless it has exactly the type (and finiteness, range, Literal value) the check passes
    and cattrs returns unchanged (``float(x) is x`` for an exact float: no int in a float
    field, no subclass); ``None`` for any other annotation. Constants go into ``names``."""
    kind = _scalar_kind(tp)
    if kind is None:
        return None
    allowed, values = kind
    optional = _NONE_TYPE in allowed
    allowed = allowed - {_NONE_TYPE}
    if len(allowed) > 1 or (values is not None and optional):  # cattrs needs a strategy
        return None
    if values is not None:
        names[f"{var}_values"] = values
        return f"type({var}) not in _types or {var} not in {var}_values"
    if not allowed:
        test = f"{var} is not None"
    elif float in allowed:
        test = f"type({var}) is not float or {var} - {var} != 0.0"
    elif int in allowed:
        test = f"type({var}) is not int or not -INT_LIMIT <= {var} < INT_LIMIT"
    else:
        test = f"type({var}) is not {next(iter(allowed)).__name__}"
    return f"{var} is not None and ({test})" if optional and allowed else test


def _value_builder(tp: Any, build: bool) -> _Builder | None:
    """The builder of a list, map, nested class or ``Any`` field (see
    :func:`exact_structurer`): the value to give the constructor (``build``; else the
    value itself, only checked), or ``_REFUSED``; ``None`` when the annotation has none
    (then the class has none either)."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return lambda v: v
    if attrs.has(tp):
        nested = _generated(tp, frozenset(), build)
        if nested is None:
            return None
        if build:
            return lambda v: _REFUSED if (o := nested(v)) is None else o
        return lambda v: v if nested(v) else _REFUSED
    if origin is list and len(args) == 1:
        plain = _plain_values(args[0])
        if plain is not None:  # str, bool, float items: checked in C, copied as cattrs does
            if build:
                return lambda v: list(v) if type(v) is list and plain(v) else _REFUSED
            return lambda v: v if type(v) is list and plain(v) else _REFUSED
        item = _value_builder(args[0], build)
        if item is None:
            return None

        def build_list(v: Any) -> Any:
            if type(v) is not list:
                return _REFUSED
            built = list(map(item, v))
            return _REFUSED if _REFUSED in built else built

        return build_list
    if origin is dict and len(args) == 2 and args[0] is str:
        plain = _plain_values(args[1])
        if plain is None:
            return None
        if build:
            return lambda v: dict(v) if type(v) is dict and plain(v.values()) else _REFUSED
        return lambda v: v if type(v) is dict and plain(v.values()) else _REFUSED
    return None


def exact_structurer(
    cls: type, ignored: frozenset[str] = frozenset()
) -> typing.Callable[[dict], Any] | None:
    """A direct constructor of the attrs class ``cls`` from plain JSON data, or ``None``
    when ``cls`` has a field it cannot build. Keys in ``ignored`` (a versioned document's
    header) must be there too and are left out.

    The function returns the object only when the data hold exactly the keys of every
    field, :func:`check_structure` would record no finding at all (every value of exactly
    the type its check passes) and ``converter.structure`` would build an equal object:
    each field's value is the JSON value itself (exact scalar types), a copied list or map
    of them, or a nested class built the same way; ``cls(...)`` runs its validators as
    cattrs would. On any doubt (a key left out too) it returns ``None`` and the caller
    takes the full path, which names the problem: one pass over the data instead of a
    check and then cattrs, in code generated once per class (straight tests per field).

    Examples
    --------
    >>> @attrs.define
    ... class Point:
    ...     x: float
    ...     tags: list[str] = attrs.field(factory=list)
    >>> build = exact_structurer(Point)
    >>> build({"x": 1.5, "tags": ["a"]}), build({"x": 1, "tags": []}), build({"x": 1.5})
    (Point(x=1.5, tags=['a']), None, None)
    """
    return _generated(cls, ignored, True)


def exact_check(cls: type) -> typing.Callable[[Any], bool] | None:
    """The test of :func:`exact_structurer` without building anything: ``True`` only
    when :func:`check_structure` would record no finding for the data of ``cls`` (the
    check of an object about to be written, unstructured); ``None`` for a class it cannot
    build.

    Examples
    --------
    >>> @attrs.define
    ... class Point:
    ...     x: float
    >>> check = exact_check(Point)
    >>> check({"x": 1.5}), check({"x": float("nan")})
    (True, False)
    """
    return _generated(cls, frozenset(), False)


@functools.cache
def _generated(cls: type, ignored: frozenset[str], build: bool) -> typing.Callable | None:
    """The code of :func:`exact_structurer` (``build``) or :func:`exact_check` for ``cls``."""
    hints = _hints(cls)
    fields = attrs.fields(cls)
    if cls in _BUILDING or any(not f.init or (f.alias or f.name) != f.name for f in fields):
        return None  # a class that holds itself, or fields cattrs structures by another name
    names: dict[str, Any] = {"_cls": cls, "_REFUSED": _REFUSED, "INT_LIMIT": INT_LIMIT}
    names["_keys"] = frozenset(f.name for f in fields) | ignored
    refused = "None" if build else "False"
    lines = ["def structure_exact(raw):", "    if type(raw) is not dict or raw.keys() != _keys:"]
    lines.append(f"        return {refused}")
    _BUILDING.add(cls)
    try:
        for i, field in enumerate(fields):
            var, tp = f"v{i}", hints[field.name]
            lines.append(f"    {var} = raw[{field.name!r}]")
            test = _scalar_test(tp, var, names)
            if test is None:
                builder = _value_builder(tp, build)
                if builder is None:
                    return None
                names[f"{var}_build"] = builder
                lines.append(f"    {var} = {var}_build({var})")
                test = f"{var} is _REFUSED"
            if "_types" in test:
                names[f"{var}_types"] = _scalar_kind(tp)[0]
                test = test.replace("_types", f"{var}_types")
            lines += [f"    if {test}:", f"        return {refused}"]
    finally:
        _BUILDING.discard(cls)
    arguments = ", ".join(f"{f.name}=v{i}" for i, f in enumerate(fields))
    if build:
        lines += ["    try:", f"        return _cls({arguments})", "    except Exception:"]
        lines += ["        return None  # a validator's refusal: the full path names it"]
    else:
        lines.append("    return True")
    exec("\n".join(lines), names)  # noqa: S102 - code built above from the class's fields
    return names["structure_exact"]


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


@functools.cache
def _fields_table(
    cls: type,
) -> tuple[tuple[tuple[str, bool, _Checker], ...], list[str], frozenset[str]]:
    """Per field of ``cls``: its key, whether it is required, its check; and the names."""
    hints = _hints(cls)
    fields = attrs.fields(cls)
    table = tuple(
        (field.alias or field.name, field.default is attrs.NOTHING, _checker(hints[field.name]))
        for field in fields
    )
    names = [a.name for a in fields]
    return table, names, frozenset(names)


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
    table, names, known = _fields_table(cls)
    for key, required, check in table:
        if key not in raw:
            if required:
                report.error("missing_key", _join(where, key), "required key is missing")
            continue
        check(raw[key], f"{where}.{key}" if where else key, report, unknown)
    for key in raw:
        if key not in known:
            close = difflib.get_close_matches(key, names, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; valid keys: {', '.join(names)}"
            msg = f"unknown key{hint}"
            (report.error if unknown == "error" else report.warning)(
                "unknown_key", _join(where, key), msg
            )


def structure_checked(cls: type, raw: Any, report: ValidationReport, where: str = "", **kw):
    """Check ``raw`` against ``cls`` and structure it; ``None`` when it has errors.

    Data without any finding is built in one pass (:func:`exact_structurer`)."""
    exact = exact_structurer(cls)
    if exact is not None and (obj := exact(raw)) is not None:
        return obj
    before = len(report.errors)
    check_structure(cls, raw, report, where, **kw)
    if len(report.errors) > before:
        return None
    known = {a.name for a in attrs.fields(cls)}
    try:
        return converter.structure({k: v for k, v in raw.items() if k in known}, cls)
    except (cattrs.BaseValidationError, ValueError) as exc:
        # A field's validator refused a value of the right type (e.g. a malformed sha256):
        # a finding at the field, like every other structural problem, never a traceback.
        for location, message in _refusals(exc, where):
            report.error("bad_value", location or "<root>", message)
        return None


def _refusals(exc: BaseException, where: str) -> list[tuple[str, str]]:
    """``(location, message)`` of every validator refusal inside a cattrs error."""
    if isinstance(exc, cattrs.ClassValidationError):
        noted, bare = exc.group_exceptions()
        return [
            *(item for inner, note in noted for item in _refusals(inner, _join(where, note.name))),
            *(item for inner in bare for item in _refusals(inner, where)),
        ]
    if isinstance(exc, cattrs.IterableValidationError):
        noted, bare = exc.group_exceptions()
        return [
            *(item for inner, note in noted for item in _refusals(inner, f"{where}[{note.index}]")),
            *(item for inner in bare for item in _refusals(inner, where)),
        ]
    if isinstance(exc, BaseExceptionGroup):
        return [item for inner in exc.exceptions for item in _refusals(inner, where)]
    return [(where, " ".join(str(exc).split()))]


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
        schema = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": cls.__name__,
            **schema,
        }
    return schema
