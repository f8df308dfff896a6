"""Boundary data of a real theory: reference-table synthesis and the legacy boundary format."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import netCDF4
import numpy as np
import pytest

from holopipe.artifacts.sandbox import SandboxGeometry
from holopipe.data import theory
from holopipe.data.theory import TheoryDataError, read_legacy_boundary, reference_boundary
from holopipe.science.dimensions import measure_dimension

LEGACY_ISING = Path("/work/shared/legacy-samples/fase12_data_boundary/ising_3d.h5")
DELTAS = {"sigma": 0.5181489, "epsilon": 1.412625, "epsilon_prime": 3.82968}


def write_legacy(path: Path, *, x=None, g2=None, d=3, T=0.0, name="ising_3d") -> Path:
    """A file in the fase12_data_boundary layout of LEGACY.md (no bulk_truth, root attrs)."""
    x = np.linspace(0.1, 10.0, 100) if x is None else x
    g2 = {k: (x / x[0]) ** (-2 * v) for k, v in DELTAS.items()} if g2 is None else g2
    with netCDF4.Dataset(path, "w", format="NETCDF4") as ds:
        ds.setncattr("name", name)
        ds.setncattr("d", d)
        ds.setncattr("T", T)
        ds.setncattr("operators", json.dumps([{"name": "sigma", "Delta": 0.518}]))
        group = ds.createGroup("boundary")
        group.createDimension("phony_dim_0", len(x))
        group.createVariable("x_grid", "f8", ("phony_dim_0",))[:] = x
        for key, values in g2.items():
            group.createVariable(f"G2_{key}", "f8", ("phony_dim_0",))[:] = values
    return path


def test_reference_boundary_is_the_exact_power_law_of_each_dimension(tmp_path):
    universe = reference_boundary("ising3d", 3, DELTAS)
    x = universe.boundary.x_grid
    for name, delta in DELTAS.items():
        np.testing.assert_allclose(universe.boundary.G2[name], x ** (-2 * delta), rtol=1e-15)
        assert measure_dimension(x, universe.boundary.G2[name]).delta == pytest.approx(
            delta, abs=1e-12
        )
    meta = universe.meta
    assert (meta.category, meta.family, meta.d, meta.z_h, meta.theory) == (
        "round_trip", "unknown", 3, None, "ising3d",
    )  # fmt: skip
    assert universe.boundary.exact and universe.boundary.method == "reference_table"
    path = universe.write(tmp_path / "ising3d.nc")
    assert SandboxGeometry.read(path) == universe


def test_reference_boundary_ids_depend_on_the_dimensions_only():
    a = reference_boundary("ising3d", 3, DELTAS)
    b = reference_boundary("ising3d", 3, dict(reversed(list(DELTAS.items()))))
    c = reference_boundary("ising3d", 3, DELTAS | {"sigma": 0.52})
    assert a.meta.system_id == b.meta.system_id != c.meta.system_id
    assert a.meta.system_id.startswith("ising3d-")


@pytest.mark.parametrize(
    ("dimensions", "message"),
    [({}, "lists no operator"), ({"bad name": 1.0}, "bad name"), ({"s": -1.0}, "Delta must be")],
)
def test_reference_boundary_rejects_bad_tables(dimensions, message):
    with pytest.raises(TheoryDataError, match=message):
        reference_boundary("t", 3, dimensions)


def test_legacy_boundary_file_is_read_without_its_operator_table(tmp_path):
    path = write_legacy(tmp_path / "ising_3d.h5")
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    universe = read_legacy_boundary(path, "ising3d")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before  # never written
    assert universe.truth is None
    assert sorted(universe.boundary.G2) == sorted(DELTAS)
    assert (universe.meta.system_name, universe.meta.category) == ("ising3d", "legacy_boundary")
    assert universe.boundary.method == "legacy" and not universe.boundary.exact
    x = universe.boundary.x_grid
    measured = measure_dimension(x, universe.boundary.G2["sigma"], window_decades=2)
    assert measured.delta == pytest.approx(DELTAS["sigma"], abs=1e-12)


@pytest.mark.skipif(not LEGACY_ISING.exists(), reason="legacy samples not available")
def test_the_real_legacy_ising_sample():
    universe = read_legacy_boundary(LEGACY_ISING)
    assert sorted(universe.boundary.G2) == ["T", "epsilon", "epsilon_prime", "sigma"]
    assert universe.meta.d == 3 and universe.meta.system_name == "ising_3d"
    x = universe.boundary.x_grid
    # The legacy adapter wrote (x / 0.1)^(-2 Delta) with its rounded dimensions.
    for name, delta in {"sigma": 0.518, "epsilon": 1.41, "epsilon_prime": 3.83, "T": 3.0}.items():
        got = measure_dimension(x, universe.boundary.G2[name], window_decades=2)
        assert got.delta == pytest.approx(delta, abs=1e-10)


_X = np.linspace(0.1, 10.0, 20)
BAD_FILES = [
    ("no_boundary", None, "group 'boundary' is missing"),
    ("T", {"T": 0.5}, "only zero-temperature"),
    ("d", {"d": 2.5}, "expected an integer"),
    ("negative", {"x": _X, "g2": {"sigma": -_X}}, "G2 must be > 0"),
    ("unordered", {"x": _X[::-1], "g2": {"sigma": _X}}, "boundary/x_grid"),
]


@pytest.mark.parametrize(("label", "kwargs", "message"), BAD_FILES)
def test_bad_legacy_boundary_files_are_one_clear_line(tmp_path, label, kwargs, message):
    path = tmp_path / f"{label}.h5"
    if kwargs is None:
        with netCDF4.Dataset(path, "w") as ds:
            ds.setncattr("d", 3)
    else:
        write_legacy(path, **kwargs)
    with pytest.raises(TheoryDataError, match=message) as info:
        read_legacy_boundary(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_hostile_files_are_refused_before_reading(tmp_path, monkeypatch):
    fifo = tmp_path / "pipe.h5"
    os.mkfifo(fifo)
    with pytest.raises(TheoryDataError, match="not a regular file"):
        read_legacy_boundary(fifo)  # would block forever if opened
    text = tmp_path / "text.h5"
    text.write_text("not hdf5")
    with pytest.raises(TheoryDataError, match="no HDF5 signature"):
        read_legacy_boundary(text)
    big = write_legacy(tmp_path / "big.h5")
    monkeypatch.setattr(theory, "MAX_FILE_BYTES", big.stat().st_size - 1)
    with pytest.raises(TheoryDataError, match="bytes, more than"):
        read_legacy_boundary(big)


def test_a_huge_declared_length_is_refused_from_the_shape(tmp_path, monkeypatch):
    path = write_legacy(tmp_path / "long.h5")
    monkeypatch.setattr(theory, "MAX_POINTS", 99)
    with pytest.raises(TheoryDataError, match="declared length 100 exceeds 99"):
        read_legacy_boundary(path)


def test_missing_file_is_one_line(tmp_path):
    with pytest.raises(TheoryDataError, match="cannot be read"):
        read_legacy_boundary(tmp_path / "absent.h5")
