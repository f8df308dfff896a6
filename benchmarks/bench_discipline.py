"""Cost of the discipline gate (issue 13 item 2): the outside-writes walk and the toy run.

    python benchmarks/bench_discipline.py [--entries 50000] [--toy]

(a) Builds, in a temporary directory, a watched place of ``--entries`` files (100 folders)
and times :func:`holopipe.run.discipline.writes_outside` over it: the worst case of one
stage's check at the default entry limit (``MAX_WATCHED_ENTRIES``), per entry and in all.
(b) With ``--toy``: runs ``configs/toy.json`` in a fresh directory and sums the
``discipline_s`` timing of every stage summary (the gate as it runs after each stage:
undeclared files and the watched places), beside the run's own ``total_s``. A skipped
(up-to-date) stage checks nothing, so a no-op rerun pays nothing.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from holopipe.run.discipline import filesystem_now, writes_outside

ROOT = Path(__file__).resolve().parents[1]


def walk_cost(entries: int, repeats: int = 3) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        place = Path(tmp) / "place"
        per_folder = max(1, entries // 100)
        for i in range(100):
            folder = place / f"d{i:03d}"
            folder.mkdir(parents=True)
            for j in range(per_folder - 1):  # the folder itself is an entry too
                (folder / f"f{j}.txt").write_bytes(b"")
        time.sleep(0.05)  # past the filesystem clock's tick: nothing is new
        since = filesystem_now(Path(tmp))
        (place / "d050" / "leak.txt").write_text("leak\n")
        best = float("inf")
        for _ in range(repeats):
            t0 = time.perf_counter()
            watch = writes_outside([place], since, [], cwd=place, limit=entries + 1)
            best = min(best, time.perf_counter() - t0)
        assert watch.found == ("d050/leak.txt",) and watch.complete, watch
        print(
            f"writes_outside: {watch.entries} entries in {best:.3f} s (best of {repeats}), "
            f"{best / watch.entries * 1e6:.1f} us per entry; found {list(watch.found)}"
        )


def toy_cost() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "holopipe", "run", "-e", "toy"]
        cmd += ["--config", str(ROOT / "configs" / "toy.json")]
        done = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True)
        if done.returncode not in (0, 1):
            sys.exit(f"the toy run failed (exit {done.returncode}):\n{done.stderr}")
        print(done.stdout.strip().splitlines()[-1])
        discipline = total = 0.0
        for path in sorted(Path(tmp, "runs", "toy").glob("[0-9]*/stage_summary.json")):
            timings = json.loads(path.read_text())["timings"]
            discipline += timings.get("discipline_s", 0.0)
            total += timings["total_s"]
        print(f"toy run: discipline gate {discipline:.3f} s of {total:.1f} s in the stages")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=50_000)
    parser.add_argument("--toy", action="store_true", help="also time the gate on the toy run")
    args = parser.parse_args()
    walk_cost(args.entries)
    if args.toy:
        toy_cost()


if __name__ == "__main__":
    main()
