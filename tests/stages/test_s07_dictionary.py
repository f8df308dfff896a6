"""Stage 07 emergent_lambda_sl_dictionary, run through holopipe.pipeline.run_stage.

The input EigenmodesDataset is written by hand from the closed form Delta_+- = d/2 +- nu
(PHYSICS.md); the expected coefficients are (1, -d, 0).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from holopipe.artifacts.dictionary import Dictionary
from holopipe.artifacts.eigenmodes import EigenmodeRow, EigenmodesDataset
from holopipe.pipeline import RunRequest, run_stage
from holopipe.run.layout import RunLayout
from holopipe.run.publish import last_attempt_dir

STAGE_DIR = "07_emergent_lambda_sl_dictionary"
MASSES = {2: [-0.75, 0.0, 1.0], 3: [-2.0, 0.0, 4.0], 4: [-3.75, -3.0, 5.0]}


def row(system_id, d, m2, branch, delta, quality="ok", mode_id=0, family="ads"):
    return EigenmodeRow(
        system_id=system_id,
        family=family,
        d=d,
        m2=m2,
        Delta=delta,
        branch=branch,
        mode_id=mode_id,
        M2=10.0 + mode_id if quality == "ok" else (-1.0 if quality == "unstable" else math.nan),
        quality=quality,
        bc_uv="boundary",
        bc_ir="wall",
        z_uv=0.0,
        z_ir=1.0,
        n_grid=192,
        method="by hand from the closed form",
    )


def closed_form_rows(systems=2, modes=2):
    rows = []
    for d, masses in MASSES.items():
        for s in range(systems):
            sid = f"ads_d{d}_{s:03d}-{s:012d}"
            for m2 in masses:
                nu = math.sqrt(d * d / 4 + m2)
                branches = [("+", d / 2 + nu)] + ([("-", d / 2 - nu)] if nu < 1 else [])
                for branch, delta in branches:
                    rows += [row(sid, d, m2, branch, delta, mode_id=n) for n in range(modes)]
    return rows


def flagged_rows():
    # every quality other than ok, with Delta values that would ruin the fit if they entered
    return [
        row("hvlf_d3_000-aaaaaaaaaaaa", 3, -2.0, "+", math.nan, "not_applicable", family="hvlf"),
        row("ads_d3_009-bbbbbbbbbbbb", 3, 0.0, "+", 7.0, "inaccurate"),
        row("ads_d3_010-cccccccccccc", 3, 0.0, "+", math.nan, "error"),
        row("deformed_d2_000-dddddddddddd", 2, -0.75, "-", 0.9, "unstable", family="deformed"),
    ]


def write_dataset(folder: Path, rows) -> Path:
    dataset = EigenmodesDataset.from_rows(rows, source_stage="test", git_sha="0000000")
    return dataset.write(folder / "bulk_modes_dataset.csv")


def run_07(tmp_path: Path, rows, experiment="x", config=None) -> tuple[int, dict]:
    inputs = tmp_path / "in"
    inputs.mkdir(exist_ok=True)
    path = write_dataset(inputs, rows)
    config_path = None
    if config is not None:
        config_path = tmp_path / "config.json"
        config_path.write_text(json.dumps({"seed": 1, **config}))
    code = run_stage(
        RunRequest(
            tmp_path / "runs",
            experiment,
            config_path=config_path,
            cli_inputs={"bulk_eigenmodes": path},
        ),
        "07",
    )
    summary = json.loads(
        (
            last_attempt_dir(RunLayout.create(tmp_path / "runs", experiment), STAGE_DIR)
            / "stage_summary.json"
        ).read_text()
    )
    return code, summary


def read_dictionary(tmp_path: Path, experiment="x") -> Dictionary:
    return Dictionary.read(
        tmp_path / "runs" / experiment / STAGE_DIR / "dictionary" / "dictionary.json"
    )


def test_ads_rows_give_one_minus_d_zero_per_d_and_the_ads_model_wins(tmp_path):
    code, summary = run_07(tmp_path, closed_form_rows())
    assert code == 0, summary
    dictionary = read_dictionary(tmp_path)
    assert sorted(f.d for f in dictionary.fits) == [2, 3, 4]
    for fit in dictionary.fits:
        c = fit.coefficients
        assert abs(c.delta2 - 1) < 1e-4 and abs(c.delta + fit.d) < 1e-4 and abs(c.const) < 1e-4
        assert (fit.preferred.aic, fit.preferred.bic, fit.preferred.cv) == ("constrained",) * 3
        assert fit.comparison.aic_constrained < fit.comparison.aic_free
        assert fit.comparison.bic_constrained < fit.comparison.bic_free
        assert summary["metrics"][f"d{fit.d}_deviation_from_ads"] < 1e-4
    # one entry per (system, m2, branch), whatever the number of modes
    expected = sum(
        2 * (1 + (math.sqrt(d * d / 4 + m2) < 1)) for d, ms in MASSES.items() for m2 in ms
    )
    assert len(dictionary.entries) == expected
    assert all(e.rule for e in dictionary.entries)
    assert {e.branch for e in dictionary.entries if e.d == 3 and e.m2 == -2.0} == {"+", "-"}


def test_rows_not_ok_never_enter_the_fit_and_are_counted(tmp_path):
    code, summary = run_07(tmp_path, closed_form_rows() + flagged_rows())
    assert code == 0, summary
    dictionary = read_dictionary(tmp_path)
    assert dictionary.excluded == {
        "quality error": 1,
        "quality inaccurate": 1,
        "quality not_applicable": 1,
        "quality unstable": 1,
    }
    assert summary["metrics"]["rows_excluded_quality_unstable"] == 1.0
    assert any(
        "rows kept out of the fit" in n and "1 quality unstable" in n for n in summary["notes"]
    )
    for fit in dictionary.fits:  # still exactly AdS: the flagged Delta values did not enter
        assert abs(fit.coefficients.delta2 - 1) < 1e-4
    assert not any(e.system_id.startswith(("hvlf", "deformed")) for e in dictionary.entries)


def test_a_d_with_two_dimensions_is_unfitted_with_a_note(tmp_path):
    rows = [r for r in closed_form_rows() if not (r.d == 4 and r.m2 == -3.75)]
    code, summary = run_07(tmp_path, rows)
    assert code == 0, summary
    dictionary = read_dictionary(tmp_path)
    assert [u.d for u in dictionary.unfitted] == [4]
    assert any(n.startswith("d = 4 not fitted") for n in summary["notes"])


def test_only_flagged_rows_is_incomplete(tmp_path):
    code, summary = run_07(tmp_path, flagged_rows())
    assert code == 2
    assert summary["status"] == "INCOMPLETE"


def test_data_off_the_ads_relation_are_a_note(tmp_path):
    rows = []
    for i, delta in enumerate([1.2, 1.6, 2.0, 2.5, 3.0, 3.5, 4.0]):
        m2 = 1.2 * delta * delta - 3 * delta + 0.5
        # keep every point a valid entry: the branch is the side of d/2 and nu < 1 for '-'
        nu = math.sqrt(9 / 4 + m2)
        branch = "+" if delta >= 1.5 else "-"
        if branch == "-" and nu >= 1:
            continue
        rows.append(row(f"ads_d3_{i:03d}-{i:012d}", 3, m2, branch, delta))
    code, summary = run_07(tmp_path, rows)
    assert code == 0, summary
    [fit] = read_dictionary(tmp_path).fits
    assert fit.preferred.bic == "free"
    assert any("do not follow the AdS relation" in n for n in summary["notes"])


@pytest.mark.parametrize("key", ["folds", "m2_resolution"])
def test_bad_params_are_refused(tmp_path, key):
    from holopipe.run.config import ConfigError

    with pytest.raises(ConfigError, match=key):
        run_07(tmp_path, closed_form_rows(), config={"stages": {"07": {key: 0}}})


def fit_checks(summary):
    return {c["name"]: c for c in summary["checks"]}


def test_ads_rows_pass_every_fit_check_with_the_analytic_score_gaps(tmp_path):
    """Exact AdS data: both models leave residuals below the resolution floor, so the criteria
    differ by their penalties only: AIC by 2 (1 - 3) = -4, BIC by (1 - 3) ln n."""
    code, summary = run_07(tmp_path, closed_form_rows())
    assert code == 0, summary
    checks = fit_checks(summary)
    assert checks["points_refused_by_branch_policy"]["value"] == 0.0
    for fit in read_dictionary(tmp_path).fits:
        d, n = fit.d, fit.n_points
        deviation = checks[f"d{d}.deviation_from_ads"]
        assert deviation["passed"] and deviation["value"] < 1e-4 and deviation["tolerance"] == 1e-4
        aic, bic = (
            checks[f"d{d}.aic_constrained_minus_free"],
            checks[f"d{d}.bic_constrained_minus_free"],
        )
        assert aic["value"] == pytest.approx(-4.0, abs=1e-9) and aic["tolerance"] == 0.0
        assert bic["value"] == pytest.approx(-2 * math.log(n), abs=1e-9)
        cv = checks[f"d{d}.cv_constrained_minus_free"]
        assert cv["passed"] and cv["tolerance"] == 1e-5  # the m^2 resolution: the tie margin
        assert aic["passed"] and bic["passed"] and aic["group"] == f"d = {d}"
    assert len(checks) == 1 + 4 * 3  # the refusal count and 4 checks per fitted d


def test_data_off_the_ads_relation_fail_their_checks_as_expected(tmp_path):
    """m2 = 1.2 Delta^2 - 3 Delta + 0.5 exactly: the free fit returns (1.2, -3, 0.5), whose
    distance from (1, -3, 0) is 0.5; BIC prefers the free quadratic. Physics, not problems."""
    rows = []
    for i, delta in enumerate([1.6, 2.0, 2.5, 3.0, 3.5, 4.0]):
        rows.append(
            row(f"ads_d3_{i:03d}-{i:012d}", 3, 1.2 * delta**2 - 3 * delta + 0.5, "+", delta)
        )
    code, summary = run_07(tmp_path, rows)
    assert code == 0, summary
    checks = fit_checks(summary)
    deviation = checks["d3.deviation_from_ads"]
    assert deviation["value"] == pytest.approx(0.5, abs=1e-9)
    assert not deviation["passed"] and deviation["expected_failure"]
    bic = checks["d3.bic_constrained_minus_free"]
    assert bic["value"] > 0 and not bic["passed"] and bic["expected_failure"]
    assert checks["points_refused_by_branch_policy"]["passed"]
