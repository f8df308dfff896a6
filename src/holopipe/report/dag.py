"""The stage graph of a run: which stage feeds which, through which alias, and each stage's state.

Built from :func:`holopipe.pipeline.plan_run`'s plans, the same ones ``holopipe run
--dry-run`` prints: each stage's aliases, its last status and duration, and whether it would
run and exactly why. So ``holopipe dag`` and the dry run cannot disagree. Rendered as text,
Mermaid or Graphviz dot (``holopipe dag``) and as inline SVG in the HTML report.

Examples
--------
>>> from holopipe.pipeline import StagePlan
>>> graph = StageGraph.build([
...     StagePlan("01_a", False, (), "OK", 1.0, input_aliases=(), output_aliases=("sandbox",)),
...     StagePlan("02_b", True, ("upstream 01_a would run (input x)",),
...               input_aliases=("sandbox",)),
... ])
>>> graph.edges
(('01_a', '02_b', 'sandbox'),)
>>> print(graph.render("ascii"))
01_a  [OK, 1.00 s, up to date]
  └── sandbox ──> 02_b
02_b  [not run, would run: upstream 01_a would run (input x)]
>>> print(graph.render("mermaid").splitlines()[0])
flowchart TD
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

import attrs

__all__ = ["FORMATS", "StageGraph", "StageNode", "graph_svg"]

#: The formats ``holopipe dag --format`` accepts.
FORMATS = ("ascii", "mermaid", "dot")


class _Plan(Protocol):
    """What the graph reads of a :class:`holopipe.pipeline.StagePlan`."""

    stage: str
    reasons: tuple[str, ...]
    verdict: str
    status: str
    duration_s: float
    input_aliases: tuple[str, ...]
    output_aliases: tuple[str, ...]


@attrs.frozen
class StageNode:
    """One stage: its key, what its last run says, and whether it would run and why."""

    key: str
    status: str = "NOT_RUN"
    duration_s: float = 0.0
    reasons: tuple[str, ...] = ("never run",)
    #: ``up to date`` or ``would run: <reason>; ...``, the plan's own words.
    verdict: str = "would run: never run"

    @property
    def label(self) -> str:
        """``status, duration, up to date or why it would run`` in words."""
        if self.status == "NOT_RUN":
            return "not run" if self.reasons == ("never run",) else f"not run, {self.verdict}"
        return f"{self.status}, {self.duration_s:.2f} s, {self.verdict}"


def _node_id(key: str) -> str:
    return "s" + "".join(c if c.isalnum() else "_" for c in key)


def _quoted(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', "'")


@attrs.frozen
class StageGraph:
    """Stages in pipeline order and the ``(producer, consumer, alias)`` edges between them."""

    nodes: tuple[StageNode, ...]
    edges: tuple[tuple[str, str, str], ...]

    @classmethod
    def build(cls, plans: Iterable[_Plan]) -> StageGraph:
        """The graph of a run's stage plans (:func:`holopipe.pipeline.plan_run`), in order."""
        nodes = []
        producer: dict[str, str] = {}
        edges = []
        for plan in plans:
            nodes.append(
                StageNode(plan.stage, plan.status, plan.duration_s, plan.reasons, plan.verdict)
            )
            edges += [(producer[a], plan.stage, a) for a in plan.input_aliases if a in producer]
            producer.update({alias: plan.stage for alias in plan.output_aliases})
        return cls(tuple(nodes), tuple(edges))

    def render(self, fmt: str = "ascii") -> str:
        """The graph as ``ascii`` (one block per stage), ``mermaid`` or ``dot`` text."""
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r} (formats: {', '.join(FORMATS)})")
        return {"ascii": self._ascii, "mermaid": self._mermaid, "dot": self._dot}[fmt]()

    def _ascii(self) -> str:
        lines = []
        for node in self.nodes:
            lines.append(f"{node.key}  [{node.label}]")
            feeds = [(dst, alias) for src, dst, alias in self.edges if src == node.key]
            for i, (dst, alias) in enumerate(feeds):
                branch = "└──" if i == len(feeds) - 1 else "├──"
                lines.append(f"  {branch} {alias} ──> {dst}")
        return "\n".join(lines)

    def _mermaid(self) -> str:
        lines = ["flowchart TD"]
        for node in self.nodes:
            lines.append(f'  {_node_id(node.key)}["{_quoted(node.key)}<br/>{_quoted(node.label)}"]')
        for src, dst, alias in self.edges:
            lines.append(f"  {_node_id(src)} -->|{_quoted(alias)}| {_node_id(dst)}")
        return "\n".join(lines)

    def _dot(self) -> str:
        lines = ["digraph holopipe {", "  rankdir=TB;", "  node [shape=box];"]
        for node in self.nodes:
            label = f"{_quoted(node.key)}\\n{_quoted(node.label)}"
            lines.append(f'  {_node_id(node.key)} [label="{label}"];')
        for src, dst, alias in self.edges:
            lines.append(f'  {_node_id(src)} -> {_node_id(dst)} [label="{_quoted(alias)}"];')
        lines.append("}")
        return "\n".join(lines)


#: Box fill per status in the SVG drawing.
_FILL = {
    "OK": "#c8e6c9",
    "WARNING": "#fff3c4",
    "INCOMPLETE": "#ffd8b0",
    "ERROR": "#ffcdd2",
    "NOT_RUN": "#eeeeee",
}


def graph_svg(graph: StageGraph) -> str:
    """The graph as inline SVG: stages layered by dependency depth, edges labelled by alias."""
    from html import escape

    depth: dict[str, int] = {}
    for node in graph.nodes:  # pipeline order: producers come first
        parents = [depth[src] for src, dst, _ in graph.edges if dst == node.key and src in depth]
        depth[node.key] = 1 + max(parents) if parents else 0
    layers: dict[int, list[str]] = {}
    for node in graph.nodes:
        layers.setdefault(depth[node.key], []).append(node.key)
    box_w, box_h, gap_x, gap_y = 250, 44, 30, 46
    width = max(len(keys) for keys in layers.values()) * (box_w + gap_x) + gap_x
    height = len(layers) * (box_h + gap_y) + gap_y
    position = {
        key: (gap_x + i * (box_w + gap_x), gap_y / 2 + layer * (box_h + gap_y))
        for layer, keys in layers.items()
        for i, key in enumerate(keys)
    }
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="dag" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="stage graph">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>',
    ]
    for src, dst, alias in graph.edges:
        (x1, y1), (x2, y2) = position[src], position[dst]
        x1, y1, x2 = x1 + box_w / 2, y1 + box_h, x2 + box_w / 2
        parts.append(
            f'<line x1="{x1:.0f}" y1="{y1:.0f}" x2="{x2:.0f}" y2="{y2:.0f}" stroke="#555" '
            f'marker-end="url(#arrow)"><title>{escape(alias)}</title></line>'
        )
        parts.append(
            f'<text x="{(x1 + x2) / 2 + 4:.0f}" y="{(y1 + y2) / 2:.0f}" font-size="10" '
            f'fill="#555">{escape(alias)}</text>'
        )
    for node in graph.nodes:
        x, y = position[node.key]
        fill = _FILL.get(node.status, "#eeeeee")
        parts.append(
            f'<g class="stage-node" data-stage="{escape(node.key)}" data-status="{node.status}">'
            f'<rect x="{x:.0f}" y="{y:.0f}" width="{box_w}" height="{box_h}" rx="6" '
            f'fill="{fill}" stroke="#777"/>'
            f'<text x="{x + 8:.0f}" y="{y + 18:.0f}" font-size="12" font-weight="bold">'
            f"{escape(node.key)}</text>"
            f'<text x="{x + 8:.0f}" y="{y + 35:.0f}" font-size="10">{escape(node.label)}</text>'
            "</g>"
        )
    parts.append("</svg>")
    return "".join(parts)
