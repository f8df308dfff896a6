"""How ``holopipe run``'s bookkeeping grows with the number of systems (issue 11, item 4).

    python benchmarks/bench_scale.py [--systems 1000,10000] [--stages 9] [--noop-runs 3]
                                     [--systems-per-file 1] [--no-change] [--disk fresh]

The chain of trivial test stages (``holopipe.testing``: each stage reads every system of
the previous one and writes its own) at each size, as whole ``holopipe run`` commands in a
fresh temporary directory:

- full run (every stage runs),
- no-op rerun (nothing changed: every stage is skipped; median of ``--noop-runs``),
- one parameter changed (``stages.05.offset``: stages 5 to the last rerun; left out with
  ``--no-change``, the longest figure at 100 000 systems),
- manifest bytes (the index ``run_manifest.json`` and the stage records ``run_manifest.d/``),
- peak memory: the largest single process of the full run (the orchestrator or one of
  its forked stage processes), and the orchestrator's own (``orch_mib``).

Python's bytecode is cached first (``--bytecode cached``, the default): an untimed run of
the chain on 2 systems writes it into this benchmark's cache (``PYTHONPYCACHEPREFIX``), and
every timed command reads it, as an installed holopipe reads its ``__pycache__``. Until
session 13 a machine with ``PYTHONDONTWRITEBYTECODE=1`` compiled holopipe's modules at
every command: 0.717 s against 0.567 s for the 10 000-system no-op there.

Each time is given as wall seconds and as CPU seconds (user + system of the command and
every process it started): on a shared machine the wall time measures the neighbours too.

Each size runs on its own disk (``--disk``, :mod:`disks`): by default, as root, a new ext4
filesystem. Until session 12 the sizes ran one after the other in the temporary directory,
each removed before the next was made: on this machine's ext4 the 10 000-system full run
took 63.2 s right after the 1 000-system one was removed, 24.4 s on a new filesystem.

Then the growth between successive sizes: the exponent ``log(t2/t1) / log(n2/n1)`` (1 is
linear) and the cost per system. ``--systems-per-file K`` writes K systems into each file
(the many-systems-per-file alternative of issue 11, item 3) instead of one file each.
The figures belong in the issue's note, not in tests.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from disks import Disk, add_disk_options, choose_disk  # noqa: E402

#: Runs a command, then prints the peak RSS (KiB) of its largest process and the CPU
#: seconds of all its processes as the last line.
PEAK_WRAPPER = (
    "import resource, subprocess, sys; "
    "code = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL); "
    "u = resource.getrusage(resource.RUSAGE_CHILDREN); "
    "print(u.ru_maxrss, u.ru_utime + u.ru_stime, file=sys.stderr); "
    "sys.exit(code)"
)
#: The same for ``holopipe ARGS`` run in the wrapper's own process: the last line holds the
#: orchestrator's own peak RSS (KiB) and its stage processes' largest, then the CPU seconds.
ORCHESTRATOR_WRAPPER = (
    "import atexit, resource, sys; "
    "r = resource.getrusage; "
    "atexit.register(lambda: print(r(resource.RUSAGE_SELF).ru_maxrss, "
    "r(resource.RUSAGE_CHILDREN).ru_maxrss, "
    "sum(r(w).ru_utime + r(w).ru_stime for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)), "
    "file=sys.stderr)); "
    "sys.stdout = open('/dev/null', 'w'); "
    "from holopipe.cli import main; sys.argv = ['holopipe', *sys.argv[1:]]; main()"
)
#: The environment of every timed command (CI=1: no progress lines). With ``--bytecode
#: cached`` (:func:`cache_bytecode`) Python's bytecode is read from this benchmark's cache.
ENV = dict(os.environ, CI="1")
FIGURES = (
    "full_s",
    "full_cpu_s",
    "noop_s",
    "noop_cpu_s",
    "change_s",
    "change_cpu_s",
    "manifest_mb",
    "peak_mib",
    "orch_mib",
)


def _config(path: Path, stages: int, systems: int, per_file: int) -> Path:
    chain = {f"{i:02d}": {"systems_per_file": per_file} for i in range(1, stages + 1)}
    chain["01"]["n_systems"] = systems
    config = {
        "seed": 1,
        "pipeline": [f"holopipe.testing:Chain{i:02d}" for i in range(1, stages + 1)],
        "stages": chain,
        "executor": {"name": "serial"},
    }
    path.write_text(json.dumps(config))
    return path


def add_bytecode_option(parser: argparse.ArgumentParser) -> None:
    """``--bytecode`` (this benchmark's :func:`cache_bytecode`, bench_peers' warm-ups)."""
    parser.add_argument(
        "--bytecode",
        choices=("cached", "as-is"),
        default="cached",
        help="cached: every tool's bytecode written by an untimed warm-up and read by the "
        "timed commands, as an installed program reads its __pycache__; as-is: the "
        "environment's own setting",
    )


def cache_bytecode(cache: Path, disk: Disk, write_config: Callable[[Path], Path]) -> None:
    """Have every timed command read its bytecode from ``cache``, written by an untimed
    ``holopipe run`` (and its no-op) of the config ``write_config(path)`` writes, in a
    folder of ``disk``. A checkout run with ``PYTHONDONTWRITEBYTECODE=1`` (as this machine
    sets it) compiles holopipe's modules at every command: 0.15 s of the 10 000-system
    no-op here (0.717 against 0.567 s), which no installed holopipe pays."""
    ENV.pop("PYTHONDONTWRITEBYTECODE", None)
    ENV["PYTHONPYCACHEPREFIX"] = str(cache)
    cwd = disk.folder("warm-up")
    try:
        config = write_config(cwd / "config.json")
        for args in (["--config", str(config)], []):
            run = [sys.executable, "-m", "holopipe", "run", "-e", "warm-up", *args]
            done = subprocess.run(run, cwd=cwd, env=ENV, capture_output=True, text=True)
            if done.returncode not in (0, 1):
                raise RuntimeError(f"the warm-up failed (exit {done.returncode}):\n{done.stderr}")
    finally:
        disk.release(cwd)


@contextlib.contextmanager
def benchmark_disk(
    args: argparse.Namespace, prefix: str, systems: int, warm_up_config: Callable[[Path], Path]
) -> Iterator[Disk | None]:
    """The disk ``args.disk`` asks for below a new temporary folder (``None`` when it cannot
    be made), the bytecode cached first (:func:`cache_bytecode`, with ``warm_up_config``)
    when ``args.bytecode`` says so; what the disk was is printed at the end."""
    with tempfile.TemporaryDirectory(prefix=prefix) as scratch:
        disk = choose_disk(args.disk, Path(scratch), args.settle, systems)
        if disk is not None and args.bytecode == "cached":
            cache_bytecode(Path(scratch) / "pycache", disk, warm_up_config)
        yield disk
        if disk is not None:
            print(disk.describe())


def _run_measured(wrapper: str, args: list[str], cwd: Path) -> tuple[float, list[str]]:
    """Wall seconds of ``wrapper ARGS`` and the figures it prints as its last stderr line."""
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", wrapper, *args],
        cwd=cwd,
        env=ENV,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - t0
    if done.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(args)} failed (exit {done.returncode}):\n{done.stderr}")
    return wall, done.stderr.strip().splitlines()[-1].split()


def _timed(cmd: list[str], cwd: Path) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak RSS (MiB) of the largest process of ``cmd``."""
    wall, (peak_kib, cpu) = _run_measured(PEAK_WRAPPER, cmd, cwd)
    return wall, float(cpu), int(peak_kib) / 1024


def _timed_orchestrator(args: list[str], cwd: Path) -> tuple[float, float, float, float]:
    """Wall and CPU seconds of ``holopipe ARGS``, the orchestrator's own peak RSS and its
    largest stage process's (MiB)."""
    wall, (own, children, cpu) = _run_measured(ORCHESTRATOR_WRAPPER, args, cwd)
    return wall, float(cpu), int(own) / 1024, int(children) / 1024


def _manifest_bytes(root: Path) -> int:
    records = root / "run_manifest.d"
    found = [root / "run_manifest.json", *(records.iterdir() if records.is_dir() else ())]
    return sum(p.stat().st_size for p in found if p.is_file())


def measure(
    systems: int, stages: int, noop_runs: int, per_file: int, disk: Disk, change: bool = True
) -> dict[str, float]:
    """The figures of one size, in a new folder of ``disk`` (``change``: with the
    one-parameter-change rerun, else its figures are 0)."""
    cwd = disk.folder(f"scale-{systems}")
    try:
        config = _config(cwd / "config.json", stages, systems, per_file)
        run = [sys.executable, "-m", "holopipe", "run", "-e", "scale"]
        args = ["run", "-e", "scale", "--config", str(config)]
        disk.settle()
        full, full_cpu, orchestrator, stage_peak = _timed_orchestrator(args, cwd)
        noops = [_timed(run, cwd) for _ in range(noop_runs)]
        change_args = ["--set", f"stages.{min(5, stages):02d}.offset=1.0", "--force"]
        changed, changed_cpu = 0.0, 0.0
        if change:
            disk.settle()
            changed, changed_cpu, _ = _timed([*run, *change_args], cwd)
            disk.removed()
        return {
            "full_s": full,
            "full_cpu_s": full_cpu,
            "noop_s": statistics.median(t[0] for t in noops),
            "noop_cpu_s": statistics.median(t[1] for t in noops),
            "change_s": changed,
            "change_cpu_s": changed_cpu,
            "manifest_mb": _manifest_bytes(cwd / "runs" / "scale") / 1e6,
            "peak_mib": max(orchestrator, stage_peak),
            "orch_mib": orchestrator,
        }
    finally:
        disk.release(cwd)


def growth(sizes: list[int], rows: list[dict[str, float]]) -> list[str]:
    """One line per figure: the exponent between successive sizes and the cost per system."""
    lines = []
    for name in FIGURES:
        steps = []
        for (n1, r1), (n2, r2) in itertools.pairwise(zip(sizes, rows, strict=True)):
            if r1[name] > 0 and r2[name] > 0:
                exponent = math.log(r2[name] / r1[name]) / math.log(n2 / n1)
                steps.append(f"{n1}->{n2}: n^{exponent:.2f}")
        per_system = rows[-1][name] / sizes[-1]
        unit = "us" if name.endswith("_s") else ("B" if name == "manifest_mb" else "KiB")
        scale = {"us": 1e6, "B": 1e6, "KiB": 1024}[unit]
        lines.append(
            f"{name:<12} {', '.join(steps) or '-':<40} {per_system * scale:10.1f} {unit}/system"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--systems", default="1000,10000", help="comma-separated sizes")
    parser.add_argument("--stages", type=int, default=9, choices=range(1, 10), metavar="1..9")
    parser.add_argument("--noop-runs", type=int, default=3)
    parser.add_argument("--systems-per-file", type=int, default=1)
    parser.add_argument(
        "--no-change", action="store_true", help="leave out the one-parameter-change rerun"
    )
    add_disk_options(parser)
    add_bytecode_option(parser)
    args = parser.parse_args(argv)
    sizes = sorted(int(n) for n in args.systems.split(","))

    def two_systems(path: Path) -> Path:
        return _config(path, args.stages, 2, args.systems_per_file)

    with benchmark_disk(args, "bench-scale-", max(sizes), two_systems) as disk:
        return 2 if disk is None else _measure_sizes(args, sizes, disk)


def _measure_sizes(args: argparse.Namespace, sizes: list[int], disk: Disk) -> int:
    print(
        f"{args.stages} trivial stages, {args.systems_per_file} system(s) per file; "
        "whole holopipe run commands"
    )
    print(f"{'systems':>8} " + " ".join(f"{name:>12}" for name in FIGURES), flush=True)
    rows = []
    for n in sizes:
        per_file, change = args.systems_per_file, not args.no_change
        row = measure(n, args.stages, args.noop_runs, per_file, disk, change)
        rows.append(row)
        print(f"{n:>8} " + " ".join(f"{row[name]:>12.3f}" for name in FIGURES), flush=True)
    if len(rows) > 1:
        print("growth (exponent between sizes; cost per system at the largest):")
        for line in growth(sizes, rows):
            print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
