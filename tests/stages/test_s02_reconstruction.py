"""Stage 02 emergent_geometry_engine: reconstruction from boundary data only.

Round trips are checked against the analytic geometries of PHYSICS.md (A = -ln z + a z^2 at
T = 0, with the 5e-4 tolerance for 400 boundary points; family and z_h from T at T > 0), and the
engine is shown not to read the truth: corrupting the truth group leaves its predictions
byte-identical.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import shutil

import netCDF4
import numpy as np
import pytest
from scipy.optimize import brentq

from holopipe.artifacts.identity import system_id
from holopipe.artifacts.prediction import GeometryPrediction
from holopipe.artifacts.sandbox import SandboxGeometry
from holopipe.data.sandbox import SandboxSpec, UniversePlan, generate_universe
from holopipe.pipeline import RunRequest, resolve_config, run_pipeline, run_stage
from holopipe.run.config import ConfigError
from holopipe.science.geometry import FamilyParams
from holopipe.science.sturm_liouville import ConformalGeometry, solve_scalar_modes_on

S01 = "holopipe.stages.s01_sandbox:GenerateSandboxGeometries"
S02 = "holopipe.stages.s02_reconstruction:EmergentGeometryEngine"
STAGE_DIR = "02_emergent_geometry_engine"


def plan(family, d, z_h, index, deltas=(1.8, 2.6), **params):
    geometry = FamilyParams(family, d, z_h, **params)
    name = f"{family}_d{d}_{index:03d}"
    sid = system_id({"family": family, "d": d, "z_h": z_h, "params": params}, name=name)
    return UniversePlan(index, 1, name, sid, geometry, tuple(deltas))


def write_universes(folder, plans, spec=None):
    folder.mkdir(parents=True, exist_ok=True)
    for p in plans:
        generate_universe(p, spec or SandboxSpec()).write(folder / f"{p.system_name}.nc")
    return folder


def run_02(tmp_path, sandbox, experiment="t", jobs=1, params=None):
    config = tmp_path / f"config_{experiment}.json"
    stages = {"02": params} if params else {}
    config.write_text(json.dumps({"seed": 1, "pipeline": [S01, S02], "stages": stages}))
    with contextlib.chdir(tmp_path):  # the outside-writes gate watches the working directory
        code = run_stage(
            RunRequest(
                tmp_path / "runs",
                experiment,
                config_path=config,
                cli_inputs={"sandbox": sandbox},
                jobs=jobs,
            ),
            "02",
        )
    stage_dir = tmp_path / "runs" / experiment / STAGE_DIR
    summary = json.loads((stage_dir / "stage_summary.json").read_text())
    folder = stage_dir / "predictions"
    predictions = {}
    if folder.exists():
        for path in sorted(folder.iterdir()):
            prediction = GeometryPrediction.read(path)
            predictions[prediction.meta.system_id] = prediction
    return code, summary, predictions


def hashes(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


# -- T = 0: Abel round trip -----------------------------------------------------------------------
ROUND_TRIP = [plan("ads", 3, None, 0), plan("deformed", 3, None, 1, a=-0.3),
              plan("deformed", 3, None, 2, a=0.2), plan("deformed", 2, None, 3, a=0.2)]  # fmt: skip


@pytest.fixture(scope="module")
def zero_temperature(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("s02_t0")
    sandbox = write_universes(tmp_path / "sandbox", ROUND_TRIP)
    return tmp_path, sandbox, run_02(tmp_path, sandbox)


def test_abel_round_trip_within_the_physics_tolerance(zero_temperature):
    """PHYSICS.md: A = -ln z + a z^2, a in {0, -0.3, 0.2}, 400 boundary points: error <= 5e-4."""
    _, sandbox, (code, summary, predictions) = zero_temperature
    assert code == 0, summary
    assert SandboxSpec().n_x == 400
    for p in ROUND_TRIP:
        prediction = predictions[p.system_id]
        a = p.geometry.a
        z = prediction.z
        assert z[0] == pytest.approx(0.005, rel=1e-2)  # x_min / 2
        assert z[-1] > 0.6
        assert np.max(np.abs(prediction.A - (-np.log(z) + a * z**2))) <= 5e-4
        np.testing.assert_array_equal(prediction.f, 1.0)
        meta = prediction.meta
        assert meta.z_h is None and meta.temperature == 0
        assert meta.family == p.geometry.family
        if a:
            assert meta.params["a"] == pytest.approx(a, abs=1e-4)
        provenance = meta.provenance
        assert provenance["method"] == "abel_inversion"
        assert set(provenance["residuals"]) == {"ads", "deformed"}
        assert provenance["exact"] == (p.geometry.family == "ads")
        # The dimension was read off the data (truth: 1.8 for O1).
        assert provenance["delta"] == pytest.approx(1.8, rel=1e-6)
    assert summary["metrics"]["zero_temperature.max_A_max_abs_error"] <= 5e-4
    assert summary["metrics"]["zero_temperature.family_accuracy"] == 1.0


# Zeros of J_{+-nu} in closed form for d = 3: nu = 1/2 (m2 = -2): J_{1/2} ~ sin t, J_{-1/2} ~ cos t;
# nu = 3/2 (m2 = 0): J_{3/2} ~ sin t / t - cos t, zeros of tan t = t in (n pi, (n + 1/2) pi).
BESSEL_ZEROS = {
    (-2.0, "standard"): [np.pi * n for n in (1, 2, 3)],
    (-2.0, "alternative"): [np.pi * (n - 0.5) for n in (1, 2, 3)],
    (0.0, "standard"): [
        brentq(lambda t: np.sin(t) - t * np.cos(t), np.pi * n + 0.1, np.pi * (n + 0.5) - 1e-9)
        for n in (1, 2, 3)
    ],
}


@pytest.mark.parametrize(("m2", "quantization"), sorted(BESSEL_ZEROS))
def test_hard_wall_spectrum_of_reconstructed_ads_is_the_bessel_zeros(
    zero_temperature, m2, quantization
):
    """PHYSICS.md scalar check on the stage's own output: pure AdS_4 reconstructed from G2, a
    Dirichlet wall at the deepest turning point: M_n z_IR = j_{+-nu,n} to 1e-5 (psi ~ z^{3/2}
    J_{+-nu}(M z) for Delta_+-), with the solver's error estimates within stage 06's 1e-5."""
    _, _, (_, _, predictions) = zero_temperature
    prediction = predictions[ROUND_TRIP[0].system_id]
    z = prediction.z
    geometry = ConformalGeometry.from_arrays(z, prediction.A, prediction.f, d=3)
    spectrum = solve_scalar_modes_on(
        geometry, m2, n_modes=3, z_ir=z[-1], quantization=quantization, n_grid=192
    )
    np.testing.assert_allclose(
        np.sqrt(spectrum.M2) * z[-1], BESSEL_ZEROS[m2, quantization], rtol=1e-5
    )
    assert np.max(spectrum.M2_error / spectrum.M2) <= 1e-5


def test_predictions_carry_the_sandbox_identity_and_provenance(zero_temperature):
    _, sandbox, (_, summary, predictions) = zero_temperature
    for path in sorted(sandbox.iterdir()):
        universe = SandboxGeometry.read(path)
        meta = predictions[universe.meta.system_id].meta
        assert meta.system_name == universe.meta.system_name
        assert meta.d == universe.meta.d
        assert meta.source_stage == STAGE_DIR
        assert meta.git_sha and meta.git_sha != "unknown"
    assert {s["system_id"] for s in summary["systems"]} == set(predictions)


def test_the_engine_never_reads_the_truth(tmp_path, zero_temperature):
    """Corrupt the truth groups: predictions are byte-identical, only the scoring changes."""
    reference_tmp, sandbox, _ = zero_temperature
    corrupted = tmp_path / "corrupted"
    shutil.copytree(sandbox, corrupted)
    intact = ROUND_TRIP[0].system_name  # one universe keeps its truth, as a control
    for path in corrupted.iterdir():
        if path.stem == intact:
            continue
        with netCDF4.Dataset(path, "a") as ds:
            truth = ds.groups["bulk_truth"]
            truth.variables["A_truth"][:] = truth.variables["A_truth"][:] + 1.0
            truth.setncattr("operators", json.dumps([
                {"name": "O1", "Delta": 9.0, "m2": 9.0 * (9.0 - 3)},
                {"name": "O2", "Delta": 9.5, "m2": 9.5 * (9.5 - 3)},
            ]))  # fmt: skip
    code, summary, _ = run_02(tmp_path, corrupted)
    reference = reference_tmp / "runs" / "t" / STAGE_DIR / "predictions"
    assert hashes(tmp_path / "runs" / "t" / STAGE_DIR / "predictions") == hashes(reference)
    assert code == 1  # the corrupted systems now miss their "truth" by 1: WARNING
    status = {s["system_id"].rsplit("-", 1)[0]: s["status"] for s in summary["systems"]}
    assert status == {
        p.system_name: "OK" if p.system_name == intact else "WARNING" for p in ROUND_TRIP
    }
    metrics = summary["metrics"]
    assert metrics["zero_temperature.max_A_max_abs_error"] == pytest.approx(1.0, abs=1e-3)
    assert metrics["zero_temperature.max_delta_max_rel_error"] == pytest.approx(1 - 1.8 / 9.0)


def test_non_conformal_uv_at_zero_temperature_is_an_error_not_a_guess(tmp_path):
    sandbox = write_universes(
        tmp_path / "sandbox",
        [plan("ads", 3, None, 0), plan("hvlf", 3, None, 1, zeta=1.5, theta=0.6)],
        SandboxSpec(n_z=64),
    )
    code, summary, predictions = run_02(tmp_path, sandbox)
    assert code == 1
    status = {s["system_id"].split("_")[0]: s for s in summary["systems"]}
    assert status["ads"]["status"] == "OK"
    assert status["hvlf"]["status"] == "ERROR"
    assert "not a conformal power law" in status["hvlf"]["error"]
    assert [p.meta.family for p in predictions.values()] == ["ads"]


# -- T > 0: the toy pipeline 01 -> 02 --------------------------------------------------------------
@pytest.fixture(scope="module")
def toy_pipeline(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("s02_toy")
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"seed": 3, "pipeline": [S01, S02]}))
    with contextlib.chdir(tmp_path):
        code = run_pipeline(
            RunRequest(tmp_path / "runs", "toy", config_path=config, jobs=2), echo=print
        )
    run_root = tmp_path / "runs" / "toy"
    return code, run_root, config


def test_thermal_families_are_identified_with_z_h_from_t(toy_pipeline):
    code, run_root, _ = toy_pipeline
    assert code == 0
    summary = json.loads((run_root / STAGE_DIR / "stage_summary.json").read_text())
    assert summary["status"] == "OK"
    universes = {
        u.meta.system_id: u
        for u in map(SandboxGeometry.read, sorted((run_root / "sandbox").iterdir()))
    }
    predictions = [GeometryPrediction.read(p) for p in sorted((run_root / "predictions").iterdir())]
    assert {p.meta.system_id for p in predictions} == set(universes)
    thermal = [p for p in predictions if p.meta.z_h is not None]
    assert {p.meta.family for p in thermal} == {"ads", "lifshitz", "hvlf", "deformed"}
    for prediction in thermal:
        meta = prediction.meta
        truth = universes[meta.system_id].meta
        assert meta.family == truth.family
        # z_h from T with the closed forms: d / (4 pi T), ((n) / (4 pi T))^(1/zeta).
        zeta = meta.params.get("zeta", 1.0)
        n = meta.d - 1 + zeta - meta.params.get("theta", 0.0)
        assert meta.z_h == pytest.approx(
            (n / (4 * math.pi * truth.temperature)) ** (1 / zeta), rel=1e-12
        )
        assert meta.z_h == pytest.approx(truth.z_h, rel=1e-5)
        for name, value in truth.params.items():
            assert meta.params[name] == pytest.approx(value, abs=1e-4)
        provenance = meta.provenance
        assert provenance["method"] == "thermal_template_fit"
        assert set(provenance["residuals"]) == {"ads", "lifshitz", "hvlf", "deformed"}
        best = min(r for r in provenance["residuals"].values() if r is not None)
        assert provenance["residuals"][meta.family] <= best + provenance["tolerance"]
        assert prediction.z[-1] < meta.z_h and np.all(prediction.f > 0)
        if meta.family in ("lifshitz", "hvlf"):
            assert prediction.A_t is not None
    metrics = summary["metrics"]
    assert metrics["thermal.family_accuracy"] == 1.0
    assert metrics["thermal.max_z_h_rel_error"] < 1e-5


def test_jobs_1_and_2_give_identical_predictions(tmp_path, toy_pipeline):
    _, run_root, config = toy_pipeline
    with contextlib.chdir(tmp_path):
        code = run_pipeline(
            RunRequest(tmp_path / "runs", "serial", config_path=config, jobs=1), echo=print
        )
    assert code == 0
    serial = tmp_path / "runs" / "serial" / STAGE_DIR / "predictions"
    assert hashes(serial) == hashes(run_root / STAGE_DIR / "predictions")


# -- config --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("params", "key"),
    [({"families": []}, "families"), ({"families": ["btz"]}, "families"), ({"n_z": 3}, "n_z"),
     ({"max_abs_A_error": 0.0}, "max_abs_A_error")],
)  # fmt: skip
def test_invalid_engine_config_names_the_key(tmp_path, params, key):
    config = tmp_path / "bad.json"
    config.write_text(json.dumps({"seed": 1, "pipeline": [S01, S02], "stages": {"02": params}}))
    with pytest.raises(ConfigError, match=f"stages.02: {key}:"):
        resolve_config(config)
