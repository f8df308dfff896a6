"""SIGKILL of the orchestrator at many points, then a plain rerun: the run completes with the
same output hashes as an uninterrupted run, and a concurrent reader never sees a partial
manifest or artifact."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import threading
import time
from pathlib import Path

import pytest
from holo_run_helpers import (
    cli,
    cli_popen,
    load_json,
    manifest,
    output_hashes,
    sleepy,
    summary,
    write_config,
)

from holopipe.artifacts.records import RunManifest
from holopipe.artifacts.registry import get_type


class Reader(threading.Thread):
    """Reads the run over and over: the manifest must always parse and validate, every
    output it lists for an OK stage must be there with its sha256 and validate, and every
    visible JSON file (stage dirs and aliases) must parse."""

    def __init__(self, root: Path):
        super().__init__(daemon=True)
        self.root = root
        self.stop = threading.Event()
        self.failures: list[str] = []
        self.counts = {"manifests": 0, "listed": 0, "files": 0}

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self._once()
            except Exception as exc:  # noqa: BLE001 - any surprise is a finding
                self.failures.append(f"reader crashed: {type(exc).__name__}: {exc}")
            time.sleep(0.002)

    def _once(self) -> None:
        path = self.root / "run_manifest.json"
        if path.exists():
            try:
                doc = RunManifest.read_document(path)  # the index and its stage records
            except FileNotFoundError:  # not written yet
                return
            except ValueError as exc:
                self.failures.append(f"run_manifest.json does not parse: {exc}")
                return
            self.counts["manifests"] += 1
            if self.counts["manifests"] % 10 == 1 and not RunManifest.validate_file(path).ok:
                self.failures.append("run_manifest.json does not validate")
            for key, record in doc["stages"].items():
                if record["status"] != "OK":
                    continue
                for entry in record["outputs"]:
                    file = self.root / entry["path"]
                    try:
                        data = file.read_bytes()
                    except FileNotFoundError:
                        self.failures.append(
                            f"{entry['path']}: listed for OK stage {key} but missing"
                        )
                        continue
                    if hashlib.sha256(data).hexdigest() != entry["sha256"]:
                        self.failures.append(f"{entry['path']}: sha256 differs from the manifest")
                    elif not get_type(entry["schema"]).validate_file(file).ok:
                        self.failures.append(f"{entry['path']}: does not validate")
                    self.counts["listed"] += 1
        visible = [self.root / name for name in _listdir(self.root) if not name.startswith(".")]
        for folder in (p for p in visible if p.is_dir()):  # stage dirs and alias links
            for dirpath, dirnames, filenames in os.walk(folder):
                dirnames[:] = [d for d in dirnames if not d.startswith(".")]
                for name in filenames:
                    if name.startswith(".") or not name.endswith(".json"):
                        continue
                    try:
                        text = Path(dirpath, name).read_text()
                    except FileNotFoundError:  # its stage dir was just swapped: not visible
                        continue
                    try:
                        json.loads(text)
                    except ValueError as exc:
                        self.failures.append(f"{dirpath}/{name}: partial JSON ({exc})")
                    self.counts["files"] += 1


def _listdir(folder: Path) -> list[str]:
    try:
        return os.listdir(folder)
    except FileNotFoundError:
        return []


def _remaining(root: Path, n_stages: int) -> list[int]:
    """Stages without an OK record yet."""
    try:
        stages = RunManifest.read_document(root / "run_manifest.json")["stages"]
    except FileNotFoundError:
        stages = {}
    return [
        i for i in range(1, n_stages + 1) if stages.get(f"{i:02d}_sleepy", {}).get("status") != "OK"
    ]


def _kill_repeatedly(
    cwd: Path,
    experiment: str,
    config: Path,
    n_stages: int,
    kills: int,
    rng: random.Random,
    jobs: int,
    group_only: bool,
) -> list[str]:
    """Start ``holopipe run`` and SIGKILL it up to ``kills`` times; returns where kills landed."""
    root = cwd / "runs" / experiment
    landed = []
    for i in range(kills):
        remaining = _remaining(root, n_stages)
        if not remaining:
            break
        proc = cli_popen(
            "run",
            "-e",
            experiment,
            "--config",
            config,
            "--jobs",
            jobs,
            cwd=cwd,
            start_new_session=True,
        )
        target = rng.choice([None, *remaining])
        if target is None:  # anywhere: start-up, config, gates, skips, manifest updates...
            time.sleep(rng.uniform(0.2, 0.9))
        else:  # inside a stage: while it computes, writes, swaps its dir or updates the manifest
            partial = root / f".{target:02d}_sleepy.partial"
            deadline = time.monotonic() + 10
            while not partial.exists() and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.002)
            time.sleep(rng.uniform(0.0, 0.4))
        if proc.poll() is None:
            if group_only or i % 2:
                os.killpg(proc.pid, signal.SIGKILL)  # orchestrator and stage process together
            else:
                proc.kill()  # the orchestrator only: its stage process must die with it
            landed.append(f"stage {target or 'any'}")
        proc.communicate(timeout=60)
    return landed


def _check_interrupted_runs_recover(
    tmp_path: Path,
    n_stages: int,
    n_systems: int,
    episodes: int,
    kills: int,
    seed: int,
    jobs: int,
    group_only: bool = False,
    sleep_s: float = 0.01,
) -> None:
    stages = {
        f"{i:02d}": {"n_systems": n_systems, "sleep_s": sleep_s} for i in range(1, n_stages + 1)
    }
    config = write_config(tmp_path / "c.json", sleepy(n_stages), stages=stages)
    reference = cli("run", "-e", "reference", "--config", config, "--jobs", jobs, cwd=tmp_path)
    assert reference.returncode == 0, reference.stderr
    expected = output_hashes(tmp_path / "runs" / "reference")
    assert len(expected) == n_stages * n_systems
    rng = random.Random(seed)
    for episode in range(episodes):
        experiment = f"victim{episode}"
        root = tmp_path / "runs" / experiment
        reader = Reader(root)
        reader.start()
        try:
            landed = _kill_repeatedly(
                tmp_path, experiment, config, n_stages, kills, rng, jobs, group_only
            )
            final = cli("run", "-e", experiment, "--config", config, "--jobs", jobs, cwd=tmp_path)
            time.sleep(0.05)
        finally:
            reader.stop.set()
            reader.join(timeout=30)
        assert final.returncode == 0, final.stdout + final.stderr
        assert len(landed) >= 2, landed  # the kills hit live runs

        assert reader.failures == []
        assert (
            reader.counts["manifests"] > 0
            and reader.counts["listed"] > 0
            and reader.counts["files"] > 0
        )

        assert output_hashes(root) == expected  # recomputed from disk: same paths, same bytes
        recorded = {
            o["path"]: o["sha256"] for r in manifest(root)["stages"].values() for o in r["outputs"]
        }
        assert recorded == expected
        for i in range(1, n_stages + 1):
            assert summary(root, f"{i:02d}_sleepy")["status"] == "OK"
        leftovers = sorted(n for n in os.listdir(root) if n.startswith(".") and n != ".lock")
        assert leftovers == [], leftovers  # no .partial, .old or .alias-tmp left behind
        # and it is now a no-op
        again = cli("run", "-e", experiment, "--jobs", jobs, cwd=tmp_path)
        assert again.returncode == 0 and "running" not in again.stdout
        assert load_json(root / "pipeline_summary.json")["exit_code"] == 0


def test_sigkill_then_rerun_gives_the_uninterrupted_outputs(tmp_path: Path):
    _check_interrupted_runs_recover(
        tmp_path, n_stages=3, n_systems=30, episodes=1, kills=3, seed=1128, jobs=1
    )


@pytest.mark.slow
@pytest.mark.parametrize("jobs", [1, 2])
def test_sigkill_many_times(tmp_path: Path, jobs: int):
    _check_interrupted_runs_recover(
        tmp_path,
        n_stages=4,
        n_systems=40,
        episodes=4,
        kills=4,
        seed=7 + jobs,
        jobs=jobs,
        group_only=jobs > 1,
        # Workers share the sleep: keep each stage long enough for the kills to land.
        sleep_s=0.02 * jobs,
    )


def test_the_reader_does_notice_partial_and_mismatched_files(tmp_path: Path):
    """The reader above is not vacuous: a truncated file and a wrong hash are reported."""
    root = tmp_path / "runs" / "x"
    config = write_config(tmp_path / "c.json", sleepy(1), stages={"01": {"n_systems": 2}})
    assert cli("run", "-e", "x", "--config", config, cwd=tmp_path).returncode == 0
    victim = root / "01_sleepy" / "sleepy_01" / "sys_d3_0001.json"
    victim.write_text(victim.read_text()[:40])
    reader = Reader(root)
    reader._once()
    assert any("sys_d3_0001.json: sha256 differs" in f for f in reader.failures)
    assert any("sys_d3_0001.json: partial JSON" in f for f in reader.failures)
    (root / "run_manifest.json").write_text('{"stages": {')
    reader.failures.clear()
    reader._once()
    assert reader.failures and reader.failures[0].startswith("run_manifest.json does not parse")
