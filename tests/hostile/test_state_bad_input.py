"""Bad settings, hostile storage and corrupt run records (issue 7, items 3, 4, 5 and 7):
exit 2 with one line naming the file and a way out that works; good outputs byte-identical."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from holo_state_helpers import KEYS, cli, env, outputs, tree, write_config


@pytest.fixture
def good_run(tmp_path: Path) -> Path:
    """A finished three-stage run ``runs/x``."""
    done = cli("run", "-e", "x", "--config", write_config(tmp_path / "a.json"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    return tmp_path / "runs" / "x"


def _clean_refusal(done: subprocess.CompletedProcess, *phrases: str) -> None:
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr
    for phrase in phrases:
        assert phrase in done.stderr, done.stderr


# --- item 3: every setting validated up front ----------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("--seed", "-1"),
        ("--seed", "99999999999999999999999"),
        ("--set", "seed=-5"),
        ("--set", "seed=true"),
    ],
)
def test_a_bad_seed_is_refused_before_anything_is_created(tmp_path: Path, args):
    done = cli("run", "-e", "fresh", *args, cwd=tmp_path)
    _clean_refusal(done, "seed")
    assert not (tmp_path / "runs").exists()  # nothing frozen, no run folder


def test_a_bad_seed_in_a_config_file_is_refused_and_nothing_is_frozen(good_run: Path):
    tmp_path = good_run.parents[1]
    before = tree(good_run)
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {"seed": -5, "pipeline": json.loads((tmp_path / "a.json").read_text())["pipeline"]}
        )
    )
    done = cli("run", "-e", "x", "--config", bad, "--force", cwd=tmp_path)
    _clean_refusal(
        done, "invalid config", "bad.json", "seed: must be an integer in [0, 2**63), got -5"
    )
    assert tree(good_run) == before


# --- item 4: hostile storage ---------------------------------------------------------------


def test_a_runs_dir_that_is_a_file_is_exit_2_naming_it(tmp_path: Path):
    (tmp_path / "afile").write_text("not a folder")
    config = write_config(tmp_path / "a.json")
    done = cli("run", "-e", "x", "--config", config, "--runs-dir", "afile", cwd=tmp_path)
    _clean_refusal(done, "afile is a file, not a folder")
    assert (tmp_path / "afile").read_text() == "not a folder"


def test_a_read_only_runs_root_is_exit_2_naming_it(tmp_path: Path):
    ro = tmp_path / "ro"
    ro.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,ro", "tmpfs", str(ro)],
                             capture_output=True)  # fmt: skip
    if mounted.returncode != 0:  # not root: a folder without write permission instead
        ro.chmod(0o555)
        if os.access(ro, os.W_OK):
            pytest.skip("cannot make a read-only folder here (root without mount)")
    try:
        config = write_config(tmp_path / "a.json")
        done = cli("run", "-e", "x", "--config", config, "--runs-dir", ro, cwd=tmp_path)
        _clean_refusal(done, "cannot write", str(ro.name))
    finally:
        if mounted.returncode == 0:
            subprocess.run(["umount", str(ro)], check=True)
        ro.chmod(0o755)


def test_a_full_disk_while_writing_the_manifest_is_exit_2_and_nothing_changes(good_run: Path):
    tmp_path = good_run.parents[1]
    before = tree(good_run)
    done = cli("stage", "03", "-e", "x", cwd=tmp_path, fault="enospc:*/run_manifest.json")
    _clean_refusal(done, "no space left on device while writing runs/x/run_manifest.json")
    assert tree(good_run) == before  # the new 03 folder was swapped back out
    assert cli("stage", "03", "-e", "x", cwd=tmp_path).returncode == 0


# --- item 5: corrupt run records -----------------------------------------------------------


def _edit_stage_record(root: Path, key: str, edit, repoint: bool) -> None:
    """Edit stage ``key``'s record file; with ``repoint`` the index names the edited file by
    its new sha256 (a consistent but invalid manifest), else the index is left as it was."""
    index_path = root / "run_manifest.json"
    index = json.loads(index_path.read_text())
    entry = index["stages"][key]
    record_path = root / entry["record"]
    record = json.loads(record_path.read_text())
    edit(record)
    data = json.dumps(record).encode()
    if not repoint:
        record_path.write_bytes(data)
        return
    entry["sha256"] = hashlib.sha256(data).hexdigest()
    entry["record"] = f"run_manifest.d/{key}.{entry['sha256'][:16]}.json"
    (root / entry["record"]).write_bytes(data)
    index_path.write_text(json.dumps(index))


def _first_output(change: dict):
    return lambda record: record["outputs"][0].update(change)


# One corruption of each kind in the fast lane (an index that is not JSON, a consistent
# index naming a record that breaks the rules, an index that no longer matches its record),
# the others of the same kinds nightly: after the refusal every kind takes the same repair.
@pytest.mark.parametrize(
    "corrupt",
    ["truncated", pytest.param("not_an_object", marks=pytest.mark.slow),
     "path_outside", pytest.param("path_absolute", marks=pytest.mark.slow),
     pytest.param("bad_hash", marks=pytest.mark.slow),
     "record_altered", pytest.param("record_missing", marks=pytest.mark.slow)],
)  # fmt: skip
def test_a_corrupt_manifest_is_exit_2_and_repair_manifest_recovers(good_run: Path, corrupt):
    tmp_path = good_run.parents[1]
    expected = outputs(good_run)
    path = good_run / "run_manifest.json"
    text = path.read_text()
    if corrupt == "truncated":
        path.write_text(text[: len(text) // 2])
    elif corrupt == "not_an_object":
        path.write_text("[]")
    elif corrupt == "record_missing":
        (good_run / json.loads(text)["stages"][KEYS[1]]["record"]).unlink()
    elif corrupt == "record_altered":  # the index no longer matches the record file
        _edit_stage_record(good_run, KEYS[1], _first_output({"size": 1}), repoint=False)
    else:
        change = {
            "path_outside": {"path": "../../etc/passwd"},
            "path_absolute": {"path": "/etc/passwd"},
            "bad_hash": {"sha256": "abc"},
        }[corrupt]
        _edit_stage_record(good_run, KEYS[1], _first_output(change), repoint=True)
    broken = path.read_bytes()
    for args in (("run", "-e", "x"), ("status", "-e", "x"), ("stage", "03", "-e", "x"),
                 ("assert-artifacts", "-e", "x", "--for-stage", "03")):  # fmt: skip
        done = cli(*args, cwd=tmp_path)
        _clean_refusal(done, "runs/x/run_manifest.json: corrupt run manifest",
                       "holopipe repair-manifest -e x")  # fmt: skip
        assert outputs(good_run) == expected
    repaired = cli("repair-manifest", "-e", "x", cwd=tmp_path)
    assert repaired.returncode == 0, repaired.stderr
    assert f"{KEYS[2]}: OK, 3 outputs recorded" in repaired.stdout
    assert (good_run / "run_manifest.json.corrupt").read_bytes() == broken
    status = cli("status", "-e", "x", cwd=tmp_path)
    assert status.returncode == 0 and "no fingerprint (manifest rebuilt)" in status.stdout
    done = cli("run", "-e", "x", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert outputs(good_run) == expected  # rerun once: the same bytes
    again = cli("run", "-e", "x", cwd=tmp_path)
    assert again.returncode == 0 and "running" not in again.stdout


def test_a_manifest_that_is_a_fifo_is_exit_2_not_a_hang(good_run: Path):
    tmp_path = good_run.parents[1]
    expected = outputs(good_run)
    path = good_run / "run_manifest.json"
    path.unlink()
    os.mkfifo(path)  # nobody writes it: reading it would block for ever
    for args in (("run", "-e", "x"), ("status", "-e", "x"), ("stage", "03", "-e", "x")):
        done = cli(*args, cwd=tmp_path, timeout=60)
        _clean_refusal(done, "runs/x/run_manifest.json: corrupt run manifest",
                       "not_regular_file", "holopipe repair-manifest -e x")  # fmt: skip
        assert outputs(good_run) == expected


def test_a_corrupt_frozen_config_is_exit_2_and_config_force_recovers(good_run: Path):
    tmp_path = good_run.parents[1]
    expected = outputs(good_run)
    (good_run / "config.resolved.json").write_text('{"seed": 1, "pipel')
    for args in (("run", "-e", "x"), ("status", "-e", "x"), ("stage", "02", "-e", "x")):
        done = cli(*args, cwd=tmp_path)
        _clean_refusal(done, "runs/x/config.resolved.json: corrupt frozen config",
                       "--config FILE --force")  # fmt: skip
    assert outputs(good_run) == expected
    done = cli("run", "-e", "x", "--config", tmp_path / "a.json", "--force", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (good_run / "config.resolved.1.json").read_text() == '{"seed": 1, "pipel'
    assert outputs(good_run) == expected


# --- item 7: debugging and docs messages ----------------------------------------------------


def test_holopipe_debug_shows_the_traceback_and_keeps_exit_3(tmp_path: Path):
    # an internal error: the library raising something no handler expects
    code = "from holopipe.cli.app import main; import holopipe.pipeline as p\n" \
        "p.run_pipeline = lambda *a, **k: 1 / 0\nmain()"  # fmt: skip
    for debug in ("", "1"):
        done = subprocess.run(
            [sys.executable, "-c", code, "run", "-e", "x"],
            cwd=tmp_path, env=env(HOLOPIPE_DEBUG=debug), capture_output=True, text=True,
        )  # fmt: skip
        assert done.returncode == 3, done.stderr
        assert "internal error: ZeroDivisionError" in done.stderr
        assert ("Traceback" in done.stderr) == bool(debug)


def test_docs_check_without_output_says_how_to_call_it(tmp_path: Path):
    done = cli("docs", "--check", cwd=tmp_path)
    assert done.returncode == 2
    assert "None" not in done.stderr
    assert "holopipe docs --check --output docs/ARTIFACT_API.md" in done.stderr
    missing = cli("docs", "--check", "--output", "nope.md", cwd=tmp_path)
    assert missing.returncode == 1 and "nope.md does not exist" in missing.stderr
