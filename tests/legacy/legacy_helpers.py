"""Helpers of the legacy-importer tests: where the real samples are, tree snapshots."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# The real legacy samples live beside the project (read-only); $HOLOPIPE_LEGACY_SAMPLES wins.
_CANDIDATES = [
    os.environ.get("HOLOPIPE_LEGACY_SAMPLES"),
    REPO.parent / "shared" / "legacy-samples",
    REPO.parent.parent / "shared" / "legacy-samples",
    Path("/work/shared/legacy-samples"),
]
SAMPLE_FOLDERS = (
    "fase11_ads_control_geometry",
    "smoke_fase11_v3",
    "fase12_data_boundary",
    "smoke_fase12c_v2",
)


def samples_root() -> Path | None:
    for candidate in _CANDIDATES:
        if candidate and (Path(candidate) / "fase11_ads_control_geometry").is_dir():
            return Path(candidate)
    return None


def tree_state(root: Path) -> dict[bytes, tuple]:
    """Every entry under ``root`` (links not followed): mode, mtime_ns and content hash."""
    state: dict[bytes, tuple] = {}
    for dirpath, dirnames, filenames in os.walk(os.fsencode(root)):
        for name in sorted(dirnames + filenames):
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            if stat.S_ISREG(st.st_mode):
                sha = hashlib.sha256()
                with open(path, "rb") as fh:
                    while chunk := fh.read(1 << 20):
                        sha.update(chunk)
                digest = sha.hexdigest()
            elif stat.S_ISLNK(st.st_mode):
                digest = os.readlink(path).hex()
            else:
                digest = ""
            state[os.path.relpath(path, os.fsencode(root))] = (
                st.st_mode,
                st.st_mtime_ns,
                st.st_size,
                digest,
            )
    return state


def copy_tree(source: Path, target: Path) -> Path:
    """A writable copy of a sample folder (the samples themselves are read-only)."""
    shutil.copytree(source, target, symlinks=True)
    for dirpath, dirnames, filenames in os.walk(target):
        for name in dirnames + filenames:
            os.chmod(os.path.join(dirpath, name), 0o755 if name in dirnames else 0o644)
    return target


@pytest.fixture(scope="session")
def samples() -> Path:
    """The real legacy samples (read-only); the test is skipped where they are absent."""
    root = samples_root()
    if root is None:
        pytest.skip("legacy samples not found (set HOLOPIPE_LEGACY_SAMPLES)")
    return root
