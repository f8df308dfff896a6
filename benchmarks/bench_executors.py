"""The toy pipeline 01 -> 09 on each executor: what the executor itself costs a whole run.

Run: ``python benchmarks/bench_executors.py [--executors serial,processes,dask] [--jobs 2]
[--repeat 3]``. Each round is a new run (``holopipe run -e toy --config configs/toy.json
--executor E --jobs N``) in a new temporary folder, after one warm-up round of each executor;
the executors take turns round by round, so that a drift of the machine's speed touches them
alike. Printed: min, median and max wall seconds per executor, and the median's ratio to the
first executor's. With ``dask`` the run starts one LocalCluster for its stages
(:mod:`holopipe.run.dask_cluster`); the artifacts are the same whatever the executor.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TOY = Path(__file__).resolve().parents[1] / "configs" / "toy.json"


def run_once(executor: str, jobs: int) -> float:
    """Wall seconds of one whole toy run with ``executor`` in a new folder."""
    with tempfile.TemporaryDirectory() as cwd:
        command = [
            sys.executable, "-m", "holopipe", "run", "-e", "toy", "--config", str(TOY),
            "--executor", executor, "--jobs", str(jobs),
        ]  # fmt: skip
        t0 = time.perf_counter()
        done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - t0
    # 1: WARNING (the temp dir is never watched for writes outside the run; the toy's checks).
    if done.returncode not in (0, 1):
        sys.exit(f"{executor}: exit {done.returncode}\n{done.stdout}\n{done.stderr}")
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executors", default="serial,processes,dask")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    executors = args.executors.split(",")
    for executor in executors:  # warm-up: bytecode, the page cache
        run_once(executor, args.jobs)
    walls: dict[str, list[float]] = {e: [] for e in executors}
    for _ in range(args.repeat):
        for executor in executors:
            walls[executor].append(run_once(executor, args.jobs))
    first = statistics.median(walls[executors[0]])
    print(f"toy run 01 -> 09, --jobs {args.jobs}, {args.repeat} rounds (wall s: min median max)")
    for executor, times in walls.items():
        median = statistics.median(times)
        print(
            f"  {executor:<10} {min(times):6.2f} {median:6.2f} {max(times):6.2f}"
            f"   x{median / first:.2f} of {executors[0]}"
        )


if __name__ == "__main__":
    main()
