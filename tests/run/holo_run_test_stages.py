"""Stages used only by the tests in ``tests/run``.

Referenced from configs as ``holo_run_test_stages:<Class>``. In-process runs import this
module through pytest's ``sys.path``; forked stage processes inherit it; CLI subprocesses
get ``tests/run`` on ``PYTHONPATH`` (see ``conftest.cli``).
"""

from __future__ import annotations

import gc
import os
import shutil
import subprocess
import sys
import time
import weakref
from pathlib import Path
from typing import ClassVar

import attrs

from holopipe.artifacts.equations import BulkEquations, CurvatureModelComparison, SystemEquations
from holopipe.stages.base import InputSpec, OutputSpec, Stage


def equations(system_id: str, r_mean: float, notes: list[str] | None = None) -> BulkEquations:
    comparison = CurvatureModelComparison(-10.0, -9.0, -8.0, -7.0, "constant")
    system = SystemEquations(
        system_id,
        "ads",
        3,
        10,
        r_mean,
        0.0,
        0.0,
        comparison,
        "einstein",
        equations=list(notes or []),
    )
    return BulkEquations(source_stage="tests", git_sha="test", systems=[system])


def _ids(n: int) -> list[str]:
    return [f"sys_d3_{i:04d}" for i in range(n)]


@attrs.define
class SourceParams:
    n_systems: int = 2


class _Source(Stage):
    """A stage 01 producing ``chain_01`` like ``holopipe.testing:Chain01``, plus a side effect."""

    ID, SLUG = "01", "test_source"
    OUTPUTS = (OutputSpec("chain_01", "BulkEquations"),)
    Params = SourceParams

    def side_effect(self, ctx) -> None:
        pass

    def run(self, ctx, inputs) -> None:
        self.side_effect(ctx)
        for sid in _ids(ctx.params.n_systems):
            ctx.write("chain_01", equations(sid, -12.0), f"{sid}.json")
            ctx.rows += 1


class FdEcho(_Source):
    """Writes to fds 1 and 2 directly, from a subprocess and with print."""

    SLUG = "fd_echo"

    def side_effect(self, ctx) -> None:
        os.write(1, b"fd1-direct-write\n")
        subprocess.run(["echo", "from-child-process"], check=True)
        subprocess.run(["sh", "-c", "echo child-stderr-line >&2"], check=True)
        os.write(2, b"fd2-direct-write\n")
        print("python-print-line")
        print("python-stderr-line", file=sys.stderr)


class CwdWriter(_Source):
    """Writes a file into the current directory: outside the run."""

    SLUG = "cwd_writer"

    def side_effect(self, ctx) -> None:
        Path("stray_outside.txt").write_text("written outside the run\n")


class StrayFile(_Source):
    """Leaves an undeclared file in its own stage dir."""

    SLUG = "stray_file"

    def side_effect(self, ctx) -> None:
        (ctx.workdir / "scratch.tmp").write_text("not a declared output\n")


class ExitsEarly(_Source):
    """Calls ``sys.exit(0)`` in the middle of its work: it never completes."""

    SLUG = "exits_early"

    def side_effect(self, ctx) -> None:
        sys.exit(0)


class Crasher(Stage):
    """Stage 02 with Chain02's interface that raises."""

    ID, SLUG = "02", "crasher"
    INPUTS = (InputSpec("chain_01", "BulkEquations"),)
    OUTPUTS = (OutputSpec("chain_02", "BulkEquations"),)

    def run(self, ctx, inputs) -> None:
        raise ValueError("boom-in-stage")


class SameInterface02(Stage):
    """A replacement for Chain02 (same inputs/outputs) that adds 100."""

    ID, SLUG = "02", "replacement_step"
    INPUTS = (InputSpec("chain_01", "BulkEquations"),)
    OUTPUTS = (OutputSpec("chain_02", "BulkEquations"),)

    def run(self, ctx, inputs) -> None:
        for art in inputs["chain_01"]:
            s = art.systems[0]
            ctx.write("chain_02", equations(s.system_id, s.R_mean + 100.0), f"{s.system_id}.json")


class WrongInterface02(Stage):
    """Claims id 02 but reads a different alias."""

    ID, SLUG = "02", "wrong_step"
    INPUTS = (InputSpec("bulk_equations", "BulkEquations"),)
    OUTPUTS = (OutputSpec("chain_02", "BulkEquations"),)

    def run(self, ctx, inputs) -> None:  # pragma: no cover - never runs
        raise AssertionError


class BulkProducer(Stage):
    """Stage 01 producing the canonical alias ``bulk_equations`` (one system, R = -12)."""

    ID, SLUG = "01", "bulk_producer"
    OUTPUTS = (OutputSpec("bulk_equations", "BulkEquations"),)

    def run(self, ctx, inputs) -> None:
        ctx.write("bulk_equations", equations("sys_d3_0000", -12.0), "sys_d3_0000.json")


class BulkConsumer(Stage):
    """Stage 02 reading ``bulk_equations`` (a legacy-resolvable alias); adds 1 to R_mean."""

    ID, SLUG = "02", "bulk_consumer"
    INPUTS = (InputSpec("bulk_equations", "BulkEquations"),)
    OUTPUTS = (OutputSpec("chain_02", "BulkEquations"),)

    def run(self, ctx, inputs) -> None:
        for art in inputs["bulk_equations"]:
            s = art.systems[0]
            ctx.write("chain_02", equations(s.system_id, s.R_mean + 1.0), f"{s.system_id}.json")


class MapOrder(Stage):
    """Maps over shuffled items and records the order and values ``ctx.map`` returned.

    The single output's ``equations`` list holds ``key=value`` in the order received; the
    value is the item upper-cased (so a mispaired result shows) and the worker's pid is
    recorded in ``ctx.metrics`` (to see that ``--jobs 2`` used other processes).
    """

    ID, SLUG = "01", "map_order"
    OUTPUTS = (OutputSpec("chain_01", "BulkEquations"),)

    @attrs.define
    class Params:
        n_items: int = 12
        sleep_s: float = 0.0

    def run(self, ctx, inputs) -> None:
        items = [f"item_{i:03d}" for i in range(ctx.params.n_items)]
        shuffled = items[1::2][::-1] + items[0::2]  # deterministic, not sorted

        def work(item: str) -> tuple[str, int]:
            time.sleep(ctx.params.sleep_s)
            return item.upper(), os.getpid()

        results = ctx.map(work, shuffled, key=lambda item: item)
        notes = [f"{r.key}={r.value[0]}" for r in results]
        for pid in {r.value[1] for r in results}:
            ctx.metrics[f"pid_{pid}"] = 1.0
        ctx.write("chain_01", equations("sys_d3_0000", -12.0, notes), "sys_d3_0000.json")


@attrs.define
class SleepyParams:
    n_systems: int = 3
    sleep_s: float = 0.0


class _Sleepy(Stage):
    """A chain stage that sleeps a little per system (for kill and lock tests)."""

    Params = SleepyParams
    ALIAS: ClassVar[str]

    def run(self, ctx, inputs) -> None:
        if self.INPUTS:
            previous = {
                a.systems[0].system_id: a.systems[0].R_mean for a in inputs[self.INPUTS[0].alias]
            }
        else:
            previous = {sid: -12.0 for sid in _ids(ctx.params.n_systems)}

        def work(sid: str) -> BulkEquations:
            time.sleep(ctx.params.sleep_s)
            return equations(sid, previous[sid] + 1.0)

        for result in ctx.map(work, sorted(previous), key=str):
            ctx.write(self.ALIAS, result.value, f"{result.key}.json")
            ctx.rows += 1


def _make_sleepy(n: int) -> list[type[Stage]]:
    made = []
    for i in range(1, n + 1):
        alias = f"sleepy_{i:02d}"
        made.append(
            type(
                f"Sleepy{i:02d}",
                (_Sleepy,),
                {
                    "ID": f"{i:02d}",
                    "SLUG": "sleepy",
                    "ALIAS": alias,
                    "INPUTS": ()
                    if i == 1
                    else (InputSpec(f"sleepy_{i - 1:02d}", "BulkEquations"),),
                    "OUTPUTS": (OutputSpec(alias, "BulkEquations"),),
                    "__module__": __name__,
                },
            )
        )
    return made


SLEEPY = _make_sleepy(5)
globals().update({cls.__name__: cls for cls in SLEEPY})


class ProducesNothing(_Source):
    """Declares chain_01 and writes nothing: the minimum is missing (INCOMPLETE)."""

    SLUG = "produces_nothing"

    def run(self, ctx, inputs) -> None:
        pass


class WritesUndeclaredAlias(_Source):
    """Writes to an alias it does not declare: refused (a stage bug, ERROR)."""

    SLUG = "writes_undeclared"

    def side_effect(self, ctx) -> None:
        ctx.write("elsewhere", equations("sys_d3_0000", -12.0), "x.json")


@attrs.define
class LeakParams:
    n_systems: int = 2
    path: str = "outputs/leak.txt"
    how: str = "write"
    source: str = ""


class Leaks(_Source):
    """Writes outside its folder at ``path`` (relative to the cwd, or absolute): a new file
    (``write``), a copy keeping an old file's mtime (``copy``), a symbolic link
    (``symlink``) or an empty folder (``folder``)."""

    SLUG = "leaks"
    Params = LeakParams

    def side_effect(self, ctx) -> None:
        target = Path(ctx.params.path)
        target.parent.mkdir(parents=True, exist_ok=True)
        if ctx.params.how == "write":
            target.write_text("written outside the run\n")
        elif ctx.params.how == "copy":
            shutil.copy2(ctx.params.source, target)
        elif ctx.params.how == "symlink":
            target.symlink_to("somewhere")
        else:
            target.mkdir()


class WritesCaches(_Source):
    """Writes where caches go: a ``__pycache__`` and a ``.hypothesis`` folder in the cwd and
    the config's ``caches`` folder ``my_cache``: none of it is a write outside the run."""

    SLUG = "writes_caches"

    def side_effect(self, ctx) -> None:
        for path in ("__pycache__/mod.cpython-312.pyc", ".hypothesis/db", "my_cache/c.bin"):
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_bytes(b"cache")


class _Node:
    """One end of a reference cycle (only the cyclic collector frees such garbage)."""

    def __init__(self) -> None:
        self.other: _Node | None = None


class GcProbe(Stage):
    """Records what the stage process's garbage collector does with what it inherited and
    with what the stage makes: ``frozen`` (objects frozen, never traversed) and
    ``cycle_freed`` (1.0 when a reference cycle the stage dropped was collected)."""

    ID, SLUG = "01", "gc_probe"
    OUTPUTS = (OutputSpec("chain_01", "BulkEquations"),)

    def run(self, ctx, inputs) -> None:
        a, b = _Node(), _Node()
        a.other, b.other = b, a
        alive = weakref.ref(a)
        del a, b
        gc.collect()
        ctx.metrics["frozen"] = float(gc.get_freeze_count())
        ctx.metrics["cycle_freed"] = float(alive() is None)
        ctx.write("chain_01", equations("sys_d3_0000", -12.0), "sys_d3_0000.json")
