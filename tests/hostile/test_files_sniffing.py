"""Detection by content, not suffix; each file opened and sniffed once per command; pickles never
unpickled (issue 7 item 12)."""

from __future__ import annotations

import builtins
import io
import os
import pickle
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from holopipe.artifacts import EigenmodesDataset, GeometryPrediction, StageSummary, registry
from holopipe.artifacts.registry import detect_type, validate_path, validate_paths
from holopipe.artifacts.sniff import sniff

HALL_OF_FAME = 'Complexity,Loss,Equation\n1,0.52,x0\n3,0.11,"(x0 * 2.1)"\n5,0.003,"sin(x0) + x1"\n'


@pytest.mark.parametrize("name", ["hall_of_fame.csv", "bulk_modes_dataset.csv", "modes.csv"])
def test_a_csv_that_is_not_ours_is_unknown_schema_whatever_its_name(tmp_path, name):
    path = tmp_path / name
    path.write_text(HALL_OF_FAME)
    assert detect_type(path) is None
    report = validate_path(path)
    assert [(f.code, f.location) for f in report.findings] == [("unknown_schema", "<file>")]


def test_our_csv_without_its_sidecar_is_still_recognised(tmp_path):
    path = EigenmodesDataset.example().write(tmp_path / "anything.txt")
    EigenmodesDataset.meta_path(path).unlink(missing_ok=True)
    (tmp_path / "anything.meta.json").unlink(missing_ok=True)
    assert detect_type(path) is EigenmodesDataset
    assert ("missing_file", "<meta>") in [(f.code, f.location) for f in validate_path(path).errors]


def test_a_json_artifact_under_any_name_is_found_by_its_declared_schema(tmp_path):
    path = tmp_path / "renamed.dat"
    StageSummary.example().write(path)
    assert detect_type(path) is StageSummary
    assert validate_path(path).ok


# -- pickles -----------------------------------------------------------------------------------
_UNPICKLED: list[str] = []


class _Trap:
    def __reduce__(self):
        return (_UNPICKLED.append, ("unpickled!",))


def _torch_like_zip(path: Path) -> Path:
    """A zip as ``torch.save`` writes it: ``archive/data.pkl`` beside the tensor storages."""
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("archive/data.pkl", pickle.dumps(_Trap()))
        zf.writestr("archive/version", "3\n")
    return path


@pytest.mark.parametrize("kind", ["plain", "torch_zip", "npz_object_member"])
def test_pickles_are_recognised_and_never_unpickled(tmp_path, kind):
    if kind == "plain":
        path = tmp_path / "model_geometry.npz"
        path.write_bytes(pickle.dumps(_Trap()))
    elif kind == "torch_zip":
        path = _torch_like_zip(tmp_path / "model.pt")
    else:
        path = tmp_path / "obj_geometry.npz"
        good = GeometryPrediction.example()
        np.savez(path, z=good.z, A=np.array([_Trap()], dtype=object), f=good.f)
    reports = validate_paths([path]) + [GeometryPrediction.validate_file(path)]
    assert _UNPICKLED == []
    assert all(r.exit_code == 2 for r in reports)
    if kind != "npz_object_member":
        assert sniff(path).container == "pickle"
        assert "a Python pickle: never unpickled" in reports[0].errors[0].message
    else:
        assert ("object_array", "A") in [(f.code, f.location) for f in reports[0].errors]


# -- opened once -----------------------------------------------------------------------------
@pytest.fixture
def count_opens(monkeypatch):
    """Every open of a file by path (os.open and builtins/io.open), counted per path."""
    opened: Counter[str] = Counter()
    real_os_open, real_open = os.open, builtins.open

    def os_open(path, *args, **kwargs):
        opened[os.fspath(path)] += 1
        return real_os_open(path, *args, **kwargs)

    def py_open(file, *args, **kwargs):
        if isinstance(file, (str, bytes, os.PathLike)):
            opened[os.fsdecode(file)] += 1
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(os, "open", os_open)
    monkeypatch.setattr(builtins, "open", py_open)
    monkeypatch.setattr(io, "open", py_open)
    return opened


def test_each_file_is_sniffed_once_and_read_once_per_command(tmp_path, count_opens):
    from holopipe.artifacts.sniff import clear_cache

    files = {
        "pickle": tmp_path / "model.pkl",
        "json": StageSummary.example().write(tmp_path / "stage_summary.json"),
        "npz": GeometryPrediction.example().write(tmp_path / "g_geometry.npz"),
        "csv": EigenmodesDataset.example().write(tmp_path / "modes.csv"),
        "foreign_csv": tmp_path / "hall_of_fame.csv",
    }
    files["pickle"].write_bytes(pickle.dumps({"a": 1}))
    files["foreign_csv"].write_text(HALL_OF_FAME)
    clear_cache()
    registry.refresh()
    count_opens.clear()
    reports = validate_paths([tmp_path])
    assert {Path(r.path).name for r in reports} >= {p.name for p in files.values()}
    opened = {name: count_opens[str(path)] for name, path in files.items()}
    # Sniffed once by every type asking; read once by the type that claimed it (an NPZ is
    # opened once: its reader takes the archive the sniff has just read).
    assert opened == {"pickle": 1, "json": 2, "npz": 1, "csv": 2, "foreign_csv": 1}, opened
    assert count_opens[str(EigenmodesDataset.meta_path(files["csv"]))] <= 2
