"""Looking at a run: the HTML report (``report.html``) and the stage graph (``holopipe dag``).

:func:`write_report` reads a run's records and artifacts and writes one self-contained HTML
file (inline SVG, no scripts, works offline) into ``runs/<experiment>/report.html``. Plots
need matplotlib, the optional extra ``holopipe[report]``; without it the report is written
without plots and says how to install it. The plots are drawn again only when what they
show changed (:mod:`holopipe.report.plot_cache`): a no-op run rewrites the page, not its plots.
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
    from holopipe.report.collect import PLOT_SCHEMAS, RunView, physics_plots
    from holopipe.report.dag import StageGraph
    from holopipe.report.html import physics_section, render_page
    from holopipe.report.plot_cache import cached_physics, physics_block, plots_key, read_previous

    view = RunView.load(layout)
    graph = StageGraph.build(plans)
    path = layout.root / REPORT_NAME
    key = plots_key(view, PLOT_SCHEMAS)
    cached = cached_physics(read_previous(path), key)
    if cached is not None:
        physics, left_out = cached
        physics = physics_block(key, physics, left_out)
    else:
        from holopipe.report.plots import PlottingUnavailable

        problems = len(view.problems)
        try:
            plots, left_out, drawn = physics_plots(view), [], True
        except PlottingUnavailable as exc:
            plots, left_out, drawn = [], [f"physics plots: {exc}"], False
        left_out += view.left_out
        physics = physics_section(plots, left_out)
        if drawn and len(view.problems) == problems:  # every file it read was valid: reusable
            physics = physics_block(key, physics, left_out)
    atomic_write_bytes(path, render_page(view, graph, physics).encode("utf-8"))
    return path, left_out
