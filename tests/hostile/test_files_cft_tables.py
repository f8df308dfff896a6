"""Hostile CFT reference-table files (holopipe.data.cft.load_table): a FIFO, deep nesting, a
huge file and a missing one are each one CFTDataError, in bounded memory, never a hang."""

from __future__ import annotations

import os

import pytest

from holopipe.data.cft import CFTDataError, load_table


def test_hostile_table_files_are_refused_in_bounded_memory(tmp_path):
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    with pytest.raises(CFTDataError, match="not a regular file"):
        load_table(fifo)  # would block forever if opened
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(CFTDataError, match="nested too deeply|not JSON"):
        load_table(deep)
    big = tmp_path / "big.json"
    with open(big, "wb") as fh:
        fh.truncate(2 * 1024 * 1024)  # sparse: no memory, no disk
    with pytest.raises(CFTDataError, match="more than the"):
        load_table(big)
    with pytest.raises(CFTDataError, match="cannot read"):
        load_table(tmp_path / "missing.json")
