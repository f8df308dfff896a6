"""Data layer: generators and adapters that produce artifacts from the physics of
:mod:`holopipe.science` (sandbox universes; later real CFT data tables).

Names are imported on first use so that ``import holopipe.data`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "SandboxSpec",
    "TruthComparison",
    "UniversePlan",
    "compare_with_truth",
    "generate_universe",
    "plan_universes",
    "radial_grid",
]

_WHERE = {name: "sandbox" for name in __all__} | {"SandboxSpec": "sandbox_spec"}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"holopipe.data.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'holopipe.data' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
