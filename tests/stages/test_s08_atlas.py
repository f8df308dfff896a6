"""Stage 08 build_holographic_dictionary on geometries written from the closed forms of
PHYSICS.md's metric table: hvlf has alpha_UV = 1 - theta/(d-1) (the dictionary does not
apply), AdS and deformed have alpha_UV = 1 (it applies), Lifshitz has alpha_t = zeta.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import attrs
import numpy as np
import pytest

from holopipe.artifacts.atlas import HolographicAtlas
from holopipe.artifacts.dictionary import Dictionary
from holopipe.artifacts.eigenmodes import EigenmodeRow
from holopipe.artifacts.identity import system_id
from holopipe.artifacts.prediction import GeometryMeta, GeometryPrediction, MeasuredDimension
from holopipe.pipeline import RunRequest, run_stage
from holopipe.run.context import Provenance
from holopipe.run.layout import RunLayout
from holopipe.run.publish import last_attempt_dir
from holopipe.stages.s07_dictionary import DictionaryParams
from holopipe.stages.work.s07_dictionary import dictionary_from_rows

STAGE_DIR = "08_build_holographic_dictionary"
Z = np.geomspace(1e-3, 0.95, 300)


def prediction(family, d, *, zeta=1.0, theta=0.0, a=0.0, z_h=None, tag="0"):
    """A geometry of the metric table, written from its closed form (not from the code)."""
    shift = theta / (d - 1)
    A = -(1 - shift) * np.log(Z) + a * Z**2
    A_t = -(zeta - shift) * np.log(Z) + a * Z**2 if family in ("lifshitz", "hvlf") else None
    n = d - 1 + zeta - theta
    f = 1 - (Z / z_h) ** n if z_h else np.ones_like(Z)
    params = {k: v for k, v in (("zeta", zeta), ("theta", theta), ("a", a)) if v not in (0.0,)}
    if family in ("ads", "deformed"):
        params.pop("zeta", None)
    name = f"{family}_d{d}_{tag}"
    meta = GeometryMeta(
        system_id=system_id({"family": family, "d": d, "params": params, "tag": tag}, name=name),
        family=family,
        d=d,
        z_h=z_h,
        source_stage="test",
        git_sha="test",
        system_name=name,
        params=params,
    )
    return GeometryPrediction(z=Z, A=A, f=f, meta=meta, A_t=A_t)


def run_08(tmp_path: Path, predictions, dictionary: Dictionary | None = None):
    folder = tmp_path / "predictions"
    folder.mkdir()
    for p in predictions:
        p.write(folder / f"{p.meta.system_name}_geometry.npz")
    cli = {"predictions": folder}
    if dictionary is not None:
        cli["dictionary"] = dictionary.write(tmp_path / "dic" / "dictionary.json")
    code = run_stage(RunRequest(tmp_path / "runs", "x", cli_inputs=cli), "08")
    stage = last_attempt_dir(RunLayout.create(tmp_path / "runs", "x"), STAGE_DIR)  # or .failed
    summary = json.loads((stage / "stage_summary.json").read_text())
    atlas_path = stage / "atlas" / "atlas.json"
    return code, summary, HolographicAtlas.read(atlas_path) if atlas_path.exists() else None


HVLF = [(3, 1.5, 0.5), (3, 2.0, 1.0), (4, 2.0, 1.5), (4, 1.5, 0.9)]


def test_hvlf_is_not_applicable_with_the_closed_form_exponent(tmp_path):
    preds = [
        prediction("hvlf", d, zeta=zeta, theta=theta, z_h=1.0, tag=str(i))
        for i, (d, zeta, theta) in enumerate(HVLF)
    ]
    code, summary, atlas = run_08(tmp_path, preds)
    assert code == 0, summary
    by_name = {s.system_name: s for s in atlas.systems}
    for i, (d, _, theta) in enumerate(HVLF):
        s = by_name[f"hvlf_d{d}_{i}"]
        closed_form = 1 - theta / (d - 1)
        assert abs(s.alpha_uv - closed_form) < 1e-3
        assert not s.applicable and "not applicable" in s.reason
        assert f"alpha_UV = {s.alpha_uv:.6g}" in s.reason
    assert summary["metrics"]["n_not_applicable"] == len(HVLF)
    assert any("outside the AdS dictionary" in n for n in summary["notes"])
    groups = {(g.family, g.d): g for g in atlas.groups}
    assert groups[("hvlf", 3)].n_systems == 2 and groups[("hvlf", 3)].n_applicable == 0


def test_ads_and_deformed_apply_lifshitz_does_not(tmp_path):
    preds = [
        prediction("ads", 3, z_h=1.0),
        prediction("deformed", 4, a=-0.3, tag="1"),
        prediction("lifshitz", 3, zeta=2.0, z_h=1.0, tag="2"),
    ]
    code, summary, atlas = run_08(tmp_path, preds)
    assert code == 0, summary
    by_family = {s.family: s for s in atlas.systems}
    assert by_family["ads"].applicable and abs(by_family["ads"].alpha_uv - 1) < 1e-9
    assert by_family["deformed"].applicable and abs(by_family["deformed"].alpha_uv - 1) < 1e-9
    assert abs(by_family["ads"].effective_radius - 1) < 1e-9
    lif = by_family["lifshitz"]
    assert abs(lif.alpha_uv - 1) < 1e-9 and abs(lif.alpha_t - 2) < 1e-9
    assert not lif.applicable and "alpha_t" in lif.reason
    assert summary["metrics"]["alpha_uv_max_deviation_from_closed_form"] < 1e-6


def eigen_row(sid, d, m2, branch, delta):
    return EigenmodeRow(
        system_id=sid,
        family="ads",
        d=d,
        m2=m2,
        Delta=delta,
        branch=branch,
        mode_id=0,
        M2=1.0,
        quality="ok",
        bc_uv="boundary",
        bc_ir="wall",
        z_uv=0.0,
        z_ir=1.0,
        n_grid=192,
        method="closed form",
    )


def test_dictionary_entries_become_operators_with_m2(tmp_path):
    ads = prediction("ads", 3)
    sid, d = ads.meta.system_id, 3
    rows = []
    for m2 in (-2.0, 0.0, 4.0):
        nu = math.sqrt(d * d / 4 + m2)
        rows.append(eigen_row(sid, d, m2, "+", d / 2 + nu))
        if nu < 1:
            rows.append(eigen_row(sid, d, m2, "-", d / 2 - nu))
    dictionary, _, _ = dictionary_from_rows(rows, DictionaryParams(), Provenance("test", "0000000"))
    code, summary, atlas = run_08(tmp_path, [ads], dictionary)
    assert code == 0, summary
    [system] = atlas.systems
    from_07 = [op for op in system.operators if op.source == "dictionary"]
    assert len(from_07) == 4
    assert all(op.m2 is not None and op.rule for op in from_07)
    assert {(op.m2, op.branch) for op in from_07} == {
        (-2.0, "+"),
        (-2.0, "-"),
        (0.0, "+"),
        (4.0, "+"),
    }
    [group] = atlas.groups
    assert group.dictionary_fit is not None and abs(group.dictionary_fit.delta + 3) < 1e-6


def with_operators(p: GeometryPrediction, ops) -> GeometryPrediction:
    return attrs.evolve(p, meta=attrs.evolve(p.meta, operators=ops))


def test_measured_operators_get_m2_and_branch_only_where_the_dictionary_applies(tmp_path):
    ops = [
        MeasuredDimension("sigma", 0.5181489, 1e-6, "fit"),
        MeasuredDimension("epsilon_prime", 3.82968, 2.3e-4, "fit"),
        MeasuredDimension("too_low", 0.2, 1e-3, "fit"),
    ]
    ads = with_operators(prediction("ads", 3), ops)
    hv = with_operators(prediction("hvlf", 3, zeta=1.5, theta=1.0, tag="1"), ops)
    code, summary, atlas = run_08(tmp_path, [ads, hv])
    assert code == 0, summary
    systems = {s.family: s for s in atlas.systems}
    by_name = {op.name: op for op in systems["ads"].operators}
    sigma, eps_p, low = by_name["sigma"], by_name["epsilon_prime"], by_name["too_low"]
    assert sigma.source == "measured" and sigma.Delta_err == 1e-6
    assert sigma.branch == "-" and sigma.m2 == pytest.approx(0.5181489 * (0.5181489 - 3))
    assert sigma.nu == pytest.approx(1.5 - 0.5181489)
    assert eps_p.branch == "+" and eps_p.m2 == pytest.approx(3.82968 * 0.82968)
    assert low.m2 is None and "nu < 1" in low.rule  # nu = 1.3: not an alternative quantisation
    hvlf_ops = systems["hvlf"].operators
    assert len(hvlf_ops) == 3
    assert all(op.m2 is None and op.branch is None for op in hvlf_ops)
    assert all(op.rule.startswith("no m2: not applicable") for op in hvlf_ops)
    assert summary["metrics"]["n_measured_operators"] == 6


def test_too_short_grid_is_a_warning_and_nothing_measurable_is_incomplete(tmp_path):
    p = prediction("ads", 3)
    short = GeometryPrediction(z=p.z[-4:], A=p.A[-4:], f=p.f[-4:], meta=p.meta)
    code, summary, atlas = run_08(tmp_path, [short])
    assert code == 2 and summary["status"] == "INCOMPLETE" and atlas is None
    assert any("alpha_UV not measured" in w for w in summary["warnings"])


def test_applicability_and_closed_form_are_checks_with_their_tolerances(tmp_path):
    """max |alpha - 1| against 0.02 (PHYSICS.md): for hvlf alpha_UV = 1 - theta/(d-1) and
    alpha_t = zeta - theta/(d-1), for Lifshitz alpha_t = zeta; both fail as expected, their
    families are not AdS; an ads-labelled geometry with A = -0.9 ln z fails both checks, and
    that is not expected."""
    d, zeta, theta = 3, 2.0, 0.5  # |alpha_UV - 1| = 0.25 < |alpha_t - 1| = 0.75: the max
    wrong = attrs.evolve(prediction("ads", 3, tag="9"), A=-0.9 * np.log(Z))
    preds = [
        prediction("ads", 3, z_h=1.0),
        prediction("hvlf", d, zeta=zeta, theta=theta, z_h=1.0, tag="1"),
        prediction("lifshitz", 3, zeta=2.0, z_h=1.0, tag="2"),
        wrong,
    ]
    code, summary, _ = run_08(tmp_path, preds)
    checks = {c["name"]: c for c in summary["checks"]}
    ids = {p.meta.system_name: p.meta.system_id for p in preds}

    def check(name, quantity):
        return checks[f"{ids[name]}.{quantity}"]

    ads = check("ads_d3_0", "alpha_uv_minus_1")
    assert ads["passed"] and ads["value"] < 1e-6 and ads["tolerance"] == 0.02
    hvlf = check(f"hvlf_d{d}_1", "alpha_uv_minus_1")
    shift = theta / (d - 1)
    assert hvlf["value"] == pytest.approx(max(shift, abs(zeta - shift - 1)), abs=1e-3)
    assert not hvlf["passed"] and hvlf["expected_failure"] and hvlf["group"] == "hvlf"
    lifshitz = check("lifshitz_d3_2", "alpha_uv_minus_1")
    assert lifshitz["value"] == pytest.approx(2.0 - 1, abs=1e-6)  # alpha_t = zeta = 2
    assert not lifshitz["passed"] and lifshitz["expected_failure"]
    for name in ("ads_d3_0", f"hvlf_d{d}_1", "lifshitz_d3_2"):
        closed = check(name, "alpha_uv_vs_closed_form")
        assert closed["passed"] and closed["value"] < 1e-3 and closed["tolerance"] == 1e-3
    off = check("ads_d3_9", "alpha_uv_minus_1")
    assert off["value"] == pytest.approx(0.1, abs=1e-6)
    assert not off["passed"] and not off["expected_failure"]
    closed = check("ads_d3_9", "alpha_uv_vs_closed_form")
    assert closed["value"] == pytest.approx(0.1, abs=1e-6) and not closed["passed"]
    assert code == 1 and any("closed form" in w for w in summary["warnings"])
