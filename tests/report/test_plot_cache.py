"""The report's plots are drawn again only when what they show changed (a no-op run reuses them)."""

from __future__ import annotations

import os
import shutil

import pytest

from holopipe.pipeline import RunRequest, plan_run
from holopipe.report import collect, write_report
from holopipe.report.plot_cache import cached_physics, physics_block
from holopipe.report.plots import PlottingUnavailable
from holopipe.run.layout import RunLayout


@pytest.fixture
def toy_copy(toy_runs, tmp_path):
    """A private copy of the shared toy run (its own inodes and times: a first report draws)."""
    runs = tmp_path / "runs"
    shutil.copytree(toy_runs.runs / "toy", runs / "toy", symlinks=True)
    return runs


def report_of(runs):
    layout = RunLayout.create(runs, "toy")
    return write_report(layout, plan_run(RunRequest(runs, "toy")))


def count_drawings(monkeypatch):
    drawn = []
    real = collect.physics_plots

    def counted(view):
        drawn.append(1)
        return real(view)

    monkeypatch.setattr(collect, "physics_plots", counted)
    return drawn


def test_an_unchanged_run_reuses_its_plots_for_the_same_page(toy_copy, monkeypatch):
    drawn = count_drawings(monkeypatch)
    path, left_out = report_of(toy_copy)
    first = path.read_bytes()
    assert drawn == [1] and left_out == []
    assert b'id="plot-geometry-ads"' in first
    again, left_out = report_of(toy_copy)
    assert drawn == [1], "the plots were drawn again for an unchanged run"
    assert again.read_bytes() == first and left_out == []


def test_a_touched_plotted_file_draws_the_plots_again(toy_copy, monkeypatch):
    drawn = count_drawings(monkeypatch)
    report_of(toy_copy)
    prediction = next((toy_copy / "toy").glob("02_*/**/*.npz"))
    st = prediction.stat()
    os.utime(prediction, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    report_of(toy_copy)
    assert drawn == [1, 1]


def test_a_changed_metric_draws_the_plots_again(toy_copy, monkeypatch):
    drawn = count_drawings(monkeypatch)
    report_of(toy_copy)
    summary = next((toy_copy / "toy").glob("04c_*/stage_summary.json"))
    text = summary.read_text(encoding="utf-8")
    assert '"coverage": 1.0' in text
    summary.write_text(text.replace('"coverage": 1.0', '"coverage": 0.5'), encoding="utf-8")
    report_of(toy_copy)
    assert drawn == [1, 1]


def test_plots_left_out_are_never_reused(toy_copy, monkeypatch):
    def unavailable(view):
        raise PlottingUnavailable("the report's plots need matplotlib")

    monkeypatch.setattr(collect, "physics_plots", unavailable)
    path, left_out = report_of(toy_copy)
    assert left_out == ["physics plots: the report's plots need matplotlib"]
    assert "holopipe:physics" not in path.read_text(encoding="utf-8")
    drawn = count_drawings(monkeypatch)
    monkeypatch.setattr(collect, "physics_plots", lambda view: drawn.append(1) or [])
    report_of(toy_copy)
    assert drawn == [1]


def test_the_left_out_notes_survive_the_cache():
    notes = ["GeometryPrediction: plotted the first 100 of 1000 files", "odd --> text"]
    block = physics_block("k", "<figure>x</figure>", notes)
    assert "-->" not in block[: block.index("<figure>") - len(" -->")]
    assert cached_physics(f"<html>{block}</html>", "k") == ("<figure>x</figure>", notes)


@pytest.mark.parametrize(
    "page",
    [
        "",
        "<!-- holopipe:physics {not json} --><p></p><!-- /holopipe:physics -->",
        '<!-- holopipe:physics {"key": "k", "left_out": [1]} --><p></p><!-- /holopipe:physics -->',
        '<!-- holopipe:physics {"key": "k", "left_out": []} --><p>no end marker</p>',
        '<!-- holopipe:physics {"key": "other", "left_out": []} --><p></p>'
        "<!-- /holopipe:physics -->",
    ],
)
def test_a_damaged_or_foreign_cache_is_not_used(page):
    assert cached_physics(page, "k") is None
