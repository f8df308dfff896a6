"""Folder mode of ``holopipe validate`` (issue 7 item 11): recursion with a depth limit, no way
out of the root, loops detected, every skipped entry a finding, a good run valid."""

from __future__ import annotations

import os
import shutil
import socket

import pytest
from typer.testing import CliRunner

from holopipe.artifacts import GeometryPrediction, StageSummary
from holopipe.artifacts.registry import validate_paths
from holopipe.artifacts.walk import walk_folder
from holopipe.cli import app

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [os.fspath(a) for a in args])


def findings(reports) -> set[tuple[str, str]]:
    """(path relative to nothing, code) of every finding."""
    return {(r.path, f.code) for r in reports for f in r.findings}


@pytest.fixture
def tree(tmp_path):
    """A folder with nested artifacts and every kind of entry that must be skipped."""
    root = tmp_path / "root"
    deep = root / "a" / "b"
    deep.mkdir(parents=True)
    GeometryPrediction.example().write(root / "top_geometry.npz")
    StageSummary.example().write(deep / "stage_summary.json")
    outside = tmp_path / "outside"
    outside.mkdir()
    StageSummary.example().write(outside / "stage_summary.json")
    os.symlink(outside, root / "to_outside")
    os.symlink(root / "nowhere", root / "dangling")
    os.symlink(root / "loop", root / "loop")
    os.symlink("..", deep / "up")
    os.symlink(root / "a", root / "alias_of_a")  # inside the root: searched where it is
    os.mkfifo(root / "pipe")
    (root / ".hidden.json").write_text("{")
    return root


def test_recursion_and_every_skipped_entry(tree):
    reports = validate_paths([tree])
    by_path = {r.path: r for r in reports}
    assert by_path[str(tree / "top_geometry.npz")].ok
    assert by_path[str(tree / "a" / "b" / "stage_summary.json")].ok
    assert findings(reports) == {
        (str(tree / "to_outside"), "link_outside"),
        (str(tree / "dangling"), "dangling_link"),
        (str(tree / "loop"), "link_loop"),
        (str(tree / "a" / "b" / "up"), "link_loop"),
        (str(tree / "pipe"), "not_regular_file"),
        (str(tree / ".hidden.json"), "hidden"),
    }
    assert all(f.severity == "warning" for r in reports for f in r.findings)
    # Nothing outside was read, nothing twice (the alias inside the root is not followed).
    assert not any("outside" in r.path and r.findings == [] for r in reports)
    assert len([r for r in reports if r.path.endswith("stage_summary.json")]) == 1


def test_cli_exit_code_and_lines(tree):
    result = invoke("validate", tree)
    assert result.exit_code == 1, result.output  # warnings only: the skipped entries
    assert f"{tree / 'pipe'}: warning not_regular_file [<entry>]: a FIFO (named pipe)" in (
        result.output
    )
    assert f"{tree / 'to_outside'}: warning link_outside [<entry>]" in result.output
    assert f"{tree / 'a' / 'b' / 'stage_summary.json'}: valid StageSummary" in result.output
    assert "valid None" not in result.output  # a skipped entry is not called valid


def test_no_recursive_and_depth_limit(tree):
    flat = invoke("validate", "--no-recursive", tree)
    assert "stage_summary.json" not in flat.output
    assert f"{tree / 'top_geometry.npz'}: valid" in flat.output
    shallow = invoke("validate", "--max-depth", "1", tree)
    assert f"{tree / 'a' / 'b'}: warning too_deep [<entry>]" in shallow.output
    assert "stage_summary.json: valid" not in shallow.output


def test_walk_never_leaves_the_root(tree):
    files, skipped = walk_folder(tree)
    real_root = os.path.realpath(tree)
    for path in files:
        assert os.path.realpath(path).startswith(real_root + os.sep)


def test_sockets_are_skipped_with_a_finding(tmp_path):
    sock_path = tmp_path / "s.sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(sock_path))
    try:
        GeometryPrediction.example().write(tmp_path / "g_geometry.npz")
        reports = validate_paths([tmp_path])
        assert (str(sock_path), "not_regular_file") in findings(reports)
    finally:
        server.close()


def test_unreadable_subfolder_is_a_finding(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root reads every folder")
    locked = tmp_path / "locked"
    locked.mkdir()
    GeometryPrediction.example().write(tmp_path / "g_geometry.npz")
    locked.chmod(0)
    try:
        assert (str(locked), "unreadable") in findings(validate_paths([tmp_path]))
    finally:
        locked.chmod(0o755)


def test_a_good_run_is_valid(toy_run_copy):
    result = invoke("validate", toy_run_copy)
    assert result.exit_code == 0, result.output
    assert "unknown_schema" not in result.output
    for record in ("config.resolved.json", "cmd.txt", "meta_env.json", "stderr.log"):
        assert f"{record}: valid holopipe record" in result.output, record
    assert "run_manifest.json.lock: valid holopipe record: lock file" in result.output
    # The experiment lock is hidden, and a record: recognised, not skipped.
    assert f"{toy_run_copy / '.lock'}: valid holopipe record: lock file" in result.output
    assert "hidden" not in result.output


def test_broken_records_are_findings(toy_run_copy):
    (toy_run_copy / "config.resolved.json").write_text('{"seed": ')
    stage = next(toy_run_copy.glob("01_*"))
    (stage / "meta_env.json").write_text("[1, 2]")
    (stage / "cmd.txt").write_bytes(b"holopipe \xff\n")
    result = invoke("validate", toy_run_copy)
    assert result.exit_code == 2
    assert "config.resolved.json: error malformed_json" in result.output
    assert "meta_env.json: error wrong_type [<root>]: expected a JSON object" in result.output
    assert "cmd.txt: error unreadable [<file>]: not UTF-8 text" in result.output


def test_record_names_follow_the_run_layout():
    # The validator's list of records must know every record the run machinery writes.
    from holopipe.artifacts.run_records import record_kind
    from holopipe.run import layout

    lay = layout.RunLayout.create("runs", "x")
    names = [lay.config_path, lay.lock_path, lay.root / "predictions" / layout.ALIAS_MARKER]
    names.append(lay.manifest_path.with_name(lay.manifest_path.name + ".lock"))
    stage = lay.root / "01_generate_sandbox_geometries"
    names += [stage / rel for rel in layout.BOOKKEEPING_FILES if rel != "stage_summary.json"]
    assert len(names) >= 8
    for name in names:
        assert record_kind(name) is not None, name


@pytest.fixture
def toy_run_copy(toy_run_template, tmp_path):
    copy = tmp_path / "toy"
    shutil.copytree(toy_run_template, copy, symlinks=True)
    return copy


# -- hidden entries (issue 7 item 11): each reported, holopipe's own said as such ----------
def test_hidden_entries_are_reported_not_skipped_silently(toy_run_copy):
    from holopipe.run.layout import RunLayout
    from holopipe.run.locking import ExperimentLock
    from holopipe.run.publish import partial_dir

    layout = RunLayout.create(toy_run_copy.parent, toy_run_copy.name)
    work = partial_dir(layout, "02_emergent_geometry_engine")  # a stage at work
    work.mkdir()
    GeometryPrediction.example().write(work / "half_written_geometry.npz")
    temp = toy_run_copy / ".config.resolved.json.k3j9xq2a.tmp"  # an interrupted atomic write
    temp.write_text("{")
    holder = ExperimentLock.of_run(layout).holder_path
    holder.write_text('{"pid": 1, "host": "h", "command": "holopipe run -e toy"}')
    (toy_run_copy / ".DS_Store").write_bytes(b"\x00\x01")
    (toy_run_copy / ".git").mkdir()
    result = invoke("validate", toy_run_copy)
    assert result.exit_code == 1, result.output  # warnings only: nothing of the run is bad
    lines = result.output.splitlines()

    def line_of(path):
        found = [line for line in lines if line.startswith(f"{path}: ")]
        assert len(found) == 1, (path, found)
        return found[0]

    assert line_of(work) == (
        f"{work}: warning hidden [<entry>]: holopipe's work folder of stage "
        "02_emergent_geometry_engine (running, or interrupted): not searched"
    )
    assert line_of(temp) == (
        f"{temp}: warning hidden [<entry>]: holopipe's temporary file of a write of "
        "config.resolved.json (atomic): not searched"
    )
    assert "valid holopipe record: lock holder" in line_of(holder)
    for other in (toy_run_copy / ".DS_Store", toy_run_copy / ".git"):
        assert line_of(other) == (
            f"{other}: warning hidden [<entry>]: a hidden entry: not searched "
            "(name it on the command line to validate it)"
        )
    # Nothing inside a hidden folder was read.
    assert "half_written_geometry.npz" not in result.output
    # Named on the command line, a hidden file is validated like any other.
    assert invoke("validate", temp).exit_code == 2


def test_hidden_names_follow_the_run_layout(tmp_path):
    # What the validator calls holopipe's own leftovers is what the run machinery removes.
    from holopipe.artifacts.run_records import hidden_entry
    from holopipe.run.layout import RunLayout, make_alias
    from holopipe.run.publish import partial_dir, swap_into_place

    layout = RunLayout.create(tmp_path, "x")
    layout.root.mkdir()
    partial_dir(layout, "03_discover_bulk_equations").mkdir()
    stage = layout.root / "02_emergent_geometry_engine"
    stage.mkdir()
    (layout.root / "new").mkdir()
    swap_into_place(layout.root / "new", stage, keep_old=True)  # leaves .02_....old
    (layout.root / ".run_manifest.json.abcd1234.tmp").write_text("{")
    make_alias(layout.root, "predictions", stage)
    (layout.root / ".predictions.alias-tmp").symlink_to(stage.name)
    hidden = sorted(p.name for p in layout.root.iterdir() if p.name.startswith("."))
    assert len(hidden) == 4, hidden
    assert all(hidden_entry(name).startswith("holopipe's ") for name in hidden), hidden
    removed = layout.remove_leftovers()
    assert len(removed) == 4, removed
    assert not [p for p in layout.root.iterdir() if p.name.startswith(".")]
