"""SandboxGeometry 0.2: boundary-only universes (a real theory's data, no bulk_truth/)."""

from __future__ import annotations

import attrs
import netCDF4
import numpy as np
import pytest
from strategies import codes

from holopipe.artifacts.report import ArtifactError
from holopipe.artifacts.sandbox import BoundaryData, SandboxGeometry


def boundary_only() -> SandboxGeometry:
    example = SandboxGeometry.example()
    x = np.geomspace(0.01, 1.0, 50)
    boundary = BoundaryData(
        x_grid=x,
        G2={"sigma": x ** (-2 * 0.518), "epsilon": x ** (-2 * 1.41)},
        temperature=0.0,
        exact=True,
        method="reference_table",
    )
    meta = attrs.evolve(
        example.meta,
        system_name="ising3d",
        family="unknown",
        d=3,
        z_h=None,
        temperature=0.0,
        category="real_theory",
        theory="ising3d",
    )
    return SandboxGeometry(meta=meta, truth=None, boundary=boundary)


def test_boundary_only_round_trip_has_no_truth_group(tmp_path):
    universe = boundary_only()
    path = universe.write(tmp_path / "ising3d.nc")
    with netCDF4.Dataset(path) as ds:
        assert set(ds.groups) == {"boundary"}
        assert ds.getncattr("theory") == "ising3d"
        assert ds.getncattr("schema_version") == "0.2"
    back = SandboxGeometry.read(path)
    assert back == universe
    assert back.truth is None and back.meta.theory == "ising3d"
    assert SandboxGeometry.validate_file(path).exit_code == 0
    assert universe.write(tmp_path / "again.nc").read_bytes() == path.read_bytes()
    assert set(back.to_xarray().children) == {"boundary"}


def test_boundary_only_without_any_g2_is_invalid_and_not_written(tmp_path):
    universe = boundary_only()
    universe.boundary.G2 = {}
    assert ("missing_g2", "boundary") in codes(universe.validate())
    with pytest.raises(ArtifactError, match="missing_g2"):
        universe.write(tmp_path / "empty.nc")
    assert list(tmp_path.iterdir()) == []


def test_a_sandbox_with_truth_still_requires_g2_of_every_truth_operator():
    universe = SandboxGeometry.example()
    del universe.boundary.G2["O2"]
    assert ("missing_g2", "boundary/G2_O2") in codes(universe.validate())


def test_a_0_1_file_is_read_through_the_migration(tmp_path):
    path = SandboxGeometry.example().write(tmp_path / "ads_d2_example.nc")
    with netCDF4.Dataset(path, "a") as ds:
        ds.setncattr("schema_version", "0.1")
    report = SandboxGeometry.validate_file(path)
    assert report.exit_code == 1
    assert [f.code for f in report.findings] == ["migrated"]
    assert SandboxGeometry.read(path) == SandboxGeometry.example()


def test_a_legacy_file_without_truth_is_still_missing_its_truth(tmp_path):
    path = tmp_path / "legacy.h5"
    with netCDF4.Dataset(path, "w") as ds:
        ds.setncattr("name", "ads_d3_000")
        ds.setncattr("family", "ads")
        ds.setncattr("d", 3)
        g = ds.createGroup("boundary")
        g.createDimension("x", 4)
        g.createVariable("x_grid", "f8", ("x",))[:] = [0.1, 0.2, 0.3, 0.4]
    report = SandboxGeometry.validate_file(path)
    assert ("missing_key", "bulk_truth") in codes(report)
    assert report.exit_code == 2
