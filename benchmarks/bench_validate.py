"""``holopipe validate`` of many GeometryPrediction files against a raw ``np.load`` loop.

    python benchmarks/bench_validate.py [--files 10000] [--points 400] [--repeat 3]

Writes ``--files`` GeometryPrediction NPZ files (AdS d = 3 on ``--points`` points, with one
measured operator: the shape of stage 02's outputs) into a temporary folder, then times,
each ``--repeat`` times after one warm-up pass (the files in the page cache), medians:

- in this process: the raw loop (``np.load(path, allow_pickle=False)`` and every member
  read) and ``holopipe.artifacts.registry.validate_paths([folder])`` (sniff cache cleared),
  wall and CPU (``time.process_time``);
- as commands (interpreter start-up included, CPU from the children's rusage):
  ``python -c <the raw loop>`` and ``holopipe validate FOLDER`` (its output discarded).

The figure of issue 11 is raw / validate (0.41x then); the goal is at least 0.7x: validating,
which checks every header, size limit, member, CRC and field, costs at most 1/0.7 = 1.43
times the bare read.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import attrs
import numpy as np

from holopipe.artifacts.prediction import GeometryPrediction, MeasuredDimension
from holopipe.artifacts.registry import validate_paths
from holopipe.artifacts.sniff import clear_cache

GOAL = 0.7

RAW_LOOP = """
import sys
from pathlib import Path
import numpy as np
for path in sorted(Path(sys.argv[1]).iterdir()):
    with np.load(path, allow_pickle=False) as npz:
        for name in npz.files:
            npz[name]
"""


def write_files(folder: Path, files: int, points: int) -> list[Path]:
    """``files`` GeometryPrediction files like stage 02's, one system name each."""
    example = GeometryPrediction.example()
    z = np.geomspace(1e-3, 0.99, points)
    paths = []
    for i in range(files):
        name = f"ads_d3_{i:05d}"
        operator = MeasuredDimension("O", 3.0, 1e-3, "example")
        meta = attrs.evolve(example.meta, system_name=name, operators=[operator])
        prediction = GeometryPrediction(z=z, A=-np.log(z), f=1 - z**3, meta=meta)
        paths.append(prediction.write(folder / f"{name}_geometry.npz"))
    return paths


def raw_loop(paths: list[Path]) -> None:
    for path in paths:
        with np.load(path, allow_pickle=False) as npz:
            for name in npz.files:
                npz[name]


def validate(folder: Path) -> None:
    clear_cache()
    reports = validate_paths([folder])
    bad = [r for r in reports if not r.ok]
    if bad:
        raise SystemExit(f"benchmark files are invalid: {bad[0].lines()[:1]}")


def in_process(func, repeat: int) -> tuple[float, float]:
    """Median wall and CPU seconds of ``func()`` (after one warm-up: page cache, imports)."""
    func()
    walls, cpus = [], []
    for _ in range(repeat):
        c0, t0 = time.process_time(), time.perf_counter()
        func()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls), statistics.median(cpus)


def load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def command(cmd: list[str], repeat: int) -> tuple[float, float]:
    """Median wall and CPU seconds of ``cmd`` (stdout discarded)."""
    subprocess.run(cmd, stdout=subprocess.DEVNULL, check=False)
    walls, cpus = [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        done = subprocess.run(cmd, stdout=subprocess.DEVNULL, check=False)
        walls.append(time.perf_counter() - t0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} exited {done.returncode}")
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--points", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "predictions"
        folder.mkdir()
        t0 = time.perf_counter()
        paths = write_files(folder, args.files, args.points)
        print(
            f"wrote {len(paths)} files of {paths[0].stat().st_size} bytes in "
            f"{time.perf_counter() - t0:.1f} s; {load()}"
        )
        raw, raw_cpu = in_process(lambda: raw_loop(sorted(folder.iterdir())), args.repeat)
        ours, ours_cpu = in_process(lambda: validate(folder), args.repeat)
        print(
            f"in process:  raw np.load loop {raw:.2f} s wall {raw_cpu:.2f} s cpu, "
            f"validate_paths {ours:.2f} s wall {ours_cpu:.2f} s cpu, "
            f"raw/validate {raw / ours:.2f}x wall {raw_cpu / ours_cpu:.2f}x cpu "
            f"(goal >= {GOAL}x); {load()}"
        )
        raw_wall, raw_cpu = command([sys.executable, "-c", RAW_LOOP, str(folder)], args.repeat)
        cli = [sys.executable, "-m", "holopipe", "validate", str(folder)]
        ours_wall, ours_cpu = command(cli, args.repeat)
        print(
            f"as commands: raw loop {raw_wall:.2f} s wall {raw_cpu:.2f} s cpu, "
            f"holopipe validate {ours_wall:.2f} s wall {ours_cpu:.2f} s cpu, "
            f"raw/validate {raw_wall / ours_wall:.2f}x wall {raw_cpu / ours_cpu:.2f}x cpu "
            f"(goal >= {GOAL}x); {load()}"
        )


if __name__ == "__main__":
    main()
