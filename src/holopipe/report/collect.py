"""What a report shows, gathered from a run's records and artifacts (read and validated).

:class:`RunView` reads the manifest, the frozen config, the pipeline and stage summaries and
``meta_env.json``; :func:`physics_plots` reads the artifacts the stages recorded (by schema,
from the manifest: nothing is globbed) and draws the plots of the stages that ran. The
stage records are read one at a time and only the few entries the plots read are kept
(:class:`PlottedFiles`): the report's memory does not grow with the number of systems.
"""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs

from holopipe.artifacts.io import loads_json
from holopipe.artifacts.records import FileRecord, PipelineSummary, StageSummary
from holopipe.run.layout import RunLayout
from holopipe.run.manifest import ManifestError, ManifestStore

__all__ = [
    "MAX_ARTIFACTS_PER_TYPE",
    "MAX_POINTS",
    "PLOT_SCHEMAS",
    "Plot",
    "PlottedFiles",
    "RunView",
    "physics_plots",
]

#: Files of one type read for the plots: bounds the report's time on runs of many systems.
MAX_ARTIFACTS_PER_TYPE = 100
#: Curves per family in the geometry plots (more would be unreadable).
MAX_CURVES = 8
#: Systems in the curvature plot: files holding many systems each (a chunked layout) would
#: otherwise put thousands of points in one figure (seconds to draw, megabytes of SVG).
MAX_POINTS = 100


@attrs.frozen
class Plot:
    """One figure of the report: an id (``plot-<name>``), a caption and its SVG."""

    name: str
    caption: str
    svg: str


@attrs.define
class PlottedFiles:
    """Of the recorded outputs of one artifact type, the first
    :data:`MAX_ARTIFACTS_PER_TYPE` (stage order, then record order; sidecars left out) as
    ``(stage key, absolute path, entry)``, and how many there are in all.

    Examples
    --------
    >>> files = PlottedFiles()
    >>> for i in range(MAX_ARTIFACTS_PER_TYPE + 5):
    ...     files.add("01_x", Path("/run"), {"name": "a", "path": f"01_x/a/{i}.json",
    ...                                      "sha256": "0" * 64})
    >>> len(files.chosen), files.total, files.chosen[0][1], files.chosen[0][2].name
    (100, 105, PosixPath('/run/01_x/a/0.json'), 'a')
    """

    chosen: list[tuple[str, Path, FileRecord]] = attrs.field(factory=list)
    total: int = 0

    def add(self, key: str, root: Path, entry: dict[str, Any]) -> None:
        """Count ``entry`` (a manifest entry as written: FileRecord's keys); keep it as a
        FileRecord while fewer than the maximum are kept."""
        self.total += 1
        if len(self.chosen) < MAX_ARTIFACTS_PER_TYPE:
            self.chosen.append((key, root / entry["path"], FileRecord(**entry)))


def _plotted_outputs(
    root: Path, key: str, outputs: list[dict[str, Any]], found: dict[str, PlottedFiles]
) -> None:
    """Add stage ``key``'s ``outputs`` (entries as written) of the :data:`PLOT_SCHEMAS`
    types to ``found``."""
    from holopipe.artifacts.registry import get_type

    kinds: dict[str, Any] = {}  # schema -> its type: one look-up per schema, not per file
    for entry in outputs:
        schema = entry["schema"]
        files = found.get(schema) if schema is not None else None
        if files is None:
            continue
        # The type's module is imported only for a run that has its files, and its sidecars
        # are told apart only when it has some (a path per file costs at 10 000 systems).
        kind = kinds.get(schema)
        if kind is None:
            kind = kinds[schema] = get_type(schema)
        if kind.HAS_SIDECARS and kind.primary_of(root / entry["path"]) is not None:
            continue
        files.add(key, root, entry)


@attrs.define
class RunView:
    """The records of one run that the report puts in words."""

    layout: RunLayout
    #: The stage keys the manifest records, in order.
    stages: tuple[str, ...]
    config: dict[str, Any]
    pipeline: PipelineSummary | None
    summaries: dict[str, StageSummary]
    environment: dict[str, Any]
    #: schema -> the recorded files of that type the plots read (:meth:`plotted`).
    files: dict[str, PlottedFiles] = attrs.field(factory=dict)
    problems: list[str] = attrs.field(
        factory=list, metadata={"doc": "records that could not be read"}
    )
    left_out: list[str] = attrs.field(factory=list, metadata={"doc": "what the plots leave out"})

    @classmethod
    def load(cls, layout: RunLayout) -> RunView:
        """The run's records. The manifest's stage records are read one at a time (see
        :meth:`holopipe.run.manifest.ManifestStore.output_entries`), each dropped once the
        entries the plots read are taken from it."""
        problems: list[str] = []

        def read(kind: Any, path: Path) -> Any:
            if not path.is_file():
                return None
            report, value = kind.read_with_report(path)
            if value is None:
                problems.append(f"{layout.relative(path)}: {'; '.join(report.lines()[:1])}")
            return value

        stages: list[str] = []
        files = {schema: PlottedFiles() for schema in PLOT_SCHEMAS}
        try:
            for key, outputs in ManifestStore(layout).output_entries():
                stages.append(key)
                _plotted_outputs(layout.root, key, outputs, files)
                del outputs  # not held while the next record is read
        except ManifestError as exc:
            where = layout.relative(layout.manifest_path)
            problems.append(f"{where}: {'; '.join(exc.report.lines()[:1])}")
            stages, files = [], {schema: PlottedFiles() for schema in PLOT_SCHEMAS}
        config: dict[str, Any] = {}
        if layout.config_path.is_file():
            try:
                config = loads_json(layout.config_path.read_text(encoding="utf-8"))
            except (OSError, ValueError, UnicodeDecodeError) as exc:
                problems.append(f"{layout.config_path.name}: unreadable: {exc}")
        summaries, environment = {}, {}
        for key in stages:
            summary = read(StageSummary, layout.root / key / "stage_summary.json")
            if summary is not None:
                summaries[key] = summary
            env_path = layout.root / key / "meta_env.json"
            if env_path.is_file():
                try:
                    environment = loads_json(env_path.read_text(encoding="utf-8"))
                except (OSError, ValueError, UnicodeDecodeError) as exc:
                    problems.append(f"{layout.relative(env_path)}: unreadable: {exc}")
        pipeline = read(PipelineSummary, layout.pipeline_summary_path)
        return cls(layout, tuple(stages), config, pipeline, summaries, environment, files, problems)

    def plotted(self, schema: str) -> tuple[list[tuple[str, Path, Any]], int]:
        """``(stage key, absolute path, record)`` of the files of type ``schema`` the plots
        read (the first :data:`MAX_ARTIFACTS_PER_TYPE` in sorted order), and how many there
        are in all. Only the types of :data:`PLOT_SCHEMAS` (the plot cache's key covers them)."""
        if schema not in PLOT_SCHEMAS:
            raise ValueError(f"{schema} is not in PLOT_SCHEMAS (the plot cache would miss it)")
        files = self.files.get(schema, PlottedFiles())
        return list(files.chosen), files.total

    def read_all(self, schema: str) -> list[tuple[str, Any]]:
        """The valid artifacts of type ``schema`` the plots read (:meth:`plotted`; the rest
        is said in ``left_out``; an invalid one in ``problems``)."""
        return list(self.read_each(schema))

    def read_each(self, schema: str) -> Iterator[tuple[str, Any]]:
        """:meth:`read_all` one file at a time: a plot that has enough stops reading."""
        from holopipe.artifacts.registry import get_type

        chosen, total = self.plotted(schema)
        if not chosen:  # the type's module (and what it imports) is not needed
            return
        kind = get_type(schema)
        if total > len(chosen):
            note = f"{schema}: plotted the first {len(chosen)} of {total} files"
            if note not in self.left_out:
                self.left_out.append(note)
        for key, path, _ in chosen:
            report, artifact = kind.read_with_report(path)
            if artifact is None:
                self.problems.append(
                    f"{self.layout.relative(path)}: {'; '.join(report.lines()[:1])}"
                )
            else:
                yield key, artifact

    def config_text(self) -> str:
        return json.dumps(self.config, indent=2, sort_keys=True)


def _geometry(view: RunView) -> list[Plot]:
    from holopipe.report import plots

    truth = {s.meta.system_id: s.truth for _, s in view.read_all("SandboxGeometry")}
    by_family: dict[str, list[plots.GeometryCurves]] = defaultdict(list)
    for _, g in view.read_all("GeometryPrediction"):
        t = truth.get(g.meta.system_id)
        by_family[g.meta.family].append(
            plots.GeometryCurves(
                g.meta.system_name or g.meta.system_id,
                g.z,
                g.A,
                g.f,
                None if t is None else t.z_grid,
                None if t is None else t.A_truth,
                None if t is None else t.f_truth,
            )
        )
    found = []
    for family, systems in sorted(by_family.items()):
        shown = f", the first {MAX_CURVES} of {len(systems)}" if len(systems) > MAX_CURVES else ""
        caption = (
            f"{family}: reconstructed A(z) and f(z) (stage 02{shown}), truth dashed (stage 01)"
        )
        svg = plots.geometry_plot(family, systems[:MAX_CURVES])
        found.append(Plot(f"geometry-{family}", caption, svg))
    return found


def _curvature(view: RunView) -> list[Plot]:
    from holopipe.report import plots

    ads = (
        (s.system_id.rsplit("-", 1)[0], s.d, s.R_mean, s.R_std)
        for _, eq in view.read_each("BulkEquations")
        for s in eq.systems
        if s.family == "ads"
    )
    rows = list(itertools.islice(ads, MAX_POINTS + 1))  # one more: were there more?
    shown = f" (the first {MAX_POINTS} systems)" if len(rows) > MAX_POINTS else ""
    svg = plots.curvature_plot(rows[:MAX_POINTS])
    caption = f"stage 03: Ricci scalar of AdS systems{shown} vs the exact -d(d+1), per d"
    return [Plot("curvature-ads", caption, svg)] if svg else []


def _per_artifact(
    view: RunView,
    schema: str,
    name: str,
    caption: str,
    draw: Callable[[str, Any], str | None],
) -> list[Plot]:
    """One plot per valid artifact of ``schema`` that ``draw(key, artifact)`` draws (no plot
    where it returns nothing); ``name`` and ``caption`` are formatted with the producing
    stage's ``key`` and its ``stage`` id."""
    found = []
    for key, artifact in view.read_all(schema):
        svg = draw(key, artifact)
        if svg:
            fields = {"key": key, "stage": key.split("_", 1)[0]}
            found.append(Plot(name.format(**fields), caption.format(**fields), svg))
    return found


def _contracts(view: RunView) -> list[Plot]:
    from holopipe.report import plots

    def draw(key: str, artifact: Any) -> str | None:
        outcomes = [
            (
                s.family if s.role == "prediction" else s.role,
                c.name,
                c.passed if c.evaluated else None,
            )
            for s in artifact.systems
            for c in s.contracts
        ]
        return plots.contracts_plot(f"{key.split('_', 1)[0]} contracts", outcomes)

    caption = "{key}: pass/fail per family and contract"
    return _per_artifact(view, "GeometryContracts", "contracts-{stage}", caption, draw)


def _spectra(view: RunView) -> list[Plot]:
    from holopipe.report import plots

    rows = [
        r
        for _, ds in view.read_all("EigenmodesDataset")
        for r in ds.rows
        if r.family == "ads" and r.quality == "ok" and r.bc_ir.startswith("wall")
    ]
    svg = plots.spectra_plot(rows)
    caption = "stage 06: hard-wall AdS masses M_n z_IR vs the Bessel zeros j_{±nu,n}"
    return [Plot("spectra-hard-wall", caption, svg)] if svg else []


def _negative_controls(view: RunView) -> list[Plot]:
    from holopipe.report import plots

    def draw(key: str, artifact: Any) -> str | None:
        controls = [
            (
                s.system_id.rsplit("-", 1)[0],
                bool(s.expected_pass),
                all(c.passed for c in s.contracts if c.evaluated),
            )
            for s in artifact.systems
            if s.role in ("positive_control", "negative_control")
        ]
        metrics = view.summaries[key].metrics if key in view.summaries else {}
        return plots.negative_controls_plot(
            controls, metrics.get("coverage"), metrics.get("false_positive_rate")
        )

    caption = "{key}: controls, coverage and false-positive rate"
    return _per_artifact(view, "GeometryContracts", "negative-controls", caption, draw)


def _dictionary(view: RunView) -> list[Plot]:
    from holopipe.report import plots

    caption = "{key}: m^2 vs Delta per d, both models and the AdS relation"
    return _per_artifact(
        view,
        "Dictionary",
        "dictionary-fit",
        caption,
        lambda key, dictionary: plots.dictionary_plot(dictionary.fits, dictionary.entries),
    )


def _atlas(view: RunView) -> list[Plot]:
    from holopipe.report import plots

    def draw(key: str, atlas: Any) -> str | None:
        rows = [
            (s.family, s.system_name or s.system_id.rsplit("-", 1)[0], s.alpha_uv, s.alpha_uv_err)
            for s in atlas.systems
        ]
        return plots.atlas_plot(rows, atlas.tolerance)

    caption = "{key}: alpha_UV per family vs the AdS value 1 (band: dictionary applies)"
    return _per_artifact(view, "HolographicAtlas", "atlas-alpha-uv", caption, draw)


def _pulls(view: RunView) -> list[Plot]:
    from holopipe.report import plots

    def draw(key: str, contracts: Any) -> str | None:
        pulls = [
            (f"{c.theory} {c.operator} ({c.system_id.rsplit('-', 1)[0]})", c.pull)
            for c in contracts.comparisons
            if c.pull is not None
        ]
        return plots.pulls_plot(pulls)

    caption = "{key}: pull per operator against the cited reference, 3-sigma band"
    return _per_artifact(view, "RealDataContracts", "pulls", caption, draw)


#: The artifact types the plots read (:meth:`RunView.plotted` refuses any other).
PLOT_SCHEMAS = (
    "SandboxGeometry",
    "GeometryPrediction",
    "BulkEquations",
    "GeometryContracts",
    "EigenmodesDataset",
    "Dictionary",
    "HolographicAtlas",
    "RealDataContracts",
)

#: The plot builders, in report order; each reads what it needs and returns no plot when the
#: stage that produces its data did not run.
PLOT_BUILDERS: tuple[Callable[[RunView], list[Plot]], ...] = (
    _geometry,
    _curvature,
    _contracts,
    _spectra,
    _dictionary,
    _atlas,
    _pulls,
    _negative_controls,
)


def physics_plots(view: RunView) -> list[Plot]:
    """Every plot whose data the run has, in report order."""
    return [plot for build in PLOT_BUILDERS for plot in build(view)]
