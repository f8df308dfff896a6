"""Executors behind ``ctx.map``: serial, local processes, a Dask cluster or a Slurm queue.

The executor is a setting, never a code change (config ``executor``, CLI ``--executor``).
Whatever the executor or the number of workers, results come back in the sorted order of
the item keys, and one item's failure is recorded in its result, never fatal to the others:
a lost worker or a killed job marks the items it held as failed, and the stage can be rerun.

- ``serial``: one item after another in the stage process.
- ``processes``: forked worker processes on this machine (the work function is inherited,
  not pickled; the fastest choice on one machine: :mod:`holopipe.run.fork_pool`).
- ``dask``: a ``dask.distributed`` client, on the running scheduler at
  ``executor.address``, or else on a ``LocalCluster`` the orchestrator starts for the run
  (:mod:`holopipe.run.dask_cluster`; a stage run on its own starts one for the stage).
- ``slurm``: one Slurm job array per stage through submitit; each array task runs one chunk
  of items. Needs a filesystem shared by the submitting machine and the nodes.

Cluster executors send the work function and the items by pickling (cloudpickle), so stage
code must not rely on fork inheritance; items travel in chunks of ``executor.chunk_size``
(0: a few chunks per worker), so a stage is a few tasks, not one task per system.
Third-party executors register a class under the entry-point group ``holopipe.executors``.

Examples
--------
>>> from holopipe.run.executors import ExecutorConfig, make_executor
>>> executor = make_executor(ExecutorConfig(name="serial"), jobs=1)
>>> [r.value for r in executor.map(lambda x: x * x, [("a", 2), ("b", 3)])]
[4, 9]
>>> chunked([("a", 1), ("b", 2), ("c", 3)], 2)
[[('a', 1), ('b', 2)], [('c', 3)]]
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import math
import os
import shutil
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar, Protocol

import attrs

from holopipe.run.fork_pool import Lost, Unsent, fork_map

log = logging.getLogger("holopipe.executors")

__all__ = [
    "DaskExecutor",
    "ExecutorConfig",
    "ItemResult",
    "ProcessExecutor",
    "SerialExecutor",
    "SlurmConfig",
    "SlurmExecutor",
    "available_executors",
    "chunked",
    "make_executor",
    "worker_count",
]

Keyed = Sequence[tuple[str, Any]]
OnDone = Callable[[int], None] | None


@attrs.frozen
class ItemResult:
    """Outcome of one item: its key, the value returned, or the error."""

    key: str
    value: Any = None
    error: str | None = None
    traceback: str | None = None
    lost: bool = attrs.field(
        default=False, metadata={"doc": "the worker or job died: rerunning may succeed"}
    )

    @property
    def ok(self) -> bool:
        return self.error is None


def _positive_or_none(instance: Any, attribute: attrs.Attribute, value: int | None) -> None:
    if value is not None and value < 1:
        raise ValueError(f"{attribute.name} must be at least 1 (got {value})")


@attrs.define
class SlurmConfig:
    """Resources of each Slurm array task (one chunk of items)."""

    partition: str | None = attrs.field(
        default=None, metadata={"doc": "Slurm partition [default: the cluster's default]"}
    )
    time_min: int = attrs.field(
        default=60, validator=attrs.validators.ge(1), metadata={"doc": "time limit per task"}
    )
    cpus_per_task: int = attrs.field(default=1, validator=attrs.validators.ge(1))
    mem_gb: float = attrs.field(default=2.0, validator=attrs.validators.gt(0))
    folder: str | None = attrs.field(
        default=None,
        metadata={
            "doc": "shared folder for job files [default: <run>/.executor/<stage>], "
            "removed after the stage"
        },
    )


def _known_executor(instance: Any, attribute: attrs.Attribute, value: str) -> None:
    # A built-in name is never a plugin's: no entry-point scan.
    cls = BUILTIN_EXECUTORS.get(value) or available_executors().get(value)
    if cls is None:
        known = available_executors()
        raise ValueError(f"unknown executor {value!r} (known: {', '.join(sorted(known))})")
    # Refused before anything runs, not as every stage's import error.
    missing = [name for name in getattr(cls, "REQUIRES", ()) if not _importable(name)]
    if missing:
        raise ValueError(
            f"executor {value!r} needs {', '.join(missing)}, not installed here "
            f'(pip install "holopipe[{value}]")'
        )


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


@attrs.define
class ExecutorConfig:
    """How ``ctx.map`` runs items: the ``executor`` section of a config.

    How, not what: artifacts are identical whatever the executor, so the section is not
    part of a stage's fingerprint and changing it never makes a stage rerun.
    """

    name: str = attrs.field(
        default="processes",
        validator=_known_executor,
        metadata={"doc": "serial | processes | dask | slurm (or a registered plugin)"},
    )
    workers: int | None = attrs.field(
        default=None,
        validator=_positive_or_none,
        metadata={"doc": "workers or array tasks [default: --jobs, 0 = one per CPU]"},
    )
    chunk_size: int = attrs.field(
        default=0,
        validator=attrs.validators.ge(0),
        metadata={"doc": "items per task for dask/slurm (0: about four chunks per worker)"},
    )
    address: str | None = attrs.field(
        default=None,
        metadata={"doc": "dask: a running scheduler [default: a LocalCluster for the run]"},
    )
    slurm: SlurmConfig = attrs.field(factory=SlurmConfig)


class Executor(Protocol):
    """What ``ctx.map`` needs of an executor."""

    def map(
        self, fn: Callable[[Any], Any], keyed: Keyed, on_done: OnDone = None
    ) -> list[ItemResult]:
        """Results of ``fn`` on each item, in the order of ``keyed``."""
        ...


def _call(fn: Callable[[Any], Any], key: str, item: Any) -> ItemResult:
    try:
        return ItemResult(key, fn(item))
    except Exception as exc:  # noqa: BLE001 - collected per item by design
        return ItemResult(
            key, error=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc()
        )


def run_chunk(fn: Callable[[Any], Any], chunk: Keyed) -> list[ItemResult]:
    """Run one chunk of items where a cluster task lands (module-level: picklable)."""
    return [_call(fn, key, item) for key, item in chunk]


def _run_pickled_chunk(payload: bytes) -> list[ItemResult]:
    """Unpickle a chunk that holopipe itself pickled for a worker, then run it."""
    import cloudpickle

    fn, chunk = cloudpickle.loads(payload)  # our own payload, never a file from disk
    return run_chunk(fn, chunk)


def chunked(keyed: Keyed, size: int) -> list[list[tuple[str, Any]]]:
    """``keyed`` cut into consecutive chunks of at most ``size`` items."""
    size = max(1, size)
    return [list(keyed[i : i + size]) for i in range(0, len(keyed), size)]


def _lost(chunk: Keyed, why: str) -> list[ItemResult]:
    """Every item of a chunk whose task never returned (worker or job lost)."""
    return [ItemResult(key, error=why, lost=True) for key, _ in chunk]


def _chunk_size(config: ExecutorConfig, n_items: int, workers: int, per_worker: int) -> int:
    if config.chunk_size:
        return config.chunk_size
    return max(1, math.ceil(n_items / (workers * per_worker)))


class SerialExecutor:
    """Runs items one after another in this process."""

    NAME: ClassVar[str] = "serial"
    jobs = 1

    def __init__(self, config: ExecutorConfig | None = None, jobs: int = 1):
        self.config = config or ExecutorConfig(name=self.NAME)

    def map(
        self, fn: Callable[[Any], Any], keyed: Keyed, on_done: OnDone = None
    ) -> list[ItemResult]:
        results = []
        for i, (key, item) in enumerate(keyed, 1):
            results.append(_call(fn, key, item))
            if on_done:
                on_done(i)
        return results


class ProcessExecutor:
    """Runs items in ``jobs`` forked worker processes on this machine
    (:func:`holopipe.run.fork_pool.fork_map`: the work is inherited, not pickled)."""

    NAME: ClassVar[str] = "processes"

    def __init__(self, config: ExecutorConfig | None = None, jobs: int = 1):
        self.config = config or ExecutorConfig(name=self.NAME)
        self.jobs = max(1, int(jobs))

    def map(
        self, fn: Callable[[Any], Any], keyed: Keyed, on_done: OnDone = None
    ) -> list[ItemResult]:
        def run_one(index: int) -> ItemResult:
            key, item = keyed[index]
            return _call(fn, key, item)

        outcomes = fork_map(run_one, len(keyed), self.jobs, on_done)
        return [
            ItemResult(key, error=outcome.why, lost=isinstance(outcome, Lost))
            if isinstance(outcome, Lost | Unsent)
            else outcome
            for (key, _), outcome in zip(keyed, outcomes, strict=True)
        ]


class DaskExecutor:
    """Chunks of items as tasks on a ``dask.distributed`` cluster.

    With an ``address`` (a running scheduler, or the run's own cluster:
    :mod:`holopipe.run.dask_cluster`) the stage connects to it; with none, a
    ``LocalCluster`` of ``jobs`` single-threaded worker processes is started for the stage
    and closed after it. A task whose worker dies is retried by the
    scheduler (``distributed.scheduler.allowed-failures``); when it still fails, its items
    are recorded as lost.
    """

    NAME: ClassVar[str] = "dask"
    #: What it imports (checked as the config is read; the extra ``holopipe[dask]``).
    REQUIRES: ClassVar[tuple[str, ...]] = ("distributed", "cloudpickle")

    def __init__(self, config: ExecutorConfig, jobs: int, folder: Path | None = None):
        self.config = config
        self.jobs = max(1, int(jobs))
        # The workers' scratch space lives in the run, not in the temp dir (no writes outside).
        self.folder = folder

    def _client(self) -> Any:
        from distributed import Client, LocalCluster

        if self.config.address:
            return Client(self.config.address, set_as_default=False)
        cluster = LocalCluster(
            n_workers=self.jobs,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            local_directory=os.fspath(self.folder) if self.folder else None,
            silence_logs=40,  # logging.ERROR: worker chatter is not the stage's output
        )
        return Client(cluster, set_as_default=False)

    def map(
        self, fn: Callable[[Any], Any], keyed: Keyed, on_done: OnDone = None
    ) -> list[ItemResult]:
        if not keyed:
            return []
        import cloudpickle
        from distributed import as_completed

        chunks = chunked(keyed, _chunk_size(self.config, len(keyed), self.jobs, 4))
        try:
            client = self._client()
        except OSError as exc:  # the scheduler is gone or unreachable: every item is lost
            log.error("dask: no scheduler: %s", _first_line(exc))
            return _lost(keyed, f"dask scheduler unreachable: {_first_line(exc)}")
        # Which cluster ran the stage, in its log (a LocalCluster for the run is one address).
        log.info(
            "dask: %d items in %d tasks on the scheduler at %s",
            len(keyed), len(chunks), client.scheduler.address,
        )  # fmt: skip
        try:
            # One cloudpickled payload per chunk: dask never looks inside the items, and
            # closures travel as well as module-level functions.
            futures = {
                client.submit(_run_pickled_chunk, cloudpickle.dumps((fn, chunk)), pure=False): i
                for i, chunk in enumerate(chunks)
            }
            by_chunk: dict[int, list[ItemResult]] = {}
            done = 0
            for future in as_completed(futures, loop=client.loop):
                i = futures[future]
                try:
                    by_chunk[i] = future.result()
                except Exception as exc:  # noqa: BLE001 - a lost worker fails its items only
                    by_chunk[i] = _lost(chunks[i], f"dask task lost: {type(exc).__name__}: {exc}")
                done += len(chunks[i])
                if on_done:
                    on_done(done)
        finally:
            cluster = client.cluster
            client.close()
            if cluster is not None and not self.config.address:
                cluster.close()
            _remove_job_folder(self.folder, configured=False)
        return [result for i in range(len(chunks)) for result in by_chunk[i]]


class SlurmExecutor:
    """Chunks of items as the tasks of one Slurm job array (submitit).

    The work function and items are pickled into ``slurm.folder`` (which must be on a
    filesystem the nodes share with this machine), each array task runs one chunk, and the
    results are read back from there. A task that fails, times out or is cancelled marks its
    items as lost. The folder is removed after the stage.
    """

    NAME: ClassVar[str] = "slurm"
    REQUIRES: ClassVar[tuple[str, ...]] = ("submitit", "cloudpickle")

    def __init__(self, config: ExecutorConfig, jobs: int, folder: Path | None = None):
        self.config = config
        self.jobs = max(1, int(jobs))
        self.folder = Path(config.slurm.folder) if config.slurm.folder else folder

    def map(
        self, fn: Callable[[Any], Any], keyed: Keyed, on_done: OnDone = None
    ) -> list[ItemResult]:
        if not keyed:
            return []
        import submitit

        if self.folder is None:
            raise ValueError("the slurm executor needs a shared folder (executor.slurm.folder)")
        chunks = chunked(keyed, _chunk_size(self.config, len(keyed), self.jobs, 1))
        slurm = self.config.slurm
        executor = submitit.SlurmExecutor(folder=self.folder / "%j", max_num_timeout=0)
        params: dict[str, Any] = {
            "time": slurm.time_min,
            "cpus_per_task": slurm.cpus_per_task,
            "mem": f"{int(slurm.mem_gb * 1024)}M",
            "array_parallelism": self.jobs,
            "job_name": "holopipe",
        }
        if slurm.partition:
            params["partition"] = slurm.partition
        executor.update_parameters(**params)
        try:
            jobs = executor.map_array(functools.partial(run_chunk, fn), chunks)
            results: list[ItemResult] = []
            done = 0
            for job, chunk in zip(jobs, chunks, strict=True):
                try:
                    results += job.result()
                except Exception as exc:  # noqa: BLE001 - a failed task fails its items only
                    results += _lost(chunk, f"slurm task {job.job_id} failed: {_first_line(exc)}")
                done += len(chunk)
                if on_done:
                    on_done(done)
            return results
        finally:
            _remove_job_folder(self.folder, configured=bool(self.config.slurm.folder))


def _remove_job_folder(folder: Path | None, configured: bool) -> None:
    """Remove a stage's job files, and the run's ``.executor/`` once it is empty."""
    if folder is None:
        return
    shutil.rmtree(folder, ignore_errors=True)
    if not configured:
        try:
            folder.parent.rmdir()
        except OSError:  # other stages' folders are still there, or it is gone already
            pass


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


BUILTIN_EXECUTORS: dict[str, type] = {
    cls.NAME: cls for cls in (SerialExecutor, ProcessExecutor, DaskExecutor, SlurmExecutor)
}


@functools.cache
def available_executors() -> dict[str, type]:
    """Executor classes by name: the built-in ones and the ``holopipe.executors`` plugins.

    Listed once and cached (like xarray's backends); a plugin that cannot be loaded is
    left out rather than breaking every run.
    """
    # Here, not at module level: importlib.metadata brings email and socket (~40 ms) into
    # every command, a no-op rerun included, for plugins only a few runs name.
    from importlib.metadata import entry_points

    found = dict(BUILTIN_EXECUTORS)
    for ep in entry_points(group="holopipe.executors"):
        try:
            found.setdefault(ep.name, ep.load())
        except Exception:  # noqa: BLE001, S112 - a broken plugin must not break the others
            continue
    return found


def worker_count(config: ExecutorConfig, jobs: int | None) -> int:
    """Workers for ``config``: its ``workers``, else ``jobs``, else one per CPU.

    Examples
    --------
    >>> worker_count(ExecutorConfig(workers=3), 2), worker_count(ExecutorConfig(), 2)
    (3, 2)
    """
    return config.workers or jobs or (os.cpu_count() or 1)


def make_executor(
    config: ExecutorConfig | None, jobs: int | None, folder: Path | None = None
) -> Executor:
    """The executor named by ``config`` with ``jobs`` workers (``None``/0: one per CPU).

    ``processes`` with one worker is the serial executor (no pool for one job). ``folder``
    is where a batch executor keeps its job files when the config names none.
    """
    config = config or ExecutorConfig()
    jobs = worker_count(config, jobs)
    if config.name == ProcessExecutor.NAME and jobs == 1:
        return SerialExecutor(config)
    cls = BUILTIN_EXECUTORS.get(config.name) or available_executors()[config.name]
    if cls in (DaskExecutor, SlurmExecutor):
        return cls(config, jobs, folder)
    return cls(config, jobs)
