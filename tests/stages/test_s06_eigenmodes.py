"""Stage 06 build_bulk_eigenmodes_dataset, run through holopipe.pipeline.run_stage.

Inputs are GeometryPrediction files of EXACT geometries written into tmp_path; every expected
number is analytic (PHYSICS.md): hard-wall masses M_n z_IR = j_{nu,n} (zeros of J_nu, found with
brentq on scipy.special.jv), Delta_+- = d/2 +- nu with nu = sqrt(d^2/4 + m2), and the d = 2 BTZ
screening masses M_n z_h = Delta_+ + 2n.
"""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.special import jv

from holopipe.artifacts.eigenmodes import EigenmodesDataset
from holopipe.artifacts.identity import system_id
from holopipe.artifacts.prediction import GeometryMeta, GeometryPrediction
from holopipe.artifacts.records import StageSummary
from holopipe.pipeline import RunRequest, run_stage
from holopipe.run.config import ConfigError
from holopipe.run.gates import check_inputs
from holopipe.run.layout import RunLayout
from holopipe.run.manifest import ManifestStore
from holopipe.run.publish import last_attempt_dir
from holopipe.run.resolution import resolve_input
from holopipe.science import uv_falloff
from holopipe.science.uv_falloff import (
    UVFalloff,
    UVFalloffBranches,
)

STAGE = "holopipe.stages.s06_eigenmodes:BuildBulkEigenmodesDataset"
STAGE_DIR = "06_build_bulk_eigenmodes_dataset"
HARD_WALL_CASES = [(3, -2.0), (3, 0.0), (4, -3.0), (4, 5.0), (2, -0.75)]
PHYSICS_MASSES = {"2": [-0.75], "3": [-2.0, 0.0], "4": [-3.0, 5.0]}
EXIT = {"OK": 0, "WARNING": 1, "INCOMPLETE": 2, "ERROR": 3}


# ------------------------------------------------------------------ analytic references


def bessel_zeros(order: float, count: int) -> np.ndarray:
    """First zeros of J_order: sign changes of scipy.special.jv refined by brentq."""
    grid = np.arange(1e-3, 60.0, 0.01)
    values = jv(order, grid)
    brackets = np.flatnonzero(values[:-1] * values[1:] < 0)[:count]
    return np.array(
        [brentq(lambda x: jv(order, x), grid[i], grid[i + 1], xtol=1e-15) for i in brackets]
    )


def nu_exact(d: int, m2: float) -> float:
    return math.sqrt(d * d / 4 + m2)


# ------------------------------------------------------------------ inputs and running


def write_prediction(folder, family, d, z, A, f, *, z_h=None, params=None, tag="0", **extra):
    params = params or {}
    name = f"{family}_d{d}_{tag}"
    sid = system_id({"family": family, "d": d, "z_h": z_h, "params": params, "tag": tag}, name=name)
    meta = GeometryMeta(
        system_id=sid,
        family=family,
        d=d,
        z_h=z_h,
        source_stage="test",
        git_sha="test",
        system_name=name,
        params=params,
    )
    GeometryPrediction(z=z, A=A, f=f, meta=meta, **extra).write(folder / f"{name}_geometry.npz")
    return sid


def hard_wall(folder, d, z_ir=1.0, a=0.0, tag="0"):
    """T = 0: A = -ln z + a z^2, f = 1, stored on a log grid ending at z_ir."""
    z = np.geomspace(1e-4, z_ir, 400)
    family = "ads" if a == 0 else "deformed"
    return write_prediction(
        folder,
        family,
        d,
        z,
        -np.log(z) + a * z**2,
        np.ones_like(z),
        params={"a": a} if a else {},
        tag=tag,
    )


def schwarzschild(folder, d, z_h, tag="0"):
    """AdS-Schwarzschild, exact f on the open interval (0, z_h)."""
    z = np.geomspace(1e-4, z_h * (1 - 1e-3), 400)
    return write_prediction(folder, "ads", d, z, -np.log(z), 1 - (z / z_h) ** d, z_h=z_h, tag=tag)


def run(tmp_path, folder, stage_params, jobs=1, experiment="t"):
    config = tmp_path / f"config_{experiment}.json"
    config.write_text(json.dumps({"seed": 1, "pipeline": [STAGE], "stages": {"06": stage_params}}))
    inputs = {"predictions": folder}
    request = RunRequest(tmp_path / "runs", experiment, config, cli_inputs=inputs, jobs=jobs)
    code = run_stage(request, "06")
    # a failed attempt is kept aside in <key>.failed/, never published
    stage_dir = last_attempt_dir(RunLayout.create(tmp_path / "runs", experiment), STAGE_DIR)
    summary = json.loads((stage_dir / "stage_summary.json").read_text())
    assert code == EXIT[summary["status"]]
    return code, summary, stage_dir / "bulk_eigenmodes" / "bulk_modes_dataset.csv"


def read_rows(csv_path):
    report = EigenmodesDataset.validate_file(csv_path)
    assert report.ok, report.lines()
    with open(csv_path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        for key in ("d", "mode_id", "n_grid"):
            row[key] = int(row[key])
        for key in ("m2", "Delta", "M2", "z_uv", "z_ir", "z_h"):
            row[key] = float(row[key])
    assert rows, "no rows: nothing would be checked"
    return rows


def select(rows, **where):
    found = [r for r in rows if all(r[k] == v for k, v in where.items())]
    assert found, f"no rows with {where}"
    return sorted(found, key=lambda r: r["mode_id"])


@pytest.fixture(autouse=True)
def _work_in_tmp(tmp_path, monkeypatch):
    # The stage's outside-writes gate watches the working directory: keep it out of the checkout.
    monkeypatch.chdir(tmp_path)


# ------------------------------------------------------------------ hard wall in pure AdS


def test_hard_wall_rows_are_bessel_zeros_and_deltas_are_exact(tmp_path, folder):
    sids = {d: hard_wall(folder, d) for d in (2, 3, 4)}
    code, summary, csv_path = run(tmp_path, folder, {"masses": PHYSICS_MASSES, "n_modes": 3})
    assert summary["status"] == "OK", summary
    rows = read_rows(csv_path)
    assert all(r["quality"] == "ok" for r in rows)
    assert not [r for r in rows if r["Delta"] < 0]

    for d, m2 in HARD_WALL_CASES:
        order = nu_exact(d, m2)
        plus = select(rows, system_id=sids[d], m2=m2, branch="+")
        assert [r["mode_id"] for r in plus] == [0, 1, 2]
        z_ir = plus[0]["z_ir"]
        assert z_ir == pytest.approx(1.0, rel=1e-12)  # the end of the stored grid
        masses = np.sqrt([r["M2"] for r in plus]) * z_ir
        np.testing.assert_allclose(masses, bessel_zeros(order, 3), rtol=1e-6)
        assert all(abs(r["Delta"] - (d / 2 + order)) < 1e-5 for r in plus)
        minus = [
            r for r in rows if r["system_id"] == sids[d] and r["m2"] == m2 and r["branch"] == "-"
        ]
        if order < 1:  # alternative quantisation: psi = z^{d/2} J_{-nu}(M z)
            masses = np.sqrt([r["M2"] for r in sorted(minus, key=lambda r: r["mode_id"])]) * z_ir
            np.testing.assert_allclose(masses, bessel_zeros(-order, 3), rtol=1e-6)
            assert all(abs(r["Delta"] - (d / 2 - order)) < 1e-5 for r in minus)
        else:
            assert minus == []  # Delta_- is no operator dimension for nu >= 1
        # provenance of every row
        for r in plus:
            assert r["method"].startswith("normal:")
            assert r["z_uv"] == 0.0 and "boundary z = 0" in r["bc_uv"]
            assert "psi = 0" in r["bc_ir"] and r["n_grid"] == 192
    assert summary["metrics"]["rows_ok"] == len(rows)


def test_configured_wall_position_scales_the_spectrum(tmp_path, folder):
    sid = hard_wall(folder, 4, z_ir=2.0)
    code, summary, csv_path = run(tmp_path, folder, {"masses": {"4": [5.0]}, "wall_z_ir": 1.5})
    assert summary["status"] == "OK"
    plus = select(read_rows(csv_path), system_id=sid, branch="+")
    assert plus[0]["z_ir"] == 1.5
    np.testing.assert_allclose(
        np.sqrt([r["M2"] for r in plus]) * 1.5, bessel_zeros(3.0, 3), rtol=1e-6
    )


def test_wall_beyond_the_data_is_an_error_row_not_data(tmp_path, folder):
    sid = hard_wall(folder, 3, z_ir=1.0)
    code, summary, csv_path = run(tmp_path, folder, {"masses": {"3": [0.0]}, "wall_z_ir": 3.0})
    assert summary["status"] == "INCOMPLETE"  # zero ok rows
    (row,) = read_rows(csv_path)
    assert row["quality"] == "error" and math.isnan(row["M2"]) and "z_ir" in row["method"]
    assert any(sid in w for w in summary["warnings"])


# ------------------------------------------------------------------ deformation and thermal


@pytest.mark.parametrize("a", [-0.3, 0.2])
def test_delta_unchanged_by_a_deformation(tmp_path, folder, a):
    sids = {d: hard_wall(folder, d, a=a) for d in (2, 3, 4)}
    code, summary, csv_path = run(tmp_path, folder, {"masses": PHYSICS_MASSES})
    assert summary["status"] == "OK"
    rows = read_rows(csv_path)
    for d, m2 in HARD_WALL_CASES:
        order = nu_exact(d, m2)
        plus = select(rows, system_id=sids[d], m2=m2, branch="+")
        assert all(abs(r["Delta"] - (d / 2 + order)) < 1e-5 for r in plus)
        assert all(r["family"] == "deformed" and r["quality"] == "ok" for r in plus)
        # the deformation does change the spectrum: the rows are not the pure-AdS zeros
        assert not np.allclose(np.sqrt([r["M2"] for r in plus]), bessel_zeros(order, 3), rtol=1e-3)
        if order < 1:
            minus = select(rows, system_id=sids[d], m2=m2, branch="-")
            assert all(abs(r["Delta"] - (d / 2 - order)) < 1e-5 for r in minus)


def test_thermal_rows_are_the_screening_problem_at_the_horizon(tmp_path, folder):
    z_h = 1.3
    btz = schwarzschild(folder, 2, z_h)
    d4 = schwarzschild(folder, 4, 0.8)
    code, summary, csv_path = run(
        tmp_path, folder, {"masses": {"2": [-0.75, -0.5], "4": [-3.0]}, "n_modes": 4}
    )
    assert summary["status"] == "OK", summary
    rows = read_rows(csv_path)
    for m2 in (-0.75, -0.5):  # BTZ: M_n z_h = Delta_+ + 2n (and Delta_- + 2n)
        for branch, delta in (("+", 1 + nu_exact(2, m2)), ("-", 1 - nu_exact(2, m2))):
            found = select(rows, system_id=btz, m2=m2, branch=branch)
            assert found[0]["z_ir"] == pytest.approx(z_h, rel=1e-9)
            np.testing.assert_allclose(
                np.sqrt([r["M2"] for r in found]) * z_h, delta + 2 * np.arange(4), rtol=1e-6
            )
            assert all(abs(r["Delta"] - delta) < 1e-5 for r in found)
            assert all(
                r["method"].startswith("screening:") and "horizon" in r["bc_ir"] for r in found
            )
    found = select(rows, system_id=d4, m2=-3.0, branch="+")
    assert found[0]["z_ir"] == pytest.approx(0.8, rel=1e-6)  # zero of the splined f
    assert all(r["quality"] == "ok" and r["M2"] > 0 and abs(r["Delta"] - 3.0) < 1e-5 for r in found)


def test_thermal_wall_option_solves_normal_modes_before_the_horizon(tmp_path, folder):
    sid = schwarzschild(folder, 3, 8.0)
    code, summary, csv_path = run(
        tmp_path, folder, {"masses": {"3": [1.0]}, "thermal_ir": "wall", "wall_z_ir": 1.0}
    )
    assert summary["status"] == "OK"
    found = select(read_rows(csv_path), system_id=sid, branch="+")
    hard = bessel_zeros(nu_exact(3, 1.0), 3) ** 2
    masses = np.array([r["M2"] for r in found])
    # f = 1 - (z/8)^3 <= 1 with m2 >= 0: min-max puts w^2 just below the hard wall, by O(z_h^-3)
    assert np.all(masses < hard) and np.all(masses > hard * (1 - 5e-2))
    assert all(r["method"].startswith("normal:") and r["z_ir"] == 1.0 for r in found)


# ------------------------------------------------------------------ refusing what is not data


def test_non_conformal_geometries_get_not_applicable_rows(tmp_path, folder):
    ads = hard_wall(folder, 3)
    z = np.geomspace(1e-4, 0.999, 300)
    zeta, theta = 2.0, 0.5
    lifshitz = write_prediction(
        folder,
        "lifshitz",
        3,
        z,
        -np.log(z),
        1 - z ** (3 + zeta - 1),
        z_h=1.0,
        params={"zeta": zeta},
        A_t=-zeta * np.log(z),
    )
    # a file that claims "ads" but stores A_t != A, and one whose UV exponent is not 1 (hvlf-like)
    mislabelled = write_prediction(
        folder, "ads", 3, z, -np.log(z), np.ones_like(z), tag="At", A_t=-zeta * np.log(z)
    )
    slope = 1 - theta / 3
    hv = write_prediction(folder, "unknown", 3, z, -slope * np.log(z), np.ones_like(z), tag="hv")
    code, summary, csv_path = run(tmp_path, folder, {"masses": {"3": [-2.0, 0.0]}})
    assert summary["status"] == "OK" and not summary["warnings"]
    rows = read_rows(csv_path)
    for sid in (lifshitz, mislabelled, hv):
        found = [r for r in rows if r["system_id"] == sid]
        assert sorted(r["m2"] for r in found) == [-2.0, 0.0]  # one row per configured mass
        assert all(
            r["quality"] == "not_applicable" and math.isnan(r["M2"]) and math.isnan(r["Delta"])
            for r in found
        )
    statuses = {s["system_id"]: s["status"] for s in summary["systems"]}
    assert statuses[lifshitz] == statuses[mislabelled] == statuses[hv] == statuses[ads] == "OK"
    assert all(r["quality"] == "ok" for r in rows if r["system_id"] == ads)
    assert any("not of the conformal ansatz" in n for n in summary["notes"])


def test_only_non_conformal_systems_is_incomplete(tmp_path, folder):
    z = np.geomspace(1e-4, 0.999, 300)
    write_prediction(
        folder,
        "lifshitz",
        3,
        z,
        -np.log(z),
        1 - z**4,
        z_h=1.0,
        params={"zeta": 2.0},
        A_t=-2 * np.log(z),
    )
    code, summary, _ = run(tmp_path, folder, {})
    assert summary["status"] == "INCOMPLETE" and code == 2
    assert any("zero 'ok' rows" in e for e in summary["errors"])


def test_negative_delta_becomes_an_error_row_and_a_warning(tmp_path, folder, monkeypatch):
    """A solver bug that returns a negative Delta_+ must surface as an error row, never as data."""
    sid = hard_wall(folder, 3)

    def broken_falloffs(geometry, m2, *, z_probe=None):
        negative = {
            "delta": -1.0,
            "delta_error": 0.0,
            "m2": m2,
            "d": geometry.d,
            "z_window": (1e-4, 1e-3),
            "physical": False,
            "issue": "negative Delta: a source exponent, not an operator dimension",
        }
        return UVFalloffBranches(
            plus=UVFalloff(branch="plus", **negative), minus=UVFalloff(branch="minus", **negative)
        )

    # stage 06 imports it where it calls it: patch it in its science module
    monkeypatch.setattr(uv_falloff, "deltas_from_uv_falloff", broken_falloffs)
    code, summary, csv_path = run(
        tmp_path, folder, {"masses": {"3": [0.0]}}
    )  # jobs=1: in this process
    (row,) = read_rows(csv_path)
    assert (
        row["quality"] == "error" and math.isnan(row["Delta"]) and "negative Delta" in row["method"]
    )
    assert any(sid in w and "negative Delta" in w for w in summary["warnings"])
    assert summary["status"] == "INCOMPLETE"


@pytest.mark.parametrize(
    ("masses", "key"),
    [
        ({"3": [-2.0, -2.3]}, r"masses\.3\[1\]"),
        ({"default": [-1.5]}, r"masses\.default\[0\]"),
        ({"1": [0.0]}, r"masses\.1"),
        ({"4": []}, r"masses\.4"),
    ],
)
def test_masses_below_the_bf_bound_are_refused_at_config_time(tmp_path, folder, masses, key):
    hard_wall(folder, 3)
    with pytest.raises(ConfigError, match=rf"stages\.06.*{key}"):
        run(tmp_path, folder, {"masses": masses})
    assert not (tmp_path / "runs" / "t" / STAGE_DIR).exists()


def test_bad_grid_is_refused_at_config_time(tmp_path, folder):
    hard_wall(folder, 3)
    with pytest.raises(ConfigError, match="n_grid"):
        run(tmp_path, folder, {"n_modes": 20})  # default n_grid 192 < 16 * 20


# ------------------------------------------------------------------ determinism


def test_jobs_1_and_2_give_byte_identical_csv(tmp_path, folder):
    hard_wall(folder, 3)
    hard_wall(folder, 4, a=0.2)
    schwarzschild(folder, 2, 1.0)
    _, one, csv_one = run(tmp_path, folder, {}, jobs=1, experiment="serial")
    _, two, csv_two = run(tmp_path, folder, {}, jobs=2, experiment="parallel")
    assert one["status"] == two["status"] == "OK"
    assert csv_one.read_bytes() == csv_two.read_bytes()
    assert len(read_rows(csv_one)) == one["counts"]["outputs_rows"]


def test_a_crashed_system_gets_error_rows_among_the_others_in_order(tmp_path, folder, monkeypatch):
    """One system's work raises (in a worker at --jobs 2): its masses are still accounted
    for by error rows, placed in the sorted CSV among the rows the other workers checked and
    formatted, the system is ERROR, and the file is the same bytes at --jobs 1 and 2."""
    from holopipe.stages.work import s06_eigenmodes

    sids = [hard_wall(folder, 3, tag=str(t)) for t in range(3)]
    victim = sorted(sids)[1]
    solve = s06_eigenmodes.system_modes

    def crashes_on_the_victim(prediction, params):
        if prediction.meta.system_id == victim:
            raise RuntimeError("solver blew up")
        return solve(prediction, params)

    monkeypatch.setattr(s06_eigenmodes, "system_modes", crashes_on_the_victim)
    params = {"masses": {"3": [-2.0, 0.0]}}
    written = []
    for jobs in (1, 2):
        code, summary, csv_path = run(tmp_path, folder, params, jobs=jobs, experiment=f"j{jobs}")
        report = EigenmodesDataset.validate_file(csv_path)
        assert not report.errors, report.lines()  # error rows: warnings (non-finite), not errors
        with open(csv_path, newline="") as fh:
            rows = list(csv.DictReader(fh))
        assert [r["system_id"] for r in rows] == sorted(r["system_id"] for r in rows)
        crashed = [r for r in rows if r["system_id"] == victim]
        assert [(r["m2"], r["quality"]) for r in crashed] == [("-2.0", "error"), ("0.0", "error")]
        assert all("crashed: RuntimeError: solver blew up" in r["method"] for r in crashed)
        others = [r for r in rows if r["system_id"] != victim]
        assert len(others) == 2 * (2 * 3 + 3) and {r["quality"] for r in others} == {"ok"}
        assert {s["system_id"]: s["status"] for s in summary["systems"]}[victim] == "ERROR"
        assert summary["status"] == "WARNING" and code == 1
        written.append(csv_path.read_bytes())
    assert written[0] == written[1]


def test_branch_switch_and_dimension_without_masses(tmp_path, folder):
    d3 = hard_wall(folder, 3)
    z = np.geomspace(1e-4, 1.0, 300)
    d5 = write_prediction(folder, "ads", 5, z, -np.log(z), np.ones_like(z))
    code, summary, csv_path = run(
        tmp_path, folder, {"masses": {"3": [-2.0]}, "alternative_quantization": False}
    )
    rows = read_rows(csv_path)
    assert {(r["system_id"], r["branch"]) for r in rows} == {
        (d3, "+")
    }  # nu = 1/2, but '-' is switched off
    statuses = {s["system_id"]: (s["status"], s["error"]) for s in summary["systems"]}
    assert statuses[d5][0] == "WARNING" and "no masses configured for d = 5" in statuses[d5][1]
    assert summary["status"] == "WARNING"


def test_downstream_gate_and_resolution_see_one_dataset(tmp_path, folder):
    """The meta.json sidecar travels with the CSV: never a second input, never validated alone."""
    hard_wall(folder, 3)
    _, summary, csv_path = run(tmp_path, folder, {})
    layout = RunLayout.create(tmp_path / "runs", "t")
    manifest = ManifestStore(layout).load()
    assert check_inputs(layout, manifest, [("bulk_eigenmodes", "EigenmodesDataset", True)]) == []
    resolved = resolve_input("bulk_eigenmodes", "EigenmodesDataset", layout, manifest)
    assert [p.name for p in resolved.paths] == [csv_path.name]


def test_rows_beyond_the_error_tolerance_are_flagged_inaccurate(tmp_path, folder):
    sid = hard_wall(folder, 3)
    _, summary, csv_path = run(
        tmp_path, folder, {"masses": {"3": [0.0]}, "max_rel_error_estimate": 1e-13}
    )
    rows = read_rows(csv_path)
    assert [r["quality"] for r in rows] == ["inaccurate"] * 3  # still solved, but not data
    assert all(np.isfinite(r["M2"]) for r in rows)
    assert any(sid in w and "inaccurate" in w for w in summary["warnings"])
    assert summary["status"] == "INCOMPLETE"  # zero 'ok' rows


# ------------------------------------------------------------------ instabilities and the BF bound


def deformed_black_hole(folder, a, z_h=1.0, d=2, tag="0"):
    """A = -ln z + a z^2, f = 1 - (z/z_h)^d on the open interval (0, z_h)."""
    z = np.geomspace(1e-4, z_h * (1 - 1e-3), 400)
    return write_prediction(
        folder,
        "deformed",
        d,
        z,
        -np.log(z) + a * z**2,
        1 - (z / z_h) ** d,
        z_h=z_h,
        params={"a": a},
        tag=tag,
    )


def screening_upper_bound(a, m2=-0.75, delta=0.5):
    """Min-max upper bound on the lowest d = 2 screening eigenvalue of the Delta_- branch.

    With psi = z^Delta chi the problem is -(P chi')' + Q chi = M2 W chi with zero flux at both
    ends (sturm_liouville's module docstring); the trial function chi = 1 gives
    M2_0 <= int Q / int W, with Q = z^(s-2) R and W = z^s e^B (s = 2 Delta - 1 = 0 here),
    R = m2 e^(3B) - m2 F - Delta z F', F = e^B f, B = a z^2, f = 1 - z^2 (z_h = 1). Computed by
    quadrature from the closed forms, independently of the solver; exact (1/4) for BTZ (a = 0).
    """
    from scipy.integrate import quad

    def big_f(z):
        return np.exp(a * z * z) * (1 - z * z)

    def z_big_f_prime(z):
        return z * np.exp(a * z * z) * (2 * a * z * (1 - z * z) - 2 * z)

    def q(z):
        return (m2 * np.exp(3 * a * z * z) - m2 * big_f(z) - delta * z_big_f_prime(z)) / z**2

    return quad(q, 0, 1)[0] / quad(lambda z: np.exp(a * z * z), 0, 1)[0]


def test_negative_m2_rows_are_unstable_kept_out_of_the_data_and_noted(tmp_path, folder):
    """Deformed d = 2 black hole, a = 0.2, m2 = -0.75, Delta_-: the min-max bound proves
    M2_0 < 0 (a static normalisable mode at real momentum): 'unstable', never 'ok'. BTZ (a = 0)
    beside it keeps M2_0 z_h^2 = Delta_-^2 = 1/4 (> 0, analytic) and stays 'ok'."""
    bound = screening_upper_bound(0.2)
    assert bound < -0.2  # the instability is a fact about the geometry, not about the solver
    assert screening_upper_bound(0.0) == pytest.approx(0.25, rel=1e-9)
    unstable_sid = deformed_black_hole(folder, 0.2)
    btz = deformed_black_hole(folder, 0.0, tag="btz")
    code, summary, csv_path = run(tmp_path, folder, {"masses": {"2": [-0.75]}, "n_modes": 3})
    rows = read_rows(csv_path)
    lowest = select(rows, system_id=unstable_sid, m2=-0.75, branch="-")[0]
    assert lowest["M2"] <= bound and lowest["quality"] == "unstable"
    assert "M2 < 0" in lowest["method"] and "instability" in lowest["method"]
    assert all(r["quality"] == "ok" for r in rows if r["M2"] > 0)
    assert {r["quality"] for r in rows if r["M2"] < 0} == {"unstable"}
    btz_lowest = select(rows, system_id=btz, m2=-0.75, branch="-")[0]
    assert btz_lowest["M2"] == pytest.approx(0.25, rel=1e-6) and btz_lowest["quality"] == "ok"
    assert summary["metrics"]["rows_unstable"] == 1.0
    assert summary["metrics"]["rows_ok"] == len(rows) - 1
    assert any("unstable" in n and unstable_sid in n for n in summary["notes"])
    assert not any("unstable" in w for w in summary["warnings"])
    assert summary["status"] == "OK" and code == 0  # a physics finding, not a failure


@pytest.mark.parametrize("order", [0.1, 0.05, 0.02])
def test_masses_next_to_the_bf_bound_give_delta_to_1e_5(tmp_path, folder, order):
    """nu <= 0.1 (m2 just above -d^2/4): Delta_+- = d/2 +- nu to 1e-5, rows 'ok', on deformed
    geometries stored from z = 1e-4 and on a grid starting at z = 0.005 (as stage 02 writes)."""
    sids = {}
    for d in (2, 3, 4):
        sids[d] = hard_wall(folder, d, a=-0.3, tag=f"nu{order}")
        z = np.geomspace(5e-3, 1.0, 400)
        sids[(d, "coarse")] = write_prediction(
            folder, "deformed", d, z, -np.log(z) + 0.2 * z**2, 1 - z**d, z_h=1.0,
            params={"a": 0.2}, tag=f"coarse{order}",
        )  # fmt: skip
    masses = {str(d): [-(d**2) / 4 + order**2] for d in (2, 3, 4)}
    code, summary, csv_path = run(tmp_path, folder, {"masses": masses, "n_modes": 1})
    rows = read_rows(csv_path)
    for key, sid in sids.items():
        d = key if isinstance(key, int) else key[0]
        for branch, exact in (("+", d / 2 + order), ("-", d / 2 - order)):
            (row,) = select(rows, system_id=sid, branch=branch)
            assert abs(row["Delta"] - exact) < 1e-5, (key, branch, row)
            assert row["quality"] in ("ok", "unstable"), row["method"]
    assert not any("BF bound" in w for w in summary["warnings"])


def test_a_mass_at_the_bf_bound_is_never_called_below_it(tmp_path, folder):
    """nu = 0 exactly (m2 = -d^2/4, allowed): Delta = d/2 within the stated error, or the row
    is 'inaccurate' with the reason; no row or warning says the mass is below the bound."""
    sid = hard_wall(folder, 3, a=0.2)
    code, summary, csv_path = run(tmp_path, folder, {"masses": {"3": [-2.25]}, "n_modes": 1})
    rows = read_rows(csv_path)
    (row,) = select(rows, system_id=sid, branch="+")  # nu = 0: no '-' row (window 0 < nu < 1)
    assert abs(row["Delta"] - 1.5) < 1e-3
    assert row["quality"] == "ok" or "max_delta_error" in row["method"]
    assert not any("below the BF bound" in text for text in [*summary["warnings"], row["method"]])


def test_plan_10_F13_family_d_and_z_h_reach_the_06_dataset(tmp_path, folder):
    """Section 10 F.13 (metadata propagation): every row and the meta carry family, d and z_h
    of its geometry (z_h empty, nan, at T = 0), including rows that were not solved."""
    thermal = schwarzschild(folder, 2, 1.3)
    cold = hard_wall(folder, 3, a=0.2)
    z = np.geomspace(1e-4, 1.0, 300)
    lifshitz = write_prediction(
        folder, "lifshitz", 3, z, -np.log(z), 1 - z**4 * 0.5, z_h=1.19, params={"zeta": 2.0},
        A_t=-2 * np.log(z),
    )  # fmt: skip
    _, summary, csv_path = run(tmp_path, folder, {"masses": {"2": [0.0], "3": [0.0]}})
    rows = read_rows(csv_path)
    expected = {
        thermal: ("ads", 2, 1.3),
        cold: ("deformed", 3, None),
        lifshitz: ("lifshitz", 3, 1.19),
    }
    for row in rows:
        family, d, z_h = expected[row["system_id"]]
        assert (row["family"], row["d"]) == (family, d)
        assert math.isnan(row["z_h"]) if z_h is None else row["z_h"] == z_h
    assert {r["quality"] for r in rows if r["system_id"] == lifshitz} == {"not_applicable"}
    meta = json.loads(EigenmodesDataset.meta_path(csv_path).read_text())
    assert meta["schema_version"] == "0.3"
    assert {s["system_id"]: (s["family"], s["d"], s["z_h"]) for s in meta["systems"]} == expected


# ------------------------------------------------------------------ checks with thresholds


def checks_of(csv_path):
    summary = StageSummary.read(csv_path.parents[1] / "stage_summary.json")
    return summary, {c.name: c for c in summary.checks}


def test_accuracy_checks_carry_tolerances_and_bound_the_error_against_bessel_zeros(
    tmp_path, folder
):
    sid = hard_wall(folder, 3)
    params = {"masses": {"3": [-2.0, 0.0]}, "n_modes": 3}
    _, summary, csv_path = run(tmp_path, folder, params)
    assert summary["status"] == "OK", summary
    summary, checks = checks_of(csv_path)
    rows = read_rows(csv_path)
    # (m2, branch) solved: -2 on both branches (nu = 1/2 < 1), 0 on '+' only (nu = 3/2)
    for m2, branch in ((-2.0, "+"), (-2.0, "-"), (0.0, "+")):
        where = f"{sid} m2={m2:g} branch {branch}"
        order = nu_exact(3, m2) if branch == "+" else -nu_exact(3, m2)
        exact_m2 = bessel_zeros(order, 3) ** 2  # z_ir = 1
        measured = np.array([r["M2"] for r in select(rows, system_id=sid, m2=m2, branch=branch)])
        actual = np.max(np.abs(measured - exact_m2) / np.maximum(exact_m2, 1.0))
        estimate = checks[f"{where}.M2_rel_error_estimate"]
        assert estimate.tolerance == 1e-5 and estimate.passed and not estimate.expected_failure
        assert actual <= estimate.value <= 1e-5  # the estimate bounds the true error
        delta = select(rows, system_id=sid, m2=m2, branch=branch)[0]["Delta"]
        for name in ("delta_error_estimate", "delta_deviation"):
            check = checks[f"{where}.{name}"]
            assert check.tolerance == 1e-5 and check.passed and check.value <= 1e-5
        assert abs(delta - (1.5 + order)) <= 1e-5
        assert checks[f"{where}.delta_deviation"].group == "ads"  # grouped by family
    assert len(checks) == 9  # 3 checks x 3 (m2, branch): nothing else, nothing missing
    assert summary.failed_checks_line() is None


def test_an_estimate_above_its_tolerance_is_a_failed_check_not_expected(tmp_path, folder):
    sid = hard_wall(folder, 3)
    _, _, csv_path = run(
        tmp_path, folder, {"masses": {"3": [0.0]}, "max_rel_error_estimate": 1e-13}
    )
    summary, checks = checks_of(csv_path)
    check = checks[f"{sid} m2=0 branch +.M2_rel_error_estimate"]
    assert check.tolerance == 1e-13 and check.value > 1e-13
    assert not check.passed and not check.expected_failure
    assert summary.failed_checks_line() == (
        "06: 1 checks failed, NOT expected: ads M2_rel_error_estimate (1)"
    )
