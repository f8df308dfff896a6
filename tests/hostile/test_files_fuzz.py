"""Fuzzing every artifact type (issue 7 item 14): valid files mutated (truncation, bit flips,
wrong dtypes, huge declared shapes, deep nesting, NaN tokens, wrong schema versions).

``validate_file`` never raises, ``holopipe validate`` never exits 3, and memory stays bounded:
each example runs with the address space capped at the current size plus
:data:`HEADROOM` (an allocation beyond it raises, and the test shows the example).

The fast lane runs :data:`FAST_EXAMPLES` examples per type, the same ones every run
(derandomized); ``-m slow`` runs :data:`SLOW_EXAMPLES` new ones.
``pytest --hypothesis-show-statistics`` prints the count per type.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import resource
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from holopipe.artifacts import registry
from holopipe.artifacts.sniff import clear_cache
from holopipe.cli import app

FAST_EXAMPLES = 25
SLOW_EXAMPLES = 400
#: Memory an example may allocate beyond what the process already has mapped.
HEADROOM = 1536 * 1024**2

_COMMON = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
    "derandomize": False,
}

_TYPES = sorted(registry.refresh().keys())
runner = CliRunner()


@contextlib.contextmanager
def bounded_address_space(headroom: int = HEADROOM) -> Iterator[None]:
    """Cap the address space at its current size plus ``headroom`` for the block."""
    with open("/proc/self/status", encoding="ascii") as fh:
        vm_kb = next(int(line.split()[1]) for line in fh if line.startswith("VmSize:"))
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = vm_kb * 1024 + headroom
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _example_files(schema: str, folder: Path) -> tuple[Path, dict[str, bytes]]:
    """The example of ``schema`` written in ``folder``: its main path and every file's bytes."""
    cls = registry.get_type(schema)
    path = cls.example().write(folder / f"example_{cls.SUFFIXES[0].lstrip('_')}")
    files = {p.name: p.read_bytes() for p in cls.files(path) if p.is_file()}
    return path, files


_EXAMPLES: dict[str, tuple[str, dict[str, bytes]]] = {}


def example_bytes(schema: str) -> tuple[str, dict[str, bytes]]:
    """Main file name and the bytes of every file of ``schema``'s example (built once)."""
    if schema not in _EXAMPLES:
        with tempfile.TemporaryDirectory() as folder:
            path, files = _example_files(schema, Path(folder))
            _EXAMPLES[schema] = (path.name, files)
    return _EXAMPLES[schema]


# -- mutations ---------------------------------------------------------------------------------
_DEEP = "__holopipe_fuzz_deep__"
_HOSTILE_LEAVES = st.one_of(
    st.sampled_from(
        [math.nan, math.inf, -math.inf, 10**400, -1, 0, "", "x" * 10_000, None, True, [], {}]
    ),
    st.just(_DEEP),
    st.integers(),
    st.floats(),
    st.text(max_size=20),
)
_VERSIONS = st.sampled_from(
    ["0.0", "0.1", "0.2", "9.9", "abc", "", "1e9", "0.1.2.3", "-1"]
) | st.one_of(st.none(), st.integers(), st.floats())


def _leaf_paths(doc, prefix=()) -> list[tuple]:
    if isinstance(doc, dict) and doc:
        return [p for k, v in doc.items() for p in [prefix + (k,), *_leaf_paths(v, prefix + (k,))]]
    if isinstance(doc, list) and doc:
        return [
            p for i, v in enumerate(doc) for p in [prefix + (i,), *_leaf_paths(v, prefix + (i,))]
        ]
    return []


def _set(doc, path: tuple, value) -> None:
    for key in path[:-1]:
        doc = doc[key]
    doc[path[-1]] = value


def _json_text(doc, depth: int) -> bytes:
    text = json.dumps(doc, allow_nan=True, default=str)
    return text.replace(f'"{_DEEP}"', "[" * depth + "]" * depth).encode("utf-8")


@st.composite
def json_mutation(draw, data: bytes) -> bytes:
    doc = json.loads(data)
    kind = draw(st.sampled_from(["leaf", "version", "schema_name", "drop_key"]))
    if kind == "version" and isinstance(doc, dict):
        doc["schema_version"] = draw(_VERSIONS)
    elif kind == "schema_name" and isinstance(doc, dict):
        doc["schema_name"] = draw(st.sampled_from([*_TYPES, "Nope", "", None, 3]))
    elif kind == "drop_key" and isinstance(doc, dict) and doc:
        doc.pop(draw(st.sampled_from(sorted(doc))))
    else:
        paths = _leaf_paths(doc)
        if paths:
            _set(doc, draw(st.sampled_from(paths)), draw(_HOSTILE_LEAVES))
    return _json_text(doc, draw(st.sampled_from([10, 900, 100_000])))


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=True)
    return buffer.getvalue()


def _npy_header_only(shape: tuple[int, ...], descr: str) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": descr, "fortran_order": False, "shape": shape}
    )
    return buffer.getvalue()


@st.composite
def npz_mutation(draw, data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    name = draw(st.sampled_from(sorted(members)))
    kind = draw(
        st.sampled_from(["dtype", "huge", "object", "raw", "header_bytes", "drop", "meta_json"])
    )
    if kind == "dtype":
        dtype = draw(st.sampled_from(["int64", "complex128", "<U3", "bool", "float16", "uint8"]))
        members[name] = _npy(np.zeros(draw(st.integers(0, 5)), dtype=dtype))
    elif kind == "huge":
        n = draw(st.sampled_from([10**9, 10**11, 2**62]))
        members[name] = _npy_header_only((n,), draw(st.sampled_from(["<f8", "<c16", "|S100"])))
    elif kind == "object":
        members[name] = _npy(np.array([{"a": 1}, None], dtype=object))
    elif kind == "raw":
        members[name] = draw(st.binary(max_size=64))
    elif kind == "header_bytes":
        raw = bytearray(members[name])
        at = draw(st.integers(0, min(len(raw), 128) - 1)) if raw else 0
        if raw:
            raw[at] = draw(st.integers(0, 255))
        members[name] = bytes(raw)
    elif kind == "drop":
        members.pop(name)
    else:
        text = draw(st.sampled_from(['{"schema_name": "GeometryPrediction"', "[" * 5000, "NaN"]))
        members["meta_json.npy"] = _npy(np.array(text))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for member, payload in members.items():
            zf.writestr(member, payload)
    return out.getvalue()


@st.composite
def csv_mutation(draw, data: bytes) -> bytes:
    lines = data.decode("utf-8").split("\n")
    row = draw(st.integers(0, max(len(lines) - 2, 0)))
    cells = lines[row].split(",")
    at = draw(st.integers(0, len(cells) - 1))
    cells[at] = draw(
        st.sampled_from(["NaN", "inf", "-inf", "", "1e999", "x", '"', "\r", "0x10", "1,2"])
        | st.text(max_size=8)
    )
    lines[row] = ",".join(cells)
    return "\n".join(lines).encode("utf-8", "surrogatepass")


@st.composite
def byte_mutation(draw, data: bytes) -> bytes:
    if not data:
        return b""
    kind = draw(st.sampled_from(["truncate", "bitflip", "zero_run"]))
    if kind == "truncate":
        return data[: draw(st.integers(0, len(data) - 1))]
    raw = bytearray(data)
    if kind == "bitflip":
        for _ in range(draw(st.integers(1, 8))):
            at = draw(st.integers(0, len(raw) - 1))
            raw[at] ^= 1 << draw(st.integers(0, 7))
    else:
        start = draw(st.integers(0, len(raw) - 1))
        length = len(raw[start : start + draw(st.integers(1, 512))])
        raw[start : start + length] = bytes(length)
    return bytes(raw)


def _structured(name: str, data: bytes):
    if data.lstrip()[:1] in (b"{", b"["):
        return json_mutation(data)
    if data.startswith(b"PK\x03\x04"):
        return npz_mutation(data)
    if name.endswith(".csv"):
        return csv_mutation(data)
    return None


@st.composite
def mutated(draw, schema: str) -> tuple[str, dict[str, bytes]]:
    main, files = example_bytes(schema)
    files = dict(files)
    name = draw(st.sampled_from(sorted(files)))
    structured = _structured(name, files[name])
    if structured is not None and draw(st.booleans()):
        files[name] = draw(structured)
    else:
        files[name] = draw(byte_mutation(files[name]))
    return main, files


# -- the properties ----------------------------------------------------------------------------
def _check_example(schema: str, main: str, files: dict[str, bytes]) -> None:
    cls = registry.get_type(schema)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name, payload in files.items():
            (folder / name).write_bytes(payload)
        clear_cache()
        with bounded_address_space():
            report = cls.validate_file(folder / main)  # must not raise
            detected = registry.validate_path(folder / main)
            result = runner.invoke(app, ["validate", str(folder)])
        assert report.exit_code in (0, 1, 2)
        assert detected.exit_code in (0, 1, 2)
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            result.exception
        )
        assert result.exit_code in (0, 1, 2), result.output


@pytest.fixture(autouse=True)
def _small_limit(monkeypatch):
    # Every example artifact is tiny; a low limit makes "huge" mutations cheap to refuse.
    monkeypatch.setenv("HOLOPIPE_MAX_ARRAY_BYTES", str(64 * 1024**2))


@pytest.mark.parametrize("schema", _TYPES)
# The fast lane replays the same examples on every run (CI cannot turn red by chance);
# the slow lane below explores new ones each night.
@settings(max_examples=FAST_EXAMPLES, **{**_COMMON, "derandomize": True})
@given(data=st.data())
def test_mutated_files_are_findings_never_crashes(schema, data):
    main, files = data.draw(mutated(schema))
    _check_example(schema, main, files)


@pytest.mark.slow
@pytest.mark.parametrize("schema", _TYPES)
@settings(max_examples=SLOW_EXAMPLES, **_COMMON)
@given(data=st.data())
def test_mutated_files_are_findings_never_crashes_many(schema, data):
    main, files = data.draw(mutated(schema))
    _check_example(schema, main, files)


def test_every_type_is_fuzzed():
    # A new artifact type is fuzzed without anyone adding it here.
    assert set(_TYPES) >= {"GeometryPrediction", "SandboxGeometry", "EigenmodesDataset"}
    for schema in _TYPES:
        main, files = example_bytes(schema)
        assert main in files and all(files.values())
