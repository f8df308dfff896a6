"""Writes into an unpublished folder (``unpublished_folder``): each new file once, in place."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest
from strategies import stray_files

from holopipe.artifacts import io as artifact_io
from holopipe.artifacts.io import (
    INJECT_FAULT_ENV,
    atomic_write,
    atomic_write_bytes,
    recorded_key,
    recorded_writes,
    sha256_file,
    unpublished_folder,
)


class Boom(RuntimeError):
    pass


@pytest.fixture
def renames(monkeypatch) -> list[tuple[str, str]]:
    """Every ``os.replace`` of the io module (the rename of a temporary file)."""
    seen: list[tuple[str, str]] = []
    real = os.replace

    def counting(src, dst, *args, **kwargs):
        seen.append((os.fspath(src), os.fspath(dst)))
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(artifact_io.os, "replace", counting)
    return seen


def test_a_new_file_below_the_folder_is_written_once_without_a_temporary_file(
    tmp_path: Path, renames, monkeypatch
):
    work = tmp_path / ".01_x.partial"
    created: list[str] = []
    real_mkstemp = artifact_io.tempfile.mkstemp
    monkeypatch.setattr(
        artifact_io.tempfile,
        "mkstemp",
        lambda *a, **k: created.append(k.get("dir")) or real_mkstemp(*a, **k),
    )
    with unpublished_folder(work), recorded_writes() as written:
        atomic_write_bytes(work / "out" / "a.json", b'{"a": 1}\n')
        with atomic_write(work / "out" / "b.txt", "w") as fh:
            fh.write("héllo")
    assert (work / "out" / "a.json").read_bytes() == b'{"a": 1}\n'
    assert (work / "out" / "b.txt").read_bytes() == "héllo".encode()
    assert renames == [] and created == []  # no temporary name, no rename
    assert stray_files(work / "out") == []
    path = work / "out" / "a.json"
    assert written[os.path.abspath(path)] == (sha256_file(path), 9)


@pytest.mark.parametrize(
    "rest",
    ["a.json", "out/a.json", "out/./a.json", "out/../a.json", "out//a.json", "out/", ".hidden",
     "out/.a.json", "..", "../x", "/abs/a.json", ""],
)  # fmt: skip
@pytest.mark.parametrize("given", ["runs/.01.partial", "runs/./x/../.01.partial", "runs/w/"])
def test_the_recorded_key_is_the_absolute_path_whatever_the_spelling(
    tmp_path: Path, monkeypatch, given: str, rest: str
):
    monkeypatch.chdir(tmp_path)
    with unpublished_folder(given):
        for path in (os.path.join(given, "") + rest, Path(given, rest), tmp_path / given / rest):
            assert recorded_key(path) == os.path.abspath(path), path
    assert recorded_key(Path(given, rest)) == os.path.abspath(Path(given, rest))


def test_files_written_in_place_get_the_mode_of_an_atomic_write_whatever_the_umask(
    tmp_path: Path,
):
    work = tmp_path / "w.partial"
    old = os.umask(0o077)
    try:
        with unpublished_folder(work):
            atomic_write_bytes(work / "a.json", b"{}")
        atomic_write_bytes(tmp_path / "b.json", b"{}")
    finally:
        os.umask(old)
    assert stat.S_IMODE((work / "a.json").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "b.json").stat().st_mode) == 0o644


def test_a_failing_write_in_place_leaves_no_file(tmp_path: Path):
    work = tmp_path / "w.partial"
    with unpublished_folder(work):
        with pytest.raises(Boom), atomic_write(work / "out" / "a.json") as fh:
            fh.write(b"half of it")
            raise Boom
        with pytest.raises(KeyboardInterrupt), atomic_write(work / "out" / "b.json") as fh:
            fh.write(b"half")
            raise KeyboardInterrupt
    assert list((work / "out").iterdir()) == []


def test_a_full_disk_in_place_names_the_file_and_leaves_nothing(tmp_path: Path, monkeypatch):
    work = tmp_path / "w.partial"
    monkeypatch.setenv(INJECT_FAULT_ENV, "enospc:*/out/a.json")
    with unpublished_folder(work), pytest.raises(OSError) as info:
        atomic_write_bytes(work / "out" / "a.json", b"x" * 100)
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(work / "out" / "a.json")
    assert list((work / "out").iterdir()) == []


def test_a_file_there_already_is_replaced_atomically_by_a_temporary_file(tmp_path: Path, renames):
    work = tmp_path / "w.partial"
    (work / "out").mkdir(parents=True)
    (work / "out" / "a.json").write_bytes(b"old")
    with unpublished_folder(work):
        with pytest.raises(Boom), atomic_write(work / "out" / "a.json") as fh:
            fh.write(b"new")
            fh.flush()
            assert (work / "out" / "a.json").read_bytes() == b"old"
            raise Boom
        assert (work / "out" / "a.json").read_bytes() == b"old"
        atomic_write_bytes(work / "out" / "a.json", b"new")
    assert (work / "out" / "a.json").read_bytes() == b"new"
    assert [Path(dst).name for _, dst in renames] == ["a.json"]
    assert stray_files(work / "out") == []


def test_a_symlink_in_the_folder_is_replaced_never_written_through(tmp_path: Path):
    work = tmp_path / "w.partial"
    work.mkdir()
    outside = tmp_path / "precious.txt"
    outside.write_bytes(b"keep me")
    (work / "a.json").symlink_to(outside)
    with unpublished_folder(work):
        atomic_write_bytes(work / "a.json", b"{}")
    assert outside.read_bytes() == b"keep me"
    assert not (work / "a.json").is_symlink() and (work / "a.json").read_bytes() == b"{}"


def test_paths_outside_the_folder_keep_the_temporary_file_and_rename(tmp_path: Path, renames):
    work = tmp_path / "w.partial"
    with unpublished_folder(work):
        atomic_write_bytes(tmp_path / "elsewhere.json", b"{}")
        atomic_write_bytes(tmp_path / "w.partial2" / "sibling.json", b"{}")  # a prefix only
    assert [Path(dst).name for _, dst in renames] == ["elsewhere.json", "sibling.json"]


def test_a_relative_or_absolute_spelling_of_the_folder_is_the_same_folder(
    tmp_path: Path, renames, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    with unpublished_folder(Path("w.partial")):
        atomic_write_bytes(tmp_path / "w.partial" / "a.json", b"{}")
    with unpublished_folder(tmp_path / "v.partial"):
        atomic_write_bytes(Path("v.partial") / "b.json", b"{}")
    assert renames == []
    assert (tmp_path / "w.partial" / "a.json").read_bytes() == b"{}"
    assert (tmp_path / "v.partial" / "b.json").read_bytes() == b"{}"


def test_outside_the_context_every_write_is_a_temporary_file_and_rename(tmp_path: Path, renames):
    work = tmp_path / "w.partial"
    with unpublished_folder(work):
        pass
    atomic_write_bytes(work / "a.json", b"{}")
    assert [Path(dst).name for _, dst in renames] == ["a.json"]
