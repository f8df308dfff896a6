"""Fixtures of the run-infrastructure tests (helpers live in ``holo_run_helpers``)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Work in ``tmp_path`` (runs go to ``tmp_path/runs``)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HOLOPIPE_RUNS_DIR", raising=False)
    return tmp_path
