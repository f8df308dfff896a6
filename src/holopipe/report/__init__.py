"""Looking at a run: the HTML report (``report.html``) and the stage graph (``holopipe dag``).

:func:`write_report` reads a run's records and artifacts and writes one self-contained HTML
file (inline SVG, no scripts, works offline) into ``runs/<experiment>/report.html``. Plots
need matplotlib, the optional extra ``holopipe[report]``; without it the report is written
without plots and says how to install it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = ["REPORT_NAME", "write_report"]

#: The report's file name in the run folder.
REPORT_NAME = "report.html"


def write_report(layout: Any, plans: Iterable[Any]) -> tuple[Path, list[str]]:
    """Write ``report.html`` for the run at ``layout``; returns its path and what was left out.

    ``plans`` are the run's stage plans (:func:`holopipe.pipeline.plan_run`, what
    ``holopipe run --dry-run`` and ``holopipe dag`` show).
    """
    from holopipe.artifacts.io import atomic_write_bytes
    from holopipe.report.collect import RunView, physics_plots
    from holopipe.report.dag import StageGraph
    from holopipe.report.html import render_page
    from holopipe.report.plots import PlottingUnavailable

    view = RunView.load(layout)
    graph = StageGraph.build(plans)
    left_out: list[str] = []
    try:
        plots = physics_plots(view)
    except PlottingUnavailable as exc:
        plots, left_out = [], [f"physics plots: {exc}"]
    left_out += view.left_out
    path = layout.root / REPORT_NAME
    atomic_write_bytes(path, render_page(view, graph, plots, left_out).encode("utf-8"))
    return path, left_out
