"""The report's physics plots: each result drawn beside its reference, as inline SVG.

Every function takes plain data (already read and validated by :mod:`holopipe.report.collect`)
and returns the SVG text of one figure, or ``None`` when there is nothing to draw (a plot of a
stage that did not run is left out, never drawn empty). matplotlib is imported here only: it is
the optional extra ``holopipe[report]``.
"""

from __future__ import annotations

import functools
import io
import math
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np

__all__ = [
    "GeometryCurves",
    "PlottingUnavailable",
    "bessel_zeros",
    "contracts_plot",
    "curvature_plot",
    "atlas_plot",
    "dictionary_plot",
    "geometry_plot",
    "negative_controls_plot",
    "pulls_plot",
    "spectra_plot",
]

INSTALL_HINT = "pip install 'holopipe[report]'"


class PlottingUnavailable(ImportError):
    """matplotlib is not installed; the message says how to install it."""


@functools.cache
def _matplotlib() -> Any:
    """matplotlib, configured once; figures are made with ``Figure`` directly (no pyplot:
    no GUI backend, no global figure registry, less to import)."""
    try:
        import matplotlib
    except ImportError:
        raise PlottingUnavailable(
            f"the report's plots need matplotlib, which is not installed: {INSTALL_HINT}"
        ) from None
    matplotlib.rcParams.update(
        {
            "svg.fonttype": "none",  # text stays text: small files, searchable labels
            "svg.hashsalt": "holopipe",  # stable element ids: the same run, the same SVG
            "font.size": 9,
            "axes.grid": True,
            "grid.alpha": 0.3,
        }
    )
    return matplotlib


def _figure(**kwargs: Any) -> Any:
    _matplotlib()
    from matplotlib.figure import Figure

    return Figure(**kwargs)


def _svg(fig: Any, margins: dict[str, float] | None = None) -> str:
    # Fixed margins: a layout engine (tight, constrained) costs as much as drawing itself.
    fig.subplots_adjust(
        **{"left": 0.1, "right": 0.97, "bottom": 0.16, "top": 0.88, **(margins or {})}
    )
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :]  # drop the XML prolog and doctype: inline in HTML


def _plain_log_ticks(axis: Any) -> None:
    # Plain numbers on a log axis: matplotlib's default labels go through mathtext, which
    # costs more than the rest of the figure.
    from matplotlib.ticker import FuncFormatter, NullFormatter

    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axis.set_minor_formatter(NullFormatter())


@attrs.frozen
class GeometryCurves:
    """One system's reconstructed A(z), f(z) and, where known, its truth."""

    system_id: str
    z: np.ndarray
    A: np.ndarray
    f: np.ndarray
    z_truth: np.ndarray | None = None
    A_truth: np.ndarray | None = None
    f_truth: np.ndarray | None = None


def geometry_plot(family: str, systems: Sequence[GeometryCurves]) -> str | None:
    """A(z) and f(z) of every system of one family, the truth dashed beside each."""
    if not systems:
        return None
    fig = _figure(figsize=(9, 3.2))
    ax_a, ax_f = fig.subplots(1, 2)
    colors = _matplotlib().rcParams["axes.prop_cycle"].by_key()["color"]
    for i, s in enumerate(systems):
        color = colors[i % len(colors)]
        ax_a.plot(s.z, s.A, color=color, lw=1.5, label=f"{s.system_id} (reconstructed)")
        ax_f.plot(s.z, s.f, color=color, lw=1.5)
        if s.z_truth is not None:
            ax_a.plot(s.z_truth, s.A_truth, "k--", lw=0.9, label="truth" if i == 0 else None)
            ax_f.plot(s.z_truth, s.f_truth, "k--", lw=0.9)
    ax_a.set(xscale="log", xlabel="z", ylabel="A(z)", title=f"{family}: warp factor A(z)")
    _plain_log_ticks(ax_a.xaxis)
    ax_f.set(xlabel="z", ylabel="f(z)", title=f"{family}: blackening factor f(z)")
    ax_a.legend(fontsize=7, loc="best")
    return _svg(fig)


def curvature_plot(rows: Sequence[tuple[str, int, float, float]]) -> str | None:
    """Mean Ricci scalar (error bar: its spread over z) of AdS systems against -d(d+1), per d.

    ``rows`` are ``(system_id, d, R_mean, R_std)``. The x axis is d: the systems of one d
    are spread side by side around it and the reference is one bar per d (a label per
    system is unreadable beyond a few, and drawing a hundred labels costs more than the
    rest of the figure).
    """
    if not rows:
        return None
    fig = _figure(figsize=(6, 3.2))
    ax = fig.subplots()
    ax.errorbar(
        _spread([r[1] for r in rows]),
        [r[2] for r in rows],
        yerr=[r[3] for r in rows],
        fmt="o",
        markersize=4,
        label="R measured (stage 03)",
    )
    ds = sorted({r[1] for r in rows})
    ax.scatter(ds, [-d * (d + 1) for d in ds], marker="_", s=900, color="k", label="-d(d+1)")
    ax.set_xticks(ds, [f"d = {d}" for d in ds])
    ax.set_xlim(ds[0] - 0.5, ds[-1] + 0.5)
    ax.set(ylabel="Ricci scalar R (L = 1)", title="AdS systems: curvature vs -d(d+1)")
    ax.legend(fontsize=7)
    return _svg(fig, {"left": 0.14})


def _spread(groups: Sequence[int], width: float = 0.6) -> list[float]:
    """Each item's x: its group's value, the items of one group spread evenly over ``width``.

    >>> _spread([3, 3, 4, 3])
    [2.7, 3.0, 4.0, 3.3]
    """
    sizes: dict[int, int] = defaultdict(int)
    for group in groups:
        sizes[group] += 1
    seen: dict[int, int] = defaultdict(int)
    xs = []
    for group in groups:
        n, k = sizes[group], seen[group]
        seen[group] += 1
        xs.append(float(group) if n == 1 else round(group - width / 2 + width * k / (n - 1), 9))
    return xs


def contracts_plot(title: str, outcomes: Sequence[tuple[str, str, bool | None]]) -> str | None:
    """Contract outcomes per family and contract: passed / evaluated in each cell.

    ``outcomes`` are ``(family, contract, passed)`` with ``passed=None`` when not evaluated.
    """
    if not outcomes:
        return None
    families = sorted({o[0] for o in outcomes})
    contracts = sorted({o[1] for o in outcomes})
    passed = defaultdict(int)
    evaluated = defaultdict(int)
    for family, contract, ok in outcomes:
        if ok is not None:
            evaluated[family, contract] += 1
            passed[family, contract] += bool(ok)
    share = np.full((len(families), len(contracts)), np.nan)
    for i, family in enumerate(families):
        for j, contract in enumerate(contracts):
            if evaluated[family, contract]:
                share[i, j] = passed[family, contract] / evaluated[family, contract]
    fig = _figure(figsize=(1.1 * len(contracts) + 2, 0.5 * len(families) + 1.4))
    ax = fig.subplots()
    cmap = _matplotlib().colormaps["RdYlGn"].with_extremes(bad="#dddddd")
    ax.imshow(np.ma.masked_invalid(share), cmap=cmap, vmin=0, vmax=1, aspect="auto")
    for i, family in enumerate(families):
        for j, contract in enumerate(contracts):
            n = evaluated[family, contract]
            text = f"{passed[family, contract]}/{n}" if n else "n/e"
            ax.text(j, i, text, ha="center", va="center", fontsize=8)
    ax.set_xticks(range(len(contracts)), contracts, rotation=30, ha="right")
    ax.set_yticks(range(len(families)), families)
    ax.grid(False)
    ax.set_title(f"{title}: passed / evaluated (n/e: not evaluated)")
    return _svg(fig, {"left": 0.17, "bottom": 0.3, "top": 0.9})


def bessel_zeros(order: float, count: int) -> np.ndarray:
    """The first ``count`` positive zeros of J_order (sign changes refined by bisection).

    Examples
    --------
    >>> from scipy.special import jn_zeros
    >>> bool(np.allclose(bessel_zeros(1.0, 3), jn_zeros(1, 3), rtol=1e-12))
    True
    """
    from scipy.special import jv

    grid = np.arange(1e-6, 20.0 + 4.0 * count, 0.02)
    values = jv(order, grid)
    brackets = np.flatnonzero(values[:-1] * values[1:] < 0)[:count]
    lo, hi = grid[brackets], grid[brackets + 1]
    f_lo = values[brackets]
    for _ in range(60):  # bisection of every bracket at once: 0.02 / 2^60, below rounding
        mid = 0.5 * (lo + hi)
        f_mid = jv(order, mid)
        left = np.sign(f_mid) == np.sign(f_lo)
        lo, f_lo = np.where(left, mid, lo), np.where(left, f_mid, f_lo)
        hi = np.where(left, hi, mid)
    return 0.5 * (lo + hi)


def spectra_plot(rows: Sequence[Any]) -> str | None:
    """Hard-wall spectra M_n z_IR of pure-AdS rows against the Bessel zeros j_{+-nu, n}.

    ``rows`` are EigenmodeRow-like (family, d, m2, branch, mode_id, M2, z_ir); the reference
    of branch ``+`` is J_nu, of branch ``-`` J_{-nu}, with nu = sqrt(d^2/4 + m2) (PHYSICS.md).
    """
    groups: dict[tuple[str, float, str], list[Any]] = defaultdict(list)
    for row in rows:
        groups[row.system_id, row.m2, row.branch].append(row)
    if not groups:
        return None
    fig = _figure(figsize=(7, 3.4))
    ax = fig.subplots()
    for i, ((system_id, m2, branch), modes) in enumerate(sorted(groups.items())):
        modes = sorted(modes, key=lambda r: r.mode_id)
        d = modes[0].d
        nu = math.sqrt(d * d / 4 + m2)
        order = nu if branch == "+" else -nu
        n = np.array([r.mode_id + 1 for r in modes])
        measured = np.array([math.sqrt(max(r.M2, 0.0)) * r.z_ir for r in modes])
        reference = bessel_zeros(order, int(n.max()))[n - 1]
        offset = 0.04 * (i - len(groups) / 2)
        label = f"{system_id} m2={m2:g} ({branch})"
        ax.plot(n + offset, measured, "o", ms=4, label=label)
        ax.plot(
            n + offset, reference, "kx", ms=6, label="Bessel zero j_{±nu,n}" if i == 0 else None
        )
    ax.set(
        xlabel="mode n",
        ylabel="M_n z_IR",
        title="hard-wall spectra vs Bessel-zero reference",
    )
    ax.legend(fontsize=6, ncol=2)
    return _svg(fig)


def negative_controls_plot(
    controls: Sequence[tuple[str, bool, bool]], coverage: float | None, fpr: float | None
) -> str | None:
    """Each control's outcome, and coverage / false-positive rate against their targets.

    ``controls`` are ``(name, expected_pass, passed)``: a negative control must fail some
    contract (caught), a positive control must pass all it is evaluated on.
    """
    if not controls:
        return None
    fig = _figure(figsize=(9, 0.22 * len(controls) + 1.5))
    ax_c, ax_r = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 1]})
    y = np.arange(len(controls))
    right = [expected == passed for _, expected, passed in controls]
    ax_c.barh(y, [1] * len(controls), color=["#4caf50" if r else "#e53935" for r in right])
    for i, (name, expected, passed) in enumerate(controls):
        want = "positive: must pass" if expected else "negative: must be caught"
        got = "passed" if passed else "caught"
        ax_c.text(0.02, i, f"{name} — {want}, {got}", va="center", fontsize=7)
    ax_c.set(yticks=[], xticks=[], title="controls (green: as expected)")
    ax_c.grid(False)
    names = ["coverage", "false-positive rate"]
    values = [coverage if coverage is not None else np.nan, fpr if fpr is not None else np.nan]
    ax_r.bar(names, values, color=["#1e88e5", "#fb8c00"])
    ax_r.scatter(names, [1.0, 0.0], marker="_", s=900, color="k", label="target")
    ax_r.set(ylim=(0, 1.05), title="04c rates vs target")
    ax_r.legend(fontsize=7)
    return _svg(fig)


def dictionary_plot(fits: Sequence[Any], entries: Sequence[Any]) -> str | None:
    """Stage 07 per d: the (Delta, m^2) points, the free quadratic fit, the constrained
    m^2 = c Delta (Delta - d) fit, and the AdS relation m^2 = Delta (Delta - d) dashed.

    ``fits`` are DimensionFit-like (d, coefficients, comparison.c_constrained), ``entries``
    DictionaryEntry-like (d, Delta, m2).
    """
    if not fits:
        return None
    fig = _figure(figsize=(min(4.0 * len(fits), 12.0), 3.4))
    axes = np.atleast_1d(fig.subplots(1, len(fits)))
    for ax, fit in zip(axes, sorted(fits, key=lambda f: f.d), strict=True):
        d = fit.d
        points = [(e.Delta, e.m2) for e in entries if e.d == d]
        deltas = [p[0] for p in points] or [d / 2, d]
        grid = np.linspace(min(min(deltas), d / 2) - 0.3, max(max(deltas), d) + 0.3, 120)
        q = fit.coefficients
        c = fit.comparison.c_constrained
        ax.plot(grid, q.delta2 * grid**2 + q.delta * grid + q.const, lw=1.6, label="free quadratic")
        ax.plot(grid, c * grid * (grid - d), lw=1.2, label=f"c Delta(Delta-d), c = {c:.4g}")
        ax.plot(grid, grid * (grid - d), "k--", lw=0.9, label="AdS: Delta(Delta-d)")
        if points:
            ax.plot(*zip(*points, strict=True), "o", ms=4, color="k", label="stage 06 points")
        ax.set(xlabel="Delta", ylabel="m^2 L^2", title=f"07 dictionary, d = {d}")
        ax.legend(fontsize=6)
    return _svg(fig, {"wspace": 0.3})


def atlas_plot(systems: Sequence[tuple[str, str, float, float]], tolerance: float) -> str | None:
    """Stage 08: alpha_UV = -dA/d ln z per system, grouped by family, against the AdS value 1
    and the band |alpha - 1| < tolerance where the dictionary is applied.

    ``systems`` are ``(family, system label, alpha_uv, alpha_uv_err)``.
    """
    if not systems:
        return None
    fig = _figure(figsize=(7, 3.4))
    ax = fig.subplots()
    rows = sorted(systems)
    families = sorted({r[0] for r in rows})
    colors = _matplotlib().rcParams["axes.prop_cycle"].by_key()["color"]
    x = np.arange(len(rows))
    for i, family in enumerate(families):
        idx = [k for k, r in enumerate(rows) if r[0] == family]
        ax.errorbar(
            x[idx],
            [rows[k][2] for k in idx],
            yerr=[rows[k][3] for k in idx],
            fmt="o",
            color=colors[i % len(colors)],
            label=family,
        )
    ax.axhline(1.0, color="k", ls="--", lw=0.9, label="AdS: alpha_UV = 1")
    ax.axhspan(
        1 - tolerance, 1 + tolerance, color="#4caf50", alpha=0.15, label="dictionary applies"
    )
    ax.set_xticks(x, [r[1] for r in rows], rotation=30, ha="right", fontsize=6)
    ax.set(ylabel="alpha_UV = -dA/d ln z", title="08 atlas: UV exponent per family")
    ax.legend(fontsize=7)
    return _svg(fig, {"left": 0.12, "bottom": 0.3})


def pulls_plot(pulls: Sequence[tuple[str, float]]) -> str | None:
    """Stage 09: pull (Delta - Delta_ref) / sigma per operator, with the 3-sigma band.

    ``pulls`` are ``(operator label, pull)``; operators without a pull are not passed.
    """
    if not pulls:
        return None
    fig = _figure(figsize=(7, 0.28 * len(pulls) + 1.6))
    ax = fig.subplots()
    y = np.arange(len(pulls))
    values = np.array([p[1] for p in pulls])
    ax.axvspan(-3, 3, color="#4caf50", alpha=0.15, label="|pull| < 3")
    ax.axvline(0, color="k", lw=0.8)
    ax.scatter(values, y, c=np.where(np.abs(values) < 3, "#1e88e5", "#e53935"), zorder=3)
    ax.set_yticks(y, [p[0] for p in pulls], fontsize=7)
    limit = max(4.0, float(np.max(np.abs(values))) * 1.1)
    ax.set(xlim=(-limit, limit), xlabel="pull (Delta - Delta_ref) / sigma")
    ax.set_title("09 pulls against the reference tables (3-sigma band)")
    ax.legend(fontsize=7)
    return _svg(fig, {"left": 0.3, "bottom": 0.15})
