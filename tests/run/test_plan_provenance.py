"""The plan's provenance rules (issue 13, items 7 to 10), one test per rule, named after the
section of ``plan_bochorno.es.md`` it enforces."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from holo_run_helpers import chain, cli, cli_env, load_json, manifest, summary, write_config
from holo_run_test_stages import equations

from holopipe.run.provenance import MAIN_PACKAGES, git_state
from holopipe.run.resolution import LEGACY_LOCATIONS

REPO = Path(__file__).resolve().parents[2]


def test_plan_section_5_meta_env_has_hardware_package_versions_and_stage_code(in_tmp: Path):
    config = write_config(in_tmp / "c.json", chain(1))
    assert cli("run", "-e", "x", "--config", config, cwd=in_tmp).returncode == 0
    env = load_json(in_tmp / "runs" / "x" / "01_chain_source" / "meta_env.json")
    assert env["cpu_count"] >= 1 and env["cpu_model"]
    assert env["memory_bytes"] > 2**20
    assert isinstance(env["gpus"], list)
    if shutil.which("nvidia-smi") is None:
        assert env["gpus"] == [] and "nvidia-smi not found" in env["gpu_source"]
    else:
        assert all(set(g) == {"name", "memory_total", "driver_version"} for g in env["gpus"])
    assert set(env["packages"]) == set(MAIN_PACKAGES)
    import numpy

    assert env["packages"]["numpy"] == numpy.__version__
    assert len(env["packages_sha256"]) == 64
    code = env["stage_code"]
    assert code["module"] == "holopipe.testing"
    assert code["distribution"].startswith("holopipe==")
    assert code["git_sha"] == "unknown" and code["git_note"] or len(code["git_sha"]) == 40
    assert env["argv"][1:] == ["run", "-e", "x", "--config", str(config)]


def test_plan_section_5_stage_code_outside_a_repository_is_unknown_with_the_reason(
    in_tmp: Path,
):
    package = in_tmp / "plugins"
    package.mkdir()
    shutil.copy(Path(__file__).with_name("holo_run_test_stages.py"), package / "my_stages.py")
    config = write_config(in_tmp / "c.json", ["my_stages:BulkProducer"])
    env = cli_env()
    env["PYTHONPATH"] = f"{package}{os.pathsep}{env['PYTHONPATH']}"
    done = subprocess.run(
        [sys.executable, "-m", "holopipe", "run", "-e", "x", "--config", str(config)],
        cwd=in_tmp, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    code = load_json(in_tmp / "runs" / "x" / "01_bulk_producer" / "meta_env.json")["stage_code"]
    assert code["git_sha"] == "unknown"
    assert "not in a git repository" in code["git_note"]


def test_plan_section_5_git_state_is_the_head_sha_and_the_dirty_flag_of_tracked_files(
    tmp_path: Path,
):
    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
            cwd=tmp_path, capture_output=True, text=True, check=True,
        )  # fmt: skip
        return done.stdout.strip()

    git("init", "-q")
    (tmp_path / "stage.py").write_text("X = 1\n")
    git("add", "stage.py")
    assert git_state(tmp_path) is None  # no commit yet: no sha to record
    git("commit", "-q", "-m", "one")
    assert git_state(tmp_path) == (git("rev-parse", "HEAD"), False)
    (tmp_path / "notes.txt").write_text("untracked\n")
    assert git_state(tmp_path) == (git("rev-parse", "HEAD"), False)  # untracked: not dirty
    (tmp_path / "stage.py").write_text("X = 2\n")
    assert git_state(tmp_path) == (git("rev-parse", "HEAD"), True)


def test_plan_sections_1_4_and_6_1_manifest_has_config_sha256_config_source_and_argv(
    in_tmp: Path,
):
    config = write_config(in_tmp / "c.json", chain(2))
    done = cli("run", "-e", "x", "--config", config, "--set", "stages.02.offset=1", cwd=in_tmp)
    assert done.returncode == 0
    root = in_tmp / "runs" / "x"
    frozen = root / "config.resolved.json"
    doc = manifest(root)
    assert doc["config_sha256"] == hashlib.sha256(frozen.read_bytes()).hexdigest()
    source = load_json(frozen)["config_file"]
    assert source == {
        "path": str(config.absolute()),
        "sha256": hashlib.sha256(config.read_bytes()).hexdigest(),
    }
    for record in doc["stages"].values():
        assert record["argv"][1:] == ["run", "-e", "x", "--config", str(config),
                                      "--set", "stages.02.offset=1"]  # fmt: skip
        assert record["command"][1:3] == ["stage", record["stage"][:2]]  # the rerun command
    # the same config from another path is no change: not refused, not rerun
    moved = in_tmp / "moved.json"
    shutil.copy(config, moved)
    again = cli("run", "-e", "x", "--config", moved, "--set", "stages.02.offset=1", cwd=in_tmp)
    assert again.returncode == 0 and "running" not in again.stdout


def _legacy_root(base: Path) -> Path:
    folder = base / LEGACY_LOCATIONS["bulk_equations"][0]
    folder.mkdir(parents=True)
    equations("sys_d3_0000", -5.0).write(folder / "sys_d3_0000.json")
    return base


def test_plan_P0_3_legacy_fallback_is_a_summary_warning_and_recorded_in_the_manifest(
    in_tmp: Path,
):
    legacy = _legacy_root(in_tmp / "fase11_outputs")
    config = write_config(
        in_tmp / "c.json", ["holo_run_test_stages:BulkConsumer"], legacy={"roots": [str(legacy)]}
    )
    done = cli("run", "-e", "x", "--config", config, cwd=in_tmp)
    assert done.returncode == 1, done.stderr  # WARNING, as the plan asks
    root = in_tmp / "runs" / "x"
    warnings = summary(root, "02_bulk_consumer")["warnings"]
    assert any("resolved_from_legacy" in w and "sys_d3_0000.json" in w for w in warnings)
    doc = manifest(root)
    assert doc["resolved_from_legacy"] is True
    path = legacy / "bulk_equations" / "sys_d3_0000.json"
    assert doc["legacy_sources"] == [
        {
            "via": "stage 02_bulk_consumer",
            "alias": "bulk_equations",
            "schema": "BulkEquations",
            "path": str(path),
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        }
    ]


def test_plan_normal_run_without_legacy_records_resolved_from_legacy_false(in_tmp: Path):
    config = write_config(in_tmp / "c.json", chain(1))
    assert cli("run", "-e", "x", "--config", config, cwd=in_tmp).returncode == 0
    doc = manifest(in_tmp / "runs" / "x")
    assert doc["resolved_from_legacy"] is False and doc["legacy_sources"] == []


def test_plan_section_8_1_every_module_compiles_and_the_fast_lane_compiles_src():
    failures = []
    for path in sorted((REPO / "src").rglob("*.py")):
        try:
            compile(path.read_text(encoding="utf-8"), str(path), "exec")
        except SyntaxError as exc:
            failures.append(f"{path}: {exc}")
    assert failures == []
    noxfile = (REPO / "noxfile.py").read_text()
    tests_session = noxfile.split("def tests(", 1)[1].split("\ndef ", 1)[0]
    assert '"compileall", "-q", "src"' in tests_session


def test_plan_section_8_1_check_run_validates_the_io_contracts_of_a_run(in_tmp: Path):
    config = write_config(in_tmp / "c.json", chain(3))
    assert cli("run", "-e", "x", "--config", config, cwd=in_tmp).returncode == 0
    done = cli("check-run", "-e", "x", cwd=in_tmp)
    assert done.returncode == 0, done.stderr
    assert "x: 9 recorded files checked, all valid" in done.stdout
    # the last stage's output is checked too (no later stage reads it)
    bad = in_tmp / "runs" / "x" / "03_chain_step" / "chain_03" / "sys_d3_0002.json"
    bad.write_text(bad.read_text() + "\n")  # still valid JSON, not the recorded bytes
    done = cli("check-run", "-e", "x", cwd=in_tmp)
    assert done.returncode == 2
    assert "invalid_artifact: 03_chain_step/chain_03/sys_d3_0002.json: sha256 differs" in (
        done.stderr
    )
    empty = cli("check-run", "-e", "nothing", cwd=in_tmp)
    assert empty.returncode == 2 and "no run 'nothing'" in empty.stderr
