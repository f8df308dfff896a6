"""Hostile files: deep nesting, FIFOs and special files, undecodable names, corrupt NPY headers
(issue 7 item 10, issue 15). Each is a finding for that path; the other paths are still reported."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from holopipe.artifacts import GeometryPrediction, SandboxGeometry, StageSummary
from holopipe.artifacts.io import npz_bytes
from holopipe.artifacts.registry import validate_path


def holopipe(*args: str | Path, timeout: float = 60) -> subprocess.CompletedProcess:
    """The real command line in a child process (a hang fails the test, it does not block it)."""
    return subprocess.run(
        [sys.executable, "-m", "holopipe", *map(os.fsdecode, args)],
        capture_output=True,
        timeout=timeout,
        check=False,
    )


def _out(done: subprocess.CompletedProcess) -> str:
    return done.stdout.decode("utf-8", "backslashreplace")


def no_traceback(done: subprocess.CompletedProcess) -> bool:
    err = done.stderr.decode("utf-8", "backslashreplace")
    return "Traceback" not in err and "internal error" not in err


# -- deep nesting ------------------------------------------------------------------------------
@pytest.mark.parametrize("opener", ["[", '{"a":'])
def test_json_nested_100_000_deep_is_a_finding(tmp_path, opener):
    closer = "]" if opener == "[" else "}"
    deep = tmp_path / "deep.json"
    deep.write_text(opener * 100_000 + "1" + closer * 100_000)
    good = StageSummary.example().write(tmp_path / "stage_summary.json")
    done = holopipe("validate", deep, good)
    assert done.returncode == 2 and no_traceback(done)
    out = _out(done)
    assert f"{deep}: error malformed_json [<file>]: malformed JSON: nested too deeply" in out
    assert f"{good}: valid StageSummary" in out


def test_deep_json_forced_to_a_type_is_a_finding(tmp_path):
    deep = tmp_path / "stage_summary.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    report = StageSummary.validate_file(deep)
    assert [(f.code, f.location) for f in report.errors] == [("malformed_json", "<file>")]


@pytest.mark.parametrize("depth", [500, 950, 990, 2_000])
def test_nesting_near_the_parser_limit_is_a_finding(tmp_path, depth):
    # Deep enough to test the structure checks as well as the parser, around its limit.
    text = StageSummary.example().to_json()
    deep = "[" * depth + "1" + "]" * depth
    path = tmp_path / "stage_summary.json"
    path.write_text(text.replace('"metrics": {}', f'"metrics": {{"deep": {deep}}}'))
    assert '"deep"' in path.read_text()
    report = StageSummary.validate_file(path)
    assert len(report.errors) == 1
    assert report.errors[0].code in ("wrong_type", "malformed_json", "too_deep")


# -- special files ---------------------------------------------------------------------------
def test_fifo_on_the_command_line_is_a_finding_and_never_blocks(tmp_path):
    fifo = tmp_path / "pipe_geometry.npz"
    os.mkfifo(fifo)
    good = GeometryPrediction.example().write(tmp_path / "g_geometry.npz")
    done = holopipe("validate", fifo, good, timeout=30)
    assert done.returncode == 2 and no_traceback(done)
    out = _out(done)
    assert (
        f"{fifo}: error not_regular_file [<file>]: a FIFO (named pipe), not a regular file" in out
    )
    assert f"{good}: valid GeometryPrediction" in out
    # Forcing a type does not open it either.
    done = holopipe("validate", "--schema", "GeometryPrediction", fifo, timeout=30)
    assert done.returncode == 2 and "not_regular_file" in _out(done)


def test_fifo_for_every_reader(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    from holopipe.artifacts import available_types

    for cls in available_types().values():
        report = cls.validate_file(fifo)
        assert [f.code for f in report.errors] == ["not_regular_file"], cls.SCHEMA_NAME


def test_socket_and_device_are_findings(tmp_path):
    sock_path = tmp_path / "s.sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(sock_path))
    try:
        assert validate_path(sock_path).errors[0].code == "not_regular_file"
        assert "a socket" in validate_path(sock_path).errors[0].message
    finally:
        server.close()
    report = validate_path("/dev/zero")
    assert [f.code for f in report.errors] == ["not_regular_file"]
    assert "a character device" in report.errors[0].message


def test_a_json_artifact_is_checked_once_before_it_is_opened(tmp_path, monkeypatch):
    from holopipe.artifacts import BulkEquations
    from holopipe.artifacts.safety import file_problem

    good = BulkEquations.example().write(tmp_path / "b.json")
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    (tmp_path / "folder.json").mkdir()
    os.symlink(tmp_path / "gone.json", tmp_path / "dangling.json")
    os.symlink("loop.json", tmp_path / "loop.json")
    stats = []
    real_stat = os.stat
    monkeypatch.setattr(
        os, "stat", lambda path, *a, **k: stats.append(os.fspath(path)) or real_stat(path, *a, **k)
    )
    report, obj = BulkEquations.read_with_report(good)
    assert report.ok and obj == BulkEquations.example()
    assert stats == [str(good)]  # one stat of the path before the open (there were two)
    for name in ("pipe.json", "folder.json", "dangling.json", "loop.json", "missing.json"):
        path = tmp_path / name
        report, obj = BulkEquations.read_with_report(path)
        found = [(f.code, f.location, f.message) for f in report.errors]
        assert obj is None and found == [(*file_problem(path)[:1], "<file>", file_problem(path)[1])]


def test_a_fifo_swapped_in_after_the_check_does_not_block(tmp_path):
    from holopipe.artifacts.safety import UnsafeFile, open_regular

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    # open_regular opens with O_NONBLOCK, then checks the descriptor: simulate the race by
    # calling the opening step directly on the FIFO.
    flags = os.O_RDONLY | os.O_NONBLOCK
    fd = os.open(fifo, flags)  # returns at once: no writer needed with O_NONBLOCK
    os.close(fd)
    with pytest.raises(UnsafeFile, match="FIFO"):
        open_regular(fifo)


# -- names that are not UTF-8 -----------------------------------------------------------------
def test_undecodable_names_are_reported_and_the_others_too(tmp_path):
    folder = os.fsencode(tmp_path)
    good_h5 = SandboxGeometry.example().write(tmp_path / "good.nc")
    odd_h5 = folder + b"/odd\xff.h5"
    odd_npz = folder + b"/g\xfe_geometry.npz"
    os.link(good_h5, odd_h5)
    GeometryPrediction.example().write(os.fsdecode(odd_npz))
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    for args in ([odd_h5, odd_npz, good_h5, broken], [tmp_path]):
        done = holopipe("validate", *args)
        assert done.returncode == 2 and no_traceback(done)
        out = _out(done)
        assert f"{tmp_path}/odd\\xff.h5: valid SandboxGeometry" in out
        assert f"{tmp_path}/odd\\xff.h5: warning undecodable_name" in out
        assert f"{tmp_path}/g\\xfe_geometry.npz: valid GeometryPrediction" in out
        assert f"{good_h5}: valid SandboxGeometry" in out
        assert f"{broken}: error malformed_json" in out


# -- corrupt NPY headers (issue 15: each Python's parser raises something else) -----------------
def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def _header_damage() -> dict[str, bytes]:
    good = _npy(np.linspace(0.0, 1.0, 8))
    header_end = good.index(b"\n") + 1
    text = good[10:header_end]
    cases = {
        "garbage": good[:12] + b"garbage!" + good[20:],
        "unclosed_string": good[:10] + text.replace(b"'<f8'", b"'<f8") + good[header_end:],
        "unclosed_paren": good[:10] + text.replace(b"(8,)", b"(8, ") + good[header_end:],
        "not_a_dict": good[:10] + b"[1, 2]".ljust(len(text) - 1) + b"\n" + good[header_end:],
        "bad_descr": good[:10] + text.replace(b"'<f8'", b"'<q9'") + good[header_end:],
        "negative_shape": good[:10] + text.replace(b"(8,)", b"(-8,)") + good[header_end:],
        "huge_header_len": good[:8] + b"\xff\xff" + good[10:],
        "non_ascii": good[:12] + b"\xff\xfe\xfd" + good[15:],
        "version_9": good[:6] + b"\x09\x00" + good[8:],
        "cut_in_header": good[:20],
    }
    return cases


@pytest.mark.parametrize("damage", sorted(_header_damage()))
def test_corrupt_npy_header_is_a_finding_on_every_python(tmp_path, damage):
    good = GeometryPrediction.example()
    members = {"z": good.z, "f": good.f}
    archive = io.BytesIO(npz_bytes(members))
    with zipfile.ZipFile(archive, "a") as zf:
        zf.writestr("A.npy", _header_damage()[damage])
    path = tmp_path / "damaged_geometry.npz"
    path.write_bytes(archive.getvalue())
    report = GeometryPrediction.validate_file(path)  # never raises
    assert ("unreadable", "A") in [(f.code, f.location) for f in report.errors], report.lines()
    assert validate_path(path).exit_code == 2
