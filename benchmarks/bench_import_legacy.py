"""Importing a generated legacy tree of about 1 200 files (issue 10: seconds, not minutes).

    python benchmarks/bench_import_legacy.py [--systems 200] [--keep]

Generates, in a temporary directory, a legacy tree shaped like the real ones: ``fase*``
folders of sandbox universes (legacy HDF5 layout, 100-point grids, a third with a ``d``
that contradicts the name) with their ``manifest.json`` and the engine's prediction NPZ
files; PySR ``outputs/YYYYMMDD_HHMMSS_xxxxxx/`` runs with ``hall_of_fame.csv`` and a
``checkpoint.pkl``; figures, logs, ``.pyc`` files and a few missing references. Then it
measures (a) the first import (walk, hash, classify, convert, link, write), (b) the no-op
re-import of the unchanged tree and (c) the wall time of the ``holopipe import-legacy``
command on a second experiment (interpreter start-up included).

Target: (a) and (c) well under a minute for ~1 200 files ("seconds, not minutes").
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

TARGET_S = 30.0


def _sandbox(path: Path, name: str, d: int, z_h: float) -> None:
    import netCDF4

    z = np.linspace(0.01, 3.0, 100)
    f = np.clip(1 - (z / z_h) ** d, 0, None)  # legacy: clipped past the horizon
    ops = [{"name": "O1", "Delta": 2.5, "m2L2": 2.5 * (2.5 - d), "spin": 0}]
    with netCDF4.Dataset(path, "w") as ds:
        for key, value in (("name", name), ("family", "ads"), ("category", "known")):
            ds.setncattr(key, value)
        ds.setncattr("d", np.int64(d))
        ds.setncattr("z_h", np.float64(z_h))
        ds.setncattr("operators", json.dumps(ops))
        truth = ds.createGroup("bulk_truth")
        truth.createDimension("z", len(z))
        for key, arr in (("z_grid", z), ("A_truth", -np.log(z)), ("f_truth", f)):
            truth.createVariable(key, "f8", ("z",))[:] = arr
        boundary = ds.createGroup("boundary")
        boundary.createDimension("x", 64)
        x = np.linspace(0.05, 3.0, 64)
        boundary.createVariable("x_grid", "f8", ("x",))[:] = x
        boundary.createVariable("G2_O1", "f8", ("x",))[:] = x ** (-5.0)
        boundary.createVariable("temperature", "f8", ())[...] = d / (4 * np.pi * z_h)
    return z, -np.log(z), f


def generate(root: Path, systems: int) -> int:
    """A legacy tree of about ``6 * systems`` files; returns the number of files."""
    rng = np.random.default_rng(0)
    n = 0
    per_folder = 50
    for start in range(0, systems, per_folder):
        folder = root / f"fase11_run_{start // per_folder:02d}"
        preds = folder / "emergent_geometry_engine" / "predictions"
        preds.mkdir(parents=True)
        geometries = []
        for i in range(start, min(start + per_folder, systems)):
            name = f"ads_d3_Tfinite_known_{i:03d}"
            d = 3 if i % 3 else 4
            z_h = float(rng.uniform(0.8, 1.3))
            z, A, f = _sandbox(folder / f"{name}.h5", name, d, z_h)
            np.savez(
                preds / f"{name}_geometry.npz",
                z=z,
                A_pred=A.astype(np.float32),
                f_pred=f.astype(np.float32),
                R_pred=np.zeros_like(z, dtype=np.float32),
                A_truth=A,
                f_truth=f,
                R_truth=np.zeros_like(z),
                zh_pred=np.float32(z_h),
                zh_truth=z_h,
                family_pred=np.int64(0),
                family_truth=np.int64(0),
                category=np.array("known"),
            )
            geometries.append({"name": name, "family": "ads", "d": d, "file": f"{name}.h5"})
            n += 2
        geometries.append({"name": "lost", "family": "ads", "d": 3, "file": "lost.h5"})
        (folder / "manifest.json").write_text(
            json.dumps({"geometries": geometries, "version": "v3", "config": {}})
        )
        n += 1
    outputs = root / "outputs"
    for i in range(systems):
        run = outputs / f"20251210_0843{i % 60:02d}_{i:06x}"
        run.mkdir(parents=True)
        (run / "hall_of_fame.csv").write_text("Complexity,Loss,Equation\n1,0.5,x0\n3,0.1,x0*x1\n")
        (run / "checkpoint.pkl").write_bytes(pickle.dumps({"state": list(range(50))}, protocol=4))
        (run / "summary.json").write_text(json.dumps({"best": "x0*x1", "loss": float("nan")}))
        (run / "fit.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
        n += 4
    (root / "notes.txt").write_text("legacy notes\n")
    return n + 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--systems", type=int, default=200, help="sandbox universes (6 files each)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    from holopipe.legacy import import_legacy

    tmp = Path(tempfile.mkdtemp(prefix="bench_import_legacy_"))
    t = time.perf_counter()
    files = generate(tmp / "legacy", args.systems)
    print(f"generated {files} legacy files in {time.perf_counter() - t:.1f} s ({tmp / 'legacy'})")
    t = time.perf_counter()
    report = import_legacy(tmp / "legacy", "bench", runs_dir=tmp / "runs")
    first = time.perf_counter() - t
    converted = sum(1 for f in report.files if f.converted)
    print(f"(a) first import: {first:.2f} s for {len(report.files)} files ({converted} converted)")
    t = time.perf_counter()
    again = import_legacy(tmp / "legacy", "bench", runs_dir=tmp / "runs")
    noop = time.perf_counter() - t
    print(f"(b) no-op re-import: {noop:.2f} s ({again.action})")
    command = [
        sys.executable,
        "-m",
        "holopipe",
        "import-legacy",
        str(tmp / "legacy"),
        "-e",
        "bench2",
        "--runs-dir",
        str(tmp / "runs"),
    ]
    t = time.perf_counter()
    done = subprocess.run(
        command, capture_output=True, text=True, check=False, env={**os.environ, "CI": "1"}
    )
    wall = time.perf_counter() - t
    print(f"(c) holopipe import-legacy (command): {wall:.2f} s, exit {done.returncode}")
    print("\n".join(done.stdout.splitlines()[:4]))
    ok = first < TARGET_S and wall < TARGET_S and done.returncode in (0, 1)
    print(f"target: under {TARGET_S:.0f} s -> {'met' if ok else 'NOT met'}")
    if not args.keep:
        import shutil

        shutil.rmtree(tmp)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
