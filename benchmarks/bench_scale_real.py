"""The real pipeline (stages 01-09) at many systems: what the per-system files cost (issue 11).

    python benchmarks/bench_scale_real.py [--systems 1000] [--noop-runs 3]
                                          [--change stages.05.max_degree=3 ...]

``configs/toy.json`` with ``stages.01.n_per_family`` raised to ``systems / 4`` (4 families;
the d values cycle inside a family), run as whole ``holopipe run`` commands with the serial
executor, each size on a new filesystem (``--disk fresh``, the default as root; see
``disks.py`` for why) or in the temporary directory (``--disk shared``, with ``--settle``):

- full run (every stage runs), with each stage's own duration from pipeline_summary.json,
- no-op rerun (nothing changed; median of ``--noop-runs``),
- one parameter changed, per ``--change`` (``--set KEY=VALUE --force``: that stage and
  the stages reading its outputs rerun),
- manifest bytes (index + stage records) and, per output folder, files and bytes: stages
  01 and 02 write one file per system, 03-09 one artifact holding every system,
- peak memory of the largest single process (as ``bench_scale.py``).

Wall and CPU seconds (user + system of the command and every process it started). The
figures belong in the issue's note, not in tests.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_scale import (  # noqa: E402
    _manifest_bytes,
    _timed,
    add_bytecode_option,
    benchmark_disk,
)
from disks import Disk, add_disk_options  # noqa: E402

TOY = Path(__file__).resolve().parents[1] / "configs" / "toy.json"
FAMILIES = 4


def _config(path: Path, systems: int) -> Path:
    config = json.loads(TOY.read_text())
    config["stages"]["01"]["n_per_family"] = max(1, systems // FAMILIES)
    config["executor"] = {"name": "serial"}
    path.write_text(json.dumps(config))
    return path


def _folders(root: Path) -> list[tuple[str, int, int]]:
    """``(stage/alias, files, bytes)`` of every output folder of the run."""
    rows = []
    for stage in sorted(p for p in root.iterdir() if p.is_dir() and p.name[:2].isdigit()):
        for folder in sorted(p for p in stage.iterdir() if p.is_dir() and p.name != "logs"):
            files = [f for f in folder.rglob("*") if f.is_file()]
            rows.append(
                (f"{stage.name}/{folder.name}", len(files), sum(f.stat().st_size for f in files))
            )
    return rows


def measure(systems: int, noop_runs: int, changes: list[str], disk: Disk) -> dict:
    cwd = disk.folder(f"real-{systems}")
    try:
        config = _config(cwd / "config.json", systems)
        run = [sys.executable, "-m", "holopipe", "run", "-e", "real"]
        disk.settle()
        full, full_cpu, peak = _timed([*run, "--config", str(config)], cwd)
        root = cwd / "runs" / "real"
        summary = json.loads((root / "pipeline_summary.json").read_text())
        stages = {s["stage"]: s["duration_s"] for s in summary["stages"]}
        noops = [_timed(run, cwd) for _ in range(noop_runs)]
        changed = {}
        for change in changes:
            disk.settle()
            wall, cpu, change_peak = _timed([*run, "--set", change, "--force"], cwd)
            disk.removed()
            reran = json.loads((root / "pipeline_summary.json").read_text())["stages"]
            changed[change] = {
                "wall_s": wall,
                "cpu_s": cpu,
                "peak_mib": change_peak,
                "reran": [s["stage"][:3].rstrip("_") for s in reran if s["action"] == "ran"],
            }
        return {
            "systems": FAMILIES * max(1, systems // FAMILIES),
            "full_s": full,
            "full_cpu_s": full_cpu,
            "peak_mib": peak,
            "stage_s": stages,
            "noop_s": statistics.median(t[0] for t in noops),
            "noop_cpu_s": statistics.median(t[1] for t in noops),
            "noop_peak_mib": max(t[2] for t in noops),
            "changes": changed,
            "manifest_mb": _manifest_bytes(root) / 1e6,
            "folders": _folders(root),
        }
    finally:
        disk.release(cwd)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--systems", default="1000", help="comma-separated sizes")
    parser.add_argument("--noop-runs", type=int, default=3)
    parser.add_argument(
        "--change",
        action="append",
        help="KEY=VALUE set with --force after the no-ops (repeatable; default: "
        "stages.05.max_degree=3 and stages.06.n_modes=4)",
    )
    add_disk_options(parser)
    add_bytecode_option(parser)
    args = parser.parse_args(argv)
    changes = args.change or ["stages.05.max_degree=3", "stages.06.n_modes=4"]
    sizes = sorted(int(s) for s in args.systems.split(","))
    with benchmark_disk(args, "bench-scale-real-", max(sizes), _four_systems) as disk:
        if disk is None:
            return 2
        _print_sizes(sizes, args.noop_runs, changes, disk)
    return 0


def _four_systems(path: Path) -> Path:
    return _config(path, FAMILIES)


def _print_sizes(sizes: list[int], noop_runs: int, changes: list[str], disk: Disk) -> None:
    for n in sizes:
        row = measure(n, noop_runs, changes, disk)
        print(f"real pipeline, {row['systems']} systems (wall s / CPU s):")
        print(f"  full run       {row['full_s']:8.2f} / {row['full_cpu_s']:8.2f}")
        print(f"  no-op rerun    {row['noop_s']:8.2f} / {row['noop_cpu_s']:8.2f}")
        for change, figures in row["changes"].items():
            reran = ",".join(figures["reran"])
            print(
                f"  {change:<28} {figures['wall_s']:8.2f} / {figures['cpu_s']:8.2f}  (ran {reran})"
            )
        print(f"  manifest       {row['manifest_mb']:.3f} MB")
        print(
            f"  peak memory    full run {row['peak_mib']:.0f} MiB, "
            f"no-op {row['noop_peak_mib']:.0f} MiB"
        )
        print(
            "  stage durations (s): "
            + ", ".join(f"{k[:3].rstrip('_')} {v:.2f}" for k, v in row["stage_s"].items())
        )
        print("  output folders (files, MB):")
        for folder, files, size in row["folders"]:
            print(f"    {folder:<58} {files:>7} {size / 1e6:9.2f}")
        sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
