"""Stage 06 through its own code path: accuracy against Bessel zeros and time per system.

Run: ``python benchmarks/bench_stage06.py [--systems N]``

One *system* is one GeometryPrediction of pure AdS_{d+1} (A = -ln z, f = 1, 400 log-spaced points
on [1e-4, 1]: the end of the grid is the hard wall, as stage 06 reads it at T = 0) and the stage's
default params: every configured mass of its d, the Delta_+ branch and, where 0 < nu < 1, the
Delta_- branch, n_modes = 3, n_grid = 192. Exact values: M_n z_IR = j_{+-nu,n} (zeros of J_{+-nu},
brentq on scipy.special.jv) and Delta_+- = d/2 +- nu.

Printed:
1. per d: the stage's per-system work (``system_modes``: spline of the data, Delta from the UV
   falloff (both branches in one integration per mass), eigenvalues, rows), its worst relative
   error of M_n and of Delta, and its mean time, split into the eigenvalue part and the Delta
   (UV falloff) part;
2. the whole stage (``run_stage``: reading and validating inputs, ctx.map, writing and validating
   the dataset, summary) on N systems with ``--jobs 1`` and ``--jobs 2``: medians of
   ``--repeat`` rounds after a warm-up round, wall and CPU seconds (the stage process's and its
   workers'), and the ratio (the goal of issue 11: >= 1.8x at 200 systems, on 2 idle cores).

``--bound`` also measures what limits the ratio on this machine (:func:`parallel_bound`): the
``--jobs 1`` stage split into its input reading, its ``ctx.map`` and the rest (the part no
number of workers shortens), the per-system work run in the stage process (as ``--jobs 1``
runs it), by one forked process alone and by two at once (what a fork costs the work itself:
copy-on-write page faults; the machine's own parallel efficiency: shared caches, memory
bandwidth, a hypervisor's cores), the page faults a fork brings and what a first write to a
page costs after one, and what a forked worker costs by itself (the fork in the parent, the
exit), and where the workers' CPU goes at ``--jobs 2`` (the per-system calls against the same
calls in the stage process at ``--jobs 1``, the pickling of their results, the rest); from them
the largest ratio ``--jobs 2`` could reach with no cost of parallelism at all.

Each round reruns the stage into the same experiment, so it also replaces (and removes) the
previous round's outputs; ``--fresh`` runs each round into a new experiment instead, as the
stage's first run in its run (the same stage code; only what the run around it does differs).

``--write-inputs DIR`` writes the N inputs and a stage-06 config only, to time the whole
command: ``holopipe stage 06 -e x --runs-dir DIR/runs --config DIR/stage06_config.json
--input predictions=DIR/predictions --jobs 2``.

The legacy solver took 2.4 ms per system and gave wrong values (negative Delta).
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import gc
import json
import mmap
import os
import pickle
import resource
import statistics
import struct
import tempfile
import time
import types
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

# The same analytic reference as the solver benchmark (this folder is on sys.path when run).
from bench_sturm_liouville import bessel_zeros

from holopipe.artifacts.identity import system_id
from holopipe.artifacts.prediction import GeometryMeta, GeometryPrediction
from holopipe.pipeline import RunRequest, run_stage
from holopipe.run import executors, fork_pool
from holopipe.run.context import StageContext
from holopipe.science import sturm_liouville, uv_falloff
from holopipe.stages.s06_eigenmodes import EigenmodesParams
from holopipe.stages.work import s06_eigenmodes
from holopipe.stages.work.s06_eigenmodes import system_block, system_modes

TARGET = 1e-6
LEGACY_MS_PER_SYSTEM = 2.4
REPEATS = 15
PAGE = resource.getpagesize()
STAGE = "holopipe.stages.s06_eigenmodes:BuildBulkEigenmodesDataset"
STAGE_FOLDER = "06_build_bulk_eigenmodes_dataset"


def pure_ads(d: int, tag: int = 0) -> GeometryPrediction:
    z = np.geomspace(1e-4, 1.0, 400)
    name = f"ads_d{d}_{tag:04d}"
    ident = {"family": "ads", "d": d, "z_h": None, "params": {}, "tag": tag}
    meta = GeometryMeta(
        system_id=system_id(ident, name=name),
        family="ads",
        d=d,
        z_h=None,
        source_stage="bench",
        git_sha="bench",
        system_name=name,
    )
    return GeometryPrediction(z=z, A=-np.log(z), f=np.ones_like(z), meta=meta)


def errors(rows, d: int) -> tuple[float, float]:
    """Worst relative error of M_n and absolute error of Delta over the rows of one system."""
    worst_mass, worst_delta = 0.0, 0.0
    for m2 in sorted({r.m2 for r in rows}):
        nu = np.sqrt(d * d / 4 + m2)
        for branch, sign in (("+", 1.0), ("-", -1.0)):
            found = sorted(
                (r for r in rows if r.m2 == m2 and r.branch == branch), key=lambda r: r.mode_id
            )
            if not found:
                continue
            assert all(r.quality == "ok" for r in found), [r.quality for r in found]
            exact = bessel_zeros(sign * nu, len(found)) / found[0].z_ir
            worst_mass = max(
                worst_mass, float(np.max(np.abs(np.sqrt([r.M2 for r in found]) / exact - 1)))
            )
            worst_delta = max(worst_delta, max(abs(r.Delta - (d / 2 + sign * nu)) for r in found))
    return worst_mass, worst_delta


def timed_parts(
    prediction: GeometryPrediction, params: EigenmodesParams
) -> tuple[float, float, float]:
    """Mean ms of one system_modes call, and of the part spent in the eigenvalue solver and in
    the UV-falloff Delta (same calls, so the parts add up to at most the total)."""
    spent = {"solve": 0.0, "delta": 0.0}
    totals = []

    def clocked(name, fn):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - start

        return wrapper

    # stage 06 imports the falloff where it calls it: patched in its science module
    originals = (s06_eigenmodes.solve_scalar_modes_on, uv_falloff.deltas_from_uv_falloff)
    s06_eigenmodes.solve_scalar_modes_on = clocked("solve", sturm_liouville.solve_scalar_modes_on)
    uv_falloff.deltas_from_uv_falloff = clocked("delta", originals[1])
    try:
        system_modes(prediction, params)  # warm-up
        spent.update(solve=0.0, delta=0.0)
        for _ in range(REPEATS):
            start = time.perf_counter()
            system_modes(prediction, params)
            totals.append(time.perf_counter() - start)
    finally:
        s06_eigenmodes.solve_scalar_modes_on, uv_falloff.deltas_from_uv_falloff = originals
    share = 1e3 / REPEATS
    return 1e3 * statistics.fmean(totals), share * spent["solve"], share * spent["delta"]


def write_inputs(folder: Path, n_systems: int) -> Path:
    """``n_systems`` GeometryPrediction files in ``folder`` and a config running stage 06 only
    beside it (for timing the whole command too); the config's path."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n_systems):
        prediction = pure_ads((2, 3, 4)[i % 3], tag=i)
        prediction.write(folder / f"{prediction.meta.system_name}_geometry.npz")
    config = folder.parent / "stage06_config.json"
    config.write_text(json.dumps({"seed": 1, "pipeline": [STAGE]}))
    return config


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def whole_stage_once(
    root: Path, folder: Path, config: Path, jobs: int, experiment: str = "bench"
) -> dict[str, float]:
    """One ``run_stage`` of stage 06 on ``folder``: wall s, this process's CPU s, its
    workers' CPU s, this process's minor page faults and the stage summary's timings."""
    wall, cpu, children = time.perf_counter(), time.process_time(), _children_cpu()
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    with contextlib.chdir(root):  # the outside-writes gate watches the working directory
        request = RunRequest(
            root / "runs", experiment, config_path=config, cli_inputs={"predictions": folder},
            jobs=jobs,
        )  # fmt: skip
        code = run_stage(request, "06")
    figures = {
        "wall": time.perf_counter() - wall,
        "cpu": time.process_time() - cpu,
        "workers_cpu": _children_cpu() - children,
        "faults": resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults,
    }
    summary = json.loads(
        (root / "runs" / experiment / STAGE_FOLDER / "stage_summary.json").read_text()
    )
    if code != 0 or summary["status"] != "OK":
        raise SystemExit(f"stage 06 ended {summary['status']} (exit {code})")
    return figures | {k: float(v) for k, v in summary["timings"].items()}


def whole_stage(n_systems: int, repeat: int, fresh: bool = False) -> dict[int, dict[str, float]]:
    """Medians over ``repeat`` rounds (--jobs 1, then 2, in turn, after one warm-up round:
    imports and the page cache are not counted) of :func:`whole_stage_once`: each round
    reruns the stage into the same experiment (replacing the previous round's outputs), or
    with ``fresh`` runs it into a new experiment (the stage's first run in its run)."""
    rounds: dict[int, list[dict[str, float]]] = {1: [], 2: []}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        folder = root / "predictions"
        config = write_inputs(folder, n_systems)
        for i in range(repeat + 1):
            for jobs in rounds:
                experiment = f"bench{i}j{jobs}" if fresh else "bench"
                figures = whole_stage_once(root, folder, config, jobs, experiment)
                if i:  # round 0 is the warm-up
                    rounds[jobs].append(figures)
    return {
        jobs: {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        for jobs, runs in rounds.items()
    }


@contextlib.contextmanager
def timed_maps(spent: list[float]) -> Iterator[None]:
    """Each ``ctx.map``'s wall seconds appended to ``spent`` while inside."""
    original = StageContext.map

    def timed(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            return original(self, *args, **kwargs)
        finally:
            spent.append(time.perf_counter() - start)

    StageContext.map = timed
    try:
        yield
    finally:
        StageContext.map = original


#: What :func:`split_counters` sums per process: calls' CPU s and faults, pickling CPU s.
_SPLIT = 3
_SLOTS = 256


def _faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


@contextlib.contextmanager
def split_counters() -> Iterator[Callable[[], tuple[float, ...]]]:
    """Count, in whichever process runs them (the stage process, or the workers forked by
    ``ctx.map``), the per-system calls (CPU s, page faults) and the pickling of their results
    (CPU s) into a page shared with the workers; yields what gives the sums so far."""
    shared = mmap.mmap(-1, 8 * _SPLIT * _SLOTS)
    layout = f"{_SPLIT}d"

    def add(*values: float) -> None:
        at = 8 * _SPLIT * (os.getpid() % _SLOTS)  # a slot per process: no two write one
        old = struct.unpack_from(layout, shared, at)
        struct.pack_into(layout, shared, at, *(a + b for a, b in zip(old, values, strict=True)))

    call, dumps = executors._call, pickle.dumps

    def counted_call(fn, key, item):
        cpu, faults = time.process_time(), _faults()
        try:
            return call(fn, key, item)
        finally:
            add(time.process_time() - cpu, _faults() - faults, 0.0)

    def counted_dumps(value, protocol=None):
        cpu = time.process_time()
        try:
            return dumps(value, protocol)
        finally:
            add(0.0, 0.0, time.process_time() - cpu)

    def sums() -> tuple[float, ...]:
        every = struct.unpack_from(f"{_SPLIT * _SLOTS}d", shared)
        return tuple(sum(every[k::_SPLIT]) for k in range(_SPLIT))

    executors._call = counted_call
    fork_pool.pickle = types.SimpleNamespace(
        dumps=counted_dumps, loads=pickle.loads, HIGHEST_PROTOCOL=pickle.HIGHEST_PROTOCOL
    )
    try:
        yield sums
    finally:
        executors._call, fork_pool.pickle = call, pickle


def worker_split(root: Path, folder: Path, config: Path) -> dict[str, float]:
    """One --jobs 1 and one --jobs 2 stage counted by :func:`split_counters`."""
    with split_counters() as sums:
        whole_stage_once(root, folder, config, 1)
        here_cpu, here_faults, _ = sums()
    with split_counters() as sums:
        workers = whole_stage_once(root, folder, config, 2)["workers_cpu"]
        cpu, faults, dumps = sums()
    return {
        "here_cpu": here_cpu, "here_faults": here_faults, "cpu": cpu, "faults": faults,
        "dumps": dumps, "rest": workers - cpu - dumps,
    }  # fmt: skip


def _loop_cost(
    predictions: list[GeometryPrediction], params: EigenmodesParams
) -> tuple[float, int]:
    """(CPU s, minor page faults) of :func:`system_block` over ``predictions`` here."""
    faults, start = resource.getrusage(resource.RUSAGE_SELF).ru_minflt, time.process_time()
    for prediction in predictions:
        system_block(prediction, params)
    return time.process_time() - start, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults


def in_process_work_cpu(predictions: list[GeometryPrediction]) -> float:
    """Stage 06's per-system work (:func:`system_block`) on ``predictions`` in this process,
    as ``--jobs 1`` runs it: CPU s per system."""
    return _loop_cost(predictions, EigenmodesParams())[0] / len(predictions)


def forked_work_cpu(
    predictions: list[GeometryPrediction], processes: int
) -> tuple[float, float, float]:
    """Stage 06's per-system work (:func:`system_block`) on ``predictions`` shared out among
    ``processes`` forked processes running at once: (CPU s per system, summed over the
    processes and measured by each around its own loop; wall s of the whole; page faults
    per process in its loop: the copy-on-write of pages it shares with this one)."""
    params = EigenmodesParams()
    wall = time.perf_counter()
    children = []
    for share in range(processes):
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # a worker as ctx.map forks them: frozen inheritance, then its share
            os.close(read_fd)
            gc.freeze()
            os.write(write_fd, repr(_loop_cost(predictions[share::processes], params)).encode())
            os._exit(0)
        os.close(write_fd)
        children.append((pid, read_fd))
    cpu, faults = 0.0, 0
    for pid, read_fd in children:
        spent, faulted = ast.literal_eval(os.read(read_fd, 128).decode())
        cpu, faults = cpu + spent, faults + faulted
        os.close(read_fd)
        os.waitpid(pid, 0)
    return cpu / len(predictions), time.perf_counter() - wall, faults / processes


def empty_worker_costs(rounds: int = 20) -> tuple[float, float]:
    """(CPU s of one ``os.fork()`` in this process, CPU s of a forked process that does
    nothing but exit: unmapping the address space it shares with this one)."""
    forks, before = [], _children_cpu()
    for _ in range(rounds):
        start = time.process_time()
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        forks.append(time.process_time() - start)
        os.waitpid(pid, 0)
    return statistics.median(forks), (_children_cpu() - before) / rounds


def write_fault_costs(pages: int = 8192, rounds: int = 5) -> tuple[float, float, float]:
    """Seconds to write one byte into each page of a buffer this process owns: never
    forked, after a fork whose child has exited (each page is still write-protected once),
    and with the child alive (each page copied first); medians of ``rounds``."""
    buffer = bytearray(pages * PAGE)
    view = memoryview(buffer)

    def touch() -> float:
        start = time.perf_counter()
        view[::PAGE] = bytes(pages)  # one write per page
        return (time.perf_counter() - start) / pages

    touch()
    plain, exited, alive = [], [], []
    for _ in range(rounds):
        plain.append(touch())
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)
        exited.append(touch())
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.read(read_fd, 1)
            os._exit(0)
        alive.append(touch())
        os.write(write_fd, b"x")
        os.waitpid(pid, 0)
        os.close(read_fd)
        os.close(write_fd)
    return statistics.median(plain), statistics.median(exited), statistics.median(alive)


def parallel_bound(n_systems: int, repeat: int) -> None:
    """Print what bounds the ``--jobs 2`` / ``--jobs 1`` ratio of the whole stage here."""
    splits, here, alone, pair, faults, split = [], [], [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        folder = root / "predictions"
        config = write_inputs(folder, n_systems)
        predictions = [GeometryPrediction.read(p) for p in sorted(folder.iterdir())]
        for i in range(repeat + 1):
            maps: list[float] = []
            with timed_maps(maps):
                figures = whole_stage_once(root, folder, config, 1)
            # After a --jobs 1 run: a page written after any earlier fork faults once more.
            here.append(in_process_work_cpu(predictions))
            # The stage process's faults at --jobs 2 beyond --jobs 1, run after run.
            unforked = whole_stage_once(root, folder, config, 1)["faults"]
            faults.append(whole_stage_once(root, folder, config, 2)["faults"] - unforked)
            alone.append(forked_work_cpu(predictions, 1))
            pair.append(forked_work_cpu(predictions, 2))
            split.append(worker_split(root, folder, config))
            if i:  # round 0 is the warm-up
                splits.append((figures["wall"], figures["inputs_s"], sum(maps)))
            else:
                for rounds in (here, alone, pair, faults, split):
                    rounds.clear()
    t1, inputs, mapped = (statistics.median(s[k] for s in splits) for k in range(3))
    rest = t1 - inputs - mapped
    cpu_here = statistics.median(here)
    cpu_alone, wall_alone, faults_alone = (statistics.median(a[k] for a in alone) for k in range(3))
    cpu_pair, wall_pair, faults_pair = (statistics.median(a[k] for a in pair) for k in range(3))
    fork_cpu, exit_cpu = empty_worker_costs()
    plain, exited, alive = write_fault_costs()
    everything = rest + (inputs + mapped) / 2  # inputs read in parallel too, at no cost
    ideal = rest + inputs + mapped / 2  # inputs read by the stage process, as they are
    efficient = rest + inputs + mapped * cpu_pair / cpu_here / 2
    goal = t1 / 1.8
    waited = 2 * fork_cpu + exit_cpu  # both forks, then the last worker's exit
    print(
        f"what bounds the ratio ({n_systems} systems, medians of {repeat} rounds; load "
        f"{os.getloadavg()[0]:.2f} at the end):"
    )
    print(
        f"  --jobs 1: wall {t1:.3f} s = inputs {inputs:.3f} s + ctx.map {mapped:.3f} s + the "
        f"rest {rest:.3f} s (the rest: no number of workers shortens it)"
    )
    print(
        f"  the per-system work: in this process {1e3 * cpu_here:.3f} ms CPU a system (as "
        f"--jobs 1 runs it); in forked processes alone {1e3 * cpu_alone:.3f} ms "
        f"({cpu_alone / cpu_here:.3f}x; wall {wall_alone:.3f} s), two at once "
        f"{1e3 * cpu_pair:.3f} ms ({cpu_pair / cpu_here:.3f}x; wall {wall_pair:.3f} s: "
        f"{wall_alone / wall_pair:.2f}x faster than alone)"
    )
    print(
        f"  page faults (copy-on-write after a fork): a forked loop takes {faults_alone:.0f} "
        f"alone, {faults_pair:.0f} each two at once; the stage process at --jobs 2 takes "
        f"{statistics.median(faults):.0f} more than at --jobs 1; a first write to a page costs "
        f"{1e6 * plain:.2f} us never forked, {1e6 * exited:.2f} us after a fork (child gone), "
        f"{1e6 * alive:.2f} us with the child alive"
    )
    w = {k: statistics.median(r[k] for r in split) for k in split[0]}
    print(
        f"  the workers at --jobs 2: the per-system calls {w['cpu']:.3f} s CPU, "
        f"{w['faults']:.0f} faults (the same calls in the stage process at --jobs 1: "
        f"{w['here_cpu']:.3f} s, {w['here_faults']:.0f} faults); pickling their results "
        f"{1e3 * w['dumps']:.1f} ms; the rest of the workers' CPU (tokens, sends, start, exit) "
        f"{1e3 * w['rest']:.1f} ms"
    )
    print(
        f"  a forked worker by itself: the fork {1e3 * fork_cpu:.2f} ms CPU in the stage "
        f"process, its exit {1e3 * exit_cpu:.2f} ms CPU"
    )
    print(
        f"  --jobs 2 at best, no cost of parallelism: map halved {ideal:.3f} s "
        f"({t1 / ideal:.2f}x); with the two-at-once forked CPU per system {efficient:.3f} s "
        f"({t1 / efficient:.2f}x); "
        f"inputs halved too {everything:.3f} s ({t1 / everything:.2f}x)"
    )
    print(
        f"  1.8x needs --jobs 2 within {goal:.3f} s: {1e3 * (goal - ideal):.1f} ms left for "
        f"every cost of parallelism ({1e3 * (goal - efficient):.1f} ms with the forked CPU per "
        f"system; {1e3 * (goal - everything):.1f} ms with the inputs halved too); the stage "
        f"process waits {1e3 * waited:.1f} ms for two forks and the last worker's exit alone"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--systems", type=int, default=30, help="systems for the whole-stage timing"
    )
    parser.add_argument(
        "--repeat", type=int, default=5, help="timed rounds of --jobs 1 and 2 (medians)"
    )
    parser.add_argument(
        "--write-inputs",
        type=Path,
        metavar="DIR",
        help="only write --systems inputs into DIR/predictions and DIR/stage06_config.json "
        "(to time `holopipe stage 06` / `holopipe run` as whole commands), then stop",
    )
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="run each round into a new experiment instead of rerunning the stage into the "
        "same one (no previous outputs to replace and remove)",
    )
    parser.add_argument(
        "--bound",
        action="store_true",
        help="also measure what bounds the --jobs 2 / --jobs 1 ratio on this machine",
    )
    args = parser.parse_args()
    if args.write_inputs:
        config = write_inputs(args.write_inputs / "predictions", args.systems)
        print(
            f"wrote {args.systems} inputs into {args.write_inputs / 'predictions'}; config {config}"
        )
        return
    params = EigenmodesParams()
    print(__doc__.split("\n\n")[0])
    print(f"target: relative error of M_n <= {TARGET:g}; legacy: {LEGACY_MS_PER_SYSTEM} ms/system")
    print(f"params: masses {params.masses}, n_modes {params.n_modes}, n_grid {params.n_grid}")
    print()
    header = (
        f"{'d':>2} {'masses':>14} {'rows':>4} | {'max rel err M_n':>15} {'max |dDelta|':>12} | "
        f"{'ms/system':>9} {'eigen ms':>8} {'Delta ms':>8}"
    )
    print(header)
    print("-" * len(header))
    worst = 0.0
    for d in (2, 3, 4):
        prediction = pure_ads(d)
        modes = system_modes(prediction, params)
        mass_error, delta_error = errors(modes.rows, d)
        worst = max(worst, mass_error)
        total, solve_ms, delta_ms = timed_parts(prediction, params)
        masses = ",".join(f"{m:g}" for m in params.masses_for(d))
        print(
            f"{d:>2} {masses:>14} {len(modes.rows):>4} | {mass_error:>15.1e} "
            f"{delta_error:>12.1e} | {total:>9.1f} {solve_ms:>8.1f} {delta_ms:>8.1f}"
        )
    print()
    verdict = "meets" if worst <= TARGET else "MISSES"
    print(f"worst relative error of M_n: {worst:.1e} ({verdict} {TARGET:g})")
    print()
    load_before = os.getloadavg()[0]
    medians = whole_stage(args.systems, args.repeat, args.fresh)
    print(
        f"whole stage (run_stage, {args.systems} systems, "
        f"{'each round a new experiment' if args.fresh else 'rerun into one experiment'}; "
        f"medians of {args.repeat} rounds after a warm-up; CPU s of the stage process and "
        "of its workers; load average "
        f"{load_before:.2f} before, {os.getloadavg()[0]:.2f} after: the ratio needs 2 idle "
        "cores, the CPU figures much less):"
    )
    for jobs, m in medians.items():
        serial = m["total_s"] - m["run_s"]
        print(
            f"  --jobs {jobs}: {1e3 * m['wall'] / args.systems:.2f} ms/system, wall "
            f"{m['wall']:.3f} s, CPU {m['cpu']:.3f} s + workers {m['workers_cpu']:.3f} s, "
            f"{m['faults']:.0f} page faults in the stage process; "
            f"in the stage: inputs {m['inputs_s']:.3f} s, run {m['run_s']:.3f} s, "
            f"the rest {serial:.3f} s"
        )
    ratio = medians[1]["wall"] / medians[2]["wall"]
    print(f"  --jobs 2 vs --jobs 1: {ratio:.2f}x (goal >= 1.8x; 2 idle cores needed)")
    if args.bound:
        parallel_bound(args.systems, args.repeat)


if __name__ == "__main__":
    main()
