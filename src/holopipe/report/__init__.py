"""Looking at a run: the HTML report (``report.html``) and the stage graph (``holopipe dag``).

:func:`write_report` reads a run's records and artifacts and writes one self-contained HTML
file (inline SVG, no scripts, works offline) into ``runs/<experiment>/report.html``. Plots
need matplotlib, the optional extra ``holopipe[report]``; without it the report is written
without plots and says how to install it. The plots are drawn again only when what they
show changed (:mod:`holopipe.report.plot_cache`): a no-op run rewrites the page, not its plots.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = ["REPORT_NAME", "drawing_code_digest", "report_key_of", "write_report"]

#: The report's file name in the run folder.
REPORT_NAME = "report.html"

# The last line of a report written with a key (an HTML comment after </html>).
_KEY_LINE = "<!-- holopipe report key {key} -->\n"


@functools.cache
def drawing_code_digest() -> str:
    """sha256 of the source of what draws a report: this package and the artifact classes
    it reads the records and artifacts with. A report key holds it instead of the
    checkout's git sha, so that a commit elsewhere does not have the next no-op rerun read
    every record again to draw the same page (18 s at 100 000 systems).

    Examples
    --------
    >>> len(drawing_code_digest())
    64
    """
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent
    for folder in (package, package.parent / "artifacts"):
        for source in sorted(folder.rglob("*.py")):
            digest.update(source.relative_to(package.parent).as_posix().encode() + b"\0")
            digest.update(source.read_bytes())
    return digest.hexdigest()


def report_key_of(path: Path) -> str | None:
    """The key ``report.html`` at ``path`` was written with, or ``None`` (none, no file).

    Examples
    --------
    >>> import tempfile
    >>> report = Path(tempfile.mkdtemp()) / REPORT_NAME
    >>> _ = report.write_text("<html></html>\\n" + _KEY_LINE.format(key="abc"))
    >>> report_key_of(report), report_key_of(report.with_name("none.html"))
    ('abc', None)
    """
    try:
        with open(path, "rb") as fh:
            fh.seek(0, 2)
            fh.seek(max(0, fh.tell() - 200))
            tail = fh.read().decode("utf-8", "replace")
    except OSError:
        return None
    head, _, rest = _KEY_LINE.partition("{key}")
    start = tail.rfind(head)
    if start < 0 or not tail.endswith(rest):
        return None
    return tail[start + len(head) : len(tail) - len(rest)]


def write_report(
    layout: Any, plans: Iterable[Any], run_key: str | None = None, view: Any = None
) -> tuple[Path, list[str]]:
    """Write ``report.html`` for the run at ``layout``; returns its path and what was left out.

    ``plans`` are the run's stage plans (:func:`holopipe.pipeline.plan_run`, what
    ``holopipe run --dry-run`` and ``holopipe dag`` show). ``run_key`` (what the page
    shows, hashed by the caller) is written as its last line, an HTML comment:
    :func:`report_key_of` reads it back. The manifest's stage records are read one at a
    time (:class:`~holopipe.report.collect.RunView`): the memory it takes does not grow
    with the run's number of systems. ``view``: that RunView of the run, when the caller
    already read it (its stage summaries are not read twice).
    """
    from holopipe.artifacts.io import atomic_write_bytes
    from holopipe.report.collect import PLOT_SCHEMAS, RunView, physics_plots
    from holopipe.report.dag import StageGraph
    from holopipe.report.html import physics_section, render_page
    from holopipe.report.plot_cache import cached_physics, physics_block, plots_key, read_previous

    view = RunView.load(layout) if view is None else view
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
    page = render_page(view, graph, physics)
    if run_key is not None:
        page += _KEY_LINE.format(key=run_key)
    atomic_write_bytes(path, page.encode("utf-8"))
    return path, left_out
