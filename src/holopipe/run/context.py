"""RunContext and StageContext: the one API stages and tools use for a run.

A :class:`RunContext` is an experiment's run (layout, resolved config, manifest). A
:class:`StageContext` is what a stage's ``run`` receives: its params, where to write,
how to map work over systems, and where to report warnings, errors, per-system status and
metrics. Paths, manifest updates and bookkeeping are not the stage's business.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from holopipe.artifacts.base import Artifact
from holopipe.artifacts.io import recorded_key, recorded_writes
from holopipe.artifacts.records import MetricCheck
from holopipe.artifacts.registry import detect_type
from holopipe.run.capture import Progress
from holopipe.run.config import structure_section
from holopipe.run.executors import ExecutorConfig, ItemResult, SerialExecutor, make_executor
from holopipe.run.layout import RunLayout
from holopipe.run.manifest import ManifestStore
from holopipe.run.provenance import code_version
from holopipe.run.storage import disk_refusal

if TYPE_CHECKING:  # numpy is imported where a stage draws random numbers (start-up time)
    import numpy as np

__all__ = ["Provenance", "RunContext", "StageContext", "system_seed"]


def system_seed(seed: int, stage_id: str, system_id: str) -> int:
    """A 64-bit seed from (run seed, stage, system): independent of order and workers.

    Examples
    --------
    >>> system_seed(1, "01", "ads_d3-abc") == system_seed(1, "01", "ads_d3-abc")
    True
    """
    digest = hashlib.sha256(f"{seed}\x1f{stage_id}\x1f{system_id}".encode()).digest()
    return int.from_bytes(digest[:8], "little")


@attrs.define
class RunContext:
    """One experiment's run: layout, resolved config and manifest."""

    layout: RunLayout
    config: dict[str, Any] = attrs.field(metadata={"doc": "the resolved, frozen config"})
    jobs: int = 1
    executor_name: str | None = attrs.field(
        default=None, metadata={"doc": "--executor: overrides the config's executor.name"}
    )
    cluster_address: str | None = attrs.field(
        default=None,
        metadata={"doc": "the run's own Dask LocalCluster, for a dask executor with no address"},
    )

    @property
    def seed(self) -> int:
        return int(self.config["seed"])

    @property
    def executor(self) -> ExecutorConfig:
        """The config's ``executor`` section, with ``--executor`` applied (and the run's
        own cluster as the address of a dask executor that names none)."""
        raw = dict(self.config.get("executor") or {})
        if self.executor_name:
            raw["name"] = self.executor_name
        config = structure_section(ExecutorConfig, raw, "executor", "the run's config")
        if config.name == "dask" and not config.address and self.cluster_address:
            return attrs.evolve(config, address=self.cluster_address)
        return config

    @property
    def manifest(self) -> ManifestStore:
        return ManifestStore(self.layout)

    @property
    def strict(self) -> bool:
        """Discipline findings fail the stage (the default; ``"strict": false`` opts out)."""
        return bool(self.config.get("strict", True))

    @property
    def legacy_roots(self) -> tuple[Path, ...]:
        """The legacy roots the config names (relative ones are relative to the cwd)."""
        return tuple(Path(r) for r in self.config.get("legacy", {}).get("roots", []))


@attrs.frozen
class Provenance:
    """Who wrote an artifact: the stage (its key) and the code version (git sha)."""

    source_stage: str
    git_sha: str

    def as_fields(self) -> dict[str, str]:
        """``{"source_stage": ..., "git_sha": ...}``, the meta fields every artifact has.

        Examples
        --------
        >>> Provenance("06_build_bulk_eigenmodes_dataset", "abc1234").as_fields()["git_sha"]
        'abc1234'
        """
        return {"source_stage": self.source_stage, "git_sha": self.git_sha}


@attrs.define
class StageContext:
    """What a stage's ``run(ctx, inputs)`` works with."""

    run: RunContext
    stage_id: str
    stage_key: str
    workdir: Path = attrs.field(metadata={"doc": "where this stage's files are written"})
    params: Any
    progress: Progress | None = None
    warnings: list[str] = attrs.field(factory=list)
    errors: list[str] = attrs.field(factory=list)
    notes: list[str] = attrs.field(factory=list)
    systems: dict[str, tuple[str, str | None]] = attrs.field(factory=dict)
    metrics: dict[str, float] = attrs.field(factory=dict)
    checks: list[MetricCheck] = attrs.field(factory=list)
    outputs: list[tuple[str, Path, str]] = attrs.field(factory=list)
    validated_outputs: dict[str, tuple[str, int]] = attrs.field(
        factory=dict,
        metadata={
            "doc": "absolute path -> (sha256, size) of each output validated in memory and "
            "hashed as it was written: trusted, never read back"
        },
    )
    #: ``validated_outputs`` by the output paths as ``write`` registered them.
    _recorded: dict[Path, tuple[str, int]] = attrs.field(factory=dict, repr=False)
    rows: int = 0
    incomplete_reason: str | None = None
    lost: list[str] = attrs.field(
        factory=list, metadata={"doc": "systems whose worker or job died (see ItemResult.lost)"}
    )
    storage_refusal: OSError | None = attrs.field(
        default=None, metadata={"doc": "a write the storage refused (the stage is not published)"}
    )
    log: logging.Logger = attrs.field(factory=lambda: logging.getLogger("holopipe.stage"))
    #: The aliases the stage declares in OUTPUTS; ``ctx.write`` refuses any other (empty:
    #: a context built outside the runner, nothing checked).
    declared_outputs: tuple[str, ...] = ()

    @property
    def seed(self) -> int:
        return self.run.seed

    @property
    def provenance(self) -> Provenance:
        """What this stage stamps on its artifacts (``**ctx.provenance.as_fields()``)."""
        return Provenance(source_stage=self.stage_key, git_sha=code_version().git_sha)

    def rng(self, system_id: str) -> np.random.Generator:
        """The random stream of one system in this stage (see :func:`system_seed`)."""
        import numpy as np

        return np.random.default_rng(system_seed(self.seed, self.stage_id, system_id))

    def write(self, alias: str, artifact: Artifact, filename: str) -> Path:
        """Write ``artifact`` as ``<alias>/<filename>`` in the stage dir and register it."""
        if self.declared_outputs and alias not in self.declared_outputs:
            raise ValueError(
                f"ctx.write({alias!r}, ...): {alias!r} is not a declared output of "
                f"{self.stage_key} (its OUTPUTS: {', '.join(self.declared_outputs)})"
            )
        path = self.workdir.joinpath(alias, filename)
        try:
            with recorded_writes() as written:
                artifact.write(path)
        except OSError as exc:
            if disk_refusal(exc) is not None:
                self.storage_refusal = exc
            raise
        validated = type(artifact).write is Artifact.write  # validated before it was written
        if validated:
            self.validated_outputs.update(written)
        for part in type(artifact).files(path):
            # A sidecar of its own type (e.g. contracts_summary.json) is recorded under the
            # schema it declares; a member of this artifact (an arrays NPZ) under this one's.
            own = part is path or part == path or type(artifact).primary_of(part) == path
            cls = type(artifact) if own else (detect_type(part) or type(artifact))
            self.outputs.append((alias, part, cls.SCHEMA_NAME))
            if validated and (recorded := written.get(recorded_key(part))) is not None:
                self._recorded[part] = recorded
        return path

    def recorded_output(self, path: Path) -> tuple[str, int] | None:
        """``(sha256, size)`` of an output validated in memory and hashed as written, or
        ``None`` (then it is read back, validated and hashed)."""
        found = self._recorded.get(path)  # an output as registered: no abspath (getcwd)
        return found if found is not None else self.validated_outputs.get(os.path.abspath(path))

    def map(
        self, fn: Callable[[Any], Any], items: Iterable[Any], key: Callable[[Any], str]
    ) -> list[ItemResult]:
        """Apply ``fn`` to each item with the run's executor; results sorted by ``key``.

        A failing item is recorded (status ERROR with its message, traceback in the stage's
        stderr log) and does not stop the others.
        """
        keyed = sorted(((key(item), item) for item in items), key=lambda pair: pair[0])
        executor = (
            make_executor(
                self.run.executor,
                self.run.jobs,
                self.run.layout.executor_dir / self.stage_key,
            )
            if len(keyed) > 1
            else SerialExecutor()
        )
        total = len(keyed)
        on_done = (lambda done: self.progress.update(done, total)) if self.progress else None
        results = executor.map(fn, keyed, on_done)
        for result in results:
            if result.ok:
                self.systems.setdefault(result.key, ("OK", None))
            else:
                self.systems[result.key] = ("ERROR", result.error)
                if result.lost:
                    self.lost.append(result.key)
                self.log.error(
                    "system %s failed: %s\n%s", result.key, result.error, result.traceback
                )
        return results

    def check(
        self,
        name: str,
        value: float | None,
        tolerance: float,
        passed: bool,
        expected_failure: bool = False,
        group: str = "",
    ) -> bool:
        """Record a metric the status depends on, with its tolerance and outcome.

        The value also goes into ``metrics``; returns ``passed``. ``expected_failure`` marks
        a failure that is a physics result rather than a problem; ``group`` (e.g. the family)
        groups failures in the terminal's closing lines.
        """
        number = None if value is None or not math.isfinite(value) else float(value)
        if number is not None:
            self.metrics[name] = number
        self.checks.append(
            MetricCheck(
                name,
                number,
                float(tolerance),
                bool(passed),
                bool(expected_failure and not passed),
                group,
            )
        )
        return bool(passed)

    def note(self, message: str) -> None:
        """Record a finding that does not change the status: a result, not a problem."""
        self.log.info(message)
        self.notes.append(message)

    def warn(self, message: str) -> None:
        self.log.warning(message)
        self.warnings.append(message)

    def error(self, message: str) -> None:
        self.log.error(message)
        self.errors.append(message)

    def mark_system(self, system_id: str, status: str, error: str | None = None) -> None:
        self.systems[system_id] = (status, error)

    def incomplete(self, reason: str) -> None:
        """Declare the stage INCOMPLETE (e.g. zero checks evaluated): downstream must not run."""
        self.incomplete_reason = reason
        self.errors.append(reason)
