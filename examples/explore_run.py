"""Explore a finished run from Python, the way a notebook would.

Run: ``python examples/explore_run.py [RUN_DIR]`` (default ``runs/toy``, made by
``holopipe run --experiment toy --config configs/toy.json --to 06``).

Everything is found through ``run_manifest.json``: no globbing, no guessing.
"""

import sys
from pathlib import Path

from holopipe.artifacts import EigenmodesDataset, GeometryPrediction, RunManifest

run_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("runs/toy")
manifest = RunManifest.read(run_dir / "run_manifest.json")

for key, record in sorted(manifest.stages.items()):
    print(
        f"{key:36s} {record.status:8s} {len(record.outputs):4d} outputs  {record.duration_s:.2f} s"
    )

# The predictions of stage 02, each validated on reading.
producer = manifest.aliases["predictions"].split("/", 1)[0]
predictions = [
    GeometryPrediction.read(run_dir / entry.path)
    for entry in manifest.stages[producer].outputs
    if entry.name == "predictions"
]
for g in predictions:
    print(f"{g.meta.system_id:32s} {g.meta.family:9s} d={g.meta.d} z_h={g.meta.z_h}")
print(predictions[0].to_xarray())

# The eigenmodes dataset of stage 06 as an xarray Dataset: usable rows only.
producer = manifest.aliases["bulk_eigenmodes"].split("/", 1)[0]
(csv_entry,) = [
    e
    for e in manifest.stages[producer].outputs
    if e.name == "bulk_eigenmodes" and e.path.endswith(".csv")
]
modes = EigenmodesDataset.read(run_dir / csv_entry.path).to_xarray()
usable = modes.where(modes["quality"] == "ok", drop=True)
print(f"{usable.sizes['row']} usable eigenmode rows of {modes.sizes['row']}")
