"""Stages: the Stage base class, the stage registry and the reference stages 01-06.

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
