"""Import cost: the package, the Artifact API entry point and the CLI import nothing heavy.

Checked in a fresh interpreter through ``sys.modules`` (timings belong in benchmarks).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from holopipe.testing import NOT_IMPORTED_BY_A_NO_OP

HEAVY = ("xarray", "netCDF4", "scipy")


def loaded_after(statement: str, top_level: bool = True) -> set[str]:
    """Names (top-level by default) of the modules ``statement`` loads in a fresh interpreter."""
    script = f"import sys\n{statement}\nimport json\nprint(json.dumps(sorted(sys.modules)))\n"
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    names = json.loads(proc.stdout.strip().splitlines()[-1])
    return {name.partition(".")[0] if top_level else name for name in names}


def test_the_probe_sees_heavy_imports():
    # Guards the test itself: an import of numpy must show up.
    assert "numpy" in loaded_after("import numpy")


@pytest.mark.parametrize("module", ["holopipe", "holopipe.artifacts", "holopipe.cli"])
def test_no_heavy_imports(module):
    loaded = loaded_after(f"import {module}")
    assert "holopipe" in loaded
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_import_holopipe_skips_numpy_and_typer():
    loaded = loaded_after("import holopipe")
    assert "numpy" not in loaded and "typer" not in loaded


def test_import_artifacts_is_lazy():
    loaded = loaded_after("import holopipe.artifacts")
    assert "numpy" not in loaded and "typer" not in loaded
    modules = loaded_after("import holopipe.artifacts", top_level=False)
    assert "holopipe.artifacts.prediction" not in modules


def test_help_imports_no_heavy_modules():
    statement = (
        "from holopipe.cli import app\ntry:\n    app(['--help'])\nexcept SystemExit:\n    pass\n"
    )
    assert not loaded_after(statement) & set(HEAVY)


TINY_CONFIG = {
    "seed": 1,
    "stages": {
        "01": {
            "families": ["ads"],
            "n_per_family": 1,
            "d_values": [2],
            "zero_temperature_per_family": 1,
        },
        "06": {"n_modes": 1, "masses": {"2": [0.0]}},
    },
}


def test_a_no_op_rerun_imports_no_stage_implementation(tmp_path):
    config = tmp_path / "tiny.json"
    config.write_text(json.dumps(TINY_CONFIG))
    argv = ["run", "-e", "tiny", "--config", str(config), "--to", "06", "--runs-dir", "R"]
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    first = subprocess.run(
        [sys.executable, "-m", "holopipe", *argv],
        cwd=tmp_path, capture_output=True, text=True, timeout=600, env=env,
    )  # fmt: skip
    assert first.returncode in (0, 1), first.stdout + first.stderr
    # The same command again, in a fresh interpreter that reports what it imported.
    script = (
        "import json, runpy, sys\n"
        f"sys.argv = ['holopipe', *{argv!r}]\n"
        "code = 0\n"
        "try:\n    runpy.run_module('holopipe', run_name='__main__')\n"
        "except SystemExit as exc:\n    code = exc.code\n"
        "import os\n"
        "print(json.dumps({'code': code, 'modules': sorted(sys.modules),\n"
        "                  'timeout': os.environ.get('OPENBLAS_THREAD_TIMEOUT')}))\n"
    )
    again = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path, capture_output=True, text=True, timeout=600, env=env,
    )  # fmt: skip
    lines = again.stdout.strip().splitlines()
    done = json.loads(lines[-1])
    assert done["code"] == first.returncode, again.stdout + again.stderr
    assert "running" not in again.stdout and again.stdout.count("up to date") == 7, again.stdout
    loaded = set(done["modules"])
    assert "holopipe.stages.s09_real_data" in loaded  # the plan did see every stage
    assert not loaded & set(NOT_IMPORTED_BY_A_NO_OP), sorted(loaded & set(NOT_IMPORTED_BY_A_NO_OP))
    # OpenBLAS's idle threads sleep instead of spinning (cli.app.OPENBLAS_THREAD_TIMEOUT)
    assert done["timeout"] == "4"


def test_the_cli_keeps_a_given_openblas_thread_timeout():
    script = (
        "import os, sys\n"
        "from holopipe.cli import main\n"
        "sys.argv = ['holopipe', '--version']\n"
        "try:\n    main()\n"
        "except SystemExit:\n    print(os.environ['OPENBLAS_THREAD_TIMEOUT'])\n"
    )
    env = {**os.environ, "OPENBLAS_THREAD_TIMEOUT": "20"}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env
    )
    assert done.stdout.strip().splitlines()[-1] == "20", done.stdout + done.stderr


def test_stage_parameter_defaults_need_no_numpy():
    # What stage declarations validate against (science.defaults) loads nothing heavy.
    loaded = loaded_after("import holopipe.science.defaults")
    assert "holopipe" in loaded and "numpy" not in loaded


def test_a_no_op_rerun_of_json_artifacts_imports_no_numpy_nor_socket(tmp_path):
    # The chain stages read and write JSON only: nothing of a rerun that skips them all
    # needs numpy (~50 ms of its start-up); the lock's host name needs no socket.
    pipeline = [f"holopipe.testing:Chain{i:02d}" for i in (1, 2)]
    config = tmp_path / "chain.json"
    config.write_text(
        json.dumps({"seed": 1, "pipeline": pipeline, "stages": {"01": {"n_systems": 2}}})
    )
    argv = ["run", "-e", "chain", "--runs-dir", "R"]
    first = subprocess.run(
        [sys.executable, "-m", "holopipe", *argv, "--config", str(config)],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert first.returncode == 0, first.stdout + first.stderr
    script = (
        "import json, runpy, sys\n"
        f"sys.argv = ['holopipe', *{argv!r}]\n"
        "try:\n    runpy.run_module('holopipe', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    again = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert again.stdout.count("up to date") == 2, again.stdout + again.stderr
    loaded = set(json.loads(again.stdout.strip().splitlines()[-1]))
    assert "holopipe.testing" in loaded and "numpy" not in loaded
    assert "holopipe.run.locking" in loaded and "socket" not in loaded
    # Nor the artifact type the chain writes (~13 ms): its stages are as thin as the real ones.
    assert not loaded & set(NOT_IMPORTED_BY_A_NO_OP), sorted(loaded & set(NOT_IMPORTED_BY_A_NO_OP))
