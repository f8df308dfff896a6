"""EigenmodesDataset's fast paths give exactly what the general code gives: the total row
order (by the primary key when every row's is plain and unique, a stage's output; by the
whole row otherwise) and the cell-type check (one comparison for a usual row)."""

from __future__ import annotations

import math
import random

import attrs
import numpy as np
from strategies import eigenmode_rows

from holopipe.artifacts.eigenmodes import (
    _COLUMN_TYPES,
    COLUMNS,
    EigenmodesDataset,
    _has_type,
    _row_order,
    _sorted_rows,
    _well_typed,
)


def rows_like_a_stage(n_systems: int, seed: int) -> list:
    rng = random.Random(seed)
    masses = (-2.0, -0.0, 0.0, 1.5, math.inf)
    rows = [row for s in range(n_systems) for row in eigenmode_rows(s, rng, masses)]
    rng.shuffle(rows)
    return rows


def general_order(rows: list) -> list:
    return sorted(rows, key=_row_order)


def test_unique_plain_primary_keys_give_the_total_order():
    rows = rows_like_a_stage(7, seed=1)
    ordered = _sorted_rows(rows)
    assert [id(r) for r in ordered] == [id(r) for r in general_order(rows)]
    # -0.0 and 0.0 are equal numbers, ordered by their text as the total order does
    zeros = [r.m2 for r in ordered[:30] if r.m2 == 0]
    assert [repr(z) for z in zeros[:6]] == ["-0.0"] * 6


def test_shared_primary_keys_and_odd_cells_fall_back_to_the_total_order():
    rows = rows_like_a_stage(3, seed=2)
    twins = [attrs.evolve(r, M2=r.M2 + 1.0) for r in rows[:5]]  # same primary key
    odd = [
        attrs.evolve(rows[5], m2=math.nan),
        attrs.evolve(rows[6], m2=2),  # an int where a float belongs
        attrs.evolve(rows[7], mode_id=np.int64(1)),
    ]
    for mixed in (rows + twins, rows + odd):
        random.Random(3).shuffle(mixed)
        assert [id(r) for r in _sorted_rows(mixed)] == [id(r) for r in general_order(mixed)]


class Text(str):
    """A str subclass: not a plain cell."""


def test_the_well_typed_fast_path_agrees_with_the_cell_by_cell_check():
    row = EigenmodesDataset.example().rows[0]
    variants = {
        "usual": row,
        "int in a float column": attrs.evolve(row, M2=9),
        "bool in an int column": attrs.evolve(row, n_grid=True),
        "numpy float": attrs.evolve(row, Delta=np.float64(2.0)),
        "numpy int": attrs.evolve(row, mode_id=np.int64(0)),
        "str subclass": attrs.evolve(row, method=Text("m")),
        "str subclass literal": attrs.evolve(row, branch=Text("+")),
        "unknown literal": attrs.evolve(row, branch="*"),
        "None": attrs.evolve(row, z_h=None),
        "float in a str column": attrs.evolve(row, family=1.0),
    }
    expected = {
        "usual": True,
        "int in a float column": True,
        "str subclass literal": True,
    }
    for name, variant in variants.items():
        cells = [getattr(variant, c) for c in COLUMNS]
        by_cell = all(_has_type(v, k) for v, k in zip(cells, _COLUMN_TYPES, strict=True))
        assert _well_typed(variant) == by_cell == expected.get(name, False), name
