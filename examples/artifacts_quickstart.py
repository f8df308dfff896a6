"""Artifact API in five minutes: write, read, validate, inspect as xarray.

Run: ``python examples/artifacts_quickstart.py [OUTPUT_DIR]`` (default: a temporary folder).
"""

import sys
import tempfile
from pathlib import Path

import numpy as np

from holopipe.artifacts import ArtifactError, GeometryPrediction, validate_path

out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp())

# A valid instance to start from: AdS-Schwarzschild, d = 3, z_h = 1.
geometry = GeometryPrediction.example()
path = geometry.write(out / "ads_d3_example_geometry.npz")
print("wrote", path)

# Reading validates; the object is plain typed data.
again = GeometryPrediction.read(path)
assert again == geometry
print(
    "family",
    again.meta.family,
    "d",
    again.meta.d,
    "z_h",
    again.meta.z_h,
    "id",
    again.meta.system_id,
)

# As an xarray Dataset on the z coordinate.
print(again.to_xarray())

# A broken file is reported, not raised: every finding names the field and the problem.
broken = GeometryPrediction(
    z=geometry.z[::-1], A=geometry.A, f=np.append(geometry.f[:-1], np.nan), meta=geometry.meta
)
try:
    broken.write(out / "broken_geometry.npz")
except ArtifactError as exc:
    print("refused to write:", exc)
print("\n".join(validate_path(out / "missing_geometry.npz").lines()))
