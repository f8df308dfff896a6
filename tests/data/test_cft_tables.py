"""The shipped CFT reference tables: every value has an uncertainty and a citation, the
files are package data, and a bad table is one clear error naming file and field."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from holopipe.data.cft import CFTDataError, available_theories, load_table, reference_table

ROOT = Path(__file__).resolve().parents[2]


def test_shipped_theories_load_with_citations_and_uncertainties():
    assert {"ising3d", "o2_3d", "o3_3d"} <= set(available_theories())
    for theory in available_theories():
        table = reference_table(theory)
        assert table.d == 3 and table.operators
        for op in table.operators:
            assert op.Delta_err > 0 and op.citation.arxiv and op.citation.location
            assert op.verification
            # the branch recorded is the side of d/2 the value lies on
            assert op.quantisation == ("-" if op.Delta < table.d / 2 else "+")


def test_ising_values_and_sources():
    table = reference_table("ising3d")
    sigma, eps, eps_p = (table.operator(n) for n in ("sigma", "epsilon", "epsilon_prime"))
    assert (sigma.Delta, sigma.Delta_err) == (0.5181489, 1.0e-6)
    assert (eps.Delta, eps.Delta_err) == (1.412625, 1.0e-5)
    assert (eps_p.Delta, eps_p.Delta_err) == (3.82968, 2.3e-4)
    assert sigma.citation.arxiv == eps.citation.arxiv == "1603.04436"
    assert eps_p.citation.arxiv == "1612.08471"


def test_tables_are_package_data():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "data/cft/*.json" in pyproject["tool"]["setuptools"]["package-data"]["holopipe"]


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda d: d["operators"][0].pop("Delta_err"), r"operators\[0\]\.Delta_err: required"),
        (lambda d: d["operators"][0].update(Delta_err=0), "needs an uncertainty"),
        (lambda d: d["operators"][0]["citation"].update(arxiv="soon"), "not an arXiv id"),
        (lambda d: d.update(theory="other"), "differs from the file name"),
        (lambda d: d["operators"][1].update(name="sigma"), "repeated names"),
    ],
)
def test_bad_table_names_file_and_field(tmp_path, edit, match):
    doc = json.loads((ROOT / "src/holopipe/data/cft/ising3d.json").read_text())
    edit(doc)
    path = tmp_path / "ising3d.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(CFTDataError, match=match) as info:
        load_table(path)
    assert str(path) in str(info.value)


def test_unknown_theory():
    with pytest.raises(CFTDataError, match="no reference table for theory 'nope'"):
        reference_table("nope")
    with pytest.raises(CFTDataError, match="must match"):
        reference_table("../etc")


def test_only_values_read_at_their_source_are_marked_confirmed():
    """Issue 9: sigma and epsilon were read in the abstract of arXiv:1603.04436; epsilon' and
    the O(2) values were found only in secondary texts, so they stay unconfirmed."""
    ising = reference_table("ising3d")
    assert [op.confirmed for op in ising.operators] == [True, True, False]
    o2 = reference_table("o2_3d")
    assert not any(op.confirmed for op in o2.operators)
    for op in (*ising.operators, *o2.operators):
        assert op.verification.startswith("NOT confirmed") is not op.confirmed


@pytest.mark.parametrize(("value", "ok"), [(None, True), (True, True), ("yes", False)])
def test_confirmed_is_optional_false_and_a_boolean(tmp_path, value, ok):
    doc = json.loads((ROOT / "src/holopipe/data/cft/ising3d.json").read_text())
    if value is None:
        doc["operators"][0].pop("confirmed")
    else:
        doc["operators"][0]["confirmed"] = value
    path = tmp_path / "ising3d.json"
    path.write_text(json.dumps(doc))
    if ok:
        assert load_table(path).operators[0].confirmed is bool(value)
    else:
        with pytest.raises(
            CFTDataError, match=r"operators\[0\]\.confirmed: expected true or false"
        ):
            load_table(path)


def test_o3_values_are_confirmed_and_their_branches_follow_from_delta():
    """Issue 9's second verified theory: the O(3) table (arXiv:2011.14647, read in its abstract).
    The branch of each operator follows from Delta alone: Delta_- below d/2 (with nu < 1, where
    the alternative quantisation exists), Delta_+ above it."""
    o3 = reference_table("o3_3d")
    assert [op.name for op in o3.operators] == ["phi", "s", "t"]
    assert all(op.confirmed and op.citation.arxiv == "2011.14647" for op in o3.operators)
    for op in o3.operators:
        nu = abs(op.Delta - o3.d / 2)
        assert op.quantisation == ("-" if op.Delta < o3.d / 2 else "+")
        assert nu < 1 and op.Delta >= (o3.d - 2) / 2  # alternative quantisation, unitarity
