"""Fixtures of the legacy-importer tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from legacy_helpers import samples_root


@pytest.fixture(scope="session")
def samples() -> Path:
    root = samples_root()
    if root is None:
        pytest.skip("legacy samples not found (set HOLOPIPE_LEGACY_SAMPLES)")
    return root
