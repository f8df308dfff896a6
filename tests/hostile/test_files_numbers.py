"""Numbers a JSON file may hold but no artifact can use (found by the fuzz suite).

JSON allows integers of any size: a 400-digit ``d`` or a 400-digit value for a number field
used to escape as an OverflowError from structuring or from a check. Each is a finding.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from holopipe.artifacts import Dictionary
from holopipe.cli import app

HUGE = 10**400


def _dictionary_with(tmp_path, edit) -> str:
    path = Dictionary.example().write(tmp_path / "dictionary.json")
    doc = json.loads(path.read_text())
    edit(doc)
    path.write_text(json.dumps(doc))
    return str(path)


@pytest.mark.parametrize(
    ("edit", "location"),
    [
        (lambda doc: doc["entries"][0].update(d=HUGE), "entries[0].d"),
        (lambda doc: doc["entries"][0].update(m2=-HUGE), "entries[0].m2"),
    ],
)
def test_a_huge_integer_is_an_out_of_range_finding(tmp_path, edit, location):
    path = _dictionary_with(tmp_path, edit)
    report = Dictionary.validate_file(path)
    assert not report.ok
    assert [(f.code, f.location) for f in report.errors] == [("out_of_range", location)]
    result = CliRunner().invoke(app, ["validate", path])
    assert result.exit_code == 2, result.output
    assert "out_of_range" in result.output and "Traceback" not in result.output


def test_integers_within_64_bits_are_still_accepted(tmp_path):
    path = _dictionary_with(tmp_path, lambda doc: None)
    assert Dictionary.validate_file(path).ok
