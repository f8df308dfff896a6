"""SpareFiles: a new file takes over a spare file of a discarded folder only when nothing can
tell it from a new one and nobody can see the spare's bytes change; an unpublished folder's
writes through spares give the same bytes, mode and freshness as created files."""

from __future__ import annotations

import errno
import mmap
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from holopipe.artifacts import spare_files as spare_module
from holopipe.artifacts.io import atomic_write, atomic_write_bytes, unpublished_folder
from holopipe.artifacts.spare_files import SpareFiles


def _spares(tmp_path: Path, files: dict[str, bytes]) -> Path:
    """``tmp_path/trash/old`` holding ``files`` (relative names, sub-folders allowed)."""
    old = tmp_path / "trash" / "old"
    for name, data in files.items():
        (old / name).parent.mkdir(parents=True, exist_ok=True)
        (old / name).write_bytes(data)
    return old


def _take(tmp_path: Path, name: str = "new.json") -> tuple[int, int] | None:
    (tmp_path / "work").mkdir(exist_ok=True)
    spares = SpareFiles(tmp_path / "trash", ["old"])
    try:
        return spares.take(str(tmp_path / "work" / name))
    finally:
        spares.close()


def test_a_spare_is_renamed_to_the_new_name_and_opened_for_writing(tmp_path: Path, taking):
    old = _spares(tmp_path, {"sub/a.json": b"0123456789"})
    inode = os.stat(old / "sub" / "a.json").st_ino
    taken = _take(tmp_path)
    assert taken is not None
    fd, size = taken
    os.write(fd, b"new")
    os.close(fd)
    assert size == 10 and not (old / "sub" / "a.json").exists()
    assert os.stat(tmp_path / "work" / "new.json").st_ino == inode


def test_nothing_is_taken_when_no_spare_is_left(tmp_path: Path):
    _spares(tmp_path, {})
    assert _take(tmp_path) is None


def test_a_file_with_a_second_link_is_not_taken(tmp_path: Path):
    old = _spares(tmp_path, {"a.json": b"linked"})
    os.link(old / "a.json", tmp_path / "kept_by_someone.json")
    assert _take(tmp_path) is None
    assert (old / "a.json").read_bytes() == b"linked"


def test_a_symlink_among_the_spares_is_never_followed(tmp_path: Path):
    precious = tmp_path / "precious.txt"
    precious.write_bytes(b"mine")
    old = _spares(tmp_path, {})
    old.mkdir(parents=True)
    (old / "a.json").symlink_to(precious)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "b.json").write_bytes(b"mine too")
    (old / "sub").symlink_to(outside)  # a spare folder that is a link: not walked
    assert _take(tmp_path) is None
    assert precious.read_bytes() == b"mine" and (outside / "b.json").read_bytes() == b"mine too"


def test_a_spare_folder_that_is_a_link_is_not_walked(tmp_path: Path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "b.json").write_bytes(b"mine")
    (tmp_path / "trash").mkdir()
    (tmp_path / "trash" / "old").symlink_to(outside)
    assert _take(tmp_path) is None
    assert (outside / "b.json").read_bytes() == b"mine"


def test_a_fifo_among_the_spares_is_skipped_without_waiting(tmp_path: Path):
    old = _spares(tmp_path, {})
    old.mkdir(parents=True)
    os.mkfifo(old / "a.json")
    t0 = time.monotonic()
    assert _take(tmp_path) is None
    assert time.monotonic() - t0 < 5 and stat.S_ISFIFO(os.lstat(old / "a.json").st_mode)


def _holder(path: Path, how: str) -> subprocess.Popen:
    """Another process (a notebook) holding ``path`` open (``fd``) or only mapped (``mmap``:
    its descriptor closed), until its stdin closes."""
    code = (
        "import mmap, os, sys\n"
        f"fd = os.open({str(path)!r}, os.O_RDONLY)\n"
        "m = mmap.mmap(fd, 0, prot=mmap.PROT_READ)\n"
        f"if {how!r} == 'mmap':\n    os.close(fd)\n"
        "print('ready', flush=True)\n"
        "sys.stdin.read()\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


@pytest.mark.parametrize("how", ["fd", "mmap"])
def test_a_file_open_or_mapped_elsewhere_is_not_taken(tmp_path: Path, taking, how: str):
    old = _spares(tmp_path, {"a.json": b"what the notebook reads"})
    holder = _holder(old / "a.json", how)
    try:
        assert _take(tmp_path) is None
        assert (old / "a.json").read_bytes() == b"what the notebook reads"
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(10)
    assert _take(tmp_path) is not None  # nobody holds it any more


def test_a_file_mapped_by_this_process_is_not_taken(tmp_path: Path):
    old = _spares(tmp_path, {"a.json": b"mapped here"})
    with open(old / "a.json", "rb") as fh:
        mapped = mmap.mmap(fh.fileno(), 0, prot=mmap.PROT_READ)
    try:
        assert _take(tmp_path) is None
        assert mapped[:] == b"mapped here"
    finally:
        mapped.close()


def test_a_file_with_user_extended_attributes_is_not_taken(tmp_path: Path):
    old = _spares(tmp_path, {"a.json": b"tagged"})
    try:
        os.setxattr(old / "a.json", "user.note", b"keep")
    except OSError as exc:
        if exc.errno in (errno.ENOTSUP, errno.EPERM):
            pytest.skip(f"no user extended attributes on {tmp_path}")
        raise
    assert _take(tmp_path) is None


def test_nothing_is_taken_on_a_filesystem_other_hosts_may_hold_open(tmp_path: Path, monkeypatch):
    _spares(tmp_path, {"a.json": b"on nfs"})
    monkeypatch.setattr(spare_module, "_filesystem_type", lambda fd: "nfs4")
    assert _take(tmp_path) is None


def test_the_filesystem_of_a_folder_is_found(tmp_path: Path):
    fd = os.open(tmp_path, os.O_RDONLY)
    try:
        found = spare_module._filesystem_type(fd)
    finally:
        os.close(fd)
    mounts = Path("/proc/self/mounts").read_text().split()
    assert found is not None and found in mounts


def test_no_spare_is_taken_for_a_folder_with_a_default_acl(tmp_path: Path, monkeypatch):
    _spares(tmp_path, {"a.json": b"x"})
    real = os.listxattr
    monkeypatch.setattr(
        spare_module.os,
        "listxattr",
        lambda p, *a, **k: ["system.posix_acl_default"] if isinstance(p, str) else real(p),
    )
    assert _take(tmp_path) is None


@pytest.mark.parametrize("size", [3, 10, 500])
def test_a_write_through_a_spare_has_the_bytes_mode_and_time_of_a_new_file(
    tmp_path: Path, size: int, taking
):
    old = _spares(tmp_path, {"a.json": b"o" * 10})
    os.chmod(old / "a.json", 0o600)
    os.utime(old / "a.json", (1_000_000, 1_000_000))
    inode = os.stat(old / "a.json").st_ino
    work = tmp_path / ".s.partial"
    data = bytes(range(256)) * 2
    with unpublished_folder(work, SpareFiles(tmp_path / "trash", ["old"])):
        atomic_write_bytes(work / "out" / "a.json", data[:size])
        atomic_write_bytes(work / "out" / "b.json", b"created")  # no spare left
    taken = work / "out" / "a.json"
    assert taken.read_bytes() == data[:size]
    info = os.stat(taken)
    assert info.st_ino == inode and stat.S_IMODE(info.st_mode) == 0o644
    assert info.st_mtime > time.time() - 60
    assert (work / "out" / "b.json").read_bytes() == b"created"
    assert os.listdir(old) == []


def test_an_empty_write_through_an_empty_spare_is_fresh(tmp_path: Path, taking):
    old = _spares(tmp_path, {"a.json": b""})
    os.utime(old / "a.json", (1_000_000, 1_000_000))
    work = tmp_path / ".s.partial"
    with unpublished_folder(work, SpareFiles(tmp_path / "trash", ["old"])):
        atomic_write_bytes(work / "a.json", b"")
    assert (work / "a.json").read_bytes() == b""
    assert os.stat(work / "a.json").st_mtime > time.time() - 60


def test_a_failing_write_through_a_spare_leaves_no_file(tmp_path: Path, monkeypatch):
    _spares(tmp_path, {"a.json": b"o" * 10})
    work = tmp_path / ".s.partial"
    monkeypatch.setenv("HOLOPIPE_INJECT_FAULT", "enospc:*/a.json")
    with pytest.raises(OSError, match="a.json"):
        with unpublished_folder(work, SpareFiles(tmp_path / "trash", ["old"])):
            atomic_write_bytes(work / "a.json", b"new")
    assert not (work / "a.json").exists()


def test_an_existing_file_and_a_write_of_unknown_size_use_no_spare(tmp_path: Path, taking):
    old = _spares(tmp_path, {"a.json": b"spare", "z.json": b"spare too"})
    work = tmp_path / ".s.partial"
    with unpublished_folder(work, SpareFiles(tmp_path / "trash", ["old"])):
        atomic_write_bytes(work / "a.json", b"first")
        with atomic_write(work / "b.json") as fh:  # a stream: its size is not known before
            fh.write(b"streamed")
        assert len(os.listdir(old)) == 1  # the first write took a spare, the stream none
    assert (work / "a.json").read_bytes() == b"first"
    assert (work / "b.json").read_bytes() == b"streamed"
    (left,) = os.listdir(old)
    spare = (old / left).read_bytes()
    with unpublished_folder(work, SpareFiles(tmp_path / "trash", ["old"])):
        atomic_write_bytes(work / "a.json", b"again")  # there already: replaced, no spare
    assert (work / "a.json").read_bytes() == b"again"
    assert (old / left).read_bytes() == spare


def test_a_refusal_that_would_refuse_every_spare_stops_the_search(tmp_path: Path, monkeypatch):
    _spares(tmp_path, {f"{i}.json": b"x" for i in range(5)})
    leases = []

    def no_leases(fd, cmd, arg=0):
        if cmd == spare_module.fcntl.F_SETLEASE:
            leases.append(fd)
            raise OSError(errno.EINVAL, "leases are disabled")
        return real_fcntl(fd, cmd, arg)

    real_fcntl = spare_module.fcntl.fcntl
    monkeypatch.setattr(spare_module.fcntl, "fcntl", no_leases)
    assert _take(tmp_path) is None
    assert len(leases) == 1  # not once per spare
    assert len(os.listdir(tmp_path / "trash" / "old")) == 5


def test_a_busy_spare_is_skipped_and_the_next_one_taken(tmp_path: Path, taking):
    old = _spares(tmp_path, {"a.json": b"busy", "b.json": b"free"})
    holder = _holder(old / "a.json", "fd")
    try:
        taken = _take(tmp_path)
        assert taken is not None
        os.close(taken[0])
        assert os.listdir(old) == ["a.json"]  # the busy one stays, the other was taken
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(10)
