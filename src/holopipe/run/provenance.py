"""What produced a result: code version (git sha, dirty flag) and the environment.

Computed once per process and cached; the values go into ``meta_env.json``, the stage
summary and the manifest.
"""

from __future__ import annotations

import functools
import hashlib
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

import attrs

__all__ = ["CodeVersion", "code_version", "environment_info", "utc_now"]


@attrs.frozen
class CodeVersion:
    git_sha: str
    git_dirty: bool
    holopipe_version: str


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


@functools.cache
def code_version() -> CodeVersion:
    """Git sha and dirty flag of the holopipe source checkout (``"unknown"`` when installed
    from a wheel), and the package version."""
    from holopipe import __version__

    source = Path(__file__).resolve().parents[1]
    sha = _git(["rev-parse", "HEAD"], source)
    dirty = False
    if sha is not None:
        dirty = bool(_git(["status", "--porcelain", "--untracked-files=no", "--", "."], source))
    return CodeVersion(git_sha=sha or "unknown", git_dirty=dirty, holopipe_version=__version__)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


@functools.cache
def _packages() -> dict[str, str]:
    """Installed distributions, lower-case name -> version (``holopipe diff`` compares them)."""
    from importlib.metadata import distributions

    return dict(
        sorted(
            {(d.metadata["Name"].lower(), d.version) for d in distributions() if d.metadata["Name"]}
        )
    )


@functools.cache
def _packages_sha256() -> tuple[str, int]:
    names = sorted(f"{name}=={version}".lower() for name, version in _packages().items())
    return hashlib.sha256("\n".join(names).encode()).hexdigest(), len(names)


@functools.cache
def environment_info() -> dict:
    """Python, platform, CPU, GPU and a hash of the installed package set."""
    packages_sha, n_packages = _packages_sha256()
    version = code_version()
    return {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "gpu": "nvidia-smi present" if shutil.which("nvidia-smi") else "none detected",
        "holopipe_version": version.holopipe_version,
        "git_sha": version.git_sha,
        "git_dirty": version.git_dirty,
        "packages_sha256": packages_sha,
        "packages_count": n_packages,
        "packages": _packages(),
    }


def utc_now() -> str:
    """Current UTC time, ISO 8601 with a ``Z``, to the second."""
    from datetime import UTC, datetime

    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
