"""``holopipe validate`` and ``holopipe schema``: exit codes, one line per finding, no traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from holopipe.artifacts.contracts import GeometryContracts
from holopipe.artifacts.io import npz_bytes
from holopipe.artifacts.prediction import GeometryPrediction
from holopipe.artifacts.records import StageSummary
from holopipe.cli import app

runner = CliRunner()


def invoke(*args: str):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    for stream in (result.stdout, result.stderr):
        assert "Traceback" not in stream
    return result


# -- files ---------------------------------------------------------------------------------
def _prediction_members(folder: Path) -> dict[str, np.ndarray]:
    path = GeometryPrediction.example().write(folder / ".source_geometry.npz")
    with np.load(path, allow_pickle=False) as archive:
        members = {k: archive[k] for k in archive.files}
    path.unlink()
    return members


def _npz(folder, name, members):
    path = folder / name
    path.write_bytes(npz_bytes(members))
    return path


def _meta(members, **changes):
    meta = json.loads(str(members["meta_json"]))
    return {**members, "meta_json": np.array(json.dumps({**meta, **changes}))}


def _summary_doc() -> dict:
    return StageSummary.example().to_document()


def make_bad(kind: str, folder: Path) -> tuple[Path, str, str]:
    """A bad file of one finding class: (path, code, location)."""
    m = _prediction_members(folder)
    if kind == "nan":
        A = m["A"].copy()
        A[2] = np.nan
        return _npz(folder, "nan_geometry.npz", {**m, "A": A}), "nonfinite", "A"
    if kind == "inf":
        f = m["f"].copy()
        f[2] = np.inf
        return _npz(folder, "inf_geometry.npz", {**m, "f": f}), "nonfinite", "f"
    if kind == "non_monotonic":
        z = m["z"][::-1].copy()
        return _npz(folder, "mono_geometry.npz", {**m, "z": z}), "not_increasing", "z"
    if kind == "length_mismatch":
        return _npz(folder, "len_geometry.npz", {**m, "f": m["f"][:10]}), "length_mismatch", "z,A,f"
    if kind == "missing_key":
        del m["A"]
        return _npz(folder, "miss_geometry.npz", m), "missing_key", "A"
    if kind == "wrong_dtype":
        return _npz(folder, "int_geometry.npz", {**m, "z": np.arange(1, 65)}), "wrong_dtype", "z"
    if kind == "wrong_type_json":
        doc = _summary_doc()
        doc["counts"]["inputs_total"] = "2"
        path = folder / "stage_summary.json"
        path.write_text(json.dumps(doc))
        return path, "wrong_type", "counts.inputs_total"
    if kind == "truncated_npz":
        path = folder / "cut_geometry.npz"
        path.write_bytes(npz_bytes(m)[:-100])
        return path, "unreadable", "<file>"
    if kind == "object_array":
        path = folder / "obj_geometry.npz"
        np.savez(path, **{**m, "f": np.array([None, 1.0], dtype=object)}, allow_pickle=True)
        return path, "object_array", "f"
    if kind == "malformed_json":
        path = folder / "stage_summary.json"
        path.write_text(json.dumps(_summary_doc())[:-3])
        return path, "malformed_json", "<file>"
    if kind == "bare_nan":
        path = folder / "stage_summary.json"
        path.write_text(json.dumps({**_summary_doc(), "metrics": {"x": 0.5}}).replace("0.5", "NaN"))
        return path, "malformed_json", "<file>"
    if kind == "newer_version":
        path = folder / "stage_summary.json"
        path.write_text(json.dumps({**_summary_doc(), "schema_version": "7.0"}))
        return path, "newer_schema_version", "schema_version"
    if kind == "newer_version_npz":
        return (
            _npz(folder, "new_geometry.npz", _meta(m, schema_version="7.0")),
            "newer_schema_version",
            "meta_json.schema_version",
        )
    if kind == "older_version":
        path = folder / "stage_summary.json"
        path.write_text(json.dumps({**_summary_doc(), "schema_version": "0.0"}))
        return path, "unknown_schema_version", "schema_version"
    if kind == "status_mismatch":
        path = folder / "stage_summary.json"
        path.write_text(json.dumps({**_summary_doc(), "exit_code": 1}))
        return path, "status_mismatch", "exit_code"
    if kind == "bad_family":
        return (
            _npz(folder, "fam_geometry.npz", _meta(m, family="hyperscaling")),
            "bad_family",
            "meta_json.family",
        )
    if kind == "d_name_mismatch":
        return _npz(folder, "d_geometry.npz", _meta(m, d=5)), "d_name_mismatch", "meta_json.d"
    if kind == "stale_summary":
        path = GeometryContracts.example().write(folder / "geometry_contracts.json")
        summary = folder / "contracts_summary.json"
        summary.write_text(summary.read_text().replace('"n_systems": 1', '"n_systems": 2'))
        return path, "stale_summary", "contracts_summary.json"
    if kind == "missing_summary":
        path = GeometryContracts.example().write(folder / "geometry_contracts.json")
        (folder / "contracts_summary.json").unlink()
        return path, "missing_file", "contracts_summary.json"
    if kind == "missing_file":
        return folder / "absent_geometry.npz", "missing_file", "<file>"
    if kind == "unknown_schema":
        path = folder / "notes.txt"
        path.write_text("just some text\n")
        return path, "unknown_schema", "<file>"
    raise AssertionError(kind)


BAD_KINDS = [
    "nan",
    "inf",
    "non_monotonic",
    "length_mismatch",
    "missing_key",
    "wrong_dtype",
    "wrong_type_json",
    "truncated_npz",
    "object_array",
    "malformed_json",
    "bare_nan",
    "newer_version",
    "newer_version_npz",
    "older_version",
    "status_mismatch",
    "bad_family",
    "d_name_mismatch",
    "stale_summary",
    "missing_summary",
    "missing_file",
    "unknown_schema",
]


@pytest.fixture
def good(tmp_path) -> Path:
    return GeometryPrediction.example().write(tmp_path / "good_geometry.npz")


@pytest.fixture
def warn_only(tmp_path) -> Path:
    """A stage summary whose only finding is a warning (ERROR status without a message)."""
    s = StageSummary.example()
    s.status, s.exit_code = "ERROR", 3
    return s.write(tmp_path / "w" / "stage_summary.json")


# -- validate (in process) -----------------------------------------------------------------
def test_valid_file_exits_0(good):
    result = invoke("validate", good)
    assert result.exit_code == 0
    assert result.stdout.strip() == f"{good}: valid GeometryPrediction"


def test_warnings_only_exit_1(warn_only):
    result = invoke("validate", warn_only)
    assert result.exit_code == 1
    lines = result.stdout.strip().splitlines()
    assert (
        lines[0]
        == f"{warn_only}: warning no_reason [errors]: status ERROR without any error message"
    )
    assert lines[1] == f"{warn_only}: valid StageSummary"


@pytest.mark.parametrize("kind", BAD_KINDS)
def test_every_bad_input_class_exits_2_with_a_clear_line(tmp_path, kind):
    path, code, location = make_bad(kind, tmp_path)
    result = invoke("validate", path)
    assert result.exit_code == 2, result.stdout
    lines = result.stdout.strip().splitlines()
    matching = [ln for ln in lines if f" {code} [{location}]: " in ln]
    assert matching, lines
    # Each line names the file, the field (location) and the problem.
    for line in lines:
        assert line.startswith(f"{path}: error ") or line.startswith(f"{path}: warning ")
        head, _, message = line.partition("]: ")
        assert "[" in head and message.strip()
    assert "valid" not in lines[-1].split(": ")[1]


@pytest.mark.parametrize(
    "kind", ["nan", "malformed_json", "missing_file", "unknown_schema", "object_array"]
)
def test_json_output(tmp_path, kind):
    path, code, location = make_bad(kind, tmp_path)
    result = invoke("validate", "--json", path)
    assert result.exit_code == 2
    reports = json.loads(result.stdout)
    assert len(reports) == 1
    report = reports[0]
    assert report["path"] == str(path) and report["valid"] is False and report["exit_code"] == 2
    finding = next(f for f in report["findings"] if f["code"] == code)
    assert finding["location"] == location and finding["severity"] == "error" and finding["message"]


def test_json_output_valid_and_warning(good, warn_only):
    result = invoke("validate", "--json", good, warn_only)
    assert result.exit_code == 1
    reports = json.loads(result.stdout)
    assert [r["exit_code"] for r in reports] == [0, 1]
    assert reports[0] == {
        "path": str(good),
        "schema": "GeometryPrediction",
        "valid": True,
        "exit_code": 0,
        "findings": [],
    }
    assert reports[1]["findings"] == [
        {
            "code": "no_reason",
            "location": "errors",
            "severity": "warning",
            "message": "status ERROR without any error message",
        }
    ]


def test_several_paths_worst_exit_code_wins(tmp_path, good, warn_only):
    bad, _, _ = make_bad("nan", tmp_path)
    assert invoke("validate", good, warn_only).exit_code == 1
    result = invoke("validate", good, bad, warn_only)
    assert result.exit_code == 2
    out = result.stdout
    assert f"{good}: valid GeometryPrediction" in out
    assert f"{bad}: error nonfinite [A]" in out
    assert f"{warn_only}: warning no_reason [errors]" in out


def test_schema_option_forces_a_type(tmp_path):
    # Detection is by content: a prediction (even a legacy one) under any name is found...
    path = tmp_path / "prediction.bin"
    path.write_bytes(GeometryPrediction.example().write(tmp_path / "g_geometry.npz").read_bytes())
    legacy = tmp_path / "legacy.bin"
    np.savez(tmp_path / "legacy.npz", z=np.linspace(0.1, 1.0, 5), A_pred=np.zeros(5))
    (tmp_path / "legacy.npz").rename(legacy)
    assert f"{legacy}: error missing_key [A]" in invoke("validate", legacy).stdout
    assert invoke("validate", path).exit_code == 0
    # ... an NPZ of someone else's arrays is not ours, whatever its name ...
    other = tmp_path / "other_geometry.npz"
    np.savez(other, weights=np.zeros(3))
    assert invoke("validate", other).exit_code == 2
    assert "unknown_schema" in invoke("validate", other).stdout
    # ... but is validated as the named type with --schema.
    result = invoke("validate", "--schema", "GeometryPrediction", other)
    assert result.exit_code == 2
    assert f"{other}: error missing_key [A]" in result.stdout
    assert invoke("validate", "--schema", "GeometryPrediction", path).exit_code == 0
    # Forcing the wrong type reports against that type.
    wrong = invoke("validate", "--json", "--schema", "StageSummary", path)
    assert wrong.exit_code == 2 and json.loads(wrong.stdout)[0]["schema"] == "StageSummary"


def test_schema_option_unknown_name(good):
    result = invoke("validate", "--schema", "GeometryPredicton", good)
    assert result.exit_code == 2
    assert "did you mean 'GeometryPrediction'" in result.stderr
    assert result.stdout == ""


def test_no_paths_is_a_usage_error():
    assert invoke("validate").exit_code == 2


# -- schema --------------------------------------------------------------------------------
COVERED = [
    "GeometryPrediction",
    "BulkEquations",
    "GeometryContracts",
    "ContractsSummary",
    "StageSummary",
    "RunManifest",
]


def test_schema_list():
    result = invoke("schema", "list")
    assert result.exit_code == 0
    rows = {line.split()[0]: line.split()[1:] for line in result.stdout.strip().splitlines()}
    for name in COVERED:  # RunManifest 0.2: an index naming one record file per stage
        assert rows[name][0] == ("0.3" if name == "RunManifest" else "0.1")
    assert rows["GeometryPrediction"][1] == "npz" and rows["StageSummary"][1] == "json"
    assert list(rows) == sorted(rows)


def test_schema_show():
    result = invoke("schema", "show", "GeometryPrediction")
    assert result.exit_code == 0
    out = result.stdout
    assert out.startswith("## GeometryPrediction (schema version 0.1)")
    for row in (
        "| `z` | float64[n] | yes |",
        "| `R` | float64[n] \\| null | no |",
        "`GeometryMeta`:",
        "| `system_id` | str | yes |",
    ):
        assert row in out


def test_schema_json_schema():
    result = invoke("schema", "json-schema", "StageSummary")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["title"] == "StageSummary"
    assert schema["required"][:2] == ["schema_name", "schema_version"]
    assert "exit_code" in schema["required"]


def test_schema_json_schema_refused_for_npz():
    result = invoke("schema", "json-schema", "GeometryPrediction")
    assert result.exit_code == 2
    assert "npz" in result.stderr and "no JSON Schema" in result.stderr


@pytest.mark.parametrize("command", ["show", "json-schema"])
def test_schema_unknown_name_suggests(command):
    result = invoke("schema", command, "StageSumary")
    assert result.exit_code == 2
    assert "unknown artifact type 'StageSumary'; did you mean 'StageSummary'?" in result.stderr


# -- real processes ------------------------------------------------------------------------
def run(*args, env=None):
    proc = subprocess.run(
        [sys.executable, "-m", "holopipe", *map(str, args)],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )
    if not (env or {}).get("HOLOPIPE_DEBUG"):
        assert "Traceback" not in proc.stdout and "Traceback" not in proc.stderr, proc.stderr
    return proc


def test_subprocess_exit_codes(tmp_path, good, warn_only):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    bad_npz, _, _ = make_bad("object_array", tmp_path / "a")
    bad_json, _, _ = make_bad("bare_nan", tmp_path / "b")
    unknown, _, _ = make_bad("unknown_schema", tmp_path)

    ok = run("validate", good)
    assert ok.returncode == 0 and ok.stdout.strip() == f"{good}: valid GeometryPrediction"
    assert run("validate", warn_only).returncode == 1

    proc = run("validate", bad_npz, bad_json, tmp_path / "absent.json", unknown)
    assert proc.returncode == 2
    lines = proc.stdout.strip().splitlines()
    assert f"{bad_npz}: error object_array [f]: stored as an object array" in proc.stdout
    assert any(
        ln.startswith(f"{bad_json}: error malformed_json [<file>]: bare NaN") for ln in lines
    )
    assert f"{tmp_path / 'absent.json'}: error missing_file [<file>]: file does not exist" in lines
    assert any(ln.startswith(f"{unknown}: error unknown_schema [<file>]") for ln in lines)

    forced = run("validate", "--schema", "NoSuchType", good)
    assert forced.returncode == 2 and "known:" in forced.stderr


def test_subprocess_json_and_schema_commands(tmp_path, good):
    proc = run("validate", "--json", good)
    assert proc.returncode == 0 and json.loads(proc.stdout)[0]["valid"] is True
    listed = run("schema", "list")
    assert listed.returncode == 0 and "GeometryPrediction" in listed.stdout
    unknown = run("schema", "show", "Geometry")
    assert unknown.returncode == 2 and "did you mean" in unknown.stderr


INTERNAL_ERROR = (
    "import sys\n"
    "import holopipe.artifacts.registry as r\n"
    "def boom(*a, **k):\n"
    "    raise RuntimeError('simulated bug')\n"
    "r.validate_path = boom\n"
    "from holopipe.cli import main\n"
    "sys.argv = ['holopipe', 'validate', sys.argv[1]]\n"
    "main()\n"
)


@pytest.mark.parametrize("debug", [False, True])
def test_internal_error_exits_3(good, debug):
    env = {**os.environ}
    env.pop("HOLOPIPE_DEBUG", None)
    if debug:
        env["HOLOPIPE_DEBUG"] = "1"
    proc = subprocess.run(
        [sys.executable, "-c", INTERNAL_ERROR, str(good)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    if debug:
        assert (
            proc.returncode != 0 and "Traceback" in proc.stderr and "simulated bug" in proc.stderr
        )
    else:
        assert proc.returncode == 3
        assert "Traceback" not in proc.stderr
        assert "internal error: RuntimeError: simulated bug" in proc.stderr
        assert "HOLOPIPE_DEBUG=1" in proc.stderr


def test_a_folder_stands_for_the_files_in_it(tmp_path):
    from holopipe.artifacts import EigenmodesDataset, GeometryPrediction

    GeometryPrediction.example().write(tmp_path / "a_geometry.npz")
    EigenmodesDataset.example().write(tmp_path / "modes.csv")  # + modes.meta.json
    result = runner.invoke(app, ["validate", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    reported = sorted(Path(r["path"]).name for r in json.loads(result.output))
    assert reported == ["a_geometry.npz", "modes.csv"]  # the sidecar goes with its CSV


def test_an_empty_folder_is_invalid_input(tmp_path):
    result = runner.invoke(app, ["validate", str(tmp_path)])
    assert result.exit_code == 2
    assert "no file to validate in this folder" in result.output
