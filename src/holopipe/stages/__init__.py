"""Stages: the Stage base class, the stage registry and the reference stages 01-09.

Each reference stage module declares its stage (id, version, inputs, outputs, ``Params``);
what it does when it runs is in :mod:`holopipe.stages.work`.

Examples
--------
>>> from holopipe.stages import Stage, InputSpec, OutputSpec
>>> issubclass(Stage, object)
True
"""

from holopipe.stages.base import InputSpec, NoParams, OutputSpec, Stage, StageInputs
from holopipe.stages.registry import available_stages, load_stage, pipeline_stages

__all__ = [
    "InputSpec",
    "NoParams",
    "OutputSpec",
    "Stage",
    "StageInputs",
    "available_stages",
    "load_stage",
    "pipeline_stages",
]
