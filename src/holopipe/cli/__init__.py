"""Command-line interface (Typer). Holds no logic: see :mod:`holopipe.cli.app`."""

from holopipe.cli.app import app, main

__all__ = ["app", "main"]
