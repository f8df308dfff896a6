"""Helpers of the report tests: the CLI in a subprocess and the shared toy runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import attrs

ROOT = Path(__file__).resolve().parents[2]
TOY = ROOT / "configs" / "toy.json"


def holopipe(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    """``python -m holopipe ARGS`` in ``cwd`` (no traceback ever expected on stderr)."""
    done = subprocess.run(
        [sys.executable, "-m", "holopipe", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done


@attrs.frozen
class ToyRuns:
    cwd: Path
    first: subprocess.CompletedProcess
    changed: subprocess.CompletedProcess

    @property
    def runs(self) -> Path:
        return self.cwd / "runs"
