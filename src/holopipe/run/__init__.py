"""Run infrastructure: layout, RunContext, manifest, config, resolution, gates, provenance.

Knows artifacts, never science (a layer contract checks it).
"""

from holopipe.run.config import ConfigError, RunConfig
from holopipe.run.context import RunContext, StageContext, system_seed
from holopipe.run.layout import RunLayout, stage_key
from holopipe.run.manifest import ManifestStore

__all__ = [
    "ConfigError",
    "ManifestStore",
    "RunConfig",
    "RunContext",
    "RunLayout",
    "StageContext",
    "stage_key",
    "system_seed",
]
