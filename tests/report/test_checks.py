"""Metrics with thresholds: the checks a status depends on, in the stage summaries, and the
terminal's closing line naming failed contracts per family."""

from __future__ import annotations

import json
from collections import Counter

from holopipe.artifacts.records import StageSummary


def summary(toy_runs, key: str) -> StageSummary:
    return StageSummary.read(toy_runs.runs / "toy" / key / "stage_summary.json")


def test_contract_checks_carry_value_tolerance_and_outcome(toy_runs):
    checks = summary(toy_runs, "04_geometry_physics_contracts").checks
    contracts = json.loads(
        (toy_runs.runs / "toy" / "geometry_contracts" / "geometry_contracts.json").read_text()
    )
    evaluated = {
        f"{s['system_id']}.{c['name']}": c
        for s in contracts["systems"]
        for c in s["contracts"]
        if c["evaluated"]
    }
    assert {c.name for c in checks} == set(evaluated)
    for check in checks:
        outcome = evaluated[check.name]
        assert check.tolerance == outcome["tolerance"]
        assert check.passed is outcome["passed"]


def test_the_closing_line_names_failed_contracts_per_family(toy_runs):
    contracts = json.loads(
        (toy_runs.runs / "toy" / "geometry_contracts" / "geometry_contracts.json").read_text()
    )
    failed = Counter(
        f"{s['family']} {c['name']}"
        for s in contracts["systems"]
        for c in s["contracts"]
        if c["evaluated"] and not c["passed"]
    )
    assert failed  # the toy run has physics failures (deformed NEC, hvlf UV slope)
    expected = f"04: {sum(failed.values())} checks failed, expected for: " + ", ".join(
        f"{what} ({n})" for what, n in sorted(failed.items())
    )
    assert expected in toy_runs.first.stdout.splitlines()


def test_negative_controls_check_coverage_and_false_positive_rate(toy_runs):
    s = summary(toy_runs, "04c_negative_controls")
    checks = {c.name: c for c in s.checks}
    config = json.loads((toy_runs.runs / "toy" / "config.resolved.json").read_text())["stages"]
    assert checks["coverage"].tolerance == config["04c"]["min_coverage"]
    assert checks["coverage"].value == s.metrics["coverage"]
    assert checks["false_positive_rate"].tolerance == config["04c"]["max_false_positive_rate"]
    assert checks["coverage"].passed and checks["false_positive_rate"].passed
