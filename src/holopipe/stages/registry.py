"""Stage discovery: the reference stages, entry-point plugins (group ``holopipe.stages``),
and per-config replacements (``"impl": {"02": "pkg.mod:Class"}``) that must honour the
declared inputs and outputs of the stage they replace.
"""

from __future__ import annotations

import functools
import importlib
import warnings
from typing import Any

from holopipe.stages.base import Stage

__all__ = [
    "ENTRY_POINT_GROUP",
    "StageLoadError",
    "available_stages",
    "load_stage",
    "pipeline_stages",
]

ENTRY_POINT_GROUP = "holopipe.stages"

# The reference stages by id, as import strings (importing them is deferred).
REFERENCE_STAGES: dict[str, str] = {
    "01": "holopipe.stages.s01_sandbox:GenerateSandboxGeometries",
    "02": "holopipe.stages.s02_reconstruction:EmergentGeometryEngine",
    "03": "holopipe.stages.s03_bulk_equations:DiscoverBulkEquations",
    "04": "holopipe.stages.s04_contracts:GeometryPhysicsContracts",
    "04c": "holopipe.stages.s04c_negative_controls:NegativeControls",
    "05": "holopipe.stages.s05_analysis:AnalyzeBulkEquations",
    "06": "holopipe.stages.s06_eigenmodes:BuildBulkEigenmodesDataset",
    "07": "holopipe.stages.s07_dictionary:EmergentLambdaSLDictionary",
    "08": "holopipe.stages.s08_atlas:BuildHolographicDictionary",
    "09": "holopipe.stages.s09_real_data:RealDataAndDictionaryContracts",
}


class StageLoadError(ValueError):
    """A stage import string or replacement is invalid."""


def load_stage(target: str) -> type[Stage]:
    """Import ``"pkg.module:Class"`` and check it is a Stage."""
    module_name, sep, attr = target.partition(":")
    if not sep:
        raise StageLoadError(f"stage {target!r} must look like 'package.module:Class'")
    try:
        obj: Any = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise StageLoadError(f"cannot load stage {target!r}: {exc}") from None
    if not (isinstance(obj, type) and issubclass(obj, Stage)):
        raise StageLoadError(f"{target!r} is not a holopipe.stages.Stage subclass")
    return obj


@functools.cache
def available_stages() -> dict[str, type[Stage]]:
    """Reference stages and entry-point plugins, by stage id (plugins may add new ids)."""
    from importlib.metadata import entry_points  # ~40 ms (email, socket): on first use only

    found = {sid: load_stage(target) for sid, target in REFERENCE_STAGES.items()}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            cls = ep.load()
        except Exception as exc:  # noqa: BLE001 - a broken plugin must not break holopipe
            warnings.warn(
                f"stage plugin {ep.name} ({ep.value}) failed to load: {exc}", stacklevel=2
            )
            continue
        if cls.ID in found:
            warnings.warn(
                f"stage plugin {ep.value} ignored: id {cls.ID} exists; use config 'impl'",
                stacklevel=2,
            )
            continue
        found[cls.ID] = cls
    return found


def pipeline_stages(pipeline: list[str], impl: dict[str, str]) -> list[type[Stage]]:
    """The stages of a run in id order: ``pipeline`` import strings or the registered ones,
    with ``impl`` replacements applied."""
    stages = (
        {cls.ID: cls for cls in map(load_stage, pipeline)} if pipeline else dict(available_stages())
    )
    for sid, target in impl.items():
        if sid not in stages:
            raise StageLoadError(
                f"config impl.{sid}: no stage {sid} to replace (known: {', '.join(sorted(stages))})"
            )
        try:
            replacement = load_stage(target)
        except StageLoadError as exc:
            raise StageLoadError(f"config impl.{sid}: {exc}") from None
        if replacement.ID != sid or replacement.interface() != stages[sid].interface():
            raise StageLoadError(
                f"config impl.{sid}: {target} must declare id {sid} and the same inputs and "
                f"outputs as {stages[sid].__name__}"
            )
        stages[sid] = replacement
    return [stages[sid] for sid in sorted(stages)]
