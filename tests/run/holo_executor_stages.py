"""Stages for the executor tests: a source whose work can kill the worker running it."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import attrs
from holo_run_test_stages import equations

from holopipe.stages.base import OutputSpec, Stage


@attrs.define
class KillerParams:
    n_systems: int = 8
    kill_marker: str = attrs.field(
        default="", metadata={"doc": "while this file exists, system 3's worker kills itself"}
    )


class WorkerKiller(Stage):
    """Writes one BulkEquations per system; system 3 SIGKILLs its own worker process."""

    ID, SLUG = "01", "worker_killer"
    OUTPUTS = (OutputSpec("killed", "BulkEquations"),)
    Params = KillerParams

    def run(self, ctx, inputs) -> None:
        marker = ctx.params.kill_marker

        def work(index: int):
            if index == 3 and marker and Path(marker).exists():
                os.kill(os.getpid(), signal.SIGKILL)
            return equations(f"sys_d3_{index:04d}", -12.0 + index)

        for result in ctx.map(work, range(ctx.params.n_systems), key=lambda i: f"{i:04d}"):
            if result.ok:
                ctx.write("killed", result.value, f"sys_{result.key}.json")
