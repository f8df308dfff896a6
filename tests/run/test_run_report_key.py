"""A no-op rerun keeps ``report.html`` unless what draws it changed: a commit elsewhere in
holopipe (a new git sha) does not make it read every record again to draw the same page."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from holo_run_helpers import chain, forget_read_manifests, write_config

import holopipe.report
from holopipe.pipeline import RunRequest, run_pipeline
from holopipe.report import report_key_of
from holopipe.run import provenance


@pytest.fixture
def chain_run(in_tmp: Path) -> Path:
    config = write_config(in_tmp / "c.json", chain(3))
    assert run_pipeline(RunRequest(Path("runs"), "x", config), echo=lambda line: None) == 0
    forget_read_manifests()
    return in_tmp / "runs" / "x"


def _noop(root: Path) -> tuple[list[str], os.stat_result]:
    lines: list[str] = []
    assert run_pipeline(RunRequest(Path("runs"), "x"), echo=lines.append) == 0
    assert [line for line in lines if line.startswith("0")] == [
        f"{key}: up to date (OK), skipped"
        for key in ("01_chain_source", "02_chain_step", "03_chain_step")
    ]
    return lines, os.stat(root / "report.html")


def test_a_new_git_sha_keeps_the_report(
    chain_run: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
):
    before = os.stat(chain_run / "report.html")
    monkeypatch.setattr(provenance, "git_state", lambda path: ("f" * 40, True))
    provenance.code_version.cache_clear()  # computed once per process: as a new process
    request.addfinalizer(provenance.code_version.cache_clear)
    assert provenance.code_version().git_sha == "f" * 40
    _, after = _noop(chain_run)
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_new_drawing_code_draws_the_report_again(chain_run: Path, monkeypatch: pytest.MonkeyPatch):
    key = report_key_of(chain_run / "report.html")
    before = os.stat(chain_run / "report.html")
    monkeypatch.setattr(holopipe.report, "drawing_code_digest", lambda: "0" * 64)
    _, after = _noop(chain_run)
    assert after.st_ino != before.st_ino  # written anew (atomically)
    assert report_key_of(chain_run / "report.html") not in (None, key)


def test_the_drawing_code_digest_covers_the_report_and_artifact_sources():
    package = Path(holopipe.report.__file__).resolve().parent
    assert (package / "html.py").is_file() and (package.parent / "artifacts" / "base.py").is_file()
    assert holopipe.report.drawing_code_digest() == holopipe.report.drawing_code_digest()
    assert len(holopipe.report.drawing_code_digest()) == 64
