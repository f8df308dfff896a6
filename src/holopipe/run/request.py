"""What one ``holopipe run`` / ``stage`` / ``run --dry-run`` command asks for, as one value.

The CLI builds a :class:`RunRequest` from its options and hands it to
:func:`holopipe.pipeline.run_pipeline`, :func:`~holopipe.pipeline.plan_run` or
:func:`~holopipe.pipeline.run_stage`; the library takes it as it is, so the three entry
points share one list of options (and one place that checks them).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import attrs

__all__ = ["RunRequest"]


def _paths(inputs: Mapping[str, str | Path] | None) -> dict[str, Path]:
    return {str(alias): Path(path) for alias, path in (inputs or {}).items()}


def _strings(items: Iterable[str] | None) -> tuple[str, ...]:
    return tuple(items or ())


@attrs.frozen
class RunRequest:
    """The options of one run command: which run, which config, which stages, how to run.

    Parameters
    ----------
    runs_dir, experiment
        The run lives in ``runs_dir/experiment/``.
    config_path, overrides, seed
        ``--config``, ``--set KEY=VALUE`` (repeatable) and ``--seed``: checked against the
        run's frozen config (a change needs ``force``).
    first, last
        ``--from`` / ``--to``: the range of stage ids (``None``: from the first, to the last).
    force
        Accept a changed config (the affected stages rerun).
    jobs
        Worker processes per stage (0: one per CPU).
    cli_inputs
        ``--input ALIAS=PATH``: explicit inputs instead of the run's own aliases.
    executor
        ``--executor``: serial, processes, dask, slurm (``None``: the config's, else processes).

    Examples
    --------
    >>> request = RunRequest(Path("runs"), "toy", overrides=["seed=3"], jobs=2)
    >>> request.overrides, request.jobs, request.cli_inputs
    (('seed=3',), 2, {})
    >>> RunRequest(Path("runs"), "toy", jobs=-1)
    Traceback (most recent call last):
    ...
    ValueError: 'jobs' must be >= 0: -1
    """

    runs_dir: Path = attrs.field(converter=Path)
    experiment: str = attrs.field(validator=attrs.validators.instance_of(str))
    config_path: Path | None = attrs.field(default=None, converter=attrs.converters.optional(Path))
    overrides: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    seed: int | None = attrs.field(
        default=None, validator=attrs.validators.optional(attrs.validators.instance_of(int))
    )
    first: str | None = None
    last: str | None = None
    force: bool = False
    jobs: int = attrs.field(default=1, validator=attrs.validators.ge(0))
    cli_inputs: dict[str, Path] = attrs.field(factory=dict, converter=_paths)
    executor: str | None = None
