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

__all__ = [
    "MAIN_PACKAGES",
    "CodeVersion",
    "code_version",
    "environment_info",
    "git_state",
    "gpu_info",
    "stage_code_info",
    "typed_argv",
    "utc_now",
]

#: The packages whose versions ``meta_env.json`` records by name (the plan's section 5).
MAIN_PACKAGES = ("numpy", "scipy", "xarray", "netCDF4", "attrs", "cattrs", "typer", "holopipe")


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


#: One ``git status`` gives both the commit (its ``# branch.oid`` header) and whether the
#: tracked files under the folder differ from it (any other line): one process, not two.
_GIT_STATE = ["status", "--porcelain=v2", "--branch", "--no-ahead-behind", "--untracked-files=no"]


def git_state(folder: Path) -> tuple[str, bool] | None:
    """The HEAD sha of the git checkout holding ``folder`` and whether its tracked files
    under ``folder`` are modified; ``None`` outside a checkout (or before its first commit).

    Examples
    --------
    >>> import tempfile
    >>> git_state(Path(tempfile.gettempdir())) is None
    True
    """
    out = _git([*_GIT_STATE, "--", "."], folder)
    if out is None:
        return None
    lines = out.splitlines()
    sha = next((line.split()[2] for line in lines if line.startswith("# branch.oid ")), None)
    if sha is None or sha == "(initial)":
        return None
    return sha, any(not line.startswith("#") for line in lines)


@functools.cache
def code_version() -> CodeVersion:
    """Git sha and dirty flag of the holopipe source checkout (``"unknown"`` when installed
    from a wheel), and the package version."""
    from holopipe import __version__

    state = git_state(Path(__file__).resolve().parents[1])
    sha, dirty = state if state is not None else ("unknown", False)
    return CodeVersion(git_sha=sha, git_dirty=dirty, holopipe_version=__version__)


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


def _memory_bytes() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def gpu_info() -> tuple[list[dict[str, str]], str]:
    """Each NVIDIA GPU's name, memory and driver (``nvidia-smi --query-gpu``), and a note
    saying where the list comes from or why it is empty."""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return [], "nvidia-smi not found: no NVIDIA GPU information (none, or no driver)"
    query = "--query-gpu=name,memory.total,driver_version"
    try:
        done = subprocess.run(
            [smi, query, "--format=csv,noheader"],
            capture_output=True, text=True, timeout=20, check=False,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError) as exc:
        return [], f"nvidia-smi failed: {exc}"
    if done.returncode != 0:
        return [], f"nvidia-smi failed (exit {done.returncode}): {done.stderr.strip()[:200]}"
    gpus = []
    for line in done.stdout.splitlines():
        fields = [f.strip() for f in line.split(",")]
        if len(fields) == 3:
            gpus.append(dict(zip(("name", "memory_total", "driver_version"), fields, strict=True)))
    return gpus, f"nvidia-smi {query}"


def _package_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    for name in MAIN_PACKAGES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "not installed"
    return versions


@functools.cache
def typed_argv() -> tuple[str, ...]:
    """The command line as the user typed it (read once, before a stage process replaces
    ``sys.argv`` by the stage's own command)."""
    return tuple(sys.argv)


@functools.cache
def _packages_distributions() -> dict[str, list[str]]:
    """Top-level package -> distributions; read once (it scans every installed package)."""
    from importlib.metadata import packages_distributions

    return packages_distributions()


@functools.cache
def stage_code_info(module_name: str) -> dict[str, str]:
    """Where the code of a stage class comes from: its module, its distribution's version,
    and the git sha of the repository holding it (``unknown`` with the reason otherwise).

    Examples
    --------
    >>> stage_code_info("holopipe.testing")["module"]
    'holopipe.testing'
    """
    import importlib

    try:
        module = importlib.import_module(module_name)
    except ImportError:
        module = None
    path = getattr(module, "__file__", None)
    info = {"module": module_name, "file": str(path) if path else "unknown"}
    top = module_name.split(".")[0]
    try:
        from importlib.metadata import PackageNotFoundError, version

        dists = _packages_distributions().get(top, [])
        info["distribution"] = f"{dists[0]}=={version(dists[0])}" if dists else "unknown"
    except (PackageNotFoundError, ValueError):
        info["distribution"] = "unknown"
    if path is None:
        info["git_sha"], info["git_note"] = "unknown", "the module has no file"
        return info
    state = git_state(Path(path).resolve().parent)
    if state is None:
        info["git_sha"] = "unknown"
        info["git_note"] = "its folder is not in a git repository (installed from a wheel?)"
    else:
        info["git_sha"], dirty = state
        info["git_dirty"] = "true" if dirty else "false"
    return info


@functools.cache
def environment_info() -> dict:
    """Python, platform, CPU, memory, GPUs, the main packages' versions and a hash of the
    installed package set."""
    packages_sha, n_packages = _packages_sha256()
    version = code_version()
    gpus, gpu_note = gpu_info()
    return {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_bytes": _memory_bytes(),
        "gpus": gpus,
        "gpu_source": gpu_note,
        "packages": _package_versions(),
        "holopipe_version": version.holopipe_version,
        "git_sha": version.git_sha,
        "git_sha_note": (
            "holopipe's source checkout"
            if version.git_sha != "unknown"
            else "holopipe is not run from a git checkout (installed from a wheel?)"
        ),
        "git_dirty": version.git_dirty,
        "packages_sha256": packages_sha,
        "packages_count": n_packages,
    }


def utc_now() -> str:
    """Current UTC time, ISO 8601 with a ``Z``, to the second."""
    from datetime import UTC, datetime

    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
