"""The stored-zip fast path finds exactly what zipfile's path finds.

A small NPZ whose members are stored is parsed from one buffer (holopipe.artifacts.stored_zip)
instead of through zipfile. For every file here (holopipe's own, numpy's, odd, damaged,
hostile, and hypothesis' mutations of them) the reader, the sniff and ``validate_path`` give
the same findings, arrays and answers with the fast path as with it switched off; whenever
the fast parser accepts bytes, zipfile reads the same names and the same member bytes from
them without complaint.
"""

from __future__ import annotations

import contextlib
import io
import struct
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from holopipe.artifacts import GeometryPrediction, safety
from holopipe.artifacts.io import dumps_json, npz_bytes
from holopipe.artifacts.registry import validate_path
from holopipe.artifacts.report import ValidationReport
from holopipe.artifacts.sniff import clear_cache, sniff
from holopipe.artifacts.stored_zip import parse_stored_zip
from holopipe.artifacts.structure import converter

_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@contextlib.contextmanager
def zipfile_only() -> Iterator[None]:
    """Every NPZ read through zipfile, as before the fast path."""
    real = safety.parse_stored_zip
    safety.parse_stored_zip = lambda data, max_members: None
    try:
        yield
    finally:
        safety.parse_stored_zip = real


def _findings(report: ValidationReport) -> list[tuple[str, str, str, str]]:
    return [(f.severity, f.code, f.location, f.message) for f in report.findings]


def assert_same_reading(path: Path) -> None:
    """Reader, sniff and validate_path agree with and without the fast path."""
    answers = []
    for fast in (True, False):
        with contextlib.nullcontext() if fast else zipfile_only():
            clear_cache()
            report = ValidationReport(str(path))
            try:
                arrays = safety.read_npz_members(path, report)
            except Exception as exc:  # noqa: BLE001 - the same exception on both paths
                arrays = None
                report.error("raised", type(exc).__name__, str(exc))
            clear_cache()
            sniffed = sniff(path)
            clear_cache()
            validated = validate_path(path)
            answers.append((_findings(report), arrays, sniffed, _findings(validated)))
    (f_report, f_arrays, f_sniff, f_valid), (z_report, z_arrays, z_sniff, z_valid) = answers
    assert f_report == z_report
    assert f_sniff == z_sniff
    assert f_valid == z_valid
    assert (f_arrays is None) == (z_arrays is None)
    if f_arrays is not None:
        assert list(f_arrays) == list(z_arrays)
        for name, array in f_arrays.items():
            other = z_arrays[name]
            assert (array.dtype, array.shape) == (other.dtype, other.shape), name
            assert array.flags.c_contiguous == other.flags.c_contiguous, name
            assert array.flags.f_contiguous == other.flags.f_contiguous, name
            assert array.flags.writeable and other.flags.writeable, name
            assert array.tobytes() == other.tobytes(), name


def assert_zipfile_agrees(data: bytes) -> bool:
    """When the fast parser accepts ``data``, zipfile reads the same entries (names and
    bytes, in order) from it without any error; returns whether it accepted."""
    parsed = parse_stored_zip(data, safety.MAX_ZIP_MEMBERS)
    if parsed is None:
        return False
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = archive.infolist()
        assert [info.filename for info in infos] == parsed.namelist()
        for info, (name, member) in zip(infos, parsed.entries(), strict=True):
            assert archive.read(info) == bytes(member), name
        for name in set(parsed.namelist()):  # a name listed twice: its last entry
            assert archive.read(name) == bytes(parsed.member(name))
    return True


# -- a corpus of files ------------------------------------------------------------------------
def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def _header_only(shape: tuple[int, ...], descr: str = "<f8") -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": descr, "fortran_order": False, "shape": shape}
    )
    return buffer.getvalue()


def _zip(members: dict[str, bytes], **kwargs) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", **kwargs) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _good_bytes() -> bytes:
    """A GeometryPrediction file's bytes, as holopipe writes them."""
    good = GeometryPrediction.example()
    header = {"schema_name": "GeometryPrediction", "schema_version": "0.1"}
    meta = dumps_json({**header, **converter.unstructure(good.meta)})
    return npz_bytes({**good.arrays(), "meta_json": np.array(meta)})


def _prediction_members() -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(_good_bytes())) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _patched(data: bytes, at: int, value: bytes) -> bytes:
    return data[:at] + value + data[at + len(value) :]


def _corpus() -> dict[str, tuple[bytes, bool]]:
    """Name -> (file bytes, whether the fast parser accepts them)."""
    good = _good_bytes()
    members = _prediction_members()
    end = len(good) - 22
    cd_offset = struct.unpack_from("<L", good, end + 16)[0]
    with_comment = bytearray(good[:-2] + struct.pack("<H", 4) + b"note")
    savez = io.BytesIO()
    np.savez(savez, **{k: v for k, v in GeometryPrediction.example().arrays().items()})
    compressed = io.BytesIO()
    np.savez_compressed(compressed, z=np.zeros(3))
    return {
        "holopipe's own": (good, True),
        "numpy.savez (zip64 local extras)": (savez.getvalue(), True),
        "numpy.savez_compressed": (compressed.getvalue(), False),
        "big-endian and fortran order": (
            _zip(
                {
                    **members,
                    "A.npy": _npy(np.linspace(-1, 1, 64).astype(">f8")),
                    "R.npy": _npy(np.asfortranarray(np.zeros((4, 16)))),
                }
            ),
            True,
        ),
        "integer dtype": (_zip({**members, "A.npy": _npy(np.arange(64))}), True),
        "object dtype (header only)": (_zip({**members, "A.npy": _header_only((64,), "|O")}), True),
        "huge declared shape": (_zip({**members, "huge.npy": _header_only((10**11,))}), True),
        "extra member, raw bytes": (_zip({**members, "notes.txt": b"hello"}), True),
        "truncated member data": (_zip({**members, "A.npy": members["A.npy"][:-9]}), True),
        "corrupt npy header": (_zip({**members, "z.npy": members["z.npy"][:20] + b"!" * 50}), True),
        "non-canonical header": (
            _zip({**members, "f.npy": _npy(np.zeros(64, dtype=[("a", "<f8")]))}),
            True,
        ),
        "comment after the end record": (bytes(with_comment), False),
        "bad crc in the directory": (_patched(good, cd_offset + 16, b"\0\0\0\0"), False),
        "bad crc in a local header (zipfile ignores it)": (_patched(good, 14, b"\0\0\0\0"), True),
        "data flipped (crc wrong)": (_patched(good, 200, b"\xff"), False),
        "central name differs from local": (_patched(good, cd_offset + 46, b"Z"), False),
        "truncated file": (good[:-30], False),
        "cut in half": (good[: len(good) // 2], False),
        "deflated member": (_zip(members, compression=zipfile.ZIP_DEFLATED), False),
        "encrypted flag": (_patched(good, cd_offset + 8, b"\x01"), False),
        "data before the archive": (b"#!/bin/sh\n" + good, False),
        "not a zip": (b"PK\x03\x04" + b"\0" * 100, False),
        "empty zip": (_zip({}), False),
    }


_CORPUS = _corpus()


@pytest.mark.parametrize("name", sorted(_CORPUS))
def test_the_fast_path_finds_what_zipfile_finds(tmp_path, name):
    data, accepted = _CORPUS[name]
    path = tmp_path / "case_geometry.npz"
    path.write_bytes(data)
    assert assert_zipfile_agrees(data) is accepted
    assert_same_reading(path)


def test_the_corpus_has_findings_from_the_fast_path(tmp_path):
    # The comparison above means something only if accepted files carry findings too.
    coded = set()
    for data, accepted in _CORPUS.values():
        if accepted:
            path = tmp_path / "g_geometry.npz"
            path.write_bytes(data)
            clear_cache()
            coded |= {f.code for f in validate_path(path).findings}
    assert {"object_array", "too_large", "wrong_type", "unreadable", "wrong_dtype"} <= coded


def test_holopipe_s_own_files_take_the_fast_path(tmp_path, monkeypatch):
    path = GeometryPrediction.example().write(tmp_path / "g_geometry.npz")

    def no_zipfile(*args, **kwargs):
        raise AssertionError("zipfile was used for a stored NPZ")

    monkeypatch.setattr(zipfile, "ZipFile", no_zipfile)
    clear_cache()
    assert validate_path(path).ok
    assert GeometryPrediction.read(path) == GeometryPrediction.example()


def test_a_duplicate_member_name_means_its_last_entry_as_in_zipfile(tmp_path):
    members = _prediction_members()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, member in members.items():
            archive.writestr(name, member)
        with pytest.warns(UserWarning, match="Duplicate name"):
            archive.writestr("f.npy", _npy(np.full(64, 0.5)))
    data = buffer.getvalue()
    assert assert_zipfile_agrees(data)
    path = tmp_path / "dup_geometry.npz"
    path.write_bytes(data)
    assert_same_reading(path)


def test_overlapping_entries_are_left_to_zipfile():
    good = _good_bytes()
    end = len(good) - 22
    cd_offset = struct.unpack_from("<L", good, end + 16)[0]
    first_offset = good[cd_offset + 42 : cd_offset + 46]
    # The second directory entry points at the first member's local header.
    second = cd_offset + 46 + struct.unpack_from("<H", good, cd_offset + 28)[0]
    overlapped = _patched(good, second + 42, first_offset)
    assert parse_stored_zip(overlapped, safety.MAX_ZIP_MEMBERS) is None


def test_too_many_members_is_too_large_on_either_path(tmp_path):
    data = _zip({f"m{i}.npy": b"" for i in range(safety.MAX_ZIP_MEMBERS + 1)})
    assert parse_stored_zip(data, safety.MAX_ZIP_MEMBERS) is None
    path = tmp_path / "many_geometry.npz"
    path.write_bytes(data)
    report = ValidationReport(str(path))
    assert safety.read_npz_members(path, report) is None
    assert [f.code for f in report.findings] == ["too_large"]


# -- hypothesis: mutations and generated members -----------------------------------------------
_EDITS = st.lists(
    st.one_of(
        st.tuples(st.just("set"), st.integers(0, 20_000), st.binary(min_size=1, max_size=4)),
        st.tuples(st.just("cut"), st.integers(0, 20_000), st.just(b"")),
        st.tuples(st.just("insert"), st.integers(0, 20_000), st.binary(min_size=1, max_size=8)),
    ),
    min_size=1,
    max_size=3,
)


def _edited(data: bytes, edits) -> bytes:
    for kind, at, value in edits:
        at %= len(data) + 1
        if kind == "set":
            data = data[:at] + value + data[at + len(value) :]
        elif kind == "cut":
            data = data[:at]
        else:
            data = data[:at] + value + data[at:]
        if not data:
            data = b"PK"
    return data


@_SETTINGS
@given(base=st.sampled_from(sorted(k for k, v in _CORPUS.items() if v[1])), edits=_EDITS)
def test_mutated_files_read_the_same_on_both_paths(tmp_path, base, edits):
    data = _edited(_CORPUS[base][0], edits)
    assert_zipfile_agrees(data)
    path = tmp_path / "mutant_geometry.npz"
    path.write_bytes(data)
    assert_same_reading(path)


_DTYPES = st.sampled_from(["<f8", ">f8", "<f4", "<i8", ">i2", "|u1", "|b1", "<c16", "<U5", "|S3"])


@st.composite
def _member_bytes(draw) -> bytes:
    dtype = draw(_DTYPES)
    shape = draw(st.lists(st.integers(0, 5), max_size=3).map(tuple))
    array = np.zeros(shape, dtype=dtype)
    if draw(st.booleans()) and array.ndim > 1:
        array = np.asfortranarray(array)
    data = _npy(array)
    choice = draw(st.sampled_from(["whole", "cut", "garbage", "object", "huge"]))
    if choice == "cut":
        data = data[: draw(st.integers(0, len(data)))]
    elif choice == "garbage":
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(max_size=16)) + data[at:]
    elif choice == "object":
        data = _header_only(shape, "|O")
    elif choice == "huge":
        data = _header_only((draw(st.integers(10**9, 10**15)),))
    return data


@_SETTINGS
@given(
    members=st.dictionaries(
        st.sampled_from(["z.npy", "A.npy", "f.npy", "R.npy", "meta_json.npy", "x", "a/b.npy"]),
        _member_bytes(),
        max_size=6,
    ),
    keep_prediction=st.booleans(),
)
def test_generated_members_read_the_same_on_both_paths(tmp_path, members, keep_prediction):
    base = _prediction_members() if keep_prediction else {}
    data = _zip({**base, **members})
    assert assert_zipfile_agrees(data) is bool(base or members)
    path = tmp_path / "generated_geometry.npz"
    path.write_bytes(data)
    assert_same_reading(path)


def _with_flag(data: bytes, member: str, flag: int) -> bytes:
    """``data`` with ``flag`` set in the directory entry of ``member``."""
    at = struct.unpack_from("<L", data, len(data) - 22 + 16)[0]
    while True:
        name_length, extra_length, comment_length = struct.unpack_from("<3H", data, at + 28)
        if data[at + 46 : at + 46 + name_length] == member.encode():
            return _patched(data, at + 8, struct.pack("<H", flag))
        at += 46 + name_length + extra_length + comment_length


@pytest.mark.parametrize("member", ["meta_json.npy", "A.npy"])
def test_an_encrypted_member_is_a_finding_not_an_internal_error(tmp_path, member):
    from typer.testing import CliRunner

    from holopipe.cli import app

    path = tmp_path / "locked_geometry.npz"
    path.write_bytes(_with_flag(_good_bytes(), member, 0x1))
    clear_cache()
    done = CliRunner().invoke(app, ["validate", str(path)])
    assert done.exit_code == 2, done.output
    key = member.removesuffix(".npy")
    assert f"error unreadable [{key}]: member is encrypted: not read" in done.output
    assert "internal error" not in done.output
