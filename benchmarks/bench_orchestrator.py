"""Orchestration overhead of ``holopipe run``: the chain of trivial test stages x N systems.

    python benchmarks/bench_orchestrator.py [--systems 1000] [--stages 9] [--jobs 1] [--profile]

Measures, in a temporary directory:

(a) the wall time of the full run (``holopipe.pipeline.run_pipeline`` in this process; each
    stage runs in its own forked process as usual),
(b) the stages' own work: the sum of ``timings.run_s`` over the stage summaries, so the
    orchestration overhead is (a) - (b); it is split into the time inside the stage
    processes around ``run`` (inputs, output checks, summary, manifest) and the time in the
    orchestrator (gates, up-to-date checks, forking),
(c) the no-op rerun (nothing changed, every stage skipped): in-process ``run_pipeline`` and
    the wall time of the ``holopipe run`` command (interpreter start-up included).

CPU seconds (user and system) are printed for the full run, split into the orchestrator
(this process: gates, assessments, the closing report.html) and the stage processes, and
for the in-process no-op: on a shared machine they compare better than wall times.

Targets (issue 3): no-op rerun under 0.5 s, overhead under 1 s for the full run.
``--profile`` prints the top functions (cProfile, cumulative) of a full run's orchestrator
side and of the in-process no-op rerun.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from holopipe.artifacts.records import RunManifest
from holopipe.pipeline import RunRequest, run_pipeline

TARGET_NOOP_S = 0.5
TARGET_OVERHEAD_S = 1.0


def _config(path: Path, stages: int, systems: int) -> Path:
    config = {
        "seed": 1,
        "pipeline": [f"holopipe.testing:Chain{i:02d}" for i in range(1, stages + 1)],
        "stages": {"01": {"n_systems": systems}},
    }
    path.write_text(json.dumps(config))
    return path


def _summaries(root: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(root.glob("*/stage_summary.json"))]


def _cold_caches() -> None:
    """Forget what this process cached about runs (manifest, git sha, environment)."""
    from holopipe.run import manifest, provenance

    getattr(manifest, "_LOADED", {}).clear()
    for cached in (
        provenance.code_version,
        provenance.environment_info,
        provenance._packages_sha256,
    ):
        cached.cache_clear()


def _cpu() -> tuple[float, float, float, float]:
    """User and system CPU seconds of this process and of its finished children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime, own.ru_stime, children.ru_utime, children.ru_stime


def _cpu_since(start: tuple[float, ...]) -> tuple[float, ...]:
    return tuple(now - then for now, then in zip(_cpu(), start, strict=True))


def _profile(fn, top: int = 25) -> str:
    profiler = cProfile.Profile()
    profiler.runcall(fn)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--systems", type=int, default=1000)
    parser.add_argument("--stages", type=int, default=9, choices=range(1, 10), metavar="1..9")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--profile", action="store_true", help="print cProfile tables")
    args = parser.parse_args(argv)

    quiet = lambda line: None  # noqa: E731
    with tempfile.TemporaryDirectory(prefix="holopipe-bench-") as tmp:
        cwd = Path(tmp)
        os.chdir(cwd)  # the outside-writes gate watches the cwd: keep it small
        config = _config(cwd / "config.json", args.stages, args.systems)
        runs = cwd / "runs"

        t0, cpu0 = time.perf_counter(), _cpu()
        code = run_pipeline(RunRequest(runs, "bench", config, jobs=args.jobs), echo=quiet)
        full, full_cpu = time.perf_counter() - t0, _cpu_since(cpu0)
        if code != 0:
            print(f"the benchmark run failed (exit {code})", file=sys.stderr)
            return code
        summaries = _summaries(runs / "bench")
        work = sum(s["timings"].get("run_s", 0.0) for s in summaries)
        in_stage = sum(s["timings"]["total_s"] for s in summaries)
        inputs = sum(s["timings"].get("inputs_s", 0.0) for s in summaries)
        outputs = sum(s["timings"].get("outputs_s", 0.0) for s in summaries)

        _cold_caches()  # as in a new process: the manifest is read, git asked, again
        t0, cpu0 = time.perf_counter(), _cpu()
        assert run_pipeline(RunRequest(runs, "bench", jobs=args.jobs), echo=quiet) == 0
        noop, noop_cpu = time.perf_counter() - t0, _cpu_since(cpu0)

        t0 = time.perf_counter()
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "holopipe",
                "run",
                "-e",
                "bench",
                "--runs-dir",
                str(runs),
                "--jobs",
                str(args.jobs),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        noop_cli = time.perf_counter() - t0
        assert done.returncode == 0 and "running" not in done.stdout, done.stdout + done.stderr
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", "import holopipe.cli, holopipe.pipeline, holopipe.testing"],
            check=True,
        )
        startup = time.perf_counter() - t0

        manifest_path = runs / "bench" / "run_manifest.json"
        records = sorted((runs / "bench" / "run_manifest.d").glob("*.json"))
        manifest_mb = sum(p.stat().st_size for p in [manifest_path, *records]) / 1e6
        t0 = time.perf_counter()
        manifest = RunManifest.read(manifest_path)
        manifest_read = time.perf_counter() - t0
        t0 = time.perf_counter()
        manifest.write(cwd / "manifest-copy.json")
        manifest_write = time.perf_counter() - t0
        overhead = full - work
        rows = [
            ("stages x systems", f"{args.stages} x {args.systems} (jobs {args.jobs})", ""),
            ("(a) full run, wall", f"{full:8.3f} s", ""),
            (
                "    CPU: orchestrator (this process)",
                f"{full_cpu[0]:8.3f} s user",
                f"sys {full_cpu[1]:.3f} s (the report at the end of the run included)",
            ),
            (
                "    CPU: stage processes",
                f"{full_cpu[2]:8.3f} s user",
                f"sys {full_cpu[3]:.3f} s (os.sync of a shared machine: compare user)",
            ),
            ("(b) stages' own work (sum run_s)", f"{work:8.3f} s", ""),
            (
                "    overhead (a) - (b)",
                f"{overhead:8.3f} s",
                "OK"
                if overhead < TARGET_OVERHEAD_S
                else f"MISSED (target < {TARGET_OVERHEAD_S} s)",
            ),
            (
                "      in stage processes, around run",
                f"{in_stage - work:8.3f} s",
                f"inputs {inputs:.3f} s, output checks {outputs:.3f} s",
            ),
            (
                "      outside the stage timings",
                f"{full - in_stage:8.3f} s",
                "forks, gates, up-to-date checks, manifest records/writes/reads",
            ),
            (
                "        one manifest read / write",
                f"{manifest_read:8.3f} s",
                f"write {manifest_write:.3f} s (whole, inline); a stage writes its record only",
            ),
            (
                "(c) no-op rerun, in-process",
                f"{noop:8.3f} s",
                "OK" if noop < TARGET_NOOP_S else f"MISSED (target < {TARGET_NOOP_S} s)",
            ),
            (
                "    CPU: no-op rerun, in-process",
                f"{noop_cpu[0]:8.3f} s user",
                f"sys {noop_cpu[1]:.3f} s",
            ),
            (
                "    no-op rerun, holopipe run CLI",
                f"{noop_cli:8.3f} s",
                f"of which interpreter + imports {startup:.3f} s",
            ),
            ("run_manifest.json + run_manifest.d/", f"{manifest_mb:8.2f} MB", "index + records"),
        ]
        width = max(len(r[0]) for r in rows)
        for name, value, note in rows:
            print(f"{name:<{width}}  {value:<22} {note}".rstrip())

        if args.profile:
            print("\n== profile: full run (orchestrator side), fresh experiment ==")
            print(
                _profile(
                    lambda: run_pipeline(
                        RunRequest(runs, "bench2", config, jobs=args.jobs), echo=quiet
                    )
                )
            )
            print("== profile: no-op rerun, in-process ==")
            _cold_caches()
            print(
                _profile(
                    lambda: run_pipeline(RunRequest(runs, "bench", jobs=args.jobs), echo=quiet)
                )
            )
        os.chdir("/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
