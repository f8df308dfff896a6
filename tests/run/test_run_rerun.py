"""Up-to-date detection: a rerun with nothing changed runs nothing; a changed param reruns
exactly that stage and those downstream; a changed config needs --force and shows the
difference; misspelt keys get a did-you-mean; ``cmd.txt`` reproduces a stage byte for byte."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from holo_run_helpers import (
    chain,
    cli,
    cli_env,
    file_stats,
    load_json,
    manifest,
    output_hashes,
    write_config,
)

from holopipe.pipeline import RunRequest, run_pipeline

KEYS = ["01_chain_source", "02_chain_step", "03_chain_step", "04_chain_step"]


@pytest.fixture
def chain_run(in_tmp: Path) -> Path:
    config = write_config(in_tmp / "c.json", chain(4))
    assert run_pipeline(RunRequest(Path("runs"), "x", config), echo=lambda line: None) == 0
    return in_tmp / "runs" / "x"


def _r_mean(root: Path, key: str, system: str = "sys_d3_0000") -> float:
    alias = f"chain_{key[:2]}"
    return load_json(root / key / alias / f"{system}.json")["systems"][0]["R_mean"]


def test_second_run_with_nothing_changed_reruns_no_stage(chain_run: Path, in_tmp: Path):
    before = {key: file_stats(chain_run / key) for key in KEYS}
    manifest_before = (chain_run / "run_manifest.json").read_bytes()
    done = cli("run", "--experiment", "x", cwd=in_tmp)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        *(f"{key}: up to date (OK), skipped" for key in KEYS),
        "report: runs/x/report.html",
        "x: OK (exit 0); runs/x/pipeline_summary.json",
    ]
    assert {key: file_stats(chain_run / key) for key in KEYS} == before  # same inodes and mtimes
    assert (chain_run / "run_manifest.json").read_bytes() == manifest_before
    outcome = load_json(chain_run / "pipeline_summary.json")
    assert [(s["status"], s["action"]) for s in outcome["stages"]] == [("OK", "up_to_date")] * 4
    # the same config given again is no change either
    done = cli("run", "--experiment", "x", "--config", in_tmp / "c.json", cwd=in_tmp)
    assert done.returncode == 0 and "running" not in done.stdout


def test_changing_one_param_reruns_exactly_it_and_downstream(chain_run: Path, in_tmp: Path):
    before = {key: file_stats(chain_run / key) for key in KEYS}
    hashes = output_hashes(chain_run)
    done = cli("run", "--experiment", "x", "--set", "stages.02.offset=1", "--force", cwd=in_tmp)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "01_chain_source: up to date (OK), skipped"
    assert "02_chain_step: running (params changed)" in lines
    assert "03_chain_step: running (inputs changed)" in lines
    assert "04_chain_step: running (inputs changed)" in lines
    assert file_stats(chain_run / "01_chain_source") == before["01_chain_source"]
    for key in KEYS[1:]:
        assert file_stats(chain_run / key) != before[key]
    # the outputs of 02.. changed by the offset, 01's did not
    assert (
        _r_mean(chain_run, "01_chain_source"),
        _r_mean(chain_run, "02_chain_step"),
        _r_mean(chain_run, "04_chain_step"),
    ) == (-12.0, -11.0, -11.0)
    after = output_hashes(chain_run)
    changed = {path.split("/")[0] for path in after if after[path] != hashes.get(path)}
    assert changed == set(KEYS[1:])
    # the frozen config now has the new value; the old one is kept
    assert load_json(chain_run / "config.resolved.json")["stages"]["02"]["offset"] == 1.0
    assert load_json(chain_run / "config.resolved.1.json")["stages"]["02"]["offset"] == 0.0
    # and a further plain run is a no-op again
    done = cli("run", "--experiment", "x", cwd=in_tmp)
    assert done.returncode == 0 and "running" not in done.stdout


def test_changing_a_late_stage_leaves_the_upstream_alone(chain_run: Path):
    before = {key: file_stats(chain_run / key) for key in KEYS}
    lines: list[str] = []
    code = run_pipeline(
        RunRequest(Path("runs"), "x", overrides=["stages.04.offset=2"], force=True),
        echo=lines.append,
    )
    assert code == 0
    assert [
        line.split(":")[1].split()[0] for line in lines if "running" in line or "up to date" in line
    ] == ["up", "up", "up", "running"]
    for key in KEYS[:3]:
        assert file_stats(chain_run / key) == before[key]


def test_changed_config_without_force_is_refused_with_the_difference(chain_run: Path, in_tmp: Path):
    frozen = (chain_run / "config.resolved.json").read_bytes()
    before = {key: file_stats(chain_run / key) for key in KEYS}
    done = cli("run", "--experiment", "x", "--set", "stages.02.offset=2", cwd=in_tmp)
    assert done.returncode == 2
    assert "differs from the one frozen" in done.stderr
    assert "stages.02.offset: 0.0 -> 2" in done.stderr
    assert "--force" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert (chain_run / "config.resolved.json").read_bytes() == frozen
    assert {key: file_stats(chain_run / key) for key in KEYS} == before

    changed = write_config(in_tmp / "c2.json", chain(4), seed=2)
    done = cli("run", "--experiment", "x", "--config", changed, cwd=in_tmp)
    assert done.returncode == 2 and "seed: 1 -> 2" in done.stderr


@pytest.mark.parametrize(
    ("args", "bad", "suggestion"),
    [
        (["--set", "stages.02.offest=1"], "stages.02.offest", "offset"),
        (["--set", "sead=3"], "sead", "seed"),
        (["--set", "legacy.root=[]"], "legacy.root", "roots"),
    ],
)
def test_unknown_key_gets_did_you_mean_without_traceback(in_tmp: Path, args, bad, suggestion):
    config = write_config(in_tmp / "c.json", chain(2))
    done = cli("run", "--experiment", "y", "--config", config, *args, cwd=in_tmp)
    assert done.returncode == 2
    assert bad in done.stderr and f"did you mean '{suggestion}'" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (in_tmp / "runs" / "y" / "run_manifest.json").exists()


def test_misspelt_key_in_a_config_file(in_tmp: Path):
    (in_tmp / "c.json").write_text(json.dumps({"seed": 1, "pipelin": chain(2)}))
    done = cli("run", "--experiment", "y", "--config", "c.json", cwd=in_tmp)
    assert done.returncode == 2
    assert "pipelin" in done.stderr and "did you mean 'pipeline'" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("key", ["01_chain_source", "03_chain_step"])
def test_cmd_txt_reproduces_the_outputs_byte_for_byte(chain_run: Path, tmp_path_factory, key: str):
    outputs = sorted((chain_run / key).glob("chain_*/*.json"))
    original = {p.name: p.read_bytes() for p in outputs}
    inodes = {p.name: p.stat().st_ino for p in outputs}
    cmd = (chain_run / key / "cmd.txt").read_text()
    assert f" stage {key[:2]} --experiment x " in cmd
    elsewhere = tmp_path_factory.mktemp("elsewhere")  # cmd.txt must not depend on the cwd
    done = subprocess.run(
        ["bash", str(chain_run / key / "cmd.txt")],
        cwd=elsewhere,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    rerun = sorted((chain_run / key).glob("chain_*/*.json"))
    assert {p.name: p.read_bytes() for p in rerun} == original
    assert {p.name: p.stat().st_ino for p in rerun} != inodes  # really written again
    assert manifest(chain_run)["stages"][key]["status"] == "OK"
    assert not list(elsewhere.iterdir())
