"""Atomic, byte-deterministic writing and strict reading (``holopipe.artifacts.io``)."""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import re
import stat
import zipfile

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from strategies import FAST, json_values, stray_files

from holopipe.artifacts import io as artifact_io
from holopipe.artifacts.io import (
    JSONDecodeIssue,
    atomic_write,
    atomic_write_bytes,
    dumps_json,
    loads_json,
    npz_bytes,
    sha256_file,
)


class Boom(RuntimeError):
    pass


# -- atomic_write --------------------------------------------------------------------------
def test_atomic_write_replaces_content(tmp_path):
    path = tmp_path / "x.bin"
    path.write_bytes(b"old")
    atomic_write_bytes(path, b"new")
    assert path.read_bytes() == b"new"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert stray_files(tmp_path) == []


def test_atomic_write_creates_parent_folders(tmp_path):
    path = tmp_path / "a" / "b" / "x.txt"
    with atomic_write(path, "w") as fh:
        fh.write("héllo")
    assert path.read_bytes() == "héllo".encode()


def test_failure_inside_leaves_old_file_and_no_temp(tmp_path):
    path = tmp_path / "x.bin"
    path.write_bytes(b"old content")
    with pytest.raises(Boom), atomic_write(path) as fh:
        fh.write(b"partial new content")
        fh.flush()
        # While writing, the target still holds the old bytes; the new ones go to a temp file.
        assert path.read_bytes() == b"old content"
        assert len(stray_files(tmp_path)) == 1
        raise Boom
    assert path.read_bytes() == b"old content"
    assert stray_files(tmp_path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.bin"]


def test_failure_on_new_path_creates_nothing(tmp_path):
    with pytest.raises(Boom), atomic_write(tmp_path / "new.bin") as fh:
        fh.write(b"x")
        raise Boom
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("step", ["fsync", "replace"])
def test_failure_while_committing_leaves_old_file(tmp_path, monkeypatch, step):
    path = tmp_path / "x.bin"
    path.write_bytes(b"old")

    def fail(*args, **kwargs):
        raise OSError(f"{step} failed")

    monkeypatch.setattr(artifact_io.os, step, fail)
    with pytest.raises(OSError, match=step):
        atomic_write_bytes(path, b"new")
    monkeypatch.undo()
    assert path.read_bytes() == b"old"
    assert stray_files(tmp_path) == []


@pytest.mark.parametrize(("durable", "fsyncs"), [(True, 2), (False, 0)])
def test_a_write_that_need_not_be_durable_is_renamed_without_fsync(
    tmp_path, monkeypatch, durable, fsyncs
):
    path = tmp_path / "x.bin"
    path.write_bytes(b"old")
    calls = []
    real_fsync = artifact_io.os.fsync
    monkeypatch.setattr(artifact_io.os, "fsync", lambda fd: calls.append(fd) or real_fsync(fd))
    atomic_write_bytes(path, b"new", durable=durable)
    assert len(calls) == fsyncs  # the file, then its folder (the rename)
    assert path.read_bytes() == b"new" and stray_files(tmp_path) == []


def test_keyboard_interrupt_also_cleans_up(tmp_path):
    path = tmp_path / "x.bin"
    path.write_bytes(b"old")
    with pytest.raises(KeyboardInterrupt), atomic_write(path) as fh:
        fh.write(b"new")
        raise KeyboardInterrupt
    assert path.read_bytes() == b"old" and stray_files(tmp_path) == []


# -- JSON ----------------------------------------------------------------------------------
def test_dumps_json_sorts_keys_at_every_level():
    text = dumps_json({"b": {"z": 1, "a": 2}, "a": [{"y": 1, "x": 2}]})
    assert text.endswith("\n")
    assert text.index('"a"') < text.index('"b"')
    assert text.index('"x"') < text.index('"y"')
    assert text.index('"a": 2') < text.index('"z": 1')


def test_dumps_json_nonfinite_becomes_null():
    doc = json.loads(
        dumps_json({"a": float("nan"), "b": [float("inf"), -math.inf, 1.5], "c": np.nan})
    )
    assert doc == {"a": None, "b": [None, None, 1.5], "c": None}


def test_dumps_json_numpy_values():
    doc = json.loads(
        dumps_json(
            {
                "i": np.int64(3),
                "f": np.float32(0.5),
                "a": np.array([1.0, np.nan]),
                "b": np.bool_(True),
            }
        )
    )
    assert doc == {"i": 3, "f": 0.5, "a": [1.0, None], "b": True}


@FAST
@given(value=st.dictionaries(st.text(max_size=5), json_values, max_size=6))
def test_dumps_json_round_trips_and_ignores_insertion_order(value):
    text = dumps_json(value)
    assert loads_json(text) == value
    reordered = {k: value[k] for k in reversed(list(value))}
    assert dumps_json(reordered) == text


@FAST
@given(x=st.floats(allow_nan=False, allow_infinity=False))
def test_floats_round_trip_exactly(x):
    back = loads_json(dumps_json({"x": x}))["x"]
    assert back == x and math.copysign(1, back) == math.copysign(1, x)


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_loads_json_rejects_bare_nonfinite_tokens(token):
    with pytest.raises(JSONDecodeIssue, match=f"bare {token}"):
        loads_json(f'{{"a": [1, {token}]}}')
    assert json.loads(f'{{"a": {token}}}')  # the stdlib would have accepted it


@pytest.mark.parametrize(("text", "line"), [('{"a": 1,}', 1), ('{\n  "a": \n}', 3), ("", 1)])
def test_loads_json_malformed_names_line_column_and_problem(text, line):
    # The promise is the line and the problem; the exact column and wording are the
    # interpreter's (CPython 3.13 points one column earlier at a trailing comma).
    with pytest.raises(JSONDecodeIssue) as info:
        loads_json(text)
    found = re.fullmatch(r"malformed JSON at line (\d+) column (\d+): (.+)", str(info.value))
    assert found, str(info.value)
    assert int(found[1]) == line and int(found[2]) >= 1
    assert found[3].strip()
    assert isinstance(info.value, ValueError)


def test_loads_json_builds_no_decoder_per_call_and_says_what_json_loads_says(monkeypatch):
    built = []

    class Counting(json.JSONDecoder):
        def __init__(self, **kw):
            built.append(kw)
            super().__init__(**kw)

    monkeypatch.setattr(json, "JSONDecoder", Counting)  # what json.loads builds with a keyword
    assert loads_json('{"a": [1, 2.5, null, "x"]}') == {"a": [1, 2.5, None, "x"]}
    with pytest.raises(JSONDecodeIssue, match="bare NaN"):
        loads_json("[1, NaN]")
    with pytest.raises(JSONDecodeIssue, match=r"malformed JSON at line 1 column 6: "):
        loads_json('{"a" 1}')
    assert built == []  # one decoder, made once
    monkeypatch.undo()
    # A byte order mark and bytes are as json.loads has them.
    with pytest.raises(JSONDecodeIssue, match=r"at line 1 column 1: Unexpected UTF-8 BOM"):
        loads_json('\ufeff{"a": 1}')
    assert loads_json(b'{"a": 1}') == {"a": 1}
    with pytest.raises(JSONDecodeIssue, match="bare Infinity"):
        loads_json(b"[Infinity]")


def test_loads_json_too_deep_is_an_issue_not_a_recursion_error():
    with pytest.raises(JSONDecodeIssue, match="nested too deeply"):
        loads_json("[" * 100_000 + "]" * 100_000)
    with pytest.raises(JSONDecodeIssue, match="nested too deeply"):
        loads_json('{"a":' * 100_000 + "1" + "}" * 100_000)


# -- NPZ -----------------------------------------------------------------------------------
arrays = st.dictionaries(
    st.text(alphabet="abcxyzAZ_", min_size=1, max_size=6),
    hnp.arrays(
        st.sampled_from([np.float64, np.float32, np.int64, np.dtype("<U3")]),
        hnp.array_shapes(min_dims=0, max_dims=2, max_side=5),
    ),
    min_size=1,
    max_size=5,
)


@FAST
@given(members=arrays)
def test_npz_bytes_independent_of_insertion_order(members):
    data = npz_bytes(members)
    reordered = {k: members[k] for k in reversed(list(members))}
    assert npz_bytes(reordered) == data
    with np.load(io.BytesIO(data), allow_pickle=False) as archive:
        assert sorted(archive.files) == sorted(members)
        for k, v in members.items():
            assert archive[k].dtype == v.dtype
            np.testing.assert_array_equal(archive[k], v)


def test_npz_bytes_has_fixed_timestamps_and_sorted_members():
    data = npz_bytes({"b": np.ones(3), "a": np.zeros(2)})
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = archive.infolist()
    assert [i.filename for i in infos] == ["a.npy", "b.npy"]
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.compress_type for i in infos} == {zipfile.ZIP_STORED}


def test_npz_bytes_refuses_object_arrays():
    with pytest.raises(ValueError):
        npz_bytes({"a": np.array([{"x": 1}], dtype=object)})


def test_sha256_file(tmp_path):
    data = os.urandom(3000)
    (tmp_path / "f").write_bytes(data)
    assert sha256_file(tmp_path / "f", chunk_size=1000) == hashlib.sha256(data).hexdigest()
