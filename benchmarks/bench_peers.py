"""holopipe against DVC, Snakemake and bare commands on the same trivial 9-stage chain.

    python benchmarks/bench_peers.py [--systems 1000] [--repeat 3] [--tools holopipe,dvc,...]

Each stage reads every system file of the previous stage and writes one small JSON file per
system (holopipe: the ``holopipe.testing`` Chain stages; the peers: ``peer_stage.py``, the
same work as a plain script). Per tool, in a fresh temporary directory:

- full run (first run of the 9 stages),
- no-op rerun (nothing changed: every stage skipped),
- a parameter of stage 5 changed: stages 5-9 rerun,
- peak memory of the largest single process during the full run (``RUSAGE_CHILDREN``),
- the CPU seconds (user + system, the command and all its processes) of the full run and
  of the stage-5 change: on a shared machine they compare better than wall times.

``holopipe-chunked`` is the same holopipe chain writing ``CHUNK`` systems per file (the
Chain stages' ``systems_per_file``; the layout of the reference stages 03-09, whose one
artifact holds every system; ``holopipe.run.open_system`` reads one system of either
layout in one call): the same systems read and written, fewer files.

Each command runs under a small Python wrapper that reads its peak memory and CPU; its wall
time is taken around the command inside the wrapper, so the wrapper's own start (~50 ms
here) is in no tool's figure (until session 9 it was in every one).

Python's bytecode is cached for every tool before anything is timed (``--bytecode cached``,
the default): a warm-up of each tool's commands on 2 systems writes it into a cache folder of
this benchmark (``PYTHONPYCACHEPREFIX``), and every timed command reads it from there, as an
installed program reads its ``__pycache__``. Without it (``--bytecode as-is``) a checkout run
with ``PYTHONDONTWRITEBYTECODE=1`` compiles holopipe's ~50 modules at every command (~0.15 s
of a no-op here), which no installed holopipe does.

Every tool meets the same disk (``--disk``). On ext4 without a journal, as on this machine's
disk, a file created within a few minutes of many files being removed costs several times
more: the inode allocator skips, one by one, every inode freed in the last 60 s (360 s while
its inode table block is not written back yet). Measured here, the bare chain's full run at
3 000 systems: 2.4-2.6 s on a quiet disk, 10.1-11.6 s right after 27 000 files were removed,
back to normal 5-6 minutes later; on a new filesystem 2.4 s, 16.5 s after removing one such
chain. Until session 10 each tool's folders were removed before the next tool's full run, so
each figure depended on what ran before it (Snakemake's CPU doubled between rounds).

- ``--disk fresh`` (root; the default where it works): every run of every tool (full run,
  no-op, change) in a new ext4 filesystem without a journal, mounted with ``discard`` like
  this machine's (a sparse image on a loop device, made before and removed after, untimed).
  A tool's own removals still cost it what they cost (Snakemake removes the outputs it
  reruns; holopipe removes the folders it replaced), and nothing else.
- ``--disk shared``: the folders in the temporary directory, none removed before the end;
  a timed command that creates files first waits ``--settle`` seconds after the last
  command that may have removed some (every stage-5 change). A residue of earlier removals
  may remain (see above).

Medians over ``--repeat`` runs (each a fresh directory, kept until the end). DVC and
Snakemake are found on ``PATH`` or given with ``--dvc`` / ``--snakemake``; a tool that is
not installed is reported as missing, not timed. The figures belong in the notes of the
scale-out issue, not in tests.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_scale import add_bytecode_option  # noqa: E402
from disks import Disk, add_disk_options, choose_disk  # noqa: E402

STAGES = 9

PEER_STAGE = """\
import json, os, sys
n, src, dst, offset = int(sys.argv[2]), sys.argv[3], sys.argv[4], float(sys.argv[5])
os.makedirs(dst, exist_ok=True)
if src == "-":
    values = {f"sys_d3_{i:06d}": -12.0 for i in range(n)}
else:
    values = {}
    for name in sorted(n for n in os.listdir(src) if n.endswith(".json")):
        with open(os.path.join(src, name)) as fh:
            values[name[:-5]] = json.load(fh)["R_mean"]
for sid, value in values.items():
    with open(os.path.join(dst, sid + ".json"), "w") as fh:
        json.dump({"system_id": sid, "R_mean": value + 1.0 + offset}, fh)
"""


def _stage_cmd(k: int, n: int, offset: str) -> str:
    src = "-" if k == 1 else f"s{k - 1:02d}"
    return f"{sys.executable} peer_stage.py {k} {n} {src} s{k:02d} {offset}"


#: Systems per file of the ``holopipe-chunked`` tool: each stage writes its systems in
#: files of this many (the layout of stages 03-09, one artifact holding many systems).
CHUNK = 1000


def setup_holopipe(cwd: Path, n: int, per_file: int = 1) -> dict[str, list[str]]:
    stages: dict[str, dict[str, int]] = {f"{k:02d}": {} for k in range(1, STAGES + 1)}
    stages["01"]["n_systems"] = n
    if per_file > 1:
        for params in stages.values():
            params["systems_per_file"] = per_file
    config = {
        "seed": 1,
        "pipeline": [f"holopipe.testing:Chain{i:02d}" for i in range(1, STAGES + 1)],
        "stages": {k: v for k, v in stages.items() if v},
        "executor": {"name": "serial"},
    }
    (cwd / "config.json").write_text(json.dumps(config))
    run = [sys.executable, "-m", "holopipe", "run", "-e", "bench"]
    return {
        "full": [*run, "--config", "config.json"],
        "noop": run,
        "change": [*run, "--set", "stages.05.offset=1.0", "--force"],
    }


def setup_snakemake(cwd: Path, n: int, exe: str) -> dict[str, list[str]]:
    (cwd / "peer_stage.py").write_text(PEER_STAGE)
    rules = [f'rule all:\n    input: "s{STAGES:02d}"\n']
    for k in range(1, STAGES + 1):
        dep = f'    input: "s{k - 1:02d}"\n' if k > 1 else ""
        rules.append(
            f"rule s{k:02d}:\n{dep}"
            f'    output: directory("s{k:02d}")\n'
            f'    params: offset=config.get("offset{k:02d}", 0.0)\n'
            f'    shell: "{_stage_cmd(k, n, "{params.offset}")}"\n'
        )
    (cwd / "Snakefile").write_text("\n".join(rules))
    base = [exe, "--cores", "1", "--quiet", "all"]
    return {
        "full": base,
        "noop": base,
        "change": [*base, "--config", "offset05=1.0"],
    }


def setup_dvc(cwd: Path, n: int, exe: str) -> dict[str, list[str]]:
    (cwd / "peer_stage.py").write_text(PEER_STAGE)
    subprocess.run([exe, "init", "--no-scm", "-q"], cwd=cwd, check=True)
    params = {f"s{k:02d}": {"offset": 0.0} for k in range(1, STAGES + 1)}
    (cwd / "params.yaml").write_text(json.dumps(params))
    lines = ["stages:"]
    for k in range(1, STAGES + 1):
        lines += [
            f"  s{k:02d}:",
            f"    cmd: {_stage_cmd(k, n, '${s' + f'{k:02d}' + '.offset}')}",
            "    deps: [peer_stage.py" + (f", s{k - 1:02d}]" if k > 1 else "]"),
            f"    params: [s{k:02d}.offset]",
            f"    outs: [s{k:02d}]",
        ]
    (cwd / "dvc.yaml").write_text("\n".join(lines) + "\n")
    change = (
        "import json; p = json.load(open('params.yaml')); p['s05']['offset'] = 1.0; "
        "json.dump(p, open('params.yaml', 'w'))"
    )
    return {
        "full": [exe, "repro", "-q"],
        "noop": [exe, "repro", "-q"],
        "change": ["sh", "-c", f'{sys.executable} -c "{change}" && {exe} repro -q'],
    }


def setup_bare(cwd: Path, n: int) -> dict[str, list[str]]:
    (cwd / "peer_stage.py").write_text(PEER_STAGE)
    full = " && ".join(_stage_cmd(k, n, "0.0") for k in range(1, STAGES + 1))
    change = " && ".join(_stage_cmd(k, n, "1.0" if k == 5 else "0.0") for k in range(5, STAGES + 1))
    return {"full": ["sh", "-c", full], "change": ["sh", "-c", change]}


#: Runs a command and prints, as the last line, its own wall seconds (timed around it, so
#: the wrapper's interpreter start, ~50 ms here, is not counted against any tool), the peak
#: RSS (KiB) of its largest process and the CPU seconds (user + system) of all its processes.
PEAK_WRAPPER = (
    "import resource, subprocess, sys, time; "
    "t = time.perf_counter(); "
    "code = subprocess.call(sys.argv[1:]); "
    "t = time.perf_counter() - t; "
    "usage = resource.getrusage(resource.RUSAGE_CHILDREN); "
    "print(t, usage.ru_maxrss, usage.ru_utime + usage.ru_stime, file=sys.stderr); "
    "sys.exit(code)"
)


#: The environment of every command this benchmark runs (see ``--bytecode``).
ENV = dict(os.environ, CI="1")


def _timed(cmd: list[str], cwd: Path) -> tuple[float, float, float]:
    """Wall seconds, the peak RSS (MiB) of the largest process of this command and the
    CPU seconds of all its processes."""
    done = subprocess.run(
        [sys.executable, "-c", PEAK_WRAPPER, *cmd], cwd=cwd, env=ENV, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    wall, peak_kib, cpu = done.stderr.strip().splitlines()[-1].split()
    return float(wall), int(peak_kib) / 1024, float(cpu)


def _setup(tool: str, cwd: Path, n: int, exe: str | None) -> dict[str, list[str]]:
    if tool == "holopipe":
        return setup_holopipe(cwd, n)
    if tool == "holopipe-chunked":
        return setup_holopipe(cwd, n, per_file=CHUNK)
    if tool == "snakemake":
        return setup_snakemake(cwd, n, exe or "snakemake")
    if tool == "dvc":
        return setup_dvc(cwd, n, exe or "dvc")
    return setup_bare(cwd, n)


def warm_up(tool: str, exe: str | None, disk: Disk) -> None:
    """Run the tool's commands once on 2 systems, untimed, writing the bytecode they
    import into the cache (``ENV["PYTHONPYCACHEPREFIX"]``)."""
    env = {k: v for k, v in ENV.items() if k != "PYTHONDONTWRITEBYTECODE"}
    tmp = disk.folder(f"warm-{tool}")
    cmds = _setup(tool, tmp, 2, exe)
    for name in ("full", "noop", "change"):
        if name in cmds:
            wrapped = [sys.executable, "-c", PEAK_WRAPPER, *cmds[name]]
            subprocess.run(wrapped, cwd=tmp, env=env, capture_output=True, check=True)
    disk.removed()  # the warm-up's change may have removed a few files
    disk.release(tmp)


def measure(tool: str, n: int, repeat: int, exe: str | None, disk: Disk) -> dict[str, float]:
    figures: dict[str, list[float]] = {
        "full": [], "noop": [], "change": [], "peak_mib": [], "full_cpu": [], "change_cpu": []
    }  # fmt: skip
    if "PYTHONPYCACHEPREFIX" in ENV:
        warm_up(tool, exe, disk)
    for _ in range(repeat):
        cwd = disk.folder(tool)
        cmds = _setup(tool, cwd, n, exe)
        disk.settle()
        wall, peak, cpu = _timed(cmds["full"], cwd)
        figures["full"].append(wall)
        figures["peak_mib"].append(peak)
        figures["full_cpu"].append(cpu)
        if "noop" in cmds:
            figures["noop"].append(_timed(cmds["noop"], cwd)[0])
        disk.settle()
        wall, _, cpu = _timed(cmds["change"], cwd)
        disk.removed()
        disk.release(cwd)
        figures["change"].append(wall)
        figures["change_cpu"].append(cpu)
    return {k: statistics.median(v) for k, v in figures.items() if v}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--systems", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--tools",
        default="holopipe,holopipe-chunked,dvc,snakemake,bare",
        help="holopipe: one file per system, as the peers; holopipe-chunked: the same "
        f"stages writing {CHUNK} systems per file",
    )
    parser.add_argument("--dvc", default=shutil.which("dvc"))
    parser.add_argument("--snakemake", default=shutil.which("snakemake"))
    add_bytecode_option(parser)
    add_disk_options(parser)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-peers-") as scratch:
        cache = Path(scratch) / "pycache"
        if args.bytecode == "cached":
            ENV["PYTHONPYCACHEPREFIX"] = str(cache)  # written by the warm-ups, read by the rest
        disk = choose_disk(args.disk, Path(scratch), args.settle, args.systems)
        if disk is None:
            return 2
        code = _measure_all(args, disk)
        print(disk.describe())
        print("removing the benchmark's folders ...", flush=True)
    return code


def _measure_all(args: argparse.Namespace, disk: Disk) -> int:
    bytecode = f"bytecode {args.bytecode}"
    print(f"9 stages x {args.systems} systems, median of {args.repeat} fresh runs, {bytecode}")
    print(f"{'tool':<16} {'full s':>9} {'no-op s':>9} {'5-9 s':>9} {'peak MiB':>9}"
          f" {'full cpu s':>11} {'5-9 cpu s':>10}")  # fmt: skip
    for tool in args.tools.split(","):
        exe = {"dvc": args.dvc, "snakemake": args.snakemake}.get(tool)
        if tool in ("dvc", "snakemake") and not exe:
            print(f"{tool:<16} not installed (pip install {tool})")
            continue
        m = measure(tool, args.systems, args.repeat, exe, disk)
        noop = f"{m['noop']:9.2f}" if "noop" in m else f"{'-':>9}"
        print(
            f"{tool:<16} {m['full']:9.2f} {noop} {m['change']:9.2f} {m['peak_mib']:9.0f}"
            f" {m['full_cpu']:11.2f} {m['change_cpu']:10.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
