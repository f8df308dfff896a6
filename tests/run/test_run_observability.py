"""Acceptance: every stage dir has the observability files, output is captured at the fd
level, the manifest lists every output with a correct sha256, aliases resolve, and the run's
own records validate with ``holopipe validate``."""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
from pathlib import Path

import pytest
from holo_run_helpers import cli, cli_env, load_json, manifest, sha256, write_config

import holopipe
from holopipe.artifacts.equations import BulkEquations
from holopipe.artifacts.records import RunManifest, StageSummary
from holopipe.run.layout import BOOKKEEPING_FILES

STAGES = ["01_fd_echo", "02_chain_step", "03_chain_step"]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory):
    """One CLI run of FdEcho -> Chain02 -> Chain03 (3 systems)."""
    cwd = tmp_path_factory.mktemp("obs")
    config = write_config(
        cwd / "c.json",
        ["holo_run_test_stages:FdEcho", "holopipe.testing:Chain02", "holopipe.testing:Chain03"],
        stages={"01": {"n_systems": 3}},
    )
    done = cli("run", "--experiment", "obs", "--config", config, cwd=cwd)
    assert done.returncode == 0, done.stderr
    return cwd / "runs" / "obs", done


def test_every_stage_dir_has_the_observability_files(run):
    root, _ = run
    assert sorted(manifest(root)["stages"]) == STAGES
    for key in STAGES:
        for name in BOOKKEEPING_FILES:
            assert (root / key / name).is_file(), f"{key}/{name} missing"
        outputs = sorted((root / key).glob("chain_*/*.json"))
        assert len(outputs) == 3, key
        s = StageSummary.read(root / key / "stage_summary.json")
        assert (s.stage, s.experiment, s.status, s.exit_code) == (key, "obs", "OK", 0)
        assert s.meta.seed == 1 and s.meta.git_sha and s.meta.created_at.endswith("Z")
        if key != "01_fd_echo":  # the chain steps map over their systems
            assert [(r.system_id, r.status) for r in s.systems] == [
                (f"sys_d3_{i:04d}", "OK") for i in range(3)
            ]
        alias = f"chain_{key[:2]}"
        files = {f"sys_d3_{i:04d}.json": f"{alias}/sys_d3_{i:04d}.json" for i in range(3)}
        assert s.counts.outputs_rows == 3 and s.artifacts == {alias: f"{key}/{alias}", **files}
        assert s.timings["total_s"] > 0
    # the orchestrator's consolidated summary
    pipeline = load_json(root / "pipeline_summary.json")
    assert [(s["stage"], s["status"], s["action"]) for s in pipeline["stages"]] == [
        (k, "OK", "ran") for k in STAGES
    ]


def test_meta_env_records_the_environment(run):
    root, _ = run
    env = load_json(root / "01_fd_echo" / "meta_env.json")
    assert env["python"] == platform.python_version()
    assert env["platform"] == platform.platform()
    assert env["cpu_count"] == os.cpu_count()
    assert isinstance(env["cpu_model"], str) and env["cpu_model"]
    assert env["holopipe_version"] == holopipe.__version__
    assert re.fullmatch(r"[0-9a-f]{64}", env["packages_sha256"])
    assert env["packages_count"] > 5
    assert isinstance(env["gpus"], list) and env["gpu_source"]


def test_output_is_captured_at_the_file_descriptor_level(run):
    root, done = run
    out = (root / "01_fd_echo" / "logs" / "stdout.log").read_text()
    err = (root / "01_fd_echo" / "logs" / "stderr.log").read_text()
    for line in ("fd1-direct-write", "from-child-process", "python-print-line"):
        assert line in out.splitlines(), line
    for line in ("fd2-direct-write", "child-stderr-line", "python-stderr-line"):
        assert line in err.splitlines(), line
    # nothing of it reached the orchestrator's own streams
    for text in (done.stdout, done.stderr):
        assert "fd1-direct-write" not in text and "from-child-process" not in text
        assert "fd2-direct-write" not in text


def test_manifest_lists_every_output_with_its_sha256(run):
    root, _ = run
    m = manifest(root)
    for key in STAGES:
        record = m["stages"][key]
        listed = {o["path"]: o for o in record["outputs"]}
        on_disk = {p.relative_to(root).as_posix() for p in (root / key).glob("chain_*/*.json")}
        assert set(listed) == on_disk
        for rel, entry in listed.items():
            assert not rel.startswith("/") and ".." not in rel.split("/")
            assert entry["sha256"] == sha256(root / rel)
            assert entry["size"] == (root / rel).stat().st_size
            assert entry["schema"] == "BulkEquations"
        assert record["status"] == "OK" and record["fingerprint"]
        assert record["git_sha"] and record["command"]
    # inputs are the producer's outputs, with the same hashes
    inputs = {i["path"]: i["sha256"] for i in m["stages"]["02_chain_step"]["inputs"]}
    assert inputs == {o["path"]: o["sha256"] for o in m["stages"]["01_fd_echo"]["outputs"]}
    assert not any(i["resolved_from_legacy"] for i in m["stages"]["02_chain_step"]["inputs"])


def test_aliases_are_relative_symlinks_that_resolve(run):
    root, _ = run
    aliases = manifest(root)["aliases"]
    assert aliases == {
        "chain_01": "01_fd_echo/chain_01",
        "chain_02": "02_chain_step/chain_02",
        "chain_03": "03_chain_step/chain_03",
    }
    for alias, target in aliases.items():
        link = root / alias
        assert link.is_symlink()
        assert not os.path.isabs(os.readlink(link))
        assert link.resolve() == (root / target).resolve()
        assert sorted(p.name for p in link.iterdir()) == sorted(
            p.name for p in (root / target).iterdir()
        )


def test_outputs_and_run_records_validate(run):
    root, _ = run
    for path in sorted(root.glob("0*/chain_*/*.json")):
        assert BulkEquations.validate_file(path).ok, path
    assert RunManifest.validate_file(root / "run_manifest.json").ok
    files = [
        root / "run_manifest.json",
        root / "pipeline_summary.json",
        *(root / key / "stage_summary.json" for key in STAGES),
    ]
    done = cli("validate", *files, cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "valid RunManifest" in done.stdout
    assert done.stdout.count("valid StageSummary") == 3
    assert "valid PipelineSummary" in done.stdout


def test_status_lists_every_stage_up_to_date(run):
    root, _ = run
    done = cli("status", "--experiment", "obs", "--runs-dir", root.parent, cwd=root.parent.parent)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [line.split()[0] for line in lines] == STAGES
    assert all(line.split()[1] == "OK" and line.endswith("up to date") for line in lines)


def test_runs_dir_from_the_environment(tmp_path: Path):
    config = write_config(tmp_path / "c.json", ["holopipe.testing:Chain01"])
    env = {**cli_env(), "HOLOPIPE_RUNS_DIR": str(tmp_path / "elsewhere")}
    done = subprocess.run(
        [sys.executable, "-m", "holopipe", "run", "-e", "envrun", "--config", str(config)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "elsewhere" / "envrun" / "run_manifest.json").is_file()
    assert not (tmp_path / "runs").exists()
