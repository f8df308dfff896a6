"""Hostile files, memory: declared sizes are checked before anything is read (issue 7 item 9).

Each case runs ``holopipe validate`` in a child process under an address-space limit (so a
regression fails with exit 3 instead of taking the machine down) and reports the child's
peak RSS, which must stay under a few hundred MB.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from holopipe.artifacts import GeometryPrediction, SandboxGeometry
from holopipe.artifacts.io import npz_bytes
from holopipe.artifacts.safety import DEFAULT_MAX_ARRAY_BYTES, MAX_ARRAY_BYTES_ENV

#: The promise: validating any single file stays under this peak RSS.
RSS_LIMIT_MB = 400
#: The child's address-space ceiling: far above the promise, far below the machine.
ADDRESS_SPACE_LIMIT = 3 * 1024**3

_CHILD = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
from holopipe.cli.app import main
sys.argv = ["holopipe", "validate", *sys.argv[1:]]
code = 0
try:
    main()
except SystemExit as exc:
    code = exc.code
# VmHWM: this interpreter's own peak. ru_maxrss would also count the pages of the (large)
# pytest process that forked it, which Linux carries across exec.
with open("/proc/self/status") as status:
    peak_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print("MAXRSS_KB", peak_kb, file=sys.stderr)
sys.exit(code)
"""


def validate_in_child(*args: str | Path, env: dict[str, str] | None = None, timeout: float = 120):
    """``holopipe validate ARGS`` in a fresh interpreter: (exit code, stdout, stderr, peak MB)."""
    child_env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", **(env or {})}
    done = subprocess.run(
        [sys.executable, "-c", _CHILD.format(limit=ADDRESS_SPACE_LIMIT), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=child_env,
        check=False,
    )
    peak = [line for line in done.stderr.splitlines() if line.startswith("MAXRSS_KB")]
    assert peak, done.stderr
    return done.returncode, done.stdout, done.stderr, int(peak[-1].split()[1]) / 1024


def _npy_header_only(shape: tuple[int, ...], dtype: str = "<f8") -> bytes:
    """A .npy member whose header declares ``shape`` and which holds no data at all."""
    buffer = io.BytesIO()
    header = {"descr": dtype, "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue()


def test_npz_member_declaring_1e11_float64_is_too_large_in_bounded_memory(tmp_path):
    good = GeometryPrediction.example()
    members = {"z": good.z, "A": good.A, "f": good.f}
    archive = io.BytesIO(npz_bytes(members))
    with zipfile.ZipFile(archive, "a") as zf:
        zf.writestr("huge.npy", _npy_header_only((100_000_000_000,)))
    path = tmp_path / "huge_geometry.npz"
    path.write_bytes(archive.getvalue())
    assert path.stat().st_size < 10_000

    code, out, err, peak_mb = validate_in_child(path)
    assert code == 2, out + err
    assert f"{path}: error too_large [huge]" in out
    assert "shape (100000000000,) float64 = 800000000000 bytes" in out
    assert "internal error" not in err and "Traceback" not in err
    assert peak_mb < RSS_LIMIT_MB


def _sandbox_with_huge_variable(path: Path, n: int) -> Path:
    import netCDF4

    SandboxGeometry.example().write(path)
    with netCDF4.Dataset(path, "a") as ds:
        group = ds.groups["boundary"]
        group.createDimension("n_huge", n)
        group.createVariable("G2_huge", "f8", ("n_huge",), chunksizes=(1 << 20,))
    return path


def test_hdf5_dataset_declaring_2e9_elements_is_too_large_in_bounded_memory(tmp_path):
    path = _sandbox_with_huge_variable(tmp_path / "huge.nc", 2_000_000_000)
    assert path.stat().st_size < 200_000  # no chunk was ever written

    code, out, err, peak_mb = validate_in_child(path)
    assert code == 2, out + err
    assert f"{path}: error too_large [boundary/G2_huge]" in out
    assert "16000000000 bytes" in out
    assert "Traceback" not in err
    assert peak_mb < RSS_LIMIT_MB


def test_the_limit_is_a_setting(tmp_path):
    path = GeometryPrediction.example().write(tmp_path / "g_geometry.npz")
    code, out, err, _ = validate_in_child(path, env={MAX_ARRAY_BYTES_ENV: "64"})
    assert code == 2 and f"{path}: error too_large" in out and MAX_ARRAY_BYTES_ENV in out
    assert validate_in_child(path)[0] == 0  # the default admits every artifact we write

    code, out, err, _ = validate_in_child(path, env={MAX_ARRAY_BYTES_ENV: "lots"})
    assert code == 2 and out == ""
    expected = f"{MAX_ARRAY_BYTES_ENV}='lots': expected a positive whole number of bytes"
    assert err.splitlines()[0] == f"holopipe validate: {expected}"


def test_default_limit_is_documented_in_the_readme():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert MAX_ARRAY_BYTES_ENV in readme
    assert DEFAULT_MAX_ARRAY_BYTES == 256 * 1024**2 and "256 MiB" in readme


@pytest.mark.parametrize("kind", ["json", "csv"])
def test_text_artifacts_over_the_limit_are_not_read(tmp_path, kind):
    from holopipe.artifacts import EigenmodesDataset, StageSummary

    if kind == "json":
        path = StageSummary.example().write(tmp_path / "stage_summary.json")
    else:
        path = EigenmodesDataset.example().write(tmp_path / "modes.csv")
    size = path.stat().st_size
    code, out, _, _ = validate_in_child(path, env={MAX_ARRAY_BYTES_ENV: str(size - 1)})
    assert code == 2
    assert f"too_large [<file>]: {size} bytes, over the limit of {size - 1} bytes" in out


def test_zip_declaring_too_many_members_is_too_large(tmp_path):
    from holopipe.artifacts.safety import MAX_ZIP_MEMBERS

    path = tmp_path / "many_geometry.npz"
    with zipfile.ZipFile(path, "w") as zf:
        for i in range(MAX_ZIP_MEMBERS + 1):
            zf.writestr(f"m{i}.npy", b"")
    code, out, _, _ = validate_in_child("--schema", "GeometryPrediction", path)
    assert code == 2 and f"{path}: error too_large [<file>]: declares {MAX_ZIP_MEMBERS + 1}" in out
