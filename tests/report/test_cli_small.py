"""The small things a user expects: --version, repeatable options say so, ``holopipe stage``
offers only options it uses, progress only on a terminal outside CI."""

from __future__ import annotations

import json
import os
from importlib.metadata import version

from report_helpers import holopipe

from holopipe.run.capture import PROGRESS_FD_ENV, Progress

CHAIN = {"seed": 1, "pipeline": ["holopipe.testing:Chain01", "holopipe.testing:Chain02"]}


def test_version(tmp_path):
    done = holopipe("--version", cwd=tmp_path)
    assert done.returncode == 0
    assert done.stdout.strip() == f"holopipe {version('holopipe')}"


def test_repeatable_options_say_so(tmp_path):
    for command in ("run", "stage"):
        text = " ".join(holopipe(command, "--help", cwd=tmp_path).stdout.split())
        assert (
            "--set KEY=VALUE Override a config value: section.key=value (repeat for more)" in text
        )
        assert (
            "--input ALIAS=PATH Explicit input: alias=path, a file or folder (repeat for more)"
            in text
        )


def test_stage_options_are_all_used(tmp_path):
    config = tmp_path / "chain.json"
    config.write_text(json.dumps(CHAIN))
    text = holopipe("stage", "--help", cwd=tmp_path).stdout
    assert "--from" not in text and "--to " not in text  # run-only options are not offered
    assert "the affected stages rerun" not in text  # stage always runs: no promise about others
    first = holopipe("stage", "01", "-e", "x", "--config", str(config), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    # --seed is not ignored: a different seed is a changed config, refused without --force ...
    refused = holopipe("stage", "01", "-e", "x", "--seed", "2", cwd=tmp_path)
    assert refused.returncode == 2 and "seed" in refused.stderr
    # ... and frozen with it; --set likewise reaches the stage's params.
    accepted = holopipe(
        "stage",
        "01",
        "-e",
        "x",
        "--seed",
        "2",
        "--set",
        "stages.01.n_systems=2",
        "--force",
        cwd=tmp_path,
    )
    assert accepted.returncode == 0, accepted.stderr
    frozen = json.loads((tmp_path / "runs" / "x" / "config.resolved.json").read_text())
    assert frozen["seed"] == 2 and frozen["stages"]["01"]["n_systems"] == 2
    outputs = list((tmp_path / "runs" / "x" / "01_chain_source" / "chain_01").iterdir())
    assert len(outputs) == 2


def test_progress_is_quiet_in_ci_even_on_a_terminal(monkeypatch):
    monkeypatch.delenv(PROGRESS_FD_ENV, raising=False)
    primary, secondary = os.openpty()
    try:
        monkeypatch.setenv("CI", "true")
        Progress("06_stage", terminal_fd=secondary).update(3, 3)
        monkeypatch.delenv("CI")
        Progress("06_stage", terminal_fd=secondary).update(1, 3)
        os.close(secondary)
        drawn = b""
        while True:
            try:
                chunk = os.read(primary, 100)
            except OSError:
                break
            if not chunk:
                break
            drawn += chunk
        assert drawn.decode() == "\r06_stage: 1/3 systems"  # only the one outside CI
    finally:
        os.close(primary)
