"""holopipe: auditable runs for holographic emergent-geometry pipelines."""

__version__ = "0.1.0"
