"""The Artifact API: versioned, validated artifact types and their registry.

Types are imported on first use (``holopipe.artifacts.GeometryPrediction``) so that
``import holopipe.artifacts`` stays cheap.

Examples
--------
>>> from holopipe.artifacts import GeometryPrediction
>>> GeometryPrediction.example().validate().ok
True
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from holopipe.lazy import lazy_names

__all__ = [
    "Artifact",
    "ArtifactError",
    "BulkAnalysis",
    "BulkEquations",
    "ContractsSummary",
    "Dictionary",
    "EigenmodesDataset",
    "ExitCode",
    "Finding",
    "GeometryContracts",
    "GeometryPrediction",
    "HolographicAtlas",
    "JSONArtifact",
    "PipelineSummary",
    "RealDataContracts",
    "RunManifest",
    "SandboxGeometry",
    "SandboxIndex",
    "StageSummary",
    "UnknownSchemaError",
    "ValidationReport",
    "available_types",
    "detect_type",
    "get_type",
    "json_schema",
    "register",
    "register_migration",
    "system_id",
    "validate_path",
]

_WHERE = {
    "Artifact": "base",
    "JSONArtifact": "base",
    "ArtifactError": "report",
    "ExitCode": "exit_codes",
    "Finding": "report",
    "ValidationReport": "report",
    "BulkAnalysis": "analysis",
    "BulkEquations": "equations",
    "ContractsSummary": "contracts",
    "GeometryContracts": "contracts",
    "Dictionary": "dictionary",
    "EigenmodesDataset": "eigenmodes",
    "GeometryPrediction": "prediction",
    "HolographicAtlas": "atlas",
    "RealDataContracts": "real_data",
    "SandboxGeometry": "sandbox",
    "SandboxIndex": "sandbox_index",
    "RunManifest": "records",
    "PipelineSummary": "records",
    "StageSummary": "records",
    "UnknownSchemaError": "registry",
    "available_types": "registry",
    "detect_type": "registry",
    "get_type": "registry",
    "json_schema": "registry",
    "register": "registry",
    "validate_path": "registry",
    "register_migration": "versions",
    "system_id": "identity",
}

__getattr__, __dir__ = lazy_names(__name__, _WHERE, __all__)


if TYPE_CHECKING:
    from holopipe.artifacts.analysis import BulkAnalysis
    from holopipe.artifacts.atlas import HolographicAtlas
    from holopipe.artifacts.base import Artifact, JSONArtifact
    from holopipe.artifacts.contracts import ContractsSummary, GeometryContracts
    from holopipe.artifacts.dictionary import Dictionary
    from holopipe.artifacts.eigenmodes import EigenmodesDataset
    from holopipe.artifacts.equations import BulkEquations
    from holopipe.artifacts.exit_codes import ExitCode
    from holopipe.artifacts.identity import system_id
    from holopipe.artifacts.prediction import GeometryPrediction
    from holopipe.artifacts.real_data import RealDataContracts
    from holopipe.artifacts.records import PipelineSummary, RunManifest, StageSummary
    from holopipe.artifacts.registry import (
        UnknownSchemaError,
        available_types,
        detect_type,
        get_type,
        json_schema,
        register,
        validate_path,
    )
    from holopipe.artifacts.report import ArtifactError, Finding, ValidationReport
    from holopipe.artifacts.sandbox import SandboxGeometry
    from holopipe.artifacts.sandbox_index import SandboxIndex
    from holopipe.artifacts.versions import register_migration
