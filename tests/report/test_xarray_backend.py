"""``xr.open_dataset(path, engine="holopipe")``: validated, named dimensions, CF attributes."""

from __future__ import annotations

import json

import attrs
import numpy as np
import pytest
import xarray as xr

from holopipe.artifacts import GeometryPrediction
from holopipe.artifacts.report import ArtifactError


def assert_cf(ds: xr.Dataset) -> None:
    for name, variable in ds.variables.items():
        assert variable.attrs.get("long_name"), name
        if variable.dtype.kind in "iuf":
            assert variable.attrs.get("units") == "1", name


def test_a_prediction_of_the_toy_run(toy_runs):
    path = next((toy_runs.runs / "toy" / "predictions").glob("ads_*_geometry.npz"))
    ds = xr.open_dataset(path, engine="holopipe")
    assert dict(ds.sizes) == {"z": ds.sizes["z"]} and ds.sizes["z"] > 10
    assert ds["A"].dims == ("z",) and ds["f"].dims == ("z",)
    assert ds.attrs["schema_name"] == "GeometryPrediction"
    assert "units of L" in ds["z"].attrs["long_name"]
    assert_cf(ds)
    np.testing.assert_array_equal(ds["A"].values, GeometryPrediction.read(path).A)


def test_a_sandbox_of_the_toy_run(toy_runs):
    path = next((toy_runs.runs / "toy" / "01_generate_sandbox_geometries" / "sandbox").glob("*.nc"))
    ds = xr.open_dataset(path, engine="holopipe")
    assert ds["A_truth"].dims == ("z_grid",) and ds["f_truth"].dims == ("z_grid",)
    assert ds["G2_O1"].dims == ("x_grid",)
    assert ds.attrs["schema_name"] == "SandboxGeometry"
    assert_cf(ds)


def test_the_eigenmodes_dataset(toy_runs):
    path = toy_runs.runs / "toy" / "bulk_eigenmodes" / "bulk_modes_dataset.csv"
    ds = xr.open_dataset(path, engine="holopipe")
    assert ds["M2"].dims == ("row",) and "L^-2" in ds["M2"].attrs["long_name"]
    assert_cf(ds)


def test_engine_is_guessed_only_for_files_that_declare_a_holopipe_schema(toy_runs, tmp_path):
    path = next((toy_runs.runs / "toy" / "predictions").glob("*_geometry.npz"))
    assert "A" in xr.open_dataset(path).data_vars  # no engine given: guessed
    from holopipe.artifacts.xarray_backend import HolopipeBackendEntrypoint

    plain = tmp_path / "plain.npz"
    np.savez(plain, a=np.arange(3.0))
    assert HolopipeBackendEntrypoint().guess_can_open(path)
    assert not HolopipeBackendEntrypoint().guess_can_open(plain)


def test_a_bad_file_raises_with_the_validators_findings(tmp_path):
    good = GeometryPrediction.example()
    meta = json.dumps(
        {"schema_name": "GeometryPrediction", "schema_version": "0.1", **attrs.asdict(good.meta)}
    )
    bad = tmp_path / "bad_geometry.npz"
    z = good.z[::-1].copy()  # z must be strictly increasing
    np.savez(bad, z=z, A=good.A, f=good.f, meta_json=np.array(meta))
    with pytest.raises(ArtifactError) as caught:
        xr.open_dataset(bad, engine="holopipe")
    findings = [f for f in GeometryPrediction.validate_file(bad).lines() if "error" in f]
    assert findings and any("increasing" in f for f in findings)
    for finding in findings:  # the validator's own findings, every one
        assert finding.split(": ", 1)[-1] in str(caught.value)
