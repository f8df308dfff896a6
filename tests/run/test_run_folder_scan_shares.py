"""How two scanners share the folders of a no-op rerun (:mod:`holopipe.run.folder_scan`):
the folder that evens their shares is split between them by name, and the signature they
make of it together is the one a single scan makes."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

from holopipe.run import folder_scan
from holopipe.run.folder_scan import folder_signature, folder_signatures


def _units(shares: list[list[tuple[str, int | None]]]) -> Counter:
    return Counter(unit for share in shares for unit in share)


def test_nine_equal_folders_split_one_between_the_scanners():
    folders = {f"f{i}": 100_000 for i in range(9)}
    shares = folder_scan._shares(folders)
    halves = [unit for share in shares for unit in share if unit[1] is not None]
    assert len(halves) == 2 and halves[0][0] == halves[1][0]
    assert {half for _, half in halves} == {0, 1}
    assert [sum(1 for _, half in share if half is None) for share in shares] == [4, 4]
    assert all(count == 1 for count in _units(shares).values())
    assert {path for path, _ in _units(shares)} == set(folders)


def test_even_shares_split_nothing():
    shares = folder_scan._shares({"a": 1000, "b": 1000})
    assert sorted(shares) == [[("a", None)], [("b", None)]]


def test_a_small_difference_is_not_worth_a_second_listing():
    # Splitting the 1 000-file folder would even 1 000 against 900 but list it twice.
    shares = folder_scan._shares({"a": 1000, "b": 900})
    assert all(half is None for share in shares for _, half in share)


def test_one_folder_alone_is_split_in_two():
    assert folder_scan._shares({"a": 50_000}) == [[("a", 0)], [("a", 1)]]


def _folder(root: Path, name: str, files: int) -> str:
    folder = root / name
    folder.mkdir()
    for i in range(files):
        (folder / f"system_{i:04d}.npz").write_bytes(b"x" * i)
    return os.fspath(folder)


@pytest.fixture
def two_scanners(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(folder_scan, "PARALLEL_SCAN_FILES", 0)
    monkeypatch.setattr(folder_scan, "_cpus", lambda: 2)


@pytest.mark.usefixtures("two_scanners")
def test_a_split_folder_has_the_signature_of_one_scan(tmp_path: Path):
    folders = {_folder(tmp_path, f"f{i}", 40): 40 for i in range(3)}
    (split,) = {path for share in folder_scan._shares(folders) for path, half in share if half}
    # names a row or a frame could trip over: a newline, bytes that are not UTF-8
    (Path(split) / "line\nbreak.npz").write_bytes(b"1")
    os.close(os.open(os.fsencode(split) + b"/bad\xff\xfe.npz", os.O_CREAT | os.O_WRONLY))
    found = folder_signatures(folders)
    assert found == {path: folder_signature(path) for path in folders}
    assert found[split][0] == 42


@pytest.mark.usefixtures("two_scanners")
def test_a_split_folder_holding_a_fifo_is_not_confirmed(tmp_path: Path):
    folder = _folder(tmp_path, "f", 30)
    os.mkfifo(os.path.join(folder, "pipe.npz"))
    assert folder_scan._shares({folder: 31}) == [[(folder, 0)], [(folder, 1)]]
    assert folder_signatures({folder: 31}) == {folder: None}


@pytest.mark.usefixtures("two_scanners")
def test_a_split_folder_whose_other_half_was_lost_is_not_confirmed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    folder = _folder(tmp_path, "f", 30)
    original = folder_scan._folder_rows

    def dying_on_one_half(path: str, half: int | None = None):
        if half == 1:
            os._exit(9)  # this scanner dies: its half never arrives
        return original(path, half)

    monkeypatch.setattr(folder_scan, "_folder_rows", dying_on_one_half)
    assert folder_signatures({folder: 30}) == {folder: None}


@pytest.mark.usefixtures("two_scanners")
@pytest.mark.parametrize("files", [0, 1])
def test_a_split_folder_with_an_empty_half_is_confirmed(tmp_path: Path, files: int):
    folder = _folder(tmp_path, "f", files)
    assert folder_signatures({folder: 5000}) == {folder: folder_signature(folder)}
    assert folder_signature(folder)[0] == files
