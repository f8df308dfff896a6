"""Dictionary 0.1 documents are upgraded to 0.2 by the registered migration."""

from __future__ import annotations

import json

from holopipe.artifacts.dictionary import ALTERNATIVE_RULE, STANDARD_RULE, Dictionary

V01 = {
    "schema_name": "Dictionary",
    "schema_version": "0.1",
    "source_stage": "07_emergent_lambda_sl_dictionary",
    "git_sha": "0000000",
    "branch_policy": "Delta_+ always",
    "arrays_file": None,
    "fits": [
        {
            "d": 3,
            "n_points": 6,
            "coefficients": {"delta2": 1.0, "delta": -3.0, "const": 0.0},
            "uncertainties": {"delta2": 1e-6, "delta": 1e-6, "const": 1e-6},
            "comparison": {
                "aic_free": -100.0,
                "bic_free": -99.0,
                "aic_constrained": -90.0,  # the free model wins AIC ...
                "bic_constrained": -99.5,  # ... the constrained one BIC
                "c_constrained": 1.0,
            },
            "cross_validation": {"folds": 3, "rmse_free": 1e-6, "rmse_constrained": 2e-6},
        }
    ],
    "entries": [
        {
            "system_id": "ads_d3-000000000000",
            "operator": "O",
            "d": 3,
            "Delta": 2.0,
            "m2": -2.0,
            "branch": "+",
            "nu": 0.5,
        },
        {
            "system_id": "ads_d3-000000000000",
            "operator": "O",
            "d": 3,
            "Delta": 1.0,
            "m2": -2.0,
            "branch": "-",
            "nu": 0.5,
        },
    ],
}


def test_version_0_1_is_read_with_preferences_recomputed_and_rules_filled(tmp_path):
    path = tmp_path / "dictionary.json"
    path.write_text(json.dumps(V01))
    report, dictionary = Dictionary.read_with_report(path)
    assert report.ok, report.lines()
    assert report.declared == ("Dictionary", "0.1")
    assert any(f.code == "migrated" for f in report.warnings)
    [fit] = dictionary.fits
    assert (fit.preferred.aic, fit.preferred.bic, fit.preferred.cv) == (
        "free",
        "constrained",
        "free",
    )
    assert fit.resolution is None and fit.comparison.c_uncertainty is None
    assert [e.rule for e in dictionary.entries] == [STANDARD_RULE, ALTERNATIVE_RULE]
    assert dictionary.excluded == {} and dictionary.unfitted == []
    # written back, it is a 0.2 document
    out = dictionary.write(tmp_path / "out" / "dictionary.json")
    assert json.loads(out.read_text())["schema_version"] == "0.2"


def test_a_preference_that_contradicts_the_scores_is_an_error():
    dictionary = Dictionary.example()
    fit = dictionary.fits[0]
    fit.preferred.aic = "free"  # the stored AIC prefers the constrained model
    codes = [f.code for f in dictionary.validate().errors]
    assert codes == ["preference_mismatch"]
