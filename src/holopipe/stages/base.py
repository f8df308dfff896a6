"""The Stage base class: a stage declares what it reads and writes and implements ``run``.

Everything else of the plan's Definition of Done (section 9) is done by
:func:`holopipe.stages.runner.execute_stage`, so no stage can skip it: resolving and
validating inputs, its own directory, validating outputs, manifest, summary, logs, exit
code.

Examples
--------
>>> import attrs
>>> @attrs.define
... class Params:
...     n: int = 3
>>> class Produce(Stage):
...     ID, SLUG = "01", "produce"
...     OUTPUTS = (OutputSpec("bulk_equations", "BulkEquations"),)
...     Params = Params
...     def run(self, ctx, inputs):
...         ...
>>> Produce.key()
'01_produce'
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import attrs

from holopipe.artifacts.base import Artifact
from holopipe.run.context import StageContext
from holopipe.run.layout import stage_key

__all__ = ["InputSpec", "NoParams", "OutputSpec", "Stage", "StageInputs"]


@attrs.frozen
class InputSpec:
    """A declared input: read from the alias ``alias``, of artifact type ``schema``.

    ``versions`` are the schema versions of ``schema`` the stage accepts, as the files declare
    them (before any migration); empty: every version the type can read. Anything else stops
    at the input gate (:func:`holopipe.stages.input_gate.read_input`).
    """

    alias: str
    schema: str
    required: bool = True
    versions: tuple[str, ...] = ()


@attrs.frozen
class OutputSpec:
    """A declared output: written under ``<stage dir>/<alias>/`` and aliased as ``alias``."""

    alias: str
    schema: str
    required: bool = True


@attrs.define
class NoParams:
    """A stage without parameters."""


@attrs.frozen
class LoadedInput:
    """One validated input file."""

    path: Path
    artifact: Artifact


class StageInputs(Mapping[str, list[Artifact]]):
    """Validated inputs by alias (a stage never sees an input that failed validation)."""

    def __init__(self, loaded: dict[str, list[LoadedInput]]):
        self._loaded = loaded

    def __getitem__(self, alias: str) -> list[Artifact]:
        return [item.artifact for item in self._loaded[alias]]

    def paths(self, alias: str) -> list[Path]:
        return [item.path for item in self._loaded[alias]]

    def __iter__(self) -> Iterator[str]:
        return iter(self._loaded)

    def __len__(self) -> int:
        return len(self._loaded)


class Stage:
    """Base class of every stage (see the module docstring)."""

    #: Two digits and an optional letter: ``"06"``, ``"04c"``.
    ID: ClassVar[str]
    SLUG: ClassVar[str]
    #: Bump when the stage's code changes its outputs: part of the fingerprint.
    VERSION: ClassVar[str] = "1"
    INPUTS: ClassVar[tuple[InputSpec, ...]] = ()
    OUTPUTS: ClassVar[tuple[OutputSpec, ...]] = ()
    #: attrs class of the stage's config section (``stages.<ID>``).
    Params: ClassVar[type] = NoParams

    @classmethod
    def key(cls) -> str:
        return stage_key(cls.ID, cls.SLUG)

    @classmethod
    def interface(cls) -> tuple[tuple[InputSpec, ...], tuple[OutputSpec, ...]]:
        """What a replacement implementation of this stage id must also declare."""
        return cls.INPUTS, cls.OUTPUTS

    def run(self, ctx: StageContext, inputs: StageInputs) -> Any:
        """Do the stage's work: read ``inputs``, write outputs with ``ctx.write``."""
        raise NotImplementedError
