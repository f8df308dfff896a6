"""Stage 01 generate_sandbox_geometries, run through holopipe.pipeline.

Truth checks are against the closed forms of PHYSICS.md written out here by hand (the metric
table, T = n / (4 pi z_h^zeta), c = 1 and G2 = x^(-2 Delta) for AdS, the BTZ correlator), never
against numbers the code produced.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import subprocess
import sys

import netCDF4
import numpy as np
import pytest

from holopipe.artifacts.identity import system_id
from holopipe.artifacts.sandbox import SandboxGeometry
from holopipe.artifacts.sandbox_index import SandboxIndex
from holopipe.data.sandbox import SandboxSpec, UniversePlan, generate_universe, plan_universes
from holopipe.pipeline import RunRequest, resolve_config, run_pipeline
from holopipe.run.config import ConfigError
from holopipe.science.geometry import FamilyParams, horizon_temperature

STAGE = "holopipe.stages.s01_sandbox:GenerateSandboxGeometries"
STAGE_DIR = "01_generate_sandbox_geometries"


def run(tmp_path, experiment="t", seed=1, params=None, jobs=1):
    config = tmp_path / f"config_{experiment}.json"
    config.write_text(
        json.dumps({"seed": seed, "pipeline": [STAGE], "stages": {"01": params or {}}})
    )
    # From tmp_path: the outside-writes gate watches the working directory.
    with contextlib.chdir(tmp_path):
        code = run_pipeline(
            RunRequest(tmp_path / "runs", experiment, config_path=config, jobs=jobs), echo=print
        )
    return code, tmp_path / "runs" / experiment / STAGE_DIR


def file_hashes(stage_dir):
    return {
        str(p.relative_to(stage_dir)): hashlib.sha256(p.read_bytes()).hexdigest()
        for folder in ("sandbox", "sandbox_index")
        for p in sorted((stage_dir / folder).iterdir())
    }


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory):
    """The default (toy) config, seed 1."""
    code, stage_dir = run(tmp_path_factory.mktemp("s01"))
    universes = [SandboxGeometry.read(p) for p in sorted((stage_dir / "sandbox").iterdir())]
    return code, stage_dir, universes


# -- the run and its artifacts --------------------------------------------------------------
def test_default_run_writes_valid_universes_and_index(toy_run):
    code, stage_dir, universes = toy_run
    assert code == 0
    summary = json.loads((stage_dir / "stage_summary.json").read_text())
    assert summary["status"] == "OK"
    spec = SandboxSpec()
    assert (
        len(universes)
        == len(spec.families) * spec.n_per_family
        == summary["counts"]["outputs_rows"]
    )
    index = SandboxIndex.read(stage_dir / "sandbox_index" / "sandbox_index.json")
    run_root = stage_dir.parent
    by_id = {u.meta.system_id: u for u in universes}
    assert {e.system_id for e in index.systems} == set(by_id)
    for entry in index.systems:
        universe = SandboxGeometry.read(run_root / entry.file)  # through the run's alias
        assert universe.meta.system_id == entry.system_id
        assert (entry.family, entry.d, entry.z_h, entry.params) == (
            universe.meta.family, universe.meta.d, universe.meta.z_h, universe.meta.params,
        )  # fmt: skip
        assert entry.system_name == f"{entry.family}_d{entry.d}_{universe.meta.index:03d}"
    assert {u.meta.family for u in universes} == {"ads", "lifshitz", "hvlf", "deformed"}
    # The first ads and deformed universes are at T = 0, every other one is thermal.
    zero_t = sorted(u.meta.system_name.split("_")[0] for u in universes if u.meta.z_h is None)
    assert zero_t == ["ads", "deformed"]


def test_system_id_is_derived_from_the_defining_physics(toy_run):
    _, _, universes = toy_run
    for u in universes:
        defining = {
            "family": u.meta.family,
            "d": u.meta.d,
            "z_h": u.meta.z_h,
            "params": u.meta.params,
            "operator_dimensions": [op.Delta for op in u.truth.operators],
        }
        assert u.meta.system_id == system_id(defining, name=u.meta.system_name)


def test_same_seed_gives_identical_bytes_for_any_number_of_workers(tmp_path, toy_run):
    _, reference_dir, _ = toy_run
    reference = file_hashes(reference_dir)
    for experiment, jobs in (("again", 1), ("parallel", 2)):
        code, stage_dir = run(tmp_path, experiment, jobs=jobs)
        assert code == 0
        assert file_hashes(stage_dir) == reference
    code, stage_dir = run(tmp_path, "other_seed", seed=2)
    assert code == 0
    assert file_hashes(stage_dir) != reference


def test_a_universe_depends_on_seed_and_index_only():
    """Dropping families shifts no draw of the universes that keep their index."""
    full = plan_universes(SandboxSpec(families=["ads", "lifshitz"], n_per_family=2), seed=5)
    alone = plan_universes(SandboxSpec(families=["ads"], n_per_family=2), seed=5)
    assert alone == full[:2]
    assert plan_universes(SandboxSpec(families=["ads"], n_per_family=2), seed=6) != alone


# -- truth: PHYSICS.md closed forms -----------------------------------------------------------
def blackening_exponent(family, d, params):
    if family in ("ads", "deformed"):
        return d
    return d - 1 + params["zeta"] - params.get("theta", 0.0)


def expected_warp(family, d, params, z):
    """(A_x, A_t) of the metric table."""
    if family == "ads":
        return -np.log(z), -np.log(z)
    if family == "deformed":
        return -np.log(z) + params["a"] * z**2, -np.log(z) + params["a"] * z**2
    shift = params.get("theta", 0.0) / (d - 1)
    return -(1 - shift) * np.log(z), -(params["zeta"] - shift) * np.log(z)


def test_truth_is_the_closed_form_geometry(toy_run):
    _, _, universes = toy_run
    for u in universes:
        meta, truth = u.meta, u.truth
        z, d = truth.z_grid, meta.d
        A_x, A_t = expected_warp(meta.family, d, meta.params, z)
        np.testing.assert_allclose(truth.A_truth, A_x, rtol=1e-12, atol=1e-12)
        stored_A_t = truth.A_t_truth if truth.A_t_truth is not None else truth.A_truth
        np.testing.assert_allclose(stored_A_t, A_t, rtol=1e-12, atol=1e-12)
        assert truth.f_truth[0] == pytest.approx(1.0, abs=1e-3)  # f(0) = 1
        assert z[0] > 0 and np.all(np.diff(z) > 0)
        for op in truth.operators:
            assert op.m2 == pytest.approx(op.Delta * (op.Delta - d), rel=1e-14)
        if meta.z_h is None:
            assert meta.temperature == 0 and np.all(truth.f_truth == 1)
            continue
        n = blackening_exponent(meta.family, d, meta.params)
        np.testing.assert_allclose(truth.f_truth, 1 - (z / meta.z_h) ** n, rtol=1e-12, atol=1e-14)
        assert np.all(truth.f_truth > 0) and z[-1] < meta.z_h  # exact f, inside (0, z_h)
        zeta = meta.params.get("zeta", 1.0)
        assert meta.temperature == pytest.approx(n / (4 * math.pi * meta.z_h**zeta), rel=1e-12)
        assert u.boundary.temperature == meta.temperature
        # The horizon can be read off the stored arrays (the stage 04 temperature contract).
        horizon = horizon_temperature(z, stored_A_t, truth.A_truth, truth.f_truth)
        assert horizon is not None
        assert horizon.z_h == pytest.approx(meta.z_h, rel=1e-6)
        assert horizon.temperature == pytest.approx(meta.temperature, rel=1e-3)


def test_ads_c_function_is_one_and_operators_are_truth_only(toy_run):
    _, stage_dir, universes = toy_run
    ads = [u for u in universes if u.meta.family == "ads"]
    assert ads
    for u in ads:
        np.testing.assert_allclose(u.truth.c_function, 1.0, rtol=1e-9)
        np.testing.assert_allclose(u.truth.R_truth, -u.meta.d * (u.meta.d + 1), rtol=1e-12)
    for path in (stage_dir / "sandbox").iterdir():
        with netCDF4.Dataset(path) as ds:
            boundary = ds.groups["boundary"]
            assert set(boundary.ncattrs()) == {"exact", "method"}
            assert all(name == "x_grid" or name == "temperature" or name.startswith("G2_")
                       for name in boundary.variables)  # fmt: skip
            assert "operators" in ds.groups["bulk_truth"].ncattrs()


# -- boundary data carry bulk information -------------------------------------------------------
def plan(family, d, z_h, deltas=(1.7, 2.6), **params):
    geometry = FamilyParams(family, d, z_h, **params)
    name = f"{family}_d{d}_900"
    sid = system_id({"family": family, "d": d, "z_h": z_h, "params": params}, name=name)
    return UniversePlan(900, 1, name, sid, geometry, tuple(deltas))


SMALL = SandboxSpec(n_x=120, n_z=64)


def test_zero_temperature_ads_gives_the_exact_power_law():
    u = generate_universe(plan("ads", 3, None), SMALL)
    x = u.boundary.x_grid
    assert u.boundary.exact and u.boundary.method == "geodesic"
    for op in u.truth.operators:
        np.testing.assert_allclose(u.boundary.G2[op.name], x ** (-2 * op.Delta), rtol=1e-7)


def test_btz_is_exact_for_ads_in_two_dimensions():
    u = generate_universe(plan("ads", 2, 0.9), SMALL)
    x, T = u.boundary.x_grid, u.meta.temperature
    assert T == pytest.approx(2 / (4 * math.pi * 0.9), rel=1e-14)
    assert u.boundary.exact and u.boundary.method == "btz_exact"
    for op in u.truth.operators:
        btz = (math.pi * T / np.sinh(math.pi * T * x)) ** (2 * op.Delta)
        np.testing.assert_allclose(u.boundary.G2[op.name], btz, rtol=1e-10)


def test_other_boundary_data_are_marked_approximate():
    for family, params in (("deformed", {"a": 0.2}), ("lifshitz", {"zeta": 1.5})):
        assert not generate_universe(plan(family, 3, 1.0, **params), SMALL).boundary.exact
    assert not generate_universe(plan("ads", 3, 1.0), SMALL).boundary.exact


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (("deformed", 3, None, {"a": 0.1}), ("deformed", 3, None, {"a": -0.1})),
        (("deformed", 3, 1.0, {"a": 0.1}), ("deformed", 3, 1.0, {"a": 0.2})),
        (("ads", 3, 0.9, {}), ("ads", 3, 1.1, {})),
        (("lifshitz", 3, 1.0, {"zeta": 1.3}), ("lifshitz", 3, 1.0, {"zeta": 1.8})),
    ],
)
def test_boundary_data_see_the_bulk(first, second):
    """Universes that differ only in a, z_h or zeta have different G2 (not just different T)."""
    (f1, d1, z1, p1), (f2, d2, z2, p2) = first, second
    g1 = generate_universe(plan(f1, d1, z1, **p1), SMALL).boundary.G2["O1"]
    g2 = generate_universe(plan(f2, d2, z2, **p2), SMALL).boundary.G2["O1"]
    assert np.max(np.abs(np.log(g1 / g2))) > 1e-3


# -- invalid configs fail before anything runs ----------------------------------------------------
@pytest.mark.parametrize(
    ("params", "key"),
    [
        ({"d_values": [1, 3]}, "d_values"),
        ({"z_h_range": [0.0, 1.0]}, "z_h_range"),
        ({"families": []}, "families"),
        ({"d_values": [2, 3], "theta_range": [0.2, 1.5]}, "theta_range"),
    ],
)
def test_invalid_config_fails_holopipe_run_naming_the_key(tmp_path, params, key):
    config = tmp_path / "bad.json"
    config.write_text(json.dumps({"seed": 1, "pipeline": [STAGE], "stages": {"01": params}}))
    proc = subprocess.run(
        [sys.executable, "-m", "holopipe", "run", "--experiment", "bad", "--config", str(config),
         "--runs-dir", str(tmp_path / "runs")],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert f"stages.01: {key}:" in proc.stderr
    assert not (tmp_path / "runs" / "bad" / STAGE_DIR).exists()


@pytest.mark.parametrize(
    ("params", "key"),
    [
        ({"z_h_range": [-1.0, -0.5]}, "z_h_range"),
        ({"z_h_range": [1.2, 0.8]}, "z_h_range"),
        ({"families": ["ads", "hyperscaling"]}, "families"),
        ({"families": ["ads", "ads"]}, "families"),
        ({"theta_range": [-0.1, 0.3]}, "theta_range"),
        ({"zeta_range": [0.5, 1.5]}, "zeta_range"),
        ({"a_range": [0.0, 0.5], "z_h_range": [0.8, 1.2]}, "a_range"),
        ({"zero_temperature_per_family": 4}, "zero_temperature_per_family"),
        ({"delta_range": [0.2, 2.0], "d_values": [4]}, "delta_range"),
        ({"n_z": 4}, "n_z"),
        ({"x_range": [0.0, 1.5]}, "x_range"),
        ({"z_min": 2.0}, "z_min"),
    ],
)
def test_invalid_config_is_a_config_error_naming_the_key(tmp_path, params, key):
    config = tmp_path / "bad.json"
    config.write_text(json.dumps({"seed": 1, "pipeline": [STAGE], "stages": {"01": params}}))
    with pytest.raises(ConfigError, match=f"stages.01: {key}:"):
        resolve_config(config)
