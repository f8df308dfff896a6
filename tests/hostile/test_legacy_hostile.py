"""A hostile legacy folder imports without crashing, in bounded memory, every case a finding."""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import signal
import stat
import subprocess
import sys
import tracemalloc
import zipfile

import netCDF4
import numpy as np
import pytest

from holopipe.legacy import import_legacy

BIG = 200 * 1024 * 1024


def _state(root):
    out = {}
    for dirpath, dirnames, filenames in os.walk(os.fsencode(root)):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            digest = ""
            if stat.S_ISREG(st.st_mode):
                sha = hashlib.sha256()
                with open(path, "rb") as fh:
                    while chunk := fh.read(1 << 20):
                        sha.update(chunk)
                digest = sha.hexdigest()
            out[path] = (st.st_mode, st.st_mtime_ns, st.st_size, digest)
    return out


def _hdf5(path, size=64):
    with netCDF4.Dataset(path, "w") as ds:
        ds.setncattr("name", "ads_d3_x")
        ds.createDimension("z", size)
        ds.createVariable("z_grid", "f8", ("z",))[:] = np.linspace(0.1, 1, size)


@pytest.fixture
def hostile_tree(tmp_path):
    root = tmp_path / "legacy"
    root.mkdir()
    (root / "empty.json").write_bytes(b"")
    _hdf5(root / "whole.h5")
    data = (root / "whole.h5").read_bytes()
    (root / "truncated.h5").write_bytes(data[: len(data) // 2])
    (root / "checkpoint.pkl").write_bytes(pickle.dumps({"weights": [1, 2]}, protocol=4))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("model/data.pkl", pickle.dumps({"w": 1}, protocol=2))
        archive.writestr("model/version", "3")
    (root / "model.pt").write_bytes(buffer.getvalue())
    os.symlink("loop_b", root / "loop_a")
    os.symlink("loop_a", root / "loop_b")
    (root / "sub").mkdir()
    os.symlink("..", root / "sub" / "up")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.json").write_text("{}")
    os.symlink(outside, root / "to_outside")
    os.mkfifo(root / "pipe")
    (root / os.fsdecode(b"bad_\xff_name.json")).write_text('{"systems": []}')
    with open(root / "big.bin", "wb") as fh:
        fh.truncate(BIG)  # sparse: 200 MB of zeros, no disk used
    (root / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    (root / "nan.json").write_text('{"value": NaN, "file": "gone/missing.h5"}')
    np.savez(
        root / "objects.npz", z_grid=np.arange(3.0), family_pred=np.array(["a", None], dtype=object)
    )
    with netCDF4.Dataset(root / "huge_declared.h5", "w") as ds:
        for name, value in (
            ("name", "ads_d3_huge"),
            ("family", "ads"),
            ("d", 3),
            ("category", "x"),
        ):
            ds.setncattr(name, value)
        ds.setncattr("operators", "[]")
        truth = ds.createGroup("bulk_truth")
        truth.createDimension("z", 10**10)
        for v in ("z_grid", "A_truth", "f_truth"):
            truth.createVariable(v, "f8", ("z",), chunksizes=(1024,))
        ds.createGroup("boundary")
    return root


def _traced(call):
    """``(call(), peak bytes of Python memory during it)``."""
    tracemalloc.start()
    try:
        result = call()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _codes(report, path):
    item = next((f for f in report.files if f.path == path), None)
    codes = {x.code for x in item.findings} if item else set()
    codes |= {x.code for x in report.tree_findings if x.location == path}
    return codes


def test_hostile_folder_imports_with_a_finding_per_case_in_bounded_memory(hostile_tree, tmp_path):
    before = _state(hostile_tree)
    signal.alarm(120)  # a FIFO opened for reading would block forever
    try:
        report, peak = _traced(
            lambda: import_legacy(hostile_tree, "hostile", runs_dir=tmp_path / "runs")
        )
    finally:
        signal.alarm(0)
    assert peak < 64 * 1024 * 1024, f"peak Python memory {peak / 1e6:.0f} MB"
    kinds = {f.path: f.kind for f in report.files}
    assert kinds["empty.json"] == "empty" and "empty_file" in _codes(report, "empty.json")
    assert kinds["truncated.h5"] == "hdf5_unreadable" and "unreadable" in _codes(
        report, "truncated.h5"
    )
    assert kinds["checkpoint.pkl"] == "pickle" and "unsafe_file" in _codes(report, "checkpoint.pkl")
    assert kinds["model.pt"] == "torch_checkpoint" and "unsafe_file" in _codes(report, "model.pt")
    assert "symlink_loop" in _codes(report, "loop_a") and "symlink_loop" in _codes(report, "loop_b")
    assert "symlink_loop" in _codes(report, "sub/up")
    assert "link_outside_root" in _codes(report, "to_outside")
    assert "special_file" in _codes(report, "pipe") and kinds["pipe"] == "special"
    assert kinds["bad_\\xff_name.json"] == "json_other"
    assert {"non_utf8_name", "empty_artifact"} <= _codes(report, "bad_\\xff_name.json")
    assert kinds["big.bin"] == "unknown" and "oversized" in _codes(report, "big.bin")
    assert kinds["deep.json"] == "json_unreadable" and "unreadable" in _codes(report, "deep.json")
    assert {"nan_token", "dangling_reference"} <= _codes(report, "nan.json")
    assert kinds["objects.npz"] == "npz_other" or "object_array" in _codes(report, "objects.npz")
    assert kinds["huge_declared.h5"] == "sandbox_universe"
    assert {"oversized_array"} <= _codes(report, "huge_declared.h5")
    doc = json.loads((tmp_path / "runs/hostile/legacy_import/import_report.json").read_text())
    assert set(doc["unsafe"]) == {"checkpoint.pkl", "model.pt"}
    assert {"empty.json", "truncated.h5", "pipe", "deep.json"} <= set(doc["problems"])
    assert doc["dangling_references"][0]["reference"] == "gone/missing.h5"
    # Never written: contents, modes and mtimes of the legacy tree are as before.
    assert _state(hostile_tree) == before
    # Unsafe files are linked as they are, never copied or loaded.
    link = tmp_path / "runs/hostile/legacy/checkpoint.pkl"
    assert link.is_symlink() and os.path.samefile(link, hostile_tree / "checkpoint.pkl")
    assert not (tmp_path / "runs/hostile/legacy/pipe").exists()
    # And a second import of the same tree is a no-op.
    assert import_legacy(hostile_tree, "hostile", runs_dir=tmp_path / "runs").action == "up_to_date"


def test_unreadable_file_is_a_finding(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root reads files whatever their mode")
    root = tmp_path / "legacy"
    root.mkdir()
    secret = root / "locked.json"
    secret.write_text("{}")
    secret.chmod(0)
    report = import_legacy(root, "locked", runs_dir=tmp_path / "runs")
    assert report.files[0].kind == "unreadable"


# -- the legacy readers are the artifacts layer's (holopipe.artifacts.safety / sniff) ---------
_FIFO_READERS = """
import json, sys
from holopipe.legacy.outline import ArrayInfo, NpzOutline, hdf5_outline, npz_outline, read_members
from holopipe.legacy.probe import load_json_bounded, probe_file, zip_member_names

fifo = sys.argv[1]
out = {}
for reader in (load_json_bounded, hdf5_outline, npz_outline, zip_member_names):
    try:
        reader(fifo)
        out[reader.__name__] = "read"
    except ValueError as exc:
        out[reader.__name__] = str(exc)
out["probe_file"] = probe_file(fifo).problem
out["read_members"] = repr(read_members(fifo, NpzOutline({"z": ArrayInfo("float64", (3,), 8)})))
print(json.dumps(out))
"""


def test_every_legacy_reader_refuses_a_fifo_swapped_in_without_blocking(tmp_path):
    # The walk skips FIFOs, but one can replace a file between the walk and the read: each
    # reader opens non-blocking and checks the open descriptor (several opened by name and
    # blocked forever, some inside the HDF5 C library, where no signal reaches them: hence
    # a child process with a timeout).
    fifo = tmp_path / "swapped.json"
    os.mkfifo(fifo)
    done = subprocess.run(
        [sys.executable, "-c", _FIFO_READERS, str(fifo)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found.pop("read_members") == "{}"
    assert set(found) == {
        "load_json_bounded",
        "hdf5_outline",
        "npz_outline",
        "zip_member_names",
        "probe_file",
    }
    assert all("FIFO" in message for message in found.values()), found


def test_a_zip_declaring_more_members_than_the_limit_is_a_finding_not_listed(tmp_path):
    from holopipe.artifacts.safety import MAX_ZIP_MEMBERS

    root = tmp_path / "legacy"
    root.mkdir()
    with zipfile.ZipFile(root / "many.npz", "w") as archive:
        for i in range(MAX_ZIP_MEMBERS + 1):
            archive.writestr(f"m{i}.npy", b"")
    report, peak = _traced(lambda: import_legacy(root, "many", runs_dir=tmp_path / "runs"))
    [item] = report.files
    messages = [f.message for f in item.findings if f.code == "unreadable"]
    assert messages and f"more than {MAX_ZIP_MEMBERS} members" in messages[0]
    assert peak < 16 * 1024 * 1024


def test_a_small_json_costs_memory_in_proportion_to_itself_not_to_the_limit(tmp_path):
    # read(n) allocates n bytes up front: a bounded reader asking for limit + 1 bytes would
    # cost the whole limit (64 MiB here, 256 MiB by default) for every tiny file.
    from holopipe.legacy.probe import PARSE_LIMIT, load_json_bounded

    path = tmp_path / "small.json"
    path.write_text('{"systems": [1, 2, 3]}')
    (doc, _), peak = _traced(lambda: load_json_bounded(path))
    assert doc == {"systems": [1, 2, 3]}
    assert peak < 1024 * 1024 < PARSE_LIMIT


def test_an_hdf5_file_with_a_non_utf8_name_is_outlined_not_refused(tmp_path):
    # netCDF4 cannot open a name that is not UTF-8; the shared reader opens it through its
    # descriptor, so such a file is classified by its content like any other.
    root = tmp_path / "legacy"
    root.mkdir()
    _hdf5(tmp_path / "made.h5")
    (root / os.fsdecode(b"geometry_\xfe.h5")).write_bytes((tmp_path / "made.h5").read_bytes())
    report = import_legacy(root, "names", runs_dir=tmp_path / "runs")
    [item] = report.files
    assert item.kind != "hdf5_unreadable" and "unreadable" not in {f.code for f in item.findings}
    assert "non_utf8_name" in {f.code for f in item.findings}
