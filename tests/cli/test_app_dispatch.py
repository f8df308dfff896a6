"""``holopipe <command>`` runs an app holding that command alone (Typer builds every
registered command on each call): it must be the same command as in the whole app."""

from __future__ import annotations

import sys

import pytest
from typer.testing import CliRunner

from holopipe.cli.app import COMMANDS, app, app_for, build_app

runner = CliRunner()


def test_the_whole_app_lists_every_command():
    listed = runner.invoke(app, ["--help"]).output
    assert all(name in listed for name in COMMANDS)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_a_command_alone_has_the_help_it_has_in_the_whole_app(name):
    alone = runner.invoke(build_app([name]), [name, "--help"])
    whole = runner.invoke(app, [name, "--help"])
    assert alone.exit_code == whole.exit_code == 0
    assert alone.output == whole.output


@pytest.mark.parametrize(
    "argv", [["run", "--no-such-option"], ["status"], ["golden", "no-such-run"]]
)
def test_a_command_alone_refuses_bad_arguments_as_the_whole_app(argv):
    alone, whole = runner.invoke(build_app(argv[:1]), argv), runner.invoke(app, argv)
    assert alone.exit_code == whole.exit_code == 2
    assert alone.output == whole.output


@pytest.mark.parametrize(
    ("argv", "commands"),
    [
        (["holopipe", "run", "-e", "x"], ["run"]),
        (["holopipe", "golden", "check"], ["golden"]),
        (["holopipe", "--help"], list(COMMANDS)),
        (["holopipe", "--version"], list(COMMANDS)),
        (["holopipe", "rnu"], list(COMMANDS)),  # a typo: the whole app suggests the names
        (["holopipe"], list(COMMANDS)),
    ],
)
def test_main_builds_the_named_command_only(argv, commands, monkeypatch):
    monkeypatch.setattr(sys, "argv", argv)
    chosen = app_for(sys.argv)
    names = [c.name for c in chosen.registered_commands]
    names += [g.name for g in chosen.registered_groups]
    assert sorted(names) == sorted(commands)
