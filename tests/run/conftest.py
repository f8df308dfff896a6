"""Fixtures of the run-infrastructure tests (helpers live in ``holo_run_helpers``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from holopipe.run import manifest as manifest_module


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Work in ``tmp_path`` (runs go to ``tmp_path/runs``)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HOLOPIPE_RUNS_DIR", raising=False)
    return tmp_path


@pytest.fixture
def records_read(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """(stage key, sha256) of every stage record this process reads from its file (a stage
    process's reads happen in its own, forked, process and are not counted)."""
    read: list[tuple[str, str]] = []
    original = manifest_module.read_stage_record

    def counting(folder, key, reference, report):
        read.append((key, reference["sha256"]))
        return original(folder, key, reference, report)

    monkeypatch.setattr(manifest_module, "read_stage_record", counting)
    return read
