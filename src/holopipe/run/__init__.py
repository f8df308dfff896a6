"""Run infrastructure: layout, RunContext, manifest, config, resolution, gates, provenance.

Knows artifacts, never science (a layer contract checks it). Names are imported on first
use (``holopipe.run.RunContext``): ``holopipe run`` imports
:mod:`holopipe.run.folder_scan` before the rest of holopipe (start-up time).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from holopipe.lazy import lazy_names

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

_WHERE = {
    "ConfigError": "config",
    "RunConfig": "config",
    "RunContext": "context",
    "StageContext": "context",
    "system_seed": "context",
    "RunLayout": "layout",
    "stage_key": "layout",
    "ManifestStore": "manifest",
}

__getattr__, __dir__ = lazy_names(__name__, _WHERE, __all__)


if TYPE_CHECKING:
    from holopipe.run.config import ConfigError, RunConfig
    from holopipe.run.context import RunContext, StageContext, system_seed
    from holopipe.run.layout import RunLayout, stage_key
    from holopipe.run.manifest import ManifestStore
