"""Config: overrides and seed recorded in config.resolved.json, the built-in default config,
input resolution (explicit --input, then the manifest, then the legacy resolver with a
warning and ``resolved_from_legacy``), and ``impl`` replacements that must keep the interface."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from holo_run_helpers import chain, cli, load_json, manifest, summary, write_config
from holo_run_test_stages import equations

from holopipe.pipeline import DEFAULT_CONFIG, RunRequest, resolve_config, run_pipeline
from holopipe.run.resolution import LEGACY_LOCATIONS


def test_overrides_and_seed_are_recorded(in_tmp: Path):
    config = write_config(in_tmp / "c.json", chain(2), seed=5)
    done = cli(
        "run",
        "-e",
        "x",
        "--config",
        config,
        "--set",
        "stages.01.n_systems=4",
        "--set",
        "stages.02.offset=0.5",
        "--seed",
        "77",
        cwd=in_tmp,
    )
    assert done.returncode == 0, done.stderr
    root = in_tmp / "runs" / "x"
    frozen = load_json(root / "config.resolved.json")
    assert frozen["seed"] == 77
    assert frozen["overrides"] == ["stages.01.n_systems=4", "stages.02.offset=0.5", "seed=77"]
    assert frozen["stages"]["01"] == {
        "n_systems": 4,
        "offset": 0.0,
        "fail_system": -1,
        "systems_per_file": 1,
    }  # defaults filled in
    assert frozen["stages"]["02"]["offset"] == 0.5
    assert summary(root, "01_chain_source")["meta"]["seed"] == 77
    assert summary(root, "02_chain_step")["counts"]["inputs_total"] == 4
    r = load_json(root / "02_chain_step" / "chain_02" / "sys_d3_0003.json")["systems"][0]["R_mean"]
    assert r == -11.5


def test_builtin_default_config_without_any_file(in_tmp: Path):
    resolved, _ = resolve_config()
    assert resolved["seed"] == DEFAULT_CONFIG["seed"] and resolved["overrides"] == []
    done = cli("run", "-e", "d", "--set", json.dumps(chain(1)).join(["pipeline=", ""]), cwd=in_tmp)
    assert done.returncode == 0, done.stderr
    frozen = load_json(in_tmp / "runs" / "d" / "config.resolved.json")
    assert frozen["seed"] == DEFAULT_CONFIG["seed"]
    assert frozen["pipeline"] == chain(1)
    assert (
        summary(in_tmp / "runs" / "d", "01_chain_source")["meta"]["seed"] == DEFAULT_CONFIG["seed"]
    )


def test_seed_is_required(in_tmp: Path):
    (in_tmp / "c.json").write_text(json.dumps({"pipeline": chain(1)}))
    done = cli("run", "-e", "x", "--config", "c.json", cwd=in_tmp)
    assert done.returncode == 2 and "seed" in done.stderr and "required" in done.stderr
    assert cli("run", "-e", "x", "--config", "c.json", "--seed", "3", cwd=in_tmp).returncode == 0


def _legacy_root(base: Path, r_mean: float) -> Path:
    folder = base / LEGACY_LOCATIONS["bulk_equations"][0]
    folder.mkdir(parents=True)
    equations("sys_d3_0000", r_mean).write(folder / "sys_d3_0000.json")
    return base


def test_input_from_a_legacy_root_warns_and_is_recorded(in_tmp: Path):
    legacy = _legacy_root(in_tmp / "fase11_outputs", -5.0)
    config = write_config(
        in_tmp / "c.json", ["holo_run_test_stages:BulkConsumer"], legacy={"roots": [str(legacy)]}
    )
    done = cli("run", "-e", "x", "--config", config, cwd=in_tmp)
    # Section P0.3: a legacy fallback is recorded and warned, in the summary too (WARNING).
    assert done.returncode == 1, done.stdout + done.stderr
    root = in_tmp / "runs" / "x"
    summary = load_json(root / "02_bulk_consumer" / "stage_summary.json")
    assert summary["warnings"] == ["resolved_from_legacy: sys_d3_0000.json read as BulkEquations"]
    [entry] = manifest(root)["stages"]["02_bulk_consumer"]["inputs"]
    assert entry["resolved_from_legacy"] is True
    assert entry["path"] == str(legacy / "bulk_equations" / "sys_d3_0000.json")
    log = (root / "02_bulk_consumer" / "logs" / "stderr.log").read_text()
    assert (
        "WARNING" in log
        and "resolved from legacy folder" in log
        and "resolved_from_legacy=true" in log
    )
    assert (
        load_json(root / "02_bulk_consumer" / "chain_02" / "sys_d3_0000.json")["systems"][0][
            "R_mean"
        ]
        == -4.0
    )
    # the gate agrees: what the stage needs is there
    assert cli("assert-artifacts", "-e", "x", "--for-stage", "02", cwd=in_tmp).returncode == 0


def test_no_legacy_root_means_missing_artifact(in_tmp: Path):
    _legacy_root(in_tmp / "fase11_outputs", -5.0)  # present, but not configured: never searched
    config = write_config(in_tmp / "c.json", ["holo_run_test_stages:BulkConsumer"])
    done = cli("run", "-e", "x", "--config", config, cwd=in_tmp)
    assert done.returncode == 2
    assert any(
        line.startswith("missing_artifact: bulk_equations/") for line in done.stderr.splitlines()
    )


def test_manifest_wins_over_legacy_and_explicit_input_wins_over_manifest(in_tmp: Path):
    legacy = _legacy_root(in_tmp / "legacy", -5.0)
    config = write_config(
        in_tmp / "c.json",
        ["holo_run_test_stages:BulkProducer", "holo_run_test_stages:BulkConsumer"],
        legacy={"roots": [str(legacy)]},
    )
    assert run_pipeline(RunRequest(Path("runs"), "x", config), echo=lambda line: None) == 0
    root = in_tmp / "runs" / "x"
    [entry] = manifest(root)["stages"]["02_bulk_consumer"]["inputs"]
    assert (entry["path"], entry["resolved_from_legacy"]) == (
        "01_bulk_producer/bulk_equations/sys_d3_0000.json",
        False,
    )
    out = root / "02_bulk_consumer" / "chain_02" / "sys_d3_0000.json"
    assert load_json(out)["systems"][0]["R_mean"] == -11.0

    explicit = in_tmp / "explicit"
    explicit.mkdir()
    equations("sys_d3_0000", -7.0).write(explicit / "mine.json")
    done = cli("run", "-e", "x", "--input", f"bulk_equations={explicit}", cwd=in_tmp)
    assert done.returncode == 0, done.stderr
    assert "01_bulk_producer: up to date" in done.stdout
    assert "02_bulk_consumer: running (inputs changed)" in done.stdout
    [entry] = manifest(root)["stages"]["02_bulk_consumer"]["inputs"]
    assert (entry["path"], entry["resolved_from_legacy"]) == (str(explicit / "mine.json"), False)
    assert load_json(out)["systems"][0]["R_mean"] == -6.0
    assert (
        f"--input bulk_equations={explicit}" in (root / "02_bulk_consumer" / "cmd.txt").read_text()
    )


def test_explicit_input_that_does_not_exist(in_tmp: Path):
    config = write_config(in_tmp / "c.json", ["holo_run_test_stages:BulkConsumer"])
    done = cli(
        "run", "-e", "x", "--config", config, "--input", "bulk_equations=nowhere", cwd=in_tmp
    )
    assert done.returncode == 2
    assert "missing_artifact: nowhere" in done.stderr


def test_impl_with_the_same_interface_replaces_the_stage(in_tmp: Path):
    config = write_config(
        in_tmp / "c.json", chain(3), impl={"02": "holo_run_test_stages:SameInterface02"}
    )
    lines: list[str] = []
    assert run_pipeline(RunRequest(Path("runs"), "x", config), echo=lines.append) == 0
    root = in_tmp / "runs" / "x"
    assert sorted(manifest(root)["stages"]) == [
        "01_chain_source",
        "02_replacement_step",
        "03_chain_step",
    ]
    assert (
        load_json(root / "03_chain_step" / "chain_03" / "sys_d3_0000.json")["systems"][0]["R_mean"]
        == 88.0
    )


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (
            "holo_run_test_stages:WrongInterface02",
            "must declare id 02 and the same inputs and outputs as Chain02",
        ),
        ("holo_run_test_stages:SLEEPY", "is not a holopipe.stages.Stage subclass"),
        ("no_such_module_xyz:Stage", "cannot load stage"),
    ],
)
def test_impl_with_another_interface_is_refused(in_tmp: Path, target: str, message: str):
    config = write_config(in_tmp / "c.json", chain(3), impl={"02": target})
    done = cli("run", "-e", "x", "--config", config, cwd=in_tmp)
    assert done.returncode == 2
    assert "config impl.02: " in done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr
    assert not (in_tmp / "runs" / "x" / "01_chain_source").exists()
