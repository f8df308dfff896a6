"""Fixtures shared by the stage tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def folder(tmp_path):
    """An empty ``predictions/`` folder in tmp_path, where a test writes a stage's inputs."""
    path = tmp_path / "predictions"
    path.mkdir()
    return path
