"""The report page: one self-contained HTML file (inline SVG and CSS, no scripts, no network).

Sections, each with a stable id the tests look for: ``section-stages`` (the graph and a table:
status, duration, up-to-date reason), ``section-stage-details`` (per stage, in words: counts,
errors, warnings, notes, checks with tolerances, metrics), ``section-physics`` (one
``<figure id="plot-...">`` per plot), ``section-config``, ``section-environment``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from html import escape
from typing import Any

from holopipe.artifacts.records import StageSummary
from holopipe.report.collect import Plot, RunView
from holopipe.report.dag import StageGraph, graph_svg

__all__ = ["physics_section", "render_page"]

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;max-width:1100px;
padding:0 1.2em 3em;color:#222;line-height:1.4}
h1{margin-bottom:.2em}h2{border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:1.8em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:.25em .6em;
text-align:left;vertical-align:top;font-size:.92em}th{background:#f5f5f5}
.status-OK{color:#1b5e20}.status-WARNING{color:#8d6e00}.status-INCOMPLETE,.status-ERROR{color:#b71c1c}
.status-NOT_RUN,.status-SKIPPED{color:#666}
.verdict{font-size:1.3em;font-weight:bold}
pre{background:#f7f7f7;padding:.8em;overflow:auto;max-height:40em;font-size:.85em}
figure{margin:1.2em 0}figcaption{font-size:.9em;color:#444;margin-top:.3em}
figure svg{max-width:100%;height:auto}.dag{max-width:100%;height:auto}
article.stage{border-left:4px solid #ddd;padding-left:.8em;margin:1.2em 0}
ul{margin:.3em 0}nav a{margin-right:1em}
"""


def _status(status: str) -> str:
    return f'<span class="status-{escape(status)}">{escape(status)}</span>'


def _list(title: str, items: Sequence[str], css: str) -> str:
    if not items:
        return ""
    rows = "".join(f"<li>{escape(i)}</li>" for i in items)
    return f'<p>{escape(title)} ({len(items)}):</p><ul class="{css}">{rows}</ul>'


def _counts_in_words(summary: StageSummary) -> str:
    c = summary.counts
    systems: dict[str, int] = {}
    for s in summary.systems:
        systems[s.status] = systems.get(s.status, 0) + 1
    words = []
    if c.inputs_total:
        words.append(
            f"read {c.inputs_total} input files: {c.inputs_ok} valid, {c.inputs_failed} failed"
        )
    words.append(f"wrote {c.outputs_rows} output rows")
    if systems:
        per = ", ".join(f"{n} {s}" for s, n in sorted(systems.items()))
        words.append(f"{len(summary.systems)} systems ({per})")
    timing = summary.timings.get("total_s")
    if timing is not None:
        words.append(f"took {timing:.2f} s")
    return "It " + "; ".join(words) + "."


def _checks(summary: StageSummary) -> str:
    if not summary.checks:
        return ""
    failed = [c for c in summary.checks if not c.passed]
    line = summary.failed_checks_line() or "every check passed"
    rows = "".join(
        f"<tr><td>{escape(c.name)}</td><td>{escape(c.group)}</td>"
        f"<td>{'' if c.value is None else f'{c.value:.4g}'}</td><td>{c.tolerance:.4g}</td>"
        f"<td>{'pass' if c.passed else ('fail, expected' if c.expected_failure else 'FAIL')}"
        "</td></tr>"
        for c in sorted(summary.checks, key=lambda c: (c.passed, c.name))
    )
    return (
        f"<p>{len(summary.checks)} checks with thresholds, {len(failed)} failed: "
        f"{escape(line)}.</p><details><summary>checks (value, tolerance, outcome)</summary>"
        "<table><tr><th>check</th><th>group</th><th>value</th><th>tolerance</th>"
        f"<th>outcome</th></tr>{rows}</table></details>"
    )


def _metrics(summary: StageSummary) -> str:
    if not summary.metrics:
        return ""
    rows = "".join(
        f"<tr><td>{escape(k)}</td><td>{v:.6g}</td></tr>" for k, v in sorted(summary.metrics.items())
    )
    return (
        f"<details><summary>{len(summary.metrics)} metrics</summary>"
        f"<table><tr><th>metric</th><th>value</th></tr>{rows}</table></details>"
    )


def _stage_article(key: str, summary: StageSummary | None) -> str:
    head = f'<article class="stage" id="stage-{escape(key)}"><h3>{escape(key)}</h3>'
    if summary is None:
        return (
            head
            + "<p>No readable stage_summary.json: the stage has not run or failed.</p></article>"
        )
    return (
        head
        + f"<p>Ended {_status(summary.status)} (exit {summary.exit_code}). "
        + escape(_counts_in_words(summary))
        + "</p>"
        + _list("Errors", summary.errors, "errors")
        + _list("Warnings", summary.warnings, "warnings")
        + _list("Notes (results that leave the status as is)", summary.notes, "notes")
        + _checks(summary)
        + _metrics(summary)
        + "</article>"
    )


def _table(rows: Sequence[tuple[str, Any]]) -> str:
    body = "".join(f"<tr><th>{escape(k)}</th><td>{escape(str(v))}</td></tr>" for k, v in rows)
    return f"<table>{body}</table>"


def physics_section(plots: Sequence[Plot], notes: Sequence[str]) -> str:
    """The physics section's content: one figure per plot, then what was left out."""
    figures = "".join(
        f'<figure class="plot" id="plot-{escape(p.name)}">{p.svg}'
        f"<figcaption>{escape(p.caption)}</figcaption></figure>"
        for p in plots
    )
    physics = (
        figures or "<p>No physics plots: none of the stages that produce their data has run.</p>"
    )
    return physics + _list("Left out", list(notes), "report-notes")


def render_page(view: RunView, graph: StageGraph, physics: str) -> str:
    """The whole page as a string (see the module docstring); ``physics`` is the physics
    section's HTML (:func:`physics_section`, or the same reused)."""
    experiment = view.layout.experiment
    pipeline = view.pipeline
    if pipeline is not None:
        from holopipe.artifacts.records import status_of

        verdict = f"{_status(status_of(pipeline.exit_code))} (exit {pipeline.exit_code})"
        when = f"last <code>holopipe run</code> finished {escape(pipeline.finished_at)}"
    else:
        verdict, when = "no pipeline run recorded", "stages run one by one"
    env = view.environment
    stage_rows = "".join(
        f"<tr><td>{escape(n.key)}</td><td>{_status(n.status)}</td>"
        f"<td>{n.duration_s:.2f} s</td>"
        f"<td>{escape(n.verdict)}</td></tr>"
        for n in graph.nodes
    )
    packages = env.get("packages", {})
    environment = _table(
        [
            (
                "git sha",
                env.get("git_sha", "unknown") + (" (dirty)" if env.get("git_dirty") else ""),
            ),
            ("holopipe", env.get("holopipe_version", "")),
            ("python", f"{env.get('python', '')} ({env.get('implementation', '')})"),
            ("platform", env.get("platform", "")),
            ("cpu", f"{env.get('cpu_model', '')} x {env.get('cpu_count', '')}"),
            ("gpu", env.get("gpu", "")),
            ("packages sha256", env.get("packages_sha256", "")),
        ]
    )
    if packages:
        listing = _table(sorted(packages.items()))
        environment += f"<details><summary>{len(packages)} packages</summary>{listing}</details>"
    problems = _list("Records that could not be read", view.problems, "problems")
    articles = "".join(_stage_article(n.key, view.summaries.get(n.key)) for n in graph.nodes)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy"
 content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>holopipe report: {escape(experiment)}</title><style>{_CSS}</style></head>
<body>
<header id="section-summary"><h1>holopipe run <code>{escape(experiment)}</code></h1>
<p class="verdict">{verdict}</p>
<p>{when}; git sha <code>{escape(env.get("git_sha", "unknown"))}</code>;
run folder <code>{escape(str(view.layout.root))}</code></p>{problems}</header>
<nav><a href="#section-stages">stages</a><a href="#section-stage-details">details</a>
<a href="#section-physics">physics</a><a href="#section-config">config</a>
<a href="#section-environment">environment</a></nav>
<section id="section-stages"><h2>Stages</h2>{graph_svg(graph)}
<table><tr><th>stage</th><th>status</th><th>duration</th><th>up to date?</th></tr>
{stage_rows}</table>
</section>
<section id="section-stage-details"><h2>Stage by stage</h2>{articles}</section>
<section id="section-physics"><h2>Physics: results beside their references</h2>{physics}</section>
<section id="section-config"><h2>Resolved config</h2>
<pre>{escape(json.dumps(view.config, indent=2, sort_keys=True))}</pre></section>
<section id="section-environment"><h2>Environment</h2>{environment}</section>
</body></html>
"""
