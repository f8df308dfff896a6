"""EigenmodesDataset.from_blocks (the rows of each system checked and formatted where they
were computed) gives exactly the dataset, the CSV bytes and the findings of from_rows, and
falls back to checking every row itself whenever a block cannot be trusted."""

from __future__ import annotations

import csv
import io
import math
import pickle
import random

import attrs
import pytest
from strategies import eigenmode_rows

from holopipe.artifacts.eigenmodes import (
    COLUMNS,
    EigenmodeBlock,
    EigenmodeRow,
    EigenmodesDataset,
)


def system_rows(s: int, rng: random.Random) -> list:
    quoted = 'fd, "quoted", and a comma'
    rows = [
        attrs.evolve(row, quality=rng.choice(["ok", "ok", "inaccurate"]))
        for row in eigenmode_rows(s, rng, (-2.0, -0.0, 0.0, 1.5), method=quoted)
    ]
    rng.shuffle(rows)
    return rows


def by_system(n_systems: int, seed: int) -> list[list]:
    rng = random.Random(seed)
    systems = [system_rows(s, rng) for s in range(n_systems)]
    rng.shuffle(systems)
    return systems


def both(systems: list[list]) -> tuple[EigenmodesDataset, EigenmodesDataset]:
    blocks = [EigenmodeBlock.of_rows(rows) for rows in systems]
    joined = EigenmodesDataset.from_blocks(blocks, "06_x", "abc1234")
    plain = EigenmodesDataset.from_rows([r for rows in systems for r in rows], "06_x", "abc1234")
    return joined, plain


def lines(report) -> list[str]:
    return report.lines()


def test_joined_blocks_are_the_dataset_of_all_rows_byte_for_byte():
    joined, plain = both(by_system(9, seed=1))
    assert joined._clean_blocks() is not None  # the fast path is the one under test
    assert joined == plain
    assert joined.to_csv() == plain.to_csv()
    assert lines(joined.validate()) == lines(plain.validate())
    # the flagged-rows warning is the dataset's, whatever path checked the rows
    assert any("inaccurate" in line for line in lines(joined.validate()))
    # and the CSV is what the csv module reads back as those rows, in order
    parsed = list(csv.reader(io.StringIO(joined.to_csv())))
    assert parsed[0] == list(COLUMNS)
    assert [p[0] for p in parsed[1:]] == [r.system_id for r in plain.rows]


def test_a_block_is_sorted_and_holds_one_system():
    rows = system_rows(0, random.Random(2))
    block = EigenmodeBlock.of_rows(rows)
    keys = [(r.m2, repr(r.m2), r.mode_id, r.branch) for r in block.rows]
    assert keys == sorted(keys)
    assert block.clean
    with pytest.raises(ValueError, match="one system"):
        EigenmodeBlock.of_rows(rows + system_rows(1, random.Random(3)))


@pytest.mark.parametrize(
    "change",
    [
        {"Delta": -1.0},  # negative Delta in an ok row: an error
        {"method": "two\nlines"},  # a control character: an error
        {"M2": math.nan, "quality": "error"},  # a non-finite output of a failed row: a warning
        {"z_h": 2.0},  # one z_h of the system differs: an error
    ],
)
def test_a_block_with_a_finding_is_not_clean_and_the_dataset_reports_as_from_rows(change):
    systems = by_system(4, seed=4)
    systems[2][5] = attrs.evolve(systems[2][5], **change)
    joined, plain = both(systems)
    assert not EigenmodeBlock.of_rows(systems[2]).clean
    assert joined._clean_blocks() is None
    assert lines(joined.validate()) == lines(plain.validate())
    assert lines(joined.validate())  # there is something to report, with whole-file row numbers


def test_rows_replaced_after_joining_are_checked_and_written_as_they_are():
    joined, _ = both(by_system(3, seed=5))
    bad = attrs.evolve(joined.rows[4], Delta=-2.0)
    joined.rows[4] = bad
    assert joined._clean_blocks() is None
    assert "negative_delta" in {f.code for f in joined.validate().findings}
    assert "-2.0" in joined.to_csv().splitlines()[5]


def test_two_blocks_of_one_system_fall_back_to_the_rows():
    rows = system_rows(0, random.Random(6))
    halves = [rows[: len(rows) // 2], rows[len(rows) // 2 :]]
    joined, plain = both(halves)
    assert joined._clean_blocks() is None
    assert joined.to_csv() == plain.to_csv()
    assert lines(joined.validate()) == lines(plain.validate())


def test_a_joined_dataset_reads_back_equal(tmp_path):
    joined, plain = both(by_system(5, seed=7))
    path = joined.write(tmp_path / "modes.csv")
    assert path.read_text() == plain.to_csv()
    assert EigenmodesDataset.read(path) == plain


@attrs.define
class RowWithNote(EigenmodeRow):
    note: str = attrs.field(default="", kw_only=True)


def test_rows_and_blocks_come_back_from_pickling_as_they_were():
    """What a stage's workers send back: every cell with its value and type (NaN z_h, -0.0,
    big ints), the row's class; a subclass keeps what it adds."""
    rng = random.Random(3)
    rows = system_rows(1, rng)
    odd = attrs.evolve(rows[0], z_h=math.nan, M2=-0.0, n_grid=2**70, quality="error")
    again = pickle.loads(pickle.dumps([*rows, odd], pickle.HIGHEST_PROTOCOL))
    for before, after in zip([*rows, odd], again, strict=True):
        assert type(after) is EigenmodeRow and after == before
        for column in COLUMNS:
            a, b = getattr(after, column), getattr(before, column)
            assert type(a) is type(b) and repr(a) == repr(b)
    block = EigenmodeBlock.of_rows(rows)
    assert pickle.loads(pickle.dumps(block)) == block
    noted = RowWithNote(**attrs.asdict(rows[0]), note="kept")
    back = pickle.loads(pickle.dumps(noted))
    assert type(back) is RowWithNote and back.note == "kept" and back == noted
