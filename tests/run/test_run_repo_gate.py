"""The suite-wide gate of ``tests/conftest.py`` (no test writes into the checkout) does see
created and modified files, and ignores VCS data and caches."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "holopipe_tests_root_conftest", Path(__file__).parents[1] / "conftest.py"
)
suite_conftest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(suite_conftest)


def test_snapshot_sees_created_and_modified_files(tmp_path: Path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.py").write_text("x = 1\n")
    (tmp_path / "keep.txt").write_text("same\n")
    before = suite_conftest.repository_snapshot(tmp_path)
    assert set(before) == {"src/a.py", "keep.txt"}

    (tmp_path / "runs" / "x").mkdir(parents=True)
    (tmp_path / "runs" / "x" / "run_manifest.json").write_text("{}")
    (tmp_path / "src" / "a.py").write_text("x = 22\n")
    for ignored in (
        ".git",
        "__pycache__",
        ".pytest_cache",
        "pkg.egg-info",
        ".hypothesis",
        ".import_linter_cache",
    ):
        (tmp_path / ignored).mkdir()
        (tmp_path / ignored / "f").write_text("ignored")
    changes = suite_conftest.snapshot_changes(before, suite_conftest.repository_snapshot(tmp_path))
    assert changes == ["created: runs/x/run_manifest.json", "modified: src/a.py"]


def test_a_touch_without_content_change_is_a_modification(tmp_path: Path):
    (tmp_path / "f.txt").write_text("same")
    before = suite_conftest.repository_snapshot(tmp_path)
    st = os.stat(tmp_path / "f.txt")
    os.utime(tmp_path / "f.txt", ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert suite_conftest.snapshot_changes(
        before, suite_conftest.repository_snapshot(tmp_path)
    ) == ["modified: f.txt"]


def test_the_session_gate_is_active():
    assert suite_conftest.REPO == Path(__file__).resolve().parents[2]
    assert "src/holopipe/pipeline.py" in suite_conftest.repository_snapshot()
