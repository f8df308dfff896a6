"""Data layer: generators and adapters that produce artifacts from the physics of
:mod:`holopipe.science` (sandbox universes; later real CFT data tables).

Names are imported on first use so that ``import holopipe.data`` stays cheap.
"""

from __future__ import annotations

from holopipe.lazy import lazy_names

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

__getattr__, __dir__ = lazy_names(__name__, _WHERE, __all__)
