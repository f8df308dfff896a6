"""Import cost: the package, the Artifact API entry point and the CLI import nothing heavy.

Checked in a fresh interpreter through ``sys.modules`` (timings belong in benchmarks).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

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
