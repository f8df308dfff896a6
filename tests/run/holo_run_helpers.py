"""Helpers for the run-infrastructure tests: configs, the CLI in a subprocess, run files."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from holopipe.artifacts.records import RunManifest

HERE = Path(__file__).resolve().parent


def forget_read_manifests() -> None:
    """As a new process: no manifest index, document or stage record read before is known
    (``holopipe.run.manifest`` keeps them per process)."""
    from holopipe.run import manifest as manifest_module

    manifest_module._LOADED.clear()
    manifest_module._RECORDS.clear()
    manifest_module._INDEXES.clear()


def chain(n: int, prefix: str = "holopipe.testing:Chain") -> list[str]:
    return [f"{prefix}{i:02d}" for i in range(1, n + 1)]


def sleepy(n: int) -> list[str]:
    return chain(n, "holo_run_test_stages:Sleepy")


def write_config(path: Path, pipeline: list[str], seed: int = 1, **extra) -> Path:
    path.write_text(json.dumps({"seed": seed, "pipeline": pipeline, **extra}))
    return path


def cli_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), *filter(None, [env.get("PYTHONPATH")])])
    env.pop("HOLOPIPE_RUNS_DIR", None)
    env.pop("HOLOPIPE_DEBUG", None)
    return env


def cli(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    """``python -m holopipe ARGS`` in ``cwd``, output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "holopipe", *map(str, args)],
        cwd=cwd,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def cli_popen(*args: str, cwd: Path, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "holopipe", *map(str, args)],
        cwd=cwd,
        env=cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def load_json(path: Path):
    return json.loads(Path(path).read_text())


def manifest_index(root: Path) -> dict:
    """The top-level ``run_manifest.json`` as written (the index naming each stage record)."""
    return json.loads((root / "run_manifest.json").read_text())


def manifest(root: Path) -> dict:
    """The whole manifest as one document (its stage records read into the index)."""
    return RunManifest.read_document(root / "run_manifest.json")


def output_hashes(root: Path) -> dict[str, str]:
    """Every output file the manifest lists (relative path -> sha256 recomputed from disk)."""
    return {
        o["path"]: sha256(root / o["path"])
        for record in manifest(root)["stages"].values()
        for o in record["outputs"]
    }


def file_stats(folder: Path) -> dict[str, tuple[int, int]]:
    """relative path -> (inode, mtime_ns) of every file below ``folder``."""
    stats = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            st = path.stat()
            stats[path.relative_to(folder).as_posix()] = (st.st_ino, st.st_mtime_ns)
    return stats


def summary(root: Path, key: str) -> dict:
    return load_json(root / key / "stage_summary.json")
