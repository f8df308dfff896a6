"""Start-up cost: ``import holopipe`` and ``holopipe --help`` (targets 0.15 s and 0.3 s).

Run: ``python benchmarks/bench_startup.py [--repeat 10]``. Prints the median and best wall
time of each command in fresh interpreters, next to a bare ``python -c pass`` baseline,
and the heavy modules each one imported (there should be none).
"""

import argparse
import statistics
import subprocess
import sys
import time

HEAVY = ("numpy", "scipy", "xarray", "netCDF4", "pandas", "typer")

COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "import holopipe": [sys.executable, "-c", "import holopipe"],
    "holopipe --help": [sys.executable, "-m", "holopipe", "--help"],
}


def wall_times(cmd: list[str], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return times


def heavy_imports(statement: str) -> list[str]:
    probe = f"import sys; {statement}; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True)
    return out.stdout.split()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    print(f"{'command':20s} {'median s':>9s} {'best s':>8s}")
    for name, cmd in COMMANDS.items():
        times = wall_times(cmd, args.repeat)
        print(f"{name:20s} {statistics.median(times):9.3f} {min(times):8.3f}")
    print("heavy modules loaded by 'import holopipe':", heavy_imports("import holopipe") or "none")
    cli = "import holopipe.cli"
    print("heavy modules loaded by 'import holopipe.cli':", heavy_imports(cli) or "none")


if __name__ == "__main__":
    main()
