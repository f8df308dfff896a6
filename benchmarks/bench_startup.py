"""Start-up cost: ``import holopipe``, ``holopipe --help`` (targets 0.15 s and 0.3 s) and the
no-op rerun of a small run (issue 7: not slower than the session-2 code).

Run: ``python benchmarks/bench_startup.py [--repeat 10]``. Prints the median and best wall
and CPU time of each command in fresh interpreters, next to a bare ``python -c pass``
baseline, and the heavy modules each one imported (there should be none). For the no-op it
first makes a small run (stages 01-06 of a 4-system sandbox) in a temporary folder, then
times the same ``holopipe run`` again (every stage up to date), the imports it needs alone
(``holopipe.cli``, ``holopipe.pipeline`` and every stage's declaration), and lists the stage
implementation modules it imported (there should be none: stages import their science and
artifact types where they run). CPU is user + system of the child, git included.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from holopipe.testing import NOT_IMPORTED_BY_A_NO_OP

HEAVY = ("numpy", "scipy", "xarray", "netCDF4", "pandas", "typer")

COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "import holopipe": [sys.executable, "-c", "import holopipe"],
    "holopipe --help": [sys.executable, "-m", "holopipe", "--help"],
}


SMALL_RUN = {
    "seed": 1,
    "stages": {
        "01": {"families": ["ads", "lifshitz"], "n_per_family": 2, "d_values": [2]},
        "06": {"n_modes": 1, "masses": {"2": [0.0]}},
    },
}

IMPORTS_ONLY = (
    "import holopipe.cli.app, holopipe.pipeline\n"
    "from holopipe.stages.registry import available_stages\n"
    "available_stages()\n"
)


def timed(cmd: list[str], repeat: int, cwd: str | None = None) -> tuple[list[float], list[float]]:
    """Wall and CPU (user + system of the child and its own children) seconds per run."""
    walls, cpus = [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, cwd=cwd)
        walls.append(time.perf_counter() - t0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return walls, cpus


def heavy_imports(statement: str) -> list[str]:
    probe = f"import sys; {statement}; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True)
    return out.stdout.split()


def no_op_modules(argv: list[str], cwd: str) -> dict:
    """What a no-op ``holopipe <argv>`` imported: holopipe modules, their source size, and
    the stage implementation modules among them."""
    script = (
        "import json, os, runpy, sys\n"
        f"sys.argv = ['holopipe', *{argv!r}]\n"
        "try:\n    runpy.run_module('holopipe', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "ours = [m for n, m in sys.modules.items() if n.startswith('holopipe')]\n"
        "size = sum(os.path.getsize(m.__file__) for m in ours if getattr(m, '__file__', None))\n"
        "print(json.dumps({'n': len(ours), 'kib': size / 1024, 'names': sorted(sys.modules)}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], check=True, capture_output=True, text=True, cwd=cwd
    )
    found = json.loads(out.stdout.strip().splitlines()[-1])
    found["implementation"] = sorted(set(found.pop("names")) & set(NOT_IMPORTED_BY_A_NO_OP))
    return found


def row(name: str, walls: list[float], cpus: list[float]) -> str:
    return (
        f"{name:28s} {statistics.median(walls):9.3f} {min(walls):8.3f} "
        f"{statistics.median(cpus):9.3f} {min(cpus):8.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    print(f"{'command':28s} {'median s':>9s} {'best s':>8s} {'cpu med':>9s} {'cpu best':>8s}")
    for name, cmd in COMMANDS.items():
        print(row(name, *timed(cmd, args.repeat)))
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "small.json"
        config.write_text(json.dumps(SMALL_RUN))
        argv = ["run", "-e", "small", "--config", str(config), "--to", "06", "--runs-dir", "R"]
        cli = [sys.executable, "-m", "holopipe", *argv]
        subprocess.run(cli, capture_output=True, cwd=tmp, env=os.environ)  # the run itself
        print(row("no-op holopipe run --to 06", *timed(cli, args.repeat, cwd=tmp)))
        imports = [sys.executable, "-c", IMPORTS_ONLY]
        print(row("  its imports alone", *timed(imports, args.repeat, cwd=tmp)))
        found = no_op_modules(argv, tmp)
    print(
        f"no-op: {found['n']} holopipe modules ({found['kib']:.0f} KiB of source); "
        f"stage implementation modules: {', '.join(found['implementation']) or 'none'}"
    )
    print("heavy modules loaded by 'import holopipe':", heavy_imports("import holopipe") or "none")
    cli = "import holopipe.cli"
    print("heavy modules loaded by 'import holopipe.cli':", heavy_imports(cli) or "none")


if __name__ == "__main__":
    main()
