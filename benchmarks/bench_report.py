"""Time to write the toy run's report.html (target < 3 s).

Run: ``python benchmarks/bench_report.py [--repeat 5]``. Runs the toy pipeline 01 -> 06 once
in a temporary folder, then times ``holopipe report -e toy`` in fresh interpreters (start-up,
imports of matplotlib and scipy, reading every artifact, drawing every plot, writing) and
prints the median and best wall time and the report's size.
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TOY = Path(__file__).resolve().parents[1] / "configs" / "toy.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as cwd:
        holopipe = [sys.executable, "-m", "holopipe"]
        run = ["run", "-e", "toy", "--config", str(TOY), "--to", "06"]
        subprocess.run([*holopipe, *run], cwd=cwd, check=False, capture_output=True)
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            subprocess.run(
                [*holopipe, "report", "-e", "toy"], cwd=cwd, check=True, capture_output=True
            )
            times.append(time.perf_counter() - t0)
        size = (Path(cwd) / "runs" / "toy" / "report.html").stat().st_size
    print(
        f"holopipe report -e toy: median {statistics.median(times):.2f} s, best {min(times):.2f} s "
        f"over {args.repeat} (target < 3 s); report.html {size / 1e3:.0f} kB"
    )


if __name__ == "__main__":
    main()
