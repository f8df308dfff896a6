"""report.html: written by every ``holopipe run`` and by ``holopipe report``; self-contained,
every section and every plot of the stages that ran, opened in headless Chromium."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import attrs
import pytest
from report_helpers import TOY, holopipe

SECTIONS = (
    "section-summary",
    "section-stages",
    "section-stage-details",
    "section-physics",
    "section-config",
    "section-environment",
)
#: The plots of the toy run (four families, AdS systems, hard-wall rows, 04c, 07, 08); the
#: toy run has no real-theory data, so stage 09 has no pulls to draw.
TOY_PLOTS = (
    "plot-geometry-ads",
    "plot-geometry-deformed",
    "plot-geometry-hvlf",
    "plot-geometry-lifshitz",
    "plot-curvature-ads",
    "plot-contracts-04",
    "plot-contracts-04c",
    "plot-spectra-hard-wall",
    "plot-dictionary-fit",
    "plot-atlas-alpha-uv",
    "plot-negative-controls",
)


class Outline(HTMLParser):
    """Ids of sections and figures, which figures hold an <svg>, scripts, external links."""

    def __init__(self):
        super().__init__()
        self.ids: list[str] = []
        self.figures_with_svg: set[str] = set()
        self.scripts = 0
        self.external: list[str] = []
        self._figure: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.append(attrs["id"])
        if tag == "figure":
            self._figure = attrs.get("id")
        if tag == "svg" and self._figure:
            self.figures_with_svg.add(self._figure)
        if tag == "script":
            self.scripts += 1
        for name in ("src", "href"):
            value = attrs.get(name) or ""
            if re.match(r"^(https?:)?//", value):
                self.external.append(value)

    def handle_endtag(self, tag):
        if tag == "figure":
            self._figure = None


def outline(text: str) -> Outline:
    parser = Outline()
    parser.feed(text)
    return parser


def stage_keys(runs: Path, experiment: str) -> list[str]:
    return sorted(
        p.name for p in (runs / experiment).iterdir() if (p / "stage_summary.json").exists()
    )


def test_every_run_writes_the_report(toy_runs):
    report = toy_runs.runs / "toy" / "report.html"
    assert "report: runs/toy/report.html" in toy_runs.first.stdout.splitlines()
    page = outline(report.read_text(encoding="utf-8"))
    for section in SECTIONS:
        assert section in page.ids, section
    for key in stage_keys(toy_runs.runs, "toy"):
        assert f"stage-{key}" in page.ids
    assert set(TOY_PLOTS) <= page.figures_with_svg, set(TOY_PLOTS) - page.figures_with_svg
    assert page.scripts == 0 and page.external == []


def test_the_report_puts_the_run_in_words(toy_runs):
    text = (toy_runs.runs / "toy" / "report.html").read_text(encoding="utf-8")
    # The config is the frozen one, the git sha the one recorded, the notes those of 04.
    frozen = (toy_runs.runs / "toy" / "config.resolved.json").read_text(encoding="utf-8")
    assert '"n_per_family": 3' in frozen and "&quot;n_per_family&quot;: 3" in text
    env = (toy_runs.runs / "toy" / "01_generate_sandbox_geometries" / "meta_env.json").read_text()
    sha = re.search(r'"git_sha": "([^"]+)"', env).group(1)
    assert f"<code>{sha}</code>" in text
    assert "fails null_energy" in text  # a note of stage 04, in words
    assert "checks with thresholds" in text
    assert "up to date" in text


def test_plots_of_stages_not_run_are_left_out(tmp_path):
    done = holopipe("run", "-e", "short", "--config", str(TOY), "--to", "02", cwd=tmp_path)
    assert done.returncode in (0, 1), done.stdout + done.stderr
    page = outline((tmp_path / "runs" / "short" / "report.html").read_text(encoding="utf-8"))
    plots = {i for i in page.ids if i.startswith("plot-")}
    assert plots == {p for p in TOY_PLOTS if p.startswith("plot-geometry-")}
    assert plots <= page.figures_with_svg


def test_holopipe_report_rewrites_it(toy_runs, tmp_path):
    run = tmp_path / "runs"
    shutil.copytree(toy_runs.runs / "toy", run / "toy", symlinks=True)
    (run / "toy" / "report.html").unlink()
    done = holopipe("report", "-e", "toy", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (run / "toy" / "report.html").is_file()
    missing = holopipe("report", "-e", "nope", cwd=tmp_path)
    assert missing.returncode == 2 and "no run 'nope'" in missing.stderr


def test_without_matplotlib_the_report_says_how_to_install_it(toy_runs, tmp_path):
    run = tmp_path / "runs"
    shutil.copytree(toy_runs.runs / "toy", run / "toy", symlinks=True)
    script = (
        "import sys\nsys.modules['matplotlib'] = None\n"
        "sys.argv = ['holopipe', 'report', '-e', 'toy']\n"
        "from holopipe.cli import main\nmain()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "pip install 'holopipe[report]'" in done.stderr
    page = outline((run / "toy" / "report.html").read_text(encoding="utf-8"))
    assert "section-physics" in page.ids and not page.figures_with_svg


def test_pulls_are_drawn_with_the_three_sigma_band():
    from holopipe.artifacts.real_data import RealDataContracts
    from holopipe.report.collect import PLOT_BUILDERS

    contracts = RealDataContracts.example()

    class View:  # what a plot builder reads of a run
        def read_all(self, schema):
            return [("09_real_data", contracts)] if schema == "RealDataContracts" else []

        def read_each(self, schema):
            yield from self.read_all(schema)

    plots = [p for build in PLOT_BUILDERS for p in build(View())]
    assert [p.name for p in plots] == ["pulls"]
    comparison = contracts.comparisons[0]
    assert comparison.operator in plots[0].svg and "|pull| &lt; 3" in plots[0].svg
    # No comparison with a pull: no plot at all, never an empty one.
    contracts.comparisons = [attrs.evolve(comparison, pull=None)]
    assert [p for build in PLOT_BUILDERS for p in build(View())] == []


def test_curvature_is_drawn_per_d_against_the_exact_value():
    """A hundred AdS systems: one tick per d (never a label per system), every system a point."""
    from holopipe.report.plots import curvature_plot

    rows = [(f"ads-{i:03d}", 3 + i % 2, -12.0 - 8.0 * (i % 2), 0.01) for i in range(100)]
    svg = curvature_plot(rows)
    assert "d = 3" in svg and "d = 4" in svg
    assert not any(f"ads-{i:03d}" in svg for i in range(100))
    assert "-d(d+1)" in svg
    assert curvature_plot(rows) == svg  # deterministic: the same systems, the same SVG
    assert curvature_plot([]) is None


def test_curvature_of_files_of_many_systems_shows_the_first_max_points_and_stops_reading():
    """Files of 1 000 systems each (a chunked layout): the plot has MAX_POINTS systems, the
    caption says so, and the files after the first are never read."""
    import attrs as attrs_

    from holopipe.artifacts import BulkEquations
    from holopipe.report.collect import MAX_POINTS, _curvature
    from holopipe.report.plots import curvature_plot
    from holopipe.testing import _equations

    chunk = [_equations(f"ads_d3_{i:04d}-0123456789ab", -12.0).systems[0] for i in range(1000)]
    files = [BulkEquations("chain", "test", [attrs_.evolve(s) for s in chunk]) for _ in range(5)]
    read = []

    class View:
        def read_each(self, schema):
            for artifact in files if schema == "BulkEquations" else []:
                read.append(artifact)
                yield "03_bulk", artifact

    (plot,) = _curvature(View())
    assert f"the first {MAX_POINTS} systems" in plot.caption
    assert len(read) == 1  # one file held enough
    first = [(s.system_id.rsplit("-", 1)[0], s.d, s.R_mean, s.R_std) for s in chunk[:MAX_POINTS]]
    assert plot.svg == curvature_plot(first)


# ---------------------------------------------------------------- headless Chromium


def chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip(
        "no Chromium on this machine: install Debian's chromium (apt-get install chromium; "
        ".ci/run does it when missing) to open report.html in a browser"
    )


def open_in_chromium(page: Path, profile: Path) -> tuple[str, list[str]]:
    """The DOM Chromium built from ``page`` and the console messages it logged."""
    done = subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--enable-logging=stderr",
            "--v=0",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HOME": str(profile)},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    return done.stdout, console


def test_the_console_probe_sees_errors(tmp_path):
    # Guards the browser test itself: a page with a script error must show up.
    page = tmp_path / "broken.html"
    page.write_text("<!DOCTYPE html><p>x</p><script>undefinedFunction()</script>")
    _, console = open_in_chromium(page, tmp_path / "profile")
    assert any("undefinedFunction" in line for line in console), console


def test_chromium_renders_every_section_and_plot_without_console_errors(toy_runs, tmp_path):
    dom, console = open_in_chromium(toy_runs.runs / "toy" / "report.html", tmp_path / "profile")
    assert console == []
    page = outline(dom)
    for section in SECTIONS:
        assert section in page.ids, section
    assert set(TOY_PLOTS) <= page.figures_with_svg
    assert "stage-04_geometry_physics_contracts" in page.ids


def test_the_demo_writes_a_report_chromium_renders_with_every_section_and_plot(demo_run, tmp_path):
    cwd, done = demo_run
    assert done.returncode == 0, done.stdout + done.stderr
    page_path = cwd / "runs" / "demo" / "report.html"
    assert f"report: {page_path.relative_to(cwd)}" in done.stdout.splitlines()
    dom, console = open_in_chromium(page_path, tmp_path / "profile")
    assert console == []
    page = outline(dom)
    for section in SECTIONS:
        assert section in page.ids, section
    families = {p.name.split("_d", 1)[0] for p in (cwd / "runs" / "demo" / "predictions").iterdir()}
    assert families == {"ads", "deformed", "hvlf", "lifshitz"}
    geometry = {f"plot-geometry-{family}" for family in families}
    stage_plots = {p for p in TOY_PLOTS if not p.startswith("plot-geometry-")}
    assert geometry | stage_plots <= page.figures_with_svg  # the demo runs every stage
    for key in stage_keys(cwd / "runs", "demo"):
        assert f"stage-{key}" in page.ids, key
