"""Helpers of the run-state tests: a small chain run, the CLI with fault injection, snapshots."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

#: A three-stage chain of trivial stages (fast: the tests are about the run's state).
CHAIN = [f"holopipe.testing:Chain{i:02d}" for i in (1, 2, 3)]
KEYS = ["01_chain_source", "02_chain_step", "03_chain_step"]


def write_config(path: Path, seed: int = 1, **extra) -> Path:
    path.write_text(json.dumps({"seed": seed, "pipeline": CHAIN, **extra}))
    return path


def env(**extra: str) -> dict[str, str]:
    out = {
        k: v
        for k, v in os.environ.items()
        if k not in ("HOLOPIPE_RUNS_DIR", "HOLOPIPE_DEBUG", "HOLOPIPE_INJECT_FAULT")
    }
    out["PYTHONDONTWRITEBYTECODE"] = "1"  # no .pyc renames: the rename count is the run's own
    out.update(extra)
    return out


def cli(*args, cwd: Path, fault: str | None = None, timeout: float = 120, **extra_env: str):
    """``python -m holopipe ARGS``; ``fault`` is a ``HOLOPIPE_INJECT_FAULT`` value."""
    extra = dict(extra_env)
    if fault is not None:
        extra["HOLOPIPE_INJECT_FAULT"] = fault
    return subprocess.run(
        [sys.executable, "-m", "holopipe", *map(str, args)],
        cwd=cwd,
        env=env(**extra),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def killed(done: subprocess.CompletedProcess) -> bool:
    return done.returncode in (-9, 137)


def tree(root: Path) -> dict[str, str]:
    """relative path -> sha256 of every regular file below ``root`` (locks excluded)."""
    out = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink() and not path.name.startswith(".lock"):
            rel = path.relative_to(root).as_posix()
            if not rel.endswith("run_manifest.json.lock"):
                out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def outputs(root: Path) -> dict[str, str]:
    """The declared outputs of the run (stage folders' artifact files) with their sha256."""
    return {
        p: h
        for p, h in tree(root).items()
        if re.match(r"^\d\d_[a-z_]+/chain_\d\d/", p) and "/logs/" not in p
    }


_LEFTOVER = re.compile(
    r"^\.(.+\.[A-Za-z0-9_]{8}\.tmp|\d\d[a-z]?_[a-z0-9_]+\.(partial|old)|.+\.alias-tmp)$"
)


def leftovers(root: Path) -> list[str]:
    """What an interrupted command may leave in the run root (temp files, work folders)."""
    return sorted(p.name for p in root.iterdir() if _LEFTOVER.match(p.name))


def half_written(root: Path) -> list[str]:
    """Temporary files of atomic writes anywhere in the run (visible half-written data)."""
    return sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*.tmp")
        if not any(part.endswith(".partial") for part in p.relative_to(root).parts)
    )


#: Every way holopipe renames: ``os.replace``/``os.rename`` (``rename``) and the same with a
#: folder descriptor (``renameat``: the run trash), and ``renameat2`` should a Python use it.
RENAME_SYSCALLS = ("rename", "renameat", "renameat2")


def strace_renames(args, cwd: Path, log: Path) -> list[tuple[str, int, str]]:
    """The renames of one command in order, traced with strace: ``(syscall, k, line)``, the
    ``k``-th call (1-based) of that syscall, as strace's ``when=`` counts them."""
    done = subprocess.run(
        ["strace", "-f", "-qq", "-o", str(log), "-e", f"trace={','.join(RENAME_SYSCALLS)}",
         "-e", "signal=none", sys.executable, "-m", "holopipe", *map(str, args)],
        cwd=cwd, env=env(), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr
    seen: dict[str, int] = {}
    renames = []
    for line in log.read_text().splitlines():
        call = line.split(maxsplit=1)[-1].partition("(")[0]
        if call in RENAME_SYSCALLS:
            seen[call] = seen.get(call, 0) + 1
            renames.append((call, seen[call], line))
    return renames


def kill_at_rename(args, cwd: Path, call: str, k: int) -> subprocess.CompletedProcess:
    """Run a command under strace, SIGKILLed at its ``k``-th ``call`` (a rename syscall)."""
    return subprocess.run(
        ["strace", "-f", "-qq", "-o", "/dev/null", "-e", f"trace={call}",
         "-e", f"inject={call}:signal=KILL:when={k}",
         sys.executable, "-m", "holopipe", *map(str, args)],
        cwd=cwd, env=env(), capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def have_strace() -> bool:
    return shutil.which("strace") is not None
